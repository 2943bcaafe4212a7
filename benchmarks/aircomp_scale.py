"""Scaling benchmark of AirComp device selection: time and devices selected versus K.

Every method runs on the same seeded i.i.d. CN(0, I) draws (P = sigma^2 = w = 1).  The
"before" columns run the frozen copies of the code as of commit 57af362
(``_aircomp_baseline.py``: the old ``fast`` greedy; ``_aircomp_baseline_sdp.py``: the old
``dc``/``sdr``) on the same draws in the same run, each call in a worker process that is
stopped after a per-call budget (``--budget-fast``, ``--budget-sdp`` seconds: reported as
"did not finish in X s"); once a size did not finish, the larger sizes of that series are
not run.  The "after" ``dc``/``sdr`` calls at K >= 5,000 run with ``time_limit_s``
(``--limit-sdp``; status ``limit_reached`` if it stops them).  Also: the paired difference
of devices selected (after - before, per gamma and K, where both finished), the growth
exponent of ``fast`` between K = 1,000 and 10,000, and the batch form against a Python
loop of single calls (B = 1,000, K = 100, N = 6, 0 dB).

Usage::

    .venv/bin/python benchmarks/aircomp_scale.py            # K = 20 ... 10,000 (~10 min)
    .venv/bin/python benchmarks/aircomp_scale.py --quick    # a smoke run

Writes benchmarks/results/aircomp_scale.json and benchmarks/results/aircomp_scale.png.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def draw(seed: int, k: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((k, n)) + 1j * rng.standard_normal((k, n))) / np.sqrt(2)


def verified(h: np.ndarray, sel: np.ndarray, m: np.ndarray | None, gamma: float) -> bool:
    if not sel.any():
        return True
    if m is None:
        return False
    # Elementwise products, no BLAS call: a BLAS product here would leave OpenBLAS's
    # threads spinning on the 2 cores and slow down the next timed call.
    g = np.abs((h[sel] * np.conj(m)[None, :]).sum(axis=1)) ** 2 / (np.abs(m) ** 2).sum()
    return bool(gamma * g.min() >= 1 - 1e-6)


def run_new(method: str, h: np.ndarray, gamma: float, limit: float | None) -> dict[str, Any]:
    from edgeopt.aircomp import select_devices

    t = time.perf_counter()
    sol = select_devices(
        h, power_w=1.0, noise_w=1.0, mse_target=gamma, method=method, rng=0, time_limit_s=limit
    )
    dt = time.perf_counter() - t
    assert verified(h, sol.selected, sol.beamformer, gamma)
    return {
        "time_s": dt,
        "selected": sol.objective,
        "status": sol.status,
        "iterations": sol.stats.iterations,
    }


def _old_call(method: str, h: np.ndarray, gamma: float) -> dict[str, Any]:
    import _aircomp_baseline as old_fast
    import _aircomp_baseline_sdp as old_sdp

    t = time.perf_counter()
    if method == "fast":
        sel, m, runs = old_fast.select_fast_baseline(np.sqrt(gamma) * h)
    else:
        sel, m, runs = old_sdp.run_old(method, h, gamma, 0)
    dt = time.perf_counter() - t
    ok = verified(h, sel, m, gamma)
    return {
        "time_s": dt,
        "selected": int(sel.sum()) if ok else 0,
        "status": "finished" if ok else "failed_check",
        "iterations": int(runs),
    }


def _worker(conn: Any) -> None:
    sys.path.insert(0, str(HERE))
    h0 = draw(0, 40, 6)
    for meth in ("fast", "dc", "sdr"):  # compile and build before the timed calls
        _old_call(meth, h0, 1.0)
    conn.send("ready")
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(_old_call(*job))


class OldRunner:
    """The frozen old code in a worker process, each call stopped after a budget."""

    def __init__(self) -> None:
        self.proc: Any = None
        self.conn: Any = None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()
        assert self.conn.recv() == "ready"

    def call(self, method: str, h: np.ndarray, gamma: float, budget: float) -> dict[str, Any]:
        if self.proc is None:
            self._start()
        self.conn.send((method, h, gamma))
        if self.conn.poll(budget + 1.0):
            out: dict[str, Any] = self.conn.recv()
            if out["time_s"] <= budget:
                return out
        else:
            self.proc.kill()
            self.proc.join()
            self.proc = None
        return {"status": "did_not_finish", "budget_s": budget}

    def close(self) -> None:
        if self.proc is not None:
            self.conn.send(None)
            self.proc.join(5)


def paired(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard error of (after - before) devices per (method, N, gamma, K)."""
    groups: dict[tuple[str, int, float, int], list[int]] = {}
    for r in rows:
        b = r["before"]
        if b and b.get("status") == "finished":
            key = (r["method"], r["N"], r["gamma_db"], r["K"])
            groups.setdefault(key, []).append(r["after"]["selected"] - b["selected"])
    out = []
    for (meth, n, gdb, k), d in sorted(groups.items()):
        a = np.asarray(d, dtype=float)
        se = float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else None
        out.append(
            {"method": meth, "N": n, "gamma_db": gdb, "K": k, "draws": a.size,
             "mean_diff": float(a.mean()), "se": se}
        )  # fmt: skip
    return out


