"""The contract of the device-selection methods: dispatch, options, statistics, citations."""

from __future__ import annotations

import inspect
from functools import partial

import numpy as np
import pytest

from edgeopt import status as st
from edgeopt._validation import check_int, check_option_schema
from edgeopt.aircomp import METHODS, select_devices
from edgeopt.aircomp._methods import _base
from edgeopt.aircomp.selection import _DISPATCH
from edgeopt.errors import InvalidInputError

YANG_DOI = "10.1109/TWC.2019.2961673"


def cn(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


def test_dispatch_table_covers_every_method_with_one_signature() -> None:
    assert tuple(_DISPATCH) == METHODS == ("dc", "sdr", "fast", "all", "eig")
    signatures = {str(inspect.signature(spec.run)) for spec in _DISPATCH.values()}
    assert len(signatures) == 1, signatures
    params = list(inspect.signature(_DISPATCH["dc"].run).parameters)
    assert params == ["problem", "options", "rng"]


@pytest.mark.parametrize("method", METHODS)
def test_each_method_function_cites_its_paper(method: str) -> None:
    doc = inspect.getdoc(_DISPATCH[method].run) or ""
    assert "References\n----------\n.. [1] " in doc, method
    assert YANG_DOI in doc
    # the function lives in its method's own module, next to that method's option schema
    module = inspect.getmodule(_DISPATCH[method].run)
    assert module is not None and module.__name__.startswith("edgeopt.aircomp._methods.")
    assert _DISPATCH[method].options is module.OPTIONS


def test_sdr_cites_gaussian_randomization() -> None:
    doc = inspect.getdoc(_DISPATCH["sdr"].run) or ""
    assert ".. [2] " in doc and "10.1109/MSP.2010.936019" in doc


@pytest.mark.parametrize("method", METHODS)
def test_every_result_has_status_objective_time_and_stats(method: str) -> None:
    rng = np.random.default_rng(4)
    h = cn(rng, (8, 3))
    sol = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=1.0, method=method, rng=0)
    assert sol.status in st.ALL_STATUSES
    assert sol.objective == int(sol.selected.sum())
    stats = sol.stats
    assert isinstance(stats, st.SolverStats)
    expected_name = f"{method}/clarabel" if method in ("dc", "sdr") else method
    assert stats.solver_name == expected_name
    assert isinstance(stats.iterations, int) and stats.iterations >= 1
    assert stats.setup_time_s is not None and 0 < stats.setup_time_s <= sol.solve_time_s
    assert set(stats.extra) == {"failed_programs", "dropped_by_check", "greedy_fallback"}
    assert stats.extra["failed_programs"] == 0 and stats.extra["greedy_fallback"] is False
    assert stats.extra["dropped_by_check"] >= 0


def test_iterations_count_what_each_method_documents(monkeypatch) -> None:
    from edgeopt.aircomp import _sdp

    rng = np.random.default_rng(5)
    h = cn(rng, (10, 4))
    kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "rng": 0}
    # dc and sdr: every convex program solved, counted at the backend
    calls = {"n": 0}
    for name in ("solve_sparse", "solve_feasible"):
        original = getattr(_sdp.ClarabelBackend, name)

        def counted(self, *args, _original=original):
            calls["n"] += 1
            return _original(self, *args)

        monkeypatch.setattr(_sdp.ClarabelBackend, name, counted)
    for method in ("dc", "sdr"):
        calls["n"] = 0
        sol = select_devices(h, method=method, **kw)
        assert sol.stats.iterations == calls["n"] > 0
    # all: the SCA from the dominant direction plus one per random restart
    sol = select_devices(h, method="all", restarts=3, **kw)
    assert sol.stats.iterations == 4


def test_real_channels_select_as_complex_ones() -> None:
    rng = np.random.default_rng(6)
    h = rng.standard_normal((8, 3))
    kw = {"power_w": 1.0, "noise_w": 1.0, "mse_target": 1.0, "rng": 0}
    for method in METHODS:
        a = select_devices(h, method=method, **kw)
        b = select_devices(h + 0j, method=method, **kw)
        np.testing.assert_array_equal(a.selected, b.selected)
        assert a.status == b.status


def test_option_schema_fills_defaults_and_checks_values() -> None:
    schema = {"restarts": (8, partial(check_int, min_value=0)), "n": (1, check_int)}
    assert check_option_schema({}, "method='x'", schema) == {"restarts": 8, "n": 1}
    assert check_option_schema({"n": 3}, "method='x'", schema) == {"restarts": 8, "n": 3}
    with pytest.raises(InvalidInputError, match=r"restarts=-1 .*>= 0"):
        check_option_schema({"restarts": -1}, "method='x'", schema)
    with pytest.raises(InvalidInputError, match=r"tol=0.1 .*option of method='x' \(restarts, n\)"):
        check_option_schema({"tol": 0.1}, "method='x'", schema)


@pytest.mark.parametrize("method", METHODS)
def test_options_used_are_the_schema_defaults(method: str) -> None:
    h = cn(np.random.default_rng(1), (5, 2))
    sol = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=1.0, method=method, rng=0)
    expected = {k: d for k, (d, _) in _DISPATCH[method].options.items()}
    # every method also takes the caller's limits (no limit by default)
    assert sol.options == {**expected, "time_limit_s": None, "max_iterations": None}


def test_eig_takes_no_options() -> None:
    h = cn(np.random.default_rng(1), (5, 2))
    with pytest.raises(InvalidInputError, match="restarts"):
        select_devices(h, power_w=1, noise_w=1, mse_target=1, method="eig", restarts=2)


def test_largest_passing_matches_a_scan() -> None:
    for n_star in range(0, 9):
        for first in range(0, 10):
            tested: list[int] = []

            def test(n: int, n_star: int = n_star, tested: list[int] = tested) -> bool:
                tested.append(n)
                return n <= n_star

            assert _base.largest_passing(test, 8, first) == n_star
            assert 0 not in tested and all(1 <= n <= 8 for n in tested)
    assert _base.largest_passing(lambda n: True, 0, 3) == 0


def test_gaussian_beamformers_have_the_given_covariance() -> None:
    rng = np.random.default_rng(2)
    A = cn(rng, (3, 3))
    M = A @ A.conj().T
    draws = _base.gaussian_beamformers(rng, 40_000, M)
    emp = draws.T @ draws.conj() / draws.shape[0]  # E[m m^H]
    # for m ~ CN(0, M): E|m_i conj(m_j) - M_ij|^2 = M_ii M_jj, so each entry of the sample
    # covariance has standard error sqrt(M_ii M_jj / n) (the root mean squared error)
    se = np.sqrt(np.outer(np.diag(M).real, np.diag(M).real) / draws.shape[0])
    assert np.all(np.abs(emp - M) <= 5 * se)
