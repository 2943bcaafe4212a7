"""TOML sweep configurations that name a point function: parsing, checks before any work.

Files that name a registered experiment are read one layer up (tests/repro/test_config.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from edgeopt.errors import ConfigError, InvalidInputError
from edgeopt.sweep import (
    CONFIG_KEYS,
    SweepBase,
    config_from_table,
    load_config,
    read_config_file,
    run_config,
    run_sweep,
)
from edgeopt.sweep._testing import toy_point
from edgeopt.sweep.demo import rayleigh_outage

GOOD = """
function = "edgeopt.sweep._testing:toy_point"
seed = 4
repeats = 2
executor = "serial"
[grid]
a = [1, 2]
[zip]
b = [0.5, 1.5]
c = ["x", "y"]
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Default outputs go under ./out/sweeps: run every test in its own folder."""
    monkeypatch.chdir(tmp_path)


def _write(tmp_path: Path, text: str, name: str = "cfg.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_config_runs_like_the_equivalent_python_call(tmp_path):
    config = load_config(_write(tmp_path, GOOD))
    assert config.func is toy_point
    assert config.grid == {"a": [1, 2], ("b", "c"): [(0.5, "x"), (1.5, "y")]}
    assert (config.seed, config.repeats, config.executor) == (4, 2, "serial")
    out = Path("out", "sweeps")
    assert config.store == out / "cfg.sqlite" and config.output == out / "cfg.csv"
    table = run_config(config, progress=False)
    direct = run_sweep(toy_point, config.grid, seed=4, repeats=2, executor="serial", progress=False)
    assert table.equals(direct)
    assert (tmp_path / out / "cfg.csv").is_file() and (tmp_path / out / "cfg.sqlite").is_file()


def test_several_zip_groups_and_scalar_values(tmp_path):
    text = """
