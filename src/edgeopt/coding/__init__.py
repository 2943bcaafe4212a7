"""Coded distributed computing for edge AI: straggler mitigation and coded shuffling.

Two parts (Shi et al., "Communication-efficient edge AI: algorithms and systems", IEEE
COMST 2020, §IV-B and §IV-E):

* **Straggler mitigation.**  Worker delay models (shifted exponential, Pareto, bimodal,
  empirical, with an optional wireless upload), gradient codes that let the server recover
  the full gradient from any ``n - s`` of ``n`` workers (fractional and cyclic, Tandon et
  al., ICML 2017), approximate gradient codes, MDS-coded matrix multiplication (Lee et al.,
  IEEE TIT 2018), the uncoded baselines, the closed-form expected completion times, a Monte
  Carlo simulator of completion times and a convex load allocation for heterogeneous workers.
* **Coded shuffling.**  Coded distributed computing (coded MapReduce) that trades
  computation load for communication load in the shuffle phase, on a shared link or
  through an access point (uplink and downlink loads, shuffle and job time, the optimal
  computation load).
"""

from __future__ import annotations

from edgeopt.coding.allocation import LoadAllocation, allocate_loads
from edgeopt.coding.cdc import (
    CDCResult,
    CDCScheme,
    Multicast,
    cdc_load,
    cdc_scheme,
    simulate_cdc,
    uncoded_load,
)
from edgeopt.coding.delays import (
    DELAY_MODELS,
    DelayModel,
    delay_model,
    from_system,
    upload_times,
)
from edgeopt.coding.gradient import (
    GRADIENT_SCHEMES,
    GradientCode,
    gc_expected_time,
    gradient_code,
    harmonic,
    optimal_stragglers,
)
from edgeopt.coding.lowrank import (
    RANK_METHODS,
    RankResult,
    minimize_rank,
    shuffle_alignment_matrix,
)
from edgeopt.coding.mds import MDSCode, mds_code, mds_expected_time
from edgeopt.coding.simulate import SCHEMES, Completion, scheme_plan, simulate_completion
from edgeopt.coding.wireless import (
    ACCESS_POINT_SCHEMES,
    DEFAULT_AP_POWER_DBM,
    DEFAULT_AP_POWER_W,
    access_point_loads,
    access_point_rates,
    access_point_shuffle_time_s,
    job_time_s,
    optimal_computation_load,
)

__all__: list[str] = [
    # straggler mitigation
    "allocate_loads",
    "LoadAllocation",
    "DELAY_MODELS",
    "DelayModel",
    "delay_model",
    "upload_times",
    "from_system",
    "GRADIENT_SCHEMES",
    "GradientCode",
    "gradient_code",
    "gc_expected_time",
    "optimal_stragglers",
    "harmonic",
    "MDSCode",
    "mds_code",
    "mds_expected_time",
    "SCHEMES",
    "Completion",
    "scheme_plan",
    "simulate_completion",
    # coded shuffling
    "cdc_load",
    "uncoded_load",
    "cdc_scheme",
    "CDCScheme",
    "Multicast",
    "simulate_cdc",
    "CDCResult",
    "shuffle_alignment_matrix",
    "minimize_rank",
    "RankResult",
    "RANK_METHODS",
    "ACCESS_POINT_SCHEMES",
    "DEFAULT_AP_POWER_DBM",
    "DEFAULT_AP_POWER_W",
    "access_point_loads",
    "access_point_rates",
    "access_point_shuffle_time_s",
    "job_time_s",
    "optimal_computation_load",
]
