"""The `cdc_tradeoff` experiment: grid, points against the closed forms, figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from edgeopt.experiments import get_experiment
from edgeopt.experiments.cdc_tradeoff import CONSTANTS, EXPERIMENT, grid, plot, point

from edgeopt.coding import cdc_load, uncoded_load


def test_registered_and_grid() -> None:
    assert get_experiment("cdc_tradeoff") is EXPERIMENT
    assert list(grid(False)["computation_load"]) == list(range(1, 10))
    assert set(grid(True)["job"]) == {"fixed", "terasort"}


def test_points_equal_closed_forms_and_figure(tmp_path: Path) -> None:
    rows = []
    for params in [
        {"computation_load": r, "job": job}
        for r in grid(True)["computation_load"]
        for job in grid(True)["job"]
    ]:
        full = {**CONSTANTS, **params}
        row = point(full, np.random.default_rng(0))
        r = params["computation_load"]
        assert row["correct"]
        assert row["load"] == cdc_load(r, 10) == row["load_closed"]
        assert row["uncoded_load"] == uncoded_load(r, 10)
        rows.append({**full, **row})
    paths = plot(pd.DataFrame(rows), tmp_path)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
