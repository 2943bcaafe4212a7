"""Experiment ``fl_heterogeneous``: what stragglers cost, and what sampling or a deadline buys.

FedAvg (MLP on label-skewed digits, ``label_shards``) over a cell of K = 50 devices
dropped by :func:`edgeopt.system.drop_devices` (3GPP TR 36.814 macro cell: path loss,
shadowing, Rayleigh fading, 10 MHz, 23 dBm) whose CPU frequencies spread over a decade,
``cpu_freq_hz = (f_low, 10·f_low)`` drawn log-uniform; the uploads are error-free digital
FDMA links (:class:`~edgeopt.federated.DigitalAggregation`, 32-bit entries, a ``B/m``
sub-band each).  Every round lasts until the last kept upload ends,
``max_i (T_i + L/r_i)``, so the slowest device sets the pace.  Three strategies:

* ``full``: every device in every round;
* ``sample20``: 20 % of the devices sampled per round (``participation=0.2``, 10 devices);
* ``deadline``: every device, but the server waits at most ``deadline_s``, set to the
  90th percentile over the devices of ``T_i + L/r̄_i`` (``r̄_i`` the device's median rate
  over 200 channel draws with all K on the band), so that about the slowest decile is
  dropped; the fraction actually on time is reported (``mean_on_time``).

The figure plots test accuracy against cumulative wall-clock latency, averaged over the
repeats: a researcher's view of stragglers' cost.  Every strategy of a repeat sees the same
cell, data order, initial model and channels (``common_random_numbers``).

Parameters of a point: ``strategy``, ``rounds``; the fixed parameters (the cell, the CPU
range, the training settings) are in :data:`CONSTANTS`.  Outputs: the scalars of
:func:`edgeopt.experiments._fl.summarize` plus ``deadline_s`` (0 without one), and the
per-round curves in ``curve_json``.

Run it with ``edgeopt reproduce fl_heterogeneous`` (``--quick``: 3 rounds, 1 repeat).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeopt.repro import Experiment

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "STRATEGIES", "point", "grid", "plot"]

STRATEGIES = ("full", "sample20", "deadline")

#: Every fixed parameter of a point (the manifest records them; a config may override them).
CONSTANTS: dict[str, Any] = {
    "data": "digits",
    "model": "mlp",
    "partition": "label_shards",
    "local_steps": 5,
    "lr": 0.3,
    "batch_size": 16,
    "num_clients": 50,
    "num_antennas": 1,
    "cpu_freq_low_hz": 1e7,
    "cpu_freq_ratio": 10.0,
    "access": "fdma",
    "sample_fraction": 0.2,
    "dropped_quantile": 0.9,
}


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Crossed parameter lists: ``strategy`` and ``rounds``.

    Parameters
    ----------
    quick : bool
        Smoke grid: 3 rounds; full: 30 rounds.

    Returns
    -------
    dict of str to list

    Examples
    --------
    >>> from edgeopt.experiments.fl_heterogeneous import grid
    >>> grid(quick=True)
    {'strategy': ['full', 'sample20', 'deadline'], 'rounds': [3]}
    """
    return {"strategy": list(STRATEGIES), "rounds": [3] if quick else [30]}


