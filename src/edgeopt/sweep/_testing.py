"""Point functions used by the sweep tests and benchmarks (private).

They live in the installed package so that process pools and Dask workers started as
separate programs can import them by name.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def toy_point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Two random draws and a deterministic output; sleeps ``sleep_s``; raises if ``fail``."""
    sleep_s = float(params.get("sleep_s", 0.0))
    if sleep_s > 0:
        time.sleep(sleep_s)
    if params.get("fail"):
        raise ValueError(f"toy failure at a={params.get('a')!r}")
    a = params.get("a", 0)
    return {"u": float(rng.random()), "z": float(rng.normal()), "twice_a": 2 * a}


def busy_point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, float]:
    """CPU-bound: ``loops`` rounds of a small pure-Python/NumPy computation."""
    loops = int(params.get("loops", 1000))
    acc = 0.0
    x = rng.random(64)
    for _ in range(loops):
        x = np.sin(x) * 1.0001 + 0.1
        acc += float(x[0])
    return {"acc": acc}


def trivial_point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, float]:
    """Returns one random number: measures the per-point overhead of an executor."""
    return {"v": float(rng.random())}


def bad_output_point(params: dict[str, Any], rng: np.random.Generator) -> Any:
    """Returns something that is not a dict of outputs (a good dict if ``ok``)."""
    if params.get("ok"):
        return {"v": 1.0}
    return [1, 2, 3]


def crash_point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, float]:
    """Kills its own process when ``crash`` is true (a segfault-like worker death)."""
    import os

    if params.get("crash"):
        os._exit(3)
    return {"v": float(rng.random())}


def blas_threads_point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, int]:
    """The largest thread count of the BLAS/OpenMP pools loaded in this process."""
    from threadpoolctl import threadpool_info

    counts = [int(info["num_threads"]) for info in threadpool_info()]
    return {"threads": max(counts, default=1)}
