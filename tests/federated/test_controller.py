"""run_fedavg with a τ controller as local_steps: τ per round, budget stop, the estimates
computed by the loop against an independent per-client autograd computation, costs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeopt.errors import InvalidInputError
from edgeopt.federated import DigitalAggregation, IdealAggregation, build_model, run_fedavg
from edgeopt.federated.data import resolve_dataset
from edgeopt.federated.loop import STREAMS
from edgeopt.federated.partition import partition as partition_fn
from edgeopt.frequency import AdaptiveTauController, RoundStats
from edgeopt.system import normalized_system


class Scripted:
    """Returns the given τ's in order and records every RoundStats it is handed."""

    def __init__(
        self, taus, initial_tau=1, needs_estimates=False, eta=None, samples=None, estimation=None
    ):
        self.script = list(taus)
        self.initial_tau = initial_tau
        self.needs_estimates = needs_estimates
        self.estimation_samples = samples
        if estimation is not None:
            self.estimation = estimation
        if eta is not None:
            self.eta = eta
        self.reset()

    def reset(self):
        self.seen = []
        self.left = list(self.script)

    def next_tau(self, stats):
        self.seen.append(stats)
        return self.left.pop(0)


RUN = dict(data="synthetic", model="logistic", lr=0.5, batch_size=16, rng=3)


def test_constant_controller_gives_the_int_run_bit_for_bit():
    system = normalized_system(4, power_w=0.1, noise_w=1e-3, bandwidth_hz=1e6)
    agg = DigitalAggregation("fdma")
    ref = run_fedavg(**RUN, system=system, rounds=4, local_steps=2, aggregation=agg)
    ctl = Scripted([2, 2, 2, 2], initial_tau=2)
    hist = run_fedavg(**RUN, system=system, rounds=4, local_steps=ctl, aggregation=agg)
    for name in (
        "test_accuracy",
        "train_loss",
        "round_latency_s",
        "round_energy_j",
        "final_parameters",
        "uplink_bits",
    ):
        assert np.array_equal(getattr(hist, name), getattr(ref, name)), name
    assert ref.local_steps.tolist() == [2, 2, 2, 2] == hist.local_steps.tolist()
    assert np.array_equal(ref.estimation_latency_s, np.zeros(4))
    assert [s.round for s in ctl.seen] == [1, 2, 3, 4]
    assert all(s.estimates is None for s in ctl.seen)
    assert ref.info["controller"] is None and hist.info["controller"] == "Scripted"


def test_taus_per_round_and_stop():
    system = normalized_system(3, cycles_per_sample=1e6, cpu_freq_hz=[1e9, 2e9, 5e8])
    ctl = Scripted([3, 5, 0])
    hist = run_fedavg(
        **RUN, system=system, rounds=20, local_steps=ctl, aggregation=IdealAggregation()
    )
    assert hist.rounds == 3
    assert hist.local_steps.tolist() == [1, 3, 5]
    assert hist.sampled.shape == (3, 3) and hist.test_accuracy.shape == (3,)
    # Ideal uplink: a round lasts τ steps of the slowest device, 16 samples at 1e6 cycles
    # each at 0.5 GHz = 32 ms a step.
    np.testing.assert_allclose(hist.round_latency_s, [0.032, 0.096, 0.160], rtol=1e-12)
    step_j = 1e-28 * 1e6 * 16 * (1e18 + 4e18 + 0.25e18)
    for stats, tau in zip(ctl.seen, [1, 3, 5], strict=True):
        assert stats.tau == tau
        assert stats.step_time_s == pytest.approx(0.032, rel=1e-12)
        assert stats.step_energy_j == pytest.approx(step_j, rel=1e-12)
        assert stats.aggregation_time_s == pytest.approx(0.0, abs=1e-15)
    assert ctl.seen[-1].spent_time_s == pytest.approx(hist.cumulative_latency_s[-1])
    assert ctl.seen[-1].spent_energy_j == pytest.approx(hist.cumulative_energy_j[-1])


