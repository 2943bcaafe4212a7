"""Tests of edgeopt.units."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edgeopt.errors import InvalidInputError
from edgeopt.units import db_to_lin, dbm_to_w, lin_to_db, thermal_noise_w, w_to_dbm

finite_db = st.floats(min_value=-300.0, max_value=300.0, allow_nan=False)


@given(arrays(np.float64, st.integers(0, 20), elements=finite_db))
def test_db_round_trip(x):
    np.testing.assert_allclose(lin_to_db(db_to_lin(x)), x, rtol=0, atol=1e-9)


@given(arrays(np.float64, st.integers(0, 20), elements=finite_db))
def test_dbm_round_trip(x):
    np.testing.assert_allclose(w_to_dbm(dbm_to_w(x)), x, rtol=0, atol=1e-9)


@given(st.floats(min_value=1e-30, max_value=1e30))
def test_linear_round_trip(x):
    assert math.isclose(float(db_to_lin(lin_to_db(x))), x, rel_tol=1e-12)
    assert math.isclose(float(dbm_to_w(w_to_dbm(x))), x, rel_tol=1e-12)


def test_known_values():
    assert float(db_to_lin(3.0)) == pytest.approx(1.9952623149688795)
    assert float(dbm_to_w(0.0)) == pytest.approx(1e-3)
    assert float(w_to_dbm(1.0)) == pytest.approx(30.0)
    assert float(lin_to_db(0.5)) == pytest.approx(-3.0102999566398)


def test_shapes_preserved():
    x = np.zeros((3, 4, 5))
    for f in (db_to_lin, dbm_to_w):
        assert f(x).shape == (3, 4, 5)
    assert lin_to_db(np.ones((2, 3))).shape == (2, 3)
    assert thermal_noise_w(np.ones((2, 7))).shape == (2, 7)


def test_thermal_noise_density_is_minus_174_dbm_per_hz():
    # k * 290 K = 4.0039e-21 W/Hz = -173.975 dBm/Hz.
    assert float(w_to_dbm(thermal_noise_w(1.0))) == pytest.approx(-173.97519, abs=1e-3)
    assert round(float(w_to_dbm(thermal_noise_w(1.0)))) == -174
    # Scales with bandwidth and noise figure.
    assert float(w_to_dbm(thermal_noise_w(1e6, noise_figure_db=7.0))) == pytest.approx(
        -173.97519 + 60.0 + 7.0, abs=1e-3
    )
    assert float(thermal_noise_w(0.0)) == 0.0


@pytest.mark.parametrize(
    ("func", "arg", "bad"),
    [
        (db_to_lin, "x", float("nan")),
        (db_to_lin, "x", [1.0, float("inf")]),
        (db_to_lin, "x", "3 dB"),
        (db_to_lin, "x", 1 + 2j),
        (lin_to_db, "x", 0.0),
        (lin_to_db, "x", -1.0),
        (dbm_to_w, "x", float("-inf")),
        (w_to_dbm, "x", -0.5),
        (w_to_dbm, "x", None),
        (thermal_noise_w, "bandwidth_hz", -1.0),
        (thermal_noise_w, "bandwidth_hz", float("nan")),
    ],
)
def test_bad_input_names_argument(func, arg, bad):
    with pytest.raises(InvalidInputError, match=arg):
        func(bad)


def test_bad_noise_figure():
    with pytest.raises(InvalidInputError, match="noise_figure_db"):
        thermal_noise_w(1e6, noise_figure_db=float("nan"))
    with pytest.raises(InvalidInputError, match="noise_figure_db"):
        thermal_noise_w(1e6, noise_figure_db=[1.0, 2.0])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: db_to_lin(4000.0), "x"),
        (lambda: dbm_to_w([0.0, 4000.0]), "x"),
        (lambda: thermal_noise_w(1.0, noise_figure_db=4000.0), "noise_figure_db"),
        (lambda: thermal_noise_w(1e308, noise_figure_db=300.0), "bandwidth_hz"),
        (lambda: db_to_lin(True), "x"),
        (lambda: lin_to_db(np.array([True, False])), "x"),
    ],
)
def test_overflow_and_bool_refused(call, name):
    with pytest.raises(InvalidInputError, match=name):
        call()


def test_large_but_representable_db():
    assert float(db_to_lin(3000.0)) == pytest.approx(1e300)
    assert float(dbm_to_w(-3000.0)) == pytest.approx(1e-303)
