"""Numba kernels of :mod:`edgeopt.channel` (private).

Random numbers
--------------
The kernels carry their own generator so that they need no global state: every Monte Carlo
stream is a xoshiro256+ generator (Blackman & Vigna, 2018) whose 256-bit state is filled by
SplitMix64 from one 64-bit seed.  The public functions draw those seeds from the caller's
:class:`numpy.random.Generator`, one seed per independent stream, so a given ``rng`` state
always gives the same result; the streams are *not* the ones NumPy itself would produce.

Channel gains
-------------
For h ~ CN(0, I_N) each |h_n|² is Exp(1) and the combined gain ‖h‖² is Gamma(N, 1).  The
kernels draw that sufficient statistic exactly as −ln(U_1 · … · U_N) with U_n i.i.d. uniform
on (0, 1) (|h_n|² = −ln U_n is the inverse-CDF draw of Exp(1); the product is renormalized
every 16 factors so that it never underflows), which needs one logarithm per channel vector
instead of 2N Gaussians.

All integer arithmetic on the state is done in ``uint64`` with ``uint64`` constants: mixing
a ``uint64`` with a Python int makes Numba promote to float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_U64 = np.uint64
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
#: Factors multiplied before the running product is folded into a logarithm (each uniform
#: is >= 2^-54, so 16 of them stay far above the smallest normal double).
_BLOCK = 16


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
def _next_uniform(
    s0: np.uint64, s1: np.uint64, s2: np.uint64, s3: np.uint64
) -> tuple[float, np.uint64, np.uint64, np.uint64, np.uint64]:
    """One xoshiro256+ step: a double uniform on the open interval (0, 1) and the new state."""
    result = s0 + s3
    t = s1 << _S17
    s2 = s2 ^ s0
    s3 = s3 ^ s1
    s1 = s1 ^ s2
    s0 = s0 ^ s3
    s2 = s2 ^ t
    s3 = _rotl45(s3)
    # top 53 bits, shifted by half a step: never exactly 0 or 1
    u = (float(result >> _S11) + 0.5) * _TWO_M53
    return u, s0, s1, s2, s3


@njit(cache=True)
def uniform_samples(seed: np.uint64, size: int) -> np.ndarray:
    """``size`` uniforms on (0, 1) from the stream seeded by ``seed`` (for tests)."""
    out = np.empty(size, dtype=np.float64)
    s0, s1, s2, s3 = _seed_state(seed)
    for i in range(size):
        u, s0, s1, s2, s3 = _next_uniform(s0, s1, s2, s3)
        out[i] = u
    return out


@njit(cache=True)
def gain_samples(seed: np.uint64, size: int, num_antennas: int) -> np.ndarray:
    """``size`` draws of ‖h‖² ~ Gamma(N, 1), h ~ CN(0, I_N), from the stream ``seed``.

    The same draw sequence as :func:`mc_rate_outage` uses (for distributional tests).
    """
    out = np.empty(size, dtype=np.float64)
    s0, s1, s2, s3 = _seed_state(seed)
    for i in range(size):
        neg_log = 0.0
        remaining = num_antennas
        while remaining > 0:
            m = min(remaining, _BLOCK)
            prod = 1.0
            for _ in range(m):
                u, s0, s1, s2, s3 = _next_uniform(s0, s1, s2, s3)
                prod *= u
            neg_log -= np.log(prod)
            remaining -= m
        out[i] = neg_log
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
    for m in range(m_total):
        rho = snr[m]
        x = threshold[m]
        s0, s1, s2, s3 = _seed_state(seeds[m])
        # shifted sums (shift = rate at the mean gain) keep the variance free of cancellation
        shift = np.log1p(rho * num_antennas) * _INV_LN2
        acc = 0.0
        acc2 = 0.0
        count = 0
        for _ in range(samples):
            neg_log = 0.0
            remaining = num_antennas
            while remaining > 0:
                k = min(remaining, _BLOCK)
                prod = 1.0
                for _j in range(k):
                    u, s0, s1, s2, s3 = _next_uniform(s0, s1, s2, s3)
                    prod *= u
                neg_log -= np.log(prod)
                remaining -= k
            if want_rate:
                d = np.log1p(rho * neg_log) * _INV_LN2 - shift
                acc += d
                acc2 += d * d
            if want_outage and neg_log < x:
                count += 1
        if want_rate:
            mean_d = acc / samples
            var = (acc2 - samples * mean_d * mean_d) / (samples - 1)
            mean_rate[m] = shift + mean_d
            stderr_rate[m] = np.sqrt(max(var, 0.0) / samples)
        outage_count[m] = count
    return mean_rate, stderr_rate, outage_count
