"""Numba kernels of the AirComp solvers (no input checks here: callers validate).

Notation: ``G`` is a ``(S, N)`` complex matrix whose rows are the *scaled* channels
``g_i = sqrt(gamma_i) h_i`` with ``gamma_i = gamma P / (sigma^2 w_i^2)``; a beamformer ``m``
serves the set with MSE at most the target iff every margin
``|m^H g_i|^2 / ||m||^2`` is at least 1.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
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


@njit(cache=True, error_model="numpy")
def scale_channels(
    h: np.ndarray, ratio: float, w: np.ndarray, cap: float
) -> tuple[np.ndarray, int]:  # pragma: no cover - numba
    """Scaled channels ``g_i = sqrt(gamma_i) h_i`` with ``gamma_i = ratio / w_i^2``
    (``ratio = gamma P / sigma^2``), each row shrunk to ``||g_i||^2 = cap`` if longer.

    Shrinking a row is conservative: ``|m^H g|^2 / ||m||^2 >= 1`` for the shrunk row
    implies it for the original one, and it only forbids beamformers within
    ``|cos angle(m, g_i)|^2 < 1 / cap`` of orthogonal to a very strong device.  It bounds
    the dynamic range of the data handed to the solvers.  Returns ``G`` and the first
    device whose ``gamma_i`` or ``||g_i||^2`` is not finite (``-1`` if none; the caller
    raises).
    """
    k, n = h.shape
    G = np.empty((k, n), dtype=np.complex128)
    bad = -1
    for i in range(k):
        s = np.sqrt(ratio / (w[i] * w[i]))
        nrm = 0.0
        for j in range(n):
            v = s * h[i, j]
            G[i, j] = v
            nrm += v.real * v.real + v.imag * v.imag
        if not (np.isfinite(s) and np.isfinite(nrm)):
            if bad < 0:
                bad = i
        elif nrm > cap:
            f = np.sqrt(cap / nrm)
            for j in range(n):
                G[i, j] = G[i, j] * f
    return G, bad


@njit(cache=True)
def mse_masked(
    h: np.ndarray, m: np.ndarray, w: np.ndarray, mask: np.ndarray, ratio: float
) -> float:  # pragma: no cover - numba
    """``ratio * ||m||^2 * max_{i in mask} w_i^2 / |m^H h_i|^2`` (``ratio = sigma^2 / P``);
    0 for an empty mask, ``inf`` if ``m`` is orthogonal to a selected channel."""
    k, n = h.shape
    norm2 = 0.0
    for j in range(n):
        norm2 += m[j].real ** 2 + m[j].imag ** 2
    worst = 0.0
    for i in range(k):
        if not mask[i]:
            continue
        acc = 0j
        for j in range(n):
            acc += np.conj(m[j]) * h[i, j]
        gain = acc.real**2 + acc.imag**2
        if gain == 0.0:
            return np.inf
        val = w[i] * w[i] / gain
        if val > worst:
            worst = val
    return ratio * norm2 * worst


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def dominant_direction(G: np.ndarray, idx: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Dominant eigenvector of ``sum_{i in idx} g_i g_i^H / ||g_i||^2``."""
    n = G.shape[1]
    A = np.zeros((n, n), dtype=np.complex128)
    for i in idx:
        gi = G[i]
        nrm = np.sum(np.abs(gi) ** 2)
        A += np.outer(gi, np.conj(gi)) / nrm
    _, vecs = np.linalg.eigh(A)
    return vecs[:, n - 1].copy()


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def eig_heuristic(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Drop the weakest device until the dominant direction of the rest serves them all."""
    k, n = G.shape
    active = np.ones(k, dtype=np.bool_)
    m = np.zeros(n, dtype=np.complex128)
    for _ in range(k):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        m = dominant_direction(G, idx)
        marg = margins(G[idx], m)
        if np.min(marg) >= 1.0:
            return active, m
        active[idx[np.argmin(marg)]] = False
    return active, m
