"""Benchmark: one FedAvg round with K = 100 clients, batched versus the sequential client loop.

The round is the local training of every client (``local_steps`` SGD steps on mini-batches
of its own digits data, MLP 64-64-10) followed by ideal aggregation of the updates, which
are copied into one ``(K, d)`` buffer reused across rounds (``run_fedavg`` concatenates
them into a fresh tensor each round instead).  The baseline is the sequential reference
loop of ``edgeopt.federated._batched``: one ``nn.Module`` and autograd per client and
step.  Local training alone is timed as well (``median_local_training_s``).

Measurement.  The script first checks in the main process that batched and sequential agree
on one round.  Each path is then timed in its own worker process (same data, model and
initial parameters, same kind of mini-batches), as in a real run, which uses one path for
all its rounds: the C allocator's state (its mmap and trim thresholds, which decide whether
a round's large tensors land on freshly mapped pages) is per process, and timing the paths
in one process would let one path's allocations change the other's page faults.  The
workers run one at a time, never concurrently.  For each torch thread count (1 and torch's
default) every worker runs ``--warmup`` untimed rounds, then the main process alternates
blocks of 5 consecutive timed rounds of each path until each has ``--repeats`` rounds, so
that drifting load on a shared machine hits all paths alike (``gc.collect()`` before each
block, the garbage collector otherwise left on).  Minor page faults per round and per
local training are recorded (``getrusage``): large tensors allocated afresh every round
land on newly mapped pages, and those faults made the batched round times drift before the
dense built-in models got their allocation-free training step.  Every timed round is kept
in ``all_times_s``; nothing is discarded.

Reported: the ratio of the median round times with each path at its best thread count
(``speedup``), the same at equal thread counts (``speedup_same_threads``), the ratio of the
best single rounds (``speedup_min``), and the generic ``vmap`` path used for user models
(``batched_vmap``).  A 3-round smoke run of every aggregation model on the chosen device is
recorded too.

Usage::

    .venv/bin/python benchmarks/federated.py            # CPU, writes results/federated.json
    .venv/bin/python benchmarks/federated.py --quick    # fewer repeats
    .venv/bin/python benchmarks/federated.py --device cuda   # results/federated_cuda.json
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from edgeopt.federated import (
    QSGD,
    AirCompAggregation,
    DigitalAggregation,
    IdealAggregation,
    RoundContext,
    TopK,
    build_model,
    digits_dataset,
    partition,
    run_fedavg,
)
from edgeopt.federated._batched import (
    pad_client_data,
    sample_batches,
    train_batched,
    train_sequential,
)
from edgeopt.nn.models import init_parameters
from edgeopt.system import normalized_system

#: Consecutive rounds of one path per timing block.
BLOCK = 5


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def smoke(device: str) -> dict[str, float]:
    """Three rounds of run_fedavg on ``device`` with every aggregation model (a device check)."""
    digital = normalized_system(10, power_w=0.1, noise_w=0.01, bandwidth_hz=1e6)
    air = normalized_system(10, num_antennas=4, power_w=1.0, noise_w=0.1, bandwidth_hz=1e6)
    aggs = {
        "ideal": (IdealAggregation(), digital),
        "tdma_qsgd": (DigitalAggregation("tdma", compressor=QSGD(4)), digital),
        "fdma_topk": (DigitalAggregation("fdma", compressor=TopK(ratio=0.1)), digital),
        "aircomp_fast": (AirCompAggregation(1.0, method="fast"), air),
    }
    out = {}
    for name, (agg, system) in aggs.items():
        for model in ("mlp", "cnn"):
            hist = run_fedavg(
                data="digits",
                model=model,
                system=system,
                rounds=3,
                local_steps=2,
                lr=0.3,
                batch_size=16,
                aggregation=agg,
                rng=0,
                device=device,
            )
            out[f"{name}_{model}_accuracy"] = float(hist.test_accuracy[-1])
    return out


PATHS = ("batched", "batched_vmap", "sequential")


def _trainer(name: str):  # type: ignore[no-untyped-def]
    if name == "batched":
        return train_batched
    if name == "batched_vmap":
        return functools.partial(train_batched, use_vmap=True)
    return train_sequential


def _setup(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Data, model, initial parameters and a one-round function (identical in every process)."""
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    ds = digits_dataset()
    parts = partition(ds.y_train, args.clients, "iid", rng=rng)
    net = build_model("mlp", ds.input_dim, ds.num_classes)
    init_parameters(net, rng)
    net = net.to(device)
    params = {n: p.detach().clone() for n, p in net.named_parameters()}
    xs, ys = pad_client_data(
        torch.as_tensor(ds.x_train, device=device),
        torch.as_tensor(ds.y_train, device=device),
        parts,
    )
    sizes = np.array([len(p) for p in parts])
    flat = torch.cat([p.reshape(-1) for p in params.values()])
    agg = IdealAggregation()
    zeros = np.zeros(args.clients)
    context = RoundContext(compute_s=zeros, compute_energy_j=zeros)
    updates = flat.new_empty((args.clients, flat.numel()))

    def one_round(trainer, index, mask):  # type: ignore[no-untyped-def]
        """The aggregate update, the time and the minor page faults of local training alone."""
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        local = trainer(net, params, xs, ys, index, mask, 0.1)
        _sync(device)
        train_s = time.perf_counter() - t0
        train_faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
        # updates (K, d): each parameter copied straight into its columns, then minus θ
        # (into one buffer reused across rounds, as a training loop can)
        start = 0
        for p in local.values():
            size = p[0].numel()
            updates[:, start : start + size].view(p.shape).copy_(p)
            start += size
        updates.sub_(flat)
        out = agg.aggregate(updates, sizes, context)
        _sync(device)
        return out.update, train_s, train_faults

    def batches():  # type: ignore[no-untyped-def]
        return sample_batches(sizes, args.batch_size, args.local_steps, rng)

    return device, int(flat.numel()), one_round, batches


