r"""Aggregation models: how the clients' updates reach the server, and what a round costs.

All models share one interface.  At every round the training loop hands the stacked local
updates ``u_i`` (``(K, d)``), the local data sizes ``n_i`` and a :class:`RoundContext` (the
round's channels, each device's computation time and energy, and the random streams of the
receiver noise, of the device selection and of the compression) to
:meth:`Aggregation.aggregate`, which returns an :class:`AggregationOutcome`: the global
update the server applies, the devices that took part, and the round's latency and energy.
The loop draws the channels (:meth:`Aggregation.draw_channels`) from a stream of its own,
so two runs that differ only in the aggregation see the same channels.

* :class:`IdealAggregation`: the exact weighted average ``Σ n_i u_i / Σ n_i``
  (:func:`weighted_average`); the uplink is free, the round lasts as long as the slowest
  device computes.
* :class:`DigitalAggregation`: error-free digital links at the Shannon rate of the round's
  channel, TDMA or FDMA, optionally compressed (:mod:`edgeopt.federated.compress`).
* :class:`AirCompAggregation`: over-the-air computation with device selection and receive
  beamforming (Yang et al. 2020), the receiver noise actually added.

The models compose the pure functions of :mod:`edgeopt.federated.uplink` (complex packing,
normalization, the AirComp receive model, the round costs) and of :mod:`edgeopt.aircomp`.

Computation is charged only to the devices whose updates are aggregated: device selection
depends on the channel alone, so an unselected device need not train in a real system (the
simulator trains it anyway and discards its update).  A round in which no device can be
selected leaves the model unchanged and costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_channels,
    check_choice,
    check_int,
    check_rng,
    check_scalar,
    check_update_tensor,
    invalid_input,
)
from edgeopt.federated.compress import Compressor
from edgeopt.federated.uplink import (
    ACCESS_SCHEMES,
    aircomp_receive,
    aircomp_round_cost,
    digital_rates,
    digital_round_cost,
    normalize_updates,
    pack_complex,
    unpack_complex,
)
from edgeopt.status import OPTIMAL

__all__ = [
    "AggregationOutcome",
    "RoundContext",
    "Aggregation",
    "IdealAggregation",
    "DigitalAggregation",
    "AirCompAggregation",
    "weighted_average",
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
    >>> from edgeopt.federated import IdealAggregation, RoundContext
    >>> ctx = RoundContext(compute_s=[0.5, 0.3], compute_energy_j=[1.0, 2.0])
    >>> out = IdealAggregation().aggregate(torch.tensor([[2.0, 0.0], [0.0, 2.0]]), [1, 1], ctx)
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


@dataclass(frozen=True)
class RoundContext:
    """What the training loop hands an aggregation model for one round, besides the updates.

    The random sources are separate streams, one per purpose, so that changing how one is
    used (a selection method that draws more candidates, a compressor that draws nothing)
    leaves the others as they were: the common random numbers of a comparison between
    aggregation schemes.

    Parameters
    ----------
    compute_s : array_like of float, shape (K,)
        Each device's local computation time in this round, seconds.
    compute_energy_j : array_like of float, shape (K,)
        Each device's local computation energy, joules.
    channels : array_like of complex, shape (K, N), optional
        The round's uplink channels ``h_i`` (rows: devices; columns: server antennas), as
        drawn by :meth:`Aggregation.draw_channels`; ``None`` for a model that uses none.
    noise_rng, selection_rng, compression_rng : numpy.random.Generator, int or None
        Streams of the receiver noise, of the randomization of the device selection, and
        of the compressor (``None``: a fresh OS-seeded generator).

    Raises
    ------
    InvalidInputError
        Negative or non-finite times or energies, times and energies of different
        lengths, non-finite or non-2-D channels, or anything but a random source for an rng.

    Examples
    --------
    >>> from edgeopt.federated import RoundContext
    >>> ctx = RoundContext(compute_s=[0.1, 0.2], compute_energy_j=[1.0, 1.0], noise_rng=0)
    >>> ctx.num_devices, ctx.channels is None, type(ctx.noise_rng).__name__
    (2, True, 'Generator')
    """

    compute_s: Any
    compute_energy_j: Any
    channels: Any = None
    noise_rng: Any = None
    selection_rng: Any = None
    compression_rng: Any = None

    def __post_init__(self) -> None:
        t = check_array(self.compute_s, "compute_s", ndim=1, nonneg=True, allow_empty=False)
        e = check_array(self.compute_energy_j, "compute_energy_j", shape=t.shape, nonneg=True)
        object.__setattr__(self, "compute_s", t)
        object.__setattr__(self, "compute_energy_j", e)
        if self.channels is not None:
            h = check_channels(self.channels, "channels")
            object.__setattr__(self, "channels", h)
        for name in ("noise_rng", "selection_rng", "compression_rng"):
            object.__setattr__(self, name, check_rng(getattr(self, name), name))

    @property
    def num_devices(self) -> int:
        """Number of devices ``K`` the context describes (length of ``compute_s``)."""
        return int(self.compute_s.shape[0])

    @classmethod
    def from_rng(
        cls,
        rng: Any,
        *,
        compute_s: Any,
        compute_energy_j: Any,
        channels: Any = None,
    ) -> RoundContext:
        """A context whose three random streams are spawned from one ``rng``.

        Parameters
        ----------
        rng : numpy.random.Generator, int or None
            Parent source; the noise, selection and compression streams are its spawned
            children, in this order (:meth:`numpy.random.Generator.spawn`).
        compute_s, compute_energy_j, channels
            As in :class:`RoundContext`.

        Returns
        -------
        RoundContext

        Raises
        ------
        InvalidInputError
            As :class:`RoundContext`.

        Examples
        --------
        >>> from edgeopt.federated import RoundContext
        >>> a = RoundContext.from_rng(0, compute_s=[0.0], compute_energy_j=[0.0])
        >>> b = RoundContext.from_rng(0, compute_s=[0.0], compute_energy_j=[0.0])
        >>> bool(a.noise_rng.random() == b.noise_rng.random())
        True
        """
        noise, selection, compression = check_rng(rng).spawn(3)
        return cls(
            compute_s=compute_s,
            compute_energy_j=compute_energy_j,
            channels=channels,
            noise_rng=noise,
            selection_rng=selection,
            compression_rng=compression,
        )


def weighted_average(updates: torch.Tensor, weights: Any) -> torch.Tensor:
    """The FedAvg combination ``Σ_i w_i u_i / Σ_i w_i`` (McMahan et al. 2017, Alg. 1).

    Parameters
    ----------
    updates : torch.Tensor, shape (K, d)
        One update per row.
    weights : array_like of float, shape (K,)
        Weights ``w_i > 0`` (the local data sizes ``n_i`` in FedAvg).

    Returns
    -------
    torch.Tensor, shape (d,)
        Same dtype and device as ``updates``.

    Raises
    ------
    InvalidInputError
        Updates that are not a finite ``(K, d)`` tensor, weights of another length, not
        positive or not finite.

    References
    ----------
    H. B. McMahan et al., "Communication-efficient learning of deep networks from
    decentralized data," AISTATS 2017, Algorithm 1.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated import weighted_average
    >>> weighted_average(torch.tensor([[0.0, 4.0], [3.0, 1.0]]), [2, 1]).tolist()
    [1.0, 3.0]
    """
    u = check_update_tensor(updates)
    w = check_array(weights, "weights", shape=(u.shape[0],), positive=True)
    scaled = torch.as_tensor(w / w.sum(), dtype=u.dtype, device=u.device)
    return scaled @ u


def _check_round(
    updates: Any, data_sizes: Any, context: Any
) -> tuple[torch.Tensor, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validated updates, sizes, compute times and energies of one round."""
    u = check_update_tensor(updates)
    k = u.shape[0]
    sizes = check_array(data_sizes, "data_sizes", shape=(k,), positive=True)
    if not isinstance(context, RoundContext):
        raise invalid_input("context", context, "an edgeopt RoundContext")
    if context.num_devices != k:
        raise invalid_input(
            "context.compute_s", context.compute_s, f"one entry per row of updates ({k})"
        )
    return u, sizes, context.compute_s, context.compute_energy_j


