"""The straggler Monte Carlo kernel: exact in law, the same times whatever the threads.

The exact reference for heterogeneous independent workers: ``P(T_(k) > t)`` is the
probability that fewer than ``k`` delays are at most ``t``, a Poisson-binomial tail computed
by the recursion over workers, and ``E[T_(k)] = int_0^inf P(T_(k) > t) dt`` (delays >= 0).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from edgeopt.coding import _kernels, delay_model, scheme_plan, simulate_completion
from edgeopt.coding import simulate as sim

Z = 4.0  # standard errors allowed between an exact mean and a Monte Carlo mean
N = 100


def _cdf(model, ell: np.ndarray, slow: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``P(T_i <= t)``, shape (len(t), n), for shifted-exponential, Pareto, bimodal delays."""
    w = model.per_worker(ell.shape[0])
    f = np.where(slow, model.slow_factor, 1.0) if model.kind == "bimodal" else 1.0
    x = (t[:, None] - w["upload_s"]) / (ell * f)
    a = w["shift_s"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if model.kind == "pareto":
            surv = np.where(x > a, (x / a) ** (-model.alpha), 1.0)
        else:
            surv = np.where(x > a, np.exp(-w["rate_per_s"] * (x - a)), 1.0)
    return 1.0 - surv


def _count_below(p: np.ndarray) -> np.ndarray:
    """Distribution of the number of successes of independent Bernoulli(p_i), per row."""
    dist = np.zeros((p.shape[0], p.shape[1] + 1))
    dist[:, 0] = 1.0
    for i in range(p.shape[1]):
        pi = p[:, i : i + 1]
        dist[:, 1:] = dist[:, 1:] * (1.0 - pi) + dist[:, :-1] * pi
        dist[:, 0] *= 1.0 - pi[:, 0]
    return dist


def _exact_mean(model, ell: np.ndarray, k: int, slow: np.ndarray) -> float:
    """``E[T_(k)]``: ``t0`` plus the integral of the Poisson-binomial tail beyond ``t0``.

    ``t0`` is the smallest possible delay (the tail is 1 below it).  Between consecutive
    breakpoints (every worker's smallest delay, where the tail has a kink, and the octaves
    ``t0 2^j`` up to where the tail is below 1e-13) the tail is smooth, and 24-point
    Gauss-Legendre quadrature on each piece integrates it to rounding."""
    w = model.per_worker(ell.shape[0])
    f = np.where(slow, model.slow_factor, 1.0) if model.kind == "bimodal" else 1.0
    floors = ell * f * w["shift_s"] + w["upload_s"]
    t0 = float(np.min(floors))

    def tail(t: np.ndarray) -> np.ndarray:
        return _count_below(_cdf(model, ell, slow, t))[:, :k].sum(axis=1)

    octaves = [t0]
    while tail(np.array([octaves[-1]]))[0] > 1e-13:
        octaves.append(2.0 * octaves[-1])
    edges = np.unique(np.concatenate([octaves, floors[floors < octaves[-1]]]))
    x, wts = np.polynomial.legendre.leggauss(24)
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * np.diff(edges)
    nodes = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    weights = (half[:, None] * wts[None, :]).ravel()
    return t0 + float(weights @ tail(nodes))


def _hetero_models() -> dict[str, tuple]:
    """Configurations of n = 100 workers and the kernel path each is meant to take."""
    shifts = np.linspace(0.5, 1.5, N)
    rates = np.linspace(1.0, 4.0, N)[::-1]
    ups = np.linspace(0.0, 0.05, N)
    return {
        # shared rate, different shifts and uploads: exceedance shortcut (shifted exponential)
        "shifts": (
            delay_model("shifted_exponential", shift_s=shifts, rate_per_s=2.0, upload_s=ups),
            "cyclic",
            {"num_stragglers": 10},
            (1, 1),
        ),
        # different rates: thresholded selection among the candidates
        "rates": (
            delay_model("shifted_exponential", shift_s=shifts, rate_per_s=rates),
            "cyclic",
            {"num_stragglers": 10},
            (1, 0),
        ),
        # the 5 fastest of 100 (small k): the mirror image, candidates below tau
        "fastest": (
            delay_model("shifted_exponential", shift_s=shifts, rate_per_s=rates),
            "mds",
            {"k": 5},
            (-1, 0),
        ),
        # Pareto, one upload, different shifts: exceedance shortcut by scale invariance
        "pareto": (
            delay_model("pareto", shift_s=shifts, alpha=3.0, upload_s=0.02),
            "cyclic",
            {"num_stragglers": 8},
            (1, 2),
        ),
        # Pareto, different uploads: thresholded selection
        "pareto_uploads": (
            delay_model("pareto", shift_s=shifts, alpha=3.0, upload_s=ups),
            "uncoded",
            {},
            (1, 0),
        ),
        # persistent slow workers (their rate differs): thresholded selection
        "bimodal": (
            delay_model(
                "bimodal",
                shift_s=1.0,
                rate_per_s=2.0,
                slow_factor=3.0,
                slow_prob=0.2,
                persistent=True,
            ),
            "cyclic",
            {"num_stragglers": 10},
            (1, 0),
        ),
    }


HETERO = _hetero_models()


def _slow(model, seed: int) -> np.ndarray:
    """The persistent slow set that simulate_completion draws first from ``rng=seed``."""
    if model.kind == "bimodal" and model.persistent:
        return model.slow_workers(N, rng=np.random.default_rng(seed))
    return np.zeros(N, dtype=np.bool_)


def _plan(model, scheme: str, kwargs: dict, seed: int):
    ell, _, wait, _ = scheme_plan(scheme, N, **kwargs)
    w = model.per_worker(N)
    slow = _slow(model, seed)
    plan = sim._threshold_plan(
        model.kind, ell, w, float(model.alpha), float(model.slow_factor), slow, wait
    )
    return ell, wait, slow, plan


@pytest.mark.parametrize("name", list(HETERO))
def test_kernel_path_and_exact_mean(name: str) -> None:
    model, scheme, kwargs, (side, shortcut) = HETERO[name]
    ell, wait, slow, plan = _plan(model, scheme, kwargs, seed=3)
    assert (plan[0], plan[3]) == (side, shortcut)  # the configuration takes the path named
    out = simulate_completion(scheme, model, num_workers=N, trials=100_000, rng=3, **kwargs)
    exact = _exact_mean(model, ell, wait, slow)
    assert abs(out.mean_s - exact) <= Z * out.std_err_s


@pytest.mark.parametrize("name", ["shifts", "rates", "fastest"])
def test_kernel_matches_numpy_reference_heterogeneous(name: str) -> None:
    model, scheme, kwargs, _ = HETERO[name]
    fast = simulate_completion(scheme, model, num_workers=N, trials=50_000, rng=1, **kwargs)
    ref = simulate_completion(
        scheme, model, num_workers=N, trials=50_000, rng=2, method="numpy", **kwargs
    )
    assert stats.ks_2samp(fast.times_s, ref.times_s).pvalue > 1e-4
    assert abs(fast.mean_s - ref.mean_s) <= Z * np.hypot(fast.std_err_s, ref.std_err_s)


def _kernel(model, ell, wait, slow, trials, seed, side, tau, q, shortcut, common):
    w = model.per_worker(N)
    return _kernels.completion_times(
        sim.DELAY_MODELS.index(model.kind),
        w["shift_s"],
        w["rate_per_s"],
        ell,
        w["upload_s"],
        float(model.alpha),
        float(model.slow_factor),
        float(model.slow_prob),
        slow,
        bool(model.persistent),
        np.ones(1),
        0,
        wait,
        np.zeros(N, dtype=np.int64),
        1,
        trials,
        seed,
        side,
        tau,
        q,
        shortcut,
        common,
    )


@pytest.mark.parametrize("name", ["shifts", "rates", "fastest"])
def test_fallback_branch_keeps_the_law(name: str) -> None:
    """A ``tau`` so far out that many trials have too few exceedances and draw all delays."""
    model, scheme, kwargs, _ = HETERO[name]
    ell, wait, slow, (side, tau0, _, shortcut, common) = _plan(model, scheme, kwargs, seed=0)
    w = model.per_worker(N)
    need = N - wait + 1 if side == 1 else wait
    # move tau until the expected count beyond it is the count needed: about half the
    # trials then fall back
    lo, hi = (tau0, 10.0 * tau0) if side == 1 else (0.0, tau0)
    for _ in range(100):
        tau = 0.5 * (lo + hi)
        surv = sim._survival(model.kind, tau, ell, w, float(model.alpha), np.ones(N))
        beyond = surv.sum() if side == 1 else N - surv.sum()
        if (beyond > need) == (side == 1):
            lo = tau
        else:
            hi = tau
    if shortcut:
        q = surv
    else:
        q = np.minimum(surv * (1 + 1e-9), 1.0) if side == 1 else surv * (1 - 1e-9)
        assert _kernels.threshold_holds(
            sim.DELAY_MODELS.index(model.kind),
            w["shift_s"],
            w["rate_per_s"],
            ell,
            w["upload_s"],
            float(model.alpha),
            1.0,
            slow,
            side,
            tau,
            q,
        ).all()
    p_beyond = surv if side == 1 else 1.0 - surv
    p_fallback = _count_below(p_beyond[None, :])[0, :need].sum()
    assert p_fallback > 0.3  # the branch is taken in a good share of the trials
    times = _kernel(model, ell, wait, slow, 100_000, 5, side, tau, q, shortcut, common)
    exact = _exact_mean(model, ell, wait, slow)
    se = times.std(ddof=1) / np.sqrt(times.size)
    assert abs(times.mean() - exact) <= Z * se
    full = _kernel(model, ell, wait, slow, 100_000, 6, 0, 0.0, q, 0, 0.0)
    assert stats.ks_2samp(times, full).pvalue > 1e-4


@pytest.mark.parametrize("name", ["rates", "fastest", "pareto_uploads", "bimodal"])
def test_thresholded_selection_gives_the_same_numbers(name: str) -> None:
    """Without the shortcut the threshold only skips work: the same uniforms, the same times."""
    model, scheme, kwargs, _ = HETERO[name]
    ell, wait, slow, (side, tau, q, shortcut, common) = _plan(model, scheme, kwargs, seed=0)
    assert side != 0 and shortcut == 0
    fast = _kernel(model, ell, wait, slow, 20_000, 9, side, tau, q, 0, 0.0)
    full = _kernel(model, ell, wait, slow, 20_000, 9, 0, 0.0, q, 0, 0.0)
    assert np.array_equal(fast, full)


def test_threshold_check_rejects_unsafe_levels() -> None:
    model, scheme, kwargs, _ = HETERO["rates"]
    ell, wait, slow, (side, tau, q, _, _) = _plan(model, scheme, kwargs, seed=0)
    w = model.per_worker(N)
    args = (0, w["shift_s"], w["rate_per_s"], ell, w["upload_s"], 3.0, 1.0, slow, side, tau)
    assert _kernels.threshold_holds(*args, q).all()
    # halving a level below 1 admits non-candidates whose delay exceeds tau
    half = np.where(q < 1.0, 0.5 * q, q)
    assert not _kernels.threshold_holds(*args, half)[q < 1.0].any()


CASES = [
    ("empirical", delay_model("empirical", samples_s=[0.5, 1.0, 3.0]), "cyclic", {}),
    (
        "bimodal_per_round",
        delay_model("bimodal", shift_s=1.0, rate_per_s=2.0, slow_prob=0.3),
        "fractional",
        {"num_stragglers": 4},
    ),
    ("loads", HETERO["rates"][0], "loads", {"loads": np.full(N, 1.5 / N)}),
    *[(name, m, s, kw) for name, (m, s, kw, _) in HETERO.items()],
]


@pytest.mark.parametrize(("name", "model", "scheme", "kwargs"), CASES)
def test_same_times_whatever_the_threads(name, model, scheme, kwargs) -> None:
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate_completion(scheme, model, num_workers=N, trials=9000, rng=8, **kwargs)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = simulate_completion(scheme, model, num_workers=N, trials=9000, rng=8, **kwargs)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one.times_s, two.times_s)
    # every trial has its own stream: a shorter run is a prefix of a longer one
    short = simulate_completion(scheme, model, num_workers=N, trials=3000, rng=8, **kwargs)
    assert np.array_equal(short.times_s, one.times_s[:3000])


def test_two_threads_available_for_the_thread_check() -> None:
    # the thread check above compares 1 and 2 threads; it needs a machine with two
    assert numba.config.NUMBA_NUM_THREADS >= 2
