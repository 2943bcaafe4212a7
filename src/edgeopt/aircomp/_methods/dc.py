"""Method ``"dc"``: the two-step difference-of-convex framework of Yang et al. (2020)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import OptionSchema, check_choice, check_int, check_scalar
from edgeopt.aircomp import _kernels
from edgeopt.aircomp._methods import fast
from edgeopt.aircomp._methods._base import (
    FEASIBILITY_TOL,
    SCA_INNER,
    SCA_OUTER,
    Lifted,
    MethodResult,
    SDPBackend,
    SelectionProblem,
    candidate_margins,
    gaussian_beamformers,
    largest_passing,
)
from edgeopt.aircomp._methods._two_step import (
    BestServed,
    largest_relaxed_prefix,
    order_devices,
    prefix_mask,
    run_two_step,
)

BACKENDS = ("clarabel", "cvxpy")

#: Options of ``method="dc"``: name -> (default, check).  ``max_inner`` is 3 (it was 5):
#: step 2 only uses the order of the step-1 slacks, and on 58 seeded draws (K = 20 at
#: -5, 0, 5 and 10 dB; K = 100 and 200 at 0 dB; N = 6) 5, 3 and 2 linearizations per
#: ``k`` gave the same selections on every draw, with 3 solving 13-14 % fewer programs
#: than 5 at K = 100 and 200.
OPTIONS: OptionSchema = {
    "max_inner": (3, partial(check_int, min_value=1)),
    "tol": (1e-3, partial(check_scalar, positive=True)),
    "rank_weight": (1.0, partial(check_scalar, positive=True)),
    "max_rank_iter": (20, partial(check_int, min_value=0)),
    "polish_samples": (30, partial(check_int, min_value=0)),
    "backend": ("clarabel", partial(check_choice, choices=BACKENDS)),
}
RANDOMIZED = True

#: The DC rank-one iteration stops when the rank gap falls by less than this fraction.
RANK_STALL = 1e-2
#: A lifted matrix whose relative rank gap is at most this is rank one.
RANK_ONE_TOL = 1e-9
#: Step 1 hands the l1 relaxation to step 2 when its slacks sum to at most this.
ZERO_SLACKS = 1e-9

#: The add-back pass of step 2 ends after this many failures in a row.
ADD_BACK_TRIES = 16

#: Beamformer detection for the devices of a mask, from a relaxed solution ``X0``.
Detect = Callable[[NDArray[np.bool_], Lifted], NDArray[np.complex128] | None]


def select_dc(
    problem: SelectionProblem, options: Mapping[str, Any], rng: np.random.Generator | None
) -> MethodResult:
    """Device selection by the two-step DC framework (method ``"dc"``).

    Step 1 (:func:`sparsity_dc`) minimizes the DC representation of ``||x||_0`` and of the
    rank-one constraint over the lifted program with slacks ``x``; step 2 (:func:`step2`)
    orders the devices by ``x``, finds the largest prefix that passes the relaxation and
    then, by bisection, the largest prefix for which the DC rank-one program
    (:func:`rank_one_dc`) yields a beamformer, and adds back the devices that still fit.
    Only the servable devices (``||g_i|| >= 1``) enter the programs.

    Cost: ``O(log K)`` semidefinite programs (bisection over ``k`` in step 1, at most
    ``max_inner`` programs per ``k``; two bisections over prefixes in step 2, at most
    ``max_rank_iter`` programs per prefix tested), each an interior-point solve on at most
    ``K`` rows (a working set, see :class:`~edgeopt.aircomp._sdp.ClarabelBackend`) and the
    ``N (2N + 1)`` entries of the lifted ``2N x 2N`` matrix, about ``O(r N^4 + N^6)`` per
    interior-point iteration on ``r`` rows; plus the greedy start and max-min SCA runs of
    ``O(K N)`` per iteration.

    Parameters
    ----------
    problem : SelectionProblem
        The validated input (scaled channels ``G``, shape ``(K, N)``).
    options : mapping
        :data:`OPTIONS`, checked and filled in (``max_inner`` defaults to 3
        linearizations per ``k``: the same selections as 5 on the measured draws, with
        fewer programs; see :data:`OPTIONS`).
    rng : numpy.random.Generator
        Gaussian draws among the starts of the beamformer polish.

    Returns
    -------
    MethodResult
        ``iterations``: convex programs solved (both steps).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air
       computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020,
       DOI 10.1109/TWC.2019.2961673: problem (12), the sparse and low-rank program
       (17)-(20), the DC program (29) and Algorithm 2 (the two-step framework).
    """
    assert rng is not None
    greedy_opts = {key: default for key, (default, _) in fast.OPTIONS.items()}
    greedy = fast.select_fast(problem, greedy_opts, None)
    warm = greedy.beamformer if greedy.selected.any() else None

    def body(
        backend: SDPBackend, G: NDArray[np.complex128], tracker: BestServed
    ) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
        k_hi = backend.k - int(tracker.mask.sum()) if tracker.m is not None else backend.k
        x, whole = sparsity_dc(
            backend,
            max_inner=options["max_inner"],
            tol=options["tol"],
            rank_weight=options["rank_weight"],
            k_hi=k_hi,
        )

        def detect(mask: NDArray[np.bool_], X0: Lifted) -> NDArray[np.complex128] | None:
            return rank_one_dc(
                backend,
                G,
                mask,
                X0,
                options["max_rank_iter"],
                rng,
                options["polish_samples"],
                tracker,
            )

        known = None if whole is None else {backend.k: whole}
        return step2(backend, G, x, detect, known, tracker=tracker)

    return run_two_step(problem, options["backend"], body, warm)


def topk_indicator(x: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Subgradient of the Ky Fan k-norm at ``x >= 0``: 1 on the k largest entries."""
    s = np.zeros_like(x)
    if k > 0:
        s[np.argsort(-x, kind="stable")[:k]] = 1.0
    return s


