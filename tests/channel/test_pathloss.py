"""Path loss models: reference values, slopes, parameter handling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeopt.channel import SPEED_OF_LIGHT_M_PER_S, pathloss_db
from edgeopt.errors import InvalidInputError

distances = st.floats(min_value=1.0, max_value=1e5, allow_nan=False, allow_infinity=False)


def test_3gpp_macro_is_128_1_db_at_1_km() -> None:
    assert float(pathloss_db(1000.0)) == pytest.approx(128.1, abs=1e-12)
    assert float(pathloss_db(1000.0, "3gpp-macro")) == pytest.approx(128.1, abs=1e-12)


def test_3gpp_macro_slope_is_37_6_db_per_decade() -> None:
    pl = pathloss_db([100.0, 1000.0, 10000.0])
    np.testing.assert_allclose(np.diff(pl), [37.6, 37.6], atol=1e-12)


def test_free_space_matches_the_engineering_formula() -> None:
    # FSPL = 20 log10(d_km) + 20 log10(f_MHz) + 20 log10(4π·1e9/c), the last term 32.4478 dB
    const = 20 * np.log10(4 * np.pi * 1e9 / SPEED_OF_LIGHT_M_PER_S)
    assert const == pytest.approx(32.4478, abs=1e-4)
    got = float(pathloss_db(100.0, "free-space", carrier_hz=2.4e9))
    want = 20 * np.log10(0.1) + 20 * np.log10(2400.0) + 32.4478
    assert got == pytest.approx(want, abs=1e-3)
    # textbook value: about 40.05 dB at 1 m and 2.4 GHz
    assert float(pathloss_db(1.0, "free-space", carrier_hz=2.4e9)) == pytest.approx(40.05, abs=0.01)


def test_free_space_is_inverse_square_in_distance_and_frequency() -> None:
    base = float(pathloss_db(50.0, "free-space", carrier_hz=1e9))
    assert float(pathloss_db(100.0, "free-space", carrier_hz=1e9)) - base == pytest.approx(
        20 * np.log10(2.0)
    )
    assert float(pathloss_db(50.0, "free-space", carrier_hz=2e9)) - base == pytest.approx(
        20 * np.log10(2.0)
    )


def test_log_distance_formula_and_default_reference_distance() -> None:
    d = np.array([1.0, 10.0, 200.0])
    got = pathloss_db(d, "log-distance", pl0_db=30.0, exponent=3.5)
    np.testing.assert_allclose(got, 30.0 + 35.0 * np.log10(d))
    got = pathloss_db(d, "log-distance", pl0_db=30.0, exponent=3.5, d0_m=10.0)
    np.testing.assert_allclose(got, 30.0 + 35.0 * np.log10(d / 10.0))


def test_shape_is_preserved() -> None:
    d = np.full((2, 3, 4), 250.0)
    assert pathloss_db(d).shape == (2, 3, 4)
    assert pathloss_db(250.0).shape == ()


@given(distances, distances)
def test_every_model_is_monotone_in_distance(d1: float, d2: float) -> None:
    lo, hi = min(d1, d2), max(d1, d2)
    for model, params in [
        ("3gpp-macro", {}),
        ("free-space", {"carrier_hz": 3.5e9}),
        ("log-distance", {"pl0_db": 40.0, "exponent": 2.7}),
    ]:
        assert pathloss_db(lo, model, **params) <= pathloss_db(hi, model, **params)


@pytest.mark.parametrize(
    ("model", "params", "named"),
    [
        ("3gpp-macro", {"carrier_hz": 2e9}, "carrier_hz"),
        ("free-space", {}, "carrier_hz"),
        ("free-space", {"carrier_hz": 2e9, "exponent": 2.0}, "exponent"),
        ("free-space", {"carrier_hz": -1.0}, "carrier_hz"),
        ("free-space", {"carrier_hz": np.nan}, "carrier_hz"),
        ("log-distance", {"exponent": 3.0}, "pl0_db"),
        ("log-distance", {"pl0_db": 30.0}, "exponent"),
        ("log-distance", {"pl0_db": 30.0, "exponent": -1.0}, "exponent"),
        ("log-distance", {"pl0_db": np.inf, "exponent": 3.0}, "pl0_db"),
        ("log-distance", {"pl0_db": 30.0, "exponent": 3.0, "d0_m": 0.0}, "d0_m"),
        ("log-distance", {"pl0_db": 30.0, "exponent": 3.0, "dist0": 1.0}, "dist0"),
        ("hata", {}, "model"),
    ],
)
def test_bad_model_parameters_are_named(model: str, params: dict, named: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        pathloss_db(100.0, model, **params)
    assert named in str(exc.value)
