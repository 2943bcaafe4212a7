"""``run_sweep``: the driver loop tying grid, executor, store and progress together."""

from __future__ import annotations

import collections
import json
import os
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeopt._validation import check_bool, check_int, invalid_config, invalid_input, invalid_inputs
from edgeopt.errors import InvalidInputError
from edgeopt.sweep._executors import Batcher, connect_timeout, make_backend, parse_executor, probe
from edgeopt.sweep._grid import (
    canonical_json,
    check_common_random_numbers,
    code_version,
    expand_grid,
    point_key,
)
from edgeopt.sweep._progress import Progress
from edgeopt.sweep._spawn import check_sendable, in_worker_bootstrap
from edgeopt.sweep._store import ResultStore

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["run_sweep"]

PointFunc = Callable[[dict[str, Any], np.random.Generator], Mapping[str, Any]]


def _peek_store(path: Path, keys: set[str]) -> dict[str, tuple[str, str | None, str | None]]:
    """Stored results of ``keys`` in an existing store, read without writing anything."""
    if not path.exists():
        return {}
    ResultStore.check_usable(path)
    uri = path.resolve().as_uri()
    for mode in ("ro", "rw"):  # a read-only open can fail on a WAL left by a killed driver
        try:
            conn = sqlite3.connect(f"{uri}?mode={mode}", uri=True, timeout=60.0)
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
                if "results" not in tables:
                    return {}
                found = {}
                for key, status, outputs, error in conn.execute(
                    "SELECT key, status, outputs, error FROM results"
                ):
                    if key in keys:
                        found[key] = (status, outputs, error)
                return found
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            if mode == "rw":
                raise invalid_config(
                    None, "store", str(path), f"a readable sweep store ({exc})"
                ) from exc
    return {}  # pragma: no cover


def _build_table(
    points: list[dict[str, Any]],
    repeats: int,
    results: dict[int, tuple[str, str | None, str | None]],
) -> pd.DataFrame:
    import pandas as pd

    param_cols: list[str] = []
    for p in points:
        for name in p:
            if name not in param_cols:
                param_cols.append(name)
    out_cols: dict[str, None] = {}
    rows = []
    index = 0
    for p in points:
        for r in range(repeats):
            status, outputs, error = results[index]
            row: dict[str, Any] = dict(p)
            row["repeat"] = r
            if outputs is not None:
                values = json.loads(outputs)
                for name in values:
                    out_cols.setdefault(name, None)
                row.update(values)
            row["error"] = error if status == "error" else None
            rows.append(row)
            index += 1
    columns = [*param_cols, "repeat", *out_cols, "error"]
    return pd.DataFrame(rows, columns=columns)


