"""allocate_bandwidth: equal finish times, the whole band used, no worse than an equal split,
the bisection and CVXPY forms agree, and the kernel against the Lambert-W closed form."""

from __future__ import annotations

import numpy as np
import pytest

from edgeopt import status as st
from edgeopt.errors import InvalidInputError
from edgeopt.frequency import TOLERANCE, _kernels, _rate, allocate_bandwidth


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


@pytest.mark.parametrize(("seed", "k"), [(0, 1), (1, 2), (2, 5), (3, 30), (4, 200)])
def test_optimality_conditions(seed, k):
    kw, payload = _instance(seed, k)
    res = allocate_bandwidth(payload, **kw)
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


def test_needed_bandwidth_kernel():
    payload = np.array([1e6, 2e6, 1e6])
    compute = np.array([0.1, 0.2, 0.9])
    a = np.array([1e7, 1e6, 1e7])
    out = _kernels.needed_bandwidth(0.5, payload, compute, a)
    assert out[2] == np.inf  # only 0.1 s left would need more than the infinite-band rate
    ref = _rate.bandwidth_for_rate(payload[:2] / (0.5 - compute[:2]), a[:2])
    np.testing.assert_allclose(out[:2], ref, rtol=1e-9)
    assert _kernels.demand(0.5, payload, compute, a) == np.inf
    assert _kernels.demand(0.5, payload[:2], compute[:2], a[:2]) == pytest.approx(ref.sum())


GOOD = dict(
    power_w=0.1, gain=1e-10, noise_psd_w_per_hz=4e-21, compute_s=0.1, total_bandwidth_hz=1e6
)


@pytest.mark.parametrize(
    ("name", "value"),
    [
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
    with pytest.raises(InvalidInputError, match="shapes"):
        allocate_bandwidth([1e6, 1e6], **{**GOOD, "gain": [1e-10, 1e-10, 1e-10]})
