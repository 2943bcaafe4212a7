"""Latency and energy models of communication and computation.

Every function is vectorized and broadcasts its arguments with NumPy rules; devices, where
they matter, are on the **last** axis.  Inputs are checked (finite, right sign) and bad input
raises :class:`~edgeopt.errors.InvalidInputError` naming the argument.

The models are the ones used throughout the edge-learning literature:

* latency of ``N`` training rounds, each moving ``L`` bits at rate ``r`` and computing for
  ``T`` seconds: ``L/r·N + T·N`` (survey Eq. 1);
* a synchronous round waits for its slowest device: ``max_i (L_i/r_i + T_i)``;
* CMOS computation: time ``C/f`` and energy ``κ·C·f²`` for ``C`` cycles at clock ``f``
  (Burd and Brodersen, "Processor design for portable systems", 1996; used e.g. by
  Tran et al., "Federated learning over wireless networks", INFOCOM 2019, Eq. 3–4);
* transmission energy ``p·L/r`` (power times air time).
"""

from __future__ import annotations

from edgeopt.cost.models import (
    compute_energy,
    compute_time,
    round_latency,
    total_latency,
    transmit_energy,
)

__all__ = ["total_latency", "round_latency", "compute_time", "compute_energy", "transmit_energy"]
