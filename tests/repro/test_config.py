"""Sweep files that name a registered experiment (edgeopt.repro.load_config / run_config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeopt import repro, sweep
from edgeopt.errors import ConfigError
from edgeopt.repro import get_experiment, load_config, run_config
from edgeopt.sweep._testing import toy_point

FUNCTION = """
function = "edgeopt.sweep._testing:toy_point"
seed = 4
repeats = 2
executor = "serial"
[grid]
a = [1, 2]
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Default outputs go under ./out/sweeps: run every test in its own folder."""
    monkeypatch.chdir(tmp_path)


def _write(tmp_path: Path, text: str, name: str = "cfg.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_experiment_config_overrides_its_grid_parameter_by_parameter(tmp_path):
    exp = get_experiment("channel")
    full = exp.grid(False)
    name = next(iter(full))
    text = f'experiment = "channel"\nrepeats = 3\n[grid]\n{name} = [{full[name][0]!r}]\n'
    config = load_config(_write(tmp_path, text))
    assert config.func is exp.point and config.seed == exp.seed and config.repeats == 3
    assert config.name == "channel"
    assert config.grid[name] == [full[name][0]]
    for key, values in full.items():
        if key != name:
            assert config.grid[key] == list(values)
    quick = load_config(_write(tmp_path, 'experiment = "channel"\nquick = true\n', "q.toml"))
    # the experiment's constants are one-value parameters of every point
    assert quick.grid == {k: list(v) for k, v in exp.parameters(True).items()}
    assert quick.common_random_numbers == exp.common_random_numbers
    assert quick.repeats == exp.repeats(True)


def test_a_function_config_reads_as_the_sweep_layer_reads_it(tmp_path):
    path = _write(tmp_path, FUNCTION)
    assert load_config(path) == sweep.load_config(path)
    table = run_config(path, progress=False)
    assert table.equals(sweep.run_config(path, progress=False))
    assert load_config(path).func is toy_point


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('experiment = "channel"\n[grid]\nnot_a_param = [1]\n', "unknown parameter.*not_a_param"),
        (
            'experiment = "channel"\n[zip]\nbogus = [1]\nsnr_db = [2.0]\n',
            "unknown parameter.*bogus",
        ),
        ('experiment = "no_such_experiment"\n', "experiment.*no_such_experiment"),
        ("experiment = 3\n", "experiment=3 is invalid"),
        ("seed = 1\n", "exactly one of 'experiment' or 'function'"),
        ('experiment = "channel"\n' + FUNCTION, "exactly one of 'experiment' or 'function'"),
        ('experiment = "channel"\nquick = "yes"\n', "quick='yes'"),
        ("quick = true\n" + FUNCTION, "quick=True is invalid: expected false without"),
        ('experiment = "channel"\ncolour = 1\n', "unknown key.*'colour'.*experiment.*quick"),
        ('experiment = "channel"\nrepeats = 0\n', "repeats=0"),
    ],
)
def test_bad_experiment_configs_fail_clearly_before_any_work(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=match):
        run_config(path, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["cfg.toml"]


def test_every_key_the_files_use_is_known(tmp_path):
    assert set(repro.EXPERIMENT_KEYS).isdisjoint(sweep.CONFIG_KEYS)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sweeps"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_configs_are_valid(path):
    config = load_config(path)
    assert config.repeats >= 1 and callable(config.func)
    assert not config.store.is_absolute() and config.store.parts[:2] == ("out", "sweeps")