def _deadline(system: Any, params: dict[str, Any], rng: np.random.Generator) -> float:
    """The deadline that drops about the slowest ``1 − dropped_quantile`` of the devices.

    Each device's round time ``T_i + L/r̄_i`` with the mean local data size (the shards of
    the partition are nearly equal), the model's ``6·d`` cycles per sample, ``L = 32·d``
    bits and ``r̄_i`` the median FDMA rate over 200 channel draws with all K devices on the
    band; the deadline is the ``dropped_quantile`` of those times over the devices.
    """
    from edgeopt.federated import build_model
    from edgeopt.federated.data import resolve_dataset

    k = system.num_devices
    ds = resolve_dataset(str(params["data"]), np.random.default_rng(0))  # sizes only
    net = build_model(str(params["model"]), ds.input_dim, ds.num_classes)
    dim = sum(p.numel() for p in net.parameters())
    batch = min(int(params["batch_size"]), ds.num_train // k)
    sized = system.with_devices(cycles_per_sample=6.0 * dim)
    compute_s = sized.compute_time_s(int(params["local_steps"]) * batch)
    draws = system.channels(rng, batch=200)
    rates = system.rates_bps(draws, system.base_station.bandwidth_hz / k)  # (200, K)
    upload_s = 32.0 * dim / np.median(rates, axis=0)
    return float(np.quantile(compute_s + upload_s, float(params["dropped_quantile"])))


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One FedAvg run on the heterogeneous cell with the given strategy.

    Parameters
    ----------
    params : dict
        Keys of :func:`grid` and of :data:`CONSTANTS`.
    rng : numpy.random.Generator
        The only source of randomness: split into the cell's drop, the deadline's channel
        draws and the run (which spawns one stream per purpose).

    Returns
    -------
    dict
        The scalars of :func:`edgeopt.experiments._fl.summarize`, ``deadline_s`` and
        ``curve_json``.
    """
    from edgeopt.experiments._fl import summarize, train

    from edgeopt.federated import DigitalAggregation
    from edgeopt.system import BaseStation, drop_devices

    cell_rng, deadline_rng, run_rng = rng.spawn(3)
    low = float(params["cpu_freq_low_hz"])
    k = int(params["num_clients"])
    system = drop_devices(
        k,
        rng=cell_rng,
        base_station=BaseStation(num_antennas=int(params["num_antennas"])),
        cpu_freq_hz=(low, low * float(params["cpu_freq_ratio"])),
    )
    strategy = str(params["strategy"])
    kwargs: dict[str, Any] = {"system": system}
    deadline = 0.0
    if strategy == "sample20":
        kwargs["participation"] = float(params["sample_fraction"])
    elif strategy == "deadline":
        deadline = _deadline(system, params, deadline_rng)
        kwargs["deadline_s"] = deadline
    elif strategy != "full":
        from edgeopt._validation import invalid_input

        raise invalid_input("strategy", strategy, "one of " + ", ".join(STRATEGIES))
    hist = train(params, run_rng, DigitalAggregation(str(params["access"])), **kwargs)
    return {**summarize(hist), "deadline_s": deadline}


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Test accuracy versus cumulative latency, one line per strategy (mean over repeats).

    Returns
    -------
    list of pathlib.Path
        ``fl_heterogeneous.png`` and ``fl_heterogeneous.pdf``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from edgeopt.experiments._figures import save_figure
    from edgeopt.experiments._fl import mean_curves

    curves = mean_curves(table, ["strategy"])
    labels = {"full": "all devices", "sample20": "20 % sampled", "deadline": "deadline"}
    fig, ax = plt.subplots(figsize=(5.4, 3.8))
    for name in STRATEGIES:
        c = curves.get((name,))
        if c is None:
            continue
        rows = table[table["strategy"] == name]
        extra = ""
        if name == "deadline" and "mean_on_time" in rows.columns:
            k = float(rows["mean_sampled"].mean())
            extra = f" ({rows['mean_on_time'].mean() / k:.0%} on time)"
        ax.plot(
            c["cumulative_latency_s"], c["test_accuracy"], marker=".", label=labels[name] + extra
        )
    ax.set_xlabel("cumulative latency (s)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(
        "FedAvg, label-skewed digits, K = 50, CPUs over a decade, FDMA (TR 36.814 cell)",
        fontsize=8,
    )
    return save_figure(fig, out_dir, "fl_heterogeneous")


EXPERIMENT = Experiment(
    name="fl_heterogeneous",
    summary="FL accuracy vs wall-clock with heterogeneous CPUs: full vs 20 % sampling vs deadline",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1 if quick else 3,
    seed=7,
    constants=CONSTANTS,
    common_random_numbers=("strategy",),
)
