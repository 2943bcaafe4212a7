"""Aggregation models: ideal, digital (TDMA/FDMA, compressed) and AirComp."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from edgeopt.aircomp import aircomp_mse, select_devices
from edgeopt.channel import rayleigh
from edgeopt.errors import InvalidInputError
from edgeopt.federated import (
    QSGD,
    AirCompAggregation,
    DigitalAggregation,
    IdealAggregation,
    RoundContext,
    TopK,
)
from edgeopt.system import BaseStation, Devices, System, normalized_system


def _ctx(system, channels, t=None, e=None, rng=None, **fields):
    """A round context with the system's powers, noise and band."""
    k = system.num_devices
    t = np.zeros(k) if t is None else t
    e = np.zeros(k) if e is None else e
    uplink = dict(
        channels=channels,
        power_w=system.devices.tx_power_w,
        noise_w=system.noise_w,
        bandwidth_hz=system.base_station.bandwidth_hz,
        **fields,
    )
    if rng is None:
        return RoundContext(t, e, **uplink)
    return RoundContext.from_rng(rng, compute_s=t, compute_energy_j=e, **uplink)


def _updates(k, d, seed=0):
    g = np.random.default_rng(seed)
    return torch.as_tensor(g.normal(0.3, 2.0, size=(k, d)), dtype=torch.float64)


def test_ideal_is_weighted_mean_and_costs_compute_only():
    u = _updates(5, 7)
    sizes = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    ctx = RoundContext(compute_s=np.arange(5.0), compute_energy_j=np.ones(5))
    out = IdealAggregation().aggregate(u, sizes, ctx)
    expect = (sizes[:, None] * u.numpy()).sum(0) / sizes.sum()
    assert np.allclose(out.update.numpy(), expect)
    assert out.round_latency_s == 4.0 and out.energy_j == 5.0 and out.selected.all()


@pytest.mark.parametrize("access", ["tdma", "fdma"])
def test_digital_latency_and_energy_from_shannon_rates(access):
    k, d, n_ant = 6, 100, 2
    band, power, noise = 2e6, 0.2, 1e-2
    t = np.linspace(0.01, 0.06, k)
    e = np.full(k, 1e-3)
    system = normalized_system(
        k, num_antennas=n_ant, power_w=power, noise_w=noise, bandwidth_hz=band
    )
    agg = DigitalAggregation(access, bits_per_entry=16)
    agg.reset(k, d)
    h = system.channels(rng=9)
    assert np.array_equal(h, rayleigh((k, n_ant), np.random.default_rng(9)))  # CN(0, I) rows
    out = agg.aggregate(_updates(k, d), np.ones(k), _ctx(system, h, t, e))
    gain = np.sum(np.abs(h) ** 2, axis=1)
    bits = 16 * d
    if access == "tdma":
        rate = band * np.log2(1 + power * gain / noise)
        latency = t.max() + np.sum(bits / rate)
    else:
        rate = band / k * np.log2(1 + k * power * gain / noise)
        latency = np.max(bits / rate + t)
    assert out.round_latency_s == pytest.approx(latency, rel=1e-12)
    assert out.energy_j == pytest.approx(np.sum(power * bits / rate) + e.sum(), rel=1e-12)
    assert out.uplink_bits == k * bits


def test_digital_compressed_uses_exact_bits_and_decoded_updates():
    k, d = 4, 50
    u = _updates(k, d).float()
    system = normalized_system(k, power_w=1.0, noise_w=1e-3)
    agg = DigitalAggregation(compressor=TopK(k=5))
    agg.reset(k, d)
    ctx = _ctx(system, system.channels(1), rng=0)
    out = agg.aggregate(u, np.ones(k), ctx)
    assert out.uplink_bits == k * (32 + 5 * (32 + 6))
    assert int((out.update != 0).sum()) <= k * 5
    s = 1000
    fine = DigitalAggregation(compressor=QSGD(s))
    fine.reset(k, d)
    out = fine.aggregate(u, np.ones(k), ctx)
    # QSGD entry j of device i is ||u_i||/s times a level rounded up with probability
    # f_ij = frac(s |u_ij| / ||u_i||): unbiased, variance (||u_i||/s)^2 f_ij (1 - f_ij)
    # (Alistarh et al. 2017, Lemma 3.1; summed over j this is <= min(d/s^2, sqrt(d)/s) ||u_i||^2).
    # The equal-weight mean of K devices: variance / K^2 summed over devices; 5 sigma per entry,
    # plus float32 rounding of the decoding (a few ulps of the largest entry).
    v = u.double().numpy()
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    frac = np.modf(s * np.abs(v) / norm)[0]
    var = np.sum((norm / s) ** 2 * frac * (1 - frac), axis=0) / k**2
    assert np.sum(var) * k**2 <= min(d / s**2, np.sqrt(d) / s) * np.sum(norm**2)
    err = np.abs(out.update.double().numpy() - v.mean(0))
    assert np.all(err <= 5 * np.sqrt(var) + 1e-5 * np.abs(v).max())
    assert np.any(err > 0)  # the quantization really happened


