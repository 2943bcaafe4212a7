"""allocate_bandwidth: equal finish times, the whole band used, no worse than an equal split,
the compiled method, SciPy's brentq form and CVXPY agree, and the kernels against NumPy and
Lambert-W references."""

from __future__ import annotations

import numpy as np
import pytest

from edgeopt import status as st
from edgeopt._validation import check_device_vectors
from edgeopt.errors import InvalidInputError
from edgeopt.frequency import TOLERANCE, _kernels, _rate, allocate_bandwidth
from edgeopt.frequency._methods import brentq as brentq_method


def _instance(seed, k):
    rng = np.random.default_rng(seed)
    return dict(
        power_w=rng.uniform(0.05, 0.5, k),
        gain=10 ** rng.uniform(-12, -9, k),
        noise_psd_w_per_hz=4e-21,
        compute_s=rng.uniform(0.0, 0.5, k),
        total_bandwidth_hz=1e5 * k,
    ), rng.uniform(2e5, 2e6, k)


def _finish(bw, payload, kw):
    a = kw["power_w"] * kw["gain"] / kw["noise_psd_w_per_hz"]
    return kw["compute_s"] + payload / (bw * np.log2(1 + a / bw))


CASES = [(0, 1), (1, 2), (2, 5), (3, 30), (4, 200)]


@pytest.mark.parametrize(
    ("seed", "k", "method"),
    [(*c, "bisection") for c in CASES]
    + [(*c, "brentq") for c in CASES[:4]]
    + [(*c, "cvxpy") for c in CASES[:4]],
)
def test_optimality_conditions(seed, k, method):
    kw, payload = _instance(seed, k)
    res = allocate_bandwidth(payload, method=method, **kw)
    if method == "cvxpy":
        assert res.status == st.OPTIMAL
        assert res.bandwidth_hz.sum() <= kw["total_bandwidth_hz"] * (1 + TOLERANCE)
        fin = _finish(res.bandwidth_hz, payload, kw)
        np.testing.assert_allclose(fin, res.round_latency_s, rtol=TOLERANCE)
        return
    assert res.status == st.OPTIMAL
    assert res.bandwidth_hz.shape == (k,)
    assert np.all(res.bandwidth_hz > 0)
    assert res.bandwidth_hz.sum() == pytest.approx(kw["total_bandwidth_hz"], rel=1e-12)
    fin = _finish(res.bandwidth_hz, payload, kw)  # recomputed here from the formula
    np.testing.assert_allclose(fin, res.round_latency_s, rtol=1e-10)
    assert res.objective == res.round_latency_s == pytest.approx(fin.max(), rel=1e-14)
    equal = _finish(np.full(k, kw["total_bandwidth_hz"] / k), payload, kw).max()
    assert res.round_latency_s <= equal * (1 + 1e-14)
    if k > 1:
        assert res.round_latency_s < equal


@pytest.mark.parametrize(("seed", "k"), [(10, 2), (11, 10), (12, 100)])
def test_cvxpy_agrees_with_bisection(seed, k):
    kw, payload = _instance(seed, k)
    a = allocate_bandwidth(payload, **kw)
    b = allocate_bandwidth(payload, method="cvxpy", **kw)
    assert b.status == st.OPTIMAL
    assert b.stats.solver_name.startswith("cvxpy/")
    assert b.round_latency_s == pytest.approx(a.round_latency_s, rel=TOLERANCE)
    assert b.bandwidth_hz.sum() <= kw["total_bandwidth_hz"] * (1 + TOLERANCE)
    np.testing.assert_allclose(b.bandwidth_hz, a.bandwidth_hz, rtol=1e-3)


def _hard_instance(seed, k):
    """Wide ranges: compute times over four decades, SNR bandwidths over eight, payloads
    over three, and bands from starved to plentiful, so that the root sits anywhere from
    next to the pole t_∞ to far from it."""
    rng = np.random.default_rng(seed)
    return dict(
        power_w=rng.uniform(0.01, 1.0, k),
        gain=10 ** rng.uniform(-14, -6, k),
        noise_psd_w_per_hz=4e-21,
        compute_s=10 ** rng.uniform(-4, 0, k) * (rng.random(k) < 0.8),
        total_bandwidth_hz=10 ** rng.uniform(3, 9) * k,
    ), 10 ** rng.uniform(4, 7, k)


