"""Input checks for every public function of edgeopt, in one module.

Each helper either returns a normalized value (a NumPy array of the right dtype, a
:class:`numpy.random.Generator`, a Python int...) or raises
:class:`~edgeopt.errors.InvalidInputError` whose message names the argument, shows its value
and says what was expected.  Public functions call these first and then their kernels, so no
NaN or inf ever reaches a computation.

This module is private: its names may change without notice.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt.errors import InvalidInputError

__all__ = [
    "invalid_input",
    "invalid_inputs",
    "check_rng",
    "check_array",
    "check_complex_array",
    "check_scalar",
    "check_int",
    "check_choice",
    "check_bool",
    "check_result_finite",
    "check_broadcast",
]


def _show(value: Any, limit: int = 80) -> str:
    """A short repr of ``value`` for error messages."""
    text = repr(value)
    if isinstance(value, np.ndarray):
        text = f"array(shape={value.shape}, dtype={value.dtype})"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def invalid_input(name: str, value: Any, expected: str) -> InvalidInputError:
    """The standard error for one bad argument; the one way to build its message.

    Parameters
    ----------
    name : str
        The argument's name as the user wrote it (``"power_w"``, ``"options['eps']"``).
    value : Any
        The value received (shown shortened: arrays by shape and dtype).
    expected : str
        What would have been accepted (``"a positive number"``).

    Returns
    -------
    InvalidInputError
        To be raised by the caller: ``raise invalid_input("k", k, "an integer >= 1")``.

    Examples
    --------
    >>> from edgeopt._validation import invalid_input
    >>> str(invalid_input("power_w", -1.0, "a positive number"))
    'power_w=-1.0 is invalid: expected a positive number'
    """
    return InvalidInputError(f"{name}={_show(value)} is invalid: expected {expected}")


def invalid_inputs(names: str, expected: str) -> InvalidInputError:
    """The standard error for arguments that are each valid but not together.

    Parameters
    ----------
    names : str
        The arguments involved, comma separated, each with what matters of its value
        (``"min_radius_m=50.0, radius_m=10.0"``).
    expected : str
        The relation that should hold (``"min_radius_m < radius_m"``).

    Returns
    -------
    InvalidInputError
        To be raised by the caller.

    Examples
    --------
    >>> from edgeopt._validation import invalid_inputs
    >>> str(invalid_inputs("min_radius_m=50.0, radius_m=10.0", "min_radius_m < radius_m"))
    'min_radius_m=50.0, radius_m=10.0 are invalid: expected min_radius_m < radius_m'
    """
    return InvalidInputError(f"{names} are invalid: expected {expected}")


_fail = invalid_input


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """Normalize a random source to a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : numpy.random.Generator, numpy.random.SeedSequence, int >= 0 or None
        ``None`` gives a fresh, OS-seeded generator; an int or SeedSequence seeds PCG64;
        a Generator is returned as is (the caller's stream is advanced, never copied).
    name : str
        Argument name used in the error message.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    InvalidInputError
        For anything else (the legacy ``RandomState``, floats, bools, negative ints...).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool | np.bool_):
        if int(rng) < 0:
            raise _fail(name, rng, "a non-negative integer seed")
        return np.random.default_rng(int(rng))
    raise _fail(
        name, rng, "a numpy.random.Generator, a SeedSequence, a non-negative int seed or None"
    )


def check_array(
    value: Any,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    shape: tuple[int | None, ...] | None = None,
    nonneg: bool = False,
    positive: bool = False,
    allow_empty: bool = True,
) -> NDArray[np.float64]:
    """Convert ``value`` to a finite float64 array and check its shape and sign.

    Parameters
    ----------
    value : array_like of real numbers
    name : str
        Argument name for error messages.
    ndim : int or iterable of int, optional
        Allowed numbers of dimensions.
    shape : tuple of int or None, optional
        Required shape; ``None`` entries match any length.
    nonneg, positive : bool
        Require every entry ``>= 0`` (``> 0``).
    allow_empty : bool
        Whether a size-0 array is accepted.

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    InvalidInputError
        Non-numeric or complex input, NaN or inf, wrong shape or sign.
    """
    if isinstance(value, str | bytes) or value is None:
        raise _fail(name, value, "a real number or array of real numbers")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise _fail(name, value, "a real number or array of real numbers") from exc
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise _fail(
            name, value, "a real number or array of real numbers (not bool, complex or text)"
        )
    arr = arr.astype(np.float64, copy=False)
    _check_shape(arr, value, name, ndim, shape, allow_empty)
    if not np.all(np.isfinite(arr)):
        raise _fail(name, value, "finite values (no NaN or inf)")
    if positive and np.any(arr <= 0):
        raise _fail(name, value, "values > 0")
    if nonneg and np.any(arr < 0):
        raise _fail(name, value, "values >= 0")
    return arr


