"""Method ``"eig"``: drop the weakest device until the dominant direction serves the rest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from edgeopt._validation import OptionSchema
from edgeopt.aircomp import _kernels
from edgeopt.aircomp._methods._base import MethodResult, SelectionProblem

#: ``method="eig"`` takes no options.
OPTIONS: OptionSchema = {}
RANDOMIZED = False


def select_eig(
    problem: SelectionProblem, options: Mapping[str, Any], rng: np.random.Generator | None
) -> MethodResult:
    """The dominant-eigenvector heuristic (method ``"eig"``), a reference floor.

    The beamformer is the dominant eigenvector of ``sum_{i in S} g_i g_i^H / ||g_i||^2``;
    the device with the smallest margin leaves ``S`` until every margin is at least 1
    (:func:`~edgeopt.aircomp._kernels.eig_advance`, in calls of bounded work).

    Cost: ``O(K N^2 + N^3)`` per dropped device, ``O(K^2 N^2)`` in all when most devices
    are dropped.

    Parameters
    ----------
    problem : SelectionProblem
        The validated input (scaled channels ``G``, shape ``(K, N)``).
    options : mapping
        Empty (:data:`OPTIONS`).
    rng : None
        Unused (the method is deterministic).

    Returns
    -------
    MethodResult
        ``iterations``: dominant-eigenvector evaluations (one per dropped device, plus the
        one that serves the rest).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air
       computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020,
       DOI 10.1109/TWC.2019.2961673: problem (12), solved by a simple heuristic that is
       not from the paper (kept as a floor for the other methods).
    """
    G = problem.scaled
    k, n = G.shape
    active = np.ones(k, dtype=bool)
    m = np.zeros(n, dtype=np.complex128)
    limits = problem.limits
    steps = max(1, 200_000 // max(k * n * n, 1))  # bounded work per kernel call
    evals = 0
    done = False
    while not done:
        if limits.reached(evals):
            # the devices the current direction serves: a verified selection
            sel = (_kernels.margins(G, m) >= 1.0) if evals else np.zeros(k, dtype=bool)
            return MethodResult(sel, m, evals, limit_reached=True)
        done, made = _kernels.eig_advance(G, active, m, min(steps, limits.runs_left(evals)))
        evals += int(made)
    return MethodResult(active, m, evals)
