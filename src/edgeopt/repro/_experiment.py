"""The :class:`Experiment` record every reproducible figure registers.

An experiment is a sweep: a function of one parameter point, a grid (crossed lists of
values, reduced with ``quick=True``), a repeat count for Monte Carlo and a root seed, plus a
function that turns the resulting table into figures.  The runner
(:func:`edgeopt.repro.reproduce`) executes it through :func:`edgeopt.sweep.run_sweep`
and writes ``OUT/NAME/`` with the figure (PNG and PDF), the data (CSV) and ``manifest.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeopt._validation import invalid_input, invalid_inputs
from edgeopt.sweep import check_common_random_numbers, expand_grid, normalize_grid

if TYPE_CHECKING:  # pandas is a core dependency, but keep import edgeopt light
    import pandas as pd

__all__ = ["Experiment"]

PointFunc = Callable[[dict[str, Any], np.random.Generator], dict[str, Any]]


def _names(grid: Mapping[Any, Any]) -> set[str]:
    """The parameter names of a grid (zipped groups' names included)."""
    names: set[str] = set()
    for key in grid:
        names.update(key if isinstance(key, tuple) else (key,))
    return names


@dataclass(frozen=True)
class Experiment:
    """A registered, reproducible experiment (one figure or one family of figures).

    Parameters
    ----------
    name : str
        Registry name, used as ``edgeopt reproduce NAME`` and as the output folder name.
    summary : str
        One line shown by ``edgeopt list``.
    point : callable ``(params: dict, rng: numpy.random.Generator) -> dict``
        Computes one grid point.  Must be a module-level function (picklable) that uses only
        ``rng`` for randomness, so that results do not depend on the executor.  Returns a
        flat dict of scalar outputs (numbers, strings or bools).
    grid : callable ``(quick: bool) -> dict[str, list]``
        Parameter lists, crossed.  ``quick=True`` returns the reduced smoke-test grid.
    plot : callable ``(table: pandas.DataFrame, out_dir: pathlib.Path) -> list[pathlib.Path]``
        Draws the figure(s) from the full result table and writes each as PNG and PDF into
        ``out_dir``; returns the written paths.  Imports matplotlib inside (Agg backend).
    repeats : callable ``(quick: bool) -> int``
        Monte Carlo repeats per grid point (each repeat has its own seed).
    seed : int
        Root seed of the sweep.
    constants : dict
        Every parameter the point function reads that the grid does not sweep (learning
        rate, model, band, powers, ...), as plain data (str, int, float, bool or lists of
        them).  The point function receives them in ``params`` like grid values, so a figure
        is reproducible from its manifest alone, and a configuration may override any of
        them.  A name may not be both a constant and a grid parameter.
    common_random_numbers : tuple of str
        Grid parameters left out of each point's seed: points that differ only in these
        (for example the scheme being compared) draw the same random numbers, so a
        comparison between them is not mixed with seed noise (see
        :func:`edgeopt.sweep.run_sweep`).

    Examples
    --------
    >>> from edgeopt.repro import Experiment
    >>> from edgeopt.sweep.demo import rayleigh_outage
    >>> exp = Experiment(name="outage", summary="Rayleigh outage", point=rayleigh_outage,
    ...                  grid=lambda quick: {"snr_db": [0] if quick else [0, 10, 20]},
    ...                  plot=lambda table, out_dir: [], repeats=lambda quick: 1 if quick else 4)
    >>> print(exp.describe())
    outage: Rayleigh outage
    seed: 0
    constants: none
    common random numbers: none
    full grid: 3 point(s) x 4 repeat(s)
      snr_db = [0, 10, 20]
    quick grid: 1 point(s) x 1 repeat(s)
      snr_db = [0]
    """

    name: str
    summary: str
    point: PointFunc
    grid: Callable[[bool], dict[str, Sequence[Any]]]
    plot: Callable[[pd.DataFrame, Path], list[Path]]
    repeats: Callable[[bool], int] = lambda quick: 1
    seed: int = 0
    constants: Mapping[str, Any] = field(default_factory=dict)
    common_random_numbers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.constants, Mapping) or not all(
            isinstance(k, str) and k for k in self.constants
        ):
            raise invalid_input(
                "constants", self.constants, "a dict of parameter name to one value"
            )
        # plain data only (numbers, strings, bools, None, lists/dicts of them), as the grid
        normalize_grid({k: [v] for k, v in self.constants.items()})
        names = check_common_random_numbers(self.common_random_numbers)
        object.__setattr__(self, "common_random_numbers", names)

    def parameters(self, quick: bool) -> dict[str, Sequence[Any]]:
        """The grid that is run: the constants as one-value lists, then the swept grid.

        Parameters
        ----------
        quick : bool
            The reduced smoke-test grid.

        Returns
        -------
        dict of str to list
            ``{name: [value]}`` for each constant, followed by :attr:`grid` ``(quick)``.

        Raises
        ------
        InvalidInputError
            A constant that is also a parameter of the grid.

        Examples
        --------
        >>> from edgeopt.repro import Experiment
        >>> from edgeopt.sweep.demo import rayleigh_outage
        >>> exp = Experiment(name="outage", summary="Rayleigh outage", point=rayleigh_outage,
        ...                  grid=lambda quick: {"snr_db": [0, 10]},
        ...                  plot=lambda table, out_dir: [], constants={"rate_bps_hz": 1.0})
        >>> exp.parameters(quick=False)
        {'rate_bps_hz': [1.0], 'snr_db': [0, 10]}
        """
        grid = dict(self.grid(quick))
        both = sorted(set(self.constants) & _names(grid))
        if both:
            raise invalid_inputs(
                f"constants, grid of {self.name!r} (both name {', '.join(map(repr, both))})",
                "each parameter either constant or swept by the grid",
            )
        return {**{k: [v] for k, v in self.constants.items()}, **grid}

    def describe(self) -> str:
        """What ``edgeopt list NAME`` prints: summary, seed, constants, CRN, grids, repeats.

        Returns
        -------
        str
            One line each for the name and summary and for the seed; the constants (one
            line ``  name = value`` each, or ``constants: none``); the common-random-number
            parameters (``common random numbers: a, b`` or ``none``); then each grid
            (``full``, ``quick``) with its number of points and repeats and one line per
            parameter (zipped parameters as one line of tuples).

        Examples
        --------
        >>> from edgeopt.repro import get_experiment
        >>> exp = get_experiment("channel")
        >>> exp.describe().splitlines()[1] == f"seed: {exp.seed}"
        True
        """
        lines = [f"{self.name}: {self.summary}", f"seed: {self.seed}"]
        if self.constants:
            lines.append("constants:")
            lines.extend(f"  {k} = {v!r}" for k, v in self.constants.items())
        else:
            lines.append("constants: none")
        crn = ", ".join(self.common_random_numbers) or "none"
        lines.append(f"common random numbers: {crn}")
        for label, quick in (("full", False), ("quick", True)):
            grid = self.grid(quick)
            points = len(expand_grid(grid))
            lines.append(f"{label} grid: {points} point(s) x {self.repeats(quick)} repeat(s)")
            for names, rows in normalize_grid(grid):
                if len(names) == 1:
                    lines.append(f"  {names[0]} = {[r[0] for r in rows]}")
                else:
                    lines.append(f"  ({', '.join(names)}) = {rows}")
        return "\n".join(lines)