def kyfan_gap(x: NDArray[np.float64], k: int) -> float:
    """``||x||_1 - |||x|||_k`` (0 iff ``x`` has at most ``k`` non-zeros), ``x >= 0``."""
    if k <= 0:
        return float(np.sum(x))
    return float(np.sum(np.sort(x)[: max(x.size - k, 0)]))


def sparsity_dc(
    backend: SDPBackend,
    *,
    max_inner: int,
    tol: float,
    rank_weight: float,
    k_hi: int | None = None,
) -> tuple[NDArray[np.float64], Lifted | None]:
    """Step 1 with the DC representation of ``||x||_0`` and of the rank-one constraint.

    For a given ``k``: minimize ``||x||_1 - |||x|||_k + w (tr X - ||X||_2)`` by successive
    linearization of the concave parts (the Ky Fan subgradient is the indicator of the
    ``k`` largest entries, the spectral-norm subgradient ``u u^T``), started from the
    ``l1`` relaxation; ``k`` succeeds when the sparsity part ``||x||_1 - |||x|||_k`` reaches
    zero.  The paper scans ``k = 0, 1, ...`` up to the first success (``O(K)`` values);
    here the smallest successful ``k`` is found by bisection over ``[0, k_hi]``
    (``O(log K)`` values), ``k_hi`` the smaller of the number of devices the greedy warm
    start leaves out and the number of non-zero slacks of the ``l1`` relaxation (both
    sparsities known to be achievable: at ``k`` equal to the latter the ``l1`` slacks
    already have no sparsity gap).
    The iteration starts from the ``l1`` relaxation; if its slacks are already zero, every
    device passes the relaxation and its solution (feasible for the whole set) is handed to
    step 2 instead of iterating on the rank alone here.

    Returns the final slack vector and, in that case, the relaxed solution of the whole
    set (else ``None``).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, IEEE Trans. Wireless Commun., 2020,
       DOI 10.1109/TWC.2019.2961673: the DC program (29) of step 1 of Algorithm 2.
    """
    k_dev = backend.k
    start = backend.solve_sparse(np.ones(k_dev), backend.zero_lin())
    if start is None:
        return np.zeros(k_dev), None
    x, X = start
    if float(np.sum(x)) <= ZERO_SLACKS:
        return x, X
    x0, X0 = x, X

    def attempt(k: int) -> tuple[bool, NDArray[np.float64]]:
        xk, Xk = x0, X0
        prev = np.inf
        for _ in range(max_inner):
            c = 1.0 - topk_indicator(xk, k)
            res = backend.solve_sparse(c, backend.linearize(Xk, rank_weight))
            if res is None:
                break
            xk, Xk = res
            value = kyfan_gap(xk, k) + rank_weight * backend.gap(Xk)
            if abs(prev - value) <= tol * (1.0 + abs(value)):
                break
            prev = value
        return kyfan_gap(xk, k) <= tol, xk

    # the smallest k whose DC iteration reaches ||x||_1 = |||x|||_k, by bisection over
    # [0, k_hi] (treated as monotone in k), each k started from the l1 relaxation
    hi = k_dev if k_hi is None else min(max(k_hi, 0), k_dev)
    hi = min(hi, int(np.sum(x0 > FEASIBILITY_TOL)))
    lo = 0
    best_x = x0
    ok, xk = attempt(hi)
    if ok:
        best_x = xk
    while lo < hi:
        mid = (lo + hi) // 2
        ok, xk = attempt(mid)
        if ok:
            hi, best_x = mid, xk
        else:
            lo = mid + 1
    return best_x, None


