"""Method ``"greedy"``: add users in order of their stand-alone saving while the cost drops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from edgeopt import status as st
from edgeopt._validation import OptionSchema
from edgeopt.offload import _kernels
from edgeopt.offload._multiuser._base import Arrays, MethodOutput, allocation

OPTIONS: OptionSchema = {}


def solve_greedy(arr: Arrays, options: Mapping[str, Any], problem: Any) -> MethodOutput:
    """Greedy insertion (a common baseline of the offloading literature).

    Users are ranked by the saving ``L_i - (w_i / r_i(B) + a_i / F)`` they would make
    offloading alone with the whole band and server; each, in that order, is moved to the
    server if that lowers the exact cost of the current set (:func:`._base.allocation`).
    ``N + 1`` exact cost evaluations; no optimality bound (``lower_bound`` is ``None``).

    References
    ----------
    .. [1] X. Chen, L. Jiao, W. Li, X. Fu, "Efficient multi-user computation offloading
       for mobile-edge cloud computing", IEEE/ACM Trans. Netw. 24(5), 2016,
       doi:10.1109/TNET.2015.2487344 (decentralized improvement steps; here a centralized
       one-pass variant).
    """
    alone = np.array(
        [
            arr.w[i] / (arr.s[i] * _kernels.rho(arr.bandwidth_hz / arr.s[i]))
            + arr.a[i] / arr.server_cpu_hz
            for i in range(arr.n)
        ]
    )
    order = np.argsort(-(arr.local - alone), kind="stable")
    decision = np.zeros(arr.n, dtype=bool)
    best = allocation(arr, decision)
    evals = 1
    for i in order:
        decision[i] = True
        cand = allocation(arr, decision)
        evals += 1
        if cand.cost < best.cost:
            best = cand
        else:
            decision[i] = False
    return MethodOutput(best, None, st.FEASIBLE, "greedy", evals, {})
