"""TOML sweep configurations: parsing, validation before any work, data-only semantics."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from edgeopt.experiments import registry

from edgeopt.errors import ConfigError
from edgeopt.sweep import load_config, run_config, run_sweep
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


def test_experiment_config_overrides_its_grid_parameter_by_parameter(tmp_path):
    exp = registry()["channel"]
    full = exp.grid(False)
    name = next(iter(full))
    text = f'experiment = "channel"\nrepeats = 3\n[grid]\n{name} = [{full[name][0]!r}]\n'
    config = load_config(_write(tmp_path, text))
    assert config.func is exp.point and config.seed == exp.seed and config.repeats == 3
    assert config.grid[name] == [full[name][0]]
    for key, values in full.items():
        if key != name:
            assert config.grid[key] == list(values)
    quick = load_config(_write(tmp_path, 'experiment = "channel"\nquick = true\n', "q.toml"))
    assert quick.grid == {k: list(v) for k, v in exp.grid(True).items()}
    assert quick.repeats == exp.repeats(True)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("function = 'edgeopt.sweep._testing:toy_point'\nseed = [1\n", "malformed TOML"),
        ("this is not toml", "malformed TOML"),
        ("colour = 'blue'\n" + GOOD, "unknown key.*'colour'"),
        ('experiment = "channel"\n[grid]\nnot_a_param = [1]\n', "unknown parameter.*not_a_param"),
        (
            'experiment = "channel"\n[zip]\nbogus = [1]\nsnr_db = [2.0]\n',
            "unknown parameter.*bogus",
        ),
        ('experiment = "no_such_experiment"\n', "experiment.*no_such_experiment"),
        ("seed = 1\n", "exactly one of 'experiment' or 'function'"),
        (GOOD.replace('"serial"', '"threads"'), "executor='threads'"),
        (GOOD.replace("seed = 4", "seed = -4"), "seed=-4"),
        (GOOD.replace("seed = 4", 'seed = "4"'), "seed='4'"),
        (GOOD.replace("repeats = 2", "repeats = 0"), "repeats=0"),
        (GOOD.replace('c = ["x", "y"]', 'c = ["x"]'), "equal lengths.*b has 2, c has 1"),
        (GOOD.replace("[grid]\na = [1, 2]", "[grid]\nb = [1]"), "more than once"),
        (GOOD.replace("a = [1, 2]", "a = []"), "empty list"),
        (GOOD.replace("_testing:toy_point", "_testing:nope"), "has no 'nope'"),
        (GOOD.replace("edgeopt.sweep._testing:toy_point", "no_such_mod:f"), "cannot import"),
        (GOOD.replace("edgeopt.sweep._testing:toy_point", "os:system"), "expected a Python func"),
        (GOOD.replace("edgeopt.sweep._testing:toy_point", "os.system"), "package.module:func"),
        ('output = "t.xlsx"\n' + GOOD, r"\.csv or \.parquet"),
        (GOOD.replace("seed = 4\n", ""), "seed is required"),
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
    with pytest.raises(ConfigError, match=f"executor='{address}' is unreachable"):
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


def test_function_is_imported_only_after_every_other_key_is_checked(tmp_path):
    """A config without seed fails before the named module is imported at all."""
    import sys

    cfg = _write(tmp_path, 'function = "xml.dom.minidom:parse"\n[grid]\na = [1]\n')
    sys.modules.pop("xml.dom.minidom", None)
    with pytest.raises(ConfigError, match="seed is required"):
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


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sweeps"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_configs_are_valid(path):
    config = load_config(path)
    assert config.repeats >= 1 and callable(config.func)
    assert not config.store.is_absolute() and config.store.parts[:2] == ("out", "sweeps")
