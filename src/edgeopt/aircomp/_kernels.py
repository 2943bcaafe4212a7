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
    return G, _scale_into(h, ratio, w, cap, G)


@njit(cache=True, error_model="numpy")
def scale_channels_batch(
    h: np.ndarray, ratio: np.ndarray, w: np.ndarray, cap: float
) -> tuple[np.ndarray, int]:  # pragma: no cover - numba
    """:func:`scale_channels` for every draw of ``(B, K, N)`` channels (the same ``ratio``
    and ``w`` for all); returns ``G`` ``(B, K, N)`` and the first draw with a device whose
    gain is not finite (``-1`` if none)."""
    G = np.empty(h.shape, dtype=np.complex128)
    for b in range(h.shape[0]):
        if _scale_into(h[b], ratio, w, cap, G[b]) >= 0:
            return G, b
    return G, -1


@njit(cache=True, error_model="numpy")
def _scale_into(
    h: np.ndarray, ratio: np.ndarray, w: np.ndarray, cap: float, G: np.ndarray
) -> int:  # pragma: no cover - numba
    """:func:`scale_channels` written into ``G``; returns the first bad device or -1."""
    k, n = h.shape
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
    return bad


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


#: The Wolfe min-norm iteration stops after at most this many added points per
#: real dimension of the beamformer (``2 N``); it usually stops far earlier, by the gap.
WOLFE_MAJOR_PER_DIM = 4
#: Relative pivot below which a point is taken as affinely dependent on the corral.
WOLFE_PIVOT = 1e-10
#: Rounds of the working-set check of the warm-started max-min SCA.
WARM_ROUNDS = 6
#: A run with a finite target stops once the target exceeds its smallest margin plus this
#: many times the sum of the remaining gains extrapolated geometrically from the last two.
GEOM_SAFETY = 2.0


@njit(cache=True)
def _corral_weights(L: np.ndarray, c: int, out: np.ndarray) -> None:  # pragma: no cover
    """Affine minimizer of the corral: ``out[:c]`` solves ``L L^T a = 1`` scaled to sum 1
    (``L L^T = 1 1^T + P_C P_C^T``, so ``a`` minimizes ``||P_C^T a||`` over ``sum a = 1``).
    The forward solution ``L y = 1`` is kept in the last column of ``L`` (updated by each
    added row and each deletion), so only the backward solve runs here (``O(c^2)``,
    along the rows of ``L``)."""
    y = L.shape[1] - 1
    for i in range(c):
        out[i] = L[i, y]
    for i in range(c - 1, -1, -1):
        v = out[i] / L[i, i]
        out[i] = v
        for k in range(i):
            out[k] -= L[i, k] * v
    tot = 0.0
    for i in range(c):
        tot += out[i]
    for i in range(c):
        out[i] /= tot


@njit(cache=True)
def _corral_solve_row(L: np.ndarray, c: int, b: np.ndarray, nj: float) -> bool:  # pragma: no cover
    """Row ``c`` of the lower factor from the right-hand side ``b[:c]`` (the entries of the
    new column of ``1 1^T + P_C P_C^T``) and the new diagonal entry ``nj`` of that matrix,
    and entry ``c`` of the forward solution ``L y = 1`` (last column of ``L``, which has
    one column more than rows); ``False`` (row left unusable) if the new point is affinely
    dependent on the corral."""
    ss = 0.0
    for i in range(c):
        a0 = a1 = a2 = a3 = 0.0
        k = 0
        while k + 4 <= i:
            a0 += L[i, k] * L[c, k]
            a1 += L[i, k + 1] * L[c, k + 1]
            a2 += L[i, k + 2] * L[c, k + 2]
            a3 += L[i, k + 3] * L[c, k + 3]
            k += 4
        while k < i:
            a0 += L[i, k] * L[c, k]
            k += 1
        v = (b[i] - ((a0 + a1) + (a2 + a3))) / L[i, i]
        L[c, i] = v
        ss += v * v
    rho2 = nj - ss
    if rho2 <= WOLFE_PIVOT * nj:
        return False
    L[c, c] = np.sqrt(rho2)
    for k in range(c):
        L[k, c] = 0.0
    # the forward solution of L y = 1, kept in the last column: one new entry
    y = L.shape[1] - 1
    acc = 1.0
    for k in range(c):
        acc -= L[c, k] * L[k, y]
    L[c, y] = acc / L[c, c]
    return True


@njit(cache=True)
def _corral_add(
    L: np.ndarray, c: int, P: np.ndarray, cor: np.ndarray, j: int
) -> bool:  # pragma: no cover - numba
    """Append point ``P[j]`` to the lower Cholesky factor ``L`` of the corral ``cor[:c]``
    (``L L^T = 1 1^T + P_C P_C^T``; ``O(c d + c^2)``); ``False`` (nothing changed) if it is
    affinely dependent on it."""
    d = P.shape[1]
    nj = 1.0
    for t in range(d):
        nj += P[j, t] * P[j, t]
    b = np.empty(c)
    for i in range(c):
        b[i] = 1.0 + _dot_rows(P, cor[i], P, j)
    return _corral_solve_row(L, c, b, nj)


