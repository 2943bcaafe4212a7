"""Sweep configuration files that name a registered experiment.

:mod:`edgeopt.sweep` reads files that name a point function; this module adds the
``experiment = "NAME"`` form: it resolves the name in the registry and hands
:func:`edgeopt.sweep.config_from_table` the experiment's point function, grid, seed and
repeats as a :class:`~edgeopt.sweep.SweepBase`, which the file then overrides.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeopt._validation import invalid_config, invalid_configs
from edgeopt.repro._registry import registry
from edgeopt.sweep import SweepBase, SweepConfig, config_from_table, read_config_file
from edgeopt.sweep import run_config as run_sweep_config

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXPERIMENT_KEYS", "load_config", "run_config"]

#: The keys this module reads itself, besides :data:`edgeopt.sweep.CONFIG_KEYS`.
EXPERIMENT_KEYS = ("experiment", "quick", "constants")


def _names(grid: Mapping[Any, Sequence[Any]]) -> set[str]:
    names: set[str] = set()
    for key in grid:
        names.update(key if isinstance(key, tuple) else (key,))
    return names


def load_config(path: str | os.PathLike[str]) -> SweepConfig:
    """Read and check a sweep configuration file that names an experiment or a function.

    Besides the keys of :func:`edgeopt.sweep.load_config`, a file may name a registered
    experiment (``edgeopt list`` shows them) instead of a ``function``::

        experiment = "channel"      # instead of function = "pkg.mod:point"
        quick = false               # start from the experiment's quick grid
        seed = 1                    # default: the experiment's
        repeats = 3                 # default: the experiment's (full or quick)

        common_random_numbers = []  # default: the experiment's

        [constants]                 # new values of some of the experiment's constants
        lr = 0.05

        [grid]                      # overrides the experiment's grid parameter by parameter
        snr_db = [0, 10, 20]
        local_steps = [1, 5]        # a constant named here is swept

    ``[grid]`` and ``[zip]`` then override the experiment's own grid (full, or quick with
    ``quick = true``) parameter by parameter, and may sweep any of its constants;
    ``[constants]`` gives a constant another (single) value, written as the constant is (a
    list-valued constant as a list).  A parameter the experiment does not have is an error,
    and so is a name given in both ``[constants]`` and ``[grid]`` or ``[zip]``.  The
    constants are columns of the result table like the grid parameters.  A file that names
    a ``function`` is read as :func:`edgeopt.sweep.load_config` reads it.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    SweepConfig

    Raises
    ------
    ConfigError
        As :func:`edgeopt.sweep.load_config`, and for both or neither of ``experiment`` and
        ``function``, an unknown experiment, parameter or constant, or ``quick`` or
        ``[constants]`` without ``experiment``.  Nothing is computed and no store is opened.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from edgeopt.repro import get_experiment, load_config
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "channel.toml"
    >>> _ = path.write_text('experiment = "channel"\\nquick = true\\n[grid]\\nsnr_db = [0.0]\\n')
    >>> config = load_config(path)
    >>> config.grid["snr_db"], config.seed == get_experiment("channel").seed
    ([0.0], True)
    >>> _ = path.write_text('experiment = "channel"\\n[constants]\\ntarget_rate_bps_hz = 2.0\\n')
    >>> load_config(path).grid["target_rate_bps_hz"]
    [2.0]
    """
    where = Path(path)
    data = read_config_file(where)
    experiment = data.get("experiment")
    if experiment is not None and (not isinstance(experiment, str) or not experiment):
        raise invalid_config(where, "experiment", experiment, "a non-empty string")
    if (experiment is None) == ("function" not in data):
        raise invalid_configs(
            where, "experiment, function", "exactly one of 'experiment' or 'function'"
        )
    quick = data.get("quick", False)
    if not isinstance(quick, bool):
        raise invalid_config(where, "quick", quick, "true or false")
    if experiment is None:
        if quick:
            raise invalid_config(
                where, "quick", quick, "false without 'experiment' (a function has no quick grid)"
            )
        if "constants" in data:
            raise invalid_config(
                where,
                "constants",
                data["constants"],
                "no [constants] without 'experiment' (give a function's parameters in [grid])",
            )
        return config_from_table(data, where, extra_keys=EXPERIMENT_KEYS)
    known = registry()
    if experiment not in known:
        raise invalid_config(
            where, "experiment", experiment, "one of " + ", ".join(map(repr, known))
        )
    exp = known[experiment]
    base = SweepBase(
        func=exp.point,
        name=exp.name,
        grid=exp.parameters(quick),
        seed=exp.seed,
        repeats=exp.repeats(quick),
        parameters=frozenset(_names(exp.grid(False)) | _names(exp.grid(True)) | set(exp.constants)),
        common_random_numbers=exp.common_random_numbers,
    )
    table = dict(data)
    if "constants" in table:
        table["grid"] = _merge_constants(table, exp.constants, exp.name, where)
        del table["constants"]
    return config_from_table(table, where, base=base, extra_keys=EXPERIMENT_KEYS)


def _merge_constants(
    data: Mapping[str, Any], constants: Mapping[str, Any], name: str, where: Path
) -> dict[str, Any]:
    """The file's ``[grid]`` with each ``[constants]`` value added as a one-value list."""
    raw = data["constants"]
    if not isinstance(raw, Mapping):
        raise invalid_config(where, "constants", raw, "a table of constant = value")
    unknown = [k for k in raw if k not in constants]
    if unknown:
        known = ", ".join(constants) or "none"
        raise invalid_configs(
            where,
            f"[constants] (unknown constant(s) {', '.join(map(repr, unknown))} of {name!r})",
            f"some of the experiment's constants: {known}",
        )
    grid = data.get("grid", {})
    if not isinstance(grid, Mapping):
        raise invalid_config(where, "grid", grid, "a table of parameter = [values]")
    zipped = data.get("zip", [])
    zip_names = {
        n
        for g in (zipped if isinstance(zipped, list) else [zipped])
        if isinstance(g, Mapping)
        for n in g
    }
    twice = [k for k in raw if k in grid or k in zip_names]
    if twice:
        raise invalid_configs(
            where,
            f"[constants], [grid], [zip] (parameter(s) {', '.join(map(repr, twice))} given more "
            "than once)",
            "each parameter given once: a constant's value in [constants], or its values in [grid]",
        )
    return {**grid, **{k: [v] for k, v in raw.items()}}


