"""Federated learning loops with wireless aggregation in the loop (needs the ``torch`` extra).

Small PyTorch training loops in which the server aggregates the clients' updates through a
modelled uplink, so that the decisions of :mod:`edgeopt.aircomp` and the costs of
:mod:`edgeopt.cost` can be judged by what they do to learning:

* :func:`run_fedavg` — federated averaging, returns a :class:`History`;
* aggregation models :class:`IdealAggregation`, :class:`DigitalAggregation`,
  :class:`AirCompAggregation`, each round given a :class:`RoundContext` (channels, costs,
  random streams) by the loop, composed of pure pieces (:func:`weighted_average` and the
  NumPy functions of :mod:`edgeopt.federated.uplink`: complex packing, normalization, the
  AirComp receive model, the round costs);
* compressors :class:`QSGD`, :class:`TopK`, :class:`SignSGD`;
* data (:func:`digits_dataset`, :func:`synthetic_dataset`), partitions
  (:func:`partition`) and models (:func:`build_model`).

Importing this package imports torch; ``import edgeopt`` does not.
"""

from __future__ import annotations

from edgeopt.federated.aggregation import (
    Aggregation,
    AggregationOutcome,
    AirCompAggregation,
    DigitalAggregation,
    IdealAggregation,
    RoundContext,
    weighted_average,
)
from edgeopt.federated.compress import QSGD, Compressor, SignSGD, TopK
from edgeopt.federated.data import Dataset, digits_dataset, synthetic_dataset
from edgeopt.federated.history import History
from edgeopt.federated.loop import run_fedavg
from edgeopt.federated.partition import PARTITIONS, partition
from edgeopt.nn import MODELS, build_model

__all__ = [
    "run_fedavg",
    "History",
    "Aggregation",
    "AggregationOutcome",
    "RoundContext",
    "weighted_average",
    "IdealAggregation",
    "DigitalAggregation",
    "AirCompAggregation",
    "Compressor",
    "QSGD",
    "TopK",
    "SignSGD",
    "Dataset",
    "digits_dataset",
    "synthetic_dataset",
    "partition",
    "PARTITIONS",
    "build_model",
    "MODELS",
]
