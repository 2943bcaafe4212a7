"""Achievable rates over fading channels: Shannon rate, ergodic rate, outage probability.

The fading model of the Monte Carlo and closed-form functions here is an N-antenna receiver
with maximum-ratio combining (MRC) over i.i.d. Rayleigh branches, h ~ CN(0, I_N): the
post-combining SNR is snr·‖h‖² with ‖h‖² ~ Gamma(N, 1) (N = 1 is the single-antenna link).

Monte Carlo functions run a Numba kernel (:mod:`edgeopt.channel._kernels`) with its own
xoshiro256+ streams.  Each element of a vectorized call gets an *independent*
stream whose 64-bit seed is drawn from ``rng``, so estimates at different SNRs are
statistically independent, and the result is a deterministic function of the state of
``rng`` (the draws differ from those NumPy's own generators would give).
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray
from scipy import special

from edgeopt._validation import check_array, check_bool, check_broadcast, check_int, check_rng
from edgeopt.channel import _kernels

__all__ = [
    "shannon_rate",
    "ergodic_rate",
    "rayleigh_ergodic_capacity",
    "outage_probability",
]

_LN2 = float(np.log(2.0))
#: Below this SNR the closed-form capacity uses its Taylor expansion ρN − ρ²N(N+1)/2
#: (relative error O(ρ·N), below double precision).
_TINY_SNR = 1e-14
#: Iteration cap of the continued fraction (it converges in well under 100 steps for x >= 1).
_CF_MAXITER = 500


def _stream_seeds(gen: np.random.Generator, count: int) -> NDArray[np.uint64]:
    """One 64-bit kernel stream seed per independent Monte Carlo problem."""
    return gen.integers(0, 2**64, size=count, dtype=np.uint64)


def shannon_rate(bandwidth_hz: Any, snr: Any) -> NDArray[np.float64]:
    """Shannon rate B·log2(1 + snr) in bit/s.

    Parameters
    ----------
    bandwidth_hz : array_like of float
        Bandwidth B in Hz, >= 0.
    snr : array_like of float
        Linear signal-to-noise ratio, >= 0.  Broadcast against ``bandwidth_hz``.

    Returns
    -------
    numpy.ndarray of float64, the broadcast shape
        Rate in bit/s.

    Raises
    ------
    InvalidInputError
        Negative, NaN or inf entries, or shapes that do not broadcast.

    References
    ----------
    C. E. Shannon, "A mathematical theory of communication," Bell Syst. Tech. J. 27, 1948,
    Theorem 17 (C = W·log2(1 + P/N)).

    Examples
    --------
    >>> from edgeopt.channel import shannon_rate
    >>> float(shannon_rate(1e6, 3.0))
    2000000.0
    >>> shannon_rate([1e6, 2e6], 1.0).tolist()
    [1000000.0, 2000000.0]
    """
    bw = check_array(bandwidth_hz, "bandwidth_hz", nonneg=True)
    rho = check_array(snr, "snr", nonneg=True)
    bw, rho = check_broadcast(bandwidth_hz=bw, snr=rho)
    return bw * np.log1p(rho) / _LN2


@overload
def ergodic_rate(
    snr: Any,
    num_antennas: Any = ...,
    *,
    samples: Any = ...,
    rng: Any = ...,
    return_stderr: Literal[False] = ...,
) -> NDArray[np.float64]: ...


@overload
def ergodic_rate(
    snr: Any,
    num_antennas: Any = ...,
    *,
    samples: Any = ...,
    rng: Any = ...,
    return_stderr: Literal[True],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...


@overload
def ergodic_rate(
    snr: Any,
    num_antennas: Any = ...,
    *,
    samples: Any = ...,
    rng: Any = ...,
    return_stderr: bool = ...,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]: ...


def ergodic_rate(
    snr: Any,
    num_antennas: Any = 1,
    *,
    samples: Any = 100_000,
    rng: Any = None,
    return_stderr: Any = False,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Monte Carlo ergodic rate E[log2(1 + snr·‖h‖²)] of an N-branch MRC Rayleigh link.

    Parameters
    ----------
    snr : array_like of float, any shape
        Linear average SNR per receive antenna, >= 0.  Every element is estimated from its
        own, independent set of ``samples`` channel draws.
    num_antennas : int
        Receive antennas N >= 1 (h ~ CN(0, I_N), maximum-ratio combining).
    samples : int
        Channel draws per SNR element, >= 2.
    rng : numpy.random.Generator, int or None
        Source of the kernel's stream seeds (one 64-bit draw per element of ``snr``).
    return_stderr : bool
        Also return the standard error of each estimate (sample standard deviation over
        √samples).

    Returns
    -------
    rate : numpy.ndarray of float64, shape of ``snr``
        Estimated ergodic rate in bit/s/Hz.
    stderr : numpy.ndarray of float64, shape of ``snr``
        Only with ``return_stderr=True``.

    Raises
    ------
    InvalidInputError
        Negative or non-finite ``snr``; non-integer or < 1 ``num_antennas``; ``samples`` < 2
        or non-integer; bad ``rng`` or ``return_stderr``.

    References
    ----------
    A. Goldsmith, *Wireless Communications*, Cambridge, 2005, Eq. (4.11) (ergodic capacity
    C = ∫ B·log2(1 + γ) p(γ) dγ with receiver CSI); MRC combining: Sec. 7.2.4.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.channel import ergodic_rate, rayleigh_ergodic_capacity
    >>> rate, se = ergodic_rate(10.0, 2, rng=np.random.default_rng(0), return_stderr=True)
    >>> exact = rayleigh_ergodic_capacity(10.0, 2)
    >>> bool(abs(rate - exact) < 5 * se)
    True
    >>> ergodic_rate([0.0, 1.0], rng=0).round(1).tolist()
    [0.0, 0.9]
    """
    rho = check_array(snr, "snr", nonneg=True)
    n_ant = check_int(num_antennas, "num_antennas", min_value=1)
    n_samples = check_int(samples, "samples", min_value=2)
    want_se = check_bool(return_stderr, "return_stderr")
    gen = check_rng(rng)
    flat = np.ascontiguousarray(rho.ravel())
    seeds = _stream_seeds(gen, flat.size)
    threshold = np.zeros_like(flat)
    mean, se, _ = _kernels.mc_rate_outage(flat, threshold, seeds, n_ant, n_samples, True, False)
    mean = mean.reshape(rho.shape)
    if want_se:
        return mean, se.reshape(rho.shape)
    return mean