def run_config(
    config: SweepConfig | str | os.PathLike[str],
    *,
    executor: str | None = None,
    store: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """Run a sweep configuration (experiment or function) and write its table.

    Parameters
    ----------
    config : SweepConfig or path
        A loaded configuration, or the path of a TOML file read by :func:`load_config`.
    executor, store, output, force, progress
        As :func:`edgeopt.sweep.run_config`.

    Returns
    -------
    pandas.DataFrame
        As :func:`edgeopt.sweep.run_sweep`; also written to ``output``.

    Raises
    ------
    ConfigError
        As :func:`load_config`, and for an unreachable scheduler; raised before any work.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from edgeopt.repro import run_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ch.toml").write_text('''
    ... experiment = "channel"
    ... quick = true
    ... executor = "serial"
    ... [grid]
    ... snr_db = [10.0]
    ... num_antennas = [1]
    ... samples = [2000]
    ... ''')
    >>> table = run_config(folder / "ch.toml", store=folder / "ch.sqlite",
    ...                    output=folder / "ch.csv", progress=False)
    >>> len(table), bool(table["error"].isna().all())
    (1, True)
    """
    cfg = config if isinstance(config, SweepConfig) else load_config(config)
    return run_sweep_config(
        cfg, executor=executor, store=store, output=output, force=force, progress=progress
    )
