"""The import contracts of pyproject.toml hold, see every module, and catch an upward import."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"


def _script():
    spec = importlib.util.spec_from_file_location("lint_imports", ROOT / ".ci" / "lint_imports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lint_imports = _script()


def test_the_contracts_hold(tmp_path):
    result = lint_imports.lint(lint_imports.stage(tmp_path), CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_staged_tree_holds_every_module_of_the_installed_package(tmp_path):
    """import-linter sees the mapped folders as edgeopt.experiments and edgeopt.profiles."""
    tree = lint_imports.stage(tmp_path)
    code = (
        "import grimp, json\n"
        "graph = grimp.build_graph('edgeopt', cache_dir=None)\n"
        "print(json.dumps(sorted(graph.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(out.stdout))
    expected = {"edgeopt.profiles", "edgeopt.experiments"}
    expected |= {f"edgeopt.experiments.{p.stem}" for p in (ROOT / "experiments").glob("*.py")}
    expected.discard("edgeopt.experiments.__init__")
    src = ROOT / "src"
    for path in (src / "edgeopt").rglob("*.py"):
        name = ".".join(path.relative_to(src).with_suffix("").parts)
        expected.add(name.removesuffix(".__init__"))
    assert expected <= modules, sorted(expected - modules)


UPWARD = [
    # (module written into the staged tree, its source, the contract that must break)
    ("sweep/_upward.py", "from edgeopt import repro\n", "Layers"),
    ("sweep/_upward.py", "from edgeopt.channel import rates\n", "Layers"),
    ("channel/_upward.py", "import edgeopt.aircomp\n", "Layers"),
    ("repro/_upward.py", "import edgeopt.experiments\n", "Layers"),
    ("cost/_upward.py", "from edgeopt.sweep import run_sweep\n", "Only the running stack"),
    ("aircomp/_upward.py", "def f():\n    import torch\n", "torch is imported only"),
    ("repro/_upward.py", "import matplotlib.pyplot\n", "Dask and matplotlib"),
]


@pytest.mark.parametrize(("path", "source", "contract"), UPWARD, ids=[u[0] + u[1] for u in UPWARD])
def test_an_import_against_the_layers_breaks_a_contract(tmp_path, path, source, contract):
    tree = lint_imports.stage(tmp_path)
    module = tree / "edgeopt" / path
    module.write_text(source)
    result = lint_imports.lint(tree, CONFIG)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts")[-1]
    assert contract in broken
    assert "edgeopt." + path.removesuffix(".py").replace("/", ".") in broken
