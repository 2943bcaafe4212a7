"""Experiment ``multiuser_offloading``: cost and offloading users versus N, exact and heuristic.

Users are dropped in a 3GPP macro cell (:meth:`edgeopt.offload.MultiUserOffloading.random`:
10 MHz band, 23 dBm, CPUs 0.5-2 GHz, tasks of 0.2-2 Mbit and 0.5-2 Gcycles, one Rayleigh
draw) and share the band and the server CPU.  Every point solves the same instance with the
four methods of :meth:`~edgeopt.offload.MultiUserOffloading.solve`: branch and bound
(``"exact"``), the MILP on resource blocks and CPU shares (``"milp"``), relaxation and
rounding and greedy insertion; the heuristics' and the MILP's gaps to the exact optimum are
measured on each instance.

Run it with ``edgeopt reproduce multiuser_offloading`` (``--quick`` for the smoke-test grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from edgeopt.experiments._figures import save_figure

from edgeopt.offload import MULTIUSER_METHODS, MultiUserOffloading
from edgeopt.repro import Experiment

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot"]

#: Fixed parameters: the MILP's resource blocks and CPU shares.
CONSTANTS: dict[str, Any] = {"num_blocks": 20, "num_shares": 20}


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Numbers of users: 2, 4, 6 (quick) or 2 to 16 in steps of 2.

    Parameters
    ----------
    quick : bool

    Returns
    -------
    dict of str to list
    """
    return {"num_users": [2, 4, 6] if quick else list(range(2, 17, 2))}


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Solve one random instance with every method.

    Parameters
    ----------
    params : dict
        ``num_users`` and the :data:`CONSTANTS`.
    rng : numpy.random.Generator
        Draws the instance.

    Returns
    -------
    dict
        Per method ``m`` (``-`` written ``_``): ``cost_m``, ``offloading_m`` (users
        offloading), ``time_s_m`` and ``gap_m`` (relative to the exact optimum);
        ``all_local_cost``.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.multiuser_offloading import CONSTANTS, point
    >>> row = point({"num_users": 4, **CONSTANTS}, np.random.default_rng(0))
    >>> row["gap_exact"], row["cost_greedy"] >= row["cost_exact"] * (1 - 1e-9)
    (0.0, True)
    """
    prob = MultiUserOffloading.random(int(params["num_users"]), rng=rng)
    out: dict[str, Any] = {"all_local_cost": float(prob.local_cost.sum())}
    results = {}
    for method in MULTIUSER_METHODS:
        opts = {}
        if method == "milp":
            opts = {"num_blocks": params["num_blocks"], "num_shares": params["num_shares"]}
        results[method] = prob.solve(method, **opts)
    best = results["exact"].cost
    for method, res in results.items():
        key = method.replace("-", "_")
        out[f"cost_{key}"] = float(res.cost)
        out[f"offloading_{key}"] = int(res.decision.sum())
        out[f"time_s_{key}"] = float(res.solve_time_s)
        out[f"gap_{key}"] = float((res.cost - best) / best) if method != "exact" else 0.0
    return out


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Three panels versus N: total cost, offloading users, gap to the exact optimum.

    Parameters
    ----------
    table : pandas.DataFrame
    out_dir : pathlib.Path

    Returns
    -------
    list of pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    agg = table.groupby("num_users", as_index=False).mean(numeric_only=True)
    fig, axes = plt.subplots(1, 3, figsize=(13.0, 4.0))
    for method in MULTIUSER_METHODS:
        key = method.replace("-", "_")
        axes[0].plot(agg["num_users"], agg[f"cost_{key}"], "o-", label=method)
        axes[1].plot(agg["num_users"], agg[f"offloading_{key}"], "o-", label=method)
        if method != "exact":
            axes[2].plot(agg["num_users"], 100 * agg[f"gap_{key}"], "o-", label=method)
    axes[0].plot(agg["num_users"], agg["all_local_cost"], "k--", label="all local")
    axes[0].set_ylabel("total cost (s + J)")
    axes[1].set_ylabel("offloading users")
    axes[2].set_ylabel("gap to the exact optimum (%)")
    for ax in axes:
        ax.set_xlabel("users N")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return save_figure(fig, out_dir, "multiuser_offloading")


EXPERIMENT = Experiment(
    name="multiuser_offloading",
    summary="Multi-user offloading: cost, offloading users and heuristic gaps vs N",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 2 if quick else 10,
    seed=20262,
    constants=CONSTANTS,
)
