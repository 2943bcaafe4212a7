"""Gradient codes and MDS codes: exact decoding, minimum replication, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from edgeopt.coding import gradient_code, mds_code
from edgeopt.errors import InvalidInputError

RESIDUAL_TOL = 1e-10


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # thousands of small factorizations: threaded BLAS only adds contention on shared cores
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _random_alive(rng: np.random.Generator, n: int, s: int) -> np.ndarray:
    return np.sort(rng.choice(n, n - s, replace=False))


def _worst_residual(code, sets) -> float:
    worst = 0.0
    for alive in sets:
        a = code.decode(alive)
        assert np.all(a[np.setdiff1d(np.arange(code.num_workers), alive)] == 0.0)
        worst = max(worst, float(np.abs(a @ code.B - 1.0).max()))
    return worst


# every s <= n/10 at a few n, the largest n and s of the requirement included
_CYCLIC_CASES = [(n, s) for n in (10, 30, 57, 100) for s in range(1, n // 10 + 1)] + [
    (150, 15),
    (199, 19),
    (200, 7),
    (200, 13),
    (200, 19),
    (200, 20),
]


@pytest.mark.slow
@pytest.mark.parametrize(("n", "s"), _CYCLIC_CASES)
def test_cyclic_exact_on_1000_random_alive_sets(n: int, s: int) -> None:
    code = gradient_code(n, s, scheme="cyclic")
    rng = np.random.default_rng(1000 * n + s)
    sets = [_random_alive(rng, n, s) for _ in range(1000)]
    assert _worst_residual(code, sets) <= RESIDUAL_TOL


@pytest.mark.parametrize(("n", "s"), [(10, 1), (20, 3), (60, 5), (100, 9), (200, 19)])
def test_fractional_exact_on_1000_random_alive_sets(n: int, s: int) -> None:
    code = gradient_code(n, s, scheme="fractional")
    rng = np.random.default_rng(n + s)
    sets = [_random_alive(rng, n, s) for _ in range(1000)]
    assert _worst_residual(code, sets) == 0.0


@pytest.mark.parametrize(("n", "s"), [(6, 1), (7, 2), (9, 2), (10, 3), (11, 1), (12, 2), (8, 3)])
def test_cyclic_exact_on_every_alive_set_small(n: int, s: int) -> None:
    code = gradient_code(n, s, scheme="cyclic")
    sets = [np.setdiff1d(np.arange(n), S) for S in itertools.combinations(range(n), s)]
    assert _worst_residual(code, sets) <= RESIDUAL_TOL


_SIZES = [(10, 1), (20, 3), (60, 5), (101, 9), (200, 19), (200, 20)]


@pytest.mark.parametrize(
    ("scheme", "n", "s"),
    [("cyclic", n, s) for n, s in _SIZES]
    + [("fractional", n, s) for n, s in _SIZES if n % (s + 1) == 0],
)
def test_minimum_replication(scheme: str, n: int, s: int) -> None:
    code = gradient_code(n, s, scheme=scheme)
    nnz = (code.B != 0).sum(axis=1)
    assert np.all(nnz == s + 1)
    assert code.assignment.shape == (n, s + 1)
    for i in range(n):
        assert set(np.flatnonzero(code.B[i])) == set(code.assignment[i].tolist())
    # every partition is held by s + 1 workers
    assert np.all((code.B != 0).sum(axis=0) == s + 1)


def test_cyclic_windows_and_determinism() -> None:
    code = gradient_code(23, 2)
    assert code.assignment[22].tolist() == [0, 1, 22]
    assert np.array_equal(code.B, gradient_code(23, 2).B)
    assert not code.B.flags.writeable


def test_fewer_than_n_minus_s_alive_raises() -> None:
    code = gradient_code(10, 2)
    with pytest.raises(InvalidInputError, match="alive"):
        code.decode([0, 1, 2, 3, 4, 5, 6])
    with pytest.raises(InvalidInputError, match="alive"):
        code.decode([0, 1, 2, 3, 4, 5, 6, 6])
    with pytest.raises(InvalidInputError, match="alive"):
        code.decode([0, 1, 2, 3, 4, 5, 6, 10])


def test_decode_accepts_mask() -> None:
    code = gradient_code(8, 1, scheme="fractional")
    mask = np.ones(8, dtype=bool)
    mask[3] = False
    a = code.decode(mask)
    assert a[3] == 0.0 and np.array_equal(a @ code.B, np.ones(8))


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((5, 5), {}, "num_stragglers"),
        ((5, 7), {}, "num_stragglers"),
        ((10, 2), {"scheme": "fractional"}, "fractional"),
        ((10.0, 2), {}, "num_workers"),
        ((10, 2.0), {}, "num_stragglers"),
        ((10, -1), {}, "num_stragglers"),
        ((10, 2), {"scheme": "mds"}, "scheme"),
        ((10, 2), {"scheme": "cyclic", "replication": 2}, "replication"),
        ((10, 2), {"scheme": "approximate", "replication": 3}, "replication"),
    ],
)
def test_bad_input(args, kwargs, name) -> None:
    with pytest.raises(InvalidInputError, match=name):
        gradient_code(*args, **kwargs)


def test_approximate_reports_its_error() -> None:
    n, s = 20, 4
    rng = np.random.default_rng(3)
    errors = {}
    for d in (1, 2, 4):
        code = gradient_code(n, s, scheme="approximate", replication=d)
        assert np.all((code.B != 0).sum(axis=1) == d)
        errs = []
        for _ in range(200):
            alive = _random_alive(rng, n, s)
            a = code.decode(alive)
            err = code.error(alive)
            assert err == pytest.approx(np.linalg.norm(a @ code.B - 1.0))
            # least squares: no other weights on these rows do better than the ones returned
            other = np.zeros(n)
            other[alive] = 1.0 / d
            assert err <= np.linalg.norm(other @ code.B - 1.0) + 1e-12
            errs.append(err)
        errors[d] = float(np.mean(errs))
    # no replication: every straggler loses its partition, error sqrt(s) exactly
    assert errors[1] == pytest.approx(np.sqrt(s))
    assert errors[4] < errors[2] < errors[1]


def test_approximate_exact_when_every_partition_survives() -> None:
    code = gradient_code(12, 3, scheme="approximate", replication=3)  # groups of 3
    assert code.error([0, 3, 6, 9, 10, 11]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("n", "k"), [(5, 3), (12, 8), (30, 20)])
def test_mds_decodes_from_any_k(n: int, k: int) -> None:
    code = mds_code(n, k, rng=n)
    rng = np.random.default_rng(k)
    A = rng.standard_normal((4 * k, 6))
    X = rng.standard_normal((6, 2))
    coded = code.encode(A)
    assert coded.shape == (n, 4, 6)
    for _ in range(50):
        alive = rng.choice(n, k, replace=False)
        y = coded[alive] @ X
        out = code.decode(y, alive)
        cond = code.condition_number(alive)
        # forward error bound: relative error <= cond * eps * (a modest factor)
        err = np.abs(out - A @ X).max() / np.abs(A @ X).max()
        assert err <= 1e3 * cond * np.finfo(float).eps
        assert np.isfinite(cond) and cond >= 1.0


def test_mds_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="k"):
        mds_code(3, 4)
    code = mds_code(4, 2, rng=0)
    with pytest.raises(InvalidInputError, match="alive"):
        code.decode(np.zeros((1, 2)), [0])
    with pytest.raises(InvalidInputError, match="A"):
        code.encode(np.ones((3, 2)))
