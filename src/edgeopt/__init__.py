"""edgeopt: wireless-aware edge AI.

Channel, rate, latency and energy models, optimization solvers for over-the-air
aggregation, small federated training loops that put the decisions in the loop, and the
sweeps and reproducible experiments that run them.

``import edgeopt`` is light: subpackages are imported on first attribute access, and torch,
dask and matplotlib are never imported here.

Examples
--------
>>> import edgeopt
>>> edgeopt.__version__
'0.1.0'
>>> float(edgeopt.units.db_to_lin(10.0))
10.0
"""

from __future__ import annotations

import importlib
from typing import Any

from edgeopt import errors, units

__version__ = "0.1.0"

#: The modules and subpackages ``edgeopt.NAME`` imports on first access.  ``nn`` and
#: ``federated`` need the ``torch`` extra.
_SUBPACKAGES = {
    "status",
    "channel",
    "cost",
    "system",
    "aircomp",
    "frequency",
    "coding",
    "offload",
    "nn",
    "federated",
    "sweep",
    "repro",
    "experiments",
    "profiles",
}

__all__ = ["__version__", "errors", "units", *sorted(_SUBPACKAGES)]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"edgeopt.{name}")
    raise AttributeError(f"module 'edgeopt' has no attribute {name!r}")
