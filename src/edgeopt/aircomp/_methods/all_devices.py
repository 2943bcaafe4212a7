"""Method ``"all"``: every device, with the best max-min beamformer found."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import OptionSchema, check_int
from edgeopt.aircomp import _kernels
from edgeopt.aircomp._methods._base import (
    SCA_INNER,
    SCA_OUTER,
    MethodResult,
    SelectionProblem,
    gaussian_beamformers,
)

#: Options of ``method="all"``: name -> (default, check).
OPTIONS: OptionSchema = {"restarts": (8, partial(check_int, min_value=0))}
RANDOMIZED = True


def select_all(
    problem: SelectionProblem, options: Mapping[str, Any], rng: np.random.Generator | None
) -> MethodResult:
    """Every device with the best max-min beamformer found (method ``"all"``).

    The max-min SCA (:func:`~edgeopt.aircomp._kernels.maxmin_sca`) runs from the dominant
    direction of ``sum_i g_i g_i^H / ||g_i||^2`` and from ``restarts`` random directions
    (``CN(0, I)`` draws); the run with the largest smallest margin is kept.  The selection
    is fixed: it is evaluated, and misses the target with status ``"target_missed"``.

    Cost: ``O(K N^2)`` for the start and, per SCA run of at most ``sca_outer = 30``
    iterations, ``O(K N)`` per iteration plus ``O(N^2)``-sized inner steps on a working set
    (:func:`~edgeopt.aircomp._kernels.maxmin_sca`): ``O(restarts K N)`` in all.

    Parameters
    ----------
    problem : SelectionProblem
        The validated input (scaled channels ``G``, shape ``(K, N)``).
    options : mapping
        :data:`OPTIONS`, checked and filled in.
    rng : numpy.random.Generator
        The random starts.

    Returns
    -------
    MethodResult
        ``fixed=True``; ``iterations``: max-min SCA runs (``restarts + 1``).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air
       computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020,
       DOI 10.1109/TWC.2019.2961673: the MSE (8)-(10) of aggregating every device.
    """
    assert rng is not None
    G = problem.scaled
    k, n = G.shape
    starts: list[NDArray[np.complex128]] = [_kernels.dominant_direction(G, np.arange(k))]
    draws = gaussian_beamformers(rng, options["restarts"], np.eye(n, dtype=np.complex128))
    starts.extend(d / np.linalg.norm(d) for d in draws)
    best_m, best_v = starts[0], -1.0
    runs = 0
    for m0 in starts:
        if problem.limits.reached(runs):
            return MethodResult(
                np.ones(k, dtype=bool), best_m, runs, fixed=True, limit_reached=True
            )
        m, v = _kernels.maxmin_sca(G, np.ascontiguousarray(m0), SCA_OUTER, SCA_INNER)
        runs += 1
        if v > best_v:
            best_m, best_v = m, v
    return MethodResult(np.ones(k, dtype=bool), best_m, runs, fixed=True)
