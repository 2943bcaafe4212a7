"""Experiments of over-the-air aggregation (:mod:`edgeopt.aircomp`).

``aircomp_selection``: average number of devices selected versus the target MSE ``gamma``
(-10 to 20 dB) for the DC two-step method, SDR with Gaussian randomization and the fast
greedy method, with the random-beamformer floor ``K exp(-1 / gamma)`` (closed form line and
its Monte Carlo), for ``N = 6`` antennas and ``K = 20`` devices (and ``K = 60`` in the full
run); i.i.d. ``CN(0, I)`` channels, ``P = sigma^2 = w = 1`` (Yang, Jiang, Shi, Ding 2020,
Fig. 3 style).  The fixed parameters (``N``, ``P``, ``sigma^2``, the methods) are in
:data:`SELECTION_CONSTANTS`, and those of ``aircomp_baa`` in :data:`BAA_CONSTANTS`: the
manifest records them and a configuration may override them.  Each point draws one channel
realization and runs every method on it, so the methods are compared on the same draws.

``aircomp_baa``: truncated channel inversion of broadband analog aggregation (Zhu, Wang,
Huang 2020): truncation ratio ``1 - exp(-g)`` and receive SNR ``P / (E1(g) sigma^2)`` versus
the threshold ``g`` (closed-form lines, Monte Carlo markers).

Run them with ``edgeopt reproduce aircomp_selection`` and ``edgeopt reproduce aircomp_baa``
(``--quick`` for the smoke-test grids).  The full ``aircomp_selection`` run (13 targets,
``K`` in {20, 60}, 24 repeats) took 130 s on 2 cores; each run's ``manifest.json`` records
its ``wall_time_s``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeopt.aircomp import (
    baa_power_scaling,
    baa_truncation_ratio,
    select_devices,
    truncated_channel_inversion,
)
from edgeopt.channel import rayleigh
from edgeopt.repro import Experiment
from edgeopt.units import db_to_lin, lin_to_db

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXPERIMENTS",
    "SELECTION_CONSTANTS",
    "BAA_CONSTANTS",
    "selection_point",
    "selection_grid",
    "selection_plot",
    "baa_point",
]

#: Methods compared in ``aircomp_selection``.
SELECTION_METHODS = ("dc", "sdr", "fast")

#: The fixed parameters of ``aircomp_selection``: antennas N, transmit power P (W), noise
#: power sigma^2 (W) and the methods compared (Yang et al. 2020's normalized setting).
SELECTION_CONSTANTS: dict[str, Any] = {
    "num_antennas": 6,
    "power_w": 1.0,
    "noise_w": 1.0,
    "methods": list(SELECTION_METHODS),
}


def selection_grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Target MSE (dB) and device count, crossed (the rest: :data:`SELECTION_CONSTANTS`).

    Parameters
    ----------
    quick : bool
        ``True``: three targets, ``K = 20``; full: -10 to 20 dB in 2.5 dB steps, ``K`` in
        {20, 60}.

    Returns
    -------
    dict of str to list
    """
    if quick:
        return {"mse_target_db": [-5.0, 5.0, 15.0], "num_devices": [20]}
    return {
        "mse_target_db": [float(v) for v in np.arange(-10.0, 20.0 + 1e-9, 2.5)],
        "num_devices": [20, 60],
    }


