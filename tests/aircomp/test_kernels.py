"""Numba kernels of edgeopt.aircomp against plain NumPy references."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from edgeopt.aircomp import _kernels, _sdp


def cn(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


# ---- plain NumPy references -------------------------------------------------------------


def margins_ref(G: np.ndarray, m: np.ndarray) -> np.ndarray:
    return np.abs(np.conj(m) @ G.T) ** 2 / np.linalg.norm(m) ** 2


def dominant_ref(G: np.ndarray) -> np.ndarray:
    A = sum(np.outer(g, g.conj()) / np.linalg.norm(g) ** 2 for g in G)
    return np.linalg.eigh(A)[1][:, -1]


def eig_heuristic_ref(G: np.ndarray) -> np.ndarray:
    active = np.ones(G.shape[0], dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        marg = margins_ref(G[idx], dominant_ref(G[idx]))
        if marg.min() >= 1.0:
            return active
        active[idx[np.argmin(marg)]] = False
    return active


def project_simplex_ref(v: np.ndarray) -> np.ndarray:
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    ks = np.arange(1, v.size + 1)
    rho = np.nonzero(u - (css - 1) / ks > 0)[0][-1]
    return np.maximum(v - (css[rho] - 1) / (rho + 1), 0.0)


def min_norm_simplex_ref(Q: np.ndarray, iters: int) -> np.ndarray:
    k = Q.shape[0]
    v = np.ones(k) / np.sqrt(k)
    lam = 0.0
    for _ in range(20):
        w = Q @ v
        nrm = np.linalg.norm(w)
        if nrm == 0:
            break
        lam, v = nrm, w / nrm
    lip = 2 * min(1.5 * lam + 1e-12, np.trace(Q) + 1e-12)
    a = np.ones(k) / k
    y, t = a.copy(), 1.0
    for _ in range(iters):
        a_new = project_simplex_ref(y - 2 * (Q @ y) / lip)
        t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        y = a_new + (t - 1) / t_new * (a_new - a)
        a, t = a_new, t_new
    return a


def maxmin_sca_ref(
    G: np.ndarray, m0: np.ndarray, outer: int, inner: int, stop_at: float = np.inf
) -> tuple[np.ndarray, float]:
    m = m0 / np.linalg.norm(m0)
    best = margins_ref(G, m).min()
    for _ in range(outer):
        if best >= stop_at:
            break
        inner_prod = np.conj(m) @ G.T  # m^H g_i
        ph = np.where(np.abs(inner_prod) > 0, inner_prod / np.abs(inner_prod), 1.0)
        Gh = G * np.conj(ph)[:, None]
        a = min_norm_simplex_ref(np.real(Gh @ Gh.conj().T), inner)
        cand = a @ Gh
        if np.linalg.norm(cand) <= 1e-300:
            break
        cand = cand / np.linalg.norm(cand)
        new = margins_ref(G, cand).min()
        if new > best * (1 + 1e-9):
            m, best = cand, new
        else:
            break
    return m, best


def greedy_ref(G: np.ndarray, outer: int, inner: int, tries: int = 16) -> np.ndarray:
    """The greedy of ``fast_advance`` for at most 64 devices (one drop per step)."""
    servable = np.linalg.norm(G, axis=1) ** 2 >= 1.0
    active = servable.copy()
    if not active.any():
        return active
    m = dominant_ref(G[active])
    while active.any():
        idx = np.flatnonzero(active)
        m, best = maxmin_sca_ref(G[idx], m, outer, inner, 1.0)
        if best >= 1.0:
            break
        active[idx[np.argmin(margins_ref(G[idx], m))]] = False
    dropped = np.flatnonzero(servable & ~active)
    md = margins_ref(G[dropped], m)
    active[dropped[md >= 1.0]] = True  # already served: added without a run
    rest = dropped[md < 1.0]
    order = rest[np.argsort(-md[md < 1.0], kind="stable")]
    fails = 0
    for pos, j in enumerate(order):
        if fails >= tries:
            break
        if active[j]:
            continue
        active[j] = True
        cand, best = maxmin_sca_ref(G[active], m, outer, inner, 1.0)
        if best >= 1.0:
            m, fails = cand, 0
            later = order[pos + 1 :]
            active[later[margins_ref(G[later], m) >= 1.0]] = True
        else:
            active[j] = False
            fails += 1
    return active


def run_fast(G: np.ndarray, outer: int = 30, inner: int = 40, runs: int = 1 << 30):
    """The resumable greedy kernel driven to the end in calls of ``runs`` SCA runs."""
    k, n = G.shape
    active, servable = np.zeros(k, dtype=bool), np.zeros(k, dtype=bool)
    m, order, state = np.zeros(n, dtype=complex), np.zeros(k, dtype=np.int64), np.zeros(8, np.int64)
    weights, marg = np.zeros(k), np.zeros(k)
    cache = _kernels.new_gram_cache(k, n)
    _kernels.fast_init(G, active, m, servable, state)
    while state[0] != _kernels.DONE:
        _kernels.fast_advance(
            G,
            active,
            m,
            servable,
            order,
            weights,
            marg,
            state,
            runs,
            outer,
            inner,
            0.5,
            True,
            8,
            2,
            cache,
        )
    return active, m, int(state[1])


def warm_sca(G, m0, outer, inner, stop_at, wt, geometric=False, cache=None):
    """``maxmin_sca_warm`` on all rows of ``G`` (a fresh cache of products unless given)."""
    k, n = G.shape
    cache = _kernels.new_gram_cache(k, n) if cache is None else cache
    return _kernels.maxmin_sca_warm(
        G, m0, outer, inner, stop_at, wt, geometric, np.arange(k), cache
    )


# ---- tests --------------------------------------------------------------------------------


def mse_ref(h: np.ndarray, m: np.ndarray, w: np.ndarray, power: np.ndarray, noise: float) -> float:
    gains = np.abs(h @ np.conj(m)) ** 2
    return float(noise * np.linalg.norm(m) ** 2 * np.max(w**2 / (power * gains)))


@pytest.mark.parametrize("seed", range(4))
def test_mse_kernel_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, m, w = cn(rng, (9, 3)), cn(rng, (3,)), rng.uniform(0.5, 2, 9)
    power = rng.uniform(0.1, 3.0, 9)  # per-device budgets
    mask = rng.random(9) < 0.6
    mask[0] = True
    got = _kernels.mse_masked(h, m, w, mask, power, 0.3)
    assert np.isclose(got, mse_ref(h[mask], m, w[mask], power[mask], 0.3), rtol=1e-12)
    assert _kernels.mse_masked(h, m, w, np.zeros(9, dtype=bool), power, 0.3) == 0.0
    h[0] = 0.0  # orthogonal to every beamformer
    assert _kernels.mse_masked(h, m, w, mask, power, 0.3) == np.inf


def test_margins_match_reference() -> None:
    rng = np.random.default_rng(0)
    G, m = cn(rng, (7, 4)), cn(rng, (4,))
    np.testing.assert_allclose(_kernels.margins(G, m), margins_ref(G, m), rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_project_simplex_matches_qp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=6) * 2
    a = cp.Variable(6)
    cp.Problem(cp.Minimize(cp.sum_squares(a - v)), [a >= 0, cp.sum(a) == 1]).solve(
        solver="CLARABEL"
    )
    np.testing.assert_allclose(_kernels.project_simplex(v), a.value, atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_simplex_kernels_match_numpy_references(seed: int) -> None:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=9) * 3
    np.testing.assert_allclose(_kernels.project_simplex(v), project_simplex_ref(v), atol=1e-12)
    B = rng.normal(size=(9, 4))
    Q = B @ B.T
    np.testing.assert_allclose(
        _kernels.min_norm_simplex(Q, 60), min_norm_simplex_ref(Q, 60), atol=1e-9
    )


@pytest.mark.parametrize("seed", range(5))
def test_maxmin_sca_matches_numpy_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    G, m0 = cn(rng, (9, 4)) * 1.5, cn(rng, (4,))
    m, best = _kernels.maxmin_sca(G, m0, 30, 40)
    m_ref, best_ref = maxmin_sca_ref(G, m0, 30, 40)
    assert np.isclose(best, best_ref, rtol=1e-7)
    np.testing.assert_allclose(m, m_ref, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_greedy_select_matches_numpy_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    G = cn(rng, (12, 4)) * 0.9
    active, _, _ = run_fast(G)
    np.testing.assert_array_equal(active, greedy_ref(G, 30, 40))
    # cut into calls of one SCA run each, the resumable kernel gives the same result
    np.testing.assert_array_equal(run_fast(G, runs=1)[0], active)


@pytest.mark.parametrize("seed", range(3))
def test_min_norm_simplex_converges_to_qp_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(8, 5))
    Q = B @ B.T
    a = cp.Variable(8)
    prob = cp.Problem(cp.Minimize(cp.quad_form(a, cp.psd_wrap(Q))), [a >= 0, cp.sum(a) == 1])
    prob.solve(solver="CLARABEL")
    got = _kernels.min_norm_simplex(Q, 5000)
    assert np.isclose(got.sum(), 1.0) and got.min() >= 0
    assert got @ Q @ got <= prob.value + 1e-5


def test_dominant_direction_matches_reference() -> None:
    rng = np.random.default_rng(1)
    G = cn(rng, (9, 4))
    u = _kernels.dominant_direction(G, np.arange(9))
    assert np.isclose(abs(np.vdot(u, dominant_ref(G))), 1.0, atol=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_maxmin_sca_is_monotone_and_reaches_the_optimum_for_one_device(seed: int) -> None:
    rng = np.random.default_rng(seed)
    G = cn(rng, (10, 4)) * 2
    m0 = cn(rng, (4,))
    m, best = _kernels.maxmin_sca(G, m0, 50, 100)
    assert np.isclose(np.linalg.norm(m), 1.0)
    assert np.isclose(best, margins_ref(G, m).min(), rtol=1e-10)
    assert best >= margins_ref(G, m0).min()
    one = G[:1]
    _, best1 = _kernels.maxmin_sca(one, m0, 50, 100)
    assert np.isclose(best1, np.linalg.norm(one) ** 2, rtol=1e-8)  # m = g is optimal


@pytest.mark.parametrize("seed", range(4))
def test_maxmin_sca_is_close_to_the_sdr_bound_for_few_devices(seed: int) -> None:
    # for at most 3 devices the complex SDR is tight (Huang & Palomar 2010)
    rng = np.random.default_rng(seed)
    G = cn(rng, (3, 4))
    t = cp.Variable()
    X = cp.Variable((8, 8), PSD=True)
    rows = _sdp.constraint_rows(G)  # vec(I - R_i): <R_i, X> = tr X - <row, X>
    gains = [cp.trace(X) - rows[i] @ cp.vec(X, order="F") for i in range(3)]
    cp.Problem(cp.Maximize(t), [cp.trace(X) == 1] + [g >= t for g in gains]).solve(
        solver="CLARABEL"
    )
    best = max(_kernels.maxmin_sca(G, cn(rng, (4,)), 200, 300)[1] for _ in range(5))
    assert best >= t.value * (1 - 1e-3)
    assert best <= t.value * (1 + 1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_eig_heuristic_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    G = cn(rng, (12, 4)) * 0.8
    active, m = _kernels.eig_heuristic(G)
    np.testing.assert_array_equal(active, eig_heuristic_ref(G))
    if active.any():
        assert margins_ref(G[active], m).min() >= 1.0


@pytest.mark.parametrize("seed", range(6))
def test_greedy_select_serves_its_selection(seed: int) -> None:
    rng = np.random.default_rng(seed)
    G = cn(rng, (12, 4)) * 0.8
    active, m, calls = run_fast(G)
    assert calls >= 1
    strong = np.linalg.norm(G, axis=1) >= 1
    assert not np.any(active & ~strong)  # devices with ||g|| < 1 can never be served
    if strong.any():
        assert active.any()
        assert margins_ref(G[active], m).min() >= 1.0
        # no single dropped device can be added back with the same beamformer
        dropped = np.flatnonzero(~active)
        assert np.all(margins_ref(G[dropped], m) < 1.0) if dropped.size else True


def test_real_embedding_represents_complex_quadratic_forms() -> None:
    rng = np.random.default_rng(2)
    g, m = cn(rng, (4,)), cn(rng, (4,))
    v = np.concatenate([m.real, m.imag])
    X = np.outer(v, v)
    row = _sdp.constraint_rows(g[None, :])[0]
    assert np.isclose(row @ X.flatten(order="F"), np.linalg.norm(m) ** 2 - abs(np.vdot(m, g)) ** 2)
    M = _sdp.complex_covariance(X)
    np.testing.assert_allclose(M, np.outer(m, m.conj()), atol=1e-12)
    u = _sdp.beam_from_real(X)
    assert np.isclose(abs(np.vdot(u, m)), np.linalg.norm(m))


def scale_channels_ref(h: np.ndarray, ratio: float, w: np.ndarray, cap: float):
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        G = np.sqrt(ratio / w**2)[:, None] * h
        norm2 = np.sum(np.abs(G) ** 2, axis=1)
        bad = np.flatnonzero(~np.isfinite(norm2))
        shrink = np.where(np.isfinite(norm2) & (norm2 > cap), np.sqrt(cap / norm2), 1.0)
        return G * shrink[:, None], int(bad[0]) if bad.size else -1


@pytest.mark.parametrize("seed", range(3))
def test_scale_channels_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = cn(rng, (9, 3))
    w = 10.0 ** rng.uniform(-6, 1, 9)  # scaled gains from ~1e-2 to ~1e12
    G, bad = _kernels.scale_channels(h, np.full(9, 2.0), w, 1e6)
    G_ref, bad_ref = scale_channels_ref(h, 2.0, w, 1e6)
    assert bad == bad_ref == -1
    np.testing.assert_allclose(G, G_ref, rtol=1e-12)
    norm2 = np.sum(np.abs(G) ** 2, axis=1)
    assert np.all(norm2 <= 1e6 * (1 + 1e-12))
    # shrinking keeps each direction and is conservative: a margin >= 1 on the shrunk row
    # implies a margin >= 1 on the original row
    orig = np.sqrt(2.0 / w**2)[:, None] * h
    m = cn(rng, (3,))
    assert np.all(margins_ref(orig, m) >= margins_ref(G, m) * (1 - 1e-12))
    # overflow is flagged at the first offending device
    w2 = w.copy()
    w2[[4, 7]] = 1e-200
    _, bad = _kernels.scale_channels(h, np.full(9, 2.0), w2, 1e6)
    assert bad == scale_channels_ref(h, 2.0, w2, 1e6)[1] == 4
    _, bad = _kernels.scale_channels(h, np.full(9, np.inf), np.ones(9), 1e6)
    assert bad == 0
    # the batch form scales every draw as the single form does and names the first bad draw
    H = np.stack([h, 3.0 * h, h[::-1]])
    Gb, bad = _kernels.scale_channels_batch(H, np.full(9, 2.0), w, 1e6)
    assert bad == -1
    for x, g in zip(H, Gb, strict=True):
        np.testing.assert_array_equal(g, _kernels.scale_channels(x, np.full(9, 2.0), w, 1e6)[0])
    assert _kernels.scale_channels_batch(H, np.full(9, 2.0), w2, 1e6)[1] == 0


@pytest.mark.parametrize("seed", range(3))
def test_working_set_sca_matches_the_dense_one_on_large_sets(seed: int) -> None:
    # above WS_MIN devices the min-norm point is found on a working set (never the S x S
    # matrix); its smallest margin is within 10 % of the dense iteration's (94-100 % on
    # these draws)
    rng = np.random.default_rng(seed)
    G = cn(rng, (200, 4)) * 1.5
    m0 = dominant_ref(G)
    m_ws, best_ws = _kernels.maxmin_sca(G, m0, 30, 40)
    m_d, best_d = _kernels._maxmin_dense(G, m0, 30, 40, np.inf)
    assert np.isclose(margins_ref(G, m_ws).min(), best_ws, rtol=1e-9)
    assert best_ws >= margins_ref(G, m0).min()  # monotone
    assert best_ws >= 0.9 * best_d


@pytest.mark.parametrize(("seed", "n"), [(0, 16), (1, 16), (2, 8)])
def test_add_back_groups_double_after_two_kept_and_halve_after_a_failed_one(
    seed: int, n: int
) -> None:
    # drive the greedy one SCA run at a time through the add-back pass and check each step
    # of the group rule against the state before it
    rng = np.random.default_rng(seed)
    k = 600
    G = cn(rng, (k, n))
    active, servable = np.zeros(k, dtype=bool), np.zeros(k, dtype=bool)
    m, order, state = np.zeros(n, dtype=complex), np.zeros(k, dtype=np.int64), np.zeros(8, np.int64)
    weights, marg = np.zeros(k), np.zeros(k)
    cache = _kernels.new_gram_cache(k, n)
    _kernels.fast_init(G, active, m, servable, state)

    def advance() -> None:
        _kernels.fast_advance(
            G, active, m, servable, order, weights, marg, state, 1, 30, 40, 0.5, True, 8, 2, cache
        )

    while state[_kernels._PHASE] not in (_kernels.ADD_BACK, _kernels.DONE):
        advance()
    kept_groups = 0
    while state[_kernels._PHASE] == _kernels.ADD_BACK:
        step = max(1, int(state[_kernels._STEP]))
        streak, fails = int(state[_kernels._STREAK]), int(state[_kernels._FAILS])
        ptr, end = int(state[_kernels._PTR]), int(state[_kernels._NORDER])
        left = [int(i) for i in order[ptr:end] if not active[i]]
        group = left[:step]
        before = active.copy()
        advance()
        if state[_kernels._PHASE] == _kernels.DONE and not group:
            break
        if fails >= 8:
            break
        kept = bool(active[group].all())
        if kept:
            assert state[_kernels._FAILS] == 0
            assert state[_kernels._STREAK] == streak + 1
            want = min(2 * len(group), _kernels.ADD_STEP_MAX) if streak + 1 >= 2 else len(group)
            assert state[_kernels._STEP] == want
            assert (active & ~before).sum() >= len(group)
            kept_groups += len(group) >= 2
        else:
            assert not active[group].any()
            assert (active == before).all()
            assert state[_kernels._STREAK] == 0
            if len(group) > 1:
                assert state[_kernels._STEP] == len(group) // 2
                assert state[_kernels._FAILS] == fails
            else:
                assert state[_kernels._FAILS] == fails + 1
    assert state[_kernels._PHASE] == _kernels.DONE
    assert kept_groups >= 1  # the pass did add devices in groups
    assert margins_ref(G[active], m).min() >= 1.0


def test_fast_kernel_on_large_sets_serves_its_selection() -> None:
    rng = np.random.default_rng(5)
    G = cn(rng, (3000, 6))
    active, m, runs = run_fast(G)
    assert runs >= 1 and active.sum() > 3000 * np.exp(-1)  # above the random beamformer
    assert margins_ref(G[active], m).min() >= 1.0
    np.testing.assert_array_equal(run_fast(G, runs=3)[0], active)  # cut into calls


@pytest.mark.parametrize("seed", range(3))
def test_corral_factor_and_forward_solution_survive_adds_and_deletes(seed: int) -> None:
    # L L^T = 1 1^T + P_C P_C^T and L y = 1 (y: the last column) after every change
    rng = np.random.default_rng(seed)
    d, npts = 6, 12
    P = rng.standard_normal((npts, d))
    cm = d + 2
    L, cor, lam = np.zeros((cm, cm + 1)), np.zeros(cm, np.int64), np.zeros(cm)
    c = 0

    def check() -> None:
        M = 1.0 + P[cor[:c]] @ P[cor[:c]].T
        np.testing.assert_allclose(L[:c, :c] @ L[:c, :c].T, M, atol=1e-10)
        assert np.allclose(np.triu(L[:c, :c], 1), 0.0)
        np.testing.assert_allclose(L[:c, :c] @ L[:c, cm], np.ones(c), atol=1e-10)

    for j in rng.permutation(npts)[: d + 1]:
        assert _kernels._corral_add(L, c, P, cor, int(j))
        cor[c] = j
        c += 1
        check()
        if c >= 3 and rng.random() < 0.5:
            _kernels._corral_delete(L, c, int(rng.integers(c)), cor, lam)
            c -= 1
            check()
    out = np.zeros(cm)
    _kernels._corral_weights(L, c, out)
    a = np.linalg.solve(1.0 + P[cor[:c]] @ P[cor[:c]].T, np.ones(c))
    np.testing.assert_allclose(out[:c], a / a.sum(), rtol=1e-9, atol=1e-12)


def _wolfe(P: np.ndarray, gap: float = 1e-12):
    nw, d = P.shape
    cm = d + 2
    # the factor has one column more: the forward solution of R y = 1
    R, cor, lam, x = np.zeros((cm, cm + 1)), np.zeros(cm, np.int64), np.zeros(cm), np.zeros(d)
    j0 = int(np.argmin(np.sum(P**2, axis=1)))
    cor[0], lam[0], R[0, 0] = j0, 1.0, np.sqrt(1.0 + P[j0] @ P[j0])
    R[0, cm] = 1.0 / R[0, 0]
    c = _kernels.min_norm_wolfe(P, nw, cor, lam, 1, R, x, gap, 50 * d)
    return x, cor[:c], lam[:c]


@pytest.mark.parametrize(
    ("nw", "d", "shift"),
    [(10, 4, 0.0), (50, 12, 0.7), (200, 24, 0.0), (129, 128, 0.7), (40, 3, 0.3)],
)
def test_wolfe_min_norm_point_matches_the_qp_optimum(nw: int, d: int, shift: float) -> None:
    rng = np.random.default_rng(nw + d)
    P = rng.standard_normal((nw, d)) + shift
    x, cor, lam = _wolfe(P)
    a = cp.Variable(nw)
    cp.Problem(cp.Minimize(cp.sum_squares(P.T @ a)), [a >= 0, cp.sum(a) == 1]).solve(
        solver="CLARABEL"
    )
    opt = float(np.sum((P.T @ a.value) ** 2))
    # x is a convex combination of the rows (weights >= 0, sum 1) and has the optimal norm
    assert np.all(lam > 0) and np.isclose(lam.sum(), 1.0)
    np.testing.assert_allclose(x, P[cor].T @ lam, atol=1e-12)
    assert x @ x <= opt + 1e-7 * max(opt, 1.0)
    assert x @ x >= opt - 1e-6 * max(opt, 1.0) - 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_warm_sca_is_monotone_and_matches_the_working_set_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for k, n in ((200, 4), (400, 16)):
        G = cn(rng, (k, n)) * 1.5
        m0 = dominant_ref(G)
        wt = np.zeros(k)
        m, best = warm_sca(G, m0, 30, 40, np.inf, wt)
        assert np.isclose(margins_ref(G, m).min(), best, rtol=1e-9)
        assert best >= margins_ref(G, m0).min()  # monotone
        # the weights are those of the last min-norm point: a convex combination
        assert np.all(wt >= 0) and np.isclose(wt.sum(), 1.0) and np.count_nonzero(wt) <= 2 * n + 1
        _, best_ws = _kernels.maxmin_sca(G, m0, 30, 40)
        assert best >= 0.95 * best_ws
        # warm-started from its own weights and beamformer it does not get worse
        _, again = warm_sca(G, m, 30, 40, np.inf, wt)
        assert again >= best * (1 - 1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_warm_sca_does_not_depend_on_what_the_product_cache_holds(seed: int) -> None:
    # the cache only saves recomputing g_a^H g_b: a run with a cache filled by earlier runs
    # (on other sets, and small enough to be emptied on the way) gives the same bits
    rng = np.random.default_rng(seed)
    k, n = 400, 4
    G = cn(rng, (k, n)) * 1.5
    m0 = dominant_ref(G)
    wt0 = np.zeros(k)
    warm_sca(G, m0, 3, 40, np.inf, wt0)  # weights to start from: a warm corral
    wt_fresh = wt0.copy()
    m_fresh, best_fresh = warm_sca(G, m0, 30, 40, np.inf, wt_fresh)
    cache = _kernels.new_gram_cache(k, n)
    cap = cache[1].size
    for _ in range(6):  # fill it (and overflow it) with products of other subsets
        sub = np.sort(rng.choice(k, size=300, replace=False))
        w = np.zeros(sub.size)
        _kernels.maxmin_sca_warm(G, m0, 5, 40, np.inf, w, False, sub, cache)
    assert 0 < cache[4][0] <= cap
    wt_used = wt0.copy()
    m_used, best_used = warm_sca(G, m0, 30, 40, np.inf, wt_used, cache=cache)
    np.testing.assert_array_equal(m_used, m_fresh)
    assert best_used == best_fresh
    np.testing.assert_array_equal(wt_used, wt_fresh)


@pytest.mark.parametrize("seed", range(3))
def test_row_margins_and_add_subset_match_numpy_references(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n, size = 300, 8, 40
    G = cn(rng, (k, n)) * 1.5
    m = cn(rng, (n,))
    idx = np.sort(rng.choice(k, size=200, replace=False))
    np.testing.assert_allclose(_kernels._row_margins(G, idx, m), margins_ref(G[idx], m))
    weights = np.zeros(k)
    weighted = idx[rng.choice(idx.size, size=5, replace=False)]
    weights[weighted] = 0.2
    # a group of new devices: the two largest margins, not among the smallest
    group = idx[np.argsort(margins_ref(G[idx], m), kind="stable")[-2:]]
    new = np.zeros(k, dtype=bool)
    new[group] = True
    sub = _kernels._add_subset(idx, margins_ref(G[idx], m), weights, new, size)
    smallest = idx[np.argsort(margins_ref(G[idx], m), kind="stable")[:size]]
    expected = np.union1d(np.union1d(smallest, weighted), group)
    np.testing.assert_array_equal(sub, expected)
    # a set no larger than the subset size comes back whole
    whole = _kernels._add_subset(idx[:size], margins_ref(G[idx[:size]], m), weights, new, size)
    np.testing.assert_array_equal(whole, idx[:size])


@pytest.mark.parametrize("seed", range(3))
def test_warm_sca_geometric_stop_reports_the_margin_of_its_beamformer(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, n = 300, 8
    G = cn(rng, (k, n)) * 1.2
    m0 = dominant_ref(G)
    for target in (0.5, 1.0, 2.0):
        wt = np.zeros(k)
        m, best = warm_sca(G, m0, 30, 40, target, wt, True)
        assert np.isclose(margins_ref(G, m).min(), best, rtol=1e-9)
        assert best >= margins_ref(G, m0).min()  # monotone
        # the stop only ends runs early: the full run never does better than reaching the target
        wt_full = np.zeros(k)
        _, full = warm_sca(G, m0, 30, 40, np.inf, wt_full)
        assert best <= full * (1 + 1e-9) or best >= target
