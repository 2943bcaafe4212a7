"""Experiment ``straggler_runtime``: expected round time versus s for n = 20 workers.

Gradient coding (cyclic, loads (s + 1)/n, wait for n − s), MDS-coded computation
(k = n − s, loads 1/k), ignoring the s slowest (loads 1/n) and waiting for all, under
shifted-exponential delays: closed forms (lines) and Monte Carlo (markers), the optimal s of
gradient coding marked; and the same with a wireless upload of every worker's result
(rates drawn from a normalized cell; Monte Carlo only, the closed forms assume no upload).

Run it with ``edgeopt reproduce straggler_runtime`` (``--quick`` for the smoke-test grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from edgeopt.experiments._figures import save_figure

from edgeopt.coding import (
    delay_model,
    gc_expected_time,
    harmonic,
    mds_expected_time,
    optimal_stragglers,
    simulate_completion,
    upload_times,
)
from edgeopt.repro import Experiment
from edgeopt.system import normalized_system

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot", "closed_form"]

#: Fixed parameters: n, the shift a (s per data set), the rate mu (1/s per data set), the
#: result size L (bits), the cell's band (Hz, shared equally), the SNR of the normalized
#: cell (transmit power over noise, linear).
CONSTANTS: dict[str, Any] = {
    "num_workers": 20,
    "shift_s": 0.2,
    "rate_per_s": 1.0,
    "payload_bits": 2e5,
    "bandwidth_hz": 2e6,
    "snr": 10.0,
}

SCHEMES = ("gradient_coding", "mds", "ignore", "uncoded")


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Schemes, s, with/without upload, Monte Carlo trials (quick: s in {0, 5, 10, 19},
    20,000 trials; full: every s, 200,000 trials).

    Parameters
    ----------
    quick : bool
        Smoke-test grid.

    Returns
    -------
    dict of str to list
    """
    n = CONSTANTS["num_workers"]
    s = [0, 5, 10, n - 1] if quick else list(range(n))
    trials = 20_000 if quick else 200_000
    return {
        "scheme": list(SCHEMES),
        "num_stragglers": s,
        "upload": [False, True],
        "trials": [trials],
    }


