r"""CPU frequencies and bandwidths that make a synchronous round as cheap as possible.

Device ``i`` runs ``C_i`` CPU cycles at frequency ``f_i <= f_i^max`` (``C_i/f_i`` seconds,
``κ_i C_i f_i²`` joules) and uploads ``L_i`` bits over ``b_i`` hertz at
``r_i(b_i) = b_i log2(1 + p_i g_i/(N0 b_i))`` (``p_i L_i / r_i(b_i)`` joules):

.. math::

   \min_{f, b} Σ_i \left(κ_i C_i f_i^2 + \frac{p_i L_i}{r_i(b_i)}\right) \quad\text{s.t.}\quad
   \frac{C_i}{f_i} + \frac{L_i}{r_i(b_i)} \le D,\quad Σ_i b_i \le B,\quad 0 < f_i \le f_i^{max}.

With the upload time ``q_i >= L_i / r_i(b_i)`` as a variable the program is convex
(``L_i/q_i <= r_i(b_i)``, a convex function below a concave one).  It is solved exactly
from its KKT conditions (a price ``ν`` on the band, one-dimensional searches in compiled
code), or as a convex program by CVXPY.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import check_choice, check_scalar, invalid_inputs
from edgeopt.frequency import _kernels, _rate
from edgeopt.frequency._methods import bisection
from edgeopt.frequency._methods._base import BandwidthProblem
from edgeopt.frequency.bandwidth import TOLERANCE, _devices
from edgeopt.status import INFEASIBLE, OPTIMAL, SOLVER_ERROR, SolverStats

__all__ = ["EnergyAllocation", "minimize_round_energy", "ENERGY_METHODS"]

#: The methods of :func:`minimize_round_energy`.
ENERGY_METHODS = ("kkt", "cvxpy")

#: Solvers tried in order, with their settings: Clarabel with tolerances tighter than its
#: defaults (so that the KKT conditions hold closely), Clarabel with its defaults, SCS.
SOLVERS: tuple[tuple[str, dict[str, float]], ...] = (
    ("CLARABEL", {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}),
    ("CLARABEL", {}),
    ("SCS", {"eps_abs": 1e-8, "eps_rel": 1e-8}),
)
_CACHE = threading.local()


@dataclass(frozen=True)
class EnergyAllocation:
    """Result of :func:`minimize_round_energy`.

    Parameters
    ----------
    frequency_hz : numpy.ndarray of float64, shape (K,)
        CPU frequency ``f_i`` of each device (hertz).
    bandwidth_hz : numpy.ndarray of float64, shape (K,)
        Bandwidth ``b_i`` of each device (hertz).
    compute_s, upload_s : numpy.ndarray of float64, shape (K,)
        ``C_i / f_i`` and ``L_i / r_i(b_i)`` (seconds).
    device_energy_j : numpy.ndarray of float64, shape (K,)
        ``κ_i C_i f_i² + p_i L_i / r_i(b_i)`` (joules).
    energy_j : float
        The round's energy, ``device_energy_j.sum()``.
    round_latency_s : float
        ``max_i (C_i/f_i + L_i/r_i(b_i))``: at most the deadline when a solution is present.
    status : str
        :data:`~edgeopt.status.OPTIMAL`; :data:`~edgeopt.status.INFEASIBLE` when the
        deadline is shorter than the fastest possible round (then the decision is that
        fastest round: every device at ``f_i^max``, the bandwidth of
        :func:`~edgeopt.frequency.allocate_bandwidth`, and ``round_latency_s`` says how
        long it takes); :data:`~edgeopt.status.SOLVER_ERROR` when every solver failed (the
        same fastest round, which meets the deadline; the KKT method reports it only for a
        non-finite answer).
    objective : float
        ``energy_j``.
    solve_time_s : float
        Wall-clock seconds of the whole call.
    stats : edgeopt.status.SolverStats
        ``solver_name`` ``"kkt/illinois"`` or ``"cvxpy/<solver>"`` (``"bisection/newton"``
        when only the feasibility check ran); ``iterations`` the KKT method's evaluations
        of ``Σ_i b_i(ν)``; ``extra["fastest_round_s"]``: the shortest round possible;
        ``extra["band_price"]``: the KKT method's multiplier ``ν`` of ``Σ b_i <= B``
        (joules per hertz).
    """

    frequency_hz: NDArray[np.float64]
    bandwidth_hz: NDArray[np.float64]
    compute_s: NDArray[np.float64]
    upload_s: NDArray[np.float64]
    device_energy_j: NDArray[np.float64]
    energy_j: float
    round_latency_s: float
    status: str
    objective: float
    solve_time_s: float
    stats: SolverStats = field(default_factory=lambda: SolverStats("", None))


@dataclass
class _Program:
    problem: cp.Problem
    phi: cp.Variable
    w: cp.Variable
    beta: cp.Variable
    e_cpu: cp.Parameter
    phi_max: cp.Parameter
    e_tx: cp.Parameter
    t_cpu: cp.Parameter
    t_up: cp.Parameter
    t_tx: cp.Parameter
    snr: cp.Parameter


def _program(k: int) -> _Program:
    """The scaled DPP program for ``k`` devices, built once per thread and size.

    ``φ = f/f_ref`` with ``f_ref = min(f_max, 2C/D)``, ``w = q/q_ref`` with ``q_ref`` the
    upload time of the fastest round, ``β = b/B``; parameters ``e_cpu = κ C f_ref²/E``,
    ``φ_max = f_max/f_ref``, ``e_tx = p q_ref / E``, ``t_cpu = C/(f_ref D)``,
    ``t_up = q_ref/D``, ``t_tx = L ln2/(B q_ref)``, ``snr = a/B``, and ``E`` the sum of the
    reference energies.
    """
    progs = getattr(_CACHE, "progs", None)
    if progs is None:
        progs = _CACHE.progs = {}
    if k not in progs:
        phi = cp.Variable(k, nonneg=True)
        w = cp.Variable(k, nonneg=True)
        beta = cp.Variable(k, nonneg=True)
        e_cpu, phi_max, e_tx, t_cpu, t_up, t_tx, snr = (
            cp.Parameter(k, nonneg=True) for _ in range(7)
        )
        objective = cp.sum(cp.multiply(e_cpu, cp.square(phi))) + e_tx @ w
        cons = [
            cp.multiply(t_cpu, cp.inv_pos(phi)) + cp.multiply(t_up, w) <= 1.0,
            cp.multiply(t_tx, cp.inv_pos(w)) <= -cp.rel_entr(beta, beta + snr),
            cp.sum(beta) <= 1.0,
            phi <= phi_max,
        ]
        problem = cp.Problem(cp.Minimize(objective), cons)
        progs[k] = _Program(problem, phi, w, beta, e_cpu, phi_max, e_tx, t_cpu, t_up, t_tx, snr)
    prog: _Program = progs[k]
    return prog


def minimize_round_energy(
    payload_bits: Any,
    *,
    cycles: Any,
    kappa: Any,
    max_freq_hz: Any,
    power_w: Any,
    gain: Any,
    noise_psd_w_per_hz: Any,
    total_bandwidth_hz: float,
    deadline_s: float,
    method: str = "kkt",
) -> EnergyAllocation:
    r"""CPU frequencies and a bandwidth split of least energy for a round with a deadline.

    Solves

    .. math::

       \min_{f, b} Σ_i \left(κ_i C_i f_i^2 + \frac{p_i L_i}{r_i(b_i)}\right)
       \ \text{s.t.}\ \frac{C_i}{f_i} + \frac{L_i}{r_i(b_i)} \le D,\ Σ_i b_i \le B,\
       f_i \le f_i^{max},

    with ``r_i(b) = b log2(1 + p_i g_i/(N0 b))``, a convex program (the upload time is a
    variable ``q_i`` with ``L_i / q_i <= r_i(b_i) = −rel_entr(b_i, b_i + a_i)/ln 2``).
    First the fastest possible round (every ``f_i = f_i^max``, the bandwidth of
    :func:`~edgeopt.frequency.allocate_bandwidth`) is computed exactly; a deadline shorter
    than it is infeasible, and a deadline equal to it (within
    :data:`~edgeopt.frequency.TOLERANCE`) has that round as its only solution.  Otherwise:

    * ``method="kkt"`` (default): exact, from the KKT conditions.  Given ``b_i`` the
      deadline binds, ``f_i = C_i/(D − L_i/r_i(b_i))``, so device ``i``'s energy
      ``E_i(b_i)`` is convex and decreasing on ``b_i >= b_i^min`` (where ``f_i = f_i^max``);
      at the optimum ``b_i = max(b_i^min, (−E_i')^{-1}(ν))`` with
      ``−E_i'(b) = (2κ_i f_i³ + p_i) L_i r_i'(b)/r_i(b)²``, and the band's price ``ν`` is
      the root of ``Σ_i b_i(ν) = B``.  Both one-dimensional searches (on ``ln ν`` and
      each ``ln b_i``) use the Illinois variant of regula falsi, in one compiled call.
    * ``method="cvxpy"``: the convex program, by CVXPY with Clarabel (SCS as fallback)
      on a scaled DPP form built once per number of devices.  At deadlines far looser
      than the fastest round the computation energy ``κ_i C_i f_i²`` falls many orders of
      magnitude below the upload energy and the solvers may stop short of their
      tolerances; that is reported as :data:`~edgeopt.status.SOLVER_ERROR`.

    Parameters
    ----------
    payload_bits : float or array_like, shape (K,)
        Bits ``L_i > 0`` each device uploads.
    cycles : float or array_like, shape (K,)
        CPU cycles ``C_i > 0`` of the local computation.
    kappa : float or array_like, shape (K,)
        Effective switched capacitance ``κ_i > 0`` (J/(cycle·Hz²)).
    max_freq_hz : float or array_like, shape (K,)
        Highest CPU frequency ``f_i^max > 0`` (hertz).
    power_w : float or array_like, shape (K,)
        Transmit power ``p_i > 0`` (watts).
    gain : float or array_like, shape (K,)
        Channel power gain ``g_i > 0`` (linear).
    noise_psd_w_per_hz : float or array_like, shape (K,)
        Noise power spectral density ``N0 > 0`` (W/Hz).
    total_bandwidth_hz : float > 0
        The band ``B`` (hertz).
    deadline_s : float > 0
        The round's deadline ``D`` (seconds).
    method : {"kkt", "cvxpy"}
        See above.

    Returns
    -------
    EnergyAllocation

    Raises
    ------
    InvalidInputError
        Non-positive or non-finite inputs; shapes that do not broadcast to one ``(K,)``;
        unknown method.

    References
    ----------
    N. H. Tran, W. Bao, A. Zomaya, M. N. H. Nguyen and C. S. Hong, "Federated learning over
    wireless networks: optimization model design and analysis," IEEE INFOCOM 2019,
    doi:10.1109/INFOCOM.2019.8737464, Eq. (3)–(4) (computation time and energy) and the
    FDMA upload energy ``p L / r``; Z. Yang, M. Chen, W. Saad, C. S. Hong and
    M. Shikh-Bahaei, "Energy efficient federated learning over wireless communication
    networks," IEEE Trans. Wireless Commun., 20(3):1935–1949, 2021,
    doi:10.1109/TWC.2020.3037554, problem (12) (the same trade-off with a deadline);
    S. Boyd and L. Vandenberghe, *Convex Optimization*, Cambridge University Press, 2004,
    §5.5.3 (the KKT conditions of the ``"kkt"`` method); M. Dowell and P. Jarratt, "A
    modified regula falsi method for computing the root of an equation," BIT 11:168–174,
    1971, doi:10.1007/BF01934364 (the Illinois method of its searches).

    Examples
    --------
    >>> from edgeopt.frequency import minimize_round_energy
    >>> kw = dict(cycles=[1e9, 2e9], kappa=1e-28, max_freq_hz=2e9, power_w=0.1,
    ...           gain=[1e-10, 1e-11], noise_psd_w_per_hz=4e-21, total_bandwidth_hz=1e6)
    >>> res = minimize_round_energy(1e6, deadline_s=3.0, **kw)
    >>> res.status, bool(res.round_latency_s <= 3.0 * (1 + 1e-6))
    ('optimal', True)
    >>> res.frequency_hz.round(-6).tolist(), round(res.energy_j, 3)
    ([357000000.0, 712000000.0], 0.153)
    >>> cvx = minimize_round_energy(1e6, deadline_s=3.0, method="cvxpy", **kw)
    >>> cvx.status, round(cvx.energy_j, 3)
    ('optimal', 0.153)
    >>> minimize_round_energy(1e6, deadline_s=1.0, **kw).status  # faster than possible
    'infeasible'
    """
    start = time.perf_counter()
    check_choice(method, "method", ENERGY_METHODS)
    arr = _devices(
        payload_bits=payload_bits,
        cycles=cycles,
        kappa=kappa,
        max_freq_hz=max_freq_hz,
        power_w=power_w,
        gain=gain,
        noise_psd_w_per_hz=noise_psd_w_per_hz,
    )
    total = check_scalar(total_bandwidth_hz, "total_bandwidth_hz", positive=True)
    deadline = check_scalar(deadline_s, "deadline_s", positive=True)
    with np.errstate(over="ignore"):
        a = arr["power_w"] * arr["gain"] / arr["noise_psd_w_per_hz"]
        e_max = arr["kappa"] * arr["cycles"] * arr["max_freq_hz"] ** 2
    if not np.all(np.isfinite(a) & (a > 0) & np.isfinite(e_max)):
        raise invalid_inputs(
            "power_w, gain, noise_psd_w_per_hz, kappa, cycles, max_freq_hz",
            "finite energies and a finite, positive p·g/N0 for every device",
        )
    payload, cyc, f_max = arr["payload_bits"], arr["cycles"], arr["max_freq_hz"]
    k = payload.size
    t_cpu_min = cyc / f_max
    fastest = bisection.solve_bisection(BandwidthProblem(payload, a, t_cpu_min, total))
    fastest_s = float(np.max(t_cpu_min + payload / _rate.rate_bps(fastest.bandwidth_hz, a)))
    extra = {"fastest_round_s": fastest_s}

    def result(f: Any, b: Any, status: str, name: str, its: int | None) -> EnergyAllocation:
        comp = cyc / f
        up = payload / _rate.rate_bps(b, a)
        dev_e = arr["kappa"] * cyc * f**2 + arr["power_w"] * up
        energy = float(dev_e.sum())
        return EnergyAllocation(
            frequency_hz=f,
            bandwidth_hz=b,
            compute_s=comp,
            upload_s=up,
            device_energy_j=dev_e,
            energy_j=energy,
            round_latency_s=float(np.max(comp + up)),
            status=status,
            objective=energy,
            solve_time_s=time.perf_counter() - start,
            stats=SolverStats(name, its, setup, extra),
        )

    setup = time.perf_counter() - start
    if deadline < fastest_s * (1.0 - TOLERANCE):
        return result(f_max.copy(), fastest.bandwidth_hz, INFEASIBLE, fastest.solver_name, 1)
    if deadline <= fastest_s * (1.0 + TOLERANCE):
        return result(f_max.copy(), fastest.bandwidth_hz, OPTIMAL, fastest.solver_name, 1)
    if method == "kkt":
        f, b, nu, evals = _kernels.round_energy(
            payload, cyc, arr["kappa"], f_max, arr["power_w"], a, total, deadline
        )
        extra["band_price"] = nu
        if np.all(np.isfinite(f) & (f > 0)) and np.all(np.isfinite(b) & (b > 0)):
            return result(f, b, OPTIMAL, "kkt/illinois", evals)
        return result(f_max.copy(), fastest.bandwidth_hz, SOLVER_ERROR, "kkt/illinois", evals)
    prog = _program(k)
    f_ref = np.minimum(f_max, 2.0 * cyc / deadline)
    e_ref = arr["kappa"] * cyc * f_ref**2
    q_ref = payload / _rate.rate_bps(fastest.bandwidth_hz, a)
    scale = float(np.sum(e_ref + arr["power_w"] * q_ref))
    prog.e_cpu.value = e_ref / scale
    prog.phi_max.value = f_max / f_ref
    prog.e_tx.value = arr["power_w"] * q_ref / scale
    prog.t_cpu.value = cyc / (f_ref * deadline)
    prog.t_up.value = q_ref / deadline
    prog.t_tx.value = payload * _rate.LN2 / (total * q_ref)
    prog.snr.value = a / total
    used = ""
    for solver, settings in SOLVERS:
        used = solver.lower()
        try:
            with warnings.catch_warnings():  # an inaccurate solve is refused below
                warnings.simplefilter("ignore", UserWarning)
                prog.problem.solve(solver=solver, verbose=False, **settings)
        except cp.error.SolverError:
            continue
        if prog.problem.status == cp.OPTIMAL and prog.phi.value is not None:
            phi = np.asarray(prog.phi.value, dtype=np.float64)
            f = np.clip(phi * f_ref, t_cpu_min * 1e-300, f_max)
            b = np.maximum(np.asarray(prog.beta.value, dtype=np.float64), 0.0) * total
            b *= total / b.sum()
            # Rounding of the solver may leave a device a hair past the deadline: raise its
            # frequency to meet it exactly where f_max allows.
            up = payload / _rate.rate_bps(b, a)
            with np.errstate(divide="ignore"):
                f_meet = np.where(up < deadline, cyc / (deadline - up), np.inf)
            f = np.minimum(np.maximum(f, f_meet), f_max)
            return result(f, b, OPTIMAL, f"cvxpy/{used}", 1)
    return result(f_max.copy(), fastest.bandwidth_hz, SOLVER_ERROR, f"cvxpy/{used}", len(SOLVERS))