def selection_point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Every method on one channel draw at one (gamma, K, N).

    The channel is drawn first from ``rng``; the methods then get independent child
    generators, so every method sees the same draw.

    Parameters
    ----------
    params : dict
        ``mse_target_db`` (float), ``num_devices`` (int K) from :func:`selection_grid`, and
        from :data:`SELECTION_CONSTANTS`: ``num_antennas`` (int N), ``power_w`` (float P, W),
        ``noise_w`` (float sigma^2, W) and ``methods`` (list of
        :func:`~edgeopt.aircomp.select_devices` method names).
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    dict
        ``selected_<method>`` and ``time_<method>_s`` for each method,
        ``selected_random`` (devices served by a random unit beamformer on this draw:
        ``P |m^H h_i|^2 / sigma^2 >= 1 / gamma``) and ``floor_formula``
        (``K exp(-sigma^2 / (P gamma))``, its mean).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.aircomp_selection import selection_point
    >>> from edgeopt.experiments.aircomp_selection import SELECTION_CONSTANTS
    >>> params = {**SELECTION_CONSTANTS, "mse_target_db": 10.0, "num_devices": 6,
    ...           "num_antennas": 4}
    >>> row = selection_point(params, np.random.default_rng(0))
    >>> row["selected_dc"], round(row["floor_formula"], 3)
    (6, 5.429)
    """
    gamma = float(db_to_lin(float(params["mse_target_db"])))
    k = int(params["num_devices"])
    n = int(params["num_antennas"])
    power_w = float(params["power_w"])
    noise_w = float(params["noise_w"])
    methods = [str(m) for m in params["methods"]]
    h = rayleigh((k, n), rng)  # the draw shared by every method
    children = rng.spawn(len(methods))
    row: dict[str, Any] = {}
    for method, child in zip(methods, children, strict=True):
        t0 = time.perf_counter()
        sol = select_devices(
            h, power_w=power_w, noise_w=noise_w, mse_target=gamma, method=method, rng=child
        )
        row[f"time_{method}_s"] = time.perf_counter() - t0
        row[f"selected_{method}"] = int(sol.objective)
    (beam_rng,) = rng.spawn(1)  # after the methods' children
    m = rayleigh((n,), beam_rng)
    m = m / np.linalg.norm(m)
    # w = 1: device i is served by m iff its MSE sigma^2 / (P |m^H h_i|^2) <= gamma
    snr = power_w / noise_w
    row["selected_random"] = int(np.sum(gamma * snr * np.abs(h @ np.conj(m)) ** 2 >= 1.0))
    # |m^H h_i|^2 ~ Exp(1) for a unit m and h_i ~ CN(0, I)
    row["floor_formula"] = float(k * np.exp(-1.0 / (gamma * snr)))
    return row


def _save(fig: Any, out_dir: Path, name: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.pdf"]
    for path in paths:
        fig.savefig(path, dpi=150 if path.suffix == ".png" else None, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return paths


def selection_plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """One panel per ``K``: mean selected devices (with standard errors) versus gamma (dB).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`selection_point` with the grid parameters.
    out_dir : pathlib.Path
        Where ``aircomp_selection.png`` and ``.pdf`` are written.

    Returns
    -------
    list of pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = sorted(int(k) for k in table["num_devices"].unique())
    fig, axes = plt.subplots(1, len(ks), figsize=(5.2 * len(ks), 4.0), squeeze=False)
    styles = {"dc": "o-", "sdr": "s--", "fast": "^-.", "random": "x"}
    labels = {
        "dc": "DC (two-step)",
        "sdr": "SDR + randomization",
        "fast": "fast (greedy SCA)",
        "random": "random beamformer (MC)",
    }
    for ax, k in zip(axes[0], ks, strict=False):
        sub = table[table["num_devices"] == k]
        grouped = sub.groupby("mse_target_db")
        x = np.array(sorted(sub["mse_target_db"].unique()), dtype=float)
        for key in ("dc", "sdr", "fast", "random"):
            col = f"selected_{key}"
            if col not in sub:
                continue
            mean = grouped[col].mean().reindex(x).to_numpy(dtype=float)
            se = (grouped[col].std(ddof=1) / np.sqrt(grouped[col].count())).reindex(x)
            ax.errorbar(
                x,
                mean,
                yerr=se.fillna(0.0).to_numpy(dtype=float),
                fmt=styles[key],
                capsize=2,
                label=labels[key],
                markersize=4,
            )
        fine = np.linspace(x.min(), x.max(), 200)
        snr = float(sub["power_w"].iloc[0]) / float(sub["noise_w"].iloc[0])  # P / sigma^2
        floor = k * np.exp(-1.0 / (db_to_lin(fine) * snr))
        ax.plot(fine, floor, "k:", label=r"$K e^{-\sigma^2/(P\gamma)}$")
        ax.set_xlabel(r"target MSE $\gamma$ (dB)")
        ax.set_ylabel("selected devices")
        ax.set_title(f"N = {int(sub['num_antennas'].iloc[0])}, K = {k}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, out_dir, "aircomp_selection")


def baa_grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Thresholds ``g`` (linear) and the number of Rayleigh draws per point.

    Parameters
    ----------
    quick : bool
        ``True``: 5 thresholds, 20 000 draws; full: 16 thresholds, 400 000 draws.

    Returns
    -------
    dict of str to list
    """
    if quick:
        return {"threshold": [0.05, 0.2, 0.5, 1.0, 2.0], "samples": [20_000]}
    return {"threshold": [float(v) for v in np.geomspace(0.01, 3.0, 16)], "samples": [400_000]}


#: Average power budget and noise power of the BAA figure (W).
BAA_POWER_W = 1.0
BAA_NOISE_W = 0.1

#: The fixed parameters of ``aircomp_baa``: average power budget P and noise power
#: sigma^2 (W).
BAA_CONSTANTS: dict[str, Any] = {"avg_power_w": BAA_POWER_W, "noise_w": BAA_NOISE_W}


def baa_point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Monte Carlo and closed-form truncation ratio and receive SNR at one threshold.

    The Monte Carlo receive SNR normalizes the inversion power with the empirical mean of
    ``1 / |h|^2`` over the participating draws (``rho0 = P / mean(1{|h|^2 >= g} / |h|^2)``).

    Parameters
    ----------
    params : dict
        ``threshold`` (float ``g > 0``), ``samples`` (int, Rayleigh draws) from
        :func:`baa_grid`, and ``avg_power_w`` (float P, W) and ``noise_w`` (float
        sigma^2, W) from :data:`BAA_CONSTANTS`.
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``truncation_mc``, ``truncation_closed``, ``receive_snr_mc_db``,
        ``receive_snr_closed_db``, ``tx_power_mc_w`` (average power of the closed-form
        policy on these draws, ~P).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.aircomp_selection import BAA_CONSTANTS, baa_point
    >>> row = baa_point({**BAA_CONSTANTS, "threshold": 0.5, "samples": 50_000},
    ...                 np.random.default_rng(0))
    >>> round(row["truncation_closed"], 4), round(row["receive_snr_closed_db"], 2)
    (0.3935, 12.52)
    """
    g = float(params["threshold"])
    power_w = float(params["avg_power_w"])
    noise_w = float(params["noise_w"])
    h = rayleigh((int(params["samples"]),), rng)
    res = truncated_channel_inversion(h, threshold=g, avg_power_w=power_w, noise_w=noise_w)
    gain = np.abs(h) ** 2
    inv_mean = float(np.mean(np.where(res.participating, 1.0 / gain, 0.0)))
    rho_mc = power_w / inv_mean
    return {
        "truncation_mc": float(np.mean(~res.participating)),
        "truncation_closed": baa_truncation_ratio(g),
        "receive_snr_mc_db": float(lin_to_db(rho_mc / noise_w)),
        "receive_snr_closed_db": float(lin_to_db(baa_power_scaling(g, power_w) / noise_w)),
        "tx_power_mc_w": float(np.mean(np.abs(res.coefficients) ** 2)),
    }


def baa_plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Truncation ratio and receive SNR (dB) versus the threshold; lines: closed forms.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`baa_point`, with the ``avg_power_w`` and ``noise_w`` columns.
    out_dir : pathlib.Path

    Returns
    -------
    list of pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    power_w = float(table["avg_power_w"].iloc[0])
    noise_w = float(table["noise_w"].iloc[0])
    mc = table.groupby("threshold")[["truncation_mc", "receive_snr_mc_db"]].mean()
    g = mc.index.to_numpy(dtype=float)
    fine = np.geomspace(g.min(), g.max(), 200)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(fine, [baa_truncation_ratio(v) for v in fine], "k-", label=r"$1 - e^{-g}$")
    a1.plot(g, mc["truncation_mc"], "o", label="Monte Carlo")
    a1.set_ylabel("truncation ratio")
    snr = [float(lin_to_db(baa_power_scaling(v, power_w) / noise_w)) for v in fine]
    a2.plot(fine, snr, "k-", label=r"$P / (E_1(g)\,\sigma^2)$")
    a2.plot(g, mc["receive_snr_mc_db"], "o", label="Monte Carlo")
    a2.set_ylabel("receive SNR (dB)")
    for ax in (a1, a2):
        ax.set_xscale("log")
        ax.set_xlabel(r"power threshold $g$")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(
        f"Truncated channel inversion, Rayleigh, $P$ = {power_w:g} W, "
        rf"$\sigma^2$ = {noise_w:g} W"
    )
    fig.tight_layout()
    return _save(fig, out_dir, "aircomp_baa")


EXPERIMENTS = [
    Experiment(
        name="aircomp_selection",
        summary="AirComp device selection: selected devices vs target MSE (dc, sdr, fast)",
        point=selection_point,
        grid=selection_grid,
        plot=selection_plot,
        repeats=lambda quick: 2 if quick else 24,
        seed=2020,
        constants=SELECTION_CONSTANTS,
    ),
    Experiment(
        name="aircomp_baa",
        summary="BAA truncated channel inversion: truncation ratio and receive SNR vs threshold",
        point=baa_point,
        grid=baa_grid,
        plot=baa_plot,
        repeats=lambda quick: 1 if quick else 2,
        seed=2021,
        constants=BAA_CONSTANTS,
    ),
]
