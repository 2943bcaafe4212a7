"""Numba kernels of the AirComp solvers (no input checks here: callers validate).

Notation: ``G`` is a ``(S, N)`` complex matrix whose rows are the *scaled* channels
``g_i = sqrt(gamma_i) h_i`` with ``gamma_i = gamma P / (sigma^2 w_i^2)``; a beamformer ``m``
serves the set with MSE at most the target iff every margin
``|m^H g_i|^2 / ||m||^2`` is at least 1.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


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
    h: np.ndarray, ratio: np.ndarray, w: np.ndarray, cap: float
) -> tuple[np.ndarray, int]:  # pragma: no cover - numba
    """Scaled channels ``g_i = sqrt(gamma_i) h_i`` with ``gamma_i = ratio_i / w_i^2``
    (``ratio_i = gamma P_i / sigma^2``, shape ``(K,)``), each row shrunk to
    ``||g_i||^2 = cap`` if longer.

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
        s = np.sqrt(ratio[i] / (w[i] * w[i]))
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
    h: np.ndarray, m: np.ndarray, w: np.ndarray, mask: np.ndarray, power: np.ndarray, noise: float
) -> float:  # pragma: no cover - numba
    """``noise * ||m||^2 * max_{i in mask} w_i^2 / (P_i |m^H h_i|^2)`` (``power``: the
    ``P_i``, shape ``(K,)``); 0 for an empty mask, ``inf`` if ``m`` is orthogonal to a
    selected channel."""
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
        val = w[i] * w[i] / (power[i] * gain)
        if val > worst:
            worst = val
    return noise * norm2 * worst


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
def _maxmin_dense(
    G: np.ndarray, m0: np.ndarray, outer: int, inner: int, stop_at: float = np.inf
) -> tuple[np.ndarray, float]:  # pragma: no cover - numba
    """:func:`maxmin_sca` for a small set: the min-norm problem on the dense
    ``Q = Re(Gh Gh^H)`` (``O(S^2 N)`` to form, ``O(S^2)`` per inner step)."""
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


#: The min-norm iteration of a working set stops once its Frank-Wolfe gap is at most this
#: fraction of ``||x||^2`` (the optimality condition checked on every device afterwards).
MIN_NORM_GAP = 1e-3

#: Sets of at most this many devices are solved whole by :func:`maxmin_sca` (the dense
#: ``Q = Gh Gh^H`` form, ``O(S^2)`` per inner step); larger sets through a working set.
DENSE_MAX = 32
#: The smallest working set of a large set.
WS_MIN = 32
#: The working set of a large set holds ``max(WS_MIN, WS_PER_ANTENNA * N)`` devices at first.
WS_PER_ANTENNA = 2


@njit(cache=True)
def maxmin_sca(
    G: np.ndarray, m0: np.ndarray, outer: int, inner: int, stop_at: float = np.inf
) -> tuple[np.ndarray, float]:  # pragma: no cover - numba
    """Max-min beamformer by successive convex approximation with fixed phases.

    At ``m_t`` the phases ``phi_i = arg(m_t^H g_i)`` are fixed, so that
    ``|m^H g_i| >= Re(e^{-j phi_i} m^H g_i)`` with equality at ``m_t``; the surrogate
    ``max_{||m|| <= 1} min_i Re(e^{-j phi_i} m^H g_i)`` has the closed-form solution
    ``m = x / ||x||``, ``x = sum_i a_i e^{-j phi_i} g_i`` with ``a`` minimizing ``||x||``
    over the simplex (minimax duality: ``x`` is the min-norm point of the convex hull of
    the phase-rotated channels).  An iterate is accepted only if it raises the smallest
    margin, so the iteration is monotone; it stops once the smallest margin reaches
    ``stop_at`` (1 for a feasibility test), after ``outer`` iterations, or when an iterate
    does not improve.

    Sets of at most ``DENSE_MAX`` (32) devices solve the min-norm problem on the dense
    ``S x S`` matrix ``Q = Re(Gh Gh^H)`` (:func:`_maxmin_dense`); larger sets never form it
    (:func:`_maxmin_ws`: a working set of the smallest margins, grown by the devices that
    violate the optimality condition of the min-norm point, with products of ``Gh`` and
    ``Gh^H`` only), so one iteration costs ``O(S N)`` plus ``O(N^2)`` per inner step.

    Returns the unit-norm beamformer and its smallest margin.
    """
    s, n = G.shape
    if s <= DENSE_MAX:
        return _maxmin_dense(G, m0, outer, inner, stop_at)
    return _maxmin_ws(G, m0, outer, inner, stop_at)


