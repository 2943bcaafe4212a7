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
        ({"channels": np.ones(4)}, "channels"),
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
    with pytest.raises(InvalidInputError, match="threshold"):
        baa_truncation_ratio(-0.5)
