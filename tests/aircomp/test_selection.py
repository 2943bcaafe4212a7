"""Device selection: feasibility guarantee, statuses, exhaustive search, DC versus SDR."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from edgeopt import status as st
from edgeopt.aircomp import AirCompSolution, _dc, _kernels, _sdp, aircomp_mse, select_devices
from edgeopt.errors import InvalidInputError

METHODS = ["dc", "sdr", "fast", "eig"]


def cn(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


def test_programs_are_dpp() -> None:
    assert _sdp.sparse_program(3, 5).problem.is_dpp()
    assert _sdp.feasible_program(3, 5).problem.is_dpp()
    assert _sdp.sparse_program(3, 5) is _sdp.sparse_program(3, 5)  # cached per shape


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("gamma_db", [-5.0, 0.0, 5.0])
def test_every_solution_is_feasible(method: str, gamma_db: float) -> None:
    rng = np.random.default_rng(11)
    for _ in range(3):
        h = cn(rng, (10, 4))
        w = rng.uniform(0.5, 1.5, 10)
        gamma = 10 ** (gamma_db / 10)
        sol = select_devices(
            h, power_w=2.0, noise_w=0.5, mse_target=gamma, weights=w, method=method, rng=0
        )
        assert isinstance(sol, AirCompSolution)
        assert sol.selected.shape == (10,) and sol.selected.dtype == bool
        assert sol.beamformer.shape == (4,) and sol.beamformer.dtype == np.complex128
        assert sol.method == method and sol.objective == int(sol.selected.sum())
        assert sol.solve_time_s > 0 and isinstance(sol.iterations, int)
        if sol.selected.any():
            assert sol.status == st.FEASIBLE
            mse = aircomp_mse(
                sol.beamformer, h[sol.selected], power_w=2.0, noise_w=0.5, weights=w[sol.selected]
            )
            assert mse <= gamma * (1 + 1e-6)
            assert np.isclose(mse, sol.mse)
        else:
            assert sol.status == st.INFEASIBLE


@pytest.mark.parametrize("method", METHODS)
def test_nothing_selectable_is_infeasible(method: str) -> None:
    rng = np.random.default_rng(0)
    h = 1e-3 * cn(rng, (5, 3))  # every ||h||^2 P / sigma^2 far below 1 / gamma
    sol = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=1.0, method=method)
    assert sol.status == st.INFEASIBLE
    assert not sol.selected.any() and sol.objective == 0 and sol.mse == np.inf


def test_all_method_statuses() -> None:
    rng = np.random.default_rng(4)
    h = cn(rng, (12, 4))
    easy = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=100.0, method="all", rng=1)
    assert easy.status == st.FEASIBLE and easy.selected.all()
    hard = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=0.05, method="all", rng=1)
    assert hard.status == st.TARGET_MISSED and hard.selected.all() and hard.mse > 0.05
    assert np.isclose(hard.mse, aircomp_mse(hard.beamformer, h, power_w=1.0, noise_w=1.0))
    # its beamformer is at least as good as the dominant direction
    u = _kernels.dominant_direction(h, np.arange(12))
    assert hard.mse <= aircomp_mse(u, h, power_w=1.0, noise_w=1.0) * (1 + 1e-12)


def test_weights_change_the_selection_consistently() -> None:
    rng = np.random.default_rng(5)
    h = cn(rng, (8, 3))
    w = np.ones(8)
    w[0] = 50.0  # device 0 needs a 2500x stronger link: it cannot be served
    sol = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=0.5, weights=w, method="dc")
    assert not sol.selected[0]


def test_clarabel_and_cvxpy_backends_solve_the_same_programs() -> None:
    rng = np.random.default_rng(9)
    G = cn(rng, (8, 3)) * 0.9
    direct, dpp = _sdp.ClarabelBackend(G), _sdp.RealBackend(G)
    c = np.ones(8)
    xa, Xa = direct.solve_sparse(c, direct.zero_lin())
    xb, Xb = dpp.solve_sparse(c, dpp.zero_lin())
    assert np.isclose(xa.sum(), xb.sum(), rtol=1e-6, atol=1e-7)  # the l1 optimum
    U = direct.linearize(Xa)
    xa, Xa = direct.solve_sparse(c, U)
    xb, Xb = dpp.solve_sparse(c, U)
    value = lambda x, X: c @ x - np.sum(U * X)  # noqa: E731
    assert np.isclose(value(xa, Xa), value(xb, Xb), rtol=1e-6, atol=1e-7)
    for size in (2, 5, 8):
        mask = np.zeros(8, dtype=bool)
        mask[:size] = True
        fa = direct.solve_feasible(mask, direct.zero_lin())
        fb = dpp.solve_feasible(mask, dpp.zero_lin())
        assert (fa is None) == (fb is None)
    h = cn(rng, (10, 4))
    for method in ("dc", "sdr"):
        kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "method": method, "rng": 0}
        sol = select_devices(h, backend="cvxpy", **kw)
        assert sol.status == st.FEASIBLE
        assert aircomp_mse(sol.beamformer, h[sol.selected], power_w=1, noise_w=1) <= 1 + 1e-6


@settings(max_examples=30, deadline=None)
@given(
    seed=hst.integers(0, 2**32 - 1),
    k=hst.integers(1, 12),
    n=hst.integers(1, 5),
    gamma_db=hst.floats(-15, 20),
    method=hst.sampled_from(["fast", "eig"]),
)
def test_guarantee_holds_for_random_problems(
    seed: int, k: int, n: int, gamma_db: float, method: str
) -> None:
    rng = np.random.default_rng(seed)
    h = cn(rng, (k, n)) * rng.uniform(0.1, 3.0)
    w = rng.uniform(0.2, 2.0, k)
    gamma = 10 ** (gamma_db / 10)
    sol = select_devices(h, power_w=0.5, noise_w=0.2, mse_target=gamma, weights=w, method=method)
    if sol.selected.any():
        mse = aircomp_mse(
            sol.beamformer, h[sol.selected], power_w=0.5, noise_w=0.2, weights=w[sol.selected]
        )
        assert mse <= gamma * (1 + 1e-6)
    else:
        assert sol.status == st.INFEASIBLE
    # a device that cannot meet the target alone is never selected
    alone = 0.2 * w**2 / (0.5 * np.linalg.norm(h, axis=1) ** 2)
    assert not np.any(sol.selected & (alone > gamma * (1 + 1e-9)))


def test_dc_is_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(12)
    h = cn(rng, (12, 4))
    a = select_devices(h, power_w=1, noise_w=1, mse_target=0.8, method="dc", rng=5)
    b = select_devices(h, power_w=1, noise_w=1, mse_target=0.8, method="dc", rng=5)
    np.testing.assert_array_equal(a.selected, b.selected)
    np.testing.assert_array_equal(a.beamformer, b.beamformer)


def test_sdr_is_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(6)
    h = cn(rng, (10, 4))
    a = select_devices(h, power_w=1, noise_w=1, mse_target=0.7, method="sdr", rng=3)
    b = select_devices(h, power_w=1, noise_w=1, mse_target=0.7, method="sdr", rng=3)
    np.testing.assert_array_equal(a.selected, b.selected)
    np.testing.assert_allclose(a.beamformer, b.beamformer)


def _exhaustive(G: np.ndarray) -> tuple[int, int]:
    """Largest subset passing the SDR test (upper bound) and largest certified subset."""
    k = G.shape[0]
    backend = _sdp.RealBackend(G)
    upper = certified = 0
    for size in range(k, 0, -1):
        for subset in itertools.combinations(range(k), size):
            mask = np.zeros(k, dtype=bool)
            mask[list(subset)] = True
            X = backend.solve_feasible(mask, backend.zero_lin())
            if X is None:
                continue
            upper = max(upper, size)
            m, _ = _dc.rank_one_dc(backend, G, mask, X, 20)
            if m is not None:
                assert _kernels.margins(G[mask], m).min() >= 1.0
                certified = size
                break
        if certified:
            break
    return upper, certified


@pytest.mark.slow
def test_against_exhaustive_search_small_k() -> None:
    rng = np.random.default_rng(21)
    k, n, gamma = 7, 2, 1.0
    counts: dict[str, list[int]] = {m: [] for m in ["dc", "sdr", "fast", "eig", "best"]}
    for _ in range(6):
        h = cn(rng, (k, n))
        upper, certified = _exhaustive(h * np.sqrt(gamma))
        assert certified <= upper
        counts["best"].append(certified)
        for method in ["dc", "sdr", "fast", "eig"]:
            sol = select_devices(h, power_w=1, noise_w=1, mse_target=gamma, method=method, rng=0)
            # a feasible selection is SDR-feasible, so the exhaustive SDR size bounds it
            assert sol.objective <= upper
            counts[method].append(sol.objective)
    best = np.array(counts["best"])
    # the heuristics are within one device of the best certified subset on every draw
    for method in ["dc", "fast"]:
        assert np.all(np.array(counts[method]) >= best - 1), (method, counts)
    assert np.mean(counts["dc"]) >= np.mean(counts["eig"])


def test_random_beamformer_floor_matches_k_exp_minus_one_over_gamma() -> None:
    # P = sigma^2 = w = 1: a random unit m serves device i iff |m^H h_i|^2 >= 1 / gamma,
    # and m^H h_i ~ CN(0, 1) independently of m, so E[count] = K exp(-1 / gamma)
    rng = np.random.default_rng(8)
    k, n, draws = 20, 6, 4000
    for gamma in [0.5, 1.0, 4.0]:
        h = cn(rng, (draws, k, n))
        m = cn(rng, (draws, n))
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        served = np.abs(np.einsum("dkn,dn->dk", h, np.conj(m))) ** 2 >= 1 / gamma
        counts = served.sum(axis=1)
        se = counts.std(ddof=1) / np.sqrt(draws)
        assert abs(counts.mean() - k * np.exp(-1 / gamma)) <= 5 * se
        # the served set indeed meets the target
        d = int(np.argmax(counts))
        sel = served[d]
        assert aircomp_mse(m[d], h[d][sel], power_w=1, noise_w=1) <= gamma


@pytest.mark.slow
def test_dc_selects_at_least_as_many_as_sdr_on_average() -> None:
    # 50 seeded draws at N = 6, K = 20 for each gamma of the grid
    rng = np.random.default_rng(2020)
    for gamma_db in [-5.0, 0.0, 5.0]:
        dc, sdr = [], []
        for _ in range(50):
            h = cn(rng, (20, 6))
            kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 10 ** (gamma_db / 10), "rng": 0}
            dc.append(select_devices(h, method="dc", **kw).objective)
            sdr.append(select_devices(h, method="sdr", **kw).objective)
        assert np.mean(dc) >= np.mean(sdr), (gamma_db, np.mean(dc), np.mean(sdr))


GOOD = np.ones((3, 2), dtype=complex)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"channels": np.ones((3, 2))}, "channels"),
        ({"channels": np.ones((2, 3, 2), dtype=complex)}, "channels"),
        ({"channels": np.zeros((0, 2), dtype=complex)}, "channels"),
        ({"channels": np.array([[np.nan + 0j, 1j]])}, "channels"),
        ({"mse_target": 0.0}, "mse_target"),
        ({"mse_target": -1.0}, "mse_target"),
        ({"mse_target": np.nan}, "mse_target"),
        ({"power_w": 0.0}, "power_w"),
        ({"noise_w": np.inf}, "noise_w"),
        ({"weights": np.ones(2)}, "weights"),
        ({"weights": -np.ones(3)}, "weights"),
        ({"method": "greedy"}, "method"),
        ({"rng": 1.5}, "rng"),
        ({"max_inner": 0}, "max_inner"),
        ({"method": "fast", "max_inner": 3}, "max_inner"),
        ({"method": "sdr", "randomizations": 2.0}, "randomizations"),
        ({"method": "fast", "add_back": 1}, "add_back"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict, name: str) -> None:
    args = {"channels": GOOD, "power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=name):
        select_devices(args.pop("channels"), **args)
