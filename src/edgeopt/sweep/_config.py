"""Sweeps described by a TOML file (data only: nothing in it is evaluated).

This module knows point functions only: a file names one with ``function =
"module:function"``.  A caller that resolves other names (the registered experiments of
:mod:`edgeopt.repro`) reads the table with :func:`read_config_file`, turns the name into a
:class:`SweepBase` and hands both to :func:`config_from_table`.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeopt._validation import invalid_config, invalid_configs, missing_config
from edgeopt.sweep._core import run_sweep
from edgeopt.sweep._executors import parse_executor
from edgeopt.sweep._grid import normalize_grid
from edgeopt.sweep._io import to_csv, to_parquet

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CONFIG_KEYS",
    "SweepBase",
    "SweepConfig",
    "read_config_file",
    "config_from_table",
    "load_config",
    "run_config",
]

#: The keys of a sweep configuration file that :func:`config_from_table` reads.
CONFIG_KEYS = frozenset(
    {
        "function",
        "seed",
        "repeats",
        "executor",
        "store",
        "output",
        "batch_size",
        "grid",
        "zip",
        "common_random_numbers",
    }
)


@dataclass(frozen=True)
class SweepBase:
    """A point function with the grid, seed and repeats that a configuration overrides.

    :func:`config_from_table` starts from it when the file names no ``function``: the
    file's ``[grid]`` and ``[zip]`` replace the base grid parameter by parameter, and its
    ``seed``, ``repeats`` and ``common_random_numbers`` (when given) replace the base's.

    Parameters
    ----------
    func : callable
        The point function ``func(params, rng) -> dict``.
    name : str
        What the file named (shown in messages and summaries).
    grid : dict
        The grid to start from (parameter name, or tuple of zipped names, to values).
    seed : int
        Default root seed.
    repeats : int
        Default Monte Carlo repeats.
    parameters : frozenset of str, optional
        The parameter names the file may set; default: the names in ``grid``.
    common_random_numbers : tuple of str
        Default grid parameters left out of each point's seed (see
        :func:`~edgeopt.sweep.run_sweep`).

    Examples
    --------
    >>> from edgeopt.sweep import SweepBase
    >>> from edgeopt.sweep.demo import rayleigh_outage
    >>> base = SweepBase(rayleigh_outage, "outage", {"snr_db": [0, 10]}, seed=1, repeats=2)
    >>> sorted(base.known_parameters())
    ['snr_db']
    """

    func: Callable[..., Any]
    name: str
    grid: Mapping[Any, Sequence[Any]]
    seed: int
    repeats: int
    parameters: frozenset[str] | None = None
    common_random_numbers: tuple[str, ...] = ()

    def known_parameters(self) -> frozenset[str]:
        """The parameter names a configuration may set (``parameters``, else the grid's)."""
        if self.parameters is not None:
            return frozenset(self.parameters)
        names: set[str] = set()
        for key in self.grid:
            names.update(key if isinstance(key, tuple) else (key,))
        return frozenset(names)


@dataclass(frozen=True)
class SweepConfig:
    """A sweep read from a TOML file by :func:`load_config`.

    Parameters
    ----------
    path : pathlib.Path
        The file it was read from.
    func : callable
        The point function (``function``, or the :class:`SweepBase`'s).
    name : str
        The ``module:function`` path, or the :class:`SweepBase`'s name.
    grid : dict
        The full grid passed to :func:`~edgeopt.sweep.run_sweep` (zipped groups under
        tuple keys).
    seed, repeats : int
    executor : str
    store, output : pathlib.Path
        Results store (SQLite) and table (``.csv`` or ``.parquet``), relative to the
        current working directory unless absolute.
    batch_size : int or None
    common_random_numbers : tuple of str
        Grid parameters left out of each point's seed (see :func:`~edgeopt.sweep.run_sweep`).
    """

    path: Path
    func: Callable[..., Any]
    name: str
    grid: dict[Any, list[Any]]
    seed: int
    repeats: int
    executor: str = "processes"
    store: Path = field(default_factory=lambda: Path("sweep.sqlite"))
    output: Path = field(default_factory=lambda: Path("sweep.csv"))
    batch_size: int | None = None
    common_random_numbers: tuple[str, ...] = ()


def _int(data: Mapping[str, Any], key: str, where: Path, minimum: int) -> int | None:
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid_config(where, key, value, f"an integer >= {minimum}")
    return value


def _str(data: Mapping[str, Any], key: str, where: Path) -> str | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str) or not value:
        raise invalid_config(where, key, value, "a non-empty string")
    return value


