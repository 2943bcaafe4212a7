r"""The one-dimensional method with SciPy's root finder at both levels: the reference.

The same root of ``Σ_i b_i(t) = B`` on the round time ``t`` as
:mod:`~edgeopt.frequency._methods.bisection`, found by :func:`scipy.optimize.brentq`, with
each device's bandwidth ``b_i(t)``, the root of ``b ln(1 + a_i/b) = L_i ln2/(t − T_i)``, also
found by :func:`scipy.optimize.brentq` on a bracket known in closed form.  It shares no
code with the Numba kernel, and is slow (a Python root finder per device per evaluation).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from edgeopt.frequency._methods._base import BandwidthProblem, MethodResult
from edgeopt.status import OPTIMAL

OPTIONS: dict[str, object] = {}

_LN2 = math.log(2.0)


def device_bandwidth(rate_bps: float, a: float) -> float:
    """The bandwidth ``b`` with ``b log2(1 + a/b) = rate_bps`` (``inf`` when out of reach).

    With ``c = rate ln2 / a`` in (0, 1) and ``x = a/b`` the equation is
    ``h(x) = ln(1 + x) − c x = 0`` with ``x > 0``; ``u = c (1 + x)`` solves ``u − ln u = s``,
    ``s = c − ln c > 1``, so ``u`` lies in ``[1, 2s]`` (``u − ln u`` increases for ``u > 1``)
    and ``x`` in ``[1/c − 1, 2s/c − 1]``, searched by Brent's method.
    """
    if rate_bps <= 0.0:
        return 0.0
    c = rate_bps * _LN2 / a
    if c >= 1.0:
        return math.inf
    s = c - math.log(c)
    lo, hi = (1.0 - c) / c, 2.0 * s / c - 1.0
    x: float = brentq(
        lambda x: math.log1p(x) - c * x, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps
    )
    return a / x


def _needed(t: float, p: BandwidthProblem) -> NDArray[np.float64]:
    slack = t - p.compute_s
    out = np.full(slack.size, math.inf)
    for i in range(slack.size):
        if slack[i] > 0.0:
            out[i] = device_bandwidth(float(p.payload_bits[i] / slack[i]), p.snr_bandwidth_hz[i])
    return out


def solve_brentq(problem: BandwidthProblem) -> MethodResult:
    r"""Minimize ``max_i (T_i + L_i / r_i(b_i))`` s.t. ``Σ b_i <= B``: Brent's method on the
    round time, and on each device's bandwidth.

    References
    ----------
    R. P. Brent, *Algorithms for Minimization without Derivatives*, Prentice-Hall, 1973,
    ch. 4 (the root finder of :func:`scipy.optimize.brentq`); the min-max round time as in
    N. H. Tran et al., IEEE INFOCOM 2019, doi:10.1109/INFOCOM.2019.8737464.
    """
    p = problem
    k = p.payload_bits.size
    a = p.snr_bandwidth_hz
    total = p.total_bandwidth_hz
    share = total / k
    t_inf = float(np.max(p.compute_s + p.payload_bits * _LN2 / a))
    t_eq = float(np.max(p.compute_s + p.payload_bits * _LN2 / (share * np.log1p(a / share))))
    evals = 0

    def excess(t: float) -> float:
        nonlocal evals
        evals += 1
        return float(np.sum(_needed(t, p))) / total - 1.0

    # The left end of the bracket: move from t_eq towards t_inf until the demand exceeds B.
    gap = t_eq - t_inf
    left = t_eq
    for _ in range(200):
        gap *= 0.5
        left = t_inf + gap
        if excess(left) > 0.0:
            break
    if excess(t_eq) >= 0.0 or not left < t_eq:  # the equal split is optimal (K = 1, ties)
        b = np.full(k, share)
        return MethodResult(b, OPTIMAL, "scipy/brentq", 0, {"function_evals": evals})
    t_star, info = brentq(
        excess, left, t_eq, xtol=1e-15 * t_inf, rtol=4 * np.finfo(float).eps, full_output=True
    )
    b = _needed(t_star, p)
    b = b * (total / np.sum(b))
    return MethodResult(b, OPTIMAL, "scipy/brentq", int(info.iterations), {"function_evals": evals})