class Aggregation:
    """Interface of the aggregation models (see the module docstring).

    A subclass implements :meth:`aggregate`; one that needs the round's channels overrides
    :meth:`draw_channels`, and one that keeps state across rounds :meth:`reset`.
    :func:`~edgeopt.federated.run_fedavg` accepts any instance.

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

    def draw_channels(self, num_clients: int, rng: Any) -> NDArray[np.complex128] | None:
        """Draw one round's uplink channels; ``None`` for a model that uses no channel.

        :func:`~edgeopt.federated.run_fedavg` calls this every round with its channel
        stream and hands the result to :meth:`aggregate` in :attr:`RoundContext.channels`.

        Parameters
        ----------
        num_clients : int >= 1
            Number of devices ``K``.
        rng : numpy.random.Generator, int or None
            Source of the channel draw.

        Returns
        -------
        numpy.ndarray of complex128, shape (K, N), or None
            ``None`` here (the base and the ideal model use no channel).

        Examples
        --------
        >>> from edgeopt.federated import IdealAggregation
        >>> IdealAggregation().draw_channels(3, rng=0) is None
        True
        """
        check_int(num_clients, "num_clients")
        return None

    def aggregate(
        self, updates: torch.Tensor, data_sizes: Any, context: RoundContext
    ) -> AggregationOutcome:
        """Aggregate one round of updates.

        Parameters
        ----------
        updates : torch.Tensor, shape (K, d)
            Local updates (local model minus global model), one row per client.
        data_sizes : array_like, shape (K,)
            Local data-set sizes ``n_i > 0`` (the FedAvg weights).
        context : RoundContext
            The round's channels (where the model uses them), computation times and
            energies of the ``K`` devices, and random streams.

        Returns
        -------
        AggregationOutcome
            The global update, the devices that took part and the round's costs.

        Raises
        ------
        InvalidInputError
            Updates that are not a finite ``(K, d)`` tensor; sizes of another shape, not
            positive or not finite; a context for another number of devices.
        NotImplementedError
            On the base class itself.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import IdealAggregation, RoundContext
        >>> ctx = RoundContext(compute_s=[0, 0, 0], compute_energy_j=[0, 0, 0])
        >>> IdealAggregation().aggregate(torch.ones(3, 2), [1, 1, 1], ctx).update.tolist()
        [1.0, 1.0]
        """
        raise NotImplementedError


class IdealAggregation(Aggregation):
    """The exact weighted average of FedAvg, over free links.

    ``Δ = Σ_i n_i u_i / Σ_i n_i`` (McMahan et al. 2017, Alg. 1, :func:`weighted_average`);
    the round lasts ``max_i T_i`` and costs ``Σ_i E_i`` (computation only).  ``uplink_bits``
    reports the lossless float32 payload, ``32·d`` per device, which is free here.  No
    channel is drawn and no random stream is used.

    References
    ----------
    H. B. McMahan et al., "Communication-efficient learning of deep networks from
    decentralized data," AISTATS 2017.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated import IdealAggregation, RoundContext
    >>> ctx = RoundContext(compute_s=[0.1, 0.2], compute_energy_j=[1.0, 1.0])
    >>> out = IdealAggregation().aggregate(torch.tensor([[1.0], [4.0]]), [1, 2], ctx)
    >>> out.update.tolist(), out.round_latency_s, out.energy_j
    ([3.0], 0.2, 2.0)
    """

    def aggregate(
        self, updates: torch.Tensor, data_sizes: Any, context: RoundContext
    ) -> AggregationOutcome:
        """The exact weighted average; the round costs computation only.

        Returns
        -------
        AggregationOutcome
            ``update = Σ n_i u_i / Σ n_i``, every device selected,
            ``round_latency_s = max_i T_i``, ``energy_j = Σ_i E_i``,
            ``uplink_bits = 32·d·K``.

        See Also
        --------
        Aggregation.aggregate : the parameters and the errors raised.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import IdealAggregation, RoundContext
        >>> ctx = RoundContext(compute_s=[1.0, 2.0], compute_energy_j=[1, 1])
        >>> out = IdealAggregation().aggregate(torch.tensor([[0.0], [3.0]]), [2, 1], ctx)
        >>> out.update.tolist(), out.round_latency_s, out.energy_j
        ([1.0], 2.0, 2.0)
        """
        u, sizes, t, e = _check_round(updates, data_sizes, context)
        k, d = u.shape
        return AggregationOutcome(
            update=weighted_average(u, sizes),
            selected=np.ones(k, dtype=bool),
            round_latency_s=float(t.max()),
            energy_j=float(e.sum()),
            uplink_bits=float(32 * d * k),
        )


class _ChannelModel:
    """The channel parameters of an uplink model and the round's channel draw."""

    num_antennas: int
    distances_m: NDArray[np.float64] | None
    channel_options: dict[str, Any]

    def _set_channel_model(
        self, num_antennas: int, distances_m: Any, channel_options: dict[str, Any] | None
    ) -> None:
        self.num_antennas = check_int(num_antennas, "num_antennas")
        self.distances_m = (
            None
            if distances_m is None
            else check_array(distances_m, "distances_m", ndim=1, positive=True)
        )
        self.channel_options = dict(channel_options or {})

    def draw_channels(self, num_clients: int, rng: Any) -> NDArray[np.complex128] | None:
        """Draw one round's channels: ``CN(0, I)`` rows, or with path loss from ``distances_m``.

        Without ``distances_m``, :func:`edgeopt.channel.rayleigh` of shape
        ``(num_clients, num_antennas)``; with it, :func:`edgeopt.channel.uplink_channels`
        with ``channel_options``.

        Parameters
        ----------
        num_clients : int >= 1
            Number of devices ``K``.
        rng : numpy.random.Generator, int or None
            Source of the draw.

        Returns
        -------
        numpy.ndarray of complex128, shape (K, N)

        Raises
        ------
        InvalidInputError
            ``distances_m`` of another length than ``num_clients``.

        See Also
        --------
        Aggregation.draw_channels : the role of the draw in the training loop.

        Examples
        --------
        >>> from edgeopt.federated import DigitalAggregation
        >>> DigitalAggregation(1e6, 0.1, 1e-3, num_antennas=4).draw_channels(3, rng=0).shape
        (3, 4)
        """
        from edgeopt.channel import rayleigh, uplink_channels

        k = check_int(num_clients, "num_clients")
        gen = check_rng(rng)
        if self.distances_m is None:
            return rayleigh((k, self.num_antennas), gen)
        dist = check_array(self.distances_m, "distances_m", shape=(k,))
        return uplink_channels(dist, self.num_antennas, rng=gen, **self.channel_options)

    def _round_channels(self, context: RoundContext, k: int) -> NDArray[np.complex128]:
        """The context's channels, checked to be ``(K, num_antennas)``."""
        h = context.channels
        if h is None or h.shape != (k, self.num_antennas):
            raise invalid_input(
                "context.channels",
                h,
                f"a ({k}, {self.num_antennas}) channel matrix, one row per device "
                "(draw it with draw_channels)",
            )
        return np.asarray(h)


