"""The per-round record of a federated training run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["History"]


@dataclass(frozen=True)
class History:
    """What happened in each round of :func:`~edgeopt.federated.run_fedavg`.

    Every per-round array has shape ``(rounds,)`` (the device masks ``(rounds, K)``);
    entry ``r`` describes round ``r + 1`` (the model after its aggregation).  With a τ
    controller the run may stop before ``rounds`` (its budget spent): ``rounds`` is then
    the number of rounds run.

    Parameters
    ----------
    test_accuracy : numpy.ndarray of float64
        Accuracy of the global model on the test set.
    train_loss : numpy.ndarray of float64
        Cross-entropy of the global model on the whole training set (all clients' data).
    selected_count : numpy.ndarray of int64
        Devices whose updates were aggregated (``aggregated.sum(axis=1)``).
    round_latency_s : numpy.ndarray of float64
        Wall time of the round: local computation plus uplink (see the aggregation model).
    cumulative_latency_s : numpy.ndarray of float64
    round_energy_j : numpy.ndarray of float64
        Energy spent by all devices in the round (computation plus transmission).
    cumulative_energy_j : numpy.ndarray of float64
    uplink_bits : numpy.ndarray of float64
        Bits sent by all devices in the round (digital schemes; ``0`` for analog AirComp,
        whose cost shows in latency and energy).
    cumulative_uplink_bits : numpy.ndarray of float64
    aggregation_mse : numpy.ndarray of float64
        The aggregation model's predicted per-entry error variance of the weighted sum,
        in the normalized units of ``mse`` in
        :class:`~edgeopt.federated.aggregation.AggregationOutcome` (AirComp's
        ``aircomp_mse``, dimensionless, not model units; ``inf`` in a round where no device
        could be selected; 0 for error-free schemes).
    initial_test_accuracy : float
        Accuracy of the initial model, before round 1.
    initial_parameters, final_parameters : numpy.ndarray of float64, shape (d,)
        The global model before round 1 and after the last round, flattened in the order
        of ``model.named_parameters()``.
    info : dict
        Run settings (data, model, clients, the completed ``system``, ``participation``,
        ``deadline_s``, ...), for reports.
    sampled : numpy.ndarray of bool, shape (rounds, K)
        Devices that took part in each round (``participation``).
    on_time : numpy.ndarray of bool, shape (rounds, K)
        Participants whose update made the round's deadline (all participants without
        one).
    aggregated : numpy.ndarray of bool, shape (rounds, K)
        Devices whose updates were aggregated (on time, and selected by AirComp).
    local_steps : numpy.ndarray of int64, shape (rounds,)
        Local updates ``τ`` each round ran (the same in every round for an integer
        ``local_steps``; the controller's choices otherwise).
    estimation_latency_s, estimation_energy_j : numpy.ndarray of float64, shape (rounds,)
        The part of ``round_latency_s`` and ``round_energy_j`` spent on the τ controller's
        estimation pass (0 without a controller that asks for estimates).

    Examples
    --------
    >>> from edgeopt.federated import DigitalAggregation, run_fedavg
    >>> from edgeopt.system import normalized_system
    >>> system = normalized_system(3, power_w=0.1, noise_w=1e-3, bandwidth_hz=1e6)
    >>> hist = run_fedavg(data="synthetic", model="logistic", system=system, rounds=4,
    ...                   local_steps=1, lr=0.5, batch_size=16, rng=1,
    ...                   aggregation=DigitalAggregation("tdma"))
    >>> hist.rounds, hist.test_accuracy.shape, hist.initial_parameters.shape  # d = 11 * 2
    (4, (4,), (22,))
    >>> hist.uplink_bits.tolist()  # 3 devices * 22 entries * 32 bits, every round
    [2112.0, 2112.0, 2112.0, 2112.0]
    >>> import numpy as np
    >>> bool(np.isclose(hist.cumulative_latency_s[-1], hist.round_latency_s.sum()))
    True
    >>> hist.sampled.shape, bool(hist.aggregated.all())  # full participation, no deadline
    ((4, 3), True)
    """

    test_accuracy: NDArray[np.float64]
    train_loss: NDArray[np.float64]
    selected_count: NDArray[np.int64]
    round_latency_s: NDArray[np.float64]
    cumulative_latency_s: NDArray[np.float64]
    round_energy_j: NDArray[np.float64]
    cumulative_energy_j: NDArray[np.float64]
    uplink_bits: NDArray[np.float64]
    cumulative_uplink_bits: NDArray[np.float64]
    aggregation_mse: NDArray[np.float64]
    initial_test_accuracy: float
    initial_parameters: NDArray[np.float64]
    final_parameters: NDArray[np.float64]
    info: dict[str, Any] = field(default_factory=dict)
    sampled: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    on_time: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    aggregated: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    local_steps: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    estimation_latency_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    estimation_energy_j: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @property
    def rounds(self) -> int:
        """Number of rounds recorded (the length of every per-round array).

        Returns
        -------
        int

        Examples
        --------
        >>> import numpy as np
        >>> from edgeopt.federated import History
        >>> z = np.zeros(2)
        >>> History(*[z] * 10, initial_test_accuracy=0.5, initial_parameters=z,
        ...         final_parameters=z).rounds
        2
        """
        return int(self.test_accuracy.size)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per round (column ``round`` counts from 1), one column per array.

        The device masks appear as counts: ``sampled_count`` and ``on_time_count``
        (``selected_count`` counts the aggregated devices).

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> from edgeopt.federated import IdealAggregation, run_fedavg
        >>> hist = run_fedavg(data="synthetic", model="logistic", num_clients=2, rounds=3,
        ...                   local_steps=1, lr=0.1, batch_size=8,
        ...                   aggregation=IdealAggregation(), rng=0)
        >>> hist.to_dataframe()["round"].tolist()
        [1, 2, 3]
        """
        import pandas as pd

        cols = {
            "round": np.arange(1, self.rounds + 1),
            "test_accuracy": self.test_accuracy,
            "train_loss": self.train_loss,
            "selected_count": self.selected_count,
            "round_latency_s": self.round_latency_s,
            "cumulative_latency_s": self.cumulative_latency_s,
            "round_energy_j": self.round_energy_j,
            "cumulative_energy_j": self.cumulative_energy_j,
            "uplink_bits": self.uplink_bits,
            "cumulative_uplink_bits": self.cumulative_uplink_bits,
            "aggregation_mse": self.aggregation_mse,
        }
        if self.sampled.shape[:1] == (self.rounds,):
            cols["sampled_count"] = self.sampled.sum(axis=1)
            cols["on_time_count"] = self.on_time.sum(axis=1)
        if self.local_steps.shape == (self.rounds,):
            cols["local_steps"] = self.local_steps
            cols["estimation_latency_s"] = self.estimation_latency_s
            cols["estimation_energy_j"] = self.estimation_energy_j
        return pd.DataFrame(cols)
