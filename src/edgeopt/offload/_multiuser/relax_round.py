"""Method ``"relax-round"``: solve the perspective relaxation, round by thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from edgeopt import status as st
from edgeopt._validation import OptionSchema, check_int
from edgeopt.offload._multiuser._base import Arrays, MethodOutput, allocation, relax

OPTIONS: OptionSchema = {
    "relax_iterations": (100, partial(check_int, min_value=1)),
    "max_rounding_candidates": (64, partial(check_int, min_value=2)),
}


def solve_relax_round(arr: Arrays, options: Mapping[str, Any], problem: Any) -> MethodOutput:
    """Continuous relaxation, then the best of its threshold roundings.

    The perspective relaxation over all users is solved by Frank–Wolfe
    (:func:`._base.relax`, which also gives a valid ``lower_bound``); the users are sorted
    by their relaxed value and the decisions "the first ``j`` users offload" are evaluated
    exactly for up to ``max_rounding_candidates`` values of ``j`` spread over ``0..N``
    (all of them when ``N`` is small) and at the 1/2 threshold; the cheapest is returned.

    References
    ----------
    .. [1] Y. Shi, K. Yang, T. Jiang, J. Zhang, K. B. Letaief, "Communication-efficient
       edge AI: algorithms and systems", IEEE COMST 22(4), 2020,
       doi:10.1109/COMST.2020.3007787 (§IV-D, computation offloading; the
       relaxation here is the perspective one of :mod:`._base`).
    """
    n = arr.n
    rel = relax(arr, np.full(n, -1, dtype=np.int8), None, int(options["relax_iterations"]))
    order = np.argsort(-rel.x, kind="stable")
    count = int(options["max_rounding_candidates"])
    js = set(np.unique(np.linspace(0, n, min(n + 1, max(2, count))).round().astype(int)))
    js.add(int((rel.x >= 0.5).sum()))
    best = None
    for j in sorted(js):
        decision = np.zeros(n, dtype=bool)
        decision[order[:j]] = True
        cand = allocation(arr, decision)
        if best is None or cand.cost < best.cost:
            best = cand
    assert best is not None
    return MethodOutput(
        best, rel.lower_bound, st.FEASIBLE, "relax-round", rel.iterations, {"roundings": len(js)}
    )
