"""The aircomp_selection and aircomp_baa experiments: points, registry, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from edgeopt.experiments import registry
from edgeopt.experiments.aircomp_selection import (
    BAA_CONSTANTS,
    SELECTION_CONSTANTS,
    baa_grid,
    baa_plot,
    baa_point,
    selection_grid,
    selection_plot,
    selection_point,
)


def test_registered() -> None:
    reg = registry()
    assert "aircomp_selection" in reg and "aircomp_baa" in reg
    full = selection_grid(False)
    assert min(full["mse_target_db"]) == -10.0 and max(full["mse_target_db"]) == 20.0
    assert full["num_devices"] == [20, 60] and "num_antennas" not in full
    # every fixed parameter is a constant, merged into each point
    assert SELECTION_CONSTANTS == {
        "num_antennas": 6,
        "power_w": 1.0,
        "noise_w": 1.0,
        "methods": ["dc", "sdr", "fast"],
    }
    assert reg["aircomp_selection"].constants is SELECTION_CONSTANTS
    assert reg["aircomp_selection"].parameters(False)["num_antennas"] == [6]
    assert BAA_CONSTANTS == {"avg_power_w": 1.0, "noise_w": 0.1}
    assert reg["aircomp_baa"].parameters(True)["noise_w"] == [0.1]
    assert reg["aircomp_selection"].repeats(True) < reg["aircomp_selection"].repeats(False)


def test_selection_point_same_seed_same_row_and_sane_counts() -> None:
    params = {**SELECTION_CONSTANTS, "mse_target_db": 0.0, "num_devices": 8, "num_antennas": 3}
    a = selection_point(params, np.random.default_rng(4))
    b = selection_point(params, np.random.default_rng(4))
    assert {k: v for k, v in a.items() if not k.startswith("time")} == {
        k: v for k, v in b.items() if not k.startswith("time")
    }
    for key in ("selected_dc", "selected_sdr", "selected_fast", "selected_random"):
        assert 0 <= a[key] <= 8
    assert np.isclose(a["floor_formula"], 8 * np.exp(-1.0))


def test_baa_point_monte_carlo_within_standard_errors() -> None:
    row = baa_point(
        {**BAA_CONSTANTS, "threshold": 0.7, "samples": 100_000}, np.random.default_rng(1)
    )
    p = row["truncation_closed"]
    assert abs(row["truncation_mc"] - p) <= 5 * np.sqrt(p * (1 - p) / 100_000)
    # Y = 1{X >= 0.7} / X, X ~ Exp(1), has std / mean = 1.19, so its mean over 1e5 draws
    # has a relative standard error of 0.38 %: allow 5 of them
    rel = 5 * 1.19 / np.sqrt(100_000)
    assert abs(row["receive_snr_mc_db"] - row["receive_snr_closed_db"]) < 10 * np.log10(1 + rel)
    assert abs(row["tx_power_mc_w"] - 1.0) < rel


def test_plots_write_png_and_pdf(tmp_path: Path) -> None:
    rows = []
    rng = np.random.default_rng(0)
    for g in (-5.0, 5.0):
        for r in range(2):
            params = {
                **SELECTION_CONSTANTS,
                "mse_target_db": g,
                "num_devices": 6,
                "num_antennas": 3,
            }
            rows.append({**params, "repeat": r, **selection_point(params, rng)})
    paths = selection_plot(pd.DataFrame(rows), tmp_path)
    assert {p.suffix for p in paths} == {".png", ".pdf"} and all(p.exists() for p in paths)
    grid = baa_grid(True)
    table = pd.DataFrame(
        [
            {**p, **baa_point(p, rng)}
            for p in ({**BAA_CONSTANTS, "threshold": g, "samples": 2000} for g in grid["threshold"])
        ]
    )
    paths = baa_plot(table, tmp_path)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)


def test_selection_point_reads_power_and_noise_from_params() -> None:
    base = {**SELECTION_CONSTANTS, "mse_target_db": 0.0, "num_devices": 8, "num_antennas": 3}
    unit = selection_point(base, np.random.default_rng(2))
    # P / sigma^2 = 10: the random-beamformer floor is K exp(-1 / (10 gamma))
    loud = selection_point({**base, "power_w": 10.0}, np.random.default_rng(2))
    assert np.isclose(unit["floor_formula"], 8 * np.exp(-1.0))
    assert np.isclose(loud["floor_formula"], 8 * np.exp(-0.1))
    # the same draw: a stronger link serves at least as many devices
    assert loud["selected_random"] >= unit["selected_random"]
    # methods= picks the methods run; each method keeps its stream (dc: the first)
    only_dc = selection_point({**base, "methods": ["dc"]}, np.random.default_rng(2))
    assert "selected_sdr" not in only_dc and only_dc["selected_dc"] == unit["selected_dc"]


def test_baa_point_reads_power_and_noise_from_params() -> None:
    base = {**BAA_CONSTANTS, "threshold": 0.5, "samples": 20_000}
    a = baa_point(base, np.random.default_rng(3))
    b = baa_point({**base, "noise_w": 0.01}, np.random.default_rng(3))
    # ten times less noise: 10 dB more receive SNR on the same draws
    assert np.isclose(b["receive_snr_closed_db"] - a["receive_snr_closed_db"], 10.0)
    assert np.isclose(b["receive_snr_mc_db"] - a["receive_snr_mc_db"], 10.0)
    assert a["truncation_mc"] == b["truncation_mc"]
