"""Right-sizing and partitioning an early-exit network under a latency deadline (Edgent)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt import status as st
from edgeopt._validation import check_array, check_scalar, invalid_input, invalid_inputs
from edgeopt.offload.partition import partition_chain
from edgeopt.status import SolverStats

__all__ = ["EarlyExitResult", "right_size_and_partition"]


@dataclass(frozen=True)
class EarlyExitResult:
    """Result of :func:`right_size_and_partition`.

    Parameters
    ----------
    exit : int
        Index of the chosen exit (branch).
    split : int
        Layers of that branch run on the device (``0..L_b``, as in
        :func:`~edgeopt.offload.partition_chain`).
    accuracy : float
        The chosen exit's accuracy.
    latency_s : float
        End-to-end latency of the chosen exit and split, s.
    objective : float
        ``accuracy``.
    latency_table_s : list of numpy.ndarray
        Per exit ``b``, the latency of every split, shape ``(L_b + 1,)``.
    status : str
        ``"optimal"``, or ``"infeasible"`` when no exit and split meet the deadline (the
        result is then the fastest pair).
    solve_time_s : float
    stats : edgeopt.status.SolverStats
        ``solver_name="enumeration"``, ``iterations`` = (exit, split) pairs evaluated.

    Examples
    --------
    >>> from edgeopt.offload import right_size_and_partition
    >>> res = right_size_and_partition([0.8], [[1.0]], [[0.1]], [[8.0]], input_bits=8.0,
    ...                                rate_bps=8.0, deadline_s=0.5)
    >>> res.status, res.split, res.latency_s
    ('infeasible', 1, 1.0)
    """

    exit: int
    split: int
    accuracy: float
    latency_s: float
    objective: float
    latency_table_s: list[NDArray[np.float64]]
    status: str
    solve_time_s: float
    stats: SolverStats


def right_size_and_partition(
    accuracies: Any,
    device_time_s: Sequence[Any],
    server_time_s: Sequence[Any],
    output_bits: Sequence[Any],
    *,
    input_bits: float,
    rate_bps: float,
    deadline_s: float,
) -> EarlyExitResult:
    """Pick the early exit and split point of highest accuracy that meets a deadline.

    Exit ``b`` is the chain of its ``L_b`` layers (shared trunk, then its branch); with
    ``T_b(k)`` the latency of :func:`~edgeopt.offload.partition_chain` for ``k`` layers on
    the device, the choice is

    .. math::

        \\max_{b, k} \\; a_b \\quad \\text{s.t.} \\quad T_b(k) \\le T,

    by exact enumeration of every pair (ties: the smaller latency, then the earlier exit).

    Parameters
    ----------
    accuracies : array_like, shape (B,)
        Accuracy of each exit, in ``[0, 1]``.
    device_time_s, server_time_s, output_bits : sequence of B array_like
        Per exit ``b``, the per-layer times (s) and output bits of its chain, shape
        ``(L_b,)``.
    input_bits : float
    rate_bps : float
    deadline_s : float

    Returns
    -------
    EarlyExitResult

    Raises
    ------
    InvalidInputError
        Mismatched numbers of exits, negative times or bits, accuracies outside [0, 1].

    References
    ----------
    .. [1] E. Li, Z. Zhou, X. Chen, "Edge intelligence: on-demand deep learning model
       co-inference with device-edge synergy", ACM SIGCOMM MECOMM workshop 2018,
       doi:10.1145/3229556.3229562 (Algorithm 1: exit and partition selection).
    .. [2] S. Teerapittayanon, B. McDanel, H. T. Kung, "BranchyNet: fast inference via
       early exiting from deep neural networks", ICPR 2016, doi:10.1109/ICPR.2016.7900006.

    Examples
    --------
    >>> from edgeopt.offload import right_size_and_partition
    >>> res = right_size_and_partition(
    ...     [0.7, 0.9], [[0.1, 0.1], [0.1, 0.1, 0.5]], [[0.01, 0.01], [0.01, 0.01, 0.05]],
    ...     [[100.0, 10.0], [100.0, 100.0, 10.0]], input_bits=1000.0, rate_bps=1000.0,
    ...     deadline_s=0.5)
    >>> res.exit, res.split, res.accuracy
    (1, 1, 0.9)
    """
    start = time.perf_counter()
    acc = check_array(accuracies, "accuracies", ndim=1, nonneg=True, allow_empty=False)
    if np.any(acc > 1):
        raise invalid_input("accuracies", acc, "values in [0, 1]")
    n = acc.shape[0]
    if not (len(device_time_s) == len(server_time_s) == len(output_bits) == n):
        raise invalid_inputs(
            "accuracies, device_time_s, server_time_s, output_bits", "one entry per exit each"
        )
    deadline = check_scalar(deadline_s, "deadline_s", nonneg=True)
    table = []
    for b in range(n):
        res = partition_chain(
            device_time_s[b], server_time_s[b], output_bits[b],
            input_bits=input_bits, rate_bps=rate_bps,
        )  # fmt: skip
        table.append(res.latency_curve_s)
    best: tuple[float, float, int, int] | None = None  # (-accuracy, latency, exit, split)
    fastest: tuple[float, int, int] | None = None
    for b, curve in enumerate(table):
        for k, lat in enumerate(curve):
            if fastest is None or (lat, b, k) < fastest:
                fastest = (float(lat), b, k)
            if lat <= deadline:
                key = (-float(acc[b]), float(lat), b, k)
                if best is None or key < best:
                    best = key
    assert fastest is not None
    if best is None:
        lat, b, k = fastest
        status = st.INFEASIBLE
    else:
        _, lat, b, k = best
        status = st.OPTIMAL
    return EarlyExitResult(
        exit=b,
        split=k,
        accuracy=float(acc[b]),
        latency_s=lat,
        objective=float(acc[b]),
        latency_table_s=table,
        status=status,
        solve_time_s=time.perf_counter() - start,
        stats=SolverStats("enumeration", iterations=sum(len(c) for c in table)),
    )
