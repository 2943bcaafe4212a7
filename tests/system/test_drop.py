"""drop_devices: area-uniform distances, device parameter ranges, one rng."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from edgeopt.system import (
    DEFAULT_CPU_FREQ_HZ,
    DEFAULT_KAPPA,
    DEFAULT_MIN_RADIUS_M,
    DEFAULT_RADIUS_M,
    DEFAULT_TX_POWER_W,
    BaseStation,
    drop_devices,
)

#: Significance level of the goodness-of-fit tests below: a correct law fails one with
#: probability 1 %; the seeds are fixed, so each test is deterministic.
ALPHA = 0.01


def test_defaults_are_the_3gpp_macro_cell():
    assert DEFAULT_RADIUS_M == pytest.approx(500.0 / np.sqrt(3.0))
    assert DEFAULT_MIN_RADIUS_M == 35.0
    assert 10 * np.log10(DEFAULT_TX_POWER_W / 1e-3) == pytest.approx(23.0)
    bs = BaseStation()
    assert (bs.bandwidth_hz, bs.noise_figure_db, bs.shadowing_sigma_db) == (10e6, 5.0, 8.0)
    assert bs.pathloss == "3gpp-macro" and bs.fading == "rayleigh"
    system = drop_devices(200, rng=0)
    d = system.devices.distance_m
    assert d.min() >= 35.0 and d.max() <= DEFAULT_RADIUS_M
    np.testing.assert_array_equal(system.devices.tx_power_w, DEFAULT_TX_POWER_W)
    np.testing.assert_array_equal(system.devices.cpu_freq_hz, DEFAULT_CPU_FREQ_HZ)
    np.testing.assert_array_equal(system.devices.kappa, DEFAULT_KAPPA)


@pytest.mark.parametrize(("r_min", "r_max"), [(35.0, 288.7), (1.0, 1000.0), (90.0, 100.0)])
def test_drop_is_area_uniform_ks(r_min, r_max):
    # r^2 ~ U(r_min^2, r_max^2) under an area-uniform drop: Kolmogorov-Smirnov at level ALPHA.
    bs = BaseStation(pathloss="log-distance", pathloss_params={"pl0_db": 30.0, "exponent": 3.0})
    d = drop_devices(
        4000, radius_m=r_max, min_radius_m=r_min, rng=20240611, base_station=bs
    ).devices.distance_m
    assert d.min() >= r_min and d.max() <= r_max
    result = stats.kstest(d**2, stats.uniform(loc=r_min**2, scale=r_max**2 - r_min**2).cdf)
    assert result.pvalue > ALPHA


def test_ks_check_rejects_a_radius_uniform_drop():
    # The same test has the power to see the classic mistake r ~ U(r_min, r_max).
    rng = np.random.default_rng(20240611)
    wrong = rng.uniform(35.0, 288.7, size=4000)
    result = stats.kstest(wrong**2, stats.uniform(loc=35.0**2, scale=288.7**2 - 35.0**2).cdf)
    assert result.pvalue < 1e-6


def test_ranges_uniform_and_log_uniform():
    system = drop_devices(
        4000,
        rng=7,
        tx_power_w=(0.01, 0.2),
        cpu_freq_hz=(1e8, 1e10),
        kappa=(1e-28, 3e-28),
        cycles_per_sample=(1e4, 5e4),
        num_samples=(100, 104),
    )
    dev = system.devices
    for values, lo, hi in [
        (dev.tx_power_w, 0.01, 0.2),
        (dev.kappa, 1e-28, 3e-28),
        (dev.cycles_per_sample, 1e4, 5e4),
    ]:
        assert values.min() >= lo and values.max() <= hi
        assert stats.kstest(values, stats.uniform(loc=lo, scale=hi - lo).cdf).pvalue > ALPHA
    # CPU frequency: log-uniform over two decades, i.e. log10 f ~ U(8, 10).
    log_f = np.log10(dev.cpu_freq_hz)
    assert stats.kstest(log_f, stats.uniform(loc=8.0, scale=2.0).cdf).pvalue > ALPHA
    assert stats.kstest(dev.cpu_freq_hz, stats.uniform(loc=1e8, scale=1e10 - 1e8).cdf).pvalue < 1e-6
    # Sample counts: integers uniform on {100, ..., 104} (chi-square at level ALPHA).
    assert dev.num_samples.dtype == np.int64
    counts = np.bincount(dev.num_samples - 100, minlength=5)
    assert counts.size == 5
    assert stats.chisquare(counts).pvalue > ALPHA


def test_scalars_arrays_and_tuples():
    system = drop_devices(
        2,
        rng=0,
        tx_power_w=np.array([0.1, 0.2]),  # an array: the two values
        cpu_freq_hz=(1e9, 2e9),  # a tuple: always a range, even for K = 2
        kappa=2e-28,
        num_samples=[30, 40],
    )
    dev = system.devices
    np.testing.assert_array_equal(dev.tx_power_w, [0.1, 0.2])
    np.testing.assert_array_equal(dev.kappa, [2e-28, 2e-28])
    np.testing.assert_array_equal(dev.num_samples, [30, 40])
    assert not np.array_equal(dev.cpu_freq_hz, [1e9, 2e9])
    assert np.all((dev.cpu_freq_hz >= 1e9) & (dev.cpu_freq_hz <= 2e9))


def test_one_rng_in_a_documented_order():
    # distances first, then the ranges in the order tx_power_w, cpu_freq_hz, kappa, ...
    a = drop_devices(6, rng=np.random.default_rng(3), cpu_freq_hz=(1e8, 1e9), kappa=(1e-28, 2e-28))
    gen = np.random.default_rng(3)
    d = np.sqrt(gen.uniform(DEFAULT_MIN_RADIUS_M**2, DEFAULT_RADIUS_M**2, size=6))
    f = np.exp(gen.uniform(np.log(1e8), np.log(1e9), size=6))
    kappa = gen.uniform(1e-28, 2e-28, size=6)
    np.testing.assert_array_equal(a.devices.distance_m, d)
    np.testing.assert_array_equal(a.devices.cpu_freq_hz, f)
    np.testing.assert_array_equal(a.devices.kappa, kappa)
    # A scalar consumes nothing: the distances do not depend on the other parameters.
    b = drop_devices(6, rng=3, tx_power_w=0.05)
    np.testing.assert_array_equal(b.devices.distance_m, d)
    assert drop_devices(6, rng=3) == drop_devices(6, rng=3)


def test_shared_generator_advances():
    gen = np.random.default_rng(0)
    first = drop_devices(3, rng=gen)
    second = drop_devices(3, rng=gen)
    assert not np.array_equal(first.devices.distance_m, second.devices.distance_m)


def test_drop_with_own_base_station():
    bs = BaseStation(num_antennas=8, pathloss="free-space", pathloss_params={"carrier_hz": 3.5e9})
    system = drop_devices(4, rng=1, base_station=bs, radius_m=100.0, min_radius_m=10.0)
    assert system.base_station is bs
    assert system.channels(0).shape == (4, 8)


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 60),
    st.floats(1.0, 500.0),
    st.floats(1.001, 20.0),
    st.integers(0, 2**32 - 1),
)
def test_drop_stays_in_the_annulus(k, r_min, ratio, seed):
    d = drop_devices(
        k,
        radius_m=r_min * ratio,
        min_radius_m=r_min,
        rng=seed,
        base_station=BaseStation(
            pathloss="log-distance", pathloss_params={"pl0_db": 30.0, "exponent": 3.0}
        ),
    ).devices.distance_m
    assert d.shape == (k,)
    assert np.all(d >= r_min) and np.all(d <= r_min * ratio)


def test_devices_closer_than_the_model_range_warn():
    from edgeopt.errors import ModelRangeWarning

    with pytest.warns(ModelRangeWarning, match="distance_m"):
        drop_devices(50, min_radius_m=5.0, rng=0)
