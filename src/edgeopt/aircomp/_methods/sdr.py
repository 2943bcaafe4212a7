"""Method ``"sdr"``: l1 minimization and semidefinite relaxation with Gaussian randomization."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import OptionSchema, check_choice, check_int
from edgeopt.aircomp import _kernels
from edgeopt.aircomp._methods._base import (
    SCA_INNER,
    SCA_OUTER,
    MethodResult,
    SDPBackend,
    SelectionProblem,
    candidate_margins,
    gaussian_beamformers,
)
from edgeopt.aircomp._methods._two_step import (
    BestServed,
    largest_relaxed_prefix,
    order_devices,
    prefix_mask,
    run_two_step,
)
from edgeopt.aircomp._methods.dc import BACKENDS, add_back

#: Options of ``method="sdr"``: name -> (default, check).
OPTIONS: OptionSchema = {
    "randomizations": (100, partial(check_int, min_value=1)),
    "backend": ("clarabel", partial(check_choice, choices=BACKENDS)),
}
RANDOMIZED = True


def select_sdr(
    problem: SelectionProblem, options: Mapping[str, Any], rng: np.random.Generator | None
) -> MethodResult:
    """Device selection by the semidefinite-relaxation baseline (method ``"sdr"``).

    Step 1 (:func:`sparsity_l1`) minimizes ``||x||_1`` over the relaxation of the lifted
    program (no rank term); step 2 (:func:`sdr_step2`) draws Gaussian candidates from the
    relaxed solutions of the ordered prefixes (galloping and bisection over the prefixes)
    and keeps the set served by the best candidate, improved locally by the max-min SCA
    and a greedy add-back.  Only the servable devices (``||g_i|| >= 1``) enter the
    programs.

    Cost: ``O(log K)`` semidefinite programs (one for step 1, a bisection for the largest
    relaxed prefix, galloping and bisection steps for the served prefix), each on at most
    ``K`` rows and a ``2N x 2N`` cone; ``O(randomizations K N)`` per program for the
    candidates, and max-min SCA runs of ``O(K N)`` per iteration for the local
    improvement.

    Parameters
    ----------
    problem : SelectionProblem
        The validated input (scaled channels ``G``, shape ``(K, N)``).
    options : mapping
        :data:`OPTIONS`, checked and filled in.
    rng : numpy.random.Generator
        The Gaussian randomization.

    Returns
    -------
    MethodResult
        ``iterations``: convex programs solved (both steps).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air
       computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020,
       DOI 10.1109/TWC.2019.2961673: problem (12) and the sparse and low-rank program
       (17)-(20), here relaxed (l1 norm, rank constraint dropped) as in the semidefinite
       relaxation baseline against which Algorithm 2 is compared.
    .. [2] Z.-Q. Luo, W.-K. Ma, A. M.-C. So, Y. Ye, S. Zhang, "Semidefinite relaxation of
       quadratic optimization problems," IEEE Signal Process. Mag., vol. 27, no. 3,
       pp. 20-34, 2010, DOI 10.1109/MSP.2010.936019 (Gaussian randomization).
    """
    assert rng is not None

    def body(
        backend: SDPBackend, G: NDArray[np.complex128], tracker: BestServed
    ) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
        return sdr_step2(backend, G, sparsity_l1(backend), rng, options["randomizations"], tracker)

    return run_two_step(problem, options["backend"], body)


def sparsity_l1(backend: SDPBackend) -> NDArray[np.float64]:
    """Step 1 of the SDR baseline: the slacks of ``min ||x||_1`` over the relaxation
    (all zeros if every solver failed)."""
    res = backend.solve_sparse(np.ones(backend.k), backend.zero_lin())
    if res is None:
        return np.zeros(backend.k)
    return res[0]


def sdr_step2(
    backend: SDPBackend,
    G: NDArray[np.complex128],
    x: NDArray[np.float64],
    rng: np.random.Generator,
    samples: int,
    tracker: BestServed | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
    """Step 2 of the SDR baseline with Gaussian randomization.

    Devices are ordered by ``x``.  For a prefix, ``samples`` candidates ``m ~ CN(0, M)`` are
    drawn from its relaxed solution (with its top eigenvector); every candidate's served
    set over all ``K`` devices is pooled (the best one over every program solved is kept),
    and the prefix *passes* when a candidate serves it entirely, or when the max-min SCA
    started from the top eigenvector or from the best of the draws (largest smallest
    margin on the prefix) serves it entirely -- a cheap local improvement, ``O(K N)`` per
    SCA iteration next to a program.

    The prefixes are searched from the largest one that passes the relaxation (exact
    bisection) downwards in galloping steps (1, 2, 4, ... below it) until one passes,
    then by bisection between that prefix and the smallest one that failed (treated as
    monotone there; whether a prefix passes depends on the random candidates).  A prefix
    no larger than the best served set already found is not tested: the search ends
    there.  One program per prefix tested: ``O(log K)`` programs.

    The best candidate seen (the most devices served, over all ``K``) is then improved
    locally: :func:`grow`, then the greedy add-back of :func:`~.dc.add_back`, first in
    the order of decreasing margin under the candidate (the devices closest to being
    served), then in the order of ``x``.  The selection is the set it serves.

    References
    ----------
    .. [1] Z.-Q. Luo, W.-K. Ma, A. M.-C. So, Y. Ye, S. Zhang, IEEE Signal Process. Mag.,
       2010, DOI 10.1109/MSP.2010.936019 (Gaussian randomization from a relaxed solution).
    """
    k = G.shape[0]
    order = order_devices(x, G)
    n_up, sols = largest_relaxed_prefix(backend, order, x)
    best: dict[str, Any] = {"mask": np.zeros(k, dtype=bool), "m": None}

    def offer(m: NDArray[np.complex128], served: NDArray[np.bool_]) -> None:
        if served.sum() > best["mask"].sum():
            best["mask"] = served.copy()
            best["m"] = m / np.linalg.norm(m)
            if tracker is not None:
                tracker.offer(np.ascontiguousarray(best["m"]))

    def test(n: int) -> bool:
        mask = prefix_mask(order, n)
        X = sols.get(n)
        if X is None:
            X = backend.solve_feasible(mask, backend.zero_lin())
        if X is None:
            return False
        draws = gaussian_beamformers(rng, samples, backend.covariance(X))
        cands = np.vstack([backend.beam(X)[None, :], draws])
        margins = candidate_margins(cands, G)
        served = margins >= 1.0
        i = int(np.argmax(served.sum(axis=1)))
        offer(cands[i], served[i])
        if np.any(served[:, mask].all(axis=1)):
            return True
        Gs = np.ascontiguousarray(G[mask])
        starts = [0, int(np.argmax(margins[1:, mask].min(axis=1))) + 1]
        for j in starts:
            m, worst = _kernels.maxmin_sca(
                Gs, np.ascontiguousarray(cands[j]), SCA_OUTER, SCA_INNER, 1.0
            )
            offer(m, _kernels.margins(G, m) >= 1.0)
            if worst >= 1.0:
                return True
        return False

    # galloping downwards from the largest relaxed prefix to the first prefix that passes
    failed, step, n = n_up + 1, 1, n_up
    passed = 0
    while n > best["mask"].sum():
        if test(n):
            passed = n
            break
        failed, step = n, 2 * step
        n = max(n - step // 2, int(best["mask"].sum()) + 1)
        if n >= failed:
            break
    # bisection between the prefix that passed and the smallest one that failed
    lo, hi = passed, failed - 1
    while passed and lo < hi:
        mid = (lo + hi + 1) // 2
        if mid <= best["mask"].sum():
            break
        if test(mid):
            lo = mid
        else:
            hi = mid - 1
    best_mask: NDArray[np.bool_] = best["mask"]
    best_m: NDArray[np.complex128] | None = best["m"]
    if best_m is None:
        return best_mask, None
    best_mask, best_m = grow(G, best_mask, best_m)
    # add back the devices closest to being served first, then in the order of ``x``
    closest = np.argsort(-_kernels.margins(G, best_m), kind="stable")
    best_mask, best_m = add_back(G, best_mask, best_m, closest)
    return add_back(G, best_mask, best_m, order)


def grow(
    G: NDArray[np.complex128], mask: NDArray[np.bool_], m: NDArray[np.complex128]
) -> tuple[NDArray[np.bool_], NDArray[np.complex128]]:
    """Local improvement of a candidate ``m`` that serves ``mask``: the max-min SCA on the
    served devices, started from ``m``, raises their smallest margin, and the devices it
    then serves (over all ``K``) form the next set, until the set stops growing."""
    while True:  # at most K rounds: the set grows strictly or the loop returns
        cand, worst = _kernels.maxmin_sca(
            np.ascontiguousarray(G[mask]), np.ascontiguousarray(m), SCA_OUTER, SCA_INNER, 1.0
        )
        if worst < 1.0:
            return mask, m
        served = _kernels.margins(G, cand) >= 1.0
        if served.sum() <= mask.sum():
            return mask, m
        mask, m = served, cand
