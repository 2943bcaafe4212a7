"""A frozen copy of the AirComp ``fast`` greedy and its SCA kernels as of commit 57af362.

The benchmarks (and the test that compares the greedy's selections at the paper's sizes)
measure the current ``fast`` method against this copy in the same run.  It drops one device
per step and forms the K x K matrix ``Q = Gh Gh^H`` at every SCA iteration (O(K^2) per step,
O(K^3) overall).  The copy is not part of the library and is not maintained.
"""

# ruff: noqa
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=False)
def margins(G: np.ndarray, m: np.ndarray) -> np.ndarray:  # pragma: no cover - numba
    """``|m^H g_i|^2 / ||m||^2`` for every row ``g_i`` of ``G``."""
    s, n = G.shape
    norm2 = 0.0
    for j in range(n):
        norm2 += m[j].real ** 2 + m[j].imag ** 2
    out = np.empty(s)
    for i in range(s):
        acc = 0j
        for j in range(n):
            acc += np.conj(m[j]) * G[i, j]
        out[i] = (acc.real**2 + acc.imag**2) / norm2
    return out


@njit(cache=False)
def project_simplex(v: np.ndarray) -> np.ndarray:  # pragma: no cover - numba
    """Euclidean projection of ``v`` onto the probability simplex (sort-based)."""
    k = v.shape[0]
    u = np.sort(v)[::-1]
    css = 0.0
    theta = 0.0
    for i in range(k):
        css += u[i]
        t = (css - 1.0) / (i + 1)
        if u[i] - t > 0:
            theta = t
    out = np.empty(k)
    for i in range(k):
        out[i] = max(v[i] - theta, 0.0)
    return out


@njit(cache=False)
def min_norm_simplex(Q: np.ndarray, iters: int) -> np.ndarray:  # pragma: no cover - numba
    """Approximately minimize ``a^T Q a`` over the simplex (accelerated projected gradient).

    ``Q`` is symmetric positive semidefinite; the step is ``1 / (2 L)`` with ``L`` a power
    iteration estimate of the largest eigenvalue (inflated for safety).
    """
    k = Q.shape[0]
    # power iteration for lambda_max(Q)
    v = np.ones(k) / np.sqrt(k)
    lam = 0.0
    for _ in range(20):
        w = Q @ v
        nrm = np.sqrt(np.sum(w * w))
        if nrm == 0.0:
            break
        lam = nrm
        v = w / nrm
    tr = 0.0
    for i in range(k):
        tr += Q[i, i]
    lip = 2.0 * min(1.5 * lam + 1e-12, tr + 1e-12)
    a = np.ones(k) / k
    y = a.copy()
    t = 1.0
    for _ in range(iters):
        grad = 2.0 * (Q @ y)
        a_new = project_simplex(y - grad / lip)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        y = a_new + ((t - 1.0) / t_new) * (a_new - a)
        a = a_new
        t = t_new
    return a


@njit(cache=False)
def maxmin_sca(
    G: np.ndarray, m0: np.ndarray, outer: int, inner: int, stop_at: float = np.inf
) -> tuple[np.ndarray, float]:  # pragma: no cover - numba
    """Max-min beamformer by successive convex approximation with fixed phases.

    At ``m_t`` the phases ``phi_i = arg(m_t^H g_i)`` are fixed, so that
    ``|m^H g_i| >= Re(e^{-j phi_i} m^H g_i)`` with equality at ``m_t``; the surrogate
    ``max_{||m|| <= 1} min_i Re(e^{-j phi_i} m^H g_i)`` has the closed-form solution
    ``m = sum_i a_i e^{j phi_i} g_i / ||.||`` where ``a`` minimizes
    ``||sum_i a_i e^{j phi_i} g_i||`` over the simplex (minimax duality).  An iterate is
    accepted only if it raises the smallest margin, so the iteration is monotone.

    The iteration stops early once the smallest margin reaches ``stop_at`` (1 for a
    feasibility test).  Returns the unit-norm beamformer and its smallest margin.
    """
    s, n = G.shape
    m = m0 / np.sqrt(np.sum(np.abs(m0) ** 2))
    marg = margins(G, m)
    best = np.min(marg)
    if s == 0:
        return m, np.inf
    Gh = np.empty((s, n), dtype=np.complex128)
    for _ in range(outer):
        if best >= stop_at:
            break
        for i in range(s):
            acc = 0j
            for j in range(n):
                acc += np.conj(m[j]) * G[i, j]
            mag = np.abs(acc)
            ph = acc / mag if mag > 0 else 1.0 + 0j
            for j in range(n):
                Gh[i, j] = G[i, j] * np.conj(ph)  # rows e^{-j phi} g_i
        # m^H (e^{-j phi_i} g_i) is real positive at m_t; the surrogate maximizer is
        # m proportional to sum_i a_i (e^{-j phi_i} g_i)
        Q = np.ascontiguousarray(np.real(Gh @ np.conj(Gh.T)))
        a = min_norm_simplex(Q, inner)
        cand = a.astype(np.complex128) @ Gh
        nrm = np.sqrt(np.sum(np.abs(cand) ** 2))
        if nrm <= 1e-300:
            break
        cand = cand / nrm
        new = np.min(margins(G, cand))
        if new > best * (1.0 + 1e-9):
            m = cand
            best = new
        else:
            break
    return m, best


