"""Benchmark of the coded shuffle (writes benchmarks/results/shuffle.json).

1. ``simulate_cdc`` at K = 10, r = 3 on TeraSort records (default 1200 files of 1000
   records: 120 MB): the coded shuffle's bytes on the wire per second of encoding and
   decoding, against ``np.copyto`` of the same number of bytes in the same run (best of
   ``--repeats`` for each).
2. ``minimize_rank`` time versus K for the CDC alignment pattern at r = 1 (K·(K − 1)
   rows): ``nuclear`` and ``dc`` up to ``--max-k-sdp``, ``altmin`` up to ``--max-k``.

Run:  .venv/bin/python benchmarks/shuffle.py  [--records 1000] [--repeats 3]
      [--max-k-sdp 5] [--max-k 8]   (``--quick``: 120 files, K <= 4)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

from edgeopt.coding import (
    cdc_load,
    cdc_scheme,
    minimize_rank,
    shuffle_alignment_matrix,
    simulate_cdc,
)

RESULTS = Path(__file__).resolve().parent / "results" / "shuffle.json"


def shuffle_throughput(num_files: int, records: int, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` coded-shuffle time against a memcpy of the same bytes."""
    k, r = 10, 3
    best_shuffle, best_total = math.inf, math.inf
    res = None
    for rep in range(repeats):
        res = simulate_cdc(
            k, r, num_files=num_files, job="terasort", records_per_file=records, rng=rep
        )
        assert res.correct and res.load == cdc_load(r, k)
        best_shuffle = min(best_shuffle, res.shuffle_time_s)
        best_total = min(best_total, res.solve_time_s)
    assert res is not None
    wire_bytes = res.coded_bits // 8
    src = np.random.default_rng(0).integers(0, 256, wire_bytes, dtype=np.uint8)
    dst = np.empty_like(src)
    best_copy = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best_copy = min(best_copy, time.perf_counter() - t0)
    return {
        "num_nodes": k,
        "computation_load": r,
        "num_files": num_files,
        "records_per_file": records,
        "record_bytes": num_files * records * 100,
        "wire_bytes": wire_bytes,
        "padding_fraction": res.padding_fraction,
        "shuffle_s": best_shuffle,
        "simulate_total_s": best_total,
        "memcpy_s": best_copy,
        "shuffle_bytes_per_s": wire_bytes / best_shuffle,
        "memcpy_bytes_per_s": wire_bytes / best_copy,
        "fraction_of_memcpy": best_copy / best_shuffle,
    }


def rank_times(max_k_sdp: int, max_k: int) -> list[dict[str, object]]:
    """minimize_rank time and rank for each method on the r = 1 CDC pattern."""
    rows: list[dict[str, object]] = []
    for k in range(3, max_k + 1):
        pattern = shuffle_alignment_matrix(cdc_scheme(k, 1, k))
        for method in ("nuclear", "dc", "altmin"):
            if method != "altmin" and k > max_k_sdp:
                continue
            t0 = time.perf_counter()
            res = minimize_rank(pattern, method, rng=0)
            rows.append(
                {
                    "K": k,
                    "rows": pattern.shape[0],
                    "method": method,
                    "rank": res.rank,
                    "time_s": time.perf_counter() - t0,
                    "programs_or_runs": res.stats.iterations,
                }
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--files", type=int, default=1200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-k-sdp", type=int, default=5)
    parser.add_argument("--max-k", type=int, default=8)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.files, args.records, args.repeats, args.max_k_sdp, args.max_k = 120, 100, 1, 3, 4
    shuffle = shuffle_throughput(args.files, args.records, args.repeats)
    print(shuffle, flush=True)
    ranks = rank_times(args.max_k_sdp, args.max_k)
    out = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "quick": args.quick,
        "shuffle": shuffle,
        "minimize_rank": ranks,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
