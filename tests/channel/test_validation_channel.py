"""Bad input for every public function of edgeopt.channel: InvalidInputError naming the argument."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from edgeopt import channel as ch
from edgeopt.errors import InvalidInputError

NAN = float("nan")
INF = float("inf")
LEGACY = np.random.RandomState(0)

CASES: list[tuple[str, Callable[[], Any], str]] = [
    # pathloss_db
    ("pl-nan", lambda: ch.pathloss_db([100.0, NAN]), "distance_m"),
    ("pl-inf", lambda: ch.pathloss_db(INF), "distance_m"),
    ("pl-negative", lambda: ch.pathloss_db(-5.0), "distance_m"),
    ("pl-zero", lambda: ch.pathloss_db(0.0), "distance_m"),
    ("pl-complex", lambda: ch.pathloss_db(1 + 1j), "distance_m"),
    ("pl-text", lambda: ch.pathloss_db("100"), "distance_m"),
    ("pl-model", lambda: ch.pathloss_db(100.0, model=3), "model"),
    # far_field_distance_m
    ("ff-carrier", lambda: ch.far_field_distance_m(-1.0), "carrier_hz"),
    ("ff-carrier-nan", lambda: ch.far_field_distance_m(NAN), "carrier_hz"),
    ("ff-size", lambda: ch.far_field_distance_m(2e9, -0.1), "antenna_size_m"),
    ("ff-size-text", lambda: ch.far_field_distance_m(2e9, "1"), "antenna_size_m"),
    # rayleigh
    ("ray-shape-neg", lambda: ch.rayleigh((2, -1), 0), "shape"),
    ("ray-shape-float", lambda: ch.rayleigh((2, 3.0), 0), "shape"),
    ("ray-shape-str", lambda: ch.rayleigh("3", 0), "shape"),
    ("ray-shape-2d", lambda: ch.rayleigh(np.ones((2, 2), dtype=int), 0), "shape"),
    ("ray-rng-legacy", lambda: ch.rayleigh(3, LEGACY), "rng"),
    ("ray-rng-float", lambda: ch.rayleigh(3, 1.5), "rng"),
    # rician
    ("ric-k-nan", lambda: ch.rician(3, NAN, 0), "k_factor_db"),
    ("ric-k-inf", lambda: ch.rician(3, INF, 0), "k_factor_db"),
    ("ric-k-overflow", lambda: ch.rician(3, 4000.0, 0), "k_factor_db"),
    (
        "up-k-overflow",
        lambda: ch.uplink_channels([100.0], 2, rng=0, fading="rician", k_factor_db=4000.0),
        "k_factor_db",
    ),
    ("ric-k-array", lambda: ch.rician(3, [1.0, 2.0], 0), "k_factor_db"),
    ("ric-shape", lambda: ch.rician(-1, 3.0, 0), "shape"),
    ("ric-rng", lambda: ch.rician(3, 3.0, LEGACY), "rng"),
    # lognormal_shadowing_db
    ("sh-sigma-neg", lambda: ch.lognormal_shadowing_db(3, -1.0, 0), "sigma_db"),
    ("sh-sigma-nan", lambda: ch.lognormal_shadowing_db(3, NAN, 0), "sigma_db"),
    ("sh-shape", lambda: ch.lognormal_shadowing_db(2.5, 8.0, 0), "shape"),
    ("sh-rng", lambda: ch.lognormal_shadowing_db(3, 8.0, 1.5), "rng"),
    # uplink_channels
    ("ul-dist-neg", lambda: ch.uplink_channels([100.0, -1.0], 2, rng=0), "distances_m"),
    ("ul-dist-nan", lambda: ch.uplink_channels([NAN], 2, rng=0), "distances_m"),
    ("ul-dist-3d", lambda: ch.uplink_channels(np.ones((1, 1, 2)), 2, rng=0), "distances_m"),
    ("ul-dist-scalar", lambda: ch.uplink_channels(100.0, 2, rng=0), "distances_m"),
    ("ul-ant-float", lambda: ch.uplink_channels([100.0], 2.0, rng=0), "num_antennas"),
    ("ul-ant-zero", lambda: ch.uplink_channels([100.0], 0, rng=0), "num_antennas"),
    ("ul-rng", lambda: ch.uplink_channels([100.0], 2, rng=LEGACY), "rng"),
    ("ul-rng-float", lambda: ch.uplink_channels([100.0], 2, rng=1.5), "rng"),
    ("ul-fading", lambda: ch.uplink_channels([100.0], 2, rng=0, fading="nakagami"), "fading"),
    ("ul-pathloss", lambda: ch.uplink_channels([100.0], 2, rng=0, pathloss="x"), "pathloss"),
    (
        "ul-rician-no-k",
        lambda: ch.uplink_channels([100.0], 2, rng=0, fading="rician"),
        "k_factor_db",
    ),
    (
        "ul-k-without-rician",
        lambda: ch.uplink_channels([100.0], 2, rng=0, k_factor_db=3.0),
        "k_factor_db",
    ),
    (
        "ul-sigma",
        lambda: ch.uplink_channels([100.0], 2, rng=0, shadowing_sigma_db=-2.0),
        "shadowing_sigma_db",
    ),
    ("ul-batch-zero", lambda: ch.uplink_channels([100.0], 2, rng=0, batch=0), "batch"),
    ("ul-batch-float", lambda: ch.uplink_channels([100.0], 2, rng=0, batch=2.0), "batch"),
    (
        "ul-batch-mismatch",
        lambda: ch.uplink_channels(np.full((3, 2), 100.0), 2, rng=0, batch=2),
        "batch",
    ),
    ("ul-param", lambda: ch.uplink_channels([100.0], 2, rng=0, carrier_hz=2e9), "carrier_hz"),
    # shannon_rate
    ("sh-bw-neg", lambda: ch.shannon_rate(-1.0, 1.0), "bandwidth_hz"),
    ("sh-bw-nan", lambda: ch.shannon_rate(NAN, 1.0), "bandwidth_hz"),
    ("sh-snr-neg", lambda: ch.shannon_rate(1e6, -0.1), "snr"),
    ("sh-snr-inf", lambda: ch.shannon_rate(1e6, INF), "snr"),
    ("sh-shapes", lambda: ch.shannon_rate([1.0, 2.0], [1.0, 2.0, 3.0]), "bandwidth_hz"),
    # ergodic_rate
    ("er-snr-neg", lambda: ch.ergodic_rate(-1.0, rng=0), "snr"),
    ("er-snr-nan", lambda: ch.ergodic_rate([1.0, NAN], rng=0), "snr"),
    ("er-ant-float", lambda: ch.ergodic_rate(1.0, 2.5, rng=0), "num_antennas"),
    ("er-ant-zero", lambda: ch.ergodic_rate(1.0, 0, rng=0), "num_antennas"),
    ("er-samples-one", lambda: ch.ergodic_rate(1.0, samples=1, rng=0), "samples"),
    ("er-samples-float", lambda: ch.ergodic_rate(1.0, samples=1e4, rng=0), "samples"),
    ("er-rng-legacy", lambda: ch.ergodic_rate(1.0, rng=LEGACY), "rng"),
    ("er-rng-float", lambda: ch.ergodic_rate(1.0, rng=1.5), "rng"),
    ("er-stderr-flag", lambda: ch.ergodic_rate(1.0, rng=0, return_stderr="yes"), "return_stderr"),
    # rayleigh_ergodic_capacity
    ("cap-snr-neg", lambda: ch.rayleigh_ergodic_capacity(-1e-3), "snr"),
    ("cap-snr-inf", lambda: ch.rayleigh_ergodic_capacity(INF), "snr"),
    ("cap-ant-float", lambda: ch.rayleigh_ergodic_capacity(1.0, 4.0), "num_antennas"),
    ("cap-ant-neg", lambda: ch.rayleigh_ergodic_capacity(1.0, -2), "num_antennas"),
    # outage_probability
    ("out-rate-neg", lambda: ch.outage_probability(-1.0, 10.0), "rate_bps_hz"),
    ("out-rate-nan", lambda: ch.outage_probability(NAN, 10.0), "rate_bps_hz"),
    ("out-snr-neg", lambda: ch.outage_probability(1.0, -10.0), "snr"),
    ("out-snr-inf", lambda: ch.outage_probability(1.0, INF), "snr"),
    ("out-shapes", lambda: ch.outage_probability([1.0, 2.0], [1.0, 2.0, 3.0]), "rate_bps_hz"),
    ("out-ant", lambda: ch.outage_probability(1.0, 10.0, 1.5), "num_antennas"),
    ("out-samples", lambda: ch.outage_probability(1.0, 10.0, samples=0, rng=0), "samples"),
    ("out-rng", lambda: ch.outage_probability(1.0, 10.0, samples=100, rng=LEGACY), "rng"),
    ("out-rng-float", lambda: ch.outage_probability(1.0, 10.0, samples=100, rng=1.5), "rng"),
    ("out-rng-closed-form", lambda: ch.outage_probability(1.0, 10.0, rng=LEGACY), "rng"),
    ("out-flag", lambda: ch.outage_probability(1.0, 10.0, return_stderr=1), "return_stderr"),
]


@pytest.mark.parametrize(("case", "call", "named"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_invalid_input_error_naming_the_argument(
    case: str, call: Callable[[], Any], named: str
) -> None:
    with pytest.raises(InvalidInputError) as exc:
        call()
    assert named in str(exc.value), str(exc.value)


def test_every_public_function_has_a_bad_input_case() -> None:
    functions = {name for name in ch.__all__ if callable(getattr(ch, name)) and name.islower()}
    covered = {
        "pathloss_db": "pl-",
        "far_field_distance_m": "ff-",
        "rayleigh": "ray-",
        "rician": "ric-",
        "lognormal_shadowing_db": "sh-sigma",
        "uplink_channels": "ul-",
        "shannon_rate": "sh-bw",
        "ergodic_rate": "er-",
        "rayleigh_ergodic_capacity": "cap-",
        "outage_probability": "out-",
    }
    assert functions == set(covered)
    ids = [c[0] for c in CASES]
    for prefix in covered.values():
        assert any(i.startswith(prefix) for i in ids)


def test_invalid_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="snr"):
        ch.shannon_rate(1.0, -1.0)
