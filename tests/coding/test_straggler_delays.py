"""Delay models, the Monte Carlo kernel and the closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from edgeopt.coding import (
    _kernels,
    delay_model,
    gc_expected_time,
    harmonic,
    mds_expected_time,
    optimal_stragglers,
    scheme_plan,
    simulate_completion,
    upload_times,
)
from edgeopt.errors import InvalidInputError

Z = 4.0  # standard errors allowed between a closed form and a Monte Carlo mean

MODELS = {
    "shifted_exponential": dict(shift_s=[1.0, 2.0, 0.5, 1.0], rate_per_s=[1.0, 0.5, 2.0, 3.0]),
    "pareto": dict(shift_s=1.5, alpha=3.0),
    "bimodal": dict(shift_s=1.0, rate_per_s=2.0, slow_factor=4.0, slow_prob=0.3),
    "empirical": dict(samples_s=[0.5, 1.0, 1.0, 4.0]),
}


@pytest.mark.parametrize("kind", list(MODELS))
def test_sample_mean_matches_mean_s(kind: str) -> None:
    model = delay_model(kind, upload_s=[0.1, 0.0, 0.2, 0.3], **MODELS[kind])
    load = np.array([0.25, 0.5, 1.0, 0.1])
    d = model.sample(load, trials=100_000, rng=1)
    se = d.std(axis=0, ddof=1) / np.sqrt(d.shape[0])
    assert np.all(np.abs(d.mean(axis=0) - model.mean_s(load, num_workers=4)) <= Z * se)
    assert np.all(d >= np.asarray(model.upload_s))


def test_persistent_bimodal_keeps_slow_workers() -> None:
    model = delay_model(
        "bimodal", shift_s=1.0, rate_per_s=1e9, slow_factor=10.0, slow_prob=0.5, persistent=True
    )
    d = model.sample(np.ones(20), trials=50, rng=3)
    slow = d[0] > 5.0
    assert 0 < slow.sum() < 20
    assert np.all((d > 5.0) == slow[None, :])
    per_round = delay_model(
        "bimodal", shift_s=1.0, rate_per_s=1e9, slow_factor=10.0, slow_prob=0.5
    ).sample(np.ones(20), trials=50, rng=3)
    assert not np.all((per_round > 5.0) == (per_round[0] > 5.0)[None, :])


def _numpy_reference(delays, ell, rule, wait, groups):
    """Plain loops: the completion rule applied to each trial."""
    out = np.empty(delays.shape[0])
    for t, d in enumerate(delays):
        if rule == 0:
            out[t] = np.sort(d)[wait - 1]
        elif rule == 1:
            out[t] = max(d[groups == g].min() for g in np.unique(groups))
        else:
            order = np.argsort(d)
            out[t] = d[order][np.searchsorted(np.cumsum(ell[order]), 1.0 - 1e-12)]
    return out


def test_kth_smallest_kernel_against_sort() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 100):
        for _ in range(50):
            x = rng.standard_normal(n)
            x[rng.integers(0, n)] = x[0]  # ties
            k = int(rng.integers(1, n + 1))
            assert _kernels._kth_smallest(x.copy(), k) == np.sort(x)[k - 1]


@pytest.mark.parametrize(
    ("scheme", "kwargs"),
    [
        ("uncoded", {}),
        ("cyclic", {"num_stragglers": 3}),
        ("fractional", {"num_stragglers": 2}),
        ("mds", {"k": 7}),
        ("loads", {"loads": np.linspace(0.05, 0.3, 12)}),
    ],
)
@pytest.mark.parametrize("kind", list(MODELS))
def test_kernel_matches_numpy_reference(scheme: str, kwargs: dict, kind: str) -> None:
    params = dict(MODELS[kind])
    if "shift_s" in params and np.ndim(params["shift_s"]):
        params["shift_s"] = np.resize(params["shift_s"], 12)
        params["rate_per_s"] = np.resize(params["rate_per_s"], 12)
    model = delay_model(kind, **params)
    ell, rule, wait, groups = scheme_plan(scheme, 12, **kwargs)
    ref = _numpy_reference(model.sample(ell, trials=4000, rng=5), ell, rule, wait, groups)
    vec = simulate_completion(
        scheme, model, num_workers=12, trials=4000, rng=6, method="numpy", **kwargs
    )
    fast = simulate_completion(scheme, model, num_workers=12, trials=20000, rng=7, **kwargs)
    # the vectorized reduction is the loop's, on the same draws
    again = simulate_completion(
        scheme, model, num_workers=12, trials=4000, rng=5, method="numpy", **kwargs
    )
    assert np.allclose(np.sort(again.times_s), np.sort(ref))
    # the kernel draws the same distribution: two-sample KS test at level 1e-4
    assert stats.ks_2samp(fast.times_s, vec.times_s).pvalue > 1e-4
    se = np.hypot(fast.std_err_s, vec.std_err_s)
    assert abs(fast.mean_s - vec.mean_s) <= Z * se


@pytest.mark.parametrize("kind", ["shifted_exponential", "pareto"])
@pytest.mark.parametrize(("n", "k"), [(1, 1), (10, 10), (10, 1), (30, 27)])
def test_iid_order_statistic_matches_per_worker_kernel(kind: str, n: int, k: int) -> None:
    model = delay_model(kind, shift_s=0.7, rate_per_s=1.5, alpha=2.5, upload_s=0.1)
    w = model.per_worker(n)
    load = np.full(n, 0.3)
    args = (w["shift_s"], w["rate_per_s"], load, w["upload_s"], 2.5, 1.0, 0.0)
    per_worker = _kernels.completion_times(
        0 if kind == "shifted_exponential" else 1,
        *args,
        np.zeros(n, dtype=np.bool_),
        False,
        np.ones(1),
        0,
        k,
        np.zeros(n, dtype=np.int64),
        1,
        20000,
        11,
        0,
        0.0,
        np.zeros(n),
        0,
        0.0,
    )
    direct = simulate_completion("mds", model, num_workers=n, k=k, trials=20000, rng=12)
    assert direct.loads[0] == pytest.approx(1 / k)
    # simulate_completion's loads are 1/k; rescale the per-worker draws to those loads
    scaled = (per_worker - 0.1) * (1 / k) / 0.3 + 0.1
    assert stats.ks_2samp(direct.times_s, scaled).pvalue > 1e-4


def test_same_seed_same_times() -> None:
    model = delay_model("pareto", shift_s=1.0)
    a = simulate_completion("cyclic", model, num_workers=10, num_stragglers=2, trials=100, rng=4)
    b = simulate_completion("cyclic", model, num_workers=10, num_stragglers=2, trials=100, rng=4)
    assert np.array_equal(a.times_s, b.times_s)


@pytest.mark.parametrize(("n", "s"), [(10, 0), (10, 2), (20, 5), (20, 19), (50, 4)])
def test_gc_closed_form_matches_monte_carlo(n: int, s: int) -> None:
    a, mu = 0.5, 2.0
    model = delay_model("shifted_exponential", shift_s=a, rate_per_s=mu)
    out = simulate_completion(
        "cyclic", model, num_workers=n, num_stragglers=s, trials=200_000, rng=n + s
    )
    exact = gc_expected_time(n, s, shift_s=a, rate_per_s=mu)
    assert abs(out.mean_s - exact) <= Z * out.std_err_s


@pytest.mark.parametrize(("n", "k"), [(10, 10), (10, 7), (20, 1), (20, 15)])
def test_mds_closed_form_matches_monte_carlo(n: int, k: int) -> None:
    a, mu = 1.0, 0.5
    model = delay_model("shifted_exponential", shift_s=a, rate_per_s=mu)
    out = simulate_completion("mds", model, num_workers=n, k=k, trials=200_000, rng=k)
    exact = mds_expected_time(n, k, shift_s=a, rate_per_s=mu)
    assert abs(out.mean_s - exact) <= Z * out.std_err_s


def test_closed_forms_by_hand() -> None:
    assert harmonic(0) == 0.0 and harmonic(4) == pytest.approx(25 / 12)
    # n = 3, s = 1: (2/3)(a + (H_3 - H_1)/mu) = (2/3)(1 + 5/6)
    assert gc_expected_time(3, 1, shift_s=1.0, rate_per_s=1.0) == pytest.approx(2 / 3 * 11 / 6)
    # wait-for-all is the MDS code with k = n and the gradient code with s = 0
    assert mds_expected_time(8, 8, shift_s=1.0, rate_per_s=3.0) == pytest.approx(
        gc_expected_time(8, 0, shift_s=1.0, rate_per_s=3.0)
    )


@pytest.mark.parametrize(("a", "mu"), [(1.0, 1.0), (0.1, 1.0), (0.3, 5.0), (0.02, 0.5)])
def test_optimal_stragglers_is_the_argmin(a: float, mu: float) -> None:
    n = 20
    times = [gc_expected_time(n, s, shift_s=a, rate_per_s=mu) for s in range(n)]
    s_star = optimal_stragglers(n, shift_s=a, rate_per_s=mu)
    assert times[s_star] == min(times)


def test_upload_shifts_completion() -> None:
    base = delay_model("shifted_exponential", shift_s=1.0, rate_per_s=1.0)
    up = base.with_upload(upload_times(2e6, np.full(5, 1e6)))
    t0 = simulate_completion("uncoded", base, num_workers=5, trials=1000, rng=0)
    t1 = simulate_completion("uncoded", up, num_workers=5, trials=1000, rng=0)
    assert np.allclose(t1.times_s, t0.times_s + 2.0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: delay_model("normal"), "kind"),
        (lambda: delay_model("shifted_exponential", rate_per_s=-1.0), "rate_per_s"),
        (lambda: delay_model("shifted_exponential", shift_s=0.0), "shift_s"),
        (lambda: delay_model("pareto", alpha=1.0), "alpha"),
        (lambda: delay_model("bimodal", slow_prob=1.5), "slow_prob"),
        (lambda: delay_model("empirical"), "samples_s"),
        (lambda: gc_expected_time(5, 1, shift_s=1.0, rate_per_s=-2.0), "rate_per_s"),
        (lambda: gc_expected_time(5, 5, shift_s=1.0, rate_per_s=1.0), "num_stragglers"),
        (lambda: gc_expected_time(5.0, 1, shift_s=1.0, rate_per_s=1.0), "num_workers"),
        (lambda: mds_expected_time(5, 6, shift_s=1.0, rate_per_s=1.0), "k"),
        (lambda: upload_times(1.0, [1.0, -1.0]), "rates_bps"),
        (lambda: simulate_completion("mds", delay_model("pareto"), num_workers=4, trials=5), "k"),
        (
            lambda: simulate_completion(
                "cyclic", delay_model("pareto", shift_s=[1.0, 2.0]), num_workers=4, trials=5
            ),
            "shift_s",
        ),
        (lambda: simulate_completion("cyclic", "pareto", num_workers=4, trials=5), "delay_model"),
    ],
)
def test_bad_input(call, name) -> None:
    with pytest.raises(InvalidInputError, match=name):
        call()


def test_from_system_heterogeneous_cpus_and_uploads() -> None:
    from edgeopt.coding import from_system
    from edgeopt.system import normalized_system

    cell = normalized_system(
        3, cpu_freq_hz=[1e9, 2e9, 4e9], cycles_per_sample=2e6, power_w=10.0, bandwidth_hz=3e6
    )
    h = cell.channels(np.random.default_rng(0))
    model = from_system(
        cell, num_samples=500, tail_ratio=4.0, payload_bits=1e6, channels=h, bandwidth_hz=1e6
    )
    # a_i = C N / f_i, mu_i = ratio / a_i, u_i = L / r_i
    assert np.allclose(model.shift_s, 2e6 * 500 / np.array([1e9, 2e9, 4e9]))
    assert np.allclose(model.rate_per_s, 4.0 / model.shift_s)
    assert np.allclose(model.upload_s, 1e6 / cell.rates_bps(h, 1e6))
    with pytest.raises(InvalidInputError, match="channels"):
        from_system(cell, num_samples=500, payload_bits=1e6)
    with pytest.raises(InvalidInputError, match="tail_ratio"):
        from_system(cell, num_samples=500, tail_ratio=0.0)
