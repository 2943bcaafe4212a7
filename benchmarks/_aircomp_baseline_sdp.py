"""A frozen copy of the AirComp two-step methods ``dc`` and ``sdr`` as of commit 57af362.

``benchmarks/aircomp_scale.py`` runs it as the "before" of the scaling table.  Made by
concatenating ``_methods/_base.py``, ``_sdp.py``, ``_methods/_two_step.py``, ``_methods/dc.py``
and ``_methods/sdr.py`` of that commit (imports between them removed); the max-min SCA is
the copy in ``_aircomp_baseline``.  Not part of the library and not maintained.
"""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

import functools
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, Protocol

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import OptionSchema, check_choice, check_int, check_scalar
import _aircomp_baseline as _kernels


# ---- _methods/_base.py ----------------------------------------












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

    def gain_objective(self, mask: NDArray[np.bool_]) -> Lifted:
        """``U`` whose step-2 objective maximizes the sum of the scaled gains in ``mask``."""
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
    """

    channels: NDArray[np.complex128]
    scaled: NDArray[np.complex128]
    power_w: float
    noise_w: float
    mse_target: float
    weights: NDArray[np.float64]

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
    """

    selected: NDArray[np.bool_]
    beamformer: NDArray[np.complex128] | None
    iterations: int
    setup_time_s: float = 0.0
    failed_programs: int = 0
    fixed: bool = False


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


def largest_passing(test: Callable[[int], bool], hi: int, first: int) -> int:
    """Largest ``n`` in ``[0, hi]`` with ``test(n)`` true, by bisection (``0`` if none).

    ``test`` must be monotone (true up to some ``n*``, false above); ``test(0)`` is taken
    as true and never called.  ``first`` (clipped to ``[1, hi]``) is tried first, so a good
    guess saves most of the tests.
    """
    if hi <= 0:
        return 0
    lo = 0
    first = min(max(first, 1), hi)
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


# ---- _sdp.py ----------------------------------------















_OK = {cp.OPTIMAL, cp.OPTIMAL_INACCURATE}
_INFEASIBLE = {cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE}


def real_embedding(H: NDArray[np.complex128]) -> NDArray[np.float64]:
    """``R(H) = [[Re H, -Im H], [Im H, Re H]]`` of a Hermitian ``(..., N, N)`` matrix."""
    top = np.concatenate([H.real, -H.imag], axis=-1)
    bottom = np.concatenate([H.imag, H.real], axis=-1)
    return np.concatenate([top, bottom], axis=-2)


def constraint_rows(G: NDArray[np.complex128]) -> NDArray[np.float64]:
    """Rows ``vec(I - R(g_i g_i^H))`` (column-major) of the scaled channels ``G (K, N)``."""
    k, n = G.shape
    outer = np.einsum("ki,kj->kij", G, np.conj(G))
    R = real_embedding(outer)
    A = np.eye(2 * n)[None, :, :] - R
    return A.transpose(0, 2, 1).reshape(k, 4 * n * n)


def beam_from_real(X: NDArray[np.float64]) -> NDArray[np.complex128]:
    """Complex beamformer from the top eigenvector of the real lifted matrix."""
    n = X.shape[0] // 2
    _, vecs = np.linalg.eigh((X + X.T) / 2)
    v = vecs[:, -1]
    m = v[:n] + 1j * v[n:]
    return m / np.linalg.norm(m)


def rank_gap(X: NDArray[np.float64]) -> float:
    """``tr X - lambda_max(X)`` relative to ``tr X`` (0 iff rank one)."""
    vals = np.linalg.eigvalsh((X + X.T) / 2)
    tr = float(np.sum(vals))
    return float((tr - vals[-1]) / max(tr, 1e-300))


def complex_covariance(X: NDArray[np.float64]) -> NDArray[np.complex128]:
    """The Hermitian ``M = X11 + X22 + j (X21 - X12)`` represented by ``X``."""
    n = X.shape[0] // 2
    M = X[:n, :n] + X[n:, n:] + 1j * (X[n:, :n] - X[:n, n:])
    out: NDArray[np.complex128] = ((M + M.conj().T) / 2).astype(np.complex128)
    return out


@dataclass
class _Sparse:
    problem: cp.Problem
    X: cp.Variable
    x: cp.Variable
    A: cp.Parameter
    c: cp.Parameter
    U: cp.Parameter


@dataclass
class _Feasible:
    problem: cp.Problem
    X: cp.Variable
    A: cp.Parameter
    U: cp.Parameter


