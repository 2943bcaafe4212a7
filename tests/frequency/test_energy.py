"""minimize_round_energy: the KKT conditions at its answer (both methods, tight to very loose
deadlines), the methods against each other, and infeasible deadlines."""

from __future__ import annotations

import numpy as np
import pytest

from edgeopt import status as st
from edgeopt.errors import InvalidInputError
from edgeopt.frequency import _kernels, allocate_bandwidth, minimize_round_energy

#: Relative accuracy of multipliers recovered from the solver's primal answer (its
#: primal tolerance is 1e-10; the multipliers involve f³ and the rate's slope).
KKT_TOL = 1e-4


def _instance(seed, k):
    rng = np.random.default_rng(seed)
    return dict(
        cycles=rng.uniform(0.5e9, 3e9, k),
        kappa=10 ** rng.uniform(-28.3, -27.7, k),
        max_freq_hz=rng.uniform(1e9, 2e9, k),
        power_w=rng.uniform(0.1, 0.3, k),
        gain=10 ** rng.uniform(-12, -10, k),
        noise_psd_w_per_hz=4e-21,
        total_bandwidth_hz=5e6,
    )


def _fastest(payload, kw):
    res = allocate_bandwidth(
        payload,
        power_w=kw["power_w"],
        gain=kw["gain"],
        noise_psd_w_per_hz=kw["noise_psd_w_per_hz"],
        compute_s=kw["cycles"] / kw["max_freq_hz"],
        total_bandwidth_hz=kw["total_bandwidth_hz"],
    )
    return res.round_latency_s


def _check_kkt(res, kw, payload, deadline):
    """Primal feasibility, stationarity and complementary slackness at ``res``."""
    assert res.status == st.OPTIMAL
    f, b = res.frequency_hz, res.bandwidth_hz
    c, kap, fmax, p = kw["cycles"], kw["kappa"], kw["max_freq_hz"], kw["power_w"]
    a = p * kw["gain"] / kw["noise_psd_w_per_hz"]
    rate = b * np.log2(1 + a / b)
    slope = (np.log1p(a / b) - a / (a + b)) / np.log(2)
    # Primal feasibility.
    assert np.all(f > 0) and np.all(f <= fmax * (1 + 1e-12))
    assert b.sum() <= kw["total_bandwidth_hz"] * (1 + 1e-9)
    assert np.all(c / f + payload / rate <= deadline * (1 + 1e-8))
    np.testing.assert_allclose(
        res.energy_j, np.sum(kap * c * f**2 + p * payload / rate), rtol=1e-12
    )
    # Stationarity of the Lagrangian with multipliers λ_i (deadline), ν (band), μ_i (f_max):
    #   ∂/∂f_i: 2κ_i C_i f_i − λ_i C_i / f_i² + μ_i = 0
    #   ∂/∂b_i: −(p_i + λ_i) L r_i'(b_i) / r_i(b_i)² + ν = 0
    interior = f < fmax * (1 - 1e-6)
    assert interior.any()
    lam = 2 * kap * f**3  # μ_i = 0 where f_i < f_max
    nu_i = (p + lam) * payload * slope / rate**2
    nu = nu_i[interior].mean()
    np.testing.assert_allclose(nu_i[interior], nu, rtol=KKT_TOL)
    assert nu > 0  # so the band is used whole (complementary slackness)
    assert b.sum() == pytest.approx(kw["total_bandwidth_hz"], rel=1e-9)
    # λ_i > 0 where f_i < f_max, so those devices finish exactly at the deadline.
    np.testing.assert_allclose((c / f + payload / rate)[interior], deadline, rtol=1e-6)
    # Devices at f_max: λ_i from the b-condition, then μ_i >= 0 and λ_i >= 0.
    top = ~interior
    if top.any():
        lam_top = nu * rate[top] ** 2 / (payload * slope[top]) - p[top]
        mu_top = lam_top * c[top] / f[top] ** 2 - 2 * kap[top] * c[top] * f[top]
        scale = 2 * kap[top] * c[top] * f[top]
        assert np.all(lam_top >= -KKT_TOL * p[top])
        assert np.all(mu_top >= -KKT_TOL * scale)
    return nu


