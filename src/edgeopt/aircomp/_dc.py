"""The two-step DC framework of Yang et al. (2020) over an SDP backend.

The algorithm is written against a small backend protocol (``solve_sparse``,
``solve_feasible``, ``linearize``, ``zero_lin``, ``beam``, ``gap``, ``covariance``) so the
same iteration runs on the cached real-valued DPP programs (:mod:`._sdp`) and, in the
benchmark, on a naive complex-valued CVXPY formulation rebuilt at every iteration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt.aircomp import _kernels

# SCA polish of extracted beamformers (cheap, monotone in the smallest margin)
SCA_OUTER = 60
SCA_INNER = 120


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


def order_devices(x: NDArray[np.float64], G: NDArray[np.complex128]) -> NDArray[np.intp]:
    """Devices by increasing slack ``x`` (ties: stronger scaled channel first)."""
    strength = np.sum(np.abs(G) ** 2, axis=1)
    return np.lexsort((-strength, np.round(x, 7)))


def sparsity_dc(
    backend: Any, *, max_inner: int, tol: float, rank_weight: float
) -> tuple[NDArray[np.float64], int]:
    """Step 1 with the DC representation of ``||x||_0`` and of the rank-one constraint.

    For ``k = 0, 1, ...``: minimize ``||x||_1 - |||x|||_k + w (tr X - ||X||_2)`` by
    successive linearization of the concave parts (the Ky Fan subgradient is the indicator
    of the ``k`` largest entries, the spectral-norm subgradient ``u u^T``), warm-started
    from the previous ``k``, until the sparsity part ``||x||_1 - |||x|||_k`` is zero.
    Returns the final slack vector and the number of solved programs.
    """
    k_dev = backend.k
    start = backend.solve_sparse(np.ones(k_dev), backend.zero_lin())
    solves = 1
    if start is None:
        return np.zeros(k_dev), solves
    x, X = start
    for k in range(k_dev + 1):
        prev = np.inf
        for _ in range(max_inner):
            c = 1.0 - topk_indicator(x, k)
            res = backend.solve_sparse(c, backend.linearize(X, rank_weight))
            solves += 1
            if res is None:
                break
            x, X = res
            value = kyfan_gap(x, k) + rank_weight * backend.gap(X)
            if abs(prev - value) <= tol * (1.0 + abs(value)):
                break
            prev = value
        if kyfan_gap(x, k) <= tol:
            break
    return x, solves


def sparsity_l1(backend: Any) -> tuple[NDArray[np.float64], int]:
    """Step 1 of the SDR baseline: ``min ||x||_1`` over the semidefinite relaxation."""
    res = backend.solve_sparse(np.ones(backend.k), backend.zero_lin())
    if res is None:
        return np.zeros(backend.k), 1
    return res[0], 1


def largest_sdr_feasible_prefix(
    backend: Any, order: NDArray[np.intp], guess: int
) -> tuple[int, dict[int, Any], int]:
    """Largest ``n`` whose prefix ``order[:n]`` passes the SDR test, by bisection.

    SDR feasibility is monotone in the prefix (a subset of a relaxed-feasible set is
    relaxed-feasible), so bisection is exact.  Returns ``n``, the relaxed solutions found
    (by prefix length) and the number of solved programs.
    """
    k = order.size
    sols: dict[int, Any] = {}
    solves = 0

    def test(n: int) -> bool:
        nonlocal solves
        mask = np.zeros(k, dtype=bool)
        mask[order[:n]] = True
        X = backend.solve_feasible(mask, backend.zero_lin())
        solves += 1
        if X is None:
            return False
        sols[n] = X
        return True

    lo, hi = 0, k  # prefix lo is known feasible; the answer is in [lo, hi]
    guess = min(max(guess, 1), k)
    if test(guess):
        lo = guess
    else:
        hi = guess - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if test(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo, sols, solves


def rank_one_dc(
    backend: Any, G: NDArray[np.complex128], mask: NDArray[np.bool_], X0: Any, max_iter: int
) -> tuple[NDArray[np.complex128] | None, int]:
    """DC rank-one feasibility detection for the devices in ``mask``.

    Successively minimizes ``tr X - <u u^T, X>`` (``u``: top eigenvector of the previous
    iterate) over the relaxed feasible set, starting from the relaxed solution ``X0``.  At
    every iterate the top eigenvector is polished by the max-min SCA and checked exactly;
    the first beamformer that serves every device is returned (``None`` if none is found
    once the iterate is rank one or ``max_iter`` programs were solved).
    """
    Gs = np.ascontiguousarray(G[mask])
    X = X0
    solves = 0
    for it in range(max_iter + 1):
        m, best = _kernels.maxmin_sca(Gs, backend.beam(X), SCA_OUTER, SCA_INNER, 1.0)
        if best >= 1.0:
            return m, solves
        if it == max_iter or backend.gap(X) <= 1e-9:
            break
        X = backend.solve_feasible(mask, backend.linearize(X))
        solves += 1
        if X is None:
            break
    return None, solves


def gaussian_randomization(
    backend: Any,
    G: NDArray[np.complex128],
    mask: NDArray[np.bool_],
    X: Any,
    rng: np.random.Generator,
    samples: int,
) -> NDArray[np.complex128] | None:
    """SDR + Gaussian randomization: draw ``m ~ CN(0, M)`` and keep the best candidate."""
    M = backend.covariance(X)
    vals, vecs = np.linalg.eigh(M)
    root = vecs * np.sqrt(np.maximum(vals, 0.0))
    n = M.shape[0]
    z = (rng.standard_normal((samples, n)) + 1j * rng.standard_normal((samples, n))) / np.sqrt(2)
    cands = z @ root.T
    cands = np.vstack([backend.beam(X)[None, :], cands])
    Gs = G[mask]
    norms = np.sum(np.abs(cands) ** 2, axis=1)
    marg = np.abs(np.conj(cands) @ Gs.T) ** 2 / np.maximum(norms, 1e-300)[:, None]
    worst = marg.min(axis=1)
    best = int(np.argmax(worst))
    if worst[best] >= 1.0:
        return cands[best] / np.linalg.norm(cands[best])
    return None


def two_step(
    backend: Any,
    G: NDArray[np.complex128],
    x: NDArray[np.float64],
    guess: int,
    detect: Callable[[NDArray[np.bool_], Any], tuple[NDArray[np.complex128] | None, int]],
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None, int]:
    """Step 2: order by ``x``, bisection on the SDR test, then scan down with ``detect``."""
    k = G.shape[0]
    order = order_devices(x, G)
    n_up, sols, solves = largest_sdr_feasible_prefix(backend, order, guess)
    for n in range(n_up, 0, -1):
        mask = np.zeros(k, dtype=bool)
        mask[order[:n]] = True
        X0 = sols.get(n)
        if X0 is None:
            X0 = backend.solve_feasible(mask, backend.zero_lin())
            solves += 1
            if X0 is None:
                continue
        m, used = detect(mask, X0)
        solves += used
        if m is not None:
            return mask, m, solves
    return np.zeros(k, dtype=bool), None, solves
