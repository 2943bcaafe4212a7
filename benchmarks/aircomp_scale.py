"""Scaling benchmark of AirComp device selection: time and devices selected versus K.

Every method runs on the same seeded i.i.d. CN(0, I) draws (P = sigma^2 = w = 1).  The
"before" columns run the frozen copies of the code as of commit 57af362
(``_aircomp_baseline.py``: the old ``fast`` greedy; ``_aircomp_baseline_sdp.py``: the old
``dc``/``sdr``) in the same run; a "before" size is skipped once the previous size took
longer than ``--skip-after`` seconds (reported as not run).  Also times the batch form
against a Python loop of single calls.

Usage::

    .venv/bin/python benchmarks/aircomp_scale.py            # K = 20 ... 10,000
    .venv/bin/python benchmarks/aircomp_scale.py --quick

Writes benchmarks/results/aircomp_scale.json and benchmarks/results/aircomp_scale.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _aircomp_baseline as old_fast  # noqa: E402
import _aircomp_baseline_sdp as old_sdp  # noqa: E402

from edgeopt.aircomp import select_devices  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def draw(seed: int, k: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((k, n)) + 1j * rng.standard_normal((k, n))) / np.sqrt(2)


def verified(h: np.ndarray, sel: np.ndarray, m: np.ndarray, gamma: float) -> bool:
    if not sel.any():
        return True
    g = np.abs(h[sel] @ np.conj(m)) ** 2 / np.vdot(m, m).real
    return bool(gamma * g.min() >= 1 - 1e-6)


def run_new(method: str, h: np.ndarray, gamma: float, limit: float | None) -> dict[str, Any]:
    t = time.perf_counter()
    sol = select_devices(
        h, power_w=1.0, noise_w=1.0, mse_target=gamma, method=method, rng=0, time_limit_s=limit
    )
    return {
        "time_s": time.perf_counter() - t,
        "selected": sol.objective,
        "status": sol.status,
        "iterations": sol.stats.iterations,
    }


def run_old(method: str, h: np.ndarray, gamma: float) -> dict[str, Any]:
    t = time.perf_counter()
    if method == "fast":
        G = np.sqrt(gamma) * h
        sel, m, runs = old_fast.select_fast_baseline(G)
    else:
        sel, m, runs = old_sdp.run_old(method, h, gamma, 0)
    dt = time.perf_counter() - t
    ok = m is not None and verified(h, sel, m, gamma)
    return {"time_s": dt, "selected": int(sel.sum()) if ok else 0, "iterations": runs}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-after", type=float, default=20.0)
    args = ap.parse_args()
    ks = [20, 200, 1000, 2000] if args.quick else [20, 100, 200, 500, 1000, 2000, 5000, 10000]
    draws = 1 if args.quick else 2
    # warm up the compiled kernels
    h0 = draw(0, 40, 6)
    for meth in ("fast", "dc", "sdr"):
        run_new(meth, h0, 1.0, None)
    run_old("fast", h0, 1.0)
    rows: list[dict[str, Any]] = []
    slow_old: dict[tuple[str, int, float], bool] = {}
    for n in (6, 64):
        for gdb in (-5.0, 0.0, 10.0):
            gamma = 10 ** (gdb / 10)
            for k in ks:
                for meth in ("fast", "dc", "sdr"):
                    if meth != "fast" and (n != 6 or gdb != 0.0 or k > 1000):
                        continue
                    for seed in range(draws):
                        h = draw(1000 * k + seed, k, n)
                        row: dict[str, Any] = {
                            "N": n,
                            "gamma_db": gdb,
                            "K": k,
                            "method": meth,
                            "seed": seed,
                        }
                        row["after"] = run_new(meth, h, gamma, None)
                        key = (meth, n, gdb)
                        if slow_old.get(key) or (meth == "fast" and k > 2000):
                            row["before"] = None
                        else:
                            row["before"] = run_old(meth, h, gamma)
                            if row["before"]["time_s"] > args.skip_after:
                                slow_old[key] = True
                        rows.append(row)
                        print(json.dumps(row), flush=True)
    # batch form: B = 1000 draws of K = 100, N = 6, 0 dB, against a loop of single calls
    H = np.stack([draw(7 + b, 100, 6) for b in range(1000)])
    select_devices(H[:4], power_w=1.0, noise_w=1.0, mse_target=1.0, method="fast")
    t = time.perf_counter()
    batch = select_devices(H, power_w=1.0, noise_w=1.0, mse_target=1.0, method="fast")
    t_batch = time.perf_counter() - t
    t = time.perf_counter()
    single = [select_devices(x, power_w=1.0, noise_w=1.0, mse_target=1.0, method="fast") for x in H]
    t_loop = time.perf_counter() - t
    same = all(np.array_equal(a.selected, b.selected) for a, b in zip(batch, single, strict=True))
    out = {
        "rows": rows,
        "batch": {
            "B": 1000,
            "K": 100,
            "N": 6,
            "batch_s": t_batch,
            "loop_s": t_loop,
            "speedup": t_loop / t_batch,
            "equal_draw_by_draw": same,
            "threads": int(__import__("numba").get_num_threads()),
        },
    }
    print(json.dumps(out["batch"]))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "aircomp_scale.json").write_text(json.dumps(out, indent=1))
    plot(rows)


def plot(rows: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for meth, n, when, style in [
        ("fast", 6, "after", "o-"),
        ("fast", 6, "before", "o--"),
        ("fast", 64, "after", "s-"),
        ("dc", 6, "after", "^-"),
        ("dc", 6, "before", "^--"),
        ("sdr", 6, "after", "v-"),
        ("sdr", 6, "before", "v--"),
    ]:
        pts: dict[int, list[float]] = {}
        for r in rows:
            if r["method"] == meth and r["N"] == n and r["gamma_db"] == 0.0 and r[when]:
                pts.setdefault(r["K"], []).append(r[when]["time_s"])
        if pts:
            ks = sorted(pts)
            ax.loglog(ks, [np.median(pts[k]) for k in ks], style, label=f"{meth} N={n} {when}")
    ax.set_xlabel("devices K")
    ax.set_ylabel("time per call (s)")
    ax.set_title("AirComp device selection, gamma = 0 dB")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / "aircomp_scale.png", dpi=120)


if __name__ == "__main__":
    main()
