"""Common random numbers: points differing only in the named parameters share their rng."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edgeopt.errors import InvalidInputError
from edgeopt.sweep import point_seed, read_store, run_sweep
from edgeopt.sweep._grid import code_version, point_key
from edgeopt.sweep._testing import toy_point

# "c" is the compared scheme; "a" and "b" are the scenario.
GRID = {"a": [1, 2, 3], "b": [0.5, 1.5], "c": ["x", "y", "z"]}
CRN = ("c",)


def _run(executor="serial", **kw):
    kw.setdefault("seed", 5)
    kw.setdefault("repeats", 2)
    return run_sweep(toy_point, GRID, executor=executor, progress=False, **kw)


def test_points_differing_only_in_a_crn_key_draw_identical_numbers():
    table = _run(common_random_numbers=CRN)
    assert table["error"].isna().all()
    by_scenario = table.groupby(["a", "b", "repeat"])
    for _, group in by_scenario:
        assert len(group) == 3  # the three schemes
        assert group["u"].nunique() == 1 and group["z"].nunique() == 1
    # every other difference (scenario or repeat) gives different draws
    firsts = by_scenario["u"].first()
    assert firsts.nunique() == len(firsts) == 3 * 2 * 2


def test_without_crn_every_point_draws_its_own_numbers():
    table = _run()
    assert table["u"].nunique() == len(table) == 3 * 2 * 3 * 2


def test_crn_draws_are_those_of_the_point_without_the_crn_keys():
    table = _run(common_random_numbers=CRN)
    for row in table.itertuples(index=False):
        rng = np.random.default_rng(point_seed(5, {"a": row.a, "b": row.b}, row.repeat))
        assert row.u == rng.random()
    # and point_seed with the keyword agrees with leaving the key out by hand
    a = point_seed(5, {"a": 1, "b": 0.5, "c": "x"}, 1, common_random_numbers=CRN)
    b = point_seed(5, {"a": 1, "b": 0.5}, 1)
    assert a.spawn_key == b.spawn_key and a.entropy == b.entropy


def test_two_crn_keys_and_order_do_not_matter():
    two = run_sweep(
        toy_point,
        GRID,
        seed=5,
        executor="serial",
        progress=False,
        common_random_numbers=["c", "b"],
    )
    assert two.groupby("a")["u"].nunique().eq(1).all()
    assert two["u"].nunique() == 3
    swapped = run_sweep(
        toy_point, GRID, seed=5, executor="serial", progress=False, common_random_numbers=("b", "c")
    )
    pd.testing.assert_frame_equal(two, swapped, check_exact=True)


def test_crn_is_identical_on_serial_and_processes():
    reference = _run(common_random_numbers=CRN)
    for batch_size in (None, 1, 4):
        table = _run("processes", common_random_numbers=CRN, batch_size=batch_size)
        pd.testing.assert_frame_equal(table, reference, check_exact=True)
    assert reference.attrs["sweep"]["common_random_numbers"] == ["c"]


@pytest.mark.slow
def test_crn_is_identical_on_a_dask_local_cluster():
    reference = _run(common_random_numbers=CRN)
    table = _run("dask", common_random_numbers=CRN)
    pd.testing.assert_frame_equal(table, reference, check_exact=True)


def test_store_keys_distinguish_crn_points_and_change_with_the_crn_setting(tmp_path):
    store = tmp_path / "s.sqlite"
    plain = _run(store=store)
    rows = read_store(store)
    assert len(rows) == len(plain) and rows["key"].is_unique
    # the same sweep with CRN: nothing is reused from the rows drawn with other seeds
    crn = _run(store=store, common_random_numbers=CRN)
    assert crn.attrs["sweep"]["reused"] == 0 and crn.attrs["sweep"]["computed"] == len(crn)
    rows = read_store(store)
    assert len(rows) == 2 * len(plain) and rows["key"].is_unique
    # resuming with the same setting reuses everything, and gives the same table
    again = _run(store=store, common_random_numbers=CRN)
    assert again.attrs["sweep"]["reused"] == len(again)
    pd.testing.assert_frame_equal(again, crn, check_exact=True)
    # and going back to no CRN reuses the first rows, not the CRN ones
    back = _run(store=store)
    assert back.attrs["sweep"]["reused"] == len(back)
    pd.testing.assert_frame_equal(back, plain, check_exact=True)


def test_point_key_depends_on_the_crn_names():
    code = code_version(toy_point)
    p = {"a": 1, "b": 0.5, "c": "x"}
    keys = {
        point_key(code, 1, p, 0),
        point_key(code, 1, p, 0, ("c",)),
        point_key(code, 1, p, 0, ("b", "c")),
        point_key(code, 1, {**p, "c": "y"}, 0, ("c",)),
    }
    assert len(keys) == 4
    assert point_key(code, 1, p, 0, ("c", "b")) == point_key(code, 1, p, 0, ("b", "c"))
    assert point_key(code, 1, p, 0, ()) == point_key(code, 1, p, 0)


@pytest.mark.parametrize(
    ("crn", "match"),
    [
        ("c", "tuple of parameter names"),
        (("c", 3), "non-empty parameter names"),
        (("d",), "names of grid parameters"),
    ],
)
def test_bad_crn_names_are_refused_before_any_work(tmp_path, crn, match):
    store = tmp_path / "s.sqlite"
    with pytest.raises(InvalidInputError, match="common_random_numbers") as info:
        _run(store=store, common_random_numbers=crn)
    assert match in str(info.value)
    assert not store.exists()


def test_point_seed_refuses_a_crn_name_not_in_the_point():
    with pytest.raises(InvalidInputError, match="common_random_numbers"):
        point_seed(1, {"a": 1}, common_random_numbers=("b",))
