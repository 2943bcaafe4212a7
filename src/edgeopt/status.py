"""Status strings of solver results, one constant each (compare with ``==``).

Every solver result dataclass in edgeopt has a ``status`` field holding one of these.
"""

from __future__ import annotations

__all__ = ["OPTIMAL", "FEASIBLE", "INFEASIBLE", "TARGET_MISSED", "SOLVER_ERROR", "ALL_STATUSES"]

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

ALL_STATUSES = (OPTIMAL, FEASIBLE, INFEASIBLE, TARGET_MISSED, SOLVER_ERROR)
