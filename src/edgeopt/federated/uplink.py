r"""The uplink of one federated round as pure functions over NumPy arrays.

The aggregation models of :mod:`edgeopt.federated.aggregation` are compositions of these
pieces; each can be called, and is tested, on its own.  Nothing here imports torch.

Over-the-air computation (Yang et al. 2020, Sec. II):

* :func:`normalize_updates`: map the selected devices' updates to entries of zero mean and
  unit variance with one common mean ``μ`` and standard deviation ``σ`` (the side
  information), and back (:meth:`NormalizedUpdates.denormalize_sum`);
* :func:`pack_complex` / :func:`unpack_complex`: two real entries per complex symbol,
  ``s_j = (z_{2j} + j·z_{2j+1})/√2``, so unit-variance entries give ``E|s_j|² = 1``;
* :func:`aircomp_receive`: the receive model ``y = Σ_i h_i b_i s_i + n`` and the estimate
  ``ĝ = mᴴy/√η``, whose error has the variance :func:`edgeopt.aircomp.aircomp_mse`;
* :func:`aircomp_round_cost`: one analog slot of ``⌈d/2⌉`` symbols.

Digital uplinks: :func:`digital_rates` (Shannon rates with maximum-ratio combining, TDMA or
FDMA) and :func:`digital_round_cost` (TDMA or FDMA round latency and energy, through
:mod:`edgeopt.cost`).

A round deadline: :func:`deadline_mask` says which devices' uploads end by it, under each
access scheme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_broadcast,
    check_channels,
    check_choice,
    check_complex_array,
    check_int,
    check_rng,
    check_scalar,
    invalid_inputs,
)

__all__ = [
    "ACCESS_SCHEMES",
    "NormalizedUpdates",
    "RoundCost",
    "normalize_updates",
    "pack_complex",
    "unpack_complex",
    "aircomp_receive",
    "aircomp_round_cost",
    "digital_rates",
    "digital_round_cost",
    "deadline_mask",
    "ROUND_SCHEDULES",
]

#: Multiple-access schemes of the digital uplink.
ACCESS_SCHEMES = ("tdma", "fdma")
#: How the uploads of a round are scheduled, for :func:`deadline_mask`: one after the other
#: once every admitted device has computed (``"tdma"``), or each device's own upload right
#: after its computation, in parallel (``"fdma"``, and ``"aircomp"``'s one common slot).
ROUND_SCHEDULES = ("tdma", "fdma", "aircomp")


@dataclass(frozen=True)
class NormalizedUpdates:
    """Updates mapped to zero mean and unit variance with one common mean and scale.

    Parameters
    ----------
    values : numpy.ndarray of float64, shape (K, d)
        ``z_i = (u_i − μ)/σ``.
    mean : float
        Common mean ``μ`` of all ``K·d`` entries (side information).
    scale : float
        Their standard deviation ``σ`` (``1.0`` when every entry is equal).

    Examples
    --------
    >>> from edgeopt.federated.uplink import normalize_updates
    >>> norm = normalize_updates([[1.0, 3.0], [1.0, 3.0]])
    >>> norm.values.tolist(), norm.mean, norm.scale
    ([[-1.0, 1.0], [-1.0, 1.0]], 2.0, 1.0)
    """

    values: NDArray[np.float64]
    mean: float
    scale: float

    def denormalize_sum(self, normalized_sum: Any, weight_sum: float) -> NDArray[np.float64]:
        """Turn an estimate of ``Σ_i w_i z_i`` into one of ``Σ_i w_i u_i``.

        ``Σ_i w_i u_i = σ Σ_i w_i z_i + μ Σ_i w_i`` (linear, so an error in the normalized
        sum is scaled by ``σ``).

        Parameters
        ----------
        normalized_sum : array_like of float, shape (d,)
            Estimate of the weighted sum of the normalized updates.
        weight_sum : float
            ``Σ_i w_i`` over the same devices.

        Returns
        -------
        numpy.ndarray of float64, shape (d,)

        Raises
        ------
        InvalidInputError
            Non-finite values or a non-finite ``weight_sum``.

        Examples
        --------
        >>> from edgeopt.federated.uplink import normalize_updates
        >>> norm = normalize_updates([[1.0, 3.0], [5.0, 7.0]])
        >>> norm.denormalize_sum(norm.values.sum(axis=0), 2.0).tolist()  # w_i = 1
        [6.0, 10.0]
        """
        g = check_array(normalized_sum, "normalized_sum", ndim=1)
        w_sum = check_scalar(weight_sum, "weight_sum")
        return np.asarray(self.scale * g + self.mean * w_sum)


def normalize_updates(updates: Any) -> NormalizedUpdates:
    """Normalize updates with their common mean and standard deviation (side information).

    Each device reports the sum and the sum of squares of its entries (two scalars), the
    server broadcasts the common mean ``μ`` and standard deviation ``σ`` of all entries,
    and device ``i`` transmits ``z_i = (u_i − μ)/σ`` (Yang et al. 2020, Sec. II-A: symbols
    of zero mean and unit variance).  Over all ``K·d`` entries, ``z`` has mean 0 and mean
    square 1 exactly.

    Parameters
    ----------
    updates : array_like of float, shape (K, d)
        The updates of the transmitting devices, ``K, d >= 1``.

    Returns
    -------
    NormalizedUpdates
        ``z``, ``μ`` and ``σ`` (``σ = 1`` when all entries are equal, so ``z = 0``).

    Raises
    ------
    InvalidInputError
        Not a finite, non-empty 2-D array.

    References
    ----------
    K. Yang, T. Jiang, Y. Shi and Z. Ding, "Federated learning via over-the-air
    computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, 2020, Sec. II-A.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.federated.uplink import normalize_updates
    >>> norm = normalize_updates(np.array([[0.0, 2.0], [4.0, 6.0]]))
    >>> norm.mean, round(norm.scale, 4), round(float(np.mean(norm.values ** 2)), 12)
    (3.0, 2.2361, 1.0)
    """
    x = check_array(updates, "updates", ndim=2, allow_empty=False)
    mean = float(x.mean())
    scale = float(x.std())
    if scale == 0.0:
        scale = 1.0
    return NormalizedUpdates(values=(x - mean) / scale, mean=mean, scale=scale)


def pack_complex(values: Any) -> NDArray[np.complex128]:
    """Pack real entries two per complex symbol: ``s_j = (z_{2j} + j·z_{2j+1})/√2``.

    An odd last axis is padded with one zero.  Entries of mean square 1 give symbols of
    mean power ``E|s_j|² = 1``; the total energy is preserved up to the factor
    ``Σ|s|² = Σ z² / 2``.

    Parameters
    ----------
    values : array_like of float, shape (..., d)
        Real entries, ``d >= 1``, packed along the last axis.

    Returns
    -------
    numpy.ndarray of complex128, shape (..., ⌈d/2⌉)

    Raises
    ------
    InvalidInputError
        Non-finite or complex values, a 0-d input or an empty last axis.

    See Also
    --------
    unpack_complex : the inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.federated.uplink import pack_complex
    >>> (pack_complex([1.0, -1.0, 2.0]) * np.sqrt(2)).tolist()
    [(1-1j), (2+0j)]
    """
    z = check_array(values, "values")
    if z.ndim == 0 or z.shape[-1] == 0:
        raise invalid_inputs(f"values (shape {z.shape})", "at least one entry along the last axis")
    if z.shape[-1] % 2:
        z = np.concatenate([z, np.zeros((*z.shape[:-1], 1))], axis=-1)
    return np.asarray((z[..., 0::2] + 1j * z[..., 1::2]) / math.sqrt(2.0))


def unpack_complex(symbols: Any, dim: int) -> NDArray[np.float64]:
    """Undo :func:`pack_complex`: ``z_{2j} = √2·Re s_j``, ``z_{2j+1} = √2·Im s_j``.

    Parameters
    ----------
    symbols : array_like of complex, shape (..., ⌈dim/2⌉)
        Complex symbols (or estimates of them).
    dim : int >= 1
        Number of real entries to return (drops the padding of an odd ``dim``).

    Returns
    -------
    numpy.ndarray of float64, shape (..., dim)

    Raises
    ------
    InvalidInputError
        Non-finite symbols, or a last axis that is not ``⌈dim/2⌉`` long.

    See Also
    --------
    pack_complex : the packing.

    Examples
    --------
    >>> from edgeopt.federated.uplink import pack_complex, unpack_complex
    >>> unpack_complex(pack_complex([0.5, -2.0, 3.0]), 3).round(12).tolist()
    [0.5, -2.0, 3.0]
    """
    d = check_int(dim, "dim")
    s = check_complex_array(symbols, "symbols")
    n_sym = math.ceil(d / 2)
    if s.ndim == 0 or s.shape[-1] != n_sym:
        raise invalid_inputs(
            f"symbols (shape {s.shape}), dim={d}", f"{n_sym} symbols on the last axis"
        )
    out = np.empty((*s.shape[:-1], 2 * n_sym))
    out[..., 0::2] = math.sqrt(2.0) * s.real
    out[..., 1::2] = math.sqrt(2.0) * s.imag
    return out[..., :d]


def aircomp_receive(
    symbols: Any,
    channels: Any,
    scalars: Any,
    beamformer: Any,
    *,
    eta: float,
    noise_w: float,
    rng: Any = None,
) -> NDArray[np.complex128]:
    r"""The AirComp receive model and estimator: ``ĝ = mᴴ(Σ_i h_i b_i s_i + n)/√η``.

    The ``K`` devices send their symbol streams at once; the server receives
    ``y = Σ_i h_i b_i s_i + n``, ``n ~ CN(0, σ_n² I)`` i.i.d. over antennas and symbols,
    and estimates ``g = Σ_i w_i s_i`` by ``ĝ = mᴴy/√η`` (Yang et al. 2020, Eq. (6)–(8)).
    With the zero-forcing scalars of :func:`edgeopt.aircomp.transmit_scalars`
    (``mᴴh_i b_i = √η w_i``), ``ĝ = Σ_i w_i s_i + mᴴn/√η``: unbiased, with error
    ``E|ĝ_j − g_j|² = σ_n²‖m‖²/η``, which is :func:`edgeopt.aircomp.aircomp_mse` (Eq. (10)).

    Parameters
    ----------
    symbols : array_like of complex, shape (K, S)
        ``S`` symbols of each device (rows follow ``channels``).
    channels : array_like of complex, shape (K, N)
        Channel ``h_i`` of each transmitting device.
    scalars : array_like of complex, shape (K,)
        Transmit scalars ``b_i``.
    beamformer : array_like of complex, shape (N,)
        Receive beamformer ``m``.
    eta : float > 0
        Receive normalization ``η``.
    noise_w : float >= 0
        Receiver noise power ``σ_n²`` per antenna (0: noiseless, ``rng`` unused).
    rng : numpy.random.Generator, int or None
        Source of the receiver noise (``2·N·S`` standard normal draws).

    Returns
    -------
    numpy.ndarray of complex128, shape (S,)
        The estimate ``ĝ`` of each symbol of the weighted sum.

    Raises
    ------
    InvalidInputError
        Shapes that disagree, non-finite values, ``eta <= 0`` or ``noise_w < 0``.

    References
    ----------
    K. Yang, T. Jiang, Y. Shi and Z. Ding, "Federated learning via over-the-air
    computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, 2020, Eq. (6)–(10).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.aircomp import transmit_scalars
    >>> from edgeopt.federated.uplink import aircomp_receive
    >>> h = np.array([[1 + 1j, 0j], [0.5j, 2 + 0j]])
    >>> m = np.array([1 + 0j, 1 + 0j])
    >>> tx = transmit_scalars(m, h, power_w=1.0, weights=[1.0, 2.0])
    >>> s = np.array([[1 + 0j, 1j], [1 + 0j, -1 + 0j]])  # w1 s1 + w2 s2:
    >>> aircomp_receive(s, h, tx.scalars, m, eta=tx.eta, noise_w=0.0).round(12).tolist()
    [(3+0j), (-2+1j)]
    """
    s = check_complex_array(symbols, "symbols", ndim=2)
    h = check_channels(channels, "channels")
    b = check_complex_array(scalars, "scalars", ndim=1)
    m = check_complex_array(beamformer, "beamformer", ndim=1)
    if not (s.shape[0] == h.shape[0] == b.shape[0]) or m.shape[0] != h.shape[1]:
        raise invalid_inputs(
            f"symbols (shape {s.shape}), channels (shape {h.shape}), scalars (shape "
            f"{b.shape}), beamformer (shape {m.shape})",
            "K rows of symbols, channels and scalars, and N = channels.shape[1] entries "
            "of beamformer",
        )
    root_eta = math.sqrt(check_scalar(eta, "eta", positive=True))
    noise = check_scalar(noise_w, "noise_w", nonneg=True)
    y = h.T @ (b[:, None] * s)  # (N, S)
    if noise > 0:
        draw = check_rng(rng).standard_normal((2, h.shape[1], s.shape[1]))
        y = y + math.sqrt(noise / 2.0) * (draw[0] + 1j * draw[1])
    return np.asarray((np.conj(m) @ y) / root_eta, dtype=np.complex128)


@dataclass(frozen=True)
class RoundCost:
    """Wall time and energy of one round's uplink plus the computation before it.

    Parameters
    ----------
    latency_s : float
        Round latency, seconds.
    energy_j : float
        Energy of all devices charged in the round (transmission plus computation), joules.

    Examples
    --------
    >>> from edgeopt.federated.uplink import RoundCost
    >>> RoundCost(latency_s=0.5, energy_j=2.0).latency_s
    0.5
    """

    latency_s: float
    energy_j: float


def aircomp_round_cost(
    transmitted: Any, compute_s: Any, compute_energy_j: Any, *, bandwidth_hz: float
) -> RoundCost:
    """Cost of one analog over-the-air slot after the devices' computation.

    The ``S`` symbols of the devices go out at the same time at symbol rate ``B`` (symbol
    period ``1/B``), so the slot lasts ``S/B`` seconds whatever the number of devices; the
    round lasts ``max_i T_i + S/B``.  Device ``i`` spends its realized symbol energy
    ``Σ_j |x_ij|²/B`` (``x_ij = b_i s_ij``) plus its computation energy ``E_i``.

    Parameters
    ----------
    transmitted : array_like of complex, shape (K, S)
        The transmitted symbols ``x_ij`` (amplitude in √W), ``K >= 1``.
    compute_s : array_like of float, shape (K,)
        Computation time ``T_i`` of each transmitting device, seconds.
    compute_energy_j : array_like of float, shape (K,)
        Computation energy ``E_i``, joules.
    bandwidth_hz : float > 0
        Symbol rate ``B`` of the analog uplink.

    Returns
    -------
    RoundCost
        ``latency_s = max_i T_i + S/B``, ``energy_j = Σ_ij |x_ij|²/B + Σ_i E_i``.

    Raises
    ------
    InvalidInputError
        Shapes that disagree, no device, negative or non-finite values, ``B <= 0``.

    References
    ----------
    G. Zhu, Y. Wang and K. Huang, "Broadband analog aggregation for low-latency federated
    edge learning," IEEE Trans. Wireless Commun., vol. 19, no. 1, 2020, Sec. II (one
    aggregation slot for all devices).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.federated.uplink import aircomp_round_cost
    >>> cost = aircomp_round_cost(np.full((2, 3), 1 + 1j), [0.1, 0.2], [1.0, 1.0],
    ...                           bandwidth_hz=1e3)
    >>> round(cost.latency_s, 6), round(cost.energy_j, 6)  # 0.2 + 3/1e3, 12/1e3 + 2
    (0.203, 2.012)
    """
    x = check_complex_array(transmitted, "transmitted", ndim=2)
    k = x.shape[0]
    t = check_array(compute_s, "compute_s", shape=(k,), nonneg=True, allow_empty=False)
    e = check_array(compute_energy_j, "compute_energy_j", shape=(k,), nonneg=True)
    band = check_scalar(bandwidth_hz, "bandwidth_hz", positive=True)
    latency = float(t.max()) + x.shape[1] / band
    energy = float(np.sum(x.real**2 + x.imag**2)) / band + float(e.sum())
    return RoundCost(latency_s=latency, energy_j=energy)


def digital_rates(
    channel_gain: Any, *, bandwidth_hz: float, power_w: Any, noise_w: float, access: str
) -> NDArray[np.float64]:
    """Shannon rate of each device with maximum-ratio combining, TDMA or FDMA.

    * TDMA: each device has the whole band in its own slot,
      ``r_i = B log2(1 + P_i‖h_i‖²/σ²)``;
    * FDMA: each has a ``B/K`` sub-band with noise ``σ²/K``,
      ``r_i = (B/K) log2(1 + K P_i‖h_i‖²/σ²)``.

    Parameters
    ----------
    channel_gain : array_like of float, shape (K,)
        ``‖h_i‖²`` after maximum-ratio combining (``numpy.sum(abs(h)**2, axis=-1)``).
    bandwidth_hz : float > 0
        Total band ``B``.
    power_w : float or array_like of float, shape (K,), > 0
        Transmit power ``P_i``.
    noise_w : float > 0
        Receiver noise power ``σ²`` over ``B``, per antenna.
    access : {"tdma", "fdma"}

    Returns
    -------
    numpy.ndarray of float64, shape (K,)
        Rates in bit/s.

    Raises
    ------
    InvalidInputError
        Negative or non-finite gains, non-positive band, power or noise, an unknown
        access scheme, powers of another length.

    References
    ----------
    C. E. Shannon, "A mathematical theory of communication," 1948; M. Chen et al., "A joint
    learning and communications framework for federated learning over wireless networks,"
    IEEE Trans. Wireless Commun., vol. 20, no. 1, 2021, Eq. (2) (FDMA uplink rate).

    Examples
    --------
    >>> from edgeopt.federated.uplink import digital_rates
    >>> digital_rates([1.0, 3.0], bandwidth_hz=1e6, power_w=1.0, noise_w=1.0,
    ...               access="tdma").tolist()
    [1000000.0, 2000000.0]
    >>> digital_rates([1.0, 3.0], bandwidth_hz=1e6, power_w=0.5, noise_w=1.0,
    ...               access="fdma").tolist()  # (B/2) log2(1 + 2 P g)
    [500000.0, 1000000.0]
    """
    from edgeopt.channel import shannon_rate

    gain = check_array(channel_gain, "channel_gain", ndim=1, nonneg=True, allow_empty=False)
    band = check_scalar(bandwidth_hz, "bandwidth_hz", positive=True)
    power = check_array(power_w, "power_w", ndim=(0, 1), positive=True)
    noise = check_scalar(noise_w, "noise_w", positive=True)
    scheme = check_choice(access, "access", ACCESS_SCHEMES)
    gain, power = check_broadcast(channel_gain=gain, power_w=power)
    k = gain.shape[0]
    if scheme == "tdma":
        return np.asarray(shannon_rate(band, power * gain / noise))
    return np.asarray(shannon_rate(band / k, k * power * gain / noise))


def digital_round_cost(
    payload_bits: Any,
    rate_bps: Any,
    compute_s: Any,
    compute_energy_j: Any,
    *,
    power_w: Any,
    access: str,
) -> RoundCost:
    """Latency and energy of a digital round, TDMA or FDMA.

    * TDMA: all devices compute in parallel, then transmit one after the other; the round
      lasts ``max_i T_i + Σ_i L_i/r_i``;
    * FDMA: each transmits on its own sub-band as soon as it is done; the round lasts
      ``max_i (L_i/r_i + T_i)`` (:func:`edgeopt.cost.round_latency`).

    The energy is ``Σ_i (P_i L_i/r_i + E_i)`` under both
    (:func:`edgeopt.cost.transmit_energy` plus computation).

    Parameters
    ----------
    payload_bits : array_like of float, shape (K,)
        Message length ``L_i`` of each device, bits.
    rate_bps : array_like of float, shape (K,), > 0
        Its rate ``r_i`` (e.g. :func:`digital_rates`).
    compute_s, compute_energy_j : array_like of float, shape (K,)
        Computation time ``T_i`` (s) and energy ``E_i`` (J).
    power_w : float or array_like of float, shape (K,)
        Transmit power ``P_i``.
    access : {"tdma", "fdma"}

    Returns
    -------
    RoundCost

    Raises
    ------
    InvalidInputError
        Shapes that disagree, negative or non-finite values, a rate <= 0, an unknown
        access scheme.

    References
    ----------
    N. H. Tran et al., "Federated learning over wireless networks: optimization model
    design and analysis," IEEE INFOCOM 2019, Eq. (6)–(7); M. Chen et al., IEEE Trans.
    Wireless Commun., 2021 (FDMA round latency and energy).

    Examples
    --------
    >>> from edgeopt.federated.uplink import digital_round_cost
    >>> tdma = digital_round_cost([1e6, 1e6], [1e6, 2e6], [0.1, 0.3], [0.0, 0.0],
    ...                           power_w=0.2, access="tdma")
    >>> round(tdma.latency_s, 9), round(tdma.energy_j, 9)  # 0.3 + 1 + 0.5; 0.2 * 1.5
    (1.8, 0.3)
    >>> digital_round_cost([1e6, 1e6], [1e6, 2e6], [0.1, 0.3], [0.0, 0.0],
    ...                    power_w=0.2, access="fdma").latency_s  # max(1.1, 0.8)
    1.1
    """
    from edgeopt.cost import round_latency, transmit_energy

    bits = check_array(payload_bits, "payload_bits", ndim=1, nonneg=True, allow_empty=False)
    k = bits.shape[0]
    rate = check_array(rate_bps, "rate_bps", shape=(k,), positive=True)
    t = check_array(compute_s, "compute_s", shape=(k,), nonneg=True)
    e = check_array(compute_energy_j, "compute_energy_j", shape=(k,), nonneg=True)
    scheme = check_choice(access, "access", ACCESS_SCHEMES)
    tx_energy = transmit_energy(power_w, bits, rate)
    if scheme == "tdma":
        latency = float(t.max()) + float(np.sum(bits / rate))
    else:
        latency = float(round_latency(bits, rate, t))
    return RoundCost(latency_s=latency, energy_j=float(np.sum(tx_energy)) + float(e.sum()))


def deadline_mask(
    compute_s: Any, upload_s: Any, *, deadline_s: float | None, access: str
) -> NDArray[np.bool_]:
    """Which devices' uploads end by the round's deadline.

    * ``"fdma"`` and ``"aircomp"``: device ``i`` uploads right after its computation, in
      parallel with the others, and makes the deadline iff ``T_i + U_i <= D`` (for AirComp
      ``U_i = S/B``, the one aggregation slot);
    * ``"tdma"``: devices are admitted in the order their computations finish (ties by
      index) while the slot schedule still ends by the deadline: the slots start when the
      last admitted device has computed, so admitting the ``j``-th device in that order
      ends the schedule at ``T_(j) + Σ_{l<=j} U_(l)``, which grows with ``j``; the admitted
      devices are those for which it is ``<= D``.

    The round then lasts ``max_i (T_i + U_i)`` over the admitted devices (parallel) or
    ``max_i T_i + Σ_i U_i`` (TDMA), both ``<= D``.

    Parameters
    ----------
    compute_s : array_like of float, shape (K,)
        Computation time ``T_i`` of each device, seconds, >= 0.
    upload_s : array_like of float, shape (K,)
        Its upload time ``U_i`` (``L_i/r_i``; ``S/B`` for AirComp), seconds, >= 0.
    deadline_s : float > 0 or None
        The deadline ``D`` from the start of the round; ``None``: every device makes it.
    access : {"tdma", "fdma", "aircomp"}
        The schedule (:data:`ROUND_SCHEDULES`).

    Returns
    -------
    numpy.ndarray of bool, shape (K,)
        ``True`` for the devices whose update arrives in time.

    Raises
    ------
    InvalidInputError
        Shapes that disagree, negative or non-finite times, ``deadline_s <= 0``, an
        unknown schedule.

    Examples
    --------
    >>> from edgeopt.federated.uplink import deadline_mask
    >>> t, u = [0.1, 0.3, 0.2], [0.4, 0.1, 0.3]
    >>> deadline_mask(t, u, deadline_s=0.5, access="fdma").tolist()  # 0.5, 0.4, 0.5
    [True, True, True]
    >>> deadline_mask(t, u, deadline_s=0.5, access="tdma").tolist()  # 0.1+0.4, 0.2+0.7
    [True, False, False]
    """
    t = check_array(compute_s, "compute_s", ndim=1, nonneg=True)
    up = check_array(upload_s, "upload_s", shape=t.shape, nonneg=True)
    scheme = check_choice(access, "access", ROUND_SCHEDULES)
    if deadline_s is None:
        return np.ones(t.shape, dtype=bool)
    deadline = check_scalar(deadline_s, "deadline_s", positive=True)
    if scheme != "tdma":
        return np.asarray(t + up <= deadline)
    order = np.argsort(t, kind="stable")
    ends = t[order] + np.cumsum(up[order])
    mask = np.zeros(t.shape, dtype=bool)
    mask[order[ends <= deadline]] = True
    return mask
