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

from edgeopt.sweep import expand_grid, normalize_grid

if TYPE_CHECKING:  # pandas is a core dependency, but keep import edgeopt light
    import pandas as pd

__all__ = ["Experiment"]

PointFunc = Callable[[dict[str, Any], np.random.Generator], dict[str, Any]]


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
        comparison between them is not mixed with seed noise.

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
        return {**{k: [v] for k, v in self.constants.items() if k not in grid}, **grid}

    def describe(self) -> str:
        """What ``edgeopt list NAME`` prints: summary, seed, full and quick grids, repeats.

        Returns
        -------
        str
            One line each for the name and summary and for the seed, then each grid
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