@pytest.mark.parametrize("method", ["kkt", "cvxpy"])
@pytest.mark.parametrize(
    ("seed", "k", "slack"), [(0, 3, 1.05), (1, 6, 1.05), (2, 20, 1.3), (3, 8, 3.0), (4, 2, 1.5)]
)
def test_kkt_conditions(seed, k, slack, method):
    kw = _instance(seed, k)
    payload = 2e6
    deadline = _fastest(payload, kw) * slack
    res = minimize_round_energy(payload, deadline_s=deadline, method=method, **kw)
    nu = _check_kkt(res, kw, payload, deadline)
    assert res.stats.solver_name.startswith("kkt/" if method == "kkt" else "cvxpy/")
    if method == "kkt":  # its own multiplier is the one recovered from its answer
        assert res.stats.extra["band_price"] == pytest.approx(nu, rel=1e-9)


@pytest.mark.parametrize(
    ("seed", "k", "band", "payload", "slack"),
    [
        (10, 100, 5e6, 2e7, 100.0),  # like the cells where CVXPY stops short
        (11, 100, 5e6, 2e7, 1000.0),
        (12, 300, 3e7, 2e6, 10.0),
        (13, 300, 3e7, 2e6, 1000.0),
        (14, 1000, 1e8, 2e6, 100.0),
        (15, 1000, 1e8, 2e6, 1000.0),
    ],
)
def test_kkt_conditions_at_loose_deadlines_for_many_devices(seed, k, band, payload, slack):
    """Deadlines 10–1000x the fastest round: the computation energy is a tiny part of the
    total, which the KKT method resolves exactly."""
    kw = {**_instance(seed, k), "total_bandwidth_hz": band}
    deadline = _fastest(payload, kw) * slack
    res = minimize_round_energy(payload, deadline_s=deadline, **kw)
    _check_kkt(res, kw, payload, deadline)
    # Looser still costs less.
    looser = minimize_round_energy(payload, deadline_s=deadline * 1.5, **kw)
    assert looser.status == st.OPTIMAL and looser.energy_j < res.energy_j


@pytest.mark.parametrize(("seed", "k", "slack"), [(20, 5, 1.02), (21, 12, 1.2), (22, 30, 4.0)])
def test_kkt_method_agrees_with_cvxpy(seed, k, slack):
    kw = _instance(seed, k)
    deadline = _fastest(1e6, kw) * slack
    a = minimize_round_energy(1e6, deadline_s=deadline, **kw)
    b = minimize_round_energy(1e6, deadline_s=deadline, method="cvxpy", **kw)
    assert a.status == b.status == st.OPTIMAL
    assert a.energy_j <= b.energy_j * (1 + 1e-9)  # exact: never worse than the solver
    assert a.energy_j == pytest.approx(b.energy_j, rel=1e-7)
    np.testing.assert_allclose(a.frequency_hz, b.frequency_hz, rtol=1e-4)
    np.testing.assert_allclose(a.bandwidth_hz, b.bandwidth_hz, rtol=1e-4)


def test_moving_bandwidth_does_not_save_energy():
    """Brute force around the answer: move band between two devices, re-choose both
    frequencies (the slowest that meets the deadline, if f_max allows): never cheaper."""
    kw = _instance(23, 6)
    payload = 1e6
    deadline = _fastest(payload, kw) * 1.4
    res = minimize_round_energy(payload, deadline_s=deadline, **kw)
    c, kap, fmax, p = kw["cycles"], kw["kappa"], kw["max_freq_hz"], kw["power_w"]
    a = p * kw["gain"] / kw["noise_psd_w_per_hz"]
    rng = np.random.default_rng(1)
    tried = 0
    for _ in range(200):
        i, j = rng.choice(6, size=2, replace=False)
        b = res.bandwidth_hz.copy()
        move = rng.uniform(1e-5, 0.1) * b[i]
        b[i] -= move
        b[j] += move
        up = payload / (b * np.log2(1 + a / b))
        f = c / (deadline - up)
        if np.any(up >= deadline) or np.any(f > fmax):
            continue  # that split cannot meet the deadline
        tried += 1
        assert np.sum(kap * c * f**2 + p * up) > res.energy_j
    assert tried > 50


