"""Every InvalidInputError (and ConfigError) is built by edgeopt._validation, nowhere else.

The scan reads every ``.py`` file under ``src/``, ``experiments/`` and ``models/`` with
:mod:`ast` and flags, outside ``src/edgeopt/_validation.py``:

* a call of an error class (``InvalidInputError(...)``, ``errors.ConfigError(...)``, an
  alias of one), whatever its argument: an f-string, a literal, or a variable holding
  a message built earlier;
* ``raise InvalidInputError`` without a call (an error with no message);
* a class derived from one of them (it would be a way around the rule).

The error classes are every subclass of :class:`~edgeopt.errors.InvalidInputError` defined
in :mod:`edgeopt.errors`, so a new one is covered without editing this test.  Modules raise
``invalid_input(name, value, expected)``, ``invalid_inputs(names, expected)``,
``missing_input(name, expected)``, ``invalid_config(where, key, value, expected)``,
``invalid_configs(where, names, expected)`` or a ``check_*`` helper instead.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from edgeopt import errors
from edgeopt.errors import InvalidInputError

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("src", "experiments", "models")
HOME = "src/edgeopt/_validation.py"
DEFINITIONS = "src/edgeopt/errors.py"

ERROR_CLASSES = frozenset(
    name
    for name, obj in vars(errors).items()
    if inspect.isclass(obj) and issubclass(obj, InvalidInputError)
)

#: "path::function" (the enclosing function's qualified name, "<module>" at the top) -> why
#: an error there cannot come from edgeopt._validation.  Empty: every one can (configuration
#: files and grids have invalid_config / invalid_configs).
ALLOWED: dict[str, str] = {}


def _aliases(tree: ast.AST) -> set[str]:
    """Local names bound to an error class by ``from ... import X as Y``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in ERROR_CLASSES:
                    names.add(alias.asname or alias.name)
    return names


def _is_error_class(node: ast.expr, aliases: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in ERROR_CLASSES or node.id in aliases
    if isinstance(node, ast.Attribute):  # errors.InvalidInputError, edgeopt.errors.ConfigError
        return node.attr in ERROR_CLASSES
    return False


def _enclosing(tree: ast.AST) -> dict[ast.AST, str]:
    """The qualified name of the function or class each node sits in."""
    owner: dict[ast.AST, str] = {}

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            owner[child] = scope
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name if scope == "<module>" else f"{scope}.{child.name}"
            visit(child, inner)

    visit(tree, "<module>")
    return owner


def hand_built_errors(source: str) -> list[tuple[int, str, str]]:
    """``(line, scope, what)`` of every error built outside the validation helpers."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    scope = _enclosing(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_error_class(node.func, aliases):
            found.append((node.lineno, scope[node], f"{ast.unparse(node.func)}(...)"))
        elif (
            isinstance(node, ast.Raise)
            and node.exc is not None
            and _is_error_class(node.exc, aliases)
        ):
            found.append((node.lineno, scope[node], f"raise {ast.unparse(node.exc)}"))
        elif isinstance(node, ast.ClassDef) and any(
            _is_error_class(base, aliases) for base in node.bases
        ):
            base = ast.unparse(node.bases[0])
            found.append((node.lineno, scope[node], f"class {node.name}({base})"))
    return sorted(found)


def _sources() -> list[Path]:
    files = [p for folder in SCANNED for p in sorted((ROOT / folder).rglob("*.py"))]
    return [p for p in files if "__pycache__" not in p.parts]


# --- the scanner itself: it finds what it must and nothing else --------------------------

FLAGGED = [
    ("f-string", 'raise InvalidInputError(f"x={x!r} is invalid")'),
    ("literal", 'raise ConfigError("bad file")'),
    ("variable", 'msg = "x is bad"\nraise InvalidInputError(msg)'),
    ("concatenation", 'raise InvalidInputError("x=" + repr(x))'),
    ("attribute", 'from edgeopt import errors\nraise errors.InvalidInputError("x")'),
    ("dotted", 'import edgeopt.errors\nraise edgeopt.errors.ConfigError("x")'),
    ("alias", 'from edgeopt.errors import InvalidInputError as Bad\nraise Bad("x")'),
    ("not raised", 'err = InvalidInputError("x")'),
    ("bare raise", "raise InvalidInputError"),
    ("subclass", "class MyError(InvalidInputError):\n    pass"),
]

CLEAN = [
    ("helper", 'raise invalid_input("x", x, "a number")'),
    ("relation", 'raise invalid_inputs("a, b", "a < b") from exc'),
    ("config helper", 'raise invalid_config(path, "seed", seed, "an integer >= 0")'),
    ("except", "try:\n    f()\nexcept InvalidInputError as exc:\n    raise exc"),
    ("isinstance", "ok = isinstance(e, ConfigError)"),
    ("pytest.raises", "with pytest.raises(InvalidInputError):\n    f()"),
    ("other error", 'raise SolverError("every solver failed")'),
    ("import", "from edgeopt.errors import ConfigError, InvalidInputError"),
]


@pytest.mark.parametrize(("case", "source"), FLAGGED, ids=[c for c, _ in FLAGGED])
def test_the_scan_finds_a_hand_built_error(case: str, source: str) -> None:
    assert len(hand_built_errors(source)) == 1, case


@pytest.mark.parametrize(("case", "source"), CLEAN, ids=[c for c, _ in CLEAN])
def test_the_scan_passes_the_helpers(case: str, source: str) -> None:
    assert hand_built_errors(source) == [], case


def test_the_scan_names_the_enclosing_function() -> None:
    source = "class A:\n    def f(self):\n        raise ConfigError('x')\nraise ConfigError('y')"
    assert [(line, scope) for line, scope, _ in hand_built_errors(source)] == [
        (3, "A.f"),
        (4, "<module>"),
    ]


def test_the_error_classes_are_found_in_edgeopt_errors() -> None:
    assert {"InvalidInputError", "ConfigError"} <= ERROR_CLASSES
    assert "SolverError" not in ERROR_CLASSES  # not an input error


def test_the_validation_module_is_where_the_errors_are_built() -> None:
    """The scan is not vacuous: the helpers' home does build them, and is read."""
    assert hand_built_errors((ROOT / HOME).read_text(encoding="utf-8"))
    scanned = {p.relative_to(ROOT).as_posix() for p in _sources()}
    assert HOME in scanned and DEFINITIONS in scanned
    assert any(s.startswith("experiments/") for s in scanned)
    assert "models/__init__.py" in scanned


# --- the rule, over the whole source tree ------------------------------------------------


def test_no_module_builds_an_input_error_message_by_hand() -> None:
    offenders = []
    seen = set()
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel == HOME:
            continue
        for line, scope, what in hand_built_errors(path.read_text(encoding="utf-8")):
            if rel == DEFINITIONS and what.startswith("class "):
                continue  # where the error classes are defined
            key = f"{rel}::{scope}"
            seen.add(key)
            if key not in ALLOWED:
                offenders.append(f"{rel}:{line} in {scope}: {what}")
    stale = sorted(set(ALLOWED) - seen)
    assert not stale, f"ALLOWED lists places that no longer build an error: {stale}"
    assert not offenders, (
        f"{len(offenders)} error(s) built by hand; raise a helper of edgeopt._validation "
        "instead:\n" + "\n".join(offenders)
    )
