"""The system model: a base station and a cell of heterogeneous devices.

The one description of a scenario that the solver families and the training loops build
on.  A :class:`System` joins a :class:`BaseStation` (antennas, band, noise figure, path
loss, fading, shadowing, server CPU) and its :class:`Devices` (distances, transmit powers,
CPU frequencies, capacitances, cycles per sample, data set sizes), and turns them into the
plain arrays solvers take: channels, average SNRs, rates, computation times and energies.

Two builders:

* :func:`normalized_system`: unit-gain CN(0, I) channels and a given noise power, the
  normalized setting of many papers;
* :func:`drop_devices`: K devices dropped area-uniformly in a cell, with defaults from the
  3GPP TR 36.814 macro-cell case.

Examples
--------
>>> from edgeopt.system import drop_devices
>>> system = drop_devices(20, rng=0, num_samples=(100, 500))
>>> h = system.channels(rng=1)
>>> h.shape
(20, 1)
>>> system.rates_bps(h, system.base_station.bandwidth_hz / 20).shape
(20,)
"""

from __future__ import annotations

from edgeopt.system.builders import drop_devices, normalized_system
from edgeopt.system.model import (
    DEFAULT_BANDWIDTH_HZ,
    DEFAULT_CPU_FREQ_HZ,
    DEFAULT_KAPPA,
    DEFAULT_MIN_RADIUS_M,
    DEFAULT_NOISE_FIGURE_DB,
    DEFAULT_RADIUS_M,
    DEFAULT_SERVER_CPU_FREQ_HZ,
    DEFAULT_SHADOWING_SIGMA_DB,
    DEFAULT_TX_POWER_DBM,
    DEFAULT_TX_POWER_W,
    INTER_SITE_DISTANCE_M,
    BaseStation,
    Devices,
    System,
)

__all__ = [
    "BaseStation",
    "Devices",
    "System",
    "normalized_system",
    "drop_devices",
    "INTER_SITE_DISTANCE_M",
    "DEFAULT_RADIUS_M",
    "DEFAULT_MIN_RADIUS_M",
    "DEFAULT_BANDWIDTH_HZ",
    "DEFAULT_NOISE_FIGURE_DB",
    "DEFAULT_SHADOWING_SIGMA_DB",
    "DEFAULT_TX_POWER_DBM",
    "DEFAULT_TX_POWER_W",
    "DEFAULT_CPU_FREQ_HZ",
    "DEFAULT_KAPPA",
    "DEFAULT_SERVER_CPU_FREQ_HZ",
]
