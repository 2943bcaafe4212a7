"""Experiment ``fl_aircomp``: federated learning over the air, device selection in the loop.

The learning experiment of Yang et al. (IEEE TWC 2020), on scikit-learn's digits: K = 20
devices with label-skewed data (``label_shards``, two shards each, so each holds about two
classes) train an MLP with FedAvg; every round a fresh Rayleigh channel to an N = 6 antenna
server is drawn from the normalized cell (:func:`edgeopt.system.normalized_system`:
unit-gain CN(0, I) channels, equal powers P) and the updates are aggregated over the air
(:class:`~edgeopt.federated.AirCompAggregation`) with the devices and beamformer chosen by
DC programming (``dc``), semidefinite relaxation (``sdr``) or with every device (``all``),
compared with ideal aggregation.

What the figure shows.  ``SNR`` is ``P/σ²``: the transmit power over the receiver noise
power per antenna, in the normalized cell (unit-gain channels, so it is also the mean
received SNR per antenna).  The selection problem's feasibility depends on the
*normalized* target ``γP/σ²`` (``normalized_target_db``; ``γ = 10^((normalized_target_db −
snr_db)/10)``), which fixes how many devices ``dc`` and ``sdr`` keep whatever the SNR; the
aggregation error those devices then incur is ``γ`` itself, in the units of the
unit-power symbols, so at a lower SNR the same selection is noisier.  A tight target keeps
few devices (little data per round, which hurts under label skew), a loose one keeps
many and aggregates with more noise; ``all`` keeps every device whatever the target and
pays the largest error.  The left panels show final accuracy against the normalized
target (top axis: ``γ`` in dB) for both SNRs, with standard-error bars over the repeats
and the mean number of devices selected; the right panel accuracy against cumulative
latency at the lower SNR.

Parameters of a point: ``scheme`` (``ideal``, ``all``, ``dc``, ``sdr``), zipped with
``snr_db`` and ``normalized_target_db`` (``None`` where the scheme does not use them:
ideal aggregation uses no channel, ``all`` ignores the target), ``rounds``; the fixed
parameters are in :data:`CONSTANTS`.  Every point of a repeat shares its random numbers
(``common_random_numbers``): the same data order, initial model, channels and noise
stream (scaled by the SNR), so the schemes differ by their aggregation alone, and the
ideal run is computed once per repeat.

Outputs: one point is one training run.  Scalars (``final_accuracy``, ``mean_selected``,
``median_mse``, totals) and the per-round curves as a JSON string column ``curve_json``
(round 0 first; see :mod:`edgeopt.experiments._fl`), decoded by :func:`plot`.

Full run: 15 points × 4 repeats, 30 rounds each.  Run it with ``edgeopt reproduce
fl_aircomp`` (``--quick``: one SNR, one target, 5 rounds, 1 repeat).
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

SCHEMES = ("ideal", "all", "dc", "sdr")
#: The schemes whose selection depends on the target.
SELECTING = ("dc", "sdr")

#: Every fixed parameter of a point (the manifest records them; a config may override them).
CONSTANTS: dict[str, Any] = {
    "data": "digits",
    "model": "mlp",
    "partition": "label_shards",
    "local_steps": 5,
    "lr": 0.3,
    "batch_size": 16,
    "num_clients": 20,
    "num_antennas": 6,
    "power_w": 1.0,
    "bandwidth_hz": 1e6,
}


def grid(quick: bool) -> dict[Any, Sequence[Any]]:
    """Parameter lists: the zipped (scheme, SNR, normalized target) rows and the rounds.

    Parameters
    ----------
    quick : bool
        Smoke grid: SNR −30 dB, one normalized target (−3 dB), 5 rounds.  Full: SNR −30
        and −40 dB, normalized targets −6, −3, 0 dB, 30 rounds.

    Returns
    -------
    dict
        ``("scheme", "snr_db", "normalized_target_db")``: one ``ideal`` row, one ``all``
        row per SNR, one ``dc`` and one ``sdr`` row per (SNR, target); ``rounds``.

    Examples
    --------
    >>> from edgeopt.experiments.fl_aircomp import grid
    >>> rows = grid(quick=True)[("scheme", "snr_db", "normalized_target_db")]
    >>> rows
    [('ideal', None, None), ('all', -30.0, None), ('dc', -30.0, -3.0), ('sdr', -30.0, -3.0)]
    >>> len(grid(quick=False)[("scheme", "snr_db", "normalized_target_db")])
    15
    """
    snrs = [-30.0] if quick else [-30.0, -40.0]
    targets = [-3.0] if quick else [-6.0, -3.0, 0.0]
    rows: list[tuple[Any, ...]] = [("ideal", None, None)]
    for snr in snrs:
        rows.append(("all", snr, None))
        rows.extend((scheme, snr, tgt) for tgt in targets for scheme in SELECTING)
    return {
        ("scheme", "snr_db", "normalized_target_db"): rows,
        "rounds": [5] if quick else [30],
    }


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One FedAvg run on label-skewed digits with the given aggregation scheme.

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
        ``final_accuracy``, ``best_accuracy``, ``mean_selected``, ``empty_rounds``,
        ``median_mse``, ``total_latency_s``, ``total_energy_j``, ``total_uplink_bits``,
        ``curve_json``.
    """
    from edgeopt.experiments._fl import normalized_cell, summarize, train

    from edgeopt.federated import AirCompAggregation, IdealAggregation

    scheme = str(params["scheme"])
    k = int(params["num_clients"])
    if scheme == "ideal":
        hist = train(params, rng, IdealAggregation(), num_clients=k)
        return summarize(hist)
    snr_db = float(params["snr_db"])
    # "all" keeps every device whatever the target; its target only sets the status
    target_db = 0.0 if scheme == "all" else float(params["normalized_target_db"])
    target = float(db_to_lin(target_db - snr_db))
    agg = AirCompAggregation(target, method=scheme)
    hist = train(params, rng, agg, system=normalized_cell(params, k))
    return summarize(hist)


