"""Federated averaging over a cell of devices, with the aggregation model in the loop."""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from edgeopt._validation import (
    check_bool,
    check_choice,
    check_finite_tensor,
    check_int,
    check_mask,
    check_options,
    check_rng,
    check_scalar,
    invalid_input,
    invalid_inputs,
    missing_input,
)
from edgeopt.errors import InvalidInputError
from edgeopt.federated._batched import (
    pad_client_data,
    sample_batches,
    train_batched,
    train_sequential,
)
from edgeopt.federated.aggregation import Aggregation, RoundContext
from edgeopt.federated.data import resolve_dataset
from edgeopt.federated.estimation import batch_objectives, local_objectives
from edgeopt.federated.history import History
from edgeopt.federated.partition import PARTITIONS
from edgeopt.federated.partition import partition as partition_fn
from edgeopt.frequency import RoundStats, estimate_constants
from edgeopt.nn.models import build_model, init_parameters
from edgeopt.system import System, normalized_system

__all__ = ["run_fedavg", "resolve_device", "STREAMS"]

#: Purposes of the random streams of a run, in the order they are spawned from its ``rng``
#: (:meth:`numpy.random.Generator.spawn`): one independent stream each.
STREAMS = (
    "data",
    "partition",
    "model",
    "batches",
    "channels",
    "noise",
    "selection",
    "compression",
    "participation",
)

_OPTIONS = {
    "alpha": 0.5,
    "shards_per_client": 2,
    "batched": True,
}
#: Options of earlier versions that are now parameters of the system's devices.
_DEVICE_OPTIONS = ("cpu_freq_hz", "kappa", "cycles_per_sample")


def resolve_device(device: Any) -> torch.device:
    """Check a torch device name (``"cpu"``, ``"cuda"``, ``"cuda:1"``...) is usable.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``.

    Returns
    -------
    torch.device
        The parsed device (CUDA only where torch sees a GPU).

    Raises
    ------
    InvalidInputError
        Unknown name, or CUDA requested where it is not available.

    Examples
    --------
    >>> from edgeopt.federated.loop import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise invalid_input("device", device, "'cpu' or 'cuda'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise invalid_input("device", device, "'cpu' (CUDA is not available here)")
    if dev.type not in ("cpu", "cuda"):
        raise invalid_input("device", device, "'cpu' or 'cuda'")
    return dev


def _flat(
    params: dict[str, torch.Tensor], batch: bool, out: torch.Tensor | None = None
) -> torch.Tensor:
    if batch:
        parts = [p.reshape(p.shape[0], -1) for p in params.values()]
        return torch.cat(parts, dim=1) if out is None else torch.cat(parts, dim=1, out=out)
    return torch.cat([p.reshape(-1) for p in params.values()])


def _unflat(vec: torch.Tensor, like: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out, start = {}, 0
    for name, p in like.items():
        out[name] = vec[start : start + p.numel()].reshape(p.shape)
        start += p.numel()
    return out


def _evaluate(
    model: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor
) -> tuple[float, float]:
    with torch.no_grad():
        logits = torch.func.functional_call(model, params, (x,))
        loss = torch.nn.functional.cross_entropy(logits, y)
        acc = (logits.argmax(1) == y).to(torch.float64).mean()
    return float(acc), float(loss)


def _participation(value: Any) -> float | Callable[..., Any]:
    """Check ``participation``: a fraction in (0, 1] or a callable policy."""
    if callable(value):
        return value
    expected = "a fraction in (0, 1] or a callable policy(round_index, channels, rng)"
    if isinstance(value, bool):
        raise invalid_input("participation", value, expected)
    try:
        frac = check_scalar(value, "participation")
    except InvalidInputError as exc:
        raise invalid_input("participation", value, expected) from exc
    if not 0.0 < frac <= 1.0:
        raise invalid_input("participation", value, expected)
    return frac


def _system(system: Any, num_clients: Any, aggregation: Aggregation) -> tuple[System | None, int]:
    """The run's system (``None`` without channels) and its number of devices."""
    if system is None:
        if aggregation.uses_channels:
            raise invalid_input(
                "system",
                None,
                f"a System for {type(aggregation).__name__}, which uses the channel: e.g. "
                "system=normalized_system(num_clients, num_antennas=N, power_w=P, noise_w=σ²) "
                "(from edgeopt.system)",
            )
        if num_clients is None:
            raise missing_input(
                "num_clients", "the number of clients (or a system=... that gives it)"
            )
        return None, check_int(num_clients, "num_clients")
    if not isinstance(system, System):
        raise invalid_input("system", system, "an edgeopt.system.System or None")
    k = system.num_devices
    if num_clients is not None and check_int(num_clients, "num_clients") != k:
        raise invalid_inputs(
            f"num_clients={num_clients!r}, system.num_devices={k}",
            "num_clients equal to the system's number of devices (or left out)",
        )
    return system, k


