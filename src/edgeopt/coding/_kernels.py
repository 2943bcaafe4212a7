"""Numba kernels of the straggler simulator (no input checks here: callers validate).

Every kernel draws, for each trial, one delay per worker from the delay model and reduces
the ``n`` delays to the completion time of a scheme.  Delay models are passed as plain
arrays; ``model`` selects the law:

* 0 -- shifted exponential: ``T_i = l_i (a_i + X / mu_i)``, ``X ~ Exp(1)``;
* 1 -- Pareto: ``T_i = l_i a_i Y``, ``Y`` Pareto with scale 1 and tail index ``alpha``;
* 2 -- bimodal: the shifted exponential, multiplied by ``factor`` for a slow worker
  (slow with probability ``prob`` in every trial, or as given by ``slow`` once for all trials);
* 3 -- empirical: ``T_i = l_i D``, ``D`` drawn uniformly from the measured delays per unit load.

Each worker's upload time ``u_i`` is added after its computation.  Reductions (``rule``):
0 -- the ``k``-th smallest delay; 1 -- the largest over groups of the smallest delay in the
group (replication: every group must return once); 2 -- the first time at which the loads of
the finished workers add up to at least 1 (a coded job over heterogeneous loads).

Random numbers come from Numba's own generator (``np.random`` inside compiled code, a
state private to the compiled code and to the thread), seeded at every call by
:func:`completion_times` from a seed that the public function draws from the caller's
:class:`numpy.random.Generator`: the same ``rng`` gives the same times, and NumPy's global
state is never touched.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _seed(seed: int) -> None:  # pragma: no cover - numba
    np.random.seed(seed)  # noqa: NPY002 - Numba generator, seeded per call


@njit(cache=True)
def _draw(
    model: int,
    shift: np.ndarray,
    rate: np.ndarray,
    load: np.ndarray,
    upload: np.ndarray,
    alpha: float,
    factor: float,
    prob: float,
    slow: np.ndarray,
    persistent: bool,
    samples: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    n = out.shape[0]
    for i in range(n):
        if model == 0:
            t = load[i] * (shift[i] + np.random.exponential(1.0) / rate[i])  # noqa: NPY002 - Numba generator, seeded per call
        elif model == 1:
            t = load[i] * shift[i] * (1.0 - np.random.random()) ** (-1.0 / alpha)  # noqa: NPY002 - Numba generator, seeded per call
        elif model == 2:
            t = load[i] * (shift[i] + np.random.exponential(1.0) / rate[i])  # noqa: NPY002 - Numba generator, seeded per call
            if persistent:
                if slow[i]:
                    t *= factor
            elif np.random.random() < prob:  # noqa: NPY002 - Numba generator, seeded per call
                t *= factor
        else:
            t = load[i] * samples[np.random.randint(0, samples.shape[0])]  # noqa: NPY002 - Numba generator, seeded per call
        out[i] = t + upload[i]


@njit(cache=True)
def _kth_smallest(x: np.ndarray, k: int) -> float:  # pragma: no cover - numba
    """The ``k``-th smallest entry (1-based) of ``x`` by quickselect; ``x`` is reordered."""
    lo = 0
    hi = x.shape[0] - 1
    target = k - 1
    while lo < hi:
        pivot = x[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while x[i] < pivot:
                i += 1
            while x[j] > pivot:
                j -= 1
            if i <= j:
                tmp = x[i]
                x[i] = x[j]
                x[j] = tmp
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            return x[target]
    return x[target]


@njit(cache=True)
def completion_times(
    model: int,
    shift: np.ndarray,
    rate: np.ndarray,
    load: np.ndarray,
    upload: np.ndarray,
    alpha: float,
    factor: float,
    prob: float,
    slow: np.ndarray,
    persistent: bool,
    samples: np.ndarray,
    rule: int,
    k: int,
    groups: np.ndarray,
    num_groups: int,
    trials: int,
    seed: int,
) -> np.ndarray:  # pragma: no cover - numba
    """Completion time of every trial, shape ``(trials,)`` (see the module docstring)."""
    _seed(seed)
    n = shift.shape[0]
    out = np.empty(trials)
    buf = np.empty(n)
    best = np.empty(max(num_groups, 1))
    for t in range(trials):
        _draw(model, shift, rate, load, upload, alpha, factor, prob, slow, persistent, samples, buf)
        if rule == 0:
            out[t] = _kth_smallest(buf, k)
        elif rule == 1:
            for g in range(num_groups):
                best[g] = np.inf
            for i in range(n):
                if buf[i] < best[groups[i]]:
                    best[groups[i]] = buf[i]
            worst = 0.0
            for g in range(num_groups):
                if best[g] > worst:
                    worst = best[g]
            out[t] = worst
        else:
            order = np.argsort(buf)
            acc = 0.0
            out[t] = np.inf
            for j in range(n):
                acc += load[order[j]]
                if acc >= 1.0 - 1e-12:
                    out[t] = buf[order[j]]
                    break
    return out


@njit(cache=True)
def order_statistic_iid(
    model: int,
    shift: float,
    rate: float,
    load: float,
    upload: float,
    alpha: float,
    n: int,
    k: int,
    trials: int,
    seed: int,
) -> np.ndarray:  # pragma: no cover - numba
    """The ``k``-th smallest of ``n`` i.i.d. delays by one Beta draw per trial.

    For i.i.d. continuous delays ``T_i = F^{-1}(U_i)`` the ``k``-th smallest is
    ``F^{-1}(U_(k))`` and ``U_(k) ~ Beta(k, n - k + 1)`` (the order statistics of uniforms,
    e.g. David and Nagaraja, "Order Statistics", 3rd ed., 2003, §2.2): shifted exponential
    ``F^{-1}(u) = l (a - log(1 - u) / mu) + up``, Pareto ``l a (1 - u)^(-1/alpha) + up``
    (``model`` 0 and 1).
    """
    _seed(seed)
    out = np.empty(trials)
    for t in range(trials):
        u = np.random.beta(k, n - k + 1)  # noqa: NPY002 - Numba generator, seeded per call
        if model == 0:
            out[t] = load * (shift - np.log1p(-u) / rate) + upload
        else:
            out[t] = load * shift * (1.0 - u) ** (-1.0 / alpha) + upload
    return out
