"""The over-the-air computation (AirComp) MSE model of Yang, Jiang, Shi and Ding (2020).

``K`` single-antenna devices send ``b_i s_i`` (unit-variance symbols ``s_i``) at the same
time; a base station with ``N`` antennas receives ``y = sum_i h_i b_i s_i + n`` with
``n ~ CN(0, noise_w I)`` and estimates the weighted sum ``g = sum_i w_i s_i`` by
``g_hat = m^H y / sqrt(eta)``.  With zero-forcing transmit scalars and the largest ``eta``
that respects the per-device power budget, the mean squared error is

.. math::

    \\mathrm{MSE}(m, S) = \\sigma^2 \\, \\|m\\|^2 \\,
    \\max_{i \\in S} \\frac{w_i^2}{P_i |m^H h_i|^2}

with device ``i``'s power budget ``P_i`` (one ``P`` for every device in the paper).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_beamformer,
    check_channels,
    check_powers,
    check_scalar,
    check_weights,
)
from edgeopt.aircomp._kernels import mse_masked

__all__ = ["aircomp_mse", "transmit_scalars", "TransmitScalars"]


class TransmitScalars(NamedTuple):
    """Result of :func:`transmit_scalars`: the devices' transmit scalars and ``eta``.

    A named tuple, so ``b, eta = transmit_scalars(...)`` also works.

    Parameters
    ----------
    scalars : numpy.ndarray of complex128, shape (K,)
        Zero-forcing transmit scalars ``b_i`` (``|b_i|^2 <= P_i``).
    eta : float
        Receive normalization ``eta >= 0`` (``0.0`` when the beamformer is orthogonal to a
        channel; ``scalars`` is then all zeros).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.aircomp import TransmitScalars, transmit_scalars
    >>> out = transmit_scalars(np.array([1.0, 0.0]), np.array([[2.0, 0.0]]), power_w=1.0)
    >>> isinstance(out, TransmitScalars), out.eta, out.scalars.tolist()
    (True, 4.0, [(1+0j)])
    """

    scalars: NDArray[np.complex128]
    eta: float


def aircomp_mse(
    beamformer: Any,
    channels: Any,
    *,
    power_w: float,
    noise_w: float,
    weights: Any = None,
) -> float:
    """Mean squared error of over-the-air aggregation with receive beamformer ``m``.

    Computes ``MSE(m, S) = noise_w * ||m||^2 * max_i w_i^2 / (P_i |m^H h_i|^2)`` over the
    devices whose channels are given (the rows of ``channels``), with ``P_i`` device
    ``i``'s power budget (``power_w``, one scalar for all devices or one entry each).
    It is the error of the
    estimator ``g_hat = m^H y / sqrt(eta)`` of ``g = sum_i w_i s_i`` with the transmit
    scalars of :func:`transmit_scalars`.  The value is invariant to scaling ``m``.

    Parameters
    ----------
    beamformer : array_like of complex, shape (N,)
        Receive beamformer ``m`` (any non-zero scale).
    channels : array_like of complex, shape (K, N)
        Channel ``h_i`` of device ``i`` in row ``i`` (a real array is a valid complex one).
        ``K = 0`` gives ``0.0`` (nothing to aggregate).
    power_w : float or array_like of float, shape (K,)
        Transmit power budget in watts, ``> 0``: one ``P`` for every device, or device
        ``i``'s own budget ``P_i`` in entry ``i``.
    noise_w : float
        Receiver noise power ``sigma^2`` per antenna in watts, ``> 0``.
    weights : array_like of float, shape (K,), optional
        Aggregation weights ``w_i > 0`` (e.g. local data-set sizes); default all ones.

    Returns
    -------
    float
        The MSE; ``inf`` when ``m`` is orthogonal to some ``h_i`` (that device cannot be
        aligned), never NaN.

    Raises
    ------
    InvalidInputError
        Non-numeric or non-finite channels, wrong shapes, a zero beamformer, non-positive
        power, noise or weights.

    References
    ----------
    K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air computation,"
    IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020, eq. (8)-(10).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.aircomp import aircomp_mse
    >>> h = np.array([[1 + 1j, 0j], [0j, 2j]])
    >>> m = np.array([1 + 0j, 1 + 0j])
    >>> round(aircomp_mse(m, h, power_w=1.0, noise_w=0.1), 4)
    0.1
    >>> round(aircomp_mse(m, h, power_w=[0.5, 4.0], noise_w=0.1), 4)  # per-device budgets
    0.2
    """
    h = check_channels(channels)
    m = check_beamformer(beamformer, h.shape[1])
    power = check_powers(power_w, h.shape[0])
    noise = check_scalar(noise_w, "noise_w", positive=True)
    w = check_weights(weights, h.shape[0])
    return _mse(m, h, power, noise, w)


def _mse(
    m: NDArray[np.complex128],
    h: NDArray[np.complex128],
    power: NDArray[np.float64],
    noise: float,
    w: NDArray[np.float64],
    mask: NDArray[np.bool_] | None = None,
) -> float:
    """:func:`aircomp_mse` on validated input (``power``: the ``(K,)`` budgets), over the
    rows in ``mask`` (default all)."""
    if mask is None:
        mask = np.ones(h.shape[0], dtype=np.bool_)
    return float(mse_masked(h, m, w, mask, power, noise))


def transmit_scalars(
    beamformer: Any,
    channels: Any,
    *,
    power_w: float,
    weights: Any = None,
) -> TransmitScalars:
    """Zero-forcing transmit scalars ``b_i`` and the receive normalization ``eta``.

    ``b_i = sqrt(eta) * w_i * conj(m^H h_i) / |m^H h_i|^2`` so that ``m^H h_i b_i =
    sqrt(eta) w_i`` (every device arrives with its weight), and
    ``eta = min_i P_i |m^H h_i|^2 / w_i^2``, the largest value for which every
    ``|b_i|^2 <= P_i`` (``P_i``: device ``i``'s power budget, ``power_w``).

    Parameters
    ----------
    beamformer : array_like of complex, shape (N,)
        Receive beamformer ``m``.
    channels : array_like of complex, shape (K, N)
        Channels of the transmitting devices, one per row, ``K >= 1``.
    power_w : float or array_like of float, shape (K,)
        Power budget in watts, ``> 0``: one ``P`` for every device or device ``i``'s own
        ``P_i`` in entry ``i``.
    weights : array_like of float, shape (K,), optional
        Aggregation weights ``w_i > 0``; default all ones.

    Returns
    -------
    TransmitScalars
        ``scalars``: the ``b_i``, complex128 ``(K,)``, ``|b_i|^2 <= P_i`` with equality for
        the device that sets ``eta`` (up to rounding); ``eta``: the receive normalization
        ``eta > 0`` (``0.0`` if ``m`` is
        orthogonal to some channel, in which case ``scalars`` is all zeros).

    Raises
    ------
    InvalidInputError
        As :func:`aircomp_mse`, and for ``K = 0``.

    References
    ----------
    K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air computation,"
    IEEE Trans. Wireless Commun., 2020, eq. (6)-(9).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.aircomp import transmit_scalars
    >>> h = np.array([[1 + 1j, 0j], [0j, 2j]])
    >>> out = transmit_scalars(np.array([1 + 0j, 1 + 0j]), h, power_w=1.0)
    >>> round(out.eta, 6), np.round(np.abs(out.scalars) ** 2, 6).tolist()
    (2.0, [1.0, 0.5])
    >>> out = transmit_scalars(np.array([1 + 0j, 1 + 0j]), h, power_w=[1.0, 0.25])
    >>> round(out.eta, 6), np.round(np.abs(out.scalars) ** 2, 6).tolist()
    (1.0, [0.5, 0.25])
    """
    h = check_channels(channels, min_devices=1)
    m = check_beamformer(beamformer, h.shape[1])
    power = check_powers(power_w, h.shape[0])
    w = check_weights(weights, h.shape[0])
    inner = h @ np.conj(m)  # m^H h_i
    gains = np.abs(inner) ** 2
    if np.any(gains == 0.0):
        return TransmitScalars(np.zeros(h.shape[0], dtype=np.complex128), 0.0)
    eta = float(np.min(power * gains / w**2))
    b = np.sqrt(eta) * w * np.conj(inner) / gains
    return TransmitScalars(b.astype(np.complex128), eta)