def test_aircomp_noiseless_with_all_devices_equals_ideal():
    k, d = 8, 33  # odd d exercises the padding of the complex packing
    u = _updates(k, d)
    sizes = np.arange(1.0, k + 1)
    zeros = np.zeros(k)
    ideal = IdealAggregation().aggregate(u, sizes, RoundContext(zeros, zeros))
    air = AirCompAggregation(mse_target=1e-3, method="all")
    ctx = RoundContext(
        zeros,
        zeros,
        channels=normalized_system(k, num_antennas=3).channels(1),
        power_w=1.0,
        noise_w=0.0,  # a noiseless reference (a system's noise is > 0)
        bandwidth_hz=1e6,
    )
    out = air.aggregate(u, sizes, ctx)
    assert out.selected.all()
    assert torch.allclose(out.update, ideal.update, atol=1e-10)


def test_aircomp_error_matches_predicted_mse_monte_carlo():
    k, d, rounds = 10, 2000, 20
    power, noise = 1.0, 0.5
    sizes = np.random.default_rng(4).integers(20, 60, size=k).astype(float)
    system = normalized_system(k, num_antennas=4, power_w=power, noise_w=noise)
    air = AirCompAggregation(mse_target=2.0, method="fast")
    rng = np.random.default_rng(5)
    ratios = []
    for r in range(rounds):
        u = _updates(k, d, seed=100 + r)
        ctx = _ctx(system, system.channels(rng), rng=rng)
        out = air.aggregate(u, sizes, ctx)
        sel = out.selected
        assert sel.any() and out.mse <= 2.0 * (1 + 1e-6)
        ws = out.info["weights"]
        assert np.allclose(ws, (sizes / sizes.mean())[sel])
        exact = (ws[:, None] * u.numpy()[sel]).sum(0)  # target weighted sum
        # error of the normalized weighted sum, one real entry per model entry
        err = (out.update.numpy() * ws.sum() - exact) / out.info["scale"]
        ratios.append(err**2 / out.mse)
    ratios = np.concatenate(ratios)
    # err^2/mse ~ chi^2_1 with mean 1, variance 2
    assert abs(ratios.mean() - 1.0) < 5 * math.sqrt(2.0 / ratios.size)


def test_aircomp_round_time_independent_of_k_and_power_respected():
    d, band = 101, 2e5
    for k in (3, 30):
        system = normalized_system(k, num_antennas=4, power_w=0.5, noise_w=1e-2, bandwidth_hz=band)
        air = AirCompAggregation(mse_target=10.0, method="fast")
        ctx = _ctx(system, system.channels(k), rng=k)
        out = air.aggregate(_updates(k, d), np.ones(k), ctx)
        assert out.round_latency_s == pytest.approx(math.ceil(d / 2) / band, rel=1e-12)
        # energy = sum_ij |b_i s_ij|^2 / B with |b_i|^2 <= P, and the common normalization
        # makes sum_ij |s_ij|^2 = |S| d / 2 exactly, so energy <= P |S| d / (2 B)
        n_sel = out.selected.sum()
        assert 0 < out.energy_j <= 0.5 * n_sel * d / 2 / band * (1 + 1e-9)


def test_aircomp_selection_matches_solver_and_empty_round():
    k = 6
    h = rayleigh((k, 2), np.random.default_rng(11))
    sol = select_devices(
        h, power_w=1.0, noise_w=1.0, mse_target=0.5, method="fast", rng=np.random.default_rng(11)
    )
    assert aircomp_mse(sol.beamformer, h[sol.selected], power_w=1.0, noise_w=1.0) <= 0.5 * (
        1 + 1e-6
    )
    air = AirCompAggregation(mse_target=1e-6, method="fast")
    system = normalized_system(k, num_antennas=2, power_w=1.0, noise_w=1e3)
    ctx = _ctx(system, h, np.ones(k), np.ones(k), noise_rng=0, selection_rng=0)
    out = air.aggregate(_updates(k, 5), np.ones(k), ctx)
    assert not out.selected.any()
    assert torch.all(out.update == 0) and out.round_latency_s == 0.0 and out.energy_j == 0.0


