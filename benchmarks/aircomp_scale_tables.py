"""Markdown tables of docs/performance.md ("AirComp at scale") from the scaling benchmark.

Reads benchmarks/results/aircomp_scale.json (written by ``aircomp_scale.py``) and prints
the tables of the section: time and devices at gamma = 0 dB for every method, ``fast`` at
every target with the growth exponent, the paired difference of devices, the batch ratio,
and the programs per call and time per program of ``dc``/``sdr``.

Usage::

    .venv/bin/python benchmarks/aircomp_scale_tables.py [path/to/aircomp_scale.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT = Path(__file__).resolve().parent / "results" / "aircomp_scale.json"


def fmt_time(t: float) -> str:
    return f"{t:.2f} s" if t >= 1.0 else f"{1e3 * t:.1f} ms"


def fmt_k(k: int) -> str:
    return f"{k:,}"


def fmt_db(g: float) -> str:
    return f"{g:+.0f} dB"


def cell(rows: list[dict[str, Any]], when: str) -> str:
    """Median time (mean devices) of the finished calls, or why there is none."""
    done = [r[when] for r in rows if "time_s" in r[when]]
    if done:
        t = float(np.median([x["time_s"] for x in done]))
        return f"{fmt_time(t)} ({np.mean([x['selected'] for x in done]):.1f})"
    if not rows:
        return "—"
    for r in rows:
        if r[when].get("status") == "did_not_finish":
            return f"did not finish in {r[when]['budget_s']:.1f} s"
    k = rows[0][when].get("after_dnf_at_K")
    return f"not run (K = {fmt_k(int(k))} did not finish)" if k else "—"


def select(rows: list[dict[str, Any]], **key: Any) -> list[dict[str, Any]]:
    return [r for r in rows if all(r[a] == b for a, b in key.items())]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    data = json.loads(path.read_text())
    rows = data["rows"]
    ks = sorted({r["K"] for r in rows})

    print("γ = 0 dB:\n")
    print(
        "| K | draws | `fast` N=6 after | before | `fast` N=64 after | before | `dc` after "
        "| before | `sdr` after | before |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k in ks:
        cells = []
        for meth, n in (("fast", 6), ("fast", 64), ("dc", 6), ("sdr", 6)):
            sel = select(rows, method=meth, N=n, gamma_db=0.0, K=k)
            cells += [cell(sel, "after"), cell(sel, "before")]
        draws = len(select(rows, method="fast", N=6, gamma_db=0.0, K=k))
        print(f"| {fmt_k(k)} | {draws} | " + " | ".join(cells) + " |")

    growth = {(g["N"], g["gamma_db"]): g["exponent"] for g in data["fast_growth_1000_to_10000"]}
    print("\n`fast` at every target (after; exponent: log10 of the ratio of the median times at")
    print("K = 10,000 and 1,000):\n")
    big = [k for k in (1000, 2000, 5000, 10000) if k in ks]
    print("| N | γ | " + " | ".join(f"K={fmt_k(k)}" for k in big) + " | exponent 1,000→10,000 |")
    print("|---|---|" + "---|" * len(big) + "---|")
    for n in (6, 64):
        for g in (-5.0, 0.0, 10.0):
            cells = [cell(select(rows, method="fast", N=n, gamma_db=g, K=k), "after") for k in big]
            ex = growth.get((n, g))
            exs = f"{ex:.2f}" if ex is not None else "—"
            print(f"| {n} | {fmt_db(g)} | " + " | ".join(cells) + f" | {exs} |")

    print("\nPaired difference of devices selected, after − before, on the same draws (where both")
    print("finished):\n")
    print("| method | γ | K | draws | mean (after − before) | s.e. |")
    print("|---|---|---|---|---|---|")
    for p in data["paired_after_minus_before"]:
        se = "—" if p["se"] is None else f"{p['se']:.2f}"  # one draw: no standard error
        print(
            f"| {p['method']} N={p['N']} | {fmt_db(p['gamma_db'])} | {fmt_k(p['K'])} "
            f"| {p['draws']} | {p['mean_diff']:+.2f} | {se} |"
        )

    b = data["batch"]
    print(
        f"\nBatch (B = {b['B']:,}, K = {b['K']}, N = {b['N']}, {b['threads']} threads): "
        f"{b['batch_s']:.2f} s against {b['loop_s']:.2f} s for the loop, "
        f"{b['speedup']:.2f}×, equal draw by draw: {b['equal_draw_by_draw']}"
    )

    print("\nPrograms per call and time per program (after):\n")
    for meth in ("dc", "sdr"):
        for k in ks:
            sel = [r["after"] for r in select(rows, method=meth, K=k) if "time_s" in r["after"]]
            if not sel:
                continue
            progs = [x["iterations"] for x in sel]
            per = [x["time_s"] / max(x["iterations"], 1) for x in sel]
            print(
                f"* {meth} K={fmt_k(k)}: {min(progs)}–{max(progs)} programs, "
                f"{fmt_time(min(per))}–{fmt_time(max(per))} per program"
            )
    print(f"\nwall: {data['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
