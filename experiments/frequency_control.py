"""Experiment ``frequency_control``: final training loss under a time budget versus τ.

FedAvg (logistic regression on label-skewed digits, ``label_shards``) over a normalized
cell of K = 10 devices (unit-gain Rayleigh channels, 10 dB SNR, error-free digital FDMA
uploads of 32-bit entries, a ``B/K`` sub-band each) with a fixed wall-time budget.  A local
step of 16 samples at ``cycles_per_sample`` cycles on a 1 GHz CPU costs ``c``; an
aggregation costs ``b``, the slowest upload of the round.  Two bandwidths ``B`` make
communication cheap (``b`` about ``c``) or expensive (``b`` about 20–50 ``c``, the slowest
of the K faded uploads).  Strategies:

* ``"1"``, ``"2"``, …, ``"100"``: a fixed τ, run until the budget cannot pay another round
  at the average round cost so far;
* ``"adaptive"``: :class:`edgeopt.frequency.AdaptiveTauController` (Wang et al., IEEE JSAC
  2019).  With ``estimation`` = ``"steps"`` (the default constant, the paper's
  Algorithms 2–3) its estimates come from the devices' first and last local steps'
  mini-batch losses and gradients and cost no extra computation; with ``"pass"`` they
  take an extra pass at the local and at the global model on ``estimation_samples`` = 8
  evenly spaced samples per device (as much computation as one local step of 16
  samples), paid out of the same budget.  The bound's constant ``phi`` (which the paper
  tunes per model) is the value of :data:`PHI_GRID` that :func:`calibrate_phi` picks on
  runs seeded from :data:`CALIBRATION_SEED`, never from the experiment's own seed.

Every strategy of a repeat sees the same data, partition, initial model, mini-batch
stream and channel stream (``common_random_numbers``).  Outputs: the training loss and
test accuracy of the model the server holds when the budget runs out (the same rule for
every strategy; ``best_seen_train_loss`` is the lowest training loss of the global models
up to then, the paper's choice of the final model ``w^f``, also for every strategy), the rounds and
local steps run, the time spent, the mean τ, and the per-round curves in ``curve_json``.
The expectation (Wang et al., Fig. 5): the best fixed τ grows when communication is
expensive, and the adaptive controller comes within a few per cent of the best fixed τ
while beating τ = 1 and τ = 100.

Run it with ``edgeopt reproduce frequency_control`` (``--quick``: τ ∈ {1, 10} and the
controller, a 0.5 s budget, one repeat).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeopt.repro import Experiment

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXPERIMENT",
    "CONSTANTS",
    "TAUS",
    "PHI_GRID",
    "CALIBRATION_SEED",
    "point",
    "grid",
    "plot",
    "calibrate_phi",
    "FixedTau",
]

#: The values of the bound's constant φ that :func:`calibrate_phi` compares.
PHI_GRID = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)

#: Root seed of the calibration runs (the experiment's own runs use ``EXPERIMENT.seed``).
CALIBRATION_SEED = 1012

#: The fixed τ of the figure.
TAUS = (1, 2, 3, 5, 7, 10, 20, 30, 50, 70, 100)

#: Every fixed parameter of a point (the manifest records them; a config may override them).
CONSTANTS: dict[str, Any] = {
    "data": "digits",
    "model": "logistic",
    "partition": "label_shards",
    "num_clients": 10,
    "lr": 0.3,
    "batch_size": 16,
    "estimation": "steps",
    "estimation_samples": 8,
    "cycles_per_sample": 1e6,
    "cpu_freq_hz": 1e9,
    "power_w": 1.0,
    "noise_w": 0.1,
    "bandwidth_cheap_hz": 5e6,
    "bandwidth_expensive_hz": 3e5,
    "phi": 1e-5,
    "tau_max": 100,
    "max_rounds": 100_000,
}


class FixedTau:
    """A fixed τ that stops when the budget cannot pay another round at the average cost.

    The stop rule is the adaptive controller's, so both strategies spend the same budget.

    Parameters
    ----------
    tau : int
        Local steps per round.
    budget_s : float
        Wall-time budget (seconds).
    """

    needs_estimates = False

    def __init__(self, tau: int, budget_s: float) -> None:
        self.initial_tau = int(tau)
        self.budget_s = float(budget_s)
        self.reset()

    def reset(self) -> None:
        """Forget the costs of an earlier run."""
        self.costs: list[float] = []

    def next_tau(self, stats: Any) -> int:
        """``τ`` again, or 0 when the average round no longer fits in the budget left."""
        self.costs.append(stats.tau * stats.step_time_s + stats.aggregation_time_s)
        left = self.budget_s - stats.spent_time_s
        return self.initial_tau if float(np.mean(self.costs)) <= left else 0


def grid(quick: bool) -> dict[str, Sequence[Any]]:
    """Crossed parameter lists: ``strategy``, ``uplink`` and the budget ``budget_s``.

    Parameters
    ----------
    quick : bool
        Smoke grid: τ ∈ {1, 10} and the controller, a 0.5 s budget; full: every τ of
        :data:`TAUS` and the controller, a 10 s budget.

    Returns
    -------
    dict of str to list

    Examples
    --------
    >>> from edgeopt.experiments.frequency_control import grid
    >>> grid(quick=True)["strategy"]
    ['1', '10', 'adaptive']
    """
    taus = (1, 10) if quick else TAUS
    return {
        "strategy": [*(str(t) for t in taus), "adaptive"],
        "uplink": ["cheap", "expensive"],
        "budget_s": [0.5 if quick else 10.0],
    }


def point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Train until the budget is spent with one strategy and one uplink.

    Parameters
    ----------
    params : dict
        ``strategy`` (a τ as text, or ``"adaptive"``), ``uplink`` (``"cheap"`` or
        ``"expensive"``), ``budget_s`` from :func:`grid`, and :data:`CONSTANTS`.
    rng : numpy.random.Generator
        The run's randomness.

    Returns
    -------
    dict
        ``final_train_loss`` and ``final_accuracy`` of the model after the last round
        that ended within the budget (the first round's if none did),
        ``best_seen_train_loss`` (the lowest training loss of the global models up to
        that round),
        ``rounds_within_budget``, ``loss_at_stop`` (after the last round run, which may
        overrun the budget: the stop rule uses the average round cost), ``rounds``,
        ``local_steps``, ``spent_s``, ``mean_tau``, ``step_s`` (cost of a local step),
        ``mean_upload_s`` (mean aggregation cost beyond the local steps, an estimation
        pass included), ``mean_estimation_s`` (the estimation pass alone: 0 for a fixed
        τ and for ``estimation`` = ``"steps"``), ``curve_json``.
    """
    from edgeopt.federated import DigitalAggregation, run_fedavg
    from edgeopt.frequency import AdaptiveTauController
    from edgeopt.system import normalized_system

    k = int(params["num_clients"])
    band = float(params[f"bandwidth_{params['uplink']}_hz"])
    system = normalized_system(
        k,
        power_w=float(params["power_w"]),
        noise_w=float(params["noise_w"]),
        bandwidth_hz=band,
        cycles_per_sample=float(params["cycles_per_sample"]),
        cpu_freq_hz=float(params["cpu_freq_hz"]),
    )
    budget = float(params["budget_s"])
    lr = float(params["lr"])
    ctl: Any
    if params["strategy"] == "adaptive":
        ctl = AdaptiveTauController(
            budget=budget,
            phi=float(params["phi"]),
            eta=lr,
            tau_max=int(params["tau_max"]),
            estimation=str(params["estimation"]),
            estimation_samples=int(params["estimation_samples"]),
        )
    else:
        ctl = FixedTau(int(params["strategy"]), budget)
    hist = run_fedavg(
        data=str(params["data"]),
        model=str(params["model"]),
        partition=str(params["partition"]),
        system=system,
        rounds=int(params["max_rounds"]),
        local_steps=ctl,
        lr=lr,
        batch_size=int(params["batch_size"]),
        aggregation=DigitalAggregation("fdma"),
        rng=rng,
    )
    step_s = float(system.compute_time_s(float(params["batch_size"])).max())
    upload = hist.round_latency_s - hist.local_steps * step_s
    curves = {
        "cumulative_latency_s": hist.cumulative_latency_s.tolist(),
        "train_loss": hist.train_loss.tolist(),
        "local_steps": hist.local_steps.tolist(),
    }
    # The model the server holds when the budget runs out: after the last round that ended
    # within it (a last round whose slow uploads overran the budget does not count).
    within = np.flatnonzero(hist.cumulative_latency_s <= budget * (1 + 1e-12))
    last = int(within[-1]) if within.size else 0
    return {
        "final_train_loss": float(hist.train_loss[last]),
        "final_accuracy": float(hist.test_accuracy[last]),
        "best_seen_train_loss": float(hist.train_loss[: last + 1].min()),
        "rounds_within_budget": int(within.size),
        "loss_at_stop": float(hist.train_loss[-1]),
        "rounds": int(hist.rounds),
        "local_steps": int(hist.local_steps.sum()),
        "spent_s": float(hist.cumulative_latency_s[-1]),
        "mean_tau": float(hist.local_steps.mean()),
        "step_s": step_s,
        "mean_upload_s": float(upload.mean()),
        "mean_estimation_s": float(hist.estimation_latency_s.mean()),
        "curve_json": json.dumps(curves, separators=(",", ":")),
    }