@njit(cache=False)
def power_direction(G: np.ndarray, idx: np.ndarray, iters: int) -> np.ndarray:  # pragma: no cover
    """Approximate dominant eigenvector of ``sum_{i in idx} g_i g_i^H / ||g_i||^2`` by
    ``iters`` power iterations from the strongest normalized channel (a cheap start)."""
    n = G.shape[1]
    A = np.zeros((n, n), dtype=np.complex128)
    for i in idx:
        gi = G[i]
        nrm = 0.0
        for j in range(n):
            nrm += gi[j].real ** 2 + gi[j].imag ** 2
        for r in range(n):
            for c in range(n):
                A[r, c] += gi[r] * np.conj(gi[c]) / nrm
    v = np.zeros(n, dtype=np.complex128)
    for j in range(n):
        v[j] = 1.0 + 0.1j * j
    w = np.zeros(n, dtype=np.complex128)
    for _ in range(iters):
        nrm = 0.0
        for r in range(n):
            acc = 0j
            for c in range(n):
                acc += A[r, c] * v[c]
            w[r] = acc
            nrm += acc.real**2 + acc.imag**2
        if nrm == 0.0:
            break
        nrm = np.sqrt(nrm)
        for r in range(n):
            v[r] = w[r] / nrm
    return v


@njit(cache=False)
def greedy_select(
    G: np.ndarray, outer: int, inner: int, add_back: bool
) -> tuple[np.ndarray, np.ndarray, int]:  # pragma: no cover - numba
    """Greedy device selection with the max-min SCA beamformer.

    Start from all servable devices and (approximately) the dominant direction; repeat:
    improve the beamformer by :func:`maxmin_sca`, stop if every margin is >= 1, else drop
    the device with the smallest margin.  Then try to add back every dropped device
    (largest margin first), keeping it if the SCA beamformer, warm-started, serves the
    enlarged set.

    Returns the boolean selection, the unit-norm beamformer (meaningful if any selected)
    and the number of SCA runs.
    """
    calls = 0
    k, n = G.shape
    active = np.ones(k, dtype=np.bool_)
    # |m^H g_i|^2 / ||m||^2 <= ||g_i||^2: a device with ||g_i|| < 1 can never be served
    for i in range(k):
        if np.sum(np.abs(G[i]) ** 2) < 1.0:
            active[i] = False
    m = np.zeros(n, dtype=np.complex128)
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return active, m, calls
    m = power_direction(G, idx, 30)
    feasible = False
    for _ in range(k):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        Gs = G[idx]
        m, best = maxmin_sca(Gs, m, outer, inner, 1.0)
        calls += 1
        if best >= 1.0:
            feasible = True
            break
        marg = margins(Gs, m)
        active[idx[np.argmin(marg)]] = False
    if not feasible:  # cannot happen up to rounding: a lone device is served by m = g_i
        for i in range(k):
            active[i] = False
        return active, m, calls
    if add_back:
        dropped = np.flatnonzero(~active)
        if dropped.size > 0:
            md = margins(G[dropped], m)
            order = dropped[np.argsort(-md)]
            for j in order:
                active[j] = True
                idx = np.flatnonzero(active)
                cand, best = maxmin_sca(G[idx], m, outer, inner, 1.0)
                calls += 1
                if best >= 1.0:
                    m = cand
                else:
                    active[j] = False
    return active, m, calls


def select_fast_baseline(G: np.ndarray, outer: int = 30, inner: int = 40, add_back: bool = True):
    """The old ``fast`` on scaled channels ``G``: (selected, beamformer, SCA runs)."""
    sel, m, runs = greedy_select(np.ascontiguousarray(G), outer, inner, add_back)
    return np.asarray(sel, dtype=bool), m, int(runs)
