"""Datasets, partitions and models of edgeopt.federated."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeopt.errors import InvalidInputError
from edgeopt.federated import Dataset, build_model, digits_dataset, partition, synthetic_dataset
from edgeopt.nn.models import init_parameters


def test_digits_split_is_fixed_stratified_and_scaled():
    a, b = digits_dataset(), digits_dataset()
    assert a.num_train + a.x_test.shape[0] == 1797
    assert np.array_equal(a.y_test, b.y_test) and np.array_equal(a.x_train, b.x_train)
    assert a.x_train.min() >= 0.0 and a.x_train.max() <= 1.0
    counts = np.bincount(a.y_test, minlength=10)
    assert counts.min() >= 30 and counts.max() <= 40  # ~20 % of each class (174..183)
    # train and test are disjoint: no test image equals a train image at the same label
    tr = {(r.tobytes(), int(y)) for r, y in zip(a.x_train, a.y_train, strict=True)}
    dup = sum((r.tobytes(), int(y)) in tr for r, y in zip(a.x_test, a.y_test, strict=True))
    assert dup <= 2  # the raw data contains a handful of duplicate images, no more


def test_synthetic_is_seeded_and_labels_follow_true_model():
    a = synthetic_dataset(num_train=4000, num_test=10, input_dim=6, rng=3)
    b = synthetic_dataset(num_train=4000, num_test=10, input_dim=6, rng=3)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_train, b.y_train)
    w = a.true_weights
    p = 1.0 / (1.0 + np.exp(-(a.x_train @ w[:-1] + w[-1])))
    # mean label vs mean probability: binomial standard error, 5 sigma
    se = np.sqrt(np.sum(p * (1 - p))) / p.size
    assert abs(a.y_train.mean() - p.mean()) < 5 * se


def test_dataset_validation():
    x = np.zeros((3, 2), dtype=np.float32)
    with pytest.raises(InvalidInputError, match="y_train"):
        Dataset(x, np.array([0, 1, 5]), x, np.array([0, 1, 1]), num_classes=2)
    with pytest.raises(InvalidInputError, match="x_train"):
        Dataset(x * np.nan, np.array([0, 1, 1]), x, np.array([0, 1, 1]), num_classes=2)
    empty = np.zeros((0, 2), dtype=np.float32)
    no_labels = np.zeros(0, dtype=np.int64)
    with pytest.raises(InvalidInputError, match=r"x_test=array\(shape=\(0, 2\)"):
        Dataset(x, np.array([0, 1, 1]), empty, no_labels, num_classes=2)
    with pytest.raises(InvalidInputError, match=r"x_train=array\(shape=\(0, 2\)"):
        Dataset(empty, no_labels, x, np.array([0, 1, 1]), num_classes=2)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(5, 60),
    k=st.integers(1, 5),
    method=st.sampled_from(["iid", "dirichlet", "label_shards"]),
    seed=st.integers(0, 2**32),
)
def test_partition_is_a_partition(n, k, method, seed):
    labels = np.random.default_rng(seed).integers(0, 4, size=n)
    parts = partition(labels, k, method, rng=seed, alpha=0.3, shards_per_client=1)
    assert len(parts) == k
    assert all(p.size >= 1 for p in parts)
    allidx = np.concatenate(parts)
    assert np.array_equal(np.sort(allidx), np.arange(n))


def test_label_shards_limit_classes_and_dirichlet_skew():
    y = digits_dataset().y_train
    parts = partition(y, 20, "label_shards", rng=0, shards_per_client=2)
    # each shard is a run of the label-sorted data, so it spans at most 2 classes
    assert max(len(np.unique(y[p])) for p in parts) <= 4

    def mean_classes(alpha):
        parts = partition(y, 20, "dirichlet", rng=1, alpha=alpha)
        return np.mean([len(np.unique(y[p])) for p in parts])

    assert mean_classes(0.1) < mean_classes(100.0)
    assert mean_classes(100.0) == 10.0


def test_partition_bad_input():
    with pytest.raises(InvalidInputError, match="partition"):
        partition([0, 1, 2], 2, "by_hand")
    with pytest.raises(InvalidInputError, match="num_clients"):
        partition([0, 1, 2], 4)
    with pytest.raises(InvalidInputError, match="alpha"):
        partition([0, 1, 2], 2, "dirichlet", alpha=0.0)


@pytest.mark.parametrize("name", ["logistic", "mlp", "cnn"])
def test_models_shapes_and_seeded_init(name):
    a, b = build_model(name, 64, 10), build_model(name, 64, 10)
    init_parameters(a, np.random.default_rng(5))
    init_parameters(b, np.random.default_rng(5))
    x = torch.rand(7, 64, generator=torch.Generator().manual_seed(0))
    assert a(x).shape == (7, 10)
    assert torch.equal(a(x), b(x))
    # fan-in of each layer, by hand: inputs of one output unit (in_channels * 3 * 3 for convs)
    fan_in = {
        "logistic": {"linear": 64},
        "mlp": {"fc1": 64, "fc2": 64},
        "cnn": {"conv1": 1 * 9, "conv2": 8 * 9, "fc": 16 * 2 * 2},
    }[name]
    named = dict(a.named_parameters())
    assert set(named) == {f"{layer}.{kind}" for layer in fan_in for kind in ("weight", "bias")}
    for pname, p in named.items():  # uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)]
        bound = 1.0 / np.sqrt(fan_in[pname.split(".")[0]])
        assert p.abs().max() <= bound
        if p.numel() >= 64:  # and spread over it: P(max |p| < 0.8 bound) = 0.8^n < 1e-6
            assert p.abs().max() >= 0.8 * bound


def test_build_model_is_seeded_and_leaves_global_torch_state_alone():
    class Offset(torch.nn.Module):  # a parameter init_parameters does not overwrite
        def __init__(self):
            super().__init__()
            self.shift = torch.nn.Parameter(torch.rand(10))
            self.linear = torch.nn.Linear(10, 2)

        def forward(self, x):
            return self.linear(x + self.shift)

    def params(seed, global_seed):
        with torch.random.fork_rng(devices=[]):  # restores the suite's global state after
            torch.manual_seed(global_seed)
            before = torch.get_rng_state()
            net = build_model(Offset, 10, 2, rng=seed)
            assert torch.equal(torch.get_rng_state(), before)
        return torch.cat([p.detach().reshape(-1) for p in net.parameters()])

    assert torch.equal(params(0, 1), params(0, 2))
    assert not torch.equal(params(0, 1), params(1, 1))
    assert torch.equal(
        build_model("cnn", 64, 3, rng=4).conv1.weight, build_model("cnn", 64, 3, rng=4).conv1.weight
    )


def test_model_bad_input():
    with pytest.raises(InvalidInputError, match="model"):
        build_model("resnet", 64, 10)
    with pytest.raises(InvalidInputError, match="input_dim"):
        build_model("cnn", 10, 2)
    with pytest.raises(InvalidInputError, match="model"):
        build_model(lambda: 3, 4, 2)
    assert isinstance(build_model(lambda: torch.nn.Linear(4, 2), 4, 2), torch.nn.Linear)
