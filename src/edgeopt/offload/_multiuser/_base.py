"""What the multi-user offloading methods share: the problem arrays, exact costs, bounds.

Notation (every array has shape ``(N,)``): ``L_i`` local cost, ``w_i = (lambda_t +
lambda_e p_i) d_i`` the weight of the upload time ``d_i / r_i``, ``a_i = lambda_t c_i`` the
weight of the server time ``c_i / F_i``, ``s_i = p_i g_i / N0``.  For an offloading set
``S``, with ``x`` its indicator,

    cost(x) = sum_i (1 - x_i) L_i + min_{sum x_i beta_i <= B} sum_i x_i w_i / r_i(beta_i)
              + (sum_i sqrt(a_i) x_i)^2 / F,

the last term being ``min_{sum F_i <= F} sum_{i in S} a_i / F_i`` in closed form
(``F_i = F sqrt(a_i) / sum_S sqrt(a_j)``).  For ``0 <= x <= 1`` the same expression is the
perspective relaxation: ``x_i h_i(b_i / x_i)`` and ``a_i x_i^2 / F_i`` are the perspectives
of the convex ``h_i(b) = w_i / r_i(b)`` and ``a_i / F_i``, so the relaxation is jointly
convex and equals the cost at 0/1 points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import OptionSchema, check_scalar
from edgeopt.offload import _kernels

#: Relative safety margin subtracted from every relaxation bound (covers the rounding of
#: the bisections in :mod:`edgeopt.offload._kernels`), and the relative optimality
#: tolerance of branch and bound: a node is pruned when its bound is within it of the best.
BOUND_TOL = 1e-9


@dataclass(frozen=True)
class Arrays:
    """The validated problem as plain arrays (see the module notation)."""

    local: NDArray[np.float64]
    w: NDArray[np.float64]
    a: NDArray[np.float64]
    s: NDArray[np.float64]
    bandwidth_hz: float
    server_cpu_hz: float

    @property
    def n(self) -> int:
        return int(self.local.shape[0])


class Allocation(NamedTuple):
    """A decision with its optimal allocation and cost."""

    decision: NDArray[np.bool_]
    bandwidth_hz: NDArray[np.float64]
    server_cpu_hz: NDArray[np.float64]
    cost: float


def allocation(arr: Arrays, decision: NDArray[np.bool_]) -> Allocation:
    """Optimal bandwidth and server CPU of a fixed decision, and its cost (exact)."""
    x = decision.astype(np.float64)
    beta, band_value, _ = _kernels.allocate_band(arr.w, arr.s, x, arr.bandwidth_hz)
    root_a = np.sqrt(arr.a) * x
    total = root_a.sum()
    cpu = np.zeros(arr.n) if total == 0 else arr.server_cpu_hz * root_a / total
    cost = float(arr.local[~decision].sum() + band_value + total**2 / arr.server_cpu_hz)
    return Allocation(decision.copy(), beta * x, cpu, cost)


def cost(arr: Arrays, decision: NDArray[np.bool_]) -> float:
    """The cost of a fixed decision (see :func:`allocation`)."""
    return allocation(arr, decision).cost


@dataclass
class Relaxation:
    """A lower bound of ``min cost`` over decisions with some users fixed.

    ``lower_bound`` is valid for every 0/1 decision agreeing with ``fixed`` (``-1`` free,
    ``0`` local, ``1`` offload); ``x`` is the last relaxed point.
    """

    lower_bound: float
    x: NDArray[np.float64]
    iterations: int


def relax(
    arr: Arrays, fixed: NDArray[np.int8], x0: NDArray[np.float64] | None, iterations: int
) -> Relaxation:
    """Frank–Wolfe on the perspective relaxation with its Lagrangian lower bound.

    At a point ``x`` with band multiplier ``mu`` (from :func:`_kernels.allocate_band`), for
    every ``y >= 0``

        band(y) >= sum_i y_i m_i(mu) - mu B,   m_i(mu) = min_beta h_i(beta) + mu beta,

    (weak duality) and the CPU term is above its tangent at ``x``; the right sides are
    linear in ``y``, so their minimum over the box (a vertex) is a valid lower bound of
    the relaxation and hence of every decision it covers.  The best such bound over the
    iterations is returned, less :data:`BOUND_TOL` relative.  Frank–Wolfe steps
    ``x <- x + 2/(k+2) (y - x)`` move ``x`` toward the relaxed minimum, where the bound is
    tight.
    """
    free = fixed < 0
    x = np.where(free, 0.5, fixed).astype(np.float64) if x0 is None else x0.copy()
    x[~free] = fixed[~free]
    root_a = np.sqrt(arr.a)
    best = -np.inf
    k = 0
    for k in range(max(1, iterations)):
        _, _, mu = _kernels.allocate_band(arr.w, arr.s, x, arr.bandwidth_hz)
        m = _kernels.dual_terms(arr.w, arr.s, mu)
        S = float(root_a @ x)
        grad_cpu = 2.0 * S * root_a / arr.server_cpu_hz
        # linear minorant: const + c @ y
        c = -arr.local + m + grad_cpu
        const = arr.local.sum() - mu * arr.bandwidth_hz - S * S / arr.server_cpu_hz
        y = np.where(free, (c < 0).astype(np.float64), fixed)
        bound = const + float(c @ y)
        best = max(best, bound)
        x = x + 2.0 / (k + 2.0) * (y - x)
    return Relaxation(best - BOUND_TOL * abs(best), x, k + 1)


class MethodOutput(NamedTuple):
    """What a method returns: the decision's allocation, a bound, status and counters."""

    allocation: Allocation
    lower_bound: float | None
    status: str
    solver_name: str
    iterations: int
    extra: dict[str, Any]


#: A method: ``(arrays, options, problem) -> MethodOutput`` (problem: the
#: ``MultiUserOffloading``, for methods that need its raw fields).
Method = Callable[[Arrays, Mapping[str, Any], Any], MethodOutput]


def check_time_limit(value: Any, name: str) -> float | None:
    """``None`` (no limit) or a positive number of seconds."""
    return None if value is None else check_scalar(value, name, positive=True)


@dataclass(frozen=True)
class MethodSpec:
    """A dispatch-table entry: the method and its option schema."""

    func: Method
    options: OptionSchema = field(default_factory=dict)
