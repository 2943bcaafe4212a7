"""Benchmark: Numba Monte Carlo of ergodic rate and outage vs a vectorized NumPy baseline.

Problem: a SIMO uplink with K = 64 links (devices) to an N = 8 antenna receiver, maximum-ratio
combining over i.i.d. Rayleigh fading; the links' SNRs are spread evenly over −10..30 dB and
the outage target is R = 1 bit/s/Hz.  "10^7 channel draws" means 10^7 draws of an N = 8
channel vector in total, split evenly over the 64 links (156 250 per link); every draw feeds
both statistics (mean and variance of log2(1 + snr·‖h‖²), and the outage count ‖h‖² < x).

Timed in the same run (interleaved, best of ``--repeats``):

* ``numba``: the kernel :func:`edgeopt.channel._kernels.mc_rate_outage` (one pass, both
  statistics).  It draws ‖h‖² ~ Gamma(N, 1) as −ln(U_1⋯U_N) from its own xoshiro256+ streams.
* ``numpy``: the straightforward vectorized NumPy version of the same work, in chunks of
  65 536 draws: 2N standard Gaussians per draw (``Generator.standard_normal``), |h|² summed
  over antennas, log2, sums and the outage count.  This is the baseline of the ≥ 3× target.
* ``numpy_gamma``: NumPy with the same shortcut as the kernel (``Generator.gamma(N)`` draws
  ‖h‖² directly), to separate the gain of compiling from the gain of the better sampler.
* ``public_api``: :func:`edgeopt.channel.ergodic_rate` plus
  :func:`edgeopt.channel.outage_probability` (two passes, 2·10^7 draws; information only).

Bytes: the NumPy baseline materializes 2N float64 Gaussians per draw, 16·N = 128 bytes, so
the 10^7 draws touch B = 1.28 GB.  "Achieved bytes/s" of a method is B / its time; it is set
against ``np.copyto`` of an array of B bytes into another one (bytes copied per second,
best of ``--repeats``).  The kernel never stores those bytes: its figure is an equivalent
throughput.

Single-threaded: NUMBA_NUM_THREADS, OMP/OPENBLAS/MKL thread counts are forced to 1 before
NumPy and Numba are imported (neither the kernel nor the baseline uses threads anyway).

Run ``.venv/bin/python benchmarks/channel.py`` (writes ``benchmarks/results/channel.json``)
or ``--quick`` for a 10^5-draw smoke run that writes nothing unless ``--json`` is given.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

from edgeopt.channel import (  # noqa: E402
    _kernels,  # noqa: E402
    ergodic_rate,
    outage_probability,
    rayleigh_ergodic_capacity,
)

NUM_LINKS = 64
NUM_ANTENNAS = 8
TARGET_RATE = 1.0
CHUNK = 65_536
LN2 = float(np.log(2.0))

Stats = tuple[np.ndarray, np.ndarray, np.ndarray]


def problem(total_draws: int) -> tuple[np.ndarray, np.ndarray, int]:
    snr = 10 ** (np.linspace(-10.0, 30.0, NUM_LINKS) / 10)
    threshold = (2**TARGET_RATE - 1) / snr
    return snr, threshold, total_draws // NUM_LINKS


def run_numba(snr: np.ndarray, thr: np.ndarray, per_link: int, seed: int) -> Stats:
    seeds = np.random.default_rng(seed).integers(0, 2**64, size=snr.size, dtype=np.uint64)
    mean, se, count = _kernels.mc_rate_outage(snr, thr, seeds, NUM_ANTENNAS, per_link, True, True)
    return mean, se, count / per_link


def _numpy_common(
    snr: np.ndarray, thr: np.ndarray, per_link: int, draw: Callable[[int], np.ndarray]
) -> Stats:
    mean = np.empty(snr.size)
    se = np.empty(snr.size)
    prob = np.empty(snr.size)
    for k in range(snr.size):
        total = total2 = 0.0
        count = 0
        left = per_link
        while left > 0:
            m = min(CHUNK, left)
            g = draw(m)
            r = np.log1p(snr[k] * g) / LN2
            total += float(r.sum())
            total2 += float(np.dot(r, r))
            count += int(np.count_nonzero(g < thr[k]))
            left -= m
        mu = total / per_link
        mean[k] = mu
        se[k] = np.sqrt(
            max(total2 / per_link - mu * mu, 0.0) * per_link / (per_link - 1) / per_link
        )
        prob[k] = count / per_link
    return mean, se, prob


def run_numpy(snr: np.ndarray, thr: np.ndarray, per_link: int, seed: int) -> Stats:
    rng = np.random.default_rng(seed)

    def draw(m: int) -> np.ndarray:
        x = rng.standard_normal((m, NUM_ANTENNAS, 2))  # real and imaginary parts
        return 0.5 * np.square(x).sum(axis=(1, 2))  # ‖h‖², h = (x_re + j x_im)/√2

    return _numpy_common(snr, thr, per_link, draw)


def run_numpy_gamma(snr: np.ndarray, thr: np.ndarray, per_link: int, seed: int) -> Stats:
    rng = np.random.default_rng(seed)
    return _numpy_common(snr, thr, per_link, lambda m: rng.gamma(NUM_ANTENNAS, size=m))


def run_public(snr: np.ndarray, thr: np.ndarray, per_link: int, seed: int) -> Stats:
    rng = np.random.default_rng(seed)
    mean, se = ergodic_rate(snr, NUM_ANTENNAS, samples=per_link, rng=rng, return_stderr=True)
    prob = outage_probability(TARGET_RATE, snr, NUM_ANTENNAS, samples=per_link, rng=rng)
    return mean, se, prob


def copy_times(nbytes: int, repeats: int) -> list[float]:
    """Times of ``np.copyto`` between two arrays of ``nbytes`` bytes (pages mapped first)."""
    src = np.ones(nbytes // 8, dtype=np.float64)
    dst = np.zeros_like(src)
    np.copyto(dst, src)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        out.append(time.perf_counter() - t0)
    del src, dst
    return out


def check(name: str, stats_: Stats, snr: np.ndarray, per_link: int) -> float:
    """Largest |z| of the rate estimates against the closed form (should be below ~4)."""
    mean, se, prob = stats_
    exact = rayleigh_ergodic_capacity(snr, NUM_ANTENNAS)
    z = np.abs(mean - exact) / se
    p = outage_probability(TARGET_RATE, snr, NUM_ANTENNAS)
    ok = per_link * p * (1 - p) >= 25
    zp = np.abs(prob - p)[ok] / np.sqrt(p * (1 - p) / per_link)[ok]
    worst = float(max(z.max(), zp.max(initial=0.0)))
    print(
        f"  {name:12s} max |z| vs closed form: rate {z.max():.2f}, outage {zp.max(initial=0):.2f}"
    )
    return worst


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^5 draws, no JSON by default")
    parser.add_argument("--draws", type=int, default=None, help="total channel draws")
    parser.add_argument("--repeats", type=int, default=None, help="timings per method")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    args = parser.parse_args(argv)
    draws = args.draws or (100_000 if args.quick else 10_000_000)
    repeats = args.repeats or (2 if args.quick else 3)
    out = args.json
    if out is None and not args.quick:
        out = Path(__file__).resolve().parent / "results" / "channel.json"

    snr, thr, per_link = problem(draws)
    total = per_link * NUM_LINKS
    nbytes = total * 2 * NUM_ANTENNAS * 8
    methods: dict[str, Callable[..., Stats]] = {
        "numba": run_numba,
        "numpy": run_numpy,
        "numpy_gamma": run_numpy_gamma,
        "public_api": run_public,
    }
    # compile / load the cached kernel and warm every path on a tiny problem
    for fn in methods.values():
        fn(snr, thr, 1000, 0)

    print(f"K = {NUM_LINKS} links, N = {NUM_ANTENNAS}, {total:,} draws ({per_link:,} per link)")
    times: dict[str, list[float]] = {name: [] for name in methods}
    results: dict[str, Stats] = {}
    for rep in range(repeats):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            results[name] = fn(snr, thr, per_link, 1000 + rep)
            times[name].append(time.perf_counter() - t0)
    copies = copy_times(nbytes, max(5, repeats))
    t_copy = min(copies)

    worst_z = {name: check(name, results[name], snr, per_link) for name in methods}
    best = {name: min(ts) for name, ts in times.items()}
    copy_bps = nbytes / t_copy
    report: dict[str, Any] = {
        "benchmark": "channel",
        "command": ".venv/bin/python benchmarks/channel.py" + (" --quick" if args.quick else ""),
        "definition": (
            "K=64 links x N=8 antennas, MRC Rayleigh; total draws of an N-vector split evenly "
            "over the links (SNR -10..30 dB); each draw feeds mean/variance of log2(1+snr*|h|^2) "
            "and the outage count at R=1 bit/s/Hz; single-threaded; best of repeats"
        ),
        "links": NUM_LINKS,
        "antennas": NUM_ANTENNAS,
        "draws_total": total,
        "draws_per_link": per_link,
        "repeats": repeats,
        "bytes_definition": "2*N float64 Gaussians per draw (what the NumPy baseline creates)",
        "bytes": nbytes,
        "time_s": {
            name: {"best": best[name], "median": statistics.median(ts), "all": ts}
            for name, ts in times.items()
        },
        "speedup_numba_vs_numpy": best["numpy"] / best["numba"],
        "speedup_numba_vs_numpy_gamma": best["numpy_gamma"] / best["numba"],
        "memcpy_time_s": t_copy,
        "memcpy_times_s": copies,
        "memcpy_bytes_per_s": copy_bps,
        "bytes_per_s": {name: nbytes / best[name] for name in methods},
        "fraction_of_memcpy": {name: (nbytes / best[name]) / copy_bps for name in methods},
        "max_abs_z_vs_closed_form": worst_z,
        "public_api_note": "ergodic_rate + outage_probability: two passes, twice the draws",
        "machine": machine(),
    }
    print(f"  memcpy of {nbytes / 1e9:.3f} GB: {t_copy:.3f} s ({copy_bps / 1e9:.2f} GB/s)")
    for name in methods:
        print(
            f"  {name:12s} best {best[name]:.3f} s  median {statistics.median(times[name]):.3f} s"
            f"  {nbytes / best[name] / 1e9:6.2f} GB/s = {report['fraction_of_memcpy'][name]:.2f}"
            " x memcpy"
        )
    print(
        f"  speedup numba vs numpy: {report['speedup_numba_vs_numpy']:.1f}x "
        f"(vs numpy_gamma: {report['speedup_numba_vs_numpy_gamma']:.1f}x)"
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"  wrote {out}")
    return report


if __name__ == "__main__":
    main()