def _crn(data: Mapping[str, Any], where: Path, grid: Mapping[Any, Any]) -> tuple[str, ...] | None:
    """The file's ``common_random_numbers`` (None when absent): grid parameter names."""
    if "common_random_numbers" not in data:
        return None
    value = data["common_random_numbers"]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise invalid_config(
            where, "common_random_numbers", value, 'a list of parameter names, e.g. ["scheme"]'
        )
    names: set[str] = set()
    for key in grid:
        names.update(key if isinstance(key, tuple) else (key,))
    unknown = [v for v in value if v not in names]
    if unknown:
        raise invalid_config(
            where,
            "common_random_numbers",
            value,
            f"names of grid parameters (not {', '.join(map(repr, unknown))}; the grid has "
            f"{', '.join(map(repr, sorted(names)))})",
        )
    return tuple(sorted(set(value)))


def _check_parquet_engine(where: Path | None, output: str) -> None:
    """Refuse a Parquet output before any work when no Parquet engine is installed."""
    if importlib.util.find_spec("pyarrow") is None:
        raise invalid_config(
            where,
            "output",
            output,
            "a .csv file, or pyarrow installed to write a .parquet one: "
            "pip install 'edgeopt[parquet]'",
        )


def _installed_only_path() -> list[str]:
    """``sys.path`` without the implicit current directory.

    A configuration file is data: its ``function`` may name an installed module or one in
    a folder the user put on ``PYTHONPATH`` (``PYTHONPATH=.`` included), never a file that
    merely lies in the working directory.  Python adds that directory to ``sys.path`` on
    its own (``""`` for ``python -c`` and the prompt, its path for ``python -m`` or a script
    started from it); those entries are dropped.
    """
    cwd = os.path.realpath(os.getcwd())
    explicit = set()
    if not sys.flags.ignore_environment:  # -E and -I: PYTHONPATH was not read
        for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
            if entry:
                explicit.add(os.path.realpath(entry))
    kept = []
    for p in sys.path:
        if not p:
            continue
        real = os.path.realpath(p)
        if real != cwd or real in explicit:
            kept.append(p)
    return kept


def _import_function(spec: str, where: Path) -> Callable[..., Any]:
    module_name, sep, qualname = spec.partition(":")
    if not sep or not module_name or not qualname:
        raise invalid_config(where, "function", spec, "'package.module:function'")
    if not all(part.isidentifier() for part in module_name.split(".")):
        raise invalid_config(
            where, "function", spec, f"'package.module:function', not the module {module_name!r}"
        )
    saved = sys.path[:]
    try:
        sys.path[:] = _installed_only_path()
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise invalid_config(
            where,
            "function",
            spec,
            f"a function of an installed module or of one on PYTHONPATH (the current "
            f"directory is not searched: a configuration file is data), but cannot import "
            f"{module_name!r}: {exc}",
        ) from exc
    finally:
        sys.path[:] = saved
    for part in qualname.split("."):
        if not part.isidentifier():
            raise invalid_config(
                where, "function", spec, f"'package.module:function', not the name {part!r}"
            )
        if not hasattr(obj, part):
            raise invalid_config(
                where, "function", spec, f"a function of {module_name!r}, which has no {qualname!r}"
            )
        obj = getattr(obj, part)
    if not inspect.isfunction(obj):
        raise invalid_config(
            where,
            "function",
            spec,
            f"a Python function func(params, rng) -> dict, not a {type(obj).__name__}",
        )
    return obj  # type: ignore[no-any-return]


