"""The frequency_control experiment: its quick grid runs, each strategy spends the budget."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from edgeopt.experiments.frequency_control import FixedTau

from edgeopt.frequency import RoundStats
from edgeopt.repro import registry


def _points(exp, quick=True):
    grid = exp.grid(quick)
    for values in itertools.product(*grid.values()):
        yield {**exp.constants, **dict(zip(grid, values, strict=True))}


def test_quick_grid_runs_and_spends_the_budget():
    exp = registry()["frequency_control"]
    rows = []
    for p in _points(exp):
        out = exp.point(p, np.random.default_rng(1))
        curves = json.loads(out["curve_json"])
        assert len(curves["train_loss"]) == out["rounds"] >= 1
        assert sum(curves["local_steps"]) == out["local_steps"]
        if p["strategy"] != "adaptive":
            assert set(curves["local_steps"]) == {int(p["strategy"])}
        if out["rounds"] > 1:  # every round but the first had to fit in the budget
            assert out["spent_s"] <= p["budget_s"] * (1 + 1e-9)
        assert np.isfinite(out["final_train_loss"])
        rows.append({**p, **out})
    table = pd.DataFrame(rows)
    assert set(table["strategy"]) == {"1", "10", "adaptive"}
    assert set(table["uplink"]) == {"cheap", "expensive"}
    # an expensive uplink leaves fewer rounds in the same budget
    for strategy in ("1", "10"):
        sel = table[table["strategy"] == strategy].set_index("uplink")["rounds"]
        assert sel["expensive"] < sel["cheap"]


def test_fixed_tau_stops_at_the_average_round_cost():
    ctl = FixedTau(5, budget_s=1.0)

    def stats(spent):
        return RoundStats(
            round=1,
            tau=5,
            step_time_s=0.02,
            step_energy_j=0.0,
            aggregation_time_s=0.1,
            aggregation_energy_j=0.0,
            spent_time_s=spent,
            spent_energy_j=0.0,
        )

    assert ctl.next_tau(stats(0.2)) == 5  # a round costs 0.2 s, 0.8 s left
    assert ctl.next_tau(stats(0.85)) == 0  # 0.15 s left


def test_adaptive_step_estimates_cost_nothing_extra():
    exp = registry()["frequency_control"]
    p = {**exp.constants, "strategy": "adaptive", "uplink": "cheap", "budget_s": 0.3}
    assert p["estimation"] == "steps"
    out = exp.point(p, np.random.default_rng(2))
    assert out["mean_estimation_s"] == 0.0
    assert out["best_seen_train_loss"] <= out["final_train_loss"]


def test_adaptive_pays_one_local_step_for_its_estimation_pass():
    exp = registry()["frequency_control"]
    p = {**exp.constants, "strategy": "adaptive", "uplink": "cheap", "budget_s": 0.3}
    p["estimation"] = "pass"
    out = exp.point(p, np.random.default_rng(2))
    # two passes over 8 of each device's samples cost what one step of 16 samples costs
    samples = 2 * p["estimation_samples"]
    assert samples == p["batch_size"]
    assert out["mean_estimation_s"] == out["step_s"]
    fixed = exp.point({**p, "strategy": "3"}, np.random.default_rng(2))
    assert fixed["mean_estimation_s"] == 0.0


def test_calibrate_phi_scores_against_the_best_fixed_tau():
    from edgeopt.experiments.frequency_control import CALIBRATION_SEED, TAUS, calibrate_phi

    assert CALIBRATION_SEED != registry()["frequency_control"].seed
    out = calibrate_phi([1e-3, 1e-5], repeats=1, budget_s=0.15)
    assert set(out["score"]) == {1e-3, 1e-5}
    for phi, score in out["score"].items():
        ratios = [
            out["adaptive"][u, repr(phi)] / min(out["fixed"][u, str(t)] for t in TAUS)
            for u in ("cheap", "expensive")
        ]
        assert score == pytest.approx(np.mean(ratios), rel=1e-12)
    # the lowest score; the smallest φ among ties
    assert out["phi"] == min(out["score"], key=lambda f: (out["score"][f], f))
