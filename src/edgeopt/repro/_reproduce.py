"""Run a registered experiment through :func:`edgeopt.sweep.run_sweep` and write its outputs.

``reproduce(NAME)`` writes ``OUT/NAME/``:

- ``data.csv``: the sweep table (parameters, ``repeat``, outputs, ``error``), one row per
  point and repeat;
- ``curves.csv``, for an experiment whose points return per-round curves (a ``curve_json``
  output: a JSON object of equal-length lists): the curves as a tidy long table, one row
  per point, repeat and round (the JSON column itself stays in the store, not in
  ``data.csv``);
- the figure(s) drawn by the experiment's ``plot`` (PNG and PDF);
- ``manifest.json``: what produced them (versions, git commit, seed, grid, every constant,
  the common-random-number parameters, executor, wall time, command line);
- ``sweep.sqlite``: the results store, so an interrupted run resumes where it stopped.

Every file is written atomically (a temporary file in the same folder, then
:func:`os.replace`), so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import edgeopt
from edgeopt._validation import check_bool, invalid_input
from edgeopt.errors import InvalidInputError
from edgeopt.repro._experiment import Experiment
from edgeopt.repro._registry import get_experiment
from edgeopt.sweep import (
    connect_timeout,
    normalize_grid,
    parse_executor,
    probe,
    run_sweep,
    to_csv,
    write_text_atomic,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ReproduceResult",
    "reproduce",
    "manifest_packages",
    "check_out_dir",
    "curves_table",
    "CURVE_COLUMN",
]

#: The output column in which a point returns its per-round curves (a JSON object).
CURVE_COLUMN = "curve_json"

#: Packages whose versions go into every manifest (when installed).
MANIFEST_PACKAGES = (
    "numpy",
    "scipy",
    "numba",
    "cvxpy",
    "pandas",
    "networkx",
    "matplotlib",
    "torch",
    "dask",
    "distributed",
)


@dataclass(frozen=True)
class ReproduceResult:
    """What :func:`reproduce` did.

    Parameters
    ----------
    name : str
        Experiment name.
    out_dir : pathlib.Path
        ``OUT/NAME``.
    table : pandas.DataFrame
        The sweep table (also in ``data.csv``, which leaves out the ``curve_json`` column).
    files : list of pathlib.Path
        Every file written (data, curves, figures, manifest).
    failures : int
        Points that raised (their tracebacks are in the ``error`` column and the store).
    plot_error : str or None
        Traceback of the plot function if it failed, else None.
    wall_time_s : float
        Wall time of the whole run.
    manifest : dict
        The content of ``manifest.json``.
    curves : pandas.DataFrame or None
        The per-round curves (also in ``curves.csv``; see :func:`curves_table`), or None
        when the points return none.
    """

    name: str
    out_dir: Path
    table: pd.DataFrame
    files: list[Path]
    failures: int
    plot_error: str | None = None
    wall_time_s: float = 0.0
    manifest: dict[str, Any] = field(default_factory=dict)
    curves: pd.DataFrame | None = None

    @property
    def ok(self) -> bool:
        """True when every point succeeded and the figure was drawn."""
        return self.failures == 0 and self.plot_error is None


def manifest_packages() -> dict[str, str]:
    """Installed versions of the packages listed in ``MANIFEST_PACKAGES``."""
    found = {}
    for name in MANIFEST_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _git_commit() -> dict[str, Any] | None:
    """Commit of the edgeopt source tree, if it is a git checkout (else None)."""
    git = shutil.which("git")
    if git is None:
        return None
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            [git, "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def check_out_dir(path: str | os.PathLike[str], name: str = "out_dir") -> Path:
    """Create the output folder ``path`` if needed and make sure files can be written in it.

    Called before any work, so that an output folder that cannot be used is one clear error
    instead of a failure after the computation.

    Parameters
    ----------
    path : str or path-like
        The folder (created with its parents when missing).
    name : str
        The argument's name in the error message (``"--out"`` for the command line).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InvalidInputError
        If the folder cannot be created (a file is in the way, a read-only or virtual file
        system, no permission) or no file can be written in it; the message names ``name``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from edgeopt.repro import check_out_dir
    >>> check_out_dir(pathlib.Path(tempfile.mkdtemp()) / "out").is_dir()
    True
    >>> check_out_dir("/proc/edgeopt-out", "--out")
    Traceback (most recent call last):
    ...
    edgeopt.errors.InvalidInputError: --out='/proc/edgeopt-out' is invalid: expected a folder \
that can be created and written ([Errno 2] No such file or directory: '/proc/edgeopt-out')
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe_name = tempfile.mkstemp(prefix=".write-check-", dir=folder)
        os.close(fd)
        os.unlink(probe_name)
    except OSError as exc:
        raise invalid_input(
            name, str(path), f"a folder that can be created and written ({exc})"
        ) from None
    return folder


