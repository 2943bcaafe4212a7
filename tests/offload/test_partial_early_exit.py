"""partial_offloading against its closed form; right_size_and_partition by enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from edgeopt.errors import InvalidInputError
from edgeopt.offload import partial_offloading, right_size_and_partition


def draw(rng):
    return {
        "input_bits": float(rng.uniform(1e5, 5e6)),
        "cycles": float(rng.uniform(1e8, 3e9)),
        "rate_bps": float(rng.uniform(1e6, 5e7)),
        "deadline_s": float(rng.uniform(0.2, 2.0)),
        "max_cpu_freq_hz": float(rng.uniform(5e8, 3e9)),
        "kappa": 1e-28,
        "tx_power_w": float(rng.uniform(0.05, 0.5)),
        "server_cpu_freq_hz": float(rng.uniform(5e9, 5e10)),
    }


def grid_energy(kw, lam):
    """Energy on a dense grid of fractions, with the lowest deadline-meeting frequency."""
    c, T = kw["cycles"], kw["deadline_s"]
    f = (1 - lam) * c / T
    ok = (f <= kw["max_cpu_freq_hz"] * (1 + 1e-12)) & (
        lam * (kw["input_bits"] / kw["rate_bps"] + c / kw["server_cpu_freq_hz"]) <= T
    )
    e = (
        kw["kappa"] * (1 - lam) * c * f**2
        + kw["tx_power_w"] * lam * kw["input_bits"] / kw["rate_bps"]
    )
    return np.where(ok, e, np.inf)


@pytest.mark.parametrize("seed", range(30))
def test_closed_form_matches_the_numeric_solver_and_a_grid(seed):
    kw = draw(np.random.default_rng(seed))
    cf = partial_offloading(**kw)
    num = partial_offloading(**kw, method="numeric")
    assert cf.status == num.status
    if cf.status != "optimal":
        return
    assert num.energy_j == pytest.approx(cf.energy_j, rel=1e-7)
    assert num.fraction == pytest.approx(cf.fraction, abs=1e-5)
    lam = np.linspace(0, 1, 200_001)
    grid = grid_energy(kw, lam)
    assert cf.energy_j <= grid.min() * (1 + 1e-9)
    assert cf.latency_s <= kw["deadline_s"] * (1 + 1e-12)
    assert cf.cpu_freq_hz <= kw["max_cpu_freq_hz"] * (1 + 1e-12)


def test_interior_optimum_is_the_stationary_point():
    kw = dict(
        input_bits=1e6, cycles=1e9, rate_bps=5e6, deadline_s=1.0, max_cpu_freq_hz=2e9,
        kappa=1e-28, tx_power_w=0.2, server_cpu_freq_hz=1e10,
    )  # fmt: skip
    res = partial_offloading(**kw)
    # dE/dlam = -3 kappa C^3 (1-lam)^2 / T^2 + p L / r = 0
    lam = 1 - np.sqrt(0.2 * 1e6 / 5e6 / (3 * 1e-28 * 1e27))
    assert res.fraction == pytest.approx(lam, rel=1e-12)


def test_an_impossible_deadline_is_infeasible():
    res = partial_offloading(
        1e7, 1e10, rate_bps=1e6, deadline_s=0.1, max_cpu_freq_hz=1e9, kappa=1e-28,
        tx_power_w=0.1, server_cpu_freq_hz=1e10,
    )  # fmt: skip
    assert res.status == "infeasible" and res.latency_s > 0.1
    with pytest.raises(InvalidInputError, match="cycles"):
        partial_offloading(
            1e7, -1.0, rate_bps=1e6, deadline_s=0.1, max_cpu_freq_hz=1e9, kappa=1e-28,
            tx_power_w=0.1, server_cpu_freq_hz=1e10,
        )  # fmt: skip


@pytest.mark.parametrize("seed", range(15))
def test_right_size_and_partition_equals_enumeration(seed):
    rng = np.random.default_rng(seed)
    num_exits = int(rng.integers(1, 5))
    lengths = sorted(rng.integers(1, 8, num_exits))
    acc = np.sort(rng.uniform(0.5, 0.99, num_exits))
    dev = [rng.uniform(0, 0.2, n) for n in lengths]
    srv = [d / 20 for d in dev]
    bits = [rng.uniform(0, 2e4, n) for n in lengths]
    inp, rate = 5e4, float(rng.uniform(1e4, 1e6))
    deadline = float(rng.uniform(0.05, 1.0))
    res = right_size_and_partition(
        acc, dev, srv, bits, input_bits=inp, rate_bps=rate, deadline_s=deadline
    )
    pairs = []
    for b, k in itertools.chain.from_iterable(
        ((b, k) for k in range(lengths[b] + 1)) for b in range(num_exits)
    ):
        sent = inp if k == 0 else (0.0 if k == lengths[b] else bits[b][k - 1])
        lat = dev[b][:k].sum() + sent / rate + srv[b][k:].sum()
        if lat <= deadline:
            pairs.append((acc[b], -lat))
    if not pairs:
        assert res.status == "infeasible"
        return
    best_acc, neg_lat = max(pairs)
    assert res.status == "optimal" and res.accuracy == best_acc
    assert res.latency_s == pytest.approx(-neg_lat, rel=1e-12)


def test_right_size_bad_input():
    with pytest.raises(InvalidInputError, match="accuracies"):
        right_size_and_partition(
            [1.5], [[1.0]], [[1.0]], [[1.0]], input_bits=1.0, rate_bps=1.0, deadline_s=1.0
        )
    with pytest.raises(InvalidInputError, match="device_time_s"):
        right_size_and_partition(
            [0.5, 0.6], [[1.0]], [[1.0]], [[1.0]], input_bits=1.0, rate_bps=1.0, deadline_s=1.0
        )
