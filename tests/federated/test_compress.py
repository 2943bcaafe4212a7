"""Compressors: unbiasedness, bit counts, error feedback, majority vote."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from edgeopt.errors import InvalidInputError
from edgeopt.federated import QSGD, SignSGD, TopK


@pytest.mark.parametrize("levels", [1, 2, 7])
def test_qsgd_is_unbiased(levels):
    rng = np.random.default_rng(0)
    v = torch.as_tensor(rng.standard_normal(50), dtype=torch.float64)
    n = 4000
    q = QSGD(levels)
    dec, _ = q.compress(v.expand(n, 50).clone(), np.arange(n), rng=rng)
    mean = dec.mean(0)
    # per-entry variance of norm*xi/s with xi Bernoulli-rounded: (norm/s)^2 p(1-p)
    norm = torch.linalg.vector_norm(v)
    r = v.abs() / norm * levels
    p = r - torch.floor(r)
    se = (norm / levels) * torch.sqrt(p * (1 - p) / n)
    assert torch.all((mean - v).abs() <= 5 * se + 1e-12)


def test_qsgd_values_lie_on_the_grid_and_keep_signs():
    v = torch.tensor([[0.3, -1.2, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    dec, _ = QSGD(3).compress(v, [0, 1], rng=1)
    norm = torch.linalg.vector_norm(v[0])
    levels = dec[0].abs() / norm * 3
    assert torch.allclose(levels, levels.round(), atol=1e-12)
    assert torch.all(torch.sign(dec[0]) * torch.sign(v[0]) >= 0)
    assert torch.all(dec[1] == 0)


def test_bit_counts_match_formulas():
    d = 1000
    for s, per_entry in [(1, 2), (2, 3), (3, 3), (4, 4), (15, 5), (16, 6)]:
        assert QSGD(s).payload_bits(d) == 32 + d * per_entry
    # d = 1000 needs 10-bit indices
    assert TopK(k=10).payload_bits(d) == 32 + 10 * (32 + 10)
    assert TopK(ratio=0.01).payload_bits(d) == 32 + 10 * 42
    assert TopK(ratio=0.0101).payload_bits(d) == 32 + 11 * 42
    assert SignSGD().payload_bits(d) == d + 32
    u = torch.zeros(3, d)
    c = TopK(k=5)
    c.reset(3, d)
    for comp in (QSGD(4), c, SignSGD()):
        _, bits = comp.compress(u, [0, 1, 2], rng=0)
        assert bits.tolist() == [comp.payload_bits(d)] * 3


def test_topk_error_feedback_loses_no_mass():
    rng = np.random.default_rng(2)
    k_clients, d = 4, 64
    c = TopK(ratio=0.1)
    c.reset(k_clients, d)
    sent = torch.zeros(k_clients, d, dtype=torch.float64)
    total = torch.zeros(k_clients, d, dtype=torch.float64)
    for _ in range(25):
        u = torch.as_tensor(rng.standard_normal((k_clients, d)), dtype=torch.float32)
        dec, _ = c.compress(u, np.arange(k_clients))
        assert int((dec != 0).sum(1).max()) <= c.kept(d)
        sent += dec.double()
        total += u.double()
    assert c.memory is not None
    assert torch.allclose(sent + c.memory.double(), total, atol=1e-4)


def test_topk_keeps_largest_and_uses_client_memory():
    c = TopK(k=2)
    c.reset(3, 4)
    dec, _ = c.compress(torch.tensor([[4.0, -1.0, 3.0, 0.5]]), [2])
    assert dec.tolist() == [[4.0, 0.0, 3.0, 0.0]]
    assert c.memory is not None
    assert c.memory[2].tolist() == [0.0, -1.0, 0.0, 0.5] and c.memory[0].abs().sum() == 0
    dec, _ = c.compress(torch.tensor([[0.0, -1.5, 0.0, 0.1]]), [2])
    assert dec.tolist() == [[0.0, -2.5, 0.0, 0.6000000238418579]]


def test_signsgd_majority_vote_matches_numpy():
    rng = np.random.default_rng(3)
    u = rng.standard_normal((5, 40))
    w = rng.integers(1, 5, size=5).astype(float)
    c = SignSGD()
    dec, _ = c.compress(torch.as_tensor(u), range(5))
    got = c.combine(dec, torch.as_tensor(w)).numpy()
    scale = np.abs(u).mean(1)
    expect = (w @ scale) / w.sum() * np.sign(w @ np.where(u >= 0, 1.0, -1.0))
    assert np.allclose(got, expect)


def test_compressor_bad_input():
    with pytest.raises(InvalidInputError, match="levels"):
        QSGD(0)
    with pytest.raises(InvalidInputError, match="ratio"):
        TopK(ratio=1.5)
    with pytest.raises(InvalidInputError, match="ratio"):
        TopK()
    with pytest.raises(InvalidInputError, match="updates"):
        QSGD(2).compress(torch.tensor([[math.nan]]), [0])
    with pytest.raises(InvalidInputError, match="reset"):
        TopK(k=1).compress(torch.ones(1, 2), [0])
