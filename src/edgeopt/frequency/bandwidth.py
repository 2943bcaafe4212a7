r"""Bandwidth split that makes a synchronous FDMA round as short as possible.

Device ``i`` computes for ``T_i`` seconds, then uploads ``L_i`` bits over ``b_i`` hertz at
``r_i(b_i) = b_i log2(1 + p_i g_i / (N0 b_i))``; the round ends when the last upload does:

.. math:: \min_{b \ge 0} \max_i \left(T_i + \frac{L_i}{r_i(b_i)}\right)
          \quad\text{s.t.}\quad Σ_i b_i \le B .
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import check_choice, check_device_vectors, check_scalar, invalid_inputs
from edgeopt.frequency import _kernels
from edgeopt.frequency._methods import bisection, brentq, convex
from edgeopt.frequency._methods._base import BandwidthProblem, MethodResult
from edgeopt.status import SolverStats

__all__ = ["BandwidthAllocation", "allocate_bandwidth", "METHODS", "TOLERANCE"]

#: The dispatch table of :func:`allocate_bandwidth`: one module per method, one signature.
_DISPATCH: dict[str, Callable[[BandwidthProblem], MethodResult]] = {
    "bisection": bisection.solve_bisection,
    "brentq": brentq.solve_brentq,
    "cvxpy": convex.solve_cvxpy,
}

#: The methods of :func:`allocate_bandwidth`.
METHODS = tuple(_DISPATCH)

#: Relative tolerance to which the methods agree on the round time (and a CVXPY answer
#: meets the bandwidth budget); the tests check the methods against each other with it.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class BandwidthAllocation:
    """Result of :func:`allocate_bandwidth`.

    Parameters
    ----------
    bandwidth_hz : numpy.ndarray of float64, shape (K,)
        Bandwidth of each device (hertz); sums to the total.
    round_latency_s : float
        ``max_i (T_i + L_i / r_i(b_i))`` at ``bandwidth_hz`` (seconds).
    finish_s : numpy.ndarray of float64, shape (K,)
        Each device's ``T_i + L_i / r_i(b_i)``; at the optimum all equal ``round_latency_s``.
    status : str
        :data:`edgeopt.status.OPTIMAL`, or :data:`~edgeopt.status.SOLVER_ERROR` when every
        CVXPY solver failed (then ``bandwidth_hz`` is the equal split).
    objective : float
        ``round_latency_s``.
    solve_time_s : float
        Wall-clock seconds of the whole call.
    stats : edgeopt.status.SolverStats
        ``solver_name`` ``"bisection/newton"``, ``"scipy/brentq"`` or ``"cvxpy/<solver>"``;
        ``iterations`` the root finder's iterations on the round time (1 program for
        CVXPY); ``extra["function_evals"]`` the one-dimensional methods' evaluations of
        ``Σ_i b_i(t)``.
    """

    bandwidth_hz: NDArray[np.float64]
    round_latency_s: float
    finish_s: NDArray[np.float64]
    status: str
    objective: float
    solve_time_s: float
    stats: SolverStats = field(default_factory=lambda: SolverStats("", None))


def _devices(**arrays: Any) -> dict[str, NDArray[np.float64]]:
    """Check per-device arrays (positive, or nonneg for ``compute_s``) and broadcast to (K,)."""
    return check_device_vectors(("compute_s",), **arrays)


def _snr_bandwidth(
    power: NDArray[np.float64], gain: NDArray[np.float64], noise: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``a = p g / N0`` (hertz), checked finite and positive."""
    with np.errstate(over="ignore", under="ignore"):
        a: NDArray[np.float64] = power * gain / noise
    if not (a.min() > 0.0 and a.max() < np.inf):
        raise invalid_inputs(
            "power_w, gain, noise_psd_w_per_hz",
            "a finite, positive SNR bandwidth p·g/N0 for every device",
        )
    return a


