"""MultiUserOffloading: exact allocation, branch and bound and MILP against brute force."""

from __future__ import annotations

import itertools

import cvxpy as cp
import numpy as np
import pytest

from edgeopt.errors import InvalidInputError
from edgeopt.offload import MultiUserOffloading, _kernels
from edgeopt.offload._multiuser._base import relax
from edgeopt.offload._multiuser.milp import coefficients
from edgeopt.system import drop_devices

LN2 = np.log(2.0)


def numpy_allocate_band(w, s, total):
    """NumPy reference of _kernels.allocate_band (x = 1): nested bisection, vectorized."""

    def rho(u):
        return u * np.log1p(1.0 / u) / LN2

    def rho_prime(u):
        z = 1.0 / u
        return (np.log1p(z) - z / (1.0 + z)) / LN2

    def bands(mu):
        target = mu * s * s / w
        lo, hi = np.full_like(w, -40.0), np.full_like(w, 25.0)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            u = np.exp(mid)
            big = rho_prime(u) / rho(u) ** 2 > target
            lo, hi = np.where(big, mid, lo), np.where(big, hi, mid)
        return s * np.exp(0.5 * (lo + hi))

    lo, hi = -200.0, 200.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if bands(np.exp(mid)).sum() > total:
            lo = mid
        else:
            hi = mid
    b = bands(np.exp(hi))
    return b, float(np.sum(w / (s * rho(b / s))))


def cvxpy_allocate_band(w, s, total):
    """The same convex program written for CVXPY (exponential cone, Clarabel)."""
    b = cp.Variable(len(w), pos=True)
    rate = -cp.rel_entr(b, b + s) / LN2  # b log2(1 + s / b), concave
    prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(w, cp.inv_pos(rate)))), [cp.sum(b) <= total])
    prob.solve(solver="CLARABEL")
    return b.value, prob.value


@pytest.mark.parametrize("seed", range(5))
def test_band_allocation_matches_numpy_and_cvxpy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    w = rng.uniform(0.5, 3.0, n) * 1e6
    s = 10 ** rng.uniform(5, 9, n)
    total = 1e6
    beta, value, mu = _kernels.allocate_band(w, s, np.ones(n), total)
    b_np, v_np = numpy_allocate_band(w, s, total)
    assert value == pytest.approx(v_np, rel=1e-9)
    np.testing.assert_allclose(beta, b_np, rtol=1e-6)
    assert beta.sum() <= total * (1 + 1e-12)
    b_cp, v_cp = cvxpy_allocate_band(w / 1e6, s / 1e6, 1.0)  # scaled for the solver
    assert value == pytest.approx(v_cp, rel=1e-5)  # same costs: w and r scale alike
    np.testing.assert_allclose(beta / 1e6, b_cp, rtol=1e-3, atol=1e-5)
    assert mu > 0


def test_cost_of_a_decision_is_its_optimal_allocation():
    prob = MultiUserOffloading.random(5, rng=7)
    rng = np.random.default_rng(0)
    d = np.array([True, False, True, True, False])
    best = prob.cost(d)
    b, f = prob.allocation(d)
    assert b[~d].sum() == 0 and f[~d].sum() == 0
    assert b.sum() == pytest.approx(prob.bandwidth_hz, rel=1e-9)
    assert f.sum() == pytest.approx(prob.server_cpu_freq_hz, rel=1e-12)

    def cost_of(b, f):
        rate = b[d] * np.log2(
            1 + prob.tx_power_w[d] * prob.channel_gain[d] / (prob.noise_psd_w_per_hz * b[d])
        )
        up = prob.input_bits[d] / rate
        t = up + prob.cycles[d] / f[d]
        e = prob.tx_power_w[d] * up
        return prob.local_cost[~d].sum() + np.sum(prob.weight_time * t + prob.weight_energy * e)

    assert cost_of(b, f) == pytest.approx(best, rel=1e-9)
    # no random feasible allocation does better
    for _ in range(200):
        bb = np.zeros(5)
        ff = np.zeros(5)
        bb[d] = rng.dirichlet(np.ones(3)) * prob.bandwidth_hz
        ff[d] = rng.dirichlet(np.ones(3)) * prob.server_cpu_freq_hz
        assert cost_of(bb, ff) >= best * (1 - 1e-12)


def brute(prob):
    n = prob.num_users
    return min(prob.cost(np.array(x, dtype=bool)) for x in itertools.product([0, 1], repeat=n))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 10])
def test_exact_equals_brute_force(n):
    for seed in range(2 if n == 10 else 4):
        prob = MultiUserOffloading.random(n, rng=1000 * n + seed)
        best = brute(prob)
        res = prob.solve("exact")
        assert res.status == "optimal"
        assert res.cost == pytest.approx(best, rel=1e-9)
        assert res.cost == pytest.approx(prob.cost(res.decision), rel=1e-12)
        for method in ("relax-round", "greedy"):
            heur = prob.solve(method)
            assert heur.cost >= best * (1 - 1e-9)
        lb = prob.solve("relax-round").lower_bound
        assert lb <= best * (1 + 1e-12)


