"""The frequency_control experiment: its quick grid runs, each strategy spends the budget."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
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
