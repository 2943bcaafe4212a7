"""The convergence bound G(τ), T(τ) and optimal_tau against the formulas written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgeopt.errors import InvalidInputError
from edgeopt.frequency import convergence_bound, gap_h, optimal_tau, total_local_steps

CONST = dict(beta=2.0, delta=0.3, rho=1.5, eta=0.2, phi=0.02)


def _g_by_hand(tau, *, beta, delta, rho, eta, phi, budget, local_cost, global_cost):
    """G(τ) of Wang et al. (2019), one scalar τ, written out term by term."""
    steps = min(
        (r - c - b) * tau / (c * tau + b)
        for r, c, b in zip(budget, local_cost, global_cost, strict=True)
    )
    h = delta / beta * ((eta * beta + 1) ** tau - 1) - eta * delta * tau
    return (
        1 / (2 * eta * phi * steps)
        + math.sqrt(1 / (4 * eta**2 * phi**2 * steps**2) + rho * h / (eta * phi * tau))
        + rho * h
    )


@pytest.mark.parametrize("tau", [1, 2, 3, 7, 20, 55])
def test_g_matches_formula(tau):
    res = dict(budget=[500.0], local_cost=[1.0], global_cost=[6.0])
    got = convergence_bound(tau, **CONST, **res)
    assert got.shape == ()
    assert got == pytest.approx(_g_by_hand(tau, **CONST, **res), rel=1e-12)


def test_g_vectorized_over_tau():
    taus = np.array([[1, 2], [5, 9]])
    res = dict(budget=300.0, local_cost=0.5, global_cost=4.0)
    got = convergence_bound(taus, **CONST, **res)
    assert got.shape == (2, 2)
    want = [
        [
            _g_by_hand(int(t), **CONST, budget=[300.0], local_cost=[0.5], global_cost=[4.0])
            for t in row
        ]
        for row in taus
    ]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_h_formula_and_limits():
    t = np.arange(1, 30)
    want = 0.3 / 2.0 * ((0.2 * 2.0 + 1) ** t - 1) - 0.2 * 0.3 * t
    np.testing.assert_allclose(gap_h(t, beta=2.0, delta=0.3, eta=0.2), want, rtol=1e-12, atol=1e-15)
    assert gap_h(1, beta=2.0, delta=0.3, eta=0.2) == 0.0  # one local step: no divergence
    np.testing.assert_array_equal(gap_h(t, beta=0.0, delta=0.3, eta=0.2), 0.0)
    np.testing.assert_array_equal(gap_h(t, beta=2.0, delta=0.0, eta=0.2), 0.0)


@pytest.mark.parametrize("seed", range(8))
def test_optimal_tau_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 4))
    c = rng.uniform(0.1, 2.0, m)
    b = rng.uniform(0.5, 50.0, m)
    r = (c + b) * rng.uniform(20.0, 400.0, m)
    const = dict(
        beta=rng.uniform(0.1, 4.0),
        delta=rng.uniform(0.01, 2.0),
        rho=rng.uniform(0.1, 3.0),
        phi=rng.uniform(0.001, 0.1),
    )
    const["eta"] = rng.uniform(0.01, 1.0) / const["beta"]
    tau_max = int(rng.integers(5, 120))
    best = min(
        range(1, tau_max + 1),
        key=lambda t: _g_by_hand(t, **const, budget=r, local_cost=c, global_cost=b),
    )
    got = optimal_tau(**const, budget=r, local_cost=c, global_cost=b, tau_max=tau_max)
    assert isinstance(got, int)
    assert got == best


def test_optimal_tau_grows_with_aggregation_cost():
    kw = dict(beta=1.0, delta=0.1, rho=1.0, eta=0.1, phi=0.05, budget=1000.0, local_cost=1.0)
    taus = [optimal_tau(global_cost=g, **kw) for g in (1.0, 10.0, 50.0)]
    assert taus[0] < taus[1] < taus[2]


def test_multi_resource_uses_tightest():
    tau = np.arange(1, 101)
    kw_a = dict(budget=100.0, local_cost=0.5, global_cost=30.0)  # binds for small τ
    kw_b = dict(budget=80.0, local_cost=1.0, global_cost=2.0)  # binds for τ > 70
    ta = total_local_steps(tau, **kw_a)
    tb = total_local_steps(tau, **kw_b)
    both = total_local_steps(
        tau, budget=[100.0, 80.0], local_cost=[0.5, 1.0], global_cost=[30.0, 2.0]
    )
    np.testing.assert_array_equal(both, np.minimum(ta, tb))
    assert np.any(ta < tb) and np.any(tb < ta)  # each resource binds somewhere
    # And the bound with both resources is the bound with the binding one, τ by τ.
    g_both = convergence_bound(
        tau, **CONST, budget=[100.0, 80.0], local_cost=[0.5, 1.0], global_cost=[30.0, 2.0]
    )
    g_a = convergence_bound(tau, **CONST, **kw_a)
    g_b = convergence_bound(tau, **CONST, **kw_b)
    np.testing.assert_allclose(g_both, np.where(ta < tb, g_a, g_b), rtol=1e-12)


def test_budget_constraint_holds_at_t():
    # (T + 1) c + (T/τ + 1) b = R for the binding resource
    tau = np.arange(1, 10)
    t = total_local_steps(tau, budget=50.0, local_cost=2.0, global_cost=3.0)
    np.testing.assert_allclose((t + 1) * 2.0 + (t / tau + 1) * 3.0, 50.0, rtol=1e-12)


BASE = dict(
    beta=1.0, delta=0.1, rho=1.0, eta=0.1, phi=0.05, budget=100.0, local_cost=1.0, global_cost=5.0
)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"eta": 0.0}, "eta"),
        ({"eta": -0.1}, "eta"),
        ({"eta": 0.6, "beta": 2.0}, "eta"),  # ηβ > 1
        ({"budget": 0.0}, "budget"),
        ({"budget": -5.0}, "budget"),
        ({"local_cost": 0.0}, "local_cost"),
        ({"global_cost": -1.0}, "global_cost"),
        ({"budget": 6.0}, "budget"),  # R = c + b: not even one aggregation
        ({"budget": [100.0, 5.5], "local_cost": [1.0, 0.5]}, "budget"),
        ({"phi": 0.0}, "phi"),
        ({"rho": -1.0}, "rho"),
        ({"delta": float("nan")}, "delta"),
    ],
)
def test_bad_input(change, name):
    with pytest.raises(InvalidInputError, match=name):
        convergence_bound(3, **{**BASE, **change})
    with pytest.raises(InvalidInputError, match=name):
        optimal_tau(**{**BASE, **change})


@pytest.mark.parametrize("tau", [0, -1, [1, 0], 2.5])
def test_bad_tau(tau):
    with pytest.raises(InvalidInputError, match="tau"):
        convergence_bound(tau, **BASE)


def test_bad_tau_max():
    with pytest.raises(InvalidInputError, match="tau_max"):
        optimal_tau(**BASE, tau_max=0)


def test_budget_message_is_clear():
    with pytest.raises(InvalidInputError, match="at least one local update and one global"):
        optimal_tau(**{**BASE, "budget": 5.0})
