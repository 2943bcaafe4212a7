"""Experiment ``partition_vs_rate``: the optimal DNN split and its latency versus the uplink.

For VGG-16 (a chain, :func:`edgeopt.offload.partition_chain`) and ResNet-18 / MobileNetV2
(layer DAGs, :func:`edgeopt.offload.partition_dag`) at 224×224 with float32 activations, a
phone-class device and an edge server (``edgeopt.profiles`` device profiles, peak MAC rates),
the optimal split's end-to-end latency is set against running everything on the device and
uploading the image to run everything on the server.  Two sweeps: over the uplink rate
directly, and over the device's distance to the base station, the rate then being
``B log2(1 + SNR(d))`` with the 3GPP macro path loss of :mod:`edgeopt.channel` (no fading).
As the rate grows the cut moves toward the input (fewer layers on the device).

Run it with ``edgeopt reproduce partition_vs_rate`` (``--quick`` for the smoke-test grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from edgeopt.experiments._figures import save_figure

from edgeopt.channel import pathloss_db, shannon_rate
from edgeopt.offload import load_device_profile, load_profile, partition_chain, partition_dag
from edgeopt.repro import Experiment
from edgeopt.units import db_to_lin, dbm_to_w, thermal_noise_w

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT", "CONSTANTS", "point", "grid", "plot", "uplink_rate_bps", "uplink_value"]

#: Fixed parameters: device and server profiles, the band and radio figures of the distance
#: sweep (3GPP TR 36.814 macro cell: 10 MHz, 23 dBm, NF 5 dB at the base station).
CONSTANTS: dict[str, Any] = {
    "device": "phone",
    "server": "edge_server",
    "bandwidth_hz": 10e6,
    "tx_power_dbm": 23.0,
    "noise_figure_db": 5.0,
}


def uplink_rate_bps(distance_m: float, constants: dict[str, Any]) -> float:
    """Shannon rate of one device at a distance: ``B log2(1 + p 10^(-PL(d)/10) / (N0 B F))``.

    Examples
    --------
    >>> from edgeopt.experiments.partition_vs_rate import CONSTANTS, uplink_rate_bps
    >>> uplink_rate_bps(100.0, CONSTANTS) > uplink_rate_bps(1000.0, CONSTANTS)
    True
    """
    gain = db_to_lin(-pathloss_db(distance_m))
    noise = thermal_noise_w(constants["bandwidth_hz"], constants["noise_figure_db"])
    snr = dbm_to_w(constants["tx_power_dbm"]) * gain / noise
    return float(shannon_rate(constants["bandwidth_hz"], snr))


#: The swept values: uplink rates (bit/s) and distances (m), ``steps`` of each.
RATE_RANGE_BPS = (1e5, 1e10)
DISTANCE_RANGE_M = (50.0, 2000.0)


def uplink_value(sweep: str, step: int, steps: int) -> float:
    """The ``step``-th of ``steps`` log-spaced rates (``sweep="rate"``) or distances.

    Examples
    --------
    >>> from edgeopt.experiments.partition_vs_rate import uplink_value
    >>> uplink_value("rate", 0, 6), uplink_value("distance", 5, 6)
    (100000.0, 2000.0)
    """
    lo, hi = RATE_RANGE_BPS if sweep == "rate" else DISTANCE_RANGE_M
    return float(np.geomspace(lo, hi, steps)[step])


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """The swept model, the sweep (``"rate"`` or ``"distance"``) and the step along it.

    Rates from 10^5 to 10^10 bit/s and distances from 50 m to 2 km, log-spaced, 6 steps
    (quick) or 31; ``steps`` is passed along so that the point can place its step.

    Parameters
    ----------
    quick : bool

    Returns
    -------
    dict of str to list
    """
    steps = 6 if quick else 31
    return {
        "model": ["vgg16", "resnet18", "mobilenetv2"],
        "sweep": ["rate", "distance"],
        "step": list(range(steps)),
        "steps": [steps],
    }


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Optimal split, its latency and the two baselines at one model and uplink.

    Parameters
    ----------
    params : dict
        ``model``, ``sweep``, ``step``, ``steps`` (from :func:`grid`) and the
        :data:`CONSTANTS`.
    rng : numpy.random.Generator
        Unused (the point is deterministic).

    Returns
    -------
    dict
        ``sweep``, ``rate_bps``, ``distance_m`` (``NaN`` for the rate sweep),
        ``device_layers`` (layers on the device), ``num_layers``, ``latency_s``,
        ``device_only_s``, ``server_only_s``, ``uploaded_bits``.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.experiments.partition_vs_rate import CONSTANTS, point
    >>> row = point({"model": "vgg16", "sweep": "rate", "step": 5, "steps": 6, **CONSTANTS},
    ...             None)
    >>> row["device_layers"], row["latency_s"] <= row["device_only_s"]
    (0, True)
    """
    prof = load_profile(params["model"])
    dev = load_device_profile(params["device"])
    srv = load_device_profile(params["server"])
    kind = params["sweep"]
    value = uplink_value(kind, int(params["step"]), int(params["steps"]))
    rate = float(value) if kind == "rate" else uplink_rate_bps(float(value), params)
    t_dev, t_srv = prof.layer_times_s(dev), prof.layer_times_s(srv)
    if prof.is_chain:
        res = partition_chain(
            t_dev, t_srv, prof.output_bits, input_bits=prof.input_bits, rate_bps=rate
        )
        layers = k = res.split
        sent = [prof.input_bits, *prof.output_bits[:-1], 0.0]
        up, latency = sent[k], res.latency_s
    else:
        dag = partition_dag(prof.graph(t_dev, t_srv), rate_bps=rate, input_bits=prof.input_bits)
        layers, latency, up = len(dag.device_nodes), dag.latency_s, dag.uploaded_bits
    return {
        "rate_bps": rate,
        "distance_m": float(value) if kind == "distance" else float("nan"),
        "device_layers": int(layers),
        "num_layers": len(prof.layers),
        "latency_s": float(latency),
        "device_only_s": float(t_dev.sum()),
        "server_only_s": float(prof.input_bits / rate + t_srv.sum()),
        "uploaded_bits": float(up),
    }


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Latency (optimal, device only, server only) and layers on the device, per sweep.

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
    fig, axes = plt.subplots(2, 2, figsize=(11.0, 7.5))
    for col, (sweep, xkey, xlabel) in enumerate(
        [("rate", "rate_bps", "uplink rate (bit/s)"), ("distance", "distance_m", "distance (m)")]
    ):
        sub = table[table["sweep"] == sweep]
        for model, rows in sub.groupby("model"):
            rows = rows.sort_values(xkey)
            (line,) = axes[0, col].loglog(rows[xkey], rows["latency_s"], label=f"{model} split")
            axes[0, col].loglog(rows[xkey], rows["server_only_s"], ":", color=line.get_color())
            axes[0, col].axhline(rows["device_only_s"].iloc[0], ls="--", color=line.get_color())
            axes[1, col].semilogx(
                rows[xkey], rows["device_layers"] / rows["num_layers"], "o-", label=model
            )
        axes[0, col].set_xlabel(xlabel)
        axes[0, col].set_ylabel("latency (s)")
        axes[0, col].set_title("solid: split, dashed: device only, dotted: server only", fontsize=9)
        axes[0, col].legend(fontsize="small")
        axes[1, col].set_xlabel(xlabel)
        axes[1, col].set_ylabel("fraction of layers on the device")
        axes[1, col].legend(fontsize="small")
        for ax in axes[:, col]:
            ax.grid(True, which="both", alpha=0.3)
    return save_figure(fig, out_dir, "partition_vs_rate")


EXPERIMENT = Experiment(
    name="partition_vs_rate",
    summary="Optimal DNN split and latency vs uplink rate and distance (VGG-16, ResNet-18, "
    "MobileNetV2)",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1,
    seed=20261,
    constants=CONSTANTS,
)
