"""Parameterized (DPP) semidefinite programs of the two-step device selection, built once.

The Hermitian lifted beamformer ``M = m m^H`` (``N x N``) is represented by a real symmetric
``2N x 2N`` matrix ``X``: for ``v = [Re m; Im m]`` and ``X = v v^T`` one has
``tr X = ||m||^2`` and ``tr(R(g g^H) X) = |m^H g|^2`` with the real embedding
``R(H) = [[Re H, -Im H], [Im H, Re H]]``.  The real relaxation has the same optimal value as
the complex one (``M = X11 + X22 + j (X21 - X12)`` maps one onto the other), and a rank-one
``X`` gives a beamformer directly, ``m = v[:N] + j v[N:]``.

Both programs fix ``tr X = 1``: the constraints are homogeneous and the objectives
positively homogeneous, so ``tr X >= 1`` (the paper's normalization) is active at an optimum
and fixing it only removes the scale ambiguity.  With ``tr X = 1`` the rank penalty
``tr X - ||X||_2`` linearized at ``u`` becomes ``1 - <u u^T, X>``.

* sparse program (step 1):  ``min c^T x - <U, X>``  s.t.  ``<I - R_i, X> <= x_i``,
  ``x >= 0``, ``tr X = 1``, ``X >= 0``;
* feasibility program (step 2):  ``min -<U, X>``  s.t.  ``mask_i <I - R_i, X> <= 0``,
  ``tr X = 1``, ``X >= 0``.

Two backends solve them:

* :class:`RealBackend`: CVXPY programs in which ``c`` (the Ky Fan subgradient complement),
  ``U`` (the rank linearization) and the stacked constraint rows are Parameters, so each
  program is canonicalized once per shape ``(N, K)``, solver and thread, and then solved
  many times (disciplined parametrized programming); Clarabel first, SCS as fallback (SCS
  warm-started within one call, reset between calls so results do not depend on history);
* :class:`ClarabelBackend` (the default of :func:`~edgeopt.aircomp.select_devices`): the
  same programs in Clarabel's standard form, built per solve as sparse blocks on a working
  set of devices (exact row reductions and constraint generation; no CVXPY work per
  solve); a solve it does not finish falls back to :class:`RealBackend` with SCS.

Thread safety: the CVXPY programs are mutated (their Parameters are set) before every
solve, so they are cached per thread (``threading.local``): two threads never share a
program.  :class:`ClarabelBackend` builds its programs per call.
A program on which every solver fails is counted in the backend's ``failures``.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

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
        self._fresh: set[tuple[str, str]] = set()

    def _program(self, kind: str, solver: str) -> Any:
        """This thread's cached program; its warm start is forgotten at this backend's
        first use of it, so results do not depend on earlier calls (programs are built
        only when used: the direct backend needs them only as a fallback)."""
        build = sparse_program if kind == "sparse" else feasible_program
        prog = build(self.n, self.k, solver)
        if (kind, solver) not in self._fresh:
            _reset_warm_start(prog.problem)
            self._fresh.add((kind, solver))
        return prog

    def zero_lin(self) -> NDArray[np.float64]:
        return np.zeros((2 * self.n, 2 * self.n))

    def linearize(self, X: Any, weight: float = 1.0) -> NDArray[np.float64]:
        """``weight * u u^T`` for the top eigenvector ``u`` of ``X`` (subgradient of
        ``||X||_2``)."""
        _, vecs = np.linalg.eigh((X + X.T) / 2)
        u = vecs[:, -1]
        return weight * np.outer(u, u)

    def _sparse(
        self, c: NDArray[np.float64], U: NDArray[np.float64], solvers: tuple[str, ...]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        for solver in solvers:
            prog = self._program("sparse", solver)
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
            prog = self._program("feasible", solver)
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


@functools.lru_cache(maxsize=32)
def _svec_layout(n: int) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Row and column indices and scale of ``svec`` for ``2n x 2n`` matrices (upper triangle
    by columns, off-diagonals times sqrt 2, as Clarabel's PSD triangle cone)."""
    n2 = 2 * n
    cols = [(i, j) for j in range(n2) for i in range(j + 1)]
    ri = np.array([c[0] for c in cols], dtype=np.intp)
    cj = np.array([c[1] for c in cols], dtype=np.intp)
    scale = np.where(ri == cj, 1.0, np.sqrt(2.0))
    return ri, cj, scale


