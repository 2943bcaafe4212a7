"""The two straggler experiments: their points against independent computations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from edgeopt.experiments import gradient_coding_training as gct
from edgeopt.experiments import straggler_runtime as sr


@pytest.mark.parametrize("scheme", sr.SCHEMES)
@pytest.mark.parametrize("s", [0, 3, 19])
def test_runtime_point_matches_closed_form(scheme: str, s: int) -> None:
    params = {
        **sr.CONSTANTS,
        "scheme": scheme,
        "num_stragglers": s,
        "upload": False,
        "trials": 50_000,
    }
    row = sr.point(params, np.random.default_rng(s))
    assert abs(row["time_mc_s"] - row["time_closed_s"]) <= 4 * row["time_mc_stderr_s"]


def test_runtime_upload_only_adds_time() -> None:
    base = {**sr.CONSTANTS, "scheme": "uncoded", "num_stragglers": 0, "trials": 20_000}
    off = sr.point({**base, "upload": False}, np.random.default_rng(1))
    on = sr.point({**base, "upload": True}, np.random.default_rng(1))
    assert np.isnan(on["time_closed_s"]) and on["time_mc_s"] > off["time_mc_s"]


def test_training_point_exact_codes_share_the_uncoded_loss() -> None:
    losses = {}
    for scheme in ("uncoded", "cyclic", "fractional", "ignore"):
        row = gct.point({**gct.CONSTANTS, "scheme": scheme, "rounds": 4}, np.random.default_rng(2))
        losses[scheme] = np.array(json.loads(row["curve_json"])["loss"])
    assert np.allclose(losses["cyclic"], losses["uncoded"], rtol=1e-10, atol=0)
    assert np.allclose(losses["fractional"], losses["uncoded"], rtol=1e-10, atol=0)
    assert not np.allclose(losses["ignore"], losses["uncoded"], rtol=1e-10, atol=0)
