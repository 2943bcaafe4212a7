"""The federated experiments: point functions are deterministic, plots decode the curves."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from edgeopt.experiments import registry

from edgeopt.sweep import expand_grid


def _points(exp, rounds, keep=None):
    """The quick grid with its constants, ``rounds`` overridden, optionally filtered."""
    grid = dict(exp.parameters(True))
    grid["rounds"] = [rounds]
    points = expand_grid(grid)
    return [p for p in points if keep is None or keep(p)]


@pytest.mark.parametrize(
    ("name", "keep"),
    [
        ("fl_aircomp", lambda p: p["scheme"] in ("ideal", "all", "sdr")),
        ("fl_latency", lambda p: p["num_clients"] == 10 and p["scheme"] != "tdma"),
        ("fl_compression", lambda p: p["compressor"] in ("qsgd4", "signsgd")),
        ("fl_heterogeneous", None),
    ],
)
def test_point_and_plot(name, keep, tmp_path):
    exp = registry()[name]
    assert set(exp.constants) & set(exp.grid(True)) == set()  # no name is both
    assert {"lr", "local_steps", "batch_size", "model", "partition"} <= set(exp.constants)
    assert set(exp.common_random_numbers) <= {
        n for key in exp.grid(True) for n in (key if isinstance(key, tuple) else (key,))
    }
    rows = []
    points = _points(exp, 2, keep)
    assert points
    for params in points:
        out = exp.point(params, np.random.default_rng(1))
        assert all(isinstance(v, int | float | str) for v in out.values())
        curves = json.loads(out["curve_json"])
        assert len(curves["test_accuracy"]) == params["rounds"] + 1
        assert np.all(np.diff(curves["cumulative_latency_s"]) >= 0)
        assert out["final_accuracy"] == curves["test_accuracy"][-1]
        rows.append({**params, "repeat": 0, **out})
    again = exp.point(points[-1], np.random.default_rng(1))
    assert again == out  # only the rng supplies randomness
    table = pd.DataFrame(rows + [{**r, "repeat": 1} for r in rows])  # two "repeats"
    paths = exp.plot(table, tmp_path)
    assert {p.suffix for p in paths} == {".png", ".pdf"}
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)


def test_constants_reach_the_point():
    exp = registry()["fl_compression"]
    params = _points(exp, 1, lambda p: p["compressor"] == "none")[0]
    base = exp.point(params, np.random.default_rng(3))
    slower = exp.point(
        {**params, "bandwidth_hz": params["bandwidth_hz"] / 10}, np.random.default_rng(3)
    )
    # the same training (common random numbers), a tenth of the band: ten times the upload
    assert slower["final_accuracy"] == base["final_accuracy"]
    assert slower["total_latency_s"] > 5 * base["total_latency_s"]


def test_heterogeneous_quick_grid_the_deadline_drops_a_decile():
    exp = registry()["fl_heterogeneous"]
    outs = {p["strategy"]: exp.point(p, np.random.default_rng(7)) for p in _points(exp, 3)}
    full, sampled, late = outs["full"], outs["sample20"], outs["deadline"]
    assert full["mean_sampled"] == 50 and full["mean_on_time"] == 50
    assert sampled["mean_sampled"] == 10
    assert late["deadline_s"] > 0 and late["mean_sampled"] == 50
    # the deadline is the 90th percentile of the typical round times: about 5 of 50 late
    assert 38 <= late["mean_on_time"] <= 49
    # no straggler waited for: each round ends by the deadline, before the full round
    assert late["total_latency_s"] <= 3 * late["deadline_s"] * (1 + 1e-12)
    assert late["total_latency_s"] < full["total_latency_s"]
