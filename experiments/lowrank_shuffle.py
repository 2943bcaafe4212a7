"""Experiment ``lowrank_shuffle``: achieved DoF of the wireless shuffle versus K.

For the CDC placement at computation load r (a constant, default 1) the alignment pattern
of :func:`edgeopt.coding.shuffle_alignment_matrix` has K·C(K − 1, r) virtual receivers and
as many messages.  Each point completes it with one method of
:func:`edgeopt.coding.minimize_rank` (``dc``, ``nuclear``, ``altmin``) or takes TDMA (one
message per slot, DoF 1/M), and reports the symmetric DoF 1/rank (Yang, Shi, Ding, IEEE
TSP 2019, Fig. 3 style).  The semidefinite methods are run up to K = 6; alternating
minimization is cheap enough for larger K (see ``benchmarks/shuffle.py``).

Run it with ``edgeopt reproduce lowrank_shuffle`` (``--quick`` for the smoke-test grid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from edgeopt.experiments._figures import save_figure

from edgeopt.coding import cdc_scheme, minimize_rank, shuffle_alignment_matrix
from edgeopt.repro import Experiment

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot"]

#: Fixed parameters: the computation load r of the placement.
CONSTANTS: dict[str, Any] = {"computation_load": 1}


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Node counts K and methods.

    Parameters
    ----------
    quick : bool
        ``True``: K in {3, 4}; full: K = 3, ..., 6.

    Returns
    -------
    dict of str to list
    """
    return {
        "num_nodes": [3, 4] if quick else [3, 4, 5, 6],
        "method": ["dc", "nuclear", "altmin", "tdma"],
    }


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Rank and DoF of one (K, method) point.

    Parameters
    ----------
    params : dict
        ``num_nodes``, ``method`` from :func:`grid`, ``computation_load`` from
        :data:`CONSTANTS`.
    rng : numpy.random.Generator
        Random starts of the least-squares steps.

    Returns
    -------
    dict
        ``rank``, ``dof``, ``messages`` (M), ``residual``, ``time_s``.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.lowrank_shuffle import point
    >>> row = point({"num_nodes": 3, "method": "altmin", "computation_load": 1},
    ...             np.random.default_rng(0))
    >>> row["rank"], row["messages"]
    (3, 6)
    """
    k = int(params["num_nodes"])
    r = int(params["computation_load"])
    pattern = shuffle_alignment_matrix(cdc_scheme(k, r, math.comb(k, r)))
    m = pattern.shape[1]
    if params["method"] == "tdma":
        return {"rank": m, "dof": 1.0 / m, "messages": m, "residual": 0.0, "time_s": 0.0}
    res = minimize_rank(pattern, str(params["method"]), rng=rng)
    return {
        "rank": res.rank,
        "dof": res.dof,
        "messages": m,
        "residual": res.residual,
        "time_s": res.solve_time_s,
    }


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """DoF versus K for each method (log scale).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per point with the grid parameters and :func:`point` outputs.
    out_dir : pathlib.Path
        Folder for ``lowrank_shuffle.png`` and ``.pdf``.

    Returns
    -------
    list of pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    styles = {"dc": "o-", "nuclear": "s--", "altmin": "^-.", "tdma": "x:"}
    for method, style in styles.items():
        rows = table[table["method"] == method].groupby("num_nodes", as_index=False)["dof"]
        agg = rows.mean()
        if len(agg):
            ax.semilogy(agg["num_nodes"], agg["dof"], style, mfc="none", label=method)
    r = int(table["computation_load"].iloc[0])
    ax.set_xlabel("number of nodes K")
    ax.set_ylabel("symmetric DoF (1 / rank)")
    ax.set_title(f"Low-rank alignment of the CDC shuffle, r = {r}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(fig, out_dir, "lowrank_shuffle")


EXPERIMENT = Experiment(
    name="lowrank_shuffle",
    summary="DoF of the wireless CDC shuffle vs K: dc, nuclear, altmin, TDMA",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1,
    seed=20190,
    constants=CONSTANTS,
    common_random_numbers=("method",),
)
