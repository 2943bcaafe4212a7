"""Closed-form latency and energy models (vectorized, broadcasting).

Shapes: every argument is a scalar or an array; the arguments broadcast against each other
with NumPy rules and the result has the broadcast shape.  In :func:`round_latency` the
devices are on the last axis and are reduced away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import check_array, check_broadcast, check_result_finite, invalid_inputs

__all__ = ["total_latency", "round_latency", "compute_time", "compute_energy", "transmit_energy"]

_OVERFLOW_HINT = "values whose result is finite in float64 (check the units)"


def _evaluate(
    formula: Callable[..., NDArray[np.float64]], **arrays: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``formula`` of the checked arrays broadcast together; an overflow is refused."""
    values = check_broadcast(**arrays)
    with np.errstate(over="ignore", invalid="ignore"):
        out = formula(*values)
    check_result_finite(out, ", ".join(arrays), _OVERFLOW_HINT)
    return np.asarray(out, dtype=np.float64)


def total_latency(
    payload_bits: Any, rate_bps: Any, rounds: Any, compute_s: Any
) -> NDArray[np.float64]:
    """Wall-clock latency of ``N`` training rounds: ``L/r·N + T·N``.

    Each round sends a payload of ``L`` bits at rate ``r`` and computes for ``T`` seconds;
    the rounds run back to back.

    Parameters
    ----------
    payload_bits : array_like, >= 0
        Payload ``L`` per round, bits.
    rate_bps : array_like, > 0
        Link rate ``r``, bit/s.
    rounds : array_like, >= 0
        Number of rounds ``N`` (real values are allowed, e.g. an expected round count from a
        convergence bound).
    compute_s : array_like, >= 0
        Computation time ``T`` per round, seconds.

    Returns
    -------
    numpy.ndarray of float64, seconds
        Broadcast shape of the inputs.

    Raises
    ------
    InvalidInputError
        Negative payload, rounds or compute time, a rate <= 0, NaN/inf, or shapes that do
        not broadcast.

    References
    ----------
    The edge-learning survey's Eq. (1): Latency = L/r·N + T·N.

    Examples
    --------
    >>> from edgeopt.cost import total_latency
    >>> float(total_latency(1e6, 1e7, 100, 0.05))   # 0.1 s air + 0.05 s compute, 100 rounds
    15.0
    """
    return _evaluate(
        lambda pay, rate, n, comp: np.where(
            n == 0, 0.0, pay / rate * n + comp * n
        ),  # 0 rounds: 0 s
        payload_bits=check_array(payload_bits, "payload_bits", nonneg=True),
        rate_bps=check_array(rate_bps, "rate_bps", positive=True),
        rounds=check_array(rounds, "rounds", nonneg=True),
        compute_s=check_array(compute_s, "compute_s", nonneg=True),
    )


def round_latency(payload_bits: Any, rate_bps: Any, compute_s: Any) -> NDArray[np.float64]:
    """Latency of one synchronous round: the slowest device's ``L_i/r_i + T_i``.

    Parameters
    ----------
    payload_bits : array_like, shape (..., K) or broadcastable, >= 0
        Payload of each device, bits.
    rate_bps : array_like, shape (..., K) or broadcastable, > 0
        Uplink rate of each device, bit/s.
    compute_s : array_like, shape (..., K) or broadcastable, >= 0
        Local computation time of each device, seconds.

    Returns
    -------
    numpy.ndarray of float64, shape (...)
        ``max_i (L_i/r_i + T_i)`` over the last (device) axis, seconds.

    Raises
    ------
    InvalidInputError
        Bad values as in :func:`total_latency`, or inputs that are all scalars (there is no
        device axis to reduce).

    References
    ----------
    Synchronous FL round time, e.g. Tran et al., "Federated learning over wireless networks:
    optimization model design and analysis", IEEE INFOCOM 2019, Eq. (6).

    Examples
    --------
    >>> from edgeopt.cost import round_latency
    >>> float(round_latency([1e6, 1e6], [1e7, 2e6], [0.2, 0.1]))   # max(0.3, 0.6)
    0.6
    """
    pay = check_array(payload_bits, "payload_bits", nonneg=True)
    rate = check_array(rate_bps, "rate_bps", positive=True)
    comp = check_array(compute_s, "compute_s", nonneg=True)
    pay, rate, comp = check_broadcast(payload_bits=pay, rate_bps=rate, compute_s=comp)
    if pay.ndim == 0:
        raise invalid_inputs(
            "payload_bits, rate_bps, compute_s (all scalars)",
            "at least one array with a device axis (last axis)",
        )
    if pay.shape[-1] == 0:
        raise invalid_inputs(
            f"payload_bits, rate_bps, compute_s (broadcast shape {pay.shape})",
            "at least one device on the last axis",
        )
    with np.errstate(over="ignore"):
        out = np.max(pay / rate + comp, axis=-1)
    check_result_finite(out, "payload_bits, rate_bps, compute_s", _OVERFLOW_HINT)
    return np.asarray(out)