def _scaled_expn(n: int, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """e^x·E_n(x) for x > 0 without overflow (E_n: generalized exponential integral).

    For x <= 1 the product of :func:`scipy.special.expn` and ``exp`` is safe; for x > 1 the
    continued fraction e^x E_n(x) = 1/(x + n − 1·n/(x + n + 2 − 2(n+1)/(x + n + 4 − …)))
    is evaluated with the modified Lentz algorithm, which never forms e^x.
    """
    out = np.empty_like(x)
    small = x <= 1.0
    out[small] = np.exp(x[small]) * special.expn(n, x[small])
    big = ~small
    if np.any(big):
        xb = x[big]
        b = xb + n
        c = np.full_like(xb, 1e300)
        d = 1.0 / b
        h = d.copy()
        for i in range(1, _CF_MAXITER + 1):
            an = -float(i) * (n - 1 + i)
            b = b + 2.0
            d = 1.0 / (an * d + b)
            c = b + an / c
            delta = c * d
            h = h * delta
            if np.all(np.abs(delta - 1.0) < 1e-16):
                break
        out[big] = h
    return out


def rayleigh_ergodic_capacity(snr: Any, num_antennas: Any = 1) -> NDArray[np.float64]:
    """Closed-form ergodic capacity of an N-branch MRC Rayleigh link, in bit/s/Hz.

    With ρ = snr and ‖h‖² ~ Gamma(N, 1),

        E[log2(1 + ρ‖h‖²)] = (1/ln 2)·e^{1/ρ}·Σ_{k=1}^{N} E_k(1/ρ),

    E_k the generalized exponential integral; N = 1 gives the classical
    e^{1/ρ}·E_1(1/ρ)/ln 2.  The sum is evaluated in scaled form (e^x·E_k(x) directly, by a
    continued fraction for x > 1) so that it neither overflows at low SNR nor loses
    accuracy; below ρ = 1e-14 the Taylor expansion ρN − ρ²N(N+1)/2 (in nats) is used.

    Parameters
    ----------
    snr : array_like of float, any shape
        Linear average SNR per antenna, >= 0 (0 gives 0).
    num_antennas : int
        Receive antennas N >= 1.

    Returns
    -------
    numpy.ndarray of float64, shape of ``snr``
        Ergodic capacity in bit/s/Hz.

    Raises
    ------
    InvalidInputError
        Negative or non-finite ``snr``, bad ``num_antennas``.

    References
    ----------
    W. C. Y. Lee, "Estimate of channel capacity in Rayleigh fading environment," IEEE Trans.
    Veh. Technol. 39(3), 1990 (single-antenna closed form with E_1).

    M.-S. Alouini and A. J. Goldsmith, "Capacity of Rayleigh fading channels under different
    adaptive transmission and diversity-combining techniques," IEEE Trans. Veh. Technol.
    48(4), 1999, Sec. III (MRC capacity with optimal rate adaptation; the E_k sum used here
    is an equivalent form, derived in the channel guide).

    Examples
    --------
    >>> from edgeopt.channel import rayleigh_ergodic_capacity
    >>> round(float(rayleigh_ergodic_capacity(1.0)), 4)
    0.8603
    >>> rayleigh_ergodic_capacity([0.0, 100.0], 4).round(3).tolist()
    [0.0, 8.461]
    """
    rho = check_array(snr, "snr", nonneg=True)
    n_ant = check_int(num_antennas, "num_antennas", min_value=1)
    flat = rho.ravel()
    out = np.zeros_like(flat)
    tiny = flat < _TINY_SNR
    r = flat[tiny]
    out[tiny] = (r * n_ant - 0.5 * r * r * n_ant * (n_ant + 1)) / _LN2
    regular = ~tiny
    if np.any(regular):
        x = 1.0 / flat[regular]
        total = np.zeros_like(x)
        for k in range(1, n_ant + 1):
            total += _scaled_expn(k, x)
        out[regular] = total / _LN2
    return out.reshape(rho.shape)


@overload
def outage_probability(
    rate_bps_hz: Any,
    snr: Any,
    num_antennas: Any = ...,
    *,
    samples: Any = ...,
    rng: Any = ...,
    return_stderr: Literal[False] = ...,
) -> NDArray[np.float64]: ...


@overload
def outage_probability(
    rate_bps_hz: Any,
    snr: Any,
    num_antennas: Any = ...,
    *,
    samples: Any = ...,
    rng: Any = ...,
    return_stderr: Literal[True],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...


@overload
def outage_probability(
    rate_bps_hz: Any,
    snr: Any,
    num_antennas: Any = ...,
    *,
    samples: Any = ...,
    rng: Any = ...,
    return_stderr: bool = ...,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]: ...


def outage_probability(
    rate_bps_hz: Any,
    snr: Any,
    num_antennas: Any = 1,
    *,
    samples: Any = None,
    rng: Any = None,
    return_stderr: Any = False,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Outage probability P[log2(1 + snr·‖h‖²) < R] of an N-branch MRC Rayleigh link.

    Closed form (``samples=None``): P[Gamma(N, 1) < x] = P(N, x), the regularized lower
    incomplete gamma function, with x = (2^R − 1)/snr.  Monte Carlo otherwise (Numba
    kernel, one independent stream per broadcast element).  Conventions at the edges: a
    target rate R = 0 is never in outage; snr = 0 with R > 0 is always in outage.

    Parameters
    ----------
    rate_bps_hz : array_like of float
        Target spectral efficiency R in bit/s/Hz, >= 0.
    snr : array_like of float
        Linear average SNR per antenna, >= 0.  Broadcast against ``rate_bps_hz``.
    num_antennas : int
        Receive antennas N >= 1.
    samples : int, optional
        Monte Carlo draws per element (>= 2); ``None`` (default) evaluates the closed form.
    rng : numpy.random.Generator, int or None
        Source of the kernel's stream seeds (used only with ``samples``).
    return_stderr : bool
        Also return the standard error √(p̂(1 − p̂)/samples) of each estimate (zeros for
        the closed form).

    Returns
    -------
    probability : numpy.ndarray of float64, the broadcast shape
    stderr : numpy.ndarray of float64, the broadcast shape
        Only with ``return_stderr=True``.

    Raises
    ------
    InvalidInputError
        Negative or non-finite rates or SNRs, shapes that do not broadcast, bad
        ``num_antennas``, ``samples``, ``rng`` or ``return_stderr``.

    References
    ----------
    D. Tse and P. Viswanath, *Fundamentals of Wireless Communication*, Cambridge, 2005,
    Sec. 5.4.1 (outage probability p_out = P[log(1 + abs(h)²·SNR) < R]) and Sec. 5.4.2 (receive
    diversity: ‖h‖² is Gamma(L, 1)).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.channel import outage_probability
    >>> round(float(outage_probability(1.0, 10.0)), 4)   # 1 - exp(-0.1)
    0.0952
    >>> p, se = outage_probability(1.0, 10.0, samples=100_000, rng=np.random.default_rng(0),
    ...                            return_stderr=True)
    >>> bool(abs(p - 0.0952) < 5 * se)
    True
    """
    rate = check_array(rate_bps_hz, "rate_bps_hz", nonneg=True)
    rho = check_array(snr, "snr", nonneg=True)
    n_ant = check_int(num_antennas, "num_antennas", min_value=1)
    n_samples = None if samples is None else check_int(samples, "samples", min_value=2)
    want_se = check_bool(return_stderr, "return_stderr")
    rate, rho = check_broadcast(rate_bps_hz=rate, snr=rho)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        needed = np.expm1(rate * _LN2)  # 2^R - 1, +inf for huge R
        x = np.where(rate == 0.0, 0.0, np.where(rho == 0.0, np.inf, needed / rho))
    if n_samples is None:
        if rng is not None:
            check_rng(rng)  # unused by the closed form, but a bad value is still an error
        prob = special.gammainc(n_ant, x)
        return (prob, np.zeros_like(prob)) if want_se else prob
    gen = check_rng(rng)
    flat_x = np.ascontiguousarray(x.ravel())
    flat_rho = np.ascontiguousarray(rho.ravel())
    seeds = _stream_seeds(gen, flat_x.size)
    _, _, count = _kernels.mc_rate_outage(flat_rho, flat_x, seeds, n_ant, n_samples, False, True)
    prob = (count / n_samples).reshape(x.shape)
    if want_se:
        return prob, np.sqrt(prob * (1.0 - prob) / n_samples)
    return prob
