r"""The convergence bound of local SGD under a resource budget, and the τ that minimizes it.

Wang et al. (IEEE JSAC 2019) bound the optimality gap of federated gradient descent with
``τ`` local updates between global aggregations.  With a budget ``R_m`` of each resource
``m``, a cost ``c_m`` per local update and ``b_m`` per global aggregation, the constraint
``(T + 1) c_m + (K + 1) b_m <= R_m`` with ``T = K τ`` allows

.. math:: T(τ) = \min_m \frac{(R_m - c_m - b_m)\,τ}{c_m τ + b_m}

local updates in all, and the bound reads

.. math::

   h(τ) = \frac{δ}{β}\left((ηβ + 1)^τ - 1\right) - ηδτ, \qquad
   G(τ) = \frac{1}{2ηφT} + \sqrt{\frac{1}{4η^2φ^2T^2} + \frac{ρ h(τ)}{ηφτ}} + ρ h(τ),

with ``T = T(τ)``, valid for ``ηβ <= 1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_broadcast,
    check_int,
    check_int_array,
    check_scalar,
    invalid_inputs,
)

__all__ = ["total_local_steps", "gap_h", "convergence_bound", "optimal_tau"]


def _resources(
    budget: Any, local_cost: Any, global_cost: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Check the budgets and costs: positive, broadcast to ``(M,)``, ``R_m > c_m + b_m``."""
    r = check_array(budget, "budget", ndim=(0, 1), positive=True, allow_empty=False)
    c = check_array(local_cost, "local_cost", ndim=(0, 1), positive=True, allow_empty=False)
    b = check_array(global_cost, "global_cost", ndim=(0, 1), positive=True, allow_empty=False)
    r, c, b = check_broadcast(budget=r, local_cost=c, global_cost=b)
    r, c, b = np.atleast_1d(r), np.atleast_1d(c), np.atleast_1d(b)
    short = r <= c + b
    if np.any(short):
        m = int(np.flatnonzero(short)[0])
        raise invalid_inputs(
            f"budget={r[m]!r}, local_cost={c[m]!r}, global_cost={b[m]!r} (resource {m})",
            "budget > local_cost + global_cost: the budget must pay for at least one local "
            "update and one global aggregation",
        )
    return r, c, b


def total_local_steps(
    tau: Any, *, budget: Any, local_cost: Any, global_cost: Any
) -> NDArray[np.float64]:
    r"""Local updates ``T(τ)`` a budget allows with ``τ`` updates per aggregation.

    Implements ``T(τ) = min_m (R_m − c_m − b_m) τ / (c_m τ + b_m)``, the largest ``T`` with
    ``(T + 1) c_m + (T/τ + 1) b_m <= R_m`` for every resource ``m`` (a real number: the
    bound treats ``T`` as continuous).

    Parameters
    ----------
    tau : int or array_like of int, shape (...)
        Local updates per aggregation, each ``>= 1``.
    budget : float or array_like, shape (M,)
        ``R_m > 0`` per resource (e.g. seconds and joules).
    local_cost : float or array_like, shape (M,)
        ``c_m > 0``: cost of one local update, in the units of ``budget``.
    global_cost : float or array_like, shape (M,)
        ``b_m > 0``: cost of one global aggregation.

    Returns
    -------
    numpy.ndarray of float64, shape (...)
        ``T(τ)``: the tightest resource's count.

    Raises
    ------
    InvalidInputError
        ``τ < 1``, non-positive budgets or costs, ``R_m <= c_m + b_m``.

    References
    ----------
    S. Wang, T. Tuor, T. Salonidis, K. K. Leung, C. Makaya, T. He and K. Chan, "Adaptive
    federated learning in resource constrained edge computing systems," IEEE J. Sel. Areas
    Commun., 37(6):1205–1221, 2019, doi:10.1109/JSAC.2019.2904348, Eq. (18)–(19).

    Examples
    --------
    >>> from edgeopt.frequency import total_local_steps
    >>> total_local_steps([1, 4], budget=12.0, local_cost=1.0, global_cost=1.0).tolist()
    [5.0, 8.0]
    >>> float(total_local_steps(2, budget=[12.0, 100.0], local_cost=[1.0, 1.0],
    ...                         global_cost=[1.0, 90.0]))  # the second resource binds
    0.1956521739130435
    """
    t = check_int_array(tau, "tau", min_value=1).astype(np.float64)
    r, c, b = _resources(budget, local_cost, global_cost)
    return _steps(t, r, c, b)


