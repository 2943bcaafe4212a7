"""Coded distributed gradient descent: exact codes give the iterates of uncoded descent."""

from __future__ import annotations

import numpy as np
import pytest

from edgeopt.coding import delay_model
from edgeopt.errors import InvalidInputError
from edgeopt.federated import digits_dataset
from edgeopt.federated.coded import coded_gradient_descent

ROUNDS = 15
LR = 0.8


@pytest.fixture(scope="module")
def data():
    return digits_dataset()


@pytest.fixture(scope="module")
def uncoded(data):
    return coded_gradient_descent(
        data, scheme="uncoded", num_workers=12, rounds=ROUNDS, lr=LR, rng=0
    )


def _sets(kind: str, n: int, s: int, rng: np.random.Generator) -> list[np.ndarray]:
    if kind == "random":
        return [rng.choice(n, s, replace=False) for _ in range(ROUNDS)]
    # consecutive workers, a different run every round
    return [(r + np.arange(s)) % n for r in range(ROUNDS)]


@pytest.mark.parametrize("kind", ["random", "consecutive", "slowest"])
@pytest.mark.parametrize(
    ("scheme", "s"),
    [("fractional", 2), ("fractional", 3), ("cyclic", 1), ("cyclic", 2), ("cyclic", 4)],
)
def test_exact_codes_reproduce_uncoded_iterates(data, uncoded, scheme, s, kind) -> None:
    n = 12
    rng = np.random.default_rng(s)
    sets = None if kind == "slowest" else _sets(kind, n, s, rng)
    run = coded_gradient_descent(
        data,
        scheme=scheme,
        num_workers=n,
        num_stragglers=s,
        rounds=ROUNDS,
        lr=LR,
        straggler_sets=sets,
        rng=7,
    )
    assert all(len(S) == s for S in run.stragglers)
    scale = np.abs(uncoded.params).max()
    assert np.abs(run.params - uncoded.params).max() <= 1e-10 * scale
    assert np.allclose(run.loss, uncoded.loss, rtol=1e-10, atol=0)


def test_inexact_schemes_differ(data, uncoded) -> None:
    n, s = 12, 4
    for scheme, extra in (("ignore", {}), ("approximate", {"replication": 2}), ("backup", {})):
        run = coded_gradient_descent(
            data,
            scheme=scheme,
            num_workers=n,
            num_stragglers=s,
            rounds=ROUNDS,
            lr=LR,
            rng=3,
            **extra,
        )
        # same starting point, then the gradients are no longer the full one
        assert run.params[0].tolist() == uncoded.params[0].tolist()
        assert np.abs(run.params[-1] - uncoded.params[-1]).max() > 1e-4
        assert run.loss[-1] < run.loss[0]  # still a descent method on this problem


def test_training_decreases_loss_and_clock_advances(uncoded) -> None:
    assert np.all(np.diff(uncoded.loss) < 0)
    assert np.all(np.diff(uncoded.time_s) > 0)
    assert uncoded.test_accuracy > 0.8


def test_clock_is_the_waited_for_workers_delay(data) -> None:
    model = delay_model("shifted_exponential", shift_s=2.0, rate_per_s=1e12)  # deterministic
    run = coded_gradient_descent(
        data,
        scheme="cyclic",
        num_workers=10,
        num_stragglers=1,
        rounds=3,
        lr=LR,
        delays=model,
        rng=0,
    )
    # every worker takes (s + 1)/n * a = 0.4 s
    assert np.allclose(np.diff(run.time_s), 0.4)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"scheme": "mds"}, "scheme"),
        ({"scheme": "cyclic", "num_stragglers": 12}, "num_stragglers"),
        ({"scheme": "fractional", "num_stragglers": 4}, "fractional"),
        ({"scheme": "cyclic", "num_stragglers": 1, "straggler_sets": [[0]]}, "straggler_sets"),
        ({"scheme": "cyclic", "num_stragglers": 2, "straggler_sets": [[0]] * 2}, "straggler_sets"),
        ({"scheme": "cyclic", "lr": -1.0}, "lr"),
        ({"scheme": "cyclic", "rounds": 0}, "rounds"),
    ],
)
def test_bad_input(data, kwargs, name) -> None:
    args = {"num_workers": 12, "rounds": 2, "lr": LR, **kwargs}
    with pytest.raises(InvalidInputError, match=name):
        coded_gradient_descent(data, **args)
