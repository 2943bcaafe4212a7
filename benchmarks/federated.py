"""Benchmark: one FedAvg round with K = 100 clients, batched versus the sequential client loop.

The round is the local training of every client (``local_steps`` SGD steps on mini-batches
of its own digits data, MLP 64-64-10) followed by ideal aggregation of the updates.  The
baseline is the sequential reference loop of ``edgeopt.federated._batched``: one
``nn.Module`` and autograd per client and step.  Both run in the same process on the same
kind of mini-batches; the script checks that they agree on one round, then times
``--repeats`` rounds of each in alternating blocks of 5 consecutive rounds per path (after a
warm-up), with torch on 1 thread and on its default thread count.  It reports the ratio of
the median round times with each path at its best thread count (``speedup``), the ratio of
the best single times (``speedup_min``, less sensitive to other load on a shared machine)
and the ratio at equal thread counts (``speedup_same_threads``).  The generic ``vmap`` path
(used for user models) is timed too (``batched_vmap``).  A 3-round smoke run of
every aggregation model on the chosen device is recorded too.

Usage::

    .venv/bin/python benchmarks/federated.py            # CPU, writes results/federated.json
    .venv/bin/python benchmarks/federated.py --quick    # fewer repeats
    .venv/bin/python benchmarks/federated.py --device cuda   # results/federated_cuda.json
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
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
from edgeopt.federated.models import init_parameters

#: Consecutive rounds of one path per timing block.
BLOCK = 5


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def smoke(device: str) -> dict[str, float]:
    """Three rounds of run_fedavg on ``device`` with every aggregation model (a device check)."""
    aggs = {
        "ideal": IdealAggregation(),
        "tdma_qsgd": DigitalAggregation(1e6, 0.1, 0.01, compressor=QSGD(4)),
        "fdma_topk": DigitalAggregation(1e6, 0.1, 0.01, compressor=TopK(ratio=0.1), access="fdma"),
        "aircomp_fast": AirCompAggregation(4, 1.0, 0.1, 1.0, selection="fast"),
    }
    out = {}
    for name, agg in aggs.items():
        for model in ("mlp", "cnn"):
            hist = run_fedavg(
                data="digits",
                model=model,
                num_clients=10,
                rounds=3,
                local_steps=2,
                lr=0.3,
                batch_size=16,
                aggregation=agg,
                seed=0,
                device=device,
            )
            out[f"{name}_{model}_accuracy"] = float(hist.test_accuracy[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--local-steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: time both 1 and torch's default, keep each path's best)",
    )
    parser.add_argument("--quick", action="store_true", help="5 repeats")
    parser.add_argument("--out", default=None, help="JSON path (default results/federated*.json)")
    args = parser.parse_args()
    repeats = 5 if args.quick else args.repeats
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

    def one_round(trainer, index, mask):  # type: ignore[no-untyped-def]
        local = trainer(net, params, xs, ys, index, mask, 0.1)
        updates = torch.cat([p.reshape(p.shape[0], -1) for p in local.values()], 1) - flat
        out = agg.aggregate(updates, sizes, compute_s=zeros, compute_energy_j=zeros)
        _sync(device)
        return out.update

    index, mask = sample_batches(sizes, args.batch_size, args.local_steps, rng)
    a = one_round(train_batched, index, mask)
    b = one_round(train_sequential, index, mask)
    max_diff = float((a - b).abs().max())
    assert torch.allclose(a, b, atol=1e-5), max_diff

    thread_options = sorted(
        {1, torch.get_num_threads()} if args.threads is None else {args.threads}
    )
    times: dict[str, dict[str, list[float]]] = {}
    for threads in thread_options:
        torch.set_num_threads(threads)
        per = {"batched": [], "batched_vmap": [], "sequential": []}  # type: dict[str, list[float]]
        # alternate blocks of consecutive rounds of each path, as in a real run (back-to-back
        # rounds of one path), so that drifting load on a shared machine hits both alike
        blocks = max(1, repeats // BLOCK)
        for _ in range(blocks):
            for name, trainer in (
                ("batched", train_batched),
                ("batched_vmap", functools.partial(train_batched, use_vmap=True)),
                ("sequential", train_sequential),
            ):
                for _ in range(min(BLOCK, repeats)):
                    index, mask = sample_batches(sizes, args.batch_size, args.local_steps, rng)
                    _sync(device)
                    t0 = time.perf_counter()
                    one_round(trainer, index, mask)
                    per[name].append(time.perf_counter() - t0)
        times[str(threads)] = per
    # each path at its best thread count (the sequential loop of tiny ops is usually fastest
    # on one thread, the batched matrix products on all cores)
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
        "parameters": int(flat.numel()),
        "repeats": repeats,
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
