"""Participation, deadlines and the system in the loop: hand computations, sampling, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from edgeopt.errors import InvalidInputError
from edgeopt.federated import (
    AirCompAggregation,
    DigitalAggregation,
    IdealAggregation,
    RoundContext,
    run_fedavg,
)
from edgeopt.federated.uplink import deadline_mask
from edgeopt.system import drop_devices, normalized_system

# Three devices, d = 4 entries of 32 bits (L = 128 bits), band B = 1 kHz, noise 1 W, P = 1 W.
D_ENTRIES, BITS, BAND = 4, 128.0, 1e3
T = np.array([0.2, 0.1, 0.3])  # computation times, s
E = np.array([1e-3, 2e-3, 3e-3])  # computation energies, J


def _context(gains, **fields):
    h = np.sqrt(np.asarray(gains, dtype=float))[:, None].astype(complex)  # ‖h_i‖² = gains
    return RoundContext.from_rng(
        0,
        compute_s=T,
        compute_energy_j=E,
        channels=h,
        power_w=1.0,
        noise_w=1.0,
        bandwidth_hz=BAND,
        **fields,
    )


def _updates():
    return torch.arange(12.0, dtype=torch.float64).reshape(3, D_ENTRIES)


# TDMA: r_i = B log2(1 + g_i) = 2000, 1000, 4000 bit/s, so U_i = L/r_i = 0.064, 0.128, 0.032 s
TDMA_GAINS = [3.0, 1.0, 15.0]
# FDMA (m = 3): r_i = (B/3) log2(1 + 3 g_i) = (B/3)·(2, 3, 4), so U_i = 0.192, 0.128, 0.096 s
FDMA_GAINS = [1.0, 7.0 / 3.0, 5.0]


@pytest.mark.parametrize(
    ("deadline", "kept", "latency"),
    [
        (None, [True, True, True], 0.3 + 0.064 + 0.128 + 0.032),  # max T + Σ U
        # compute order 1, 0, 2; schedule ends 0.1+0.128, 0.2+0.192, 0.3+0.224: device 2 late
        (0.4, [True, True, False], 0.2 + 0.128 + 0.064),
        (0.3, [False, True, False], 0.1 + 0.128),  # 0.392 > 0.3: only device 1 fits
    ],
)
def test_tdma_round_by_hand(deadline, kept, latency):
    agg = DigitalAggregation("tdma")
    out = agg.aggregate(_updates(), np.ones(3), _context(TDMA_GAINS, deadline_s=deadline))
    assert out.selected.tolist() == kept and out.on_time.tolist() == kept
    assert out.round_latency_s == pytest.approx(latency, rel=1e-12)
    upload = np.array([0.064, 0.128, 0.032])
    k = np.array(kept)
    # transmission P·U_i of the devices that sent, computation of every participant
    assert out.energy_j == pytest.approx(upload[k].sum() + E.sum(), rel=1e-12)
    assert out.uplink_bits == BITS * k.sum()
    expect = _updates().numpy()[k].mean(0)  # equal sizes: the plain mean of the kept rows
    assert np.allclose(out.update.numpy(), expect, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("deadline", "kept", "latency"),
    [
        (None, [True, True, True], 0.3 + 0.096),  # T + U = 0.392, 0.228, 0.396
        (0.395, [True, True, False], 0.2 + 0.192),
        (0.3, [False, True, False], 0.1 + 0.128),
    ],
)
def test_fdma_round_by_hand(deadline, kept, latency):
    agg = DigitalAggregation("fdma")
    out = agg.aggregate(_updates(), np.ones(3), _context(FDMA_GAINS, deadline_s=deadline))
    assert out.selected.tolist() == kept
    assert out.round_latency_s == pytest.approx(latency, rel=1e-12)
    assert np.allclose(out.info["rate_bps"], BAND / 3 * np.array([2.0, 3.0, 4.0]), rtol=1e-12)
    upload = np.array([0.192, 0.128, 0.096])
    assert out.energy_j == pytest.approx(upload[np.array(kept)].sum() + E.sum(), rel=1e-12)


@pytest.mark.parametrize(
    ("deadline", "kept", "latency"),
    [
        (None, [True, True, True], 0.3 + 0.002),  # one slot of ⌈4/2⌉ = 2 symbols at 1 kHz
        (0.25, [True, True, False], 0.2 + 0.002),  # device 2: 0.302 > 0.25, before selection
        (0.2015, [False, True, False], 0.1 + 0.002),  # device 0: 0.202 > 0.2015
    ],
)
def test_aircomp_round_by_hand(deadline, kept, latency):
    agg = AirCompAggregation(mse_target=1e6, method="all")  # every pooled device selected
    out = agg.aggregate(_updates(), np.ones(3), _context([1.0, 2.0, 0.5], deadline_s=deadline))
    assert out.on_time.tolist() == kept and out.selected.tolist() == kept
    assert out.round_latency_s == pytest.approx(latency, rel=1e-12)
    # energy: realized symbol energy (at most P per symbol, 2 symbols, 1/B s each) + E_i of
    # every participant, the dropped one included
    tx = out.energy_j - E.sum()
    assert 0.0 < tx <= 1.0 * sum(kept) * 2 / BAND * (1 + 1e-12)


@pytest.mark.parametrize("deadline", [None, 0.25])
def test_ideal_round_by_hand(deadline):
    ctx = RoundContext(compute_s=T, compute_energy_j=E, deadline_s=deadline)
    out = IdealAggregation().aggregate(_updates(), np.ones(3), ctx)
    assert out.round_latency_s == (0.3 if deadline is None else 0.2)
    assert out.selected.tolist() == ([True] * 3 if deadline is None else [True, True, False])
    assert out.energy_j == pytest.approx(E.sum(), rel=1e-12)


def test_nobody_in_time_waits_the_deadline_and_pays_computation():
    for agg in (IdealAggregation(), DigitalAggregation("fdma"), AirCompAggregation(1.0)):
        ctx = _context(FDMA_GAINS, deadline_s=0.05)  # every T_i > 0.05
        out = agg.aggregate(_updates(), np.ones(3), ctx)
        assert not out.selected.any() and not out.on_time.any()
        assert torch.all(out.update == 0)
        assert out.round_latency_s == 0.05
        assert out.energy_j == pytest.approx(E.sum(), rel=1e-12)


def test_non_participants_cost_nothing():
    ctx = _context(FDMA_GAINS, participants=[True, False, True])
    out = DigitalAggregation("fdma").aggregate(_updates(), np.ones(3), ctx)
    # m = 2 sub-bands of B/2: r_i = (B/2) log2(1 + 2 g_i)
    rate = BAND / 2 * np.log2(1 + 2 * np.array([1.0, 5.0]))
    assert out.selected.tolist() == [True, False, True]
    assert out.round_latency_s == pytest.approx(np.max(T[[0, 2]] + BITS / rate), rel=1e-12)
    assert out.energy_j == pytest.approx(np.sum(BITS / rate) + E[[0, 2]].sum(), rel=1e-12)


def test_deadline_mask_ties_and_bad_input():
    # equal finishing times are admitted by index
    assert deadline_mask([0.1, 0.1], [0.1, 0.1], deadline_s=0.2, access="tdma").tolist() == [
        True,
        False,
    ]
    assert deadline_mask([0.1], [0.1], deadline_s=None, access="tdma").tolist() == [True]
    with pytest.raises(InvalidInputError, match="deadline_s"):
        deadline_mask([0.1], [0.1], deadline_s=0.0, access="fdma")
    with pytest.raises(InvalidInputError, match="access"):
        deadline_mask([0.1], [0.1], deadline_s=1.0, access="cdma")
    with pytest.raises(InvalidInputError, match="upload_s"):
        deadline_mask([0.1], [0.1, 0.2], deadline_s=1.0, access="fdma")


_RUN = dict(data="synthetic", model="logistic", local_steps=2, lr=0.5, batch_size=10)


def test_loop_charges_the_systems_cpus_and_drops_the_slow_device():
    # T_i = C·steps·b/f_i = 1e6·2·10/f_i = 0.02, 0.01, 0.005 s
    system = normalized_system(
        3, cpu_freq_hz=[1e9, 2e9, 4e9], cycles_per_sample=1e6, kappa=1e-28, bandwidth_hz=1e4
    )
    t = np.array([0.02, 0.01, 0.005])
    energy = 1e-28 * 2e7 * np.array([1e9, 2e9, 4e9]) ** 2
    hist = run_fedavg(
        **_RUN,
        system=system,
        rounds=3,
        aggregation=AirCompAggregation(mse_target=1e6, method="all"),
        deadline_s=0.012,
        rng=0,
    )
    slot = math.ceil(hist.info["dim"] / 2) / 1e4  # 11 symbols at 10 kHz
    assert hist.sampled.all()
    assert hist.on_time.tolist() == [[False, True, True]] * 3
    assert hist.aggregated.tolist() == [[False, True, True]] * 3
    assert np.allclose(hist.round_latency_s, t[1] + slot, rtol=1e-12, atol=0)
    assert np.all(hist.round_energy_j > energy.sum())  # computation of all three, plus tx
    used = hist.info["system"]
    assert used.devices.num_samples.tolist() == hist.info["data_sizes"].tolist()
    assert np.allclose(used.compute_time_s(20), t)
    ideal = run_fedavg(
        **_RUN, system=system, rounds=2, aggregation=IdealAggregation(), deadline_s=0.012, rng=0
    )
    assert np.allclose(ideal.round_latency_s, 0.01) and np.allclose(
        ideal.round_energy_j, energy.sum(), rtol=1e-12
    )
    df = ideal.to_dataframe()
    assert df["sampled_count"].tolist() == [3, 3] and df["on_time_count"].tolist() == [2, 2]


def test_default_cycles_are_6d_and_given_cycles_are_kept():
    hist = run_fedavg(**_RUN, num_clients=2, rounds=1, aggregation=IdealAggregation(), rng=0)
    d = hist.info["dim"]
    assert hist.round_latency_s[0] == pytest.approx(6.0 * d * 2 * 10 / 1e9, rel=1e-12)
    system = normalized_system(2, cycles_per_sample=[1e5, 2e5])
    hist = run_fedavg(**_RUN, system=system, rounds=1, aggregation=IdealAggregation(), rng=0)
    assert hist.round_latency_s[0] == pytest.approx(2e5 * 2 * 10 / 1e9, rel=1e-12)
    assert hist.info["system"].devices.cycles_per_sample.tolist() == [1e5, 2e5]


@pytest.mark.parametrize(("k", "fraction", "m"), [(20, 0.3, 6), (20, 0.33, 7), (20, 0.01, 1)])
def test_exactly_m_sampled_and_inclusion_frequency_matches(k, fraction, m):
    rounds = 300
    hist = run_fedavg(
        **{**_RUN, "local_steps": 1},
        num_clients=k,
        rounds=rounds,
        aggregation=IdealAggregation(),
        participation=fraction,
        rng=2,
    )
    assert np.all(hist.sampled.sum(axis=1) == m)
    assert np.array_equal(hist.aggregated, hist.sampled)  # ideal, no deadline
    # each device is in a round's sample with probability p = m/K, independently across
    # rounds: its count is Binomial(rounds, p); 4 standard errors per device (about 6e-5
    # two-sided each, about 1e-3 for all 20 at this fixed seed)
    p = m / k
    se = math.sqrt(p * (1 - p) / rounds)
    freq = hist.sampled.mean(axis=0)
    assert np.all(np.abs(freq - p) <= 4 * se)
    assert len({tuple(row) for row in hist.sampled.tolist()}) > 1  # not the same set


def test_participation_streams_leave_the_batches_and_channels_alone():
    system = normalized_system(6, num_antennas=2, power_w=1.0, noise_w=1.0)
    seen = []

    class Rec(DigitalAggregation):
        def aggregate(self, updates, data_sizes, context):
            seen.append((updates.clone(), context.channels, context.participants))
            return super().aggregate(updates, data_sizes, context)

    run_fedavg(**_RUN, system=system, rounds=3, aggregation=Rec(), rng=4)
    run_fedavg(**_RUN, system=system, rounds=3, aggregation=Rec(), participation=0.5, rng=4)
    assert torch.equal(seen[0][0], seen[3][0])  # round 1: same model, same mini-batches
    for r in range(3):
        full, half = seen[r], seen[3 + r]
        assert np.array_equal(full[1], half[1])  # the same channels every round
        assert full[2].all() and half[2].sum() == 3


def test_policy_sees_the_rounds_channels():
    system = normalized_system(5, num_antennas=3)
    calls = []

    def strongest_two(round_index, channels, rng):
        calls.append((round_index, channels.shape, type(rng).__name__))
        gain = np.sum(np.abs(channels) ** 2, axis=1)
        return gain >= np.sort(gain)[-2]

    hist = run_fedavg(
        **_RUN,
        system=system,
        rounds=3,
        aggregation=DigitalAggregation("fdma"),
        participation=strongest_two,
        rng=1,
    )
    assert calls == [(0, (5, 3), "Generator"), (1, (5, 3), "Generator"), (2, (5, 3), "Generator")]
    assert np.all(hist.sampled.sum(axis=1) == 2) and np.array_equal(hist.aggregated, hist.sampled)
    assert hist.info["participation"] == "policy"


def test_bad_input_names_the_argument():
    system = normalized_system(3)
    base = dict(**_RUN, rounds=1, aggregation=IdealAggregation(), num_clients=3, rng=0)
    for change, name in [
        ({"participation": 0.0}, "participation"),
        ({"participation": 1.5}, "participation"),
        ({"participation": -0.5}, "participation"),
        ({"participation": float("nan")}, "participation"),
        ({"participation": True}, "participation"),
        ({"participation": lambda r, h, g: [1, 0, 1]}, "participation"),  # not a bool mask
        ({"participation": lambda r, h, g: np.ones(4, bool)}, "participation"),  # length
        ({"deadline_s": 0.0}, "deadline_s"),
        ({"deadline_s": -1.0}, "deadline_s"),
        ({"system": system, "num_clients": 4}, "num_clients"),
        ({"system": "cell"}, "system"),
        ({"num_clients": None}, "num_clients"),
        ({"cpu_freq_hz": 2e9}, "cpu_freq_hz"),
        ({"kappa": 1e-27}, "kappa"),
        ({"cycles_per_sample": 1e6}, "cycles_per_sample"),
    ]:
        with pytest.raises(InvalidInputError, match=name):
            run_fedavg(**{**base, **change})
    for agg in (DigitalAggregation(), AirCompAggregation(1.0)):
        with pytest.raises(InvalidInputError, match=r"system.*normalized_system\("):
            run_fedavg(**{**base, "aggregation": agg})
    # the system alone gives K; a matching num_clients is fine
    hist = run_fedavg(**{**base, "system": system, "num_clients": None})
    assert hist.info["num_clients"] == 3


def test_drop_devices_cell_in_the_loop():
    system = drop_devices(6, rng=0, num_samples=(1, 2), cpu_freq_hz=(1e8, 1e9), base_station=None)
    hist = run_fedavg(
        **_RUN, system=system, rounds=2, aggregation=DigitalAggregation("fdma"), rng=0
    )
    # num_samples comes from the partition, not from the drop's range
    assert hist.info["system"].devices.num_samples.tolist() == hist.info["data_sizes"].tolist()
    assert np.all(hist.round_latency_s > 0) and np.all(np.isfinite(hist.round_latency_s))


def test_unequal_powers_reach_the_aircomp_model():
    powers = np.array([0.5, 1.0, 2.0])
    ctx = RoundContext.from_rng(
        0,
        compute_s=np.zeros(3),
        compute_energy_j=np.zeros(3),
        channels=np.sqrt(np.array([[1.0], [2.0], [0.5]])).astype(complex),
        power_w=powers,
        noise_w=0.1,
        bandwidth_hz=BAND,
    )
    out = AirCompAggregation(mse_target=10.0, method="fast").aggregate(_updates(), np.ones(3), ctx)
    assert out.selected.all() and out.mse <= 10.0 * (1 + 1e-6)
    # |b_i|² <= P_i and the common normalization gives Σ_ij |s_ij|² = |S|·d/2 exactly, so
    # the symbol energy Σ_ij |b_i s_ij|²/B is at most max_i P_i · |S|·d/2 / B
    assert 0 < out.energy_j <= powers.max() * 3 * D_ENTRIES / 2 / BAND * (1 + 1e-12)