def _steps(
    t: NDArray[np.float64], r: NDArray[np.float64], c: NDArray[np.float64], b: NDArray[np.float64]
) -> NDArray[np.float64]:
    tt = t[..., None]
    out: NDArray[np.float64] = np.min((r - c - b) * tt / (c * tt + b), axis=-1)
    return out


def gap_h(tau: Any, *, beta: float, delta: float, eta: float) -> NDArray[np.float64]:
    r"""The divergence term ``h(τ) = (δ/β)((ηβ + 1)^τ − 1) − ηδτ`` of the bound.

    Computed as ``(δ/β)·expm1(τ·log1p(ηβ)) − ηδτ`` (``0`` for ``β = 0``, its limit), and
    clipped at 0 against rounding (``h >= 0`` by Bernoulli's inequality).

    Parameters
    ----------
    tau : int or array_like of int, shape (...)
        ``>= 1``.
    beta : float >= 0
        Smoothness ``β`` of the local losses.
    delta : float >= 0
        Gradient divergence ``δ``.
    eta : float > 0
        Learning rate ``η``, with ``ηβ <= 1``.

    Returns
    -------
    numpy.ndarray of float64, shape (...)

    Raises
    ------
    InvalidInputError
        ``τ < 1``, negative ``β`` or ``δ``, ``η <= 0``, ``ηβ > 1``.

    References
    ----------
    Wang et al., IEEE JSAC 2019 (see :func:`total_local_steps`), Eq. (11).

    Examples
    --------
    >>> from edgeopt.frequency import gap_h
    >>> gap_h([1, 2], beta=1.0, delta=1.0, eta=0.5).tolist()  # (1.5² − 1) − 1 = 0.25
    [0.0, 0.25]
    """
    t = check_int_array(tau, "tau", min_value=1).astype(np.float64)
    b, d, e = _constants(beta, delta, eta)
    return _h(t, b, d, e)


def _constants(beta: Any, delta: Any, eta: Any) -> tuple[float, float, float]:
    b = check_scalar(beta, "beta", nonneg=True)
    d = check_scalar(delta, "delta", nonneg=True)
    e = check_scalar(eta, "eta", positive=True)
    if e * b > 1.0:
        raise invalid_inputs(
            f"eta={e!r}, beta={b!r}", "eta * beta <= 1 (the range in which the bound holds)"
        )
    return b, d, e


def _h(t: NDArray[np.float64], beta: float, delta: float, eta: float) -> NDArray[np.float64]:
    if beta == 0.0 or delta == 0.0:
        return np.zeros_like(t)
    h = delta / beta * np.expm1(t * np.log1p(eta * beta)) - eta * delta * t
    out: NDArray[np.float64] = np.maximum(h, 0.0)
    return out


def _g(
    t: NDArray[np.float64],
    beta: float,
    delta: float,
    rho: float,
    eta: float,
    phi: float,
    r: NDArray[np.float64],
    c: NDArray[np.float64],
    b: NDArray[np.float64],
) -> NDArray[np.float64]:
    steps = _steps(t, r, c, b)
    h = _h(t, beta, delta, eta)
    a = 1.0 / (2.0 * eta * phi * steps)
    out: NDArray[np.float64] = a + np.sqrt(a * a + rho * h / (eta * phi * t)) + rho * h
    return out


