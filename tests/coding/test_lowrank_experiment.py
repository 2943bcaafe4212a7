"""The `lowrank_shuffle` experiment: grid, points, figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from edgeopt.experiments import get_experiment
from edgeopt.experiments.lowrank_shuffle import CONSTANTS, EXPERIMENT, grid, plot, point


def test_quick_grid_points_and_figure(tmp_path: Path) -> None:
    assert get_experiment("lowrank_shuffle") is EXPERIMENT
    rows = []
    g = grid(True)
    for k in g["num_nodes"]:
        ranks = {}
        for method in g["method"]:
            params = {**CONSTANTS, "num_nodes": k, "method": method}
            row = point(params, np.random.default_rng(0))
            assert row["messages"] == k * (k - 1)
            assert row["residual"] <= 1e-6
            ranks[method] = row["rank"]
            rows.append({**params, **row})
        assert ranks["dc"] <= ranks["nuclear"] <= ranks["tdma"] == k * (k - 1)
        assert ranks["altmin"] < ranks["tdma"]
    paths = plot(pd.DataFrame(rows), tmp_path)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
