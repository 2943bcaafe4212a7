"""Experiment ``cdc_tradeoff``: normalized shuffle load versus computation load r, K = 10.

Curves: the closed forms L_coded(r) = (1/r)(1 − r/K) and L_uncoded(r) = 1 − r/K (Li,
Maddah-Ali, Yu, Avestimehr, IEEE TIT 2018, Theorem 1).  Points: the loads measured by
:func:`edgeopt.coding.simulate_cdc`, which runs the job bit by bit with the CDC plan
(real XORs, decoding at every node), for the ``fixed`` job (values of a fixed size, the
setting of the closed forms) and for TeraSort (values padded to a common size).

Run it with ``edgeopt reproduce cdc_tradeoff`` (``--quick`` for the smoke-test grid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from edgeopt.experiments._figures import save_figure

from edgeopt.coding import cdc_load, simulate_cdc, uncoded_load
from edgeopt.repro import Experiment

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot"]

#: Fixed parameters: K nodes, files per batch, bytes per segment of a fixed-job value,
#: TeraSort records per file.
CONSTANTS: dict[str, Any] = {
    "num_nodes": 10,
    "files_per_batch": 1,
    "segment_bytes": 16,
    "records_per_file": 100,
}


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Computation loads r and jobs.

    Parameters
    ----------
    quick : bool
        ``True``: r in {1, 3, 9}; full: r = 1, ..., 9.

    Returns
    -------
    dict of str to list
    """
    loads = [1, 3, 9] if quick else list(range(1, 10))
    return {"computation_load": loads, "job": ["fixed", "terasort"]}


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Measured and closed-form loads of one (r, job) point.

    Parameters
    ----------
    params : dict
        ``computation_load``, ``job`` from :func:`grid` and the :data:`CONSTANTS`.
    rng : numpy.random.Generator
        Source of the job's data.

    Returns
    -------
    dict
        ``load``, ``uncoded_load`` (measured), ``load_closed``, ``uncoded_closed``,
        ``correct``, ``padding_fraction``, ``coded_bits``.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.cdc_tradeoff import CONSTANTS, point
    >>> row = point({**CONSTANTS, "computation_load": 3, "job": "fixed"},
    ...             np.random.default_rng(0))
    >>> row["correct"], row["load"] == row["load_closed"]
    (True, True)
    """
    k = int(params["num_nodes"])
    r = int(params["computation_load"])
    n = math.comb(k, r) * int(params["files_per_batch"])
    res = simulate_cdc(
        k,
        r,
        num_files=n,
        value_bits=8 * r * int(params["segment_bytes"]),
        job=str(params["job"]),
        records_per_file=int(params["records_per_file"]),
        rng=rng,
    )
    return {
        "load": res.load,
        "uncoded_load": res.uncoded_load,
        "load_closed": cdc_load(r, k),
        "uncoded_closed": uncoded_load(r, k),
        "correct": res.correct,
        "padding_fraction": res.padding_fraction,
        "coded_bits": res.coded_bits,
    }


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Load versus r: closed-form curves, measured points for each job.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per point with the grid parameters and :func:`point` outputs.
    out_dir : pathlib.Path
        Folder for ``cdc_tradeoff.png`` and ``.pdf``.

    Returns
    -------
    list of pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    k = int(table["num_nodes"].iloc[0])
    r = np.arange(1, k + 1)
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    ax.plot(r, [uncoded_load(int(x), k) for x in r], "-", color="C0", label="uncoded (closed form)")
    ax.plot(r, [cdc_load(int(x), k) for x in r], "-", color="C1", label="coded (closed form)")
    for job, marker in (("fixed", "o"), ("terasort", "x")):
        rows = (
            table[table["job"] == job]
            .groupby("computation_load", as_index=False)
            .mean(numeric_only=True)
        )
        ax.plot(
            rows["computation_load"],
            rows["uncoded_load"],
            marker,
            color="C0",
            mfc="none",
            label=f"uncoded, simulated ({job})",
        )
        ax.plot(
            rows["computation_load"],
            rows["load"],
            marker,
            color="C1",
            mfc="none",
            label=f"coded, simulated ({job})",
        )
    ax.set_xlabel("computation load r")
    ax.set_ylabel("normalized shuffle load")
    ax.set_title(f"Computation-communication tradeoff, K = {k}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(fig, out_dir, "cdc_tradeoff")


EXPERIMENT = Experiment(
    name="cdc_tradeoff",
    summary="CDC shuffle load vs computation load r, K = 10 (closed forms and bit-level runs)",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1,
    seed=20180,
    constants=CONSTANTS,
)
