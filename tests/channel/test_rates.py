"""Rates: Shannon, closed-form ergodic capacity and outage against numerical integration, and
Monte Carlo against the closed forms with tolerances from the standard error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from edgeopt.channel import (
    ergodic_rate,
    outage_probability,
    rayleigh_ergodic_capacity,
    shannon_rate,
)

Z = 5.0
ANTENNAS = [1, 2, 4, 8]
SNR_DB = np.arange(-10.0, 30.0 + 1e-9, 5.0)
SNR = 10 ** (SNR_DB / 10)


def quad_capacity(snr: float, n: int) -> float:
    """E[log2(1 + snr X)], X ~ Gamma(n, 1), by adaptive quadrature (split at the bulk)."""

    def f(x: float) -> float:
        return float(np.log2(1 + snr * x) * stats.gamma.pdf(x, n))

    pieces = [(0.0, n), (n, 10.0 * n + 20.0), (10.0 * n + 20.0, np.inf)]
    return sum(integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=200)[0] for a, b in pieces)


def quad_rate_central_moment(snr: float, n: int, mean: float, k: int) -> float:
    """E[(log2(1 + snr X) - mean)^k] for X ~ Gamma(n, 1), by quadrature."""

    def f(x: float) -> float:
        return float((np.log2(1 + snr * x) - mean) ** k * stats.gamma.pdf(x, n))

    pieces = [(0.0, n), (n, 10.0 * n + 20.0), (10.0 * n + 20.0, np.inf)]
    return sum(integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=200)[0] for a, b in pieces)


# ---------------------------------------------------------------- Shannon


def test_shannon_rate_values_and_broadcasting() -> None:
    assert float(shannon_rate(1e6, 1.0)) == pytest.approx(1e6)
    assert float(shannon_rate(1e6, 0.0)) == 0.0
    assert float(shannon_rate(0.0, 5.0)) == 0.0
    got = shannon_rate(np.array([[1e6], [2e6]]), np.array([1.0, 3.0, 7.0]))
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got, np.array([[1e6], [2e6]]) * np.log2(1 + np.array([1, 3, 7])))


@given(
    st.floats(min_value=0.0, max_value=1e9),
    st.floats(min_value=0.0, max_value=1e6),
    st.floats(min_value=0.0, max_value=1e6),
)
def test_shannon_rate_is_monotone_in_snr(bw: float, s1: float, s2: float) -> None:
    lo, hi = sorted((s1, s2))
    assert shannon_rate(bw, lo) <= shannon_rate(bw, hi)


# ---------------------------------------------------------------- closed forms


def test_siso_closed_form_matches_e1_formula() -> None:
    from scipy.special import exp1

    rho = np.array([0.1, 1.0, 10.0, 1000.0])
    want = np.exp(1 / rho) * exp1(1 / rho) / np.log(2)
    np.testing.assert_allclose(rayleigh_ergodic_capacity(rho), want, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 8, 16, 33])
@pytest.mark.parametrize("snr_db", [-40.0, -20.0, -10.0, -0.5, 0.0, 0.5, 10.0, 30.0, 50.0])
def test_mrc_closed_form_matches_numerical_integration(n: int, snr_db: float) -> None:
    snr = 10 ** (snr_db / 10)
    assert float(rayleigh_ergodic_capacity(snr, n)) == pytest.approx(
        quad_capacity(snr, n), rel=1e-9
    )


def test_closed_form_low_snr_is_finite_and_tends_to_n_snr_log2e() -> None:
    snr = np.array([1e-3, 1e-6, 1e-10, 1e-13, 1e-14, 2e-14, 1e-20, 1e-300, 0.0])
    for n in (1, 4, 8):
        c = rayleigh_ergodic_capacity(snr, n)
        assert np.all(np.isfinite(c))
        # second-order Taylor expansion: (snr n - snr^2 n (n + 1) / 2) / ln 2, error O(snr^3)
        taylor = (snr * n - snr**2 * n * (n + 1) / 2) / np.log(2)
        np.testing.assert_allclose(c, taylor, rtol=3 * (1e-3 * n) ** 2 + 1e-12, atol=0)
        # continuity across the switch to the expansion at 1e-14
        assert c[4] / c[5] == pytest.approx(0.5, rel=1e-12)


def test_closed_form_high_snr_asymptote() -> None:
    # log2(rho) + E[log2 X] = log2(rho) + psi(N) / ln 2 as rho -> inf
    from scipy.special import digamma

    for n in ANTENNAS:
        c = float(rayleigh_ergodic_capacity(1e9, n))
        assert c == pytest.approx(np.log2(1e9) + digamma(n) / np.log(2), abs=1e-6)


def test_capacity_increases_with_antennas_and_snr() -> None:
    snr = np.logspace(-3, 4, 50)
    caps = np.array([rayleigh_ergodic_capacity(snr, n) for n in range(1, 9)])
    assert np.all(np.diff(caps, axis=0) > 0)
    assert np.all(np.diff(caps, axis=1) > 0)
    assert rayleigh_ergodic_capacity(snr.reshape(5, 10), 2).shape == (5, 10)


@pytest.mark.parametrize("n", ANTENNAS)
def test_outage_closed_form_matches_integral_of_gamma_density(n: int) -> None:
    for rate in (0.5, 1.0, 4.0):
        for snr in SNR:
            x = (2**rate - 1) / snr
            want = integrate.quad(lambda t: stats.gamma.pdf(t, n), 0, x, epsrel=1e-12)[0]
            got = float(outage_probability(rate, snr, n))
            assert got == pytest.approx(want, rel=1e-8, abs=1e-300)


def test_outage_siso_formula_and_edge_conventions() -> None:
    rate, snr = 2.0, 20.0
    assert float(outage_probability(rate, snr)) == pytest.approx(1 - np.exp(-(2**rate - 1) / snr))
    assert float(outage_probability(0.0, 5.0)) == 0.0
    assert float(outage_probability(0.0, 0.0)) == 0.0
    assert float(outage_probability(1.0, 0.0, 4)) == 1.0
    assert float(outage_probability(5000.0, 1.0)) == 1.0  # 2^R overflows: certain outage
    got = outage_probability(np.array([[0.5], [2.0]]), np.array([1.0, 10.0, 100.0]), 2)
    assert got.shape == (2, 3)
    assert np.all(np.diff(got, axis=1) < 0) and np.all(np.diff(got, axis=0) > 0)


# ---------------------------------------------------------------- Monte Carlo vs closed form


@pytest.mark.parametrize("n", ANTENNAS)
def test_monte_carlo_ergodic_rate_agrees_with_closed_form(n: int) -> None:
    samples = 200_000
    rate, se = ergodic_rate(
        SNR, n, samples=samples, rng=np.random.default_rng(100 + n), return_stderr=True
    )
    assert rate.shape == SNR.shape and se.shape == SNR.shape
    exact = rayleigh_ergodic_capacity(SNR, n)
    assert np.all(np.abs(rate - exact) <= Z * se), (rate - exact) / se
    # the standard error itself is right: compare with sqrt(Var/samples) from quadrature.
    # A sample standard deviation has relative standard error sqrt((kurtosis - 1) / (4 n)).
    var = np.array([quad_rate_central_moment(s, n, m, 2) for s, m in zip(SNR, exact, strict=True)])
    m4 = np.array([quad_rate_central_moment(s, n, m, 4) for s, m in zip(SNR, exact, strict=True)])
    rel_se = np.sqrt((m4 / var**2 - 1.0) / (4 * samples))
    assert np.all(np.abs(se / np.sqrt(var / samples) - 1.0) <= Z * rel_se)


def test_monte_carlo_tolerance_has_power() -> None:
    """A wrong antenna count or a 1 % bias is detected by the same 5-sigma rule."""
    rate, se = ergodic_rate(SNR, 2, samples=200_000, rng=5, return_stderr=True)
    assert np.all(np.abs(rate - rayleigh_ergodic_capacity(SNR, 3)) > Z * se)
    assert np.any(np.abs(1.01 * rate - rayleigh_ergodic_capacity(SNR, 2)) > Z * se)


@pytest.mark.parametrize("n", ANTENNAS)
def test_monte_carlo_outage_agrees_with_closed_form(n: int) -> None:
    samples = 100_000
    rates = np.array([0.5, 1.0, 4.0])[:, None]
    p_hat, se_hat = outage_probability(
        rates, SNR, n, samples=samples, rng=np.random.default_rng(200 + n), return_stderr=True
    )
    p = outage_probability(rates, SNR, n)
    assert p_hat.shape == p.shape == (3, SNR.size)
    count = np.rint(p_hat * samples)
    sigma = np.sqrt(p * (1 - p) / samples)  # binomial standard error under the closed form
    normal = samples * p * (1 - p) >= 25
    assert np.all(np.abs(p_hat - p)[normal] <= Z * sigma[normal])
    np.testing.assert_allclose(se_hat, np.sqrt(p_hat * (1 - p_hat) / samples), rtol=1e-12)
    # rare events (normal approximation poor): exact two-sided binomial test at 5-sigma level
    for c, q in zip(count[~normal], p[~normal], strict=True):
        lower = stats.binom.cdf(c, samples, q)
        upper = stats.binom.sf(c - 1, samples, q)
        assert min(1.0, 2 * min(lower, upper)) > 5.7e-7, (c, q)


def test_monte_carlo_edges() -> None:
    rate, se = ergodic_rate([0.0, 0.0], 4, samples=100, rng=0, return_stderr=True)
    assert np.all(rate == 0.0) and np.all(se == 0.0)
    p = outage_probability([0.0, 1.0], [1.0, 0.0], samples=1000, rng=0)
    assert p.tolist() == [0.0, 1.0]
    assert ergodic_rate(np.ones((2, 3)), rng=0, samples=10).shape == (2, 3)
    assert ergodic_rate(np.ones(0), rng=0).shape == (0,)
    p, se = outage_probability(1.0, 1.0, return_stderr=True)
    assert float(se) == 0.0


def test_monte_carlo_extreme_snr_is_finite_and_right() -> None:
    """snr·‖h‖² may overflow; the kernel's ln(snr) + ln(g + 1/snr) form does not."""
    snr = np.array([1e-300, 1e-12, 1e200, 1e308])
    rate, se = ergodic_rate(snr, 8, samples=20_000, rng=4, return_stderr=True)
    exact = rayleigh_ergodic_capacity(snr, 8)
    assert np.all(np.isfinite(rate)) and np.all(np.isfinite(se))
    assert np.all(np.abs(rate - exact) <= Z * se)
    # the two branches of the kernel (snr <= 1 and snr > 1) agree at the switch
    below, se1 = ergodic_rate(1.0, 4, samples=200_000, rng=5, return_stderr=True)
    above, se2 = ergodic_rate(1.0 + 1e-12, 4, samples=200_000, rng=5, return_stderr=True)
    assert abs(below - above) <= 1e-9 and abs(se1 - se2) <= 1e-9


def test_monte_carlo_determinism_and_independence() -> None:
    a = ergodic_rate([1.0, 10.0], 2, samples=1000, rng=np.random.default_rng(9))
    b = ergodic_rate([1.0, 10.0], 2, samples=1000, rng=np.random.default_rng(9))
    c = ergodic_rate([1.0, 10.0], 2, samples=1000, rng=9)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, ergodic_rate([1.0, 10.0], 2, samples=1000, rng=10))
    # one Generator advanced by each call: two calls give different draws
    gen = np.random.default_rng(1)
    assert ergodic_rate(1.0, samples=1000, rng=gen) != ergodic_rate(1.0, samples=1000, rng=gen)
    # equal SNRs in one call use independent streams
    same = ergodic_rate(np.full(4, 3.0), samples=1000, rng=0)
    assert len(np.unique(same)) == 4
    p1 = outage_probability(1.0, [1.0, 1.0], samples=1000, rng=3)
    p2 = outage_probability(1.0, [1.0, 1.0], samples=1000, rng=3)
    np.testing.assert_array_equal(p1, p2)
