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

    The ``"numba"`` backend draws every worker's delay in a compiled kernel and selects the
    order statistic by quickselect, storing nothing per trial.  When all workers have the
    same shifted-exponential or Pareto law and the rule is an order statistic, it samples
    the order statistic directly: the ``k``-th smallest of ``n`` i.i.d. delays is
    ``F^{-1}(U_(k))`` with ``U_(k) ~ Beta(k, n - k + 1)``, one draw per trial.

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
            int(gen.integers(0, 2**31 - 1)),
        )
    times = np.asarray(times, dtype=np.float64)
    times.setflags(write=False)
    se = float(times.std(ddof=1) / np.sqrt(t)) if t > 1 else float("nan")
    ell.setflags(write=False)
    return Completion(
        scheme, times, float(times.mean()), se, ell, wait, time.perf_counter() - start
    )
