"""`import edgeopt` and its solver subpackages stay light: no torch, dask or matplotlib."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "dask", "distributed", "matplotlib")


@pytest.mark.parametrize(
    "module",
    ["edgeopt", "edgeopt.units", "edgeopt.cost", "edgeopt.channel", "edgeopt.experiments"],
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
