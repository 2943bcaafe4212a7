r"""Aggregation models: how the clients' updates reach the server, and what a round costs.

All models share one interface.  At every round the training loop hands the stacked local
updates ``u_i`` (``(K, d)``), the local data sizes ``n_i`` and each device's computation
time and energy to :meth:`Aggregation.aggregate`, which returns an :class:`AggregationOutcome`:
the global update the server applies, the devices that took part, and the round's latency
and energy.

* :class:`IdealAggregation`: the exact weighted average ``Σ n_i u_i / Σ n_i``; the uplink is
  free, the round lasts as long as the slowest device computes.
* :class:`DigitalAggregation`: error-free digital links at the Shannon rate of a freshly
  drawn channel, TDMA or FDMA, optionally compressed (:mod:`edgeopt.federated.compress`).
* :class:`AirCompAggregation`: over-the-air computation with device selection and receive
  beamforming (Yang et al. 2020), the receiver noise actually added.

Computation is charged only to the devices whose updates are aggregated: device selection
depends on the channel alone, so an unselected device need not train in a real system (the
simulator trains it anyway and discards its update).  A round in which no device can be
selected leaves the model unchanged and costs nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_choice,
    check_int,
    check_rng,
    check_scalar,
)
from edgeopt.errors import InvalidInputError
from edgeopt.federated.compress import Compressor
from edgeopt.status import OPTIMAL

__all__ = [
    "AggregationOutcome",
    "Aggregation",
    "IdealAggregation",
    "DigitalAggregation",
    "AirCompAggregation",
]


@dataclass(frozen=True)
class AggregationOutcome:
    """Result of one round of aggregation.

    Parameters
    ----------
    update : torch.Tensor, shape (d,)
        The global update the server adds to the model.
    selected : numpy.ndarray of bool, shape (K,)
        Devices whose updates were aggregated.
    round_latency_s : float
        Computation plus uplink time of the round.
    energy_j : float
        Energy of all devices in the round: computation plus transmission.
    uplink_bits : float
        Bits sent by all devices (``0`` for analog AirComp).
    mse : float
        AirComp only (else 0; ``inf`` when no device is selected): the predicted error
        variance of each real entry of the *normalized* weighted sum ``Σ_{i∈S} w_i z_i``,
        ``z_i = (u_i − μ)/σ`` with the round's common mean and standard deviation (unit
        symbol power, see :class:`AirCompAggregation`), i.e.
        :func:`edgeopt.aircomp.aircomp_mse`.  It is dimensionless, not in model units: the
        error variance of an entry of ``update`` is ``mse · scale² / (Σ_{i∈S} w_i)²``
        with ``scale`` and ``weights`` from ``info``.
    status : str
        Status of the device-selection solver (AirComp), else
        :data:`edgeopt.status.OPTIMAL`.
    info : dict
        Model-specific diagnostics (AirComp: ``eta``, ``scale``, ``mean``, ``weights``,
        ``symbols``; digital: ``rate_bps``).

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated import IdealAggregation
    >>> out = IdealAggregation().aggregate(torch.tensor([[2.0, 0.0], [0.0, 2.0]]), [1, 1],
    ...                                    compute_s=[0.5, 0.3], compute_energy_j=[1.0, 2.0])
    >>> out.update.tolist(), out.selected.tolist(), out.round_latency_s, out.energy_j
    ([1.0, 1.0], [True, True], 0.5, 3.0)
    >>> out.uplink_bits, out.mse, out.status
    (128.0, 0.0, 'optimal')
    """

    update: torch.Tensor
    selected: NDArray[np.bool_]
    round_latency_s: float
    energy_j: float
    uplink_bits: float
    mse: float = 0.0
    status: str = OPTIMAL
    info: dict[str, Any] = field(default_factory=dict)


def _check_round_inputs(
    updates: Any, data_sizes: Any, compute_s: Any, compute_energy_j: Any
) -> tuple[torch.Tensor, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    if not isinstance(updates, torch.Tensor) or updates.ndim != 2 or updates.shape[0] < 1:
        raise InvalidInputError(
            f"updates={updates!r:.60} is invalid: expected a torch tensor of shape (K, d), K >= 1"
        )
    # amax/amin propagate NaN; no temporary of the updates' size is made.
    if not (bool(torch.isfinite(updates.amax())) and bool(torch.isfinite(updates.amin()))):
        raise InvalidInputError("updates is invalid: expected finite values (no NaN or inf)")
    k = updates.shape[0]
    sizes = check_array(data_sizes, "data_sizes", shape=(k,), positive=True)
    t = check_array(compute_s, "compute_s", shape=(k,), nonneg=True)
    e = check_array(compute_energy_j, "compute_energy_j", shape=(k,), nonneg=True)
    return updates, sizes, t, e


def _weighted_mean(updates: torch.Tensor, weights: NDArray[np.float64]) -> torch.Tensor:
    w = torch.as_tensor(weights / weights.sum(), dtype=updates.dtype, device=updates.device)
    return w @ updates


def _draw_channels(
    num_devices: int,
    num_antennas: int,
    distances_m: NDArray[np.float64] | None,
    channel_options: dict[str, Any],
    rng: np.random.Generator,
) -> NDArray[np.complex128]:
    from edgeopt.channel import rayleigh, uplink_channels

    if distances_m is None:
        return rayleigh((num_devices, num_antennas), rng)
    if distances_m.shape != (num_devices,):
        raise InvalidInputError(
            f"distances_m=array(shape={distances_m.shape}) is invalid: expected one distance "
            f"per client, shape ({num_devices},)"
        )
    return uplink_channels(distances_m, num_antennas, rng=rng, **channel_options)


class Aggregation:
    """Interface of the aggregation models (see the module docstring).

    A subclass implements :meth:`aggregate` and, if it keeps state across rounds,
    :meth:`reset`; :func:`~edgeopt.federated.run_fedavg` accepts any instance.

    Examples
    --------
    >>> from edgeopt.federated import Aggregation, IdealAggregation
    >>> isinstance(IdealAggregation(), Aggregation)
    True
    """

    def reset(self, num_clients: int, dim: int, device: Any = "cpu") -> None:
        """Prepare for a training run of ``num_clients`` clients and ``dim`` parameters.

        Stateless models (ideal, AirComp) do nothing; digital aggregation clears its
        compressor's per-client state.  :func:`~edgeopt.federated.run_fedavg` calls this
        once before round 1.

        Parameters
        ----------
        num_clients : int >= 1
            Number of clients ``K`` of the run.
        dim : int >= 1
            Number of model parameters ``d``.
        device : str or torch.device
            Torch device of the updates (default ``"cpu"``).

        Returns
        -------
        None

        Examples
        --------
        >>> from edgeopt.federated import IdealAggregation
        >>> IdealAggregation().reset(num_clients=4, dim=10) is None
        True
        """

    def aggregate(
        self,
        updates: torch.Tensor,
        data_sizes: Any,
        *,
        rng: Any = None,
        compute_s: Any,
        compute_energy_j: Any,
    ) -> AggregationOutcome:
        """Aggregate one round of updates.

        Parameters
        ----------
        updates : torch.Tensor, shape (K, d)
            Local updates (local model minus global model), one row per client.
        data_sizes : array_like, shape (K,)
            Local data-set sizes ``n_i > 0`` (the FedAvg weights).
        rng : numpy.random.Generator, int or None
            Channel, noise and compression randomness.
        compute_s, compute_energy_j : array_like, shape (K,)
            Each device's local computation time (s) and energy (J) in this round.

        Returns
        -------
        AggregationOutcome
            The global update, the devices that took part and the round's costs.

        Raises
        ------
        InvalidInputError
            Updates that are not a finite ``(K, d)`` tensor; sizes, times or energies of
            another shape, negative (sizes: not positive) or not finite.
        NotImplementedError
            On the base class itself.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import IdealAggregation
        >>> out = IdealAggregation().aggregate(torch.ones(3, 2), [1, 1, 1],
        ...                                    compute_s=[0, 0, 0], compute_energy_j=[0, 0, 0])
        >>> out.update.tolist()
        [1.0, 1.0]
        """
        raise NotImplementedError


class IdealAggregation(Aggregation):
    """The exact weighted average of FedAvg, over free links.

    ``Δ = Σ_i n_i u_i / Σ_i n_i`` (McMahan et al. 2017, Alg. 1); the round lasts
    ``max_i T_i`` and costs ``Σ_i E_i`` (computation only).  ``uplink_bits`` reports the
    lossless float32 payload, ``32·d`` per device, which is free here.

    References
    ----------
    H. B. McMahan et al., "Communication-efficient learning of deep networks from
    decentralized data," AISTATS 2017.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated import IdealAggregation
    >>> out = IdealAggregation().aggregate(torch.tensor([[1.0], [4.0]]), [1, 2],
    ...                                    compute_s=[0.1, 0.2], compute_energy_j=[1.0, 1.0])
    >>> out.update.tolist(), out.round_latency_s, out.energy_j
    ([3.0], 0.2, 2.0)
    """

    def aggregate(
        self,
        updates: torch.Tensor,
        data_sizes: Any,
        *,
        rng: Any = None,
        compute_s: Any,
        compute_energy_j: Any,
    ) -> AggregationOutcome:
        """The exact weighted average; the round costs computation only.

        Parameters
        ----------
        updates : torch.Tensor, shape (K, d)
            Local updates, one row per client.
        data_sizes : array_like, shape (K,)
            Local data-set sizes ``n_i > 0``.
        rng : ignored
            Accepted for the common interface; nothing is random here.
        compute_s, compute_energy_j : array_like, shape (K,)
            Each device's local computation time (s) and energy (J).

        Returns
        -------
        AggregationOutcome
            ``update = Σ n_i u_i / Σ n_i``, every device selected,
            ``round_latency_s = max_i T_i``, ``energy_j = Σ_i E_i``,
            ``uplink_bits = 32·d·K``.

        Raises
        ------
        InvalidInputError
            See :meth:`Aggregation.aggregate`.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import IdealAggregation
        >>> out = IdealAggregation().aggregate(torch.tensor([[0.0], [3.0]]), [2, 1],
        ...                                    compute_s=[1.0, 2.0], compute_energy_j=[1, 1])
        >>> out.update.tolist(), out.round_latency_s, out.energy_j
        ([1.0], 2.0, 2.0)
        """
        u, sizes, t, e = _check_round_inputs(updates, data_sizes, compute_s, compute_energy_j)
        k, d = u.shape
        return AggregationOutcome(
            update=_weighted_mean(u, sizes),
            selected=np.ones(k, dtype=bool),
            round_latency_s=float(t.max()),
            energy_j=float(e.sum()),
            uplink_bits=float(32 * d * k),
        )


class DigitalAggregation(Aggregation):
    """Error-free digital uplinks at Shannon rates over a fresh fading channel each round.

    Each round draws channels ``h_i`` (``CN(0, I)``, or with path loss from ``distances_m``
    through :func:`edgeopt.channel.uplink_channels`), uses maximum-ratio combining, and
    gives device ``i``:

    * TDMA: the whole band in its own slot, ``r_i = B log2(1 + P‖h_i‖²/σ²)``; the round lasts
      ``max_i T_i + Σ_i L_i / r_i`` (all compute in parallel, then transmit in turn);
    * FDMA: a ``B/K`` sub-band with noise ``σ²/K``, ``r_i = (B/K) log2(1 + K P‖h_i‖²/σ²)``;
      the round lasts ``max_i (L_i/r_i + T_i)`` (:func:`edgeopt.cost.round_latency`).

    The payload ``L_i`` is ``d · bits_per_entry`` or, with a compressor, its exact message
    length.  Energy is ``Σ_i (P L_i / r_i + E_i)`` (:func:`edgeopt.cost.transmit_energy`
    plus computation).  Without a compressor the values arrive exactly (``bits_per_entry``
    sets only the payload size).

    Parameters
    ----------
    bandwidth_hz : float > 0
        Total uplink bandwidth ``B``.
    power_w : float > 0
        Transmit power ``P`` of each device.
    noise_w : float > 0
        Receiver noise power ``σ²`` over ``B``, per antenna.
    bits_per_entry : int >= 1
        Bits per model entry without compression (default 32).
    compressor : Compressor, optional
        :class:`~edgeopt.federated.compress.QSGD`, :class:`~edgeopt.federated.compress.TopK`
        or :class:`~edgeopt.federated.compress.SignSGD`.
    access : {"tdma", "fdma"}
    num_antennas : int >= 1
        Receive antennas at the server (default 1).
    distances_m : array_like, shape (K,), optional
        Device distances for path loss; default unit-gain Rayleigh channels.
    channel_options : dict, optional
        Extra keyword arguments of :func:`edgeopt.channel.uplink_channels` (``pathloss``,
        ``shadowing_sigma_db``...), used with ``distances_m``.

    Raises
    ------
    InvalidInputError
        Non-positive bandwidth, power or noise, unknown access, a compressor of another type.

    References
    ----------
    C. E. Shannon, "A mathematical theory of communication," 1948; M. Chen et al., "A joint
    learning and communications framework for federated learning over wireless networks,"
    IEEE Trans. Wireless Commun., 2021 (FDMA uplink, latency and energy per round).

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated import DigitalAggregation
    >>> agg = DigitalAggregation(bandwidth_hz=1e6, power_w=0.1, noise_w=1e-3)
    >>> agg.reset(num_clients=2, dim=3)
    >>> out = agg.aggregate(torch.tensor([[1.0, 2, 3], [3.0, 2, 1]]), [1, 1], rng=0,
    ...                     compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0])
    >>> out.update.tolist(), out.uplink_bits
    ([2.0, 2.0, 2.0], 192.0)
    """

    def __init__(
        self,
        bandwidth_hz: float,
        power_w: float,
        noise_w: float,
        bits_per_entry: int = 32,
        compressor: Compressor | None = None,
        access: str = "tdma",
        *,
        num_antennas: int = 1,
        distances_m: Any = None,
        channel_options: dict[str, Any] | None = None,
    ) -> None:
        self.bandwidth_hz = check_scalar(bandwidth_hz, "bandwidth_hz", positive=True)
        self.power_w = check_scalar(power_w, "power_w", positive=True)
        self.noise_w = check_scalar(noise_w, "noise_w", positive=True)
        self.bits_per_entry = check_int(bits_per_entry, "bits_per_entry")
        if compressor is not None and not isinstance(compressor, Compressor):
            raise InvalidInputError(
                f"compressor={compressor!r} is invalid: expected an edgeopt Compressor or None"
            )
        self.compressor = compressor
        self.access = check_choice(access, "access", ("tdma", "fdma"))
        self.num_antennas = check_int(num_antennas, "num_antennas")
        self.distances_m = (
            None
            if distances_m is None
            else check_array(distances_m, "distances_m", ndim=1, positive=True)
        )
        self.channel_options = dict(channel_options or {})

    def reset(self, num_clients: int, dim: int, device: Any = "cpu") -> None:
        """Reset the compressor's state (error-feedback memories) for a new run.

        Parameters
        ----------
        num_clients : int >= 1
            Number of clients ``K``.
        dim : int >= 1
            Number of model parameters ``d``.
        device : str or torch.device
            Where the compressor keeps its state (default ``"cpu"``).

        Returns
        -------
        None

        Examples
        --------
        >>> from edgeopt.federated import DigitalAggregation, TopK
        >>> agg = DigitalAggregation(1e6, 0.1, 1e-3, compressor=TopK(k=2))
        >>> agg.reset(num_clients=3, dim=5)
        >>> tuple(agg.compressor.memory.shape)
        (3, 5)
        """
        if self.compressor is not None:
            self.compressor.reset(num_clients, dim, device)

    def aggregate(
        self,
        updates: torch.Tensor,
        data_sizes: Any,
        *,
        rng: Any = None,
        compute_s: Any,
        compute_energy_j: Any,
    ) -> AggregationOutcome:
        """Send every update over its own digital link; charge Shannon-rate latency and energy.

        Parameters
        ----------
        updates : torch.Tensor, shape (K, d)
            Local updates, one row per client (client ``i`` is row ``i``; the compressor's
            per-client state is indexed by it).
        data_sizes : array_like, shape (K,)
            Local data-set sizes ``n_i > 0`` (weights of the average).
        rng : numpy.random.Generator, int or None
            Channel draw, then the compressor's randomness.
        compute_s, compute_energy_j : array_like, shape (K,)
            Each device's local computation time (s) and energy (J).

        Returns
        -------
        AggregationOutcome
            The (decoded) weighted average, every device selected, the TDMA or FDMA
            latency and the energy of the class description, the exact bits sent, and
            ``info["rate_bps"]``, each device's rate.

        Raises
        ------
        InvalidInputError
            See :meth:`Aggregation.aggregate`; also ``distances_m`` of another length
            than ``K``, or a :class:`~edgeopt.federated.compress.TopK` compressor not reset
            for this ``d``.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import QSGD, DigitalAggregation
        >>> agg = DigitalAggregation(1e6, 0.1, 1e-3, compressor=QSGD(4), access="fdma")
        >>> agg.reset(num_clients=2, dim=4)
        >>> out = agg.aggregate(torch.ones(2, 4), [1, 1], rng=0,
        ...                     compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0])
        >>> out.uplink_bits  # 2 devices * (32 + 4 * (1 + 3))
        96.0
        >>> out.update.tolist()  # equal entries are quantized exactly
        [1.0, 1.0, 1.0, 1.0]
        """
        from edgeopt.channel import shannon_rate
        from edgeopt.cost import round_latency, transmit_energy

        u, sizes, t, e = _check_round_inputs(updates, data_sizes, compute_s, compute_energy_j)
        gen = check_rng(rng)
        k, d = u.shape
        h = _draw_channels(k, self.num_antennas, self.distances_m, self.channel_options, gen)
        gain = np.sum(np.abs(h) ** 2, axis=-1)
        if self.compressor is None:
            update = _weighted_mean(u, sizes)
            bits = np.full(k, float(d * self.bits_per_entry))
        else:
            decoded, bits = self.compressor.compress(u, np.arange(k), gen)
            w = torch.as_tensor(sizes, dtype=u.dtype, device=u.device)
            update = self.compressor.combine(decoded, w)
        if self.access == "tdma":
            rate = shannon_rate(self.bandwidth_hz, self.power_w * gain / self.noise_w)
            latency = float(t.max() + np.sum(bits / rate))
        else:
            rate = shannon_rate(self.bandwidth_hz / k, k * self.power_w * gain / self.noise_w)
            latency = float(round_latency(bits, rate, t))
        energy = float(np.sum(transmit_energy(self.power_w, bits, rate)) + e.sum())
        return AggregationOutcome(
            update=update,
            selected=np.ones(k, dtype=bool),
            round_latency_s=latency,
            energy_j=energy,
            uplink_bits=float(bits.sum()),
            info={"rate_bps": np.asarray(rate)},
        )


class AirCompAggregation(Aggregation):
    r"""Over-the-air computation of the weighted sum, with device selection (Yang et al. 2020).

    Every round:

    1. draw a fresh channel ``H`` (``(K, N)``: ``CN(0, I)`` rows, or with path loss from
       ``distances_m`` through :func:`edgeopt.channel.uplink_channels`);
    2. select devices and the receive beamformer ``m`` with
       :func:`edgeopt.aircomp.select_devices` (``method=selection``) for the weights
       ``w_i = n_i / mean_j n_j`` (local data sizes normalized to mean 1 over all ``K``
       clients, so equal splits give ``w_i = 1``) and the target ``mse_target``;
    3. normalize (paper Sec. II-A: symbols of zero mean and unit variance, statistics sent
       as side information): each selected device reports the sum and the sum of squares of
       its update entries (two digital scalars, not charged), the server broadcasts the
       common mean ``μ`` and standard deviation ``σ`` of all selected entries, and device
       ``i`` maps ``z_i = (u_i − μ)/σ`` to ``⌈d/2⌉`` complex symbols
       ``s_ij = (z_{i,2j} + j·z_{i,2j+1})/√2`` (two real entries per symbol, zero padded, so
       ``E|s_ij|² = 1``);
    4. transmit ``b_i s_i`` with the scalars of :func:`edgeopt.aircomp.transmit_scalars`
       (``|b_i|² ≤ P``), receive ``y = Σ_i h_i b_i s_i + n``, ``n ~ CN(0, σ_n² I)``, and
       estimate ``ĝ = mᴴ y / √η = Σ_i w_i s_i + mᴴ n/√η`` (paper Eq. (6)–(8));
    5. undo the packing and normalization,
       ``Σ w_i u_i ≈ σ·ĝ_real + μ Σ_{i∈S} w_i``, and divide by ``Σ_{i∈S} w_i``.

    The error of each real entry of ``ĝ_real`` (the normalized weighted sum) then has
    variance ``σ_n²‖m‖²/η``, exactly :func:`edgeopt.aircomp.aircomp_mse` (paper Eq. (10));
    in the model's units it is that times ``σ² / (Σ_{i∈S} w_i)²``.

    Cost: the ``⌈d/2⌉`` symbols of one analog transmission take ``⌈d/2⌉ / B`` seconds
    whatever ``K`` (symbol period ``1/B``); the round lasts that plus the slowest selected
    device's computation.  Device ``i`` spends ``Σ_j |b_i s_ij|² / B`` joules transmitting
    (its realized symbol energy) plus its computation energy.

    With ``noise_w = 0`` (a noiseless reference) every device is selected and the
    beamformer is the all-devices one; the result is the exact weighted average.

    Parameters
    ----------
    num_antennas : int >= 1
        Receive antennas ``N`` at the server.
    power_w : float > 0
        Per-device transmit power budget ``P``.
    noise_w : float >= 0
        Receiver noise power ``σ_n²`` per antenna.
    mse_target : float > 0
        Target MSE ``γ`` of the selection problem (linear, in the units above).
    selection : {"dc", "sdr", "fast", "all", "eig"}
        Method of :func:`edgeopt.aircomp.select_devices`.
    bandwidth_hz : float > 0
        Symbol rate of the analog uplink (default 1 MHz).
    distances_m : array_like, shape (K,), optional
        Device distances for path loss; default unit-gain Rayleigh channels.
    channel_options : dict, optional
        Extra keyword arguments of :func:`edgeopt.channel.uplink_channels`.

    Raises
    ------
    InvalidInputError
        Bad numbers or an unknown selection method.

    References
    ----------
    K. Yang, T. Jiang, Y. Shi and Z. Ding, "Federated learning via over-the-air
    computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022–2035, 2020.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated import AirCompAggregation
    >>> agg = AirCompAggregation(num_antennas=4, power_w=1.0, noise_w=0.0, mse_target=1.0,
    ...                          selection="all")
    >>> out = agg.aggregate(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 1], rng=0,
    ...                     compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0])
    >>> [round(v, 4) for v in out.update.tolist()], int(out.selected.sum())
    ([2.0, 3.0], 2)
    """

    def __init__(
        self,
        num_antennas: int,
        power_w: float,
        noise_w: float,
        mse_target: float,
        selection: str = "dc",
        *,
        bandwidth_hz: float = 1e6,
        distances_m: Any = None,
        channel_options: dict[str, Any] | None = None,
    ) -> None:
        self.num_antennas = check_int(num_antennas, "num_antennas")
        self.power_w = check_scalar(power_w, "power_w", positive=True)
        self.noise_w = check_scalar(noise_w, "noise_w", nonneg=True)
        self.mse_target = check_scalar(mse_target, "mse_target", positive=True)
        self.selection = check_choice(selection, "selection", ("dc", "sdr", "fast", "all", "eig"))
        self.bandwidth_hz = check_scalar(bandwidth_hz, "bandwidth_hz", positive=True)
        self.distances_m = (
            None
            if distances_m is None
            else check_array(distances_m, "distances_m", ndim=1, positive=True)
        )
        self.channel_options = dict(channel_options or {})

    def aggregate(
        self,
        updates: torch.Tensor,
        data_sizes: Any,
        *,
        rng: Any = None,
        compute_s: Any,
        compute_energy_j: Any,
    ) -> AggregationOutcome:
        """One analog over-the-air round: select, normalize, transmit, add noise, decode.

        Parameters
        ----------
        updates : torch.Tensor, shape (K, d)
            Local updates, one row per client.
        data_sizes : array_like, shape (K,)
            Local data-set sizes ``n_i > 0``; the AirComp weights are ``n_i / mean_j n_j``.
        rng : numpy.random.Generator, int or None
            Channel draw, the selection method's randomness, then the receiver noise.
        compute_s, compute_energy_j : array_like, shape (K,)
            Each device's local computation time (s) and energy (J); only selected
            devices are charged.

        Returns
        -------
        AggregationOutcome
            The noisy weighted average of the selected devices' updates, the selection,
            ``round_latency_s = max_{i∈S} T_i + ⌈d/2⌉/B``, the realized transmit energy
            plus computation, ``uplink_bits = 0``, the predicted ``mse`` (normalized units,
            see :class:`AggregationOutcome`) and the selection's status.  With no device
            selectable: a zero update, zero cost and ``mse = inf``.

        Raises
        ------
        InvalidInputError
            See :meth:`Aggregation.aggregate`; also ``distances_m`` of another length
            than ``K``.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import AirCompAggregation
        >>> agg = AirCompAggregation(num_antennas=4, power_w=1.0, noise_w=0.01,
        ...                          mse_target=1.0, selection="fast")
        >>> out = agg.aggregate(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 1], rng=0,
        ...                     compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0])
        >>> out.selected.tolist(), out.round_latency_s  # one complex symbol at 1 MHz
        ([True, True], 1e-06)
        >>> bool(out.mse <= 1.0), [round(v, 1) for v in out.update.tolist()]
        (True, [2.0, 3.0])
        """
        from edgeopt.aircomp import aircomp_mse, select_devices, transmit_scalars

        u, sizes, t, e = _check_round_inputs(updates, data_sizes, compute_s, compute_energy_j)
        gen = check_rng(rng)
        k, d = u.shape
        h = _draw_channels(k, self.num_antennas, self.distances_m, self.channel_options, gen)
        w_all = sizes / sizes.mean()
        if self.noise_w > 0:
            sol = select_devices(
                h,
                power_w=self.power_w,
                noise_w=self.noise_w,
                mse_target=self.mse_target,
                weights=w_all,
                method=self.selection,
                rng=gen,
            )
            selected = np.asarray(sol.selected, dtype=bool)
            status = str(sol.status)
        else:  # noiseless reference: every subset meets any target
            sol = select_devices(
                h, power_w=1.0, noise_w=1.0, mse_target=1.0, weights=w_all, method="all", rng=gen
            )
            selected = np.ones(k, dtype=bool)
            status = OPTIMAL
        m = np.asarray(sol.beamformer, dtype=np.complex128)
        hs, ws = h[selected], w_all[selected]
        b, eta = np.zeros(0, dtype=np.complex128), 0.0
        if selected.any():
            b, eta = transmit_scalars(m, hs, power_w=self.power_w, weights=ws)
        if eta <= 0.0:  # nothing selected, or m orthogonal to a selected channel
            selected = np.zeros(k, dtype=bool)
            return AggregationOutcome(
                update=torch.zeros(d, dtype=u.dtype, device=u.device),
                selected=selected,
                round_latency_s=0.0,
                energy_j=0.0,
                uplink_bits=0.0,
                mse=float("inf"),
                status=status,
            )
        mse = (
            aircomp_mse(m, hs, power_w=self.power_w, noise_w=self.noise_w, weights=ws)
            if self.noise_w > 0
            else 0.0
        )
        # normalization with common statistics (side information)
        x = u[torch.as_tensor(selected, device=u.device)].detach().double().cpu().numpy()
        mean = float(x.mean())
        scale = float(x.std())
        if scale == 0.0:
            scale = 1.0
        z = (x - mean) / scale
        n_sym = math.ceil(d / 2)
        if d % 2:
            z = np.concatenate([z, np.zeros((z.shape[0], 1))], axis=1)
        s = (z[:, 0::2] + 1j * z[:, 1::2]) / math.sqrt(2.0)  # (|S|, n_sym), E|s|^2 = 1
        tx = b[:, None] * s
        y = hs.T @ tx  # (N, n_sym)
        if self.noise_w > 0:
            noise = gen.standard_normal((2, self.num_antennas, n_sym))
            y = y + math.sqrt(self.noise_w / 2.0) * (noise[0] + 1j * noise[1])
        g_hat = (np.conj(m) @ y) / math.sqrt(eta)
        g_real = np.empty(2 * n_sym)
        g_real[0::2] = math.sqrt(2.0) * g_hat.real
        g_real[1::2] = math.sqrt(2.0) * g_hat.imag
        w_sum = float(ws.sum())
        agg = (scale * g_real[:d] + mean * w_sum) / w_sum
        tx_energy = float(np.sum(np.abs(tx) ** 2)) / self.bandwidth_hz
        return AggregationOutcome(
            update=torch.as_tensor(agg, dtype=u.dtype, device=u.device),
            selected=selected,
            round_latency_s=float(t[selected].max() + n_sym / self.bandwidth_hz),
            energy_j=tx_energy + float(e[selected].sum()),
            uplink_bits=0.0,
            mse=float(mse),
            status=status,
            info={"eta": eta, "scale": scale, "mean": mean, "weights": ws, "symbols": n_sym},
        )
