"""The ``sdr`` baseline against the frozen old ``sdr`` on the same draws: devices and time.

``sdr`` scans the ordered prefixes from the largest relaxed one downwards and stops at the
first prefix that a Gaussian candidate serves entirely (the published baseline).  Because
that test depends on the random candidates it is not monotone in the prefix length, so a
bisection over prefixes stops early and selects fewer devices; this script checks that the
scan selects at least as many devices as the old code on each draw, and times both.

Usage::

    .venv/bin/python benchmarks/aircomp_sdr_check.py

Writes benchmarks/results/aircomp_sdr_check.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _aircomp_baseline_sdp  # noqa: E402,F401  (the frozen old code, imported by _old_call)
import aircomp_scale as bench  # noqa: E402


def main() -> None:
    rows = []
    for k, draws in ((20, 6), (100, 4), (200, 2)):
        for seed in range(draws):
            h = bench.draw(1000 + seed, k, 6)
            new = bench.run_new("sdr", h, 1.0, None)
            old = bench._old_call("sdr", h, 1.0)
            rows.append(
                {
                    "K": k,
                    "seed": 1000 + seed,
                    "selected_new": new["selected"],
                    "selected_old": old["selected"],
                    "time_new_s": round(new["time_s"], 4),
                    "time_old_s": round(old["time_s"], 4),
                    "programs_new": new["iterations"],
                }
            )
            print(rows[-1], flush=True)
    out = HERE / "results" / "aircomp_sdr_check.json"
    out.write_text(json.dumps({"N": 6, "gamma_db": 0.0, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
