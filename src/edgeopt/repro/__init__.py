"""The reproduce machinery: experiments, their registry, ``reproduce`` and sweep files.

An :class:`Experiment` is a sweep (a point function, a grid, repeats, a root seed) plus a
plot function.  :func:`reproduce` runs it through :func:`edgeopt.sweep.run_sweep` and writes
``OUT/NAME/`` (figures, ``data.csv``, ``curves.csv`` for per-round curves,
``manifest.json``), every file atomically, and returns
a :class:`ReproduceResult`.  :func:`load_config` and :func:`run_config` read sweep files
(TOML) that name a registered experiment, or a point function as :mod:`edgeopt.sweep` does.

The figure modules themselves are content, not machinery: they live in the package
``edgeopt.experiments`` (the ``experiments/`` folder of the source tree) and are found
through the entry-point group ``edgeopt.experiments``.  Any installed distribution can add
its own experiments by declaring an entry point in that group that names a module (which
defines ``EXPERIMENT`` or ``EXPERIMENTS``) or a package (whose public submodules do).

This package uses :mod:`edgeopt.sweep` and the bottom layer of edgeopt (errors, input
checks) only; the experiments use the rest.

Examples
--------
>>> from edgeopt.repro import get_experiment, registry
>>> "channel" in registry()
True
>>> get_experiment("channel").name
'channel'
"""

from __future__ import annotations

from edgeopt.repro._config import EXPERIMENT_KEYS, load_config, run_config
from edgeopt.repro._experiment import Experiment
from edgeopt.repro._registry import ENTRY_POINT_GROUP, get_experiment, registry
from edgeopt.repro._reproduce import (
    CURVE_COLUMN,
    ReproduceResult,
    check_out_dir,
    curves_table,
    manifest_packages,
    reproduce,
)

__all__ = [
    "Experiment",
    "ReproduceResult",
    "ENTRY_POINT_GROUP",
    "EXPERIMENT_KEYS",
    "registry",
    "get_experiment",
    "reproduce",
    "check_out_dir",
    "manifest_packages",
    "curves_table",
    "CURVE_COLUMN",
    "load_config",
    "run_config",
]
