"""Write ``reference_histories.json``: FedAvg Histories from the code before the system model.

The file pins what :func:`edgeopt.federated.run_fedavg` returned when the aggregation
classes still carried their own band, power, noise and antenna count and the loop took one
``cpu_freq_hz``/``kappa`` for every device.  ``test_reference_histories.py`` runs each case
through today's API (a :func:`edgeopt.system.normalized_system` with the same numbers) and
compares.  Regenerating only makes sense against that older code; run, from the checkout::

    git archive COMMIT src | tar -x -C /tmp/ref
    PYTHONPATH=/tmp/ref/src python tests/federated/data/make_reference_histories.py COMMIT

with ``COMMIT`` the ``"commit"`` recorded in the file.  Float32 training gives other bits on
another kind of CPU (other MKL and OpenBLAS kernels), so the file holds one recording per
kind of machine: a run adds (or replaces) the recording of the machine it runs on, named by
:func:`machine`, and the test accepts a history equal to the last bit to one of them.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np

#: The cases, in a neutral form that both APIs can be built from.
CASES = [
    {
        "name": "ideal_synthetic",
        "run": dict(
            data="synthetic",
            model="logistic",
            num_clients=4,
            partition="iid",
            rounds=3,
            local_steps=2,
            lr=0.5,
            batch_size=32,
            rng=0,
        ),
        "aggregation": {"kind": "ideal"},
        "system": {"power_w": 1.0, "noise_w": 1.0, "bandwidth_hz": 1e6, "num_antennas": 1},
        "compute": {},
    },
    {
        "name": "tdma_digits_mlp",
        "run": dict(
            data="digits",
            model="mlp",
            num_clients=6,
            partition="label_shards",
            rounds=3,
            local_steps=2,
            lr=0.3,
            batch_size=16,
            rng=11,
        ),
        "aggregation": {"kind": "digital", "access": "tdma", "compressor": None},
        "system": {"power_w": 0.1, "noise_w": 1e-2, "bandwidth_hz": 1e6, "num_antennas": 2},
        "compute": {},
    },
    {
        "name": "fdma_qsgd_synthetic",
        "run": dict(
            data="synthetic",
            model="logistic",
            num_clients=6,
            partition="dirichlet",
            rounds=4,
            local_steps=2,
            lr=0.1,
            batch_size=16,
            rng=5,
        ),
        "aggregation": {"kind": "digital", "access": "fdma", "compressor": "qsgd4"},
        "system": {"power_w": 0.1, "noise_w": 1e-3, "bandwidth_hz": 2e6, "num_antennas": 1},
        "compute": {"cpu_freq_hz": 2e9, "kappa": 1e-27, "cycles_per_sample": 1e6},
    },
    {
        "name": "aircomp_fast_synthetic",
        "run": dict(
            data="synthetic",
            model="logistic",
            num_clients=8,
            partition="iid",
            rounds=3,
            local_steps=2,
            lr=0.2,
            batch_size=10,
            rng=1,
        ),
        "aggregation": {"kind": "aircomp", "method": "fast", "mse_target": 1.0},
        "system": {"power_w": 1.0, "noise_w": 0.5, "bandwidth_hz": 1e6, "num_antennas": 3},
        "compute": {"cpu_freq_hz": 2e9, "kappa": 1e-27, "cycles_per_sample": 1e6},
    },
    {
        "name": "aircomp_all_digits_mlp",
        "run": dict(
            data="digits",
            model="mlp",
            num_clients=8,
            partition="label_shards",
            rounds=3,
            local_steps=3,
            lr=0.3,
            batch_size=16,
            rng=3,
        ),
        "aggregation": {"kind": "aircomp", "method": "all", "mse_target": 0.5},
        "system": {"power_w": 1.0, "noise_w": 1.0, "bandwidth_hz": 1e6, "num_antennas": 3},
        "compute": {},
    },
]

#: History arrays the file records.
FIELDS = (
    "test_accuracy",
    "train_loss",
    "selected_count",
    "round_latency_s",
    "round_energy_j",
    "uplink_bits",
    "aggregation_mse",
    "initial_parameters",
    "final_parameters",
)


def _old_run(case: dict) -> object:
    """Run a case through the API of the older code (aggregations own band/power/noise)."""
    from edgeopt.federated import (
        QSGD,
        AirCompAggregation,
        DigitalAggregation,
        IdealAggregation,
        run_fedavg,
    )

    agg, sysp = case["aggregation"], case["system"]
    if agg["kind"] == "ideal":
        aggregation = IdealAggregation()
    elif agg["kind"] == "digital":
        compressor = None if agg["compressor"] is None else QSGD(int(agg["compressor"][4:]))
        aggregation = DigitalAggregation(
            sysp["bandwidth_hz"],
            sysp["power_w"],
            sysp["noise_w"],
            compressor=compressor,
            access=agg["access"],
            num_antennas=sysp["num_antennas"],
        )
    else:
        aggregation = AirCompAggregation(
            sysp["num_antennas"],
            sysp["power_w"],
            sysp["noise_w"],
            agg["mse_target"],
            method=agg["method"],
            bandwidth_hz=sysp["bandwidth_hz"],
        )
    return run_fedavg(**case["run"], aggregation=aggregation, **case["compute"])


def machine() -> str:
    """What decides the bits of a run: the torch and NumPy builds and the CPU kernels they
    pick (torch's CPU capability, OpenBLAS's core)."""
    import threadpoolctl
    import torch

    cores = sorted(
        {
            str(i.get("architecture"))
            for i in threadpoolctl.threadpool_info()
            if i.get("internal_api") == "openblas"
        }
    )
    return (
        f"torch {torch.__version__} {torch.backends.cpu.get_cpu_capability()}; "
        f"numpy {np.__version__} OpenBLAS {','.join(cores)}"
    )


def main(commit: str) -> None:
    cases = []
    for case in CASES:
        hist = _old_run(case)
        record = {name: getattr(hist, name).tolist() for name in FIELDS[:-2]}
        for name in FIELDS[-2:]:  # float32 model parameters, exact, as base64 of '<f4' bytes
            values = getattr(hist, name)
            assert np.array_equal(values.astype("<f4").astype(np.float64), values)
            record[name] = base64.b64encode(values.astype("<f4").tobytes()).decode("ascii")
        record["initial_test_accuracy"] = hist.initial_test_accuracy
        cases.append({**case, "history": record})
    path = Path(__file__).with_name("reference_histories.json")
    recordings = []
    if path.exists():
        old = json.loads(path.read_text())
        assert old["commit"] == commit, "recordings of one file come from one commit"
        recordings = [r for r in old["recordings"] if r["machine"] != machine()]
    recordings.append({"machine": machine(), "cases": cases})
    parts = []
    for r in recordings:
        lines = ",\n".join(json.dumps(c, separators=(",", ":")) for c in r["cases"])
        parts.append(f'{{"machine": {json.dumps(r["machine"])}, "cases": [\n{lines}\n]}}')
    body = ",\n".join(parts)
    path.write_text(f'{{"commit": "{commit}", "recordings": [\n{body}\n]}}\n')


if __name__ == "__main__":
    main(sys.argv[1])
