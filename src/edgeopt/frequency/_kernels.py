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
def _inverse(rate: float, a: float) -> float:  # pragma: no cover - numba
    """The bandwidth at which ``b log2(1 + a/b) = rate`` (``inf`` beyond ``a / ln 2``)."""
    if rate <= 0.0:
        return 0.0
    c = rate * _LN2 / a
    if c >= 1.0:
        return math.inf
    s = c - math.log(c)  # > 1
    # Both guesses are below the root; Newton's first step lands above it (f is convex and
    # increasing for u > 1), after which it decreases monotonically to the root.
    u = max(s + math.log(s), 1.0 + math.sqrt(2.0 * (s - 1.0)))
    for _ in range(60):
        step = (u - math.log(u) - s) / (1.0 - 1.0 / u)
        u -= step
        if abs(step) <= 4e-16 * u:
            break
    return a * c / (u - c)


@njit(cache=True)
def needed_bandwidth(
    t: float, payload: np.ndarray, compute: np.ndarray, a: np.ndarray
) -> np.ndarray:  # pragma: no cover - numba
    """Each device's bandwidth to finish by ``t``: ``r_i^{-1}(L_i / (t − T_i))``."""
    k = payload.size
    out = np.empty(k)
    for i in range(k):
        slack = t - compute[i]
        out[i] = math.inf if slack <= 0.0 else _inverse(payload[i] / slack, a[i])
    return out


@njit(cache=True)
def demand(
    t: float, payload: np.ndarray, compute: np.ndarray, a: np.ndarray
) -> float:  # pragma: no cover - numba
    """``Σ_i`` of :func:`needed_bandwidth` (``inf`` as soon as one device cannot finish)."""
    total = 0.0
    for i in range(payload.size):
        slack = t - compute[i]
        if slack <= 0.0:
            return math.inf
        total += _inverse(payload[i] / slack, a[i])
        if total == math.inf:
            return math.inf
    return total
