"""Broadband analog aggregation (BAA) with truncated channel inversion.

Zhu, Wang and Huang (2020): a single-antenna device ``k`` with channel ``h_k`` transmits
with the coefficient ``p_k = sqrt(rho0) / h_k`` if ``|h_k|^2 >= g`` (the threshold) and stays
silent otherwise, so every participating signal arrives with the same amplitude
``sqrt(rho0)``.  For Rayleigh fading, ``|h|^2 ~ Exp(1)``, the average transmit power
``rho0 E[1/|h|^2 ; |h|^2 >= g] = rho0 E1(g)`` equals the budget ``P`` when
``rho0 = P / E1(g)``, and a device is truncated with probability ``1 - e^{-g}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import exp1

from edgeopt._validation import check_complex_array, check_scalar, invalid_input, invalid_inputs

__all__ = [
    "TruncatedInversion",
    "truncated_channel_inversion",
    "baa_truncation_ratio",
    "baa_power_scaling",
]


def baa_truncation_ratio(threshold: float) -> float:
    """Probability that a Rayleigh-faded device is truncated: ``1 - exp(-threshold)``.

    Parameters
    ----------
    threshold : float
        Power-gain threshold ``g >= 0`` on ``|h|^2`` (channels with ``E|h|^2 = 1``).

    Returns
    -------
    float
        ``P(|h|^2 < g)`` for ``|h|^2 ~ Exp(1)``, the expected fraction of silent devices.

    Raises
    ------
    InvalidInputError
        Negative or non-finite ``threshold``.

    References
    ----------
    G. Zhu, Y. Wang, K. Huang, "Broadband analog aggregation for low-latency federated
    edge learning," IEEE Trans. Wireless Commun., vol. 19, no. 1, pp. 491-506, 2020,
    Sec. IV (truncation ratio of truncated channel inversion).

    Examples
    --------
    >>> from edgeopt.aircomp import baa_truncation_ratio
    >>> round(baa_truncation_ratio(0.1), 4)
    0.0952
    """
    g = check_scalar(threshold, "threshold", nonneg=True)
    return float(-np.expm1(-g))


def baa_power_scaling(threshold: float, avg_power_w: float) -> float:
    """Receive power scaling ``rho0 = P / E1(g)`` of truncated channel inversion (Rayleigh).

    With ``p_k = sqrt(rho0) / h_k`` for ``|h_k|^2 >= g``, the average transmit power is
    ``rho0 * E1(g)`` (``E1`` the exponential integral), so ``rho0 = P / E1(g)`` meets the
    average power budget with equality.

    Parameters
    ----------
    threshold : float
        Power-gain threshold ``g > 0`` on ``|h|^2`` (``E1`` diverges at 0).
    avg_power_w : float
        Average transmit power budget ``P`` of a device, watts, ``> 0``.

    Returns
    -------
    float
        ``rho0`` in watts: the power of every participating signal at the receiver.

    Raises
    ------
    InvalidInputError
        ``threshold <= 0`` or ``avg_power_w <= 0``, non-finite values, or a ``rho0`` that
        overflows double precision (very large ``threshold``: ``E1(g) ~ e^-g / g``).

    References
    ----------
    G. Zhu, Y. Wang, K. Huang, IEEE Trans. Wireless Commun., 2020, Sec. IV (power
    constraint of truncated channel inversion under Rayleigh fading).

    Examples
    --------
    >>> from edgeopt.aircomp import baa_power_scaling
    >>> round(baa_power_scaling(1.0, 1.0), 4)
    4.5582
    """
    g = check_scalar(threshold, "threshold", positive=True)
    p = check_scalar(avg_power_w, "avg_power_w", positive=True)
    return _power_scaling(g, p)


# above this threshold exp1 (about e^-g / g) approaches the subnormal range: use the scaled form
_SCALED_FROM = 600.0
_LOG_MAX = float(np.log(np.finfo(np.float64).max))


def _exp1_scaled_large(g: float) -> float:
    """``e^g E1(g)`` for ``g >= 600`` by its asymptotic series ``sum_k (-1)^k k! / g^(k+1)``.

    The terms decrease while ``k < g``; ten of them leave an error below ``10! / g^11``,
    far under double precision for ``g >= 600``.
    """
    term, total = 1.0 / g, 0.0
    for k in range(12):
        total += term
        term *= -(k + 1) / g
    return total


def _power_scaling(g: float, p: float) -> float:
    """``rho0 = p / E1(g)`` for validated ``g > 0``, ``p > 0``; raises if it overflows."""
    if g < _SCALED_FROM:
        with np.errstate(over="ignore"):
            rho0 = float(np.float64(p) / exp1(g))
    else:  # exp1 underflows near g = 740; work with log rho0 = log p + g - log(e^g E1(g))
        log_rho = np.log(p) + g - np.log(_exp1_scaled_large(g))
        rho0 = float(np.exp(log_rho)) if log_rho < _LOG_MAX else float("inf")
    if not np.isfinite(rho0):
        raise invalid_inputs(
            f"threshold={g!r}, avg_power_w={p!r}",
            "values for which the power scaling rho0 = avg_power_w / E1(threshold) is finite "
            "(it overflows; with avg_power_w = 1 the threshold must stay below about 703)",
        )
    return rho0


@dataclass(frozen=True)
class TruncatedInversion:
    """Result of :func:`truncated_channel_inversion`.

    Parameters
    ----------
    participating : numpy.ndarray of bool, shape (..., K)
        Devices with ``|h_k|^2 >= threshold``.
    coefficients : numpy.ndarray of complex128, shape (..., K)
        Transmit coefficients ``p_k = sqrt(rho0) / h_k`` (0 for silent devices).
    power_scaling_w : float
        ``rho0 = P / E1(threshold)``, the received power of each participating signal.
    receive_snr : float
        ``rho0 / noise_w`` (linear).
    truncation_ratio : float
        The Rayleigh truncation probability ``1 - exp(-threshold)``.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.aircomp import TruncatedInversion, truncated_channel_inversion
    >>> res = truncated_channel_inversion(
    ...     np.array([2.0 + 0j, 0.2j]), threshold=1.0, avg_power_w=1.0, noise_w=0.5
    ... )
    >>> isinstance(res, TruncatedInversion), res.participating.tolist()
    (True, [True, False])
    >>> round(res.power_scaling_w, 4), round(res.receive_snr, 4), round(res.truncation_ratio, 4)
    (4.5582, 9.1164, 0.6321)
    """

    participating: NDArray[np.bool_]
    coefficients: NDArray[np.complex128]
    power_scaling_w: float
    receive_snr: float
    truncation_ratio: float


def truncated_channel_inversion(
    channels: Any, *, threshold: float, avg_power_w: float, noise_w: float
) -> TruncatedInversion:
    """Truncated channel inversion of broadband analog aggregation (single-antenna links).

    Devices with ``|h_k|^2 >= threshold`` invert their channel, ``p_k = sqrt(rho0) / h_k``,
    so that ``p_k h_k = sqrt(rho0)``; the others are silent.  The scaling
    ``rho0 = avg_power_w / E1(threshold)`` (:func:`baa_power_scaling`) meets the average
    power budget for Rayleigh channels with ``E|h|^2 = 1``.

    Parameters
    ----------
    channels : array_like of complex, shape (..., K)
        Channel coefficients ``h_k`` (one sub-channel per device; batch axes first; a real
        array is a valid complex one).
    threshold : float
        Power-gain threshold ``g > 0``.
    avg_power_w : float
        Average transmit power budget ``P``, watts, ``> 0``.
    noise_w : float
        Receiver noise power ``sigma^2``, watts, ``> 0``.

    Returns
    -------
    TruncatedInversion

    Raises
    ------
    InvalidInputError
        Non-numeric or non-finite channels, non-positive ``threshold``, ``avg_power_w`` or
        ``noise_w``, or inputs whose ``rho0``, receive SNR or coefficients overflow (e.g. a
        ``threshold`` above about 700, where ``E1(threshold)`` underflows).

    References
    ----------
    G. Zhu, Y. Wang, K. Huang, "Broadband analog aggregation for low-latency federated
    edge learning," IEEE Trans. Wireless Commun., vol. 19, no. 1, pp. 491-506, 2020,
    eq. (7) (truncated channel inversion) and Sec. IV.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.aircomp import truncated_channel_inversion
    >>> h = np.array([1.0 + 0j, 0.1j, 2.0 + 0j])
    >>> res = truncated_channel_inversion(h, threshold=0.5, avg_power_w=1.0, noise_w=0.1)
    >>> res.participating.tolist()
    [True, False, True]
    >>> np.round(np.abs(res.coefficients * h) ** 2, 4).tolist()
    [1.7864, 0.0, 1.7864]
    >>> round(res.receive_snr, 3)
    17.864
    """
    h = check_complex_array(channels, "channels", ndim=range(1, 33), allow_empty=False)
    g = check_scalar(threshold, "threshold", positive=True)
    p = check_scalar(avg_power_w, "avg_power_w", positive=True)
    noise = check_scalar(noise_w, "noise_w", positive=True)
    rho0 = _power_scaling(g, p)
    snr = rho0 / noise
    if not np.isfinite(snr):
        raise invalid_input(
            "noise_w",
            noise,
            f"a noise power for which the receive SNR rho0 / noise_w is finite (rho0 = {rho0!r})",
        )
    gain = np.abs(h) ** 2
    part = gain >= g
    coef = np.zeros(h.shape, dtype=np.complex128)
    with np.errstate(over="ignore"):
        coef[part] = np.sqrt(rho0) / h[part]
    if not np.all(np.isfinite(coef)):
        raise invalid_input(
            "threshold",
            g,
            "a threshold for which every transmit coefficient sqrt(rho0) / h_k of the "
            f"participating devices is finite (rho0 = {rho0!r})",
        )
    return TruncatedInversion(part, coef, rho0, snr, baa_truncation_ratio(g))
