"""Parameter sweeps: grids, per-point seeds, executors (serial, processes, Dask), a store.

:func:`run_sweep` runs a point function ``func(params, rng) -> dict`` over a grid of
parameters and Monte Carlo repeats and returns a :class:`pandas.DataFrame`; the same call
runs in this process, on a local process pool, on a Dask ``LocalCluster`` or on an existing
Dask scheduler, with identical results.  A SQLite store makes long sweeps resumable.
Sweeps can also be described by a TOML file that names a point function
(:func:`load_config`, :func:`run_config`); :mod:`edgeopt.repro` builds on
:func:`config_from_table` for files that name a registered experiment instead.

This package knows point functions only, and uses nothing of edgeopt but its bottom
layer (errors, statuses, input checks, units).  Dask is imported only when a Dask executor
is used.

Examples
--------
>>> from edgeopt.sweep import run_sweep
>>> from edgeopt.sweep.demo import rayleigh_outage
>>> table = run_sweep(rayleigh_outage, {"snr_db": [5.0], "rate_bps_hz": [1.0, 2.0]},
...                   seed=0, executor="serial", progress=False)
>>> table.shape
(2, 7)
"""

from __future__ import annotations

from edgeopt.sweep._config import (
    CONFIG_KEYS,
    SweepBase,
    SweepConfig,
    config_from_table,
    load_config,
    read_config_file,
    run_config,
)
from edgeopt.sweep._core import run_sweep
from edgeopt.sweep._executors import (
    ExecutorSpec,
    connect_timeout,
    cpu_count,
    parse_executor,
    probe,
)
from edgeopt.sweep._grid import (
    check_common_random_numbers,
    code_version,
    expand_grid,
    normalize_grid,
    params_hash,
    point_seed,
)
from edgeopt.sweep._io import to_csv, to_parquet, write_text_atomic
from edgeopt.sweep._store import read_store

__all__ = [
    "run_sweep",
    "expand_grid",
    "normalize_grid",
    "point_seed",
    "check_common_random_numbers",
    "params_hash",
    "code_version",
    "read_store",
    "to_csv",
    "to_parquet",
    "write_text_atomic",
    "ExecutorSpec",
    "parse_executor",
    "probe",
    "connect_timeout",
    "cpu_count",
    "CONFIG_KEYS",
    "SweepBase",
    "SweepConfig",
    "read_config_file",
    "config_from_table",
    "load_config",
    "run_config",
]
