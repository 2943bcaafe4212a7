"""partition_chain and partition_dag against brute force over every valid split."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from edgeopt.errors import InvalidInputError
from edgeopt.offload import load_profile, partition_chain, partition_dag


def random_dag(n, rng, p=0.3):
    """A random DAG on 0..n-1 (edges i -> j, i < j) with random times and bits."""
    g = nx.DiGraph()
    for v in range(n):
        g.add_node(
            v,
            device_time_s=float(rng.uniform(0.0, 2.0)),
            server_time_s=float(rng.uniform(0.0, 0.5)),
            output_bits=float(rng.choice([rng.uniform(0, 50), rng.uniform(0, 500)])),
        )
    for i, j in itertools.combinations(range(n), 2):
        if rng.random() < p:
            g.add_edge(i, j)
    return g


def closed_sets(g):
    """Every device set closed under predecessors (brute force over all subsets)."""
    nodes = list(g.nodes)
    preds = {v: set(g.predecessors(v)) for v in nodes}
    for mask in range(1 << len(nodes)):
        d = {nodes[i] for i in range(len(nodes)) if mask >> i & 1}
        if all(preds[v] <= d for v in d):
            yield d


def brute_cost(g, d, rate, input_bits, p_tx=None, p_dev=None):
    """The conventions, written out independently of the library."""
    t = sum(g.nodes[v]["device_time_s"] for v in d)
    t += sum(g.nodes[v]["server_time_s"] for v in g.nodes if v not in d)
    sent = 0.0
    if any(g.in_degree(v) == 0 and v not in d for v in g.nodes):
        sent += input_bits
    for v in d:
        if any(w not in d for w in g.successors(v)):
            sent += g.nodes[v]["output_bits"]
    lat = t + sent / rate
    if p_tx is None:
        return lat
    return p_dev * sum(g.nodes[v]["device_time_s"] for v in d) + p_tx * sent / rate


@pytest.mark.parametrize("seed", range(12))
def test_partition_dag_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 16)) if seed else 15
    g = random_dag(n, rng, p=float(rng.uniform(0.1, 0.5)))
    rate = float(rng.uniform(20, 400))
    inp = float(rng.uniform(0, 800))
    sets = list(closed_sets(g))
    best = min(brute_cost(g, d, rate, inp) for d in sets)
    res = partition_dag(g, rate_bps=rate, input_bits=inp)
    assert res.latency_s == pytest.approx(best, rel=1e-9, abs=1e-12)
    assert res.latency_s == pytest.approx(brute_cost(g, res.device_nodes, rate, inp), rel=1e-12)
    assert all(set(g.predecessors(v)) <= res.device_nodes for v in res.device_nodes)
    # energy objective
    e_best = min(brute_cost(g, d, rate, inp, 0.3, 2.0) for d in sets)
    res_e = partition_dag(
        g, rate_bps=rate, input_bits=inp, objective="energy", tx_power_w=0.3, device_power_w=2.0
    )
    assert res_e.energy_j == pytest.approx(e_best, rel=1e-9, abs=1e-12)
    assert res_e.objective == res_e.energy_j


def test_a_tensor_read_by_several_server_layers_is_sent_once():
    g = nx.DiGraph([("a", "b"), ("a", "c"), ("a", "d")])
    for v in g.nodes:
        g.add_node(v, device_time_s=10.0, server_time_s=0.0, output_bits=5.0)
    g.nodes["a"]["device_time_s"] = 0.0
    res = partition_dag(g, rate_bps=1.0, input_bits=100.0)
    assert res.device_nodes == {"a"}
    assert res.uploaded_bits == 5.0 and res.latency_s == pytest.approx(5.0)
    assert sorted(res.cut_edges) == [("a", "b"), ("a", "c"), ("a", "d")]


def test_several_sources_upload_the_input_once():
    g = nx.DiGraph([("a", "c"), ("b", "c")])
    for v in g.nodes:
        g.add_node(v, device_time_s=10.0, server_time_s=1.0, output_bits=1.0)
    res = partition_dag(g, rate_bps=1.0, input_bits=4.0)
    assert res.device_nodes == frozenset() and res.latency_s == pytest.approx(4.0 + 3.0)
    assert sorted(res.cut_edges) == [("input", "a"), ("input", "b")]


@pytest.mark.parametrize("seed", range(10))
def test_partition_chain_equals_brute_force_and_the_dag_cut(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 16))
    dev, srv = rng.uniform(0, 2, n), rng.uniform(0, 0.3, n)
    bits = rng.uniform(0, 300, n)
    rate, inp = float(rng.uniform(20, 300)), float(rng.uniform(0, 900))
    res = partition_chain(dev, srv, bits, input_bits=inp, rate_bps=rate)
    curve = []
    for k in range(n + 1):
        sent = inp if k == 0 else (0.0 if k == n else bits[k - 1])
        curve.append(dev[:k].sum() + sent / rate + srv[k:].sum())
    np.testing.assert_allclose(res.latency_curve_s, curve, rtol=1e-12)
    assert res.latency_s == pytest.approx(min(curve), rel=1e-12)
    g = nx.DiGraph()
    for i in range(n):
        g.add_node(i, device_time_s=dev[i], server_time_s=srv[i], output_bits=bits[i])
        if i:
            g.add_edge(i - 1, i)
    assert partition_dag(g, rate_bps=rate, input_bits=inp).latency_s == pytest.approx(
        res.latency_s, rel=1e-9
    )
    # energy with a deadline: min energy among splits meeting it
    deadline = float(np.median(curve))
    res_e = partition_chain(
        dev, srv, bits, input_bits=inp, rate_bps=rate, objective="energy",
        tx_power_w=0.5, device_power_w=1.5, deadline_s=deadline,
    )  # fmt: skip
    energy = [
        1.5 * dev[:k].sum() + 0.5 * (inp if k == 0 else (0 if k == n else bits[k - 1])) / rate
        for k in range(n + 1)
    ]
    ok = [e for e, t in zip(energy, curve, strict=True) if t <= deadline]
    assert res_e.energy_j == pytest.approx(min(ok), rel=1e-12)
    assert res_e.latency_s <= deadline


def test_chain_energy_without_a_feasible_split_is_infeasible():
    res = partition_chain(
        [1.0], [1.0], [1.0], input_bits=1.0, rate_bps=1.0, objective="energy",
        tx_power_w=1.0, device_power_w=1.0, deadline_s=0.5,
    )  # fmt: skip
    assert res.status == "infeasible"


def test_split_moves_toward_the_input_as_the_rate_grows():
    p = load_profile("vgg16")
    dev, srv = p.layer_times_s(2e10), p.layer_times_s(1e12)
    splits = [
        partition_chain(dev, srv, p.output_bits, input_bits=p.input_bits, rate_bps=r).split
        for r in np.logspace(5, 10, 11)
    ]
    assert splits == sorted(splits, reverse=True) and splits[0] > splits[-1] == 0


def test_profile_graph_partitions():
    p = load_profile("resnet18")
    g = p.graph(p.layer_times_s(2e10), p.layer_times_s(1e12))
    res = partition_dag(g, rate_bps=1e7, input_bits=p.input_bits)
    assert all(set(g.predecessors(v)) <= res.device_nodes for v in res.device_nodes)


def test_bad_input_names_the_argument():
    g = nx.DiGraph([(0, 1), (1, 0)])
    for v in g.nodes:
        g.add_node(v, device_time_s=1.0, server_time_s=1.0, output_bits=1.0)
    with pytest.raises(InvalidInputError, match="graph.*acyclic"):
        partition_dag(g, rate_bps=1.0, input_bits=1.0)
    g = nx.DiGraph([(0, 1)])
    g.add_node(0, device_time_s=1.0, server_time_s=1.0, output_bits=1.0)
    g.add_node(1, device_time_s=1.0, server_time_s=1.0)
    with pytest.raises(InvalidInputError, match="output_bits"):
        partition_dag(g, rate_bps=1.0, input_bits=1.0)
    g.nodes[1]["output_bits"] = -1.0
    with pytest.raises(InvalidInputError, match="output_bits"):
        partition_dag(g, rate_bps=1.0, input_bits=1.0)
    with pytest.raises(InvalidInputError, match="device_time_s"):
        partition_chain([-1.0], [1.0], [1.0], input_bits=1.0, rate_bps=1.0)
    with pytest.raises(InvalidInputError, match="output_bits"):
        partition_chain([1.0], [1.0], [-1.0], input_bits=1.0, rate_bps=1.0)
    with pytest.raises(InvalidInputError, match="input_bits"):
        partition_chain([1.0], [1.0], [1.0], input_bits=-1.0, rate_bps=1.0)
    with pytest.raises(InvalidInputError, match="rate_bps"):
        partition_chain([1.0], [1.0], [1.0], input_bits=1.0, rate_bps=0.0)
    with pytest.raises(InvalidInputError, match="tx_power_w"):
        partition_chain([1.0], [1.0], [1.0], input_bits=1.0, rate_bps=1.0, objective="energy")
    with pytest.raises(InvalidInputError, match="graph"):
        partition_dag(nx.Graph([(0, 1)]), rate_bps=1.0, input_bits=1.0)


@pytest.mark.parametrize("seed", range(8))
def test_partition_dag_with_capacities_over_many_decades(seed):
    # compute times of microseconds against uploads of tens of seconds: float round-off in
    # the saturated edges must not move the cut
    rng = np.random.default_rng(500 + seed)
    n = int(rng.integers(8, 15))
    g = random_dag(n, rng, p=0.35)
    for v in g.nodes:
        g.nodes[v]["device_time_s"] = float(rng.choice([0.0, rng.uniform(1e-7, 1e-4)]))
        g.nodes[v]["server_time_s"] = float(rng.uniform(1e-9, 1e-6))
        g.nodes[v]["output_bits"] = float(rng.uniform(1e5, 1e7))
    rate, inp = float(10 ** rng.uniform(4, 9)), 4.8e6
    best = min(brute_cost(g, d, rate, inp) for d in closed_sets(g))
    res = partition_dag(g, rate_bps=rate, input_bits=inp)
    assert res.latency_s == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("name", ["resnet18", "mobilenetv2", "resnet50"])
def test_profiles_at_a_slow_link_stay_local(name):
    p = load_profile(name)
    dev = p.layer_times_s(2.3e10)
    g = p.graph(dev, p.layer_times_s(1e11))
    res = partition_dag(g, rate_bps=1e5, input_bits=p.input_bits)
    assert len(res.device_nodes) == len(p.layers)
    assert res.latency_s == pytest.approx(dev.sum(), rel=1e-12)
