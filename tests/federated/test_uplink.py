"""The pure uplink pieces: complex packing, normalization, AirComp receive model, round costs."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edgeopt.aircomp import aircomp_mse, select_devices, transmit_scalars
from edgeopt.channel import rayleigh
from edgeopt.cost import round_latency, transmit_energy
from edgeopt.errors import InvalidInputError
from edgeopt.federated.uplink import (
    aircomp_receive,
    aircomp_round_cost,
    digital_rates,
    digital_round_cost,
    normalize_updates,
    pack_complex,
    unpack_complex,
)

# normal floats: a subnormal has too few significant bits for a relative bound
_finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 9)),
        elements=_finite,
    )
)
def test_pack_unpack_round_trip_and_energy(z):
    s = pack_complex(z)
    d = z.shape[1]
    assert s.shape == (z.shape[0], math.ceil(d / 2)) and s.dtype == np.complex128
    assert np.allclose(unpack_complex(s, d), z, rtol=1e-15, atol=0.0)
    # two real entries per symbol, /sqrt(2): the energy halves, nothing else changes
    assert np.isclose(np.sum(np.abs(s) ** 2), np.sum(z**2) / 2, rtol=1e-12, atol=0.0)
    first = z[:, 0] + 1j * (z[:, 1] if d > 1 else 0.0)  # s_0 = (z_0 + j z_1) / sqrt(2)
    assert np.allclose(s[:, 0] * math.sqrt(2), first, rtol=1e-15, atol=0.0)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 9)),
        elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    ),
    st.lists(st.floats(0.1, 10.0), min_size=4, max_size=4),
)
def test_normalization_side_information_round_trip(x, w):
    norm = normalize_updates(x)
    z = norm.values
    assert z.shape == x.shape
    if np.ptp(x) > 1e-9 * max(1.0, np.abs(x).max()):
        assert abs(z.mean()) < 1e-9 and abs(np.mean(z**2) - 1.0) < 1e-9  # unit symbol power
    weights = np.asarray(w[: x.shape[0]])
    exact = weights @ x
    back = norm.denormalize_sum(weights @ z, weights.sum())
    assert np.allclose(back, exact, rtol=1e-9, atol=1e-9 * (1 + np.abs(x).max() * weights.sum()))


def test_normalization_of_constant_updates_is_exact():
    norm = normalize_updates(np.full((3, 4), 2.5))
    assert norm.scale == 1.0 and norm.mean == 2.5 and np.all(norm.values == 0)
    assert norm.denormalize_sum(np.zeros(4), 3.0).tolist() == [7.5] * 4


def _setting(k=6, n=3, seed=0):
    rng = np.random.default_rng(seed)
    h = rayleigh((k, n), rng)
    w = rng.uniform(0.5, 2.0, size=k)
    m = select_devices(
        h, power_w=1.0, noise_w=1.0, mse_target=1.0, weights=w, method="all"
    ).beamformer
    b, eta = transmit_scalars(m, h, power_w=0.7, weights=w)
    return rng, h, w, np.asarray(m), b, eta


def test_receive_model_noiseless_is_the_weighted_sum():
    rng, h, w, m, b, eta = _setting()
    s = (rng.standard_normal((6, 40)) + 1j * rng.standard_normal((6, 40))) / math.sqrt(2)
    g = aircomp_receive(s, h, b, m, eta=eta, noise_w=0.0)
    assert np.allclose(g, w @ s, rtol=0, atol=1e-12 * np.abs(w @ s).max())


def test_receive_error_matches_aircomp_mse_monte_carlo():
    rng, h, w, m, b, eta = _setting()
    noise, n_sym = 0.3, 200_000
    s = (rng.standard_normal((6, n_sym)) + 1j * rng.standard_normal((6, n_sym))) / math.sqrt(2)
    g = aircomp_receive(s, h, b, m, eta=eta, noise_w=noise, rng=np.random.default_rng(1))
    err = g - w @ s
    mse = aircomp_mse(m, h, power_w=0.7, noise_w=noise, weights=w)
    # err ~ CN(0, mse): |err|^2 / mse is Exp(1) (mean 1, sd 1); each of Re, Im has variance mse/2
    ratio = np.abs(err) ** 2 / mse
    assert abs(ratio.mean() - 1.0) < 5 / math.sqrt(n_sym)
    assert abs(err.real.mean()) < 5 * math.sqrt(mse / 2 / n_sym)
    assert abs(err.imag.mean()) < 5 * math.sqrt(mse / 2 / n_sym)
    # through the packing each real entry errs with variance mse (the unit of AggregationOutcome)
    real_err = unpack_complex(err, 2 * n_sym)
    assert abs(np.mean(real_err**2) / mse - 1.0) < 5 * math.sqrt(2 / real_err.size)
    again = aircomp_receive(s, h, b, m, eta=eta, noise_w=noise, rng=np.random.default_rng(1))
    assert np.array_equal(g, again)  # the noise is a function of its stream alone


def test_digital_rates_and_cost_against_cost_models_by_hand():
    rng = np.random.default_rng(2)
    k, band, power, noise = 5, 2e6, 0.2, 1e-2
    gain = np.sum(np.abs(rayleigh((k, 2), rng)) ** 2, axis=1)
    bits = rng.integers(1_000, 50_000, size=k).astype(float)
    t = rng.uniform(0.01, 0.1, size=k)
    e = rng.uniform(0.0, 1e-3, size=k)
    tdma = digital_rates(gain, bandwidth_hz=band, power_w=power, noise_w=noise, access="tdma")
    fdma = digital_rates(gain, bandwidth_hz=band, power_w=power, noise_w=noise, access="fdma")
    assert np.allclose(tdma, band * np.log2(1 + power * gain / noise), rtol=1e-14)
    assert np.allclose(fdma, band / k * np.log2(1 + k * power * gain / noise), rtol=1e-14)
    cost = digital_round_cost(bits, tdma, t, e, power_w=power, access="tdma")
    assert cost.latency_s == pytest.approx(t.max() + np.sum(bits / tdma), rel=1e-14)
    assert cost.energy_j == pytest.approx(np.sum(power * bits / tdma) + e.sum(), rel=1e-14)
    cost = digital_round_cost(bits, fdma, t, e, power_w=power, access="fdma")
    assert cost.latency_s == pytest.approx(float(round_latency(bits, fdma, t)), rel=1e-15)
    assert cost.latency_s == pytest.approx(np.max(bits / fdma + t), rel=1e-14)
    assert cost.energy_j == pytest.approx(
        float(np.sum(transmit_energy(power, bits, fdma))) + e.sum(), rel=1e-14
    )
    powers = np.linspace(0.1, 0.5, k)  # one power per device
    per_device = digital_rates(
        gain, bandwidth_hz=band, power_w=powers, noise_w=noise, access="tdma"
    )
    assert np.allclose(per_device, band * np.log2(1 + powers * gain / noise), rtol=1e-14)
    cost = digital_round_cost(bits, per_device, t, e, power_w=powers, access="tdma")
    assert cost.energy_j == pytest.approx(np.sum(powers * bits / per_device) + e.sum(), rel=1e-14)


def test_aircomp_round_cost_by_hand():
    x = np.array([[1 + 1j, 2j, 0], [0.5 + 0j, -1 + 0j, 1j]])
    cost = aircomp_round_cost(x, [0.2, 0.1], [1.0, 3.0], bandwidth_hz=1e4)
    assert cost.latency_s == pytest.approx(0.2 + 3 / 1e4, rel=1e-15)
    assert cost.energy_j == pytest.approx((2 + 4 + 0.25 + 1 + 1) / 1e4 + 4.0, rel=1e-15)


def test_uplink_bad_input():
    with pytest.raises(InvalidInputError, match="values"):
        pack_complex(np.zeros((2, 0)))
    with pytest.raises(InvalidInputError, match="values"):
        pack_complex([1.0, np.nan])
    with pytest.raises(InvalidInputError, match="symbols"):
        unpack_complex(np.zeros((2, 3), dtype=complex), 8)
    with pytest.raises(InvalidInputError, match="updates"):
        normalize_updates(np.zeros((0, 3)))
    _, h, _, m, b, eta = _setting()
    s = np.ones((6, 4), dtype=complex)
    with pytest.raises(InvalidInputError, match="symbols"):
        aircomp_receive(s[:5], h, b, m, eta=eta, noise_w=1.0, rng=0)
    with pytest.raises(InvalidInputError, match="eta"):
        aircomp_receive(s, h, b, m, eta=0.0, noise_w=1.0, rng=0)
    with pytest.raises(InvalidInputError, match="noise_w"):
        aircomp_receive(s, h, b, m, eta=eta, noise_w=-1.0, rng=0)
    with pytest.raises(InvalidInputError, match="access"):
        digital_rates([1.0], bandwidth_hz=1e6, power_w=1.0, noise_w=1.0, access="cdma")
    with pytest.raises(InvalidInputError, match="power_w"):
        digital_rates(
            [1.0, 2.0], bandwidth_hz=1e6, power_w=[1.0, 2.0, 3.0], noise_w=1.0, access="tdma"
        )
    with pytest.raises(InvalidInputError, match="rate_bps"):
        digital_round_cost([1.0, 2.0], [1.0, 0.0], [0, 0], [0, 0], power_w=1.0, access="tdma")
    with pytest.raises(InvalidInputError, match="compute_s"):
        aircomp_round_cost(s, [0.0], [0.0], bandwidth_hz=1.0)


def test_uplink_does_not_import_torch():
    code = (
        "import sys\n"
        "import importlib.util, pathlib, edgeopt\n"
        "path = pathlib.Path(edgeopt.__file__).parent / 'federated' / 'uplink.py'\n"
        "spec = importlib.util.spec_from_file_location('uplink_alone', path)\n"
        "mod = importlib.util.module_from_spec(spec); sys.modules['uplink_alone'] = mod\n"
        "spec.loader.exec_module(mod)\n"
        "mod.pack_complex([1.0, 2.0])\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