def run_sweep(
    func: PointFunc,
    grid: Mapping[Any, Any],
    *,
    seed: int,
    repeats: int = 1,
    executor: str = "processes",
    store: str | os.PathLike[str] | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    force: bool = False,
    common_random_numbers: Sequence[str] = (),
) -> pd.DataFrame:
    """Run ``func`` on every point of ``grid``, ``repeats`` times, and collect a table.

    Every (point, repeat) gets its own random generator seeded by
    :func:`~edgeopt.sweep.point_seed` ``(seed, point, repeat, common_random_numbers=...)``,
    so the table does not depend on the executor, the number of workers, the batch size,
    the completion order or the other points of the grid.

    Parameters
    ----------
    func : callable ``(params: dict, rng: numpy.random.Generator) -> dict``
        Computes one point; returns a flat dict of outputs (numbers, strings, bools, None;
        NumPy scalars and arrays are converted).  It must use only ``rng`` for randomness.
        For ``"processes"`` a worker process must be able to import it: a function defined
        at the top level of a module, or of a script that starts its sweep under
        ``if __name__ == "__main__":`` (not a lambda, a local function, or a function
        typed into ``python -c``, ``python -`` or a notebook).
    grid : dict
        Parameter name to list of values (crossed); a tuple of names to a list of tuples
        (zipped).  See :func:`~edgeopt.sweep.expand_grid`.
    seed : int >= 0
        Root seed.
    repeats : int >= 1
        Monte Carlo repeats per point.
    executor : str
        ``"serial"`` (in this process), ``"processes"`` (a process pool with one worker per
        core, the default), ``"dask"`` (a Dask ``LocalCluster`` started for the run and
        closed after) or ``"tcp://HOST:PORT"`` (an existing Dask scheduler).
    store : str or path-like, optional
        SQLite file for the results.  Each finished point is committed at once; running
        the same sweep again skips the points already stored successfully (resume) and
        recomputes the failed ones.  Without a store, results live in memory only.
    batch_size : int >= 1, optional
        Points per task.  Default: adaptive, aiming at about 0.1 s (process pool) or 0.5 s
        (Dask) of work per task while keeping every worker busy.  Results are stored point
        by point whatever the batch size.
    progress : bool
        Show a progress line (done/total, failures, ETA) on stderr when it is a terminal.
    force : bool
        Recompute every point even if stored (the stored rows are replaced).
    common_random_numbers : sequence of str, optional
        Grid parameters left out of each point's seed (*common random numbers*): points
        that differ only in these parameters (the scheme being compared, say) get the same
        generator, on every executor, so a comparison between them is not mixed with seed
        noise.  Each point still has its own row and store entry, and the store keys
        include these names, so changing them never reuses results drawn with other
        seeds.  Default: none (every point has its own stream).

    Returns
    -------
    pandas.DataFrame
        One row per (point, repeat), in grid order then repeat order: the parameter
        columns, ``repeat``, one column per output, and ``error`` (None, or the traceback
        of a point that raised).  ``table.attrs["sweep"]`` holds a summary: ``points``,
        ``failures``, ``computed``, ``reused``, ``wall_time_s``, ``executor``, ``seed``,
        ``repeats``, ``common_random_numbers``, ``code_version`` and ``store``.

    Raises
    ------
    InvalidInputError
        Bad arguments (``ConfigError``, a subclass, for a bad grid, executor or store, or
        an unreachable Dask scheduler), and a ``func`` that the executor's workers cannot
        receive.  All these checks happen before any point is computed and before the
        store is created or written.  A point that raises does *not* make ``run_sweep``
        raise: it is recorded in the ``error`` column (and the store).  But when *every*
        point failed, no table is returned: the error names the first failure (its
        traceback is attached as a note; every traceback is in the store).

    Examples
    --------
    >>> from edgeopt.sweep import run_sweep
    >>> from edgeopt.sweep.demo import rayleigh_outage
    >>> table = run_sweep(rayleigh_outage, {"snr_db": [0, 10], "rate_bps_hz": [1.0]},
    ...                   seed=7, repeats=2, executor="serial", progress=False)
    >>> table[["snr_db", "repeat", "outage_exact"]].round(3)
       snr_db  repeat  outage_exact
    0       0       0         0.632
    1       0       1         0.632
    2      10       0         0.095
    3      10       1         0.095
    >>> int(table.attrs["sweep"]["failures"])
    0

    With common random numbers over ``rate_bps_hz``, both rates are computed on the same
    channel draws: the generator of the point without ``rate_bps_hz``:

    >>> import numpy as np
    >>> from edgeopt.sweep import point_seed
    >>> crn = run_sweep(rayleigh_outage, {"snr_db": [0], "rate_bps_hz": [1.0, 1.5]},
    ...                 seed=7, executor="serial", progress=False,
    ...                 common_random_numbers=("rate_bps_hz",))
    >>> rng = np.random.default_rng(point_seed(7, {"snr_db": 0}))
    >>> by_hand = rayleigh_outage({"snr_db": 0, "rate_bps_hz": 1.5}, rng)["outage"]
    >>> bool(crn["outage"].iloc[1] == by_hand)
    True
    """
    if in_worker_bootstrap():
        # A process-pool worker importing a script that starts its sweep at import time (no
        # `if __name__ == "__main__":`): leave quietly; the driver reports the missing guard.
        raise SystemExit(1)
    wall_start = time.perf_counter()
    if not callable(func):
        raise invalid_input("func", func, "a callable")
    seed = check_int(seed, "seed", min_value=0)
    repeats = check_int(repeats, "repeats", min_value=1)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", min_value=1)
    progress = check_bool(progress, "progress")
    force = check_bool(force, "force")
    crn = check_common_random_numbers(common_random_numbers)
    spec = parse_executor(executor)
    points = expand_grid(grid)
    names = {n for p in points for n in p}
    unknown = [n for n in crn if n not in names]
    if unknown:
        raise invalid_input(
            "common_random_numbers",
            crn,
            f"names of grid parameters (not {', '.join(map(repr, unknown))}; the grid has "
            f"{', '.join(map(repr, sorted(names))) or 'no parameter'})",
        )
    if spec.address is not None:
        probe(spec.address, connect_timeout())  # even when every point is already stored
    store_path: Path | None = None
    if store is not None:
        if not isinstance(store, str | os.PathLike) or not str(store):
            raise invalid_config(None, "store", store, "a file path")
        store_path = Path(store)
        ResultStore.check_usable(store_path)
    check_sendable(func, spec.kind)

    code = code_version(func)
    jobs: list[tuple[dict[str, Any], int, str, str]] = []
    for p in points:
        params_json = canonical_json(p)
        for r in range(repeats):
            jobs.append((p, r, point_key(code, seed, p, r, crn), params_json))

    results: dict[int, tuple[str, str | None, str | None]] = {}
    if store_path is not None and not force:
        stored = _peek_store(store_path, {key for _, _, key, _ in jobs})
        for i, (_, _, key, _) in enumerate(jobs):
            if key in stored and stored[key][0] == "ok":
                results[i] = stored[key]
    reused = len(results)
    pending = collections.deque(i for i in range(len(jobs)) if i not in results)

    backend = make_backend(spec) if pending else None  # may fail: store still untouched
    db: ResultStore | None = None
    bar = Progress(len(jobs), done=reused, enabled=progress)
    try:
        if store_path is not None:
            db = ResultStore(store_path)
        if backend is not None:
            _drive(backend, func, seed, crn, jobs, pending, results, db, bar, batch_size, code)
    finally:
        bar.close()
        if backend is not None:
            backend.close()
        if db is not None:
            db.close()

    table = _build_table(points, repeats, results)
    failures = sum(1 for status, _, _ in results.values() if status == "error")
    if failures == len(jobs):
        raise _all_failed(func, jobs, results, store_path)
    table.attrs["sweep"] = {
        "points": len(jobs),
        "failures": failures,
        "computed": len(jobs) - reused,
        "reused": reused,
        "wall_time_s": time.perf_counter() - wall_start,
        "executor": spec.label,
        "seed": seed,
        "repeats": repeats,
        "common_random_numbers": list(crn),
        "code_version": code,
        "store": None if store_path is None else str(store_path),
    }
    return table


