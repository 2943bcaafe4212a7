"""Load allocation for heterogeneous workers: optimality and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from edgeopt import status
from edgeopt.coding import allocate_loads, delay_model, simulate_completion
from edgeopt.errors import InvalidInputError


def _expected_return(ell, t, a, mu, up=0.0):
    ell = np.asarray(ell)
    ok = ((t - up) >= a * ell) & (ell > 0)
    safe = np.where(ok, ell, 1.0)
    p = np.where(ok, 1.0 - np.exp(-mu * ((t - up) / safe - a)), 0.0)
    return float(np.sum(ell * p))


def _time_for(ell, a, mu, up=0.0) -> float:
    """Smallest t with expected return 1 (the return is increasing in t)."""
    hi = 1.0
    while _expected_return(ell, hi, a, mu, up) < 1.0:
        hi *= 2.0
        if hi > 1e9:
            return np.inf
    return brentq(lambda t: _expected_return(ell, t, a, mu, up) - 1.0, 0.0, hi, xtol=1e-12)


def test_expected_return_is_one_at_the_optimum() -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 5.0, 12)
    mu = rng.uniform(0.2, 2.0, 12)
    up = rng.uniform(0.0, 0.2, 12)
    out = allocate_loads(a, mu, upload_s=up)
    assert out.status == status.OPTIMAL
    assert _expected_return(out.loads, out.objective, a, mu, up) == pytest.approx(1.0, abs=1e-6)


def test_two_workers_against_brute_force() -> None:
    a = np.array([1.0, 3.0])
    mu = np.array([2.0, 0.5])
    out = allocate_loads(a, mu)
    best = np.inf
    for l1 in np.linspace(0.0, 1.6, 321):
        for l2 in np.linspace(0.0, 1.6, 321):
            best = min(best, _time_for([l1, l2], a, mu))
    # the program is continuous, the grid coarse: it must be at least as good, and close
    assert out.objective <= best + 1e-6
    assert out.objective >= best * (1 - 0.02)


def test_homogeneous_workers_get_equal_loads() -> None:
    out = allocate_loads(np.full(6, 2.0), 0.7)
    uni = allocate_loads(np.full(6, 2.0), 0.7, uniform=True)
    assert np.allclose(out.loads, out.loads[0], rtol=1e-5)
    assert out.objective == pytest.approx(uni.objective, rel=1e-5)


def test_monte_carlo_beats_uniform_on_heterogeneous_workers() -> None:
    rng = np.random.default_rng(4)
    n = 20
    a = rng.uniform(0.5, 5.0, n)
    mu = rng.uniform(0.5, 2.0, n) / a
    model = delay_model("shifted_exponential", shift_s=a, rate_per_s=mu)
    times = {}
    for uni in (False, True):
        out = allocate_loads(a, mu, uniform=uni)
        mc = simulate_completion(
            "loads", model, num_workers=n, loads=out.loads, trials=20000, rng=5
        )
        times[uni] = mc
        # the program's t* is the time at which the *expected* return reaches 1; the mean
        # completion time is within a few percent of it for n = 20
        assert mc.mean_s == pytest.approx(out.objective, rel=0.1)
    gap = times[True].mean_s - times[False].mean_s
    assert gap > 4 * np.hypot(times[True].std_err_s, times[False].std_err_s)
    assert times[False].mean_s < 0.8 * times[True].mean_s


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"shift_s": [1.0, -1.0], "rate_per_s": 1.0}, "shift_s"),
        ({"shift_s": [1.0, 1.0], "rate_per_s": [1.0, 0.0]}, "rate_per_s"),
        ({"shift_s": [1.0, 1.0], "rate_per_s": 1.0, "upload_s": -1.0}, "upload_s"),
        ({"shift_s": [1.0, 1.0], "rate_per_s": [1.0, 1.0, 1.0]}, "shift_s"),
        ({"shift_s": [100.0], "rate_per_s": 1.0}, "rate_per_s"),
    ],
)
def test_bad_input(kwargs, name) -> None:
    with pytest.raises(InvalidInputError, match=name):
        allocate_loads(**kwargs)
