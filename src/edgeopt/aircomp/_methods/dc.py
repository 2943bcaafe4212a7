"""Method ``"dc"``: the two-step difference-of-convex framework of Yang et al. (2020)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import OptionSchema, check_choice, check_int, check_scalar
from edgeopt.aircomp import _kernels
from edgeopt.aircomp._methods._base import (
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
    largest_relaxed_prefix,
    order_devices,
    prefix_mask,
    run_two_step,
)

BACKENDS = ("clarabel", "cvxpy")

#: Options of ``method="dc"``: name -> (default, check).
OPTIONS: OptionSchema = {
    "max_inner": (5, partial(check_int, min_value=1)),
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

    Parameters
    ----------
    problem : SelectionProblem
        The validated input (scaled channels ``G``, shape ``(K, N)``).
    options : mapping
        :data:`OPTIONS`, checked and filled in.
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

    def body(
        backend: SDPBackend, G: NDArray[np.complex128]
    ) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
        x, whole = sparsity_dc(
            backend,
            max_inner=options["max_inner"],
            tol=options["tol"],
            rank_weight=options["rank_weight"],
        )
        tracker = BestServed(G)

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

    return run_two_step(problem, options["backend"], body)


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
    backend: SDPBackend, *, max_inner: int, tol: float, rank_weight: float
) -> tuple[NDArray[np.float64], Lifted | None]:
    """Step 1 with the DC representation of ``||x||_0`` and of the rank-one constraint.

    For ``k = 0, 1, ...``: minimize ``||x||_1 - |||x|||_k + w (tr X - ||X||_2)`` by
    successive linearization of the concave parts (the Ky Fan subgradient is the indicator
    of the ``k`` largest entries, the spectral-norm subgradient ``u u^T``), warm-started
    from the previous ``k``, until the sparsity part ``||x||_1 - |||x|||_k`` is zero.
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
    for k in range(k_dev + 1):
        prev = np.inf
        for _ in range(max_inner):
            c = 1.0 - topk_indicator(x, k)
            res = backend.solve_sparse(c, backend.linearize(X, rank_weight))
            if res is None:
                break
            x, X = res
            value = kyfan_gap(x, k) + rank_weight * backend.gap(X)
            if abs(prev - value) <= tol * (1.0 + abs(value)):
                break
            prev = value
        if kyfan_gap(x, k) <= tol:
            break
    return x, None


class BestServed:
    """The beamformer that serves the most devices among all candidates offered."""

    def __init__(self, G: NDArray[np.complex128]) -> None:
        self.G = G
        self.mask = np.zeros(G.shape[0], dtype=bool)
        self.m: NDArray[np.complex128] | None = None

    def offer(self, m: NDArray[np.complex128]) -> None:
        served = _kernels.margins(self.G, m) >= 1.0
        if served.sum() > self.mask.sum():
            self.mask, self.m = served, m


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
    can serve together with the selected ones."""
    mask = mask.copy()
    for j in order:
        if mask[j]:
            continue
        mask[j] = True
        cand, best = _kernels.maxmin_sca(
            np.ascontiguousarray(G[mask]), m, SCA_OUTER, SCA_INNER, 1.0
        )
        if best >= 1.0:
            m = cand
        else:
            mask[j] = False
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
    n_up, sols = largest_relaxed_prefix(backend, order, x, known)
    found: dict[int, NDArray[np.complex128] | None] = {}

    def test(n: int) -> bool:
        mask = prefix_mask(order, n)
        X0 = sols.get(n)
        if X0 is None:
            X0 = backend.solve_feasible(mask, backend.zero_lin())
        found[n] = None if X0 is None else detect(mask, X0)
        return found[n] is not None

    best = largest_passing(test, n_up, n_up)
    mask = prefix_mask(order, best)
    m = found.get(best) if best else None
    if tracker is not None and tracker.m is not None and tracker.mask.sum() > best:
        mask, m = tracker.mask.copy(), tracker.m
    if m is None:
        return np.zeros(k, dtype=bool), None
    return add_back(G, mask, m, order)
