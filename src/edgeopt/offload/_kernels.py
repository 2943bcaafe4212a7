"""Numba kernels of the multi-user offloading solvers (no input checks here: callers validate).

Notation: user ``i`` has the uplink rate ``r_i(b) = b log2(1 + s_i / b)`` on a band of ``b``
Hz, with ``s_i = p_i g_i / N0`` (Hz).  In the normalized band ``u = b / s_i`` the rate is
``s_i rho(u)``, ``rho(u) = u log2(1 + 1/u)`` (increasing, concave, ``rho(inf) = 1/ln 2``).
The bandwidth part of the cost is ``sum_i x_i w_i / r_i(beta_i)`` with ``sum_i x_i beta_i <=
B`` (``x_i = 1``: the cost of a decision; ``0 < x_i < 1``: its perspective relaxation).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

LN2 = math.log(2.0)
#: Most steps of the inner (per-user band, safeguarded Newton) and the outer (multiplier,
#: bisection on ``ln mu`` over a bracket 8 wide: 2^-64 of it) searches.
INNER_STEPS = 100
OUTER_STEPS = 64
#: Search range of ``ln u`` (normalized band) and of ``ln mu``.
LOG_U_MIN, LOG_U_MAX = -45.0, 30.0


@njit(cache=True)
def rho(u: float) -> float:  # pragma: no cover - numba
    """``u log2(1 + 1/u)``: the rate per unit of ``s`` on a normalized band ``u``."""
    return u * math.log1p(1.0 / u) / LN2


@njit(cache=True)
def rho_prime(u: float) -> float:  # pragma: no cover - numba
    """``d rho / du = (ln(1 + 1/u) - 1/(1 + u)) / ln 2`` (series for large ``u``)."""
    z = 1.0 / u
    if z < 1e-4:
        d = z * z * (0.5 - z * (2.0 / 3.0 - z * (0.75 - 0.8 * z)))
    else:
        d = math.log1p(z) - z / (1.0 + z)
    return d / LN2


@njit(cache=True)
def log_psi(u: float) -> tuple[float, float]:  # pragma: no cover - numba
    """``ln psi(u)`` with ``psi = rho' / rho^2``, and its derivative in ``ln u``.

    ``rho'' = -1 / (ln 2 u (1 + u)^2)``, so ``d ln psi / d ln u = u (rho''/rho' -
    2 rho'/rho)``.
    """
    r = rho(u)
    rp = rho_prime(u)
    rpp = -1.0 / (LN2 * u * (1.0 + u) ** 2)
    return math.log(rp) - 2.0 * math.log(r), u * (rpp / rp - 2.0 * rp / r)


@njit(cache=True)
def band_for_multiplier(w: float, s: float, mu: float) -> float:  # pragma: no cover - numba
    """The band ``beta`` minimizing ``w / r(beta) + mu beta`` (``inf`` when ``mu = 0``).

    Stationarity: ``(w / s^2) rho'(u) / rho(u)^2 = mu`` with ``u = beta / s``; the left side
    decreases in ``u``.  Newton's method on ``ln psi(e^v) = ln(mu s^2 / w)`` in ``v = ln u``,
    safeguarded by a bisection bracket (a step leaving the bracket is a bisection step).
    """
    if mu <= 0.0:
        return np.inf
    target = math.log(mu * s * s / w)
    lo, hi = LOG_U_MIN, LOG_U_MAX
    f_lo, _ = log_psi(math.exp(lo))
    if f_lo <= target:
        return s * math.exp(lo)
    f_hi, _ = log_psi(math.exp(hi))
    if f_hi >= target:
        return s * math.exp(hi)
    v = 0.0
    for _ in range(INNER_STEPS):
        f, df = log_psi(math.exp(v))
        g = f - target
        if g > 0.0:
            lo = v
        else:
            hi = v
        step = g / df if df < 0.0 else 0.0
        nv = v - step
        if not (lo < nv < hi) or step == 0.0:
            nv = 0.5 * (lo + hi)
        if abs(nv - v) < 1e-14 or hi - lo < 1e-14:
            v = nv
            break
        v = nv
    return s * math.exp(v)


@njit(cache=True)
def allocate_band(
    w: np.ndarray, s: np.ndarray, x: np.ndarray, total: float
) -> tuple[np.ndarray, float, float]:  # pragma: no cover - numba
    """Minimize ``sum_i x_i w_i / r_i(beta_i)`` s.t. ``sum_i x_i beta_i <= total``.

    Returns ``(beta, value, mu)``: the per-user bands (``b_i = x_i beta_i`` Hz is what
    user ``i`` gets; 0 where ``x_i = 0``), the minimum and the multiplier of the budget.
    Bisection on ``ln mu`` until the budget is met; the bands are then scaled down onto
    the budget if they exceed it by rounding, so the allocation is always feasible.
    """
    n = w.shape[0]
    beta = np.zeros(n)
    any_on = False
    for i in range(n):
        if x[i] > 0.0:
            any_on = True
    if not any_on:
        return beta, 0.0, 0.0
    # bracket mu: used(mu) = sum x_i beta_i(mu) decreases in mu
    lo, hi = 0.0, 0.0  # ln mu
    while True:
        used = 0.0
        mu = math.exp(hi)
        for i in range(n):
            if x[i] > 0.0:
                used += x[i] * band_for_multiplier(w[i], s[i], mu)
        if used <= total:
            break
        lo = hi
        hi += 8.0
        if hi > 700.0:
            break
    while True:
        used = 0.0
        mu = math.exp(lo)
        for i in range(n):
            if x[i] > 0.0:
                used += x[i] * band_for_multiplier(w[i], s[i], mu)
        if used >= total or lo < -700.0:
            break
        hi = lo
        lo -= 8.0
    for _ in range(OUTER_STEPS):
        mid = 0.5 * (lo + hi)
        mu = math.exp(mid)
        used = 0.0
        for i in range(n):
            if x[i] > 0.0:
                used += x[i] * band_for_multiplier(w[i], s[i], mu)
        if used > total:
            lo = mid
        else:
            hi = mid
    mu = math.exp(hi)
    used = 0.0
    for i in range(n):
        if x[i] > 0.0:
            beta[i] = band_for_multiplier(w[i], s[i], mu)
            used += x[i] * beta[i]
    if used > total:
        for i in range(n):
            beta[i] *= total / used
    value = 0.0
    for i in range(n):
        if x[i] > 0.0:
            value += x[i] * w[i] / (s[i] * rho(beta[i] / s[i]))
    return beta, value, mu


@njit(cache=True)
def dual_terms(w: np.ndarray, s: np.ndarray, mu: float) -> np.ndarray:  # pragma: no cover
    """``m_i(mu) = min_beta w_i / r_i(beta) + mu beta`` for every user (Lagrangian terms).

    ``mu = 0``: the infimum ``w_i ln 2 / s_i`` (the rate's limit ``s_i / ln 2``).
    """
    n = w.shape[0]
    out = np.empty(n)
    for i in range(n):
        if mu <= 0.0:
            out[i] = w[i] * LN2 / s[i]
        else:
            b = band_for_multiplier(w[i], s[i], mu)
            out[i] = w[i] / (s[i] * rho(b / s[i])) + mu * b
    return out
