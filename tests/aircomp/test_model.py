"""The AirComp MSE model: Monte Carlo of the estimator, closed forms, invariants, input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from edgeopt.aircomp import TransmitScalars, aircomp_mse, transmit_scalars
from edgeopt.errors import InvalidInputError


def cn(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


@pytest.mark.parametrize("seed", [0, 1])
def test_mse_matches_monte_carlo_of_the_estimator(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n, power, noise = 4, 3, 2.0, 0.5
    h = cn(rng, (k, n))
    m = cn(rng, (n,))
    w = rng.uniform(0.5, 2.0, size=k)
    b, eta = transmit_scalars(m, h, power_w=power, weights=w)
    assert np.all(np.abs(b) ** 2 <= power * (1 + 1e-12))
    t = 200_000
    s = cn(rng, (t, k))  # unit-variance symbols
    noise_samples = np.sqrt(noise) * cn(rng, (t, n))
    y = (s * b) @ h + noise_samples  # y = sum_i h_i b_i s_i + n, one row per sample
    g_hat = (y @ np.conj(m)) / np.sqrt(eta)  # m^H y / sqrt(eta)
    err2 = np.abs(g_hat - s @ w) ** 2
    mse = aircomp_mse(m, h, power_w=power, noise_w=noise, weights=w)
    se = err2.std(ddof=1) / np.sqrt(t)
    assert abs(err2.mean() - mse) <= 5 * se


def test_transmit_scalars_align_every_device() -> None:
    rng = np.random.default_rng(3)
    h, m = cn(rng, (5, 4)), cn(rng, (4,))
    w = np.array([1.0, 2.0, 0.5, 1.5, 1.0])
    out = transmit_scalars(m, h, power_w=3.0, weights=w)
    assert isinstance(out, TransmitScalars)
    b, eta = out.scalars, out.eta
    assert tuple(out) == (b, eta) and b.dtype == np.complex128 and isinstance(eta, float)
    np.testing.assert_allclose((h @ np.conj(m)) * b, np.sqrt(eta) * w, rtol=1e-12)
    assert np.isclose(np.max(np.abs(b) ** 2), 3.0)
    # MSE = sigma^2 ||m||^2 / eta
    mse = aircomp_mse(m, h, power_w=3.0, noise_w=0.7, weights=w)
    assert np.isclose(mse, 0.7 * np.linalg.norm(m) ** 2 / eta)


@pytest.mark.parametrize("seed", range(5))
def test_single_device_matched_filter_is_optimal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = cn(rng, (1, 6))
    power, noise, w = 1.5, 0.2, np.array([1.7])
    best = aircomp_mse(h[0], h, power_w=power, noise_w=noise, weights=w)
    expected = noise * w[0] ** 2 / (power * np.linalg.norm(h) ** 2)
    assert np.isclose(best, expected, rtol=1e-12)
    for m in cn(rng, (200, 6)):
        assert aircomp_mse(m, h, power_w=power, noise_w=noise, weights=w) >= best * (1 - 1e-12)


def test_orthogonal_beamformer_gives_inf_not_nan() -> None:
    h = np.array([[1 + 0j, 0j], [0j, 1 + 0j]])
    m = np.array([1 + 0j, 0j])
    assert aircomp_mse(m, h, power_w=1.0, noise_w=1.0) == np.inf
    b, eta = transmit_scalars(m, h, power_w=1.0)
    assert eta == 0.0 and not np.any(np.isnan(b))


def test_real_channels_and_beamformers_are_complex_ones() -> None:
    rng = np.random.default_rng(7)
    h, m = rng.standard_normal((4, 3)), rng.standard_normal(3)
    w = rng.uniform(0.5, 2.0, 4)
    real = aircomp_mse(m, h, power_w=1.5, noise_w=0.3, weights=w)
    cplx = aircomp_mse(m + 0j, h + 0j, power_w=1.5, noise_w=0.3, weights=w)
    assert real == cplx
    a, b = (
        transmit_scalars(m, h, power_w=1.5, weights=w),
        transmit_scalars(m + 0j, h + 0j, power_w=1.5, weights=w),
    )
    np.testing.assert_array_equal(a.scalars, b.scalars)
    assert a.eta == b.eta


def test_empty_device_set_has_zero_mse() -> None:
    assert aircomp_mse(np.ones(3, complex), np.zeros((0, 3), complex), power_w=1, noise_w=1) == 0.0


@settings(max_examples=40, deadline=None)
@given(
    seed=hst.integers(0, 2**32 - 1),
    scale_re=hst.floats(-10, 10).filter(lambda v: abs(v) > 1e-3),
    scale_im=hst.floats(-10, 10),
)
def test_mse_invariant_to_beamformer_scale_and_device_order(
    seed: int, scale_re: float, scale_im: float
) -> None:
    rng = np.random.default_rng(seed)
    h, m = cn(rng, (4, 3)), cn(rng, (3,))
    w = rng.uniform(0.5, 2, 4)
    base = aircomp_mse(m, h, power_w=1.0, noise_w=0.3, weights=w)
    scaled = aircomp_mse((scale_re + 1j * scale_im) * m, h, power_w=1.0, noise_w=0.3, weights=w)
    assert np.isclose(base, scaled, rtol=1e-9)
    perm = rng.permutation(4)
    permuted = aircomp_mse(m, h[perm], power_w=1.0, noise_w=0.3, weights=w[perm])
    assert np.isclose(base, permuted, rtol=1e-12)
    # MSE scales with noise / power
    assert np.isclose(aircomp_mse(m, h, power_w=2.0, noise_w=0.3, weights=w), base / 2)


GOOD_H = np.ones((2, 3), dtype=complex)
GOOD_M = np.ones(3, dtype=complex)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"channels": np.ones((2, 3), dtype=bool)}, "channels"),  # not numbers
        ({"channels": np.ones(3, dtype=complex)}, "channels"),  # wrong ndim
        ({"channels": np.full((2, 3), np.nan + 0j)}, "channels"),
        ({"beamformer": np.ones(4, dtype=complex)}, "beamformer"),  # wrong length
        ({"beamformer": np.zeros(3, dtype=complex)}, "beamformer"),
        ({"beamformer": np.array(["1", "1", "1"])}, "beamformer"),  # text
        ({"power_w": 0.0}, "power_w"),
        ({"power_w": np.nan}, "power_w"),
        ({"noise_w": -1.0}, "noise_w"),
        ({"weights": np.ones(3)}, "weights"),  # mismatched length
        ({"weights": np.array([1.0, 0.0])}, "weights"),
        ({"weights": np.array([1.0, np.inf])}, "weights"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict, name: str) -> None:
    args = {"beamformer": GOOD_M, "channels": GOOD_H, "power_w": 1.0, "noise_w": 1.0}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=name):
        aircomp_mse(args.pop("beamformer"), args.pop("channels"), **args)
    if name != "noise_w":
        args2 = {"beamformer": GOOD_M, "channels": GOOD_H, "power_w": 1.0}
        args2.update({k: v for k, v in kwargs.items() if k != "noise_w"})
        with pytest.raises(InvalidInputError, match=name):
            transmit_scalars(args2.pop("beamformer"), args2.pop("channels"), **args2)
