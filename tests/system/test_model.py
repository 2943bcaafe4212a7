"""System model: link budget, channels, rates and computation against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeopt.cost import compute_energy, compute_time
from edgeopt.system import (
    DEFAULT_TX_POWER_W,
    BaseStation,
    Devices,
    System,
    drop_devices,
    normalized_system,
)

K_BOLTZMANN = 1.380649e-23
T0 = 290.0
SPEED_OF_LIGHT = 299_792_458.0


def _hand_pathloss_db(d_m, model, params):
    """Path loss written out from each model's source formula (not edgeopt's code)."""
    d = np.asarray(d_m, dtype=float)
    if model == "3gpp-macro":
        return 128.1 + 37.6 * np.log10(d / 1000.0)
    if model == "free-space":
        wavelength = SPEED_OF_LIGHT / params["carrier_hz"]
        return 20.0 * np.log10(4.0 * math.pi * d / wavelength)
    d0 = params.get("d0_m", 1.0)
    return params["pl0_db"] + 10.0 * params["exponent"] * np.log10(d / d0)


MODELS = [
    ("3gpp-macro", {}),
    ("free-space", {"carrier_hz": 2.4e9}),
    ("log-distance", {"pl0_db": 38.0, "exponent": 3.2, "d0_m": 10.0}),
]


@pytest.mark.parametrize(("model", "params"), MODELS)
@pytest.mark.parametrize("bandwidth_hz", [1e6, 10e6, 20e6])
def test_mean_snr_is_the_link_budget(model, params, bandwidth_hz):
    # SNR [dB] = P_tx [dBm] - PL [dB] - thermal noise [dBm] - NF [dB], by hand.
    distance = np.array([35.0, 80.0, 150.0, 288.0])
    power_w = np.array([0.2, 0.05, 0.1, 0.0125])
    nf_db = 7.0
    bs = BaseStation(
        pathloss=model,
        pathloss_params=params,
        bandwidth_hz=bandwidth_hz,
        noise_figure_db=nf_db,
    )
    system = System(
        bs, Devices(distance_m=distance, tx_power_w=power_w, cpu_freq_hz=1e9, kappa=1e-28)
    )
    tx_dbm = 10.0 * np.log10(power_w / 1e-3)
    noise_dbm = 10.0 * math.log10(K_BOLTZMANN * T0 * bandwidth_hz / 1e-3)
    budget_db = tx_dbm - _hand_pathloss_db(distance, model, params) - noise_dbm - nf_db
    np.testing.assert_allclose(10.0 * np.log10(system.mean_snr()), budget_db, rtol=0, atol=1e-9)
    # The noise property is the same thermal noise, and its density splits the band.
    assert system.noise_w == pytest.approx(K_BOLTZMANN * T0 * bandwidth_hz * 10 ** (nf_db / 10))
    assert system.noise_psd_w_per_hz * bandwidth_hz == pytest.approx(system.noise_w)


def test_mean_snr_macro_cell_edge_number():
    # A worked number: 23 dBm at 1 km, 10 MHz, NF 5 dB: 23.01 - 128.1 + 98.98 = -6.11 dB.
    system = System(
        BaseStation(),
        Devices(distance_m=[1000.0], tx_power_w=DEFAULT_TX_POWER_W, cpu_freq_hz=1e9, kappa=1e-28),
    )
    assert 10 * math.log10(system.mean_snr()[0]) == pytest.approx(
        23.0 - 128.1 - (-173.975 + 70.0 + 5.0), abs=2e-3
    )


def test_given_noise_replaces_thermal_noise():
    dev = Devices(distance_m=[100.0, 200.0], tx_power_w=[0.1, 0.2], cpu_freq_hz=1e9, kappa=1e-28)
    system = System(BaseStation(noise_w=1e-12), dev)
    beta = 10 ** (-_hand_pathloss_db([100.0, 200.0], "3gpp-macro", {}) / 10)
    np.testing.assert_allclose(system.mean_snr(), np.array([0.1, 0.2]) * beta / 1e-12)


def test_normalized_mean_snr_and_noise():
    system = normalized_system(3, power_w=[1.0, 2.0, 4.0], noise_w=0.25, bandwidth_hz=2e6)
    np.testing.assert_array_equal(system.mean_snr(), [4.0, 8.0, 16.0])
    assert system.noise_w == 0.25
    assert system.noise_psd_w_per_hz == 0.25 / 2e6
    np.testing.assert_array_equal(system.path_gain(), np.ones(3))


# -- channels --------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", ["drop", "normalized"])
def test_channel_shapes_and_reproducibility(factory):
    if factory == "drop":
        system = drop_devices(6, rng=3, base_station=BaseStation(num_antennas=4))
    else:
        system = normalized_system(6, num_antennas=4)
    h = system.channels(np.random.default_rng(11))
    assert h.shape == (6, 4) and h.dtype == np.complex128
    hb = system.channels(np.random.default_rng(11), batch=5)
    assert hb.shape == (5, 6, 4)
    np.testing.assert_array_equal(system.channels(11), h)
    np.testing.assert_array_equal(system.channels(np.random.default_rng(11), batch=5), hb)
    assert not np.array_equal(system.channels(12), h)


def test_channels_go_through_uplink_channels():
    from edgeopt.channel import uplink_channels

    bs = BaseStation(num_antennas=3, fading="rician", k_factor_db=4.0, shadowing_sigma_db=6.0)
    system = drop_devices(5, rng=0, base_station=bs)
    expected = uplink_channels(
        system.devices.distance_m,
        3,
        rng=np.random.default_rng(9),
        fading="rician",
        k_factor_db=4.0,
        shadowing_sigma_db=6.0,
        batch=2,
    )
    np.testing.assert_array_equal(system.channels(np.random.default_rng(9), batch=2), expected)


def test_normalized_channels_are_rayleigh_draws():
    from edgeopt.channel import rayleigh

    system = normalized_system(4, num_antennas=2)
    np.testing.assert_array_equal(system.channels(5, batch=3), rayleigh((3, 4, 2), 5))
    flat = BaseStation.normalized(fading="none")
    ones = System(flat, Devices(tx_power_w=[1.0, 1.0], cpu_freq_hz=1e9, kappa=1e-28))
    np.testing.assert_array_equal(ones.channels(0), np.ones((2, 1)))


@pytest.mark.parametrize("sigma_db", [0.0, 4.0])
def test_mean_received_power_matches_mean_snr(sigma_db):
    # E|h_in|^2 = mean_snr_i * noise / p_i * E[10^(S/10)], by Monte Carlo within 5 standard
    # errors per device (the standard error from the sample itself).
    bs = BaseStation(num_antennas=2, shadowing_sigma_db=sigma_db)
    system = drop_devices(4, rng=1, base_station=bs, tx_power_w=np.array([0.2, 0.1, 0.05, 0.02]))
    h = system.channels(np.random.default_rng(2024), batch=40_000)
    power = np.abs(h) ** 2  # (batch, K, N)
    samples = power.transpose(1, 0, 2).reshape(4, -1)
    mean = samples.mean(axis=1)
    # Antennas of one draw share the shadowing: use per-draw antenna means for the error.
    per_draw = power.mean(axis=2)
    se = per_draw.std(axis=0, ddof=1) / math.sqrt(per_draw.shape[0])
    s = sigma_db * math.log(10) / 10
    shadow_mean = math.exp(s * s / 2)
    expected = system.mean_snr() * system.noise_w / system.devices.tx_power_w * shadow_mean
    np.testing.assert_array_less(np.abs(mean - expected), 5 * se)
    assert np.all(se < 0.05 * expected)  # the check is tight enough to mean something


def test_normalized_mean_power_is_one():
    system = normalized_system(3, num_antennas=4)
    h = system.channels(7, batch=20_000)
    per_draw = (np.abs(h) ** 2).mean(axis=2)
    se = per_draw.std(axis=0, ddof=1) / math.sqrt(per_draw.shape[0])
    np.testing.assert_array_less(np.abs(per_draw.mean(axis=0) - 1.0), 5 * se)


# -- rates -------------------------------------------------------------------------------------


def test_rates_are_mrc_shannon_by_hand():
    system = drop_devices(5, rng=4, base_station=BaseStation(num_antennas=3))
    h = system.channels(8, batch=7)
    b = np.array([1e6, 2e6, 3e6, 0.5e6, 3.5e6])
    n0 = system.noise_w / system.base_station.bandwidth_hz
    p = system.devices.tx_power_w
    snr = p * np.sum(np.abs(h) ** 2, axis=-1) / (n0 * b)
    expected = b * np.log2(1.0 + snr)
    rates = system.rates_bps(h, b)
    assert rates.shape == (7, 5)
    np.testing.assert_allclose(rates, expected, rtol=1e-12)


def test_rates_match_shannon_rate_and_zero_band():
    from edgeopt.channel import shannon_rate

    system = normalized_system(3, num_antennas=2, power_w=[1.0, 2.0, 3.0], noise_w=0.5)
    h = np.array([[1.0, 1j], [0.5, 0.5], [2.0, 0.0]], dtype=complex)
    b = np.array([0.25e6, 0.0, 0.75e6])
    n0 = 0.5 / 1e6
    snr = np.array([1.0 * 2.0 / (n0 * b[0]), 0.0, 3.0 * 4.0 / (n0 * b[2])])
    rates = system.rates_bps(h, b)
    np.testing.assert_allclose(rates, shannon_rate(b, snr), rtol=1e-13)
    assert rates[1] == 0.0  # no band, no rate


def test_rates_full_band_scalar():
    system = normalized_system(2, noise_w=1.0, bandwidth_hz=1e6)
    h = np.array([[1.0], [2.0]], dtype=complex)
    np.testing.assert_allclose(system.rates_bps(h, 1e6), 1e6 * np.log2(1 + np.array([1.0, 4.0])))


@settings(max_examples=40, deadline=None)
@given(
    st.floats(1e3, 1e8),
    st.floats(1.0, 10.0),
    st.integers(0, 2**32 - 1),
)
def test_rate_grows_with_bandwidth(b, factor, seed):
    # b·log2(1 + a/b) is increasing in b for a > 0: more band, never a lower rate.
    system = drop_devices(4, rng=seed, base_station=BaseStation(num_antennas=2))
    h = system.channels(seed)
    low = system.rates_bps(h, b)
    high = system.rates_bps(h, b * factor)
    assert np.all(high >= low * (1 - 1e-12))


@settings(max_examples=40, deadline=None)
@given(st.floats(1e-3, 10.0), st.floats(1e-3, 1e3), st.integers(0, 2**32 - 1))
def test_mean_snr_is_linear_in_power_and_noise(power, noise, seed):
    base = drop_devices(3, rng=seed, tx_power_w=1.0)
    scaled = drop_devices(3, rng=seed, tx_power_w=power, base_station=BaseStation(noise_w=noise))
    ref = base.mean_snr() * base.noise_w
    np.testing.assert_allclose(scaled.mean_snr(), ref * power / noise, rtol=1e-12)


# -- computation -------------------------------------------------------------------------------


def test_compute_time_and_energy_by_hand():
    f = np.array([5e8, 1e9, 2e9])
    kappa = np.array([1e-28, 2e-28, 5e-29])
    c = np.array([2e4, 3e4, 1e4])
    d = np.array([100, 250, 400])
    system = normalized_system(3, cpu_freq_hz=f, kappa=kappa, cycles_per_sample=c, num_samples=d)
    np.testing.assert_allclose(system.compute_time_s(), c * d / f, rtol=1e-15)
    np.testing.assert_allclose(system.compute_energy_j(), kappa * c * d * f**2, rtol=1e-15)
    np.testing.assert_array_equal(system.compute_time_s(), compute_time(c * d, f))
    np.testing.assert_array_equal(system.compute_energy_j(), compute_energy(c * d, f, kappa))
    # An explicit count (e.g. batch size x local steps) overrides the devices' data size.
    np.testing.assert_allclose(system.compute_time_s(32), c * 32 / f, rtol=1e-15)
    batched = system.compute_energy_j(np.array([[1.0], [2.0]]) * d)
    assert batched.shape == (2, 3)
    np.testing.assert_allclose(batched[1], 2 * kappa * c * d * f**2, rtol=1e-15)


def test_with_devices_fills_the_missing_fields():
    system = normalized_system(2, cpu_freq_hz=[1e9, 2e9])
    filled = system.with_devices(cycles_per_sample=1e6, num_samples=[10, 20])
    np.testing.assert_allclose(filled.compute_time_s(), [1e7 / 1e9, 2e7 / 2e9])
    assert system.devices.num_samples is None  # the original is unchanged


# -- objects -----------------------------------------------------------------------------------


def test_devices_are_read_only_copies():
    power = np.array([0.1, 0.2])
    dev = Devices(distance_m=[40.0, 50.0], tx_power_w=power, cpu_freq_hz=1e9, kappa=1e-28)
    power[0] = 5.0
    assert dev.tx_power_w[0] == 0.1
    with pytest.raises(ValueError, match="read-only"):
        dev.tx_power_w[0] = 1.0
    assert dev.num_samples is None and dev.cycles_per_sample is None


def test_equality_and_hash():
    a = drop_devices(5, rng=1)
    b = drop_devices(5, rng=1)
    c = drop_devices(5, rng=2)
    assert a == b and a != c
    assert a.devices == b.devices and a.devices != c.devices
    assert hash(a.base_station) == hash(BaseStation())
    assert {BaseStation(), BaseStation()} == {BaseStation()}
    with pytest.raises(TypeError):
        hash(a)


def test_repr_summarizes_the_cell():
    system = drop_devices(12, rng=5, cpu_freq_hz=(1e8, 1e9), num_samples=(10, 20))
    text = repr(system)
    d = system.devices.distance_m
    snr_db = 10 * np.log10(system.mean_snr())
    assert text.startswith("System: K = 12 devices, N = 1 antenna\n")
    assert f"distance:     {d.min():.1f} to {d.max():.1f} m" in text
    assert f"mean SNR:     {snr_db.min():.1f} to {snr_db.max():.1f} dB" in text
    assert "3gpp-macro path loss" in text and "shadowing 8 dB" in text
    assert "band 10 MHz" in text
    norm = repr(normalized_system(1))
    assert "normalized unit-gain channels" in norm and "noise_w 1 W" in norm
    assert "distance" not in norm