@njit(cache=True)
def _corral_add_gram(
    L: np.ndarray, c: int, gram: np.ndarray, cor: np.ndarray, j: int
) -> bool:  # pragma: no cover - numba
    """:func:`_corral_add` from the Gram matrix ``gram[a, b] = <P_a, P_b>`` of the points
    (``O(c^2)``: no inner product of coordinates); ``False`` if ``P_j`` is affinely
    dependent on the corral."""
    b = np.empty(c)
    for i in range(c):
        b[i] = 1.0 + gram[cor[i], j]
    return _corral_solve_row(L, c, b, 1.0 + gram[j, j])


@njit(cache=True)
def _corral_delete(
    L: np.ndarray, c: int, k: int, cor: np.ndarray, lam: np.ndarray
) -> None:  # pragma: no cover - numba
    """Remove member ``k`` of the corral: shift its row out of ``L`` and restore the
    triangle by Givens rotations of adjacent columns (``O(c^2)``)."""
    for row in range(k, c - 1):
        for q in range(row + 2):
            L[row, q] = L[row + 1, q]
        cor[row] = cor[row + 1]
        lam[row] = lam[row + 1]
    # L y = 1 still holds for the remaining rows with the same y (indexed by column);
    # each rotation of columns (L <- L G) maps it to G^T y, the last entry dropped
    y = L.shape[1] - 1
    for col in range(k, c - 1):
        a = L[col, col]
        b = L[col, col + 1]
        h = np.hypot(a, b)
        cs = a / h
        sn = b / h
        for jj in range(col, c - 1):
            t1 = L[jj, col]
            t2 = L[jj, col + 1]
            L[jj, col] = cs * t1 + sn * t2
            L[jj, col + 1] = -sn * t1 + cs * t2
        t1 = L[col, y]
        t2 = L[col + 1, y]
        L[col, y] = cs * t1 + sn * t2
        L[col + 1, y] = -sn * t1 + cs * t2
    for jj in range(c):
        L[c - 1, jj] = 0.0
        L[jj, c - 1] = 0.0
    L[c - 1, y] = 0.0


@njit(cache=True)
def _corral_minor(
    L: np.ndarray, c: int, cor: np.ndarray, lam: np.ndarray, alpha: np.ndarray
) -> int:  # pragma: no cover - numba
    """Wolfe's minor cycles: move the weights ``lam`` towards the affine minimizer of the
    corral, dropping the members whose weight reaches 0, until that minimizer has positive
    weights.  Returns the new corral size."""
    while c > 0:
        _corral_weights(L, c, alpha)
        ok = True
        for i in range(c):
            if not alpha[i] > 1e-14:
                ok = False
                break
        if ok:
            for i in range(c):
                lam[i] = alpha[i]
            return c
        theta = 1.0
        kmin = -1
        for i in range(c):
            if not alpha[i] > 1e-14:
                den = lam[i] - alpha[i]
                th = lam[i] / den if den > 0 else 0.0
                if th < theta:
                    theta = th
                    kmin = i
        for i in range(c):
            lam[i] = theta * alpha[i] + (1.0 - theta) * lam[i]
        if kmin >= 0:
            lam[kmin] = 0.0
        i = c - 1
        while i >= 0:
            if lam[i] <= 1e-14:
                _corral_delete(L, c, i, cor, lam)
                c -= 1
            i -= 1
        tot = 0.0
        for i in range(c):
            tot += lam[i]
        if not tot > 0.0:
            return 0
        for i in range(c):
            lam[i] /= tot
    return c


@njit(cache=True)
def min_norm_wolfe(
    P: np.ndarray,
    nw: int,
    cor: np.ndarray,
    lam: np.ndarray,
    c: int,
    L: np.ndarray,
    x: np.ndarray,
    gap: float,
    max_major: int,
) -> int:  # pragma: no cover - numba
    """Min-norm point of the convex hull of the rows ``P[:nw]`` (real, ``d`` columns) by
    Wolfe's method, resumed from the corral ``cor[:c]`` with weights ``lam[:c]`` (convex)
    and the lower Cholesky factor ``L`` of ``1 1^T + P_C P_C^T``.

    Each major cycle adds the point that minimizes ``<p, x>`` (``O(nw d)``) and updates
    ``L`` (``O(c d + c^2)``); minor cycles drop members (``O(c^2)`` each).  Stops once the
    Frank-Wolfe gap ``||x||^2 - min_p <p, x>`` is at most ``gap * ||x||^2``, after
    ``max_major`` added points, or when the best point is affinely dependent on the corral.
    The point ``x`` (length ``d``) and the corral are written in place; returns ``c``.

    References
    ----------
    .. [1] P. Wolfe, "Finding the nearest point in a polytope," Math. Program., vol. 11,
       pp. 128-149, 1976, DOI 10.1007/BF01580381 (the major and minor cycles).
    """
    d = P.shape[1]
    cm = L.shape[0]
    alpha = np.empty(cm)
    inc = np.zeros(nw, dtype=np.bool_)
    for i in range(c):
        inc[cor[i]] = True
    for _ in range(max_major):
        for t in range(d):
            x[t] = 0.0
        for i in range(c):
            pi = cor[i]
            for t in range(d):
                x[t] += lam[i] * P[pi, t]
        nx2 = 0.0
        for t in range(d):
            nx2 += x[t] * x[t]
        # the most violating point outside the corral (the members all lie at <p, x> =
        # ||x||^2, x being their affine minimizer)
        low = np.inf
        jb = -1
        for i in range(nw):
            if inc[i]:
                continue
            acc = _dot_vec(P, i, x)
            if acc < low:
                low = acc
                jb = i
        if c == 0 or jb < 0 or nx2 - low <= gap * nx2 or nx2 <= 1e-300 or c >= cm:
            break
        if not _corral_add(L, c, P, cor, jb):
            break
        cor[c] = jb
        lam[c] = 0.0
        c = _corral_minor(L, c + 1, cor, lam, alpha)
        for i in range(nw):
            inc[i] = False
        for i in range(c):
            inc[cor[i]] = True
    for t in range(d):
        x[t] = 0.0
    for i in range(c):
        pi = cor[i]
        for t in range(d):
            x[t] += lam[i] * P[pi, t]
    return c


