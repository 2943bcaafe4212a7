"""Grids of parameter points, canonical hashing and per-point seeds.

A grid is a dict.  A ``str`` key maps one parameter to a list of values; the lists of all
such keys are *crossed* (Cartesian product, the last key varying fastest).  A ``tuple`` key
names a *zipped* group: its value is a list of tuples, one value per name, and the group
contributes its rows as one crossed factor::

    {"snr_db": [0, 10], ("num_devices", "bandwidth_hz"): [(10, 1e6), (20, 2e6)]}

gives four points.  Each point is a plain ``dict`` of parameter name to value.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import edgeopt
from edgeopt._validation import check_int, invalid_config, invalid_configs, invalid_input

__all__ = [
    "normalize_grid",
    "expand_grid",
    "point_seed",
    "check_common_random_numbers",
    "params_hash",
    "code_version",
]

#: Column names the result table uses itself; no parameter or output may take them.
RESERVED_COLUMNS = frozenset({"repeat", "error"})

Source = str | Path | None


def _normalize_value(value: Any, name: str, where: Source = None) -> Any:
    """A JSON-able, canonical copy of one parameter value (NumPy scalars to Python)."""
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        out = float(value)
        if not math.isfinite(out):
            raise invalid_config(where, name, value, "a finite number")
        return out
    if isinstance(value, list | tuple):
        return [_normalize_value(v, f"{name}[{i}]", where) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out_map = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise invalid_config(where, name, value, f"a dict with string keys, not {k!r}")
            out_map[k] = _normalize_value(v, f"{name}[{k!r}]", where)
        return out_map
    raise invalid_config(
        where, name, value, "a number, string, bool, None, or a list or dict of those"
    )


def _check_name(name: Any, where: Source) -> str:
    if not isinstance(name, str) or not name:
        raise invalid_config(where, "parameter name", name, "a non-empty string")
    if name in RESERVED_COLUMNS:
        reserved = ", ".join(sorted(RESERVED_COLUMNS))
        raise invalid_config(
            where, "parameter name", name, f"a name that is not reserved for a column ({reserved})"
        )
    return name


def _as_list(values: Any, name: str, where: Source) -> list[Any]:
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
        raise invalid_config(where, name, values, "a list of values")
    if len(values) == 0:
        raise invalid_config(where, name, values, "a non-empty list of values")
    return list(values)


def normalize_grid(
    grid: Any, *, where: str | Path | None = None
) -> list[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """Check a grid and return its factors as ``[(names, rows), ...]``.

    Each factor is a tuple of parameter names (one name, or the names zipped together)
    and its rows, one tuple of values per row; values are made JSON-able and canonical
    (NumPy scalars become Python numbers).  :func:`expand_grid` crosses the factors.

    Parameters
    ----------
    grid : dict
        Parameter name to a list of values (a scalar means one value), or a tuple of
        names to a list of rows (parameters varied together).
    where : str or pathlib.Path, optional
        Where the grid was read (a configuration file), named in the error messages.

    Returns
    -------
    list of (tuple of str, list of tuple)

    Raises
    ------
    ConfigError
        Not a dict, empty lists, unequal zipped rows, repeated names, bad values.

    Examples
    --------
    >>> from edgeopt.sweep import normalize_grid
    >>> normalize_grid({"snr_db": [0, 10], ("k", "n"): [(1, 2), (3, 4)]})
    [(('snr_db',), [(0,), (10,)]), (('k', 'n'), [(1, 2), (3, 4)])]
    """
    if not isinstance(grid, Mapping):
        raise invalid_config(where, "grid", grid, "a dict of parameter lists")
    factors: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
    seen: set[str] = set()
    for key, values in grid.items():
        if isinstance(key, tuple):
            names = tuple(_check_name(k, where) for k in key)
            if not names:
                raise invalid_config(where, "grid key", key, "a non-empty tuple of names")
            rows = []
            for i, row in enumerate(_as_list(values, f"grid[{key!r}]", where)):
                row_list = _as_list(row, f"grid[{key!r}][{i}]", where)
                if len(row_list) != len(names):
                    raise invalid_config(
                        where,
                        f"grid[{key!r}][{i}]",
                        row,
                        f"{len(names)} values, one for each of {names}",
                    )
                rows.append(
                    tuple(
                        _normalize_value(v, f"grid[{key!r}][{i}][{n!r}]", where)
                        for n, v in zip(names, row_list, strict=True)
                    )
                )
        else:
            names = (_check_name(key, where),)
            rows = [
                (_normalize_value(v, f"grid[{key!r}][{i}]", where),)
                for i, v in enumerate(_as_list(values, f"grid[{key!r}]", where))
            ]
        for n in names:
            if n in seen:
                raise invalid_configs(
                    where, f"grid keys (parameter {n!r} appears twice)", "each parameter once"
                )
            seen.add(n)
        factors.append((names, rows))
    return factors


def expand_grid(grid: Mapping[Any, Any]) -> list[dict[str, Any]]:
    """List every parameter point of a grid, in a fixed order.

    Parameters
    ----------
    grid : dict
        ``str`` keys map a parameter to a list of values (crossed); a ``tuple`` of names
        maps to a list of equal-length tuples (zipped: varied together).  Values are
        numbers, strings, bools, None, or lists/dicts of those; NumPy scalars and arrays
        are converted to Python values.

    Returns
    -------
    list of dict
        One dict per point: the Cartesian product of the factors in key order, the last
        factor varying fastest.  An empty grid ``{}`` has one point, ``{}``.

    Raises
    ------
    ConfigError
        Empty lists, zipped rows of the wrong length, a name used twice, a reserved name
        (``repeat``, ``error``), or a value that is not plain data (NaN and inf included).

    Examples
    --------
    >>> from edgeopt.sweep import expand_grid
    >>> expand_grid({"snr_db": [0, 10], ("k", "b_hz"): [(1, 1e6), (2, 2e6)]})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'snr_db': 0, 'k': 1, 'b_hz': 1000000.0}, {'snr_db': 0, 'k': 2, 'b_hz': 2000000.0},
     {'snr_db': 10, 'k': 1, 'b_hz': 1000000.0}, {'snr_db': 10, 'k': 2, 'b_hz': 2000000.0}]
    """
    factors = normalize_grid(grid)
    points = []
    for combo in itertools.product(*(rows for _, rows in factors)):
        point: dict[str, Any] = {}
        for (names, _), row in zip(factors, combo, strict=True):
            point.update(zip(names, row, strict=True))
        points.append(point)
    return points


def canonical_json(value: Any) -> str:
    """Canonical JSON text (sorted keys, no spaces, no NaN) of plain data."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def params_hash(params: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of one parameter point.

    The hash depends only on the names and values (not on dict order), so it is stable
    across runs, machines and Python versions.  ``1`` and ``1.0`` hash differently, as the
    point function may treat them differently.

    Parameters
    ----------
    params : dict
        One parameter point (plain data; NumPy scalars and arrays are converted).

    Returns
    -------
    str
        64 hexadecimal digits.

    Raises
    ------
    ConfigError
        If a value is not plain data (or is NaN or infinite).

    Examples
    --------
    >>> from edgeopt.sweep import params_hash
    >>> params_hash({"a": 1, "b": "x"}) == params_hash({"b": "x", "a": 1})
    True
    >>> params_hash({"a": 1}) == params_hash({"a": 1.0})
    False
    """
    normal = _normalize_value(dict(params), "params")
    return hashlib.sha256(canonical_json(normal).encode()).hexdigest()


def seed_words(params: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """The first 128 bits of :func:`params_hash` as four 32-bit words."""
    digest = bytes.fromhex(params_hash(params))
    w = np.frombuffer(digest[:16], dtype="<u4")
    return (int(w[0]), int(w[1]), int(w[2]), int(w[3]))


def check_common_random_numbers(value: Any, name: str = "common_random_numbers") -> tuple[str, ...]:
    """Check a ``common_random_numbers`` argument: parameter names, returned sorted, unique.

    Parameters
    ----------
    value : sequence of str
        Parameter names (a tuple or list; a single name must be given as ``("name",)``).
    name : str
        The argument's name in the error message.

    Returns
    -------
    tuple of str
        The names, sorted and without repetitions.

    Raises
    ------
    InvalidInputError
        A string (not a sequence of names), or an element that is not a non-empty string.

    Examples
    --------
    >>> from edgeopt.sweep import check_common_random_numbers
    >>> check_common_random_numbers(["scheme", "method", "scheme"])
    ('method', 'scheme')
    """
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | set | frozenset):
        raise invalid_input(name, value, "a tuple of parameter names, e.g. ('scheme',)")
    for item in value:
        if not isinstance(item, str) or not item:
            raise invalid_input(name, value, "a tuple of non-empty parameter names")
    return tuple(sorted(set(value)))


def seed_params(
    params: Mapping[str, Any], common_random_numbers: Sequence[str] = ()
) -> dict[str, Any]:
    """The part of a point that seeds it: ``params`` without the common-random-number keys.

    Raises
    ------
    InvalidInputError
        A name of ``common_random_numbers`` that is not a parameter of the point.
    """
    names = check_common_random_numbers(common_random_numbers)
    missing = [n for n in names if n not in params]
    if missing:
        raise invalid_input(
            "common_random_numbers",
            names,
            f"names of parameters of the point (not {', '.join(map(repr, missing))}; "
            f"the point has {', '.join(map(repr, params)) or 'no parameter'})",
        )
    return {k: v for k, v in params.items() if k not in names}


def point_seed(
    seed: int,
    params: Mapping[str, Any],
    repeat: int = 0,
    *,
    common_random_numbers: Sequence[str] = (),
) -> np.random.SeedSequence:
    """The seed of one point of a sweep.

    ``SeedSequence(entropy=seed, spawn_key=(w0, w1, w2, w3, repeat))`` where ``w0..w3`` are
    the first 128 bits of the SHA-256 of the canonical JSON (:func:`params_hash`) of the
    point without the parameters named in ``common_random_numbers``.  It depends only on
    the root seed, those parameters of the point and the repeat index: never on the
    executor, the number of workers, the batch size, the completion order or the other
    points of the grid.  Use it to recompute one point by hand.

    *Common random numbers*: points that differ only in the parameters named in
    ``common_random_numbers`` (say the scheme being compared) get the same seed, so they
    draw the same random numbers and a difference between them is not mixed with seed
    noise.  Points that differ in any other parameter, or in the repeat index, get
    independent seeds.

    Parameters
    ----------
    seed : int >= 0
        Root seed of the sweep.
    params : dict
        The parameter point.
    repeat : int >= 0
        Monte Carlo repeat index.
    common_random_numbers : sequence of str, optional
        Parameters of ``params`` left out of the seed (default: none).

    Returns
    -------
    numpy.random.SeedSequence

    Raises
    ------
    InvalidInputError
        A negative or non-integer ``seed`` or ``repeat``, a name of
        ``common_random_numbers`` that is not in ``params`` (``ConfigError``, a subclass, if
        ``params`` is not plain data).

    References
    ----------
    NumPy Enhancement Proposal 19, *Random number generator policy* (2018), and the NumPy
    documentation of ``SeedSequence`` (spawn keys give independent, reproducible streams).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.sweep import point_seed
    >>> a = np.random.default_rng(point_seed(1, {"snr_db": 10}, 0)).random()
    >>> b = np.random.default_rng(point_seed(1, {"snr_db": 10}, 0)).random()
    >>> c = np.random.default_rng(point_seed(1, {"snr_db": 10}, 1)).random()
    >>> a == b, a == c
    (True, False)

    Two schemes compared on the same random numbers:

    >>> crn = ("scheme",)
    >>> x = np.random.default_rng(point_seed(1, {"snr_db": 10, "scheme": "a"},
    ...                                      common_random_numbers=crn)).random()
    >>> y = np.random.default_rng(point_seed(1, {"snr_db": 10, "scheme": "b"},
    ...                                      common_random_numbers=crn)).random()
    >>> z = np.random.default_rng(point_seed(1, {"snr_db": 20, "scheme": "a"},
    ...                                      common_random_numbers=crn)).random()
    >>> x == y, x == z
    (True, False)
    """
    seed = check_int(seed, "seed", min_value=0)
    repeat = check_int(repeat, "repeat", min_value=0)
    seeded = seed_params(params, common_random_numbers)
    return np.random.SeedSequence(entropy=seed, spawn_key=(*seed_words(seeded), repeat))


def code_version(func: Callable[..., Any]) -> str:
    """A string identifying the code of a point function, part of every store key.

    It joins the function's module and qualified name, the edgeopt version, a hash of the
    installed edgeopt source tree (every ``.py`` file of the package) and a hash of the
    source file of the function's module (of the function's own source when the file
    cannot be read).  Editing the point function, its module, or any part of edgeopt
    (a kernel it calls, say) therefore invalidates stored results, so a resumed sweep never
    mixes results of two code versions.  A change in a helper module of your own that the
    point function imports is not seen: use ``force=True`` (``--force``) after such a change.

    Parameters
    ----------
    func : callable
        The point function (decorated functions are unwrapped first).

    Returns
    -------
    str
        ``"module:qualname@edgeopt-VERSION+pkg-HASH#src-HASH"`` (``#src-nosource`` when no
        source can be read, e.g. for built-ins).

    Examples
    --------
    >>> from edgeopt.sweep import code_version
    >>> from edgeopt.sweep.demo import rayleigh_outage
    >>> import edgeopt
    >>> text = code_version(rayleigh_outage)
    >>> text.split("@")[0]
    'edgeopt.sweep.demo:rayleigh_outage'
    >>> text.split("@")[1].startswith(f"edgeopt-{edgeopt.__version__}+pkg-")
    True
    >>> "#src-" in text
    True
    """
    target = inspect.unwrap(func)
    module = getattr(target, "__module__", None) or type(target).__module__
    qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
    source = b""
    try:
        source_file = inspect.getsourcefile(target)
        if source_file is not None:
            source = Path(source_file).read_bytes()
    except (OSError, TypeError):
        source = b""
    if not source:
        try:
            source = inspect.getsource(target).encode()
        except (OSError, TypeError):
            source = b""
    src_hash = hashlib.sha256(source).hexdigest()[:16] if source else "nosource"
    return f"{module}:{qualname}@edgeopt-{edgeopt.__version__}+pkg-{_package_hash()}#src-{src_hash}"


def _package_hash() -> str:
    """First 16 hex digits of the SHA-256 over edgeopt's ``.py`` files (paths and bytes)."""
    root = Path(edgeopt.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def point_key(
    code: str,
    seed: int,
    params: Mapping[str, Any],
    repeat: int,
    common_random_numbers: Sequence[str] = (),
) -> str:
    """Primary key of one stored result: hash of (code version, root seed, point, repeat, CRN).

    The whole point is hashed (the common-random-number parameters included), so points
    sharing a seed still have their own rows; the sorted ``common_random_numbers`` names
    are part of the key when there are any, so changing them never reuses a result drawn
    with other seeds (without them the key is that of a sweep without common random
    numbers).
    """
    normal = _normalize_value(dict(params), "params")
    data: dict[str, Any] = {"code": code, "params": normal, "repeat": int(repeat), "seed": seed}
    names = check_common_random_numbers(common_random_numbers)
    if names:
        data["common_random_numbers"] = list(names)
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()
