"""Numba kernels of the straggler simulator (no input checks here: callers validate).

Every kernel draws, for each trial, one delay per worker from the delay model and reduces
the ``n`` delays to the completion time of a scheme.  Delay models are passed as plain
arrays; ``model`` selects the law:

* 0 -- shifted exponential: ``T_i = l_i (a_i + X / mu_i)``, ``X = -log U ~ Exp(1)``;
* 1 -- Pareto: ``T_i = l_i a_i U^(-1/alpha)`` (scale 1, tail index ``alpha``);
* 2 -- bimodal: the shifted exponential, multiplied by ``factor`` for a slow worker
  (slow with probability ``prob`` in every trial, or as given by ``slow`` once for all trials);
* 3 -- empirical: ``T_i = l_i D``, ``D`` drawn uniformly from the measured delays per unit load.

Here ``U`` is uniform on ``(0, 1]``.  Each worker's upload time ``u_i`` is added after its
computation.  Reductions (``rule``): 0 -- the ``k``-th smallest delay; 1 -- the largest over
groups of the smallest delay in the group (replication: every group must return once); 2 --
the first time at which the loads of the finished workers add up to at least 1 (a coded job
over heterogeneous loads).

Random numbers.  :func:`completion_times` uses a counter-based generator: trial ``t`` of a
call with key ``seed`` has its own stream, the SplitMix64 sequence (Steele, Lea and Flood,
"Fast splittable pseudorandom number generators", OOPSLA 2014) started at a state mixed from
``(seed, t)``.  A trial's draws therefore depend on ``(seed, t)`` only, and the trials run in
parallel (Numba ``prange`` over chunks of trials) with the same result whatever the number
of threads.  :func:`order_statistic_iid` (one Beta draw per trial, serial) uses Numba's own
generator (``np.random`` inside compiled code, a state private to the compiled code), seeded
at every call.  Both seeds are drawn by the public function from the caller's
:class:`numpy.random.Generator`: the same ``rng`` gives the same times, and NumPy's global
state is never touched.

Thresholded selection (``side`` = 1 or -1, rule 0, models 0, 1 and persistent 2, where
``T_i`` is a non-increasing function of its single uniform ``U_i``).  For the ``k``-th
smallest of ``n`` with ``r = n - k + 1`` small (``side = 1``), the caller gives a time
``tau`` and per-worker levels ``q_i`` such that every ``U_i >= q_i`` gives ``T_i <= tau``
(checked by :func:`threshold_holds` on the compiled value function itself).  A trial draws
every ``U_i`` (one comparison each) and evaluates ``T_i`` only for the candidates
``U_i < q_i``.  If at least ``r`` candidates exceed ``tau``, the ``r`` largest delays are all
candidates, and the ``r``-th largest candidate *is* the ``k``-th smallest delay; otherwise
the trial evaluates every ``T_i`` from the same uniforms and selects among all.  The result
is the same number as without the threshold, only cheaper (``side = -1`` is the mirror
image for small ``k``: candidates ``U_i >= q_i``, delays below ``tau``).

Exceedance shortcut (``shortcut`` 1 or 2, ``side = 1``, ``q_i = P(T_i > tau)`` with ``tau``
at least every worker's smallest delay).  Shifted exponential: given ``T_i > tau``,
``T_i - tau ~ Exp(lambda_i)`` with ``lambda_i = mu_i / (l_i f_i)`` (memorylessness; ``f_i``
the persistent slow factor or 1), the exceedances are independent of each other and of
which workers exceed.  With a common ``lambda`` (``common``) and ``J >= r`` exceedances the
``r``-th largest delay is ``tau + Y / lambda``, ``Y`` the ``r``-th largest of ``J`` i.i.d.
Exp(1), drawn as ``sum_{j=r}^{J} E_j / j`` (Renyi's representation of exponential order
statistics, David and Nagaraja 2003, §2.5), ``J - r + 1`` draws in all.  Pareto with a
common upload ``u`` (any shifts and loads): given ``T_i > tau``, ``(T_i - u) / (tau - u)``
is Pareto with index ``alpha`` (scale invariance), i.e. ``exp(E / alpha)``, and the ``r``-th
largest delay is ``u + (tau - u) exp(Y / alpha)``.  With ``J < r`` the trial draws every
exceedance and every other worker's delay (``U_i`` uniform on ``[q_i, 1]``) and selects.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio, the SplitMix64 increment
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ULP53 = 1.0 / 9007199254740992.0  # 2^-53
_CHUNK = 2048  # trials per parallel task


@njit(cache=True)
def _seed(seed: int) -> None:  # pragma: no cover - numba
    np.random.seed(seed)  # noqa: NPY002 - Numba generator, seeded per call


@njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:  # pragma: no cover - numba
    """The SplitMix64 output function: a bijective 64-bit mix."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _open_unit(z: np.uint64) -> float:  # pragma: no cover - numba
    """The top 53 bits of ``z`` as a uniform on ``(0, 1]``."""
    return (np.float64(z >> _S11) + 1.0) * _ULP53