@pytest.mark.parametrize("seed", range(12))
def test_compiled_method_agrees_with_scipy_brentq(seed):
    """The default (one compiled Newton–bisection) against SciPy's brentq at both levels."""
    k = (1, 2, 3, 7, 20, 60)[seed % 6]
    kw, payload = _hard_instance(100 + seed, k)
    a = allocate_bandwidth(payload, **kw)
    ref = allocate_bandwidth(payload, method="brentq", **kw)
    assert a.stats.solver_name == "bisection/newton"
    assert ref.stats.solver_name == "scipy/brentq"
    assert a.status == ref.status == st.OPTIMAL
    # Where the root is close to the pole t_∞, Σ b_i(t) is so steep that the nearest double
    # to the root fixes the sum only to about 1e-16 t / (t − t_∞); the reference then scales
    # the bandwidths to the band, which moves its finish times apart by as much.
    assert a.round_latency_s == pytest.approx(ref.round_latency_s, rel=1e-10)
    np.testing.assert_allclose(a.bandwidth_hz, ref.bandwidth_hz, rtol=1e-6)
    np.testing.assert_allclose(a.finish_s, a.round_latency_s, rtol=1e-12)
    assert a.bandwidth_hz.sum() == pytest.approx(kw["total_bandwidth_hz"], rel=1e-14)
    assert a.stats.extra["function_evals"] <= 60


def test_near_the_pole_and_far_from_it():
    """A band so large that the round is barely longer than with unlimited bandwidth, and so
    small that every device is bandwidth-starved: both against brentq."""
    kw, payload = _instance(21, 40)
    a = kw["power_w"] * kw["gain"] / kw["noise_psd_w_per_hz"]
    t_inf = np.max(kw["compute_s"] + payload * np.log(2) / a)
    for band, rel in ((1e3 * a.sum(), 1e-7), (1e-4 * a.sum(), 1e-12)):
        kwb = {**kw, "total_bandwidth_hz": band}
        res = allocate_bandwidth(payload, **kwb)
        ref = allocate_bandwidth(payload, method="brentq", **kwb)
        # Next to the pole (t − t_∞ ~ 1e-9 t here) see the comment above: the reference's
        # round time is off by up to 1e-16 t / (t − t_∞) ~ 1e-7.
        assert res.round_latency_s == pytest.approx(ref.round_latency_s, rel=rel)
        assert res.round_latency_s > t_inf
        np.testing.assert_allclose(res.finish_s, res.round_latency_s, rtol=1e-12)
        assert res.bandwidth_hz.sum() == pytest.approx(band, rel=1e-14)


def test_scipy_device_bandwidth_against_lambert_w():
    rng = np.random.default_rng(8)
    a = 10 ** rng.uniform(4, 10, 300)
    rate = a / np.log(2) * rng.uniform(1e-6, 0.999, 300)
    got = np.array([brentq_method.device_bandwidth(r, x) for r, x in zip(rate, a, strict=True)])
    np.testing.assert_allclose(got, _rate.bandwidth_for_rate(rate, a), rtol=1e-9)
    assert brentq_method.device_bandwidth(a[0] / np.log(2) * 1.01, a[0]) == np.inf
    assert brentq_method.device_bandwidth(0.0, a[0]) == 0.0


def test_round_time_kernel_against_numpy():
    """The kernel's bandwidths are the Lambert-W bandwidths at its round time, they add up to
    the band, and its derivative of Σ b_i(t) matches a central difference."""
    kw, payload = _instance(30, 50)
    a = kw["power_w"] * kw["gain"] / kw["noise_psd_w_per_hz"]
    band = kw["total_bandwidth_hz"]
    t, b, its, evals = _kernels.round_time(payload, kw["compute_s"], a, band)
    ref = _rate.bandwidth_for_rate(payload / (t - kw["compute_s"]), a)
    np.testing.assert_allclose(b, ref, rtol=1e-9)
    assert b.sum() == pytest.approx(band, rel=1e-14)
    assert 1 <= its and 1 <= evals <= its + 1
    u, du, bb, db = (np.zeros(50) for _ in range(4))
    s = _kernels._demand_slope(t, payload, kw["compute_s"], a, u, du, 0.0, bb, db)
    assert s == pytest.approx(band, rel=1e-12)
    h = 1e-6 * t
    up = _rate.bandwidth_for_rate(payload / (t + h - kw["compute_s"]), a)
    down = _rate.bandwidth_for_rate(payload / (t - h - kw["compute_s"]), a)
    np.testing.assert_allclose(db, (up - down) / (2 * h), rtol=1e-6)
    # A warm start from far off still lands on the root.
    u_far = u * 50.0
    s_far = _kernels._demand_slope(t, payload, kw["compute_s"], a, u_far, du, -0.3, bb, db)
    assert s_far == pytest.approx(band, rel=1e-12)
    fin = _kernels.finish_times(b, payload, kw["compute_s"], a)
    np.testing.assert_allclose(fin, _finish(b, payload, kw), rtol=1e-14)
    assert _kernels.finish_times(np.zeros(1), payload[:1], kw["compute_s"][:1], a[:1])[0] == np.inf


