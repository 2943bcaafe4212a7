"""Method ``"milp"``: the problem on integer resource blocks and CPU shares, as an exact MILP."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import partial
from typing import Any

import cvxpy as cp
import numpy as np

from edgeopt import status as st
from edgeopt._validation import OptionSchema, check_int
from edgeopt.offload import _kernels
from edgeopt.offload._multiuser._base import Allocation, Arrays, MethodOutput, check_time_limit

OPTIONS: OptionSchema = {
    "num_blocks": (20, partial(check_int, min_value=1)),
    "num_shares": (20, partial(check_int, min_value=1)),
    "time_limit_s": (None, check_time_limit),
}

#: The MILP solvers tried in order (CVXPY names): SciPy's ``milp`` (HiGHS, silent), then
#: CVXPY's own HiGHS interface.
SOLVERS = ("SCIPY", "HIGHS")

_CACHE = threading.local()


def _program(n: int, k: int, m: int) -> tuple[cp.Problem, dict[str, Any]]:
    """The DPP program for ``n`` users, ``k`` blocks and ``m`` shares (cached per thread)."""
    cache = getattr(_CACHE, "programs", None)
    if cache is None:
        cache = _CACHE.programs = {}
    key = (n, k, m)
    if key not in cache:
        local = cp.Parameter(n, nonneg=True)
        band = cp.Parameter((n, k), nonneg=True)
        cpu = cp.Parameter((n, m), nonneg=True)
        y = cp.Variable(n, boolean=True)
        z = cp.Variable((n, k), boolean=True)
        v = cp.Variable((n, m), boolean=True)
        blocks = np.arange(1, k + 1, dtype=np.float64)
        shares = np.arange(1, m + 1, dtype=np.float64)
        cons = [
            y + cp.sum(z, axis=1) == 1,
            cp.sum(v, axis=1) == cp.sum(z, axis=1),
            cp.sum(z @ blocks) <= k,
            cp.sum(v @ shares) <= m,
        ]
        obj = local @ y + cp.sum(cp.multiply(band, z)) + cp.sum(cp.multiply(cpu, v))
        prob = cp.Problem(cp.Minimize(obj), cons)
        cache[key] = (prob, {"local": local, "band": band, "cpu": cpu, "z": z, "v": v})
    return cache[key]


def coefficients(arr: Arrays, k: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Cost of ``j`` blocks (``j = 1..k``) and of ``j`` shares (``j = 1..m``) per user.

    ``band[i, j-1] = w_i / r_i(j B / k)``, ``cpu[i, j-1] = a_i / (j F / m)``.
    """
    b = np.arange(1, k + 1) * arr.bandwidth_hz / k
    band = np.array(
        [[arr.w[i] / (arr.s[i] * _kernels.rho(bj / arr.s[i])) for bj in b] for i in range(arr.n)]
    )
    cpu = arr.a[:, None] / (np.arange(1, m + 1)[None, :] * arr.server_cpu_hz / m)
    return band, cpu


def solve_milp(arr: Arrays, options: Mapping[str, Any], problem: Any) -> MethodOutput:
    """Mixed-integer linear program of the discretized problem (HiGHS through CVXPY).

    The band is cut into ``K = num_blocks`` resource blocks of ``B / K`` Hz and the server
    CPU into ``M = num_shares`` shares of ``F / M``.  User ``i`` picks one of: local
    (``y_i``), ``j`` blocks (``z_ij``, one-hot over ``j = 1..K``) and ``l`` shares
    (``v_il``, one-hot over ``l = 1..M``, present iff some ``z_ij`` is), so every cost term
    is linear in the binaries:

        min  sum_i L_i y_i + sum_ij w_i / r_i(j B/K) z_ij + sum_il a_i M / (l F) v_il
        s.t. y_i + sum_j z_ij = 1,  sum_l v_il = sum_j z_ij,
             sum_ij j z_ij <= K,    sum_il l v_il <= M.

    This is exact for the discretized problem (its optimum is at least the continuous
    optimum).  The program is built once per ``(N, K, M)`` (DPP Parameters) and solved with
    HiGHS through SciPy's ``milp`` interface of CVXPY, CVXPY's own HiGHS interface as
    fallback.  ``status``: ``"optimal"``, or
    ``"solver_error"`` (then the all-local decision).

    References
    ----------
    .. [1] C. You, K. Huang, H. Chae, B.-H. Kim, "Energy-efficient resource allocation for
       mobile-edge computation offloading", IEEE Trans. Wireless Commun. 16(3), 2017,
       doi:10.1109/TWC.2016.2633522 (OFDMA offloading with integer subcarrier allocation).
    """
    k, m = int(options["num_blocks"]), int(options["num_shares"])
    n = arr.n
    prob, par = _program(n, k, m)
    band, cpu = coefficients(arr, k, m)
    par["local"].value = arr.local
    par["band"].value = band
    par["cpu"].value = cpu
    limit = options["time_limit_s"]
    used = None
    for solver in SOLVERS:
        kwargs: dict[str, Any] = {}
        if solver == "SCIPY":
            kwargs["scipy_options"] = {} if limit is None else {"time_limit": float(limit)}
        elif limit is not None:
            kwargs["time_limit"] = float(limit)
        try:
            prob.solve(solver=solver, **kwargs)
        except cp.error.SolverError:
            continue
        if prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE, cp.USER_LIMIT):
            used = solver
            break
    if used is None or par["z"].value is None:
        none = np.zeros(n, dtype=bool)
        alloc = Allocation(none, np.zeros(n), np.zeros(n), float(arr.local.sum()))
        return MethodOutput(alloc, None, st.SOLVER_ERROR, "milp", 1, {"solver": None})
    z = np.rint(par["z"].value).astype(bool)
    v = np.rint(par["v"].value).astype(bool)
    decision = z.any(axis=1)
    j = np.where(decision, z.argmax(axis=1) + 1, 0)
    ell = np.where(decision, v.argmax(axis=1) + 1, 0)
    idx = np.flatnonzero(decision)
    value = float(
        arr.local[~decision].sum() + band[idx, j[idx] - 1].sum() + cpu[idx, ell[idx] - 1].sum()
    )
    alloc = Allocation(decision, j * arr.bandwidth_hz / k, ell * arr.server_cpu_hz / m, value)
    status = st.LIMIT_REACHED if prob.status == cp.USER_LIMIT else st.OPTIMAL
    return MethodOutput(
        alloc,
        None,
        status,
        "milp/highs" if used == "SCIPY" else "milp/highs-cvxpy",
        1,
        {"num_blocks": k, "num_shares": m, "blocks": j, "shares": ell},
    )
