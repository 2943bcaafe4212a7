"""Offloading and DNN-partition decisions.

Where should inference or a task run -- on the device, on the edge server, or split between
them -- given the wireless link?  DNN partitioning of chains (:func:`partition_chain`,
Neurosurgeon) and of layer DAGs (:func:`partition_dag`, DADS, one minimum s–t cut), early exit
with partitioning (:func:`right_size_and_partition`, Edgent), partial offloading of a divisible
task (:func:`partial_offloading`), and joint offloading decisions with bandwidth and server-CPU
allocation for many users (:class:`MultiUserOffloading`); the
per-layer profiles of five reference networks come from :func:`load_profile` (the data package
``edgeopt.profiles``).  Everything here is torch-free.

Examples
--------
>>> from edgeopt.offload import load_profile, partition_chain
>>> p = load_profile("vgg16")
>>> res = partition_chain(p.layer_times_s(2e10), p.layer_times_s(1e12), p.output_bits,
...                       input_bits=p.input_bits, rate_bps=1e9)
>>> 0 <= res.split <= len(p.layers)
True
"""

from __future__ import annotations

from edgeopt.offload.early_exit import EarlyExitResult, right_size_and_partition
from edgeopt.offload.multiuser import MULTIUSER_METHODS, MultiUserOffloading, OffloadingResult
from edgeopt.offload.partial import PARTIAL_METHODS, PartialOffloadingResult, partial_offloading
from edgeopt.offload.partition import (
    OBJECTIVES,
    DagPartitionResult,
    PartitionResult,
    dag_costs,
    partition_chain,
    partition_dag,
)
from edgeopt.profiles import DeviceProfile, ModelProfile, load_device_profile, load_profile

__all__ = [
    "OBJECTIVES",
    "PartitionResult",
    "DagPartitionResult",
    "partition_chain",
    "partition_dag",
    "dag_costs",
    "right_size_and_partition",
    "EarlyExitResult",
    "partial_offloading",
    "PartialOffloadingResult",
    "PARTIAL_METHODS",
    "MultiUserOffloading",
    "OffloadingResult",
    "MULTIUSER_METHODS",
    "ModelProfile",
    "DeviceProfile",
    "load_profile",
    "load_device_profile",
]
