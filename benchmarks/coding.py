"""Benchmark: gradient-code decoding and the straggler Monte Carlo kernel, each vs a baseline.

1. **Decoding** (cyclic gradient code, ``s = n / 10``, n = 50, 100, 200): time of
   :meth:`edgeopt.coding.GradientCode.decode` per call after a first warm-up call (median
   over ``--sets`` random alive sets of size ``n - s``) and the worst residual
   ``||a B - 1||_inf`` over those sets.  Baseline, on the same alive sets: the random
   cyclic construction of Tandon et al. (ICML 2017, Algorithm 2: ``H`` with i.i.d. Gaussian
   entries and ``H 1 = 0``, each row of ``B`` the vector on its window orthogonal to ``H``'s
   rows, scaled to a leading 1), rewritten here from the paper's description, decoded by a
   straightforward least squares (``numpy.linalg.lstsq`` on ``B_A^T a = 1``).
2. **Monte Carlo** (n = 100 workers, shifted-exponential delays, cyclic code with s = 10,
   10^6 trials): :func:`edgeopt.coding.simulate_completion` (Numba kernel: draws and a
   quickselect per trial, nothing stored) against the vectorized NumPy version of the same
   Monte Carlo (delays drawn as ``(trials, n)`` arrays in chunks of 10^5 trials, the order
   statistic by ``np.partition``).  Both means are reported with their standard errors and
   the closed form.  Two cases: i.i.d. workers (the kernel samples the order statistic by
   one Beta draw per trial) and heterogeneous shifts (per-worker draws and quickselect).

Single-threaded: NUMBA_NUM_THREADS and the BLAS thread counts are forced to 1 before NumPy
is imported (threaded BLAS only adds contention to factorizations of this size).

Run ``.venv/bin/python benchmarks/coding.py`` (writes ``benchmarks/results/coding.json``) or
``--quick`` for a smoke run that writes nothing unless ``--json`` is given.
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

import numpy as np  # noqa: E402

from edgeopt.coding import (  # noqa: E402
    delay_model,
    gc_expected_time,
    gradient_code,
    simulate_completion,
)


def tandon_random_cyclic(n: int, s: int, rng: np.random.Generator) -> np.ndarray:
    """Tandon et al.'s Algorithm 2 with a random H (the baseline construction)."""
    H = rng.standard_normal((s, n))
    H[:, -1] = -H[:, :-1].sum(axis=1)  # H 1 = 0
    B = np.zeros((n, n))
    for i in range(n):
        sup = (i + np.arange(s + 1)) % n
        # b[sup[0]] = 1, H[:, sup[1:]] x = -H[:, sup[0]]
        x = np.linalg.solve(H[:, sup[1:]], -H[:, sup[0]])
        B[i, sup[0]] = 1.0
        B[i, sup[1:]] = x
    return B


def lstsq_decode(B: np.ndarray, alive: np.ndarray) -> np.ndarray:
    a = np.zeros(B.shape[0])
    a[alive] = np.linalg.lstsq(B[alive].T, np.ones(B.shape[1]), rcond=None)[0]
    return a


def bench_decode(n: int, sets: int, seed: int) -> dict:
    s = n // 10
    rng = np.random.default_rng(seed)
    alive_sets = [np.sort(rng.choice(n, n - s, replace=False)) for _ in range(sets)]
    code = gradient_code(n, s, scheme="cyclic")
    B0 = tandon_random_cyclic(n, s, np.random.default_rng(seed + 1))
    out = {"n": n, "s": s, "sets": sets}
    for name, dec, B in (
        ("edgeopt", code.decode, code.B),
        ("tandon_random_lstsq", lambda al: lstsq_decode(B0, al), B0),
    ):
        dec(alive_sets[0])  # first call
        times, worst = [], 0.0
        for al in alive_sets:
            t0 = time.perf_counter()
            a = dec(al)
            times.append(time.perf_counter() - t0)
            worst = max(worst, float(np.abs(a @ B - 1.0).max()))
        out[name] = {"median_decode_s": float(np.median(times)), "worst_residual": worst}
    out["time_ratio_baseline_over_edgeopt"] = (
        out["tandon_random_lstsq"]["median_decode_s"] / out["edgeopt"]["median_decode_s"]
    )
    return out


