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
    with pytest.raises(InvalidInputError, match=r"h=.*finite"):
        check_complex_array(np.array([1j, np.nan]), "h")
    for bad in ([True, False], ["1j"], None, [[1.0], [1.0, 2.0]]):
        with pytest.raises(InvalidInputError, match="h="):
            check_complex_array(bad, "h")


@pytest.mark.parametrize(
    "real",
    [np.arange(6.0).reshape(2, 3), [[0, 1, 2], [3, 4, 5]], np.arange(6, dtype=np.float32)],
)
def test_check_complex_array_accepts_real_channels(real):
    """A real-valued array is a complex one with zero imaginary parts."""
    out = check_complex_array(real, "h")
    assert out.dtype == np.complex128
    np.testing.assert_array_equal(out.real, np.asarray(real, dtype=float))
    np.testing.assert_array_equal(out.imag, 0.0)


def test_check_complex_array_accepts_torch_tensors_real_and_complex():
    import torch

    out = check_complex_array(torch.ones(2, 3), "h", ndim=2)
    assert out.dtype == np.complex128 and out.shape == (2, 3)
    out = check_complex_array(torch.ones(2, dtype=torch.complex64) * 1j, "h")
    np.testing.assert_array_equal(out, [1j, 1j])


def test_real_channels_are_accepted_by_the_aircomp_model():
    from edgeopt.aircomp import aircomp_mse

    h = np.array([[1.0, 0.5], [0.2, -1.0]])
    got = aircomp_mse(np.array([1.0, 0.0]), h, power_w=1.0, noise_w=0.1)
    want = aircomp_mse(np.array([1.0, 0.0]), h.astype(complex), power_w=1.0, noise_w=0.1)
    assert got == want


class _ZeroDim:
    """A 0-d array-like of another library: only ``ndim`` and ``item()``."""

    ndim = 0

    def __init__(self, value):
        self._value = value

    def item(self):
        return self._value


@pytest.mark.parametrize(
    "value",
    [
        0.5,
        2,
        np.float16(0.5),
        np.float32(0.5),
        np.int8(2),
        np.uint64(2),
        np.array(0.5),
        np.array(2, dtype=np.int32),
        _ZeroDim(0.5),
        _ZeroDim(2),
    ],
)
def test_check_scalar_accepts_every_real_scalar(value):
    want = value.item() if isinstance(value, _ZeroDim | np.ndarray | np.generic) else value
    out = check_scalar(value, "power_w", positive=True)
    assert type(out) is float and out == float(want)


def test_check_scalar_accepts_0d_torch_tensors():
    import torch

    assert check_scalar(torch.tensor(0.25), "power_w", positive=True) == 0.25
    assert check_scalar(torch.tensor(3), "power_w") == 3.0
    assert check_scalar(torch.tensor(0.5, dtype=torch.float64, requires_grad=True), "x") == 0.5
    for bad in (torch.tensor([0.5]), torch.tensor(True), torch.tensor(1 + 1j), torch.ones(2)):
        with pytest.raises(InvalidInputError, match="power_w="):
            check_scalar(bad, "power_w")
    with pytest.raises(InvalidInputError, match=r"power_w=.*> 0"):
        check_scalar(torch.tensor(-1.0), "power_w", positive=True)
    with pytest.raises(InvalidInputError, match=r"power_w=.*finite"):
        check_scalar(torch.tensor(float("nan")), "power_w")


def test_power_given_as_a_torch_scalar_is_accepted_by_a_solver():
    import torch

    from edgeopt.aircomp import select_devices

    h = np.array([[1.0 + 0.5j, 0.2], [0.3j, 1.0]])
    got = select_devices(
        h,
        power_w=torch.tensor(1.0),
        noise_w=np.float32(1.0),
        mse_target=np.array(1.0),
        method="fast",
    )
    want = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=1.0, method="fast")
    assert got.selected.tolist() == want.selected.tolist() and got.mse == want.mse


def test_check_scalar_int_choice_bool():
    assert check_scalar(np.float32(2.5), "x") == 2.5
    assert check_scalar(np.array(3.0), "x") == 3.0
    for bad in (
        float("nan"),
        "1",
        True,
        [1.0],
        np.bool_(True),
        1 + 0j,
        np.complex128(1.0),
        np.array([1.0]),
        np.array(True),
        np.array("1"),
        _ZeroDim(True),
        _ZeroDim(1j),
        10**400,
    ):
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