def test_exact_on_a_contended_instance():
    # many users, a small band: the optimum is a strict subset
    base = MultiUserOffloading.random(9, rng=5)
    prob = MultiUserOffloading(
        input_bits=base.input_bits * 4, cycles=base.cycles, cpu_freq_hz=base.cpu_freq_hz,
        kappa=base.kappa, tx_power_w=base.tx_power_w, channel_gain=base.channel_gain,
        noise_psd_w_per_hz=base.noise_psd_w_per_hz, bandwidth_hz=2e6,
        server_cpu_freq_hz=2e10, weight_time=1.0, weight_energy=0.5,
    )  # fmt: skip
    res = prob.solve("exact")
    assert res.cost == pytest.approx(brute(prob), rel=1e-9)
    assert 0 < res.decision.sum() < 9


@pytest.mark.parametrize("seed", range(6))
def test_relaxation_bound_is_valid_for_every_completion(seed):
    rng = np.random.default_rng(seed)
    prob = MultiUserOffloading.random(6, rng=seed)
    arr = prob._arrays
    fixed = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=6)
    free = np.flatnonzero(fixed < 0)
    best = np.inf
    for bits in itertools.product([0, 1], repeat=len(free)):
        d = fixed.copy()
        d[free] = bits
        best = min(best, prob.cost(d.astype(bool)))
    rel = relax(arr, fixed, None, 30)
    assert rel.lower_bound <= best * (1 + 1e-12)
    # at a 0/1 point the perspective relaxation is the cost itself: the bound is tight
    d = rng.random(6) < 0.5
    tight = relax(arr, d.astype(np.int8), None, 3)
    assert tight.lower_bound == pytest.approx(prob.cost(d), rel=1e-7)


def brute_discrete(prob, k, m):
    arr = prob._arrays
    band, cpu = coefficients(arr, k, m)
    options = [None] + [(j, ell) for j in range(1, k + 1) for ell in range(1, m + 1)]
    best = np.inf
    for choice in itertools.product(options, repeat=prob.num_users):
        if sum(c[0] for c in choice if c) > k or sum(c[1] for c in choice if c) > m:
            continue
        total = sum(
            arr.local[i] if c is None else band[i, c[0] - 1] + cpu[i, c[1] - 1]
            for i, c in enumerate(choice)
        )
        best = min(best, total)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_milp_equals_brute_force_over_the_discretized_problem(seed):
    prob = MultiUserOffloading.random(3, rng=50 + seed)
    k, m = 4, 3
    res = prob.solve("milp", num_blocks=k, num_shares=m)
    assert res.status == "optimal"
    assert res.cost == pytest.approx(brute_discrete(prob, k, m), rel=1e-7)
    assert res.bandwidth_hz.sum() <= prob.bandwidth_hz * (1 + 1e-12)
    assert res.server_cpu_hz.sum() <= prob.server_cpu_freq_hz * (1 + 1e-12)
    # the discretized optimum is never below the continuous one
    assert res.cost >= prob.solve("exact").cost * (1 - 1e-9)


def test_from_system_and_random():
    system = drop_devices(4, rng=0)
    prob = MultiUserOffloading.from_system(system, {"input_bits": 1e6, "cycles": [1e9] * 4})
    np.testing.assert_allclose(prob.channel_gain, system.path_gain())
    np.testing.assert_array_equal(prob.cpu_freq_hz, system.devices.cpu_freq_hz)
    assert prob.noise_psd_w_per_hz == system.noise_psd_w_per_hz
    drawn = MultiUserOffloading.from_system(system, {"input_bits": 1e6, "cycles": 1e9}, rng=1)
    assert not np.allclose(drawn.channel_gain, prob.channel_gain)
    a, b = MultiUserOffloading.random(5, rng=3), MultiUserOffloading.random(5, rng=3)
    np.testing.assert_array_equal(a.channel_gain, b.channel_gain)


def test_bad_input():
    with pytest.raises(InvalidInputError, match="input_bits"):
        MultiUserOffloading(
            input_bits=[-1.0], cycles=1e9, cpu_freq_hz=1e9, kappa=1e-28, tx_power_w=0.2,
            channel_gain=1e-10, noise_psd_w_per_hz=4e-21, bandwidth_hz=1e6,
            server_cpu_freq_hz=1e10,
        )  # fmt: skip
    prob = MultiUserOffloading.random(3, rng=0)
    with pytest.raises(InvalidInputError, match="decision"):
        prob.cost([1, 0, 1])
    with pytest.raises(InvalidInputError, match="method"):
        prob.solve("annealing")
    with pytest.raises(InvalidInputError, match="num_blocks"):
        prob.solve("milp", num_blocks=0)
    with pytest.raises(InvalidInputError, match="tasks"):
        MultiUserOffloading.from_system(drop_devices(2, rng=0), {"input_bits": 1.0})
