r"""Aggregation models: how the clients' updates reach the server, and what a round costs.

All models share one interface.  At every round the training loop hands the stacked local
updates ``u_i`` (``(K, d)``), the local data sizes ``n_i`` and a :class:`RoundContext` to
:meth:`Aggregation.aggregate`, which returns an :class:`AggregationOutcome`: the global
update the server applies, the devices that made the deadline and those whose updates were
aggregated, and the round's latency and energy.  The context carries what the
:class:`~edgeopt.system.System` says about the round: the channels the loop drew from its
channel stream (:meth:`edgeopt.system.System.channels`), each device's transmit power,
the receiver noise and the band, each device's computation time and energy, which devices
take part (``participants``), the round's deadline, and the random streams of the
receiver noise, of the device selection and of the compression.  Two runs that differ only
in the aggregation therefore see the same channels.

* :class:`IdealAggregation`: the exact weighted average ``Σ n_i u_i / Σ n_i``
  (:func:`weighted_average`); the uplink is free, the round lasts as long as the slowest
  device computes.  It uses no channel.
* :class:`DigitalAggregation`: error-free digital links at the Shannon rate of the round's
  channel, TDMA or FDMA, optionally compressed (:mod:`edgeopt.federated.compress`).
* :class:`AirCompAggregation`: over-the-air computation with device selection and receive
  beamforming (Yang et al. 2020), the receiver noise actually added.

The models compose the pure functions of :mod:`edgeopt.federated.uplink` (complex packing,
normalization, the AirComp receive model, the round costs, the deadline) and of
:mod:`edgeopt.aircomp`.

Who pays what: a device that is not among the round's participants does nothing and costs
nothing.  A participant whose computation plus upload would end after the deadline
(:func:`~edgeopt.federated.uplink.deadline_mask`) is dropped: its update is lost and its
computation energy spent.  AirComp's device selection depends on the channel alone, so a
device it leaves out need not train in a real system and is not charged (the simulator
trains it anyway and discards its update).  A round in which no update is aggregated
leaves the model unchanged; it lasts the deadline when a device was dropped by one (the
server waited for it), else 0 s, and costs the dropped devices' computation.
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
    check_channels,
    check_choice,
    check_int,
    check_mask,
    check_rng,
    check_scalar,
    check_update_tensor,
    invalid_input,
    missing_input,
)
from edgeopt.federated.compress import Compressor
from edgeopt.federated.uplink import (
    ACCESS_SCHEMES,
    aircomp_receive,
    aircomp_round_cost,
    deadline_mask,
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
    on_time : numpy.ndarray of bool, shape (K,), optional
        Participants whose update arrived by the round's deadline (``None``: every
        participant, as without a deadline).

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated import IdealAggregation, RoundContext
    >>> ctx = RoundContext(compute_s=[0.5, 0.3], compute_energy_j=[1.0, 2.0])
    >>> out = IdealAggregation().aggregate(torch.tensor([[2.0, 0.0], [0.0, 2.0]]), [1, 1], ctx)
    >>> out.update.tolist(), out.selected.tolist(), out.round_latency_s, out.energy_j
    ([1.0, 1.0], [True, True], 0.5, 3.0)
    >>> out.uplink_bits, out.mse, out.status, out.on_time.tolist()
    (128.0, 0.0, 'optimal', [True, True])
    """

    update: torch.Tensor
    selected: NDArray[np.bool_]
    round_latency_s: float
    energy_j: float
    uplink_bits: float
    mse: float = 0.0
    status: str = OPTIMAL
    info: dict[str, Any] = field(default_factory=dict)
    on_time: NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class RoundContext:
    """What the training loop hands an aggregation model for one round, besides the updates.

    :func:`~edgeopt.federated.run_fedavg` fills it from its
    :class:`~edgeopt.system.System`: the channels it drew, the devices' powers, the
    receiver noise and the band.  The random sources are separate streams, one per
    purpose, so that changing how one is used (a selection method that draws more
    candidates, a compressor that draws nothing) leaves the others as they were: the
    common random numbers of a comparison between aggregation schemes.

    Parameters
    ----------
    compute_s : array_like of float, shape (K,)
        Each device's local computation time in this round, seconds.
    compute_energy_j : array_like of float, shape (K,)
        Each device's local computation energy, joules.
    channels : array_like of complex, shape (K, N), optional
        The round's uplink channels ``h_i`` (rows: devices; columns: server antennas), as
        drawn by :meth:`edgeopt.system.System.channels`; ``None`` for a model that uses
        none.
    noise_rng, selection_rng, compression_rng : numpy.random.Generator, int or None
        Streams of the receiver noise, of the randomization of the device selection, and
        of the compressor (``None``: a fresh OS-seeded generator).
    power_w : float or array_like of float, shape (K,), optional
        Each device's transmit power ``P_i``, W, > 0 (a scalar: every device); stored as a
        ``(K,)`` array.
    noise_w : float, optional
        Receiver noise power ``σ²`` over the band, per antenna, W, >= 0
        (:attr:`edgeopt.system.System.noise_w`).
    bandwidth_hz : float, optional
        The uplink band ``B``, Hz, > 0 (digital: shared by TDMA slots or FDMA sub-bands;
        AirComp: the symbol rate).
    participants : array_like of bool, shape (K,), optional
        Devices that take part in the round (default: all).
    deadline_s : float, optional
        The longest the server waits for an update, seconds, > 0 (default: no deadline).

    Raises
    ------
    InvalidInputError
        Negative or non-finite times or energies, times and energies of different
        lengths, non-finite or non-2-D channels, channels, powers or participants for
        another number of devices, non-positive powers, band or deadline, negative noise,
        or anything but a random source for an rng.

    Examples
    --------
    >>> from edgeopt.federated import RoundContext
    >>> ctx = RoundContext(compute_s=[0.1, 0.2], compute_energy_j=[1.0, 1.0], noise_rng=0,
    ...                    power_w=0.5)
    >>> ctx.num_devices, ctx.channels is None, type(ctx.noise_rng).__name__
    (2, True, 'Generator')
    >>> ctx.power_w.tolist(), ctx.participants.tolist(), ctx.deadline_s is None
    ([0.5, 0.5], [True, True], True)
    """

    compute_s: Any
    compute_energy_j: Any
    channels: Any = None
    noise_rng: Any = None
    selection_rng: Any = None
    compression_rng: Any = None
    power_w: Any = None
    noise_w: Any = None
    bandwidth_hz: Any = None
    participants: Any = None
    deadline_s: Any = None

    def __post_init__(self) -> None:
        t = check_array(self.compute_s, "compute_s", ndim=1, nonneg=True, allow_empty=False)
        e = check_array(self.compute_energy_j, "compute_energy_j", shape=t.shape, nonneg=True)
        k = t.shape[0]
        object.__setattr__(self, "compute_s", t)
        object.__setattr__(self, "compute_energy_j", e)
        if self.channels is not None:
            h = check_channels(self.channels, "channels")
            if h.ndim != 2 or h.shape[0] != k:
                raise invalid_input("channels", h, f"a ({k}, N) matrix, one row per device")
            object.__setattr__(self, "channels", h)
        for name in ("noise_rng", "selection_rng", "compression_rng"):
            object.__setattr__(self, name, check_rng(getattr(self, name), name))
        if self.power_w is not None:
            p = check_array(self.power_w, "power_w", ndim=(0, 1), positive=True)
            if p.ndim == 1 and p.shape != (k,):
                raise invalid_input("power_w", p, f"a number or one power per device ({k})")
            object.__setattr__(self, "power_w", np.broadcast_to(p, (k,)).copy())
        if self.noise_w is not None:
            object.__setattr__(self, "noise_w", check_scalar(self.noise_w, "noise_w", nonneg=True))
        if self.bandwidth_hz is not None:
            band = check_scalar(self.bandwidth_hz, "bandwidth_hz", positive=True)
            object.__setattr__(self, "bandwidth_hz", band)
        part = np.ones(k, dtype=bool) if self.participants is None else self.participants
        object.__setattr__(self, "participants", check_mask(part, "participants", k))
        if self.deadline_s is not None:
            deadline = check_scalar(self.deadline_s, "deadline_s", positive=True)
            object.__setattr__(self, "deadline_s", deadline)

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
        **fields: Any,
    ) -> RoundContext:
        """A context whose three random streams are spawned from one ``rng``.

        Parameters
        ----------
        rng : numpy.random.Generator, int or None
            Parent source; the noise, selection and compression streams are its spawned
            children, in this order (:meth:`numpy.random.Generator.spawn`).
        compute_s, compute_energy_j, channels
            As in :class:`RoundContext`.
        **fields
            The other fields of :class:`RoundContext` (``power_w``, ``noise_w``,
            ``bandwidth_hz``, ``participants``, ``deadline_s``).

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
        >>> b = RoundContext.from_rng(0, compute_s=[0.0], compute_energy_j=[0.0],
        ...                           noise_w=0.1)
        >>> bool(a.noise_rng.random() == b.noise_rng.random()), b.noise_w
        (True, 0.1)
        """
        noise, selection, compression = check_rng(rng).spawn(3)
        return cls(
            compute_s=compute_s,
            compute_energy_j=compute_energy_j,
            channels=channels,
            noise_rng=noise,
            selection_rng=selection,
            compression_rng=compression,
            **fields,
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


def _uplink(
    context: RoundContext, *, noise_positive: bool
) -> tuple[NDArray[np.complex128], NDArray[np.float64], float, float]:
    """The round's channels, powers, noise and band from the context, each required."""
    for name in ("channels", "power_w", "noise_w", "bandwidth_hz"):
        if getattr(context, name) is None:
            raise missing_input(
                f"context.{name}",
                "the round's channels, powers, noise and band (run_fedavg takes them from "
                "its system)",
            )
    if noise_positive and context.noise_w <= 0:
        raise invalid_input("context.noise_w", context.noise_w, "a noise power > 0")
    return context.channels, context.power_w, context.noise_w, context.bandwidth_hz


def _rows(x: Any, mask: NDArray[np.bool_]) -> Any:
    """``x[mask]`` along the first axis (a NumPy array or a tensor); ``x`` itself if all."""
    if mask.all():
        return x
    if isinstance(x, torch.Tensor):
        return x[torch.as_tensor(mask, device=x.device)]
    return x[mask]


def _power_arg(power_w: NDArray[np.float64]) -> Any:
    """The powers as :mod:`edgeopt.aircomp` takes them: one number when all are equal."""
    if power_w.size and np.all(power_w == power_w[0]):
        return float(power_w[0])
    return power_w


def _empty_round(
    u: torch.Tensor, context: RoundContext, dropped: NDArray[np.bool_], *, mse: float, **kw: Any
) -> AggregationOutcome:
    """A round in which no update is aggregated: the model stays; dropped devices computed."""
    waited = context.deadline_s is not None and bool(dropped.any())
    return AggregationOutcome(
        update=torch.zeros(u.shape[1], dtype=u.dtype, device=u.device),
        selected=np.zeros(u.shape[0], dtype=bool),
        round_latency_s=float(context.deadline_s) if waited else 0.0,
        energy_j=float(context.compute_energy_j[dropped].sum()),
        uplink_bits=0.0,
        mse=mse,
        on_time=context.participants & ~dropped,
        **kw,
    )


class Aggregation:
    """Interface of the aggregation models (see the module docstring).

    A subclass implements :meth:`aggregate` and one that keeps state across rounds
    :meth:`reset`; one that needs no channel sets :attr:`uses_channels` to ``False`` (then
    :func:`~edgeopt.federated.run_fedavg` runs it without a system).
    :func:`~edgeopt.federated.run_fedavg` accepts any instance.

    Examples
    --------
    >>> from edgeopt.federated import Aggregation, IdealAggregation
    >>> isinstance(IdealAggregation(), Aggregation), IdealAggregation.uses_channels
    (True, False)
    """

    #: Whether the model reads the round's channels, powers, noise and band (then
    #: :func:`~edgeopt.federated.run_fedavg` needs a system to draw them from).
    uses_channels: bool = True

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
        self, updates: torch.Tensor, data_sizes: Any, context: RoundContext
    ) -> AggregationOutcome:
        """Aggregate one round of updates.

        Parameters
        ----------
        updates : torch.Tensor, shape (K, d)
            Local updates (local model minus global model), one row per client; the rows
            of devices that are not ``context.participants`` are ignored.
        data_sizes : array_like, shape (K,)
            Local data-set sizes ``n_i > 0`` (the FedAvg weights).
        context : RoundContext
            The round's channels, powers, noise and band (where the model uses them),
            computation times and energies of the ``K`` devices, participants, deadline
            and random streams.

        Returns
        -------
        AggregationOutcome
            The global update, the devices that made the deadline and those aggregated,
            and the round's costs.

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

    ``Δ = Σ_i n_i u_i / Σ_i n_i`` over the participants (McMahan et al. 2017, Alg. 1,
    :func:`weighted_average`); the round lasts ``max_i T_i`` and costs ``Σ_i E_i``
    (computation only).  With a deadline ``D`` (free uplink) a participant makes it iff
    ``T_i <= D``.  ``uplink_bits`` reports the lossless float32 payload, ``32·d`` per
    aggregated device, which is free here.  No channel is used and no random stream drawn.

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

    uses_channels = False

    def aggregate(
        self, updates: torch.Tensor, data_sizes: Any, context: RoundContext
    ) -> AggregationOutcome:
        """The exact weighted average of the on-time participants; computation costs only.

        Returns
        -------
        AggregationOutcome
            ``update = Σ n_i u_i / Σ n_i`` over the aggregated devices ``S`` (the
            participants with ``T_i <= D``), ``round_latency_s = max_{i∈S} T_i``,
            ``energy_j`` the sum of every participant's ``E_i``,
            ``uplink_bits = 32·d·|S|``.

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
        >>> late = RoundContext(compute_s=[1.0, 2.0], compute_energy_j=[1, 1], deadline_s=1.5)
        >>> out = IdealAggregation().aggregate(torch.tensor([[0.0], [3.0]]), [2, 1], late)
        >>> out.update.tolist(), out.selected.tolist(), out.round_latency_s, out.energy_j
        ([0.0], [True, False], 1.0, 2.0)
        """
        u, sizes, t, e = _check_round(updates, data_sizes, context)
        k, d = u.shape
        part = context.participants
        kept = part & deadline_mask(t, np.zeros(k), deadline_s=context.deadline_s, access="fdma")
        if not kept.any():
            return _empty_round(u, context, part & ~kept, mse=0.0)
        return AggregationOutcome(
            update=weighted_average(_rows(u, kept), sizes[kept]),
            selected=kept,
            round_latency_s=float(t[kept].max()),
            energy_j=float(e[part].sum()),
            uplink_bits=float(32 * d * int(kept.sum())),
            on_time=kept,
        )


class DigitalAggregation(Aggregation):
    """Error-free digital uplinks at Shannon rates over the round's fading channel.

    The participants' channels ``h_i`` from the context are received with maximum-ratio
    combining, and participant ``i`` of ``m`` gets
    (:func:`~edgeopt.federated.uplink.digital_rates`):

    * TDMA: the whole band in its own slot, ``r_i = B log2(1 + P_i‖h_i‖²/σ²)``; the round
      lasts ``max_i T_i + Σ_i L_i / r_i`` (all compute in parallel, then transmit in turn);
    * FDMA: a ``B/m`` sub-band with noise ``σ²/m``,
      ``r_i = (B/m) log2(1 + m P_i‖h_i‖²/σ²)``; the round lasts ``max_i (L_i/r_i + T_i)``
      (:func:`edgeopt.cost.round_latency`).

    With a deadline ``D``
    (:func:`~edgeopt.federated.uplink.deadline_mask`): under FDMA a device with
    ``T_i + L_i/r_i > D`` is dropped; under TDMA devices are admitted in the order their
    computations finish while ``max T + Σ L/r`` still ends by ``D``.  A dropped device
    sends nothing; it has computed (and compressed: a top-k error memory is updated as if
    its message had arrived).

    The payload ``L_i`` is ``d · bits_per_entry`` or, with a compressor, its exact message
    length.  Energy is ``Σ_i (P_i L_i / r_i + E_i)`` over the devices that sent, plus the
    dropped devices' ``E_i`` (:func:`edgeopt.cost.transmit_energy`;
    :func:`~edgeopt.federated.uplink.digital_round_cost`).  Without a compressor the values
    arrive exactly (``bits_per_entry`` sets only the payload size).  The band, powers and
    noise come from the system, through the context.

    Parameters
    ----------
    access : {"tdma", "fdma"}
        Multiple access (default ``"tdma"``).
    bits_per_entry : int >= 1
        Bits per model entry without compression (default 32).
    compressor : Compressor, optional
        :class:`~edgeopt.federated.compress.QSGD`, :class:`~edgeopt.federated.compress.TopK`
        or :class:`~edgeopt.federated.compress.SignSGD`; it draws from the context's
        ``compression_rng``.

    Raises
    ------
    InvalidInputError
        Unknown access, bad ``bits_per_entry``, a compressor of another type.

    References
    ----------
    C. E. Shannon, "A mathematical theory of communication," 1948; M. Chen et al., "A joint
    learning and communications framework for federated learning over wireless networks,"
    IEEE Trans. Wireless Commun., 2021 (FDMA uplink, latency and energy per round).

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated import DigitalAggregation, RoundContext
    >>> from edgeopt.system import normalized_system
    >>> system = normalized_system(2, power_w=0.1, noise_w=1e-3, bandwidth_hz=1e6)
    >>> agg = DigitalAggregation(access="tdma")
    >>> agg.reset(num_clients=2, dim=3)
    >>> ctx = RoundContext(compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0],
    ...                    channels=system.channels(rng=0), power_w=system.devices.tx_power_w,
    ...                    noise_w=system.noise_w, bandwidth_hz=1e6)
    >>> out = agg.aggregate(torch.tensor([[1.0, 2, 3], [3.0, 2, 1]]), [1, 1], ctx)
    >>> out.update.tolist(), out.uplink_bits
    ([2.0, 2.0, 2.0], 192.0)
    """

    def __init__(
        self,
        access: str = "tdma",
        *,
        bits_per_entry: int = 32,
        compressor: Compressor | None = None,
    ) -> None:
        self.access = check_choice(access, "access", ACCESS_SCHEMES)
        self.bits_per_entry = check_int(bits_per_entry, "bits_per_entry")
        if compressor is not None and not isinstance(compressor, Compressor):
            raise invalid_input("compressor", compressor, "an edgeopt Compressor or None")
        self.compressor = compressor

    def reset(self, num_clients: int, dim: int, device: Any = "cpu") -> None:
        """Reset the compressor's state (error-feedback memories) for a new run.

        See Also
        --------
        Aggregation.reset : the parameters.

        Examples
        --------
        >>> from edgeopt.federated import DigitalAggregation, TopK
        >>> agg = DigitalAggregation(compressor=TopK(k=2))
        >>> agg.reset(num_clients=3, dim=5)
        >>> tuple(agg.compressor.memory.shape)
        (3, 5)
        """
        if self.compressor is not None:
            self.compressor.reset(num_clients, dim, device)

    def aggregate(
        self, updates: torch.Tensor, data_sizes: Any, context: RoundContext
    ) -> AggregationOutcome:
        """Send every participant's update over its own digital link; charge latency, energy.

        Client ``i`` is row ``i`` of ``updates`` (the compressor's per-client state is
        indexed by it); the rates come from the context's channels, powers, noise and
        band, and the compressor draws from ``context.compression_rng``.

        Returns
        -------
        AggregationOutcome
            The (decoded) weighted average of the devices that made the deadline (all
            participants without one), the TDMA or FDMA latency and the energy of the class
            description, the exact bits sent, and ``info["rate_bps"]``, each device's rate
            (``(K,)``, 0 for a device that does not take part).

        Raises
        ------
        InvalidInputError
            As :meth:`Aggregation.aggregate`; also a context without channels, powers,
            a positive noise power or a band, or a
            :class:`~edgeopt.federated.compress.TopK` compressor not reset for this ``d``.

        See Also
        --------
        Aggregation.aggregate : the parameters.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import QSGD, DigitalAggregation, RoundContext
        >>> from edgeopt.system import normalized_system
        >>> system = normalized_system(2, power_w=0.1, noise_w=1e-3)
        >>> agg = DigitalAggregation(access="fdma", compressor=QSGD(4))
        >>> agg.reset(num_clients=2, dim=4)
        >>> ctx = RoundContext.from_rng(0, compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0],
        ...                             channels=system.channels(rng=1), power_w=0.1,
        ...                             noise_w=system.noise_w, bandwidth_hz=1e6)
        >>> out = agg.aggregate(torch.ones(2, 4), [1, 1], ctx)
        >>> out.uplink_bits  # 2 devices * (32 + 4 * (1 + 3))
        96.0
        >>> out.update.tolist()  # equal entries are quantized exactly
        [1.0, 1.0, 1.0, 1.0]
        """
        u, sizes, t, e = _check_round(updates, data_sizes, context)
        k, d = u.shape
        h, power, noise, band = _uplink(context, noise_positive=True)
        part = context.participants
        if not part.any():
            return _empty_round(u, context, np.zeros(k, dtype=bool), mse=0.0)
        idx = np.flatnonzero(part)
        u_part = _rows(u, part)
        if self.compressor is None:
            decoded = u_part
            bits = np.full(idx.size, float(d * self.bits_per_entry))
        else:
            decoded, bits = self.compressor.compress(u_part, idx, context.compression_rng)
        hp = _rows(h, part)
        rate = digital_rates(
            np.sum(hp.real**2 + hp.imag**2, axis=-1),
            bandwidth_hz=band,
            power_w=power[idx],
            noise_w=noise,
            access=self.access,
        )
        ok = deadline_mask(t[idx], bits / rate, deadline_s=context.deadline_s, access=self.access)
        dropped = np.zeros(k, dtype=bool)
        dropped[idx[~ok]] = True
        if not ok.any():
            return _empty_round(u, context, dropped, mse=0.0)
        kept = idx[ok]
        if self.compressor is None:
            update = weighted_average(_rows(decoded, ok), sizes[kept])
        else:
            w = torch.as_tensor(sizes[kept], dtype=u.dtype, device=u.device)
            update = self.compressor.combine(_rows(decoded, ok), w)
        cost = digital_round_cost(
            bits[ok], rate[ok], t[kept], e[kept], power_w=power[kept], access=self.access
        )
        selected = np.zeros(k, dtype=bool)
        selected[kept] = True
        rate_all = np.zeros(k)
        rate_all[idx] = rate
        return AggregationOutcome(
            update=update,
            selected=selected,
            round_latency_s=cost.latency_s,
            energy_j=cost.energy_j + float(e[dropped].sum()),
            uplink_bits=float(bits[ok].sum()),
            info={"rate_bps": rate_all},
            on_time=selected.copy(),
        )


class AirCompAggregation(Aggregation):
    r"""Over-the-air computation of the weighted sum, with device selection (Yang et al. 2020).

    Every round, on the round's channels ``H`` (``(K, N)``, drawn by the loop from its
    system), the devices' powers ``P_i`` and the receiver noise ``σ_n²`` from the context:

    0. drop the participants whose computation plus the one aggregation slot would end after
       the deadline, ``T_i + ⌈d/2⌉/B > D`` (:func:`~edgeopt.federated.uplink.deadline_mask`);
       the others form the pool;
    1. select devices of the pool and the receive beamformer ``m`` with
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
       (``|b_i|² ≤ P_i``), receive ``y = Σ_i h_i b_i s_i + n``, ``n ~ CN(0, σ_n² I)`` drawn
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
    plus its computation energy; a device dropped at the deadline spends its computation.

    With ``noise_w = 0`` in the context (a noiseless reference) every device of the pool is
    selected and the beamformer is the all-devices one; the result is the exact weighted
    average.

    Parameters
    ----------
    mse_target : float > 0
        Target MSE ``γ`` of the selection problem (linear, in the units above: the
        normalized target ``γP/σ_n²`` decides which sets are feasible).
    method : {"dc", "sdr", "fast", "all", "eig"}
        Device-selection method of :func:`edgeopt.aircomp.select_devices` (default
        ``"dc"``).

    Raises
    ------
    InvalidInputError
        A bad target or an unknown selection method.

    References
    ----------
    K. Yang, T. Jiang, Y. Shi and Z. Ding, "Federated learning via over-the-air
    computation," IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022–2035, 2020.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated import AirCompAggregation, RoundContext
    >>> from edgeopt.system import normalized_system
    >>> system = normalized_system(2, num_antennas=4)
    >>> agg = AirCompAggregation(mse_target=1.0, method="all")
    >>> ctx = RoundContext(compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0],
    ...                    channels=system.channels(rng=0), power_w=1.0, noise_w=0.0,
    ...                    bandwidth_hz=1e6)
    >>> out = agg.aggregate(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 1], ctx)
    >>> [round(v, 4) for v in out.update.tolist()], int(out.selected.sum())
    ([2.0, 3.0], 2)
    """

    def __init__(self, mse_target: float, method: str = "dc") -> None:
        from edgeopt.aircomp import METHODS

        self.mse_target = check_scalar(mse_target, "mse_target", positive=True)
        self.method = check_choice(method, "method", METHODS)

    def _select(
        self,
        h: NDArray[np.complex128],
        weights: NDArray[np.float64],
        power_w: NDArray[np.float64],
        noise_w: float,
        rng: np.random.Generator,
    ) -> tuple[NDArray[np.bool_], NDArray[np.complex128], str]:
        """Selected devices, receive beamformer and solver status for the round's channels."""
        from edgeopt.aircomp import select_devices

        if noise_w > 0:
            sol = select_devices(
                h,
                power_w=_power_arg(power_w),
                noise_w=noise_w,
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
        """One analog over-the-air round: drop late devices, select, normalize, transmit.

        The AirComp weights are ``n_i / mean_j n_j``; the selection runs on the pool's
        channels and powers with ``context.selection_rng``, the receiver noise comes from
        ``context.noise_rng``, and only selected devices (and those dropped at the
        deadline) are charged their computation.

        Returns
        -------
        AggregationOutcome
            The noisy weighted average of the selected devices' updates, the selection,
            ``round_latency_s = max_{i∈S} T_i + ⌈d/2⌉/B``, the realized transmit energy
            plus computation, ``uplink_bits = 0``, the predicted ``mse`` (normalized units,
            see :class:`AggregationOutcome`) and the selection's status.  With no device
            selectable: a zero update, no transmission and ``mse = inf``.

        Raises
        ------
        InvalidInputError
            As :meth:`Aggregation.aggregate`; also a context without channels, powers,
            noise or band.

        See Also
        --------
        Aggregation.aggregate : the parameters.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated import AirCompAggregation, RoundContext
        >>> from edgeopt.system import normalized_system
        >>> system = normalized_system(2, num_antennas=4, noise_w=0.01)
        >>> agg = AirCompAggregation(mse_target=1.0, method="fast")
        >>> ctx = RoundContext.from_rng(0, compute_s=[0.0, 0.0], compute_energy_j=[0.0, 0.0],
        ...                             channels=system.channels(rng=1), power_w=1.0,
        ...                             noise_w=system.noise_w, bandwidth_hz=1e6)
        >>> out = agg.aggregate(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 1], ctx)
        >>> out.selected.tolist(), out.round_latency_s  # one complex symbol at 1 MHz
        ([True, True], 1e-06)
        >>> bool(out.mse <= 1.0), [round(v, 1) for v in out.update.tolist()]
        (True, [2.0, 3.0])
        """
        from edgeopt.aircomp import aircomp_mse, transmit_scalars

        u, sizes, t, e = _check_round(updates, data_sizes, context)
        k, d = u.shape
        h, power, noise, band = _uplink(context, noise_positive=False)
        part = context.participants
        slot = math.ceil(d / 2) / band
        pool = part & deadline_mask(
            t, np.full(k, slot), deadline_s=context.deadline_s, access="aircomp"
        )
        dropped = part & ~pool
        if not pool.any():
            return _empty_round(u, context, dropped, mse=float("inf"))
        w_all = sizes / sizes.mean()
        chosen, m, status = self._select(
            _rows(h, pool), _rows(w_all, pool), _rows(power, pool), noise, context.selection_rng
        )
        selected = np.zeros(k, dtype=bool)
        selected[np.flatnonzero(pool)[chosen]] = True
        hs, ws, ps = h[selected], w_all[selected], _power_arg(power[selected])
        b, eta = np.zeros(0, dtype=np.complex128), 0.0
        if selected.any():
            tx = transmit_scalars(m, hs, power_w=ps, weights=ws)
            b, eta = tx.scalars, tx.eta
        if eta <= 0.0:  # nothing selected, or m orthogonal to a selected channel
            return _empty_round(u, context, dropped, mse=float("inf"), status=status)
        mse = aircomp_mse(m, hs, power_w=ps, noise_w=noise, weights=ws) if noise > 0 else 0.0
        rows = torch.as_tensor(selected, device=u.device)
        norm = normalize_updates(u[rows].detach().double().cpu().numpy())
        symbols = pack_complex(norm.values)  # (|S|, ⌈d/2⌉), E|s|^2 = 1
        g_hat = aircomp_receive(symbols, hs, b, m, eta=eta, noise_w=noise, rng=context.noise_rng)
        w_sum = float(ws.sum())
        agg = norm.denormalize_sum(unpack_complex(g_hat, d), w_sum) / w_sum
        cost = aircomp_round_cost(b[:, None] * symbols, t[selected], e[selected], bandwidth_hz=band)
        return AggregationOutcome(
            update=torch.as_tensor(agg, dtype=u.dtype, device=u.device),
            selected=selected,
            round_latency_s=cost.latency_s,
            energy_j=cost.energy_j + float(e[dropped].sum()),
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
            on_time=pool,
        )
