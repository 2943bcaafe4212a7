"""On a normalized system with identical devices and full participation, run_fedavg gives the
Histories recorded from the code before the system model (``data/reference_histories.json``,
written by ``data/make_reference_histories.py`` at the commit stored in the file)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from edgeopt.federated import (
    QSGD,
    AirCompAggregation,
    DigitalAggregation,
    IdealAggregation,
    run_fedavg,
)
from edgeopt.system import normalized_system

_DATA = json.loads((Path(__file__).parent / "data" / "reference_histories.json").read_text())


def _aggregation(spec):
    if spec["kind"] == "ideal":
        return IdealAggregation()
    if spec["kind"] == "digital":
        comp = None if spec["compressor"] is None else QSGD(int(spec["compressor"][4:]))
        return DigitalAggregation(spec["access"], compressor=comp)
    return AirCompAggregation(spec["mse_target"], method=spec["method"])


def _system(case):
    sysp = case["system"]
    return normalized_system(
        case["run"]["num_clients"],
        num_antennas=sysp["num_antennas"],
        power_w=sysp["power_w"],
        noise_w=sysp["noise_w"],
        bandwidth_hz=sysp["bandwidth_hz"],
        **case["compute"],
    )


def _decode(text):
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float64)


def _check(hist, ref):
    for name in ("selected_count", "uplink_bits"):
        assert np.array_equal(getattr(hist, name), np.asarray(ref[name])), name
    # the same operations on the same numbers: equal to the last bit on this machine
    for name in ("test_accuracy", "train_loss", "round_latency_s", "round_energy_j"):
        assert np.array_equal(getattr(hist, name), np.asarray(ref[name])), name
    assert np.array_equal(hist.aggregation_mse, np.asarray(ref["aggregation_mse"]))
    assert hist.initial_test_accuracy == ref["initial_test_accuracy"]
    assert np.array_equal(hist.initial_parameters, _decode(ref["initial_parameters"]))
    assert np.array_equal(hist.final_parameters, _decode(ref["final_parameters"]))


def test_reference_file_records_its_commit():
    assert len(_DATA["commit"]) == 40 and int(_DATA["commit"], 16) >= 0
    kinds = {c["aggregation"]["kind"] for c in _DATA["cases"]}
    assert kinds == {"ideal", "digital", "aircomp"}


@pytest.mark.parametrize("case", _DATA["cases"], ids=[c["name"] for c in _DATA["cases"]])
def test_same_history_as_before_the_system_model(case):
    run = dict(case["run"])
    k = run.pop("num_clients")
    hist = run_fedavg(**run, system=_system(case), aggregation=_aggregation(case["aggregation"]))
    _check(hist, case["history"])
    assert hist.sampled.all() and hist.on_time.all()
    assert np.array_equal(hist.aggregated.sum(axis=1), hist.selected_count)
    assert hist.info["num_clients"] == k
    if case["aggregation"]["kind"] == "ideal" and not case["compute"]:
        # the ideal model needs no system: the default devices give the same run
        bare = run_fedavg(**run, num_clients=k, aggregation=IdealAggregation())
        _check(bare, case["history"])
