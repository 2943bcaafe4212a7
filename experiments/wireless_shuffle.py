"""Experiment ``wireless_shuffle``: MapReduce job time versus computation load r through an AP.

K = 10 devices dropped in a cell (:func:`edgeopt.system.drop_devices`, 3GPP TR 36.814 macro
path loss and shadowing) run a job of N files with Q = K reduce functions; the base station
is the access point that relays the shuffle.  For each r, the job time
T(r) = r·t_map + t_shuffle(r) + t_reduce (:func:`edgeopt.coding.job_time_s`) with the
coded and the uncoded relaying (:func:`edgeopt.coding.access_point_loads`), the devices'
uplink and downlink rates from the system model
(:func:`edgeopt.coding.access_point_rates`), and the map and reduce times from the
devices' CPUs (:meth:`edgeopt.system.System.compute_time_s`).  Two cell radii give two
SNRs: a small cell, where the shuffle is cheap and r* is small, and a large cell, where the
shuffle dominates and coding pays for a larger r.  Every point of a repeat shares its drop
(common random numbers over ``scheme`` and ``computation_load``), so the curves compare
the schemes and loads on the same devices; the figure shows the mean over the drops and
marks the r that minimizes the mean time.

The shuffle lasts many coherence times, so the rates are those of the large-scale gains
(path loss and shadowing, ``fading = "none"``), not of one fading realization.

Run it with ``edgeopt reproduce wireless_shuffle`` (``--quick`` for the smoke-test grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from edgeopt.experiments._figures import save_figure

from edgeopt.coding import (
    access_point_loads,
    access_point_rates,
    access_point_shuffle_time_s,
    job_time_s,
    optimal_computation_load,
)
from edgeopt.repro import Experiment
from edgeopt.system import BaseStation, drop_devices
from edgeopt.units import dbm_to_w

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot", "system_and_job"]

#: Fixed parameters: K devices, N files (2520 = lcm of C(10, r), so every r places evenly),
#: T bits per intermediate value (Q·N·T ≈ 806 Mbit of intermediate data), map cycles per
#: file, reduce cycles per intermediate value, device CPUs (a log-uniform range), device
#: and access-point powers (TR 36.814: 23 dBm UE, 46 dBm base station at 10 MHz), band,
#: minimum distance (TR 36.814: 35 m), fading of the rates.
CONSTANTS: dict[str, Any] = {
    "num_devices": 10,
    "num_files": 2520,
    "value_bits": 32000,
    "map_cycles_per_file": 1e7,
    "reduce_cycles_per_value": 1e6,
    "cpu_freq_hz": [5e8, 2e9],
    "device_power_dbm": 23.0,
    "ap_power_dbm": 46.0,
    "bandwidth_hz": 10e6,
    "min_radius_m": 35.0,
    "fading": "none",
}


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Cell radius (the SNR), relaying scheme and computation load.

    Parameters
    ----------
    quick : bool
        ``True``: r in {1, 2, 3, 5, 10} (and one drop, see :data:`EXPERIMENT`'s repeats);
        full: r = 1, ..., 10.

    Returns
    -------
    dict of str to list
        ``radius_m`` in {150, 700} m (median uplink SNR about 30 dB and 5 dB), ``scheme``
        in {coded, uncoded}, ``computation_load``.
    """
    k = int(CONSTANTS["num_devices"])
    return {
        "radius_m": [150.0, 700.0],
        "scheme": ["coded", "uncoded"],
        "computation_load": [1, 2, 3, 5, k] if quick else list(range(1, k + 1)),
    }


