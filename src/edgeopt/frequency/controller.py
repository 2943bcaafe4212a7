r"""Adaptive control of the number of local updates between global aggregations.

The control algorithm of Wang et al. (IEEE JSAC 2019, Algorithm 2): after every global
aggregation the smoothness ``β``, the Lipschitz constant ``ρ`` and the gradient divergence
``δ`` of the local losses are estimated from the devices' losses and gradients at their
local models and at the global model (:func:`estimate_constants`; by default from the
local steps' own mini-batch values, as in the paper's Algorithm 3), the costs of a local
update ``c`` and of an aggregation ``b`` are averaged over the rounds so far, and ``τ`` is
set to the minimizer of the convergence bound ``G(τ)`` (:func:`~edgeopt.frequency.optimal_tau`)
over ``{1, …, min(10 τ, τ_max)}``.  When the budget left cannot pay for the next round, ``τ``
shrinks to what it can pay, and the run stops when not even one local update fits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_choice,
    check_int,
    check_options,
    check_scalar,
    invalid_input,
)
from edgeopt.frequency.bound import optimal_tau

__all__ = [
    "Estimates",
    "RoundStats",
    "AdaptiveTauController",
    "estimate_constants",
    "RESOURCES",
    "ESTIMATION",
]

#: The resources a budget may cover: the run's wall time and the devices' energy.
RESOURCES = ("time_s", "energy_j")

#: How the loop obtains the estimates: from the local steps' own losses and gradients
#: (``"steps"``, Wang et al.'s Algorithms 2–3) or by an extra pass (``"pass"``).
ESTIMATION = ("steps", "pass")


@dataclass(frozen=True)
class Estimates:
    """Estimates of the local losses' constants at one aggregation.

    Parameters
    ----------
    beta : float
        Smoothness ``β̂`` (data-weighted mean over the devices whose model moved).
    rho : float
        Lipschitz constant ``ρ̂`` (same weighting).
    delta : float
        Gradient divergence ``δ̂`` (data-weighted over all devices given).
    num_devices : int
        Devices whose local model differs from the global one (those ``β̂`` and ``ρ̂``
        average over); ``0`` makes ``β̂ = ρ̂ = 0``.
    """

    beta: float
    rho: float
    delta: float
    num_devices: int


def estimate_constants(
    *,
    local_params: Any,
    global_params: Any,
    local_loss: Any,
    global_loss: Any,
    local_grad: Any,
    global_grad: Any,
    data_sizes: Any,
) -> Estimates:
    r"""Estimate ``β``, ``ρ`` and ``δ`` of the local losses at an aggregation.

    For device ``i`` with local model ``w_i`` and the global model ``w``:

    .. math::

       β̂_i = \frac{‖∇F_i(w_i) − ∇F_i(w)‖}{‖w_i − w‖}, \quad
       ρ̂_i = \frac{|F_i(w_i) − F_i(w)|}{‖w_i − w‖}, \quad
       δ̂ = \frac{Σ_i D_i ‖∇F_i(w) − ∇F(w)‖}{D},\ ∇F(w) = \frac{Σ_i D_i ∇F_i(w)}{D},

    and ``β̂``, ``ρ̂`` are the ``D_i``-weighted means of ``β̂_i``, ``ρ̂_i`` over the devices
    with ``w_i ≠ w``.

    Parameters
    ----------
    local_params : array_like, shape (K, d)
        Each device's local model ``w_i``.
    global_params : array_like, shape (d,)
        The global model ``w``.
    local_loss, global_loss : array_like, shape (K,)
        ``F_i(w_i)`` and ``F_i(w)``: each device's loss on its own data.
    local_grad, global_grad : array_like, shape (K, d)
        ``∇F_i(w_i)`` and ``∇F_i(w)``.
    data_sizes : array_like, shape (K,)
        ``D_i > 0``, the devices' numbers of samples.

    Returns
    -------
    Estimates

    Raises
    ------
    InvalidInputError
        Shapes that disagree, non-finite values, non-positive data sizes.

    References
    ----------
    S. Wang et al., "Adaptive federated learning in resource constrained edge computing
    systems," IEEE J. Sel. Areas Commun., 37(6):1205–1221, 2019,
    doi:10.1109/JSAC.2019.2904348, §VI-B (estimation of ρ, β and δ), Algorithm 2–3.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.frequency import estimate_constants
    >>> c = np.array([[1.0, 0.0], [-1.0, 0.0]])  # F_i(w) = ‖w − c_i‖² (β = 2)
    >>> w, wl = np.zeros(2), np.array([[0.5, 0.0], [-0.5, 0.0]])
    >>> est = estimate_constants(local_params=wl, global_params=w,
    ...     local_loss=((wl - c) ** 2).sum(1), global_loss=((w - c) ** 2).sum(1),
    ...     local_grad=2 * (wl - c), global_grad=2 * (w - c), data_sizes=[1, 1])
    >>> est.beta, est.rho, est.delta
    (2.0, 1.5, 2.0)
    """
    wl = check_array(local_params, "local_params", ndim=2)
    k, d = wl.shape
    w = check_array(global_params, "global_params", shape=(d,))
    fl = check_array(local_loss, "local_loss", shape=(k,))
    fg = check_array(global_loss, "global_loss", shape=(k,))
    gl = check_array(local_grad, "local_grad", shape=(k, d))
    gg = check_array(global_grad, "global_grad", shape=(k, d))
    sizes = check_array(data_sizes, "data_sizes", shape=(k,), positive=True)
    weights = sizes / sizes.sum()
    dist = np.linalg.norm(wl - w[None, :], axis=1)
    moved = dist > 0
    beta = rho = 0.0
    if moved.any():
        wm = weights[moved] / weights[moved].sum()
        beta_i = np.linalg.norm(gl[moved] - gg[moved], axis=1) / dist[moved]
        rho_i = np.abs(fl[moved] - fg[moved]) / dist[moved]
        beta, rho = float(wm @ beta_i), float(wm @ rho_i)
    mean_grad = weights @ gg
    delta = float(weights @ np.linalg.norm(gg - mean_grad[None, :], axis=1))
    return Estimates(beta, rho, delta, int(moved.sum()))


@dataclass(frozen=True)
class RoundStats:
    """What a training loop tells a τ controller after one aggregation.

    Parameters
    ----------
    round : int
        The round just finished, counting from 1.
    tau : int
        Local updates it ran.
    step_time_s, step_energy_j : float
        Cost ``c`` of one local update: the slowest participant's time (a synchronous
        step) and all participants' energy.
    aggregation_time_s, aggregation_energy_j : float
        Cost ``b`` of the aggregation: the round's time and energy beyond ``τ·c`` (uplink
        and an estimation pass, if there is one), ``>= 0``.
    spent_time_s, spent_energy_j : float
        Totals spent so far, this round included.
    estimates : Estimates or None
        The constants, when the controller asked for them (with ``estimation="steps"``
        those of the aggregation before, ``None`` after the first round).
    """

    round: int
    tau: int
    step_time_s: float
    step_energy_j: float
    aggregation_time_s: float
    aggregation_energy_j: float
    spent_time_s: float
    spent_energy_j: float
    estimates: Estimates | None = None


def _budget(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        check_options(dict(value), "budget", optional=dict.fromkeys(RESOURCES))
        if not value:
            raise invalid_input("budget", value, f"a budget for at least one of {RESOURCES}")
        return {
            name: check_scalar(v, f"budget[{name!r}]", positive=True) for name, v in value.items()
        }
    return {"time_s": check_scalar(value, "budget", positive=True)}


class AdaptiveTauController:
    r"""Adaptive number of local updates per aggregation under a time and/or energy budget.

    Pass it to :func:`edgeopt.federated.run_fedavg` as ``local_steps``.  After every
    aggregation the loop calls :meth:`next_tau` with a :class:`RoundStats`; the controller
    averages the observed costs ``ĉ_m``, ``b̂_m`` of a local update and of an aggregation,
    takes the loop's estimates ``β̂``, ``ρ̂``, ``δ̂`` (an estimate ``β̂ > 1/η`` is clipped
    to ``1/η``, the range in which the bound holds) and returns
    ``τ* = argmin G(τ)`` over ``1 … min(10 τ, τ_max)`` (:func:`~edgeopt.frequency.optimal_tau`
    with the whole budget ``R_m``).  If the budget left, ``R_m − s_m``, cannot pay for
    ``τ*·ĉ_m + b̂_m``, ``τ`` becomes the largest count it can pay for; ``0`` (stop) when it
    cannot pay one local update.

    Parameters
    ----------
    budget : float or mapping
        A time budget in seconds, or ``{"time_s": R_t, "energy_j": R_e}`` (one or both).
    phi : float > 0
        The bound's constant ``φ``.
    eta : float > 0
        The learning rate ``η`` of the run (``run_fedavg`` checks it equals ``lr``).
    tau_max : int >= 1
        Largest ``τ`` (default 100).
    initial_tau : int >= 1
        ``τ`` of the first round (default 1).
    estimation : {"steps", "pass"}
        ``"steps"`` (default; Wang et al., Algorithms 2–3): the loop takes each device's
        loss and gradient at the global model ``w(t0)`` from its first local step after
        the aggregation and those at its local model from the last local step before
        it, mini-batch values the training computes anyway, so the estimates cost
        nothing extra and arrive one aggregation late (none after the first round).
        ``"pass"``: after each aggregation every aggregated device evaluates its loss
        and gradient at its local model and at the new global model, an extra forward
        and backward pass at each, charged to the round as computation.
    estimation_samples : int >= 1 or None
        With ``estimation="pass"``, samples per device for the estimates: ``None``
        (default) evaluates each device's loss and gradient on its whole data, ``n`` on
        a fixed subset of ``min(n, D_i)`` of its samples (evenly spaced, the same in
        every round), which makes the estimation pass that the budget pays for cost
        ``2 min(n, D_i)`` samples instead of ``2 D_i``.  Not used by ``"steps"``.

    Raises
    ------
    InvalidInputError
        Non-positive budget, ``φ``, ``η``; unknown resource; ``τ_max < 1``; an initial
        ``τ`` outside ``1 … τ_max``; an unknown ``estimation``; ``estimation_samples < 1``.

    References
    ----------
    S. Wang et al., "Adaptive federated learning in resource constrained edge computing
    systems," IEEE J. Sel. Areas Commun., 37(6):1205–1221, 2019,
    doi:10.1109/JSAC.2019.2904348, Algorithm 2 (lines 14–24).

    Examples
    --------
    >>> from edgeopt.frequency import AdaptiveTauController, Estimates, RoundStats
    >>> ctl = AdaptiveTauController(budget=100.0, phi=0.05, eta=0.1)
    >>> ctl.initial_tau
    1
    >>> stats = RoundStats(round=1, tau=1, step_time_s=0.1, step_energy_j=0.01,
    ...                    aggregation_time_s=2.0, aggregation_energy_j=0.05,
    ...                    spent_time_s=2.1, spent_energy_j=0.06,
    ...                    estimates=Estimates(beta=1.0, rho=1.0, delta=0.5, num_devices=4))
    >>> ctl.next_tau(stats)  # the minimizer of G over 1..10
    4
    """

    needs_estimates = True

    def __init__(
        self,
        *,
        budget: Any,
        phi: float,
        eta: float,
        tau_max: int = 100,
        initial_tau: int = 1,
        estimation: str = "steps",
        estimation_samples: int | None = None,
    ) -> None:
        self.budget = _budget(budget)
        self.phi = check_scalar(phi, "phi", positive=True)
        self.eta = check_scalar(eta, "eta", positive=True)
        self.tau_max = check_int(tau_max, "tau_max")
        self.initial_tau = check_int(initial_tau, "initial_tau", max_value=self.tau_max)
        self.estimation = check_choice(estimation, "estimation", ESTIMATION)
        self.estimation_samples = (
            None
            if estimation_samples is None
            else check_int(estimation_samples, "estimation_samples")
        )
        self.reset()

    def reset(self) -> None:
        """Forget the costs and τ of an earlier run (``run_fedavg`` calls it first)."""
        self._tau = self.initial_tau
        self._costs: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
        #: ``τ`` chosen after each aggregation, in order (0: stop).
        self.taus: list[int] = []
        #: The estimates handed over after each aggregation (``None`` where there were none).
        self.estimates: list[Estimates | None] = []

    def next_tau(self, stats: RoundStats) -> int:
        """The number of local updates of the next round (``0``: stop the run).

        Parameters
        ----------
        stats : RoundStats
            The round just finished.

        Returns
        -------
        int
            ``τ`` in ``0 … τ_max``.
        """
        if not isinstance(stats, RoundStats):
            raise invalid_input("stats", stats, "an edgeopt.frequency.RoundStats")
        names = list(self.budget)
        step = {"time_s": stats.step_time_s, "energy_j": stats.step_energy_j}
        agg = {"time_s": stats.aggregation_time_s, "energy_j": stats.aggregation_energy_j}
        spent = {"time_s": stats.spent_time_s, "energy_j": stats.spent_energy_j}
        self.estimates.append(stats.estimates)
        self._costs.append((np.array([step[n] for n in names]), np.array([agg[n] for n in names])))
        budget = np.array([self.budget[n] for n in names])
        c = np.mean([x for x, _ in self._costs], axis=0)
        b = np.mean([y for _, y in self._costs], axis=0)
        # A cost that rounds to 0 (e.g. no energy spent by the uplink) still has to be > 0
        # for the bound: a billionth of the budget stands in for it.
        c = np.maximum(c, 1e-9 * budget)
        b = np.maximum(b, 1e-9 * budget)
        left = budget - np.array([spent[n] for n in names])
        affordable = int(np.min(np.floor((left - b) / c * (1.0 + 1e-12))))  # 4.99999 is 5
        if affordable < 1:  # the budget left cannot pay one more local step and aggregation
            self.taus.append(0)
            return 0
        est = stats.estimates
        tau = self._tau
        if est is not None and est.num_devices > 0:
            tau = optimal_tau(
                beta=min(est.beta, 1.0 / self.eta),
                delta=est.delta,
                rho=est.rho,
                eta=self.eta,
                phi=self.phi,
                budget=budget,
                local_cost=c,
                global_cost=b,
                tau_max=min(10 * self._tau, self.tau_max),
            )
        tau = min(tau, affordable)
        self._tau = max(tau, 1)
        self.taus.append(tau)
        return tau
