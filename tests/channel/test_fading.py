"""Fading, shadowing and uplink channels: moments (tolerances from standard errors), shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeopt.channel import (
    lognormal_shadowing_db,
    pathloss_db,
    rayleigh,
    rician,
    uplink_channels,
)

Z = 5.0  # tolerance in standard errors


def assert_mean_close(samples: np.ndarray, expected: float) -> None:
    """Sample mean within Z standard errors of ``expected`` (SE from the sample itself)."""
    x = np.asarray(samples, dtype=float).ravel()
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert abs(x.mean() - expected) <= Z * se, (x.mean(), expected, se)


def test_rayleigh_moments() -> None:
    h = rayleigh(400_000, np.random.default_rng(1))
    assert h.dtype == np.complex128
    power = np.abs(h) ** 2
    assert_mean_close(power, 1.0)  # E|h|^2 = 1
    assert_mean_close(power**2, 2.0)  # E|h|^4 = 2 for CN(0, 1)
    assert_mean_close(h.real, 0.0)
    assert_mean_close(h.imag, 0.0)
    assert_mean_close(h.real * h.imag, 0.0)  # circular: E[h^2] = 0
    assert_mean_close(h.real**2 - h.imag**2, 0.0)
    # |h|^2 ~ Exp(1): P[|h|^2 > 1] = e^-1
    assert_mean_close((power > 1.0).astype(float), np.exp(-1.0))


def test_rayleigh_shapes() -> None:
    assert rayleigh((2, 3, 4), 0).shape == (2, 3, 4)
    assert rayleigh(5, 0).shape == (5,)
    assert rayleigh((), 0).shape == ()
    assert rayleigh((0, 3), 0).shape == (0, 3)
    assert rayleigh(np.array([2, 2]), 0).shape == (2, 2)


@pytest.mark.parametrize("k_db", [-10.0, 0.0, 6.0, 13.0])
def test_rician_unit_power_and_k_factor_from_moments(k_db: float) -> None:
    k_lin = 10 ** (k_db / 10)
    rng = np.random.default_rng(7)
    batches = 40
    h = rician((batches, 50_000), k_db, rng)
    power = np.abs(h) ** 2
    assert_mean_close(power, 1.0)
    # fourth moment of Rician fading with unit power: (2 + 4K + K^2) / (K + 1)^2
    assert_mean_close(power**2, (2 + 4 * k_lin + k_lin**2) / (k_lin + 1) ** 2)
    # K-factor by the moment method (Greenstein et al. 1999), per batch; SE from the spread
    m2 = power.mean(axis=1)
    var = power.var(axis=1)
    root = np.sqrt(np.clip(1 - var / m2**2, 0.0, None))
    k_hat = root / (1 - root)
    se = k_hat.std(ddof=1) / np.sqrt(batches)
    assert abs(k_hat.mean() - k_lin) <= Z * se, (k_hat.mean(), k_lin, se)
    # random LOS phase: zero mean
    assert_mean_close(h.real, 0.0)
    assert_mean_close(h.imag, 0.0)


def test_rician_k_factor_estimator_detects_a_wrong_k() -> None:
    """The moment check above has power: a 3 dB error in K is far outside its tolerance."""
    h = rician((40, 50_000), 9.0, np.random.default_rng(7))
    power = np.abs(h) ** 2
    root = np.sqrt(1 - power.var(axis=1) / power.mean(axis=1) ** 2)
    k_hat = root / (1 - root)
    se = k_hat.std(ddof=1) / np.sqrt(k_hat.size)
    assert abs(k_hat.mean() - 10 ** (6.0 / 10)) > Z * se


def test_lognormal_shadowing_moments() -> None:
    s = lognormal_shadowing_db(300_000, 8.0, np.random.default_rng(3))
    assert s.shape == (300_000,)
    assert_mean_close(s, 0.0)
    assert_mean_close(s**2, 64.0)
    assert np.all(lognormal_shadowing_db((4, 5), 0.0, 0) == 0.0)


def test_determinism_same_seed_same_output() -> None:
    for make in (
        lambda r: rayleigh((3, 4), r),
        lambda r: rician((3, 4), 5.0, r),
        lambda r: lognormal_shadowing_db((3, 4), 6.0, r),
        lambda r: uplink_channels([50.0, 300.0], 4, rng=r, shadowing_sigma_db=8.0, batch=3),
    ):
        a = make(np.random.default_rng(42))
        b = make(np.random.default_rng(42))
        c = make(42)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        assert not np.array_equal(a, make(np.random.default_rng(43)))


def test_uplink_shapes() -> None:
    d = [50.0, 100.0, 400.0]
    assert uplink_channels(d, 4, rng=0).shape == (3, 4)
    assert uplink_channels(d, 1, rng=0, batch=5).shape == (5, 3, 1)
    d2 = np.full((2, 3), 100.0)
    assert uplink_channels(d2, 4, rng=0).shape == (2, 3, 4)
    assert uplink_channels(d2, 4, rng=0, batch=2).shape == (2, 3, 4)
    h = uplink_channels(d, 4, rng=0, fading="rician", k_factor_db=3.0)
    assert h.dtype == np.complex128 and h.shape == (3, 4)


def test_uplink_no_fading_is_exactly_the_path_gain() -> None:
    d = np.array([35.0, 120.0, 1000.0])
    h = uplink_channels(d, 3, rng=0, fading="none")
    np.testing.assert_allclose(
        np.abs(h) ** 2, np.repeat(10 ** (-pathloss_db(d) / 10)[:, None], 3, 1)
    )
    h = uplink_channels(d, 2, rng=0, fading="none", pathloss="free-space", carrier_hz=3.5e9)
    want = 10 ** (-pathloss_db(d, "free-space", carrier_hz=3.5e9) / 10)
    np.testing.assert_allclose(np.abs(h[:, 0]) ** 2, want)


@pytest.mark.parametrize(("fading", "kwargs"), [("rayleigh", {}), ("rician", {"k_factor_db": 5.0})])
@pytest.mark.parametrize("sigma_db", [0.0, 6.0])
def test_uplink_large_scale_gain_in_expectation(fading: str, kwargs: dict, sigma_db: float) -> None:
    d = np.array([40.0, 150.0, 600.0])
    batch = 40_000
    h = uplink_channels(
        d,
        4,
        rng=np.random.default_rng(11),
        fading=fading,
        shadowing_sigma_db=sigma_db,
        batch=batch,
        **kwargs,
    )
    beta = 10 ** (-pathloss_db(d) / 10)
    # E[10^(S/10)] for S ~ N(0, sigma^2): exp((sigma ln10 / 10)^2 / 2)
    shadow_mean = np.exp((sigma_db * np.log(10) / 10) ** 2 / 2)
    # normalize per device; average the N antennas of one realization (they share S)
    per_draw = (np.abs(h) ** 2).mean(axis=2) / beta
    for k in range(d.size):
        assert_mean_close(per_draw[:, k], shadow_mean)


def test_uplink_shadowing_is_per_device_and_batch_shared_across_antennas() -> None:
    h = uplink_channels([100.0, 100.0], 64, rng=5, shadowing_sigma_db=10.0, fading="none", batch=3)
    gain_db = 10 * np.log10(np.abs(h) ** 2)
    # equal across antennas, different across devices and batch elements
    assert np.allclose(gain_db, gain_db[..., :1])
    assert len(np.unique(np.round(gain_db[..., 0], 9))) == 6


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(min_value=35.0, max_value=5000.0), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=0, max_value=2**32),
)
def test_uplink_power_scales_with_path_gain(d: list[float], n: int, seed: int) -> None:
    """Invariant: h / sqrt(path gain) does not depend on the distances (same seed)."""
    da = np.asarray(d)
    h = uplink_channels(da, n, rng=seed)
    ref = uplink_channels(np.full_like(da, 1000.0), n, rng=seed)
    scale = np.sqrt(10 ** (-(pathloss_db(da) - 128.1) / 10))[:, None]
    np.testing.assert_allclose(h, ref * scale, rtol=1e-10)
