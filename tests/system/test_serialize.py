"""to_dict / from_dict: plain values, round trips through dicts and TOML."""

from __future__ import annotations

import json
import tomllib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeopt.system import BaseStation, Devices, System, drop_devices, normalized_system


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # repr of a finite float is valid TOML ("1e-28", "10000000.0")
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a TOML value: {value!r}")


def to_toml(system_dict, prefix="system"):
    """A tiny TOML writer for the two tables of System.to_dict()."""
    lines = []
    for table, entries in system_dict.items():
        lines.append(f"[{prefix}.{table}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in entries.items())
        lines.append("")
    return "\n".join(lines)


def _assert_plain(value):
    """Only str, int, float, bool, list and dict, recursively: no NumPy types."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str
            _assert_plain(item)
    elif isinstance(value, list):
        for item in value:
            _assert_plain(item)
    else:
        assert type(value) in (str, int, float, bool), (value, type(value))


SYSTEMS = [
    lambda: drop_devices(5, rng=0),
    lambda: drop_devices(
        4,
        rng=1,
        base_station=BaseStation(
            num_antennas=4,
            pathloss="log-distance",
            pathloss_params={"pl0_db": 35.0, "exponent": 3.5},
            fading="rician",
            k_factor_db=6.0,
            shadowing_sigma_db=4.0,
            server_cpu_freq_hz=2e10,
        ),
        cpu_freq_hz=(1e8, 1e9),
        cycles_per_sample=2e4,
        num_samples=(50, 500),
    ),
    lambda: normalized_system(3, num_antennas=2, power_w=[1.0, 2.0, 0.5], noise_w=0.1),
    lambda: System(
        BaseStation(pathloss="free-space", pathloss_params={"carrier_hz": 2.4e9}, noise_w=1e-13),
        Devices(distance_m=[20.0, 60.0], tx_power_w=0.1, cpu_freq_hz=1e9, kappa=1e-28),
    ),
]


def test_to_dict_is_plain_and_round_trips():
    for make in SYSTEMS:
        system = make()
        data = system.to_dict()
        _assert_plain(data)
        back = System.from_dict(data)
        assert back == system
        assert back.to_dict() == data
        np.testing.assert_array_equal(back.mean_snr(), system.mean_snr())
        np.testing.assert_array_equal(back.channels(3, batch=2), system.channels(3, batch=2))


def test_round_trip_through_toml():
    for make in SYSTEMS:
        system = make()
        text = to_toml(system.to_dict())
        parsed = tomllib.loads(text)
        assert System.from_dict(parsed["system"]) == system


def test_normalized_form_is_written_as_none():
    data = normalized_system(2).to_dict()
    assert data["base_station"]["pathloss"] == "none"
    assert "distance_m" not in data["devices"]
    parsed = tomllib.loads(to_toml(data))
    assert System.from_dict(parsed["system"]).base_station.pathloss is None


def test_hand_written_toml_with_defaults_and_scalars():
    text = """
    [system.base_station]
    num_antennas = 2
    noise_figure_db = 7.0

    [system.devices]
    distance_m = [50.0, 100.0, 150.0]
    tx_power_w = 0.1
    cpu_freq_hz = [1e9, 2e9, 3e9]
    kappa = 1e-28
    num_samples = [10, 20, 30]
    """
    system = System.from_dict(tomllib.loads(text)["system"])
    assert system.num_devices == 3 and system.num_antennas == 2
    assert system.base_station.bandwidth_hz == 10e6  # a default
    np.testing.assert_array_equal(system.devices.tx_power_w, [0.1, 0.1, 0.1])
    assert system.devices.num_samples.dtype == np.int64


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(1, 8),
    st.sampled_from(["rayleigh", "rician", "none"]),
    st.floats(0.0, 12.0),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_round_trip_invariant(k, n, fading, sigma, seed, with_data):
    bs = BaseStation(
        num_antennas=n,
        fading=fading,
        k_factor_db=3.0 if fading == "rician" else None,
        shadowing_sigma_db=sigma,
    )
    extra = {"cycles_per_sample": (1e3, 1e5), "num_samples": (0, 1000)} if with_data else {}
    system = drop_devices(k, rng=seed, base_station=bs, tx_power_w=(1e-3, 0.2), **extra)
    data = system.to_dict()
    _assert_plain(data)
    assert System.from_dict(tomllib.loads(to_toml(data))["system"]) == system
