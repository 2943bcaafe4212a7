"""Monte Carlo of the completion time of one synchronous round under a straggler scheme."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_choice,
    check_int,
    check_rng,
    invalid_input,
    invalid_inputs,
)
from edgeopt.coding import _kernels
from edgeopt.coding.delays import DELAY_MODELS, DelayModel

__all__ = ["SCHEMES", "Completion", "simulate_completion", "scheme_plan"]

#: The schemes of :func:`simulate_completion`.
SCHEMES = (
    "uncoded",
    "ignore",
    "backup",
    "fractional",
    "cyclic",
    "approximate",
    "mds",
    "loads",
)

#: Backends of :func:`simulate_completion`.
METHODS = ("numba", "numpy")


@dataclass(frozen=True)
class Completion:
    """Result of :func:`simulate_completion`.

    Parameters
    ----------
    scheme : str
        The scheme simulated.
    times_s : numpy.ndarray of float64, shape (trials,)
        Completion time of every trial, seconds.
    mean_s : float
        Sample mean of ``times_s``.
    std_err_s : float
        Standard error of the mean, ``std / sqrt(trials)``.
    loads : numpy.ndarray of float64, shape (n,)
        Load of each worker (fraction of the data set).
    wait_for : int
        Workers waited for (0 for the rules that are not order statistics).
    solve_time_s : float
        Wall-clock time of the call.

    Examples
    --------
    >>> from edgeopt.coding import delay_model, simulate_completion
    >>> model = delay_model("shifted_exponential", shift_s=1.0, rate_per_s=1.0)
    >>> out = simulate_completion("uncoded", model, num_workers=4, trials=1000, rng=0)
    >>> out.wait_for, out.loads.tolist()
    (4, [0.25, 0.25, 0.25, 0.25])
    """

    scheme: str
    times_s: NDArray[np.float64]
    mean_s: float
    std_err_s: float
    loads: NDArray[np.float64]
    wait_for: int
    solve_time_s: float


def scheme_plan(
    scheme: str,
    num_workers: int,
    *,
    num_stragglers: int = 0,
    k: int | None = None,
    replication: int | None = None,
    loads: Any = None,
) -> tuple[NDArray[np.float64], int, int, NDArray[np.int64]]:
    """Loads and completion rule of a scheme: ``(loads, rule, wait_for, groups)``.

    * ``"uncoded"`` -- loads ``1/n``, wait for all ``n``;
    * ``"ignore"`` -- loads ``1/n``, the first ``n - s`` (the gradient misses ``s``
      partitions: biased);
    * ``"backup"`` -- backup workers (Chen et al., "Revisiting distributed synchronous SGD",
      2016): every worker computes a fresh random ``1/(n - s)`` of the data set, the server
      averages the first ``n - s`` (an unbiased stochastic gradient);
    * ``"fractional"`` -- loads ``(s + 1)/n``; done when every group of ``s + 1`` has one
      finished worker (rule 1; never later than the ``(n - s)``-th worker);
    * ``"cyclic"`` -- loads ``(s + 1)/n``, the first ``n - s``;
    * ``"approximate"`` -- loads ``d/n`` (``replication = d``), the first ``n - s``;
    * ``"mds"`` -- loads ``1/k``, the first ``k``;
    * ``"loads"`` -- the given per-worker loads of a coded job, done when the finished
      loads add up to 1 (rule 2; see :func:`edgeopt.coding.allocate_loads`).

    Parameters
    ----------
    scheme : str
        One of :data:`SCHEMES`.
    num_workers : int
        n >= 1.
    num_stragglers : int
        s, 0 <= s < n.
    k : int, optional
        ``"mds"``: blocks, 1 <= k <= n (required).
    replication : int, optional
        ``"approximate"``: copies ``d`` (default ``max(1, s // 2)``).
    loads : array_like, shape (n,), optional
        ``"loads"``: the loads (required, >= 0, summing to at least 1).

    Returns
    -------
    tuple
        ``loads`` (n,), ``rule`` (0, 1 or 2), ``wait_for`` (int), ``groups`` (n,) int64.

    Raises
    ------
    InvalidInputError
        Bad counts or missing scheme parameters.

    Examples
    --------
    >>> from edgeopt.coding import scheme_plan
    >>> ell, rule, wait, _ = scheme_plan("cyclic", 10, num_stragglers=2)
    >>> float(ell[0]), rule, wait
    (0.3, 0, 8)
    """
    check_choice(scheme, "scheme", SCHEMES)
    n = check_int(num_workers, "num_workers")
    s = check_int(num_stragglers, "num_stragglers", min_value=0)
    if s >= n:
        raise invalid_inputs(f"num_stragglers={s}, num_workers={n}", "num_stragglers < num_workers")
    groups = np.zeros(n, dtype=np.int64)
    rule, wait = 0, n - s
    if scheme == "uncoded":
        ell, wait = np.full(n, 1.0 / n), n
    elif scheme == "ignore":
        ell = np.full(n, 1.0 / n)
    elif scheme == "backup":
        ell = np.full(n, 1.0 / (n - s))
    elif scheme == "fractional":
        if n % (s + 1):
            raise invalid_inputs(
                f"num_workers={n}, num_stragglers={s}, scheme='fractional'",
                "(num_stragglers + 1) dividing num_workers",
            )
        ell, rule, wait = np.full(n, (s + 1) / n), 1, 0
        groups = np.arange(n, dtype=np.int64) // (s + 1)
    elif scheme == "cyclic":
        ell = np.full(n, (s + 1) / n)
    elif scheme == "approximate":
        d = max(1, s // 2) if replication is None else check_int(replication, "replication")
        ell = np.full(n, min(d, n) / n)
    elif scheme == "mds":
        if k is None:
            raise invalid_inputs("scheme='mds', k=None", "the number of blocks k")
        kk = check_int(k, "k")
        if kk > n:
            raise invalid_inputs(f"k={kk}, num_workers={n}", "k <= num_workers")
        ell, wait = np.full(n, 1.0 / kk), kk
    else:
        if loads is None:
            raise invalid_inputs("scheme='loads', loads=None", "the per-worker loads")
        ell = check_array(loads, "loads", shape=(n,), nonneg=True)
        if ell.sum() < 1.0 - 1e-12:
            raise invalid_input("loads", loads, "loads adding up to at least 1")
        rule, wait = 2, 0
    return ell, rule, wait, groups


def _numpy_completion(
    delays: NDArray[np.float64],
    ell: NDArray[np.float64],
    rule: int,
    wait: int,
    groups: NDArray[np.int64],
) -> NDArray[np.float64]:
    """The same reductions as the kernel, vectorized over trials."""
    if rule == 0:
        return np.partition(delays, wait - 1, axis=1)[:, wait - 1]
    if rule == 1:
        g = int(groups.max()) + 1
        per = delays.reshape(delays.shape[0], g, -1).min(axis=2)
        return np.asarray(per.max(axis=1))
    order = np.argsort(delays, axis=1)
    cum = np.cumsum(ell[order], axis=1)
    first = np.argmax(cum >= 1.0 - 1e-12, axis=1)
    return np.take_along_axis(delays, order, axis=1)[np.arange(delays.shape[0]), first]


#: Relative margin on the threshold levels of the thresholded selection (see
#: :func:`_threshold_plan`); widened where the compiled check fails.
_THRESHOLD_MARGIN = 1e-9


def _survival(
    kind: str,
    tau: float,
    ell: NDArray[np.float64],
    w: dict[str, NDArray[np.float64]],
    alpha: float,
    mult: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``P(T_i > tau)`` per worker (shifted exponential, slowed by ``mult``, or Pareto)."""
    x = (tau - w["upload_s"]) / (ell * mult)  # computation time per unit load
    a = w["shift_s"]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if kind == "pareto":
            s = np.where(x > a, (x / a) ** (-alpha), 1.0)
        else:
            s = np.where(x > a, np.exp(-w["rate_per_s"] * (x - a)), 1.0)
    return np.asarray(s, dtype=np.float64)


def _threshold_plan(
    kind: str,
    ell: NDArray[np.float64],
    w: dict[str, NDArray[np.float64]],
    alpha: float,
    factor: float,
    slow: NDArray[np.bool_],
    k: int,
) -> tuple[int, float, NDArray[np.float64], int, float]:
    """Side, time ``tau`` and levels ``q`` of the kernel's thresholded selection.

    For the ``k``-th smallest of ``n`` the kernel needs the ``r = n - k + 1`` largest
    (side 1, when ``r <= k``) or the ``k`` smallest (side -1).  ``tau`` is set so that the
    expected number of delays beyond it is ``j + 3 sqrt(j) + 3`` (``j`` = ``r`` or ``k``),
    so that few trials fall back to evaluating every delay; the levels are the per-worker
    probabilities ``P(T_i > tau)`` widened by :data:`_THRESHOLD_MARGIN` and checked on the
    compiled value function (:func:`edgeopt.coding._kernels.threshold_holds`).  The side is 0
    (no threshold) when the expected count would exceed ``3 n / 4``.
    """
    n = ell.shape[0]
    r = n - k + 1
    side = 1 if r <= k else -1
    j = r if side == 1 else k
    target = j + 3.0 * np.sqrt(j) + 3.0
    empty = np.zeros(n)
    if target > 0.75 * n:
        return 0, 0.0, empty, 0, 0.0
    mult = np.where(slow, factor, 1.0)

    def beyond(tau: float) -> float:
        surv = _survival(kind, tau, ell, w, alpha, mult)
        return float(surv.sum() if side == 1 else n - surv.sum())

    # the expected count above tau falls from n at the smallest possible delay to 0
    lo = float(np.min(ell * mult * w["shift_s"] + w["upload_s"]))
    span = max(abs(lo), 1e-12)
    hi = lo + span
    for _ in range(200):
        if (beyond(hi) < target) == (side == 1):
            break
        span *= 2.0
        hi = lo + span
    else:
        return 0, 0.0, empty, 0, 0.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if (beyond(mid) >= target) == (side == 1):
            lo = mid
        else:
            hi = mid
    tau = 0.5 * (lo + hi)
    if not np.isfinite(tau):
        return 0, 0.0, empty, 0, 0.0
    surv = _survival(kind, tau, ell, w, alpha, mult)
    floor = ell * mult * w["shift_s"] + w["upload_s"]  # smallest possible delay per worker
    if side == 1 and tau >= floor.max():
        # beyond tau every delay is tau plus an exponential (shifted exponential, memoryless)
        # or (tau - u) times a Pareto (scale invariance): i.i.d. where the rates (the
        # uploads) are equal, and the kernel samples the order statistic of the exceedances
        lam = w["rate_per_s"] / (ell * mult)
        if kind == "pareto" and np.all(w["upload_s"] == w["upload_s"][0]):
            return side, tau, surv, 2, alpha
        if kind != "pareto" and np.all(lam == lam[0]):
            return side, tau, surv, 1, float(lam[0])
    q = (
        np.minimum(surv * (1.0 + _THRESHOLD_MARGIN), 1.0)
        if side == 1
        else surv * (1.0 - _THRESHOLD_MARGIN)
    )
    args = (DELAY_MODELS.index(kind), w["shift_s"], w["rate_per_s"], ell, w["upload_s"])
    ok = _kernels.threshold_holds(*args, alpha, factor, slow, side, tau, q)
    # a worker whose level fails the check is always a candidate (always safe)
    q = np.where(ok, q, 1.0 if side == 1 else 0.0)
    return side, tau, np.ascontiguousarray(q, dtype=np.float64), 0, 0.0


def _iid(model: DelayModel, ell: NDArray[np.float64], w: dict[str, NDArray[np.float64]]) -> bool:
    """Whether every worker's delay has the same shifted-exponential or Pareto law."""
    if model.kind not in ("shifted_exponential", "pareto"):
        return False
    return all(np.all(x == x[0]) for x in (ell, *w.values()))


def simulate_completion(
    scheme: str,
    delay_model: DelayModel,
    *,
    num_workers: int,
    trials: int,
    rng: Any = None,
    num_stragglers: int = 0,
    k: int | None = None,
    replication: int | None = None,
    loads: Any = None,
    method: str = "numba",
) -> Completion:
    """Monte Carlo of the completion time of one round under a straggler scheme.

    Every trial draws one delay per worker from ``delay_model`` for the scheme's loads
    (:func:`scheme_plan`) and records when the server can finish: the ``wait_for``-th
    smallest delay, the last group's first return (``"fractional"``), or the time at which
    the finished loads reach 1 (``"loads"``).

    The ``"numba"`` backend runs a compiled kernel, storing nothing per trial but the times.
    When all workers have the same shifted-exponential or Pareto law and the rule is an
    order statistic, it samples the order statistic directly: the ``k``-th smallest of
    ``n`` i.i.d. delays is ``F^{-1}(U_(k))`` with ``U_(k) ~ Beta(k, n - k + 1)``, one draw
    per trial.  Otherwise every trial has its own counter-based random stream (SplitMix64
    keyed by the seed and the trial), and the trials run in parallel over Numba threads
    with the same times whatever the number of threads.  For an order statistic of
    shifted-exponential, Pareto or persistent-bimodal delays it draws one uniform per
    worker and compares it with the probability that the delay lies beyond a time ``tau``
    set so that a few more than the needed ``n - k + 1`` (or ``k``) do, and evaluates the
    delays of those few only (the same numbers as evaluating all); where the exceedances are
    i.i.d. (shifted exponential with one rate ``mu_i / l_i`` for all, by memorylessness;
    Pareto with one upload time, by scale invariance) it draws the order statistic of the
    exceedances directly by Renyi's representation (the ``r``-th largest of ``J`` i.i.d.
    Exp(1) is ``sum_{j=r}^{J} E_j / j``, ``E_j`` i.i.d. Exp(1)).  Trials with too few
    exceedances evaluate every delay.  Each of these steps keeps the law of the delays
    exactly (see :mod:`edgeopt.coding._kernels`).

    Parameters
    ----------
    scheme : str
        One of :data:`SCHEMES` (see :func:`scheme_plan`).
    delay_model : DelayModel
        From :func:`edgeopt.coding.delay_model`.
    num_workers : int
        n >= 1.
    trials : int
        Rounds simulated, >= 1.
    rng : numpy.random.Generator, int or None
        Random source (the kernel is seeded from it; same seed, same times).
    num_stragglers, k, replication, loads
        Scheme parameters, as in :func:`scheme_plan`.
    method : str
        ``"numba"`` (the compiled kernel, default) or ``"numpy"`` (vectorized reference:
        delays drawn as a ``(trials, n)`` array, order statistics by ``np.partition``).

    Returns
    -------
    Completion

    Raises
    ------
    InvalidInputError
        Bad counts, scheme parameters, or per-worker delay arrays of another length.

    References
    ----------
    Lee et al., IEEE TIT 2018 (shifted-exponential runtimes); Tandon et al., ICML 2017, §5.

    Examples
    --------
    >>> from edgeopt.coding import delay_model, gc_expected_time, simulate_completion
    >>> model = delay_model("shifted_exponential", shift_s=1.0, rate_per_s=2.0)
    >>> out = simulate_completion("cyclic", model, num_workers=10, num_stragglers=2,
    ...                           trials=20000, rng=0)
    >>> exact = gc_expected_time(10, 2, shift_s=1.0, rate_per_s=2.0)
    >>> bool(abs(out.mean_s - exact) < 4 * out.std_err_s)
    True
    """
    start = time.perf_counter()
    if not isinstance(delay_model, DelayModel):
        raise invalid_input("delay_model", delay_model, "a DelayModel from delay_model(...)")
    n = check_int(num_workers, "num_workers")
    t = check_int(trials, "trials")
    check_choice(method, "method", METHODS)
    ell, rule, wait, groups = scheme_plan(
        scheme, n, num_stragglers=num_stragglers, k=k, replication=replication, loads=loads
    )
    gen = check_rng(rng)
    w = delay_model.per_worker(n)
    if method == "numpy":
        times = _numpy_completion(
            delay_model.sample(ell, trials=t, rng=gen), ell, rule, wait, groups
        )
    elif _iid(delay_model, ell, w) and rule == 0:
        # i.i.d. delays: the order statistic in one Beta draw per trial
        times = _kernels.order_statistic_iid(
            DELAY_MODELS.index(delay_model.kind),
            float(w["shift_s"][0]),
            float(w["rate_per_s"][0]),
            float(ell[0]),
            float(w["upload_s"][0]),
            float(delay_model.alpha),
            n,
            wait,
            t,
            int(gen.integers(0, 2**31 - 1)),
        )
    else:
        m = delay_model
        slow = (
            m.slow_workers(n, rng=gen)
            if m.kind == "bimodal" and m.persistent
            else np.zeros(n, dtype=np.bool_)
        )
        side, tau, q, shortcut, common = 0, 0.0, np.zeros(n), 0, 0.0
        if rule == 0 and (
            m.kind in ("shifted_exponential", "pareto") or (m.kind == "bimodal" and m.persistent)
        ):
            side, tau, q, shortcut, common = _threshold_plan(
                m.kind,
                np.ascontiguousarray(ell),
                w,
                float(m.alpha),
                float(m.slow_factor),
                slow,
                wait,
            )
        times = _kernels.completion_times(
            DELAY_MODELS.index(m.kind),
            w["shift_s"],
            w["rate_per_s"],
            np.ascontiguousarray(ell),
            w["upload_s"],
            float(m.alpha),
            float(m.slow_factor),
            float(m.slow_prob),
            slow,
            bool(m.persistent),
            np.ascontiguousarray(m.samples_s, dtype=np.float64),
            rule,
            max(wait, 1),
            groups,
            int(groups.max()) + 1,
            t,
            int(gen.integers(0, 2**63 - 1)),
            side,
            tau,
            q,
            shortcut,
            common,
        )
    times = np.asarray(times, dtype=np.float64)
    times.setflags(write=False)
    se = float(times.std(ddof=1) / np.sqrt(t)) if t > 1 else float("nan")
    ell.setflags(write=False)
    return Completion(
        scheme, times, float(times.mean()), se, ell, wait, time.perf_counter() - start
    )
