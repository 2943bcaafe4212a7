"""Method ``"fast"``: greedy removal under a max-min SCA beamformer (no semidefinite program)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import OptionSchema, check_bool, check_int, check_scalar
from edgeopt.aircomp import _kernels
from edgeopt.aircomp._methods._base import (
    Limits,
    MethodResult,
    SelectionProblem,
    _optional_count,
)

#: Options of ``method="fast"``: name -> (default, check).
OPTIONS: OptionSchema = {
    "sca_outer": (30, partial(check_int, min_value=1)),
    "sca_inner": (40, partial(check_int, min_value=1)),
    "drop_fraction": (0.5, partial(check_scalar, low=0.0, high=1.0)),
    "add_back": (True, check_bool),
    "add_back_tries": (None, _optional_count),
    "drop_outer": (2, partial(check_int, min_value=1)),
}
RANDOMIZED = False

#: Work (devices x antennas x SCA runs) of one kernel call between returns to Python: a
#: call takes at most a few tens of milliseconds, so limits and Ctrl-C act promptly.
CHUNK_WORK = 400_000


#: SCA runs per draw in one call of the batch kernel.
BATCH_RUNS = 4

#: Draws the batch kernel's parallel loop hands out to a thread at a time.
BATCH_CHUNK = 8


#: Default ``add_back_tries``: skipped devices in a row that end the add-back pass, with
#: at most ``MANY_ANTENNAS`` antennas and above (a try costs ``O(N^2)`` per Wolfe step
#: on a corral of up to ``2 N + 1`` devices, and the last tries rarely add one).
ADD_BACK_TRIES, ADD_BACK_TRIES_MANY, MANY_ANTENNAS = 8, 4, 16


def add_back_tries(options: Mapping[str, Any], n: int) -> int:
    """The ``add_back_tries`` option, or its default for ``N`` antennas if ``None``."""
    tries = options["add_back_tries"]
    if tries is None:
        return ADD_BACK_TRIES if n <= MANY_ANTENNAS else ADD_BACK_TRIES_MANY
    return int(tries)


def _kernel_args(options: Mapping[str, Any], n: int) -> tuple[int, int, float, bool, int, int]:
    return (
        options["sca_outer"],
        options["sca_inner"],
        float(options["drop_fraction"]),
        bool(options["add_back"]),
        add_back_tries(options, n),
        options["drop_outer"],
    )


def runs_per_call(k: int, n: int) -> int:
    """SCA runs per kernel call for ``K`` devices and ``N`` antennas (at least 1)."""
    return max(1, CHUNK_WORK // max(k * n, 1))


def served(G: NDArray[np.complex128], m: NDArray[np.complex128]) -> NDArray[np.bool_]:
    """Devices that ``m`` serves (margin at least 1): always a verified selection."""
    if not np.any(m != 0):
        return np.zeros(G.shape[0], dtype=bool)
    out: NDArray[np.bool_] = _kernels.margins(G, m) >= 1.0
    return out


def select_fast(
    problem: SelectionProblem, options: Mapping[str, Any], rng: np.random.Generator | None
) -> MethodResult:
    """Device selection by greedy removal with a max-min SCA beamformer (method ``"fast"``).

    Starting from every servable device (exact screening: ``||g_i|| >= 1``) and
    (approximately) the dominant direction of ``sum_i g_i g_i^H / ||g_i||^2``, the
    beamformer that maximizes the smallest margin is improved by successive convex
    approximation with fixed phases (:func:`~edgeopt.aircomp._kernels.maxmin_sca_warm`:
    each surrogate is a min-norm point over a simplex, solved exactly by Wolfe's method and
    warm-started from the beamformer and the min-norm weights of the previous run); while
    some margin is below 1, devices with the smallest margins are dropped: one at a time
    while at most 64 devices are active, then ``floor(drop_fraction * v)`` at once (``v``:
    the margins below 1), each of these bulk steps after at most ``drop_outer`` SCA
    iterations unless the set is close to served.  Then every dropped device the
    beamformer already serves is added (exact), and the others are tried in groups, in
    order of decreasing margin: a group is kept if the warm-started SCA still serves the
    enlarged set (then every dropped device the new beamformer serves is added too); the
    group doubles after two kept groups in a row (up to 64 devices) and halves after one
    that fails, and a single device that fails is skipped (``add_back``; the pass ends
    after ``add_back_tries`` skipped devices in a row: by default 8 with at most 16
    antennas, 4 above).  On a large set a try runs first on
    the ``4 max(32, 2 N)`` active devices of smallest margins and the corral, kept if it
    serves the whole enlarged set, and stops early once the gains left, extrapolated
    geometrically, cannot reach the target.  The method runs in Numba
    (:func:`~edgeopt.aircomp._kernels.fast_advance`), cut into calls of bounded work so
    that limits and Ctrl-C take effect between them.

    Cost: ``O(K N^2)`` to start; one SCA iteration on ``S`` active devices costs
    ``O(S N)`` for the margins and the optimality checks of the working set (the corral
    and ``W = max(32, 2 N)`` smallest margins; the last check also gives the margins of
    the new beamformer), ``O(c^3)`` to rebuild the warm corral's factor (``c <= 2 N + 1``
    members; their complex products ``g_a^H g_b`` are cached across iterations and runs,
    ``O(N)`` for each pair not cached yet) and ``O((W + c) N + c^2)`` per point Wolfe's
    method adds (never an ``S x S`` matrix); a warm start needs few added points.  The bulk
    drops make the number of SCA runs grow about logarithmically in ``K``, and the grouped
    add-back makes about ``add_back_tries`` plus a logarithmic number of runs per streak of
    devices added (each ``O(S N)`` for the margins of the active set plus the run on its
    subset), so the whole method is about ``O(K N log K + K N^2)`` plus ``O(N^3)`` per SCA
    iteration.

    Parameters
    ----------
    problem : SelectionProblem
        The validated input (scaled channels ``G``, shape ``(K, N)``) and its limits.
    options : mapping
        :data:`OPTIONS`, checked and filled in.
    rng : None
        Unused (the method is deterministic).

    Returns
    -------
    MethodResult
        ``iterations``: max-min SCA runs; at a limit, the devices the current beamformer
        serves (``limit_reached=True``).

    References
    ----------
    .. [1] K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air
       computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020,
       DOI 10.1109/TWC.2019.2961673: problem (12), which this greedy heuristic solves
       approximately (the greedy and the fixed-phase SCA are not from the paper).
    """
    G = problem.scaled
    k, n = G.shape
    active = np.zeros(k, dtype=bool)
    m = np.zeros(n, dtype=np.complex128)
    servable = np.zeros(k, dtype=bool)
    order = np.zeros(k, dtype=np.int64)
    weights = np.zeros(k)
    marg = np.zeros(k)
    state = np.zeros(8, dtype=np.int64)
    _kernels.fast_init(G, active, m, servable, state)
    args = _kernel_args(options, n)
    cache = _kernels.new_gram_cache(k, n)
    chunk = runs_per_call(k, n)
    limits: Limits = problem.limits
    cut = False
    while state[0] != _kernels.DONE:
        if limits.reached(int(state[1])):
            cut = True
            break
        runs = min(chunk, limits.runs_left(int(state[1])))
        _kernels.fast_advance(
            G, active, m, servable, order, weights, marg, state, runs, *args, cache
        )
    selected = served(G, m) & servable if cut else active.copy()
    return MethodResult(selected, m, int(state[1]), limit_reached=cut)


def select_fast_batch(
    G: NDArray[np.complex128], options: Mapping[str, Any], limits: Limits
) -> tuple[NDArray[np.bool_], NDArray[np.complex128], NDArray[np.int64], NDArray[np.bool_]]:
    """:func:`select_fast` for every draw of the ``(B, K, N)`` scaled channels at once.

    The draws run in parallel (Numba ``prange``, one draw per thread at a time) on the
    same resumable kernel as :func:`select_fast`, so draw ``b`` gives exactly the result of
    a single call on ``G[b]`` whatever the number of threads.  ``max_iterations`` applies
    to each draw, ``time_limit_s`` to the whole batch.  Returns the selections ``(B, K)``,
    beamformers ``(B, N)``, SCA runs ``(B,)`` and whether a limit cut each draw ``(B,)``.
    """
    b, k, n = G.shape
    active = np.zeros((b, k), dtype=bool)
    m = np.zeros((b, n), dtype=np.complex128)
    servable = np.zeros((b, k), dtype=bool)
    order = np.zeros((b, k), dtype=np.int64)
    weights = np.zeros((b, k))
    marg = np.zeros((b, k))
    state = np.zeros((b, 8), dtype=np.int64)
    args = _kernel_args(options, n)
    # draws per call and runs per draw per call keep each call's work bounded (about
    # CHUNK_WORK per thread) while giving every thread many draws per call
    threads = numba.get_num_threads()
    chunk = min(BATCH_RUNS, runs_per_call(k, n))
    draws = max(threads, (CHUNK_WORK * threads) // max(k * n * chunk, 1))
    cut = np.zeros(b, dtype=bool)
    # a window of at most `draws` unfinished draws, refilled as draws finish (so that the
    # threads stay busy until the end of the batch), each holding a slot of the caches of
    # channel products until it is done
    draws = min(draws, b)
    cap = _kernels.gram_cache_size(k, n)
    cslot = np.empty((draws, k), dtype=np.int64)
    cdev = np.empty((draws, cap), dtype=np.int64)
    cz = np.empty((draws, cap, cap), dtype=np.complex128)
    cvalid = np.empty((draws, cap, cap), dtype=bool)
    cn = np.zeros((draws, 1), dtype=np.int64)
    free = list(range(draws - 1, -1, -1))
    window: list[tuple[int, int, bool]] = []  # (draw, slot, not yet started)
    nxt = 0
    while True:
        while free and nxt < b:
            q = free.pop()
            cslot[q] = -1
            cn[q] = 0
            window.append((nxt, q, True))
            nxt += 1
        if not window:
            break
        if limits.time_left() <= 0.0:
            cut[[d for d, _, _ in window]] = True
            cut[nxt:] = True
            break
        todo = np.array([d for d, _, _ in window], dtype=np.int64)
        runs = np.array(
            [min(chunk, limits.runs_left(int(state[d, 1]))) for d, _, _ in window],
            dtype=np.int64,
        )
        # draws handed out to the threads a few at a time (their costs differ)
        with numba.parallel_chunksize(BATCH_CHUNK):
            _kernels.fast_batch(
                G,
                active,
                m,
                servable,
                order,
                weights,
                marg,
                state,
                todo,
                np.array([q for _, q, _ in window], dtype=np.int64),
                np.array([s for _, _, s in window], dtype=bool),
                runs,
                *args,
                cslot,
                cdev,
                cz,
                cvalid,
                cn,
            )
        kept = []
        for d, q, _ in window:
            if state[d, 0] == _kernels.DONE:
                free.append(q)
            elif limits.max_iterations is not None and state[d, 1] >= limits.max_iterations:
                cut[d] = True
                free.append(q)
            else:
                kept.append((d, q, False))
        window = kept
    selected = active.copy()
    for i in np.flatnonzero(cut):
        selected[i] = served(G[i], m[i]) & servable[i]
    return selected, m, state[:, 1].copy(), cut
