"""Device selection: feasibility guarantee, statuses, exhaustive search, DC versus SDR."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from edgeopt import status as st
from edgeopt.aircomp import AirCompSolution, _kernels, _sdp, aircomp_mse, select_devices
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
        assert sol.solve_time_s > 0 and isinstance(sol.stats.iterations, int)
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


@pytest.mark.parametrize("method", METHODS)
def test_weights_change_the_selection_single_antenna_closed_form(method: str) -> None:
    # N = 1: MSE(S) = sigma^2 / P * max_{i in S} w_i^2 / |h_i|^2 for any m != 0, so the
    # optimum is exactly {i : w_i^2 / |h_i|^2 <= gamma P / sigma^2}
    gains = np.array([0.5, 0.8, 1.2, 1.5, 2.0, 3.0])
    h = (np.sqrt(gains) * np.exp(1j * np.arange(6)))[:, None]
    kw = {"power_w": 2.0, "noise_w": 1.0, "mse_target": 0.5, "method": method, "rng": 0}
    w = np.array([0.6, 0.8, 1.2, 1.3, 1.0, 1.8])  # w^2 / |h|^2 = .72 .8 1.2 1.13 .5 1.08
    for weights in (np.ones(6), w):
        expected = weights**2 / gains <= kw["mse_target"] * kw["power_w"] / kw["noise_w"]
        sol = select_devices(h, weights=weights, **kw)
        np.testing.assert_array_equal(sol.selected, expected)
        assert sol.status == st.FEASIBLE
        # the definition: the selected set meets the target, adding any other device misses
        mse = aircomp_mse(
            sol.beamformer, h[expected], power_w=2, noise_w=1, weights=weights[expected]
        )
        assert mse <= 0.5 * (1 + 1e-9)
        for j in np.flatnonzero(~expected):
            more = expected.copy()
            more[j] = True
            assert (
                aircomp_mse(sol.beamformer, h[more], power_w=2, noise_w=1, weights=weights[more])
                > 0.5
            )
    # the weights changed the selection: devices 0, 1 join, 2, 3, 5 leave
    assert np.flatnonzero(w**2 / gains <= 1.0).tolist() == [0, 1, 4]


@pytest.mark.parametrize("method", ["dc", "sdr", "fast"])
def test_weights_change_which_devices_fit_together(method: str) -> None:
    # two devices on e1 and three on e2 with |h|^2 = 1.8, P = sigma^2 = gamma = 1.  Unit
    # weights: a cluster needs |m_i|^2 >= 1 / 1.8, both would need 2 / 1.8 > 1, so the
    # optimum is the e2 cluster (3 devices; certified by the grid).  Weights 0.5 on the e1
    # cluster lower its need to 0.25 / 1.8 and then all five fit (|m_1|^2 = 0.3 serves all)
    h = np.sqrt(1.8) * np.array([[1, 0], [1j, 0], [0, 1], [0, -1], [0, 1j]], dtype=complex)
    kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "method": method, "rng": 0}
    lower, upper, _ = _grid_bounds_c2(h, 401, 1024)
    assert lower == upper == 3
    unit = select_devices(h, **kw)
    assert unit.selected.tolist() == [False, False, True, True, True]
    w = np.array([0.5, 0.5, 1.0, 1.0, 1.0])
    m_all = np.array([np.sqrt(0.3), np.sqrt(0.7)], dtype=complex)
    assert aircomp_mse(m_all, h, power_w=1, noise_w=1, weights=w) <= 1.0  # all five fit
    weighted = select_devices(h, weights=w, **kw)
    assert weighted.selected.all() and weighted.status == st.FEASIBLE
    assert aircomp_mse(weighted.beamformer, h, power_w=1, noise_w=1, weights=w) <= 1 + 1e-6
    # the same beamformer misses the target with unit weights: the weights made the difference
    assert aircomp_mse(weighted.beamformer, h, power_w=1, noise_w=1) > 1.0


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


def _sdr_upper_bound(G: np.ndarray) -> int:
    """Largest subset that passes the semidefinite relaxation (exhaustive; an upper bound on
    the number of devices any beamformer serves)."""
    k = G.shape[0]
    backend = _sdp.RealBackend(G)
    for size in range(k, 0, -1):
        for subset in itertools.combinations(range(k), size):
            mask = np.zeros(k, dtype=bool)
            mask[list(subset)] = True
            if backend.solve_feasible(mask, backend.zero_lin()) is not None:
                return size
    return 0


def _grid_bounds_c2(G: np.ndarray, n_theta: int, n_phi: int) -> tuple[int, int, np.ndarray]:
    """Bounds on the most devices a beamformer in C^2 serves, by a grid over the sphere.

    Up to the common phase (which no margin sees) every unit ``m`` in C^2 is
    ``(cos t, sin t e^{jp})`` with ``t`` in [0, pi/2], ``p`` in [0, 2 pi).  Lower bound: the
    most margins ``|m^H g_i|^2 >= 1`` at a grid point (that ``m`` certifies its served set).
    Upper bound: any ``m`` lies within ``d = dt/2 + dp/2`` of a grid point ``m'``
    (``||m - m'|| <= |t - t'| + |p - p'|``) and ``| |m^H g|^2 - |m'^H g|^2 | <= 2 d ||g||^2``,
    so the optimum's set has margins ``>= 1 - 2 d ||g_i||^2`` at some grid point.
    Returns both bounds and a beamformer attaining the lower one.
    """
    theta = np.linspace(0.0, np.pi / 2, n_theta)
    phi = np.arange(n_phi) * (2 * np.pi / n_phi)
    d = (np.pi / 2) / (n_theta - 1) / 2 + np.pi / n_phi
    slack = 2 * d * np.sum(np.abs(G) ** 2, axis=1)
    lower, upper, best = 0, 0, np.array([1.0 + 0j, 0j])
    for chunk in np.array_split(theta, max(1, n_theta * n_phi // 200_000)):
        t, p = np.meshgrid(chunk, phi, indexing="ij")
        m = np.stack([np.cos(t).ravel() + 0j, (np.sin(t) * np.exp(1j * p)).ravel()], axis=1)
        marg = np.abs(np.conj(m) @ G.T) ** 2
        served = (marg >= 1.0).sum(axis=1)
        if served.max() > lower:
            lower, best = int(served.max()), m[np.argmax(served)]
        upper = max(upper, int((marg >= 1.0 - slack).sum(axis=1).max()))
    return lower, upper, best


def _certified_optimum_c2(G: np.ndarray) -> tuple[int, int]:
    """Grid bounds, refined (2x, 4x) until they meet."""
    for r in (1, 2, 4):
        lower, upper, _ = _grid_bounds_c2(G, 400 * r + 1, 1024 * r)
        if lower == upper:
            break
    return lower, upper


def test_grid_bounds_are_exact_for_orthogonal_clusters() -> None:
    # two devices on e1 and three on e2, |g|^2 = 1.8: a cluster needs |m_i|^2 >= 1 / 1.8,
    # both clusters would need 2 / 1.8 > 1, so the optimum is the larger cluster (3)
    G = np.sqrt(1.8) * np.array([[1, 0], [1j, 0], [0, 1], [0, -1], [0, 1j]], dtype=complex)
    lower, upper, m = _grid_bounds_c2(G, 401, 1024)
    assert lower == upper == 3
    assert np.all(np.abs(np.conj(m) @ G[2:].T) ** 2 >= 1.0)


@pytest.mark.slow
def test_against_exhaustive_search_small_k() -> None:
    # K = 7 devices, N = 2 antennas, random weights and targets; the optimum is certified
    # independently of the solvers by a dense grid over the unit sphere of C^2
    rng = np.random.default_rng(22)
    k = 7
    counts: dict[str, list[int]] = {m: [] for m in ["dc", "sdr", "fast", "eig", "opt"]}
    for draw in range(12):
        h = cn(rng, (k, 2))
        w = rng.uniform(0.6, 1.4, k)
        gamma = [0.5, 1.0, 2.0][draw % 3]
        G = np.sqrt(gamma / w**2)[:, None] * h
        lower, upper = _certified_optimum_c2(G)
        sdr_bound = _sdr_upper_bound(G)
        assert lower <= upper and lower <= sdr_bound  # a served set passes the relaxation
        counts["opt"].append(lower)
        for method in ["dc", "sdr", "fast", "eig"]:
            sol = select_devices(
                h, power_w=1, noise_w=1, mse_target=gamma, weights=w, method=method, rng=0
            )
            # no method can serve more than any beamformer can (both upper bounds)
            assert sol.objective <= min(upper, sdr_bound), (method, draw, sol.objective)
            counts[method].append(sol.objective)
    opt = np.array(counts["opt"])
    dc, fast = np.array(counts["dc"]), np.array(counts["fast"])
    # dc and fast are within one device of the optimum on every draw, dc reaches it on all
    # draws but at most one, and the eigenvector heuristic (a floor) does not beat dc overall
    assert np.all(dc >= opt - 1) and np.all(fast >= opt - 1), counts
    assert np.sum(dc < opt) <= 1, counts
    assert np.sum(counts["eig"]) <= np.sum(dc), counts


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
    # paired comparison on the same draws: the mean of dc - sdr must not be significantly
    # negative (mean >= -3 standard errors of the paired differences)
    rng = np.random.default_rng(2020)
    report = []
    for gamma_db in [-5.0, 0.0, 5.0]:
        diff = []
        for _ in range(50):
            h = cn(rng, (20, 6))
            kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 10 ** (gamma_db / 10), "rng": 0}
            dc = select_devices(h, method="dc", **kw).objective
            sdr = select_devices(h, method="sdr", **kw).objective
            diff.append(dc - sdr)
        d = np.asarray(diff, dtype=float)
        mean, se = d.mean(), d.std(ddof=1) / np.sqrt(d.size)
        report.append((gamma_db, round(float(mean), 3), round(float(se), 3)))
        assert mean >= -3 * se, report
    print("dc - sdr per gamma_db (mean, standard error):", report)


@pytest.mark.parametrize("backend", ["clarabel", "cvxpy"])
@pytest.mark.parametrize("method", ["dc", "sdr"])
def test_solver_failure_is_reported_as_solver_error(monkeypatch, method, backend) -> None:
    # every solver of the chain fails: Clarabel (direct) reports a numerical error, and
    # the CVXPY fallback programs (Clarabel, SCS) raise SolverError
    import types

    def broken_run(self, kind, q, A_data):
        return types.SimpleNamespace(status="NumericalError", x=np.zeros(q.size))

    monkeypatch.setattr(_sdp.ClarabelBackend, "_run", broken_run)
    monkeypatch.setattr(_sdp, "_solve", lambda problem, solver: "solver_error")
    rng = np.random.default_rng(3)
    h = cn(rng, (6, 3))
    kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "rng": 0, "backend": backend}
    sol = select_devices(h, method=method, **kw)
    assert sol.status == st.SOLVER_ERROR
    # the selection returned with it (the greedy fallback) still meets the target
    assert sol.selected.any()
    mse = aircomp_mse(sol.beamformer, h[sol.selected], power_w=1, noise_w=1)
    assert mse <= 1 + 1e-6 and np.isclose(mse, sol.mse)
    # a backend counts the programs on which every solver failed
    backend_obj = _sdp.RealBackend(h)
    assert backend_obj.solve_feasible(np.ones(6, dtype=bool), backend_obj.zero_lin()) is None
    assert backend_obj.solve_sparse(np.ones(6), backend_obj.zero_lin()) is None
    assert backend_obj.failures == 2


def test_infeasible_status_is_kept_when_solvers_work() -> None:
    rng = np.random.default_rng(3)
    backend = _sdp.RealBackend(cn(rng, (6, 3)) * 0.01)  # every device far too weak
    assert backend.solve_feasible(np.ones(6, dtype=bool), backend.zero_lin()) is None
    assert backend.failures == 0


@pytest.mark.parametrize("method", ["dc", "sdr", "fast", "all", "eig"])
@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"weights": np.array([1e-200, 1.0, 1.0, 1.0])}, "weights"),
        ({"power_w": 1e300, "noise_w": 1e-20}, "power_w"),
        ({"mse_target": 1e200, "noise_w": 1e-200}, "mse_target"),
    ],
)
def test_overflowing_scaled_channels_raise(method: str, kwargs: dict, names: str) -> None:
    rng = np.random.default_rng(0)
    h = cn(rng, (4, 2))
    args = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "method": method, "rng": 0}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=names) as info:
        select_devices(h, **args)
    for name in ("weights", "power_w", "noise_w", "mse_target"):
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"weights": np.array([1.0, 1.0, 1e-200, 1.0])}, "weights"),
        ({"power_w": 1e300, "noise_w": 1e-20}, "power_w"),
    ],
)
def test_overflowing_scaled_channels_raise_for_a_batch(kwargs: dict, names: str) -> None:
    H = cn(np.random.default_rng(1), (3, 4, 2))
    args = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "method": "fast"}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=names):
        select_devices(H, **args)


@pytest.mark.parametrize("method", ["dc", "sdr", "fast", "eig"])
@pytest.mark.parametrize("tiny", [1e-150, 1e-50, 1e-10])
def test_huge_dynamic_range_gives_the_same_selection(method: str, tiny: float) -> None:
    # a weight of 1e-150 makes device 0's scaled gain ~1e300: it is served by almost any
    # beamformer, so the selection must match the one with a merely small weight (1e-3);
    # the review found "dc" falsely infeasible here
    rng = np.random.default_rng(0)
    h = cn(rng, (4, 2))
    kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "method": method, "rng": 0}
    ref = select_devices(h, weights=np.array([1e-3, 1.0, 1.0, 1.0]), **kw)
    w = np.array([tiny, 1.0, 1.0, 1.0])
    sol = select_devices(h, weights=w, **kw)
    assert sol.status == st.FEASIBLE and ref.status == st.FEASIBLE
    np.testing.assert_array_equal(sol.selected, ref.selected)
    assert sol.selected[0]
    mse = aircomp_mse(
        sol.beamformer, h[sol.selected], power_w=1, noise_w=1, weights=w[sol.selected]
    )
    assert mse <= 1 + 1e-6


def test_dc_falls_back_to_the_greedy_selection_when_the_programs_find_nothing(
    monkeypatch,
) -> None:
    # step 1 and step 2 "succeed" but say every prefix is infeasible (a wrong answer of the
    # programs, as on badly conditioned data): a lone strong device is always servable,
    # so the result must not be "infeasible"
    monkeypatch.setattr(_sdp.ClarabelBackend, "solve_feasible", lambda self, mask, U: None)
    rng = np.random.default_rng(5)
    h = cn(rng, (8, 3))
    kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "rng": 0}
    sol = select_devices(h, method="dc", **kw)
    fast = select_devices(h, method="fast", **kw)
    assert sol.status == st.FEASIBLE
    np.testing.assert_array_equal(sol.selected, fast.selected)
    assert aircomp_mse(sol.beamformer, h[sol.selected], power_w=1, noise_w=1) <= 1 + 1e-6


def test_eig_iterations_count_dominant_direction_evaluations() -> None:
    rng = np.random.default_rng(0)
    h = cn(rng, (5, 3))
    none = select_devices(1e-3 * h, power_w=1, noise_w=1, mse_target=1, method="eig")
    assert none.status == st.INFEASIBLE and none.stats.iterations == 5  # one per drop
    easy = select_devices(h, power_w=1, noise_w=1, mse_target=1e4, method="eig")
    assert easy.selected.all() and easy.stats.iterations == 1
    mid = select_devices(h, power_w=1, noise_w=1, mse_target=1.0, method="eig")
    assert mid.stats.iterations == 5 - mid.objective + 1


def test_cached_programs_are_per_thread_and_threads_agree() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    main = _sdp.feasible_program(2, 4)
    assert _sdp.feasible_program(2, 4) is main
    other: list = []
    t = threading.Thread(target=lambda: other.append(_sdp.feasible_program(2, 4)))
    t.start()
    t.join()
    assert other[0] is not main
    # the same problems solved concurrently on the shared-shape CVXPY programs give the
    # results of sequential calls
    rng = np.random.default_rng(17)
    hs = [cn(rng, (8, 3)) for _ in range(6)]
    kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 0.6, "rng": 1, "backend": "cvxpy"}

    def run(h: np.ndarray) -> np.ndarray:
        return select_devices(h, method="dc", **kw).selected

    sequential = [run(h) for h in hs]
    with ThreadPoolExecutor(max_workers=3) as pool:
        concurrent = list(pool.map(run, hs))
    for a, b in zip(sequential, concurrent, strict=True):
        np.testing.assert_array_equal(a, b)


GOOD = np.ones((3, 2), dtype=complex)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"channels": np.ones((3, 2), dtype=bool)}, "channels"),
        ({"channels": np.ones((3, 0), dtype=complex)}, "channels"),
        ({"channels": np.ones((1, 2, 3, 2), dtype=complex)}, "channels"),
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
