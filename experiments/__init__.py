"""edgeopt's reproducible experiments: one module per reproduced figure.

This package is content for the reproduce machinery of :mod:`edgeopt.repro`: every public
module here defines a module-level ``EXPERIMENT`` (an :class:`edgeopt.repro.Experiment`) or
``EXPERIMENTS`` (a list of them).  The package is registered through the ``edgeopt.experiments``
entry point, and its modules are discovered, not listed by hand, so a new file here is picked
up without reinstalling.  Modules import heavy dependencies (torch, matplotlib) inside
functions so that ``edgeopt list`` stays fast.

The names below are re-exported from :mod:`edgeopt.repro` for convenience.

Examples
--------
>>> from edgeopt.experiments import registry
>>> "channel" in registry()
True
"""

from __future__ import annotations

from edgeopt.repro import Experiment, ReproduceResult, get_experiment, registry, reproduce

__all__ = ["Experiment", "ReproduceResult", "registry", "get_experiment", "reproduce"]