def polish(
    backend: SDPBackend,
    Gs: NDArray[np.complex128],
    X: Lifted,
    rng: np.random.Generator | None,
    samples: int,
    tracker: BestServed | None = None,
) -> NDArray[np.complex128] | None:
    """Beamformer candidates from the lifted ``X``, polished by the max-min SCA.

    Candidates: the top eigenvector and, if ``rng`` is given, the two best (largest
    smallest margin) of ``samples`` Gaussian draws ``m ~ CN(0, M)``.  Returns the first
    polished beamformer whose margins are all >= 1, else ``None``.  Every polished
    candidate is also offered to ``tracker``.
    """
    cands = [backend.beam(X)]
    if rng is not None and samples > 0:
        draws = gaussian_beamformers(rng, samples, backend.covariance(X))
        worst = candidate_margins(draws, Gs).min(axis=1)
        for i in np.argsort(-worst)[:2]:
            cands.append(np.ascontiguousarray(draws[i]))
    for m0 in cands:
        m, best = _kernels.maxmin_sca(Gs, m0.astype(np.complex128), SCA_OUTER, SCA_INNER, 1.0)
        if tracker is not None:
            tracker.offer(m)
        if best >= 1.0:
            return m
    return None


def rank_one_dc(
    backend: SDPBackend,
    G: NDArray[np.complex128],
    mask: NDArray[np.bool_],
    X0: Lifted,
    max_iter: int,
    rng: np.random.Generator | None = None,
    samples: int = 0,
    tracker: BestServed | None = None,
) -> NDArray[np.complex128] | None:
    """DC rank-one feasibility detection for the devices in ``mask``.

    Successively minimizes ``tr X - <u u^T, X>`` (``u``: top eigenvector of the previous
    iterate) over the relaxed feasible set, starting from the relaxed solution ``X0``.  At
    every iterate, beamformer candidates are polished by the max-min SCA and checked
    exactly (:func:`polish`; Gaussian draws only at the relaxed solution ``X0``); the first
    beamformer that serves every device is returned (``None`` if none is found once the
    iterate is rank one, the rank gap stalls -- falls by less than ``RANK_STALL``
    relative -- or ``max_iter`` programs were solved).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, IEEE Trans. Wireless Commun., 2020,
       DOI 10.1109/TWC.2019.2961673: the DC representation of the rank-one constraint in
       step 2 of Algorithm 2.
    """
    Gs = np.ascontiguousarray(G[mask])
    X = X0
    prev_gap = np.inf
    for it in range(max_iter + 1):
        m = polish(backend, Gs, X, rng if it == 0 else None, samples, tracker)
        if m is not None:
            return m
        gap = backend.gap(X)
        if it == max_iter or gap <= RANK_ONE_TOL or prev_gap - gap < RANK_STALL * prev_gap:
            break
        prev_gap = gap
        X_next = backend.solve_feasible(mask, backend.linearize(X))
        if X_next is None:
            break
        X = X_next
    return None