@njit(cache=True)
def _min_norm_ws(
    G: np.ndarray, ph: np.ndarray, W: np.ndarray, nw: int, inner: int
) -> np.ndarray:  # pragma: no cover - numba
    """Approximate min-norm point ``x = sum_j a_j Gh_j`` over the simplex, ``Gh_j =
    conj(ph_{W_j}) g_{W_j}`` for the working set ``W[:nw]`` (accelerated projected gradient
    with products of ``Gh`` and ``Gh^H`` only: ``O(nw N)`` per step)."""
    n = G.shape[1]
    Gh = np.empty((nw, n), dtype=np.complex128)
    for r in range(nw):
        i = W[r]
        c = np.conj(ph[i])
        for j in range(n):
            Gh[r, j] = G[i, j] * c
    # Lipschitz constant of grad a^T Q a = 2 Q a: 2 lambda_max(Q) by power iteration
    v = np.ones(nw) / np.sqrt(nw)
    x = np.zeros(n, dtype=np.complex128)
    lam = 0.0
    for _ in range(15):
        for j in range(n):
            x[j] = 0j
        for r in range(nw):
            for j in range(n):
                x[j] += v[r] * Gh[r, j]
        nrm = 0.0
        q = np.empty(nw)
        for r in range(nw):
            acc = 0.0
            for j in range(n):
                acc += Gh[r, j].real * x[j].real + Gh[r, j].imag * x[j].imag
            q[r] = acc
            nrm += acc * acc
        nrm = np.sqrt(nrm)
        if nrm == 0.0:
            break
        lam = nrm
        v = q / nrm
    tr = 0.0
    for r in range(nw):
        for j in range(n):
            tr += Gh[r, j].real ** 2 + Gh[r, j].imag ** 2
    lip = 2.0 * min(1.5 * lam + 1e-12, tr + 1e-12)
    a = np.ones(nw) / nw
    y = a.copy()
    t = 1.0
    grad = np.empty(nw)
    for _ in range(inner):
        for j in range(n):
            x[j] = 0j
        for r in range(nw):
            for j in range(n):
                x[j] += y[r] * Gh[r, j]
        low = np.inf
        for r in range(nw):
            acc = 0.0
            for j in range(n):
                acc += Gh[r, j].real * x[j].real + Gh[r, j].imag * x[j].imag
            grad[r] = 2.0 * acc
            if acc < low:
                low = acc
        # Frank-Wolfe gap at y (a point of the simplex): ||x||^2 - min_r Re(Gh_r^H x) >= 0,
        # 0 at the min-norm point; stop once it is a small fraction of ||x||^2
        if np.min(y) >= 0.0:
            nx2 = 0.0
            for j in range(n):
                nx2 += x[j].real ** 2 + x[j].imag ** 2
            if nx2 - low <= MIN_NORM_GAP * nx2:
                a = y
                break
        a_new = project_simplex(y - grad / lip)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        y = a_new + ((t - 1.0) / t_new) * (a_new - a)
        a = a_new
        t = t_new
    for j in range(n):
        x[j] = 0j
    for r in range(nw):
        for j in range(n):
            x[j] += a[r] * Gh[r, j]
    return x