def calibrate_phi(
    phis: Sequence[float] = PHI_GRID,
    *,
    repeats: int = 3,
    seed: int = CALIBRATION_SEED,
    budget_s: float = 10.0,
) -> dict[str, Any]:
    """Pick the bound's constant φ on runs whose seeds the experiment never uses.

    For every uplink ``u`` (0: cheap, 1: expensive) and repeat ``r`` (the run's seed
    ``SeedSequence(seed, spawn_key=(u, r))``, the same for every strategy: common random
    numbers, as in the experiment), runs every fixed τ of :data:`TAUS` and the adaptive
    controller with each ``φ`` of ``phis``, and scores ``φ`` by the controller's final
    loss divided by the best fixed τ's (means over the repeats), averaged over the two
    uplinks.  The chosen ``φ`` has the smallest score (the smallest ``φ`` among ties).

    Parameters
    ----------
    phis : sequence of float > 0
        Candidate values (default :data:`PHI_GRID`).
    repeats : int >= 1
        Calibration repeats per uplink.
    seed : int
        Root seed (default :data:`CALIBRATION_SEED`, not the experiment's).
    budget_s : float
        Time budget of each run (seconds).

    Returns
    -------
    dict
        ``phi`` (the chosen value), ``score`` (``φ`` to its score), ``fixed`` and
        ``adaptive`` (``(uplink, strategy)`` to the mean final loss).

    Examples
    --------
    >>> from edgeopt.experiments.frequency_control import calibrate_phi
    >>> out = calibrate_phi([1e-5], repeats=1, budget_s=0.2)  # doctest: +SKIP
    """
    fixed: dict[tuple[str, str], float] = {}
    adaptive: dict[tuple[str, str], float] = {}
    score = dict.fromkeys(map(float, phis), 0.0)
    uplinks = ("cheap", "expensive")

    def mean_loss(u: int, strategy: str, phi: float = float(CONSTANTS["phi"])) -> float:
        params = {
            **CONSTANTS,
            "uplink": uplinks[u],
            "budget_s": float(budget_s),
            "strategy": strategy,
            "phi": phi,
        }
        losses = [
            point(params, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(u, r))))
            for r in range(repeats)
        ]
        return float(np.mean([out["final_train_loss"] for out in losses]))

    for u, uplink in enumerate(uplinks):
        for tau in TAUS:
            fixed[uplink, str(tau)] = mean_loss(u, str(tau))
        best = min(fixed[uplink, str(t)] for t in TAUS)
        for phi in score:
            adaptive[uplink, repr(phi)] = mean_loss(u, "adaptive", phi)
            score[phi] += adaptive[uplink, repr(phi)] / best / len(uplinks)
    chosen = min(score, key=lambda f: (score[f], f))
    return {"phi": chosen, "score": score, "fixed": fixed, "adaptive": adaptive}


def plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Final training loss versus τ (log axis) per uplink; the controller as a dashed line.

    Means over the repeats with their standard errors as error bars.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per point and repeat.
    out_dir : pathlib.Path
        Folder for ``frequency_control.png`` and ``.pdf``.

    Returns
    -------
    list of pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from edgeopt.experiments._figures import save_figure

    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, uplink in enumerate(sorted(table["uplink"].unique())):
        rows = table[table["uplink"] == uplink]
        fixed = rows[rows["strategy"] != "adaptive"].copy()
        fixed["tau"] = fixed["strategy"].astype(int)
        agg = fixed.groupby("tau")["final_train_loss"].agg(["mean", "sem", "count"])
        sem = np.where(agg["count"] > 1, agg["sem"].fillna(0.0), 0.0)
        color = colors[i % len(colors)]
        ax.errorbar(
            agg.index,
            agg["mean"],
            yerr=sem,
            marker="o",
            color=color,
            label=f"fixed τ, {uplink} uplink",
            capsize=2,
        )
        adaptive = rows[rows["strategy"] == "adaptive"]["final_train_loss"]
        if len(adaptive):
            ax.axhline(
                float(adaptive.mean()),
                color=color,
                linestyle="--",
                label=f"adaptive τ, {uplink} uplink",
            )
    ax.set_xscale("log")
    ax.set_xlabel("local updates per aggregation τ")
    ax.set_ylabel("final training loss")
    ax.set_title("Training loss after a fixed time budget")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(fig, out_dir, "frequency_control")


EXPERIMENT = Experiment(
    name="frequency_control",
    summary="Final loss under a time budget vs τ, fixed and adaptive (Wang et al. 2019)",
    point=point,
    grid=grid,
    plot=plot,
    repeats=lambda quick: 1 if quick else 3,
    seed=12,
    constants=CONSTANTS,
    common_random_numbers=("strategy",),
)
