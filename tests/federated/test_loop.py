"""run_fedavg: exactness checks, batched = sequential, learning, costs, bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from edgeopt.errors import InvalidInputError
from edgeopt.federated import (
    QSGD,
    AirCompAggregation,
    DigitalAggregation,
    IdealAggregation,
    build_model,
    digits_dataset,
    run_fedavg,
    synthetic_dataset,
)
from edgeopt.system import normalized_system


def _load(model, flat):
    start = 0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.as_tensor(flat[start : start + p.numel()]).reshape(p.shape))
            start += p.numel()


def test_one_client_one_full_batch_step_is_gradient_descent():
    ds = digits_dataset()
    lr = 0.3
    hist = run_fedavg(
        data=ds,
        model="mlp",
        num_clients=1,
        rounds=1,
        local_steps=1,
        lr=lr,
        batch_size=None,
        aggregation=IdealAggregation(),
        rng=7,
    )
    net = build_model("mlp", 64, 10)
    _load(net, hist.initial_parameters)
    loss = torch.nn.functional.cross_entropy(
        net(torch.as_tensor(ds.x_train)), torch.as_tensor(ds.y_train)
    )
    loss.backward()
    grad = torch.cat([p.grad.reshape(-1) for p in net.parameters()]).double().numpy()
    expect = hist.initial_parameters - lr * grad
    assert np.allclose(hist.final_parameters, expect, atol=1e-6)
    assert not np.allclose(hist.final_parameters, hist.initial_parameters, atol=1e-4)


@pytest.mark.parametrize(
    ("model", "partition"), [("mlp", "dirichlet"), ("cnn", "label_shards"), ("logistic", "iid")]
)
def test_batched_equals_sequential(model, partition):
    kwargs = dict(
        data="digits",
        model=model,
        num_clients=12,
        partition=partition,
        rounds=2,
        local_steps=3,
        lr=0.2,
        batch_size=16,
        aggregation=IdealAggregation(),
        rng=3,
        alpha=0.3,
    )
    a = run_fedavg(**kwargs)
    b = run_fedavg(**kwargs, batched=False)
    assert np.array_equal(a.initial_parameters, b.initial_parameters)
    assert np.allclose(a.final_parameters, b.final_parameters, atol=2e-5)
    assert np.allclose(a.train_loss, b.train_loss, atol=1e-5)
    assert len(set(a.info["data_sizes"].tolist())) > 1  # unequal clients really stacked


def test_digits_iid_reaches_90_percent_in_30_rounds():
    hist = run_fedavg(
        data="digits",
        model="mlp",
        num_clients=10,
        partition="iid",
        rounds=30,
        local_steps=5,
        lr=0.5,
        batch_size=32,
        aggregation=IdealAggregation(),
        rng=0,
    )
    assert hist.test_accuracy.max() >= 0.90
    assert hist.test_accuracy[-1] >= 0.90
    assert hist.train_loss[-1] < hist.train_loss[0]


def test_synthetic_approaches_bayes_accuracy():
    ds = synthetic_dataset(num_train=3000, num_test=3000, input_dim=10, rng=1)
    hist = run_fedavg(
        data=ds,
        model="logistic",
        num_clients=5,
        rounds=30,
        local_steps=5,
        lr=0.5,
        batch_size=64,
        aggregation=IdealAggregation(),
        rng=2,
    )
    w = ds.true_weights
    bayes = np.mean((ds.x_test @ w[:-1] + w[-1] > 0) == (ds.y_test == 1))
    # accuracy of an estimate vs the Bayes rule on 3000 test points: binomial SE ~ 0.009
    assert hist.test_accuracy[-1] >= bayes - 0.03


def test_same_seed_same_history_and_costs_accumulate():
    agg = DigitalAggregation("fdma", compressor=QSGD(4))
    kwargs = dict(
        data="synthetic",
        model="logistic",
        system=normalized_system(6, power_w=0.1, noise_w=1e-3, bandwidth_hz=1e6),
        rounds=4,
        local_steps=2,
        lr=0.1,
        batch_size=16,
        aggregation=agg,
        rng=5,
    )
    a, b = run_fedavg(**kwargs), run_fedavg(**kwargs)
    c = run_fedavg(**{**kwargs, "rng": 6})
    assert np.array_equal(a.final_parameters, b.final_parameters)
    assert np.array_equal(a.round_latency_s, b.round_latency_s)
    assert not np.array_equal(a.final_parameters, c.final_parameters)
    d = a.info["dim"]
    assert np.allclose(a.uplink_bits, 6 * QSGD(4).payload_bits(d))
    assert np.allclose(a.cumulative_latency_s, np.cumsum(a.round_latency_s))
    assert np.allclose(a.cumulative_energy_j, np.cumsum(a.round_energy_j))
    df = a.to_dataframe()
    assert len(df) == 4 and df["round"].tolist() == [1, 2, 3, 4]
    assert set(df.columns) >= {
        "test_accuracy",
        "train_loss",
        "selected_count",
        "round_latency_s",
        "cumulative_latency_s",
        "cumulative_energy_j",
    }


def test_aircomp_in_the_loop_costs():
    band = 1e6
    agg = AirCompAggregation(mse_target=1.0, method="fast")
    system = normalized_system(
        8,
        num_antennas=3,
        power_w=1.0,
        noise_w=0.5,
        bandwidth_hz=band,
        cycles_per_sample=1e6,
        cpu_freq_hz=2e9,
        kappa=1e-27,
    )
    hist = run_fedavg(
        data="synthetic",
        model="logistic",
        system=system,
        num_clients=8,
        rounds=3,
        local_steps=2,
        lr=0.2,
        batch_size=10,
        aggregation=agg,
        rng=1,
    )
    d = hist.info["dim"]
    assert np.all(hist.selected_count <= 8) and np.all(hist.selected_count >= 1)
    compute_s = 1e6 * 2 * 10 / 2e9  # equal batches of 10 (every client has 250 samples)
    assert np.allclose(hist.round_latency_s, compute_s + np.ceil(d / 2) / band)
    compute_j = 1e-27 * (1e6 * 2 * 10) * (2e9) ** 2
    assert np.all(hist.round_energy_j > hist.selected_count * compute_j)
    assert np.all(hist.aggregation_mse <= 1.0 * (1 + 1e-6))


def test_bad_input_raises():
    base = dict(
        data="synthetic",
        model="logistic",
        num_clients=2,
        rounds=1,
        local_steps=1,
        lr=0.1,
        batch_size=4,
        aggregation=IdealAggregation(),
        rng=0,
    )
    for change, name in [
        ({"partition": "sorted"}, "partition"),
        ({"rounds": 0}, "rounds"),
        ({"local_steps": 0}, "local_steps"),
        ({"lr": -1.0}, "lr"),
        ({"data": "mnist"}, "data"),
        ({"model": "vgg"}, "model"),
        ({"aggregation": "ideal"}, "aggregation"),
        ({"num_clients": 10**6}, "num_clients"),
        ({"momentum": 0.9}, "options"),
        ({"device": "tpu"}, "device"),
    ]:
        with pytest.raises(InvalidInputError, match=name):
            run_fedavg(**{**base, **change})
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="device"):
            run_fedavg(**{**base, "device": "cuda"})


def test_light_imports_do_not_pull_torch():
    code = (
        "import sys, edgeopt, edgeopt.aircomp, edgeopt.cost, edgeopt.channel\n"
        "import edgeopt.experiments.fl_aircomp, edgeopt.experiments.fl_latency\n"
        "import edgeopt.experiments.fl_compression, edgeopt.experiments.fl_heterogeneous\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _sequential_factory():
    return torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))


def test_batched_equals_sequential_for_a_user_model_via_vmap():
    kwargs = dict(
        data="digits",
        model=_sequential_factory,
        num_clients=7,
        partition="dirichlet",
        rounds=2,
        local_steps=2,
        lr=0.3,
        batch_size=20,
        aggregation=IdealAggregation(),
        rng=4,
    )
    a = run_fedavg(**kwargs)
    b = run_fedavg(**kwargs, batched=False)
    assert np.allclose(a.final_parameters, b.final_parameters, atol=2e-5)
    assert not np.allclose(a.final_parameters, a.initial_parameters, atol=1e-3)


class _ShiftedLinear(torch.nn.Module):
    """A user model with a parameter outside any Linear/Conv layer (drawn by torch.rand)."""

    def __init__(self):
        super().__init__()
        self.shift = torch.nn.Parameter(torch.rand(10))
        self.linear = torch.nn.Linear(10, 2)

    def forward(self, x):
        return self.linear(x + self.shift)


def test_user_factory_initial_model_depends_on_seed_alone():
    kwargs = dict(
        data="synthetic",
        model=_ShiftedLinear,
        num_clients=2,
        rounds=1,
        local_steps=1,
        lr=0.1,
        batch_size=8,
        aggregation=IdealAggregation(),
    )

    def run(seed, global_seed):
        with torch.random.fork_rng(devices=[]):  # give the suite its global state back
            torch.manual_seed(global_seed)
            hist = run_fedavg(**kwargs, rng=seed)
            after = torch.rand(3)
            torch.manual_seed(global_seed)
            assert torch.equal(after, torch.rand(3))  # global torch stream not advanced
        return hist

    a, b, c = run(0, 1), run(0, 2), run(1, 1)
    assert np.array_equal(a.initial_parameters, b.initial_parameters)
    assert np.array_equal(a.final_parameters, b.final_parameters)
    assert not np.array_equal(a.initial_parameters[:10], c.initial_parameters[:10])  # shift


@pytest.mark.parametrize("name", ["logistic", "mlp", "cnn"])
def test_builtin_batched_forward_matches_vmap_and_sequential(name):
    from edgeopt.federated._batched import (
        batched_logits,
        pad_client_data,
        sample_batches,
        train_batched,
        train_sequential,
    )
    from edgeopt.federated.partition import partition
    from edgeopt.nn.models import init_parameters

    ds = digits_dataset()
    rng = np.random.default_rng(8)
    parts = partition(ds.y_train, 9, "dirichlet", rng=rng, alpha=0.5)
    xs, ys = pad_client_data(torch.as_tensor(ds.x_train), torch.as_tensor(ds.y_train), parts)
    sizes = [len(p) for p in parts]
    index, mask = sample_batches(sizes, 12, 3, rng)
    net = build_model(name, 64, 10)
    init_parameters(net, rng)
    params = {n: p.detach().clone() for n, p in net.named_parameters()}
    stacked = {n: p.unsqueeze(0).expand(9, *p.shape) for n, p in params.items()}
    assert batched_logits(net, stacked, xs[:, :5]) is not None
    fast = train_batched(net, params, xs, ys, index, mask, 0.2, use_vmap=False)
    slow = train_batched(net, params, xs, ys, index, mask, 0.2, use_vmap=True)
    ref = train_sequential(net, params, xs, ys, index, mask, 0.2)
    for n in params:
        assert torch.allclose(fast[n], ref[n], atol=1e-6)
        assert torch.allclose(slow[n], ref[n], atol=1e-6)
    with torch.no_grad():  # the batched forward is each client's own forward pass
        logits = batched_logits(net, stacked, xs[:, :5])
        own = torch.func.functional_call(net, params, (xs[3, :5],))
        assert torch.allclose(logits[3], own, atol=1e-6)


def test_divergence_is_reported_not_propagated():
    with pytest.raises(InvalidInputError, match="diverged"):
        run_fedavg(
            data="digits",
            model="mlp",
            num_clients=2,
            rounds=3,
            local_steps=20,
            lr=1e12,
            batch_size=8,
            aggregation=IdealAggregation(),
            rng=0,
        )


class _Records:
    """Records what the loop hands the aggregation each round (updates, channels, rngs)."""

    def aggregate(self, updates, data_sizes, context):
        seen = self.__dict__.setdefault("seen", [])
        seen.append(
            {
                "updates": updates.clone(),
                "channels": context.channels,
                "noise": context.noise_rng.bit_generator.state,  # read, not advanced
            }
        )
        out = super().aggregate(updates, data_sizes, context)
        self.__dict__.setdefault("applied", []).append(out.update.clone())
        return out


class _Ideal(_Records, IdealAggregation):
    pass


class _Digital(_Records, DigitalAggregation):
    pass


class _AirComp(_Records, AirCompAggregation):
    pass


_CRN_RUN = dict(
    data="digits",
    model="mlp",
    partition="label_shards",
    rounds=4,
    local_steps=3,
    lr=0.3,
    batch_size=16,
)


def test_ideal_and_error_free_digital_give_identical_models_round_after_round():
    ideal, digital = _Ideal(), _Digital("fdma")
    system = normalized_system(8, num_antennas=2, power_w=0.1, noise_w=1e-2)
    a = run_fedavg(**_CRN_RUN, num_clients=8, aggregation=ideal, rng=11)
    b = run_fedavg(**_CRN_RUN, system=system, aggregation=digital, rng=11)
    assert ideal.seen[0]["channels"] is None and digital.seen[0]["channels"].shape == (8, 2)
    for r in range(4):  # the same local updates and the same global step, every round
        assert torch.equal(ideal.seen[r]["updates"], digital.seen[r]["updates"])
        assert torch.equal(ideal.applied[r], digital.applied[r])
    assert np.array_equal(a.final_parameters, b.final_parameters)
    assert np.array_equal(a.test_accuracy, b.test_accuracy)
    assert np.array_equal(a.train_loss, b.train_loss)
    assert np.all(b.round_latency_s > a.round_latency_s)  # only the costs differ


def test_aggregations_see_the_same_batches_channels_and_noise_streams():
    n_ant = 3
    ideal = _Ideal()
    digital = _Digital()
    dc = _AirComp(0.5, method="fast")
    every = _AirComp(0.5, method="all")
    system = normalized_system(8, num_antennas=n_ant, power_w=1.0, noise_w=1.0)
    runs = [
        run_fedavg(**_CRN_RUN, system=system, aggregation=agg, rng=3)
        for agg in (ideal, digital, dc, every)
    ]
    # round 1 starts from the same model on the same mini-batches: the same local updates
    first = ideal.seen[0]["updates"]
    for agg in (digital, dc, every):
        assert torch.equal(agg.seen[0]["updates"], first)
    # every round, the channel-using schemes are handed the same channels and noise streams
    for r in range(4):
        for agg in (dc, every):
            assert np.array_equal(agg.seen[r]["channels"], digital.seen[r]["channels"])
            assert agg.seen[r]["noise"] == digital.seen[r]["noise"]
    assert not np.array_equal(digital.seen[0]["channels"], digital.seen[1]["channels"])
    assert np.array_equal(runs[0].initial_parameters, runs[2].initial_parameters)
    # the AirComp noise really perturbs the model: the runs agree only where they should
    assert not np.array_equal(runs[0].final_parameters, runs[3].final_parameters)
