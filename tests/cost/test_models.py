"""Tests of edgeopt.cost: closed forms against direct computation and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeopt.cost import (
    compute_energy,
    compute_time,
    round_latency,
    total_latency,
    transmit_energy,
)
from edgeopt.errors import InvalidInputError

pos = st.floats(min_value=1e-3, max_value=1e9)
nonneg = st.floats(min_value=0.0, max_value=1e9)


@given(nonneg, pos, st.integers(0, 10_000), nonneg)
def test_total_latency_is_rounds_times_round_time(payload, rate, rounds, comp):
    # N rounds back to back equal N times one round (Eq. 1).
    one = float(total_latency(payload, rate, 1, comp))
    assert float(total_latency(payload, rate, rounds, comp)) == pytest.approx(
        rounds * one, rel=1e-12, abs=1e-300
    )
    assert one == pytest.approx(payload / rate + comp, rel=1e-12)


def test_total_latency_broadcasts():
    rates = np.array([1e6, 2e6, 4e6])[:, None]
    rounds = np.array([10, 20])
    out = total_latency(1e6, rates, rounds, 0.5)
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out[1, 1], (0.5 + 0.5) * 20)


def test_round_latency_is_slowest_device():
    rng = np.random.default_rng(0)
    pay = rng.uniform(1e5, 1e6, size=(4, 7))
    rate = rng.uniform(1e6, 1e7, size=(4, 7))
    comp = rng.uniform(0, 0.1, size=7)
    out = round_latency(pay, rate, comp)
    assert out.shape == (4,)
    for b in range(4):
        expected = max(pay[b, i] / rate[b, i] + comp[i] for i in range(7))
        assert out[b] == pytest.approx(expected, rel=1e-14)


def test_compute_models():
    assert float(compute_time(3e9, 1.5e9)) == pytest.approx(2.0)
    # kappa C f^2 equals power kappa f^3 times time C/f.
    c, f, k = 5e8, 2e9, 1e-28
    assert float(compute_energy(c, f, k)) == pytest.approx(k * f**3 * c / f)
    assert float(transmit_energy(0.1, 2e6, 1e6)) == pytest.approx(0.2)
    np.testing.assert_allclose(compute_time([1e9, 2e9], 1e9), [1.0, 2.0])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: total_latency(-1.0, 1.0, 1, 0.0), "payload_bits"),
        (lambda: total_latency(1.0, 0.0, 1, 0.0), "rate_bps"),
        (lambda: total_latency(1.0, 1.0, -2, 0.0), "rounds"),
        (lambda: total_latency(1.0, 1.0, 1, float("nan")), "compute_s"),
        (lambda: total_latency([1.0, 2.0], [1.0, 2.0, 3.0], 1, 0.0), "payload_bits"),
        (lambda: round_latency(1.0, 1.0, 0.0), "payload_bits"),
        (lambda: round_latency([1.0], [-1.0], [0.0]), "rate_bps"),
        (lambda: round_latency([1.0], [1.0], [float("inf")]), "compute_s"),
        (lambda: compute_time(1.0, 0.0), "freq_hz"),
        (lambda: compute_time(-1.0, 1.0), "cycles"),
        (lambda: compute_energy(1.0, 1.0, -1e-28), "kappa"),
        (lambda: compute_energy(1.0, "fast", 1e-28), "freq_hz"),
        (lambda: transmit_energy(-0.1, 1.0, 1.0), "power_w"),
        (lambda: transmit_energy(0.1, 1.0, np.nan), "rate_bps"),
    ],
)
def test_bad_input(call, name):
    with pytest.raises(InvalidInputError, match=name):
        call()


def test_zero_rounds_take_no_time_even_with_huge_air_time():
    assert float(total_latency(1.0, 5e-324, 0, 1.0)) == 0.0
    np.testing.assert_array_equal(total_latency(1e300, 1e-10, [0, 0], 0.0), [0.0, 0.0])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: total_latency(1e300, 1e-10, 1, 0.0), "rate_bps"),
        (lambda: round_latency([1e300], [1e-10], [0.0]), "rate_bps"),
        (lambda: compute_time(1e300, 1e-10), "freq_hz"),
        (lambda: compute_energy(1e300, 1e300, 1.0), "kappa"),
        (lambda: transmit_energy(1e300, 1e300, 1e-10), "power_w"),
    ],
)
def test_overflow_is_an_error_not_inf_or_nan(call, name):
    with pytest.raises(InvalidInputError, match=name):
        call()
