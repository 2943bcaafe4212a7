"""Shuffling through an access point: loads against the bit-level relaying, time, r*."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from edgeopt.coding import (
    DEFAULT_AP_POWER_W,
    access_point_loads,
    access_point_rates,
    access_point_shuffle_time_s,
    cdc_load,
    cdc_scheme,
    job_time_s,
    optimal_computation_load,
    simulate_cdc,
    uncoded_load,
)
from edgeopt.errors import InvalidInputError
from edgeopt.system import drop_devices, normalized_system

SMALL = [(k, r) for k in range(1, 7) for r in range(1, k + 1)]


@pytest.mark.parametrize(("k", "r"), SMALL)
def test_fixed_job_access_point_counters_equal_formulas(k: int, r: int) -> None:
    n = 2 * math.comb(k, r)
    res = simulate_cdc(
        k, r, num_files=n, value_bits=8 * r * 3, network="access-point", rng=100 * k + r
    )
    assert res.correct
    up, down = access_point_loads(r, k)
    up_u, down_u = access_point_loads(r, k, scheme="uncoded")
    assert (res.uplink_load, res.downlink_load) == (up, down)
    assert (res.uncoded_uplink_load, res.uncoded_downlink_load) == (up_u, down_u)
    # exact rationals of the bit counts: (1/r)(1 - r/K) up, (1/(r+1))(1 - r/K) down
    total = k * n * res.value_bits
    assert res.uplink_bits_per_device is not None
    assert res.uncoded_uplink_bits_per_device is not None
    up_bits = sum(res.uplink_bits_per_device)
    up_bits_u = sum(res.uncoded_uplink_bits_per_device)
    assert Fraction(up_bits, total) == Fraction(k - r, r * k)
    assert Fraction(res.coded_bits - up_bits, total) == Fraction(k - r, (r + 1) * k)
    assert Fraction(up_bits_u, total) == Fraction(k - r, k)
    assert Fraction(res.uncoded_bits - up_bits_u, total) == Fraction(k - r, k)
    # the coded uplink is the shared-link CDC load, the uncoded one the uncoded load
    assert up == cdc_load(r, k) and up_u == uncoded_load(r, k)
    # load = uplink + downlink, bits of both links
    assert res.load == res.coded_bits / total
    assert Fraction(res.coded_bits, total) == Fraction(k - r, r * k) + Fraction(k - r, (r + 1) * k)
    # equal shares of the uplink bits (symmetry of the scheme)
    assert len(set(res.uplink_bits_per_device)) == 1
    assert len(set(res.uncoded_uplink_bits_per_device)) == 1
    # r + 1 packets up and r chain XORs down per (r + 1)-group
    assert res.num_messages == (2 * r + 1) * math.comb(k, r + 1)


@pytest.mark.parametrize(("k", "r"), [(k, r) for k, r in SMALL if r < k])
def test_terasort_through_access_point(k: int, r: int) -> None:
    res = simulate_cdc(
        k,
        r,
        num_files=math.comb(k, r),
        job="terasort",
        records_per_file=30,
        network="access-point",
        rng=r,
    )
    assert res.correct
    assert (res.uplink_load, res.downlink_load) == access_point_loads(r, k)
    assert (res.uncoded_uplink_load, res.uncoded_downlink_load) == access_point_loads(
        r, k, scheme="uncoded"
    )
    assert 0 < res.padding_fraction < 1


def test_shared_link_leaves_access_point_fields_empty() -> None:
    res = simulate_cdc(4, 2, num_files=6, value_bits=64, rng=0)
    assert res.uplink_load is None and res.downlink_load is None
    assert res.uncoded_uplink_load is None and res.uncoded_downlink_load is None
    assert res.uplink_bits_per_device is None
    assert res.uncoded_uplink_bits_per_device is None


def test_access_point_decoder_catches_a_wrong_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    # the devices decode from the access point's XORs: a corrupted broadcast must show.
    # K = 3, r = 1: the first two-argument XOR is the access point's broadcast for {0, 1}
    from edgeopt.coding import cdc

    real_xor = np.bitwise_xor
    calls = {"n": 0}

    def flaky(a: np.ndarray, b: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        out = real_xor(a, b, *args, **kwargs)
        if not args and not kwargs:
            calls["n"] += 1
        if calls["n"] == 1 and not args and not kwargs:
            out = out.copy()
            out.flat[0] ^= 1
        return out

    monkeypatch.setattr(cdc.np, "bitwise_xor", flaky)
    res = cdc.simulate_cdc(3, 1, num_files=3, value_bits=8, network="access-point", rng=0)
    monkeypatch.undo()
    assert calls["n"] > 1
    assert not res.correct


def test_loads_by_hand() -> None:
    assert access_point_loads(1, 10) == pytest.approx((0.9, 0.45))
    assert access_point_loads(3, 10) == pytest.approx((7 / 30, 7 / 40))
    assert access_point_loads(3, 10, scheme="uncoded") == pytest.approx((0.7, 0.7))
    assert access_point_loads(5, 5) == (0.0, 0.0)
    for k in range(2, 9):
        for r in range(1, k):
            up, down = access_point_loads(r, k)
            up_u, down_u = access_point_loads(r, k, scheme="uncoded")
            assert up * r == pytest.approx(up_u)
            assert down * (r + 1) == pytest.approx(down_u)


def test_shuffle_time_from_simulated_bits() -> None:
    # Σ_k bits_k / r_k + downlink bits / min rate, from the bit-level counters
    k, r = 5, 2
    n = math.comb(k, r)
    res = simulate_cdc(k, r, num_files=n, value_bits=8 * r * 4, network="access-point", rng=3)
    up_rates = np.array([1e6, 2e6, 3e6, 4e6, 5e6])
    down_rates = np.array([9e6, 7e6, 8e6, 6e6, 10e6])
    total = k * n * res.value_bits
    for scheme, per_device, bits in (
        ("coded", res.uplink_bits_per_device, res.coded_bits),
        ("uncoded", res.uncoded_uplink_bits_per_device, res.uncoded_bits),
    ):
        assert per_device is not None
        down_bits = bits - sum(per_device)
        expected = float(np.sum(np.array(per_device) / up_rates)) + down_bits / 6e6
        got = access_point_shuffle_time_s(
            r,
            k,
            intermediate_bits=total,
            uplink_rates_bps=up_rates,
            downlink_rates_bps=down_rates,
            scheme=scheme,
        )
        assert got == pytest.approx(expected, rel=1e-12)
    assert (
        access_point_shuffle_time_s(
            k, k, intermediate_bits=total, uplink_rates_bps=1.0, downlink_rates_bps=1.0
        )
        == 0.0
    )


def test_job_time_by_hand() -> None:
    # K = 4, r = 2, D = 1.2e7: up (1/2)(1/2) D = 3e6 bits, 7.5e5 per device;
    # down (1/3)(1/2) D = 2e6 bits at the weakest 1e6 bit/s
    t = job_time_s(
        2,
        4,
        map_time_s=[1.0, 3.0, 2.0, 2.5],
        intermediate_bits=1.2e7,
        uplink_rates_bps=[1e6, 1e6, 5e5, 5e5],
        downlink_rates_bps=[2e6, 1e6, 4e6, 4e6],
        reduce_time_s=[0.25, 0.5, 0.0, 0.0],
    )
    assert t == pytest.approx(2 * 3.0 + (0.75 + 0.75 + 1.5 + 1.5) + 2.0 + 0.5)


def _brute_force(
    k: int, t_map: float, bits: float, up: np.ndarray, down: float, t_red: float, coded: bool
) -> int:
    """r* from exact rationals of the closed forms, without edgeopt's time functions."""
    best, best_t = 0, None
    for r in range(1, k + 1):
        lu = Fraction(k - r, r * k) if coded else Fraction(k - r, k)
        ld = Fraction(k - r, (r + 1) * k) if coded else Fraction(k - r, k)
        t = (
            r * Fraction(t_map)
            + sum(lu * Fraction(bits) / k / Fraction(x) for x in up)
            + ld * Fraction(bits) / Fraction(down)
            + Fraction(t_red)
        )
        if best_t is None or t < best_t:
            best, best_t = r, t
    return best


