"""Reproducible experiments: one module per reproduced figure.

Every module in this package whose name does not start with ``_`` defines a module-level
``EXPERIMENT`` (an :class:`~edgeopt.experiments._base.Experiment`) or ``EXPERIMENTS`` (a list
of them).  Modules are discovered, not listed by hand, and must import heavy dependencies
(torch, matplotlib) inside functions so that ``edgeopt list`` stays fast.

Examples
--------
>>> from edgeopt.experiments import registry
>>> "channel" in registry()
True
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from edgeopt.errors import InvalidInputError
from edgeopt.experiments._base import Experiment

__all__ = ["Experiment", "registry", "get_experiment", "reproduce"]


def registry() -> dict[str, Experiment]:
    """All registered experiments by name, sorted by name.

    Returns
    -------
    dict of str to Experiment
    """
    found: dict[str, Experiment] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        items = list(getattr(module, "EXPERIMENTS", []))
        if hasattr(module, "EXPERIMENT"):
            items.append(module.EXPERIMENT)
        for exp in items:
            if exp.name in found:
                raise RuntimeError(f"experiment name {exp.name!r} registered twice")
            found[exp.name] = exp
    return dict(sorted(found.items()))


def reproduce(name: str | Experiment, **kwargs: Any) -> Any:
    """Run one experiment and write its figure, data and manifest.

    A thin alias of :func:`edgeopt.experiments._runner.reproduce` (same arguments:
    ``out_dir``, ``quick``, ``executor``, ``store``, ``progress``, ``force``), imported
    lazily so that discovering experiments stays cheap.

    Examples
    --------
    >>> from edgeopt.experiments import reproduce
    >>> callable(reproduce)
    True
    """
    from edgeopt.experiments._runner import reproduce as _reproduce

    return _reproduce(name, **kwargs)


def get_experiment(name: str) -> Experiment:
    """Look up one experiment by name.

    Raises
    ------
    InvalidInputError
        If no experiment has that name (the message lists the known names).
    """
    reg = registry()
    if name not in reg:
        known = ", ".join(reg) or "(none)"
        raise InvalidInputError(f"name={name!r} is invalid: expected one of {known}")
    return reg[name]
