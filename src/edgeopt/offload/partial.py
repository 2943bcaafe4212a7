"""Partial offloading of one divisible task with a local CPU frequency (DVFS).

A task of ``L`` input bits and ``C`` CPU cycles is split: a fraction ``lam`` of it (``lam L``
bits, ``lam C`` cycles) is uploaded at rate ``r`` and computed by the server at ``F`` cycle/s,
the rest is computed locally at a frequency ``f <= f_max``, in parallel.  The problem

.. math::

    \\min_{\\lambda \\in [0, 1],\\ 0 < f \\le f_{max}} \\;
        \\kappa (1-\\lambda) C f^2 + p \\frac{\\lambda L}{r}
    \\quad \\text{s.t.} \\quad \\frac{(1-\\lambda) C}{f} \\le T, \\quad
        \\lambda \\Big(\\frac{L}{r} + \\frac{C}{F}\\Big) \\le T

is convex after the optimal ``f = (1 - lam) C / T`` is substituted:
``E(lam) = kappa C^3 (1 - lam)^3 / T^2 + p lam L / r`` on
``[max(0, 1 - f_max T / C), min(1, T / (L/r + C/F))]``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from scipy.optimize import minimize_scalar

from edgeopt import status as st
from edgeopt._validation import check_choice, check_scalar
from edgeopt.status import SolverStats

__all__ = ["PARTIAL_METHODS", "PartialOffloadingResult", "partial_offloading"]

#: Methods of :func:`partial_offloading`.
PARTIAL_METHODS = ("closed_form", "numeric")

#: Absolute tolerance on the fraction of the bounded scalar search of ``method="numeric"``.
NUMERIC_XTOL = 1e-12


@dataclass(frozen=True)
class PartialOffloadingResult:
    """Result of :func:`partial_offloading`.

    Parameters
    ----------
    fraction : float
        Offloaded fraction ``lam`` in ``[0, 1]``.
    cpu_freq_hz : float
        Local CPU frequency (0 when everything is offloaded), Hz.
    energy_j : float
        Device energy (local computing plus transmission), J.
    latency_s : float
        ``max(local time, upload + server time)``, s.
    objective : float
        ``energy_j``.
    status : str
        ``"optimal"`` or ``"infeasible"`` (no fraction meets the deadline; then
        ``fraction``, ``cpu_freq_hz`` are those of the smallest latency and the energy is
        that point's).
    method : str
    solve_time_s : float
    stats : edgeopt.status.SolverStats

    Examples
    --------
    >>> from edgeopt.offload import partial_offloading
    >>> res = partial_offloading(1e6, 1e9, rate_bps=5e6, deadline_s=1.0, max_cpu_freq_hz=2e9,
    ...                          kappa=1e-28, tx_power_w=0.2, server_cpu_freq_hz=1e10)
    >>> res.objective == res.energy_j, res.latency_s <= 1.0
    (True, True)
    """

    fraction: float
    cpu_freq_hz: float
    energy_j: float
    latency_s: float
    objective: float
    status: str
    method: str
    solve_time_s: float
    stats: SolverStats


def _energy(lam: float, kappa: float, cycles: float, deadline: float, tx: float) -> float:
    return kappa * cycles**3 * (1.0 - lam) ** 3 / deadline**2 + tx * lam


def partial_offloading(
    input_bits: float,
    cycles: float,
    *,
    rate_bps: float,
    deadline_s: float,
    max_cpu_freq_hz: float,
    kappa: float,
    tx_power_w: float,
    server_cpu_freq_hz: float,
    method: str = "closed_form",
) -> PartialOffloadingResult:
    """Minimum-energy partial offloading of a divisible task under a deadline.

    With ``a = kappa C^3 / T^2`` and ``b = p L / r`` the reduced energy
    ``E(lam) = a (1 - lam)^3 + b lam`` is convex; its stationary point is

    .. math::

        \\lambda^\\star = 1 - \\sqrt{\\frac{b}{3a}}
                       = 1 - T \\sqrt{\\frac{p L}{3 \\kappa r C^3}},

    clipped to the feasible interval ``[lam_min, lam_max]`` with
    ``lam_min = max(0, 1 - f_max T / C)`` and ``lam_max = min(1, T / (L/r + C/F))``; the
    local frequency is ``f = (1 - lam) C / T``.  ``method="closed_form"`` evaluates this;
    ``"numeric"`` minimizes ``E`` over the interval by bounded scalar search (SciPy) as an
    independent check.

    Parameters
    ----------
    input_bits : float
        Task input ``L``, bits (> 0).
    cycles : float
        Task CPU cycles ``C`` (> 0).
    rate_bps : float
        Uplink rate ``r``, bit/s (> 0).
    deadline_s : float
        Deadline ``T``, s (> 0).
    max_cpu_freq_hz : float
        Local CPU frequency limit ``f_max``, Hz (> 0).
    kappa : float
        Effective switched capacitance (> 0): ``kappa f^2`` J per cycle.
    tx_power_w : float
        Transmit power ``p``, W (>= 0).
    server_cpu_freq_hz : float
        Server CPU frequency ``F`` for this task, Hz (> 0).
    method : {"closed_form", "numeric"}

    Returns
    -------
    PartialOffloadingResult

    Raises
    ------
    InvalidInputError
        A non-positive size, rate, deadline, frequency or capacitance; a negative power.

    References
    ----------
    .. [1] Y. Wang, M. Sheng, X. Wang, L. Wang, J. Li, "Mobile-edge computing: partial
       computation offloading using dynamic voltage scaling", IEEE Trans. Commun. 64(10),
       2016, doi:10.1109/TCOMM.2016.2599530 (the energy-minimization problem with DVFS;
       here with a fixed rate).
    .. [2] Y. Mao, C. You, J. Zhang, K. Huang, K. B. Letaief, "A survey on mobile edge
       computing: the communication perspective", IEEE COMST 19(4), 2017,
       doi:10.1109/COMST.2017.2745201 (the local-computing model: energy ``kappa C f^2``).

    Examples
    --------
    >>> from edgeopt.offload import partial_offloading
    >>> res = partial_offloading(1e6, 1e9, rate_bps=5e6, deadline_s=1.0, max_cpu_freq_hz=2e9,
    ...                          kappa=1e-28, tx_power_w=0.2, server_cpu_freq_hz=1e10)
    >>> res.status, round(res.fraction, 4), round(res.cpu_freq_hz / 1e9, 4)
    ('optimal', 0.6349, 0.3651)
    """
    start = time.perf_counter()
    bits = check_scalar(input_bits, "input_bits", positive=True)
    c = check_scalar(cycles, "cycles", positive=True)
    r = check_scalar(rate_bps, "rate_bps", positive=True)
    T = check_scalar(deadline_s, "deadline_s", positive=True)
    fmax = check_scalar(max_cpu_freq_hz, "max_cpu_freq_hz", positive=True)
    k = check_scalar(kappa, "kappa", positive=True)
    p = check_scalar(tx_power_w, "tx_power_w", nonneg=True)
    F = check_scalar(server_cpu_freq_hz, "server_cpu_freq_hz", positive=True)
    method = check_choice(method, "method", PARTIAL_METHODS)
    per_unit = bits / r + c / F  # offload time of the whole task
    lo = max(0.0, 1.0 - fmax * T / c)
    hi = min(1.0, T / per_unit)
    tx = p * bits / r
    iterations: int | None = None
    if lo > hi:
        # no fraction meets the deadline: the fastest split balances the two branches
        lam = (c / fmax) / (c / fmax + per_unit)
        f = fmax
        status = st.INFEASIBLE
    else:
        a = k * c**3 / T**2
        if method == "closed_form":
            lam = 1.0 - math.sqrt(tx / (3.0 * a))
            lam = min(max(lam, lo), hi)
        else:
            out = minimize_scalar(
                _energy,
                bounds=(lo, hi),
                args=(k, c, T, tx),
                method="bounded",
                options={"xatol": NUMERIC_XTOL},
            )
            lam = float(out.x)
            iterations = int(out.nfev)
            for end in (lo, hi):  # the bounded search never evaluates the ends
                if _energy(end, k, c, T, tx) < _energy(lam, k, c, T, tx):
                    lam = end
        f = (1.0 - lam) * c / T
        status = st.OPTIMAL
    local_t = 0.0 if lam >= 1.0 else (1.0 - lam) * c / f
    latency = max(local_t, lam * per_unit)
    energy = k * (1.0 - lam) * c * f**2 + tx * lam
    return PartialOffloadingResult(
        fraction=lam,
        cpu_freq_hz=f if lam < 1.0 else 0.0,
        energy_j=energy,
        latency_s=latency,
        objective=energy,
        status=status,
        method=method,
        solve_time_s=time.perf_counter() - start,
        stats=SolverStats(
            "closed_form" if method == "closed_form" else "numeric/scipy", iterations
        ),
    )
