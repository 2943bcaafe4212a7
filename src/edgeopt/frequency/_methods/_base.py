"""What every bandwidth-allocation method receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class BandwidthProblem:
    """Checked inputs of the min-max round-time problem, arrays of shape ``(K,)``.

    ``snr_bandwidth_hz`` is ``a_i = p_i g_i / N0``, so ``r_i(b) = b log2(1 + a_i/b)``.
    """

    payload_bits: NDArray[np.float64]
    snr_bandwidth_hz: NDArray[np.float64]
    compute_s: NDArray[np.float64]
    total_bandwidth_hz: float


@dataclass(frozen=True)
class MethodResult:
    """A method's answer: per-device bandwidth, status, solver name, iterations, extras."""

    bandwidth_hz: NDArray[np.float64]
    status: str
    solver_name: str
    iterations: int | None
    extra: dict[str, Any] = field(default_factory=dict)