@njit(cache=True)
def _interleave(v: np.ndarray, u: np.ndarray, w: np.ndarray) -> None:  # pragma: no cover
    """``u``, ``w`` (length ``2 N``) such that for a row ``g`` of ``G`` viewed as reals
    ``(Re g_1, Im g_1, ...)``: ``<g, u> = Re(v^H g)`` and ``<g, w> = Im(v^H g)``."""
    for j in range(v.shape[0]):
        u[2 * j] = v[j].real
        u[2 * j + 1] = v[j].imag
        w[2 * j] = -v[j].imag
        w[2 * j + 1] = v[j].real


@njit(cache=True)
def _dot2(
    V: np.ndarray, i: int, u: np.ndarray, w: np.ndarray
) -> tuple[float, float]:  # pragma: no cover - numba
    """``(<V_i, u>, <V_i, w>)`` for row ``i`` of ``V`` (one contiguous pass over the row,
    four partial sums each, so that the additions do not wait on one another)."""
    d = V.shape[1]
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    t = 0
    while t + 4 <= d:
        g0 = V[i, t]
        g1 = V[i, t + 1]
        g2 = V[i, t + 2]
        g3 = V[i, t + 3]
        a0 += g0 * u[t]
        a1 += g1 * u[t + 1]
        a2 += g2 * u[t + 2]
        a3 += g3 * u[t + 3]
        b0 += g0 * w[t]
        b1 += g1 * w[t + 1]
        b2 += g2 * w[t + 2]
        b3 += g3 * w[t + 3]
        t += 4
    while t < d:
        g0 = V[i, t]
        a0 += g0 * u[t]
        b0 += g0 * w[t]
        t += 1
    return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)


@njit(cache=True)
def _dot_rows(A: np.ndarray, i: int, B: np.ndarray, j: int) -> float:  # pragma: no cover
    """``<A_i, B_j>`` for rows of two real matrices (four partial sums)."""
    d = A.shape[1]
    a0 = a1 = a2 = a3 = 0.0
    t = 0
    while t + 4 <= d:
        a0 += A[i, t] * B[j, t]
        a1 += A[i, t + 1] * B[j, t + 1]
        a2 += A[i, t + 2] * B[j, t + 2]
        a3 += A[i, t + 3] * B[j, t + 3]
        t += 4
    while t < d:
        a0 += A[i, t] * B[j, t]
        t += 1
    return (a0 + a1) + (a2 + a3)


@njit(cache=True)
def _gram_entry(V: np.ndarray, a: int, b: int) -> complex:  # pragma: no cover - numba
    """``g_a^H g_b`` for rows of ``G`` viewed as reals ``V`` (two partial sums each)."""
    d = V.shape[1]
    r0 = r1 = i0 = i1 = 0.0
    t = 0
    while t + 4 <= d:
        ar0 = V[a, t]
        ai0 = V[a, t + 1]
        br0 = V[b, t]
        bi0 = V[b, t + 1]
        ar1 = V[a, t + 2]
        ai1 = V[a, t + 3]
        br1 = V[b, t + 2]
        bi1 = V[b, t + 3]
        r0 += ar0 * br0 + ai0 * bi0
        i0 += ar0 * bi0 - ai0 * br0
        r1 += ar1 * br1 + ai1 * bi1
        i1 += ar1 * bi1 - ai1 * br1
        t += 4
    while t < d:
        r0 += V[a, t] * V[b, t] + V[a, t + 1] * V[b, t + 1]
        i0 += V[a, t] * V[b, t + 1] - V[a, t + 1] * V[b, t]
        t += 2
    return (r0 + r1) + 1j * (i0 + i1)


@njit(cache=True)
def gram_cache_size(k: int, n: int) -> int:  # pragma: no cover - numba
    """Slots of the cache of :func:`new_gram_cache`: four corrals (``2 N + 2`` devices
    each), at most ``K``."""
    return min(4 * (2 * n + 2), k)