@njit(cache=True)
def _inner_products(G: np.ndarray, m: np.ndarray, out: np.ndarray) -> float:  # pragma: no cover
    """``out[i] = m^H g_i`` for every row; returns the smallest ``|m^H g_i|^2`` (``m``
    unit-norm)."""
    s, n = G.shape
    worst = np.inf
    for i in range(s):
        acc = 0j
        for j in range(n):
            acc += np.conj(m[j]) * G[i, j]
        out[i] = acc
        v = acc.real**2 + acc.imag**2
        if v < worst:
            worst = v
    return worst


@njit(cache=True)
def _maxmin_ws(
    G: np.ndarray, m0: np.ndarray, outer: int, inner: int, stop_at: float
) -> tuple[np.ndarray, float]:  # pragma: no cover - numba
    """:func:`maxmin_sca` for a large set: the min-norm point on a working set."""
    s, n = G.shape
    m = m0 / np.sqrt(np.sum(np.abs(m0) ** 2))
    c = np.empty(s, dtype=np.complex128)
    best = _inner_products(G, m, c)
    w0 = min(s, max(WS_MIN, WS_PER_ANTENNA * n))
    wadd = max(8, n)
    W = np.empty(w0 + 3 * wadd, dtype=np.int64)
    inw = np.zeros(s, dtype=np.bool_)
    ph = np.empty(s, dtype=np.complex128)
    marg = np.empty(s)
    t_out = np.empty(s)
    c_new = np.empty(s, dtype=np.complex128)
    for _ in range(outer):
        if best >= stop_at:
            break
        for i in range(s):
            mag = np.abs(c[i])
            ph[i] = c[i] / mag if mag > 0 else 1.0 + 0j
            marg[i] = mag * mag
        # the working set: the w0 smallest margins
        thr = np.partition(marg, w0 - 1)[w0 - 1]
        nw = 0
        for i in range(s):
            if marg[i] < thr and nw < w0:
                W[nw] = i
                nw += 1
        for i in range(s):
            if marg[i] == thr and nw < w0:
                W[nw] = i
                nw += 1
        for r in range(nw):
            inw[W[r]] = True
        x = np.zeros(n, dtype=np.complex128)
        for rnd in range(4):
            x = _min_norm_ws(G, ph, W, nw, inner)
            nx2 = 0.0
            for j in range(n):
                nx2 += x[j].real ** 2 + x[j].imag ** 2
            if nx2 <= 1e-300 or rnd == 3:
                break
            # optimality of the min-norm point over every device: Re(Gh_i^H x) >= ||x||^2
            nv = 0
            for i in range(s):
                if inw[i]:
                    continue
                acc = 0j
                for j in range(n):
                    acc += np.conj(G[i, j]) * x[j]
                val = (ph[i] * acc).real
                if val < nx2 * (1.0 - 1e-6):
                    t_out[nv] = val
                    nv += 1
            if nv == 0:
                break
            limit = np.inf
            if nv > wadd:
                limit = np.partition(t_out[:nv], wadd - 1)[wadd - 1]
            added = 0
            for i in range(s):
                if inw[i] or added >= wadd:
                    continue
                acc = 0j
                for j in range(n):
                    acc += np.conj(G[i, j]) * x[j]
                val = (ph[i] * acc).real
                if val < nx2 * (1.0 - 1e-6) and val <= limit:
                    W[nw] = i
                    inw[i] = True
                    nw += 1
                    added += 1
        for r in range(nw):
            inw[W[r]] = False
        nrm = np.sqrt(np.sum(np.abs(x) ** 2))
        if nrm <= 1e-300:
            break
        cand = x / nrm
        new = _inner_products(G, cand, c_new)
        if new > best * (1.0 + 1e-9):
            m = cand
            best = new
            c[:] = c_new
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


