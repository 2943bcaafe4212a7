"""Experiment ``gradient_coding_training``: training loss versus simulated wall clock.

Full-batch gradient descent of softmax regression on the digits over n = 12 workers with
shifted-exponential delays (:func:`edgeopt.federated.coded.coded_gradient_descent`):
uncoded (wait for all), ignoring the s slowest, backup workers, and the fractional, cyclic
and approximate gradient codes.  The exact codes follow the uncoded loss curve round by
round (the same iterates) and, with the heavy bimodal tail of :data:`CONSTANTS`, reach the
final loss in less than half the uncoded wall clock (full run: 107 s fractional, 119 s
cyclic, 258 s uncoded for 150 rounds).  Ignoring the slowest workers and backup workers
are faster still (23 s and 38 s) on this easy, redundant data set: the stragglers change
every round and the partial gradients barely bias the descent; the approximate code
(2 copies) takes 49 s and ends at a slightly higher loss (0.244 against 0.237).

Run it with ``edgeopt reproduce gradient_coding_training`` (``--quick`` for the smoke grid).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from edgeopt.experiments._figures import save_figure

from edgeopt.repro import Experiment

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot"]

#: Fixed parameters: workers n, stragglers s, copies of the approximate code, step size,
#: delay shift a (s per data set), rate mu (1/s per data set), slow-down and probability of
#: a slow worker (a bimodal tail on top of the exponential one, redrawn every round).
CONSTANTS: dict[str, Any] = {
    "num_workers": 12,
    "num_stragglers": 3,
    "replication": 2,
    "lr": 0.8,
    "shift_s": 0.2,
    "rate_per_s": 1.0,
    "slow_factor": 20.0,
    "slow_prob": 0.1,
}

SCHEMES = ("uncoded", "ignore", "backup", "fractional", "cyclic", "approximate")


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Schemes and rounds (quick: 5 rounds; full: 150).

    Parameters
    ----------
    quick : bool
        Smoke-test grid.

    Returns
    -------
    dict of str to list
    """
    return {"scheme": list(SCHEMES), "rounds": [5 if quick else 150]}


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One training run: final loss, wall clock and the per-round curves.

    Parameters
    ----------
    params : dict
        ``scheme``, ``rounds`` and the :data:`CONSTANTS`.
    rng : numpy.random.Generator
        Delays (and the batches of backup workers).

    Returns
    -------
    dict
        ``final_loss``, ``wall_clock_s``, ``test_accuracy``, ``curve_json`` (``loss`` and
        ``time_s`` per round, round 0 first).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.gradient_coding_training import CONSTANTS, point
    >>> row = point({**CONSTANTS, "scheme": "cyclic", "rounds": 2}, np.random.default_rng(0))
    >>> sorted(row)
    ['curve_json', 'final_loss', 'test_accuracy', 'wall_clock_s']
    """
    from edgeopt.coding import delay_model
    from edgeopt.federated import digits_dataset
    from edgeopt.federated.coded import coded_gradient_descent

    model = delay_model(
        "bimodal",
        shift_s=float(params["shift_s"]),
        rate_per_s=float(params["rate_per_s"]),
        slow_factor=float(params["slow_factor"]),
        slow_prob=float(params["slow_prob"]),
    )
    scheme = str(params["scheme"])
    run = coded_gradient_descent(
        digits_dataset(),
        scheme=scheme,
        num_workers=int(params["num_workers"]),
        num_stragglers=int(params["num_stragglers"]),
        rounds=int(params["rounds"]),
        lr=float(params["lr"]),
        delays=model,
        replication=int(params["replication"]) if scheme == "approximate" else None,
        rng=rng,
    )
    curves = {"loss": run.loss.tolist(), "time_s": run.time_s.tolist()}
    return {
        "final_loss": float(run.loss[-1]),
        "wall_clock_s": float(run.time_s[-1]),
        "test_accuracy": run.test_accuracy,
        "curve_json": json.dumps(curves),
    }


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Training loss versus simulated wall clock, one line per scheme (first repeat).

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep table.
    out_dir : pathlib.Path
        Folder for ``gradient_coding_training.png`` and ``.pdf``.

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
    styles = {"uncoded": "k-", "fractional": "--", "cyclic": ":", "approximate": "-."}
    for scheme in SCHEMES:
        rows = table[table["scheme"] == scheme]
        if not len(rows):
            continue
        curves = json.loads(rows.iloc[0]["curve_json"])
        ax.semilogy(curves["time_s"], curves["loss"], styles.get(scheme, "-"), label=scheme)
    ax.set_xlabel("simulated wall clock (s)")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title("Distributed GD on digits, n = 12, s = 3")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(fig, out_dir, "gradient_coding_training")


EXPERIMENT = Experiment(
    name="gradient_coding_training",
    summary="Loss vs wall clock on digits: uncoded, ignore, backup, fractional, cyclic, approx.",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1,
    seed=2018,
    constants=CONSTANTS,
)
