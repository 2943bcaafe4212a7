"""The federated experiments: point functions are deterministic, plots decode the curves."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from edgeopt.experiments import registry


@pytest.mark.parametrize(
    ("name", "fixed"),
    [
        ("fl_aircomp", {"rounds": 2, "scheme": ["ideal", "sdr"]}),
        ("fl_latency", {"rounds": 2, "num_clients": [10], "scheme": ["aircomp", "tdma_qsgd"]}),
        ("fl_compression", {"rounds": 2, "compressor": ["qsgd4", "signsgd"]}),
    ],
)
def test_point_and_plot(name, fixed, tmp_path):
    exp = registry()[name]
    grid = dict(exp.grid(True))
    for key, value in fixed.items():
        grid[key] = value if isinstance(value, list) else [value]
    keys = list(grid)
    rows = []
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values, strict=True))
        out = exp.point(params, np.random.default_rng(1))
        assert all(isinstance(v, int | float | str) for v in out.values())
        curves = json.loads(out["curve_json"])
        assert len(curves["test_accuracy"]) == params["rounds"] + 1
        assert np.all(np.diff(curves["cumulative_latency_s"]) >= 0)
        assert out["final_accuracy"] == curves["test_accuracy"][-1]
        rows.append({**params, "repeat": 0, **out})
    again = exp.point(dict(zip(keys, values, strict=True)), np.random.default_rng(1))
    assert again == out  # only the rng supplies randomness
    paths = exp.plot(pd.DataFrame(rows), tmp_path)
    assert {p.suffix for p in paths} == {".png", ".pdf"}
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
