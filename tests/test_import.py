"""`import edgeopt` and its solver subpackages stay light: no torch, dask or matplotlib."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "dask", "distributed", "matplotlib")


@pytest.mark.parametrize(
    "module",
    [
        "edgeopt",
        "edgeopt.units",
        "edgeopt.cost",
        "edgeopt.channel",
        "edgeopt.system",
        "edgeopt.aircomp",
        "edgeopt.profiles",
        "edgeopt.sweep",
        "edgeopt.repro",
        "edgeopt.experiments",
    ],
)
def test_import_is_light(module):
    code = (
        f"import sys, {module}\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} imported {out.stdout.strip()}"


def test_version_and_lazy_subpackages():
    import edgeopt

    assert edgeopt.__version__ == "0.1.0"
    assert edgeopt.cost.total_latency(1.0, 1.0, 1, 0.0) == 1.0
    with pytest.raises(AttributeError):
        edgeopt.no_such_thing  # noqa: B018


ROOT = Path(__file__).resolve().parents[1]


def _existing_public_modules() -> set[str]:
    """Public modules and subpackages of the source tree (the ``edgeopt`` command aside)."""
    package = ROOT / "src" / "edgeopt"
    names = {p.stem for p in package.glob("*.py") if not p.name.startswith("_")}
    names |= {p.parent.name for p in package.glob("*/__init__.py") if not p.parent.name[0] == "_"}
    names |= {"experiments", "profiles"}  # experiments/ and models/, mapped in by setup.py
    return names - {"cli"}


def test_every_advertised_name_exists_and_every_subpackage_is_advertised():
    import edgeopt

    advertised = set(edgeopt.__all__) - {"__version__"}
    assert advertised == _existing_public_modules()
    for name in sorted(advertised):
        module = importlib.import_module(f"edgeopt.{name}")
        assert getattr(edgeopt, name) is module


def test_star_import_binds_every_advertised_name():
    code = (
        "from edgeopt import *\n"
        "import edgeopt\n"
        "missing = [n for n in edgeopt.__all__ if n not in globals()]\n"
        "assert not missing, missing\n"
        "print(len(edgeopt.__all__))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == len(__import__("edgeopt").__all__)