_CLARABEL_OK = {"Solved", "AlmostSolved"}
_CLARABEL_INFEASIBLE = {"PrimalInfeasible", "AlmostPrimalInfeasible"}


#: Constraint generation: a device left out of a program is added when its row value
#: ``<I - R_i, X>`` at the program's solution exceeds this (``tr X = 1``, so it is the
#: relative violation of its MSE constraint; well below the verified tolerance 1e-6).
VIOLATION_TOL = 1e-8
#: Devices whose row value at the reference solution is above ``-WS_SLACK`` start in the
#: working set (a margin ``tr(R_i X)`` below ``1 + WS_SLACK``) ...
WS_SLACK = 0.25
#: ... and at least this many devices per entry of ``svec X`` (those with the largest
#: row values).  One per entry: at K = 200 (N = 6) about a fifth fewer rows per program
#: than two, the same programs solved and the same selections on the measured draws;
#: the rows left out are generated back when violated.
WS_PER_ENTRY = 1
#: After this many rounds of constraint generation the program is solved with every row.
WS_ROUNDS = 4


#: A Clarabel solve that ends without a solution or a certificate (numerical error,
#: insufficient progress) is repeated once with this static regularization of the KKT
#: system (Clarabel's default is 1e-8) before the SCS fallback.
RETRY_REGULARIZATION = 1e-7