def test_uplink_cost_is_the_aggregation_cost():
    system = normalized_system(4, power_w=0.1, noise_w=1e-3, bandwidth_hz=1e5)
    ctl = Scripted([2, 0])
    hist = run_fedavg(
        **RUN, system=system, rounds=5, local_steps=ctl, aggregation=DigitalAggregation("tdma")
    )
    comp = hist.info["system"].compute_time_s(np.full(4, 16.0))  # one step, 16 samples
    for r, stats in enumerate(ctl.seen):
        want = hist.round_latency_s[r] - stats.tau * comp.max()
        assert stats.aggregation_time_s == pytest.approx(want, rel=1e-12)
        assert stats.aggregation_time_s > 0


def _hand_estimates(seed, k, lr):
    """One round of full-batch GD on digits by per-client autograd, and β̂, ρ̂, δ̂ by hand."""
    streams = dict(zip(STREAMS, np.random.default_rng(seed).spawn(len(STREAMS)), strict=True))
    ds = resolve_dataset("digits", streams["data"])
    parts = partition_fn(
        ds.y_train, k, "iid", rng=streams["partition"], alpha=0.5, shards_per_client=2
    )
    return ds, parts


@pytest.mark.parametrize("samples", [None, 7])
def test_loop_estimates_match_per_client_autograd(samples):
    k, lr, seed = 3, 0.5, 11
    ctl = Scripted([0], needs_estimates=True, samples=samples)
    hist = run_fedavg(
        data="digits",
        model="logistic",
        num_clients=k,
        rounds=4,
        local_steps=ctl,
        lr=lr,
        batch_size=None,
        aggregation=IdealAggregation(),
        rng=seed,
    )
    assert hist.rounds == 1
    est = ctl.seen[0].estimates
    ds, parts = _hand_estimates(seed, k, lr)
    net = build_model("logistic", ds.input_dim, ds.num_classes)
    names = [n for n, _ in net.named_parameters()]

    def load(flat):
        start = 0
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.as_tensor(flat[start : start + p.numel()]).reshape(p.shape))
                start += p.numel()

    def loss_grad(flat, i, rows=None):
        load(flat)
        net.zero_grad()
        idx = parts[i] if rows is None else parts[i][rows]
        x = torch.as_tensor(ds.x_train[idx])
        y = torch.as_tensor(ds.y_train[idx])
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        g = torch.cat([dict(net.named_parameters())[n].grad.reshape(-1) for n in names])
        return float(loss.detach()), g.double().numpy()

    w0 = hist.initial_parameters
    local = [w0 - lr * loss_grad(w0, i)[1] for i in range(k)]  # one full-batch step
    sizes = np.array([len(p) for p in parts], dtype=float)
    w = sum(n * wi for n, wi in zip(sizes, local, strict=True)) / sizes.sum()
    np.testing.assert_allclose(hist.final_parameters, w, rtol=1e-5, atol=1e-6)
    # the estimates' samples: all, or `samples` evenly spaced rows of each device's data
    used = sizes if samples is None else np.minimum(sizes, samples)
    betas, rhos, grads_w = [], [], []
    for i in range(k):
        n_i, d_i = int(used[i]), len(parts[i])
        rows = None if samples is None else np.arange(n_i) * d_i // n_i
        fl, gl = loss_grad(local[i], i, rows)
        fw, gw = loss_grad(hist.final_parameters, i, rows)
        dist = np.linalg.norm(local[i] - hist.final_parameters)
        betas.append(np.linalg.norm(gl - gw) / dist)
        rhos.append(abs(fl - fw) / dist)
        grads_w.append(gw)
    wts = sizes / sizes.sum()
    gbar = sum(a * g for a, g in zip(wts, grads_w, strict=True))
    delta = sum(a * np.linalg.norm(g - gbar) for a, g in zip(wts, grads_w, strict=True))
    # float32 models: differences of gradients and losses carry ~1e-4 relative error
    assert est.num_devices == k
    assert est.beta == pytest.approx(float(wts @ betas), rel=2e-3)
    assert est.rho == pytest.approx(float(wts @ rhos), rel=2e-3)
    assert est.delta == pytest.approx(float(delta), rel=2e-3)
    # the estimation pass is charged: two passes over its samples at 6d cycles, 1 GHz
    cycles = 6.0 * hist.info["dim"]
    want_s = np.max(2 * used * cycles / 1e9)
    want_j = np.sum(1e-28 * cycles * 2 * used * 1e18)
    assert hist.estimation_latency_s[0] == pytest.approx(want_s, rel=1e-12)
    assert hist.estimation_energy_j[0] == pytest.approx(want_j, rel=1e-12)
    train_s = np.max(sizes * cycles / 1e9)  # τ = 1 full-batch step
    assert hist.round_latency_s[0] == pytest.approx(train_s + want_s, rel=1e-12)


