"""Experiment constants and common random numbers in reproduce, manifests, configs, curves.csv."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from edgeopt.errors import ConfigError, InvalidInputError
from edgeopt.repro import Experiment, curves_table, load_config, reproduce, run_config
from edgeopt.sweep._testing import toy_point

SEEN: dict[str, Any] = {}


def curve_point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """A toy training run: ``rounds`` + 1 values per curve, round 0 first."""
    if params.get("fail"):
        raise ValueError("no run")
    n = int(params["rounds"]) + 1
    acc = np.round(rng.random(n), 6).tolist()
    curves = {"acc": acc, "cost": [float(params["lr"]) * r for r in range(n)]}
    return {"final": acc[-1], "curve_json": json.dumps(curves)}


def bad_curve_point(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    return {"curve_json": json.dumps({"acc": [1.0, 2.0], "cost": [1.0]})}


def spy_plot(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    SEEN["table"] = table
    return []


def _toy(**kw: Any) -> Experiment:
    base: dict[str, Any] = {
        "name": "toy",
        "summary": "toy",
        "point": toy_point,
        "grid": lambda quick: {"a": [1, 2], "c": ["x", "y", "z"]},
        "plot": spy_plot,
        "repeats": lambda quick: 2,
        "seed": 3,
        "constants": {"b": 0.5, "fail": False},
    }
    base.update(kw)
    return Experiment(**base)


def _curves(**kw: Any) -> Experiment:
    base: dict[str, Any] = {
        "name": "fl_toy",
        "summary": "toy runs",
        "point": curve_point,
        "grid": lambda quick: {"lr": [0.1, 0.2]},
        "plot": spy_plot,
        "repeats": lambda quick: 2,
        "seed": 1,
        "constants": {"rounds": 3},
    }
    base.update(kw)
    return Experiment(**base)


def test_manifest_records_every_constant_and_the_crn_parameters(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["edgeopt", "reproduce", "toy"])
    result = reproduce(
        _toy(common_random_numbers=("c",)), out_dir=tmp_path, executor="serial", progress=False
    )
    manifest = json.loads((tmp_path / "toy" / "manifest.json").read_text())
    assert manifest == result.manifest
    assert manifest["constants"] == {"b": 0.5, "fail": False}
    assert manifest["common_random_numbers"] == ["c"]
    assert manifest["grid"] == {"a": [1, 2], "c": ["x", "y", "z"]}
    # the constants are columns of data.csv like the grid parameters
    data = pd.read_csv(tmp_path / "toy" / "data.csv")
    assert (data["b"] == 0.5).all() and list(data.columns[:4]) == ["b", "fail", "a", "c"]


def test_reproduce_runs_with_the_experiments_common_random_numbers(tmp_path):
    crn = reproduce(
        _toy(common_random_numbers=("c",)), out_dir=tmp_path, executor="serial", progress=False
    )
    groups = crn.table.groupby(["a", "repeat"])["u"]
    assert groups.nunique().eq(1).all() and groups.first().nunique() == 4
    plain = reproduce(_toy(name="plain"), out_dir=tmp_path, executor="serial", progress=False)
    assert plain.table["u"].nunique() == len(plain.table) == 12
    assert plain.manifest["common_random_numbers"] == []


def test_reproduce_is_the_same_on_processes_with_crn(tmp_path):
    exp = _toy(common_random_numbers=("c",))
    serial = reproduce(exp, out_dir=tmp_path / "s", executor="serial", progress=False)
    pool = reproduce(exp, out_dir=tmp_path / "p", executor="processes", progress=False)
    pd.testing.assert_frame_equal(serial.table, pool.table, check_exact=True)


def test_curves_csv_is_a_tidy_long_table_and_data_csv_drops_the_json(tmp_path):
    exp = _curves(grid=lambda quick: {"lr": [0.1, 0.2], "fail": [False, True]})
    result = reproduce(exp, out_dir=tmp_path, executor="serial", progress=False)
    folder = tmp_path / "fl_toy"
    assert result.failures == 4
    data = pd.read_csv(folder / "data.csv")
    assert "curve_json" not in data.columns and len(data) == 8
    curves = pd.read_csv(folder / "curves.csv")
    assert list(curves.columns) == ["rounds", "lr", "fail", "repeat", "round", "acc", "cost"]
    # one row per successful point, repeat and round (rounds 0..3)
    assert len(curves) == 2 * 2 * 4 and not curves["fail"].any()
    rounds = curves.groupby(["lr", "repeat"])["round"].apply(list)
    assert len(rounds) == 4 and all(r == [0, 1, 2, 3] for r in rounds)
    # each point's curves are those its run returned (stored in the table's JSON column)
    for row in result.table[result.table["error"].isna()].itertuples(index=False):
        stored = json.loads(row.curve_json)
        mine = curves[(curves["lr"] == row.lr) & (curves["repeat"] == row.repeat)]
        assert mine["acc"].tolist() == stored["acc"]
        assert np.allclose(mine["cost"], stored["cost"])
        assert mine["acc"].iloc[-1] == row.final
    assert "curves.csv" in result.manifest["files"]
    assert {p.name for p in result.files} >= {"data.csv", "curves.csv", "manifest.json"}
    pd.testing.assert_frame_equal(result.curves.reset_index(drop=True), curves, check_dtype=False)
    # the plot still gets the JSON column (the FL figures decode it)
    assert "curve_json" in SEEN["table"].columns


def test_no_curves_csv_without_a_curve_column(tmp_path):
    result = reproduce(_toy(), out_dir=tmp_path, executor="serial", progress=False)
    assert result.curves is None and not (tmp_path / "toy" / "curves.csv").exists()
    assert "curves.csv" not in result.manifest["files"]


def test_bad_curves_are_an_error_naming_the_row(tmp_path):
    with pytest.raises(InvalidInputError, match="curve_json of row 0.*equal length"):
        reproduce(
            _curves(point=bad_curve_point), out_dir=tmp_path, executor="serial", progress=False
        )
    table = pd.DataFrame({"repeat": [0], "curve_json": ['["not", "an object"]']})
    with pytest.raises(InvalidInputError, match="JSON object"):
        curves_table(table, [])


def test_curves_table_keeps_a_curve_a_point_lacks_empty():
    table = pd.DataFrame(
        {
            "s": ["a", "b"],
            "repeat": [0, 0],
            "curve_json": ['{"acc": [1, 2]}', '{"acc": [3, 4], "mse": [5, 6]}'],
        }
    )
    out = curves_table(table, ["s"])
    assert list(out.columns) == ["s", "repeat", "round", "acc", "mse"]
    assert out["mse"].isna().tolist() == [True, True, False, False]
    assert curves_table(table.drop(columns="curve_json"), ["s"]) is None


def test_describe_prints_the_constants_and_the_crn_parameters():
    text = _toy(common_random_numbers=("c",)).describe()
    lines = text.splitlines()
    start = lines.index("constants:")
    assert lines[start + 1 : start + 3] == ["  b = 0.5", "  fail = False"]
    assert "common random numbers: c" in lines
    plain = (
        Experiment(
            name="p",
            summary="p",
            point=toy_point,
            grid=lambda quick: {"a": [1]},
            plot=spy_plot,
        )
        .describe()
        .splitlines()
    )
    assert "constants: none" in plain and "common random numbers: none" in plain


def test_a_constant_that_is_also_swept_and_bad_constants_are_refused():
    exp = _toy(constants={"a": 3})
    with pytest.raises(InvalidInputError, match="'a'.*either constant or swept"):
        exp.parameters(False)
    with pytest.raises(InvalidInputError, match="constants"):
        _toy(constants=[("b", 1)])
    with pytest.raises(ConfigError):
        _toy(constants={"b": float("nan")})
    with pytest.raises(InvalidInputError, match="common_random_numbers"):
        _toy(common_random_numbers="c")


# --- configuration files naming an experiment --------------------------------------------

CHANNEL = 'experiment = "channel"\nquick = true\nexecutor = "serial"\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_text(text)
    return path


def test_a_config_overrides_a_constant(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _write(
        tmp_path,
        CHANNEL + "[constants]\ntarget_rate_bps_hz = 2.0\n"
        "[grid]\nsnr_db = [10.0]\nnum_antennas = [1]\nsamples = [2000]\n",
    )
    config = load_config(path)
    assert config.grid["target_rate_bps_hz"] == [2.0]
    table = run_config(config, progress=False)
    assert table["target_rate_bps_hz"].tolist() == [2.0]
    # the closed-form outage at R = 2 bit/s/Hz, SNR 10 dB, N = 1: 1 - exp(-(2^R - 1) / snr)
    assert table["outage_closed"].iloc[0] == pytest.approx(1 - np.exp(-0.3))


def test_a_constant_named_in_grid_is_swept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _write(
        tmp_path,
        CHANNEL + "[grid]\nsnr_db = [10.0]\nnum_antennas = [1]\nsamples = [2000]\n"
        "target_rate_bps_hz = [1.0, 2.0]\n",
    )
    table = run_config(path, progress=False)
    assert table["target_rate_bps_hz"].tolist() == [1.0, 2.0]
    assert table["outage_closed"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (
            "[constants]\nbogus = 1\n",
            r"\[constants\].*unknown constant.*'bogus'.*target_rate_bps_hz",
        ),
        ("[constants]\nsnr_db = 1.0\n", r"unknown constant.*'snr_db'"),
        (
            "[constants]\ntarget_rate_bps_hz = 2.0\n[grid]\ntarget_rate_bps_hz = [1.0]\n",
            "given more than once",
        ),
        ("constants = 3\n", "constants=3 is invalid"),
        ("[grid]\nbogus = [1]\n", "unknown parameter.*bogus"),
    ],
)
def test_bad_constant_overrides_are_config_errors_naming_the_file(tmp_path, extra, match):
    path = _write(tmp_path, CHANNEL + extra)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path)
    assert "cfg.toml" in str(info.value)


def test_constants_without_an_experiment_are_refused(tmp_path):
    text = 'function = "edgeopt.sweep._testing:toy_point"\nseed = 1\n[constants]\na = 1\n'
    with pytest.raises(ConfigError, match="constants.*without 'experiment'"):
        load_config(_write(tmp_path, text))
