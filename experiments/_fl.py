"""Helpers shared by the federated experiments (fl_aircomp, fl_latency, fl_compression,
fl_heterogeneous).

Each experiment builds its cell with :mod:`edgeopt.system` (:func:`normalized_cell` for the
papers' normalized setting, :func:`edgeopt.system.drop_devices` for a dropped cell) and
reads every fixed parameter (learning rate, local steps, batch size, model, partition,
band, powers, noise, ...) from ``params``, where :class:`edgeopt.repro.Experiment`'s
``constants`` put them.  :func:`train` runs FedAvg with those parameters.

A point of those experiments is one whole training run.  The sweep stores flat rows of
scalars, so the per-round curves travel as one JSON string column, ``curve_json``: an object
of equal-length lists (``test_accuracy``, ``selected_count``, ``cumulative_latency_s``,
``cumulative_energy_j``, ``cumulative_uplink_bits``), round 0 (the initial model, zero cost)
first.  :func:`mean_curves` decodes them and averages over repeats.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from edgeopt.federated.history import History

CURVE_KEYS = (
    "test_accuracy",
    "selected_count",
    "cumulative_latency_s",
    "cumulative_energy_j",
    "cumulative_uplink_bits",
)


#: The training parameters every FL experiment declares among its constants.
TRAINING_KEYS = ("data", "model", "partition", "local_steps", "lr", "batch_size")


def normalized_cell(params: dict[str, Any], num_clients: int) -> Any:
    """The normalized cell of ``params``: ``normalized_system`` with its SNR and band.

    Reads ``num_antennas``, ``power_w``, ``snr_db`` (``P/σ²`` with unit-gain CN(0, I)
    channels, per antenna: ``noise_w = P / 10^(snr_db/10)``) and ``bandwidth_hz``.
    """
    from edgeopt.system import normalized_system
    from edgeopt.units import db_to_lin

    power_w = float(params["power_w"])
    return normalized_system(
        num_clients,
        num_antennas=int(params["num_antennas"]),
        power_w=power_w,
        noise_w=power_w / float(db_to_lin(float(params["snr_db"]))),
        bandwidth_hz=float(params["bandwidth_hz"]),
    )


def train(params: dict[str, Any], rng: Any, aggregation: Any, **kwargs: Any) -> History:
    """:func:`~edgeopt.federated.run_fedavg` with the training parameters of ``params``.

    ``params`` holds :data:`TRAINING_KEYS` and ``rounds`` (and ``alpha`` for a Dirichlet
    partition); ``kwargs`` are the run's other arguments (``system``, ``participation``...).
    """
    from edgeopt.federated import run_fedavg

    options: dict[str, Any] = {"alpha": float(params["alpha"])} if "alpha" in params else {}
    batch = params["batch_size"]
    return run_fedavg(
        data=str(params["data"]),
        model=str(params["model"]),
        partition=str(params["partition"]),
        rounds=int(params["rounds"]),
        local_steps=int(params["local_steps"]),
        lr=float(params["lr"]),
        batch_size=None if batch is None else int(batch),
        aggregation=aggregation,
        rng=rng,
        **kwargs,
        **options,
    )


def summarize(hist: History) -> dict[str, Any]:
    """Flat scalar outputs of one run plus its curves as ``curve_json``."""
    k = int(hist.info["num_clients"])
    curves = {
        "test_accuracy": [hist.initial_test_accuracy, *hist.test_accuracy.tolist()],
        "selected_count": [k, *hist.selected_count.tolist()],
        "cumulative_latency_s": [0.0, *hist.cumulative_latency_s.tolist()],
        "cumulative_energy_j": [0.0, *hist.cumulative_energy_j.tolist()],
        "cumulative_uplink_bits": [0.0, *hist.cumulative_uplink_bits.tolist()],
    }
    finite = hist.aggregation_mse[np.isfinite(hist.aggregation_mse)]
    return {
        "final_accuracy": float(hist.test_accuracy[-1]),
        "best_accuracy": float(hist.test_accuracy.max()),
        "mean_selected": float(hist.selected_count.mean()),
        "mean_on_time": float(hist.on_time.sum(axis=1).mean()),
        "mean_sampled": float(hist.sampled.sum(axis=1).mean()),
        "empty_rounds": int(np.sum(hist.selected_count == 0)),
        "median_mse": float(np.median(finite)) if finite.size else 0.0,
        "total_latency_s": float(hist.cumulative_latency_s[-1]),
        "total_energy_j": float(hist.cumulative_energy_j[-1]),
        "total_uplink_bits": float(hist.cumulative_uplink_bits[-1]),
        "curve_json": json.dumps(curves, separators=(",", ":")),
    }


def mean_curves(table: pd.DataFrame, by: Sequence[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Average the decoded curves of the rows sharing the values of ``by`` (the repeats).

    Rows whose point failed (no ``curve_json``) are skipped.

    Returns
    -------
    dict
        Key: tuple of the ``by`` values; value: dict of mean curves (numpy arrays) and the
        number of runs ``n``.
    """
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    if "curve_json" not in table.columns:
        return out
    ok = table[table["curve_json"].notna()]
    for key, group in ok.groupby(list(by), sort=True):
        curves = [json.loads(c) for c in group["curve_json"]]
        length = min(len(c["test_accuracy"]) for c in curves)
        mean = {
            name: np.mean([np.asarray(c[name][:length], dtype=float) for c in curves], axis=0)
            for name in CURVE_KEYS
        }
        mean["n"] = len(curves)
        out[key if isinstance(key, tuple) else (key,)] = mean
    return out
