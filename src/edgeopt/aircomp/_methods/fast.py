"""Method ``"fast"``: greedy removal under a max-min SCA beamformer (no semidefinite program)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from edgeopt._validation import OptionSchema, check_bool, check_int
from edgeopt.aircomp import _kernels
from edgeopt.aircomp._methods._base import MethodResult, SelectionProblem

#: Options of ``method="fast"``: name -> (default, check).
OPTIONS: OptionSchema = {
    "sca_outer": (30, partial(check_int, min_value=1)),
    "sca_inner": (40, partial(check_int, min_value=1)),
    "add_back": (True, check_bool),
}
RANDOMIZED = False


def select_fast(
    problem: SelectionProblem, options: Mapping[str, Any], rng: np.random.Generator | None
) -> MethodResult:
    """Device selection by greedy removal with a max-min SCA beamformer (method ``"fast"``).

    Starting from every servable device and (approximately) the dominant direction of
    ``sum_i g_i g_i^H / ||g_i||^2``, the beamformer that maximizes the smallest margin is
    improved by successive convex approximation with fixed phases (closed-form steps,
    :func:`~edgeopt.aircomp._kernels.maxmin_sca`) and the device with the smallest margin
    is dropped until every margin is at least 1; the dropped devices are then tried again,
    largest margin first (``add_back``).  The whole method runs in Numba
    (:func:`~edgeopt.aircomp._kernels.greedy_select`).

    Parameters
    ----------
    problem : SelectionProblem
        The validated input (scaled channels ``G``, shape ``(K, N)``).
    options : mapping
        :data:`OPTIONS`, checked and filled in.
    rng : None
        Unused (the method is deterministic).

    Returns
    -------
    MethodResult
        ``iterations``: max-min SCA runs.

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air
       computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020,
       DOI 10.1109/TWC.2019.2961673: problem (12), which this greedy heuristic solves
       approximately (the greedy and the fixed-phase SCA are not from the paper).
    """
    selected, m, runs = _kernels.greedy_select(
        problem.scaled, options["sca_outer"], options["sca_inner"], options["add_back"]
    )
    return MethodResult(np.asarray(selected, dtype=bool), m, int(runs))
