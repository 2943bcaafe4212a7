"""The contract of the selection methods and the pieces they share.

Notation: ``G`` is the ``(K, N)`` matrix of *scaled* channels ``g_i = sqrt(gamma_i) h_i``,
``gamma_i = gamma P / (sigma^2 w_i^2)``; a beamformer ``m`` serves device ``i`` iff its
margin ``|m^H g_i|^2 / ||m||^2`` is at least 1.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import OptionSchema, check_int, check_scalar

T = TypeVar("T")

#: Relative feasibility tolerance of the MSE constraint: a selection is accepted when its
#: MSE is at most ``mse_target * (1 + FEASIBILITY_TOL)``.  In the lifted programs
#: (``tr X = 1``) the slack ``x_i`` of device ``i`` is ``1 - margin_i`` to first order the
#: same relative violation, so a slack ``x_i <= FEASIBILITY_TOL`` counts as zero.
FEASIBILITY_TOL = 1e-6

#: Outer and inner iterations of the max-min SCA that polishes extracted beamformers.
SCA_OUTER = 30
SCA_INNER = 40

#: A lifted beamformer (the real ``2N x 2N`` matrix of :mod:`.._sdp`, or any other
#: representation a backend chooses).
Lifted = NDArray[Any]


class SDPBackend(Protocol):
    """What the two-step methods (``dc``, ``sdr``) need from a semidefinite-program backend.

    The programs are those of :mod:`edgeopt.aircomp._sdp`: the sparse program (step 1)
    ``min c^T x - <U, X>`` and the feasibility program (step 2) ``min -<U, X>`` over the
    lifted beamformers of the devices in ``mask``.
    """

    #: Devices and antennas of the scaled channels the backend was built for.
    k: int
    n: int
    #: Programs solved so far, and programs on which every solver of the chain failed.
    solves: int
    failures: int

    def zero_lin(self) -> Lifted:
        """The zero linearization ``U = 0``."""
        ...

    def linearize(self, X: Lifted, weight: float = 1.0) -> Lifted:
        """``weight * u u^H`` for the top eigenvector ``u`` of ``X``."""
        ...

    def solve_sparse(
        self, c: NDArray[np.float64], U: Lifted
    ) -> tuple[NDArray[np.float64], Lifted] | None:
        """Step-1 program: the slacks ``x`` and ``X``, or ``None`` if every solver failed."""
        ...

    def solve_feasible(self, mask: NDArray[np.bool_], U: Lifted) -> Lifted | None:
        """Step-2 program for ``mask``: ``X``, or ``None`` if infeasible or failed."""
        ...

    def beam(self, X: Lifted) -> NDArray[np.complex128]:
        """The unit-norm beamformer of the top eigenvector of ``X``."""
        ...

    def gap(self, X: Lifted) -> float:
        """The relative rank gap ``(tr X - lambda_max(X)) / tr X`` (0 iff rank one)."""
        ...

    def covariance(self, X: Lifted) -> NDArray[np.complex128]:
        """The complex Hermitian ``(N, N)`` matrix ``M`` that ``X`` represents."""
        ...


@dataclass(frozen=True)
class Limits:
    """The caller's limits of one selection: ``time_limit_s`` (seconds since ``start``, a
    :func:`time.perf_counter` reading) and ``max_iterations`` (the method's outer
    iterations); ``None``: no limit."""

    time_limit_s: float | None = None
    max_iterations: int | None = None
    start: float = field(default_factory=time.perf_counter)

    def time_left(self) -> float:
        """Seconds left before the time limit (``inf`` without one)."""
        if self.time_limit_s is None:
            return float("inf")
        return self.time_limit_s - (time.perf_counter() - self.start)

    def reached(self, iterations: int) -> bool:
        """Whether either limit is reached after ``iterations`` outer iterations."""
        if self.max_iterations is not None and iterations >= self.max_iterations:
            return True
        return self.time_left() <= 0.0

    def runs_left(self, iterations: int) -> int:
        """Outer iterations left before ``max_iterations`` (a large number without it)."""
        if self.max_iterations is None:
            return 1 << 40
        return max(self.max_iterations - iterations, 0)


class LimitReached(Exception):
    """Raised inside a method when a limit is reached; the method returns its best
    verified selection so far."""


def _optional_positive(value: Any, name: str) -> float | None:
    return None if value is None else check_scalar(value, name, positive=True)


def _optional_count(value: Any, name: str) -> int | None:
    return None if value is None else check_int(value, name, min_value=1)


#: Options every method takes: ``time_limit_s`` (seconds, ``> 0``) and ``max_iterations``
#: (outer iterations, ``>= 1``); ``None``: no limit.
LIMIT_OPTIONS: OptionSchema = {
    "time_limit_s": (None, _optional_positive),
    "max_iterations": (None, _optional_count),
}

#: How often (seconds) a thread that waits for a solver wakes up, so that the main thread
#: takes a KeyboardInterrupt (SIGINT) within about this long.
POLL_S = 0.05


class _Worker:
    """A daemon thread that runs the main thread's solver calls one at a time.

    It is kept between calls, so that what the solvers cache per thread (the CVXPY
    programs) survives; a worker whose call was abandoned (Ctrl-C) is replaced.
    """

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[tuple[Callable[[], Any], dict[str, Any], threading.Event]]
        self.jobs = queue.SimpleQueue()
        self.busy = False
        threading.Thread(target=self._loop, name="edgeopt-solver", daemon=True).start()

    def _loop(self) -> None:
        while True:
            func, box, done = self.jobs.get()
            try:
                box["value"] = func()
            except BaseException as exc:  # re-raised in the caller
                box["error"] = exc
            finally:
                self.busy = False
                done.set()


_WORKER: list[_Worker] = []


def interruptible(func: Callable[[], T]) -> T:
    """Run ``func()`` in a daemon worker thread while the main thread waits in short sleeps.

    Native solvers such as Clarabel do not return to Python while they solve, so a SIGINT
    would wait for the solve to end.  Here the main thread keeps running Python code,
    takes the interrupt within about :data:`POLL_S` seconds and raises
    ``KeyboardInterrupt``; the abandoned solve finishes in its daemon thread (it holds no
    lock of the caller and does not keep the interpreter from exiting).  Exceptions of
    ``func`` are re-raised here.  In any other thread ``func()`` runs directly (only the
    main thread takes signals).
    """
    if threading.current_thread() is not threading.main_thread():
        return func()
    if not _WORKER or _WORKER[0].busy:
        _WORKER[:] = [_Worker()]
    worker = _WORKER[0]
    box: dict[str, Any] = {}
    done = threading.Event()
    worker.busy = True
    worker.jobs.put((func, box, done))
    while not done.wait(POLL_S):
        pass
    if "error" in box:
        raise box["error"]
    out: T = box["value"]
    return out


@dataclass(frozen=True)
class SelectionProblem:
    """Validated input of one device selection.

    Parameters
    ----------
    channels : numpy.ndarray of complex128, shape (K, N)
        The channels ``h_i``.
    scaled : numpy.ndarray of complex128, shape (K, N)
        The scaled channels ``g_i`` (each shrunk to ``||g_i||^2 <= 1e6``, conservative).
    power_w, noise_w, mse_target : float
        ``P``, ``sigma^2`` and ``gamma``.
    weights : numpy.ndarray of float64, shape (K,)
        The weights ``w_i``.
    limits : Limits
        The caller's time and iteration limits.

    ``power_w`` is the ``(K,)`` array of the devices' budgets ``P_i``.
    """

    channels: NDArray[np.complex128]
    scaled: NDArray[np.complex128]
    power_w: NDArray[np.float64]
    noise_w: float
    mse_target: float
    weights: NDArray[np.float64]
    limits: Limits = field(default_factory=Limits)

    def servable(self) -> NDArray[np.intp]:
        """Devices that can be served at all: ``||g_i||^2 >= 1`` (exact screening, since a
        margin never exceeds ``||g_i||^2``; ``m = g_i`` serves device ``i`` alone)."""
        return np.flatnonzero(np.sum(np.abs(self.scaled) ** 2, axis=1) >= 1.0)


@dataclass(frozen=True)
class MethodResult:
    """What a method returns to :func:`~edgeopt.aircomp.select_devices`.

    Parameters
    ----------
    selected : numpy.ndarray of bool, shape (K,)
        The method's selection (checked exactly afterwards unless ``fixed``).
    beamformer : numpy.ndarray of complex128, shape (N,), or None
        Its beamformer (any non-zero scale); ``None`` when there is none.
    iterations : int
        The method's outer iterations, as its docstring defines them.
    setup_time_s : float
        Seconds the method spent before its first iteration (building programs).
    failed_programs : int
        Convex programs on which every solver of the fallback chain failed.
    fixed : bool
        The selection is part of the method's definition (``"all"``): it is evaluated,
        never repaired, and misses the target with status ``"target_missed"``.
    limit_reached : bool
        A limit of ``problem.limits`` stopped the method; the selection is its best one so
        far (checked exactly afterwards like any other).
    """

    selected: NDArray[np.bool_]
    beamformer: NDArray[np.complex128] | None
    iterations: int
    setup_time_s: float = 0.0
    failed_programs: int = 0
    fixed: bool = False
    limit_reached: bool = False


#: The signature every method function has.
MethodFunction = Callable[
    [SelectionProblem, Mapping[str, Any], "np.random.Generator | None"], MethodResult
]


class MethodSpec(NamedTuple):
    """One row of the dispatch table of :func:`~edgeopt.aircomp.select_devices`."""

    run: MethodFunction
    options: OptionSchema
    randomized: bool


def gaussian_beamformers(
    rng: np.random.Generator, samples: int, covariance: NDArray[np.complex128]
) -> NDArray[np.complex128]:
    """Gaussian randomization: ``samples`` draws ``m ~ CN(0, M)``, one per row.

    Parameters
    ----------
    rng : numpy.random.Generator
    samples : int
        Number of draws.
    covariance : numpy.ndarray of complex128, shape (N, N)
        The Hermitian positive semidefinite ``M`` (negative eigenvalues from rounding are
        clipped to 0).

    Returns
    -------
    numpy.ndarray of complex128, shape (samples, N)

    References
    ----------
    .. [1] Z.-Q. Luo, W.-K. Ma, A. M.-C. So, Y. Ye, S. Zhang, "Semidefinite relaxation of
       quadratic optimization problems," IEEE Signal Process. Mag., vol. 27, no. 3,
       pp. 20-34, 2010, DOI 10.1109/MSP.2010.936019 (Gaussian randomization).
    """
    vals, vecs = np.linalg.eigh(covariance)
    root = vecs * np.sqrt(np.maximum(vals, 0.0))
    n = covariance.shape[0]
    z = (rng.standard_normal((samples, n)) + 1j * rng.standard_normal((samples, n))) / np.sqrt(2)
    out: NDArray[np.complex128] = z @ root.T
    return out


def candidate_margins(
    candidates: NDArray[np.complex128], G: NDArray[np.complex128]
) -> NDArray[np.float64]:
    """Margins ``|m^H g_i|^2 / ||m||^2`` of every candidate row ``m`` for every device,
    shape ``(candidates, K)`` (a zero candidate gets margins 0)."""
    norms = np.maximum(np.sum(np.abs(candidates) ** 2, axis=1), 1e-300)
    out: NDArray[np.float64] = np.abs(np.conj(candidates) @ G.T) ** 2 / norms[:, None]
    return out


def largest_passing(test: Callable[[int], bool], hi: int, first: int, lo: int = 0) -> int:
    """Largest ``n`` in ``[lo, hi]`` with ``test(n)`` true, by bisection (``lo`` if none).

    ``test`` must be monotone (true up to some ``n*``, false above); ``test(lo)`` is taken
    as true and never called (``lo``: a size known to pass, 0 by default).  ``first``
    (clipped to ``[lo + 1, hi]``) is tried first, so a good guess saves most of the tests.
    """
    if hi <= lo:
        return lo
    first = min(max(first, lo + 1), hi)
    if test(first):
        lo = first
    else:
        hi = first - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if test(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
