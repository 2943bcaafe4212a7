"""The offload experiments' point functions."""

from __future__ import annotations

import numpy as np
import pytest
from edgeopt.experiments import multiuser_offloading, partition_vs_rate


@pytest.mark.parametrize("model", ["vgg16", "resnet18", "mobilenetv2"])
def test_the_cut_moves_toward_the_input_as_the_rate_grows(model):
    rows = [
        partition_vs_rate.point(
            {
                "model": model,
                "sweep": "rate",
                "step": i,
                "steps": 11,
                **partition_vs_rate.CONSTANTS,
            },
            None,
        )
        for i in range(11)
    ]
    layers = [row["device_layers"] for row in rows]
    assert layers == sorted(layers, reverse=True)
    assert layers[0] == rows[0]["num_layers"] and layers[-1] == 0
    for row in rows:
        assert row["latency_s"] <= min(row["device_only_s"], row["server_only_s"]) * (1 + 1e-12)


def test_distance_sweep_uses_the_path_loss():
    c = partition_vs_rate.CONSTANTS
    near = partition_vs_rate.point(
        {"model": "resnet18", "sweep": "distance", "step": 0, "steps": 4, **c}, None
    )
    far = partition_vs_rate.point(
        {"model": "resnet18", "sweep": "distance", "step": 3, "steps": 4, **c}, None
    )
    assert near["rate_bps"] > far["rate_bps"] and near["latency_s"] <= far["latency_s"]


def test_multiuser_point_reports_measured_gaps():
    row = multiuser_offloading.point(
        {"num_users": 5, **multiuser_offloading.CONSTANTS}, np.random.default_rng(3)
    )
    for key in ("milp", "relax_round", "greedy"):
        assert row[f"gap_{key}"] >= -1e-9
    assert row["cost_exact"] <= row["all_local_cost"] * (1 + 1e-12)
