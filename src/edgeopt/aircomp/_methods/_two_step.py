"""What the two-step methods ``dc`` and ``sdr`` share: the backend, the device order and the
search for the largest prefix that passes the semidefinite relaxation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt.aircomp import _kernels
from edgeopt.aircomp._methods._base import (
    FEASIBILITY_TOL,
    Lifted,
    LimitReached,
    Limits,
    MethodResult,
    SDPBackend,
    SelectionProblem,
    interruptible,
    largest_passing,
)


class BestServed:
    """The beamformer that serves the most devices among all candidates offered (its
    served set is a verified selection at any time)."""

    def __init__(self, G: NDArray[np.complex128]) -> None:
        self.G = G
        self.mask = np.zeros(G.shape[0], dtype=bool)
        self.m: NDArray[np.complex128] | None = None

    def offer(self, m: NDArray[np.complex128]) -> None:
        served = _kernels.margins(self.G, m) >= 1.0
        if served.sum() > self.mask.sum():
            self.mask, self.m = served, m


#: Step 2 of a two-step method on the servable devices' scaled channels: the selection
#: (among those devices) and its beamformer; the tracker sees every candidate beamformer.
Body = Callable[
    [SDPBackend, NDArray[np.complex128], BestServed],
    tuple[NDArray[np.bool_], NDArray[np.complex128] | None],
]


class Guarded:
    """A backend whose programs respect the caller's limits and Ctrl-C.

    Before each program the limits are checked (:class:`~._base.LimitReached` when one is
    reached; the iterations are the programs solved); each solve runs in a worker thread
    while the main thread waits in short sleeps (:func:`~._base.interruptible`), since
    Clarabel does not return to Python during a solve.
    """

    def __init__(self, backend: SDPBackend, limits: Limits) -> None:
        self._backend = backend
        self._limits = limits

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def _check(self) -> None:
        if self._limits.reached(self._backend.solves):
            raise LimitReached

    def solve_sparse(self, c: Any, U: Any) -> Any:
        self._check()
        return interruptible(lambda: self._backend.solve_sparse(c, U))

    def solve_feasible(self, mask: Any, U: Any) -> Any:
        self._check()
        return interruptible(lambda: self._backend.solve_feasible(mask, U))


def make_backend(name: str, G: NDArray[np.complex128]) -> SDPBackend:
    """The backend ``"clarabel"`` (direct) or ``"cvxpy"`` (DPP programs) for ``G``."""
    from edgeopt.aircomp._sdp import ClarabelBackend, RealBackend  # imports cvxpy

    return ClarabelBackend(G) if name == "clarabel" else RealBackend(G)


def run_two_step(
    problem: SelectionProblem,
    backend_name: str,
    body: Body,
    warm: NDArray[np.complex128] | None = None,
) -> MethodResult:
    """Run ``body`` on the servable devices only and map its selection back to all ``K``.

    The iterations are the convex programs the backend solved.  ``warm``: a beamformer
    offered to the tracker first (the greedy's, for ``"dc"``).  When a limit is reached,
    the tracker's best served set (a verified selection) is returned with
    ``limit_reached``; whatever the body returns, the tracker's set replaces it if it is
    larger.
    """
    t0 = time.perf_counter()
    k = problem.channels.shape[0]
    selected = np.zeros(k, dtype=bool)
    strong = problem.servable()
    if strong.size == 0:
        return MethodResult(selected, None, 0, setup_time_s=time.perf_counter() - t0)
    G = np.ascontiguousarray(problem.scaled[strong])
    tracker = BestServed(G)
    if warm is not None and np.any(warm != 0):
        tracker.offer(np.ascontiguousarray(warm))
    raw = make_backend(backend_name, G)
    backend = Guarded(raw, problem.limits)
    setup = time.perf_counter() - t0
    cut = False
    try:
        sel, m = body(backend, G, tracker)
    except LimitReached:
        sel, m, cut = tracker.mask.copy(), tracker.m, True
    if tracker.m is not None and tracker.mask.sum() > sel.sum():
        sel, m = tracker.mask.copy(), tracker.m
    selected[strong[sel]] = True
    return MethodResult(
        selected,
        m,
        raw.solves,
        setup_time_s=setup,
        failed_programs=raw.failures,
        limit_reached=cut,
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
    lo: int = 0,
) -> tuple[int, dict[int, Lifted]]:
    """Largest ``n`` whose prefix ``order[:n]`` passes the semidefinite relaxation.

    Relaxed feasibility is monotone in the prefix (a subset of a relaxed-feasible set is
    relaxed-feasible), so bisection (:func:`~._base.largest_passing`) is exact; it starts
    from the number of zero slacks ``x_i <= FEASIBILITY_TOL``.  ``known`` holds relaxed
    solutions already found, by prefix length.  Returns ``n`` and every relaxed solution
    found (by prefix length).  ``lo``: only sizes above it are of interest (``lo`` is
    returned when no larger prefix passes).
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
    return largest_passing(test, order.size, guess, lo=lo), sols
