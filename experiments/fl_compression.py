"""Experiment ``fl_compression``: accuracy versus total uplink bits for update compressors.

FedAvg (MLP on digits, K = 20 devices, Dirichlet label skew α = 1) over error-free digital
TDMA links (:class:`~edgeopt.federated.DigitalAggregation`, SNR 10 dB, 1 MHz), the updates
sent as 32-bit floats (``none``), or compressed: QSGD with s = 1, 4, 16 levels
(``qsgd1``...), top-k with error feedback keeping 1 % or 10 % of the entries
(``topk0.01``, ``topk0.1``), signSGD with majority vote (``signsgd``).  Each compressor
reports its exact message length (:mod:`edgeopt.federated.compress`); the curves show test
accuracy against the cumulative bits sent by all devices (log scale).

The cell is :func:`edgeopt.system.normalized_system` (unit-gain channels, ``P/σ²`` =
10 dB).  Every fixed parameter is in :data:`CONSTANTS` (the manifest records them, a
configuration may override them), and the compressors share their random numbers
(``common_random_numbers``).  One point is one training run; the per-round curves travel
in the string column ``curve_json`` (see :mod:`edgeopt.experiments._fl`).

Run it with ``edgeopt reproduce fl_compression`` (``--quick``: 5 rounds, 4 compressors).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeopt._validation import invalid_input
from edgeopt.repro import Experiment

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot"]

COMPRESSORS = ("none", "qsgd1", "qsgd4", "qsgd16", "topk0.01", "topk0.1", "signsgd")

#: Every fixed parameter of a point (the manifest records them; a config may override them).
CONSTANTS: dict[str, Any] = {
    "data": "digits",
    "model": "mlp",
    "partition": "dirichlet",
    "alpha": 1.0,
    "local_steps": 5,
    "lr": 0.3,
    "batch_size": 16,
    "access": "tdma",
    "num_antennas": 1,
    "power_w": 0.1,
    "snr_db": 10.0,
    "bandwidth_hz": 1e6,
}


def _make(name: str) -> Any:
    from edgeopt.federated import QSGD, SignSGD, TopK

    if name == "none":
        return None
    if name.startswith("qsgd"):
        return QSGD(int(name[4:]))
    if name.startswith("topk"):
        return TopK(ratio=float(name[4:]))
    if name == "signsgd":
        return SignSGD()
    raise invalid_input("compressor", name, "one of " + ", ".join(COMPRESSORS))


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Crossed parameter lists: ``compressor``, ``rounds``, ``num_clients``.

    Parameters
    ----------
    quick : bool
        Smoke grid: none, qsgd4, topk0.1, signsgd and 5 rounds; full: all seven, 40 rounds.

    Returns
    -------
    dict of str to list

    Examples
    --------
    >>> from edgeopt.experiments.fl_compression import grid
    >>> grid(quick=True)["compressor"], grid(quick=True)["rounds"]
    (['none', 'qsgd4', 'topk0.1', 'signsgd'], [5])
    """
    return {
        "compressor": ["none", "qsgd4", "topk0.1", "signsgd"] if quick else list(COMPRESSORS),
        "rounds": [5] if quick else [40],
        "num_clients": [20],
    }


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One FedAvg run with the given compressor.

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
        Scalars (``final_accuracy``, ``total_uplink_bits``, ...) and ``curve_json``.
    """
    from edgeopt.experiments._fl import normalized_cell, summarize, train

    from edgeopt.federated import DigitalAggregation

    system = normalized_cell(params, int(params["num_clients"]))
    agg = DigitalAggregation(str(params["access"]), compressor=_make(params["compressor"]))
    hist = train(params, rng, agg, system=system)
    return summarize(hist)


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Test accuracy versus cumulative uplink bits (log scale), one line per compressor.

    Returns
    -------
    list of pathlib.Path
        ``fl_compression.png`` and ``fl_compression.pdf``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from edgeopt.experiments._figures import save_figure
    from edgeopt.experiments._fl import mean_curves

    curves = mean_curves(table, ["compressor"])
    fig, (ax_bits, ax_round) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    for name in COMPRESSORS:
        c = curves.get((name,))
        if c is None:
            continue
        ax_bits.plot(
            c["cumulative_uplink_bits"][1:], c["test_accuracy"][1:], marker=".", label=name
        )
        ax_round.plot(np.arange(c["test_accuracy"].size), c["test_accuracy"], label=name)
    ax_bits.set_xscale("log")
    ax_bits.set_xlabel("cumulative uplink bits (all devices)")
    ax_round.set_xlabel("round")
    for ax in (ax_bits, ax_round):
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0.0, 1.0)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("FedAvg on digits (Dirichlet α = 1, K = 20), compressed TDMA uplink", fontsize=10)
    return save_figure(fig, out_dir, "fl_compression")


EXPERIMENT = Experiment(
    name="fl_compression",
    summary="FL accuracy vs total uplink bits: QSGD levels, top-k ratios, signSGD",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1 if quick else 3,
    seed=6,
    constants=CONSTANTS,
    common_random_numbers=("compressor",),
)
