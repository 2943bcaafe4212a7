"""Truncated channel inversion (BAA): Rayleigh closed forms against Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from edgeopt.aircomp import (
    baa_power_scaling,
    baa_truncation_ratio,
    truncated_channel_inversion,
)
from edgeopt.errors import InvalidInputError


def cn(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


@pytest.mark.parametrize("threshold", [0.05, 0.3, 1.0, 2.5])
def test_closed_forms_match_monte_carlo(threshold: float) -> None:
    rng = np.random.default_rng(int(threshold * 100))
    h = cn(rng, (400, 500))  # 400 batches of K = 500 devices
    power, noise = 2.0, 0.1
    res = truncated_channel_inversion(h, threshold=threshold, avg_power_w=power, noise_w=noise)
    n = h.size
    # truncation ratio: fraction of silent devices
    silent = ~res.participating
    p = baa_truncation_ratio(threshold)
    assert abs(silent.mean() - p) <= 5 * np.sqrt(p * (1 - p) / n)
    # average transmit power equals the budget
    tx = np.abs(res.coefficients) ** 2
    assert abs(tx.mean() - power) <= 5 * tx.std(ddof=1) / np.sqrt(n)
    # every participating signal arrives with power rho0; receive SNR = rho0 / noise
    rx = np.abs(res.coefficients * h) ** 2
    np.testing.assert_allclose(rx[res.participating], res.power_scaling_w, rtol=1e-12)
    assert np.all(rx[silent] == 0)
    assert np.isclose(res.receive_snr, res.power_scaling_w / noise)
    assert res.power_scaling_w == baa_power_scaling(threshold, power)


@pytest.mark.parametrize("threshold", [0.01, 0.5, 3.0])
def test_power_scaling_is_p_over_the_exponential_integral(threshold: float) -> None:
    integral, _ = integrate.quad(lambda x: np.exp(-x) / x, threshold, np.inf)
    assert np.isclose(baa_power_scaling(threshold, 1.5), 1.5 / integral, rtol=1e-8)
    assert np.isclose(baa_truncation_ratio(threshold), 1 - np.exp(-threshold))


def test_ratio_and_snr_are_monotone_in_the_threshold() -> None:
    g = np.linspace(0.01, 5, 50)
    ratio = [baa_truncation_ratio(x) for x in g]
    rho = [baa_power_scaling(x, 1.0) for x in g]
    assert np.all(np.diff(ratio) > 0) and np.all(np.diff(rho) > 0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"channels": np.ones(4, dtype=bool)}, "channels"),
        ({"channels": np.array(["1", "2"])}, "channels"),
        ({"channels": np.array([np.nan + 1j])}, "channels"),
        ({"channels": np.zeros(0, dtype=complex)}, "channels"),
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": -1.0}, "threshold"),
        ({"avg_power_w": 0.0}, "avg_power_w"),
        ({"noise_w": np.nan}, "noise_w"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict, name: str) -> None:
    args = {"channels": np.ones(3, dtype=complex), "threshold": 1.0, "avg_power_w": 1.0}
    args["noise_w"] = 1.0
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=name):
        truncated_channel_inversion(args.pop("channels"), **args)


def test_real_channels_are_complex_channels() -> None:
    # a real channel is a valid complex one: the same result as with zero imaginary parts
    h = np.array([2.0, -0.2, 1.5])
    kw = {"threshold": 1.0, "avg_power_w": 1.0, "noise_w": 0.5}
    real = truncated_channel_inversion(h, **kw)
    cplx = truncated_channel_inversion(h.astype(complex), **kw)
    np.testing.assert_array_equal(real.participating, cplx.participating)
    np.testing.assert_array_equal(real.coefficients, cplx.coefficients)
    assert real.coefficients.dtype == np.complex128


@pytest.mark.parametrize(
    ("threshold", "power", "name"),
    [
        (0.0, 1.0, "threshold"),
        (-0.5, 1.0, "threshold"),
        (np.nan, 1.0, "threshold"),
        (np.inf, 1.0, "threshold"),
        ("1.0", 1.0, "threshold"),
        (1.0, 0.0, "avg_power_w"),
        (1.0, -2.0, "avg_power_w"),
        (1.0, np.inf, "avg_power_w"),
        (1.0, np.nan, "avg_power_w"),
        (800.0, 1.0, "threshold"),  # E1(800) underflows: rho0 is not representable
        (2.0, 1e308, "avg_power_w"),  # finite inputs, rho0 = P / E1(2) overflows
    ],
)
def test_power_scaling_bad_input_names_the_argument(threshold, power, name) -> None:
    with pytest.raises(InvalidInputError, match=name):
        baa_power_scaling(threshold, power)


@pytest.mark.parametrize("threshold", [-0.5, np.nan, np.inf, None])
def test_truncation_ratio_bad_input_names_the_argument(threshold) -> None:
    with pytest.raises(InvalidInputError, match="threshold"):
        baa_truncation_ratio(threshold)


@pytest.mark.parametrize("threshold", [650.0, 700.0, 702.5])
def test_large_threshold_is_accurate_and_finite(threshold: float) -> None:
    # independent reference: e^g E1(g) = int_0^inf e^{-t} / (g + t) dt, so
    # log rho0 = log P + g - log(e^g E1(g)); exp1 itself underflows near g = 740
    power = 0.7
    scaled, _ = integrate.quad(lambda t: np.exp(-t) / (threshold + t), 0, np.inf, epsabs=0)
    rho = baa_power_scaling(threshold, power)
    assert np.isfinite(rho)
    assert abs(np.log(rho) - (np.log(power) + threshold - np.log(scaled))) <= 1e-10
    # a device above the threshold still gets a finite coefficient with |p h|^2 = rho0
    h = np.array([np.sqrt(threshold) * 1.5 * np.exp(0.3j), 1.0 + 0j])
    res = truncated_channel_inversion(h, threshold=threshold, avg_power_w=power, noise_w=2.0)
    assert res.participating.tolist() == [True, False]
    assert np.all(np.isfinite(res.coefficients))
    assert np.isclose(np.abs(res.coefficients[0] * h[0]) ** 2, rho, rtol=1e-12)
    assert np.isclose(res.receive_snr, rho / 2.0, rtol=1e-15)


def test_power_scaling_is_continuous_where_the_scaled_form_takes_over() -> None:
    # d log rho0 / dg = e^-g / (g E1(g)) = 1 + 1/g + O(g^-2): the two forms must agree
    d = 1e-6
    below, at = baa_power_scaling(600.0 - d, 1.0), baa_power_scaling(600.0, 1.0)
    assert np.isclose(at / below, np.exp(d * (1 + 1 / 600)), rtol=1e-11)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"threshold": 800.0}, "threshold"),  # the review's case: used to give inf + nan j
        ({"threshold": 705.0}, "threshold"),
        ({"threshold": 2.0, "noise_w": 1e-320}, "noise_w"),  # receive SNR overflows
    ],
)
def test_overflowing_inversion_raises_instead_of_returning_inf_or_nan(kwargs, name) -> None:
    args = {"threshold": 1.0, "avg_power_w": 1.0, "noise_w": 1.0}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=name):
        truncated_channel_inversion(np.array([30.0 + 0j, 0.1j]), **args)
