"""Experiment ``fl_latency``: accuracy versus wall-clock time, AirComp versus digital TDMA.

FedAvg (MLP on IID digits) with K = 10, 50, 100 devices.  Every round the devices compute
(``6·d`` cycles per sample at 1 GHz, :mod:`edgeopt.cost`) and then upload over a fresh
Rayleigh channel with SNR ``P/σ²`` = 10 dB on a 1 MHz band (the normalized cell of
:func:`edgeopt.system.normalized_system`: unit-gain CN(0, I) channels to N = 6 antennas):

* ``aircomp``: one analog transmission of ``⌈d/2⌉`` complex symbols whatever K
  (:class:`~edgeopt.federated.AirCompAggregation`, ``fast`` selection, normalized target
  ``γP/σ²`` = 0 dB);
* ``tdma``: error-free digital slots at the Shannon rate, 32 bits per entry, one device
  after the other (:class:`~edgeopt.federated.DigitalAggregation`);
* ``tdma_qsgd``: the same with QSGD (s = 4, 5 bits per entry plus the norm).

AirComp's round time does not grow with K, TDMA's grows linearly; compression divides it by
the payload ratio.  The curves show accuracy against cumulative latency (log scale).

Every fixed parameter is in :data:`CONSTANTS` (the manifest records them, a configuration
may override them), and the schemes share their random numbers (``common_random_numbers``:
same data order, initial model and channels).  One point is one training run; the
per-round curves travel in the string column ``curve_json`` (see
:mod:`edgeopt.experiments._fl`).

Run it with ``edgeopt reproduce fl_latency`` (``--quick``: K = 10 and 50, 5 rounds).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeopt.repro import Experiment
from edgeopt.units import db_to_lin

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot"]

SCHEMES = ("aircomp", "tdma", "tdma_qsgd")

#: Every fixed parameter of a point (the manifest records them; a config may override them).
CONSTANTS: dict[str, Any] = {
    "data": "digits",
    "model": "mlp",
    "partition": "iid",
    "local_steps": 5,
    "lr": 0.3,
    "batch_size": 10,
    "num_antennas": 6,
    "power_w": 0.1,
    "snr_db": 10.0,
    "bandwidth_hz": 1e6,
    "aircomp_method": "fast",
    "normalized_target_db": 0.0,
    "qsgd_levels": 4,
}


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Crossed parameter lists: ``scheme``, ``num_clients``, ``rounds``.

    Parameters
    ----------
    quick : bool
        Smoke grid: K = 10, 50 and 5 rounds; full: K = 10, 50, 100 and 30 rounds.

    Returns
    -------
    dict of str to list

    Examples
    --------
    >>> from edgeopt.experiments.fl_latency import grid
    >>> grid(quick=True)["num_clients"], grid(quick=False)["num_clients"]
    ([10, 50], [10, 50, 100])
    """
    return {
        "scheme": list(SCHEMES),
        "num_clients": [10, 50] if quick else [10, 50, 100],
        "rounds": [5] if quick else [30],
    }


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One FedAvg run with the given uplink scheme.

    Parameters
    ----------
    params : dict
        Keys of :func:`grid` and of :data:`CONSTANTS`.
    rng : numpy.random.Generator
        The only source of randomness: :func:`~edgeopt.federated.run_fedavg` spawns one
        stream per purpose from it (partition, initial model, batches, channels, noise,
        selection, compression).

    Returns
    -------
    dict
        Scalars (``final_accuracy``, ``total_latency_s``, ...) and ``curve_json``.
    """
    from edgeopt.experiments._fl import normalized_cell, summarize, train

    from edgeopt.federated import QSGD, AirCompAggregation, DigitalAggregation

    scheme = str(params["scheme"])
    system = normalized_cell(params, int(params["num_clients"]))
    agg: Any
    if scheme == "aircomp":
        # normalized target γP/σ² in dB: γ = 10^((target − snr)/10)
        target = float(db_to_lin(float(params["normalized_target_db"]) - float(params["snr_db"])))
        agg = AirCompAggregation(target, method=str(params["aircomp_method"]))
    elif scheme == "tdma":
        agg = DigitalAggregation("tdma")
    else:
        agg = DigitalAggregation("tdma", compressor=QSGD(int(params["qsgd_levels"])))
    hist = train(params, rng, agg, system=system)
    return summarize(hist)


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Test accuracy versus cumulative latency (log scale), one panel per K.

    Returns
    -------
    list of pathlib.Path
        ``fl_latency.png`` and ``fl_latency.pdf``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from edgeopt.experiments._figures import save_figure
    from edgeopt.experiments._fl import mean_curves

    curves = mean_curves(table, ["num_clients", "scheme"])
    ks = sorted({k[0] for k in curves})
    fig, axes = plt.subplots(
        1, max(len(ks), 1), figsize=(4.0 * max(len(ks), 1), 3.4), squeeze=False
    )
    for j, k in enumerate(ks):
        ax = axes[0][j]
        for scheme in SCHEMES:
            c = curves.get((k, scheme))
            if c is None:
                continue
            # round 0 has zero latency: start the log axis at round 1
            ax.plot(c["cumulative_latency_s"][1:], c["test_accuracy"][1:], marker=".", label=scheme)
        ax.set_xscale("log")
        ax.set_xlabel("cumulative latency (s)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"K = {k}", fontsize=9)
        ax.set_ylim(0.0, 1.0)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="lower right")
    first = table.iloc[0] if len(table) else CONSTANTS
    fig.suptitle(
        f"FedAvg on digits, SNR P/σ² = {float(first['snr_db']):g} dB (unit-gain channels), "
        f"B = {float(first['bandwidth_hz']) / 1e6:g} MHz, N = {int(first['num_antennas'])}",
        fontsize=10,
    )
    return save_figure(fig, out_dir, "fl_latency")


EXPERIMENT = Experiment(
    name="fl_latency",
    summary="FL accuracy vs cumulative latency: AirComp vs digital TDMA (with/without QSGD)",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1 if quick else 3,
    seed=5,
    constants=CONSTANTS,
    common_random_numbers=("scheme",),
)