def closed_form(scheme: str, n: int, s: int, a: float, mu: float) -> float:
    """Expected round time without upload, seconds (i.i.d. shifted exponential).

    Parameters
    ----------
    scheme : str
        One of ``SCHEMES``.
    n, s : int
        Workers and stragglers.
    a, mu : float
        Shift (s per data set) and rate (1/s per data set).

    Returns
    -------
    float

    Examples
    --------
    >>> from edgeopt.experiments.straggler_runtime import closed_form
    >>> closed_form("uncoded", 2, 1, 1.0, 1.0) == closed_form("mds", 2, 0, 1.0, 1.0)
    True
    """
    if scheme == "gradient_coding":
        return gc_expected_time(n, s, shift_s=a, rate_per_s=mu)
    if scheme == "mds":
        return mds_expected_time(n, n - s, shift_s=a, rate_per_s=mu)
    if scheme == "ignore":
        return (a + (harmonic(n) - harmonic(s)) / mu) / n
    return (a + harmonic(n) / mu) / n


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Monte Carlo and closed-form round time of one scheme at one s.

    Parameters
    ----------
    params : dict
        ``scheme``, ``num_stragglers``, ``upload`` (bool), ``trials`` and the
        :data:`CONSTANTS`.
    rng : numpy.random.Generator
        Channels of the cell (upload) and the Monte Carlo.

    Returns
    -------
    dict
        ``time_mc_s``, ``time_mc_stderr_s``, ``time_closed_s`` (NaN with upload).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.straggler_runtime import CONSTANTS, point
    >>> row = point({**CONSTANTS, "scheme": "mds", "num_stragglers": 2, "upload": False,
    ...              "trials": 20000}, np.random.default_rng(0))
    >>> bool(abs(row["time_mc_s"] - row["time_closed_s"]) < 4 * row["time_mc_stderr_s"])
    True
    """
    n, s = int(params["num_workers"]), int(params["num_stragglers"])
    a, mu = float(params["shift_s"]), float(params["rate_per_s"])
    system = normalized_system(n, noise_w=1.0, power_w=float(params["snr"]))
    rates = system.rates_bps(system.channels(rng), float(params["bandwidth_hz"]) / n)
    up = upload_times(float(params["payload_bits"]), rates) if params["upload"] else 0.0
    model = delay_model("shifted_exponential", shift_s=a, rate_per_s=mu, upload_s=up)
    scheme = str(params["scheme"])
    kwargs: dict[str, Any] = {"num_stragglers": s}
    name = {"gradient_coding": "cyclic", "ignore": "ignore", "uncoded": "uncoded"}.get(scheme)
    if scheme == "mds":
        name, kwargs = "mds", {"k": n - s}
    if scheme == "uncoded":
        kwargs = {}
    out = simulate_completion(
        str(name), model, num_workers=n, trials=int(params["trials"]), rng=rng, **kwargs
    )
    closed = float("nan") if params["upload"] else closed_form(scheme, n, s, a, mu)
    return {"time_mc_s": out.mean_s, "time_mc_stderr_s": out.std_err_s, "time_closed_s": closed}


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Two panels (without / with upload): round time versus s, optimum of GC marked.

    Parameters
    ----------
    table : pandas.DataFrame
        The sweep table.
    out_dir : pathlib.Path
        Folder for ``straggler_runtime.png`` and ``.pdf``.

    Returns
    -------
    list of pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n, a, mu = (
        int(table["num_workers"].iloc[0]),
        float(table["shift_s"].iloc[0]),
        float(table["rate_per_s"].iloc[0]),
    )
    agg = table.groupby(["scheme", "upload", "num_stragglers"], as_index=False)[
        ["time_mc_s", "time_mc_stderr_s"]
    ].mean()
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.0), sharey=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    s_all = np.arange(n)
    for ax, upload in zip(axes, (False, True), strict=True):
        for i, scheme in enumerate(SCHEMES):
            rows = agg[(agg["scheme"] == scheme) & (agg["upload"] == upload)]
            if not upload:
                ax.plot(
                    s_all,
                    [closed_form(scheme, n, int(s), a, mu) for s in s_all],
                    "-",
                    color=colors[i],
                    label=scheme,
                )
            ax.errorbar(
                rows["num_stragglers"],
                rows["time_mc_s"],
                yerr=2 * rows["time_mc_stderr_s"],
                fmt="o",
                mfc="none",
                color=colors[i],
                label=None if not upload else scheme,
            )
        if not upload:
            s_opt = optimal_stragglers(n, shift_s=a, rate_per_s=mu)
            ax.plot(
                [s_opt],
                [gc_expected_time(n, s_opt, shift_s=a, rate_per_s=mu)],
                "*",
                ms=14,
                color="k",
                label=f"GC optimum s = {s_opt}",
            )
        else:
            rows = agg[(agg["scheme"] == "gradient_coding") & (agg["upload"])]
            if len(rows):
                best = rows.loc[rows["time_mc_s"].idxmin()]
                ax.plot(
                    [best["num_stragglers"]],
                    [best["time_mc_s"]],
                    "*",
                    ms=14,
                    color="k",
                    label=f"GC best s = {int(best['num_stragglers'])} (MC)",
                )
        ax.set_xlabel("stragglers tolerated s")
        ax.set_ylabel("expected round time (s)")
        ax.set_title(("with" if upload else "without") + " wireless upload")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return save_figure(fig, out_dir, "straggler_runtime")


EXPERIMENT = Experiment(
    name="straggler_runtime",
    summary="Round time vs stragglers tolerated, n = 20: GC, MDS, ignore, wait-for-all",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1,
    seed=2017,
    constants=CONSTANTS,
    common_random_numbers=("scheme", "num_stragglers"),
)
