"""Federated averaging with the aggregation model in the loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from edgeopt._validation import (
    check_bool,
    check_choice,
    check_finite_tensor,
    check_int,
    check_options,
    check_rng,
    check_scalar,
    invalid_input,
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
from edgeopt.federated.history import History
from edgeopt.federated.partition import PARTITIONS
from edgeopt.federated.partition import partition as partition_fn
from edgeopt.nn.models import build_model, init_parameters

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
)

_OPTIONS = {
    "alpha": 0.5,
    "shards_per_client": 2,
    "batched": True,
    "cycles_per_sample": None,
    "cpu_freq_hz": 1e9,
    "kappa": 1e-28,
}


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


def run_fedavg(
    *,
    data: Any,
    model: str | Callable[[], nn.Module],
    num_clients: int,
    partition: str = "iid",
    rounds: int,
    local_steps: int,
    lr: float,
    batch_size: int | None,
    aggregation: Aggregation,
    rng: Any,
    device: Any = "cpu",
    **options: Any,
) -> History:
    r"""Federated averaging with a modelled uplink, every round charged its latency and energy.

    Each round (McMahan et al. 2017, Alg. 1, all clients participating): every client
    starts from the global model ``θ``, runs ``local_steps`` steps of mini-batch SGD,
    ``θ_i ← θ_i − lr ∇ℓ_i(θ_i)`` on its own data, and returns ``u_i = θ_i − θ``; the loop
    draws the round's channels (:meth:`Aggregation.draw_channels`) and the aggregation model
    turns the updates into ``Δ`` (for ideal aggregation ``Δ = Σ n_i u_i / Σ n_i`` with local
    data sizes ``n_i``) and the server sets ``θ ← θ + Δ``.  The global model is then
    evaluated on the test set and on the whole training set.

    Randomness: one independent stream per purpose is spawned from ``rng``
    (:data:`STREAMS`: synthetic data, partition, initial model, mini-batches, channels,
    receiver noise, device selection, compression; :meth:`numpy.random.Generator.spawn`),
    and each round's noise, selection and compression streams are spawned afresh from
    theirs.  Two runs with the same ``rng`` that differ only in the aggregation therefore
    see the same data, partition, initial model, mini-batches and channels (common random
    numbers): ideal and error-free digital aggregation give identical models.

    Local computation is charged with the CMOS model of :mod:`edgeopt.cost`: device ``i``
    processes ``local_steps · b_i`` samples at ``cycles_per_sample`` cycles each, taking
    ``C_i/f`` seconds and ``κ C_i f²`` joules.

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
    num_clients : int >= 1
    partition : {"iid", "label_shards", "dirichlet"}
        See :func:`edgeopt.federated.partition.partition`.
    rounds : int >= 1
    local_steps : int >= 1
        Local SGD steps per round.
    lr : float > 0
    batch_size : int >= 1 or None
        Mini-batch size; a client with fewer samples uses all of them; ``None`` means full
        local batch (gradient descent).
    aggregation : Aggregation
        :class:`IdealAggregation`, :class:`DigitalAggregation` or :class:`AirCompAggregation`.
    rng : int, numpy.random.Generator or None
        Source of all randomness (see above); the same int gives the same run.
    device : str
        Torch device, ``"cpu"`` (default) or ``"cuda"``.
    **options
        ``alpha`` (Dirichlet concentration, default 0.5), ``shards_per_client`` (default 2),
        ``batched`` (train all clients together, default True: batched matrix products,
        ``torch.baddbmm``, for the built-in dense models, grouped convolutions for the CNN,
        ``torch.func.vmap`` for a user factory; False runs the sequential reference loop),
        ``cycles_per_sample`` (default ``6·d``: about the multiply-adds of one forward and
        backward pass of a dense model with ``d`` parameters), ``cpu_freq_hz`` (default
        1 GHz), ``kappa`` (effective switched capacitance, default 1e-28).

    Returns
    -------
    History

    Raises
    ------
    InvalidInputError
        Unknown data, model, partition or option; ``rounds``, ``local_steps``,
        ``num_clients`` < 1; ``lr`` <= 0; more clients than samples; CUDA unavailable;
        local training that diverges to non-finite values (``lr`` too large).

    References
    ----------
    H. B. McMahan, E. Moore, D. Ramage, S. Hampson and B. Agüera y Arcas,
    "Communication-efficient learning of deep networks from decentralized data," AISTATS
    2017, Algorithm 1.  N. H. Tran et al., "Federated learning over wireless networks:
    optimization model design and analysis," INFOCOM 2019, Eq. (3)–(4) (computation model).

    Examples
    --------
    >>> from edgeopt.federated import IdealAggregation, run_fedavg
    >>> hist = run_fedavg(data="synthetic", model="logistic", num_clients=4, rounds=5,
    ...                   local_steps=2, lr=0.5, batch_size=32,
    ...                   aggregation=IdealAggregation(), rng=0)
    >>> hist.test_accuracy.shape, bool(hist.test_accuracy[-1] > 0.7)
    ((5,), True)
    """
    check_options(options, "run_fedavg(**options)", optional=_OPTIONS)
    opts = {**_OPTIONS, **options}
    streams = dict(zip(STREAMS, check_rng(rng, "rng").spawn(len(STREAMS)), strict=True))
    k = check_int(num_clients, "num_clients")
    n_rounds = check_int(rounds, "rounds")
    steps = check_int(local_steps, "local_steps")
    step_size = check_scalar(lr, "lr", positive=True)
    bsz = None if batch_size is None else check_int(batch_size, "batch_size")
    if not isinstance(aggregation, Aggregation):
        raise invalid_input(
            "aggregation",
            aggregation,
            "IdealAggregation, DigitalAggregation or AirCompAggregation",
        )
    check_choice(partition, "partition", PARTITIONS)
    batched = check_bool(opts["batched"], "batched")
    freq = check_scalar(opts["cpu_freq_hz"], "cpu_freq_hz", positive=True)
    kappa = check_scalar(opts["kappa"], "kappa", nonneg=True)
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
    cps = opts["cycles_per_sample"]
    cycles_per_sample = (
        6.0 * dim if cps is None else check_scalar(cps, "cycles_per_sample", nonneg=True)
    )

    from edgeopt.cost import compute_energy, compute_time

    x_train = torch.as_tensor(ds.x_train, device=dev)
    y_train = torch.as_tensor(ds.y_train, device=dev)
    x_test = torch.as_tensor(ds.x_test, device=dev)
    y_test = torch.as_tensor(ds.y_test, device=dev)
    xs, ys = pad_client_data(x_train, y_train, parts)
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    batch = sizes if bsz is None else np.minimum(sizes, bsz)
    cycles = cycles_per_sample * steps * batch.astype(np.float64)
    comp_s = np.asarray(compute_time(cycles, freq), dtype=np.float64)
    comp_j = np.asarray(compute_energy(cycles, freq, kappa), dtype=np.float64)
    aggregation.reset(k, dim, dev)

    acc0, _ = _evaluate(net, global_params, x_test, y_test)
    rec: dict[str, list[float]] = {
        key: [] for key in ("acc", "loss", "sel", "lat", "energy", "bits", "mse")
    }
    theta = _flat(global_params, batch=False)
    theta0 = theta.detach().double().cpu().numpy()
    trainer = train_batched if batched else train_sequential
    start = time.perf_counter()
    updates_buf: torch.Tensor | None = None
    for r in range(n_rounds):
        index, mask = sample_batches(sizes, bsz, steps, streams["batches"])
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
        context = RoundContext(
            compute_s=comp_s,
            compute_energy_j=comp_j,
            channels=aggregation.draw_channels(k, streams["channels"]),
            noise_rng=streams["noise"].spawn(1)[0],
            selection_rng=streams["selection"].spawn(1)[0],
            compression_rng=streams["compression"].spawn(1)[0],
        )
        out = aggregation.aggregate(updates, sizes, context)
        theta = theta + out.update
        global_params = _unflat(theta, global_params)
        acc, loss = _evaluate(net, global_params, x_test, y_test)
        _, train_loss = _evaluate(net, global_params, x_train, y_train)
        rec["acc"].append(acc)
        rec["loss"].append(train_loss)
        rec["sel"].append(float(out.selected.sum()))
        rec["lat"].append(out.round_latency_s)
        rec["energy"].append(out.energy_j)
        rec["bits"].append(out.uplink_bits)
        rec["mse"].append(out.mse)
    lat = np.asarray(rec["lat"])
    energy = np.asarray(rec["energy"])
    bits = np.asarray(rec["bits"])
    return History(
        test_accuracy=np.asarray(rec["acc"]),
        train_loss=np.asarray(rec["loss"]),
        selected_count=np.asarray(rec["sel"], dtype=np.int64),
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
        },
    )
