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

``c`` (the Ky Fan subgradient complement), ``U`` (the rank linearization) and the stacked
constraint rows are CVXPY Parameters, so each program is canonicalized once per shape
``(N, K)`` and then solved many times (disciplined parametrized programming).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

_SOLVERS = ("CLARABEL", "SCS")
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


@functools.lru_cache(maxsize=32)
def sparse_program(n: int, k: int) -> _Sparse:
    """The step-1 program for ``n`` antennas and ``k`` devices (cached, DPP)."""
    X = cp.Variable((2 * n, 2 * n), PSD=True)
    x = cp.Variable(k, nonneg=True)
    A = cp.Parameter((k, 4 * n * n))
    c = cp.Parameter(k, nonneg=True)
    U = cp.Parameter((2 * n, 2 * n), symmetric=True)
    objective = cp.Minimize(c @ x - cp.sum(cp.multiply(U, X)))
    constraints = [A @ cp.vec(X, order="F") <= x, cp.trace(X) == 1]
    return _Sparse(cp.Problem(objective, constraints), X, x, A, c, U)


@functools.lru_cache(maxsize=32)
def feasible_program(n: int, k: int) -> _Feasible:
    """The step-2 program for ``n`` antennas and ``k`` devices (cached, DPP)."""
    X = cp.Variable((2 * n, 2 * n), PSD=True)
    A = cp.Parameter((k, 4 * n * n))
    U = cp.Parameter((2 * n, 2 * n), symmetric=True)
    objective = cp.Minimize(-cp.sum(cp.multiply(U, X)))
    constraints = [A @ cp.vec(X, order="F") <= 0, cp.trace(X) == 1]
    return _Feasible(cp.Problem(objective, constraints), X, A, U)


def _solve(problem: cp.Problem) -> str:
    """Solve with Clarabel, falling back to SCS; returns the CVXPY status."""
    status = "solver_error"
    for solver in _SOLVERS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "solution may be inaccurate": we verify
                # no warm start: SCS would start from the previous solve (order-dependent)
                problem.solve(solver=solver, verbose=False, warm_start=False)
        except cp.error.SolverError:
            continue
        status = str(problem.status)
        if status in _OK or status in _INFEASIBLE:
            return status
    return status


class RealBackend:
    """Step-1 and step-2 solves on the cached real-valued DPP programs.

    Parameters
    ----------
    G : complex ``(K, N)``
        Scaled channels ``g_i = sqrt(gamma_i) h_i``.
    """

    def __init__(self, G: NDArray[np.complex128]) -> None:
        self.k, self.n = G.shape
        self.rows = constraint_rows(G)
        self.solves = 0

    def zero_lin(self) -> NDArray[np.float64]:
        return np.zeros((2 * self.n, 2 * self.n))

    def linearize(self, X: Any, weight: float = 1.0) -> NDArray[np.float64]:
        """``weight * u u^T`` for the top eigenvector ``u`` of ``X`` (subgradient of
        ``||X||_2``)."""
        _, vecs = np.linalg.eigh((X + X.T) / 2)
        u = vecs[:, -1]
        return weight * np.outer(u, u)

    def solve_sparse(
        self, c: NDArray[np.float64], U: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        prog = sparse_program(self.n, self.k)
        prog.A.value = self.rows
        prog.c.value = c
        prog.U.value = U
        self.solves += 1
        if _solve(prog.problem) not in _OK:
            return None
        x = np.maximum(np.asarray(prog.x.value, dtype=float), 0.0)
        return x, np.asarray(prog.X.value, dtype=float)

    def solve_feasible(
        self, mask: NDArray[np.bool_], U: NDArray[np.float64]
    ) -> NDArray[np.float64] | None:
        prog = feasible_program(self.n, self.k)
        prog.A.value = self.rows * mask[:, None]
        prog.U.value = U
        self.solves += 1
        if _solve(prog.problem) not in _OK:
            return None
        return np.asarray(prog.X.value, dtype=float)

    beam = staticmethod(beam_from_real)
    gap = staticmethod(rank_gap)
    covariance = staticmethod(complex_covariance)
