"""Numba kernels of the bandwidth allocation (no input checks here: callers validate).

A device with SNR bandwidth ``a = p g / N0`` needs the bandwidth ``b`` with
``b log2(1 + a/b) = R`` to reach the rate ``R``.  With ``c = R ln2 / a`` in (0, 1) and
``u = c (1 + a/b)``, the equation is ``u − ln u = c − ln c`` with ``u > 1``
(``u = −W₋₁(−c e^{−c})``, the lower branch of Lambert's W), solved by Newton's method; then
``b = a c / (u − c)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_LN2 = math.log(2.0)


@njit(cache=True)
def _cold_u(s: float) -> float:  # pragma: no cover - numba
    """A starting point below the root ``u > 1`` of ``u − ln u = s`` (``s > 1``)."""
    return max(s + math.log(s), 1.0 + math.sqrt(2.0 * (s - 1.0)))


@njit(cache=True)
def _u_root(s: float, u: float) -> float:  # pragma: no cover - numba
    """The root ``u > 1`` of ``u − ln u = s`` by Newton's method from ``u`` (cold if ``<= 1``).

    ``u − ln u`` is convex and increasing for ``u > 1``: from any start above 1 the iterates
    are above the root after at most one step and then decrease to it.
    """
    if not u > 1.0 + 1e-9:
        u = _cold_u(s)
    for _ in range(60):
        step = (u - math.log(u) - s) / (1.0 - 1.0 / u)
        nxt = u - step
        if not nxt > 1.0:  # cannot happen in exact arithmetic; restart from below
            nxt = _cold_u(s)
        u = nxt
        # Newton's error after a step is about step² / (2 u (u − 1)): stop once that is
        # below the double-precision spacing of u.
        if step * step <= 2e-16 * u * u * (u - 1.0) or abs(step) <= 4e-16 * u:
            break
    return u


@njit(cache=True)
def _inverse(rate: float, a: float) -> float:  # pragma: no cover - numba
    """The bandwidth at which ``b log2(1 + a/b) = rate`` (``inf`` beyond ``a / ln 2``)."""
    if rate <= 0.0:
        return 0.0
    c = rate * _LN2 / a
    if c >= 1.0:
        return math.inf
    u = _u_root(c - math.log(c), 0.0)
    return a * c / (u - c)


@njit(cache=True)
def _demand_slope(
    t: float,
    payload: np.ndarray,
    compute: np.ndarray,
    a: np.ndarray,
    u: np.ndarray,
    du: np.ndarray,
    move: float,
    b: np.ndarray,
    db: np.ndarray,
) -> float:  # pragma: no cover - numba
    """``S(t) = Σ_i b_i(t)`` (``inf`` if a device cannot finish by ``t``), with ``b`` and
    ``db = b_i'(t)`` filled in; ``u`` holds each device's Newton variable and ``du`` its
    derivative in ``t`` at the last point, ``move`` the distance from it: the warm start is
    ``u + du · move`` (``du`` zero: none).

    With ``c = L ln2 / (a (t − T))`` and ``u − ln u = c − ln c``: ``b = a c / (u − c)``, and
    from ``φ(b) = b ln(1 + a/b) = L ln2 / (t − T)``, ``φ'(b) = (u − c)(1 − 1/u)``, so
    ``b'(t) = −(L ln2 / (t − T)²) / φ'(b)``; ``u'(t) = u (1 − c) / ((u − 1)(t − T))``.
    """
    total = 0.0
    for i in range(payload.size):
        slack = t - compute[i]
        if not slack > 0.0:
            return math.inf
        rho = payload[i] * _LN2 / slack
        c = rho / a[i]
        if not c < 1.0:
            return math.inf
        ui = _u_root(c - math.log(c), u[i] + du[i] * move)
        u[i] = ui
        du[i] = ui * (1.0 - c) / ((ui - 1.0) * slack)
        gap = ui - c
        b[i] = a[i] * c / gap
        db[i] = -rho / (slack * gap * (1.0 - 1.0 / ui))
        total += b[i]
    return total


@njit(cache=True)
def round_time(
    payload: np.ndarray, compute: np.ndarray, a: np.ndarray, total: float
) -> tuple[float, np.ndarray, int, int]:  # pragma: no cover - numba
    """The shortest round time ``t`` with ``Σ_i b_i(t) = B``, and the bandwidths.

    The root lies in the bracket ``(t_∞, t_eq]``: ``t_∞ = max_i (T_i + L_i ln2 / a_i)``,
    the round time with unlimited bandwidth, where ``S(t) = Σ_i b_i(t)`` has a pole, and
    ``t_eq`` the equal split's round time, where ``S <= B``.  Each step is Newton's step on
    ``G(t) = (t − t_∞)(S(t) − B)`` (nearly linear in ``t``: ``S`` is a pole
    ``A/(t − t_∞)`` of the bottleneck device plus the slowly varying demand of the others)
    when it stays inside the bracket, and a bisection of the bracket otherwise; the bracket
    shrinks at every evaluation.  Returns
    ``(t, b, iterations, evaluations)`` with ``b`` scaled to sum to ``B`` exactly.
    """
    k = payload.size
    t_inf = -math.inf
    t_eq = -math.inf
    share = total / k
    for i in range(k):
        t_inf = max(t_inf, compute[i] + payload[i] * _LN2 / a[i])
        t_eq = max(t_eq, compute[i] + payload[i] * _LN2 / (share * math.log1p(a[i] / share)))
    u = np.zeros(k)
    du = np.zeros(k)
    b = np.empty(k)
    db = np.empty(k)
    lo, hi = t_inf, t_eq
    t = t_eq
    s = _demand_slope(t, payload, compute, a, u, du, 0.0, b, db)
    evals = 1
    its = 0
    if k == 1 or not s < total * (1.0 - 1e-15):  # the equal split is optimal
        b[:] = share
        return t_eq, b, 0, evals
    bisect = False
    for _ in range(200):
        its += 1
        newton = not bisect
        nxt = t
        if newton:
            slope = 0.0
            for i in range(k):
                slope += db[i]
            # Newton on G(t) = (t − t_∞)(S(t) − B), linear in t where S is one pole
            # A/(t − t_∞) plus a slowly varying rest.
            x = t - t_inf
            step = -x * (s - total) / ((s - total) + x * slope)
            nxt = t + step
            if abs(step) <= 1e-8 * x and (lo < nxt < hi or nxt == t):
                # Newton's error after this step is of order step² / (t − t_∞) (every
                # device's pole is at or left of t_∞): below 1e-16 (t − t_∞); the step
                # itself is taken to first order below.
                break
            newton = lo < nxt < hi
        if not newton:
            nxt = 0.5 * (lo + hi)
            if not (lo < nxt < hi):  # the bracket is down to adjacent doubles
                break
        s_new = _demand_slope(nxt, payload, compute, a, u, du, nxt - t, b, db)
        evals += 1
        if s_new > total:
            lo = nxt
        else:
            hi = nxt
        bisect = s_new == math.inf  # no Newton step from there: bisect until S is finite
        if bisect:
            continue
        t, s = nxt, s_new
        if s == total:
            break
    if bisect:  # the last evaluation had a pole: go back to the right end, where S <= B
        s = _demand_slope(hi, payload, compute, a, u, du, hi - t, b, db)
        t = hi
        evals += 1
    # The last step, and the rounding's mismatch of the sum: the bandwidths move along the
    # curve b(t) to first order (in proportion to b_i'(t), so that the finish times stay
    # equal: near the pole it goes to the bottleneck device), what is left by a scaling.
    slope = 0.0
    for i in range(k):
        slope += db[i]
    if slope < 0.0:
        shift = (total - s) / slope
        t += shift
        s = 0.0
        for i in range(k):
            b[i] = max(b[i] + db[i] * shift, 0.5 * b[i])
            s += b[i]
    scale = total / s
    for i in range(k):
        b[i] *= scale
    return t, b, its, evals


@njit(cache=True)
def finish_times(
    bandwidth: np.ndarray, payload: np.ndarray, compute: np.ndarray, a: np.ndarray
) -> np.ndarray:  # pragma: no cover - numba
    """``T_i + L_i / (b_i log2(1 + a_i / b_i))`` (``inf`` where ``b_i <= 0``)."""
    k = payload.size
    out = np.empty(k)
    for i in range(k):
        bi = bandwidth[i]
        if bi > 0.0:
            out[i] = compute[i] + payload[i] * _LN2 / (bi * math.log1p(a[i] / bi))
        else:
            out[i] = math.inf
    return out


@njit(cache=True)
def _log_energy_slope(
    x: float, payload: float, cycles: float, kappa: float, power: float, a: float, deadline: float
) -> float:  # pragma: no cover - numba
    """``ln(−E'(b))`` at ``b = e^x`` for one device of the round-energy problem.

    ``E(b) = κ C³/(D − q)² + p q`` with the upload time ``q = L / r(b)`` and the slowest
    frequency that meets the deadline, ``f = C/(D − q)``; ``−E'(b) = (2κ f³ + p) L r'(b) /
    r(b)²`` (``+inf`` where ``q >= D``).
    """
    b = math.exp(x)
    z = a / b
    lg = math.log1p(z)
    r = b * lg / _LN2
    slope = (lg - z / (1.0 + z)) / _LN2
    slack = deadline - payload / r
    if not slack > 0.0:
        return math.inf
    f = cycles / slack
    return math.log((2.0 * kappa * f * f * f + power) * payload * slope / (r * r))


@njit(cache=True)
def _device_energy_bandwidth(
    log_nu: float,
    x_min: float,
    payload: float,
    cycles: float,
    kappa: float,
    power: float,
    a: float,
    deadline: float,
    guess: float,
) -> float:  # pragma: no cover - numba
    """``ln b`` with ``−E'(b) = ν`` (``x_min = ln b_min`` where ``−E'(b_min) <= ν``).

    ``−E'`` decreases in ``b`` (``E`` is convex) and is close to a power of ``b``, so the
    root of ``ln(−E'(e^x)) − ln ν`` is searched on ``x`` by the Illinois variant of regula
    falsi, in a bracket grown from ``guess`` (a previous root) when it is above ``x_min``,
    from ``x_min`` otherwise.
    """
    fa = _log_energy_slope(x_min, payload, cycles, kappa, power, a, deadline) - log_nu
    if not fa > 0.0:
        return x_min
    xa = x_min
    width = 0.5
    start = x_min
    if guess > x_min:
        f0 = _log_energy_slope(guess, payload, cycles, kappa, power, a, deadline) - log_nu
        width = 0.01
        if f0 > 0.0:
            xa, fa = guess, f0
            start = guess
        else:
            # The root is in [x_min, guess]: grow a bracket down from guess.
            xb, fb = guess, f0
            for _ in range(200):
                if f0 == 0.0:
                    return guess
                lo = max(x_min, guess - width)
                if lo == x_min:
                    break
                flo = _log_energy_slope(lo, payload, cycles, kappa, power, a, deadline) - log_nu
                if flo > 0.0:
                    xa, fa = lo, flo
                    break
                xb, fb = lo, flo
                width *= 2.0
            start = math.nan
    if start == start:  # grow a bracket up from start
        xb = start + width
        fb = _log_energy_slope(xb, payload, cycles, kappa, power, a, deadline) - log_nu
        for _ in range(200):
            if fb <= 0.0:
                break
            xa, fa = xb, fb
            width *= 2.0
            xb = xa + width
            fb = _log_energy_slope(xb, payload, cycles, kappa, power, a, deadline) - log_nu
    if fb == 0.0:
        return xb
    side = 0
    xc = xb
    for _ in range(200):
        xc = (xa * fb - xb * fa) / (fb - fa)
        if not (xa < xc < xb):
            xc = 0.5 * (xa + xb)
        fc = _log_energy_slope(xc, payload, cycles, kappa, power, a, deadline) - log_nu
        if fc == 0.0 or xb - xa <= 4e-16 * max(abs(xa), abs(xb), 1.0):
            break
        if fc > 0.0:
            xa, fa = xc, fc
            if side == 1:
                fb *= 0.5
            side = 1
        else:
            xb, fb = xc, fc
            if side == -1:
                fa *= 0.5
            side = -1
        if abs(fc) <= 1e-15:
            break
    return xc


@njit(cache=True)
def _energy_bandwidths(
    log_nu: float,
    x_min: np.ndarray,
    payload: np.ndarray,
    cycles: np.ndarray,
    kappa: np.ndarray,
    power: np.ndarray,
    a: np.ndarray,
    deadline: float,
    b: np.ndarray,
) -> float:  # pragma: no cover - numba
    """Fill ``b`` with every device's bandwidth at the price ``ν`` (its entries on entry
    are the starting guesses); return ``Σ b``."""
    total = 0.0
    for i in range(b.size):
        b[i] = math.exp(
            _device_energy_bandwidth(
                log_nu,
                x_min[i],
                payload[i],
                cycles[i],
                kappa[i],
                power[i],
                a[i],
                deadline,
                math.log(b[i]),
            )
        )
        total += b[i]
    return total


@njit(cache=True)
def round_energy(
    payload: np.ndarray,
    cycles: np.ndarray,
    kappa: np.ndarray,
    max_freq: np.ndarray,
    power: np.ndarray,
    a: np.ndarray,
    total: float,
    deadline: float,
) -> tuple[np.ndarray, np.ndarray, float, int]:  # pragma: no cover - numba
    """The least-energy frequencies and bandwidths for a feasible deadline, from the KKT
    conditions; returns ``(f, b, ν, evaluations)``.

    Given its bandwidth, device ``i`` uploads for ``q_i = L_i / r_i(b_i)`` and computes at
    the slowest frequency that meets the deadline, ``f_i = C_i/(D − q_i) <= f_i^max``, i.e.
    ``b_i >= b_i^min = r_i^{-1}(L_i / (D − C_i/f_i^max))``.  Its energy ``E_i(b_i)`` is
    convex and decreasing; the KKT conditions of ``min Σ E_i(b_i)`` s.t. ``Σ b_i = B``,
    ``b_i >= b_i^min`` read ``b_i = max(b_i^min, (−E_i')^{-1}(ν))``, and the price ``ν > 0``
    is the root of ``Σ_i b_i(ν) = B``, found by the Illinois method on ``ln ν`` (each
    ``b_i(ν)`` by :func:`_device_energy_bandwidth`).  Needs ``Σ b_i^min < B``.
    """
    k = payload.size
    x_min = np.empty(k)
    b = np.empty(k)
    y_hi = -math.inf
    for i in range(k):
        q_max = deadline - cycles[i] / max_freq[i]
        x_min[i] = math.log(_inverse(payload[i] / q_max, a[i]))
        b[i] = math.exp(x_min[i])
        y_hi = max(
            y_hi,
            _log_energy_slope(x_min[i], payload[i], cycles[i], kappa[i], power[i], a[i], deadline),
        )
    # At ν = max_i −E_i'(b_i^min) every device is at b_i^min (Σ <= B); below, more.
    evals = 0
    fb = math.log(
        _energy_bandwidths(y_hi, x_min, payload, cycles, kappa, power, a, deadline, b) / total
    )
    evals += 1
    ya, yb = y_hi - 1.0, y_hi
    fa = math.log(
        _energy_bandwidths(ya, x_min, payload, cycles, kappa, power, a, deadline, b) / total
    )
    evals += 1
    for _ in range(400):
        if fa >= 0.0:
            break
        yb, fb = ya, fa
        ya -= 2.0
        fa = math.log(
            _energy_bandwidths(ya, x_min, payload, cycles, kappa, power, a, deadline, b) / total
        )
        evals += 1
    side = 0
    yc = ya
    s = 0.0
    for _ in range(200):
        if fa == 0.0:
            yc = ya
            break
        yc = (ya * fb - yb * fa) / (fb - fa)
        if not (ya < yc < yb):
            yc = 0.5 * (ya + yb)
        s = _energy_bandwidths(yc, x_min, payload, cycles, kappa, power, a, deadline, b)
        evals += 1
        fc = math.log(s / total)
        if abs(fc) <= 1e-15 or yb - ya <= 4e-16 * max(abs(ya), abs(yb), 1.0):
            break
        if fc > 0.0:
            ya, fa = yc, fc
            if side == 1:
                fb *= 0.5
            side = 1
        else:
            yb, fb = yc, fc
            if side == -1:
                fa *= 0.5
            side = -1
    s = _energy_bandwidths(yc, x_min, payload, cycles, kappa, power, a, deadline, b)
    # Give the rounding's mismatch of Σ b to the devices above their minimum.
    bound = 0.0
    free = 0.0
    for i in range(k):
        if b[i] <= math.exp(x_min[i]) * (1.0 + 1e-12):
            bound += b[i]
        else:
            free += b[i]
    if free > 0.0:
        scale = (total - bound) / free
        for i in range(k):
            if b[i] > math.exp(x_min[i]) * (1.0 + 1e-12):
                b[i] *= scale
    f = np.empty(k)
    for i in range(k):
        z = a[i] / b[i]
        q = payload[i] * _LN2 / (b[i] * math.log1p(z))
        f[i] = min(cycles[i] / (deadline - q), max_freq[i]) if deadline > q else max_freq[i]
    return f, b, math.exp(yc), evals
