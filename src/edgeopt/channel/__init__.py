"""Channel models: path loss, fading, uplink channels, rates and outage.

Everything public is importable from ``edgeopt.channel`` directly:

* path loss: :func:`~edgeopt.channel.pathloss.pathloss_db` (distances in metres; a
  distance below a model's range warns),
  :func:`~edgeopt.channel.pathloss.far_field_distance_m`;
* fading and channels: :func:`~edgeopt.channel.fading.rayleigh`,
  :func:`~edgeopt.channel.fading.rician`,
  :func:`~edgeopt.channel.fading.lognormal_shadowing_db`,
  :func:`~edgeopt.channel.fading.uplink_channels`;
* rates: :func:`~edgeopt.channel.rates.shannon_rate`,
  :func:`~edgeopt.channel.rates.ergodic_rate` (Monte Carlo, Numba),
  :func:`~edgeopt.channel.rates.rayleigh_ergodic_capacity` (closed form),
  :func:`~edgeopt.channel.rates.outage_probability` (closed form or Monte Carlo).

Examples
--------
>>> from edgeopt.channel import pathloss_db, rayleigh_ergodic_capacity
>>> round(float(pathloss_db(1000.0)), 1)
128.1
>>> round(float(rayleigh_ergodic_capacity(10.0)), 3)
2.907
"""

from __future__ import annotations

from edgeopt.channel.fading import (
    FADING_MODELS,
    lognormal_shadowing_db,
    rayleigh,
    rician,
    uplink_channels,
)
from edgeopt.channel.pathloss import (
    MACRO_MIN_DISTANCE_M,
    PATHLOSS_MODELS,
    SPEED_OF_LIGHT_M_PER_S,
    far_field_distance_m,
    pathloss_db,
)
from edgeopt.channel.rates import (
    ergodic_rate,
    outage_probability,
    rayleigh_ergodic_capacity,
    shannon_rate,
)

__all__ = [
    "FADING_MODELS",
    "PATHLOSS_MODELS",
    "SPEED_OF_LIGHT_M_PER_S",
    "MACRO_MIN_DISTANCE_M",
    "far_field_distance_m",
    "pathloss_db",
    "rayleigh",
    "rician",
    "lognormal_shadowing_db",
    "uplink_channels",
    "shannon_rate",
    "ergodic_rate",
    "rayleigh_ergodic_capacity",
    "outage_probability",
]
