"""Where to cut a DNN between device and edge server: chains (Neurosurgeon) and DAGs (DADS).

A split puts a set of layers on the device, uploads the tensors the server needs over a link
of rate ``rate_bps``, and runs the rest on the server.  Latency adds the compute times of
both sides and the upload time (layers run one after another); the energy objective counts
the device's compute energy ``device_power_w * t`` and transmit energy ``tx_power_w *
bits / rate``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from edgeopt import status as st
from edgeopt._validation import (
    check_array,
    check_choice,
    check_scalar,
    invalid_input,
    missing_input,
)
from edgeopt.status import SolverStats

__all__ = [
    "OBJECTIVES",
    "PartitionResult",
    "DagPartitionResult",
    "partition_chain",
    "partition_dag",
    "NODE_ATTRIBUTES",
    "dag_costs",
]

#: The objectives of :func:`partition_chain` and :func:`partition_dag`.
OBJECTIVES = ("latency", "energy")
#: The node attributes :func:`partition_dag` reads.
NODE_ATTRIBUTES = ("device_time_s", "server_time_s", "output_bits")


@dataclass(frozen=True)
class PartitionResult:
    """Result of :func:`partition_chain`.

    Parameters
    ----------
    split : int
        Layers run on the device, ``0 <= split <= L`` (0: upload the input; ``L``: all local).
    latency_s : float
        End-to-end latency of the chosen split, s.
    energy_j : float or None
        Device energy of the chosen split, J (``None`` without both powers).
    objective : float
        The minimized objective at ``split`` (``latency_s`` or ``energy_j``).
    latency_curve_s : numpy.ndarray of float64, shape (L + 1,)
        Latency of every split ``k = 0..L``.
    energy_curve_j : numpy.ndarray of float64, shape (L + 1,), or None
        Device energy of every split (``None`` without both powers).
    status : str
        ``"optimal"``, or ``"infeasible"`` when no split meets ``deadline_s`` (``split`` is
        then the fastest one).
    solve_time_s : float
    stats : edgeopt.status.SolverStats
        ``solver_name="enumeration"``, ``iterations`` = splits evaluated.

    Examples
    --------
    >>> from edgeopt.offload import partition_chain
    >>> res = partition_chain([1.0], [0.1], [8.0], input_bits=80.0, rate_bps=8.0)
    >>> res.split, res.latency_curve_s.tolist(), res.stats.iterations
    (1, [10.1, 1.0], 2)
    """

    split: int
    latency_s: float
    energy_j: float | None
    objective: float
    latency_curve_s: NDArray[np.float64]
    energy_curve_j: NDArray[np.float64] | None
    status: str
    solve_time_s: float
    stats: SolverStats


@dataclass(frozen=True)
class DagPartitionResult:
    """Result of :func:`partition_dag`.

    Parameters
    ----------
    device_nodes : frozenset
        Nodes run on the device (closed under predecessors).
    latency_s : float
        End-to-end latency, s.
    energy_j : float or None
        Device energy, J (``None`` without both powers).
    objective : float
        The minimized objective (``latency_s`` or ``energy_j``).
    cut_edges : list of tuple
        The tensors uploaded, as graph edges ``(u, v)`` with ``u`` on the device and ``v``
        on the server, plus ``("input", v)`` for each server-side node reading the input.
    uploaded_bits : float
        Bits sent: each uploaded tensor once.
    status : str
        ``"optimal"``.
    solve_time_s : float
    stats : edgeopt.status.SolverStats
        ``solver_name="min_cut/networkx"``, ``iterations=1``; ``extra["flow_nodes"]``: nodes
        of the flow network.

    Examples
    --------
    >>> import networkx as nx
    >>> from edgeopt.offload import partition_dag
    >>> g = nx.DiGraph()
    >>> g.add_node("a", device_time_s=0.1, server_time_s=0.01, output_bits=8.0)
    >>> res = partition_dag(g, rate_bps=8.0, input_bits=80.0)
    >>> sorted(res.device_nodes), res.cut_edges, res.status
    (['a'], [], 'optimal')
    """

    device_nodes: frozenset[Any]
    latency_s: float
    energy_j: float | None
    objective: float
    cut_edges: list[tuple[Any, Any]]
    uploaded_bits: float
    status: str
    solve_time_s: float
    stats: SolverStats


def _powers(
    objective: str, tx_power_w: float | None, device_power_w: float | None
) -> tuple[float, float] | None:
    if tx_power_w is None or device_power_w is None:
        if objective == "energy":
            raise missing_input(
                "tx_power_w" if tx_power_w is None else "device_power_w",
                "a power in W with objective='energy'",
            )
        return None
    return (
        check_scalar(tx_power_w, "tx_power_w", nonneg=True),
        check_scalar(device_power_w, "device_power_w", nonneg=True),
    )


def partition_chain(
    device_time_s: Any,
    server_time_s: Any,
    output_bits: Any,
    *,
    input_bits: float,
    rate_bps: float,
    objective: str = "latency",
    tx_power_w: float | None = None,
    device_power_w: float | None = None,
    deadline_s: float | None = None,
) -> PartitionResult:
    """Best split point of a chain of ``L`` layers (Neurosurgeon), by enumeration.

    With ``k`` layers on the device,

    .. math::

        T(k) = \\sum_{i<k} t^{d}_i + \\frac{\\beta_k}{r} + \\sum_{i \\ge k} t^{s}_i, \\qquad
        E(k) = p^{c} \\sum_{i<k} t^{d}_i + p^{tx} \\frac{\\beta_k}{r},

    with ``beta_0 = input_bits``, ``beta_k = output_bits[k-1]`` for ``0 < k < L`` and
    ``beta_L = 0``.  ``objective="latency"`` minimizes ``T``; ``"energy"`` minimizes ``E``
    subject to ``T(k) <= deadline_s`` when a deadline is given (ties: the smaller ``k``).

    Parameters
    ----------
    device_time_s, server_time_s : array_like, shape (L,)
        Per-layer compute time on the device and on the server, s (profiled or measured).
    output_bits : array_like, shape (L,)
        Bits of each layer's output (the last entry is never sent).
    input_bits : float
        Bits of the input, sent when ``k = 0``.
    rate_bps : float
        Uplink rate, bit/s (> 0).
    objective : {"latency", "energy"}
    tx_power_w, device_power_w : float, optional
        Transmit power and device compute power, W (both needed for the energy).
    deadline_s : float, optional
        Latency bound for ``objective="energy"`` (ignored for latency: the fastest split).

    Returns
    -------
    PartitionResult

    Raises
    ------
    InvalidInputError
        Negative or non-finite times or bits, mismatched lengths, a rate that is not
        positive, a missing power for the energy objective.

    References
    ----------
    .. [1] Y. Kang, J. Hauswald, C. Gao, A. Rovinski, T. Mudge, J. Mars, L. Tang,
       "Neurosurgeon: collaborative intelligence between the cloud and mobile edge",
       ASPLOS 2017, doi:10.1145/3037697.3037698 (Algorithm 1: the per-split latency and
       energy sums).

    Examples
    --------
    >>> from edgeopt.offload import partition_chain
    >>> res = partition_chain([1.0, 1.0, 1.0], [0.1, 0.1, 0.1], [150.0, 10.0, 1.0],
    ...                       input_bits=1000.0, rate_bps=100.0)
    >>> res.split, round(res.latency_s, 3), res.latency_curve_s.round(2).tolist()
    (2, 2.2, [10.3, 2.7, 2.2, 3.0])
    """
    start = time.perf_counter()
    dev = check_array(device_time_s, "device_time_s", ndim=1, nonneg=True, allow_empty=False)
    n = dev.shape[0]
    srv = check_array(server_time_s, "server_time_s", shape=(n,), nonneg=True)
    bits = check_array(output_bits, "output_bits", shape=(n,), nonneg=True)
    inp = check_scalar(input_bits, "input_bits", nonneg=True)
    rate = check_scalar(rate_bps, "rate_bps", positive=True)
    objective = check_choice(objective, "objective", OBJECTIVES)
    powers = _powers(objective, tx_power_w, device_power_w)
    deadline = None if deadline_s is None else check_scalar(deadline_s, "deadline_s", nonneg=True)
    sent = np.concatenate([[inp], bits[:-1], [0.0]])
    dev_cum = np.concatenate([[0.0], np.cumsum(dev)])
    srv_tail = np.concatenate([np.cumsum(srv[::-1])[::-1], [0.0]])
    latency = dev_cum + sent / rate + srv_tail
    energy = None if powers is None else powers[1] * dev_cum + powers[0] * sent / rate
    status = st.OPTIMAL
    if objective == "latency":
        k = int(np.argmin(latency))
    else:
        assert energy is not None
        ok = np.ones(n + 1, dtype=bool) if deadline is None else latency <= deadline
        if ok.any():
            k = int(np.flatnonzero(ok)[np.argmin(energy[ok])])
        else:
            k, status = int(np.argmin(latency)), st.INFEASIBLE
    e_k = None if energy is None else float(energy[k])
    return PartitionResult(
        split=k,
        latency_s=float(latency[k]),
        energy_j=e_k,
        objective=float(latency[k]) if objective == "latency" else float(e_k),  # type: ignore[arg-type]
        latency_curve_s=latency,
        energy_curve_j=energy,
        status=status,
        solve_time_s=time.perf_counter() - start,
        stats=SolverStats("enumeration", iterations=n + 1),
    )


def _node_data(graph: nx.DiGraph) -> dict[Any, tuple[float, float, float]]:
    if not isinstance(graph, nx.DiGraph) or graph.is_multigraph():
        raise invalid_input("graph", graph, "a networkx.DiGraph")
    if graph.number_of_nodes() == 0:
        raise invalid_input("graph", graph, "a graph with at least one node")
    if not nx.is_directed_acyclic_graph(graph):
        raise invalid_input("graph", nx.find_cycle(graph), "a directed acyclic graph (a cycle)")
    data: dict[Any, tuple[float, float, float]] = {}
    for v, attrs in graph.nodes(data=True):
        vals = []
        for key in NODE_ATTRIBUTES:
            name = f"graph.nodes[{v!r}][{key!r}]"
            if key not in attrs:
                raise missing_input(name, "every node to carry " + ", ".join(NODE_ATTRIBUTES))
            vals.append(check_scalar(attrs[key], name, nonneg=True))
        data[v] = (vals[0], vals[1], vals[2])
    return data


def dag_costs(
    graph: nx.DiGraph,
    device_nodes: Any,
    *,
    rate_bps: float,
    input_bits: float,
    tx_power_w: float | None = None,
    device_power_w: float | None = None,
) -> tuple[float, float | None, float]:
    """Latency, device energy and uploaded bits of one device set (the conventions of
    :func:`partition_dag`); the set is not checked for closure.

    Returns
    -------
    (latency_s, energy_j or None, uploaded_bits)

    Examples
    --------
    >>> import networkx as nx
    >>> from edgeopt.offload.partition import dag_costs
    >>> g = nx.DiGraph([("a", "b")])
    >>> nx.set_node_attributes(g, {"a": 1.0, "b": 1.0}, "device_time_s")
    >>> nx.set_node_attributes(g, {"a": 0.5, "b": 0.5}, "server_time_s")
    >>> nx.set_node_attributes(g, {"a": 8.0, "b": 8.0}, "output_bits")
    >>> dag_costs(g, {"a"}, rate_bps=8.0, input_bits=16.0)
    (2.5, None, 8.0)
    """
    data = _node_data(graph)
    rate = check_scalar(rate_bps, "rate_bps", positive=True)
    inp = check_scalar(input_bits, "input_bits", nonneg=True)
    d = set(device_nodes)
    t_dev = sum(data[v][0] for v in d)
    t_srv = sum(data[v][1] for v in graph.nodes if v not in d)
    up = 0.0
    if any(v not in d for v in graph.nodes if graph.in_degree(v) == 0):
        up += inp
    for v in d:
        if any(w not in d for w in graph.successors(v)):
            up += data[v][2]
    latency = t_dev + up / rate + t_srv
    energy = None
    if tx_power_w is not None and device_power_w is not None:
        energy = device_power_w * t_dev + tx_power_w * up / rate
    return latency, energy, up


#: Relative tolerance below which a residual capacity counts as saturated when the source
#: side of the minimum cut is read off the maximum flow (float capacities).
RESIDUAL_TOL = 1e-12


def _source_side(flow: nx.DiGraph, s: Any, t: Any) -> set[Any]:
    """The source side of a minimum cut: nodes reachable from ``s`` in the residual graph.

    The maximum flow is networkx's (preflow-push); reachability uses residual capacities
    above :data:`RESIDUAL_TOL` times the largest finite capacity, so that float round-off
    in a saturated edge does not count as residual capacity.
    """
    _, f = nx.maximum_flow(flow, s, t)
    finite = [d["capacity"] for _, _, d in flow.edges(data=True) if "capacity" in d]
    tol = RESIDUAL_TOL * max([1.0, *finite]) if finite else RESIDUAL_TOL
    seen = {s}
    stack = [s]
    while stack:
        u = stack.pop()
        for v, d in flow.succ[u].items():  # forward residual: capacity - flow
            if v not in seen and d.get("capacity", np.inf) - f[u][v] > tol:
                seen.add(v)
                stack.append(v)
        for v in flow.pred[u]:  # backward residual: the flow on v -> u
            if v not in seen and f[v][u] > tol:
                seen.add(v)
                stack.append(v)
    return seen


def partition_dag(
    graph: nx.DiGraph,
    *,
    rate_bps: float,
    input_bits: float,
    objective: str = "latency",
    tx_power_w: float | None = None,
    device_power_w: float | None = None,
) -> DagPartitionResult:
    """Optimal device/server split of a layer DAG by one minimum s–t cut (DADS).

    Conventions: nodes without predecessors read the raw input (``input_bits``), which
    starts on the device and is uploaded once if any of them runs on the server; a
    device-side node's output is uploaded once if any of its successors runs on the
    server; sink outputs are not sent back; layers run one after another; the device set
    ``D`` is closed under predecessors.  The minimized cost is

    .. math::

        C(D) = \\sum_{v \\in D} c^d_v + \\sum_{v \\notin D} c^s_v
               + \\sum_{v \\in D:\\, \\mathrm{succ}(v) \\not\\subseteq D} u_v
               + [\\mathrm{sources} \\not\\subseteq D]\\, u_{in},

    with ``c^d_v = t^d_v``, ``c^s_v = t^s_v``, ``u_v = beta_v / r`` for latency and
    ``c^d_v = p^c t^d_v``, ``c^s_v = 0``, ``u_v = p^{tx} beta_v / r`` for energy.  The flow
    network has a source (device) and a sink (server); ``s -> v`` of capacity ``c^s_v``
    and ``v -> t`` of ``c^d_v``; an infinite edge ``v -> u`` for every graph edge
    ``u -> v`` (closure); and per node with successors an auxiliary node ``a_v`` with
    ``v -> a_v`` of capacity ``u_v`` and infinite ``a_v -> w`` for each successor ``w``,
    so a tensor read by several server-side layers is paid once (likewise ``s -> a_in``
    for the input).  Finite cuts are exactly the closed device sets, at cost ``C(D)``.

    Parameters
    ----------
    graph : networkx.DiGraph
        Acyclic; every node carries ``device_time_s``, ``server_time_s`` (s) and
        ``output_bits``, all finite and ``>= 0``.
    rate_bps : float
        Uplink rate, bit/s (> 0).
    input_bits : float
        Bits of the raw input.
    objective : {"latency", "energy"}
    tx_power_w, device_power_w : float, optional
        Transmit and device compute power, W (both needed for the energy).

    Returns
    -------
    DagPartitionResult

    Raises
    ------
    InvalidInputError
        Not a DiGraph, a cycle, a missing or negative node attribute, a bad rate or bits.

    References
    ----------
    .. [1] C. Hu, W. Bao, D. Wang, F. Liu, "Dynamic adaptive DNN surgery for inference
       acceleration on the edge", IEEE INFOCOM 2019, doi:10.1109/INFOCOM.2019.8737614
       (the minimum-cut formulation, with auxiliary nodes for tensors read by several
       layers).

    Examples
    --------
    >>> import networkx as nx
    >>> from edgeopt.offload import partition_dag
    >>> g = nx.DiGraph([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    >>> for v, (td, ts, bits) in {"a": (1, .1, 100), "b": (1, .1, 5), "c": (1, .1, 5),
    ...                           "d": (5, .1, 1)}.items():
    ...     g.add_node(v, device_time_s=td, server_time_s=ts, output_bits=bits)
    >>> res = partition_dag(g, rate_bps=10.0, input_bits=1000.0)
    >>> sorted(res.device_nodes), round(res.latency_s, 2), sorted(res.cut_edges)
    (['a', 'b', 'c'], 4.1, [('b', 'd'), ('c', 'd')])
    """
    start = time.perf_counter()
    data = _node_data(graph)
    rate = check_scalar(rate_bps, "rate_bps", positive=True)
    inp = check_scalar(input_bits, "input_bits", nonneg=True)
    objective = check_choice(objective, "objective", OBJECTIVES)
    powers = _powers(objective, tx_power_w, device_power_w)
    energy = objective == "energy"
    assert powers is not None or not energy
    p_tx, p_dev = powers if powers is not None else (0.0, 0.0)
    s, t = ("__source__",), ("__sink__",)
    flow = nx.DiGraph()
    flow.add_nodes_from([s, t])
    for v, (td, ts, bits) in data.items():
        node = ("n", v)
        flow.add_edge(s, node, capacity=0.0 if energy else ts)
        flow.add_edge(node, t, capacity=p_dev * td if energy else td)
        succ = list(graph.successors(v))
        for u in graph.predecessors(v):
            flow.add_edge(node, ("n", u))  # no capacity attribute: infinite
        if succ:
            aux = ("a", v)
            flow.add_edge(node, aux, capacity=(p_tx if energy else 1.0) * bits / rate)
            for w in succ:
                flow.add_edge(aux, ("n", w))
    sources = [v for v in graph.nodes if graph.in_degree(v) == 0]
    aux_in = ("a_in",)
    flow.add_edge(s, aux_in, capacity=(p_tx if energy else 1.0) * inp / rate)
    for w in sources:
        flow.add_edge(aux_in, ("n", w))
    setup = time.perf_counter() - start
    side_s = _source_side(flow, s, t)
    device = frozenset(v for v in graph.nodes if ("n", v) in side_s)
    latency, e, up = dag_costs(
        graph,
        device,
        rate_bps=rate,
        input_bits=inp,
        tx_power_w=None if powers is None else p_tx,
        device_power_w=None if powers is None else p_dev,
    )
    cut = [(u, v) for u, v in graph.edges if u in device and v not in device]
    cut += [("input", v) for v in sources if v not in device]
    obj = latency if not energy else float(e)  # type: ignore[arg-type]
    return DagPartitionResult(
        device_nodes=device,
        latency_s=latency,
        energy_j=e,
        objective=obj,
        cut_edges=cut,
        uploaded_bits=up,
        status=st.OPTIMAL,
        solve_time_s=time.perf_counter() - start,
        stats=SolverStats(
            "min_cut/networkx",
            iterations=1,
            setup_time_s=setup,
            extra={"flow_nodes": flow.number_of_nodes()},
        ),
    )
