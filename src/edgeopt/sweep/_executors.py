"""The executors of a sweep behind one seam: serial, process pool, Dask.

The driver hands a backend batches of points, ``(index, params, repeat)``, with the root
seed and the common-random-number parameter names; a worker runs :func:`run_batch` on a
batch and sends back one ``(index, status, outputs_json, error, elapsed_s)`` record per
point.  Seeds are derived inside the worker from the root seed, the point (without its
common-random-number parameters) and the repeat index only, so every backend computes
bit-identical results.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import math
import multiprocessing
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeopt._validation import invalid_config
from edgeopt.sweep._grid import RESERVED_COLUMNS, point_seed

Item = tuple[int, dict[str, Any], int]
Record = tuple[int, str, str | None, str | None, float]

EXECUTOR_CHOICES = ("serial", "processes", "dask", "tcp://HOST:PORT")
_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+)(:\d{1,5})?$")

#: Seconds to wait for a Dask scheduler to answer (override: EDGEOPT_DASK_TIMEOUT).
DEFAULT_CONNECT_TIMEOUT_S = 10.0


def _plain(value: Any, where: str) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v, where) for k, v in value.items()}
    raise TypeError(
        f"output {where!r} has type {type(value).__name__}: expected a number, string, bool, "
        "None, or a list/dict/array of those"
    )


def encode_outputs(result: Any, params: Mapping[str, Any]) -> str:
    """Check a point function's return value and encode it as JSON (NaN allowed)."""
    if not isinstance(result, Mapping):
        raise TypeError(
            f"the point function returned {type(result).__name__}: expected a dict of outputs"
        )
    outputs = {}
    for key, value in result.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"output name {key!r}: expected a non-empty string")
        if key in params or key in RESERVED_COLUMNS:
            raise ValueError(
                f"output name {key!r} clashes with a parameter or a reserved column "
                f"({', '.join(sorted(RESERVED_COLUMNS))})"
            )
        outputs[key] = _plain(value, key)
    return json.dumps(outputs, separators=(",", ":"))


def run_batch(
    func: Callable[[dict[str, Any], np.random.Generator], Any],
    seed: int,
    items: Sequence[Item],
    common_random_numbers: tuple[str, ...] = (),
) -> list[Record]:
    """Compute a batch of points (runs in a worker); never raises for a failing point."""
    records: list[Record] = []
    for index, params, repeat in items:
        start = time.perf_counter()
        try:
            sseq = point_seed(seed, params, repeat, common_random_numbers=common_random_numbers)
            rng = np.random.default_rng(sseq)
            result = func(dict(params), rng)
            encoded = encode_outputs(result, params)
        except Exception:
            records.append(
                (index, "error", None, traceback.format_exc(), time.perf_counter() - start)
            )
        else:
            records.append((index, "ok", encoded, None, time.perf_counter() - start))
    return records


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed ``executor`` argument (see :func:`parse_executor`).

    Parameters
    ----------
    kind : str
        ``"serial"``, ``"processes"``, ``"dask"`` (a local cluster) or ``"address"`` (an
        existing Dask scheduler).
    address : str or None
        The scheduler address (``tcp://HOST:PORT``) when ``kind`` is ``"address"``.

    Examples
    --------
    >>> from edgeopt.sweep import ExecutorSpec
    >>> ExecutorSpec("address", "tcp://10.0.0.5:8786").label
    'tcp://10.0.0.5:8786'
    """

    kind: str
    address: str | None = None

    @property
    def label(self) -> str:
        """The executor as a user writes it: its kind, or the scheduler address."""
        return self.address if self.address else self.kind


def parse_executor(executor: Any) -> ExecutorSpec:
    """Check an ``executor`` argument (no side effect: nothing starts, nothing connects).

    Parameters
    ----------
    executor : str
        ``"serial"``, ``"processes"``, ``"dask"`` or ``"tcp://HOST:PORT"``.

    Returns
    -------
    ExecutorSpec

    Raises
    ------
    ConfigError
        Naming the value and the accepted forms.

    Examples
    --------
    >>> from edgeopt.sweep import parse_executor
    >>> parse_executor("tcp://10.0.0.5:8786").kind
    'address'
    >>> parse_executor("threads")
    Traceback (most recent call last):
    ...
    edgeopt.errors.ConfigError: executor='threads' is invalid: expected one of serial, \
processes, dask, tcp://HOST:PORT
    """
    if isinstance(executor, str):
        if executor in ("serial", "processes", "dask"):
            return ExecutorSpec(executor)
        if _ADDRESS.match(executor):
            return ExecutorSpec("address", executor)
    raise invalid_config(None, "executor", executor, "one of " + ", ".join(EXECUTOR_CHOICES))


def cpu_count() -> int:
    """The CPU cores this process may use: the number of workers of ``executor="processes"``.

    On Linux the cores of the process's affinity mask (what a batch scheduler or ``taskset``
    grants), elsewhere every core of the machine.  A Dask ``LocalCluster`` started by
    ``executor="dask"`` also has this many single-threaded workers.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> from edgeopt.sweep import cpu_count
    >>> cpu_count() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Backend:
    """Interface of an executor: submit batches, wait for any, fetch records."""

    #: Wall time a batch should take when batch sizes are chosen automatically.
    target_task_s = 0.1

    def workers(self) -> int:
        raise NotImplementedError

    def submit(self, func: Any, seed: int, items: list[Item], crn: tuple[str, ...]) -> Any:
        """Start ``run_batch(func, seed, items, crn)``; return a handle for :meth:`wait`."""
        raise NotImplementedError

    def wait(self, handles: list[Any]) -> list[Any]:
        raise NotImplementedError

    def result(self, handle: Any) -> list[Record]:
        raise NotImplementedError

    def recover(self) -> None:
        """Called after a task failed as a whole (e.g. a dead worker process)."""

    def close(self) -> None:
        pass