def numpy_monte_carlo(model, loads, wait, trials, rng, chunk=100_000):
    times = np.empty(trials)
    for lo in range(0, trials, chunk):
        hi = min(trials, lo + chunk)
        d = model.sample(loads, trials=hi - lo, rng=rng)
        times[lo:hi] = np.partition(d, wait - 1, axis=1)[:, wait - 1]
    return times


def bench_monte_carlo(trials: int, repeats: int, heterogeneous: bool) -> dict:
    n, s, a, mu = 100, 10, 1.0, 2.0
    shift = np.linspace(0.5, 1.5, n) if heterogeneous else a
    model = delay_model("shifted_exponential", shift_s=shift, rate_per_s=mu)
    loads = np.full(n, (s + 1) / n)
    simulate_completion("cyclic", model, num_workers=n, num_stragglers=s, trials=10, rng=0)
    best = {"numba": np.inf, "numpy": np.inf}
    means = {}
    for rep in range(repeats):
        t0 = time.perf_counter()
        out = simulate_completion(
            "cyclic", model, num_workers=n, num_stragglers=s, trials=trials, rng=rep
        )
        best["numba"] = min(best["numba"], time.perf_counter() - t0)
        means["numba"] = (out.mean_s, out.std_err_s)
        t0 = time.perf_counter()
        ref = numpy_monte_carlo(model, loads, n - s, trials, np.random.default_rng(100 + rep))
        best["numpy"] = min(best["numpy"], time.perf_counter() - t0)
        means["numpy"] = (float(ref.mean()), float(ref.std(ddof=1) / np.sqrt(trials)))
    return {
        "workers": "heterogeneous shifts 0.5..1.5 s" if heterogeneous else "i.i.d.",
        "n": n,
        "s": s,
        "trials": trials,
        "best_time_s": best,
        "ratio_numpy_over_numba": best["numpy"] / best["numba"],
        "mean_s": {k: v[0] for k, v in means.items()},
        "std_err_s": {k: v[1] for k, v in means.items()},
        "closed_form_s": None
        if heterogeneous
        else gc_expected_time(n, s, shift_s=a, rate_per_s=mu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--sets", type=int, default=1000, help="alive sets per n")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    args = parser.parse_args()
    sizes = (50, 100) if args.quick else (50, 100, 200)
    sets = 20 if args.quick else args.sets
    trials = 10_000 if args.quick else 1_000_000
    out = args.json
    if out is None and not args.quick:
        out = Path(__file__).resolve().parent / "results" / "coding.json"
    report = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "decode": [bench_decode(n, sets, seed=n) for n in sizes],
        "monte_carlo": [
            bench_monte_carlo(trials, 1 if args.quick else args.repeats, het)
            for het in (False, True)
        ],
    }
    for row in report["decode"]:
        e, b = row["edgeopt"], row["tandon_random_lstsq"]
        print(
            f"decode n={row['n']:3d} s={row['s']:2d}: edgeopt {e['median_decode_s'] * 1e3:.3f} ms"
            f" (worst residual {e['worst_residual']:.1e}); random+lstsq "
            f"{b['median_decode_s'] * 1e3:.3f} ms (worst residual {b['worst_residual']:.1e})"
        )
    for mc in report["monte_carlo"]:
        print(
            f"Monte Carlo n=100 ({mc['workers']}), {mc['trials']} trials: numba "
            f"{mc['best_time_s']['numba']:.3f} s, numpy {mc['best_time_s']['numpy']:.3f} s, "
            f"ratio {mc['ratio_numpy_over_numba']:.2f}x; means {mc['mean_s']}, closed form "
            f"{mc['closed_form_s']}"
        )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
