"""Benchmark: edgeopt.offload's partition and multi-user offloading solvers, and how they grow.

Measured in one run (wall clock, best of ``--repeats`` where cheap):

* ``partition_dag`` on random layer DAGs of 100 ... 3000 nodes (edges ``i -> j`` for ``i < j``
  within a window of 8, each with probability 0.4, like a residual network's skips); the
  baseline is brute force over every device set closed under predecessors, timed at 12-16
  nodes, against the min-cut on the same graphs (ratio in the same run).
* ``solve("milp")`` for 50 users and 20 resource blocks x 20 CPU shares (target: under
  1 s), with ``solve("greedy")`` on the same instance as the time baseline and the relaxation
  bound for the cost.
* ``solve("exact")`` versus N (5, 10, 15, ...) until a solve passes 60 s (its time limit);
  the baseline is brute force over the ``2^N`` decisions: timed up to N = 12, extrapolated
  beyond from the measured time per decision.
* ``"relax-round"`` and ``"greedy"`` up to N = 1000: time, cost, and the gap to the
  relaxation's lower bound (measured, not assumed).

Run ``.venv/bin/python benchmarks/offload.py`` (writes ``benchmarks/results/offload.json``)
or ``--quick`` for a smoke run that writes nothing unless ``--json`` is given.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from edgeopt.offload import MultiUserOffloading, partition_dag
from edgeopt.offload.partition import dag_costs

RESULTS = Path(__file__).resolve().parent / "results" / "offload.json"


def random_layer_dag(n: int, rng: np.random.Generator, window: int = 8) -> nx.DiGraph:
    g = nx.DiGraph()
    for v in range(n):
        g.add_node(
            v,
            device_time_s=float(rng.uniform(1e-3, 2e-2)),
            server_time_s=float(rng.uniform(1e-5, 1e-3)),
            output_bits=float(rng.uniform(1e4, 1e6)),
        )
    for i in range(n):
        if i + 1 < n:
            g.add_edge(i, i + 1)
        for j in range(i + 2, min(n, i + window)):
            if rng.random() < 0.4:
                g.add_edge(i, j)
    return g


def brute_partition(g: nx.DiGraph, rate: float, input_bits: float) -> float:
    nodes = list(g.nodes)
    preds = {v: set(g.predecessors(v)) for v in nodes}
    best = np.inf
    for mask in range(1 << len(nodes)):
        d = {nodes[i] for i in range(len(nodes)) if mask >> i & 1}
        if all(preds[v] <= d for v in d):
            best = min(best, dag_costs(g, d, rate_bps=rate, input_bits=input_bits)[0])
    return best


def timed(fn: Any, repeats: int = 1) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_partition(quick: bool, repeats: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    rows = []
    for n in [100, 300] if quick else [100, 300, 1000, 3000]:
        g = random_layer_dag(n, rng)
        t, res = timed(lambda g=g: partition_dag(g, rate_bps=1e7, input_bits=4.8e6), repeats)
        rows.append({"nodes": n, "edges": g.number_of_edges(), "time_s": t,
                     "device_nodes": len(res.device_nodes)})  # fmt: skip
    brute = []
    for n in [10, 12] if quick else [12, 14, 16]:
        g = random_layer_dag(n, rng)
        tb, best = timed(lambda g=g: brute_partition(g, 1e7, 4.8e6))
        tc, res = timed(lambda g=g: partition_dag(g, rate_bps=1e7, input_bits=4.8e6), repeats)
        brute.append({"nodes": n, "brute_s": tb, "min_cut_s": tc, "ratio": tb / tc,
                      "equal": bool(abs(res.latency_s - best) <= 1e-9 * best)})  # fmt: skip
    return {"min_cut": rows, "vs_brute_force": brute}


def bench_milp(quick: bool) -> dict[str, Any]:
    n = 10 if quick else 50
    prob = MultiUserOffloading.random(n, rng=1)
    prob.solve("milp", num_blocks=20, num_shares=20)  # builds and caches the program
    t_milp, milp = timed(lambda: prob.solve("milp", num_blocks=20, num_shares=20))
    t_greedy, greedy = timed(lambda: prob.solve("greedy"), 3)
    rr = prob.solve("relax-round")
    return {
        "users": n, "blocks": 20, "shares": 20, "milp_s": t_milp, "milp_status": milp.status,
        "milp_cost": milp.cost, "greedy_s": t_greedy, "greedy_cost": greedy.cost,
        "relaxation_lower_bound": rr.lower_bound,
        "milp_gap_to_bound": (milp.cost - rr.lower_bound) / milp.cost,
        "target_s": 1.0, "target_met": t_milp < 1.0,
    }  # fmt: skip


def bench_exact(quick: bool) -> dict[str, Any]:
    limit = 5.0 if quick else 60.0
    # brute force: time per decision measured on N = 12 (N = 8 in quick mode)
    nb = 8 if quick else 12
    prob = MultiUserOffloading.random(nb, rng=2)
    t0 = time.perf_counter()
    for x in itertools.product([False, True], repeat=nb):
        prob.cost(np.array(x))
    per_decision = (time.perf_counter() - t0) / 2**nb
    rows = []
    for n in itertools.count(5, 5):
        prob = MultiUserOffloading.random(n, rng=100 + n)
        t, res = timed(lambda prob=prob: prob.solve("exact", time_limit_s=limit))
        rows.append({"users": n, "time_s": t, "status": res.status, "nodes": res.stats.iterations,
                     "brute_force_s_estimate": per_decision * 2**n})  # fmt: skip
        if res.status != "optimal" or t > limit or (quick and n >= 10):
            break
    return {"time_limit_s": limit, "brute_force_s_per_decision": per_decision, "rows": rows}


def bench_heuristics(quick: bool) -> list[dict[str, Any]]:
    rows = []
    for n in [10, 50] if quick else [10, 100, 300, 1000]:
        prob = MultiUserOffloading.random(n, rng=200 + n)
        row: dict[str, Any] = {"users": n}
        t_rr, rr = timed(lambda prob=prob: prob.solve("relax-round"))
        t_g, g = timed(lambda prob=prob: prob.solve("greedy"))
        lb = rr.lower_bound
        row.update(relax_round_s=t_rr, relax_round_cost=rr.cost, greedy_s=t_g,
                   greedy_cost=g.cost, lower_bound=lb,
                   relax_round_gap=(rr.cost - lb) / rr.cost, greedy_gap=(g.cost - lb) / g.cost,
                   offloading_relax_round=int(rr.decision.sum()),
                   offloading_greedy=int(g.decision.sum()))  # fmt: skip
        rows.append(row)
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    out = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "quick": args.quick,
        "partition_dag": bench_partition(args.quick, args.repeats),
        "milp": bench_milp(args.quick),
        "exact": bench_exact(args.quick),
        "heuristics": bench_heuristics(args.quick),
    }
    print(json.dumps(out, indent=1))
    path = args.json if args.json is not None else (None if args.quick else RESULTS)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
