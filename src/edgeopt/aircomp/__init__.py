"""Over-the-air computation (AirComp) for federated learning.

The MSE model of over-the-air aggregation with a multi-antenna receiver, device selection
with receive beamforming (Yang, Jiang, Shi, Ding, IEEE TWC 2020) and truncated channel
inversion for broadband analog aggregation (Zhu, Wang, Huang, IEEE TWC 2020).

Examples
--------
>>> import numpy as np
>>> from edgeopt import aircomp
>>> h = np.array([[1 + 0j, 0j]])
>>> round(aircomp.aircomp_mse(np.array([1 + 0j, 0j]), h, power_w=2.0, noise_w=1.0), 3)
0.5
"""

from __future__ import annotations

from edgeopt.aircomp.baa import (
    TruncatedInversion,
    baa_power_scaling,
    baa_truncation_ratio,
    truncated_channel_inversion,
)
from edgeopt.aircomp.model import TransmitScalars, aircomp_mse, transmit_scalars
from edgeopt.aircomp.selection import METHODS, AirCompSolution, select_devices

__all__ = [
    "aircomp_mse",
    "transmit_scalars",
    "TransmitScalars",
    "select_devices",
    "AirCompSolution",
    "METHODS",
    "truncated_channel_inversion",
    "baa_truncation_ratio",
    "baa_power_scaling",
    "TruncatedInversion",
]
