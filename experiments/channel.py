"""Experiment ``channel``: ergodic rate and outage versus SNR for N = 1, 2, 4, 8 antennas.

Monte Carlo estimates (markers, from the Numba kernels of :mod:`edgeopt.channel.rates`) are
drawn over the closed forms (lines): the ergodic rate of maximum-ratio combining over N
i.i.d. Rayleigh branches, and its outage probability at a fixed target rate (1 bit/s/Hz).

Run it with ``edgeopt reproduce channel`` (``--quick`` for the smoke-test grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from edgeopt.experiments._figures import save_figure

from edgeopt.channel import (
    ergodic_rate,
    outage_probability,
    rayleigh_ergodic_capacity,
)
from edgeopt.repro import Experiment
from edgeopt.units import db_to_lin

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot"]

#: SNR range of the figure (dB).
SNR_RANGE_DB = (-10.0, 30.0)

#: The fixed parameters of every point: the outage threshold R (bit/s/Hz).
CONSTANTS: dict[str, Any] = {"target_rate_bps_hz": 1.0}


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Crossed parameter lists: SNR (dB), antenna count, Monte Carlo samples.

    The fixed parameters are in :data:`CONSTANTS`.

    Parameters
    ----------
    quick : bool
        ``True`` gives the smoke-test grid (5 SNRs, 20 000 draws per point); the full grid
        has 17 SNRs from −10 to 30 dB and 4·10^6 draws per point.

    Returns
    -------
    dict of str to list
    """
    if quick:
        snr_db = [-10.0, 0.0, 10.0, 20.0, 30.0]
        samples = 20_000
    else:
        snr_db = [float(v) for v in np.arange(-10.0, 30.0 + 1e-9, 2.5)]
        samples = 4_000_000
    return {
        "snr_db": snr_db,
        "num_antennas": [1, 2, 4, 8],
        "samples": [samples],
    }


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Monte Carlo and closed-form ergodic rate and outage at one (SNR, N) point.

    Parameters
    ----------
    params : dict
        ``snr_db`` (float), ``num_antennas`` (int), ``samples`` (int, Monte Carlo draws for
        each of the two estimates) from :func:`grid`, and ``target_rate_bps_hz`` (float,
        outage threshold R) from :data:`CONSTANTS`.
    rng : numpy.random.Generator
        The only source of randomness (seeds of the two kernel streams).

    Returns
    -------
    dict
        ``rate_mc_bps_hz``, ``rate_mc_stderr_bps_hz``, ``rate_closed_bps_hz``,
        ``outage_mc``, ``outage_mc_stderr``, ``outage_closed``.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.channel import point
    >>> row = point({"snr_db": 10.0, "num_antennas": 2, "samples": 10_000,
    ...              "target_rate_bps_hz": 1.0}, np.random.default_rng(0))
    >>> round(row["rate_closed_bps_hz"], 3)
    4.059
    """
    snr = float(db_to_lin(params["snr_db"]))
    n_ant = int(params["num_antennas"])
    samples = int(params["samples"])
    target = float(params["target_rate_bps_hz"])
    rate, rate_se = ergodic_rate(snr, n_ant, samples=samples, rng=rng, return_stderr=True)
    out, out_se = outage_probability(
        target, snr, n_ant, samples=samples, rng=rng, return_stderr=True
    )
    return {
        "rate_mc_bps_hz": float(rate),
        "rate_mc_stderr_bps_hz": float(rate_se),
        "rate_closed_bps_hz": float(rayleigh_ergodic_capacity(snr, n_ant)),
        "outage_mc": float(out),
        "outage_mc_stderr": float(out_se),
        "outage_closed": float(outage_probability(target, snr, n_ant)),
    }


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Two panels: ergodic rate and outage probability (log scale) versus SNR.

    Closed-form curves are recomputed on a fine SNR grid; Monte Carlo estimates from
    ``table`` are markers (averaged over repeats if there are several; outage estimates of
    exactly 0 cannot be shown on the log axis and are left out).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per point (and repeat) with the grid parameters and :func:`point` outputs.
    out_dir : pathlib.Path
        Folder to write ``channel.png`` and ``channel.pdf`` into (created if missing).

    Returns
    -------
    list of pathlib.Path
        The PNG and PDF paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cols = ["rate_mc_bps_hz", "outage_mc"]
    agg = table.groupby(["target_rate_bps_hz", "num_antennas", "snr_db"], as_index=False)[
        cols
    ].mean()
    fine_db = np.linspace(*SNR_RANGE_DB, 161)
    fine = db_to_lin(fine_db)
    fig, (ax_rate, ax_out) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    targets = sorted(agg["target_rate_bps_hz"].unique())
    antennas = sorted(agg["num_antennas"].unique())
    for i, n_ant in enumerate(antennas):
        color = colors[i % len(colors)]
        n_ant = int(n_ant)
        ax_rate.plot(
            fine_db, rayleigh_ergodic_capacity(fine, n_ant), color=color, label=f"N = {n_ant}"
        )
        rows = agg[(agg["num_antennas"] == n_ant) & (agg["target_rate_bps_hz"] == targets[0])]
        ax_rate.plot(rows["snr_db"], rows["rate_mc_bps_hz"], "o", color=color, mfc="none")
        for j, target in enumerate(targets):
            style = ["-", "--", ":", "-."][j % 4]
            closed = outage_probability(target, fine, n_ant)
            label = f"N = {n_ant}" if len(targets) == 1 else f"N = {n_ant}, R = {target:g}"
            ax_out.semilogy(
                fine_db, np.where(closed > 0, closed, np.nan), style, color=color, label=label
            )
            rows = agg[(agg["num_antennas"] == n_ant) & (agg["target_rate_bps_hz"] == target)]
            shown = rows[rows["outage_mc"] > 0]
            ax_out.semilogy(shown["snr_db"], shown["outage_mc"], "o", color=color, mfc="none")
    ax_rate.set_xlabel("SNR per antenna (dB)")
    ax_rate.set_ylabel("ergodic rate (bit/s/Hz)")
    ax_rate.set_title("Ergodic rate, MRC over N Rayleigh branches")
    ax_rate.grid(True, alpha=0.3)
    ax_rate.legend(title="lines: closed form\nmarkers: Monte Carlo", fontsize="small")
    rates = ", ".join(f"{t:g}" for t in targets)
    ax_out.set_xlabel("SNR per antenna (dB)")
    ax_out.set_ylabel("outage probability")
    ax_out.set_title(f"Outage at R = {rates} bit/s/Hz")
    ax_out.set_ylim(1e-6, 1.5)
    ax_out.set_xlim(*SNR_RANGE_DB)
    ax_out.grid(True, which="both", alpha=0.3)
    ax_out.legend(fontsize="small")
    return save_figure(fig, out_dir, "channel")


EXPERIMENT = Experiment(
    name="channel",
    summary="Ergodic rate and outage vs SNR, N = 1, 2, 4, 8 (Monte Carlo over closed forms)",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1,
    seed=20260,
    constants=CONSTANTS,
)
