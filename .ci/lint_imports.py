"""Check edgeopt's import contracts (``[tool.importlinter]`` in pyproject.toml).

import-linter finds a package's modules by walking the folder it is imported from, but
``edgeopt.experiments`` and ``edgeopt.profiles`` live in ``experiments/`` and ``models/``
at the top of the source tree (setup.py's ``package_dir`` maps them in), so a walk of
``src/edgeopt`` misses them.  This script copies the three folders into a temporary tree
laid out as the installed package is (the mapping is read from setup.py), puts it first on
``PYTHONPATH`` and runs ``lint-imports`` on it.

Usage: ``python .ci/lint_imports.py [CONFIG]`` (default: pyproject.toml); the exit status
is lint-imports'.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_dirs(setup_py: Path = ROOT / "setup.py") -> dict[str, str]:
    """The ``package_dir`` mapping of setup.py (package name to folder)."""
    tree = ast.parse(setup_py.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "package_dir":
            return ast.literal_eval(node.value)
    raise SystemExit(f"{setup_py}: no package_dir mapping found")


def stage(dest: Path, root: Path = ROOT) -> Path:
    """Copy edgeopt and its mapped subpackages into ``dest`` as installed; return ``dest``."""
    mapping = package_dirs(root / "setup.py")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    base = root / mapping.get("", ".")
    shutil.copytree(base / "edgeopt", dest / "edgeopt", ignore=ignore)
    for package, folder in sorted(mapping.items()):
        if package:
            target = dest.joinpath(*package.split("."))
            shutil.copytree(root / folder, target, ignore=ignore, dirs_exist_ok=True)
    return dest


def lint(tree: Path, config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with ``tree`` first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [env.get("PYTHONPATH")])])
    exe = Path(sys.executable).with_name("lint-imports")
    command = [str(exe), "--no-cache", "--no-logo", *extra, str(config)]
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)


def main(argv: list[str]) -> int:
    config = Path(argv[0]).resolve() if argv else ROOT / "pyproject.toml"
    with tempfile.TemporaryDirectory(prefix="edgeopt-imports-") as tmp:
        result = lint(stage(Path(tmp)), config)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
