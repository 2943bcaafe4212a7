"""Status strings, their groups and the solver-statistics record of edgeopt.status."""

from __future__ import annotations

import pickle

import pytest

from edgeopt import status as st


def test_statuses_are_distinct_strings() -> None:
    assert len(set(st.ALL_STATUSES)) == len(st.ALL_STATUSES)
    assert all(isinstance(s, str) for s in st.ALL_STATUSES)


def test_groups_are_disjoint_and_made_of_known_statuses() -> None:
    groups = [st.SOLUTION_PRESENT, st.INF_OR_UNB, st.ERRORS]
    for group in groups:
        assert isinstance(group, frozenset) and group <= set(st.ALL_STATUSES)
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            assert not a & b
    # every status but "target_missed" (a fixed decision that misses its target) is grouped
    assert set(st.ALL_STATUSES) - set().union(*groups) == {st.TARGET_MISSED}


def test_group_membership() -> None:
    assert st.OPTIMAL in st.SOLUTION_PRESENT and st.FEASIBLE in st.SOLUTION_PRESENT
    assert st.INFEASIBLE in st.INF_OR_UNB and st.INFEASIBLE not in st.SOLUTION_PRESENT
    assert st.SOLVER_ERROR in st.ERRORS and st.SOLVER_ERROR not in st.SOLUTION_PRESENT
    assert st.TARGET_MISSED not in st.SOLUTION_PRESENT
    # a result cut short by a caller's limit still carries a verified decision (CVXPY's
    # USER_LIMIT)
    assert st.LIMIT_REACHED == "limit_reached" and st.LIMIT_REACHED in st.SOLUTION_PRESENT


def test_solver_stats_is_frozen_copies_extra_and_pickles() -> None:
    extra = {"failed_programs": 0}
    stats = st.SolverStats("dc/clarabel", iterations=12, setup_time_s=0.01, extra=extra)
    extra["failed_programs"] = 5  # the record keeps its own copy
    assert stats.extra == {"failed_programs": 0}
    with pytest.raises(AttributeError):
        stats.iterations = 3  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(stats)) == stats
    bare = st.SolverStats("closed-form", iterations=None)
    assert bare.setup_time_s is None and bare.extra == {}
