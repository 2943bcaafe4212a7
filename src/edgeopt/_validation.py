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
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt.errors import ConfigError, InvalidInputError, ModelRangeWarning

__all__ = [
    "invalid_input",
    "invalid_inputs",
    "missing_input",
    "invalid_config",
    "invalid_configs",
    "missing_config",
    "warn_model_range",
    "check_shape",
    "check_options",
    "check_option_schema",
    "check_channels",
    "check_beamformer",
    "check_weights",
    "check_powers",
    "check_rng",
    "check_array",
    "check_complex_array",
    "check_scalar",
    "check_int",
    "check_int_array",
    "check_choice",
    "check_bool",
    "check_result_finite",
    "check_broadcast",
    "check_device_vectors",
    "check_finite_tensor",
    "check_update_tensor",
    "check_mask",
    "check_alignment_pattern",
]


def _show(value: Any, limit: int = 80) -> str:
    """A short repr of ``value`` for error messages."""
    text = repr(value)
    if isinstance(value, np.ndarray):
        text = f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, str):  # names and file paths: shown whole unless very long
        limit = max(limit, 400)
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


def missing_input(name: str, expected: str) -> InvalidInputError:
    """The standard error for an argument or option that is required but was not given.

    Parameters
    ----------
    name : str
        The missing argument's name.
    expected : str
        What should have been given, and why it is needed.

    Returns
    -------
    InvalidInputError
        To be raised by the caller.

    Examples
    --------
    >>> from edgeopt._validation import missing_input
    >>> str(missing_input("k_factor_db", "a K-factor in dB with fading='rician'"))
    "k_factor_db is missing: expected a K-factor in dB with fading='rician'"
    """
    return InvalidInputError(f"{name} is missing: expected {expected}")


def _where(where: str | Path | None) -> str:
    return "" if where is None else f"{where}: "


def invalid_config(where: str | Path | None, key: str, value: Any, expected: str) -> ConfigError:
    """The standard error for one bad entry of a configuration (a TOML file, a grid, a store).

    Parameters
    ----------
    where : str, pathlib.Path or None
        Where the entry was read: a file and its position (``"sweep.toml"``,
        ``"sweep.toml [grid]"``), or ``None`` for a value given as an argument or in the
        environment.
    key : str
        The entry's name (``"repeats"``, ``"grid['snr_db']"``, ``"store"``).
    value : Any
        The value found (shown shortened).
    expected : str
        What would have been accepted.

    Returns
    -------
    ConfigError
        To be raised by the caller.

    Examples
    --------
    >>> from edgeopt._validation import invalid_config
    >>> str(invalid_config("sweep.toml", "repeats", 0, "an integer >= 1"))
    'sweep.toml: repeats=0 is invalid: expected an integer >= 1'
    >>> str(invalid_config(None, "executor", "gpu", "one of 'serial', 'processes'"))
    "executor='gpu' is invalid: expected one of 'serial', 'processes'"
    """
    return ConfigError(f"{_where(where)}{key}={_show(value)} is invalid: expected {expected}")


def invalid_configs(where: str | Path | None, names: str, expected: str) -> ConfigError:
    """The standard error for configuration entries that are each valid but not together.

    Also for a configuration that cannot be used as a whole (an unreadable or malformed
    file): ``names`` then says what was found.

    Parameters
    ----------
    where : str, pathlib.Path or None
        Where the entries were read (see :func:`invalid_config`).
    names : str
        The entries involved, comma separated, with what matters of their values.
    expected : str
        The relation that should hold, or what the file should be.

    Returns
    -------
    ConfigError
        To be raised by the caller.

    Examples
    --------
    >>> from edgeopt._validation import invalid_configs
    >>> str(invalid_configs("sweep.toml", "experiment, function", "exactly one of them"))
    'sweep.toml: experiment, function are invalid: expected exactly one of them'
    """
    return ConfigError(f"{_where(where)}{names} are invalid: expected {expected}")


