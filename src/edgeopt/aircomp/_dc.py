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
SCA_OUTER = 30
SCA_INNER = 40
# the DC rank-one iteration stops when the rank gap falls by less than this fraction
RANK_STALL = 1e-2


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
) -> tuple[NDArray[np.float64], int, Any]:
    """Step 1 with the DC representation of ``||x||_0`` and of the rank-one constraint.

    For ``k = 0, 1, ...``: minimize ``||x||_1 - |||x|||_k + w (tr X - ||X||_2)`` by
    successive linearization of the concave parts (the Ky Fan subgradient is the indicator
    of the ``k`` largest entries, the spectral-norm subgradient ``u u^T``), warm-started
    from the previous ``k``, until the sparsity part ``||x||_1 - |||x|||_k`` is zero.
    The iteration starts from the ``l1`` relaxation; if its slacks are already zero, every
    device passes the relaxation and its solution (feasible for the whole set) is handed to
    step 2 instead of iterating on the rank alone here.

    Returns the final slack vector, the number of solved programs and, in that case, the
    relaxed solution of the whole set (else ``None``).
    """
    k_dev = backend.k
    start = backend.solve_sparse(np.ones(k_dev), backend.zero_lin())
    solves = 1
    if start is None:
        return np.zeros(k_dev), solves, None
    x, X = start
    if float(np.sum(x)) <= 1e-9:
        return x, solves, X
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
    return x, solves, None


def sparsity_l1(backend: Any) -> tuple[NDArray[np.float64], int]:
    """Step 1 of the SDR baseline: ``min ||x||_1`` over the semidefinite relaxation."""
    res = backend.solve_sparse(np.ones(backend.k), backend.zero_lin())
    if res is None:
        return np.zeros(backend.k), 1
    return res[0], 1


def largest_sdr_feasible_prefix(
    backend: Any, order: NDArray[np.intp], guess: int, known: dict[int, Any] | None = None
) -> tuple[int, dict[int, Any], int]:
    """Largest ``n`` whose prefix ``order[:n]`` passes the SDR test, by bisection.

    SDR feasibility is monotone in the prefix (a subset of a relaxed-feasible set is
    relaxed-feasible), so bisection is exact.  ``known`` holds relaxed solutions already
    found (by prefix length).  Returns ``n``, the relaxed solutions found and the number of
    solved programs.
    """
    k = order.size
    sols: dict[int, Any] = dict(known or {})
    solves = 0

    def test(n: int) -> bool:
        nonlocal solves
        if n in sols:
            return True
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
    backend: Any,
    Gs: NDArray[np.complex128],
    X: Any,
    rng: np.random.Generator | None,
    samples: int,
    tracker: BestServed | None = None,
) -> NDArray[np.complex128] | None:
    """Beamformer candidates from the lifted ``X``, polished by the max-min SCA.

    Candidates: the top eigenvector and, if ``rng`` is given, ``samples`` Gaussian draws
    ``m ~ CN(0, M)``; the three with the largest smallest margin are polished.  Returns
    the first polished beamformer whose margins are all >= 1, else ``None``.  Every
    polished candidate is also offered to ``tracker``.
    """
    cands = [backend.beam(X)]
    if rng is not None and samples > 0:
        M = backend.covariance(X)
        vals, vecs = np.linalg.eigh(M)
        root = vecs * np.sqrt(np.maximum(vals, 0.0))
        n = M.shape[0]
        z = (rng.standard_normal((samples, n)) + 1j * rng.standard_normal((samples, n))) / np.sqrt(
            2
        )
        draws = z @ root.T
        norms = np.maximum(np.sum(np.abs(draws) ** 2, axis=1), 1e-300)
        worst = (np.abs(np.conj(draws) @ Gs.T) ** 2 / norms[:, None]).min(axis=1)
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
    backend: Any,
    G: NDArray[np.complex128],
    mask: NDArray[np.bool_],
    X0: Any,
    max_iter: int,
    rng: np.random.Generator | None = None,
    samples: int = 0,
    tracker: BestServed | None = None,
) -> tuple[NDArray[np.complex128] | None, int]:
    """DC rank-one feasibility detection for the devices in ``mask``.

    Successively minimizes ``tr X - <u u^T, X>`` (``u``: top eigenvector of the previous
    iterate) over the relaxed feasible set, starting from the relaxed solution ``X0``.  At
    every iterate, beamformer candidates are polished by the max-min SCA and checked
    exactly (:func:`polish`; Gaussian draws only at the relaxed solution ``X0``); the first
    beamformer that serves every device is returned (``None`` if none is found once the
    iterate is rank one, the rank gap stalls -- falls by less than ``RANK_STALL``
    relative -- or ``max_iter`` programs were solved).
    """
    Gs = np.ascontiguousarray(G[mask])
    X = X0
    solves = 0
    prev_gap = np.inf
    for it in range(max_iter + 1):
        m = polish(backend, Gs, X, rng if it == 0 else None, samples, tracker)
        if m is not None:
            return m, solves
        gap = backend.gap(X)
        if it == max_iter or gap <= 1e-9 or prev_gap - gap < RANK_STALL * prev_gap:
            break
        prev_gap = gap
        X = backend.solve_feasible(mask, backend.linearize(X))
        solves += 1
        if X is None:
            break
    return None, solves


