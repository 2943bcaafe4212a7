"""Numba kernels of edgeopt.channel against plain NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from edgeopt.channel import _kernels

Z = 5.0
P_MIN = 1e-4  # smallest accepted p-value of the distributional tests (fixed seeds)


def numpy_gain_reference(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """‖h‖² for h ~ CN(0, I_n) drawn the plain way: 2n Gaussians per draw."""
    h = (rng.standard_normal((size, n)) + 1j * rng.standard_normal((size, n))) / np.sqrt(2)
    return np.sum(np.abs(h) ** 2, axis=1)


def numpy_mc_reference(
    snr: float, threshold: float, n: int, samples: int, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Plain NumPy Monte Carlo: mean rate, its standard error, outage fraction, and the
    kurtosis of the rate samples (for the standard error of the standard error)."""
    g = numpy_gain_reference(rng, samples, n)
    r = np.log2(1 + snr * g)
    kurt = float(stats.kurtosis(r, fisher=False))
    se = float(r.std(ddof=1) / np.sqrt(samples))
    return float(r.mean()), se, float(np.mean(g < threshold)), kurt


def test_uniform_stream_is_uniform_on_open_interval() -> None:
    u = _kernels.stream_samples(np.uint64(12345), 1_000_000, False)
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > P_MIN
    assert abs(u.mean() - 0.5) <= Z * np.sqrt(1 / 12 / u.size)
    # lag-1 serial correlation ~ 0
    r = np.corrcoef(u[:-1], u[1:])[0, 1]
    assert abs(r) <= Z / np.sqrt(u.size)
    # neighbouring seeds give uncorrelated streams
    v = _kernels.stream_samples(np.uint64(12346), 1_000_000, False)
    assert abs(np.corrcoef(u, v)[0, 1]) <= Z / np.sqrt(u.size)


def test_streams_are_deterministic_per_seed() -> None:
    a = _kernels.stream_samples(np.uint64(7), 100, False)
    np.testing.assert_array_equal(a, _kernels.stream_samples(np.uint64(7), 100, False))
    assert not np.array_equal(a, _kernels.stream_samples(np.uint64(8), 100, False))
    # a zero seed and the largest seed are valid
    for seed in (np.uint64(0), np.uint64(2**64 - 1)):
        u = _kernels.stream_samples(seed, 10_000, False)
        assert 0.0 < u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02


@pytest.mark.parametrize("n", [1, 2, 3, 4, 8, 16, 40])
def test_gain_samples_match_numpy_reference_distribution(n: int) -> None:
    """Kernel ‖h‖² vs the NumPy Gaussian reference and Gamma(n, 1).

    n <= 3 uses the product of uniforms, n >= 4 the Marsaglia–Tsang sampler.
    """
    size = 200_000
    g = _kernels.gain_samples(np.uint64(1000 + n), size, n)
    ref = numpy_gain_reference(np.random.default_rng(n), size, n)
    assert np.all(np.isfinite(g)) and np.all(g > 0)
    assert stats.ks_2samp(g, ref).pvalue > P_MIN
    assert stats.kstest(g, stats.gamma(n).cdf).pvalue > P_MIN
    # first two moments of Gamma(n, 1): mean n, variance n
    assert abs(g.mean() - n) <= Z * np.sqrt(n / size)
    assert abs(g.var() - n) <= Z * np.sqrt((2 * n**2 + 6 * n) / size)  # Var of sample var


def test_ziggurat_normals_match_numpy_reference() -> None:
    size = 1_000_000
    x = _kernels.stream_samples(np.uint64(31), size, True)
    ref = np.random.default_rng(31).standard_normal(size)
    assert stats.kstest(x, "norm").pvalue > P_MIN
    assert stats.ks_2samp(x, ref).pvalue > P_MIN
    assert abs(x.mean()) <= Z / np.sqrt(size)
    assert abs(np.mean(x**2) - 1) <= Z * np.sqrt(2 / size)
    assert abs(np.mean(x**4) - 3) <= Z * np.sqrt(96 / size)  # Var(x^4) = 105 - 9
    # the tail beyond the base layer and the wedges are sampled with the right mass
    r = _kernels._ZIG_R
    for edge in (r, 0.5 * (r + 4.5), 4.5):
        p = 2 * stats.norm.sf(edge)
        assert abs(np.mean(np.abs(x) > edge) - p) <= Z * np.sqrt(p * (1 - p) / size)
    for lo, hi in [(0.0, 0.5), (1.0, 1.3), (2.0, 2.2), (3.0, 3.3)]:
        p = 2 * (stats.norm.cdf(hi) - stats.norm.cdf(lo))
        frac = np.mean((np.abs(x) >= lo) & (np.abs(x) < hi))
        assert abs(frac - p) <= Z * np.sqrt(p * (1 - p) / size)