def test_optimal_load_against_brute_force() -> None:
    gen = np.random.default_rng(5)
    seen = set()
    for _ in range(150):
        k = int(gen.integers(1, 13))
        t_map = float(10 ** gen.uniform(-2, 1.5))
        bits = float(10 ** gen.uniform(6, 9))
        up = 10 ** gen.uniform(6, 8, size=k)
        down = 10 ** gen.uniform(6, 9, size=k)
        t_red = float(gen.uniform(0, 2))
        for scheme in ("coded", "uncoded"):
            got = optimal_computation_load(
                k,
                map_time_s=t_map,
                intermediate_bits=bits,
                uplink_rates_bps=up,
                downlink_rates_bps=down,
                reduce_time_s=t_red,
                scheme=scheme,
            )
            ref = _brute_force(k, t_map, bits, up, float(down.min()), t_red, scheme == "coded")
            assert isinstance(got, int)
            assert got == ref
            seen.add(got)
    assert len(seen) >= 4  # interior optima as well as the ends


def test_uncoded_optimum_is_an_end_point() -> None:
    # uncoded T(r) is linear in r: the optimum is r = 1 or r = K
    for t_map in (0.1, 1.0, 10.0, 100.0):
        r = optimal_computation_load(
            10,
            map_time_s=t_map,
            intermediate_bits=8e8,
            uplink_rates_bps=5e7,
            downlink_rates_bps=2e8,
            scheme="uncoded",
        )
        assert r in (1, 10)


