"""The estimators on isotropic quadratic losses, and the adaptive τ controller's rules."""

from __future__ import annotations

import numpy as np
import pytest

from edgeopt.errors import InvalidInputError
from edgeopt.frequency import (
    AdaptiveTauController,
    Estimates,
    RoundStats,
    estimate_constants,
    optimal_tau,
)


def _quadratic(seed, k=5, d=4, beta=1.7):
    """F_i(w) = (β/2)‖w − c_i‖², local models w_i and a global model w."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(k, d))
    sizes = rng.integers(1, 50, size=k).astype(float)
    w = rng.normal(size=d)
    wl = w + rng.normal(scale=0.3, size=(k, d))

    def loss(x):
        return 0.5 * beta * np.sum((x - c) ** 2, axis=-1)

    def grad(x):
        return beta * (x - c)

    return c, sizes, w, wl, loss, grad, beta


@pytest.mark.parametrize("seed", range(5))
def test_estimates_on_isotropic_quadratics(seed):
    c, sizes, w, wl, loss, grad, beta = _quadratic(seed)
    est = estimate_constants(
        local_params=wl,
        global_params=w,
        local_loss=loss(wl),
        global_loss=loss(np.broadcast_to(w, wl.shape)),
        local_grad=grad(wl),
        global_grad=grad(np.broadcast_to(w, wl.shape)),
        data_sizes=sizes,
    )
    assert est.num_devices == len(sizes)
    # β̂ = β exactly: ∇F_i(w_i) − ∇F_i(w) = β(w_i − w).
    assert est.beta == pytest.approx(beta, rel=1e-14)
    # δ̂ = Σ_i D_i β‖c_i − c̄‖ / D with c̄ the data-weighted mean of the centres.
    cbar = sizes @ c / sizes.sum()
    want_delta = sizes @ (beta * np.linalg.norm(c - cbar, axis=1)) / sizes.sum()
    assert est.delta == pytest.approx(want_delta, rel=1e-12)
    # ρ̂: the data-weighted mean of the secants |F_i(w_i) − F_i(w)| / ‖w_i − w‖, by hand.
    secants = []
    for i in range(len(sizes)):
        f1 = 0.5 * beta * sum((wl[i, j] - c[i, j]) ** 2 for j in range(c.shape[1]))
        f2 = 0.5 * beta * sum((w[j] - c[i, j]) ** 2 for j in range(c.shape[1]))
        secants.append(
            abs(f1 - f2) / np.sqrt(sum((wl[i, j] - w[j]) ** 2 for j in range(c.shape[1])))
        )
    assert est.rho == pytest.approx(float(sizes @ np.array(secants) / sizes.sum()), rel=1e-12)


def test_devices_that_did_not_move_are_left_out_of_beta_and_rho():
    c, sizes, w, wl, loss, grad, beta = _quadratic(0)
    wl = wl.copy()
    wl[1] = w  # device 1 did not move
    gw = grad(np.broadcast_to(w, wl.shape))
    est = estimate_constants(
        local_params=wl,
        global_params=w,
        local_loss=loss(wl),
        global_loss=loss(np.broadcast_to(w, wl.shape)),
        local_grad=grad(wl),
        global_grad=gw,
        data_sizes=sizes,
    )
    assert est.num_devices == len(sizes) - 1
    assert est.beta == pytest.approx(beta, rel=1e-14)
    none = estimate_constants(
        local_params=np.broadcast_to(w, wl.shape),
        global_params=w,
        local_loss=loss(np.broadcast_to(w, wl.shape)),
        global_loss=loss(np.broadcast_to(w, wl.shape)),
        local_grad=gw,
        global_grad=gw,
        data_sizes=sizes,
    )
    assert (none.beta, none.rho, none.num_devices) == (0.0, 0.0, 0)
    assert none.delta == pytest.approx(est.delta)


_EST = Estimates(1.0, 1.0, 0.5, 4)


def _stats(r, tau, spent, est=_EST, step=0.1, agg=2.0):
    return RoundStats(
        round=r,
        tau=tau,
        step_time_s=step,
        step_energy_j=0.01,
        aggregation_time_s=agg,
        aggregation_energy_j=0.05,
        spent_time_s=spent,
        spent_energy_j=0.0,
        estimates=est,
    )


def test_next_tau_is_the_bound_minimizer_within_ten_times_tau():
    ctl = AdaptiveTauController(budget=1000.0, phi=0.05, eta=0.1, tau_max=100)
    kw = dict(beta=1.0, delta=0.5, rho=1.0, eta=0.1, phi=0.05, budget=1000.0)
    tau = ctl.next_tau(_stats(1, 1, 2.1))
    assert tau == optimal_tau(**kw, local_cost=0.1, global_cost=2.0, tau_max=10)
    unrestricted = optimal_tau(**kw, local_cost=0.1, global_cost=2.0, tau_max=100)
    assert tau <= 10 < unrestricted or tau == unrestricted  # capped at 10 × τ
    tau2 = ctl.next_tau(_stats(2, tau, 2.1 + tau * 0.1 + 2.0))
    assert tau2 == optimal_tau(**kw, local_cost=0.1, global_cost=2.0, tau_max=min(10 * tau, 100))
    assert ctl.taus == [tau, tau2]


def test_costs_are_averaged_over_rounds():
    ctl = AdaptiveTauController(budget=1000.0, phi=0.05, eta=0.1)
    ctl.next_tau(_stats(1, 1, 1.0, agg=1.0))
    got = ctl.next_tau(_stats(2, 2, 5.0, agg=3.0))
    kw = dict(beta=1.0, delta=0.5, rho=1.0, eta=0.1, phi=0.05, budget=1000.0)
    assert got == optimal_tau(
        **kw, local_cost=0.1, global_cost=2.0, tau_max=min(10 * ctl.taus[0], 100)
    )


def test_tau_shrinks_to_the_budget_left_then_stops():
    ctl = AdaptiveTauController(budget=100.0, phi=0.05, eta=0.1)
    # With δ = 0 the bound falls with τ: τ* = 10 (the top of 1 … 10 τ).  But 97.5 s are
    # spent: 2.5 s left, an aggregation costs 2 s, a step 0.1 s: at most 5 steps.
    flat = Estimates(1.0, 1.0, 0.0, 4)
    assert ctl.next_tau(_stats(1, 1, 97.5, est=flat)) == 5
    assert ctl.next_tau(_stats(2, 5, 99.0, est=flat)) == 0  # not even one step fits


def test_without_estimates_tau_is_kept():
    ctl = AdaptiveTauController(budget=1000.0, phi=0.05, eta=0.1, initial_tau=3)
    assert ctl.next_tau(_stats(1, 3, 10.0, est=None)) == 3


def test_energy_budget_binds():
    ctl = AdaptiveTauController(budget={"time_s": 1e3, "energy_j": 1.0}, phi=0.05, eta=0.1)
    stats = RoundStats(
        round=1,
        tau=1,
        step_time_s=0.1,
        step_energy_j=0.01,
        aggregation_time_s=2.0,
        aggregation_energy_j=0.05,
        spent_time_s=2.1,
        spent_energy_j=0.9,
        estimates=Estimates(1.0, 1.0, 0.0, 4),  # δ = 0: τ* is the top of the range, 10
    )
    assert ctl.next_tau(stats) == 5  # (1 − 0.9 − 0.05) / 0.01 = 5 steps of energy left


def test_beta_above_one_over_eta_is_clipped():
    ctl = AdaptiveTauController(budget=1000.0, phi=0.05, eta=0.1)
    tau = ctl.next_tau(_stats(1, 1, 2.1, est=Estimates(50.0, 1.0, 0.5, 4)))
    kw = dict(delta=0.5, rho=1.0, eta=0.1, phi=0.05, budget=1000.0, local_cost=0.1)
    assert tau == optimal_tau(beta=10.0, global_cost=2.0, tau_max=10, **kw)


def test_reset_forgets_the_run():
    ctl = AdaptiveTauController(budget=1000.0, phi=0.05, eta=0.1)
    ctl.next_tau(_stats(1, 1, 2.1))
    ctl.reset()
    assert ctl.taus == []
    assert ctl.next_tau(_stats(1, 1, 2.1, agg=20.0)) == optimal_tau(
        beta=1.0,
        delta=0.5,
        rho=1.0,
        eta=0.1,
        phi=0.05,
        budget=1000.0,
        local_cost=0.1,
        global_cost=20.0,
        tau_max=10,
    )


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"budget": 0.0}, "budget"),
        ({"budget": {"time_s": -1.0}}, "budget"),
        ({"budget": {"money": 1.0}}, "money"),
        ({"budget": {}}, "budget"),
        ({"phi": 0.0}, "phi"),
        ({"eta": 0.0}, "eta"),
        ({"tau_max": 0}, "tau_max"),
        ({"initial_tau": 0}, "initial_tau"),
        ({"initial_tau": 200}, "initial_tau"),
        ({"estimation_samples": 0}, "estimation_samples"),
        ({"estimation_samples": 4.0}, "estimation_samples"),
    ],
)
def test_bad_controller_input(kw, name):
    with pytest.raises(InvalidInputError, match=name):
        AdaptiveTauController(**{"budget": 10.0, "phi": 0.05, "eta": 0.1, **kw})


def test_estimation_samples_default_is_the_whole_data():
    assert AdaptiveTauController(budget=10.0, phi=0.05, eta=0.1).estimation_samples is None
    ctl = AdaptiveTauController(budget=10.0, phi=0.05, eta=0.1, estimation_samples=8)
    assert ctl.estimation_samples == 8


def test_budget_spent_by_the_first_round_stops():
    ctl = AdaptiveTauController(budget=2.0, phi=0.05, eta=0.1)
    assert ctl.next_tau(_stats(1, 1, 2.1)) == 0
    assert ctl.taus == [0]


def test_stats_must_be_round_stats():
    ctl = AdaptiveTauController(budget=2.0, phi=0.05, eta=0.1)
    with pytest.raises(InvalidInputError, match="stats"):
        ctl.next_tau({"round": 1})
