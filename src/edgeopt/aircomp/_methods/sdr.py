"""Method ``"sdr"``: l1 minimization and semidefinite relaxation with Gaussian randomization."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import OptionSchema, check_choice, check_int
from edgeopt.aircomp._methods._base import (
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
from edgeopt.aircomp._methods.dc import BACKENDS

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
    relaxed solutions of the ordered prefixes and keeps the set served by the best
    candidate.  Only the servable devices (``||g_i|| >= 1``) enter the programs.

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

    Devices are ordered by ``x``; for a prefix, candidates ``m`` are drawn from its relaxed
    solution (and, if none serves the prefix, from the relaxed solution maximizing the sum
    of scaled gains, see :meth:`~edgeopt.aircomp._sdp.RealBackend.gain_objective`).  The
    prefixes are scanned from the largest one that passes the relaxation downwards, and the
    scan stops at the first prefix that some candidate serves entirely (at most two programs
    per prefix; whether a prefix is served depends on the random candidates, so it is not
    monotone in the prefix length and a bisection would stop early).  The selection is the
    set of devices served by the best candidate seen (the most devices, over all ``K``).

    References
    ----------
    .. [1] Z.-Q. Luo, W.-K. Ma, A. M.-C. So, Y. Ye, S. Zhang, IEEE Signal Process. Mag.,
       2010, DOI 10.1109/MSP.2010.936019 (Gaussian randomization from a relaxed solution).
    """
    k = G.shape[0]
    order = order_devices(x, G)
    n_up, sols = largest_relaxed_prefix(backend, order, x)
    best: dict[str, Any] = {"mask": np.zeros(k, dtype=bool), "m": None}

    def test(n: int) -> bool:
        mask = prefix_mask(order, n)
        for attempt in range(2):
            if attempt == 0:
                X = sols.get(n)
                if X is None:
                    X = backend.solve_feasible(mask, backend.zero_lin())
            else:
                X = backend.solve_feasible(mask, backend.gain_objective(mask))
            if X is None:
                continue
            draws = gaussian_beamformers(rng, samples, backend.covariance(X))
            cands = np.vstack([backend.beam(X)[None, :], draws])
            served = candidate_margins(cands, G) >= 1.0
            counts = served.sum(axis=1)
            i = int(np.argmax(counts))
            if counts[i] > best["mask"].sum():
                best["mask"] = served[i].copy()
                best["m"] = cands[i] / np.linalg.norm(cands[i])
                if tracker is not None:
                    tracker.offer(np.ascontiguousarray(best["m"]))
            if np.any(served[:, mask].all(axis=1)):
                return True
        return False

    # Randomization makes ``test`` non-monotone in n, so a bisection would stop at a smaller
    # prefix than the baseline: scan downwards from the largest relaxed prefix and stop at
    # the first prefix that a candidate serves entirely.
    for n in range(n_up, 0, -1):
        if test(n):
            break
    best_mask: NDArray[np.bool_] = best["mask"]
    best_m: NDArray[np.complex128] | None = best["m"]
    return best_mask, best_m
