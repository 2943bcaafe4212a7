"""``dc`` and ``sdr`` against the frozen old code on the same draws: time, programs, devices.

For K = 20, 100, 200 and 1,000 (N = 6, gamma = 0 dB, i.i.d. CN(0, I), P = sigma^2 = w = 1)
each draw is selected by the current ``dc`` and ``sdr`` (in this process) and by the
frozen old code of ``benchmarks/_aircomp_baseline_sdp.py`` (in a worker process stopped
after a budget: "did not finish"; once the old code did not finish at a size, the larger
sizes are not run for that method).  Reported per row: seconds, convex programs solved,
seconds per program, devices selected; per (method, K): the median times and the paired
difference of devices (new - old) with its standard error.  The load average of the
machine is recorded before and after the run.

Usage::

    .venv/bin/python benchmarks/aircomp_sdr_check.py          # full run
    .venv/bin/python benchmarks/aircomp_sdr_check.py --quick  # smoke run (K = 20, 100)

Writes benchmarks/results/aircomp_sdr_check.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import aircomp_scale as bench  # noqa: E402  (draws, verified calls, the old-code runner)

SIZES = (20, 100, 200, 1000)
DRAWS = {20: 6, 100: 6, 200: 6, 1000: 2}
#: Seconds the old code gets per call before it counts as "did not finish".
OLD_BUDGET_S = 60.0


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (method, K): median times, programs, seconds per program, paired difference."""
    out = []
    for meth in ("dc", "sdr"):
        for k in sorted({r["K"] for r in rows}):
            sel = [r for r in rows if r["method"] == meth and r["K"] == k]
            if not sel:
                continue
            new_t = [r["new"]["time_s"] for r in sel]
            progs = [r["new"]["iterations"] for r in sel]
            per = [r["new"]["time_s"] / max(r["new"]["iterations"], 1) for r in sel]
            both = [r for r in sel if r["old"].get("status") == "finished"]
            diff = np.array([r["new"]["selected"] - r["old"]["selected"] for r in both], float)
            entry: dict[str, Any] = {
                "method": meth,
                "K": k,
                "draws": len(sel),
                "median_time_new_s": float(np.median(new_t)),
                "max_time_new_s": float(np.max(new_t)),
                "programs_new": [int(min(progs)), int(max(progs))],
                "median_s_per_program_new": float(np.median(per)),
                "mean_selected_new": float(np.mean([r["new"]["selected"] for r in sel])),
                "old_finished": len(both),
            }
            if both:
                entry["median_time_old_s"] = float(np.median([r["old"]["time_s"] for r in both]))
                entry["programs_old"] = [
                    int(min(r["old"]["iterations"] for r in both)),
                    int(max(r["old"]["iterations"] for r in both)),
                ]
                entry["mean_selected_old"] = float(np.mean([r["old"]["selected"] for r in both]))
                entry["mean_diff_new_minus_old"] = float(diff.mean())
                entry["se_diff"] = (
                    float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else None
                )
            out.append(entry)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: K = 20, 100, 1 draw")
    args = parser.parse_args()
    sizes = (20, 100) if args.quick else SIZES
    load_before = os.getloadavg()
    t_start = time.perf_counter()
    h0 = bench.draw(0, 40, 6)
    for meth in ("dc", "sdr"):  # compile the kernels before the timed calls
        bench.run_new(meth, h0, 1.0, None)
    old = bench.OldRunner()
    rows: list[dict[str, Any]] = []
    stopped: set[str] = set()
    try:
        for k in sizes:
            for d in range(1 if args.quick else DRAWS[k]):
                seed = 1000 + d
                h = bench.draw(seed, k, 6)
                for meth in ("dc", "sdr"):
                    new = bench.run_new(meth, h, 1.0, None)
                    if meth in stopped:
                        before: dict[str, Any] = {"status": "not_run"}
                    else:
                        before = old.call(meth, h, 1.0, OLD_BUDGET_S)
                        if before.get("status") != "finished":
                            stopped.add(meth)
                    rows.append({"method": meth, "K": k, "seed": seed, "new": new, "old": before})
                    print(
                        f"{meth} K={k} seed={seed}: new {new['time_s']:.3f} s "
                        f"{new['iterations']} programs {new['selected']} devices; old "
                        + (
                            f"{before['time_s']:.3f} s {before['iterations']} programs "
                            f"{before['selected']} devices"
                            if before.get("status") == "finished"
                            else before["status"]
                        ),
                        flush=True,
                    )
    finally:
        old.close()
    summary = summarize(rows)
    for s in summary:
        print(s)
    out = HERE / "results" / "aircomp_sdr_check.json"
    if args.quick:
        out = out.with_name("aircomp_sdr_check_quick.json")
    payload = {
        "N": 6,
        "gamma_db": 0.0,
        "old_budget_s": OLD_BUDGET_S,
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "wall_time_s": round(time.perf_counter() - t_start, 1),
        "python": platform.python_version(),
        "summary": summary,
        "rows": rows,
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out} in {payload['wall_time_s']} s")


if __name__ == "__main__":
    main()
