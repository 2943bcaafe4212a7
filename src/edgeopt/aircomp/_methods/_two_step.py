"""What the two-step methods ``dc`` and ``sdr`` share: the backend, the device order and the
search for the largest prefix that passes the semidefinite relaxation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt.aircomp._methods._base import (
    FEASIBILITY_TOL,
    Lifted,
    MethodResult,
    SDPBackend,
    SelectionProblem,
    largest_passing,
)

#: Step 2 of a two-step method on the servable devices' scaled channels: the selection
#: (among those devices) and its beamformer.
Body = Callable[
    [SDPBackend, NDArray[np.complex128]],
    tuple[NDArray[np.bool_], NDArray[np.complex128] | None],
]


def make_backend(name: str, G: NDArray[np.complex128]) -> SDPBackend:
    """The backend ``"clarabel"`` (direct) or ``"cvxpy"`` (DPP programs) for ``G``."""
    from edgeopt.aircomp._sdp import ClarabelBackend, RealBackend  # imports cvxpy

    return ClarabelBackend(G) if name == "clarabel" else RealBackend(G)


def run_two_step(problem: SelectionProblem, backend_name: str, body: Body) -> MethodResult:
    """Run ``body`` on the servable devices only and map its selection back to all ``K``.

    The iterations are the convex programs the backend solved.
    """
    t0 = time.perf_counter()
    k = problem.channels.shape[0]
    selected = np.zeros(k, dtype=bool)
    strong = problem.servable()
    if strong.size == 0:
        return MethodResult(selected, None, 0, setup_time_s=time.perf_counter() - t0)
    G = np.ascontiguousarray(problem.scaled[strong])
    backend = make_backend(backend_name, G)
    setup = time.perf_counter() - t0
    sel, m = body(backend, G)
    selected[strong[sel]] = True
    return MethodResult(
        selected, m, backend.solves, setup_time_s=setup, failed_programs=backend.failures
    )


def order_devices(x: NDArray[np.float64], G: NDArray[np.complex128]) -> NDArray[np.intp]:
    """Devices by increasing slack ``x`` (ties: stronger scaled channel first)."""
    strength = np.sum(np.abs(G) ** 2, axis=1)
    return np.lexsort((-strength, np.round(x, 7)))


def prefix_mask(order: NDArray[np.intp], n: int) -> NDArray[np.bool_]:
    """The boolean mask of the first ``n`` devices of ``order``."""
    mask = np.zeros(order.size, dtype=bool)
    mask[order[:n]] = True
    return mask


def largest_relaxed_prefix(
    backend: SDPBackend,
    order: NDArray[np.intp],
    x: NDArray[np.float64],
    known: dict[int, Lifted] | None = None,
) -> tuple[int, dict[int, Lifted]]:
    """Largest ``n`` whose prefix ``order[:n]`` passes the semidefinite relaxation.

    Relaxed feasibility is monotone in the prefix (a subset of a relaxed-feasible set is
    relaxed-feasible), so bisection (:func:`~._base.largest_passing`) is exact; it starts
    from the number of zero slacks ``x_i <= FEASIBILITY_TOL``.  ``known`` holds relaxed
    solutions already found, by prefix length.  Returns ``n`` and every relaxed solution
    found (by prefix length).
    """
    sols: dict[int, Any] = dict(known or {})

    def test(n: int) -> bool:
        if n in sols:
            return True
        X = backend.solve_feasible(prefix_mask(order, n), backend.zero_lin())
        if X is None:
            return False
        sols[n] = X
        return True

    guess = int(np.sum(x <= FEASIBILITY_TOL))
    return largest_passing(test, order.size, guess), sols
