"""The `edgeopt` command line: help, version, list, reproduce, sweep, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from edgeopt.experiments import Experiment, registry

import edgeopt
from edgeopt import repro
from edgeopt.cli import main
from edgeopt.sweep._testing import toy_point

CONFIG = """
function = "edgeopt.sweep._testing:toy_point"
seed = 2
executor = "serial"
[grid]
a = [1, 2, 3]
fail = [{fail}]
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgeopt.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_help_and_version():
    out = _cli("--help")
    assert out.returncode == 0
    for word in ("list", "reproduce", "sweep"):
        assert word in out.stdout
    out = _cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"edgeopt {edgeopt.__version__}"
    sweep_help = _cli("sweep", "--help").stdout
    for flag in ("--scheduler", "--store", "--force", "--quiet", "--out"):
        assert flag in sweep_help
    reproduce_help = _cli("reproduce", "--help").stdout
    for flag in ("--all", "--quick", "--scheduler", "--out"):
        assert flag in reproduce_help


def test_list_prints_one_line_per_experiment(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    reg = registry()
    assert len(lines) == len(reg) and "channel" in reg
    for line, (name, exp) in zip(lines, reg.items(), strict=True):
        assert line.split()[0] == name and exp.summary in line


def test_list_name_describes_one_experiment(capsys):
    assert main(["list", "channel"]) == 0
    out = capsys.readouterr().out
    exp = registry()["channel"]
    assert out == exp.describe() + "\n"
    lines = out.splitlines()
    assert lines[0] == f"channel: {exp.summary}" and lines[1] == f"seed: {exp.seed}"
    for quick, label in ((False, "full"), (True, "quick")):
        head = next(line for line in lines if line.startswith(f"{label} grid: "))
        assert head.endswith(f"x {exp.repeats(quick)} repeat(s)")
        for name, values in exp.grid(quick).items():
            assert f"  {name} = {list(values)}" in lines
    # every constant and the common-random-number parameters
    assert exp.constants and "constants:" in lines
    for name, value in exp.constants.items():
        assert f"  {name} = {value!r}" in lines
    crn = ", ".join(exp.common_random_numbers) or "none"
    assert f"common random numbers: {crn}" in lines
    assert main(["list", "nope"]) == 2
    err = capsys.readouterr().err
    assert "name='nope'" in err and "channel" in err and "Traceback" not in err


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: edgeopt" in capsys.readouterr().out


def test_sweep_writes_table_and_store_and_resumes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "s.toml"
    cfg.write_text(CONFIG.format(fail="false"))
    assert main(["sweep", str(cfg), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "3 point(s): 3 computed, 0 reused" in out
    folder = tmp_path / "out" / "sweeps"
    assert (folder / "s.csv").is_file() and (folder / "s.sqlite").is_file()
    assert main(["sweep", str(cfg), "--quiet"]) == 0
    assert "0 computed, 3 reused" in capsys.readouterr().out
    assert main(["sweep", str(cfg), "--quiet", "--force"]) == 0
    assert "3 computed, 0 reused" in capsys.readouterr().out
    store, table = tmp_path / "other.sqlite", tmp_path / "t.parquet"
    args = ["sweep", str(cfg), "--store", str(store), "--out", str(table), "--quiet"]
    assert main([*args, "--scheduler", "processes"]) == 0
    assert store.is_file() and table.is_file()


def test_sweep_failures_give_exit_status_1_and_a_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "s.toml"
    cfg.write_text(CONFIG.format(fail="false, true"))
    assert main(["sweep", str(cfg), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "3 failed" in captured.out
    assert "3 failed point(s)" in captured.err and "ValueError: toy failure" in captured.err


@pytest.mark.parametrize(
    ("text", "extra", "message"),
    [
        ("experiment = 'channel'\n[grid]\nnot_a_param = [1]\n", [], "unknown parameter"),
        ("experiment = 'channel'\n[grid\n", [], "malformed TOML"),
        (CONFIG.format(fail="false"), ["--scheduler", "tcp://127.0.0.1:9"], "unreachable"),
        (CONFIG.format(fail="false"), ["--scheduler", "mpi"], "executor='mpi'"),
    ],
)
def test_sweep_config_errors_exit_2_before_any_work(
    tmp_path, capsys, monkeypatch, text, extra, message
):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "s.toml"
    cfg.write_text(text)
    assert main(["sweep", str(cfg), "--quiet", *extra]) == 2
    assert message in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["s.toml"]


def test_reproduce_usage_errors(tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path)]) == 2
    assert main(["reproduce", "channel", "--all", "--out", str(tmp_path)]) == 2
    assert main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
    assert "name='nope'" in capsys.readouterr().err
    assert main(["reproduce", "channel", "--scheduler", "x", "--out", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["virtual", "file", "under_a_file"])
def test_reproduce_an_unusable_out_is_one_error_before_any_work(tmp_path, capsys, kind):
    (tmp_path / "f").write_text("x")
    out = {"virtual": "/proc/edgeopt-nope", "file": str(tmp_path / "f")}.get(
        kind, str(tmp_path / "f" / "sub")
    )
    args = ["reproduce", "channel", "--quick", "--scheduler", "serial", "--quiet", "--out", out]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"edgeopt: error: --out={out!r} is invalid: expected a folder")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["f"]
    assert main(["reproduce", "--all", "--quick", "--quiet", "--out", out]) == 2
    assert "--out=" in capsys.readouterr().err


def _plot_nothing(table, out_dir: Path) -> list[Path]:
    return []


def test_reproduce_all_checks_the_scheduler_once_before_any_experiment(tmp_path, capsys):
    import socket

    with socket.socket() as sock:  # a free port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "out"
    status = main(
        [
            "reproduce",
            "--all",
            "--quick",
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("unreachable") == 1 and "Traceback" not in err
    assert not out.exists()


def test_reproduce_all_runs_every_experiment_and_reports_failures(tmp_path, monkeypatch, capsys):
    good = Experiment("good", "works", toy_point, lambda q: {"a": [1, 2]}, _plot_nothing)
    grid = {("a", "fail"): [(1, True), (2, False)]}  # one failure (all failing: an error)
    bad = Experiment("bad", "fails", toy_point, lambda q: grid, _plot_nothing)
    monkeypatch.setattr(repro, "registry", lambda: {"bad": bad, "good": good})
    status = main(
        [
            "reproduce",
            "--all",
            "--quick",
            "--scheduler",
            "serial",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert status == 1
    assert (tmp_path / "good" / "manifest.json").is_file()
    assert (tmp_path / "bad" / "data.csv").is_file()
    assert "1 failed point(s)" in capsys.readouterr().err
    assert main(["reproduce", "good", "--scheduler", "serial", "--out", str(tmp_path)]) == 0


@pytest.mark.slow
def test_reproduce_channel_quick_end_to_end(tmp_path):
    out = _cli("reproduce", "channel", "--quick", "--out", str(tmp_path), "--quiet")
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "channel"
    names = {p.name for p in folder.iterdir()}
    assert {"data.csv", "manifest.json", "sweep.sqlite"} <= names
    assert any(n.endswith(".png") for n in names) and any(n.endswith(".pdf") for n in names)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["quick"] is True and manifest["failures"] == 0
    assert manifest["command"][1:] == [
        "reproduce",
        "channel",
        "--quick",
        "--out",
        str(tmp_path),
        "--quiet",
    ]