@njit(cache=True, inline="always")
def _unit(z: np.uint64) -> float:  # pragma: no cover - numba
    """The top 53 bits of ``z`` as a uniform on ``[0, 1)``."""
    return np.float64(z >> _S11) * _ULP53


@njit(cache=True)
def _trial_state(key: np.uint64, t: int) -> np.uint64:  # pragma: no cover - numba
    """Start of trial ``t``'s stream under the call's ``key``."""
    return _mix(key + np.uint64(t + 1) * _GAMMA)


@njit(cache=True, inline="always")
def _value(
    model: int,
    i: int,
    u: float,
    shift: np.ndarray,
    rate: np.ndarray,
    load: np.ndarray,
    upload: np.ndarray,
    alpha: float,
    factor: float,
    slow: np.ndarray,
) -> float:  # pragma: no cover - numba
    """Delay of worker ``i`` from its uniform ``u`` in (0, 1] (models 0, 1, persistent 2)."""
    if model == 1:
        t = load[i] * shift[i] * u ** (-1.0 / alpha)
    else:
        t = load[i] * (shift[i] + (-np.log(u)) / rate[i])
        if model == 2 and slow[i]:
            t *= factor
    return t + upload[i]


@njit(cache=True)
def _bounded(state: np.uint64, m: int) -> tuple[int, np.uint64]:  # pragma: no cover - numba
    """A uniform integer in ``[0, m)`` by rejection (exact), and the advanced state."""
    mm = np.uint64(m)
    # accept z below the largest multiple of m that fits in 2^64 values
    excess = (np.uint64(0xFFFFFFFFFFFFFFFF) % mm + np.uint64(1)) % mm
    while True:  # each draw is rejected with probability excess / 2^64 < m / 2^64
        state += _GAMMA
        z = _mix(state)
        if excess == np.uint64(0) or z < np.uint64(0) - excess:
            return int(z % mm), state


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
    state: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Every worker's delay into ``out``; ``state[0]`` is the trial's stream state."""
    n = out.shape[0]
    c = state[0]
    for i in range(n):
        if model == 3:
            j, c = _bounded(c, samples.shape[0])
            t = load[i] * samples[j] + upload[i]
        elif model == 2 and not persistent:
            c += _GAMMA
            t = load[i] * (shift[i] + (-np.log(_open_unit(_mix(c)))) / rate[i])
            c += _GAMMA
            if _unit(_mix(c)) < prob:
                t *= factor
            t += upload[i]
        else:
            c += _GAMMA
            t = _value(
                model, i, _open_unit(_mix(c)), shift, rate, load, upload, alpha, factor, slow
            )
        out[i] = t
    state[0] = c


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
def _thresholded(
    model: int,
    shift: np.ndarray,
    rate: np.ndarray,
    load: np.ndarray,
    upload: np.ndarray,
    alpha: float,
    factor: float,
    slow: np.ndarray,
    k: int,
    side: int,
    tau: float,
    q: np.ndarray,
    shortcut: int,
    common: float,
    c: np.uint64,
    ubuf: np.ndarray,
    cand: np.ndarray,
    buf: np.ndarray,
) -> float:  # pragma: no cover - numba
    """One trial of rule 0 by thresholded selection (see the module docstring)."""
    n = ubuf.shape[0]
    nc = 0
    hits = 0
    for i in range(n):
        c += _GAMMA
        u = _open_unit(_mix(c))
        ubuf[i] = u
        is_low = u < q[i]
        if shortcut != 0:
            if is_low:
                hits += 1
        elif is_low == (side == 1):
            x = _value(model, i, u, shift, rate, load, upload, alpha, factor, slow)
            cand[nc] = x
            nc += 1
            if (x > tau) if side == 1 else (x < tau):
                hits += 1
    r = n - k + 1
    if shortcut != 0:
        if hits >= r:
            # r-th largest of `hits` i.i.d. Exp(1): sum_{j=r}^{hits} E_j / j (Renyi)
            y = 0.0
            for j in range(hits, r - 1, -1):
                c += _GAMMA
                y += -np.log(_open_unit(_mix(c))) / j
            if shortcut == 1:
                return tau + y / common
            return upload[0] + (tau - upload[0]) * np.exp(y / common)
        for i in range(n):
            if ubuf[i] < q[i]:
                c += _GAMMA
                y = -np.log(_open_unit(_mix(c)))
                if shortcut == 1:
                    cand[nc] = tau + y / common
                else:
                    cand[nc] = upload[0] + (tau - upload[0]) * np.exp(y / common)
                nc += 1
    elif side == 1:
        if hits >= r:
            return _kth_smallest(cand[:nc], nc - r + 1)
    elif hits >= k:
        return _kth_smallest(cand[:nc], k)
    # fall back: the other workers' delays from their own uniforms, select among all
    for j in range(nc):
        buf[j] = cand[j]
    m = nc
    cand_low = side == 1 or shortcut != 0
    for i in range(n):
        if (ubuf[i] < q[i]) != cand_low:
            buf[m] = _value(model, i, ubuf[i], shift, rate, load, upload, alpha, factor, slow)
            m += 1
    return _kth_smallest(buf, k)


@njit(cache=True)
def threshold_holds(
    model: int,
    shift: np.ndarray,
    rate: np.ndarray,
    load: np.ndarray,
    upload: np.ndarray,
    alpha: float,
    factor: float,
    slow: np.ndarray,
    side: int,
    tau: float,
    q: np.ndarray,
) -> np.ndarray:  # pragma: no cover - numba
    """Per worker, whether the levels ``q`` are safe for ``tau`` (module docstring).

    ``T_i`` is non-increasing in ``U_i``, so for ``side = 1`` it suffices that ``T_i(q_i)
    <= tau`` (or ``q_i > 1``: every draw is a candidate), and for ``side = -1`` that
    ``T_i(q_i) >= tau`` (or ``q_i <= 0``)."""
    n = q.shape[0]
    ok = np.empty(n, dtype=np.bool_)
    for i in range(n):
        if side == 1:
            ok[i] = q[i] >= 1.0 or (
                q[i] > 0.0
                and _value(model, i, q[i], shift, rate, load, upload, alpha, factor, slow) <= tau
            )
        else:
            ok[i] = q[i] <= 0.0 or (
                q[i] <= 1.0
                and _value(model, i, q[i], shift, rate, load, upload, alpha, factor, slow) >= tau
            )
    return ok


@njit(cache=True, parallel=True)
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
    side: int,
    tau: float,
    q: np.ndarray,
    shortcut: int,
    common: float,
) -> np.ndarray:  # pragma: no cover - numba
    """Completion time of every trial, shape ``(trials,)`` (see the module docstring).

    ``side`` 0 draws and reduces every delay; 1 or -1 (rule 0 only) selects with the
    threshold ``tau`` and levels ``q`` (shape ``(n,)``; ignored when ``side`` is 0)."""
    n = shift.shape[0]
    out = np.empty(trials)
    key = _mix(np.uint64(seed))
    chunks = (trials + _CHUNK - 1) // _CHUNK
    for ch in prange(chunks):
        buf = np.empty(n)
        ubuf = np.empty(n)
        cand = np.empty(n)
        state = np.empty(1, dtype=np.uint64)
        best = np.empty(max(num_groups, 1))
        for t in range(ch * _CHUNK, min(trials, (ch + 1) * _CHUNK)):
            c = _trial_state(key, t)
            if side != 0:
                out[t] = _thresholded(
                    model,
                    shift,
                    rate,
                    load,
                    upload,
                    alpha,
                    factor,
                    slow,
                    k,
                    side,
                    tau,
                    q,
                    shortcut,
                    common,
                    c,
                    ubuf,
                    cand,
                    buf,
                )
                continue
            state[0] = c
            _draw(
                model,
                shift,
                rate,
                load,
                upload,
                alpha,
                factor,
                prob,
                slow,
                persistent,
                samples,
                state,
                buf,
            )
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
