"""On a normalized system with identical devices and full participation, run_fedavg gives the
Histories recorded from the code before the system model (``data/reference_histories.json``,
written by ``data/make_reference_histories.py`` at the commit stored in the file).

Float32 training gives other bits on another kind of CPU, so the file holds one recording
per kind of machine, and a history must equal one of them to the last bit."""

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
_RECORDINGS = _DATA["recordings"]
_CASES = _RECORDINGS[0]["cases"]


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


def _mismatches(hist, ref) -> list[str]:
    """The fields of ``hist`` that differ from the recorded history ``ref`` (none: equal to
    the last bit)."""
    bad = [
        name
        for name in (
            "selected_count",
            "uplink_bits",
            "test_accuracy",
            "train_loss",
            "round_latency_s",
            "round_energy_j",
        )
        if not np.array_equal(getattr(hist, name), np.asarray(ref[name]))
    ]
    # the aggregation MSE comes from the selection solver's beamformer, whose last bits
    # follow the summation order inside its kernels (the "fast" kernels were rewritten
    # after the recording): equal to 1e-12 relative; the selection, the training and every
    # other field stay equal to the last bit
    mse, ref_mse = np.asarray(hist.aggregation_mse), np.asarray(ref["aggregation_mse"])
    if not np.allclose(mse, ref_mse, rtol=1e-12, atol=0.0, equal_nan=True):
        bad.append("aggregation_mse")
    if hist.initial_test_accuracy != ref["initial_test_accuracy"]:
        bad.append("initial_test_accuracy")
    for name in ("initial_parameters", "final_parameters"):
        if not np.array_equal(getattr(hist, name), _decode(ref[name])):
            bad.append(name)
    return bad


def _check(hist, name):
    # the same operations on the same numbers: equal to the last bit to the recording made
    # on one kind of machine
    found = {}
    for rec in _RECORDINGS:
        ref = next(c["history"] for c in rec["cases"] if c["name"] == name)
        found[rec["machine"]] = _mismatches(hist, ref)
    assert any(not bad for bad in found.values()), found


def test_reference_file_records_its_commit():
    assert len(_DATA["commit"]) == 40 and int(_DATA["commit"], 16) >= 0
    for rec in _RECORDINGS:
        assert rec["machine"]
        assert [c["name"] for c in rec["cases"]] == [c["name"] for c in _CASES]
        assert {c["aggregation"]["kind"] for c in rec["cases"]} == {"ideal", "digital", "aircomp"}


@pytest.mark.parametrize("case", _CASES, ids=[c["name"] for c in _CASES])
def test_same_history_as_before_the_system_model(case):
    run = dict(case["run"])
    k = run.pop("num_clients")
    hist = run_fedavg(**run, system=_system(case), aggregation=_aggregation(case["aggregation"]))
    _check(hist, case["name"])
    assert hist.sampled.all() and hist.on_time.all()
    assert np.array_equal(hist.aggregated.sum(axis=1), hist.selected_count)
    assert hist.info["num_clients"] == k
    if case["aggregation"]["kind"] == "ideal" and not case["compute"]:
        # the ideal model needs no system: the default devices give the same run
        bare = run_fedavg(**run, num_clients=k, aggregation=IdealAggregation())
        _check(bare, case["name"])
