r"""Exact one-dimensional method: a root finder on the round time.

For a round time ``t > T_i`` device ``i`` needs the rate ``L_i/(t − T_i)``, hence the
bandwidth ``b_i(t) = r_i^{-1}(L_i/(t − T_i))`` (Lambert's W, computed by Newton's method in
:mod:`edgeopt.frequency._kernels`), which decreases in ``t``.  The optimal round time is the
root of ``Σ_i b_i(t) = B`` on ``(t_∞, t_eq]``, ``t_∞ = max_i (T_i + L_i ln2 / a_i)`` the
round time with unlimited bandwidth and ``t_eq`` the equal split's; it is found by Brent's
method (:func:`scipy.optimize.brentq`), and each ``b_i`` is refined by Newton steps.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from edgeopt.frequency import _kernels, _rate
from edgeopt.frequency._methods._base import BandwidthProblem, MethodResult
from edgeopt.status import OPTIMAL

OPTIONS: dict[str, object] = {}


def _needed(t: float, p: BandwidthProblem) -> NDArray[np.float64]:
    out: NDArray[np.float64] = _kernels.needed_bandwidth(
        t, p.payload_bits, p.compute_s, p.snr_bandwidth_hz
    )
    return out


def solve_bisection(problem: BandwidthProblem) -> MethodResult:
    r"""Minimize ``max_i (T_i + L_i / r_i(b_i))`` s.t. ``Σ b_i <= B`` by a root on the time.

    References
    ----------
    The min-max structure (every device finishes together at the optimum) as in
    N. H. Tran et al., "Federated learning over wireless networks: optimization model design
    and analysis," IEEE INFOCOM 2019, doi:10.1109/INFOCOM.2019.8737464 (subproblem of the
    round time); the rate ``b log2(1 + p g/(N0 b))`` of an FDMA device with bandwidth ``b``.
    """
    p = problem
    k = p.payload_bits.size
    a = p.snr_bandwidth_hz
    total = p.total_bandwidth_hz
    t_inf = float(np.max(p.compute_s + p.payload_bits * _rate.LN2 / a))
    eq = np.full(k, total / k)
    t_eq = float(np.max(p.compute_s + p.payload_bits / _rate.rate_bps(eq, a)))
    evals = 0

    def excess(t: float) -> float:
        nonlocal evals
        evals += 1
        return float(_kernels.demand(t, p.payload_bits, p.compute_s, a)) / total - 1.0

    # The left end of the bracket: move from t_eq towards t_inf until the demand exceeds B.
    gap = t_eq - t_inf
    left = t_eq
    for _ in range(200):
        gap *= 0.5
        left = t_inf + gap
        if excess(left) > 0.0:
            break
    if excess(t_eq) >= 0.0 or not left < t_eq:  # the equal split is optimal (K = 1, ties)
        t_star = t_eq
        iterations = 0
    else:
        t_star, info = brentq(excess, left, t_eq, xtol=1e-15 * t_eq, rtol=1e-15, full_output=True)
        iterations = int(info.iterations)
    rate = p.payload_bits / (t_star - p.compute_s)
    b = _rate.polish(_needed(t_star, p), rate, a)
    b = b * (total / np.sum(b))
    return MethodResult(b, OPTIMAL, "bisection/brentq", iterations, {"function_evals": evals})
