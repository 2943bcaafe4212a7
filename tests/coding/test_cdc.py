"""Coded distributed computing: closed forms, the plan, and the bit-level simulation."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from edgeopt.coding import cdc_load, cdc_scheme, simulate_cdc, uncoded_load
from edgeopt.errors import InvalidInputError

SMALL = [(k, r) for k in range(1, 7) for r in range(1, k + 1)]


@pytest.mark.parametrize(("k", "r"), SMALL)
def test_fixed_job_load_equals_closed_form_exactly(k: int, r: int) -> None:
    n = 2 * math.comb(k, r)
    res = simulate_cdc(k, r, num_files=n, value_bits=8 * r * 3, rng=k * 10 + r)
    assert res.correct
    assert res.load == cdc_load(r, k)
    assert res.uncoded_load == uncoded_load(r, k)
    # the bit counts themselves, as exact rationals
    total = k * n * res.value_bits
    assert Fraction(res.coded_bits, total) == Fraction(k - r, r * k)
    assert Fraction(res.uncoded_bits, total) == Fraction(k - r, k)
    assert res.num_messages == (r + 1) * math.comb(k, r + 1)
    assert res.padding_bits == 0


@pytest.mark.parametrize(("k", "r"), [(k, r) for k, r in SMALL if r < k])
def test_terasort_sorts_and_load_equals_closed_form(k: int, r: int) -> None:
    res = simulate_cdc(k, r, num_files=math.comb(k, r), job="terasort", records_per_file=40, rng=r)
    assert res.correct
    assert res.load == cdc_load(r, k)
    assert res.uncoded_load == uncoded_load(r, k)
    assert res.value_bits % (8 * r) == 0
    assert 0 < res.padding_fraction < 1


def test_closed_forms_by_hand() -> None:
    assert cdc_load(1, 10) == pytest.approx(0.9)
    assert cdc_load(3, 10) == pytest.approx(7 / 30)
    assert uncoded_load(3, 10) == pytest.approx(0.7)
    assert cdc_load(5, 5) == 0.0
    # the coding gain is exactly r
    for k in range(2, 9):
        for r in range(1, k):
            assert cdc_load(r, k) * r == pytest.approx(uncoded_load(r, k))


@pytest.mark.parametrize(("k", "r"), [(3, 1), (4, 2), (5, 2), (5, 3), (6, 3)])
def test_plan_structure(k: int, r: int) -> None:
    plan = cdc_scheme(k, r, 3 * math.comb(k, r))
    # every file at exactly r nodes; every node stores a fraction r/K of the files
    assert np.all(plan.placement.sum(axis=0) == r)
    assert np.all(plan.placement.sum(axis=1) == plan.num_files * r // k)
    for msg in plan.multicasts:
        assert msg.sender in msg.group and len(msg.group) == r + 1
        receivers = sorted(recv for recv, _, _ in msg.parts)
        assert receivers == sorted(set(msg.group) - {msg.sender})
        for recv, b, _ in msg.parts:
            # the batch is held by group minus the receiver: the sender and every other receiver
            assert plan.batches[b] == tuple(x for x in msg.group if x != recv)
    # each needed (receiver, batch, segment) is delivered exactly once
    delivered = [(recv, b, j) for msg in plan.multicasts for recv, b, j in msg.parts]
    assert len(delivered) == len(set(delivered))
    needed = {
        (node, b, j)
        for node in range(k)
        for b, subset in enumerate(plan.batches)
        if node not in subset
        for j in range(r)
    }
    assert set(delivered) == needed


def test_uneven_files_raise_with_nearest_counts_or_pad() -> None:
    with pytest.raises(InvalidInputError, match=r"num_files.*nearest valid: 6 or 12"):
        cdc_scheme(4, 2, 7)
    with pytest.raises(InvalidInputError, match=r"nearest valid: 10\b"):
        cdc_scheme(5, 2, 3)
    plan = cdc_scheme(4, 2, 7, pad=True)
    assert plan.num_files == 12 and plan.num_padding_files == 5
    res = simulate_cdc(4, 2, num_files=7, value_bits=32, pad=True, rng=0)
    assert res.correct and res.load == cdc_load(2, 4)
    assert res.padding_bits == 4 * 5 * 32
    ts = simulate_cdc(4, 2, num_files=7, job="terasort", pad=True, records_per_file=20, rng=0)
    assert ts.correct and ts.load == cdc_load(2, 4)


def test_value_bits_must_give_whole_byte_segments() -> None:
    with pytest.raises(InvalidInputError, match=r"value_bits.*nearest valid: 24 or 48"):
        simulate_cdc(4, 3, num_files=4, value_bits=40)
    with pytest.raises(InvalidInputError, match="value_bits"):
        simulate_cdc(4, 3, num_files=4)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((5, 4), "computation_load"),  # r > K
        ((0, 4), "computation_load"),  # r < 1
        ((1, 4.0), "num_nodes"),  # non-integer K
        ((1.5, 4), "computation_load"),
    ],
)
def test_bad_loads(args: tuple[object, object], name: str) -> None:
    for func in (cdc_load, uncoded_load):
        with pytest.raises(InvalidInputError, match=name):
            func(*args)
    r, k = args
    with pytest.raises(InvalidInputError, match=name):
        cdc_scheme(k, r, 12)
    with pytest.raises(InvalidInputError, match=name):
        simulate_cdc(k, r, num_files=12, value_bits=64)


def test_bad_job_and_network() -> None:
    with pytest.raises(InvalidInputError, match="job"):
        simulate_cdc(3, 1, num_files=3, value_bits=8, job="wordcount")
    with pytest.raises(InvalidInputError, match="network"):
        simulate_cdc(3, 1, num_files=3, value_bits=8, network="mesh")


def test_same_seed_same_result() -> None:
    a = simulate_cdc(5, 2, num_files=10, job="terasort", records_per_file=30, rng=7)
    b = simulate_cdc(5, 2, num_files=10, job="terasort", records_per_file=30, rng=7)
    assert (a.coded_bits, a.value_bits, a.padding_bits) == (
        b.coded_bits,
        b.value_bits,
        b.padding_bits,
    )


@pytest.mark.parametrize("network", ["shared-link", "access-point"])
def test_decoder_catches_a_corrupted_plan(monkeypatch: pytest.MonkeyPatch, network: str) -> None:
    # a plan whose segment indices are swapped decodes the wrong bytes: `correct` must see it
    from edgeopt.coding import cdc

    real = cdc.cdc_scheme

    def broken(*args: object, **kwargs: object) -> cdc.CDCScheme:
        plan = real(*args, **kwargs)
        msgs = list(plan.multicasts)
        m = msgs[0]
        recv, b, j = m.parts[0]
        msgs[0] = cdc.Multicast(m.sender, m.group, ((recv, b, (j + 1) % 2), *m.parts[1:]))
        return cdc.CDCScheme(
            plan.num_nodes,
            plan.computation_load,
            plan.num_files,
            plan.num_padding_files,
            plan.batches,
            plan.batch_files,
            plan.placement,
            tuple(msgs),
        )

    monkeypatch.setattr(cdc, "cdc_scheme", broken)
    res = cdc.simulate_cdc(4, 2, num_files=6, value_bits=64, network=network, rng=0)
    assert not res.correct


def test_all_groups_covered_once() -> None:
    k, r = 6, 2
    plan = cdc_scheme(k, r, math.comb(k, r))
    groups = {msg.group for msg in plan.multicasts}
    assert groups == set(itertools.combinations(range(k), r + 1))
