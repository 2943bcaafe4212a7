"""Dask executors: a LocalCluster, and a real scheduler with two `dask worker` processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from edgeopt.errors import InvalidInputError
from edgeopt.sweep import run_sweep
from edgeopt.sweep._testing import toy_point

GRID = {"a": list(range(12)), ("b", "c"): [(0.5, "x"), (1.5, "y")]}


def _reference(grid=GRID, repeats=2):
    return run_sweep(toy_point, grid, seed=21, repeats=repeats, executor="serial", progress=False)


def test_import_sweep_does_not_import_dask():
    code = (
        "import sys, edgeopt.sweep\n"
        "print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_local_cluster_gives_the_serial_table():
    table = run_sweep(toy_point, GRID, seed=21, repeats=2, executor="dask", progress=False)
    pd.testing.assert_frame_equal(table, _reference(), check_exact=True)


def _dask_cli() -> list[str]:
    exe = Path(sys.executable).parent / "dask"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dask"]


class _Cluster:
    """`dask scheduler` and two `dask worker --no-nanny` processes on 127.0.0.1."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs = []

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.logs.append(log)
        self.procs[name] = subprocess.Popen(
            _dask_cli() + args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self) -> str:
        sched_file = self.folder / "scheduler.json"
        self._spawn(
            "scheduler",
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched_file),
            ],
        )
        deadline = time.monotonic() + 60
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start"
            assert self.procs["scheduler"].poll() is None, "the scheduler exited"
            time.sleep(0.1)
        self.address = json.loads(sched_file.read_text())["address"]
        for name in ("worker-a", "worker-b"):
            self._spawn(
                name,
                [
                    "worker",
                    self.address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--name",
                    name,
                ],
            )
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        return self.address

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = _Cluster(tmp_path_factory.mktemp("dask"))
    try:
        c.start()
        yield c
    finally:
        c.stop()


@pytest.mark.slow
def test_real_scheduler_with_two_workers_gives_the_serial_table(cluster):
    table = run_sweep(
        toy_point, GRID, seed=21, repeats=2, executor=cluster.address, batch_size=2, progress=False
    )
    pd.testing.assert_frame_equal(table, _reference(), check_exact=True)
    assert table.attrs["sweep"]["executor"] == cluster.address
    # Dask sends a lambda by value (cloudpickle), where a process pool refuses it
    offset = 100
    lam = run_sweep(
        lambda p, rng: {"v": p["a"] + offset}, {"a": [1, 2]}, seed=0, executor=cluster.address
    )
    assert lam["v"].tolist() == [101, 102]


def test_a_function_dask_cannot_send_is_refused_before_any_worker_starts(tmp_path, monkeypatch):
    import edgeopt.sweep._core as core

    def no_backend(spec):
        raise AssertionError("an executor was started")

    monkeypatch.setattr(core, "make_backend", no_backend)
    lock = threading.Lock()

    def locked(params, rng):
        with lock:
            return {"v": 1}

    store = tmp_path / "s.sqlite"
    with pytest.raises(InvalidInputError, match="can be sent to Dask workers.*executor='serial'"):
        run_sweep(locked, {"a": [1]}, seed=0, executor="dask", store=store, progress=False)
    assert not store.exists()


@pytest.mark.slow
def test_killing_one_worker_mid_sweep_still_completes_every_point(cluster, tmp_path):
    grid = {"a": list(range(40)), "sleep_s": [0.05]}
    store = tmp_path / "s.sqlite"
    killed = threading.Event()

    def killer():
        import sqlite3

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
                n = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
                conn.close()
            except sqlite3.Error:
                n = 0
            if n >= 10:
                cluster.kill("worker-a")
                killed.set()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        table = run_sweep(
            toy_point,
            grid,
            seed=21,
            executor=cluster.address,
            store=store,
            batch_size=2,
            progress=False,
        )
    finally:
        thread.join()
    assert killed.is_set(), "worker-a was not killed during the sweep"
    assert cluster.procs["worker-a"].returncode == -signal.SIGKILL
    assert table.attrs["sweep"]["failures"] == 0 and table["error"].isna().all()
    pd.testing.assert_frame_equal(table, _reference(grid, repeats=1), check_exact=True)