def missing_config(where: str | Path | None, key: str, expected: str) -> ConfigError:
    """The standard error for a required configuration entry that is not there.

    Parameters
    ----------
    where : str, pathlib.Path or None
        Where the entry was looked for (see :func:`invalid_config`).
    key : str
        The missing entry's name.
    expected : str
        What should have been given, and why it is needed.

    Returns
    -------
    ConfigError
        To be raised by the caller.

    Examples
    --------
    >>> from edgeopt._validation import missing_config
    >>> str(missing_config("sweep.toml", "seed", "a root seed: seed = 1"))
    'sweep.toml: seed is missing: expected a root seed: seed = 1'
    """
    return ConfigError(f"{_where(where)}{key} is missing: expected {expected}")


def warn_model_range(
    name: str, value: Any, model: str, expected: str, *, stacklevel: int = 2
) -> None:
    """Warn that a valid input lies outside the range in which a model holds.

    Issues a :class:`~edgeopt.errors.ModelRangeWarning`; the computation goes on.

    Parameters
    ----------
    name : str
        The argument's name.
    value : Any
        The offending value (for an array, the entry furthest out of range).
    model : str
        The model, as the user named it (``"path loss model '3gpp-macro'"``).
    expected : str
        The model's range and where it comes from.
    stacklevel : int
        As in :func:`warnings.warn`, counted from the caller of this function (2: the
        caller's caller, the user's line for a public function).

    Examples
    --------
    >>> import warnings
    >>> from edgeopt._validation import warn_model_range
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_model_range("distance_m", 0.1, "path loss model 'x'", "distances >= 1 m")
    >>> str(caught[0].message)
    "distance_m=0.1 is outside the range of path loss model 'x': expected distances >= 1 m"
    """
    warnings.warn(
        f"{name}={_show(value)} is outside the range of {model}: expected {expected}",
        ModelRangeWarning,
        stacklevel=stacklevel + 1,
    )


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
    _check_layout(arr, value, name, ndim, shape, allow_empty)
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
    allow_empty: bool = True,
) -> NDArray[np.complex128]:
    """Convert ``value`` to a finite complex128 array.

    Parameters
    ----------
    value : array_like of real or complex numbers
        A NumPy array, a (nested) list, a CPU torch tensor...  A real-valued array is a
        complex one with zero imaginary parts and is cast to complex128.
    name : str
    ndim, shape, allow_empty
        As in :func:`check_array`.

    Returns
    -------
    numpy.ndarray of complex128

    Raises
    ------
    InvalidInputError
        Bools, text or other non-numbers, NaN or inf, wrong shape.

    Examples
    --------
    >>> from edgeopt._validation import check_complex_array
    >>> check_complex_array([[1.0, 0.5]], "channels", ndim=2)
    array([[1. +0.j, 0.5+0.j]])
    """
    if isinstance(value, str | bytes) or value is None:
        raise _fail(name, value, "an array of complex numbers")
    try:
        arr = np.asarray(value)
    except Exception as exc:
        raise _fail(name, value, "an array of complex numbers") from exc
    if arr.dtype == object or arr.dtype.kind not in "iufc":
        raise _fail(name, value, "an array of complex numbers (not bool or text)")
    arr = arr.astype(np.complex128, copy=False)
    _check_layout(arr, value, name, ndim, shape, allow_empty)
    if not np.all(np.isfinite(arr)):
        raise _fail(name, value, "finite values (no NaN or inf)")
    return arr


