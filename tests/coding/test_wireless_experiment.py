"""The `wireless_shuffle` experiment: grid, points against the job-time model, figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from edgeopt.experiments import get_experiment
from edgeopt.experiments.wireless_shuffle import CONSTANTS, EXPERIMENT, grid, plot, point

from edgeopt.coding import access_point_loads


def test_registered_and_grid() -> None:
    assert get_experiment("wireless_shuffle") is EXPERIMENT
    assert list(grid(False)["computation_load"]) == list(range(1, 11))
    assert set(grid(True)["scheme"]) == {"coded", "uncoded"}
    assert len(grid(True)["radius_m"]) == 2
    assert set(EXPERIMENT.common_random_numbers) == {"scheme", "computation_load"}


def _curve(radius: float, scheme: str, seed: int) -> list[dict[str, object]]:
    rows = []
    for r in range(1, 11):
        params = {**CONSTANTS, "radius_m": radius, "scheme": scheme, "computation_load": r}
        rows.append({**params, **point(params, np.random.default_rng(seed))})
    return rows


def test_points_follow_the_model_and_figure(tmp_path: Path) -> None:
    rows = []
    for radius in grid(True)["radius_m"]:
        coded = _curve(radius, "coded", 0)
        uncoded = _curve(radius, "uncoded", 0)
        for c, u in zip(coded, uncoded, strict=True):
            r = int(c["computation_load"])
            for row in (c, u):
                assert row["job_time_s"] == pytest.approx(
                    row["map_s"] + row["shuffle_s"] + row["reduce_s"]
                )
                assert (row["uplink_load"], row["downlink_load"]) == access_point_loads(
                    r, 10, scheme=row["scheme"]
                )
            # the same drop: the coded relaying moves fewer bits on both links
            assert c["map_s"] == u["map_s"]
            if r < 10:
                assert c["shuffle_s"] < u["shuffle_s"]
            else:
                assert c["shuffle_s"] == u["shuffle_s"] == 0.0
        for curve in (coded, uncoded):
            times = [row["job_time_s"] for row in curve]
            best = int(np.argmin(times)) + 1
            assert all(row["r_star"] == best for row in curve)
        rows.extend(coded + uncoded)
    paths = plot(pd.DataFrame(rows), tmp_path)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)


def test_lower_snr_moves_the_coded_optimum_up() -> None:
    small, large = grid(False)["radius_m"]
    mean = {
        radius: np.mean(
            [[row["job_time_s"] for row in _curve(radius, "coded", seed)] for seed in range(4)],
            axis=0,
        )
        for radius in (small, large)
    }
    assert int(np.argmin(mean[large])) > int(np.argmin(mean[small]))
    # coding pays where the shuffle dominates: at r = 1 the large cell is slower
    assert mean[large][0] > mean[small][0]