class DigitalAggregation(_ChannelModel, Aggregation):
    """Error-free digital uplinks at Shannon rates over the round's fading channel.

    The round's channels ``h_i`` (``CN(0, I)``, or with path loss from ``distances_m``, see
    :meth:`draw_channels`) are received with maximum-ratio combining, and device ``i`` gets
    (:func:`~edgeopt.federated.uplink.digital_rates`):

    * TDMA: the whole band in its own slot, ``r_i = B log2(1 + P‖h_i‖²/σ²)``; the round lasts
      ``max_i T_i + Σ_i L_i / r_i`` (all compute in parallel, then transmit in turn);
    * FDMA: a ``B/K`` sub-band with noise ``σ²/K``, ``r_i = (B/K) log2(1 + K P‖h_i‖²/σ²)``;
      the round lasts ``max_i (L_i/r_i + T_i)`` (:func:`edgeopt.cost.round_latency`).

    The payload ``L_i`` is ``d · bits_per_entry`` or, with a compressor, its exact message
    length.  Energy is ``Σ_i (P L_i / r_i + E_i)`` (:func:`edgeopt.cost.transmit_energy`
    plus computation; :func:`~edgeopt.federated.uplink.digital_round_cost`).  Without a
    compressor the values arrive exactly (``bits_per_entry`` sets only the payload size).

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
        or :class:`~edgeopt.federated.compress.SignSGD`; it draws from the context's
        ``compression_rng``.
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
    >>> from edgeopt.federated import DigitalAggregation, RoundContext
    >>> agg = DigitalAggregation(bandwidth_hz=1e6, power_w=0.1, noise_w=1e-3)
    >>> agg.reset(num_clients=2, dim=3)
    >>> ctx = RoundContext(compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0],
    ...                    channels=agg.draw_channels(2, rng=0))
    >>> out = agg.aggregate(torch.tensor([[1.0, 2, 3], [3.0, 2, 1]]), [1, 1], ctx)
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
            raise invalid_input("compressor", compressor, "an edgeopt Compressor or None")
        self.compressor = compressor
        self.access = check_choice(access, "access", ACCESS_SCHEMES)
        self._set_channel_model(num_antennas, distances_m, channel_options)

    def reset(self, num_clients: int, dim: int, device: Any = "cpu") -> None:
        """Reset the compressor's state (error-feedback memories) for a new run.

        See Also
        --------
        Aggregation.reset : the parameters.

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
        self, updates: torch.Tensor, data_sizes: Any, context: RoundContext
    ) -> AggregationOutcome:
        """Send every update over its own digital link; charge Shannon-rate latency and energy.

        Client ``i`` is row ``i`` of ``updates`` (the compressor's per-client state is
        indexed by it); the rates come from ``context.channels`` and the compressor draws
        from ``context.compression_rng``.

        Returns
        -------
        AggregationOutcome
            The (decoded) weighted average, every device selected, the TDMA or FDMA
            latency and the energy of the class description, the exact bits sent, and
            ``info["rate_bps"]``, each device's rate.

        Raises
        ------
        InvalidInputError
            As :meth:`Aggregation.aggregate`; also channels that are not ``(K, N)``, or a
            :class:`~edgeopt.federated.compress.TopK` compressor not reset for this ``d``.

        See Also
        --------
        Aggregation.aggregate : the parameters.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import QSGD, DigitalAggregation, RoundContext
        >>> agg = DigitalAggregation(1e6, 0.1, 1e-3, compressor=QSGD(4), access="fdma")
        >>> agg.reset(num_clients=2, dim=4)
        >>> ctx = RoundContext.from_rng(0, compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0],
        ...                             channels=agg.draw_channels(2, rng=1))
        >>> out = agg.aggregate(torch.ones(2, 4), [1, 1], ctx)
        >>> out.uplink_bits  # 2 devices * (32 + 4 * (1 + 3))
        96.0
        >>> out.update.tolist()  # equal entries are quantized exactly
        [1.0, 1.0, 1.0, 1.0]
        """
        u, sizes, t, e = _check_round(updates, data_sizes, context)
        k, d = u.shape
        h = self._round_channels(context, k)
        if self.compressor is None:
            update = weighted_average(u, sizes)
            bits = np.full(k, float(d * self.bits_per_entry))
        else:
            decoded, bits = self.compressor.compress(u, np.arange(k), context.compression_rng)
            w = torch.as_tensor(sizes, dtype=u.dtype, device=u.device)
            update = self.compressor.combine(decoded, w)
        rate = digital_rates(
            np.sum(h.real**2 + h.imag**2, axis=-1),
            bandwidth_hz=self.bandwidth_hz,
            power_w=self.power_w,
            noise_w=self.noise_w,
            access=self.access,
        )
        cost = digital_round_cost(bits, rate, t, e, power_w=self.power_w, access=self.access)
        return AggregationOutcome(
            update=update,
            selected=np.ones(k, dtype=bool),
            round_latency_s=cost.latency_s,
            energy_j=cost.energy_j,
            uplink_bits=float(bits.sum()),
            info={"rate_bps": rate},
        )