@pytest.mark.parametrize("batched", [True, False])
def test_step_estimates_equal_a_recomputation_at_the_same_points(batched):
    """estimation="steps": the first and last local steps' values give the same estimates
    as F_i, ∇F_i recomputed by per-client autograd at the same points (full-batch GD, so a
    step's mini-batch is the device's whole data), one aggregation late, at no charge."""
    k, lr, seed = 3, 0.5, 11
    ctl = Scripted([2, 1, 0], initial_tau=3, needs_estimates=True, estimation="steps")
    hist = run_fedavg(
        data="digits",
        model="logistic",
        num_clients=k,
        rounds=5,
        local_steps=ctl,
        lr=lr,
        batch_size=None,
        aggregation=IdealAggregation(),
        rng=seed,
        batched=batched,
    )
    assert hist.local_steps.tolist() == [3, 2, 1]
    assert ctl.seen[0].estimates is None  # nothing to pair with after the first round
    assert np.array_equal(hist.estimation_latency_s, np.zeros(3))
    assert np.array_equal(hist.estimation_energy_j, np.zeros(3))
    ds, parts = _hand_estimates(seed, k, lr)
    net = build_model("logistic", ds.input_dim, ds.num_classes)
    names = [n for n, _ in net.named_parameters()]

    def loss_grad(flat, i):
        start = 0
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.as_tensor(flat[start : start + p.numel()]).reshape(p.shape))
                start += p.numel()
        net.zero_grad()
        x, y = torch.as_tensor(ds.x_train[parts[i]]), torch.as_tensor(ds.y_train[parts[i]])
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        g = torch.cat([dict(net.named_parameters())[n].grad.reshape(-1) for n in names])
        return float(loss.detach()), g.double().numpy()

    sizes = np.array([len(p) for p in parts], dtype=float)
    wts = sizes / sizes.sum()

    def round_of(w, tau):
        """Per device: the point of its last step, and the aggregated model."""
        points, ends = [], []
        for i in range(k):
            wi = w.copy()
            for _ in range(tau - 1):
                wi = wi - lr * loss_grad(wi, i)[1]
            points.append(wi)
            ends.append(wi - lr * loss_grad(wi, i)[1])
        return points, sum(a * e for a, e in zip(wts, ends, strict=True))

    def by_hand(points, w):
        fl, gl = zip(*(loss_grad(points[i], i) for i in range(k)), strict=True)
        fw, gw = zip(*(loss_grad(w, i) for i in range(k)), strict=True)
        dist = np.array([np.linalg.norm(points[i] - w) for i in range(k)])
        beta = wts @ (np.linalg.norm(np.array(gl) - np.array(gw), axis=1) / dist)
        rho = wts @ (np.abs(np.array(fl) - np.array(fw)) / dist)
        gbar = wts @ np.array(gw)
        delta = wts @ np.linalg.norm(np.array(gw) - gbar, axis=1)
        return float(beta), float(rho), float(delta)

    w, prev_points = hist.initial_parameters, None
    for r, tau in enumerate([3, 2, 1]):
        points, w_next = round_of(w, tau)
        if prev_points is not None:  # after round r: round r-1's last steps against w
            est = ctl.seen[r].estimates
            want = by_hand(prev_points, w)
            assert est.num_devices == k
            # float32 models: differences of gradients and losses carry ~1e-4 relative error
            assert est.beta == pytest.approx(want[0], rel=2e-3)
            assert est.rho == pytest.approx(want[1], rel=2e-3)
            assert est.delta == pytest.approx(want[2], rel=2e-3)
        prev_points, w = points, w_next
    # the last step applied by the loop with the kept gradient: the same τ-step models
    np.testing.assert_allclose(hist.final_parameters, w, rtol=1e-4, atol=1e-5)