def _grid_section(raw: Any, where: Path) -> dict[str, list[Any]]:
    if not isinstance(raw, Mapping):
        raise invalid_config(where, "grid", raw, "a table of parameter = [values]")
    grid = {}
    for name, values in raw.items():
        grid[name] = list(values) if isinstance(values, list) else [values]
    return grid


def _zip_section(raw: Any, where: Path) -> list[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    groups = raw if isinstance(raw, list) else [raw]
    out = []
    for g, group in enumerate(groups):
        label = "zip" if not isinstance(raw, list) else f"zip[{g}]"
        if not isinstance(group, Mapping) or not group:
            raise invalid_config(where, label, group, "a non-empty table of parameter = [values]")
        lengths = {}
        for name, values in group.items():
            if not isinstance(values, list):
                raise invalid_config(where, f"{label}[{name!r}]", values, "a list")
            lengths[name] = len(values)
        if len(set(lengths.values())) != 1:
            shown = ", ".join(f"{label}[{k!r}] of length {n}" for k, n in lengths.items())
            raise invalid_configs(where, shown, "lists of equal lengths")
        names = tuple(group)
        rows = list(zip(*(group[n] for n in names), strict=True))
        out.append((names, rows))
    return out


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a configuration file as a TOML table, without checking its keys.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict
        The parsed table (:mod:`tomllib`: nothing in the file is evaluated).

    Raises
    ------
    ConfigError
        Missing or unreadable file, not UTF-8, malformed TOML (with line and column).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from edgeopt.sweep import read_config_file
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = path.write_text('seed = 3\\n[grid]\\nsnr_db = [0, 10]\\n')
    >>> read_config_file(path)
    {'seed': 3, 'grid': {'snr_db': [0, 10]}}
    """
    where = Path(path)
    try:
        text = where.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise invalid_config(
            None, "config", str(where), f"a readable UTF-8 TOML file, but cannot read it: {exc}"
        ) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise invalid_config(
            None, "config", str(where), f"a TOML file, but this is malformed TOML: {exc}"
        ) from exc


def config_from_table(
    data: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    base: SweepBase | None = None,
    extra_keys: Collection[str] = (),
) -> SweepConfig:
    """Check a configuration table (as :func:`read_config_file` returns it) and build the sweep.

    Parameters
    ----------
    data : mapping
        The table.  Its keys are those of :func:`load_config` (``CONFIG_KEYS``).
    path : str or path-like
        The file it was read from: named in every message, and the stem of the default
        store and output paths.
    base : SweepBase, optional
        Without it the table must name a ``function`` and a ``seed``.  With it the table
        must not name a ``function``: its ``[grid]`` and ``[zip]`` override the base grid
        (a parameter the base does not know is an error), and ``seed``, ``repeats`` and
        ``common_random_numbers`` default to the base's.
    extra_keys : collection of str
        Further keys the caller has read itself: accepted, ignored here, and listed with
        ``CONFIG_KEYS`` when an unknown key is reported.

    Returns
    -------
    SweepConfig

    Raises
    ------
    ConfigError
        As :func:`load_config`.  Nothing is computed and no store is opened; ``function``
        is imported last, once every other key has been checked.

    Examples
    --------
    >>> from edgeopt.sweep import SweepBase, config_from_table
    >>> from edgeopt.sweep.demo import rayleigh_outage
    >>> base = SweepBase(rayleigh_outage, "outage",
    ...                  {"snr_db": [0, 10], "rate_bps_hz": [1.0]}, seed=1, repeats=2)
    >>> config = config_from_table({"grid": {"snr_db": [5]}}, "outage.toml", base=base)
    >>> config.grid, config.seed, config.repeats
    ({'snr_db': [5], 'rate_bps_hz': [1.0]}, 1, 2)
    """
    where = Path(path)
    accepted = CONFIG_KEYS | set(extra_keys)
    unknown = sorted(set(data) - accepted)
    if unknown:
        raise invalid_configs(
            where,
            f"unknown key(s) {', '.join(map(repr, unknown))}",
            "some of " + ", ".join(sorted(accepted)),
        )
    function = _str(data, "function", where)
    if base is None and function is None:
        raise missing_config(where, "function", "function = 'package.module:function'")
    if base is not None and function is not None:
        raise invalid_config(
            where, "function", function, f"no function: the sweep is already {base.name!r}"
        )
    seed = _int(data, "seed", where, 0)
    repeats = _int(data, "repeats", where, 1)
    batch_size = _int(data, "batch_size", where, 1)
    executor = _str(data, "executor", where) or "processes"
    parse_executor(executor)
    grid_raw = _grid_section(data.get("grid", {}), where)
    zips = _zip_section(data["zip"], where) if "zip" in data else []

    given = list(grid_raw) + [n for names, _ in zips for n in names]
    duplicated = sorted({n for n in given if given.count(n) > 1})
    if duplicated:
        raise invalid_configs(
            where,
            f"[grid], [zip] (parameter(s) {', '.join(map(repr, duplicated))} given more than once)",
            "each parameter given once",
        )

    base_grid: dict[Any, list[Any]] = {}
    if base is not None:
        known = base.known_parameters()
        bad = [n for n in given if n not in known]
        if bad:
            raise invalid_configs(
                where,
                f"unknown parameter(s) {', '.join(map(repr, bad))} for {base.name!r}",
                f"some of {', '.join(sorted(known))}",
            )
        base_grid = {k: list(v) for k, v in base.grid.items()}
        name = base.name
        seed = base.seed if seed is None else seed
        repeats = base.repeats if repeats is None else repeats
    else:
        assert function is not None
        name = function
        if seed is None:
            raise missing_config(where, "seed", "a root seed (seed = 1) with 'function'")
        repeats = 1 if repeats is None else repeats

    grid: dict[Any, list[Any]] = {}
    zipped = {n for names, _ in zips for n in names}
    for key, values in base_grid.items():
        if key in zipped:
            continue
        grid[key] = grid_raw.get(key, values)
    for key, values in grid_raw.items():
        grid.setdefault(key, values)
    for names, rows in zips:
        grid[names if len(names) > 1 else names[0]] = (
            rows if len(names) > 1 else [r[0] for r in rows]
        )
    normalize_grid(grid, where=where)
    crn = _crn(data, where, grid)
    if crn is None:
        crn = base.common_random_numbers if base is not None else ()

    folder = Path("out") / "sweeps"
    store = _str(data, "store", where)
    output = _str(data, "output", where)
    out_path = Path(output) if output else folder / f"{where.stem}.csv"
    if out_path.suffix not in (".csv", ".parquet"):
        raise invalid_config(where, "output", output, "a .csv or .parquet file")
    if out_path.suffix == ".parquet":
        _check_parquet_engine(where, str(out_path))
    # the named function is imported last, once every other key has been checked
    func = base.func if base is not None else _import_function(name, where)
    return SweepConfig(
        path=where,
        func=func,
        name=name,
        grid=grid,
        seed=seed,
        repeats=repeats,
        executor=executor,
        store=Path(store) if store else folder / f"{where.stem}.sqlite",
        output=out_path,
        batch_size=batch_size,
        common_random_numbers=tuple(crn),
    )


def load_config(path: str | os.PathLike[str]) -> SweepConfig:
    """Read and check a sweep configuration file (TOML) that names a point function.

    The file is parsed with :mod:`tomllib`: it is data, and no text in it is ever
    evaluated.  Keys::

        function = "pkg.mod:point"  # an importable point function func(params, rng) -> dict
        seed = 1                    # root seed (required)
        repeats = 3                 # Monte Carlo repeats (default 1)
        executor = "processes"      # serial | processes | dask | tcp://HOST:PORT
        store = "runs/ch.sqlite"    # default: out/sweeps/<config name>.sqlite
        output = "runs/ch.csv"      # .csv or .parquet; default: out/sweeps/<config name>.csv
        batch_size = 8              # default: adaptive
        common_random_numbers = ["scheme"]  # grid parameters left out of the seeds

        [grid]                      # crossed; a scalar means a one-value list
        snr_db = [0, 10, 20]

        [zip]                       # varied together (lists of equal length);
        num_devices = [10, 20]      # use [[zip]] tables for several groups
        bandwidth_hz = [1e6, 2e6]

    The grid must be complete and cannot be checked against the function (a dict of
    parameters has no signature).  A file naming a registered ``experiment`` instead is
    read by :func:`edgeopt.repro.load_config` (and ``edgeopt sweep``), which resolves the
    name and starts from that experiment's grid.  Relative ``store`` and ``output`` paths,
    like the defaults, are relative to the current working directory (as for
    ``edgeopt reproduce --out``), not to the file's folder.

    Security: ``function`` imports a module that is already installed and calls one of
    its functions.  No code written in the file runs, but the file does choose which
    installed function runs: run configuration files you trust.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    SweepConfig

    Raises
    ------
    ConfigError
        Missing or unreadable file, malformed TOML (with line and column), unknown keys,
        wrong types, unequal zipped lists, bad executor address form, a module that cannot
        be imported.  Nothing is computed and no store is opened.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from edgeopt.sweep import load_config
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "outage.toml"
    >>> _ = path.write_text('''
    ... function = "edgeopt.sweep.demo:rayleigh_outage"
    ... seed = 3
    ... [grid]
    ... snr_db = [0, 10]
    ... [zip]
    ... rate_bps_hz = [1.0, 2.0]
    ... num_samples = [1000, 2000]
    ... ''')
    >>> config = load_config(path)
    >>> config.grid
    {'snr_db': [0, 10], ('rate_bps_hz', 'num_samples'): [(1.0, 1000), (2.0, 2000)]}
    >>> config.store.as_posix(), config.output.as_posix()
    ('out/sweeps/outage.sqlite', 'out/sweeps/outage.csv')
    """
    where = Path(path)
    data = read_config_file(where)
    if "experiment" in data:
        raise invalid_config(
            where,
            "experiment",
            data["experiment"],
            "function = 'package.module:function' here: a registered experiment is read by "
            "edgeopt.repro.load_config (and `edgeopt sweep`)",
        )
    return config_from_table(data, where)


def run_config(
    config: SweepConfig | str | os.PathLike[str],
    *,
    executor: str | None = None,
    store: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """Run a sweep configuration and write its table (CSV or Parquet).

    Parameters
    ----------
    config : SweepConfig or path
        A loaded configuration, or the path of a TOML file read by :func:`load_config`
        (a file naming a registered experiment runs with :func:`edgeopt.repro.run_config`).
    executor, store, output : optional
        Override the configuration's executor, store path and output path.
    force : bool
        Recompute stored points.
    progress : bool
        Show a progress line on a terminal.

    Returns
    -------
    pandas.DataFrame
        As :func:`~edgeopt.sweep.run_sweep`; also written to ``output``.

    Raises
    ------
    ConfigError
        As :func:`load_config`, and for an unreachable scheduler; raised before any work.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from edgeopt.sweep import run_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "s.toml").write_text('''
    ... function = "edgeopt.sweep.demo:rayleigh_outage"
    ... seed = 3
    ... executor = "serial"
    ... [grid]
    ... snr_db = [0, 10]
    ... rate_bps_hz = 1.0
    ... ''')
    >>> table = run_config(folder / "s.toml", store=folder / "s.sqlite",
    ...                    output=folder / "s.parquet", progress=False)
    >>> len(table), sorted(p.name for p in folder.iterdir())
    (2, ['s.parquet', 's.sqlite', 's.toml'])
    """
    cfg = config if isinstance(config, SweepConfig) else load_config(config)
    out_path = Path(output) if output is not None else cfg.output
    if out_path.suffix not in (".csv", ".parquet"):
        raise invalid_config(None, "output", str(out_path), "a .csv or .parquet file")
    if out_path.suffix == ".parquet":
        _check_parquet_engine(None, str(out_path))
    table = run_sweep(
        cfg.func,
        cfg.grid,
        seed=cfg.seed,
        repeats=cfg.repeats,
        executor=executor if executor is not None else cfg.executor,
        store=store if store is not None else cfg.store,
        batch_size=cfg.batch_size,
        progress=progress,
        force=force,
        common_random_numbers=cfg.common_random_numbers,
    )
    (to_parquet if out_path.suffix == ".parquet" else to_csv)(table, out_path)
    return table