def _worker(conn, args: argparse.Namespace, name: str) -> None:  # type: ignore[no-untyped-def]
    """Time rounds of one path on request: ("warmup", threads, n) or ("time", threads, n)."""
    device, _, one_round, batches = _setup(args)
    trainer = _trainer(name)
    while True:
        msg = conn.recv()
        if msg is None:
            return
        kind, threads, n = msg
        torch.set_num_threads(threads)
        times, train, faults, train_faults = [], [], [], []
        gc.collect()
        for _ in range(n):
            index, mask = batches()
            _sync(device)
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = time.perf_counter()
            _, train_s, train_f = one_round(trainer, index, mask)
            times.append(time.perf_counter() - t0)
            train.append(train_s)
            train_faults.append(train_f)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        conn.send((times, train, faults, train_faults) if kind == "time" else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--local-steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=30, help="timed rounds per path")
    parser.add_argument(
        "--warmup", type=int, default=5, help="untimed rounds per path and thread count"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: time both 1 and torch's default, keep each path's best)",
    )
    parser.add_argument("--quick", action="store_true", help="5 repeats, 2 warm-up rounds")
    parser.add_argument("--out", default=None, help="JSON path (default results/federated*.json)")
    args = parser.parse_args()
    repeats = 5 if args.quick else args.repeats
    warmup = 2 if args.quick else args.warmup

    device, n_params, one_round, batches = _setup(args)
    index, mask = batches()
    a, _, _ = one_round(train_batched, index, mask)
    b, _, _ = one_round(train_sequential, index, mask)
    max_diff = float((a - b).abs().max())
    assert torch.allclose(a, b, atol=1e-5), max_diff

    thread_options = sorted(
        {1, torch.get_num_threads()} if args.threads is None else {args.threads}
    )
    ctx = mp.get_context("spawn")
    workers = {}
    for name in PATHS:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, args, name), daemon=True)
        proc.start()
        workers[name] = (parent, proc)
    times: dict[str, dict[str, list[float]]] = {}
    train_times: dict[str, dict[str, list[float]]] = {}
    faults: dict[str, dict[str, float]] = {}
    train_faults: dict[str, dict[str, float]] = {}
    try:
        for threads in thread_options:
            for name in PATHS:  # first-call costs (vmap tracing, allocator growth), one at a time
                workers[name][0].send(("warmup", threads, warmup))
                workers[name][0].recv()
            per: dict[str, list[float]] = {name: [] for name in PATHS}
            per_train: dict[str, list[float]] = {name: [] for name in PATHS}
            flt: dict[str, list[int]] = {name: [] for name in PATHS}
            flt_train: dict[str, list[int]] = {name: [] for name in PATHS}
            done = 0
            while done < repeats:
                n = min(BLOCK, repeats - done)
                for name in PATHS:
                    workers[name][0].send(("time", threads, n))
                    t, tt, f, ft = workers[name][0].recv()
                    flt_train[name] += ft
                    per[name] += t
                    per_train[name] += tt
                    flt[name] += f
                done += n
            times[str(threads)] = per
            train_times[str(threads)] = per_train
            faults[str(threads)] = {name: statistics.mean(v) for name, v in flt.items()}
            train_faults[str(threads)] = {name: statistics.mean(v) for name, v in flt_train.items()}
    finally:
        for conn, proc in workers.values():
            conn.send(None)
            proc.join(timeout=30)
    # each path at its best thread count
    med = {
        name: min(statistics.median(times[t][name]) for t in times)
        for name in ("batched", "sequential")
    }
    best = {name: min(min(times[t][name]) for t in times) for name in ("batched", "sequential")}
    best_threads = {
        name: min(times, key=lambda t: statistics.median(times[t][name]))  # noqa: B023
        for name in ("batched", "sequential")
    }
    result = {
        "benchmark": "federated",
        "what": "one FedAvg round (local training + ideal aggregation), MLP on digits",
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "thread_options": thread_options,
        "best_threads": best_threads,
        "torch_version": torch.__version__,
        "clients": args.clients,
        "local_steps": args.local_steps,
        "batch_size": args.batch_size,
        "parameters": n_params,
        "repeats": repeats,
        "warmup": warmup,
        "median_s": {t: {n: statistics.median(v) for n, v in times[t].items()} for t in times},
        "median_local_training_s": {
            t: {n: statistics.median(v) for n, v in train_times[t].items()} for t in train_times
        },
        "minor_page_faults_per_round": faults,
        "minor_page_faults_per_local_training": train_faults,
        "batched_s": med["batched"],
        "sequential_s": med["sequential"],
        "speedup": med["sequential"] / med["batched"],
        "batched_min_s": best["batched"],
        "sequential_min_s": best["sequential"],
        "speedup_min": best["sequential"] / best["batched"],
        "vmap_path_speedup_same_threads": {
            t: statistics.median(times[t]["sequential"])
            / statistics.median(times[t]["batched_vmap"])
            for t in times
        },
        "speedup_same_threads": {
            t: statistics.median(times[t]["sequential"]) / statistics.median(times[t]["batched"])
            for t in times
        },
        "max_abs_difference": max_diff,
        "all_times_s": times,
        "all_local_training_times_s": train_times,
        "smoke_final_accuracy_3_rounds": smoke(args.device),
    }
    name = "federated.json" if device.type == "cpu" else f"federated_{device.type}.json"
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"K={args.clients} on {device}: batched {med['batched'] * 1e3:.1f} ms, "
        f"sequential {med['sequential'] * 1e3:.1f} ms, speedup {result['speedup']:.1f}x "
        f"(min/min {result['speedup_min']:.1f}x) "
        f"(max diff {max_diff:.1e}) -> {out}"
    )


if __name__ == "__main__":
    main()