def test_perturbation_does_not_improve():
    """Moving bandwidth from one device to another never shortens the optimal round."""
    kw, payload = _instance(5, 6)
    res = allocate_bandwidth(payload, **kw)
    rng = np.random.default_rng(0)
    for _ in range(50):
        i, j = rng.choice(6, size=2, replace=False)
        bw = res.bandwidth_hz.copy()
        move = rng.uniform(1e-4, 0.2) * bw[i]
        bw[i] -= move
        bw[j] += move
        assert _finish(bw, payload, kw).max() > res.round_latency_s


def test_scalar_inputs_broadcast():
    res = allocate_bandwidth(
        1e6,
        power_w=0.1,
        gain=[1e-10, 1e-10],
        noise_psd_w_per_hz=4e-21,
        compute_s=0.1,
        total_bandwidth_hz=2e6,
    )
    np.testing.assert_allclose(res.bandwidth_hz, [1e6, 1e6], rtol=1e-12)  # symmetric


def test_kernel_against_lambert_w():
    """The Newton kernel against the closed form through scipy.special.lambertw."""
    rng = np.random.default_rng(7)
    a = 10 ** rng.uniform(4, 10, 2000)
    rate = a / np.log(2) * rng.uniform(1e-6, 0.999, 2000)
    ref = _rate.bandwidth_for_rate(rate, a)
    got = np.array([_kernels._inverse(r, x) for r, x in zip(rate, a, strict=True)])
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    np.testing.assert_allclose(_rate.rate_bps(got, a), rate, rtol=1e-12)
    assert _kernels._inverse(a[0] / np.log(2) * 1.01, a[0]) == np.inf  # beyond the limit
    assert _kernels._inverse(0.0, a[0]) == 0.0


GOOD = dict(
    power_w=0.1, gain=1e-10, noise_psd_w_per_hz=4e-21, compute_s=0.1, total_bandwidth_hz=1e6
)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("power_w", [0.1, float("inf")]),
        ("compute_s", [0.1, float("nan")]),
        ("noise_psd_w_per_hz", [True, True]),
        ("gain", [[1e-10, 1e-10]]),
        ("gain", []),
        ("gain", "1e-10"),
        ("power_w", 0.0),
        ("gain", -1e-10),
        ("noise_psd_w_per_hz", 0.0),
        ("compute_s", -0.1),
        ("total_bandwidth_hz", 0.0),
        ("gain", float("nan")),
        ("method", "simplex"),
    ],
)
def test_bad_input(name, value):
    with pytest.raises(InvalidInputError, match=name):
        allocate_bandwidth(1e6, **{**GOOD, name: value})


def test_bad_payload_and_shapes():
    with pytest.raises(InvalidInputError, match="payload_bits"):
        allocate_bandwidth(0.0, **GOOD)
    with pytest.raises(InvalidInputError, match="payload_bits"):
        allocate_bandwidth([1e6, -1.0], **GOOD)
    with pytest.raises(InvalidInputError, match="shapes"):
        allocate_bandwidth([1e6, 1e6], **{**GOOD, "gain": [1e-10, 1e-10, 1e-10]})
    with pytest.raises(InvalidInputError, match="p·g/N0"):  # each finite, the product not
        allocate_bandwidth(1e6, **{**GOOD, "power_w": 1e200, "gain": 1e200})


def test_check_device_vectors():
    """The fused check returns what the per-array checks would, and names the bad argument."""
    out = check_device_vectors(
        ("compute_s",), payload_bits=[1, 2, 3], power_w=0.5, compute_s=np.array([0.0, 1.0, 2.0])
    )
    assert set(out) == {"payload_bits", "power_w", "compute_s"}
    for v in out.values():
        assert v.dtype == np.float64 and v.shape == (3,) and v.flags.c_contiguous
    np.testing.assert_array_equal(out["power_w"], [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(out["payload_bits"], [1.0, 2.0, 3.0])
    strided = np.arange(1.0, 7.0)[::2]
    assert check_device_vectors(x=strided)["x"].flags.c_contiguous
    assert check_device_vectors(x=[4.0], y=[1.0, 2.0])["x"].tolist() == [4.0, 4.0]
    for bad, name in [
        (dict(x=[1.0, 0.0]), "x"),
        (dict(x=[1.0], t=[-0.0, -1e-300]), "t"),
        (dict(x=[1.0, 2.0], t=[0.0, np.inf]), "t"),
        (dict(x=np.ones(2), y=np.ones(3)), "shapes"),
        (dict(x=1.0, y=[[1.0, 2.0]]), "y"),
        (dict(x=1.0, y=None), "y"),
    ]:
        with pytest.raises(InvalidInputError, match=name):
            check_device_vectors(("t",), **bad)
