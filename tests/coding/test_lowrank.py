"""Low-rank alignment of the shuffle: patterns with known ranks, method ordering, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgeopt import status as st
from edgeopt.coding import (
    RANK_METHODS,
    cdc_scheme,
    minimize_rank,
    shuffle_alignment_matrix,
)
from edgeopt.coding.lowrank import RESIDUAL_TOL
from edgeopt.errors import InvalidInputError

NAN = np.nan


def _cliques(sizes: list[int]) -> np.ndarray:
    """Receiver i wants message i and holds the other messages of its clique."""
    m = sum(sizes)
    pattern = np.zeros((m, m))
    start = 0
    for size in sizes:
        pattern[start : start + size, start : start + size] = NAN
        start += size
    np.fill_diagonal(pattern, 1.0)
    return pattern


def _check_certificate(pattern: np.ndarray, res: object) -> None:
    """The completion meets the fixed entries and has (numerically) the claimed rank."""
    x = res.matrix  # type: ignore[attr-defined]
    fixed = ~np.isnan(pattern)
    assert np.max(np.abs(x[fixed] - pattern[fixed])) <= RESIDUAL_TOL
    assert res.residual <= RESIDUAL_TOL  # type: ignore[attr-defined]
    s = np.linalg.svd(x, compute_uv=False)
    assert np.sum(s > 1e-8 * s[0]) <= res.rank  # type: ignore[attr-defined]
    assert res.dof == pytest.approx(1 / res.rank)  # type: ignore[attr-defined]


@pytest.mark.parametrize("method", ["dc", "altmin"])
def test_full_side_information_gives_rank_one(method: str) -> None:
    pattern = np.full((5, 5), NAN)
    np.fill_diagonal(pattern, 1.0)
    res = minimize_rank(pattern, method, rng=0)
    assert res.rank == 1 and res.status == st.OPTIMAL
    _check_certificate(pattern, res)


@pytest.mark.parametrize("method", RANK_METHODS)
def test_no_side_information_gives_the_number_of_messages(method: str) -> None:
    pattern = np.eye(5)
    res = minimize_rank(pattern, method, rng=0)
    assert res.rank == 5
    _check_certificate(pattern, res)


@pytest.mark.parametrize("method", ["dc", "altmin"])
@pytest.mark.parametrize("sizes", [[3, 2, 4], [2, 2], [1, 3, 1]])
def test_disjoint_cliques_give_the_number_of_cliques(method: str, sizes: list[int]) -> None:
    pattern = _cliques(sizes)
    res = minimize_rank(pattern, method, rng=1)
    assert res.rank == len(sizes)
    _check_certificate(pattern, res)


def test_nuclear_ties_on_cliques_and_stays_valid() -> None:
    # min ||X||_* = trace bound M is reached by the identity and by the block-ones matrix
    # alike: the relaxation need not find the low-rank one, but its claim is certified
    pattern = _cliques([2, 3])
    res = minimize_rank(pattern, "nuclear")
    assert len([2, 3]) <= res.rank <= 5
    _check_certificate(pattern, res)
    assert res.stats.extra["nuclear_norm"] == pytest.approx(5.0, abs=1e-4)


def _random_pattern(rng: np.random.Generator, m: int) -> np.ndarray:
    pattern = np.where(rng.random((m, m)) < 0.5, NAN, 0.0)
    np.fill_diagonal(pattern, 1.0)
    return pattern


@pytest.mark.parametrize("seed", range(4))
def test_dc_at_most_nuclear_at_most_tdma_on_random_patterns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pattern = _random_pattern(rng, 6)
    dc = minimize_rank(pattern, "dc", rng=seed)
    nuc = minimize_rank(pattern, "nuclear", rng=seed)
    alt = minimize_rank(pattern, "altmin", rng=seed)
    tdma = pattern.shape[1]  # one message per slot
    assert dc.rank <= nuc.rank <= tdma
    assert alt.rank <= tdma
    for res in (dc, nuc, alt):
        _check_certificate(pattern, res)


def test_small_pattern_brute_force_rank_two() -> None:
    # rank 1 is impossible (X11 = 1, X13 = 0, X33 = 1, X31 = 0 and X23 = 0, X22 = 1 ...):
    # every rank-1 X = u v^T with u1 v1 = 1 and u1 v3 = 0 forces v3 = 0, but u3 v3 = 1
    pattern = np.array([[1.0, NAN, 0.0], [NAN, 1.0, 0.0], [0.0, 0.0, 1.0]])
    for method in ("dc", "altmin"):
        res = minimize_rank(pattern, method, rng=0)
        assert res.rank == 2
        _check_certificate(pattern, res)


def test_cdc_pattern_shape_and_entries() -> None:
    k, r = 4, 2
    plan = cdc_scheme(k, r, math.comb(k, r))
    pattern = shuffle_alignment_matrix(plan)
    m = k * math.comb(k - 1, r)
    assert pattern.shape == (m, m)
    assert np.all(np.diag(pattern) == 1.0)
    messages = [(node, b) for node in range(k) for b, s in enumerate(plan.batches) if node not in s]
    for i, (node, _) in enumerate(messages):
        for j, (_, b) in enumerate(messages):
            if i == j:
                continue
            held = node in plan.batches[b]
            assert np.isnan(pattern[i, j]) == held
            if not held:
                assert pattern[i, j] == 0.0


def test_cdc_pattern_beats_tdma() -> None:
    pattern = shuffle_alignment_matrix(cdc_scheme(3, 1, 3))
    res = minimize_rank(pattern, "altmin", rng=0)
    assert res.rank < pattern.shape[1]
    _check_certificate(pattern, res)


@pytest.mark.parametrize(
    "pattern",
    [
        np.zeros((3, 3)),  # no wanted entry
        np.full((2, 2), NAN),  # no wanted entry
        np.array([[1.0, 2.0]]),  # not 0/1/NaN
        np.array([[1.0, np.inf]]),
        np.array([1.0, 0.0]),  # 1-D
        "pattern",
    ],
)
def test_bad_patterns(pattern: object) -> None:
    with pytest.raises(InvalidInputError, match="pattern"):
        minimize_rank(pattern)


def test_bad_method_and_plan() -> None:
    with pytest.raises(InvalidInputError, match="method"):
        minimize_rank(np.eye(2), "svt")
    with pytest.raises(InvalidInputError, match="restarts"):
        minimize_rank(np.eye(2), "altmin", restarts=0)
    with pytest.raises(InvalidInputError, match="plan"):
        shuffle_alignment_matrix(np.eye(2))
    with pytest.raises(InvalidInputError, match="plan"):
        shuffle_alignment_matrix(cdc_scheme(3, 3, 1))
