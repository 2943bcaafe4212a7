"""Aggregation-frequency control and round resource allocation for federated learning.

How many local updates ``τ`` to run between global aggregations under a budget of time or
energy (Wang et al., IEEE JSAC 2019), and how to split a round's bandwidth and CPU
frequencies so that a synchronous round is short or cheap.

Examples
--------
>>> from edgeopt import frequency
>>> frequency.optimal_tau(beta=1.0, delta=0.1, rho=1.0, eta=0.1, phi=0.05,
...                       budget=1000.0, local_cost=1.0, global_cost=10.0)
4
"""

from __future__ import annotations

from edgeopt.frequency.bandwidth import (
    METHODS,
    TOLERANCE,
    BandwidthAllocation,
    allocate_bandwidth,
)
from edgeopt.frequency.bound import convergence_bound, gap_h, optimal_tau, total_local_steps
from edgeopt.frequency.controller import (
    RESOURCES,
    AdaptiveTauController,
    Estimates,
    RoundStats,
    estimate_constants,
)
from edgeopt.frequency.energy import EnergyAllocation, minimize_round_energy

__all__ = [
    "convergence_bound",
    "gap_h",
    "optimal_tau",
    "total_local_steps",
    "AdaptiveTauController",
    "RoundStats",
    "Estimates",
    "estimate_constants",
    "RESOURCES",
    "allocate_bandwidth",
    "BandwidthAllocation",
    "minimize_round_energy",
    "EnergyAllocation",
    "METHODS",
    "TOLERANCE",
]