def _sampler(
    participation: float | Callable[..., Any], k: int, stream: np.random.Generator
) -> Callable[[int, Any], NDArray[np.bool_]]:
    """The per-round participant mask: m of K sampled without replacement, or the policy."""
    if callable(participation):
        policy = participation

        def mask_of(r: int, channels: Any) -> NDArray[np.bool_]:
            mask = policy(r, channels, stream.spawn(1)[0])
            return check_mask(mask, "participation", k)

        return mask_of
    m = max(1, math.floor(participation * k + 0.5))

    def sample(r: int, channels: Any) -> NDArray[np.bool_]:
        mask = np.zeros(k, dtype=bool)
        if m == k:
            mask[:] = True
        else:
            mask[stream.choice(k, size=m, replace=False)] = True
        return mask

    return sample


def _local_steps(value: Any, lr: float) -> tuple[Any, int]:
    """``local_steps``: an int (no controller) or a controller; and the first round's τ."""
    if not hasattr(value, "next_tau"):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise invalid_input(
                "local_steps",
                value,
                "an integer >= 1, or a controller with next_tau(stats) -> int (e.g. "
                "edgeopt.frequency.AdaptiveTauController)",
            )
        return None, check_int(value, "local_steps")
    eta = getattr(value, "eta", None)
    if eta is not None and eta != lr:
        raise invalid_inputs(
            f"lr={lr!r}, local_steps.eta={eta!r}",
            "the controller's learning rate equal to lr (its bound is for that step size)",
        )
    if hasattr(value, "reset"):
        value.reset()
    return value, check_int(getattr(value, "initial_tau", 1), "local_steps.initial_tau")