def allocate_bandwidth(
    payload_bits: Any,
    *,
    power_w: Any,
    gain: Any,
    noise_psd_w_per_hz: Any,
    compute_s: Any,
    total_bandwidth_hz: float,
    method: str = "bisection",
) -> BandwidthAllocation:
    r"""Split a band among devices so that the synchronous round ends as early as possible.

    Solves

    .. math:: \min_{b \ge 0} \max_i \left(T_i + \frac{L_i}{b_i \log_2(1 + p_i g_i/(N_0 b_i))}\right)
              \quad\text{s.t.}\quad Σ_i b_i \le B .

    The rate is concave in ``b`` (``b log(1 + a/b) = −rel_entr(b, b + a)``), so the problem
    is convex, and at the optimum every device finishes at the same time ``t`` and the whole
    band is used: ``t`` is the root of ``Σ_i b_i(t) = B``, ``b_i(t)`` the bandwidth device
    ``i`` needs to finish by ``t`` (decreasing in ``t``).  The methods:

    * ``"bisection"`` (default): that root in one compiled call, inside the bracket
      ``(t_∞, t_eq]`` (unlimited bandwidth, equal split) that is cut at every evaluation —
      by a Newton step on ``(t − t_∞)(Σ_i b_i(t) − B)`` with the analytic derivative when it
      stays inside, by bisection otherwise; each ``b_i(t)`` by Newton's method on the inverse
      rate, started from its value at the previous point.
    * ``"brentq"``: the same root with SciPy's scalar root finder
      (:func:`scipy.optimize.brentq`) on ``t`` and on each device's bandwidth — the
      reference the default is checked against; slow (a Python root finder per device).
    * ``"cvxpy"``: the convex program with Clarabel (SCS as fallback).

    Parameters
    ----------
    payload_bits : float or array_like, shape (K,)
        Bits ``L_i > 0`` each device uploads.
    power_w : float or array_like, shape (K,)
        Transmit power ``p_i > 0`` (watts).
    gain : float or array_like, shape (K,)
        Channel power gain ``g_i > 0`` (linear, path loss and fading).
    noise_psd_w_per_hz : float or array_like, shape (K,)
        Noise power spectral density ``N0 > 0`` (W/Hz).
    compute_s : float or array_like, shape (K,)
        Local computation time ``T_i >= 0`` before the upload (seconds).
    total_bandwidth_hz : float > 0
        The band ``B`` (hertz).
    method : {"bisection", "brentq", "cvxpy"}
        See above.

    Returns
    -------
    BandwidthAllocation

    Raises
    ------
    InvalidInputError
        Non-positive payloads, powers, gains, noise or band; negative compute times;
        non-finite values; shapes that do not broadcast to one ``(K,)``; unknown method.

    References
    ----------
    N. H. Tran, W. Bao, A. Zomaya, M. N. H. Nguyen and C. S. Hong, "Federated learning over
    wireless networks: optimization model design and analysis," IEEE INFOCOM 2019,
    doi:10.1109/INFOCOM.2019.8737464 (round time ``T_i + L/r_i``, FDMA rate, Eq. (1)–(3));
    Y. Shi, K. Yang, T. Jiang, J. Zhang and K. B. Letaief, "Communication-efficient edge AI:
    algorithms and systems," IEEE Commun. Surveys Tuts., 22(4):2167–2191, 2020,
    doi:10.1109/COMST.2020.3007787, §IV-B.

    Examples
    --------
    >>> from edgeopt.frequency import allocate_bandwidth
    >>> kw = dict(power_w=0.1, gain=[1e-10, 1e-11], noise_psd_w_per_hz=4e-21,
    ...           compute_s=[0.1, 0.2], total_bandwidth_hz=1e6)
    >>> res = allocate_bandwidth(1e6, **kw)
    >>> res.status, round(res.round_latency_s, 4), res.bandwidth_hz.sum().round(3)
    ('optimal', 0.3659, np.float64(1000000.0))
    >>> res.finish_s.round(4).tolist()  # both devices finish together
    [0.3659, 0.3659]
    >>> round(allocate_bandwidth(1e6, method="cvxpy", **kw).round_latency_s, 4)
    0.3659
    >>> round(allocate_bandwidth(1e6, method="brentq", **kw).round_latency_s, 4)
    0.3659
    """
    start = time.perf_counter()
    check_choice(method, "method", METHODS)
    arr = _devices(
        payload_bits=payload_bits,
        power_w=power_w,
        gain=gain,
        noise_psd_w_per_hz=noise_psd_w_per_hz,
        compute_s=compute_s,
    )
    total = check_scalar(total_bandwidth_hz, "total_bandwidth_hz", positive=True)
    a = _snr_bandwidth(arr["power_w"], arr["gain"], arr["noise_psd_w_per_hz"])
    problem = BandwidthProblem(arr["payload_bits"], a, arr["compute_s"], total)
    setup = time.perf_counter() - start
    res = _DISPATCH[method](problem)
    finish = _kernels.finish_times(res.bandwidth_hz, problem.payload_bits, problem.compute_s, a)
    latency = float(finish.max())
    return BandwidthAllocation(
        bandwidth_hz=res.bandwidth_hz,
        round_latency_s=latency,
        finish_s=finish,
        status=res.status,
        objective=latency,
        solve_time_s=time.perf_counter() - start,
        stats=SolverStats(res.solver_name, res.iterations, setup, res.extra),
    )
