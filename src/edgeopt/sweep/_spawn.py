"""What a worker process started with ``spawn`` can import, checked before any worker starts.

A ``spawn`` worker is a fresh interpreter: it receives the point function by reference
(module and name, through :mod:`pickle`) and imports it.  It also imports the driver's main
script again, under the name ``__mp_main__``, so that functions defined there can be found.
Two things then go wrong, each caught here in the driver with one message:

* the function cannot be imported by a worker (a lambda, a local function, a function of an
  interactive ``__main__``: ``python -c``, ``python -``, a notebook cell, or one defined only
  under ``if __name__ == "__main__":``);
* the main script starts its sweep at import time, so each worker starts it again while it
  imports the script: :func:`in_worker_bootstrap` tells the worker to leave quietly, and the
  driver reports the missing guard once.
"""

from __future__ import annotations

import ast
import io
import multiprocessing
import os
import pickle
import sys
import types
from pathlib import Path
from typing import Any

from edgeopt._validation import invalid_input

__all__ = ["in_worker_bootstrap", "check_sendable"]

_FIX = "put it in a module, or use executor='serial'"


def in_worker_bootstrap() -> bool:
    """Whether this process is a ``spawn`` worker still importing the driver's main script.

    :mod:`multiprocessing` marks a child process as *inheriting* while it prepares (imports
    the parent's main module) and clears the mark before it runs any task; it refuses to
    start processes in that state for the same reason.
    """
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


class _MainReferences(pickle.Pickler):
    """A pickler that records the functions and classes of ``__main__`` it pickles by name."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL)
        self.names: list[str] = []

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, type | types.FunctionType) and obj.__module__ == "__main__":
            self.names.append(obj.__qualname__)
        return NotImplemented


def _main_file() -> str | None:
    """The file a ``spawn`` worker runs to rebuild ``__main__``, or None if there is none.

    ``python -m pkg.mod`` gives a module a worker imports by name (returned as its file
    when it has one); ``python -c``, ``python -`` and interactive sessions (notebooks) give
    nothing a worker can import.
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    path = getattr(main, "__file__", None)
    if spec is not None and getattr(spec, "name", None):
        return path if isinstance(path, str) else ""
    if isinstance(path, str) and os.path.isfile(path):
        return path
    return None


def _is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"``, either way round."""
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and len(test.comparators) == 1
    ):
        return False
    sides = {test.left, test.comparators[0]}
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    texts = {s.value for s in sides if isinstance(s, ast.Constant)}
    return names == {"__name__"} and texts == {"__main__"}


def _bound(node: ast.stmt) -> set[str]:
    """The names a statement binds in its module (not inside functions or classes)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names: set[str] = set()
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    for target in targets:
        names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _guarded_only(path: str, name: str) -> bool:
    """Whether the script at ``path`` binds ``name`` only under its ``__main__`` guard."""
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    outside: set[str] = set()
    inside: set[str] = set()

    def visit(body: list[ast.stmt], guarded: bool) -> None:
        for node in body:
            (inside if guarded else outside).update(_bound(node))
            if isinstance(node, ast.If):
                visit(node.body, guarded or _is_main_guard(node.test))
                visit(node.orelse, guarded)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody):
                    visit(block, guarded)
                for handler in node.handlers:
                    visit(handler.body, guarded)
            elif isinstance(node, ast.With | ast.For | ast.While):
                visit(node.body, guarded)

    visit(tree.body, False)
    return name in inside and name not in outside


def check_sendable(func: Any, kind: str) -> None:
    """Refuse a point function the workers of executor ``kind`` could not receive.

    Parameters
    ----------
    func : callable
        The point function.
    kind : str
        The executor kind of :class:`~edgeopt.sweep.ExecutorSpec` (``"serial"``: nothing
        to check).

    Raises
    ------
    InvalidInputError
        For ``"processes"``: a function that a ``spawn`` worker cannot import by name.
        For the Dask executors: a function that cloudpickle (which sends functions of
        ``__main__`` by value) cannot serialize.
    """
    if kind == "serial":
        return
    if kind == "processes":
        finder = _MainReferences()
        try:
            finder.dump(func)
        except Exception as exc:
            raise invalid_input(
                "func", func, f"a function that worker processes can import ({exc}): {_FIX}"
            ) from None
        if not finder.names:
            return
        main_file = _main_file()
        shown = ", ".join(repr(n) for n in dict.fromkeys(finder.names))
        if main_file is None:
            raise invalid_input(
                "func",
                func,
                f"a function that worker processes can import ({shown} is defined in the "
                f"__main__ of python -c, python - or an interactive session, which they "
                f"cannot import): {_FIX}",
            )
        guarded = [n for n in finder.names if _guarded_only(main_file, n.split(".")[0])]
        if guarded:
            raise invalid_input(
                "func",
                func,
                f"a function that worker processes can import ({guarded[0]!r} is defined "
                f'only under `if __name__ == "__main__":` in {main_file}, which they do '
                f"not run): define it at the top level of the script or in a module, or "
                f"use executor='serial'",
            )
        return
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - the Dask executor reports the missing extra
        return
    try:
        cloudpickle.dumps(func)
    except Exception as exc:
        raise invalid_input(
            "func",
            func,
            f"a function that can be sent to Dask workers ({exc}): one whose closure and "
            "globals can be pickled, or use executor='serial'",
        ) from None
