"""Tests of the shared input checks in edgeopt._validation."""

from __future__ import annotations

import numpy as np
import pytest

from edgeopt._validation import (
    check_array,
    check_bool,
    check_choice,
    check_complex_array,
    check_int,
    check_rng,
    check_scalar,
)
from edgeopt.errors import InvalidInputError


def test_invalid_input_error_is_value_error():
    assert issubclass(InvalidInputError, ValueError)


def test_check_rng_normalizes():
    g = np.random.default_rng(3)
    assert check_rng(g) is g
    a = check_rng(7).standard_normal(4)
    b = check_rng(np.int64(7)).standard_normal(4)
    np.testing.assert_array_equal(a, b)
    c = check_rng(np.random.SeedSequence(7)).standard_normal(4)
    np.testing.assert_array_equal(a, c)
    assert isinstance(check_rng(None), np.random.Generator)


@pytest.mark.parametrize("bad", [np.random.RandomState(0), 1.5, -1, True, "seed", [1, 2]])
def test_check_rng_rejects(bad):
    with pytest.raises(InvalidInputError, match="rng="):
        check_rng(bad)


def test_check_array():
    out = check_array([1, 2, 3], "a", ndim=1, nonneg=True)
    assert out.dtype == np.float64
    with pytest.raises(InvalidInputError, match=r"a=.*finite"):
        check_array([1.0, np.nan], "a")
    with pytest.raises(InvalidInputError, match=r"a=.*>= 0"):
        check_array([-1.0], "a", nonneg=True)
    with pytest.raises(InvalidInputError, match=r"a=.*> 0"):
        check_array([0.0], "a", positive=True)
    with pytest.raises(InvalidInputError, match=r"a=.*dimension"):
        check_array([[1.0]], "a", ndim=1)
    with pytest.raises(InvalidInputError, match=r"a=.*shape \(2, any\)"):
        check_array(np.zeros((3, 4)), "a", shape=(2, None))
    with pytest.raises(InvalidInputError, match=r"a=.*complex"):
        check_array([1j], "a")
    with pytest.raises(InvalidInputError, match=r"a="):
        check_array([[1.0, 2.0], [3.0]], "a")
    with pytest.raises(InvalidInputError, match=r"a=.*non-empty"):
        check_array([], "a", allow_empty=False)


def test_check_complex_array():
    out = check_complex_array(np.ones((2, 3), dtype=np.complex64), "h", ndim=2)
    assert out.dtype == np.complex128
    with pytest.raises(InvalidInputError, match=r"h=.*complex"):
        check_complex_array(np.ones((2, 3)), "h")
    assert check_complex_array(np.ones(2), "h", require_complex=False).dtype == np.complex128
    with pytest.raises(InvalidInputError, match=r"h=.*finite"):
        check_complex_array(np.array([1j, np.nan]), "h")


def test_check_scalar_int_choice_bool():
    assert check_scalar(np.float32(2.5), "x") == 2.5
    assert check_scalar(np.array(3.0), "x") == 3.0
    for bad in (float("nan"), "1", True, [1.0]):
        with pytest.raises(InvalidInputError, match="x="):
            check_scalar(bad, "x")
    with pytest.raises(InvalidInputError, match=r"x=.*<= 1"):
        check_scalar(2.0, "x", high=1.0)
    assert check_int(np.int32(4), "n") == 4
    for bad in (4.0, 0, True, "4"):
        with pytest.raises(InvalidInputError, match="n="):
            check_int(bad, "n")
    assert check_choice("a", "mode", ["a", "b"]) == "a"
    with pytest.raises(InvalidInputError, match=r"mode='c'.*'a', 'b'"):
        check_choice("c", "mode", ["a", "b"])
    assert check_bool(np.bool_(True), "flag") is True
    with pytest.raises(InvalidInputError, match="flag="):
        check_bool(1, "flag")