def test_energy_slope_kernel_against_numpy():
    kw = _instance(24, 4)
    a = kw["power_w"] * kw["gain"] / kw["noise_psd_w_per_hz"]
    b = np.array([2e5, 1e6, 3e6, 7e5])
    deadline, payload = 5.0, 1e6
    rate = b * np.log2(1 + a / b)
    slope = (np.log1p(a / b) - a / (a + b)) / np.log(2)
    f = kw["cycles"] / (deadline - payload / rate)
    ref = (2 * kw["kappa"] * f**3 + kw["power_w"]) * payload * slope / rate**2
    got = [
        _kernels._log_energy_slope(
            np.log(b[i]),
            payload,
            kw["cycles"][i],
            kw["kappa"][i],
            kw["power_w"][i],
            a[i],
            deadline,
        )
        for i in range(4)
    ]
    np.testing.assert_allclose(np.exp(got), ref, rtol=1e-12)
    # Past the deadline the slope is infinite (that bandwidth is not allowed).
    assert _kernels._log_energy_slope(np.log(1.0), payload, 1e9, 1e-28, 0.1, a[0], 1.0) == np.inf


def test_tight_deadline_reaches_fmax():
    kw = _instance(1, 6)
    deadline = _fastest(2e6, kw) * 1.05
    res = minimize_round_energy(2e6, deadline_s=deadline, **kw)
    assert np.any(res.frequency_hz >= kw["max_freq_hz"] * (1 - 1e-6))


def test_energy_decreases_with_deadline():
    kw = _instance(2, 5)
    t0 = _fastest(1e6, kw)
    energies = [
        minimize_round_energy(1e6, deadline_s=t0 * s, **kw).energy_j for s in (1.1, 1.5, 2.5)
    ]
    assert energies[0] > energies[1] > energies[2]


@pytest.mark.parametrize("factor", [0.999, 0.5, 0.01])
def test_infeasible_deadline(factor):
    kw = _instance(5, 4)
    t0 = _fastest(1e6, kw)
    res = minimize_round_energy(1e6, deadline_s=t0 * factor, **kw)
    assert res.status == st.INFEASIBLE
    assert res.status in st.INF_OR_UNB
    assert res.round_latency_s == pytest.approx(t0, rel=1e-12)
    assert res.stats.extra["fastest_round_s"] == pytest.approx(t0, rel=1e-12)
    np.testing.assert_array_equal(res.frequency_hz, kw["max_freq_hz"])


def test_deadline_at_fastest_round_is_that_round():
    kw = _instance(6, 4)
    t0 = _fastest(1e6, kw)
    res = minimize_round_energy(1e6, deadline_s=t0, **kw)
    assert res.status == st.OPTIMAL
    np.testing.assert_array_equal(res.frequency_hz, kw["max_freq_hz"])
    assert res.round_latency_s == pytest.approx(t0, rel=1e-12)


GOOD = dict(
    cycles=1e9,
    kappa=1e-28,
    max_freq_hz=2e9,
    power_w=0.1,
    gain=1e-10,
    noise_psd_w_per_hz=4e-21,
    total_bandwidth_hz=1e6,
    deadline_s=2.0,
)


@pytest.mark.parametrize(
    "name",
    [
        "cycles",
        "kappa",
        "max_freq_hz",
        "power_w",
        "gain",
        "noise_psd_w_per_hz",
        "total_bandwidth_hz",
        "deadline_s",
    ],
)
def test_bad_input(name):
    with pytest.raises(InvalidInputError, match=name):
        minimize_round_energy(1e6, **{**GOOD, name: 0.0})


@pytest.mark.parametrize(
    ("name", "value"),
    [("cycles", [1e9, float("nan")]), ("gain", [1e-10, -1e-10]), ("method", "newton")],
)
def test_bad_input_values(name, value):
    with pytest.raises(InvalidInputError, match=name):
        minimize_round_energy(1e6, **{**GOOD, name: value})