def convergence_bound(
    tau: Any,
    *,
    beta: float,
    delta: float,
    rho: float,
    eta: float,
    phi: float,
    budget: Any,
    local_cost: Any,
    global_cost: Any,
) -> NDArray[np.float64]:
    r"""The bound ``G(τ)`` on ``F(w_f) − F(w*)`` after a budget is spent with ``τ`` local steps.

    Implements

    .. math::

       G(τ) = \frac{1}{2ηφT} + \sqrt{\frac{1}{4η^2φ^2T^2} + \frac{ρ h(τ)}{ηφτ}} + ρ h(τ)

    with ``T = T(τ)`` from :func:`total_local_steps` and ``h(τ)`` from :func:`gap_h`.

    Parameters
    ----------
    tau : int or array_like of int, shape (...)
        Local updates per global aggregation, ``>= 1``.
    beta : float >= 0
        Smoothness ``β`` of the local losses (``‖∇F_i(w) − ∇F_i(w')‖ <= β‖w − w'‖``).
    delta : float >= 0
        Gradient divergence ``δ = Σ_i D_i δ_i / D``.
    rho : float >= 0
        Lipschitz constant ``ρ`` of the local losses.
    eta : float > 0
        Learning rate ``η``; the bound holds for ``ηβ <= 1``.
    phi : float > 0
        The bound's constant ``φ`` (the paper tunes it per model; an input here).
    budget, local_cost, global_cost : float or array_like, shape (M,)
        Budget ``R_m`` and costs ``c_m``, ``b_m`` of each resource, see
        :func:`total_local_steps`.

    Returns
    -------
    numpy.ndarray of float64, shape (...)
        ``G(τ)`` for each ``τ``.

    Raises
    ------
    InvalidInputError
        ``τ < 1``; negative ``β``, ``δ`` or ``ρ``; ``η <= 0``; ``ηβ > 1``; ``φ <= 0``;
        non-positive budgets or costs; a budget that cannot pay one local update and one
        aggregation (``R_m <= c_m + b_m``).

    References
    ----------
    S. Wang et al., "Adaptive federated learning in resource constrained edge computing
    systems," IEEE J. Sel. Areas Commun., 37(6):1205–1221, 2019,
    doi:10.1109/JSAC.2019.2904348, Eq. (20) (with Eq. (11) for ``h`` and the budget
    constraint of Eq. (18)).

    Examples
    --------
    >>> from edgeopt.frequency import convergence_bound
    >>> g = convergence_bound([1, 5, 50], beta=1.0, delta=0.1, rho=1.0, eta=0.1, phi=0.05,
    ...                       budget=1000.0, local_cost=1.0, global_cost=10.0)
    >>> g.round(3).tolist()
    [2.224, 1.045, 17.937]
    """
    t = check_int_array(tau, "tau", min_value=1).astype(np.float64)
    b, d, e = _constants(beta, delta, eta)
    p = check_scalar(rho, "rho", nonneg=True)
    f = check_scalar(phi, "phi", positive=True)
    r, c, g = _resources(budget, local_cost, global_cost)
    return _g(t, b, d, p, e, f, r, c, g)


def optimal_tau(
    *,
    beta: float,
    delta: float,
    rho: float,
    eta: float,
    phi: float,
    budget: Any,
    local_cost: Any,
    global_cost: Any,
    tau_max: int = 100,
) -> int:
    r"""The number of local updates per aggregation that minimizes the bound ``G(τ)``.

    ``τ* = argmin_{τ ∈ {1, …, τ_max}} G(τ)`` by evaluating :func:`convergence_bound` on the
    whole range (exact; the smallest ``τ`` among ties).

    Parameters
    ----------
    beta, delta, rho, eta, phi : float
        The constants of :func:`convergence_bound`.
    budget, local_cost, global_cost : float or array_like, shape (M,)
        Budgets and costs per resource, see :func:`total_local_steps`.
    tau_max : int >= 1
        Largest ``τ`` searched (default 100).

    Returns
    -------
    int
        ``τ*``.

    Raises
    ------
    InvalidInputError
        As :func:`convergence_bound`; ``tau_max < 1``.

    References
    ----------
    Wang et al., IEEE JSAC 2019 (see :func:`convergence_bound`), problem (21).

    Examples
    --------
    >>> from edgeopt.frequency import optimal_tau
    >>> kw = dict(beta=1.0, delta=0.1, rho=1.0, eta=0.1, phi=0.05, local_cost=1.0)
    >>> optimal_tau(budget=1000.0, global_cost=10.0, **kw)
    4
    >>> optimal_tau(budget=1000.0, global_cost=50.0, **kw)  # costlier aggregation: larger τ
    10
    """
    n = check_int(tau_max, "tau_max")
    g = convergence_bound(
        np.arange(1, n + 1),
        beta=beta,
        delta=delta,
        rho=rho,
        eta=eta,
        phi=phi,
        budget=budget,
        local_cost=local_cost,
        global_cost=global_cost,
    )
    return int(np.argmin(g)) + 1