@njit(cache=True)
def new_gram_cache(
    k: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """An empty cache of complex channel products ``g_a^H g_b`` for :func:`maxmin_sca_warm`
    (``K`` devices, ``N`` antennas): ``(slot of each device or -1, device of each slot,
    products, validity, [slots used])`` for :func:`gram_cache_size` slots
    (``O(K + N^2)`` memory)."""
    cap = gram_cache_size(k, n)
    return (
        -np.ones(k, dtype=np.int64),
        np.empty(cap, dtype=np.int64),
        np.empty((cap, cap), dtype=np.complex128),
        np.empty((cap, cap), dtype=np.bool_),
        np.zeros(1, dtype=np.int64),
    )


@njit(cache=True)
def _cache_slots(
    Wd: np.ndarray,
    c: int,
    gid: np.ndarray,
    cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:  # pragma: no cover - numba
    """Cache slots of the devices ``gid[Wd[:c]]``, new slots for those not cached (their
    products marked invalid); the cache is emptied first if they would not fit."""
    cslot, cdev, _, cvalid, cn = cache
    cap = cdev.size
    missing = 0
    for r in range(c):
        if cslot[gid[Wd[r]]] < 0:
            missing += 1
    if cn[0] + missing > cap:
        for q in range(cn[0]):
            cslot[cdev[q]] = -1
        cn[0] = 0
    out = np.empty(c, dtype=np.int64)
    for r in range(c):
        g = gid[Wd[r]]
        sl = cslot[g]
        if sl < 0:
            sl = cn[0]
            cn[0] += 1
            cslot[g] = sl
            cdev[sl] = g
            for q in range(cap):
                cvalid[sl, q] = False
                cvalid[q, sl] = False
        out[r] = sl
    return out


@njit(cache=True)
def _dot_vec(A: np.ndarray, i: int, x: np.ndarray) -> float:  # pragma: no cover - numba
    """``<A_i, x>`` for row ``i`` of a real matrix (four partial sums)."""
    d = A.shape[1]
    a0 = a1 = a2 = a3 = 0.0
    t = 0
    while t + 4 <= d:
        a0 += A[i, t] * x[t]
        a1 += A[i, t + 1] * x[t + 1]
        a2 += A[i, t + 2] * x[t + 2]
        a3 += A[i, t + 3] * x[t + 3]
        t += 4
    while t < d:
        a0 += A[i, t] * x[t]
        t += 1
    return (a0 + a1) + (a2 + a3)


@njit(cache=True)
def _inner_products_v(
    V: np.ndarray, rows: np.ndarray, u: np.ndarray, w: np.ndarray, out: np.ndarray
) -> float:  # pragma: no cover - numba
    """``out[r] = v^H g_{rows[r]}`` for the rows ``rows`` of ``G`` (``V``: ``G`` viewed as
    reals, ``u``, ``w`` from :func:`_interleave`: two contiguous real dot products per
    row); returns the smallest ``|v^H g|^2``."""
    worst = np.inf
    for i in range(rows.size):
        ar, ai = _dot2(V, rows[i], u, w)
        out[i] = ar + 1j * ai
        v = ar * ar + ai * ai
        if v < worst:
            worst = v
    return worst


@njit(cache=True)
def maxmin_sca_warm(
    G: np.ndarray,
    m0: np.ndarray,
    outer: int,
    inner: int,
    stop_at: float,
    wt: np.ndarray,
    geometric: bool,
    gid: np.ndarray,
    cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, float]:  # pragma: no cover - numba
    """:func:`maxmin_sca` with each surrogate solved exactly by Wolfe's method
    (:func:`min_norm_wolfe`), warm-started from the previous min-norm point, on the set of
    rows ``gid`` (length ``S``) of ``G`` (read in place, no copy of the rows).

    ``wt`` (length ``S``, aligned with ``gid``, in/out) holds the weights of the min-norm
    point of the last accepted iterate (zeros: a cold start); they seed the corral of the
    next surrogate and of the next call, so that a run on a slightly changed set (one
    device more or fewer) starts next to its solution.  With a finite ``stop_at`` the run
    also stops once it cannot reach ``stop_at`` even if every iteration left gained as much
    as the last, and
    (``geometric``) once it cannot reach it even at ``GEOM_SAFETY`` times the sum of the
    gains left extrapolated geometrically from the ratio of the last two.
    Each iteration solves on a working set (the corral, then
    the ``max(WS_MIN, 2 N)`` smallest margins) and adds the devices that violate the
    optimality condition of the min-norm point over the whole set, up to ``WARM_ROUNDS``
    times.  Cost per iteration: ``O(S N)`` for the checks plus ``O(W N + c N + c^2)`` per
    added point (``c <= 2 N + 1`` corral members), ``O(c^3)`` to rebuild the warm corral's
    factor, plus ``O(N)`` per pair of its members not in ``cache`` (complex products
    ``g_a^H g_b`` kept between iterations and calls, see :func:`new_gram_cache`).
    Sets of at most ``DENSE_MAX`` devices run :func:`_maxmin_dense` (``inner`` steps).
    Returns the unit-norm beamformer and its smallest margin.
    """
    s = gid.size
    n = G.shape[1]
    if s <= DENSE_MAX:
        return _maxmin_dense(G[gid], m0, outer, inner, stop_at)
    d = 2 * n
    m = m0 / np.sqrt(np.sum(np.abs(m0) ** 2))
    V = G.view(np.float64)
    u = np.empty(2 * n)
    w = np.empty(2 * n)
    c_ip = np.empty(s, dtype=np.complex128)
    _interleave(m, u, w)
    best = _inner_products_v(V, gid, u, w, c_ip)
    w0 = min(s, max(WS_MIN, WS_PER_ANTENNA * n))
    wadd = max(8, n)
    P = np.empty((s, d))
    Wd = np.empty(s, dtype=np.int64)
    pos = -np.ones(s, dtype=np.int64)
    ph = np.empty(s, dtype=np.complex128)
    marg = np.empty(s)
    cm = d + 2
    L = np.zeros((cm, cm + 1))  # the factor, and the forward solution of L y = 1
    cor = np.zeros(cm, dtype=np.int64)
    lam = np.zeros(cm)
    alpha = np.zeros(cm)
    x = np.zeros(d)
    t_out = np.empty(s)
    t_all = np.empty(s)
    c_new = np.empty(s, dtype=np.complex128)
    xc = np.empty(n, dtype=np.complex128)
    prev_gain = 0.0
    for it in range(outer):
        if best >= stop_at:
            break
        for i in range(s):
            mag = np.abs(c_ip[i])
            ph[i] = c_ip[i] / mag if mag > 0 else 1.0 + 0j
            marg[i] = mag * mag
        # working set: the warm corral, then the smallest margins
        nw = 0
        for i in range(s):
            if wt[i] > 0.0 and nw < cm:
                pos[i] = nw
                Wd[nw] = i
                nw += 1
        ncor = nw
        thr = np.partition(marg, w0 - 1)[w0 - 1]
        for i in range(s):
            if pos[i] < 0 and marg[i] < thr and nw < ncor + w0:
                pos[i] = nw
                Wd[nw] = i
                nw += 1
        for i in range(s):
            if pos[i] < 0 and marg[i] == thr and nw < ncor + w0:
                pos[i] = nw
                Wd[nw] = i
                nw += 1
        for r in range(nw):
            i = Wd[r]
            cc = np.conj(ph[i])
            for j in range(n):
                v = G[gid[i], j] * cc
                P[r, j] = v.real
                P[r, n + j] = v.imag
        c = 0
        if ncor > 0:
            # Gram matrix of the warm corral's points (symmetric: each entry once), then
            # its Cholesky factor from these entries (O(c^3)); <P_a, P_b> =
            # Re(ph_a conj(ph_b) g_a^H g_b), the complex products taken from the cache
            # (the corral changes little from one rebuild to the next: O(N) per pair only
            # for pairs not cached)
            slots = _cache_slots(Wd, ncor, gid, cache)
            cz = cache[2]
            cvalid = cache[3]
            gram = np.empty((ncor, ncor))
            for r in range(ncor):
                ia = Wd[r]
                sa = slots[r]
                for q in range(r + 1):
                    ib = Wd[q]
                    sb = slots[q]
                    if cvalid[sa, sb]:
                        z = cz[sa, sb]
                    else:
                        z = _gram_entry(V, gid[ia], gid[ib])
                        cz[sa, sb] = z
                        cz[sb, sa] = np.conj(z)
                        cvalid[sa, sb] = True
                        cvalid[sb, sa] = True
                    dot = (ph[ia] * np.conj(ph[ib]) * z).real
                    gram[r, q] = dot
                    gram[q, r] = dot
            for r in range(ncor):
                if _corral_add_gram(L, c, gram, cor, r):
                    cor[c] = r
                    lam[c] = wt[Wd[r]]
                    c += 1
        if c == 0:  # cold: the shortest point of the working set
            r0 = 0
            short = np.inf
            for r in range(nw):
                v = 0.0
                for t in range(d):
                    v += P[r, t] * P[r, t]
                if v < short:
                    short = v
                    r0 = r
            _corral_add(L, 0, P, cor, r0)
            cor[0] = r0
            lam[0] = 1.0
            c = 1
        else:
            tot = 0.0
            for i in range(c):
                tot += lam[i]
            for i in range(c):
                lam[i] /= tot
            c = _corral_minor(L, c, cor, lam, alpha)
        fresh = False  # whether c_new already holds cand^H g_i for the final x
        for rnd in range(WARM_ROUNDS):
            c = min_norm_wolfe(P, nw, cor, lam, c, L, x, MIN_NORM_GAP, WOLFE_MAJOR_PER_DIM * d)
            nx2 = 0.0
            for t in range(d):
                nx2 += x[t] * x[t]
            if nx2 <= 1e-300 or rnd == WARM_ROUNDS - 1:
                break
            # optimality of the min-norm point over every device: Re(Gh_i^H x) >= ||x||^2;
            # the same pass gives g_i^H x, hence the inner products of the candidate
            # x / ||x|| with every device
            for j in range(n):
                u[2 * j] = x[j]
                u[2 * j + 1] = x[n + j]
                w[2 * j] = x[n + j]
                w[2 * j + 1] = -x[j]
            inv = 1.0 / np.sqrt(nx2)
            nv = 0
            for i in range(s):
                ar, ai = _dot2(V, gid[i], u, w)
                c_new[i] = (ar - 1j * ai) * inv
                if pos[i] >= 0:
                    continue
                val = ph[i].real * ar - ph[i].imag * ai
                t_all[i] = val
                if val < nx2 * (1.0 - 1e-6):
                    t_out[nv] = val
                    nv += 1
            if nv == 0:
                fresh = True
                break
            limit = np.inf
            if nv > wadd:
                limit = np.partition(t_out[:nv], wadd - 1)[wadd - 1]
            added = 0
            for i in range(s):
                if pos[i] >= 0 or added >= wadd:
                    continue
                val = t_all[i]
                if val < nx2 * (1.0 - 1e-6) and val <= limit:
                    pos[i] = nw
                    Wd[nw] = i
                    cc = np.conj(ph[i])
                    for j in range(n):
                        v = G[gid[i], j] * cc
                        P[nw, j] = v.real
                        P[nw, n + j] = v.imag
                    nw += 1
                    added += 1
        for r in range(nw):
            pos[Wd[r]] = -1
        for j in range(n):
            xc[j] = x[j] + 1j * x[n + j]
        nrm = np.sqrt(np.sum(np.abs(xc) ** 2))
        if nrm <= 1e-300:
            break
        cand = xc / nrm
        if fresh:
            new = np.inf
            for i in range(s):
                v = c_new[i].real ** 2 + c_new[i].imag ** 2
                if v < new:
                    new = v
        else:
            _interleave(cand, u, w)
            new = _inner_products_v(V, gid, u, w, c_new)
        if new > best * (1.0 + 1e-9):
            gain = new - best
            m = cand
            best = new
            c_ip[:] = c_new
            for i in range(s):
                wt[i] = 0.0
            for i in range(c):
                wt[Wd[cor[i]]] = lam[i]
            # the gains shrink from one iteration to the next: a run that cannot reach a
            # finite stop_at even at its last gain for every iteration left stops here,
            # and so does one whose gains, shrinking geometrically at the ratio of the
            # last two, would not reach it even at GEOM_SAFETY times their sum
            if stop_at < np.inf:
                left = (outer - it - 1) * gain
                if geometric and prev_gain > 0.0 and gain < prev_gain:
                    ratio = gain / prev_gain
                    left = min(left, GEOM_SAFETY * gain * ratio / (1.0 - ratio))
                if best + left < stop_at:
                    break
            prev_gain = gain
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
    ``iters`` power iterations from a fixed start (a cheap start for the greedy).

    The matrix is formed in real arithmetic from the normalized channels stored by
    antenna (contiguous over devices), its upper triangle in 2 x 2 blocks of entries
    (``O(|idx| N^2)``); each iteration then costs ``O(N^2)``."""
    n = G.shape[1]
    s = idx.size
    Ur = np.empty((n, s))
    Ui = np.empty((n, s))
    for q in range(s):
        i = idx[q]
        nrm = 0.0
        for j in range(n):
            nrm += G[i, j].real ** 2 + G[i, j].imag ** 2
        f = 1.0 / np.sqrt(nrm)
        for j in range(n):
            Ur[j, q] = G[i, j].real * f
            Ui[j, q] = G[i, j].imag * f
    # A[r, c] = sum_q u_q[r] conj(u_q[c]) for c >= r (entries past n - 1 are recomputed
    # copies of the last row or column when n is odd)
    A = np.empty((n, n), dtype=np.complex128)
    for r0 in range(0, n, 2):
        r1 = min(r0 + 1, n - 1)
        for c0 in range(r0, n, 2):
            c1 = min(c0 + 1, n - 1)
            a00r = a00i = a01r = a01i = a10r = a10i = a11r = a11i = 0.0
            for q in range(s):
                xr0 = Ur[r0, q]
                xi0 = Ui[r0, q]
                xr1 = Ur[r1, q]
                xi1 = Ui[r1, q]
                yr0 = Ur[c0, q]
                yi0 = Ui[c0, q]
                yr1 = Ur[c1, q]
                yi1 = Ui[c1, q]
                a00r += xr0 * yr0 + xi0 * yi0
                a00i += xi0 * yr0 - xr0 * yi0
                a01r += xr0 * yr1 + xi0 * yi1
                a01i += xi0 * yr1 - xr0 * yi1
                a10r += xr1 * yr0 + xi1 * yi0
                a10i += xi1 * yr0 - xr1 * yi0
                a11r += xr1 * yr1 + xi1 * yi1
                a11i += xi1 * yr1 - xr1 * yi1
            A[r0, c0] = a00r + 1j * a00i
            A[r0, c1] = a01r + 1j * a01i
            A[r1, c0] = a10r + 1j * a10i
            A[r1, c1] = a11r + 1j * a11i
    for r in range(n):
        for c in range(r + 1, n):
            A[c, r] = np.conj(A[r, c])
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

#: A bounded drop-phase run (``drop_outer`` SCA iterations) is continued to ``outer``
#: iterations when its smallest margin reaches this value (the set may be served whole).
DROP_CONTINUE = 0.5

#: Slots of the integer state of :func:`fast_advance`.
_PHASE, _RUNS, _PTR, _FAILS, _NORDER, _STEP, _STREAK, _MVALID = 0, 1, 2, 3, 4, 5, 6, 7
#: Phases: dropping, preparing the add-back, adding back, done.
DROP, ADD_PREPARE, ADD_BACK, DONE = 0, 1, 2, 3


@njit(cache=True)
def _row_margins(G: np.ndarray, idx: np.ndarray, m: np.ndarray) -> np.ndarray:  # pragma: no cover
    """:func:`margins` of the rows ``idx`` of ``G`` (no copy of the rows; two contiguous
    real dot products per row, see :func:`_inner_products_v`)."""
    n = G.shape[1]
    V = G.view(np.float64)
    u = np.empty(2 * n)
    w = np.empty(2 * n)
    _interleave(m, u, w)
    norm2 = 0.0
    for j in range(n):
        norm2 += m[j].real ** 2 + m[j].imag ** 2
    out = np.empty(idx.size)
    for r in range(idx.size):
        ar, ai = _dot2(V, idx[r], u, w)
        out[r] = (ar * ar + ai * ai) / norm2
    return out


@njit(cache=True)
def _smallest(v: np.ndarray, d: int) -> np.ndarray:  # pragma: no cover - numba
    """Indices of the ``d`` smallest entries of ``v`` (ties at the threshold in index
    order), ``O(len(v))``."""
    thr = np.partition(v, d - 1)[d - 1]
    out = np.empty(d, dtype=np.int64)
    cnt = 0
    for r in range(v.size):
        if v[r] < thr:
            out[cnt] = r
            cnt += 1
    for r in range(v.size):
        if v[r] == thr and cnt < d:
            out[cnt] = r
            cnt += 1
    return out


#: The largest group of devices one add-back try adds at once (the group doubles after a
#: try that succeeds and halves after one that fails).
ADD_STEP_MAX = 64

#: An add-back try first runs on the ``ADD_SUBSET * max(WS_MIN, 2 N)`` active devices of
#: smallest margins (the others are far from binding), the whole set only if needed.
ADD_SUBSET = 4


@njit(cache=True)
def _add_subset(
    idx: np.ndarray,
    marg: np.ndarray,
    weights: np.ndarray,
    new: np.ndarray,
    size: int,
) -> np.ndarray:  # pragma: no cover - numba
    """The devices of ``idx`` with the ``size`` smallest margins ``marg`` (aligned with
    ``idx``), with the devices marked in ``new`` (boolean, length ``K``) and every device
    of positive min-norm weight (sorted; ``idx`` itself if it has at most ``size``
    devices).  ``O(|idx|)``."""
    s = idx.size
    if s <= size:
        return idx
    thr = np.partition(marg, size - 1)[size - 1]
    keep = np.zeros(s, dtype=np.bool_)
    cnt = 0  # the smallest margins kept (at most size; ties at thr in index order)
    for r in range(s):
        if marg[r] < thr:
            keep[r] = True
            cnt += 1
    for r in range(s):
        if marg[r] == thr and cnt < size:
            keep[r] = True
            cnt += 1
    for r in range(s):
        i = idx[r]
        if new[i] or weights[i] > 0.0:
            keep[r] = True
    return idx[keep]


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
    weights: np.ndarray,
    marg: np.ndarray,
    state: np.ndarray,
    max_runs: int,
    outer: int,
    inner: int,
    drop_fraction: float,
    add_back: bool,
    add_back_tries: int,
    drop_outer: int,
    cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:  # pragma: no cover - numba
    """Advance the greedy selection by at most ``max_runs`` max-min SCA runs (resumable).

    The whole state lives in the arrays (``active``, ``m``, ``order``, ``weights``,
    ``marg``: the margins of the active devices under ``m`` kept between add-back tries,
    ``state``), so the result does not depend on how the work is cut into calls.  Every
    run is :func:`maxmin_sca_warm`, warm-started from ``m`` and from the min-norm weights
    ``weights`` (length ``K``) of the last accepted run.  Phases:

    * ``DROP``: improve ``m`` for the active set; while more than ``ONE_AT_A_TIME``
      devices are active a run makes at most ``drop_outer`` SCA iterations, continued up
      to ``outer`` only when its smallest margin reaches ``DROP_CONTINUE`` (the margins
      below 1, which decide the drop, change little after a few iterations); if every
      margin is at least 1, go on; else drop the ``max(1, floor(drop_fraction * v))``
      devices with the smallest margins, ``v`` the number of margins below 1;
    * ``ADD_PREPARE``: every dropped servable device that ``m`` already serves is added
      (exact); the rest are ordered by decreasing margin;
    * ``ADD_BACK`` (if ``add_back``): the next ``state[_STEP]`` (at least 1) of them not
      yet active are added as a group if the warm-started SCA still serves the enlarged
      set (then every remaining device that the new ``m`` serves is added too); the group
      doubles (up to ``ADD_STEP_MAX``) after two kept groups in a row and halves after a
      group that fails, and a single device that fails is skipped; the pass ends after
      ``add_back_tries`` skipped devices in a row.  A try on more than
      ``ADD_SUBSET * max(WS_MIN, 2 N)`` devices runs first on that many of smallest
      margins plus the group and the corral (:func:`_add_subset`): kept if its beamformer
      serves the whole enlarged set, a failure if it does not serve the subset, else the
      run on the whole set decides (one SCA run counted).  Tries stop early by the
      geometric rule of :func:`maxmin_sca_warm`.

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
            ws = weights[idx]
            if idx.size > ONE_AT_A_TIME and drop_outer < outer:
                cand, best = maxmin_sca_warm(G, m, drop_outer, inner, 1.0, ws, False, idx, cache)
                if DROP_CONTINUE <= best < 1.0:
                    cand, best = maxmin_sca_warm(
                        G, cand, outer - drop_outer, inner, 1.0, ws, False, idx, cache
                    )
            else:
                cand, best = maxmin_sca_warm(G, m, outer, inner, 1.0, ws, False, idx, cache)
            weights[idx] = ws
            m[:] = cand
            state[_RUNS] += 1
            runs += 1
            if best >= 1.0:
                state[_PHASE] = ADD_PREPARE
                continue
            dm = _row_margins(G, idx, m)
            nv = 0
            for v in dm:
                if v < 1.0:
                    nv += 1
            # one at a time while the set is small (as cheap as it is careful), in bulk after
            d = 1 if idx.size <= ONE_AT_A_TIME else max(1, int(drop_fraction * nv))
            d = min(d, idx.size - 1) if idx.size > 1 else 1
            worst = _smallest(dm, d)
            for r in worst:
                active[idx[r]] = False
                weights[idx[r]] = 0.0
        elif phase == ADD_PREPARE:
            cand_idx = np.flatnonzero(servable & ~active)
            md = _row_margins(G, cand_idx, m)
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
            # the next group of candidates not yet active, in order
            step = max(1, state[_STEP])
            grp = np.empty(step, dtype=np.int64)
            ng = 0
            p = state[_PTR]
            while p < state[_NORDER] and ng < step:
                i = order[p]
                p += 1
                if not active[i]:
                    grp[ng] = i
                    ng += 1
            if ng == 0:
                state[_PTR] = p
                continue
            new = np.zeros(k, dtype=np.bool_)
            for r in range(ng):
                active[grp[r]] = True
                new[grp[r]] = True
            idx = np.flatnonzero(active)
            size = ADD_SUBSET * max(WS_MIN, WS_PER_ANTENNA * n)
            ok = False
            cand = m
            checked = False  # whether marg holds the margins of the enlarged set under cand
            if idx.size > size:
                # the margins of the active devices under m are kept between tries (m
                # changes only when a try succeeds); the new group's are computed here
                if state[_MVALID] == 0:
                    old_idx = np.flatnonzero(active & ~new)
                    marg[old_idx] = _row_margins(G, old_idx, m)
                    state[_MVALID] = 1
                marg[grp[:ng]] = _row_margins(G, grp[:ng], m)
                sub = _add_subset(idx, marg[idx], weights, new, size)
                # the run on the devices of smallest margins (and the corral) first: kept
                # if it serves the whole enlarged set, a failure if it cannot serve its own
                # subset, else (rare) the run on the whole set decides
                ws = weights[sub]
                cand, best = maxmin_sca_warm(G, m, outer, inner, 1.0, ws, True, sub, cache)
                decided = best < 1.0
                if best >= 1.0:
                    mc = _row_margins(G, idx, cand)
                    if np.min(mc) >= 1.0:
                        weights[sub] = ws
                        marg[idx] = mc
                        checked = True
                        ok = True
                        decided = True
            else:
                decided = False
            if not decided:
                ws = weights[idx]
                cand, best = maxmin_sca_warm(G, m, outer, inner, 1.0, ws, True, idx, cache)
                if best >= 1.0:
                    weights[idx] = ws
                    ok = True
            state[_RUNS] += 1
            runs += 1
            if ok:
                state[_MVALID] = 1 if checked else 0
                m[:] = cand
                state[_PTR] = p
                state[_FAILS] = 0
                state[_STREAK] += 1
                # the group doubles after two successes in a row
                state[_STEP] = min(2 * ng, ADD_STEP_MAX) if state[_STREAK] >= 2 else ng
                for r in range(state[_PTR], state[_NORDER]):
                    i = order[r]
                    if not active[i]:
                        acc = 0j
                        for c in range(n):
                            acc += np.conj(m[c]) * G[i, c]
                        if acc.real**2 + acc.imag**2 >= 1.0:
                            active[i] = True
                            marg[i] = acc.real**2 + acc.imag**2
            else:
                state[_STREAK] = 0
                for r in range(ng):
                    active[grp[r]] = False
                if ng > 1:  # the same candidates again, half as many
                    state[_STEP] = ng // 2
                else:
                    state[_PTR] = p
                    state[_FAILS] += 1


@njit(cache=True, parallel=True)
def fast_batch(
    G: np.ndarray,
    active: np.ndarray,
    m: np.ndarray,
    servable: np.ndarray,
    order: np.ndarray,
    weights: np.ndarray,
    marg: np.ndarray,
    state: np.ndarray,
    todo: np.ndarray,
    slots: np.ndarray,
    start: np.ndarray,
    max_runs: np.ndarray,
    outer: int,
    inner: int,
    drop_fraction: float,
    add_back: bool,
    add_back_tries: int,
    drop_outer: int,
    cslot: np.ndarray,
    cdev: np.ndarray,
    cz: np.ndarray,
    cvalid: np.ndarray,
    cn: np.ndarray,
) -> None:  # pragma: no cover - numba
    """:func:`fast_init` (if ``start[t]``) and :func:`fast_advance` for the draws ``todo[t]``
    of the ``(B, K, N)`` channels, up to ``max_runs[t]`` SCA runs each, in parallel over
    them (Numba threads; passing only unfinished draws keeps the threads evenly loaded).
    Each draw's arrays are its own; ``slots[t]`` is the row of ``cslot`` ... ``cn`` (a
    stack of caches of :func:`new_gram_cache`) that draw ``todo[t]`` holds until it is
    done.  So the results do not depend on the number of threads or on the scheduling."""
    for t in prange(todo.size):
        b = todo[t]
        q = slots[t]
        if start[t]:
            fast_init(G[b], active[b], m[b], servable[b], state[b])
        if max_runs[t] > 0:
            fast_advance(
                G[b],
                active[b],
                m[b],
                servable[b],
                order[b],
                weights[b],
                marg[b],
                state[b],
                max_runs[t],
                outer,
                inner,
                drop_fraction,
                add_back,
                add_back_tries,
                drop_outer,
                (cslot[q], cdev[q], cz[q], cvalid[q], cn[q]),
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