def compute_time(cycles: Any, freq_hz: Any) -> NDArray[np.float64]:
    """Computation time ``C/f`` of ``C`` CPU cycles at clock frequency ``f``.

    Parameters
    ----------
    cycles : array_like, >= 0
        Number of CPU cycles ``C``.
    freq_hz : array_like, > 0
        Clock frequency ``f``, Hz.

    Returns
    -------
    numpy.ndarray of float64, seconds

    Raises
    ------
    InvalidInputError
        Negative, NaN or inf entries (a rate or frequency <= 0 where it divides), shapes
        that do not broadcast, or a result that overflows float64.

    References
    ----------
    Tran et al., IEEE INFOCOM 2019, Eq. (3).

    Examples
    --------
    >>> from edgeopt.cost import compute_time
    >>> float(compute_time(2e9, 1e9))
    2.0
    """
    return _evaluate(
        lambda c, f: c / f,
        cycles=check_array(cycles, "cycles", nonneg=True),
        freq_hz=check_array(freq_hz, "freq_hz", positive=True),
    )


def compute_energy(cycles: Any, freq_hz: Any, kappa: Any) -> NDArray[np.float64]:
    """CMOS computation energy ``κ·C·f²``.

    The dynamic power of a CMOS processor is ``κ·f³`` (supply voltage scaling with ``f``);
    over the ``C/f`` seconds that ``C`` cycles take, the energy is ``κ·C·f²``.

    Parameters
    ----------
    cycles : array_like, >= 0
        Number of CPU cycles ``C``.
    freq_hz : array_like, >= 0
        Clock frequency ``f``, Hz.
    kappa : array_like, >= 0
        Effective switched capacitance ``κ`` (J·s², typically 1e-28).

    Returns
    -------
    numpy.ndarray of float64, joules

    Raises
    ------
    InvalidInputError
        Negative, NaN or inf entries (a rate or frequency <= 0 where it divides), shapes
        that do not broadcast, or a result that overflows float64.

    References
    ----------
    T. D. Burd and R. W. Brodersen, "Processor design for portable systems", J. VLSI Signal
    Process., 1996; Tran et al., IEEE INFOCOM 2019, Eq. (4).

    Examples
    --------
    >>> from edgeopt.cost import compute_energy
    >>> round(float(compute_energy(1e9, 1e9, 1e-28)), 6)
    0.1
    """
    return _evaluate(
        lambda c, f, k: k * c * f * f,
        cycles=check_array(cycles, "cycles", nonneg=True),
        freq_hz=check_array(freq_hz, "freq_hz", nonneg=True),
        kappa=check_array(kappa, "kappa", nonneg=True),
    )


def transmit_energy(power_w: Any, payload_bits: Any, rate_bps: Any) -> NDArray[np.float64]:
    """Transmission energy ``p·L/r``: transmit power times air time.

    Parameters
    ----------
    power_w : array_like, >= 0
        Transmit power ``p``, watts.
    payload_bits : array_like, >= 0
        Payload ``L``, bits.
    rate_bps : array_like, > 0
        Rate ``r``, bit/s.

    Returns
    -------
    numpy.ndarray of float64, joules

    Raises
    ------
    InvalidInputError
        Negative, NaN or inf entries (a rate or frequency <= 0 where it divides), shapes
        that do not broadcast, or a result that overflows float64.

    References
    ----------
    Tran et al., IEEE INFOCOM 2019, Eq. (7).

    Examples
    --------
    >>> from edgeopt.cost import transmit_energy
    >>> float(transmit_energy(0.2, 1e6, 1e7))
    0.02
    """
    return _evaluate(
        lambda p, pay, rate: p * pay / rate,
        power_w=check_array(power_w, "power_w", nonneg=True),
        payload_bits=check_array(payload_bits, "payload_bits", nonneg=True),
        rate_bps=check_array(rate_bps, "rate_bps", positive=True),
    )
