"""The experiment runner: OUT/NAME/ with data, figures and manifest, written atomically."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from edgeopt.experiments import Experiment

import edgeopt
from edgeopt.errors import ConfigError, InvalidInputError
from edgeopt.repro._reproduce import reproduce
from edgeopt.sweep import read_store
from edgeopt.sweep._io import atomic_path, write_text_atomic
from edgeopt.sweep._testing import toy_point


def plot_toy(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot(table["a"], table["u"], "o")
    paths = [out_dir / "toy.png", out_dir / "toy.pdf"]
    for path in paths:
        fig.savefig(path)
    plt.close(fig)
    return paths


def plot_broken(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    (out_dir / "half.png").write_bytes(b"partial")
    raise RuntimeError("plot bug")


def _toy(**kw) -> Experiment:
    base = {
        "name": "toy",
        "summary": "a toy experiment for the runner tests",
        "point": toy_point,
        "grid": lambda quick: {"a": [1, 2] if quick else [1, 2, 3], "fail": [False]},
        "plot": plot_toy,
        "repeats": lambda quick: 1 if quick else 2,
        "seed": 17,
    }
    base.update(kw)
    return Experiment(**base)


def test_reproduce_writes_data_figures_and_manifest(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["edgeopt", "reproduce", "toy"])
    result = reproduce(_toy(), out_dir=tmp_path, executor="processes", progress=False)
    folder = tmp_path / "toy"
    assert result.out_dir == folder and result.ok and result.failures == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "data.csv",
        "manifest.json",
        "sweep.sqlite",
        "toy.pdf",
        "toy.png",
    ]
    assert sorted(p.name for p in result.files) == [
        "data.csv",
        "manifest.json",
        "toy.pdf",
        "toy.png",
    ]
    assert (folder / "toy.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "toy.pdf").read_bytes()[:4] == b"%PDF"
    data = pd.read_csv(folder / "data.csv")
    assert len(data) == 3 * 2 and data["u"].tolist() == result.table["u"].tolist()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["edgeopt_version"] == edgeopt.__version__
    assert manifest["seed"] == 17 and manifest["repeats"] == 2 and manifest["quick"] is False
    assert manifest["grid"] == {"a": [1, 2, 3], "fail": [False]}
    assert manifest["executor"] == "processes" and manifest["command"] == sys.argv
    assert manifest["wall_time_s"] > 0 and manifest["failures"] == 0
    for pkg in ("numpy", "scipy", "pandas"):
        assert manifest["packages"][pkg]
    assert manifest["git"] is None or len(manifest["git"]["commit"]) == 40


@pytest.mark.parametrize("relative_paths", [False, True])
def test_relative_out_dir(tmp_path, monkeypatch, relative_paths):
    """`edgeopt reproduce --out out` passes a relative folder; plots may return relative paths."""

    def plot_relative(table: pd.DataFrame, out_dir: Path) -> list[Path]:
        written = plot_toy(table, out_dir)
        return [p.relative_to(Path.cwd()) for p in written] if relative_paths else written

    monkeypatch.chdir(tmp_path)
    result = reproduce(_toy(plot=plot_relative), out_dir="out", executor="serial", progress=False)
    assert result.ok and result.plot_error is None
    folder = tmp_path / "out" / "toy"
    assert (folder / "toy.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "toy.pdf").read_bytes()[:4] == b"%PDF"
    assert not [p for p in folder.iterdir() if p.name.startswith(".plot-")]


def test_quick_grid_and_resume_from_the_store(tmp_path):
    quick = reproduce(_toy(), out_dir=tmp_path, quick=True, executor="serial", progress=False)
    assert len(quick.table) == 2 and quick.manifest["quick"] is True
    full = reproduce(_toy(), out_dir=tmp_path, executor="serial", progress=False)
    # the quick points (a = 1, 2; repeat 0) are the same points with the same seeds: reused
    assert full.manifest["reused_from_store"] == 2 and full.manifest["computed"] == 4
    again = reproduce(_toy(), out_dir=tmp_path, executor="serial", progress=False)
    assert again.manifest["computed"] == 0
    pd.testing.assert_frame_equal(again.table, full.table, check_exact=True)


def test_failures_and_a_broken_plot_are_reported_not_raised(tmp_path):
    exp = _toy(
        grid=lambda quick: {"a": [1, 2], "fail": [False, True]},
        plot=plot_broken,
        repeats=lambda quick: 1,
    )
    result = reproduce(exp, out_dir=tmp_path, executor="serial", progress=False)
    assert result.failures == 2 and not result.ok
    assert "RuntimeError: plot bug" in result.plot_error
    folder = tmp_path / "toy"
    # the half-written figure never reaches the output folder; data and manifest do
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv", "manifest.json", "sweep.sqlite"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["failures"] == 2 and "plot bug" in manifest["plot_error"]


def test_an_experiment_in_which_every_point_fails_raises_and_keeps_the_tracebacks(tmp_path):
    exp = _toy(grid=lambda quick: {"a": [1, 2], "fail": [True]}, repeats=lambda quick: 1)
    with pytest.raises(InvalidInputError, match=r"all 2 point\(s\) failed.*toy failure at a=1"):
        reproduce(exp, out_dir=tmp_path, executor="serial", progress=False)
    folder = tmp_path / "toy"
    assert sorted(p.name for p in folder.iterdir()) == ["sweep.sqlite"]  # no table, no figure
    assert read_store(folder / "sweep.sqlite")["status"].tolist() == ["error", "error"]


def test_plot_sees_only_successful_rows(tmp_path):
    seen = {}

    def spy(table, out_dir):
        seen["table"] = table
        return []

    exp = _toy(
        grid=lambda quick: {"a": [1, 2], "fail": [False, True]}, plot=spy, repeats=lambda quick: 1
    )
    reproduce(exp, out_dir=tmp_path, executor="serial", progress=False)
    assert seen["table"]["fail"].tolist() == [False, False] and "error" not in seen["table"]


def test_bad_arguments(tmp_path):
    with pytest.raises(InvalidInputError, match="name='nope'"):
        reproduce("nope", out_dir=tmp_path)
    with pytest.raises(ConfigError, match="executor"):
        reproduce(_toy(), out_dir=tmp_path, executor="gpu")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path):
    target = write_text_atomic(tmp_path / "data.csv", "old\n")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("new but incomp")
        raise KeyboardInterrupt
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]
    write_text_atomic(target, "new\n")
    assert target.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["data.csv"]