def _final(group: pd.DataFrame) -> tuple[float, float, float]:
    """Mean final accuracy, its standard error over the repeats, mean devices selected."""
    acc = group["final_accuracy"].to_numpy(dtype=float)
    se = float(acc.std(ddof=1) / np.sqrt(acc.size)) if acc.size > 1 else 0.0
    return float(acc.mean()), se, float(group["mean_selected"].mean())


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Final accuracy versus normalized target per SNR (± one standard error), and accuracy
    versus cumulative latency at the lowest SNR.

    Returns
    -------
    list of pathlib.Path
        ``fl_aircomp.png`` and ``fl_aircomp.pdf``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from edgeopt.experiments._figures import save_figure
    from edgeopt.experiments._fl import mean_curves

    ideal = table[table["scheme"] == "ideal"]
    channel = table[table["scheme"] != "ideal"]
    snrs = sorted({float(v) for v in channel["snr_db"].dropna()}, reverse=True)
    n_panels = max(len(snrs), 1) + 1
    fig, axes = plt.subplots(1, n_panels, figsize=(4.2 * n_panels, 3.6), squeeze=False)
    colors = {"ideal": "black", "all": "tab:red", "dc": "tab:blue", "sdr": "tab:green"}
    targets = sorted({float(v) for v in channel["normalized_target_db"].dropna()})
    span = (min(targets) - 1.0, max(targets) + 1.0) if targets else (-1.0, 1.0)
    for j, snr in enumerate(snrs):
        ax = axes[0][j]
        if len(ideal):
            m, se, _ = _final(ideal)
            ax.axhline(m, color=colors["ideal"], lw=1, label="ideal")
            ax.axhspan(m - se, m + se, color=colors["ideal"], alpha=0.1)
        rows = channel[channel["snr_db"] == snr]
        every = rows[rows["scheme"] == "all"]
        if len(every):
            m, se, sel = _final(every)
            ax.axhline(m, color=colors["all"], lw=1, ls="--", label=f"all ({sel:.0f} dev.)")
            ax.axhspan(m - se, m + se, color=colors["all"], alpha=0.1)
        for scheme in SELECTING:
            pts = rows[rows["scheme"] == scheme]
            if not len(pts):
                continue
            stats = [
                (float(t), *_final(g)) for t, g in pts.groupby("normalized_target_db", sort=True)
            ]
            x = np.array([s[0] for s in stats])
            ax.errorbar(
                x,
                [s[1] for s in stats],
                yerr=[s[2] for s in stats],
                marker="o",
                capsize=3,
                color=colors[scheme],
                label=scheme,
            )
            for tx, acc, _, sel in stats:
                ax.annotate(
                    f"{sel:.1f}",
                    (tx, acc),
                    fontsize=6,
                    xytext=(3, -9),
                    textcoords="offset points",
                    color=colors[scheme],
                )
        ax.set_xlim(*span)
        ax.set_xlabel("normalized target γP/σ² (dB)")
        ax.set_ylabel("final test accuracy")
        ax.set_ylim(0.0, 1.0)
        ax.grid(alpha=0.3)
        ax.set_title(f"SNR P/σ² = {snr:g} dB (numbers: devices selected)", fontsize=8)
        top = ax.secondary_xaxis("top", functions=(lambda v, s=snr: v - s, lambda v, s=snr: v + s))
        top.set_xlabel("target MSE γ (dB)", fontsize=8)
        ax.legend(fontsize=7, loc="lower left")
    ax = axes[0][n_panels - 1]
    if snrs:
        low = snrs[-1]
        curves = mean_curves(
            channel[channel["snr_db"] == low].fillna({"normalized_target_db": np.inf}),
            ["scheme", "normalized_target_db"],
        )
        middle = targets[len(targets) // 2] if targets else None
        for (scheme, tgt), c in sorted(curves.items(), key=lambda kv: SCHEMES.index(kv[0][0])):
            if np.isfinite(tgt) and tgt != middle:
                continue
            label = scheme if not np.isfinite(tgt) else f"{scheme}, γP/σ² = {tgt:g} dB"
            ax.plot(
                c["cumulative_latency_s"], c["test_accuracy"], color=colors[scheme], label=label
            )
        ax.set_title(f"SNR P/σ² = {low:g} dB", fontsize=8)
    for (scheme,), c in mean_curves(ideal, ["scheme"]).items():
        ax.plot(c["cumulative_latency_s"], c["test_accuracy"], color=colors[scheme], label=scheme)
    ax.set_xlabel("cumulative latency (s)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    n_rep = int(table["repeat"].nunique()) if "repeat" in table.columns else 1
    fig.suptitle(
        "FedAvg over the air, digits, label skew, K = 20, N = 6; SNR = P/σ² per antenna "
        f"(unit-gain channels); mean ± s.e. over {n_rep} repeat(s)",
        fontsize=9,
    )
    return save_figure(fig, out_dir, "fl_aircomp")


EXPERIMENT = Experiment(
    name="fl_aircomp",
    summary="FL final accuracy vs MSE target: AirComp with DC / SDR / all-device selection",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1 if quick else 4,
    seed=4,
    constants=CONSTANTS,
    common_random_numbers=("scheme", "snr_db", "normalized_target_db"),
)