def check_complex_array(
    value: Any,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    shape: tuple[int | None, ...] | None = None,
    require_complex: bool = True,
    allow_empty: bool = True,
) -> NDArray[np.complex128]:
    """Convert ``value`` to a finite complex128 array.

    Parameters
    ----------
    value : array_like
        Complex numbers.  With ``require_complex=True`` (the default) a real-valued array is
        rejected, since a real "channel" is almost always a units or layout mistake.
    name : str
    ndim, shape, allow_empty
        As in :func:`check_array`.

    Returns
    -------
    numpy.ndarray of complex128

    Raises
    ------
    InvalidInputError
    """
    if isinstance(value, str | bytes) or value is None:
        raise _fail(name, value, "an array of complex numbers")
    try:
        arr = np.asarray(value)
    except Exception as exc:
        raise _fail(name, value, "an array of complex numbers") from exc
    if arr.dtype == object or arr.dtype.kind not in "biufc":
        raise _fail(name, value, "an array of complex numbers")
    if require_complex and arr.dtype.kind != "c":
        raise _fail(name, value, "a complex-valued array (dtype complex64/complex128)")
    arr = arr.astype(np.complex128, copy=False)
    _check_shape(arr, value, name, ndim, shape, allow_empty)
    if not np.all(np.isfinite(arr)):
        raise _fail(name, value, "finite values (no NaN or inf)")
    return arr


def _check_shape(
    arr: np.ndarray,
    value: Any,
    name: str,
    ndim: int | Iterable[int] | None,
    shape: tuple[int | None, ...] | None,
    allow_empty: bool,
) -> None:
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise _fail(name, value, f"an array with {want} dimension(s), got {arr.ndim}")
    if shape is not None:
        ok = arr.ndim == len(shape) and all(
            s is None or s == a for s, a in zip(shape, arr.shape, strict=False)
        )
        if not ok:
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise _fail(name, value, f"shape {want}, got {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise _fail(name, value, "a non-empty array")


def check_scalar(
    value: Any,
    name: str,
    *,
    positive: bool = False,
    nonneg: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """Check a finite real scalar and return it as a Python float.

    Parameters
    ----------
    value : real number
    name : str
    positive, nonneg : bool
        Require ``> 0`` or ``>= 0``.
    low, high : float, optional
        Inclusive bounds.

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise _fail(name, value, "a real number")
    out = float(value)
    if not np.isfinite(out):
        raise _fail(name, value, "a finite number (no NaN or inf)")
    if positive and out <= 0:
        raise _fail(name, value, "a number > 0")
    if nonneg and out < 0:
        raise _fail(name, value, "a number >= 0")
    if low is not None and out < low:
        raise _fail(name, value, f"a number >= {low}")
    if high is not None and out > high:
        raise _fail(name, value, f"a number <= {high}")
    return out


def check_int(
    value: Any, name: str, *, min_value: int | None = 1, max_value: int | None = None
) -> int:
    """Check an integer count (antennas, devices, rounds...) and return it as ``int``.

    Integral floats such as ``4.0`` are refused: a count given as a float is usually a bug.

    Parameters
    ----------
    value : int
    name : str
    min_value, max_value : int or None
        Inclusive bounds (default: at least 1).

    Returns
    -------
    int

    Raises
    ------
    InvalidInputError
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise _fail(name, value, "an integer")
    out = int(value)
    if min_value is not None and out < min_value:
        raise _fail(name, value, f"an integer >= {min_value}")
    if max_value is not None and out > max_value:
        raise _fail(name, value, f"an integer <= {max_value}")
    return out


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of the allowed strings and return it.

    Raises
    ------
    InvalidInputError
        Naming the argument and listing the choices.
    """
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise _fail(name, value, "one of " + ", ".join(repr(c) for c in options))
    return value


def check_bool(value: Any, name: str) -> bool:
    """Check a boolean flag (``True``/``False`` or a NumPy bool) and return it."""
    if not isinstance(value, bool | np.bool_):
        raise _fail(name, value, "True or False")
    return bool(value)


def check_result_finite(result: Any, names: str, expected: str) -> None:
    """Refuse a computed result that overflowed: finite input must never give inf or NaN out.

    Compute under ``numpy.errstate(over="ignore", invalid="ignore")`` and then call this.

    Parameters
    ----------
    result : array_like
        The computed values.
    names : str
        The arguments responsible (e.g. ``"payload_bits, rate_bps"``), for the message.
    expected : str
        What the caller should pass instead.

    Raises
    ------
    InvalidInputError
        If any entry of ``result`` is NaN or inf.
    """
    arr = np.asarray(result)
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(
            f"{names} are invalid: the result is not representable in float64 "
            f"(overflow); expected {expected}"
        )


def check_broadcast(**arrays: NDArray[Any]) -> list[NDArray[Any]]:
    """Broadcast the named arrays together (NumPy rules) or say which shapes clash.

    Parameters
    ----------
    **arrays : numpy.ndarray
        Already-checked arrays, keyed by argument name, in the caller's order.

    Returns
    -------
    list of numpy.ndarray
        Read-only broadcast views, in the order given.

    Raises
    ------
    InvalidInputError
        Naming every argument with its shape when the shapes do not broadcast.
    """
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError as exc:
        shapes = ", ".join(f"{k} (shape {v.shape})" for k, v in arrays.items())
        raise InvalidInputError(
            f"{shapes} are invalid: expected shapes that broadcast together"
        ) from exc
