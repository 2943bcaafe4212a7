"""Benchmark: the exact one-dimensional round allocations against their CVXPY forms.

Problem: :func:`edgeopt.frequency.allocate_bandwidth` on random cells of K devices
(powers 0.05–0.5 W, channel gains 10^-12–10^-9, N0 = 4e-21 W/Hz, compute times 0–0.5 s,
payloads 0.2–2 Mbit, a band of 100 kHz per device), K = 10, 100, 1000 for both methods and
K = 10,000 for the one-dimensional method alone.

Timed in the same run, interleaved, best of ``--repeats`` on the same instance:

* ``bisection``: the default method (one Numba call: Newton steps on the round time kept
  in a shrinking bracket by bisection, each device's bandwidth by a warm-started Newton
  iteration on the inverse rate), the whole public call with its input checks.
* ``cvxpy``: ``method="cvxpy"``, the DPP program already built and compiled for this K
  (a first call per K is made before timing, so only the repeated solve is timed: the
  baseline's best case).

Each row records both round times and their relative difference (the target: 1e-6), the
speed-up (target: >= 100x at K = 100), the exact method's evaluations of ``Σ_i b_i(t)`` and,
at K = 10,000, its time (target: < 50 ms).

A second table times :func:`edgeopt.frequency.minimize_round_energy` (the exact KKT method,
best of ``--repeats``, against ``method="cvxpy"``, one solve after a first call that builds
the program) at a deadline of twice the fastest round, K = 10, 100, 1000, with both
energies and statuses.

Run ``.venv/bin/python benchmarks/frequency.py`` (writes ``benchmarks/results/frequency.json``)
or ``--quick`` (K = 10, 100, no energy table; writes nothing unless ``--json`` is given).
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from edgeopt.frequency import allocate_bandwidth, minimize_round_energy  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "frequency.json"


def instance(k: int, seed: int) -> tuple[Any, dict[str, Any]]:
    """Payloads and keyword arguments of one random cell of ``k`` devices."""
    rng = np.random.default_rng(seed)
    kw = dict(
        power_w=rng.uniform(0.05, 0.5, k),
        gain=10 ** rng.uniform(-12, -9, k),
        noise_psd_w_per_hz=4e-21,
        compute_s=rng.uniform(0.0, 0.5, k),
        total_bandwidth_hz=1e5 * k,
    )
    return rng.uniform(2e5, 2e6, k), kw


def best_time(fn: Any, repeats: int) -> tuple[float, Any]:
    """Best wall time of ``repeats`` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def energy_row(k: int, repeats: int) -> dict[str, Any]:
    """``minimize_round_energy``: KKT method against CVXPY on one cell of ``k`` devices."""
    rng = np.random.default_rng(k + 1)
    kw = dict(
        cycles=rng.uniform(0.5e9, 3e9, k),
        kappa=10 ** rng.uniform(-28.3, -27.7, k),
        max_freq_hz=rng.uniform(1e9, 2e9, k),
        power_w=rng.uniform(0.1, 0.3, k),
        gain=10 ** rng.uniform(-12, -10, k),
        noise_psd_w_per_hz=4e-21,
        total_bandwidth_hz=1e5 * k,
    )
    payload = 2e6
    fastest = minimize_round_energy(payload, deadline_s=1e-9, **kw).stats.extra["fastest_round_s"]
    deadline = 2.0 * fastest
    minimize_round_energy(payload, deadline_s=deadline, **kw)  # compile
    minimize_round_energy(payload, deadline_s=deadline, method="cvxpy", **kw)  # build
    t_kkt, a = best_time(lambda: minimize_round_energy(payload, deadline_s=deadline, **kw), repeats)
    t_cvx, b = best_time(
        lambda: minimize_round_energy(payload, deadline_s=deadline, method="cvxpy", **kw), 1
    )
    row = {
        "K": k,
        "deadline_over_fastest": 2.0,
        "kkt_s": t_kkt,
        "cvxpy_s": t_cvx,
        "speedup": t_cvx / t_kkt,
        "energy_kkt_j": a.energy_j,
        "energy_cvxpy_j": b.energy_j,
        "relative_difference": abs(a.energy_j - b.energy_j) / a.energy_j,
        "status_kkt": a.status,
        "status_cvxpy": b.status,
    }
    print(
        f"energy K={k:5d}  kkt {t_kkt * 1e3:8.3f} ms  cvxpy {t_cvx * 1e3:9.2f} ms  "
        f"speed-up {t_cvx / t_kkt:7.1f}x  rel. diff {row['relative_difference']:.1e}  "
        f"({a.status}, {b.status})"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sizes = (10, 100) if args.quick else (10, 100, 1000)
    rows = []
    for k in sizes:
        payload, kw = instance(k, seed=k)
        allocate_bandwidth(payload, **kw)  # compile / warm the kernel
        allocate_bandwidth(payload, method="cvxpy", **kw)  # build and compile the program
        t_bis, t_cvx = float("inf"), float("inf")
        for _ in range(args.repeats):  # interleaved
            tb, a = best_time(lambda: allocate_bandwidth(payload, **kw), 3)  # noqa: B023
            tc, b = best_time(
                lambda: allocate_bandwidth(payload, method="cvxpy", **kw),  # noqa: B023
                1,
            )
            t_bis, t_cvx = min(t_bis, tb), min(t_cvx, tc)
        rel = abs(a.round_latency_s - b.round_latency_s) / a.round_latency_s
        row = {
            "K": k,
            "bisection_s": t_bis,
            "cvxpy_s": t_cvx,
            "speedup": t_cvx / t_bis,
            "round_latency_bisection_s": a.round_latency_s,
            "round_latency_cvxpy_s": b.round_latency_s,
            "relative_difference": rel,
            "cvxpy_solver": b.stats.solver_name,
            "function_evals": a.stats.extra["function_evals"],
        }
        rows.append(row)
        print(
            f"K={k:6d}  bisection {t_bis * 1e3:8.3f} ms  cvxpy {t_cvx * 1e3:8.2f} ms  "
            f"speed-up {t_cvx / t_bis:7.1f}x  rel. diff {rel:.1e}"
        )
    big = None
    if not args.quick:
        payload, kw = instance(10_000, seed=10_000)
        allocate_bandwidth(payload, **kw)
        t_big, res = best_time(lambda: allocate_bandwidth(payload, **kw), args.repeats)
        spread = float(np.ptp(res.finish_s) / res.round_latency_s)
        big = {
            "K": 10_000,
            "bisection_s": t_big,
            "finish_spread": spread,
            "function_evals": res.stats.extra["function_evals"],
        }
        print(f"K= 10000  bisection {t_big * 1e3:8.3f} ms  finish-time spread {spread:.1e}")
    energy_rows = [] if args.quick else [energy_row(k, args.repeats) for k in (10, 100, 1000)]
    out = {
        "benchmark": "frequency.allocate_bandwidth",
        "rows": rows,
        "large": big,
        "energy_rows": energy_rows,
        "targets": {"speedup_at_100": 100.0, "relative_difference": 1e-6, "large_s": 0.05},
        "repeats": args.repeats,
        "machine": {"python": platform.python_version(), "processor": platform.processor()},
    }
    path = args.json if args.json is not None else (None if args.quick else RESULTS)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
