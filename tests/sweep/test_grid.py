"""Grid expansion, canonical hashing and per-point seeds."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeopt.errors import ConfigError, InvalidInputError
from edgeopt.sweep import code_version, expand_grid, params_hash, point_seed
from edgeopt.sweep._grid import point_key
from edgeopt.sweep._testing import toy_point


def test_crossed_grid_is_the_cartesian_product_in_key_order():
    grid = {"a": [1, 2, 3], "b": ["x", "y"], "c": [0.5]}
    points = expand_grid(grid)
    expected = [
        {"a": a, "b": b, "c": c} for a, b, c in itertools.product([1, 2, 3], ["x", "y"], [0.5])
    ]
    assert points == expected


def test_zipped_group_varies_together_and_crosses_with_the_rest():
    points = expand_grid({"snr_db": [0, 10], ("k", "b_hz"): [(1, 1e6), (2, 2e6), (3, 3e6)]})
    assert len(points) == 6
    for p in points:
        assert p["b_hz"] == p["k"] * 1e6
    assert [p["snr_db"] for p in points] == [0, 0, 0, 10, 10, 10]


def test_empty_grid_has_one_point():
    assert expand_grid({}) == [{}]


def test_numpy_values_become_python_values():
    points = expand_grid({"a": np.array([1, 2]), "b": [np.float64(0.5)]})
    assert points == [{"a": 1, "b": 0.5}, {"a": 2, "b": 0.5}]
    assert type(points[0]["a"]) is int and type(points[0]["b"]) is float


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ([1, 2], "expected a dict"),
        ({"a": []}, "empty list"),
        ({"a": 3}, "expected a list"),
        ({"a": "abc"}, "expected a list"),
        ({"a": [float("nan")]}, "finite"),
        ({"a": [object()]}, "expected a number"),
        ({"repeat": [1]}, "reserved"),
        ({"error": [1]}, "reserved"),
        ({"a": [1], ("a", "b"): [(1, 2)]}, "appears twice"),
        ({("a", "b"): [(1, 2, 3)]}, "expected 2 values"),
        ({3: [1]}, "non-empty string"),
    ],
)
def test_bad_grids_raise_config_error(grid, match):
    with pytest.raises(ConfigError, match=match):
        expand_grid(grid)
    assert issubclass(ConfigError, InvalidInputError)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text()),
        max_size=6,
    )
)
def test_params_hash_ignores_key_order(params):
    reordered = dict(reversed(list(params.items())))
    assert params_hash(params) == params_hash(reordered)


def test_params_hash_distinguishes_types_and_values():
    hashes = {
        params_hash(p)
        for p in ({"a": 1}, {"a": 1.0}, {"a": True}, {"a": "1"}, {"a": 2}, {"b": 1}, {"a": [1]})
    }
    assert len(hashes) == 7


def test_params_hash_is_stable_across_interpreters():
    """Independent of PYTHONHASHSEED and of the process: the seed of a point never drifts."""
    params = {"snr_db": 10.0, "n": 4, "tag": "x", "nested": [1, {"z": 0.25}]}
    code = (
        "from edgeopt.sweep import params_hash;"
        "print(params_hash({'snr_db': 10.0, 'n': 4, 'tag': 'x', 'nested': [1, {'z': 0.25}]}))"
    )
    outs = set()
    for hash_seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": ""},
            check=True,
        )
        outs.add(run.stdout.strip())
    assert outs == {params_hash(params)}


def test_point_seed_depends_on_root_point_and_repeat_only():
    def draw(seed, params, repeat):
        return np.random.default_rng(point_seed(seed, params, repeat)).random(4)

    base = draw(1, {"a": 1, "b": 2}, 0)
    np.testing.assert_array_equal(base, draw(1, {"b": 2, "a": 1}, 0))
    for other in (draw(2, {"a": 1, "b": 2}, 0), draw(1, {"a": 1, "b": 3}, 0)):
        assert not np.array_equal(base, other)
    assert not np.array_equal(base, draw(1, {"a": 1, "b": 2}, 1))


def test_point_seed_streams_are_distinct_over_a_grid():
    draws = {
        float(np.random.default_rng(point_seed(0, p, r)).random())
        for p in expand_grid({"a": list(range(30)), "b": [0.0, 1.0]})
        for r in range(3)
    }
    assert len(draws) == 180


def test_point_key_covers_code_seed_params_repeat():
    code = code_version(toy_point)
    keys = {
        point_key(code, 1, {"a": 1}, 0),
        point_key(code + "x", 1, {"a": 1}, 0),
        point_key(code, 2, {"a": 1}, 0),
        point_key(code, 1, {"a": 2}, 0),
        point_key(code, 1, {"a": 1}, 1),
    }
    assert len(keys) == 5


def test_code_version_names_function_version_and_source():
    text = code_version(toy_point)
    assert text.startswith("edgeopt.sweep._testing:toy_point@edgeopt-")
    assert "#src-" in text and "nosource" not in text
    # a function without readable source still gets a version string
    assert code_version(len).endswith("#src-nosource")


@given(
    st.lists(st.integers(min_value=1, max_value=4), min_size=0, max_size=4),
    st.integers(min_value=0, max_value=3),
)
def test_grid_size_is_the_product_and_points_are_distinct(lengths, zipped_len):
    grid: dict = {f"p{i}": list(range(n)) for i, n in enumerate(lengths)}
    if zipped_len:
        grid[("z1", "z2")] = [(k, -k) for k in range(zipped_len)]
    points = expand_grid(grid)
    assert len(points) == int(np.prod(lengths)) * (zipped_len or 1)
    assert len({params_hash(p) for p in points}) == len(points)


@pytest.mark.parametrize(("seed", "repeat"), [(-1, 0), (1.5, 0), (1, -1), (True, 0)])
def test_point_seed_rejects_bad_seed_and_repeat(seed, repeat):
    with pytest.raises(InvalidInputError):
        point_seed(seed, {"a": 1}, repeat)


def test_code_version_sees_module_and_package_edits(tmp_path, monkeypatch):
    import importlib.util

    import edgeopt
    from edgeopt.sweep import _grid

    def load(text):
        path = tmp_path / "user_points.py"
        path.write_text(text)
        spec = importlib.util.spec_from_file_location("user_points", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.point

    body = "def point(params, rng):\n    return {'y': helper()}\n"
    first = code_version(load(body + "def helper():\n    return 1\n"))
    # Same point function, edited helper in its module: a different code version.
    second = code_version(load(body + "def helper():\n    return 2\n"))
    assert first != second

    # An edit anywhere in the edgeopt package changes the package part of the version.
    fake = tmp_path / "pkg"
    (fake / "sub").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "sub" / "kernel.py").write_text("X = 1\n")
    monkeypatch.setattr(edgeopt, "__file__", str(fake / "__init__.py"))
    before = _grid._package_hash()
    (fake / "sub" / "kernel.py").write_text("X = 2\n")
    assert _grid._package_hash() != before