def test_rates_from_the_system_model() -> None:
    cell = normalized_system(3, num_antennas=2, power_w=[1.0, 2.0, 0.5], noise_w=2.0)
    h = cell.channels(1)
    gain = np.sum(np.abs(h) ** 2, axis=1)
    b = cell.base_station.bandwidth_hz
    up, down = access_point_rates(cell, h, ap_power_w=8.0)
    np.testing.assert_allclose(up, b * np.log2(1 + np.array([1.0, 2.0, 0.5]) * gain / 2.0))
    np.testing.assert_allclose(down, b * np.log2(1 + 8.0 / 2 * gain / 2.0))
    up2, _ = access_point_rates(cell, h, ap_power_w=8.0, bandwidth_hz=b / 2)
    np.testing.assert_allclose(up2, b / 2 * np.log2(1 + np.array([1.0, 2.0, 0.5]) * gain / 1.0))
    # a macro cell: the 46 dBm access point gives faster downlinks than 23 dBm devices
    system = drop_devices(10, rng=2)
    up, down = access_point_rates(system, system.channels(3))
    assert up.shape == down.shape == (10,)
    assert np.all(down > up) and np.all(up > 0)
    assert DEFAULT_AP_POWER_W == pytest.approx(10**4.6 / 1000)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"computation_load": 5, "num_nodes": 4}, "computation_load"),
        ({"computation_load": 0, "num_nodes": 4}, "computation_load"),
        ({"computation_load": 1, "num_nodes": 4.0}, "num_nodes"),
        ({"computation_load": 1.5, "num_nodes": 4}, "computation_load"),
        ({"computation_load": 1, "num_nodes": 4, "scheme": "fountain"}, "scheme"),
    ],
)
def test_bad_loads(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidInputError, match=name):
        access_point_loads(**kwargs)
    base = {"intermediate_bits": 1e6, "uplink_rates_bps": 1e6, "downlink_rates_bps": 1e6}
    with pytest.raises(InvalidInputError, match=name):
        access_point_shuffle_time_s(**kwargs, **base)
    with pytest.raises(InvalidInputError, match=name):
        job_time_s(**kwargs, map_time_s=1.0, **base)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"map_time_s": 0.0}, "map_time_s"),
        ({"map_time_s": [1.0, -1.0, 1.0, 1.0]}, "map_time_s"),
        ({"map_time_s": [1.0, 1.0]}, "map_time_s"),
        ({"reduce_time_s": -1.0}, "reduce_time_s"),
        ({"intermediate_bits": 0.0}, "intermediate_bits"),
        ({"intermediate_bits": float("nan")}, "intermediate_bits"),
        ({"uplink_rates_bps": 0.0}, "uplink_rates_bps"),
        ({"uplink_rates_bps": [1e6, 1e6, 1e6]}, "uplink_rates_bps"),
        ({"downlink_rates_bps": [1e6, 1e6, 0.0, 1e6]}, "downlink_rates_bps"),
        ({"downlink_rates_bps": float("inf")}, "downlink_rates_bps"),
        ({"scheme": "magic"}, "scheme"),
    ],
)
def test_bad_times_and_rates(change: dict[str, object], name: str) -> None:
    kwargs: dict[str, object] = {
        "map_time_s": 1.0,
        "intermediate_bits": 1e6,
        "uplink_rates_bps": 1e6,
        "downlink_rates_bps": 1e6,
        **change,
    }
    with pytest.raises(InvalidInputError, match=name):
        job_time_s(2, 4, **kwargs)
    with pytest.raises(InvalidInputError, match=name):
        optimal_computation_load(4, **kwargs)
    with pytest.raises(InvalidInputError, match="num_nodes"):
        optimal_computation_load(0, **kwargs)


def test_bad_rate_inputs() -> None:
    cell = normalized_system(2)
    h = cell.channels(0)
    with pytest.raises(InvalidInputError, match="system"):
        access_point_rates("cell", h)
    with pytest.raises(InvalidInputError, match="ap_power_w"):
        access_point_rates(cell, h, ap_power_w=0.0)
    with pytest.raises(InvalidInputError, match="bandwidth_hz"):
        access_point_rates(cell, h, bandwidth_hz=-1.0)
    with pytest.raises(InvalidInputError, match="channels"):
        access_point_rates(cell, np.ones((3, 1), dtype=complex))


def test_plan_groups_are_contiguous() -> None:
    # the access-point relaying groups the plan's multicasts by (r + 1)-subset
    plan = cdc_scheme(6, 2, math.comb(6, 2))
    groups = [m.group for m in plan.multicasts]
    starts = [i for i in range(len(groups)) if i == 0 or groups[i] != groups[i - 1]]
    assert len(starts) == math.comb(6, 3)
