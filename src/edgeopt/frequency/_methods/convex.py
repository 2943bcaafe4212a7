r"""The convex form of the min-max round time, solved by CVXPY.

With ``β_i = b_i / B``, ``u = t / t_s`` (``t_s`` the equal split's round time),
``s_i = a_i / B`` and ``κ_i = L_i ln2 / (B t_s)``:

.. math::

   \min_{u, β, z} u \quad\text{s.t.}\quad z_i \le u − T_i/t_s,\
   κ_i / z_i \le −\mathrm{rel\_entr}(β_i, β_i + s_i),
   \quad Σ_i β_i \le 1,\ β \ge 0,

because ``b log(1 + a/b) = −rel_entr(b, b + a)`` is concave: the program is exact.  It is a
DPP program, built once per number of devices and cached per thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from edgeopt.frequency import _rate
from edgeopt.frequency._methods._base import BandwidthProblem, MethodResult
from edgeopt.status import OPTIMAL, SOLVER_ERROR

OPTIONS: dict[str, object] = {}

#: Solvers tried in order.
SOLVERS = ("CLARABEL", "SCS")
_OK = (cp.OPTIMAL,)
_CACHE = threading.local()


@dataclass
class _Program:
    problem: cp.Problem
    beta: cp.Variable
    u: cp.Variable
    coef: cp.Parameter
    compute: cp.Parameter
    snr: cp.Parameter


def _program(k: int) -> _Program:
    progs = getattr(_CACHE, "progs", None)
    if progs is None:
        progs = _CACHE.progs = {}
    if k not in progs:
        beta = cp.Variable(k, nonneg=True)
        u = cp.Variable()
        coef = cp.Parameter(k, nonneg=True)
        compute = cp.Parameter(k, nonneg=True)
        snr = cp.Parameter(k, nonneg=True)
        slack = cp.Variable(k, nonneg=True)  # u − T_i/t_s, a variable so that the program is DPP
        cons = [
            slack <= u - compute,
            cp.multiply(coef, cp.inv_pos(slack)) <= -cp.rel_entr(beta, beta + snr),
            cp.sum(beta) <= 1.0,
        ]
        progs[k] = _Program(cp.Problem(cp.Minimize(u), cons), beta, u, coef, compute, snr)
    prog: _Program = progs[k]
    return prog


def solve_cvxpy(problem: BandwidthProblem) -> MethodResult:
    r"""Minimize ``max_i (T_i + L_i / r_i(b_i))`` s.t. ``Σ b_i <= B`` as a convex program.

    References
    ----------
    S. Boyd and L. Vandenberghe, *Convex Optimization*, Cambridge University Press, 2004,
    §3.2.6 (the perspective ``b log(1 + a/b)`` of a concave function is concave); the
    relative-entropy cone of CVXPY's ``rel_entr``.
    """
    p = problem
    k = p.payload_bits.size
    total = p.total_bandwidth_hz
    a = p.snr_bandwidth_hz
    t_s = float(np.max(p.compute_s + p.payload_bits / _rate.rate_bps(np.full(k, total / k), a)))
    prog = _program(k)
    prog.coef.value = p.payload_bits * _rate.LN2 / (total * t_s)
    prog.compute.value = p.compute_s / t_s
    prog.snr.value = a / total
    used = ""
    for solver in SOLVERS:
        used = solver.lower()
        try:
            prog.problem.solve(solver=solver, verbose=False)
        except cp.error.SolverError:
            continue
        if prog.problem.status in _OK and prog.beta.value is not None:
            b = np.maximum(np.asarray(prog.beta.value, dtype=np.float64), 0.0) * total
            return MethodResult(b, OPTIMAL, f"cvxpy/{used}", 1, {"solver": used})
    return MethodResult(np.full(k, total / k), SOLVER_ERROR, f"cvxpy/{used}", len(SOLVERS))
