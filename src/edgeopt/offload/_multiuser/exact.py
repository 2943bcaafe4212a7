"""Method ``"exact"``: branch and bound on the perspective relaxation (provably optimal)."""

from __future__ import annotations

import heapq
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from edgeopt import status as st
from edgeopt._validation import OptionSchema, check_int
from edgeopt.offload._multiuser._base import (
    BOUND_TOL,
    Allocation,
    Arrays,
    MethodOutput,
    allocation,
    check_time_limit,
    relax,
)

#: Options: Frank–Wolfe iterations per node, and an optional wall-clock limit (s).
OPTIONS: OptionSchema = {
    "relax_iterations": (30, partial(check_int, min_value=1)),
    "time_limit_s": (None, check_time_limit),
}


def solve_exact(arr: Arrays, options: Mapping[str, Any], problem: Any) -> MethodOutput:
    """Best-first branch and bound over the users' binary decisions.

    Each node fixes some users (local or offload); its bound is the Lagrangian lower bound
    of the perspective relaxation over the free users (:func:`._base.relax`), valid for
    every decision below the node, so pruning a node whose bound is not below the
    incumbent (within :data:`._base.BOUND_TOL`) never discards the optimum.  Incumbents
    come from rounding each node's relaxed point (users with ``x_i >= 1/2``) and from the
    vertex the bound was attained at.  Branching on the free user whose relaxed value is
    closest to 1/2.  A leaf's cost is exact (:func:`._base.allocation`).

    Returns a :class:`._base.MethodOutput` with ``status="optimal"`` (or
    ``"limit_reached"`` when ``time_limit_s`` stopped the search; ``lower_bound`` is then
    the smallest bound of the open nodes); ``iterations``: nodes bounded.

    References
    ----------
    .. [1] A. Frangioni, C. Gentile, "Perspective cuts for a class of convex 0-1
       mixed integer programs", Math. Program. 106, 2006, doi:10.1007/s10107-005-0594-3
       (the perspective relaxation).
    .. [2] T. X. Tran, D. Pompili, "Joint task offloading and resource allocation for
       multi-server mobile-edge computing networks", IEEE Trans. Veh. Technol. 68(1), 2019,
       doi:10.1109/TVT.2018.2881191 (the joint offloading and resource-allocation problem).
    """
    start = time.perf_counter()
    n = arr.n
    iters = int(options["relax_iterations"])
    limit = options["time_limit_s"]
    best: Allocation = allocation(arr, np.zeros(n, dtype=bool))
    alt = allocation(arr, np.ones(n, dtype=bool))
    if alt.cost < best.cost:
        best = alt
    root = np.full(n, -1, dtype=np.int8)
    heap: list[tuple[float, int, np.ndarray, np.ndarray | None]] = [(-np.inf, 0, root, None)]
    counter = 1
    nodes = 0
    status = st.OPTIMAL
    while heap:
        bound, _, fixed, x0 = heapq.heappop(heap)
        if bound >= best.cost * (1 - BOUND_TOL):
            continue
        if limit is not None and time.perf_counter() - start > limit:
            heapq.heappush(heap, (bound, counter, fixed, x0))
            status = st.LIMIT_REACHED
            break
        free = fixed < 0
        if not free.any():
            leaf = allocation(arr, fixed.astype(bool))
            nodes += 1
            if leaf.cost < best.cost:
                best = leaf
            continue
        rel = relax(arr, fixed, x0, iters)
        nodes += 1
        rounded = np.where(free, rel.x >= 0.5, fixed == 1)
        cand = allocation(arr, rounded)
        if cand.cost < best.cost:
            best = cand
        if rel.lower_bound >= best.cost * (1 - BOUND_TOL):
            continue
        idx = np.flatnonzero(free)
        j = int(idx[np.argmin(np.abs(rel.x[idx] - 0.5))])
        for value in (1, 0):
            child = fixed.copy()
            child[j] = value
            x_child = rel.x.copy()
            x_child[j] = value
            heapq.heappush(heap, (rel.lower_bound, counter, child, x_child))
            counter += 1
    lower = best.cost if status == st.OPTIMAL else min(best.cost, min(h[0] for h in heap))
    return MethodOutput(best, lower, status, "exact", nodes, {"open_nodes": len(heap)})