def system_and_job(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Drop the devices and return the inputs of the job-time functions.

    Parameters
    ----------
    params : dict
        ``radius_m`` and the :data:`CONSTANTS`.
    rng : numpy.random.Generator
        Source of the drop (distances, CPUs) and of the shadowing.

    Returns
    -------
    dict
        ``map_time_s`` (shape (K,), seconds at load 1: N/K files each),
        ``reduce_time_s`` (shape (K,): N values each), ``intermediate_bits`` (Q·N·T),
        ``uplink_rates_bps`` and ``downlink_rates_bps`` (shape (K,)), ``mean_snr_db``
        (shape (K,): the uplink link budget).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.wireless_shuffle import CONSTANTS, system_and_job
    >>> job = system_and_job({**CONSTANTS, "radius_m": 150.0}, np.random.default_rng(0))
    >>> job["uplink_rates_bps"].shape, job["intermediate_bits"]
    ((10,), 806400000.0)
    """
    k = int(params["num_devices"])
    n = int(params["num_files"])
    low, high = (float(x) for x in params["cpu_freq_hz"])
    bs = BaseStation(bandwidth_hz=float(params["bandwidth_hz"]), fading=str(params["fading"]))
    system = drop_devices(
        k,
        radius_m=float(params["radius_m"]),
        min_radius_m=float(params["min_radius_m"]),
        rng=rng,
        base_station=bs,
        tx_power_w=float(dbm_to_w(float(params["device_power_dbm"]))),
        cpu_freq_hz=(low, high),
        cycles_per_sample=float(params["map_cycles_per_file"]),
    )
    up, down = access_point_rates(
        system, system.channels(rng), ap_power_w=float(dbm_to_w(float(params["ap_power_dbm"])))
    )
    map_s = system.compute_time_s(np.full(k, n / k))
    reducer = system.with_devices(cycles_per_sample=float(params["reduce_cycles_per_value"]))
    reduce_s = reducer.compute_time_s(np.full(k, float(n)))
    return {
        "map_time_s": map_s,
        "reduce_time_s": reduce_s,
        "intermediate_bits": float(k * n * int(params["value_bits"])),
        "uplink_rates_bps": up,
        "downlink_rates_bps": down,
        "mean_snr_db": 10 * np.log10(system.mean_snr()),
    }


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Job time of one (cell radius, scheme, r) point on one drop of the devices.

    Parameters
    ----------
    params : dict
        ``radius_m``, ``scheme``, ``computation_load`` from :func:`grid` and the
        :data:`CONSTANTS`.
    rng : numpy.random.Generator
        Source of the drop (shared by the schemes and loads of one repeat).

    Returns
    -------
    dict
        ``job_time_s``, ``map_s`` (r·t_map), ``shuffle_s``, ``reduce_s``, ``uplink_load``,
        ``downlink_load``, ``r_star`` (the optimal load for this drop and scheme),
        ``median_snr_db`` (of the uplink link budgets), ``min_downlink_bps``.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.wireless_shuffle import CONSTANTS, point
    >>> row = point({**CONSTANTS, "radius_m": 700.0, "scheme": "coded",
    ...              "computation_load": 3}, np.random.default_rng(0))
    >>> row["job_time_s"] == row["map_s"] + row["shuffle_s"] + row["reduce_s"]
    True
    """
    k = int(params["num_devices"])
    r = int(params["computation_load"])
    scheme = str(params["scheme"])
    job = system_and_job(params, rng)
    rates = {
        "intermediate_bits": job["intermediate_bits"],
        "uplink_rates_bps": job["uplink_rates_bps"],
        "downlink_rates_bps": job["downlink_rates_bps"],
    }
    total = job_time_s(
        r,
        k,
        map_time_s=job["map_time_s"],
        reduce_time_s=job["reduce_time_s"],
        scheme=scheme,
        **rates,
    )
    up_load, down_load = access_point_loads(r, k, scheme=scheme)
    return {
        "job_time_s": total,
        "map_s": r * float(np.max(job["map_time_s"])),
        "shuffle_s": access_point_shuffle_time_s(r, k, scheme=scheme, **rates),
        "reduce_s": float(np.max(job["reduce_time_s"])),
        "uplink_load": up_load,
        "downlink_load": down_load,
        "r_star": optimal_computation_load(
            k,
            map_time_s=job["map_time_s"],
            reduce_time_s=job["reduce_time_s"],
            scheme=scheme,
            **rates,
        ),
        "median_snr_db": float(np.median(job["mean_snr_db"])),
        "min_downlink_bps": float(np.min(job["downlink_rates_bps"])),
    }


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Mean job time versus r, one panel per cell radius, coded and uncoded, r* marked.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (point, repeat) with the grid parameters and :func:`point` outputs.
    out_dir : pathlib.Path
        Folder for ``wireless_shuffle.png`` and ``.pdf``.

    Returns
    -------
    list of pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    radii = sorted(table["radius_m"].unique())
    fig, axes = plt.subplots(1, len(radii), figsize=(5.0 * len(radii), 4.0), squeeze=False)
    for ax, radius in zip(axes[0], radii, strict=True):
        cell = table[table["radius_m"] == radius]
        snr = float(cell["median_snr_db"].median())
        for scheme, color in (("uncoded", "C0"), ("coded", "C1")):
            rows = (
                cell[cell["scheme"] == scheme]
                .groupby("computation_load", as_index=False)
                .mean(numeric_only=True)
                .sort_values("computation_load")
            )
            ax.plot(rows["computation_load"], rows["job_time_s"], "o-", color=color, label=scheme)
            best = rows.loc[rows["job_time_s"].idxmin()]
            ax.plot(
                [best["computation_load"]],
                [best["job_time_s"]],
                "*",
                color=color,
                markersize=16,
                markeredgecolor="k",
                label=f"{scheme}: r* = {int(best['computation_load'])}",
            )
        ax.set_yscale("log")
        ax.set_xlabel("computation load r")
        ax.set_ylabel("mean job time T(r) [s]")
        ax.set_title(f"cell radius {radius:g} m (median uplink SNR {snr:.1f} dB)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return save_figure(fig, out_dir, "wireless_shuffle")


EXPERIMENT = Experiment(
    name="wireless_shuffle",
    summary="MapReduce job time vs computation load r through an access point, K = 10, 2 SNRs",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1 if quick else 50,
    seed=20170,
    constants=CONSTANTS,
    common_random_numbers=("scheme", "computation_load"),
)
