"""Load allocation of an MDS-coded job over heterogeneous workers (convex, CVXPY).

Worker ``i`` receives ``l_i`` coded rows per row of the data (a fraction of the data set)
and returns them after ``T_i = l_i (a_i + X_i / mu_i)``, ``X_i ~ Exp(1)``, plus an upload
``u_i``; the job is done once the finished workers' loads add up to 1 (any that many coded
rows of a random linear code decode).  The expected load returned by time ``t``,

    R(l, t) = sum_i l_i P(T_i <= t) = sum_i l_i (1 - exp(-mu_i ((t - u_i) / l_i - a_i)))

for ``t - u_i >= a_i l_i``, is jointly concave in ``(l, t)``: ``l exp(-mu t / l)`` is the
perspective of ``exp(-mu t)``.  The allocation solves the convex program

    minimize t  subject to  R(l, t) >= 1,  a_i l_i <= t - u_i,  l >= 0,

the time-indexed criterion of Reisizadeh, Prakash, Pedarsani and Avestimehr ("Coded
computation over heterogeneous clusters", IEEE TIT 65(7), 2019, §III, Eq. (9)-(12)), whose
optimum they show to be asymptotically optimal for the expected completion time; here it is
one exponential-cone program rather than their per-worker closed form and search over ``t``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from edgeopt import status as st
from edgeopt._validation import check_array, check_bool, check_broadcast, invalid_inputs
from edgeopt.status import SolverStats

__all__ = ["LoadAllocation", "allocate_loads"]

#: Solvers tried in order (exponential cone).
_SOLVERS = ("CLARABEL", "SCS")

_CACHE = threading.local()


@dataclass(frozen=True)
class LoadAllocation:
    """Result of :func:`allocate_loads`.

    Parameters
    ----------
    loads : numpy.ndarray of float64, shape (n,)
        ``l_i``, fractions of the data set (coded rows per data row), >= 0.
    objective : float
        ``t*``, seconds: the time by which the expected returned load reaches 1.
    status : str
        ``"optimal"``, or ``"solver_error"`` when every solver failed (loads all NaN-free
        zeros then, objective ``inf``).
    solve_time_s : float
        Wall-clock seconds of the call.
    stats : edgeopt.status.SolverStats
        ``solver_name`` ``"hcmm/clarabel"`` or ``"hcmm/scs"`` (``"uniform/..."`` with
        ``uniform=True``); ``iterations``: 1 (one convex program).

    Examples
    --------
    >>> from edgeopt.coding import allocate_loads
    >>> out = allocate_loads([1.0, 1.0], [1.0, 1.0])
    >>> out.status, bool(abs(out.loads[0] - out.loads[1]) < 1e-4)
    ('optimal', True)
    """

    loads: NDArray[np.float64]
    objective: float
    status: str
    solve_time_s: float
    stats: SolverStats


def _program(n: int, uniform: bool) -> tuple[cp.Problem, dict[str, Any], dict[str, Any]]:
    """The DPP program for ``n`` workers, built once per (n, uniform) and thread."""
    cache = getattr(_CACHE, "programs", None)
    if cache is None:
        cache = _CACHE.programs = {}
    key = (n, uniform)
    if key not in cache:
        ell = cp.Variable(n, nonneg=True)
        t = cp.Variable()
        u = cp.Variable(n)
        mu = cp.Parameter(n, pos=True)
        gain = cp.Parameter(n, pos=True)  # exp(mu_i a_i) / scale
        shift = cp.Parameter(n, nonneg=True)
        mu_up = cp.Parameter(n, nonneg=True)  # mu_i u_i
        up = cp.Parameter(n, nonneg=True)
        # l exp(-mu (t - u) / l) <= u_aux  <=>  (-(mu t - mu u), l, u_aux) in K_exp
        cons = [
            cp.constraints.ExpCone(-(cp.multiply(mu, t) - mu_up), ell, u),
            cp.sum(ell) - cp.sum(cp.multiply(gain, u)) >= 1.0,
            cp.multiply(shift, ell) <= t - up,
        ]
        if uniform:
            cons.append(ell == ell[0])
        prob = cp.Problem(cp.Minimize(t), cons)
        cache[key] = (
            prob,
            {"mu": mu, "gain": gain, "shift": shift, "mu_up": mu_up, "up": up},
            {"ell": ell, "t": t},
        )
    return cache[key]


def allocate_loads(
    shift_s: Any, rate_per_s: Any, *, upload_s: Any = 0.0, uniform: bool = False
) -> LoadAllocation:
    """Loads of an MDS-coded job over heterogeneous workers (HCMM, convex program).

    Minimizes the time ``t`` by which the expected returned load reaches 1 (see
    :mod:`edgeopt.coding.allocation` for the program and its derivation).  With
    ``uniform=True`` every worker gets the same load (the program with ``l_i = l_1``): the
    baseline that ignores the heterogeneity.

    Parameters
    ----------
    shift_s : array_like, shape (n,)
        ``a_i``, seconds per data set, > 0.
    rate_per_s : array_like, shape (n,) or scalar
        ``mu_i``, 1/s per data set, > 0.
    upload_s : array_like, shape (n,) or scalar
        Upload time ``u_i`` of each worker's result, seconds, >= 0.
    uniform : bool
        Equal loads.

    Returns
    -------
    LoadAllocation

    Raises
    ------
    InvalidInputError
        Non-positive shifts or rates, negative uploads, shapes that do not broadcast, or
        ``mu_i a_i > 50`` (an essentially deterministic worker: the program's coefficient
        ``exp(mu_i a_i)`` would exceed 1e21).

    References
    ----------
    A. Reisizadeh, S. Prakash, R. Pedarsani, A. S. Avestimehr, "Coded computation over
    heterogeneous clusters", IEEE Trans. Inf. Theory 65(7):4227-4242, 2019,
    doi:10.1109/TIT.2019.2904055, §III (Eqs. (9)-(12)).

    Examples
    --------
    >>> from edgeopt.coding import allocate_loads
    >>> fast_slow = allocate_loads([1.0, 4.0], [1.0, 0.25])
    >>> bool(fast_slow.loads[0] > fast_slow.loads[1])
    True
    """
    start = time.perf_counter()
    a = check_array(shift_s, "shift_s", ndim=(0, 1), positive=True, allow_empty=False)
    mu = check_array(rate_per_s, "rate_per_s", ndim=(0, 1), positive=True, allow_empty=False)
    up = check_array(upload_s, "upload_s", ndim=(0, 1), nonneg=True, allow_empty=False)
    uni = check_bool(uniform, "uniform")
    a, mu, up = (
        np.atleast_1d(np.array(x, dtype=np.float64))
        for x in check_broadcast(shift_s=a, rate_per_s=mu, upload_s=up)
    )
    n = a.shape[0]
    if np.any(mu * a > 50.0):
        raise invalid_inputs(
            "shift_s, rate_per_s",
            "rate_per_s * shift_s <= 50 (a tail not negligible beside the shift)",
        )
    prob, par, var = _program(n, uni)
    # scale time by the slowest mean so that the program's data are O(1)
    scale = float(np.max(a + 1.0 / mu + up))
    par["mu"].value = mu * scale
    par["shift"].value = a / scale
    par["up"].value = up / scale
    par["mu_up"].value = mu * up
    par["gain"].value = np.exp(mu * a)
    setup = time.perf_counter() - start
    used = None
    for solver in _SOLVERS:
        try:
            prob.solve(solver=solver)
        except cp.error.SolverError:
            continue
        if prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and var["t"].value is not None:
            used = solver.lower()
            break
    name = ("uniform/" if uni else "hcmm/") + (used or "none")
    stats = SolverStats(name, iterations=1, setup_time_s=setup)
    if used is None:
        return LoadAllocation(
            np.zeros(n), float("inf"), st.SOLVER_ERROR, time.perf_counter() - start, stats
        )
    ell = np.maximum(np.asarray(var["ell"].value, dtype=np.float64), 0.0)
    ell.setflags(write=False)
    return LoadAllocation(
        ell, float(var["t"].value) * scale, st.OPTIMAL, time.perf_counter() - start, stats
    )
