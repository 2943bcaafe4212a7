"""Experiment ``fl_aircomp``: federated learning over the air, device selection in the loop.

The learning experiment of Yang et al. (IEEE TWC 2020), on scikit-learn's digits: K = 20
devices with label-skewed data (``label_shards``, two shards each, so each holds about two
classes) train an MLP with FedAvg; every round a fresh Rayleigh channel to an N = 6 antenna
server is drawn and the updates are aggregated over the air
(:class:`~edgeopt.federated.AirCompAggregation`) with the devices and beamformer chosen by
DC programming (``dc``), semidefinite relaxation (``sdr``) or with every device (``all``),
compared with ideal aggregation.  A tight MSE target keeps few devices (little data per
round, which hurts under label skew); a loose one keeps many but aggregates with more
noise.

Parameters of a point: ``scheme`` (``ideal``, ``all``, ``dc``, ``sdr``), ``snr_db``
(``P/σ²`` with unit-variance channels), ``normalized_target_db`` (``γ·P/σ²`` in dB: the
quantity that decides which sets are feasible, so the same values are meaningful at every
SNR; the target is ``γ = 10^((normalized_target_db − snr_db)/10)``), ``rounds``,
``num_clients``, ``num_antennas``.

Outputs: one point is one training run.  Scalars (``final_accuracy``, ``mean_selected``,
``median_mse``, totals) and the per-round curves as a JSON string column ``curve_json``
(round 0 first; see :mod:`edgeopt.experiments._fl`), decoded by :func:`plot`.

Full run: 24 points × 2 repeats (the curves are averaged over repeats).  Run it with
``edgeopt reproduce fl_aircomp`` (``--quick``: one SNR, one target, 5 rounds, 1 repeat).
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

__all__ = ["EXPERIMENT", "point", "grid", "plot"]

SCHEMES = ("ideal", "all", "dc", "sdr")


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Crossed parameter lists (see the module docstring).

    Parameters
    ----------
    quick : bool
        Smoke grid: SNR −30 dB, one normalized target (−3 dB), 5 rounds.  Full: SNR −30
        and −40 dB, normalized targets −6, −3, 0 dB, 40 rounds.

    Returns
    -------
    dict of str to list

    Examples
    --------
    >>> from edgeopt.experiments.fl_aircomp import grid
    >>> grid(quick=True)["scheme"], grid(quick=False)["normalized_target_db"]
    (['ideal', 'all', 'dc', 'sdr'], [-6.0, -3.0, 0.0])
    """
    return {
        "scheme": list(SCHEMES),
        "snr_db": [-30.0] if quick else [-30.0, -40.0],
        "normalized_target_db": [-3.0] if quick else [-6.0, -3.0, 0.0],
        "rounds": [5] if quick else [40],
        "num_clients": [20],
        "num_antennas": [6],
    }


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One FedAvg run on label-skewed digits with the given aggregation scheme.

    Parameters
    ----------
    params : dict
        Keys of :func:`grid`.
    rng : numpy.random.Generator
        The only source of randomness: :func:`~edgeopt.federated.run_fedavg` spawns one
        stream per purpose from it (partition, initial model, batches, channels, noise,
        selection, compression).

    Returns
    -------
    dict
        ``final_accuracy``, ``best_accuracy``, ``mean_selected``, ``empty_rounds``,
        ``median_mse``, ``total_latency_s``, ``total_energy_j``, ``total_uplink_bits``,
        ``curve_json``.
    """
    from edgeopt.experiments._fl import summarize

    from edgeopt.federated import AirCompAggregation, IdealAggregation, run_fedavg

    scheme = str(params["scheme"])
    power_w = 1.0
    noise_w = power_w / float(db_to_lin(float(params["snr_db"])))
    target = float(db_to_lin(float(params["normalized_target_db"]) - float(params["snr_db"])))
    if scheme == "ideal":
        agg: Any = IdealAggregation()
    else:
        agg = AirCompAggregation(
            int(params["num_antennas"]), power_w, noise_w, target, method=scheme
        )
    hist = run_fedavg(
        data="digits",
        model="mlp",
        num_clients=int(params["num_clients"]),
        partition="label_shards",
        rounds=int(params["rounds"]),
        local_steps=5,
        lr=0.3,
        batch_size=16,
        aggregation=agg,
        rng=rng,
    )
    return summarize(hist)


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Test accuracy versus round, one panel per (SNR, normalized target).

    The legend gives each scheme's mean number of selected devices per round.

    Returns
    -------
    list of pathlib.Path
        ``fl_aircomp.png`` and ``fl_aircomp.pdf``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from edgeopt.experiments._fl import mean_curves, save_figure

    curves = mean_curves(table, ["snr_db", "normalized_target_db", "scheme"])
    snrs = sorted({k[0] for k in curves}, reverse=True)
    targets = sorted({k[1] for k in curves})
    fig, axes = plt.subplots(
        max(len(snrs), 1),
        max(len(targets), 1),
        figsize=(4.0 * max(len(targets), 1), 3.2 * max(len(snrs), 1)),
        squeeze=False,
    )
    for i, snr in enumerate(snrs):
        for j, tgt in enumerate(targets):
            ax = axes[i][j]
            for scheme in SCHEMES:
                c = curves.get((snr, tgt, scheme))
                if c is None:
                    continue
                sel = float(np.mean(c["selected_count"][1:]))
                rounds = np.arange(c["test_accuracy"].size)
                ax.plot(rounds, c["test_accuracy"], label=f"{scheme} ({sel:.1f} dev.)")
            ax.set_title(f"SNR {snr:g} dB, γP/σ² = {tgt:g} dB", fontsize=9)
            ax.set_xlabel("round")
            ax.set_ylabel("test accuracy")
            ax.set_ylim(0.0, 1.0)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("FedAvg over the air, digits, label skew, K = 20, N = 6", fontsize=10)
    return save_figure(fig, out_dir, "fl_aircomp")


EXPERIMENT = Experiment(
    name="fl_aircomp",
    summary="FL accuracy vs round: AirComp with DC / SDR / all-device selection vs ideal",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1 if quick else 2,
    seed=4,
)
