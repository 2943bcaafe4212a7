"""Split execution in PyTorch: device part, handed-over tensors, server part = full model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeopt.nn.architectures import (
    ARCHITECTURES,
    build_architecture,
    profile_layers,
    split_forward,
)
from edgeopt.offload import load_profile
from edgeopt.offload.partition import dag_costs


@pytest.fixture(autouse=True)
def _one_thread():
    """Small forward passes run fastest on one thread (and do not fight other processes)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def downsets(net):
    """Every device set closed under predecessors."""
    seen = {frozenset()}
    frontier = [frozenset()]
    while frontier:
        nxt = []
        for d in frontier:
            for n in net.order:
                if n not in d and all(i == "input" or i in d for i in net.inputs[n]):
                    e = d | {n}
                    if e not in seen:
                        seen.add(e)
                        nxt.append(e)
        frontier = nxt
    return sorted(seen, key=len)


def profile_graph(prof):
    import networkx as nx

    g = nx.DiGraph()
    for layer in prof["layers"]:
        g.add_node(
            layer["name"], device_time_s=0.0, server_time_s=0.0, output_bits=layer["output_bits"]
        )
        for src in layer["inputs"]:
            if src != "input":
                g.add_edge(src, layer["name"])
    return g


def check_splits(name, size, splits, profile=None):
    torch.manual_seed(0)
    net = build_architecture(name).eval()
    x = torch.randn(1, 3, size, size)
    prof = profile_layers(net, (1, 3, size, size))
    g = profile_graph(prof)
    with torch.no_grad():
        full = net(x)
        for d in splits:
            out, sent = split_forward(net, x, d)
            torch.testing.assert_close(out, full, rtol=1e-4, atol=1e-5)
            bits = sum(32 * t.numel() for t in sent.values())
            _, _, expected = dag_costs(g, d, rate_bps=1.0, input_bits=prof["input_bits"])
            assert bits == expected
            if profile is not None:
                _, _, stored = dag_costs(
                    profile.graph(np.zeros(len(profile.layers)), np.zeros(len(profile.layers))),
                    d, rate_bps=1.0, input_bits=profile.input_bits,
                )  # fmt: skip
                assert bits == stored


@pytest.mark.parametrize("name", ["resnet18", "mobilenetv2"])
def test_every_split_at_64(name):
    net = build_architecture(name)
    splits = downsets(net)
    assert len(splits) > len(net.order) // 2  # the DAG's splits, not just the chain prefixes
    check_splits(name, 64, splits)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet50"])
def test_a_seeded_sample_of_splits_at_64(name):
    splits = downsets(build_architecture(name))
    rng = np.random.default_rng(0)
    pick = [splits[i] for i in rng.choice(len(splits), size=6, replace=False)]
    check_splits(name, 64, [frozenset(), *pick, splits[-1]])


@pytest.mark.slow
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_bits_at_the_cut_equal_the_stored_profile_at_224(name):
    splits = downsets(build_architecture(name))
    rng = np.random.default_rng(1)
    pick = [splits[i] for i in rng.choice(len(splits), size=2, replace=False)]
    check_splits(name, 224, pick, profile=load_profile(name))


def test_split_forward_refuses_an_open_set():
    from edgeopt.errors import InvalidInputError

    net = build_architecture("resnet18")
    with pytest.raises(InvalidInputError, match="device_nodes"):
        split_forward(net, torch.zeros(1, 3, 32, 32), ["maxpool"])
