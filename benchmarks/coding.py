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
   10^6 trials): :func:`edgeopt.coding.simulate_completion` (Numba kernel, nothing stored
   per trial) on 1 and on 2 Numba threads against the vectorized NumPy version of the same
   Monte Carlo (delays drawn as ``(trials, n)`` arrays in chunks of 10^5 trials, the order
   statistic by ``np.partition``), the three measured in turn in every repeat.  Both means
   are reported with their standard errors and the closed form where there is one.  Three
   cases: i.i.d. workers (the kernel samples the order statistic by one Beta draw per
   trial), heterogeneous shifts with one rate (the exceedance shortcut: which workers pass
   a time tau, then the order statistic of the exceedances by Renyi's representation) and
   heterogeneous shifts and rates (the delays of the workers that pass tau, selected).
3. **Scaling** (heterogeneous shifts, s = n / 10): kernel (1 thread) and NumPy times for
   n = 50 ... 400 at 2 10^5 trials and for 10^4 ... 10^6 trials at n = 100.

BLAS runs single-threaded (its thread counts are forced to 1 before NumPy is imported:
threaded BLAS only adds contention to factorizations of this size); the Numba thread count
of every kernel measurement is set with ``numba.set_num_threads`` and recorded.

Run ``.venv/bin/python benchmarks/coding.py`` (writes ``benchmarks/results/coding.json``) or
``--quick`` for a smoke run that writes nothing unless ``--json`` is given.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
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


CASES = {
    "iid": "i.i.d.",
    "shifts": "heterogeneous shifts 0.5..1.5 s",
    "shifts_rates": "heterogeneous shifts 0.5..1.5 s and rates 1..4 /s",
}


def _model(case: str, n: int):
    a, mu = 1.0, 2.0
    shift = a if case == "iid" else np.linspace(0.5, 1.5, n)
    rate = np.linspace(1.0, 4.0, n) if case == "shifts_rates" else mu
    return delay_model("shifted_exponential", shift_s=shift, rate_per_s=rate)


def _timed_kernel(model, n, s, trials, seed, threads):
    numba.set_num_threads(threads)
    t0 = time.perf_counter()
    out = simulate_completion(
        "cyclic", model, num_workers=n, num_stragglers=s, trials=trials, rng=seed
    )
    return time.perf_counter() - t0, out


def _timed_numpy(model, n, s, trials, seed):
    loads = np.full(n, (s + 1) / n)
    t0 = time.perf_counter()
    ref = numpy_monte_carlo(model, loads, n - s, trials, np.random.default_rng(seed))
    return time.perf_counter() - t0, ref


def bench_monte_carlo(trials: int, repeats: int, case: str, threads: tuple[int, ...]) -> dict:
    n, s, a, mu = 100, 10, 1.0, 2.0
    model = _model(case, n)
    simulate_completion("cyclic", model, num_workers=n, num_stragglers=s, trials=10, rng=0)
    names = [f"numba_{t}_thread" for t in threads]
    best = dict.fromkeys([*names, "numpy"], np.inf)
    means = {}
    for rep in range(repeats):
        # interleaved: every repeat measures each kernel setting and the baseline in turn
        for name, th in zip(names, threads, strict=True):
            dt, out = _timed_kernel(model, n, s, trials, rep, th)
            best[name] = min(best[name], dt)
            means[name] = (out.mean_s, out.std_err_s)
        dt, ref = _timed_numpy(model, n, s, trials, 100 + rep)
        best["numpy"] = min(best["numpy"], dt)
        means["numpy"] = (float(ref.mean()), float(ref.std(ddof=1) / np.sqrt(trials)))
    return {
        "workers": CASES[case],
        "n": n,
        "s": s,
        "trials": trials,
        "repeats": repeats,
        "numba_threads": list(threads),
        "best_time_s": best,
        "ratio_numpy_over_numba": {
            f"{th}_thread": best["numpy"] / best[name]
            for name, th in zip(names, threads, strict=True)
        },
        "mean_s": {k: v[0] for k, v in means.items()},
        "std_err_s": {k: v[1] for k, v in means.items()},
        "closed_form_s": gc_expected_time(n, s, shift_s=a, rate_per_s=mu)
        if case == "iid"
        else None,
    }


def bench_scaling(sizes, trial_counts, repeats: int) -> list[dict]:
    rows = []
    grid = [(n, trial_counts[-2] if len(trial_counts) > 1 else trial_counts[0]) for n in sizes]
    grid += [(100, t) for t in trial_counts if (100, t) not in grid]
    for n, trials in grid:
        s = n // 10
        model = _model("shifts", n)
        simulate_completion("cyclic", model, num_workers=n, num_stragglers=s, trials=10, rng=0)
        kern, base = np.inf, np.inf
        for rep in range(repeats):
            kern = min(kern, _timed_kernel(model, n, s, trials, rep, 1)[0])
            base = min(base, _timed_numpy(model, n, s, trials, 100 + rep)[0])
        rows.append(
            {
                "n": n,
                "s": s,
                "trials": trials,
                "numba_threads": 1,
                "numba_s": kern,
                "numpy_s": base,
                "ratio_numpy_over_numba": base / kern,
            }
        )
    return rows


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
    threads = (1, min(2, numba.config.NUMBA_NUM_THREADS))
    t_start = time.perf_counter()
    report = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numba_threads_available": numba.config.NUMBA_NUM_THREADS,
        "decode": [bench_decode(n, sets, seed=n) for n in sizes],
        "monte_carlo": [
            bench_monte_carlo(trials, 1 if args.quick else args.repeats, case, threads)
            for case in CASES
        ],
        "scaling": bench_scaling(
            (50, 100) if args.quick else (50, 100, 200, 400),
            (10_000,) if args.quick else (10_000, 200_000, 1_000_000),
            1 if args.quick else 2,
        ),
    }
    report["total_time_s"] = time.perf_counter() - t_start
    for row in report["decode"]:
        e, b = row["edgeopt"], row["tandon_random_lstsq"]
        print(
            f"decode n={row['n']:3d} s={row['s']:2d}: edgeopt {e['median_decode_s'] * 1e3:.3f} ms"
            f" (worst residual {e['worst_residual']:.1e}); random+lstsq "
            f"{b['median_decode_s'] * 1e3:.3f} ms (worst residual {b['worst_residual']:.1e})"
        )
    for mc in report["monte_carlo"]:
        times = ", ".join(f"{k} {v:.3f} s" for k, v in mc["best_time_s"].items())
        ratios = ", ".join(f"{k} {v:.2f}x" for k, v in mc["ratio_numpy_over_numba"].items())
        print(
            f"Monte Carlo n=100 ({mc['workers']}), {mc['trials']} trials: {times}; "
            f"ratio {ratios}; means {mc['mean_s']}, closed form {mc['closed_form_s']}"
        )
    for row in report["scaling"]:
        print(
            f"scaling n={row['n']:3d} trials={row['trials']:8d}: numba {row['numba_s']:.3f} s,"
            f" numpy {row['numpy_s']:.3f} s, ratio {row['ratio_numpy_over_numba']:.2f}x"
        )
    print(f"total {report['total_time_s']:.0f} s")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