def gaussian_candidates(
    backend: Any, X: Any, rng: np.random.Generator, samples: int
) -> NDArray[np.complex128]:
    """The top eigenvector of the relaxed ``X`` and ``samples`` draws ``m ~ CN(0, M)``."""
    M = backend.covariance(X)
    vals, vecs = np.linalg.eigh(M)
    root = vecs * np.sqrt(np.maximum(vals, 0.0))
    n = M.shape[0]
    z = (rng.standard_normal((samples, n)) + 1j * rng.standard_normal((samples, n))) / np.sqrt(2)
    out: NDArray[np.complex128] = np.vstack([backend.beam(X)[None, :], z @ root.T])
    return out


def sdr_step2(
    backend: Any,
    G: NDArray[np.complex128],
    x: NDArray[np.float64],
    rng: np.random.Generator,
    samples: int,
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
    """Step 2 of the SDR baseline with Gaussian randomization.

    Devices are ordered by ``x``; from the largest prefix that passes the relaxation
    downwards, candidates ``m`` are drawn from the relaxed solution (and, if none serves the
    prefix, from the relaxed solution maximizing the sum of scaled gains, see
    :meth:`~._sdp.RealBackend.gain_objective`).  The selection is the set of devices served
    by the best candidate seen (the most devices, over all ``K``); the scan stops at the
    first prefix that a candidate serves entirely.
    """
    k = G.shape[0]
    order = order_devices(x, G)
    n_up, sols, _ = largest_sdr_feasible_prefix(backend, order, int(np.sum(x <= 1e-6)))
    best_mask = np.zeros(k, dtype=bool)
    best_m: NDArray[np.complex128] | None = None
    for n in range(n_up, 0, -1):
        mask = np.zeros(k, dtype=bool)
        mask[order[:n]] = True
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
            cands = gaussian_candidates(backend, X, rng, samples)
            norms = np.maximum(np.sum(np.abs(cands) ** 2, axis=1), 1e-300)
            served = np.abs(np.conj(cands) @ G.T) ** 2 / norms[:, None] >= 1.0
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


def two_step(
    backend: Any,
    G: NDArray[np.complex128],
    x: NDArray[np.float64],
    guess: int,
    detect: Callable[[NDArray[np.bool_], Any], tuple[NDArray[np.complex128] | None, int]],
    known: dict[int, Any] | None = None,
    *,
    search: str = "scan",
    extend: bool = False,
    tracker: BestServed | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None, int]:
    """Step 2: order the devices by ``x``, find the largest prefix that passes the SDR test
    (bisection, exact), then the largest prefix for which ``detect`` finds a beamformer.

    ``search="scan"`` tries the prefixes downwards one by one (the paper's order);
    ``search="bisect"`` bisects, treating detection as monotone in the prefix (true
    feasibility is).  If ``tracker`` saw a candidate that serves more devices than the
    prefix found, its served set is taken instead.  ``extend`` then adds the remaining
    devices that fit (:func:`add_back`).
    """
    k = G.shape[0]
    order = order_devices(x, G)
    n_up, sols, solves = largest_sdr_feasible_prefix(backend, order, guess, known)
    found: dict[int, NDArray[np.complex128] | None] = {}

    def test(n: int) -> bool:
        nonlocal solves
        mask = np.zeros(k, dtype=bool)
        mask[order[:n]] = True
        X0 = sols.get(n)
        if X0 is None:
            X0 = backend.solve_feasible(mask, backend.zero_lin())
            solves += 1
        m = None
        if X0 is not None:
            m, used = detect(mask, X0)
            solves += used
        found[n] = m
        return m is not None

    best = 0
    if search == "scan":
        for n in range(n_up, 0, -1):
            if test(n):
                best = n
                break
    else:
        lo, hi = 0, n_up
        if n_up > 0 and test(n_up):
            lo = n_up
        else:
            hi = n_up - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if test(mid):
                lo = mid
            else:
                hi = mid - 1
        best = lo
    mask = np.zeros(k, dtype=bool)
    mask[order[:best]] = True
    m = found.get(best) if best else None
    if tracker is not None and tracker.m is not None and tracker.mask.sum() > best:
        mask, m = tracker.mask.copy(), tracker.m
    if m is None:
        return np.zeros(k, dtype=bool), None, solves
    if extend:
        mask, m = add_back(G, mask, m, order)
    return mask, m, solves