def test_ziggurat_tables_cover_the_density() -> None:
    """Equal-area layers: every layer i >= 1 has area x_i (f(x_{i+1}) - f(x_i)) = v."""
    x, f, r = _kernels._ZIG_X, _kernels._ZIG_F, _kernels._ZIG_R
    v = r * np.exp(-r * r / 2) + np.sqrt(np.pi / 2) * special.erfc(r / np.sqrt(2))
    areas = x[1:-1] * (f[2:] - f[1:-1])
    np.testing.assert_allclose(areas, v, rtol=1e-9)
    assert x[0] * f[1] == pytest.approx(v, rel=1e-12)
    assert f[-1] == 1.0 and np.all(np.diff(x[1:]) < 0)


def test_log1p_helper_matches_numpy() -> None:
    from numba import njit

    @njit
    def apply(y: np.ndarray) -> np.ndarray:
        out = np.empty_like(y)
        for i in range(y.size):
            out[i] = _kernels._log1p(y[i])
        return out

    y = np.concatenate([[0.0], np.logspace(-300, 300, 6001), np.linspace(0.0, 10.0, 1001)])
    np.testing.assert_allclose(apply(y), np.log1p(y), rtol=4e-16, atol=0)


def test_gain_lower_tail_matches_regularized_gamma() -> None:
    """The left tail (what outage sees) is right: P[g < x] = P(n, x), binomial tolerance."""
    size = 2_000_000
    for n in (1, 4, 8):
        g = _kernels.gain_samples(np.uint64(77 + n), size, n)
        for x in (0.05 * n, 0.3 * n, 1.0 * n):
            p = special.gammainc(n, x)
            if size * p < 25:
                continue
            assert abs(np.mean(g < x) - p) <= Z * np.sqrt(p * (1 - p) / size)


def test_mc_kernel_equals_its_own_draws() -> None:
    """mc_rate_outage consumes exactly the gain_samples stream: same statistics, exactly."""
    seeds = np.array([11, 12, 13], dtype=np.uint64)
    snr = np.array([0.1, 3.0, 1000.0])
    thr = np.array([0.5, 2.0, np.inf])
    n, samples = 4, 5000
    mean, se, count = _kernels.mc_rate_outage(snr, thr, seeds, n, samples, True, True)
    for m in range(3):
        g = _kernels.gain_samples(seeds[m], samples, n)
        r = np.log2(1 + snr[m] * g)
        assert mean[m] == pytest.approx(r.mean(), rel=1e-12)
        assert se[m] == pytest.approx(r.std(ddof=1) / np.sqrt(samples), rel=1e-9)
        assert count[m] == np.sum(g < thr[m])
    # flags: statistics not asked for are zero, the draws are unchanged
    m2, s2, c2 = _kernels.mc_rate_outage(snr, thr, seeds, n, samples, False, True)
    assert np.all(m2 == 0) and np.all(s2 == 0)
    np.testing.assert_array_equal(c2, count)
    m3, _, c3 = _kernels.mc_rate_outage(snr, thr, seeds, n, samples, True, False)
    np.testing.assert_array_equal(m3, mean)
    assert np.all(c3 == 0)


@pytest.mark.parametrize("n", [1, 2, 4, 8])
@pytest.mark.parametrize("snr_db", [-10.0, 10.0, 30.0])
def test_mc_kernel_matches_numpy_monte_carlo(n: int, snr_db: float) -> None:
    samples = 100_000
    snr = 10 ** (snr_db / 10)
    thr = 1.0 / snr  # outage at 1 bit/s/Hz
    mean, se, count = _kernels.mc_rate_outage(
        np.array([snr]),
        np.array([thr]),
        np.array([2024 + n], dtype=np.uint64),
        n,
        samples,
        True,
        True,
    )
    ref_mean, ref_se, ref_p, kurt = numpy_mc_reference(
        snr, thr, n, samples, np.random.default_rng(n)
    )
    assert abs(mean[0] - ref_mean) <= Z * np.hypot(se[0], ref_se)
    # same spread: a sample standard deviation has relative SE sqrt((kurtosis - 1) / (4 n));
    # two independent estimates differ by sqrt(2) times that
    rel_se = np.sqrt(2 * (kurt - 1) / (4 * samples))
    assert abs(se[0] / ref_se - 1) <= Z * rel_se
    p = count[0] / samples
    pooled = (p + ref_p) / 2
    assert abs(p - ref_p) <= Z * np.sqrt(2 * pooled * (1 - pooled) / samples)