def test_step_estimates_skip_a_device_left_out_of_an_aggregation():
    system = normalized_system(4, power_w=0.1, noise_w=1e-3, bandwidth_hz=1e6)
    masks = [np.array([True, True, True, False]), np.array([False, True, True, True])]
    ctl = Scripted([2, 0], initial_tau=2, needs_estimates=True, estimation="steps")
    run_fedavg(
        **RUN,
        system=system,
        rounds=3,
        local_steps=ctl,
        aggregation=DigitalAggregation("fdma"),
        participation=lambda r, channels, rng: masks[r],
    )
    assert ctl.seen[0].estimates is None
    assert ctl.seen[1].estimates.num_devices == 2  # aggregated in both rounds


def test_unknown_estimation_mode():
    ctl = Scripted([1], needs_estimates=True, estimation="both")
    with pytest.raises(InvalidInputError, match="estimation"):
        run_fedavg(**RUN, num_clients=2, rounds=1, local_steps=ctl, aggregation=IdealAggregation())


def test_adaptive_controller_spends_the_budget_and_stops():
    system = normalized_system(
        5, power_w=0.1, noise_w=1e-3, bandwidth_hz=2e5, cycles_per_sample=2e6
    )
    budget = 20.0
    ctl = AdaptiveTauController(budget=budget, phi=0.05, eta=0.2, tau_max=30, estimation="pass")
    hist = run_fedavg(
        data="synthetic",
        model="logistic",
        system=system,
        rounds=500,
        local_steps=ctl,
        lr=0.2,
        batch_size=16,
        rng=0,
        aggregation=DigitalAggregation("fdma"),
    )
    assert 1 < hist.rounds < 500
    assert hist.cumulative_latency_s[-1] <= budget * (1 + 1e-9)
    taus = hist.local_steps
    assert taus[0] == 1 and np.all((taus >= 1) & (taus <= 30))
    assert np.all(taus[1:] <= 10 * taus[:-1])
    assert ctl.taus[-1] == 0 and ctl.taus[:-1] == taus[1:].tolist()
    assert np.all(hist.estimation_latency_s > 0)
    # what is left cannot pay one more step and an aggregation at the average costs
    assert hist.cumulative_latency_s[-1] > budget - 2 * hist.round_latency_s.max()
    # The controller is reset by the loop: a second run gives the same History.
    again = run_fedavg(
        data="synthetic",
        model="logistic",
        system=system,
        rounds=500,
        local_steps=ctl,
        lr=0.2,
        batch_size=16,
        rng=0,
        aggregation=DigitalAggregation("fdma"),
    )
    assert np.array_equal(again.local_steps, hist.local_steps)
    assert np.array_equal(again.final_parameters, hist.final_parameters)


@pytest.mark.parametrize("value", [0, -2, "3", 2.0, True, None])
def test_bad_local_steps(value):
    with pytest.raises(InvalidInputError, match="local_steps"):
        run_fedavg(
            **RUN, num_clients=2, rounds=2, local_steps=value, aggregation=IdealAggregation()
        )


def test_controller_eta_must_equal_lr():
    ctl = AdaptiveTauController(budget=10.0, phi=0.05, eta=0.1)
    with pytest.raises(InvalidInputError, match="eta"):
        run_fedavg(**RUN, num_clients=2, rounds=2, local_steps=ctl, aggregation=IdealAggregation())


@pytest.mark.parametrize("bad", [-1, 2.5, "4"])
def test_bad_next_tau(bad):
    with pytest.raises(InvalidInputError, match="next_tau"):
        run_fedavg(
            **RUN,
            num_clients=2,
            rounds=3,
            local_steps=Scripted([bad]),
            aggregation=IdealAggregation(),
        )


def test_stats_type():
    ctl = Scripted([0])
    run_fedavg(**RUN, num_clients=2, rounds=3, local_steps=ctl, aggregation=IdealAggregation())
    assert isinstance(ctl.seen[0], RoundStats)
