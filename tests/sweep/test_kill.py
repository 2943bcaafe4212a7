"""SIGKILL of the driver in the middle of a sweep: resume loses and duplicates nothing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from edgeopt.sweep import read_store, run_sweep
from edgeopt.sweep._testing import toy_point

GRID = {"a": list(range(24)), "sleep_s": [0.04]}
REPEATS = 2
TOTAL = 24 * REPEATS

DRIVER = """
import sys
from edgeopt.sweep import run_sweep
from edgeopt.sweep._testing import toy_point
run_sweep(toy_point, {grid!r}, seed=9, repeats={repeats}, executor=sys.argv[2],
          store=sys.argv[1], batch_size=1, progress=False)
"""


def _count(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_sigkill_of_the_driver_then_resume(tmp_path, executor):
    store = tmp_path / "sweep.sqlite"
    script = DRIVER.format(grid=GRID, repeats=REPEATS)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(store), executor],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _count(store) < 8:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the driver stored nothing in 60 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = read_store(store)
    assert 8 <= len(stored) < TOTAL, "the kill came after the end: nothing was tested"
    assert stored["key"].is_unique and (stored["status"] == "ok").all()
    before = stored.set_index("key")["finished_at"]

    resumed = run_sweep(
        toy_point, GRID, seed=9, repeats=REPEATS, executor="serial", store=store, progress=False
    )
    info = resumed.attrs["sweep"]
    assert (info["reused"], info["computed"], info["failures"]) == (
        len(stored),
        TOTAL - len(stored),
        0,
    )
    after = read_store(store)
    assert len(after) == TOTAL and after["key"].is_unique
    # finished points were kept as they were, not recomputed
    kept = after.set_index("key")["finished_at"].loc[before.index]
    assert (kept == before).all()
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    clean = run_sweep(toy_point, GRID, seed=9, repeats=REPEATS, executor="serial", progress=False)
    pd.testing.assert_frame_equal(resumed, clean, check_exact=True)