function = "edgeopt.sweep.demo:rayleigh_outage"
seed = 0
[grid]
snr_db = 10.0
[[zip]]
rate_bps_hz = [1.0, 2.0]
num_samples = [100, 200]
[[zip]]
x = [1, 2, 3]
y = [4, 5, 6]
"""
    config = load_config(_write(tmp_path, text))
    assert config.func is rayleigh_outage
    assert config.grid == {
        "snr_db": [10.0],
        ("rate_bps_hz", "num_samples"): [(1.0, 100), (2.0, 200)],
        ("x", "y"): [(1, 4), (2, 5), (3, 6)],
    }


def test_a_base_sweep_is_overridden_parameter_by_parameter(tmp_path):
    base = SweepBase(toy_point, "toy", {"a": [1, 2, 3], "b": [0.5]}, seed=9, repeats=4)
    table = read_config_file(_write(tmp_path, "repeats = 2\n[grid]\na = [7]\n"))
    config = config_from_table(table, tmp_path / "cfg.toml", base=base)
    assert config.func is toy_point and config.name == "toy"
    assert config.grid == {"a": [7], "b": [0.5]} and (config.seed, config.repeats) == (9, 2)
    zipped = config_from_table({"zip": {"a": [1, 2], "b": [3.0, 4.0]}}, "z.toml", base=base)
    assert zipped.grid == {("a", "b"): [(1, 3.0), (2, 4.0)]}
    with pytest.raises(ConfigError, match="unknown parameter.*'c' for 'toy'"):
        config_from_table({"grid": {"c": [1]}}, "c.toml", base=base)
    with pytest.raises(ConfigError, match="function=.*already 'toy'"):
        config_from_table({"function": "edgeopt.sweep._testing:toy_point"}, "f.toml", base=base)
    wider = SweepBase(toy_point, "toy", {"a": [1]}, seed=0, repeats=1, parameters=frozenset("ac"))
    assert config_from_table({"grid": {"c": [5]}}, "w.toml", base=wider).grid == {
        "a": [1],
        "c": [5],
    }


def test_extra_keys_are_accepted_and_listed(tmp_path):
    table = read_config_file(_write(tmp_path, "quick = false\n" + GOOD))
    assert config_from_table(table, tmp_path / "cfg.toml", extra_keys=["quick"]).func is toy_point
    with pytest.raises(ConfigError, match="unknown key.*'quick'"):
        config_from_table(table, tmp_path / "cfg.toml")
    with pytest.raises(
        ConfigError, match="expected some of batch_size, common_random_numbers, executor, function"
    ):
        config_from_table({"colour": 1, **table}, "cfg.toml", extra_keys=["quick"])
    assert {"function", "seed", "grid", "zip"} <= CONFIG_KEYS and "experiment" not in CONFIG_KEYS


def test_an_experiment_config_points_to_the_layer_that_reads_it(tmp_path):
    path = _write(tmp_path, 'experiment = "channel"\n')
    with pytest.raises(ConfigError, match="experiment='channel'.*edgeopt.repro.load_config"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("function = 'edgeopt.sweep._testing:toy_point'\nseed = [1\n", "malformed TOML"),
        ("this is not toml", "malformed TOML"),
        ("colour = 'blue'\n" + GOOD, "unknown key.*'colour'"),
        ("seed = 1\n", "function is missing"),
        (GOOD.replace('"serial"', '"threads"'), "executor='threads'"),
        (GOOD.replace("seed = 4", "seed = -4"), "seed=-4"),
        (GOOD.replace("seed = 4", 'seed = "4"'), "seed='4'"),
        (GOOD.replace("repeats = 2", "repeats = 0"), "repeats=0"),
        (
            GOOD.replace('c = ["x", "y"]', 'c = ["x"]'),
            r"zip\['b'\] of length 2, zip\['c'\] of length 1.*equal lengths",
        ),
        (GOOD.replace("[grid]\na = [1, 2]", "[grid]\nb = [1]"), "more than once"),
        (GOOD.replace("a = [1, 2]", "a = []"), "empty list"),
        (GOOD.replace("_testing:toy_point", "_testing:nope"), "has no 'nope'"),
        (GOOD.replace("edgeopt.sweep._testing:toy_point", "no_such_mod:f"), "cannot import"),
        (GOOD.replace("edgeopt.sweep._testing:toy_point", "os:system"), "expected a Python func"),
        (GOOD.replace("edgeopt.sweep._testing:toy_point", "os.system"), "package.module:func"),
        ('output = "t.xlsx"\n' + GOOD, r"\.csv or \.parquet"),
        (GOOD.replace("seed = 4\n", ""), "seed is missing"),
    ],
)
def test_bad_configs_fail_clearly_before_any_work(tmp_path, text, match):
    path = _write(tmp_path, text)
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match=match):
        run_config(path, progress=False)
    assert _snapshot(tmp_path) == before  # no store, no output, nothing touched


def test_errors_leave_an_existing_store_untouched(tmp_path):
    path = _write(tmp_path, GOOD)
    run_config(path, progress=False)
    before = _snapshot(tmp_path)
    _write(tmp_path, GOOD.replace('c = ["x", "y"]', 'c = ["x"]'), "bad.toml")
    with pytest.raises(ConfigError):
        run_config(tmp_path / "bad.toml", store=Path("out/sweeps/cfg.sqlite"), progress=False)
    after = _snapshot(tmp_path)
    after.pop("bad.toml")
    assert after == before


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_scheduler_is_an_error_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEOPT_DASK_TIMEOUT", "2")
    path = _write(tmp_path, GOOD)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match=f"executor='{address}' is invalid: .* unreachable"):
        run_config(path, executor=address, progress=False)
    assert _snapshot(tmp_path) == before
    # also when every point is already stored: the address is checked first
    run_config(path, progress=False)
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match="unreachable"):
        run_config(path, executor=address, progress=False)
    assert _snapshot(tmp_path) == before


def test_config_text_is_never_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    text = f"""
function = "edgeopt.sweep._testing:toy_point"
seed = 1
executor = "serial"
[grid]
a = [1]
label = [{payload!r}]
"""
    table = run_config(_write(tmp_path, text), progress=False)
    assert table["label"].tolist() == [payload]  # a string, kept verbatim
    assert not marker.exists()
    for bad in (f"seed = {payload!r}", f'function = "{payload}"', f"repeats = {payload!r}"):
        lines = [ln for ln in text.splitlines() if not ln.startswith(bad.split()[0] + " ")]
        cfg = _write(tmp_path, bad + "\n" + "\n".join(lines), "evil.toml")
        with pytest.raises(ConfigError):
            load_config(cfg)
        assert not marker.exists()


def test_function_never_imports_a_module_from_the_current_directory(tmp_path, monkeypatch):
    """A module file lying next to the config is not imported, even with '' on sys.path."""
    import sys

    marker = tmp_path / "imported"
    (tmp_path / "localmod.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"
        "def f(params, rng):\n    return {}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # as `python -m edgeopt.cli` would have ''
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    cfg = _write(tmp_path, 'function = "localmod:f"\nseed = 1\n[grid]\na = [1]\n')
    with pytest.raises(ConfigError, match="not searched"):
        load_config(cfg)
    assert not marker.exists() and "localmod" not in sys.modules


def _edgeopt_sweep(folder: Path, pythonpath: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [sys.executable, "-m", "edgeopt.cli", "sweep", "cfg.toml", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env=env,
    )


def test_a_pythonpath_entry_equal_to_the_current_directory_is_searched(tmp_path):
    """`PYTHONPATH=. edgeopt sweep cfg.toml` imports ./mypoints.py; without it, it is refused."""
    (tmp_path / "mypoints.py").write_text(
        "def pt(params, rng):\n    return {'v': 10 * params['a']}\n"
    )
    _write(
        tmp_path, 'function = "mypoints:pt"\nseed = 1\nexecutor = "serial"\n[grid]\na = [1, 2]\n'
    )
    refused = _edgeopt_sweep(tmp_path, None)  # python -m puts the directory on sys.path itself
    assert refused.returncode == 2
    assert "cannot import 'mypoints'" in refused.stderr and "not searched" in refused.stderr
    assert not (tmp_path / "out").exists()
    for entry in (".", str(tmp_path), os.pathsep.join(["/nonexistent", "."])):
        out = _edgeopt_sweep(tmp_path, entry)
        assert out.returncode == 0, out.stderr
        table = pd.read_csv(tmp_path / "out" / "sweeps" / "cfg.csv")
        assert table["v"].tolist() == [10, 20]


def test_edgeopt_sweep_in_which_every_point_fails_is_an_error_not_a_table(tmp_path, capsys):
    from edgeopt.cli import main

    text = GOOD.replace("a = [1, 2]", "a = [1, 2]\nfail = [true]")
    cfg = _write(tmp_path, text)
    with pytest.raises(InvalidInputError, match=r"all 8 point\(s\) failed.*toy failure at a=1"):
        run_config(cfg, progress=False)
    assert not Path("out/sweeps/cfg.csv").exists()  # no table; the store keeps the tracebacks
    assert main(["sweep", str(cfg), "--quiet"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("edgeopt: error: func=edgeopt.sweep._testing:toy_point, grid are")
    assert "'out/sweeps/cfg.sqlite'" in line
    # one point that works: a table with the failures, and exit status 1
    _write(tmp_path, GOOD.replace("a = [1, 2]", "a = [1, 2]\nfail = [true, false]"))
    assert main(["sweep", str(cfg), "--quiet"]) == 1
    assert pd.read_csv("out/sweeps/cfg.csv")["error"].notna().sum() == 8


def test_function_is_imported_only_after_every_other_key_is_checked(tmp_path):
    """A config without seed fails before the named module is imported at all."""
    import sys

    cfg = _write(tmp_path, 'function = "xml.dom.minidom:parse"\n[grid]\na = [1]\n')
    sys.modules.pop("xml.dom.minidom", None)
    with pytest.raises(ConfigError, match="seed is missing"):
        load_config(cfg)
    assert "xml.dom.minidom" not in sys.modules


def test_parquet_output_without_engine_fails_before_any_work(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    cfg = _write(tmp_path, GOOD.replace("repeats = 2", 'repeats = 2\noutput = "t.parquet"'))
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match="pyarrow"):
        run_config(cfg, store=tmp_path / "s.sqlite", progress=False)
    assert _snapshot(tmp_path) == before


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bin.toml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(bad)
    assert os.listdir(tmp_path) == ["bin.toml"]


def test_common_random_numbers_from_a_file_reach_the_sweep(tmp_path):
    path = _write(tmp_path, 'common_random_numbers = ["a"]\n' + GOOD)
    config = load_config(path)
    assert config.common_random_numbers == ("a",)
    table = run_config(config, progress=False)
    expected = run_sweep(
        toy_point,
        config.grid,
        seed=4,
        repeats=2,
        executor="serial",
        progress=False,
        common_random_numbers=("a",),
    )
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    # a = 1 and a = 2 drew the same numbers
    assert table.groupby(["b", "repeat"])["u"].nunique().eq(1).all()


def test_common_random_numbers_default_to_the_base_and_the_file_overrides_them(tmp_path):
    base = SweepBase(
        toy_point, "toy", {"a": [1, 2], "b": [0.5]}, seed=1, repeats=1, common_random_numbers=("a",)
    )
    assert config_from_table({}, tmp_path / "t.toml", base=base).common_random_numbers == ("a",)
    other = config_from_table({"common_random_numbers": ["b"]}, tmp_path / "t.toml", base=base)
    assert other.common_random_numbers == ("b",)
    none = config_from_table({"common_random_numbers": []}, tmp_path / "t.toml", base=base)
    assert none.common_random_numbers == ()


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('common_random_numbers = "a"\n', "list of parameter names"),
        ('common_random_numbers = ["nope"]\n', "names of grid parameters.*'nope'"),
    ],
)
def test_bad_common_random_numbers_in_a_file_are_config_errors(tmp_path, line, match):
    path = _write(tmp_path, line + GOOD)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path)
    assert "common_random_numbers" in str(info.value) and "cfg.toml" in str(info.value)
