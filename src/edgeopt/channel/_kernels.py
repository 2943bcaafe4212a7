"""Numba kernels of :mod:`edgeopt.channel` (private).

Random numbers
--------------
The kernels carry their own generator so that they need no global state: every Monte Carlo
stream is a xoshiro256+ generator (Blackman & Vigna, 2021) whose 256-bit state is filled by
SplitMix64 from one 64-bit seed.  The public functions draw those seeds from the caller's
:class:`numpy.random.Generator`, one seed per independent stream, so a given ``rng`` state
always gives the same result; the streams are *not* the ones NumPy itself would produce.

Channel gains
-------------
For h ~ CN(0, I_N) each |h_n|² is Exp(1) and the combined gain ‖h‖² is Gamma(N, 1).  The
kernels draw that sufficient statistic exactly instead of the 2N Gaussians of h:

* N <= 3: −ln(U_1 · … · U_N) with U_n i.i.d. uniform on (0, 1) (|h_n|² = −ln U_n is the
  inverse-CDF draw of Exp(1)): N uniforms and one logarithm;
* N >= 4: the Marsaglia–Tsang rejection sampler of Gamma(N, 1) (one Gaussian from a
  256-layer ziggurat and one uniform per trial; acceptance above 99 % for N >= 4), whose
  cost does not grow with N.

All integer arithmetic on the state is done in ``uint64`` with ``uint64`` constants: mixing
a ``uint64`` with a Python int makes Numba promote to float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy import optimize, special

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S17 = np.uint64(17)
_S45 = np.uint64(45)
_S19 = np.uint64(19)
#: 2^-53: turns the top 53 bits of a draw into a double in [0, 1).
_TWO_M53 = 1.0 / 9007199254740992.0
_INV_LN2 = 1.0 / np.log(2.0)
#: Largest N drawn as a product of uniforms; larger N use Marsaglia–Tsang.
_PRODUCT_MAX_N = 3


@njit(cache=True, inline="always")
def _splitmix64(x: np.uint64) -> tuple[np.uint64, np.uint64]:
    """One SplitMix64 step: returns (new counter, output)."""
    x = x + _GOLDEN
    z = x
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return x, z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _seed_state(seed: np.uint64) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """xoshiro256 state from one 64-bit seed (four SplitMix64 outputs, never all zero)."""
    c = seed
    c, s0 = _splitmix64(c)
    c, s1 = _splitmix64(c)
    c, s2 = _splitmix64(c)
    c, s3 = _splitmix64(c)
    if s0 == 0 and s1 == 0 and s2 == 0 and s3 == 0:  # probability 2^-256
        s0 = _GOLDEN
    return s0, s1, s2, s3


@njit(cache=True, inline="always")
def _rotl45(x: np.uint64) -> np.uint64:
    return (x << _S45) | (x >> _S19)


@njit(cache=True, inline="always")
def _xoshiro_step(
    s0: np.uint64, s1: np.uint64, s2: np.uint64, s3: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64, np.uint64]:
    """One xoshiro256+ step: the 64-bit output s0 + s3 and the new state."""
    result = s0 + s3
    t = s1 << _S17
    s2 = s2 ^ s0
    s3 = s3 ^ s1
    s1 = s1 ^ s2
    s0 = s0 ^ s3
    s2 = s2 ^ t
    s3 = _rotl45(s3)
    return result, s0, s1, s2, s3


@njit(cache=True, inline="always")
def _next_uniform(
    s0: np.uint64, s1: np.uint64, s2: np.uint64, s3: np.uint64
) -> tuple[float, np.uint64, np.uint64, np.uint64, np.uint64]:
    """One xoshiro256+ step: a double uniform on the open interval (0, 1) and the new state."""
    result, s0, s1, s2, s3 = _xoshiro_step(s0, s1, s2, s3)
    # top 53 bits, shifted by half a step: never exactly 0 or 1
    u = (float(result >> _S11) + 0.5) * _TWO_M53
    return u, s0, s1, s2, s3


@njit(cache=True, inline="always")
def _log1p(y: float) -> float:
    """ln(1 + y) for y >= 0, accurate to a few ulp (Goldberg's trick with the fast ``log``).

    ``np.log1p`` compiles to the libm call, several times slower than ``log`` here.
    """
    u = 1.0 + y
    if u == 1.0:
        return y
    return np.log(u) * (y / (u - 1.0))


def _ziggurat_tables(layers: int = 256) -> tuple[np.ndarray, np.ndarray, float]:
    """Layer edges x_i and heights f(x_i) of a ziggurat for the half-normal density
    f(x) = exp(−x²/2) (Marsaglia & Tsang, 2000), and the tail start r.

    r is solved for (not copied) so that ``layers`` layers of equal area v cover the density
    exactly: x_1 = r, x_{i+1} = f⁻¹(v/x_i + f(x_i)), and the last layer ends at f = 1.
    x_0 = v/f(r) is the width of the base layer that includes the tail.
    """

    def edges(r: float) -> tuple[np.ndarray, float]:
        v = r * np.exp(-0.5 * r * r) + np.sqrt(np.pi / 2) * special.erfc(r / np.sqrt(2))
        x = np.zeros(layers + 1)
        x[0] = v / np.exp(-0.5 * r * r)
        x[1] = r
        for i in range(1, layers):
            y = v / x[i] + np.exp(-0.5 * x[i] * x[i])
            if y >= 1.0:
                return x, 1.0 + (layers - i)  # too few layers reach the top: r too small
            x[i + 1] = np.sqrt(-2.0 * np.log(y))
        return x, v / x[layers - 1] + np.exp(-0.5 * x[layers - 1] ** 2) - 1.0

    r = optimize.brentq(lambda r: edges(r)[1], 2.0, 5.0, xtol=1e-15)
    x, _ = edges(r)
    x[layers] = 0.0
    return x, np.exp(-0.5 * x * x), float(r)


_ZIG_X, _ZIG_F, _ZIG_R = _ziggurat_tables()
_S56 = np.uint64(56)
_S3 = np.uint64(3)
_BIT55 = np.uint64(1 << 55)
_MASK52 = np.uint64((1 << 52) - 1)
_TWO_M52 = 2.0**-52


@njit(cache=True, inline="always")
def _next_normal(
    s0: np.uint64, s1: np.uint64, s2: np.uint64, s3: np.uint64
) -> tuple[float, np.uint64, np.uint64, np.uint64, np.uint64]:
    """A standard Gaussian by the 256-layer ziggurat (Marsaglia & Tsang, 2000).

    One 64-bit draw gives the layer (top 8 bits), the sign (bit 55) and the abscissa (bits
    3 to 54; the three lowest bits of xoshiro256+, the weak ones, are not used); about 99 %
    of calls return after one draw and one comparison.
    """
    xs = _ZIG_X
    fs = _ZIG_F
    while True:
        bits, s0, s1, s2, s3 = _xoshiro_step(s0, s1, s2, s3)
        i = int(bits >> _S56)
        negative = (bits & _BIT55) != 0
        x = float((bits >> _S3) & _MASK52) * _TWO_M52 * xs[i]
        if x < xs[i + 1]:
            break
        if i == 0:
            # tail beyond r (Marsaglia, 1964)
            while True:
                u1, s0, s1, s2, s3 = _next_uniform(s0, s1, s2, s3)
                u2, s0, s1, s2, s3 = _next_uniform(s0, s1, s2, s3)
                a = -np.log(u1) / _ZIG_R
                b = -np.log(u2)
                if 2.0 * b > a * a:
                    break
            x = _ZIG_R + a
            break
        u, s0, s1, s2, s3 = _next_uniform(s0, s1, s2, s3)
        if fs[i] + u * (fs[i + 1] - fs[i]) < np.exp(-0.5 * x * x):
            break
    if negative:
        x = -x
    return x, s0, s1, s2, s3


@njit(cache=True)
def stream_samples(seed: np.uint64, size: int, normal: bool) -> np.ndarray:
    """``size`` draws of the stream seeded by ``seed`` (for tests).

    Uniforms on (0, 1), or standard Gaussians with ``normal=True``.
    """
    out = np.empty(size, dtype=np.float64)
    s0, s1, s2, s3 = _seed_state(seed)
    for i in range(size):
        if normal:
            x, s0, s1, s2, s3 = _next_normal(s0, s1, s2, s3)
        else:
            x, s0, s1, s2, s3 = _next_uniform(s0, s1, s2, s3)
        out[i] = x
    return out


@njit(cache=True, inline="always")
def _next_gain(
    n: int,
    mt_d: float,
    mt_c: float,
    s0: np.uint64,
    s1: np.uint64,
    s2: np.uint64,
    s3: np.uint64,
) -> tuple[float, np.uint64, np.uint64, np.uint64, np.uint64]:
    """One draw of ‖h‖² ~ Gamma(n, 1); ``mt_d = n − 1/3``, ``mt_c = 1/sqrt(9·mt_d)``."""
    if n <= _PRODUCT_MAX_N:
        prod = 1.0
        for _ in range(n):
            u, s0, s1, s2, s3 = _next_uniform(s0, s1, s2, s3)
            prod *= u
        return -np.log(prod), s0, s1, s2, s3
    # Marsaglia & Tsang (2000): accept d·v with v = (1 + c·x)^3, x ~ N(0, 1)
    while True:
        x, s0, s1, s2, s3 = _next_normal(s0, s1, s2, s3)
        v = 1.0 + mt_c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u, s0, s1, s2, s3 = _next_uniform(s0, s1, s2, s3)
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2:
            break
        if np.log(u) < 0.5 * x2 + mt_d * (1.0 - v + np.log(v)):
            break
    return mt_d * v, s0, s1, s2, s3


@njit(cache=True)
def gain_samples(seed: np.uint64, size: int, num_antennas: int) -> np.ndarray:
    """``size`` draws of ‖h‖² ~ Gamma(N, 1), h ~ CN(0, I_N), from the stream ``seed``.

    The same draw sequence as :func:`mc_rate_outage` uses (for distributional tests).
    """
    out = np.empty(size, dtype=np.float64)
    s0, s1, s2, s3 = _seed_state(seed)
    mt_d = num_antennas - 1.0 / 3.0
    mt_c = 1.0 / np.sqrt(9.0 * mt_d)
    for i in range(size):
        g, s0, s1, s2, s3 = _next_gain(num_antennas, mt_d, mt_c, s0, s1, s2, s3)
        out[i] = g
    return out


@njit(cache=True)
def mc_rate_outage(
    snr: np.ndarray,
    threshold: np.ndarray,
    seeds: np.ndarray,
    num_antennas: int,
    samples: int,
    want_rate: bool,
    want_outage: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monte Carlo of log2(1 + snr·‖h‖²) and of the event ‖h‖² < threshold.

    Parameters
    ----------
    snr : float64 (M,)
        Linear SNR of each of the M independent problems (>= 0).
    threshold : float64 (M,)
        Gain thresholds of the outage event (may be +inf); ignored unless ``want_outage``.
    seeds : uint64 (M,)
        One stream seed per problem: problem m uses only its own stream.
    num_antennas : int
        N >= 1 (MRC over N i.i.d. Rayleigh branches).
    samples : int
        Channel draws per problem (>= 2).
    want_rate, want_outage : bool
        Which statistics to accumulate (the draws are the same either way).

    Returns
    -------
    mean_rate : float64 (M,)
        Sample mean of log2(1 + snr·g) in bit/s/Hz (0 where not wanted).
    stderr_rate : float64 (M,)
        Its standard error s/sqrt(samples) (0 where not wanted).
    outage_count : int64 (M,)
        Number of draws with g < threshold.
    """
    m_total = snr.shape[0]
    mean_rate = np.zeros(m_total, dtype=np.float64)
    stderr_rate = np.zeros(m_total, dtype=np.float64)
    outage_count = np.zeros(m_total, dtype=np.int64)
    mt_d = num_antennas - 1.0 / 3.0
    mt_c = 1.0 / np.sqrt(9.0 * mt_d)
    for m in range(m_total):
        rho = snr[m]
        x = threshold[m]
        s0, s1, s2, s3 = _seed_state(seeds[m])
        # for snr > 1, ln(1 + snr·g) = ln(snr) + ln(g + 1/snr): no overflow even at 1e308
        big = rho > 1.0
        log_rho = np.log(rho) if big else 0.0
        inv_rho = 1.0 / rho if big else 0.0
        # shifted sums (shift = rate at the mean gain) keep the variance free of cancellation
        if big:
            shift = (log_rho + np.log(num_antennas + inv_rho)) * _INV_LN2
        else:
            shift = _log1p(rho * num_antennas) * _INV_LN2
        # ... and scaled by 1/shift so that squares cannot underflow at tiny SNR
        scale = 1.0 / shift if shift > 0.0 else 1.0
        acc = 0.0
        acc2 = 0.0
        count = 0
        for _ in range(samples):
            g, s0, s1, s2, s3 = _next_gain(num_antennas, mt_d, mt_c, s0, s1, s2, s3)
            if want_rate:
                if big:
                    d = ((log_rho + np.log(g + inv_rho)) * _INV_LN2 - shift) * scale
                else:
                    d = (_log1p(rho * g) * _INV_LN2 - shift) * scale
                acc += d
                acc2 += d * d
            if want_outage and g < x:
                count += 1
        if want_rate:
            mean_d = acc / samples
            var = (acc2 - samples * mean_d * mean_d) / (samples - 1)
            mean_rate[m] = shift + mean_d / scale
            stderr_rate[m] = np.sqrt(max(var, 0.0) / samples) / scale
        outage_count[m] = count
    return mean_rate, stderr_rate, outage_count