class AirCompAggregation(_ChannelModel, Aggregation):
    r"""Over-the-air computation of the weighted sum, with device selection (Yang et al. 2020).

    Every round, on the round's channels ``H`` (``(K, N)``: ``CN(0, I)`` rows, or with path
    loss from ``distances_m``, see :meth:`draw_channels`):

    1. select devices and the receive beamformer ``m`` with
       :func:`edgeopt.aircomp.select_devices` (``method``, its randomization drawn from the
       context's ``selection_rng``) for the weights ``w_i = n_i / mean_j n_j`` (local data
       sizes normalized to mean 1 over all ``K`` clients, so equal splits give ``w_i = 1``)
       and the target ``mse_target``;
    2. normalize (paper Sec. II-A, :func:`~edgeopt.federated.uplink.normalize_updates`):
       each selected device reports the sum and the sum of squares of its update entries
       (two digital scalars, not charged), the server broadcasts the common mean ``μ`` and
       standard deviation ``σ`` of all selected entries, and device ``i`` maps
       ``z_i = (u_i − μ)/σ`` to ``⌈d/2⌉`` complex symbols
       ``s_ij = (z_{i,2j} + j·z_{i,2j+1})/√2`` (:func:`~edgeopt.federated.uplink.pack_complex`:
       two real entries per symbol, zero padded, so ``E|s_ij|² = 1``);
    3. transmit ``b_i s_i`` with the scalars of :func:`edgeopt.aircomp.transmit_scalars`
       (``|b_i|² ≤ P``), receive ``y = Σ_i h_i b_i s_i + n``, ``n ~ CN(0, σ_n² I)`` drawn
       from the context's ``noise_rng``, and estimate
       ``ĝ = mᴴ y / √η = Σ_i w_i s_i + mᴴ n/√η`` (paper Eq. (6)–(8),
       :func:`~edgeopt.federated.uplink.aircomp_receive`);
    4. undo the packing and normalization,
       ``Σ w_i u_i ≈ σ·ĝ_real + μ Σ_{i∈S} w_i``, and divide by ``Σ_{i∈S} w_i``.

    The error of each real entry of ``ĝ_real`` (the normalized weighted sum) then has
    variance ``σ_n²‖m‖²/η``, exactly :func:`edgeopt.aircomp.aircomp_mse` (paper Eq. (10));
    in the model's units it is that times ``σ² / (Σ_{i∈S} w_i)²``.

    Cost (:func:`~edgeopt.federated.uplink.aircomp_round_cost`): the ``⌈d/2⌉`` symbols of
    one analog transmission take ``⌈d/2⌉ / B`` seconds whatever ``K`` (symbol period
    ``1/B``); the round lasts that plus the slowest selected device's computation.  Device
    ``i`` spends ``Σ_j |b_i s_ij|² / B`` joules transmitting (its realized symbol energy)
    plus its computation energy.

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
    method : {"dc", "sdr", "fast", "all", "eig"}
        Device-selection method of :func:`edgeopt.aircomp.select_devices`.
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
    >>> from edgeopt.federated import AirCompAggregation, RoundContext
    >>> agg = AirCompAggregation(num_antennas=4, power_w=1.0, noise_w=0.0, mse_target=1.0,
    ...                          method="all")
    >>> ctx = RoundContext(compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0],
    ...                    channels=agg.draw_channels(2, rng=0))
    >>> out = agg.aggregate(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 1], ctx)
    >>> [round(v, 4) for v in out.update.tolist()], int(out.selected.sum())
    ([2.0, 3.0], 2)
    """

    def __init__(
        self,
        num_antennas: int,
        power_w: float,
        noise_w: float,
        mse_target: float,
        method: str = "dc",
        *,
        bandwidth_hz: float = 1e6,
        distances_m: Any = None,
        channel_options: dict[str, Any] | None = None,
    ) -> None:
        from edgeopt.aircomp import METHODS

        self.power_w = check_scalar(power_w, "power_w", positive=True)
        self.noise_w = check_scalar(noise_w, "noise_w", nonneg=True)
        self.mse_target = check_scalar(mse_target, "mse_target", positive=True)
        self.method = check_choice(method, "method", METHODS)
        self.bandwidth_hz = check_scalar(bandwidth_hz, "bandwidth_hz", positive=True)
        self._set_channel_model(num_antennas, distances_m, channel_options)

    def _select(
        self, h: NDArray[np.complex128], weights: NDArray[np.float64], rng: np.random.Generator
    ) -> tuple[NDArray[np.bool_], NDArray[np.complex128], str]:
        """Selected devices, receive beamformer and solver status for the round's channels."""
        from edgeopt.aircomp import select_devices

        if self.noise_w > 0:
            sol = select_devices(
                h,
                power_w=self.power_w,
                noise_w=self.noise_w,
                mse_target=self.mse_target,
                weights=weights,
                method=self.method,
                rng=rng,
            )
            selected, status = np.asarray(sol.selected, dtype=bool), str(sol.status)
        else:  # noiseless reference: every subset meets any target
            sol = select_devices(
                h, power_w=1.0, noise_w=1.0, mse_target=1.0, weights=weights, method="all"
            )
            selected, status = np.ones(h.shape[0], dtype=bool), OPTIMAL
        return selected, np.asarray(sol.beamformer, dtype=np.complex128), status

    def aggregate(
        self, updates: torch.Tensor, data_sizes: Any, context: RoundContext
    ) -> AggregationOutcome:
        """One analog over-the-air round: select, normalize, transmit, add noise, decode.

        The AirComp weights are ``n_i / mean_j n_j``; the selection runs on
        ``context.channels`` with ``context.selection_rng``, the receiver noise comes from
        ``context.noise_rng``, and only selected devices are charged their computation.

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
            As :meth:`Aggregation.aggregate`; also channels that are not ``(K, N)``.

        See Also
        --------
        Aggregation.aggregate : the parameters.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import AirCompAggregation, RoundContext
        >>> agg = AirCompAggregation(num_antennas=4, power_w=1.0, noise_w=0.01,
        ...                          mse_target=1.0, method="fast")
        >>> ctx = RoundContext.from_rng(0, compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0],
        ...                             channels=agg.draw_channels(2, rng=1))
        >>> out = agg.aggregate(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 1], ctx)
        >>> out.selected.tolist(), out.round_latency_s  # one complex symbol at 1 MHz
        ([True, True], 1e-06)
        >>> bool(out.mse <= 1.0), [round(v, 1) for v in out.update.tolist()]
        (True, [2.0, 3.0])
        """
        from edgeopt.aircomp import aircomp_mse, transmit_scalars

        u, sizes, t, e = _check_round(updates, data_sizes, context)
        k, d = u.shape
        h = self._round_channels(context, k)
        w_all = sizes / sizes.mean()
        selected, m, status = self._select(h, w_all, context.selection_rng)
        hs, ws = h[selected], w_all[selected]
        b, eta = np.zeros(0, dtype=np.complex128), 0.0
        if selected.any():
            tx = transmit_scalars(m, hs, power_w=self.power_w, weights=ws)
            b, eta = tx.scalars, tx.eta
        if eta <= 0.0:  # nothing selected, or m orthogonal to a selected channel
            return AggregationOutcome(
                update=torch.zeros(d, dtype=u.dtype, device=u.device),
                selected=np.zeros(k, dtype=bool),
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
        rows = torch.as_tensor(selected, device=u.device)
        norm = normalize_updates(u[rows].detach().double().cpu().numpy())
        symbols = pack_complex(norm.values)  # (|S|, ⌈d/2⌉), E|s|^2 = 1
        g_hat = aircomp_receive(
            symbols, hs, b, m, eta=eta, noise_w=self.noise_w, rng=context.noise_rng
        )
        w_sum = float(ws.sum())
        agg = norm.denormalize_sum(unpack_complex(g_hat, d), w_sum) / w_sum
        cost = aircomp_round_cost(
            b[:, None] * symbols, t[selected], e[selected], bandwidth_hz=self.bandwidth_hz
        )
        return AggregationOutcome(
            update=torch.as_tensor(agg, dtype=u.dtype, device=u.device),
            selected=selected,
            round_latency_s=cost.latency_s,
            energy_j=cost.energy_j,
            uplink_bits=0.0,
            mse=float(mse),
            status=status,
            info={
                "eta": eta,
                "scale": norm.scale,
                "mean": norm.mean,
                "weights": ws,
                "symbols": symbols.shape[1],
            },
        )
