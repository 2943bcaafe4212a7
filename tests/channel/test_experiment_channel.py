"""The `channel` experiment: grid, point function and figure."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from edgeopt.experiments import get_experiment
from edgeopt.experiments.channel import CONSTANTS, EXPERIMENT, grid, plot, point

from edgeopt.channel import outage_probability, rayleigh_ergodic_capacity


def test_registered_under_its_name() -> None:
    assert get_experiment("channel") is EXPERIMENT
    assert EXPERIMENT.point is point and EXPERIMENT.grid is grid and EXPERIMENT.plot is plot


@pytest.mark.parametrize("quick", [True, False])
def test_grid_covers_the_figure(quick: bool) -> None:
    g = grid(quick)
    assert set(g) == {"snr_db", "num_antennas", "samples"}
    # the fixed outage threshold is a constant, merged into every point
    assert CONSTANTS == {"target_rate_bps_hz": 1.0} and EXPERIMENT.constants is CONSTANTS
    assert EXPERIMENT.parameters(quick) == {"target_rate_bps_hz": [1.0], **g}
    assert min(g["snr_db"]) == -10.0 and max(g["snr_db"]) == 30.0
    assert list(g["num_antennas"]) == [1, 2, 4, 8]
    if quick:
        assert len(g["snr_db"]) <= 5 and max(g["samples"]) <= 50_000


def test_point_agrees_with_closed_forms_and_is_deterministic() -> None:
    params = {"snr_db": 5.0, "num_antennas": 4, "samples": 50_000, "target_rate_bps_hz": 1.0}
    row = point(params, np.random.default_rng(0))
    snr = 10**0.5
    assert row["rate_closed_bps_hz"] == pytest.approx(float(rayleigh_ergodic_capacity(snr, 4)))
    assert row["outage_closed"] == pytest.approx(float(outage_probability(1.0, snr, 4)))
    assert (
        abs(row["rate_mc_bps_hz"] - row["rate_closed_bps_hz"]) <= 5 * row["rate_mc_stderr_bps_hz"]
    )
    p = row["outage_closed"]
    assert abs(row["outage_mc"] - p) <= 5 * np.sqrt(p * (1 - p) / 50_000)
    assert all(isinstance(v, float) for v in row.values())
    assert point(params, np.random.default_rng(0)) == row
    assert point(params, np.random.default_rng(1)) != row


def test_quick_run_and_plot(tmp_path: Path) -> None:
    import pandas as pd

    g = EXPERIMENT.parameters(True)
    rows = []
    for i, values in enumerate(itertools.product(*g.values())):
        params = dict(zip(g, values, strict=True))
        rows.append({**params, **point(params, np.random.default_rng(i))})
    table = pd.DataFrame(rows)
    z = (table["rate_mc_bps_hz"] - table["rate_closed_bps_hz"]) / table["rate_mc_stderr_bps_hz"]
    assert np.all(np.abs(z) <= 5)
    paths = plot(table, tmp_path / "fig")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    for p in paths:
        assert p.exists() and p.stat().st_size > 1000


def test_reproduce_quick_through_the_runner(tmp_path: Path) -> None:
    import pandas as pd

    from edgeopt.repro._reproduce import reproduce

    result = reproduce("channel", out_dir=tmp_path, quick=True, executor="serial")
    assert result.failures == 0 and result.plot_error is None
    names = {p.name for p in result.files}
    assert {"data.csv", "channel.png", "channel.pdf", "manifest.json"} <= names
    table = pd.read_csv(tmp_path / "channel" / "data.csv")
    assert len(table) == 5 * 4
    assert result.manifest["constants"] == {"target_rate_bps_hz": 1.0}
    assert "target_rate_bps_hz" not in result.manifest["grid"]
    assert (table["target_rate_bps_hz"] == 1.0).all()
    z = (table["rate_mc_bps_hz"] - table["rate_closed_bps_hz"]) / table["rate_mc_stderr_bps_hz"]
    assert np.all(np.abs(z) <= 5)
