"""Path loss models: reference values, slopes, parameter handling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeopt.channel import (
    MACRO_MIN_DISTANCE_M,
    SPEED_OF_LIGHT_M_PER_S,
    far_field_distance_m,
    pathloss_db,
)
from edgeopt.errors import InvalidInputError, ModelRangeWarning

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
    with pytest.warns(ModelRangeWarning, match=r"distance_m=1\.0 .*'log-distance'.*>= 10 m"):
        got = pathloss_db(d, "log-distance", pl0_db=30.0, exponent=3.5, d0_m=10.0)
    np.testing.assert_allclose(got, 30.0 + 35.0 * np.log10(d / 10.0))  # still computed


def test_shape_is_preserved() -> None:
    d = np.full((2, 3, 4), 250.0)
    assert pathloss_db(d).shape == (2, 3, 4)
    assert pathloss_db(250.0).shape == ()


@given(distances, distances)
def test_every_model_is_monotone_in_distance(d1: float, d2: float) -> None:
    lo, hi = min(d1, d2), max(d1, d2)
    lo, hi = lo + MACRO_MIN_DISTANCE_M, hi + MACRO_MIN_DISTANCE_M  # inside every model's range
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


# --- validity ranges: a ModelRangeWarning below the distance each source states -----------


def _no_warning(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelRangeWarning)
        return call()


def test_3gpp_macro_warns_below_35_m_and_not_from_35_m() -> None:
    # 0.1 "m" (100 m given in km) would be a 22 dB gain: the unit mistake is flagged
    with pytest.warns(ModelRangeWarning, match=r"distance_m=0\.1 .*'3gpp-macro'.*>= 35 m"):
        got = pathloss_db([0.1, 200.0])
    assert got[0] < 0.0  # the formula is still applied as written
    with pytest.warns(ModelRangeWarning, match="distances are in metres"):
        pathloss_db(34.9)
    _no_warning(lambda: pathloss_db([35.0, 100.0, 5e4]))
    _no_warning(lambda: pathloss_db(np.full((2, 3), MACRO_MIN_DISTANCE_M)))


def test_the_warning_names_the_smallest_distance_and_points_at_the_caller() -> None:
    with pytest.warns(ModelRangeWarning, match=r"distance_m=2\.0 ") as record:
        pathloss_db([[30.0, 2.0], [500.0, 10.0]])
    assert len(record) == 1
    assert record[0].filename == __file__  # the user's line, not edgeopt's


def test_free_space_far_field_rule() -> None:
    fc = 2.4e9
    lam = SPEED_OF_LIGHT_M_PER_S / fc
    assert far_field_distance_m(fc) == pytest.approx(lam)
    # an antenna of 1 m: Fraunhofer distance 2 D^2 / lambda = 16.0 m
    assert far_field_distance_m(fc, 1.0) == pytest.approx(2.0 / lam)
    # a small antenna (D < lambda / sqrt 2): the one-wavelength floor applies
    assert far_field_distance_m(fc, 0.05) == pytest.approx(lam)
    with pytest.warns(ModelRangeWarning, match=r"'free-space'.*>= 0\.1249 m"):
        pathloss_db(0.9 * lam, "free-space", carrier_hz=fc)
    _no_warning(lambda: pathloss_db([lam, 1.0, 1e4], "free-space", carrier_hz=fc))
    with pytest.warns(ModelRangeWarning, match=r">= 16\.01 m"):
        pathloss_db(10.0, "free-space", carrier_hz=fc, antenna_size_m=1.0)
    _no_warning(lambda: pathloss_db(16.1, "free-space", carrier_hz=fc, antenna_size_m=1.0))
    # the antenna size changes only the range, never the loss
    assert _no_warning(
        lambda: pathloss_db(20.0, "free-space", carrier_hz=fc, antenna_size_m=1.0)
    ) == pathloss_db(20.0, "free-space", carrier_hz=fc)


def test_log_distance_warns_below_its_reference_distance() -> None:
    kw = {"pl0_db": 40.0, "exponent": 3.0}
    with pytest.warns(ModelRangeWarning, match=r"'log-distance'.*>= 1 m"):
        pathloss_db(0.5, "log-distance", **kw)
    _no_warning(lambda: pathloss_db([1.0, 7.0], "log-distance", **kw))
    with pytest.warns(ModelRangeWarning, match=r">= 100 m"):
        pathloss_db(50.0, "log-distance", d0_m=100.0, **kw)
    _no_warning(lambda: pathloss_db(100.0, "log-distance", d0_m=100.0, **kw))


def test_model_range_warning_is_a_user_warning_that_can_be_made_an_error() -> None:
    assert issubclass(ModelRangeWarning, UserWarning)
    assert not issubclass(ModelRangeWarning, RuntimeWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelRangeWarning)
        with pytest.raises(ModelRangeWarning):
            pathloss_db(1.0)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"carrier_hz": 0.0}, "carrier_hz"),
        ({"carrier_hz": 2e9, "antenna_size_m": -1.0}, "antenna_size_m"),
        ({"carrier_hz": 2e9, "antenna_size_m": np.nan}, "antenna_size_m"),
    ],
)
def test_far_field_inputs_are_checked(kwargs: dict, named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        far_field_distance_m(**kwargs)
    with pytest.raises(InvalidInputError, match=named):
        pathloss_db(100.0, "free-space", **kwargs)