# programs per thread: their Parameters are overwritten before every solve
_LOCAL = threading.local()
_CACHE_SIZE = 64


def _per_thread(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """``build()`` cached under ``key`` in this thread's LRU cache (``_CACHE_SIZE`` entries)."""
    cache: OrderedDict[tuple[Any, ...], Any] | None = getattr(_LOCAL, "programs", None)
    if cache is None:
        cache = OrderedDict()
        _LOCAL.programs = cache
    prog = cache.get(key)
    if prog is None:
        prog = build()
        cache[key] = prog
        if len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return prog


def sparse_program(n: int, k: int, solver: str = "CLARABEL") -> _Sparse:
    """The step-1 program for ``n`` antennas and ``k`` devices (DPP; cached per shape,
    solver and thread).

    CVXPY caches one solving chain per problem and solver, so each solver gets its own
    problem object (switching solvers on one object would recompile it).
    """
    out: _Sparse = _per_thread(("sparse", n, k, solver), lambda: _build_sparse(n, k))
    return out


def feasible_program(n: int, k: int, solver: str = "CLARABEL") -> _Feasible:
    """The step-2 program for ``n`` antennas and ``k`` devices (DPP; cached per shape,
    solver and thread)."""
    out: _Feasible = _per_thread(("feasible", n, k, solver), lambda: _build_feasible(n, k))
    return out


def _build_sparse(n: int, k: int) -> _Sparse:
    X = cp.Variable((2 * n, 2 * n), PSD=True)
    x = cp.Variable(k, nonneg=True)
    A = cp.Parameter((k, 4 * n * n))
    c = cp.Parameter(k, nonneg=True)
    U = cp.Parameter((2 * n, 2 * n), symmetric=True)
    objective = cp.Minimize(c @ x - cp.sum(cp.multiply(U, X)))
    constraints = [A @ cp.vec(X, order="F") <= x, cp.trace(X) == 1]
    return _Sparse(cp.Problem(objective, constraints), X, x, A, c, U)


def _build_feasible(n: int, k: int) -> _Feasible:
    X = cp.Variable((2 * n, 2 * n), PSD=True)
    A = cp.Parameter((k, 4 * n * n))
    U = cp.Parameter((2 * n, 2 * n), symmetric=True)
    objective = cp.Minimize(-cp.sum(cp.multiply(U, X)))
    constraints = [A @ cp.vec(X, order="F") <= 0, cp.trace(X) == 1]
    return _Feasible(cp.Problem(objective, constraints), X, A, U)


# SCS settings of the warm-started solves (every returned beamformer is verified exactly)
SCS_OPTS = {"eps_abs": 1e-6, "eps_rel": 1e-6, "max_iters": 20000}


def _solve(problem: cp.Problem, solver: str) -> str:
    """Solve with one solver (SCS warm-started from this problem's previous solve)."""
    opts: dict[str, Any] = SCS_OPTS if solver == "SCS" else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "solution may be inaccurate": we verify
            problem.solve(solver=solver, verbose=False, warm_start=solver == "SCS", **opts)
    except cp.error.SolverError:
        return "solver_error"
    return str(problem.status)


def _reset_warm_start(problem: cp.Problem) -> None:
    """Forget the previous solution so that results do not depend on earlier calls."""
    cache = getattr(problem, "_solver_cache", None)
    if isinstance(cache, dict):
        cache.clear()


class RealBackend:
    """Step-1 and step-2 solves on the cached real-valued CVXPY DPP programs.

    Parameters
    ----------
    G : complex ``(K, N)``
        Scaled channels ``g_i = sqrt(gamma_i) h_i``.
    solvers : tuple of str
        CVXPY solvers tried in order (the first status that is optimal, or infeasible for
        a feasibility test, is kept).
    """

    def __init__(
        self, G: NDArray[np.complex128], solvers: tuple[str, ...] = ("CLARABEL", "SCS")
    ) -> None:
        self.k, self.n = G.shape
        self.rows = constraint_rows(G)
        self.solves = 0
        self.failures = 0  # programs on which every solver failed
        self.solvers = solvers
        for solver in solvers:
            _reset_warm_start(sparse_program(self.n, self.k, solver).problem)
            _reset_warm_start(feasible_program(self.n, self.k, solver).problem)

    def zero_lin(self) -> NDArray[np.float64]:
        return np.zeros((2 * self.n, 2 * self.n))

    def linearize(self, X: Any, weight: float = 1.0) -> NDArray[np.float64]:
        """``weight * u u^T`` for the top eigenvector ``u`` of ``X`` (subgradient of
        ``||X||_2``)."""
        _, vecs = np.linalg.eigh((X + X.T) / 2)
        u = vecs[:, -1]
        return weight * np.outer(u, u)

    def gain_objective(self, mask: NDArray[np.bool_]) -> NDArray[np.float64]:
        """``U`` such that the step-2 objective ``-<U, X>`` is ``sum_{i in mask} <B_i, X>``:
        minimizing it maximizes the sum of the scaled gains ``sum_i gamma_i h_i^H M h_i``
        (at ``tr X = 1``)."""
        n2 = 2 * self.n
        U = -self.rows[mask].sum(axis=0).reshape(n2, n2).T
        out: NDArray[np.float64] = (U + U.T) / 2
        return out

    def _sparse(
        self, c: NDArray[np.float64], U: NDArray[np.float64], solvers: tuple[str, ...]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        for solver in solvers:
            prog = sparse_program(self.n, self.k, solver)
            prog.A.value = self.rows
            prog.c.value = c
            prog.U.value = U
            if _solve(prog.problem, solver) in _OK:
                x = np.maximum(np.asarray(prog.x.value, dtype=float), 0.0)
                return x, np.asarray(prog.X.value, dtype=float)
        self.failures += 1
        return None

    def _feasible(
        self, mask: NDArray[np.bool_], U: NDArray[np.float64], solvers: tuple[str, ...]
    ) -> NDArray[np.float64] | None:
        for solver in solvers:
            prog = feasible_program(self.n, self.k, solver)
            prog.A.value = self.rows * mask[:, None]
            prog.U.value = U
            status = _solve(prog.problem, solver)
            if status in _OK:
                return np.asarray(prog.X.value, dtype=float)
            if status in _INFEASIBLE:
                return None
        self.failures += 1
        return None

    def solve_sparse(
        self, c: NDArray[np.float64], U: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """Step-1 program; ``None`` if every solver failed (counted in ``failures``)."""
        self.solves += 1
        return self._sparse(c, U, self.solvers)

    def solve_feasible(
        self, mask: NDArray[np.bool_], U: NDArray[np.float64]
    ) -> NDArray[np.float64] | None:
        """Step-2 program for the devices in ``mask``; ``None`` if infeasible or if every
        solver failed (counted in ``failures``)."""
        self.solves += 1
        return self._feasible(mask, U, self.solvers)

    beam = staticmethod(beam_from_real)
    gap = staticmethod(rank_gap)
    covariance = staticmethod(complex_covariance)


@dataclass(frozen=True)
class _Pattern:
    """Static conic data of the two programs for one shape (Clarabel's standard form).

    Variables ``z = [svec(X), x]`` (``svec``: upper triangle by columns, off-diagonals
    times sqrt 2, as Clarabel's PSD triangle cone); rows: ``tr X = 1`` (zero cone), the K
    device constraints and ``x >= 0`` (nonnegative cone), ``svec(X)`` (PSD cone).
    """

    n: int
    k: int
    rows_i: NDArray[np.intp]
    cols_j: NDArray[np.intp]
    scale: NDArray[np.float64]
    sparse_A: Any  # scipy CSC with the full pattern of the device block
    sparse_slots: NDArray[np.intp]  # positions of the device block in sparse_A.data
    feasible_A: Any
    feasible_slots: NDArray[np.intp]


@functools.lru_cache(maxsize=32)
def _pattern(n: int, k: int) -> _Pattern:
    import scipy.sparse as sp

    n2 = 2 * n
    cols = [(i, j) for j in range(n2) for i in range(j + 1)]
    ri = np.array([c[0] for c in cols], dtype=np.intp)
    cj = np.array([c[1] for c in cols], dtype=np.intp)
    scale = np.where(ri == cj, 1.0, np.sqrt(2.0))
    d = len(cols)
    diag = (ri == cj).astype(float)

    def build(with_x: bool) -> tuple[Any, NDArray[np.intp]]:
        nx = k if with_x else 0
        blocks = [np.concatenate([diag, np.zeros(nx)])[None, :]]
        dev = np.hstack([np.full((k, d), np.nan), -np.eye(k)[:, :nx]])
        blocks.append(dev)
        if with_x:
            blocks.append(np.hstack([np.zeros((k, d)), -np.eye(k)]))
        blocks.append(np.hstack([-np.eye(d), np.zeros((d, nx))]))
        dense = np.vstack(blocks)
        coo = sp.coo_matrix(np.where(np.isnan(dense), 1.0, dense))
        A = sp.csc_matrix(coo)
        A.sort_indices()
        # slots of the device block (rows 1..k, first d columns) in CSC data order
        slots = np.empty((k, d), dtype=np.intp)
        for col in range(d):
            lo, hi = A.indptr[col], A.indptr[col + 1]
            for pos in range(lo, hi):
                r = A.indices[pos]
                if 1 <= r <= k:
                    slots[r - 1, col] = pos
        return A, slots

    sA, sslots = build(True)
    fA, fslots = build(False)
    return _Pattern(n, k, ri, cj, scale, sA, sslots, fA, fslots)


_CLARABEL_OK = {"Solved", "AlmostSolved"}
_CLARABEL_INFEASIBLE = {"PrimalInfeasible", "AlmostPrimalInfeasible"}


class ClarabelBackend(RealBackend):
    """The same programs handed to Clarabel directly, built once per call and updated.

    Each call of :func:`select_devices` builds two Clarabel solvers from the cached
    per-shape pattern (:func:`_pattern`) and then only updates the linear cost (the Ky Fan
    and rank linearizations) and the values of the device rows between solves, skipping
    CVXPY's per-solve canonicalization and solution unpacking.  A solve that Clarabel does
    not finish falls back to the CVXPY DPP program solved by SCS.
    """

    def __init__(self, G: NDArray[np.complex128]) -> None:
        super().__init__(G, solvers=("SCS",))
        self.pat = _pattern(self.n, self.k)
        pat = self.pat
        B = self.rows.reshape(self.k, 2 * self.n, 2 * self.n).transpose(0, 2, 1)
        self.svec_rows = B[:, pat.rows_i, pat.cols_j] * pat.scale  # <B_i, X> = row . svec X
        self._solvers: dict[str, Any] = {}

    def _svec(self, M: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = M[self.pat.rows_i, self.pat.cols_j] * self.pat.scale
        return out

    def _smat(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        n2 = 2 * self.n
        X = np.zeros((n2, n2))
        vals = v / self.pat.scale
        X[self.pat.rows_i, self.pat.cols_j] = vals
        X[self.pat.cols_j, self.pat.rows_i] = vals
        return X

    def _run(self, kind: str, q: NDArray[np.float64], A_data: NDArray[np.float64]) -> Any:
        import clarabel
        import scipy.sparse as sp

        solver = self._solvers.get(kind)
        if solver is None:
            pat = self.pat
            A = (pat.sparse_A if kind == "sparse" else pat.feasible_A).copy()
            A.data = A_data
            m = A.shape[0]
            b = np.zeros(m)
            b[0] = 1.0
            nonneg = 2 * self.k if kind == "sparse" else self.k
            cones = [
                clarabel.ZeroConeT(1),
                clarabel.NonnegativeConeT(nonneg),
                clarabel.PSDTriangleConeT(2 * self.n),
            ]
            settings = clarabel.DefaultSettings()
            settings.verbose = False
            settings.presolve_enable = False  # keeps the data updatable
            P = sp.csc_matrix((A.shape[1], A.shape[1]))
            solver = clarabel.DefaultSolver(P, q, A, b, cones, settings)
            self._solvers[kind] = solver
        else:
            solver.update(q=q, A=A_data)
        return solver.solve()

    def solve_sparse(
        self, c: NDArray[np.float64], U: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        self.solves += 1
        pat = self.pat
        data = pat.sparse_A.data.copy()
        data[pat.sparse_slots] = self.svec_rows
        q = np.concatenate([-self._svec(U), c])
        sol = self._run("sparse", q, data)
        if str(sol.status) in _CLARABEL_OK:
            z = np.asarray(sol.x)
            d = pat.rows_i.size
            return np.maximum(z[d:], 0.0), self._smat(z[:d])
        return self._sparse(c, U, self.solvers)

    def solve_feasible(
        self, mask: NDArray[np.bool_], U: NDArray[np.float64]
    ) -> NDArray[np.float64] | None:
        self.solves += 1
        pat = self.pat
        data = pat.feasible_A.data.copy()
        data[pat.feasible_slots] = self.svec_rows * mask[:, None]
        sol = self._run("feasible", -self._svec(U), data)
        status = str(sol.status)
        if status in _CLARABEL_OK:
            return self._smat(np.asarray(sol.x))
        if status in _CLARABEL_INFEASIBLE:
            return None
        return self._feasible(mask, U, self.solvers)


# ---- _methods/_two_step.py ----------------------------------------











#: Step 2 of a two-step method on the servable devices' scaled channels: the selection
#: (among those devices) and its beamformer.
Body = Callable[
    [SDPBackend, NDArray[np.complex128]],
    tuple[NDArray[np.bool_], NDArray[np.complex128] | None],
]


def make_backend(name: str, G: NDArray[np.complex128]) -> SDPBackend:
    """The backend ``"clarabel"`` (direct) or ``"cvxpy"`` (DPP programs) for ``G``."""


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


# ---- _methods/dc.py ----------------------------------------













BACKENDS = ("clarabel", "cvxpy")

#: Options of ``method="dc"``: name -> (default, check).
OPTIONS_DC: OptionSchema = {
    "max_inner": (5, partial(check_int, min_value=1)),
    "tol": (1e-3, partial(check_scalar, positive=True)),
    "rank_weight": (1.0, partial(check_scalar, positive=True)),
    "max_rank_iter": (20, partial(check_int, min_value=0)),
    "polish_samples": (30, partial(check_int, min_value=0)),
    "backend": ("clarabel", partial(check_choice, choices=BACKENDS)),
}
RANDOMIZED = True

#: The DC rank-one iteration stops when the rank gap falls by less than this fraction.
RANK_STALL = 1e-2
#: A lifted matrix whose relative rank gap is at most this is rank one.
RANK_ONE_TOL = 1e-9
#: Step 1 hands the l1 relaxation to step 2 when its slacks sum to at most this.
ZERO_SLACKS = 1e-9

#: Beamformer detection for the devices of a mask, from a relaxed solution ``X0``.
Detect = Callable[[NDArray[np.bool_], Lifted], NDArray[np.complex128] | None]


def select_dc(
    problem: SelectionProblem, options: Mapping[str, Any], rng: np.random.Generator | None
) -> MethodResult:
    """Device selection by the two-step DC framework (method ``"dc"``).

    Step 1 (:func:`sparsity_dc`) minimizes the DC representation of ``||x||_0`` and of the
    rank-one constraint over the lifted program with slacks ``x``; step 2 (:func:`step2`)
    orders the devices by ``x``, finds the largest prefix that passes the relaxation and
    then, by bisection, the largest prefix for which the DC rank-one program
    (:func:`rank_one_dc`) yields a beamformer, and adds back the devices that still fit.
    Only the servable devices (``||g_i|| >= 1``) enter the programs.

    Parameters
    ----------
    problem : SelectionProblem
        The validated input (scaled channels ``G``, shape ``(K, N)``).
    options : mapping
        :data:`OPTIONS`, checked and filled in.
    rng : numpy.random.Generator
        Gaussian draws among the starts of the beamformer polish.

    Returns
    -------
    MethodResult
        ``iterations``: convex programs solved (both steps).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air
       computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020,
       DOI 10.1109/TWC.2019.2961673: problem (12), the sparse and low-rank program
       (17)-(20), the DC program (29) and Algorithm 2 (the two-step framework).
    """
    assert rng is not None

    def body(
        backend: SDPBackend, G: NDArray[np.complex128]
    ) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
        x, whole = sparsity_dc(
            backend,
            max_inner=options["max_inner"],
            tol=options["tol"],
            rank_weight=options["rank_weight"],
        )
        tracker = BestServed(G)

        def detect(mask: NDArray[np.bool_], X0: Lifted) -> NDArray[np.complex128] | None:
            return rank_one_dc(
                backend,
                G,
                mask,
                X0,
                options["max_rank_iter"],
                rng,
                options["polish_samples"],
                tracker,
            )

        known = None if whole is None else {backend.k: whole}
        return step2(backend, G, x, detect, known, tracker=tracker)

    return run_two_step(problem, options["backend"], body)


def topk_indicator(x: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Subgradient of the Ky Fan k-norm at ``x >= 0``: 1 on the k largest entries."""
    s = np.zeros_like(x)
    if k > 0:
        s[np.argsort(-x, kind="stable")[:k]] = 1.0
    return s


def kyfan_gap(x: NDArray[np.float64], k: int) -> float:
    """``||x||_1 - |||x|||_k`` (0 iff ``x`` has at most ``k`` non-zeros), ``x >= 0``."""
    if k <= 0:
        return float(np.sum(x))
    return float(np.sum(np.sort(x)[: max(x.size - k, 0)]))


def sparsity_dc(
    backend: SDPBackend, *, max_inner: int, tol: float, rank_weight: float
) -> tuple[NDArray[np.float64], Lifted | None]:
    """Step 1 with the DC representation of ``||x||_0`` and of the rank-one constraint.

    For ``k = 0, 1, ...``: minimize ``||x||_1 - |||x|||_k + w (tr X - ||X||_2)`` by
    successive linearization of the concave parts (the Ky Fan subgradient is the indicator
    of the ``k`` largest entries, the spectral-norm subgradient ``u u^T``), warm-started
    from the previous ``k``, until the sparsity part ``||x||_1 - |||x|||_k`` is zero.
    The iteration starts from the ``l1`` relaxation; if its slacks are already zero, every
    device passes the relaxation and its solution (feasible for the whole set) is handed to
    step 2 instead of iterating on the rank alone here.

    Returns the final slack vector and, in that case, the relaxed solution of the whole
    set (else ``None``).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, IEEE Trans. Wireless Commun., 2020,
       DOI 10.1109/TWC.2019.2961673: the DC program (29) of step 1 of Algorithm 2.
    """
    k_dev = backend.k
    start = backend.solve_sparse(np.ones(k_dev), backend.zero_lin())
    if start is None:
        return np.zeros(k_dev), None
    x, X = start
    if float(np.sum(x)) <= ZERO_SLACKS:
        return x, X
    for k in range(k_dev + 1):
        prev = np.inf
        for _ in range(max_inner):
            c = 1.0 - topk_indicator(x, k)
            res = backend.solve_sparse(c, backend.linearize(X, rank_weight))
            if res is None:
                break
            x, X = res
            value = kyfan_gap(x, k) + rank_weight * backend.gap(X)
            if abs(prev - value) <= tol * (1.0 + abs(value)):
                break
            prev = value
        if kyfan_gap(x, k) <= tol:
            break
    return x, None


class BestServed:
    """The beamformer that serves the most devices among all candidates offered."""

    def __init__(self, G: NDArray[np.complex128]) -> None:
        self.G = G
        self.mask = np.zeros(G.shape[0], dtype=bool)
        self.m: NDArray[np.complex128] | None = None

    def offer(self, m: NDArray[np.complex128]) -> None:
        served = _kernels.margins(self.G, m) >= 1.0
        if served.sum() > self.mask.sum():
            self.mask, self.m = served, m


def polish(
    backend: SDPBackend,
    Gs: NDArray[np.complex128],
    X: Lifted,
    rng: np.random.Generator | None,
    samples: int,
    tracker: BestServed | None = None,
) -> NDArray[np.complex128] | None:
    """Beamformer candidates from the lifted ``X``, polished by the max-min SCA.

    Candidates: the top eigenvector and, if ``rng`` is given, the two best (largest
    smallest margin) of ``samples`` Gaussian draws ``m ~ CN(0, M)``.  Returns the first
    polished beamformer whose margins are all >= 1, else ``None``.  Every polished
    candidate is also offered to ``tracker``.
    """
    cands = [backend.beam(X)]
    if rng is not None and samples > 0:
        draws = gaussian_beamformers(rng, samples, backend.covariance(X))
        worst = candidate_margins(draws, Gs).min(axis=1)
        for i in np.argsort(-worst)[:2]:
            cands.append(np.ascontiguousarray(draws[i]))
    for m0 in cands:
        m, best = _kernels.maxmin_sca(Gs, m0.astype(np.complex128), SCA_OUTER, SCA_INNER, 1.0)
        if tracker is not None:
            tracker.offer(m)
        if best >= 1.0:
            return m
    return None


def rank_one_dc(
    backend: SDPBackend,
    G: NDArray[np.complex128],
    mask: NDArray[np.bool_],
    X0: Lifted,
    max_iter: int,
    rng: np.random.Generator | None = None,
    samples: int = 0,
    tracker: BestServed | None = None,
) -> NDArray[np.complex128] | None:
    """DC rank-one feasibility detection for the devices in ``mask``.

    Successively minimizes ``tr X - <u u^T, X>`` (``u``: top eigenvector of the previous
    iterate) over the relaxed feasible set, starting from the relaxed solution ``X0``.  At
    every iterate, beamformer candidates are polished by the max-min SCA and checked
    exactly (:func:`polish`; Gaussian draws only at the relaxed solution ``X0``); the first
    beamformer that serves every device is returned (``None`` if none is found once the
    iterate is rank one, the rank gap stalls -- falls by less than ``RANK_STALL``
    relative -- or ``max_iter`` programs were solved).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, IEEE Trans. Wireless Commun., 2020,
       DOI 10.1109/TWC.2019.2961673: the DC representation of the rank-one constraint in
       step 2 of Algorithm 2.
    """
    Gs = np.ascontiguousarray(G[mask])
    X = X0
    prev_gap = np.inf
    for it in range(max_iter + 1):
        m = polish(backend, Gs, X, rng if it == 0 else None, samples, tracker)
        if m is not None:
            return m
        gap = backend.gap(X)
        if it == max_iter or gap <= RANK_ONE_TOL or prev_gap - gap < RANK_STALL * prev_gap:
            break
        prev_gap = gap
        X_next = backend.solve_feasible(mask, backend.linearize(X))
        if X_next is None:
            break
        X = X_next
    return None


def add_back(
    G: NDArray[np.complex128],
    mask: NDArray[np.bool_],
    m: NDArray[np.complex128],
    order: NDArray[np.intp],
) -> tuple[NDArray[np.bool_], NDArray[np.complex128]]:
    """Greedily add the unselected devices (in ``order``) that a warm-started max-min SCA
    can serve together with the selected ones."""
    mask = mask.copy()
    for j in order:
        if mask[j]:
            continue
        mask[j] = True
        cand, best = _kernels.maxmin_sca(
            np.ascontiguousarray(G[mask]), m, SCA_OUTER, SCA_INNER, 1.0
        )
        if best >= 1.0:
            m = cand
        else:
            mask[j] = False
    return mask, m


def step2(
    backend: SDPBackend,
    G: NDArray[np.complex128],
    x: NDArray[np.float64],
    detect: Detect,
    known: dict[int, Lifted] | None = None,
    *,
    tracker: BestServed | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
    """Step 2: order the devices by ``x``, find the largest prefix that passes the
    relaxation (exact bisection), then bisect for the largest prefix for which ``detect``
    finds a beamformer (treating detection as monotone in the prefix, as true feasibility
    is).  If ``tracker`` saw a candidate that serves more devices than that prefix, its
    served set is taken instead.  The remaining devices that fit are then added
    (:func:`add_back`).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, IEEE Trans. Wireless Commun., 2020,
       DOI 10.1109/TWC.2019.2961673: step 2 of Algorithm 2 (feasibility detection over
       the prefixes of the ordered devices).
    """
    k = G.shape[0]
    order = order_devices(x, G)
    n_up, sols = largest_relaxed_prefix(backend, order, x, known)
    found: dict[int, NDArray[np.complex128] | None] = {}

    def test(n: int) -> bool:
        mask = prefix_mask(order, n)
        X0 = sols.get(n)
        if X0 is None:
            X0 = backend.solve_feasible(mask, backend.zero_lin())
        found[n] = None if X0 is None else detect(mask, X0)
        return found[n] is not None

    best = largest_passing(test, n_up, n_up)
    mask = prefix_mask(order, best)
    m = found.get(best) if best else None
    if tracker is not None and tracker.m is not None and tracker.mask.sum() > best:
        mask, m = tracker.mask.copy(), tracker.m
    if m is None:
        return np.zeros(k, dtype=bool), None
    return add_back(G, mask, m, order)


# ---- _methods/sdr.py ----------------------------------------













#: Options of ``method="sdr"``: name -> (default, check).
OPTIONS_SDR: OptionSchema = {
    "randomizations": (100, partial(check_int, min_value=1)),
    "backend": ("clarabel", partial(check_choice, choices=BACKENDS)),
}
RANDOMIZED = True


def select_sdr(
    problem: SelectionProblem, options: Mapping[str, Any], rng: np.random.Generator | None
) -> MethodResult:
    """Device selection by the semidefinite-relaxation baseline (method ``"sdr"``).

    Step 1 (:func:`sparsity_l1`) minimizes ``||x||_1`` over the relaxation of the lifted
    program (no rank term); step 2 (:func:`sdr_step2`) draws Gaussian candidates from the
    relaxed solutions of the ordered prefixes and keeps the set served by the best
    candidate.  Only the servable devices (``||g_i|| >= 1``) enter the programs.

    Parameters
    ----------
    problem : SelectionProblem
        The validated input (scaled channels ``G``, shape ``(K, N)``).
    options : mapping
        :data:`OPTIONS`, checked and filled in.
    rng : numpy.random.Generator
        The Gaussian randomization.

    Returns
    -------
    MethodResult
        ``iterations``: convex programs solved (both steps).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air
       computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020,
       DOI 10.1109/TWC.2019.2961673: problem (12) and the sparse and low-rank program
       (17)-(20), here relaxed (l1 norm, rank constraint dropped) as in the semidefinite
       relaxation baseline against which Algorithm 2 is compared.
    .. [2] Z.-Q. Luo, W.-K. Ma, A. M.-C. So, Y. Ye, S. Zhang, "Semidefinite relaxation of
       quadratic optimization problems," IEEE Signal Process. Mag., vol. 27, no. 3,
       pp. 20-34, 2010, DOI 10.1109/MSP.2010.936019 (Gaussian randomization).
    """
    assert rng is not None

    def body(
        backend: SDPBackend, G: NDArray[np.complex128]
    ) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
        return sdr_step2(backend, G, sparsity_l1(backend), rng, options["randomizations"])

    return run_two_step(problem, options["backend"], body)


def sparsity_l1(backend: SDPBackend) -> NDArray[np.float64]:
    """Step 1 of the SDR baseline: the slacks of ``min ||x||_1`` over the relaxation
    (all zeros if every solver failed)."""
    res = backend.solve_sparse(np.ones(backend.k), backend.zero_lin())
    if res is None:
        return np.zeros(backend.k)
    return res[0]


def sdr_step2(
    backend: SDPBackend,
    G: NDArray[np.complex128],
    x: NDArray[np.float64],
    rng: np.random.Generator,
    samples: int,
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
    """Step 2 of the SDR baseline with Gaussian randomization.

    Devices are ordered by ``x``; from the largest prefix that passes the relaxation
    downwards, candidates ``m`` are drawn from the relaxed solution (and, if none serves the
    prefix, from the relaxed solution maximizing the sum of scaled gains, see
    :meth:`~edgeopt.aircomp._sdp.RealBackend.gain_objective`).  The selection is the set of
    devices served by the best candidate seen (the most devices, over all ``K``); the scan
    stops at the first prefix that a candidate serves entirely.

    References
    ----------
    .. [1] Z.-Q. Luo, W.-K. Ma, A. M.-C. So, Y. Ye, S. Zhang, IEEE Signal Process. Mag.,
       2010, DOI 10.1109/MSP.2010.936019 (Gaussian randomization from a relaxed solution).
    """
    k = G.shape[0]
    order = order_devices(x, G)
    n_up, sols = largest_relaxed_prefix(backend, order, x)
    best_mask = np.zeros(k, dtype=bool)
    best_m: NDArray[np.complex128] | None = None
    for n in range(n_up, 0, -1):
        mask = prefix_mask(order, n)
        done = False
        for attempt in range(2):
            if attempt == 0:
                X = sols.get(n)
                if X is None:
                    X = backend.solve_feasible(mask, backend.zero_lin())
            else:
                X = backend.solve_feasible(mask, backend.gain_objective(mask))
            if X is None:
                continue
            draws = gaussian_beamformers(rng, samples, backend.covariance(X))
            cands = np.vstack([backend.beam(X)[None, :], draws])
            served = candidate_margins(cands, G) >= 1.0
            counts = served.sum(axis=1)
            i = int(np.argmax(counts))
            if counts[i] > best_mask.sum():
                best_mask, best_m = served[i].copy(), cands[i] / np.linalg.norm(cands[i])
            if np.any(served[:, mask].all(axis=1)):
                done = True
                break
        if done:
            break
    return best_mask, best_m


def run_old(method: str, h: np.ndarray, gamma: float, rng: Any, power: float = 1.0, noise: float = 1.0):
    """Old ``dc``/``sdr`` on channels ``h`` with unit weights (no exact-check repair: the
    benchmark verifies the returned selection itself).  Returns (selected, beamformer, programs)."""
    w = np.ones(h.shape[0])
    G = np.sqrt(gamma * power / noise) * h  # unit weights: no overflow, no cap needed here
    problem = SelectionProblem(h, np.ascontiguousarray(G), power, noise, gamma, w)
    spec = OPTIONS_DC if method == "dc" else OPTIONS_SDR
    opts = {k: v[0] for k, v in spec.items()}
    fn = select_dc if method == "dc" else select_sdr
    res = fn(problem, opts, np.random.default_rng(rng))
    return res.selected, res.beamformer, res.iterations