#: The greedy drops one device per step while at most this many devices are active (as
#: careful as the one-by-one greedy, and cheap at these sizes), in bulk above.
ONE_AT_A_TIME = 64

#: Slots of the integer state of :func:`fast_advance`.
_PHASE, _RUNS, _PTR, _FAILS, _NORDER = 0, 1, 2, 3, 4
#: Phases: dropping, preparing the add-back, adding back, done.
DROP, ADD_PREPARE, ADD_BACK, DONE = 0, 1, 2, 3


@njit(cache=True)
def fast_init(
    G: np.ndarray, active: np.ndarray, m: np.ndarray, servable: np.ndarray, state: np.ndarray
) -> None:  # pragma: no cover - numba
    """Initial state of the greedy (:func:`fast_advance`), written into the given arrays.

    ``servable``/``active``: ``||g_i||^2 >= 1`` (exact screening: a margin never exceeds
    ``||g_i||^2``, and ``m = g_i`` serves device ``i`` alone); ``m``: 30 power iterations
    towards the dominant eigenvector of ``sum_i g_i g_i^H / ||g_i||^2`` over them
    (``O(K N^2)``); ``state``: all zeros (phase ``DROP``), or ``DONE`` if nothing is
    servable.
    """
    k, n = G.shape
    for r in range(state.size):
        state[r] = 0
    cnt = 0
    for i in range(k):
        nrm = 0.0
        for j in range(n):
            nrm += G[i, j].real ** 2 + G[i, j].imag ** 2
        servable[i] = nrm >= 1.0
        active[i] = servable[i]
        if servable[i]:
            cnt += 1
    if cnt == 0:
        for j in range(n):
            m[j] = 0j
        state[_PHASE] = DONE
        return
    m[:] = power_direction(G, np.flatnonzero(servable), 30)


@njit(cache=True)
def fast_advance(
    G: np.ndarray,
    active: np.ndarray,
    m: np.ndarray,
    servable: np.ndarray,
    order: np.ndarray,
    state: np.ndarray,
    max_runs: int,
    outer: int,
    inner: int,
    drop_fraction: float,
    add_back: bool,
    add_back_tries: int,
) -> None:  # pragma: no cover - numba
    """Advance the greedy selection by at most ``max_runs`` max-min SCA runs (resumable).

    The whole state lives in the arrays (``active``, ``m``, ``order``, ``state``), so the
    result does not depend on how the work is cut into calls.  Phases:

    * ``DROP``: improve ``m`` for the active set by :func:`maxmin_sca` (warm-started);
      if every margin is at least 1, go on; else drop the ``max(1, floor(drop_fraction *
      v))`` devices with the smallest margins, ``v`` the number of margins below 1;
    * ``ADD_PREPARE``: every dropped servable device that ``m`` already serves is added
      (exact); the rest are ordered by decreasing margin;
    * ``ADD_BACK`` (if ``add_back``): each in turn is added if the warm-started SCA still
      serves the enlarged set (then every remaining device that the new ``m`` serves is
      added too); the pass ends after ``add_back_tries`` failures in a row.

    ``state[_RUNS]`` counts the SCA runs.
    """
    k, n = G.shape
    runs = 0
    while state[_PHASE] != DONE and runs < max_runs:
        phase = state[_PHASE]
        if phase == DROP:
            idx = np.flatnonzero(active)
            if idx.size == 0:  # cannot happen up to rounding (a lone device is served)
                state[_PHASE] = DONE
                break
            Gs = G[idx]
            cand, best = maxmin_sca(Gs, m, outer, inner, 1.0)
            m[:] = cand
            state[_RUNS] += 1
            runs += 1
            if best >= 1.0:
                state[_PHASE] = ADD_PREPARE
                continue
            marg = margins(Gs, m)
            nv = 0
            for v in marg:
                if v < 1.0:
                    nv += 1
            # one at a time while the set is small (as cheap as it is careful), in bulk after
            d = 1 if idx.size <= ONE_AT_A_TIME else max(1, int(drop_fraction * nv))
            d = min(d, idx.size - 1) if idx.size > 1 else 1
            worst = np.argsort(marg)[:d]
            for r in worst:
                active[idx[r]] = False
        elif phase == ADD_PREPARE:
            cand_idx = np.flatnonzero(servable & ~active)
            md = margins(G[cand_idx], m)
            cnt = 0
            for r in range(cand_idx.size):
                if md[r] >= 1.0:
                    active[cand_idx[r]] = True
                else:
                    cnt += 1
            rest = np.empty(cnt, dtype=np.int64)
            key = np.empty(cnt)
            cnt = 0
            for r in range(cand_idx.size):
                if md[r] < 1.0:
                    rest[cnt] = cand_idx[r]
                    key[cnt] = -md[r]
                    cnt += 1
            srt = np.argsort(key, kind="mergesort")
            for r in range(cnt):
                order[r] = rest[srt[r]]
            state[_NORDER] = cnt
            state[_PTR] = 0
            state[_FAILS] = 0
            state[_PHASE] = ADD_BACK if add_back else DONE
        else:  # ADD_BACK
            if state[_PTR] >= state[_NORDER] or state[_FAILS] >= add_back_tries:
                state[_PHASE] = DONE
                break
            j = order[state[_PTR]]
            state[_PTR] += 1
            if active[j]:
                continue
            active[j] = True
            idx = np.flatnonzero(active)
            cand, best = maxmin_sca(G[idx], m, outer, inner, 1.0)
            state[_RUNS] += 1
            runs += 1
            if best >= 1.0:
                m[:] = cand
                state[_FAILS] = 0
                for r in range(state[_PTR], state[_NORDER]):
                    i = order[r]
                    if not active[i]:
                        acc = 0j
                        for c in range(n):
                            acc += np.conj(m[c]) * G[i, c]
                        if acc.real**2 + acc.imag**2 >= 1.0:
                            active[i] = True
            else:
                active[j] = False
                state[_FAILS] += 1