class SerialBackend(Backend):
    """Runs each batch in the driver process as it is submitted."""

    def workers(self) -> int:
        return 1

    def submit(self, func: Any, seed: int, items: list[Item], crn: tuple[str, ...]) -> Any:
        fut: cf.Future[list[Record]] = cf.Future()
        fut.set_result(run_batch(func, seed, items, crn))
        return fut

    def wait(self, handles: list[Any]) -> list[Any]:
        return list(handles)

    def result(self, handle: Any) -> list[Record]:
        return handle.result()  # type: ignore[no-any-return]


#: Thread-pool variables set to 1 in each pool worker (unless already set), as Dask's
#: nanny does: one single-threaded worker per core, no oversubscription.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def _init_worker(driver_pid: int) -> None:
    """Worker initializer: one thread per worker; exit when the driver process is gone."""
    import threading

    for var in THREAD_VARS:
        os.environ.setdefault(var, "1")

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(driver_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # pragma: no cover - pid reused by another user
                os._exit(1)

    threading.Thread(target=watch, name="edgeopt-driver-watch", daemon=True).start()


def _ping() -> int:
    return os.getpid()


@contextlib.contextmanager
def _main_without_fake_file() -> Iterator[None]:
    """Prepare the driver for starting ``spawn`` workers (used around every pool call).

    * The thread-pool variables of :data:`THREAD_VARS` are set to 1 (where the user has not
      set them) while workers may start: a spawned worker loads NumPy's OpenBLAS while it
      unpickles its initializer, before the initializer runs, so only the environment it
      inherits can limit that pool.  The driver's own value is restored afterwards (its
      libraries are loaded already and do not read the variables again).
    * A ``__main__.__file__`` that is not a file (``python - < script``, ``-c``...) is
      hidden: a ``spawn`` worker re-imports the main module from that path and cannot
      start when it is ``<stdin>``.  Nothing defined in such a main module could be sent
      to a worker anyway, so hiding it loses nothing.
    """
    added = [var for var in THREAD_VARS if var not in os.environ]
    for var in added:
        os.environ[var] = "1"
    try:
        with _hide_fake_main_file():
            yield
    finally:
        for var in added:
            os.environ.pop(var, None)


@contextlib.contextmanager
def _hide_fake_main_file() -> Iterator[None]:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    fake = (
        main is not None
        and getattr(main, "__spec__", None) is None
        and isinstance(path, str)
        and not os.path.isfile(path)
    )
    if not fake:
        yield
        return
    del main.__file__  # type: ignore[union-attr]
    try:
        yield
    finally:
        main.__file__ = path  # type: ignore[union-attr]


class ProcessBackend(Backend):
    """A standard-library process pool using the ``spawn`` start method.

    ``spawn`` gives each worker a fresh interpreter (no inherited Numba, OpenMP or torch
    threads, no copied locks); each worker exits on its own if the driver dies.  The pool
    is checked with a no-op task when it starts, so a pool whose workers cannot start (a
    script that runs its sweep at import time without ``if __name__ == "__main__":``)
    is an error before any point runs.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self._n = max_workers or cpu_count()
        self._ctx = multiprocessing.get_context("spawn")
        self._pool = self._new_pool()
        try:
            with _main_without_fake_file():
                self._pool.submit(_ping).result()
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            raise invalid_config(
                None,
                "executor",
                "processes",
                "worker processes that can start, but they could not: a script that starts a "
                'sweep must do so under `if __name__ == "__main__":` (each worker imports '
                "the script again), or use executor='serial' (a worker that fails for another "
                "reason prints its error above)",
            ) from None

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self._n,
            mp_context=self._ctx,
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )

    def workers(self) -> int:
        return self._n

    def submit(self, func: Any, seed: int, items: list[Item], crn: tuple[str, ...]) -> Any:
        with _main_without_fake_file():
            return self._pool.submit(run_batch, func, seed, items, crn)

    def wait(self, handles: list[Any]) -> list[Any]:
        done, _ = cf.wait(handles, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def result(self, handle: Any) -> list[Record]:
        return handle.result()  # type: ignore[no-any-return]

    def recover(self) -> None:
        if getattr(self._pool, "_broken", False):
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend(Backend):
    """A Dask client: a ``LocalCluster`` started for the run, or an existing scheduler."""

    target_task_s = 0.5

    def __init__(self, address: str | None) -> None:
        import logging

        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is an optional extra
            raise invalid_config(
                None,
                "executor",
                address or "dask",
                "serial or processes, or the 'dask' extra for a Dask executor: "
                "pip install 'edgeopt[dask]'",
            ) from exc
        self._cluster = None
        timeout = connect_timeout()
        if address is None:
            n = cpu_count()
            self._cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)
        else:
            probe(address, timeout)
            try:
                self._client = Client(address, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise invalid_config(
                    None,
                    "executor",
                    address,
                    f"the address of a running Dask scheduler, but it is unreachable: none "
                    f"answered within {timeout:g} s ({type(exc).__name__}: {exc}); start one "
                    "with `dask scheduler` and `dask worker ADDRESS`",
                ) from exc
        self._n_cache = (0.0, 1)

    def workers(self) -> int:
        now = time.monotonic()
        if now - self._n_cache[0] > 2.0:
            n = sum(self._client.nthreads().values())
            self._n_cache = (now, max(1, n))
        return self._n_cache[1]

    def submit(self, func: Any, seed: int, items: list[Item], crn: tuple[str, ...]) -> Any:
        return self._client.submit(run_batch, func, seed, items, crn, pure=False)

    def wait(self, handles: list[Any]) -> list[Any]:
        from distributed import wait

        done, _ = wait(handles, return_when="FIRST_COMPLETED")
        return list(done)

    def result(self, handle: Any) -> list[Record]:
        records = handle.result()
        handle.release()
        return records  # type: ignore[no-any-return]

    def close(self) -> None:
        try:
            self._client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()


def connect_timeout() -> float:
    """Seconds to wait for a Dask scheduler (``EDGEOPT_DASK_TIMEOUT``, default 10).

    Returns
    -------
    float
        The environment variable's value when it is a positive number, else 10 s.

    Raises
    ------
    ConfigError
        If ``EDGEOPT_DASK_TIMEOUT`` is set but is not a number.

    Examples
    --------
    >>> from edgeopt.sweep import connect_timeout
    >>> connect_timeout() > 0
    True
    """
    text = os.environ.get("EDGEOPT_DASK_TIMEOUT", "")
    try:
        value = float(text) if text else DEFAULT_CONNECT_TIMEOUT_S
    except ValueError:
        raise invalid_config(None, "EDGEOPT_DASK_TIMEOUT", text, "a number of seconds") from None
    return value if value > 0 else DEFAULT_CONNECT_TIMEOUT_S


def probe(address: str, timeout: float) -> None:
    """Fail fast (and clearly) when nothing listens at a scheduler address.

    Opens and closes one TCP connection; nothing is sent.

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` or ``tls://HOST:PORT`` (port 8786 when omitted), as accepted
        by :func:`parse_executor`.
    timeout : float
        Seconds to wait for the connection (see :func:`connect_timeout`).

    Raises
    ------
    ConfigError
        If no connection can be opened: the message names the address and says how to
        start a scheduler.

    Examples
    --------
    >>> import socket
    >>> from edgeopt.sweep import probe
    >>> with socket.socket() as server:
    ...     server.bind(("127.0.0.1", 0)); server.listen()
    ...     probe(f"tcp://127.0.0.1:{server.getsockname()[1]}", timeout=2.0)
    """
    import socket

    match = _ADDRESS.match(address)
    assert match is not None
    host = match.group(2).strip("[]")
    port = int(match.group(3)[1:]) if match.group(3) else 8786
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise invalid_config(
            None,
            "executor",
            address,
            f"the address of a running Dask scheduler, but it is unreachable: cannot open a "
            f"connection to {host} port {port} ({exc}); start a scheduler with "
            "`dask scheduler` and workers with `dask worker ADDRESS`",
        ) from exc


def make_backend(spec: ExecutorSpec) -> Backend:
    """Start the executor described by ``spec`` (may raise a ConfigError)."""
    if spec.kind == "serial":
        return SerialBackend()
    if spec.kind == "processes":
        return ProcessBackend()
    return DaskBackend(spec.address)


class Batcher:
    """Chooses how many points go in the next task.

    A fixed ``batch_size`` is used as is.  Otherwise the first tasks hold one point; then
    the size aims at ``target_task_s`` of work per task, using a running mean of the
    measured time per point, and never exceeds a share of the remaining points that keeps
    every worker busy (``remaining / (2 * workers)``).
    """

    def __init__(self, batch_size: int | None, target_task_s: float) -> None:
        self.fixed = batch_size
        self.target = target_task_s
        self.total_s = 0.0
        self.count = 0

    def observe(self, elapsed_s: float) -> None:
        self.total_s += elapsed_s
        self.count += 1

    def next_size(self, remaining: int, workers: int) -> int:
        if self.fixed is not None:
            return max(1, min(self.fixed, remaining))
        if self.count == 0:
            return 1
        mean = max(self.total_s / self.count, 1e-6)
        size = int(self.target / mean)
        share = math.ceil(remaining / (2 * workers))
        return max(1, min(size, share, 10_000, remaining))
