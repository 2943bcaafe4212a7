"""Bad input to the system model raises InvalidInputError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from edgeopt.errors import InvalidInputError
from edgeopt.system import BaseStation, Devices, System, drop_devices, normalized_system

GOOD = {"distance_m": [50.0, 100.0], "tx_power_w": 0.1, "cpu_freq_hz": 1e9, "kappa": 1e-28}


def _devices(**changes):
    return Devices(**{**GOOD, **changes})


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"tx_power_w": [0.1, 0.2, 0.3]}, "tx_power_w"),  # mismatched length
        ({"tx_power_w": [0.1, -0.2]}, "tx_power_w"),  # negative power
        ({"tx_power_w": 0.0}, "tx_power_w"),
        ({"distance_m": [50.0, np.nan]}, "distance_m"),
        ({"distance_m": [50.0, -1.0]}, "distance_m"),
        ({"cpu_freq_hz": [1e9, np.inf]}, "cpu_freq_hz"),
        ({"kappa": -1e-28}, "kappa"),
        ({"cycles_per_sample": [1e4]}, "cycles_per_sample"),
        ({"num_samples": [10.0, 20.0]}, "num_samples"),  # counts are integers
        ({"num_samples": [10, -1]}, "num_samples"),
        ({"num_samples": [True, False]}, "num_samples"),
        ({"tx_power_w": "0.1"}, "tx_power_w"),
        ({"tx_power_w": None}, "tx_power_w"),
        ({"distance_m": [[50.0, 100.0]]}, "distance_m"),
        ({"distance_m": [[50.0, 100.0], [1.0]]}, "distance_m"),  # ragged
    ],
)
def test_devices_bad_input(changes, name):
    with pytest.raises(InvalidInputError, match=name):
        _devices(**changes)


def test_devices_need_an_array():
    with pytest.raises(InvalidInputError, match="length-K array"):
        Devices(tx_power_w=0.1, cpu_freq_hz=1e9, kappa=1e-28)
    with pytest.raises(InvalidInputError, match="at least one device"):
        Devices(tx_power_w=[], cpu_freq_hz=1e9, kappa=1e-28)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_antennas": 0}, "num_antennas"),
        ({"num_antennas": 2.0}, "num_antennas"),
        ({"bandwidth_hz": 0.0}, "bandwidth_hz"),
        ({"bandwidth_hz": np.nan}, "bandwidth_hz"),
        ({"noise_figure_db": -1.0}, "noise_figure_db"),
        ({"pathloss": "okumura"}, "pathloss"),
        ({"pathloss": "free-space"}, "carrier_hz"),  # a required parameter is missing
        ({"pathloss_params": {"carrier_hz": 2e9}}, "carrier_hz"),  # not a 3gpp-macro option
        ({"pathloss": "free-space", "pathloss_params": {"carrier_hz": "2 GHz"}}, "carrier_hz"),
        ({"pathloss_params": [("a", 1.0)]}, "pathloss_params"),
        ({"fading": "nakagami"}, "fading"),
        ({"fading": "rician"}, "k_factor_db"),
        ({"k_factor_db": 3.0}, "k_factor_db"),
        ({"shadowing_sigma_db": -2.0}, "shadowing_sigma_db"),
        ({"noise_w": 0.0}, "noise_w"),
        ({"server_cpu_freq_hz": -1.0}, "server_cpu_freq_hz"),
        ({"pathloss": None, "shadowing_sigma_db": 0.0}, "noise_w"),
        ({"pathloss": None, "noise_w": 1.0}, "shadowing_sigma_db"),
        (
            {
                "pathloss": None,
                "noise_w": 1.0,
                "shadowing_sigma_db": 0.0,
                "pathloss_params": {"exponent": 2.0},
            },
            "pathloss_params",
        ),
    ],
)
def test_base_station_bad_input(kwargs, name):
    with pytest.raises(InvalidInputError, match=name):
        BaseStation(**kwargs)


def test_system_bad_input():
    with pytest.raises(InvalidInputError, match="base_station"):
        System("macro", _devices())
    with pytest.raises(InvalidInputError, match="devices"):
        System(BaseStation(), {"distance_m": [1.0]})
    no_distance = Devices(tx_power_w=[0.1, 0.2], cpu_freq_hz=1e9, kappa=1e-28)
    with pytest.raises(InvalidInputError, match="distance_m"):
        System(BaseStation(), no_distance)
    bad_exponent = BaseStation(
        pathloss="log-distance", pathloss_params={"pl0_db": 30.0, "exponent": -2.0}
    )
    with pytest.raises(InvalidInputError, match="exponent"):
        System(bad_exponent, _devices())


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_devices": 0}, "num_devices"),
        ({"num_devices": 3.0}, "num_devices"),
        ({"min_radius_m": 300.0, "radius_m": 200.0}, "min_radius_m"),
        ({"min_radius_m": 200.0, "radius_m": 200.0}, "min_radius_m"),
        ({"min_radius_m": 0.0}, "min_radius_m"),
        ({"radius_m": np.nan}, "radius_m"),
        ({"rng": 1.5}, "rng"),
        ({"tx_power_w": -0.1}, "tx_power_w"),
        ({"tx_power_w": [0.1, 0.2]}, "tx_power_w"),  # K = 3
        ({"tx_power_w": (0.2, 0.1)}, "tx_power_w"),  # low > high
        ({"tx_power_w": (0.1, 0.2, 0.3)}, "tx_power_w"),  # not a 2-tuple
        ({"cpu_freq_hz": (0.0, 1e9)}, "cpu_freq_hz"),  # log-uniform needs low > 0
        ({"kappa": (1e-28, np.nan)}, "kappa"),
        ({"num_samples": (10.5, 20)}, "num_samples"),
        ({"num_samples": (20, 10)}, "num_samples"),
        ({"kappa": [[1e-28], [1e-28, 2e-28]]}, "kappa"),  # ragged
        ({"distance_m": [50.0, 60.0, 70.0]}, "distance_m"),  # drawn, not given
        ({"power_w": 0.1}, "power_w"),  # normalized_system's name
        ({"base_station": BaseStation.normalized()}, "base_station"),
        ({"base_station": "macro"}, "base_station"),
    ],
)
def test_drop_devices_bad_input(kwargs, name):
    args = {"num_devices": 3, "rng": 0, **kwargs}
    with pytest.raises(InvalidInputError, match=name):
        drop_devices(args.pop("num_devices"), **args)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"power_w": -1.0}, "power_w"),
        ({"power_w": [1.0, 2.0]}, "power_w"),
        ({"noise_w": 0.0}, "noise_w"),
        ({"bandwidth_hz": -1.0}, "bandwidth_hz"),
        ({"num_antennas": 0}, "num_antennas"),
        ({"cpu_freq_hz": (1e8, 1e9)}, "cpu_freq_hz"),  # ranges need drop_devices' rng
        ({"tx_power_w": 1.0}, "tx_power_w"),  # power_w is the name here
        ({"distance_m": [1.0, 2.0, 3.0]}, "distance_m"),
    ],
)
def test_normalized_system_bad_input(kwargs, name):
    with pytest.raises(InvalidInputError, match=name):
        normalized_system(3, **kwargs)


def test_method_bad_input():
    system = normalized_system(3, num_antennas=2)
    h = system.channels(0)
    with pytest.raises(InvalidInputError, match="channels"):
        system.rates_bps(h[:2], 1e5)  # K = 2, not 3
    with pytest.raises(InvalidInputError, match="channels"):
        system.rates_bps(h[:, :1], 1e5)  # N = 1, not 2
    with pytest.raises(InvalidInputError, match="channels"):
        system.rates_bps(np.full((3, 2), np.nan + 0j), 1e5)
    with pytest.raises(InvalidInputError, match="bandwidth_hz"):
        system.rates_bps(h, [1e5, -1.0, 1e5])
    with pytest.raises(InvalidInputError, match="bandwidth_hz"):
        system.rates_bps(h, [1e5, 1e5])
    with pytest.raises(InvalidInputError, match="batch"):
        system.channels(0, batch=0)
    with pytest.raises(InvalidInputError, match="rng"):
        system.channels("seed")
    with pytest.raises(InvalidInputError, match="cycles_per_sample"):
        system.compute_time_s(10)
    with_cycles = system.with_devices(cycles_per_sample=1e4)
    with pytest.raises(InvalidInputError, match="num_samples"):
        with_cycles.compute_energy_j()
    with pytest.raises(InvalidInputError, match="num_samples"):
        with_cycles.compute_time_s([-1.0, 1.0, 1.0])
    with pytest.raises(InvalidInputError, match="num_sample"):
        system.with_devices(num_sample=[1, 2, 3])


def test_from_dict_bad_input():
    good = drop_devices(2, rng=0).to_dict()
    with pytest.raises(InvalidInputError, match="system"):
        System.from_dict([1, 2])
    with pytest.raises(InvalidInputError, match="devices"):
        System.from_dict({"base_station": good["base_station"]})
    with pytest.raises(InvalidInputError, match="antennas"):
        System.from_dict({**good, "antennas": 4})
    with pytest.raises(InvalidInputError, match="num_antenna"):
        System.from_dict({**good, "base_station": {"num_antenna": 2}})
    with pytest.raises(InvalidInputError, match="distance"):
        System.from_dict({**good, "devices": {**good["devices"], "distance": [1.0, 2.0]}})
    with pytest.raises(InvalidInputError, match="num_antennas"):
        System.from_dict({**good, "base_station": {"num_antennas": 2.0}})
