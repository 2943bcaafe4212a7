"""Discovery of registered experiments through the ``edgeopt.experiments`` entry points."""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
from types import ModuleType

from edgeopt._validation import check_choice
from edgeopt.repro._experiment import Experiment

__all__ = ["ENTRY_POINT_GROUP", "registry", "get_experiment"]

#: Entry-point group naming modules or packages of experiments.
ENTRY_POINT_GROUP = "edgeopt.experiments"


def _experiment_modules(module: ModuleType) -> list[ModuleType]:
    """``module`` itself, or every public submodule of it when it is a package."""
    if not hasattr(module, "__path__"):
        return [module]
    found = [module]
    for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            found.append(importlib.import_module(f"{module.__name__}.{info.name}"))
    return found


def registry() -> dict[str, Experiment]:
    """All registered experiments by name, sorted by name.

    Every entry point of the group ``edgeopt.experiments`` names a module or a package;
    each module (and each public submodule of a package) may define ``EXPERIMENT`` (one
    :class:`Experiment`) or ``EXPERIMENTS`` (a list).  Modules are imported by their package
    name, so an experiment is registered once however its file was imported elsewhere.

    Returns
    -------
    dict of str to Experiment

    Raises
    ------
    RuntimeError
        If two experiments share a name.

    Examples
    --------
    >>> from edgeopt.repro import registry
    >>> sorted(registry())[:2]
    ['aircomp_baa', 'aircomp_selection']
    """
    found: dict[str, Experiment] = {}
    entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    names = sorted({ep.value for ep in entry_points})
    for target in names:
        for module in _experiment_modules(importlib.import_module(target)):
            items = list(getattr(module, "EXPERIMENTS", []))
            if hasattr(module, "EXPERIMENT"):
                items.append(module.EXPERIMENT)
            for exp in items:
                if exp.name in found and found[exp.name] is not exp:
                    raise RuntimeError(f"experiment name {exp.name!r} registered twice")
                found[exp.name] = exp
    return dict(sorted(found.items()))


def get_experiment(name: str) -> Experiment:
    """Look up one registered experiment by name.

    Parameters
    ----------
    name : str
        The experiment's registry name (``edgeopt list`` shows them).

    Returns
    -------
    Experiment

    Raises
    ------
    InvalidInputError
        If no experiment has that name (the message lists the known names).

    Examples
    --------
    >>> from edgeopt.repro import get_experiment
    >>> get_experiment("channel").summary.split()[0]
    'Ergodic'
    """
    reg = registry()
    return reg[check_choice(name, "name", reg)]