def _all_failed(
    func: PointFunc,
    jobs: list[tuple[dict[str, Any], int, str, str]],
    results: dict[int, tuple[str, str | None, str | None]],
    store_path: Path | None,
) -> InvalidInputError:
    """The error of a sweep in which every point failed (the first traceback as a note)."""
    params, repeat, _, _ = jobs[0]
    text = (results[0][2] or "").strip()
    last = text.splitlines()[-1] if text else "an unknown error"
    name = f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', repr(func))}"
    kept = f"; every traceback is in the store {str(store_path)!r}" if store_path else ""
    error = invalid_inputs(
        f"func={name}, grid",
        f"a point function that computes at least one point of the grid: all {len(jobs)} "
        f"point(s) failed, the first ({params}, repeat {repeat}) with {last}{kept}",
    )
    if text:
        error.add_note(f"The traceback of the first point:\n{text}")
    return error


def _drive(
    backend: Any,
    func: PointFunc,
    seed: int,
    crn: tuple[str, ...],
    jobs: list[tuple[dict[str, Any], int, str, str]],
    pending: collections.deque[int],
    results: dict[int, tuple[str, str | None, str | None]],
    db: ResultStore | None,
    bar: Progress,
    batch_size: int | None,
    code: str,
) -> None:
    """Keep every worker busy, store each finished point as it comes back."""
    batcher = Batcher(batch_size, backend.target_task_s)
    inflight: dict[Any, list[int]] = {}
    # Points that were in flight when a worker process died: each is then run alone, so a
    # point that kills its worker is identified and fails without taking others with it.
    suspects: collections.deque[int] = collections.deque()
    alone: set[Any] = set()

    def record(index: int, status: str, outputs: str | None, error: str | None, el: float) -> None:
        params, repeat, key, params_json = jobs[index]
        if db is not None:
            db.put(
                key,
                code=code,
                seed=seed,
                params_json=params_json,
                repeat=repeat,
                status=status,
                outputs_json=outputs,
                error=error,
                elapsed_s=el,
            )
        results[index] = (status, outputs, error)
        bar.update(1, failed=int(status == "error"))

    while pending or inflight or suspects:
        if suspects:
            if not inflight:
                i = suspects.popleft()
                handle = backend.submit(func, seed, [(i, jobs[i][0], jobs[i][1])], crn)
                inflight[handle] = [i]
                alone.add(handle)
        else:
            while pending and len(inflight) < 2 * backend.workers():
                size = batcher.next_size(len(pending), backend.workers())
                batch = [pending.popleft() for _ in range(size)]
                items = [(i, jobs[i][0], jobs[i][1]) for i in batch]
                inflight[backend.submit(func, seed, items, crn)] = batch
        for handle in backend.wait(list(inflight)):
            batch = inflight.pop(handle)
            try:
                records = backend.result(handle)
            except BrokenProcessPool as exc:
                backend.recover()
                if handle in alone:
                    text = f"the worker process died while computing this point alone: {exc!r}"
                    record(batch[0], "error", None, text, 0.0)
                else:
                    suspects.extend(batch)
                alone.discard(handle)
                continue
            except Exception as exc:  # e.g. distributed.KilledWorker, unpicklable result
                text = f"task failed as a whole: {type(exc).__name__}: {exc}"
                for i in batch:
                    record(i, "error", None, text, 0.0)
                alone.discard(handle)
                continue
            alone.discard(handle)
            for index, status, outputs, error, elapsed in records:
                batcher.observe(elapsed)
                record(index, status, outputs, error, elapsed)