def growth(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Exponent of the median time of ``fast`` between K = 1,000 and K = 10,000."""
    out = []
    for n in (6, 64):
        for gdb in (-5.0, 0.0, 10.0):
            med = {}
            for k in (1000, 10000):
                ts = [
                    r["after"]["time_s"]
                    for r in rows
                    if r["method"] == "fast" and r["N"] == n and r["gamma_db"] == gdb
                    and r["K"] == k
                ]  # fmt: skip
                if ts:
                    med[k] = float(np.median(ts))
            if len(med) == 2:
                out.append(
                    {"N": n, "gamma_db": gdb, "t_1000_s": med[1000], "t_10000_s": med[10000],
                     "exponent": float(np.log10(med[10000] / med[1000]))}
                )  # fmt: skip
    return out


def batch_ratio(b: int = 1000, repeats: int = 5) -> dict[str, Any]:
    import numba

    from edgeopt.aircomp import select_devices

    H = np.stack([draw(7 + i, 100, 6) for i in range(b)])
    kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "method": "fast"}
    select_devices(H[:4], **kw)
    # interleaved repeats: the two threads of a batch are exposed to whatever else the
    # shared machine runs, a loop on one core much less, so one pair is not enough
    t_batch, t_loop, same = [], [], True
    for _ in range(repeats):
        t = time.perf_counter()
        batch = select_devices(H, **kw)
        t_batch.append(time.perf_counter() - t)
        t = time.perf_counter()
        single = [select_devices(x, **kw) for x in H]
        t_loop.append(time.perf_counter() - t)
        same &= all(
            np.array_equal(a.selected, s.selected) for a, s in zip(batch, single, strict=True)
        )
    ratios = [lo / ba for lo, ba in zip(t_loop, t_batch, strict=True)]
    return {
        "B": b, "K": 100, "N": 6, "gamma_db": 0.0, "repeats": repeats,
        "batch_s": float(np.median(t_batch)), "loop_s": float(np.median(t_loop)),
        "speedup": float(np.median(t_loop) / np.median(t_batch)),
        "speedup_min": min(ratios), "speedup_max": max(ratios),
        "batch_s_all": t_batch, "loop_s_all": t_loop, "equal_draw_by_draw": bool(same),
        "threads": int(numba.get_num_threads()),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--budget-fast", type=float, default=10.0)
    ap.add_argument("--budget-sdp", type=float, default=20.0)
    ap.add_argument("--limit-sdp", type=float, default=40.0)
    args = ap.parse_args()
    if args.quick:
        ks, sdp_ks = [20, 200, 1000], [20, 200]
    else:
        ks, sdp_ks = [20, 100, 200, 500, 1000, 2000, 5000, 10000], [20, 100, 200, 500, 1000,
                                                                    2000, 5000]  # fmt: skip

    def draws(k: int) -> int:  # more draws where a call is cheap, one at the largest sizes
        if args.quick:
            return 1
        return 6 if k <= 200 else 2 if k <= 2000 else 1

    h0 = draw(0, 40, 6)
    for meth in ("fast", "dc", "sdr"):  # compile the kernels, build the programs
        run_new(meth, h0, 1.0, None)
    old = OldRunner()
    rows: list[dict[str, Any]] = []
    stopped: dict[tuple[str, int, float], float] = {}
    t_start = time.perf_counter()
    series = [("fast", n, gdb) for n in (6, 64) for gdb in (-5.0, 0.0, 10.0)]
    series += [("dc", 6, 0.0), ("sdr", 6, 0.0)]
    for meth, n, gdb in series:
        gamma = 10 ** (gdb / 10)
        for k in ks if meth == "fast" else sdp_ks:
            budget = args.budget_fast if meth == "fast" else args.budget_sdp
            limit = args.limit_sdp if meth != "fast" and k >= 5000 else None
            for seed in range(draws(k) if meth == "fast" else min(draws(k), 2)):
                h = draw(1000 * k + seed, k, n)
                row: dict[str, Any] = {"N": n, "gamma_db": gdb, "K": k, "method": meth,
                                       "seed": seed}  # fmt: skip
                row["after"] = run_new(meth, h, gamma, limit)
                key = (meth, n, gdb)
                if key in stopped:
                    row["before"] = {"status": "not_run", "after_dnf_at_K": stopped[key]}
                else:
                    row["before"] = old.call(meth, h, gamma, budget)
                    if row["before"]["status"] == "did_not_finish":
                        stopped[key] = k
                rows.append(row)
                print(json.dumps(row), flush=True)
    old.close()
    out = {
        "rows": rows,
        "paired_after_minus_before": paired(rows),
        "fast_growth_1000_to_10000": growth(rows),
        "batch": batch_ratio(100, 1) if args.quick else batch_ratio(),
        "budgets": {
            "fast_s": args.budget_fast,
            "sdp_s": args.budget_sdp,
            "limit_sdp_s": args.limit_sdp,
        },  # fmt: skip
        "wall_s": time.perf_counter() - t_start,
    }
    print(json.dumps(out["batch"]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    name = "aircomp_scale_quick" if args.quick else "aircomp_scale"
    # written whole or not at all: an interrupted run leaves the previous file in place
    tmp = RESULTS / f".{name}.json.tmp"
    tmp.write_text(json.dumps(out, indent=1))
    os.replace(tmp, RESULTS / f"{name}.json")
    plot(rows, RESULTS / f"{name}.png")


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for meth, n, when, style in [
        ("fast", 6, "after", "o-"),
        ("fast", 6, "before", "o--"),
        ("fast", 64, "after", "s-"),
        ("fast", 64, "before", "s--"),
        ("dc", 6, "after", "^-"),
        ("dc", 6, "before", "^--"),
        ("sdr", 6, "after", "v-"),
        ("sdr", 6, "before", "v--"),
    ]:
        pts: dict[int, list[float]] = {}
        for r in rows:
            res = r[when]
            if r["method"] == meth and r["N"] == n and r["gamma_db"] == 0.0 and "time_s" in res:
                pts.setdefault(r["K"], []).append(res["time_s"])
        if pts:
            ks = sorted(pts)
            ax.loglog(ks, [np.median(pts[k]) for k in ks], style, label=f"{meth} N={n} {when}")
    ax.set_xlabel("devices K")
    ax.set_ylabel("time per call (s, median)")
    ax.set_title("AirComp device selection, gamma = 0 dB (dashed: before)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
