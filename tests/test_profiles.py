"""DNN layer profiles and device profiles of edgeopt.profiles (torch-free loading)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from edgeopt.profiles import (
    DEVICE_NAMES,
    MODEL_NAMES,
    available,
    load_device_profile,
    load_profile,
)

from edgeopt.errors import InvalidInputError

#: The reference figures (torchvision's model cards): parameters (M), multiply-accumulates (G).
REFERENCE = {
    "alexnet": (61.10, 0.714),
    "vgg16": (138.36, 15.47),
    "resnet18": (11.69, 1.814),
    "resnet50": (25.56, 4.089),
    "mobilenetv2": (3.505, 0.301),
}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_totals_within_half_a_percent_of_the_reference(name):
    p = load_profile(name)
    params_m, macs_g = REFERENCE[name]
    assert abs(p.total_params / 1e6 - params_m) <= 0.005 * params_m
    assert abs(p.total_macs / 1e9 - macs_g) <= 0.005 * macs_g
    # the per-layer table adds up to the totals
    assert sum(layer.params for layer in p.layers) == p.total_params
    assert sum(layer.macs for layer in p.layers) == p.total_macs


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_layer_table_is_a_topologically_ordered_graph(name):
    p = load_profile(name)
    seen = {"input"}
    for layer in p.layers:
        assert layer.inputs and all(i in seen for i in layer.inputs)
        numel = 1
        for s in layer.output_shape:
            numel *= s
        assert layer.output_bits == 32 * numel
        seen.add(layer.name)
    assert p.input_bits == 32 * 3 * 224 * 224
    assert p.layers[-1].output_shape == (1, 1000)
    assert p.is_chain == (name in ("alexnet", "vgg16"))
    g = p.graph(p.layer_times_s(1e10), p.layer_times_s(1e11))
    assert g.number_of_nodes() == len(p.layers)


def test_bits_per_activation_scales_every_size():
    p32, p8 = load_profile("mobilenetv2"), load_profile("mobilenetv2", bits_per_activation=8)
    assert p8.input_bits * 4 == p32.input_bits
    assert (p8.output_bits * 4 == p32.output_bits).all()


def test_known_layer_sizes():
    # ResNet-18's stem: 64 x 112 x 112 floats; AlexNet's conv1 has 64*(3*11*11)+64 parameters
    r = load_profile("resnet18")
    assert r.layers[0].output_bits == 32 * 64 * 112 * 112
    assert load_profile("alexnet").layers[0].params == 64 * 3 * 121 + 64
    assert r.layers[0].macs == 64 * 112 * 112 * 3 * 49


def test_device_profiles_have_sources():
    for name in DEVICE_NAMES:
        d = load_device_profile(name)
        assert d.cpu_freq_hz > 0 and d.macs_per_cycle > 0 and d.kappa > 0 and d.tx_power_w > 0
        assert set(d.sources) == {"cpu_freq_hz", "macs_per_cycle", "kappa", "tx_power_w"}
    assert "devices.json" in available()


def test_loading_does_not_import_torch():
    code = (
        "import edgeopt.profiles as p, sys; p.load_profile('resnet50');"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_names_are_refused():
    with pytest.raises(InvalidInputError, match="name"):
        load_profile("resnet101")
    with pytest.raises(InvalidInputError, match="name"):
        load_device_profile("laptop")
    with pytest.raises(InvalidInputError, match="bits_per_activation"):
        load_profile("vgg16", bits_per_activation=0)


def test_profiles_match_a_fresh_measurement():
    import json

    from edgeopt.nn.architectures import build_architecture, profile_layers

    prof = profile_layers(build_architecture("alexnet"))
    p = load_profile("alexnet")
    assert [layer["macs"] for layer in prof["layers"]] == [layer.macs for layer in p.layers]
    assert [layer["output_bits"] for layer in prof["layers"]] == [int(b) for b in p.output_bits]
    assert json.loads(json.dumps(prof))["total_macs"] == p.total_macs