def _grid_columns(grid: Mapping[Any, Any]) -> list[str]:
    """The parameter names of a grid, in column order (zipped groups' names included)."""
    return [n for names, _ in normalize_grid(grid) for n in names]


def _jsonable_constants(constants: Mapping[str, Any]) -> dict[str, Any]:
    """The constants as plain JSON data (NumPy scalars to Python numbers)."""
    return {
        names[0]: rows[0][0]
        for names, rows in normalize_grid({k: [v] for k, v in constants.items()})
    }


def _jsonable_grid(grid: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for names, rows in normalize_grid(grid):
        if len(names) == 1:
            out[names[0]] = [r[0] for r in rows]
        else:
            out["zip(" + ",".join(names) + ")"] = [list(r) for r in rows]
    return out


def _curve_error(row: int, value: Any, expected: str) -> InvalidInputError:
    return invalid_input(f"{CURVE_COLUMN} of row {row}", value, expected)


def curves_table(table: pd.DataFrame, parameters: Sequence[str]) -> pd.DataFrame | None:
    """The per-round curves of a sweep table as a tidy long table (one row per round).

    A point of a training experiment returns its curves as one string output,
    ``curve_json``: a JSON object mapping each curve name to a list, every list of the
    same length (one value per round, round 0 first).  This function unfolds them.

    Parameters
    ----------
    table : pandas.DataFrame
        A sweep table (:func:`edgeopt.sweep.run_sweep`) with a ``curve_json`` column.
    parameters : sequence of str
        Its parameter columns, copied onto every round of their point.

    Returns
    -------
    pandas.DataFrame or None
        None when ``table`` has no ``curve_json`` column.  Otherwise one row per point,
        repeat and round: the ``parameters`` columns, ``repeat``, ``round`` (0, 1, ...)
        and one column per curve name (in the order they first appear).  Rows whose point
        failed (no curves) are left out; a curve that a point does not return is left
        empty on that point's rows.

    Raises
    ------
    InvalidInputError
        A ``curve_json`` value that is not a JSON object of equal-length lists, naming
        the row.

    Examples
    --------
    >>> import pandas as pd
    >>> from edgeopt.repro import curves_table
    >>> table = pd.DataFrame({"lr": [0.1, 0.2], "repeat": [0, 0],
    ...                       "curve_json": ['{"acc": [0.1, 0.5]}', '{"acc": [0.1, 0.7]}'],
    ...                       "error": [None, None]})
    >>> curves_table(table, ["lr"])
        lr  repeat  round  acc
    0  0.1       0      0  0.1
    1  0.1       0      1  0.5
    2  0.2       0      0  0.1
    3  0.2       0      1  0.7
    """
    import pandas as pd

    if CURVE_COLUMN not in table.columns:
        return None
    params = list(parameters)
    rows: list[dict[str, Any]] = []
    keys: dict[str, None] = {}
    for i, record in enumerate(table.to_dict("records")):
        text = record[CURVE_COLUMN]
        if text is None or (isinstance(text, float) and text != text):  # a failed point
            continue
        try:
            curves = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            curves = None
        if not isinstance(curves, dict) or not curves:
            raise _curve_error(i, text, "a JSON object of curve name to list of values")
        lengths = set()
        for name, values in curves.items():
            if not isinstance(values, list):
                raise _curve_error(i, text, f"lists of values (curve {name!r} is not a list)")
            lengths.add(len(values))
            keys.setdefault(name, None)
        if len(lengths) != 1:
            raise _curve_error(i, text, "curves of equal length (one value per round)")
        head = {p: record[p] for p in params}
        head["repeat"] = record["repeat"]
        for r in range(lengths.pop()):
            rows.append({**head, "round": r, **{n: v[r] for n, v in curves.items()}})
    return pd.DataFrame(rows, columns=[*params, "repeat", "round", *keys])


def _write_figures(exp: Experiment, table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Call ``exp.plot`` in a temporary folder, then move each file into place atomically."""
    # Absolute, so that the paths plot() returns do not depend on how out_dir was spelled.
    tmp = Path(tempfile.mkdtemp(prefix=".plot-", dir=out_dir)).resolve()
    try:
        written = exp.plot(table, tmp)
        moved = []
        for path in written:
            src = Path(path)
            if not src.is_absolute():  # relative to the working directory, else to tmp
                src = src.resolve() if src.exists() else tmp / src
            rel = src.resolve().relative_to(tmp)
            dest = out_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
            moved.append(dest)
        return moved
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def reproduce(
    name: str | Experiment,
    *,
    out_dir: str | os.PathLike[str] = "out",
    quick: bool = False,
    executor: str = "processes",
    store: str | os.PathLike[str] | None = None,
    progress: bool = True,
    force: bool = False,
) -> ReproduceResult:
    """Run one experiment and write its figure(s), data and manifest into ``OUT/NAME/``.

    Parameters
    ----------
    name : str or Experiment
        A registered experiment name (see ``edgeopt list``) or an :class:`Experiment`.
    out_dir : str or path-like
        Output root; the experiment writes into ``out_dir/NAME``.
    quick : bool
        Use the experiment's reduced smoke-test grid and repeat count.
    executor : str
        ``"serial"``, ``"processes"`` (default), ``"dask"`` or ``"tcp://HOST:PORT"``.
    store : str or path-like, optional
        Results store; default ``out_dir/NAME/sweep.sqlite``.  Points already in it are
        not recomputed (an interrupted run resumes).
    progress : bool
        Progress line on stderr when it is a terminal.
    force : bool
        Recompute every point even if stored.

    Returns
    -------
    ReproduceResult

    Raises
    ------
    InvalidInputError
        Unknown experiment name, bad argument, or an output folder that cannot be created
        or written; ``ConfigError`` (a subclass) for a bad executor or an unreachable
        scheduler.  All before any work.  Failing points and a
        failing plot do not raise: see ``failures`` and ``plot_error``; but an experiment
        in which every point failed raises :func:`~edgeopt.sweep.run_sweep`'s error (the
        tracebacks are in the store) and writes no table.

    Examples
    --------
    A registered experiment runs as ``reproduce("channel", quick=True)``; here a small
    experiment made on the spot (its plot draws nothing):

    >>> import tempfile
    >>> from edgeopt.repro import Experiment, reproduce
    >>> from edgeopt.sweep.demo import rayleigh_outage
    >>> exp = Experiment(name="outage", summary="Rayleigh outage", point=rayleigh_outage,
    ...                  grid=lambda quick: {"snr_db": [0, 10], "rate_bps_hz": [1.0]},
    ...                  plot=lambda table, out_dir: [], seed=5)
    >>> result = reproduce(exp, out_dir=tempfile.mkdtemp(), executor="serial", progress=False)
    >>> result.failures, sorted(p.name for p in result.files)
    (0, ['data.csv', 'manifest.json'])
    """
    start = time.perf_counter()
    started_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    if isinstance(name, Experiment):
        exp = name
    elif isinstance(name, str):
        exp = get_experiment(name)
    else:
        raise invalid_input("name", name, "an experiment name or an Experiment")
    quick = check_bool(quick, "quick")
    spec = parse_executor(executor)
    if spec.kind == "address":  # an unreachable scheduler fails before anything is written
        assert spec.address is not None
        probe(spec.address, connect_timeout())
    folder = check_out_dir(Path(out_dir) / exp.name, "out_dir")
    grid = exp.parameters(quick)
    repeats = exp.repeats(quick)
    store_path = Path(store) if store is not None else folder / "sweep.sqlite"

    table = run_sweep(
        exp.point,
        grid,
        seed=exp.seed,
        repeats=repeats,
        executor=executor,
        store=store_path,
        progress=progress,
        force=force,
        common_random_numbers=exp.common_random_numbers,
    )
    folder.mkdir(parents=True, exist_ok=True)
    summary = table.attrs.get("sweep", {})
    failures = int(summary.get("failures", int(table["error"].notna().sum())))
    curves = curves_table(table, [c for c in _grid_columns(grid) if c in table.columns])
    data = table.drop(columns=CURVE_COLUMN) if curves is not None else table
    files = [to_csv(data, folder / "data.csv")]
    if curves is not None:
        files.append(to_csv(curves, folder / "curves.csv"))

    plot_error = None
    good = table[table["error"].isna()].drop(columns="error")
    if len(good):
        try:
            files.extend(_write_figures(exp, good.reset_index(drop=True), folder))
        except Exception:
            plot_error = traceback.format_exc()
    else:
        plot_error = "no successful point to plot"

    wall = time.perf_counter() - start
    manifest: dict[str, Any] = {
        "experiment": exp.name,
        "summary": exp.summary,
        "edgeopt_version": edgeopt.__version__,
        "git": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": manifest_packages(),
        "seed": exp.seed,
        "grid": _jsonable_grid(dict(exp.grid(quick))),
        "constants": _jsonable_constants(exp.constants),
        "common_random_numbers": list(exp.common_random_numbers),
        "repeats": repeats,
        "quick": quick,
        "executor": spec.label,
        "points": int(summary.get("points", len(table))),
        "computed": int(summary.get("computed", len(table))),
        "reused_from_store": int(summary.get("reused", 0)),
        "failures": failures,
        "plot_error": plot_error,
        "code_version": summary.get("code_version"),
        "store": str(store_path),
        "started_at_utc": started_at,
        "wall_time_s": round(wall, 3),
        "command": list(sys.argv),
        "files": [str(p.relative_to(folder)) for p in files] + ["manifest.json"],
    }
    files.append(write_text_atomic(folder / "manifest.json", json.dumps(manifest, indent=2) + "\n"))
    return ReproduceResult(
        name=exp.name,
        out_dir=folder,
        table=table,
        files=files,
        failures=failures,
        plot_error=plot_error,
        wall_time_s=wall,
        manifest=manifest,
        curves=curves,
    )
