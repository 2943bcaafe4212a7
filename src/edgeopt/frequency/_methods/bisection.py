r"""Exact one-dimensional method: a bracketed root search on the round time, in one kernel.

For a round time ``t > T_i`` device ``i`` needs the rate ``L_i/(t − T_i)``, hence the
bandwidth ``b_i(t) = r_i^{-1}(L_i/(t − T_i))`` (the lower branch of Lambert's W, computed by
Newton's method), which decreases in ``t``.  The optimal round time is the root of
``S(t) = Σ_i b_i(t) = B`` in the bracket ``(t_∞, t_eq]``: ``t_∞ = max_i (T_i + L_i ln2 / a_i)``
is the round time with unlimited bandwidth, ``t_eq`` the equal split's.  The bracket is cut
at every evaluation, by a Newton step on ``(t − t_∞)(S(t) − B)`` with the analytic
derivative of ``S`` when that step falls inside it and by bisection otherwise; each device's Newton
iteration starts from its value at the previous point, moved along its derivative.  The
whole search is one call of :func:`edgeopt.frequency._kernels.round_time`.
"""

from __future__ import annotations

from edgeopt.frequency import _kernels
from edgeopt.frequency._methods._base import BandwidthProblem, MethodResult
from edgeopt.status import OPTIMAL

OPTIONS: dict[str, object] = {}


def solve_bisection(problem: BandwidthProblem) -> MethodResult:
    r"""Minimize ``max_i (T_i + L_i / r_i(b_i))`` s.t. ``Σ b_i <= B`` by a root on the time.

    Safeguarded Newton–bisection on ``t`` (every iterate stays in a bracket that shrinks at
    each evaluation of ``Σ_i b_i(t)``), each ``b_i(t)`` by Newton's method on the inverse
    rate, all in one Numba kernel.

    References
    ----------
    The min-max structure (every device finishes together at the optimum) as in
    N. H. Tran et al., "Federated learning over wireless networks: optimization model design
    and analysis," IEEE INFOCOM 2019, doi:10.1109/INFOCOM.2019.8737464 (subproblem of the
    round time); the rate ``b log2(1 + p g/(N0 b))`` of an FDMA device with bandwidth ``b``;
    W. H. Press, S. A. Teukolsky, W. T. Vetterling and B. P. Flannery, *Numerical Recipes*,
    3rd ed., Cambridge University Press, 2007, §9.4 (Newton's method kept inside a bracket
    by bisection).
    """
    p = problem
    _, b, iterations, evals = _kernels.round_time(
        p.payload_bits, p.compute_s, p.snr_bandwidth_hz, p.total_bandwidth_hz
    )
    return MethodResult(b, OPTIMAL, "bisection/newton", iterations, {"function_evals": evals})