def add_back(
    G: NDArray[np.complex128],
    mask: NDArray[np.bool_],
    m: NDArray[np.complex128],
    order: NDArray[np.intp],
) -> tuple[NDArray[np.bool_], NDArray[np.complex128]]:
    """Greedily add the unselected devices (in ``order``) that a warm-started max-min SCA
    can serve together with the selected ones (a device ``m`` already serves is added
    without a run; the pass ends after ``ADD_BACK_TRIES`` failures in a row)."""
    mask = mask.copy()
    fails = 0
    for j in order:
        if fails >= ADD_BACK_TRIES:
            break
        if mask[j] or _kernels.margins(G[j : j + 1], m)[0] >= 1.0:
            mask[j] = True  # already served by m: exact
            continue
        mask[j] = True
        cand, best = _kernels.maxmin_sca(
            np.ascontiguousarray(G[mask]), m, SCA_OUTER, SCA_INNER, 1.0
        )
        if best >= 1.0:
            m = cand
            fails = 0
        else:
            mask[j] = False
            fails += 1
    return mask, m


def step2(
    backend: SDPBackend,
    G: NDArray[np.complex128],
    x: NDArray[np.float64],
    detect: Detect,
    known: dict[int, Lifted] | None = None,
    *,
    tracker: BestServed | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
    """Step 2: order the devices by ``x``, find the largest prefix that passes the
    relaxation (exact bisection), then bisect for the largest prefix for which ``detect``
    finds a beamformer (treating detection as monotone in the prefix, as true feasibility
    is).  If ``tracker`` saw a candidate that serves more devices than that prefix, its
    served set is taken instead.  The remaining devices that fit are then added
    (:func:`add_back`).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, IEEE Trans. Wireless Commun., 2020,
       DOI 10.1109/TWC.2019.2961673: step 2 of Algorithm 2 (feasibility detection over
       the prefixes of the ordered devices).
    """
    k = G.shape[0]
    order = order_devices(x, G)
    # a prefix no larger than the best set already served cannot improve on it: both
    # bisections only visit the sizes above it (the tracker's set stands for the rest)
    floor = int(tracker.mask.sum()) if tracker is not None and tracker.m is not None else 0
    n_up, sols = largest_relaxed_prefix(backend, order, x, known, lo=floor)
    found: dict[int, NDArray[np.complex128] | None] = {}

    def test(n: int) -> bool:
        mask = prefix_mask(order, n)
        X0 = sols.get(n)
        if X0 is None:
            X0 = backend.solve_feasible(mask, backend.zero_lin())
        found[n] = None if X0 is None else detect(mask, X0)
        return found[n] is not None

    best = largest_passing(test, n_up, n_up, lo=floor)
    mask = prefix_mask(order, best)
    m = found.get(best) if best > floor else None
    if tracker is not None and tracker.m is not None and (m is None or tracker.mask.sum() > best):
        mask, m = tracker.mask.copy(), tracker.m
    if m is None:
        return np.zeros(k, dtype=bool), None
    return add_back(G, mask, m, order)
