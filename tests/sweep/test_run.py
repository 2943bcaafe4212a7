"""run_sweep: identical results across executors and batch sizes, store, resume, failures."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from edgeopt.errors import ConfigError, InvalidInputError
from edgeopt.sweep import point_seed, read_store, run_sweep, to_csv, to_parquet
from edgeopt.sweep._progress import Progress
from edgeopt.sweep._testing import bad_output_point, crash_point, toy_point
from edgeopt.sweep.demo import rayleigh_outage

GRID = {"a": [1, 2, 3, 4, 5], ("b", "c"): [(0.5, "x"), (1.5, "y")]}


def _serial(grid=GRID, **kw):
    kw.setdefault("seed", 11)
    kw.setdefault("repeats", 2)
    return run_sweep(toy_point, grid, executor="serial", progress=False, **kw)


def test_table_layout_and_values_match_a_hand_computation():
    table = _serial()
    assert list(table.columns) == ["a", "b", "c", "repeat", "u", "z", "twice_a", "error"]
    assert len(table) == 5 * 2 * 2
    assert table["error"].isna().all()
    # every row is func(params, default_rng(point_seed(seed, params, repeat)))
    for row in table.itertuples(index=False):
        params = {"a": row.a, "b": row.b, "c": row.c}
        expected = toy_point(params, np.random.default_rng(point_seed(11, params, row.repeat)))
        assert (row.u, row.z, row.twice_a) == (expected["u"], expected["z"], expected["twice_a"])
    info = table.attrs["sweep"]
    assert (info["points"], info["failures"], info["computed"], info["reused"]) == (20, 0, 20, 0)


def test_processes_and_batch_sizes_give_identical_tables():
    reference = _serial()
    for batch_size in (None, 1, 3, 100):
        table = run_sweep(
            toy_point,
            GRID,
            seed=11,
            repeats=2,
            executor="processes",
            batch_size=batch_size,
            progress=False,
        )
        pd.testing.assert_frame_equal(table, reference, check_exact=True)


def test_results_do_not_depend_on_the_other_points():
    full = _serial().set_index(["a", "b", "c", "repeat"])
    part = _serial({"a": [4, 2], ("b", "c"): [(1.5, "y")]}).set_index(["a", "b", "c", "repeat"])
    pd.testing.assert_frame_equal(part, full.loc[part.index], check_exact=True)


def test_a_failing_point_is_recorded_with_its_traceback_and_the_sweep_goes_on(tmp_path):
    store = tmp_path / "s.sqlite"
    table = run_sweep(
        toy_point,
        {"a": [1, 2, 3], "fail": [False, True]},
        seed=0,
        executor="processes",
        store=store,
        progress=False,
    )
    failed = table[table["error"].notna()]
    assert failed["fail"].tolist() == [True, True, True]
    assert table.attrs["sweep"]["failures"] == 3
    assert all("Traceback" in e and "ValueError: toy failure" in e for e in failed["error"])
    assert failed["u"].isna().all()
    ok = table[table["error"].isna()]
    assert ok["u"].notna().all() and len(ok) == 3
    rows = read_store(store)
    assert sorted(rows["status"]) == ["error"] * 3 + ["ok"] * 3
    assert all("toy failure" in e for e in rows.loc[rows["status"] == "error", "error"])


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_bad_outputs_fail_the_point_not_the_sweep(executor):
    grid = {("a", "ok"): [(1, False), (2, True), (3, False)]}
    table = run_sweep(bad_output_point, grid, seed=0, executor=executor, progress=False)
    assert table["error"].isna().tolist() == [False, True, False]
    assert table["error"].iloc[[0, 2]].str.contains("expected a dict of outputs").all()
    assert table["v"].iloc[1] == 1.0
    with pytest.raises(InvalidInputError, match=r"all 1 point\(s\) failed.*clashes with a param"):
        run_sweep(toy_point, {"u": [1]}, seed=0, executor="serial", progress=False)


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_a_sweep_in_which_every_point_fails_is_an_error(tmp_path, executor):
    store = tmp_path / "s.sqlite"
    grid = {"a": [1, 2], "fail": [True]}
    with pytest.raises(InvalidInputError) as caught:
        run_sweep(
            toy_point, grid, seed=0, repeats=2, executor=executor, store=store, progress=False
        )
    message = str(caught.value)
    assert message.startswith("func=edgeopt.sweep._testing:toy_point, grid are invalid: expected")
    assert "all 4 point(s) failed" in message and "ValueError: toy failure at a=1" in message
    assert repr(str(store)) in message and "\n" not in message
    assert "Traceback" in caught.value.__notes__[0]  # the first point's traceback, as a note
    rows = read_store(store)  # every traceback is kept
    assert rows["status"].tolist() == ["error"] * 4
    assert rows["error"].str.contains("toy failure").all()
    # one point that works is enough for a table
    table = run_sweep(
        toy_point, {"a": [1, 2], "fail": [True, False]}, seed=0, executor=executor, progress=False
    )
    assert table["error"].notna().tolist() == [True, False, True, False]


def test_a_worker_process_that_dies_fails_only_its_point():
    table = run_sweep(
        crash_point,
        {"a": list(range(6)), "crash": [False]},
        seed=0,
        executor="processes",
        batch_size=3,
        progress=False,
    )
    assert table["error"].isna().all()
    grid = {("a", "crash"): [(0, False), (1, False), (2, True), (3, False)]}
    table = run_sweep(crash_point, grid, seed=0, executor="processes", batch_size=4, progress=False)
    assert table["error"].isna().tolist() == [True, True, False, True]
    assert "worker process died while computing this point alone" in table["error"].iloc[2]


def test_resume_skips_stored_points_and_force_recomputes(tmp_path):
    store = tmp_path / "s.sqlite"
    first = _serial({"a": [1, 2, 3]}, store=store)
    before = read_store(store).set_index("key")["finished_at"]
    # a larger grid: the three stored points are reused, only the new ones run
    second = _serial({"a": [1, 2, 3, 4]}, store=store)
    assert (second.attrs["sweep"]["reused"], second.attrs["sweep"]["computed"]) == (6, 2)
    pd.testing.assert_frame_equal(second.iloc[:6], first, check_exact=True)
    after = read_store(store).set_index("key")["finished_at"]
    assert (after.loc[before.index] == before).all()
    assert len(after) == 8
    forced = _serial({"a": [1, 2, 3, 4]}, store=store, force=True)
    assert forced.attrs["sweep"]["computed"] == 8
    pd.testing.assert_frame_equal(forced, second, check_exact=True)
    final = read_store(store).set_index("key")["finished_at"]
    assert len(final) == 8 and (final.loc[before.index] > before).all()


def test_resume_retries_failed_points(tmp_path):
    store = tmp_path / "s.sqlite"
    run_sweep(
        toy_point,
        {"a": [1], "fail": [True, False]},
        seed=0,
        executor="serial",
        store=store,
        progress=False,
    )
    again = run_sweep(
        toy_point,
        {"a": [1], "fail": [True, False]},
        seed=0,
        executor="serial",
        store=store,
        progress=False,
    )
    assert (again.attrs["sweep"]["reused"], again.attrs["sweep"]["computed"]) == (1, 1)
    assert len(read_store(store)) == 2


def test_store_is_wal_sqlite_and_keys_change_with_seed(tmp_path):
    store = tmp_path / "s.sqlite"
    _serial({"a": [1]}, store=store)
    _serial({"a": [1]}, store=store, seed=12)
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = read_store(store)
    assert len(rows) == 4 and sorted(set(rows["seed"])) == [11, 12]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"seed": -1}, InvalidInputError, "seed"),
        ({"seed": 1.5}, InvalidInputError, "seed"),
        ({"repeats": 0}, InvalidInputError, "repeats"),
        ({"batch_size": 0}, InvalidInputError, "batch_size"),
        ({"executor": "threads"}, ConfigError, "executor='threads'"),
        ({"executor": "tcp://"}, ConfigError, "executor"),
        ({"progress": "yes"}, InvalidInputError, "progress"),
    ],
)
def test_bad_arguments_raise_before_the_store_exists(tmp_path, kwargs, error, match):
    store = tmp_path / "s.sqlite"
    kw = {"seed": 1, "executor": "serial", "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        run_sweep(toy_point, {"a": [1]}, store=store, **kw)
    assert not store.exists()


def test_unpicklable_function_is_refused_for_processes(tmp_path):
    store = tmp_path / "s.sqlite"
    fix = "worker processes can import .*: put it in a module, or use executor='serial'"
    with pytest.raises(InvalidInputError, match=f"^func=<function .*lambda.*{fix}$"):
        run_sweep(lambda p, rng: {"v": 1}, {"a": [1]}, seed=0, store=store, progress=False)

    def local(params, rng):
        return {"v": 1}

    with pytest.raises(InvalidInputError, match=f"^func=<function .*local.*{fix}$") as caught:
        run_sweep(local, {"a": [1]}, seed=0, store=store, progress=False)
    assert "local object" in str(caught.value)
    assert not store.exists()
    table = run_sweep(
        lambda p, rng: {"v": p["a"]}, {"a": [1]}, seed=0, executor="serial", progress=False
    )
    assert table["v"].tolist() == [1]


def test_a_file_that_is_not_a_store_is_refused_untouched(tmp_path):
    store = tmp_path / "s.sqlite"
    store.write_bytes(b"not a database at all" * 10)
    before = store.read_bytes()
    with pytest.raises(ConfigError, match="expected a usable sweep store"):
        _serial({"a": [1]}, store=store)
    assert store.read_bytes() == before


def test_monte_carlo_demo_matches_its_closed_form():
    table = run_sweep(
        rayleigh_outage,
        {"snr_db": [0.0, 10.0], "rate_bps_hz": [1.0, 3.0]},
        seed=5,
        repeats=3,
        executor="serial",
        progress=False,
    )
    snr = 10 ** (table["snr_db"] / 10)
    exact = 1 - np.exp(-(2 ** table["rate_bps_hz"] - 1) / snr)
    np.testing.assert_allclose(table["outage_exact"], exact, rtol=1e-12)
    assert (np.abs(table["outage"] - exact) < 5 * table["std_error"]).all()


def test_csv_and_parquet_round_trip(tmp_path):
    table = _serial()
    back = pd.read_csv(to_csv(table, tmp_path / "t.csv"))
    np.testing.assert_array_equal(back["u"], table["u"])
    assert back["c"].tolist() == table["c"].tolist()
    pq = pd.read_parquet(to_parquet(table, tmp_path / "t.parquet"))
    pd.testing.assert_frame_equal(pq, table, check_exact=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.parquet"]


class _FakeTTY(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


def test_progress_line_on_a_terminal_only():
    stream = _FakeTTY(True)
    bar = Progress(4, done=1, stream=stream)
    bar.update(1)
    bar.update(1, failed=1)
    bar.update(1)
    bar.close()
    text = stream.getvalue()
    assert "[" + "#" * 24 + "] 4/4 100%  failures 1" in text and "ETA 0:00" in text
    assert "[" + "#" * 12 + "." * 12 + "] 2/4  50%" in text
    assert text.endswith("\n") and "\r" in text
    quiet = _FakeTTY(False)
    bar = Progress(4, stream=quiet)
    bar.update(4)
    bar.close()
    assert quiet.getvalue() == ""
    off = _FakeTTY(True)
    bar = Progress(4, stream=off, enabled=False)
    bar.update(4)
    bar.close()
    assert off.getvalue() == ""


def test_progress_eta_uses_the_rate_of_computed_points():
    bar = Progress(10, done=5, enabled=False)
    assert "5/10" in bar.line() and "ETA ?" in bar.line()
    bar.update(1)
    assert "ETA ?" not in bar.line()


SCRIPT = (
    "from edgeopt.sweep import run_sweep\n"
    "from edgeopt.sweep._testing import toy_point\n"
    "t = run_sweep(toy_point, {'a': [1, 2]}, seed=0, progress=False)\n"
    "print(len(t), int(t['error'].notna().sum()))\n"
)


def test_processes_from_a_script_on_stdin(tmp_path):
    """`python - < script`: the main module is not a file; workers must still start."""
    out = subprocess.run(
        [sys.executable, "-"],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "0"]


GUARD_MESSAGE = (
    "executor='processes' is invalid: expected worker processes that can start, but they could "
    'not: a script that starts a sweep must do so under `if __name__ == "__main__":`'
)


def _python(args: list[str], cwd, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd
    )


def _catching(body: str) -> str:
    """A script that runs ``body`` and exits with the message of an edgeopt error, as a CLI."""
    indented = "".join("    " + line + "\n" for line in body.splitlines())
    return (
        "import sys\nfrom edgeopt.errors import EdgeoptError\ntry:\n"
        + indented
        + "except EdgeoptError as exc:\n    sys.exit(str(exc))\n"
    )


def test_script_without_main_guard_is_one_message_without_worker_tracebacks(tmp_path):
    script = tmp_path / "noguard.py"
    script.write_text(SCRIPT)
    out = _python([str(script)], tmp_path)
    assert out.returncode != 0
    # the driver's own traceback ending in the one message; the workers print nothing
    assert out.stderr.count("Traceback") == 1 and out.stderr.count(GUARD_MESSAGE) == 1
    assert out.stderr.strip().splitlines()[-1].startswith("edgeopt.errors.ConfigError: ")
    assert "bootstrapping" not in out.stderr and "RuntimeError" not in out.stderr
    script.write_text(_catching(SCRIPT))
    out = _python([str(script)], tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        GUARD_MESSAGE + " (each worker imports the script again), or use executor='serial' "
        "(a worker that fails for another reason prints its error above)"
    ]
    guarded = tmp_path / "guarded.py"
    body = "".join("    " + line + "\n" for line in SCRIPT.splitlines()[2:])
    guarded.write_text("\n".join(SCRIPT.splitlines()[:2]) + "\nif __name__ == '__main__':\n" + body)
    out = subprocess.run(
        [sys.executable, str(guarded)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "0"]


INTERACTIVE = (
    "from edgeopt.sweep import run_sweep\n"
    "def pt(params, rng):\n"
    "    return {'v': 1.0}\n"
    "t = run_sweep(pt, {'a': [1, 2, 3]}, seed=0, executor='processes', progress=False)\n"
    "print(len(t))\n"
)


@pytest.mark.parametrize("how", ["-c", "stdin"])
def test_an_interactive_point_function_is_one_message_before_any_worker_starts(tmp_path, how):
    """``python -c`` and ``python -``: a worker process could not import ``pt``."""
    script = _catching(INTERACTIVE)
    out = _python(["-c", script], tmp_path) if how == "-c" else _python(["-"], tmp_path, script)
    assert out.returncode == 1 and out.stdout == ""
    [line] = out.stderr.strip().splitlines()  # one line: no worker started, none printed
    assert line.startswith("func=<function pt at ") and " is invalid: expected a function " in line
    assert (
        "'pt' is defined in the __main__ of python -c, python - or an interactive session" in line
    )
    assert line.endswith("put it in a module, or use executor='serial'")
    # the same function runs in this process
    serial = INTERACTIVE.replace("'processes'", "'serial'")
    out = _python(["-c", serial], tmp_path)
    assert out.returncode == 0 and out.stdout.split() == ["3"], out.stderr


def test_a_function_of_the_main_script_runs_only_if_the_workers_can_import_it(tmp_path):
    """A top-level function of a guarded script works; one defined under the guard is refused."""
    good = tmp_path / "good.py"
    lines = INTERACTIVE.splitlines()
    good.write_text(
        "\n".join(lines[:3])
        + "\nif __name__ == '__main__':\n    "
        + "\n    ".join(lines[3:])
        + "\n"
    )
    out = _python([str(good)], tmp_path)
    assert out.returncode == 0 and out.stdout.split() == ["3"], out.stderr
    guarded = tmp_path / "guarded_def.py"
    guarded.write_text(
        _catching(
            lines[0] + "\nif __name__ == '__main__':\n" + "".join(f"    {x}\n" for x in lines[1:])
        )
    )
    out = _python([str(guarded)], tmp_path)
    assert out.returncode == 1
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("func=<function pt at ")
    assert f"'pt' is defined only under `if __name__ == \"__main__\":` in {guarded}" in line
    assert line.endswith("or use executor='serial'")


def test_pool_workers_run_single_threaded_blas(monkeypatch):
    """NumPy's OpenBLAS in a worker has one thread, though NumPy loads before the initializer."""
    import os

    from edgeopt.sweep._executors import THREAD_VARS
    from edgeopt.sweep._testing import blas_threads_point

    for var in THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    table = run_sweep(
        blas_threads_point, {"i": [0, 1]}, seed=0, executor="processes", progress=False
    )
    assert table["threads"].tolist() == [1, 1]
    # The driver's environment is left as it was.
    assert not [var for var in THREAD_VARS if var in os.environ]


def test_store_under_a_file_is_a_config_error_before_any_work(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="expected a path under a folder, but .*afile' is a file"):
        run_sweep(toy_point, {"a": [1]}, seed=0, executor="serial", store=blocker / "s.sqlite")
    assert blocker.read_text() == "not a folder"