class ClarabelBackend(RealBackend):
    """The same programs handed to Clarabel directly, solved on working sets of devices.

    Each program is laid out in Clarabel's standard form (variables ``[svec X, x]``; rows
    ``tr X = 1``, the device rows, ``x >= 0`` and ``svec X`` in the PSD triangle cone) with
    only the rows that can matter, built as sparse blocks (never a ``K x K`` matrix):

    * exact reductions: in the sparse program a device with cost ``c_i = 0`` (one of the
      ``k`` largest slacks of the Ky Fan linearization) has a free slack, so its row never
      binds and it is left out (its slack is reported as ``max(0, <I - R_i, X>)``, an
      optimal value); in the feasibility program only the devices of the mask have rows;
    * constraint generation: the program is solved on a working set (the devices whose
      row value at the previous solution is within :data:`WS_SLACK` of binding, at least
      :data:`WS_PER_ENTRY` per entry of ``svec X``); every left-out row is then evaluated
      at the solution (``O(K N^2)``) and the violated ones are added, until none is
      violated.  A program on fewer rows is a relaxation of the full one, so a solution
      that satisfies every left-out row is optimal for the full program, and an infeasible
      reduced program proves the full one infeasible.

    A solve that Clarabel does not finish falls back to the CVXPY DPP program (all rows)
    solved by SCS.  ``solves`` counts programs; ``clarabel_solves`` the Clarabel solves
    (one per round of constraint generation) and ``rows_solved`` their device rows.
    """

    def __init__(self, G: NDArray[np.complex128]) -> None:
        super().__init__(G, solvers=("SCS",))
        self.rows_i, self.cols_j, self.scale = _svec_layout(self.n)
        B = self.rows.reshape(self.k, 2 * self.n, 2 * self.n).transpose(0, 2, 1)
        self.svec_rows = B[:, self.rows_i, self.cols_j] * self.scale  # <B_i, X> = row . svec X
        self.ref: NDArray[np.float64] | None = None  # svec of the last solution
        self.clarabel_solves = 0
        self.rows_solved = 0

    def _svec(self, M: NDArray[np.float64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = M[self.rows_i, self.cols_j] * self.scale
        return out

    def _smat(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        n2 = 2 * self.n
        X = np.zeros((n2, n2))
        vals = v / self.scale
        X[self.rows_i, self.cols_j] = vals
        X[self.cols_j, self.rows_i] = vals
        return X

    def _matrix(self, rows: NDArray[np.intp], with_x: bool) -> Any:
        """The constraint matrix (CSC) for the device ``rows``, assembled column by column
        (the ``svec X`` columns from a dense ``(1 + r [+ r] + d, d)`` block, then one
        column per slack with its two entries)."""
        import scipy.sparse as sp

        d = self.rows_i.size
        r = rows.size
        left = np.zeros((1 + r + d, d))
        left[0] = self.rows_i == self.cols_j
        left[1 : 1 + r] = self.svec_rows[rows]
        left[1 + r + np.arange(d), np.arange(d)] = -1.0
        block = sp.csc_matrix(left)
        if not with_x:
            return block
        height = 1 + 2 * r + d
        block.indices[block.indices > r] += r  # the PSD rows go below the slack rows
        slack_rows = np.empty(2 * r, dtype=block.indices.dtype)
        slack_rows[0::2] = 1 + np.arange(r)
        slack_rows[1::2] = 1 + r + np.arange(r)
        indptr = np.concatenate([block.indptr, block.nnz + 2 * np.arange(1, r + 1)])
        return sp.csc_matrix(
            (
                np.concatenate([block.data, -np.ones(2 * r)]),
                np.concatenate([block.indices, slack_rows]),
                indptr.astype(block.indices.dtype),
            ),
            shape=(height, d + r),
        )

    def _run(self, kind: str, q: NDArray[np.float64], A: Any) -> Any:
        """One Clarabel solve of the ``kind`` (``"sparse"`` or ``"feasible"``) program."""
        import clarabel
        import scipy.sparse as sp

        d = self.rows_i.size
        r = A.shape[0] - 1 - d
        if kind == "sparse":
            r //= 2
        b = np.zeros(A.shape[0])
        b[0] = 1.0
        cones = [clarabel.ZeroConeT(1)]
        nonneg = 2 * r if kind == "sparse" else r
        if nonneg:
            cones.append(clarabel.NonnegativeConeT(nonneg))
        cones.append(clarabel.PSDTriangleConeT(2 * self.n))
        P = sp.csc_matrix((A.shape[1], A.shape[1]))
        for reg in (None, RETRY_REGULARIZATION):
            settings = clarabel.DefaultSettings()
            settings.verbose = False
            if reg is not None:
                settings.static_regularization_constant = reg
            self.clarabel_solves += 1
            self.rows_solved += r
            sol = clarabel.DefaultSolver(P, q, A, b, cones, settings).solve()
            status = str(sol.status)
            if status in _CLARABEL_OK or status in _CLARABEL_INFEASIBLE:
                break
        return sol

    def _start(self, cand: NDArray[np.intp]) -> NDArray[np.bool_]:
        """The initial working set among the candidate devices ``cand`` (a mask over them)."""
        if self.ref is None:
            return np.ones(cand.size, dtype=bool)
        vals = self.svec_rows[cand] @ self.ref
        keep = vals > -WS_SLACK
        least = min(cand.size, WS_PER_ENTRY * self.rows_i.size)
        if keep.sum() < least:
            keep[np.argsort(-vals, kind="stable")[:least]] = True
        out: NDArray[np.bool_] = keep
        return out

    def solve_sparse(
        self, c: NDArray[np.float64], U: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        self.solves += 1
        d = self.rows_i.size
        cand = np.flatnonzero(c > 0)
        inw = self._start(cand)
        for rnd in range(WS_ROUNDS + 1):
            if rnd == WS_ROUNDS:
                inw[:] = True
            rows = cand[inw]
            q = np.concatenate([-self._svec(U), c[rows]])
            sol = self._run("sparse", q, self._matrix(rows, True))
            if str(sol.status) not in _CLARABEL_OK:
                return self._sparse(c, U, self.solvers)
            z = np.asarray(sol.x)
            vals = self.svec_rows[cand] @ z[:d]
            viol = ~inw & (vals > VIOLATION_TOL)
            if not viol.any():
                break
            inw |= viol
        self.ref = z[:d]
        x = np.maximum(self.svec_rows @ z[:d], 0.0)  # optimal slacks of the rows left out
        x[rows] = np.maximum(z[d:], 0.0)
        return x, self._smat(z[:d])

    def solve_feasible(
        self, mask: NDArray[np.bool_], U: NDArray[np.float64]
    ) -> NDArray[np.float64] | None:
        self.solves += 1
        d = self.rows_i.size
        cand = np.flatnonzero(mask)
        inw = self._start(cand)
        for rnd in range(WS_ROUNDS + 1):
            if rnd == WS_ROUNDS:
                inw[:] = True
            sol = self._run("feasible", -self._svec(U), self._matrix(cand[inw], False))
            status = str(sol.status)
            if status in _CLARABEL_INFEASIBLE:
                return None  # a relaxation of the full program is infeasible
            if status not in _CLARABEL_OK:
                return self._feasible(mask, U, self.solvers)
            z = np.asarray(sol.x)
            viol = ~inw & (self.svec_rows[cand] @ z[:d] > VIOLATION_TOL)
            if not viol.any():
                break
            inw |= viol
        self.ref = z[:d]
        return self._smat(z[:d])
