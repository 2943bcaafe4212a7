"""The layout: experiments/ installed as edgeopt.experiments, models/ as edgeopt.profiles.

A built wheel holds every experiment module and the profiles package, and ``edgeopt list``
lists every registered experiment when run outside the checkout, from the wheel and from the
editable install.  Each experiment registers exactly once, under its package name.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from edgeopt.repro import registry

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT_FILES = sorted(
    p.stem for p in (ROOT / "experiments").glob("*.py") if not p.name.startswith("__")
)
PUBLIC_EXPERIMENT_FILES = [name for name in EXPERIMENT_FILES if not name.startswith("_")]


def _experiments_of(module) -> list:
    found = list(getattr(module, "EXPERIMENTS", []))
    if hasattr(module, "EXPERIMENT"):
        found.append(module.EXPERIMENT)
    return found


def test_each_experiment_registers_once_under_its_package_name():
    reg = registry()
    seen: dict[str, str] = {}
    for stem in PUBLIC_EXPERIMENT_FILES:
        module = importlib.import_module(f"edgeopt.experiments.{stem}")
        for exp in _experiments_of(module):
            assert exp.name not in seen, f"{exp.name} defined in {seen[exp.name]} and {stem}"
            seen[exp.name] = stem
            assert reg[exp.name] is exp
            assert exp.point.__module__ == f"edgeopt.experiments.{stem}"
    assert sorted(seen) == sorted(reg)


def test_a_second_copy_of_a_file_does_not_register_twice():
    """pytest's importlib mode imports experiments/channel.py under another name as well."""
    before = registry()
    spec = importlib.util.spec_from_file_location(
        "experiments_copy_channel", ROOT / "experiments" / "channel.py"
    )
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    assert copy.EXPERIMENT is not before["channel"]  # a distinct object with the same name
    after = registry()
    assert list(after) == list(before) and after["channel"] is before["channel"]
    assert after["channel"].point.__module__ == "edgeopt.experiments.channel"


def _list_names(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.strip().splitlines()]


def test_edgeopt_list_outside_the_checkout_lists_every_experiment(tmp_path):
    exe = Path(sys.executable).with_name("edgeopt")
    out = subprocess.run(
        [str(exe), "list"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert _list_names(out.stdout) == list(registry())


@pytest.mark.slow
def test_a_built_wheel_holds_every_experiment_and_the_profiles(tmp_path):
    source = tmp_path / "source"  # build from a copy: no build/ or egg-info in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("src", "experiments", "models"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)]
    subprocess.run(build, check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("edgeopt-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "[edgeopt.experiments]" in archive.read(entry_points).decode()
    for stem in EXPERIMENT_FILES:
        assert f"edgeopt/experiments/{stem}.py" in names
    assert "edgeopt/experiments/__init__.py" in names
    assert "edgeopt/profiles/__init__.py" in names
    for data in (ROOT / "models").iterdir():
        if data.suffix in (".json", ".csv"):
            assert f"edgeopt/profiles/{data.name}" in names
    assert not any(n.startswith(("experiments/", "models/")) for n in names)

    site = tmp_path / "site"  # the wheel, installed apart; it comes first on the path
    install = [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=600)
    code = (
        "import edgeopt.experiments, sys\n"
        "from edgeopt.cli import main\n"
        "print(edgeopt.experiments.__file__, file=sys.stderr)\n"
        "sys.exit(main(['list']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert Path(run.stderr.strip().splitlines()[-1]).is_relative_to(site)
    assert _list_names(run.stdout) == list(registry())