def _estimate(
    net: nn.Module,
    local: dict[str, torch.Tensor],
    global_params: dict[str, torch.Tensor],
    xs: torch.Tensor,
    ys: torch.Tensor,
    sizes: NDArray[np.int64],
    selected: NDArray[np.bool_],
    run_system: System,
    subset: int | None = None,
) -> tuple[Any, float, float]:
    """The τ controller's estimates over the aggregated devices, and their compute cost.

    Each aggregated device evaluates its loss and gradient at its local model and at the
    new global model, on its whole data (``subset`` None) or on a fixed subset of
    ``min(subset, D_i)`` evenly spaced samples: two passes, charged with the system's
    compute model (the slowest device's time, every device's energy).  The estimates
    weight the devices by their data sizes ``D_i`` in both cases.
    """
    used = sizes
    if subset is not None:  # the same evenly spaced rows of each device in every round
        used = np.minimum(sizes, subset)
        cols = np.arange(int(used.max()))
        pick = np.minimum((cols[None, :] * sizes[:, None]) // used[:, None], sizes[:, None] - 1)
        index = torch.as_tensor(pick, device=xs.device)
        xs = torch.gather(xs, 1, index[..., None].expand(-1, -1, xs.shape[2]))
        ys = torch.gather(ys, 1, index)
    rows = torch.as_tensor(np.flatnonzero(selected), device=xs.device)
    n = int(rows.numel())
    at_local = {name: p[rows] for name, p in local.items()}
    at_global = {name: p[None].expand(n, *p.shape) for name, p in global_params.items()}
    loss_l, grad_l = local_objectives(net, at_local, xs[rows], ys[rows], used[selected])
    loss_g, grad_g = local_objectives(net, at_global, xs[rows], ys[rows], used[selected])
    estimates = estimate_constants(
        local_params=_flat(at_local, batch=True).detach().double().cpu().numpy(),
        global_params=_flat(global_params, batch=False).detach().double().cpu().numpy(),
        local_loss=loss_l,
        global_loss=loss_g,
        local_grad=grad_l,
        global_grad=grad_g,
        data_sizes=sizes[selected],
    )
    samples = np.where(selected, 2.0 * used, 0.0)
    est_s = float(np.max(run_system.compute_time_s(samples)))
    est_j = float(np.sum(run_system.compute_energy_j(samples)))
    return estimates, est_s, est_j


def _train_recording(
    trainer: Callable[..., dict[str, torch.Tensor]],
    net: nn.Module,
    global_params: dict[str, torch.Tensor],
    xs: torch.Tensor,
    ys: torch.Tensor,
    index: NDArray[np.int64],
    mask: NDArray[np.float32],
    lr: float,
) -> tuple[dict[str, torch.Tensor], tuple[Any, ...], tuple[Any, ...]]:
    """The round's local steps, keeping the first step's and the last step's loss and gradient.

    Returns the local models, ``(F_i, ∇F_i)`` of every device's first mini-batch at the
    global model, and ``(w_i, F_i, ∇F_i)`` at the point of its last step (the model the
    last update starts from, with that step's mini-batch loss and gradient), as float64
    NumPy arrays.  The last step is applied here with the gradient kept, so the local
    models are those of ``τ`` SGD steps.
    """
    k, tau = xs.shape[0], index.shape[0]
    start = {n: p[None].expand(k, *p.shape) for n, p in global_params.items()}
    loss0, grad0 = batch_objectives(net, start, xs, ys, index[0], mask[0])
    if tau == 1:
        before, loss1, grad1 = start, loss0, grad0
    else:
        before = trainer(net, global_params, xs, ys, index[:-1], mask[:-1], lr)
        loss1, grad1 = batch_objectives(net, before, xs, ys, index[-1], mask[-1])
    local = {n: before[n] - lr * grad1[n] for n in before}

    def numpy(t: torch.Tensor) -> NDArray[np.float64]:
        return t.detach().double().cpu().numpy()

    first = (numpy(loss0), numpy(_flat(grad0, batch=True)))
    last = (numpy(_flat(before, batch=True)), numpy(loss1), numpy(_flat(grad1, batch=True)))
    return local, first, last


def run_fedavg(
    *,
    data: Any,
    model: str | Callable[[], nn.Module],
    rounds: int,
    local_steps: int | Any,
    lr: float,
    batch_size: int | None,
    aggregation: Aggregation,
    rng: Any,
    system: System | None = None,
    num_clients: int | None = None,
    participation: float | Callable[..., Any] = 1.0,
    deadline_s: float | None = None,
    partition: str = "iid",
    device: Any = "cpu",
    **options: Any,
) -> History:
    r"""Federated averaging over a cell of devices, every round charged its latency and energy.

    Each round (McMahan et al. 2017, Alg. 1): the round's participants are chosen
    (``participation``), every client starts from the global model ``θ``, runs
    ``local_steps`` steps of mini-batch SGD, ``θ_i ← θ_i − lr ∇ℓ_i(θ_i)`` on its own data,
    and returns ``u_i = θ_i − θ``; the loop draws the round's channels from the system
    (:meth:`edgeopt.system.System.channels`) and the aggregation model turns the updates of
    the participants that make the deadline into ``Δ`` (for ideal aggregation
    ``Δ = Σ n_i u_i / Σ n_i`` with local data sizes ``n_i``) and the server sets
    ``θ ← θ + Δ``.  The global model is then evaluated on the test set and on the whole
    training set.

    The system (:mod:`edgeopt.system`) is the one source of the band, the devices' powers,
    the receiver noise, the channels and the CPUs: the loop hands the aggregation the
    round's channels, ``system.devices.tx_power_w``, ``system.noise_w`` and the band in a
    :class:`~edgeopt.federated.aggregation.RoundContext`.  Its devices' ``num_samples``
    are set to the partition's local data sizes, and a ``cycles_per_sample`` of ``None``
    to the model's default ``6·d`` (``History.info["system"]`` holds the system so
    completed).  Without a system (only for an aggregation that uses no channel,
    :class:`~edgeopt.federated.IdealAggregation`), the devices are
    ``normalized_system(num_clients)``'s: 1 GHz, ``κ = 1e-28``.

    Local computation is charged with the CMOS model of :mod:`edgeopt.cost`: device ``i``
    processes ``local_steps · b_i`` samples at ``C_i`` cycles each, taking
    ``T_i = C_i local_steps b_i / f_i`` seconds and ``κ_i C_i local_steps b_i f_i²`` joules
    (:meth:`edgeopt.system.System.compute_time_s`, :meth:`~edgeopt.system.System.compute_energy_j`).

    Participation and deadline: with a fraction ``f``, ``m = max(1, ⌊f·K + 1/2⌋)`` devices
    are sampled without replacement each round (as ``fraction_fit`` in Flower); a callable
    ``policy(round_index, channels, rng)`` returns the round's boolean mask instead
    (``round_index`` counts from 0, ``channels`` is the round's ``(K, N)`` draw or ``None``
    without a system, ``rng`` a fresh child of the participation stream).  With a deadline
    the server waits at most ``deadline_s`` per round: under FDMA and AirComp a participant
    whose computation plus its own upload (AirComp: the aggregation slot) would end later
    is dropped (AirComp drops before selection); under TDMA participants are admitted in
    the order their computations finish while the slot schedule still ends by the deadline
    (:func:`~edgeopt.federated.uplink.deadline_mask`).  A dropped device's update is lost
    and its computation energy spent.  The round lasts until its last kept upload ends:
    FDMA and AirComp ``max_i (T_i + U_i)``, TDMA ``max_i T_i + Σ_i U_i`` over the kept
    devices (see :mod:`edgeopt.federated.aggregation` for a round with none).  The
    non-participants are trained too and their updates discarded (one batched
    computation), so every run draws the same mini-batches.

    Randomness: one independent stream per purpose is spawned from ``rng``
    (:data:`STREAMS`: synthetic data, partition, initial model, mini-batches, channels,
    receiver noise, device selection, compression, participation;
    :meth:`numpy.random.Generator.spawn`), and each round's noise, selection and
    compression streams are spawned afresh from theirs.  Two runs with the same ``rng``
    that differ only in the aggregation, the participation or the deadline therefore see
    the same data, partition, initial model, mini-batches and channels (common random
    numbers): ideal and error-free digital aggregation give identical models.

    Parameters
    ----------
    data : {"digits", "synthetic"} or Dataset
        ``"synthetic"`` is drawn from the run's data stream.
    model : {"logistic", "mlp", "cnn"} or callable
        A callable is a factory with no arguments returning an ``nn.Module`` from
        ``(B, input_dim)`` features to logits, without batch-statistics buffers; it runs
        with torch's CPU generator seeded from the run's model stream (see
        :func:`~edgeopt.nn.models.build_model`), so the initial model is a function of
        ``rng`` alone.
    rounds : int >= 1
        Rounds to run (with a controller: at most this many).
    local_steps : int >= 1 or controller
        Local SGD steps per round, or a controller of them such as
        :class:`edgeopt.frequency.AdaptiveTauController`: an object with ``initial_tau``
        (the first round's count), ``next_tau(stats) -> int`` and optionally ``reset()``,
        ``eta`` (which must equal ``lr``), ``needs_estimates``, ``estimation``
        (``"steps"`` or ``"pass"``) and ``estimation_samples``.
        After each aggregation the loop calls ``next_tau`` with an
        :class:`edgeopt.frequency.RoundStats` (the round's ``τ``, the cost of one local
        step -- the slowest participant's time and all participants' energy --, the rest
        of the round's cost, the time and energy spent so far, and, when
        ``needs_estimates`` is true, the estimates of
        :func:`edgeopt.frequency.estimate_constants` over the aggregated devices); the
        returned count is the next round's ``τ``, and ``0`` stops the run (its budget
        spent).  The controller's ``estimation`` says how the estimates are obtained.
        ``"steps"`` (Wang et al. 2019, Algorithms 2–3; what
        :class:`~edgeopt.frequency.AdaptiveTauController` does by default): each
        device's loss and gradient at the global model ``w(t0)`` a round starts from are
        those of its first local step (its mini-batch), and those at its local model are
        those of the last local step of the round before (at the point that step starts
        from); nothing extra is computed or charged, and the estimates handed over after
        round ``r`` pair round ``r − 1``'s last steps with round ``r``'s first steps
        (none after the first round), over the devices aggregated in both rounds.
        ``"pass"`` (the default for a controller without the attribute): each aggregated
        device's loss and gradient on its whole data (or, with
        ``estimation_samples = n``, on a fixed subset of ``min(n, D_i)`` evenly spaced
        samples of it) at its local model and at the new global model: two passes over
        those samples, charged to the round as computation (the slowest device's time,
        all devices' energy; ``History.estimation_latency_s``).
    lr : float > 0
    batch_size : int >= 1 or None
        Mini-batch size; a client with fewer samples uses all of them; ``None`` means full
        local batch (gradient descent).
    aggregation : Aggregation
        :class:`IdealAggregation`, :class:`DigitalAggregation` or :class:`AirCompAggregation`.
    rng : int, numpy.random.Generator or None
        Source of all randomness (see above); the same int gives the same run.
    system : edgeopt.system.System, optional
        The cell: base station (antennas, band, noise, channel model) and devices (powers,
        CPUs).  Required by an aggregation that uses the channel; e.g.
        :func:`~edgeopt.system.normalized_system` or :func:`~edgeopt.system.drop_devices`.
    num_clients : int >= 1, optional
        Number of clients ``K``; required without a system, and equal to
        ``system.num_devices`` where both are given.
    participation : float in (0, 1] or callable
        Fraction of devices sampled per round (default 1: all), or a policy (see above).
    deadline_s : float > 0, optional
        The longest the server waits per round (default: no deadline).
    partition : {"iid", "label_shards", "dirichlet"}
        See :func:`edgeopt.federated.partition.partition`.
    device : str
        Torch device, ``"cpu"`` (default) or ``"cuda"``.
    **options
        ``alpha`` (Dirichlet concentration, default 0.5), ``shards_per_client`` (default 2),
        ``batched`` (train all clients together, default True; False runs the sequential
        reference loop, one ``nn.Module`` and autograd per client).  Batched training runs
        the built-in dense models (``"logistic"``, ``"mlp"``) with a written-out forward and
        backward pass on client-stacked weights (``torch.baddbmm``, no autograd), the CNN
        with a client-batched forward (grouped convolutions) differentiated once by
        autograd, and a user factory with ``torch.func.vmap(torch.func.grad(loss))``.

    Returns
    -------
    History
        With, per round, the devices sampled, those that made the deadline and those
        aggregated (``(rounds, K)`` boolean arrays), and each round's ``τ``
        (``local_steps``).  A round's latency and energy include the estimation pass.

    Raises
    ------
    InvalidInputError
        Unknown data, model, partition or option; ``rounds``, ``local_steps``,
        ``num_clients`` < 1; a controller whose ``eta`` differs from ``lr`` or whose
        ``next_tau`` returns anything but an integer >= 0; ``lr`` <= 0; no system for an
        aggregation that uses the channel; ``num_clients`` that disagrees with the system;
        a participation fraction outside (0, 1] or a policy that returns anything but a
        boolean mask of length K;
        ``deadline_s`` <= 0; the per-device options ``cpu_freq_hz``, ``kappa``,
        ``cycles_per_sample`` (they belong to the system's devices); more clients than
        samples; CUDA unavailable; local training that diverges to non-finite values
        (``lr`` too large).

    References
    ----------
    H. B. McMahan, E. Moore, D. Ramage, S. Hampson and B. Agüera y Arcas,
    "Communication-efficient learning of deep networks from decentralized data," AISTATS
    2017, Algorithm 1.  N. H. Tran et al., "Federated learning over wireless networks:
    optimization model design and analysis," INFOCOM 2019, Eq. (3)–(4) (computation model).

    Examples
    --------
    >>> from edgeopt.federated import AirCompAggregation, IdealAggregation, run_fedavg
    >>> from edgeopt.system import normalized_system
    >>> hist = run_fedavg(data="synthetic", model="logistic", num_clients=4, rounds=5,
    ...                   local_steps=2, lr=0.5, batch_size=32,
    ...                   aggregation=IdealAggregation(), rng=0)
    >>> hist.test_accuracy.shape, bool(hist.test_accuracy[-1] > 0.7)
    ((5,), True)
    >>> system = normalized_system(8, num_antennas=4, power_w=1.0, noise_w=0.1)
    >>> hist = run_fedavg(data="synthetic", model="logistic", system=system, rounds=3,
    ...                   local_steps=2, lr=0.5, batch_size=32, participation=0.5,
    ...                   aggregation=AirCompAggregation(mse_target=1.0, method="fast"), rng=0)
    >>> hist.sampled.sum(axis=1).tolist(), hist.sampled.shape
    ([4, 4, 4], (3, 8))
    """
    for name in _DEVICE_OPTIONS:
        if name in options:
            raise invalid_input(
                name,
                options[name],
                "a device parameter of the system: system=normalized_system(K, "
                f"{name}=...) or drop_devices(K, ..., {name}=...)",
            )
    check_options(options, "run_fedavg(**options)", optional=_OPTIONS)
    opts = {**_OPTIONS, **options}
    streams = dict(zip(STREAMS, check_rng(rng, "rng").spawn(len(STREAMS)), strict=True))
    if not isinstance(aggregation, Aggregation):
        raise invalid_input(
            "aggregation",
            aggregation,
            "IdealAggregation, DigitalAggregation or AirCompAggregation",
        )
    cell, k = _system(system, num_clients, aggregation)
    n_rounds = check_int(rounds, "rounds")
    step_size = check_scalar(lr, "lr", positive=True)
    controller, steps = _local_steps(local_steps, step_size)
    bsz = None if batch_size is None else check_int(batch_size, "batch_size")
    policy = _participation(participation)
    deadline = None if deadline_s is None else check_scalar(deadline_s, "deadline_s", positive=True)
    check_choice(partition, "partition", PARTITIONS)
    batched = check_bool(opts["batched"], "batched")
    dev = resolve_device(device)

    ds = resolve_dataset(data, streams["data"])
    if k > ds.num_train:
        raise invalid_input("num_clients", k, f"at most {ds.num_train} (training samples)")
    parts = partition_fn(
        ds.y_train,
        k,
        partition,
        rng=streams["partition"],
        alpha=opts["alpha"],
        shards_per_client=opts["shards_per_client"],
    )
    net = build_model(model, ds.input_dim, ds.num_classes, rng=streams["model"])
    init_parameters(net, streams["model"])
    net = net.to(dev)
    for p in net.parameters():
        p.requires_grad_(True)
    global_params = {n: p.detach().clone() for n, p in net.named_parameters()}
    dim = sum(p.numel() for p in global_params.values())

    x_train = torch.as_tensor(ds.x_train, device=dev)
    y_train = torch.as_tensor(ds.y_train, device=dev)
    x_test = torch.as_tensor(ds.x_test, device=dev)
    y_test = torch.as_tensor(ds.y_test, device=dev)
    xs, ys = pad_client_data(x_train, y_train, parts)
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    batch = sizes if bsz is None else np.minimum(sizes, bsz)
    base = cell if cell is not None else normalized_system(k)
    fill: dict[str, Any] = {"num_samples": sizes}
    if base.devices.cycles_per_sample is None:
        fill["cycles_per_sample"] = 6.0 * dim
    run_system = base.with_devices(**fill)
    processed = (steps * batch).astype(np.float64)
    comp_s = run_system.compute_time_s(processed)
    comp_j = run_system.compute_energy_j(processed)
    uplink: dict[str, Any] = {}
    if cell is not None:
        uplink = {
            "power_w": run_system.devices.tx_power_w,
            "noise_w": run_system.noise_w,
            "bandwidth_hz": run_system.base_station.bandwidth_hz,
        }
    sample_participants = _sampler(policy, k, streams["participation"])
    aggregation.reset(k, dim, dev)
    wants_estimates = controller is not None and bool(getattr(controller, "needs_estimates", False))
    subset = getattr(controller, "estimation_samples", None)
    if subset is not None:
        subset = check_int(subset, "local_steps.estimation_samples")
    mode = check_choice(
        getattr(controller, "estimation", "pass"), "local_steps.estimation", ("steps", "pass")
    )
    reuse = wants_estimates and mode == "steps"
    previous: tuple[NDArray[np.bool_], tuple[Any, ...]] | None = None
    spent_s = spent_j = 0.0

    acc0, _ = _evaluate(net, global_params, x_test, y_test)
    rec: dict[str, list[Any]] = {
        key: []
        for key in (
            "acc",
            "loss",
            "sel",
            "lat",
            "energy",
            "bits",
            "mse",
            "sampled",
            "on_time",
            "tau",
            "est_s",
            "est_j",
        )
    }
    theta = _flat(global_params, batch=False)
    theta0 = theta.detach().double().cpu().numpy()
    trainer = train_batched if batched else train_sequential
    start = time.perf_counter()
    updates_buf: torch.Tensor | None = None
    for r in range(n_rounds):
        if controller is not None:  # this round's τ
            processed = (steps * batch).astype(np.float64)
            comp_s = run_system.compute_time_s(processed)
            comp_j = run_system.compute_energy_j(processed)
        index, mask = sample_batches(sizes, bsz, steps, streams["batches"])
        if reuse:
            local, first, last = _train_recording(
                trainer, net, global_params, xs, ys, index, mask, step_size
            )
        else:
            local = trainer(net, global_params, xs, ys, index, mask, step_size)
        # One (K, d) buffer for every round: the aggregations never keep it (they return
        # new tensors), and a fresh 2 MB tensor per round costs page faults on the CPU.
        updates = _flat(local, batch=True, out=updates_buf)
        updates_buf = updates
        updates.sub_(theta[None, :])
        try:
            check_finite_tensor(updates, "updates")
        except InvalidInputError as exc:
            raise invalid_input(
                "lr",
                step_size,
                f"a smaller learning rate: local training diverged in round {r + 1} "
                "(non-finite local updates)",
            ) from exc
        channels = None if cell is None else run_system.channels(streams["channels"])
        participants = sample_participants(r, channels)
        context = RoundContext(
            compute_s=comp_s,
            compute_energy_j=comp_j,
            channels=channels,
            noise_rng=streams["noise"].spawn(1)[0],
            selection_rng=streams["selection"].spawn(1)[0],
            compression_rng=streams["compression"].spawn(1)[0],
            participants=participants,
            deadline_s=deadline,
            **uplink,
        )
        out = aggregation.aggregate(updates, sizes, context)
        theta_start = theta
        theta = theta + out.update
        global_params = _unflat(theta, global_params)
        acc, loss = _evaluate(net, global_params, x_test, y_test)
        _, train_loss = _evaluate(net, global_params, x_train, y_train)
        on_time = participants if out.on_time is None else np.asarray(out.on_time, dtype=bool)
        selected = np.asarray(out.selected, dtype=bool)
        est_s = est_j = 0.0
        estimates = None
        if reuse:
            # Wang et al.'s Algorithms 2-3: the devices' first steps of this round give
            # F_i and ∇F_i at the global model w(t0) this round started from; the last
            # steps of the round before give them at the local models that were
            # aggregated into w(t0).  No extra computation; estimates one round late.
            if previous is not None:
                both = previous[0] & selected
                if both.any():
                    point, loss_l, grad_l = previous[1]
                    estimates = estimate_constants(
                        local_params=point[both],
                        global_params=theta_start.detach().double().cpu().numpy(),
                        local_loss=loss_l[both],
                        global_loss=first[0][both],
                        local_grad=grad_l[both],
                        global_grad=first[1][both],
                        data_sizes=sizes[both],
                    )
            previous = (selected, last)
        elif wants_estimates and selected.any():
            estimates, est_s, est_j = _estimate(
                net, local, global_params, xs, ys, sizes, selected, run_system, subset
            )
        round_s, round_j = out.round_latency_s + est_s, out.energy_j + est_j
        rec["acc"].append(acc)
        rec["loss"].append(train_loss)
        rec["sel"].append(selected)
        rec["lat"].append(round_s)
        rec["energy"].append(round_j)
        rec["tau"].append(steps)
        rec["est_s"].append(est_s)
        rec["est_j"].append(est_j)
        rec["bits"].append(out.uplink_bits)
        rec["mse"].append(out.mse)
        rec["sampled"].append(participants)
        rec["on_time"].append(on_time)
        if controller is not None:
            spent_s += round_s
            spent_j += round_j
            step_s = float(np.max(comp_s[participants], initial=0.0)) / steps
            step_j = float(np.sum(comp_j[participants])) / steps
            stats = RoundStats(
                round=r + 1,
                tau=steps,
                step_time_s=step_s,
                step_energy_j=step_j,
                aggregation_time_s=max(round_s - steps * step_s, 0.0),
                aggregation_energy_j=max(round_j - steps * step_j, 0.0),
                spent_time_s=spent_s,
                spent_energy_j=spent_j,
                estimates=estimates,
            )
            steps = check_int(
                controller.next_tau(stats), "local_steps.next_tau(stats)", min_value=0
            )
            if steps == 0:
                break
    n_rounds = len(rec["acc"])
    lat = np.asarray(rec["lat"])
    energy = np.asarray(rec["energy"])
    bits = np.asarray(rec["bits"])
    aggregated = np.asarray(rec["sel"], dtype=bool).reshape(n_rounds, k)
    return History(
        test_accuracy=np.asarray(rec["acc"]),
        train_loss=np.asarray(rec["loss"]),
        selected_count=aggregated.sum(axis=1).astype(np.int64),
        round_latency_s=lat,
        cumulative_latency_s=np.cumsum(lat),
        round_energy_j=energy,
        cumulative_energy_j=np.cumsum(energy),
        uplink_bits=bits,
        cumulative_uplink_bits=np.cumsum(bits),
        aggregation_mse=np.asarray(rec["mse"]),
        initial_test_accuracy=acc0,
        initial_parameters=theta0,
        final_parameters=theta.detach().double().cpu().numpy(),
        info={
            "data": ds.name,
            "model": model if isinstance(model, str) else getattr(model, "__name__", "custom"),
            "num_clients": k,
            "partition": partition,
            "dim": dim,
            "device": str(dev),
            "batched": batched,
            "wall_time_s": time.perf_counter() - start,
            "data_sizes": sizes,
            "system": run_system if cell is not None else None,
            "participation": "policy" if callable(policy) else policy,
            "deadline_s": deadline,
            "controller": None if controller is None else type(controller).__name__,
        },
        sampled=np.asarray(rec["sampled"], dtype=bool).reshape(n_rounds, k),
        on_time=np.asarray(rec["on_time"], dtype=bool).reshape(n_rounds, k),
        aggregated=aggregated,
        local_steps=np.asarray(rec["tau"], dtype=np.int64),
        estimation_latency_s=np.asarray(rec["est_s"], dtype=np.float64),
        estimation_energy_j=np.asarray(rec["est_j"], dtype=np.float64),
    )
