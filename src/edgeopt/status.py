"""What every solver result of edgeopt carries: its status and its solver statistics.

Every solver result dataclass in edgeopt has a ``status`` field holding one of the status
strings below and a ``stats`` field holding a :class:`SolverStats`.  Compare a status with
``==`` or test its group by membership, as with CVXPY's ``SOLUTION_PRESENT``:

>>> from edgeopt import status
>>> "feasible" in status.SOLUTION_PRESENT, "infeasible" in status.SOLUTION_PRESENT
(True, False)
>>> status.LIMIT_REACHED in status.SOLUTION_PRESENT
True

Groups:

* :data:`SOLUTION_PRESENT` -- the result's decision meets every constraint of the problem;
  use it.  It holds ``"optimal"`` and ``"feasible"`` (the method ran as specified) and
  ``"limit_reached"``: a limit the caller set (a time limit or an iteration limit) stopped
  the method early and the decision is the best verified one found by then, as CVXPY's
  ``USER_LIMIT``.
* :data:`INF_OR_UNB` -- the problem has no feasible point (edgeopt's problems are bounded,
  so the group holds ``"infeasible"`` only); the decision is the empty or trivial one.
* :data:`ERRORS` -- a numerical solver failed, so the method did not run as specified; the
  family's documentation says what, if anything, the decision still guarantees.

``"target_missed"`` is in none of them: the decision is a fixed one (e.g. "every device")
that was evaluated and does not meet its target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "OPTIMAL",
    "FEASIBLE",
    "INFEASIBLE",
    "TARGET_MISSED",
    "SOLVER_ERROR",
    "LIMIT_REACHED",
    "ALL_STATUSES",
    "SOLUTION_PRESENT",
    "INF_OR_UNB",
    "ERRORS",
    "SolverStats",
]

#: The returned point is optimal for the stated problem (exact methods).
OPTIMAL = "optimal"
#: The returned point satisfies every constraint; optimality is not certified (heuristics).
FEASIBLE = "feasible"
#: No point satisfies the constraints; the returned decision is the empty / trivial one.
INFEASIBLE = "infeasible"
#: A fixed decision (e.g. "all devices") was evaluated and does not meet its target.
TARGET_MISSED = "target_missed"
#: Every solver in the fallback chain failed numerically.
SOLVER_ERROR = "solver_error"

#: A limit set by the caller (time or iterations) stopped the method; the decision is the best
#: verified one found by then (it meets every constraint, like CVXPY's ``USER_LIMIT``).
LIMIT_REACHED = "limit_reached"

#: Every status string, in the order above.
ALL_STATUSES = (OPTIMAL, FEASIBLE, INFEASIBLE, TARGET_MISSED, SOLVER_ERROR, LIMIT_REACHED)

#: Statuses whose decision meets every constraint: ``result.status in SOLUTION_PRESENT``
#: means "use the decision" (with :data:`LIMIT_REACHED` the method was stopped early by a
#: limit the caller set, and the decision is the best verified one found by then).
SOLUTION_PRESENT = frozenset({OPTIMAL, FEASIBLE, LIMIT_REACHED})
#: Statuses of a problem without a feasible point (named after CVXPY's group; edgeopt's
#: problems are bounded, so it holds :data:`INFEASIBLE` only).
INF_OR_UNB = frozenset({INFEASIBLE})
#: Statuses of a numerical failure of the solvers (the method did not run as specified).
ERRORS = frozenset({SOLVER_ERROR})


@dataclass(frozen=True)
class SolverStats:
    """Solver statistics of one solver result, the same record in every family.

    Parameters
    ----------
    solver_name : str
        What computed the decision: the method's name and, after a slash, the numerical
        solver or backend it calls where there is one (``"dc/clarabel"``, ``"fast"``).
    iterations : int or None
        The method's outer iterations: the units of work its documentation names (for
        example convex programs solved, or successive-convex-approximation runs), counted
        the same way whatever the outcome.  ``None`` for a method without iterations (a
        closed form).  Safeguards run after the method (checks, repairs, fallbacks) are not
        counted here; a family reports them in ``extra``.
    setup_time_s : float or None
        Wall-clock seconds spent before the first iteration: input checks and building the
        problem data (programs, scaled inputs).  ``None`` where it is not measured.  The
        result's own ``solve_time_s`` is the whole call, setup included.
    extra : Mapping[str, Any]
        Family-specific counters (documented with the family's result type); stored as a
        copy (a plain ``dict``, so that results pickle).

    Examples
    --------
    >>> from edgeopt.status import SolverStats
    >>> stats = SolverStats("fast", iterations=3, setup_time_s=1e-5, extra={"repairs": 0})
    >>> stats.iterations, dict(stats.extra)
    (3, {'repairs': 0})
    """

    solver_name: str
    iterations: int | None
    setup_time_s: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", dict(self.extra))