@njit(cache=True, parallel=True)
def fast_batch(
    G: np.ndarray,
    active: np.ndarray,
    m: np.ndarray,
    servable: np.ndarray,
    order: np.ndarray,
    state: np.ndarray,
    start: bool,
    max_runs: np.ndarray,
    outer: int,
    inner: int,
    drop_fraction: float,
    add_back: bool,
    add_back_tries: int,
) -> None:  # pragma: no cover - numba
    """:func:`fast_init` (if ``start``) and :func:`fast_advance` for every draw ``b`` of the
    ``(B, K, N)`` channels, up to ``max_runs[b]`` SCA runs each, in parallel over draws
    (Numba threads); each draw's arrays are its own, so the results do not depend on the
    number of threads."""
    for b in prange(G.shape[0]):
        if start:
            fast_init(G[b], active[b], m[b], servable[b], state[b])
        if max_runs[b] > 0:
            fast_advance(
                G[b],
                active[b],
                m[b],
                servable[b],
                order[b],
                state[b],
                max_runs[b],
                outer,
                inner,
                drop_fraction,
                add_back,
                add_back_tries,
            )


@njit(cache=True)
def eig_advance(
    G: np.ndarray, active: np.ndarray, m: np.ndarray, max_steps: int
) -> tuple[bool, int]:  # pragma: no cover - numba
    """At most ``max_steps`` steps of :func:`eig_heuristic` on the state ``active``/``m``
    (resumable).  Returns whether it is done and the dominant-direction evaluations made."""
    evals = 0
    for _ in range(max_steps):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            return True, evals
        m[:] = dominant_direction(G, idx)
        evals += 1
        marg = margins(G[idx], m)
        if np.min(marg) >= 1.0:
            return True, evals
        active[idx[np.argmin(marg)]] = False
    return False, evals