def test_aggregation_bad_input():
    with pytest.raises(InvalidInputError, match="mse_target"):
        AirCompAggregation(mse_target=0.0)
    with pytest.raises(InvalidInputError, match="method"):
        AirCompAggregation(mse_target=1.0, method="best")
    with pytest.raises(InvalidInputError, match="access"):
        DigitalAggregation(access="cdma")
    with pytest.raises(InvalidInputError, match="compressor"):
        DigitalAggregation(compressor="qsgd")
    with pytest.raises(InvalidInputError, match="bits_per_entry"):
        DigitalAggregation(bits_per_entry=0)
    ctx = RoundContext(compute_s=[0, 0], compute_energy_j=[0, 0])
    with pytest.raises(InvalidInputError, match="data_sizes"):
        IdealAggregation().aggregate(torch.ones(2, 3), [1.0, -1.0], ctx)
    with pytest.raises(InvalidInputError, match="updates"):
        IdealAggregation().aggregate(torch.full((2, 3), math.inf), [1, 1], ctx)
    with pytest.raises(InvalidInputError, match="updates"):
        IdealAggregation().aggregate(np.ones((2, 3)), [1, 1], ctx)  # not a tensor
    with pytest.raises(InvalidInputError, match="context.compute_s"):
        IdealAggregation().aggregate(torch.ones(3, 2), [1, 1, 1], ctx)  # 2 devices, not 3
    with pytest.raises(InvalidInputError, match="context"):
        IdealAggregation().aggregate(torch.ones(2, 3), [1, 1], {"compute_s": [0, 0]})
    digital = DigitalAggregation()
    with pytest.raises(InvalidInputError, match="context.channels"):
        digital.aggregate(torch.ones(2, 3), [1, 1], ctx)  # no channels handed in
    h = np.ones((2, 3), dtype=complex)
    with pytest.raises(InvalidInputError, match="context.power_w"):
        digital.aggregate(torch.ones(2, 3), [1, 1], RoundContext([0, 0], [0, 0], channels=h))
    noiseless = RoundContext([0, 0], [0, 0], channels=h, power_w=1, noise_w=0, bandwidth_hz=1)
    with pytest.raises(InvalidInputError, match="context.noise_w"):
        digital.aggregate(torch.ones(2, 3), [1, 1], noiseless)  # Shannon rates need noise
    with pytest.raises(InvalidInputError, match="channels"):
        RoundContext([0, 0], [0, 0], channels=np.ones((3, 2), dtype=complex))  # 3 rows, 2 devices
    with pytest.raises(InvalidInputError, match="power_w"):
        RoundContext([0, 0], [0, 0], power_w=[1.0, 2.0, 3.0])
    with pytest.raises(InvalidInputError, match="power_w"):
        RoundContext([0, 0], [0, 0], power_w=0.0)
    with pytest.raises(InvalidInputError, match="participants"):
        RoundContext([0, 0], [0, 0], participants=[1, 0])
    with pytest.raises(InvalidInputError, match="deadline_s"):
        RoundContext([0, 0], [0, 0], deadline_s=0.0)
    with pytest.raises(InvalidInputError, match="compute_energy_j"):
        RoundContext(compute_s=[0, 0], compute_energy_j=[0, 0, 0])
    with pytest.raises(InvalidInputError, match="compute_s"):
        RoundContext(compute_s=[-1.0], compute_energy_j=[0])
    with pytest.raises(InvalidInputError, match="noise_rng"):
        RoundContext(compute_s=[0], compute_energy_j=[0], noise_rng=1.5)
    with pytest.raises(InvalidInputError, match="channels"):
        RoundContext(compute_s=[0], compute_energy_j=[0], channels=np.full((1, 2), np.nan))


def test_digital_and_aircomp_with_path_loss_channels():
    from edgeopt.channel import uplink_channels
    from edgeopt.units import dbm_to_w, thermal_noise_w

    k, d, band = 5, 40, 1e6
    dist = np.array([50.0, 100.0, 200.0, 300.0, 400.0])
    power = float(dbm_to_w(23.0))
    noise = float(thermal_noise_w(band, noise_figure_db=7.0))
    devices = Devices(distance_m=dist, tx_power_w=power, cpu_freq_hz=1e9, kappa=1e-28)
    bs = BaseStation(num_antennas=2, bandwidth_hz=band, noise_figure_db=7.0, shadowing_sigma_db=0)
    system = System(bs, devices)
    assert system.noise_w == pytest.approx(noise, rel=1e-12)
    agg = DigitalAggregation()
    agg.reset(k, d)
    h = system.channels(rng=3)
    expect = uplink_channels(dist, 2, rng=np.random.default_rng(3), shadowing_sigma_db=0.0)
    assert np.array_equal(h, expect)
    out = agg.aggregate(_updates(k, d), np.ones(k), _ctx(system, h))
    rate = band * np.log2(1 + power * np.sum(np.abs(h) ** 2, axis=1) / system.noise_w)
    assert out.round_latency_s == pytest.approx(np.sum(32 * d / rate), rel=1e-12)
    cell4 = System(BaseStation(num_antennas=4, bandwidth_hz=band, noise_figure_db=7.0), devices)
    air = AirCompAggregation(mse_target=1.0, method="fast")
    out = air.aggregate(_updates(k, d), np.ones(k), _ctx(cell4, cell4.channels(3), rng=3))
    assert out.selected.any() and out.mse <= 1.0 * (1 + 1e-6)