def _check_layout(
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


def check_shape(value: Any, name: str = "shape") -> tuple[int, ...]:
    """Check an array shape to create: an int or a flat sequence of ints >= 0.

    Parameters
    ----------
    value : int or sequence of int
        The shape, as NumPy's ``size=`` arguments take it (``5``, ``(2, 3)``, ``()``, a 1-D
        integer array).
    name : str
        Argument name for error messages.

    Returns
    -------
    tuple of int

    Raises
    ------
    InvalidInputError
        Negative or non-integer lengths (bools and integral floats included), nested or
        text input.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt._validation import check_shape
    >>> check_shape(3), check_shape((2, 0, 4)), check_shape(np.array([2, 2]))
    ((3,), (2, 0, 4), (2, 2))
    """
    expected = "an int or a flat sequence of ints >= 0"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return (check_int(value, name, min_value=0),)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise _fail(name, value, expected)
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise _fail(name, value, expected)
    items = tuple(value)
    for item in items:
        if (
            isinstance(item, bool | np.bool_)
            or not isinstance(item, numbers.Integral)
            or int(item) < 0
        ):
            raise _fail(name, items, expected)
    return tuple(int(item) for item in items)


def check_options(
    options: Mapping[str, Any],
    owner: str,
    *,
    required: Iterable[str] = (),
    optional: Iterable[str] = (),
) -> None:
    """Check the keyword options of one method or model against its schema.

    Only the names are checked here; each value is then checked by the caller with the
    helper that fits it.

    Parameters
    ----------
    options : mapping of str to Any
        The options given (typically a ``**kwargs`` dict).
    owner : str
        What takes them, as the user named it (``"path loss model 'free-space'"``).
    required, optional : iterable of str
        The names that must be given and those that may be.

    Raises
    ------
    InvalidInputError
        For the first unknown name (with its value and the known names), or the first
        required name not given.

    Examples
    --------
    >>> from edgeopt._validation import check_options
    >>> check_options({"carrier_hz": 2e9}, "model 'x'", required=("carrier_hz",))
    >>> try:
    ...     check_options({"exponent": 2.0}, "model 'x'", required=("carrier_hz",))
    ... except ValueError as exc:
    ...     print(exc)
    exponent=2.0 is invalid: expected an option of model 'x' (carrier_hz)
    """
    needed = tuple(required)
    known = needed + tuple(optional)
    for key, value in options.items():
        if key not in known:
            listed = ", ".join(known) if known else "it takes none"
            raise _fail(key, value, f"an option of {owner} ({listed})")
    for key in needed:
        if key not in options:
            raise missing_input(key, f"a value: {owner} needs {', '.join(needed)}")


#: A per-method option schema: option name -> (default, check), where ``check(value, name)``
#: returns the normalized value or raises (e.g. ``functools.partial(check_int, min_value=1)``).
OptionSchema = Mapping[str, tuple[Any, Callable[[Any, str], Any]]]


def check_option_schema(
    options: Mapping[str, Any], owner: str, schema: OptionSchema
) -> dict[str, Any]:
    """Check keyword options against a schema of defaults and checks; fill in the defaults.

    The names are checked by :func:`check_options` (every option is optional), then each
    given value by its own check.

    Parameters
    ----------
    options : mapping of str to Any
        The options given (typically a ``**kwargs`` dict).
    owner : str
        What takes them, as the user named it (``"method='dc'"``).
    schema : mapping of str to (default, check)
        Each option's default and the check that normalizes a given value; ``check`` is
        called as ``check(value, name)`` (the helpers of this module fit, with
        :func:`functools.partial` for their keyword arguments).

    Returns
    -------
    dict
        Every option of the schema: the checked value where given, else the default.

    Raises
    ------
    InvalidInputError
        An unknown option (naming it, with the known ones), or a value its check refuses.

    Examples
    --------
    >>> from functools import partial
    >>> from edgeopt._validation import check_int, check_option_schema
    >>> schema = {"restarts": (8, partial(check_int, min_value=0))}
    >>> check_option_schema({}, "method='all'", schema)
    {'restarts': 8}
    >>> check_option_schema({"restarts": 2}, "method='all'", schema)
    {'restarts': 2}
    >>> try:
    ...     check_option_schema({"tol": 1e-3}, "method='all'", schema)
    ... except ValueError as exc:
    ...     print(exc)
    tol=0.001 is invalid: expected an option of method='all' (restarts)
    """
    check_options(options, owner, optional=schema)
    out = {key: default for key, (default, _) in schema.items()}
    for key, value in options.items():
        out[key] = schema[key][1](value, key)
    return out


def check_channels(
    value: Any,
    name: str = "channels",
    *,
    ndim: int | Iterable[int] = 2,
    min_devices: int = 0,
) -> NDArray[np.complex128]:
    """Check the channels of ``K`` devices at an ``N``-antenna receiver, shape ``(..., K, N)``.

    Parameters
    ----------
    value : array_like of complex or real numbers, shape (..., K, N)
        Channel ``h_i`` of device ``i`` in row ``i`` (batch axes first).  A real-valued
        array is a valid complex one (zero imaginary parts).
    name : str
        Argument name for error messages.
    ndim : int or iterable of int
        Allowed numbers of dimensions, each ``>= 2`` (default 2: one ``(K, N)`` matrix).
    min_devices : int
        The least ``K`` accepted (default 0).

    Returns
    -------
    numpy.ndarray of complex128, shape (..., K, N)

    Raises
    ------
    InvalidInputError
        Bools, text or other non-numbers, NaN or inf, another number of dimensions, no
        antenna (``N = 0``) or fewer than ``min_devices`` devices.

    Examples
    --------
    >>> from edgeopt._validation import check_channels
    >>> check_channels([[1.0, 0.5j]]).shape, check_channels([[1.0, 0.5j]]).dtype
    ((1, 2), dtype('complex128'))
    """
    arr = check_complex_array(value, name, ndim=ndim)
    if arr.ndim < 2 or arr.shape[-1] < 1:
        raise _fail(name, value, "channels of shape (..., K, N) with N >= 1 antennas")
    if arr.shape[-2] < min_devices:
        raise _fail(name, value, f"at least {min_devices} device(s) (K >= {min_devices})")
    return arr


def check_beamformer(
    value: Any, num_antennas: int, name: str = "beamformer"
) -> NDArray[np.complex128]:
    """Check a receive beamformer: a finite, non-zero complex ``(N,)`` vector.

    Parameters
    ----------
    value : array_like of complex or real numbers, shape (N,)
        The beamformer (a real vector is a valid complex one).
    num_antennas : int
        The required length ``N``.
    name : str
        Argument name for error messages.

    Returns
    -------
    numpy.ndarray of complex128, shape (N,)

    Raises
    ------
    InvalidInputError
        As :func:`check_complex_array`, another length, or all zeros.

    Examples
    --------
    >>> from edgeopt._validation import check_beamformer
    >>> check_beamformer([1.0, 1j], 2)
    array([1.+0.j, 0.+1.j])
    """
    m = check_complex_array(value, name, shape=(num_antennas,))
    if not np.any(m != 0):
        raise _fail(name, value, "a non-zero vector")
    return m


def check_weights(value: Any, num_devices: int, name: str = "weights") -> NDArray[np.float64]:
    """Check per-device aggregation weights: finite, ``> 0``, shape ``(K,)``; default ones.

    Parameters
    ----------
    value : array_like of float, shape (K,), or None
        The weights ``w_i > 0``; ``None`` gives all ones.
    num_devices : int
        The required length ``K``.
    name : str
        Argument name for error messages.

    Returns
    -------
    numpy.ndarray of float64, shape (K,)

    Raises
    ------
    InvalidInputError
        As :func:`check_array`, another length, or a weight ``<= 0``.

    Examples
    --------
    >>> from edgeopt._validation import check_weights
    >>> check_weights(None, 3), check_weights([2, 1], 2)
    (array([1., 1., 1.]), array([2., 1.]))
    """
    if value is None:
        return np.ones(num_devices)
    return check_array(value, name, shape=(num_devices,), positive=True)


def check_powers(value: Any, num_devices: int, name: str = "power_w") -> NDArray[np.float64]:
    """Check per-device powers in watts: one scalar for every device or a ``(K,)`` array,
    finite and ``> 0``.

    Parameters
    ----------
    value : float or array_like of float, shape (K,)
        One power for every device, or device ``i``'s power in entry ``i``.
    num_devices : int
        The number of devices ``K``.
    name : str
        Argument name for error messages.

    Returns
    -------
    numpy.ndarray of float64, shape (K,)

    Raises
    ------
    InvalidInputError
        As :func:`check_scalar` for a scalar, as :func:`check_array` for an array (another
        length, a power ``<= 0``, NaN or inf).

    Examples
    --------
    >>> from edgeopt._validation import check_powers
    >>> check_powers(2.0, 3), check_powers([1.0, 0.5], 2)
    (array([2., 2., 2.]), array([1. , 0.5]))
    """
    if _real_item(value) is not None or np.ndim(value) == 0:
        return np.full(num_devices, check_scalar(value, name, positive=True))
    return check_array(value, name, shape=(num_devices,), positive=True)


def _real_item(value: Any) -> float | None:
    """``value`` as a float if it is one real number (not bool, not complex), else None.

    Python and NumPy real numbers count, and so does any 0-d array-like with ``.item()``
    (NumPy 0-d arrays, 0-d torch tensors...), recognised by duck typing.
    """
    if isinstance(value, bool | np.bool_ | str | bytes):
        return None
    if not isinstance(value, numbers.Real):
        item = getattr(value, "item", None)
        if isinstance(value, numbers.Complex) or getattr(value, "ndim", None) != 0:
            return None
        if not callable(item):
            return None
        try:
            value = item()
        except Exception:  # an item that cannot be read is not a number
            return None
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            return None
    try:
        return float(value)
    except OverflowError:  # an int beyond float64: not a finite number, refused as such
        return float("inf")


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
        Any real scalar: a Python ``int``/``float``/``Fraction``, a NumPy real scalar
        (``np.float32(2)``), a 0-d NumPy array or a 0-d tensor of another array library
        (torch, ...), read with its ``.item()``.  Bools and complex numbers are refused.
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

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt._validation import check_scalar
    >>> check_scalar(np.float32(0.5), "power_w"), check_scalar(np.array(2), "power_w")
    (0.5, 2.0)
    """
    out = _real_item(value)
    if out is None:
        raise _fail(name, value, "a real number")
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


def check_int_array(
    value: Any,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    shape: tuple[int | None, ...] | None = None,
    min_value: int | None = None,
    allow_empty: bool = True,
) -> NDArray[np.int64]:
    """Convert an integer or array of integers (counts: samples per device...) to int64.

    Floats are refused, integral or not, as in :func:`check_int`: a count given as a float
    is usually a bug.

    Parameters
    ----------
    value : int or array_like of int
    name : str
        Argument name for error messages.
    ndim, shape, allow_empty
        As in :func:`check_array`.
    min_value : int, optional
        Inclusive lower bound of every entry.

    Returns
    -------
    numpy.ndarray of int64

    Raises
    ------
    InvalidInputError
        Floats, bools, text, integers beyond int64, wrong shape, or an entry below
        ``min_value``.

    Examples
    --------
    >>> from edgeopt._validation import check_int_array
    >>> check_int_array([300, 700], "num_samples", shape=(2,), min_value=0)
    array([300, 700])
    """
    expected = "an integer or array of integers (not float, bool or text)"
    if isinstance(value, str | bytes) or value is None:
        raise _fail(name, value, expected)
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists, ints beyond every NumPy integer type
        raise _fail(name, value, expected) from exc
    if arr.dtype == object or arr.dtype.kind not in "iu":
        raise _fail(name, value, expected)
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise _fail(name, value, "integers below 2**63")
    arr = arr.astype(np.int64, copy=False)
    _check_layout(arr, value, name, ndim, shape, allow_empty)
    if min_value is not None and np.any(arr < min_value):
        raise _fail(name, value, f"integers >= {min_value}")
    return arr


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
        raise invalid_inputs(
            names, f"{expected}: the result is not representable in float64 (overflow)"
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
        raise invalid_inputs(shapes, "shapes that broadcast together") from exc


def check_device_vectors(
    nonneg: Iterable[str] = (), **arrays: Any
) -> dict[str, NDArray[np.float64]]:
    """Check per-device inputs together and broadcast them to one shape ``(K,)``.

    Each value is a real scalar or a non-empty 1-D array of finite numbers, ``> 0`` (``>= 0``
    for the names in ``nonneg``); the 1-D ones of length ``K`` or 1.  The common case costs
    one :func:`numpy.asarray` per value and one fused sign-and-finiteness test of all
    entries together (a minimum and a maximum); when that test fails, each value goes
    through :func:`check_array` and :func:`check_broadcast`, which name the argument.

    Parameters
    ----------
    nonneg : iterable of str
        Names whose entries may be 0.
    **arrays : float or array_like, shape () or (K,)
        The inputs, keyed by argument name.

    Returns
    -------
    dict of str to numpy.ndarray of float64, shape (K,)
        C-contiguous; the scalars and size-1 arrays repeated ``K`` times.

    Raises
    ------
    InvalidInputError
        Naming the first bad argument (or, for shapes, every argument with its shape).

    Examples
    --------
    >>> from edgeopt._validation import check_device_vectors
    >>> out = check_device_vectors(("compute_s",), power_w=[0.1, 0.2], compute_s=0.0)
    >>> out["compute_s"].tolist()
    [0.0, 0.0]
    >>> check_device_vectors(power_w=[0.1, -0.2])
    Traceback (most recent call last):
    ...
    edgeopt.errors.InvalidInputError: power_w=[0.1, -0.2] is invalid: expected values > 0
    """
    zero_ok = frozenset(nonneg)
    fast = True
    parts: dict[str, np.ndarray] = {}
    pos: list[np.ndarray] = []
    zero: list[np.ndarray] = []
    k = 1
    for name, value in arrays.items():
        try:
            arr = np.asarray(value)
        except Exception:  # ragged lists and the like: the slow path names them
            fast = False
            break
        if arr.dtype.kind not in "iuf" or arr.ndim > 1 or arr.size == 0:
            fast = False
            break
        parts[name] = arr
        if arr.size != 1:
            if k not in (1, arr.size):
                fast = False
                break
            k = arr.size
        (zero if name in zero_ok else pos).append(arr.ravel())
    if fast:
        every = pos + zero
        flat = np.concatenate(every) if len(every) > 1 else every[0]
        n_pos = sum(v.size for v in pos)
        fast = bool(flat.max() < np.inf)  # NaN compares False
        fast = fast and (n_pos == 0 or bool(flat[:n_pos].min() > 0))
        fast = fast and (n_pos == flat.size or bool(flat[n_pos:].min() >= 0))
    if not fast:
        checked = {
            name: check_array(
                value,
                name,
                ndim=(0, 1),
                allow_empty=False,
                positive=name not in zero_ok,
                nonneg=name in zero_ok,
            )
            for name, value in arrays.items()
        }
        sizes = {v.size for v in checked.values()} - {1}
        if len(sizes) > 1:
            check_broadcast(**checked)  # raises, naming every shape
        k = max(sizes, default=1)
        parts = checked
    return {
        name: np.ascontiguousarray(v, dtype=np.float64)
        if v.shape == (k,)
        else np.full(k, float(v.reshape(-1)[0]))
        for name, v in parts.items()
    }


class _TensorSummary:
    """Stands for a tensor in error messages: ``tensor(shape=(2, 3), dtype=torch.float32)``."""

    def __init__(self, value: Any) -> None:
        self.text = f"tensor(shape={tuple(value.shape)}, dtype={value.dtype})"

    def __repr__(self) -> str:
        return self.text


def check_finite_tensor(
    value: Any,
    name: str,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    allow_empty: bool = True,
) -> Any:
    """Check a torch tensor: its shape, and no NaN or inf in it; return it unchanged.

    torch is imported only when this runs, so importing this module never loads it.  The
    finiteness test reduces the tensor to its largest and smallest entries (both propagate
    NaN) and so makes no temporary of the tensor's size.

    Parameters
    ----------
    value : torch.Tensor
        The tensor to check (any dtype; integer tensors are always finite).
    name : str
        Argument name for error messages.
    ndim : int, optional
        Required number of dimensions.
    shape : tuple of int or None, optional
        Required shape; ``None`` entries match any length.
    allow_empty : bool
        Whether a tensor with no entries is accepted.

    Returns
    -------
    torch.Tensor
        ``value`` itself (not copied).

    Raises
    ------
    InvalidInputError
        Not a torch tensor, a complex tensor, the wrong number of dimensions or shape, empty
        where that is not allowed, or NaN or inf entries.

    Examples
    --------
    >>> import torch
    >>> from edgeopt._validation import check_finite_tensor
    >>> check_finite_tensor(torch.ones(2, 3), "updates", ndim=2).shape
    torch.Size([2, 3])
    >>> check_finite_tensor(torch.tensor([1.0, float("nan")]), "updates")
    Traceback (most recent call last):
    ...
    edgeopt.errors.InvalidInputError: updates=tensor(shape=(2,), dtype=torch.float32) is \
invalid: expected finite values (no NaN or inf)
    """
    import torch

    if not isinstance(value, torch.Tensor):
        raise _fail(name, value, "a torch.Tensor")
    shown = _TensorSummary(value)
    if value.is_complex():
        raise _fail(name, shown, "a real-valued tensor")
    layout: Any = value  # a tensor has the ``ndim`` and ``shape`` the layout check reads
    _check_layout(layout, shown, name, ndim, shape, allow_empty=True)
    if value.numel() == 0:
        if not allow_empty:
            raise _fail(name, shown, "a non-empty tensor")
        return value
    if value.dtype.is_floating_point and not (
        bool(torch.isfinite(value.amax())) and bool(torch.isfinite(value.amin()))
    ):
        raise _fail(name, shown, "finite values (no NaN or inf)")
    return value


def check_update_tensor(value: Any, name: str = "updates", *, num_rows: int | None = None) -> Any:
    """Check stacked model updates: a finite, real ``(K, d)`` torch tensor, ``K, d >= 1``.

    Parameters
    ----------
    value : torch.Tensor, shape (K, d)
        One update per row (per client).
    name : str
        Argument name for error messages (default ``"updates"``).
    num_rows : int, optional
        Required ``K``.

    Returns
    -------
    torch.Tensor
        ``value`` itself.

    Raises
    ------
    InvalidInputError
        As :func:`check_finite_tensor`, for anything but a non-empty finite 2-D tensor
        (with ``num_rows`` rows where given).

    Examples
    --------
    >>> import torch
    >>> from edgeopt._validation import check_update_tensor
    >>> tuple(check_update_tensor(torch.zeros(4, 10)).shape)
    (4, 10)
    """
    return check_finite_tensor(value, name, ndim=2, shape=(num_rows, None), allow_empty=False)


def check_mask(value: Any, name: str, length: int) -> NDArray[np.bool_]:
    """Check a boolean mask over ``length`` items (devices, clients): shape ``(length,)``.

    Parameters
    ----------
    value : array_like of bool, shape (length,)
        ``True``/``False`` entries (NumPy bools, a list of Python bools); numbers are
        refused, so that an index list is not mistaken for a mask.
    name : str
        Argument name for error messages.
    length : int
        Required length.

    Returns
    -------
    numpy.ndarray of bool, shape (length,)
        A copy.

    Raises
    ------
    InvalidInputError
        Anything but a 1-D boolean array of that length.

    Examples
    --------
    >>> from edgeopt._validation import check_mask
    >>> check_mask([True, False, True], "participants", 3).tolist()
    [True, False, True]
    >>> check_mask([0, 2], "participants", 3)
    Traceback (most recent call last):
    ...
    edgeopt.errors.InvalidInputError: participants=array(shape=(2,), dtype=int64) is invalid: \
expected a boolean mask of shape (3,)
    """
    try:
        arr = np.array(value)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype != np.bool_ or arr.shape != (length,):
        raise _fail(name, value if arr is None else arr, f"a boolean mask of shape ({length},)")
    return arr


def check_alignment_pattern(value: Any, name: str = "pattern") -> NDArray[np.float64]:
    """Check an alignment pattern: a 2-D array of 1.0 (wanted), 0.0 (interfering), NaN (free).

    Parameters
    ----------
    value : array_like of float, shape (R, M)
        Rows are virtual receivers, columns messages; NaN marks an entry left free.
    name : str
        Argument name for error messages.

    Returns
    -------
    numpy.ndarray of float64, shape (R, M)
        A copy.

    Raises
    ------
    InvalidInputError
        Not a non-empty 2-D real array; an entry other than 0, 1 or NaN (inf included); no
        wanted (1.0) entry at all.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt._validation import check_alignment_pattern
    >>> check_alignment_pattern([[1.0, np.nan], [0.0, 1.0]]).shape
    (2, 2)
    """
    if isinstance(value, str | bytes) or value is None:
        raise _fail(name, value, "a 2-D array of 1.0, 0.0 and NaN")
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _fail(name, value, "a 2-D array of 1.0, 0.0 and NaN") from exc
    if arr.ndim != 2 or arr.size == 0:
        raise _fail(name, arr, "a non-empty 2-D array (virtual receivers x messages)")
    fixed = ~np.isnan(arr)
    if np.any(fixed & (arr != 0.0) & (arr != 1.0)):
        raise _fail(name, arr, "entries 1.0 (wanted), 0.0 (interfering) or NaN (free) only")
    if not np.any(arr == 1.0):
        raise _fail(name, arr, "at least one wanted (1.0) entry")
    return arr
