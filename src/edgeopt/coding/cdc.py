"""Coded distributed computing: the placement and coded multicast shuffle of MapReduce.

K nodes, N files, Q = K reduce functions (reduce function q is computed at node q) and a
computation load r (every file is mapped at r nodes).  The scheme of Li, Maddah-Ali, Yu
and Avestimehr (IEEE TIT 2018):

* placement: the N files are split into C(K, r) equal batches, one per r-subset T of the
  nodes, and batch B_T is stored and mapped at every node of T;
* shuffle: for every (r + 1)-subset S, node k ∈ S needs the intermediate values of its
  reduce function for the batch B_{S∖{k}}, which the r other nodes of S all hold.  Each such
  value is split into r segments, one per node of S∖{k}; node s ∈ S multicasts to S∖{s}
  the XOR over k ∈ S∖{s} of the segment of k's values assigned to s, and every receiver
  cancels the segments it computed itself.

The normalized load (bits on the wire over Q·N·value bits) is L_coded(r) = (1/r)(1 − r/K)
against L_uncoded(r) = 1 − r/K for unicasting each missing value once.

Through an access point (devices that cannot hear each other), the same placement's
multicast packets go up to the access point, which broadcasts r XORs of the r + 1 packets of
each group down: uplink (1/r)(1 − r/K), downlink (1/(r + 1))(1 − r/K) (see
:mod:`edgeopt.coding.wireless`).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_bool,
    check_choice,
    check_int,
    check_rng,
    invalid_input,
)

__all__ = [
    "cdc_load",
    "uncoded_load",
    "cdc_scheme",
    "CDCScheme",
    "Multicast",
    "simulate_cdc",
    "CDCResult",
    "JOBS",
    "NETWORKS",
    "RECORD_BYTES",
    "KEY_BYTES",
]

#: Jobs that :func:`simulate_cdc` runs.
JOBS = ("fixed", "terasort")
#: Networks that :func:`simulate_cdc` runs: a shared link on which one transmission reaches
#: every receiver of a multicast, and an access point that relays every message (devices
#: send up to it, it broadcasts down to all of them).
NETWORKS = ("shared-link", "access-point")
#: TeraSort record size in bytes, and the size of its leading key.
RECORD_BYTES = 100
KEY_BYTES = 10
#: Bytes of the record-count header at the start of every TeraSort intermediate value.
_HEADER_BYTES = 4


def _check_loads(computation_load: Any, num_nodes: Any) -> tuple[int, int]:
    k = check_int(num_nodes, "num_nodes", min_value=1)
    r = check_int(computation_load, "computation_load", min_value=1)
    if r > k:
        raise invalid_input("computation_load", computation_load, f"an integer in 1..{k} (K)")
    return r, k


def cdc_load(computation_load: Any, num_nodes: Any) -> float:
    """Normalized shuffle load of coded distributed computing, L(r) = (1/r)(1 − r/K).

    Parameters
    ----------
    computation_load : int
        r, the number of nodes that map each file, 1 <= r <= K.
    num_nodes : int
        K >= 1 (with Q = K reduce functions).

    Returns
    -------
    float
        Bits sent in the shuffle divided by Q·N·(bits per intermediate value); computed as
        the one division (K − r) / (r·K), so it equals a bit count divided by
        Q·N·value bits exactly when the two rationals are equal.

    Raises
    ------
    InvalidInputError
        K or r not an integer, r < 1 or r > K.

    References
    ----------
    S. Li, M. A. Maddah-Ali, Q. Yu, A. S. Avestimehr, "A fundamental tradeoff between
    computation and communication in distributed computing", IEEE Trans. Inf. Theory
    64(1), 2018, doi:10.1109/TIT.2017.2756959, Theorem 1, eq. (6): L*(r) = (1/r)(1 − r/K).

    Examples
    --------
    >>> from edgeopt.coding import cdc_load
    >>> cdc_load(1, 4), cdc_load(2, 4), cdc_load(4, 4)
    (0.75, 0.25, 0.0)
    """
    r, k = _check_loads(computation_load, num_nodes)
    return (k - r) / (r * k)


def uncoded_load(computation_load: Any, num_nodes: Any) -> float:
    """Normalized load of the uncoded shuffle, 1 − r/K: each missing value unicast once.

    Parameters
    ----------
    computation_load : int
        r, 1 <= r <= K.
    num_nodes : int
        K >= 1.

    Returns
    -------
    float
        (K − r) / K.

    Raises
    ------
    InvalidInputError
        K or r not an integer, r < 1 or r > K.

    References
    ----------
    Li, Maddah-Ali, Yu, Avestimehr, IEEE TIT 2018 (see :func:`cdc_load`), eq. (5):
    L_uncoded(r) = 1 − r/K.

    Examples
    --------
    >>> from edgeopt.coding import uncoded_load
    >>> uncoded_load(1, 4), uncoded_load(2, 4)
    (0.75, 0.5)
    """
    r, k = _check_loads(computation_load, num_nodes)
    return (k - r) / k


@dataclass(frozen=True)
class Multicast:
    """One coded multicast of the CDC shuffle.

    Parameters
    ----------
    sender : int
        The node that sends.
    group : tuple of int
        The (r + 1)-subset S of nodes (sorted); the receivers are ``group`` minus ``sender``.
    parts : tuple of (int, int, int)
        The XORed terms, one per receiver: ``(receiver, batch, segment)``: segment
        ``segment`` (of r) of the intermediate values of reduce function ``receiver`` for
        every file of batch ``batch`` (the batch stored at S∖{receiver}).
    """

    sender: int
    group: tuple[int, ...]
    parts: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class CDCScheme:
    """The explicit placement and multicast plan of coded distributed computing.

    Parameters
    ----------
    num_nodes : int
        K.
    computation_load : int
        r.
    num_files : int
        N, the number of files the plan places (padding files included).
    num_padding_files : int
        Empty files added to reach a multiple of C(K, r) (0 unless ``pad=True``).
    batches : tuple of tuple of int
        ``batches[b]`` is the r-subset of nodes storing batch b, in lexicographic order.
    batch_files : numpy.ndarray of int64, shape (C(K, r), N / C(K, r))
        File indices of each batch (batch b holds the files b·g, ..., b·g + g − 1).
    placement : numpy.ndarray of bool, shape (K, N)
        ``placement[k, n]``: node k stores and maps file n.
    multicasts : tuple of Multicast
        The coded shuffle: (r + 1)·C(K, r + 1) multicasts (none when r = K).
    """

    num_nodes: int
    computation_load: int
    num_files: int
    num_padding_files: int
    batches: tuple[tuple[int, ...], ...]
    batch_files: NDArray[np.int64]
    placement: NDArray[np.bool_]
    multicasts: tuple[Multicast, ...]

    @property
    def files_per_batch(self) -> int:
        """g = N / C(K, r), the number of files in each batch."""
        return int(self.batch_files.shape[1])


def cdc_scheme(
    num_nodes: Any, computation_load: Any, num_files: Any, *, pad: Any = False
) -> CDCScheme:
    """The placement and coded multicast plan of CDC for K nodes, load r and N files.

    Placement: batch b (one per r-subset T_b of the nodes, lexicographic order) holds
    g = N / C(K, r) consecutive files and is stored at every node of T_b.  Shuffle: for each
    (r + 1)-subset S and each s ∈ S, node s multicasts to S∖{s} the XOR over k ∈ S∖{s} of
    segment j of the values of reduce function k for batch S∖{k}, where j is the position of
    s in the sorted S∖{k} (so the r nodes of S∖{k} send the r different segments).

    Parameters
    ----------
    num_nodes : int
        K >= 1.
    computation_load : int
        r, 1 <= r <= K.
    num_files : int
        N >= 1; a multiple of C(K, r) unless ``pad`` is true.
    pad : bool
        Add empty files up to the next multiple of C(K, r) instead of raising.

    Returns
    -------
    CDCScheme

    Raises
    ------
    InvalidInputError
        Bad K or r; N not a multiple of C(K, r) without ``pad`` (the message names the
        nearest valid counts).

    References
    ----------
    Li, Maddah-Ali, Yu, Avestimehr, IEEE TIT 2018, doi:10.1109/TIT.2017.2756959, Sec. V
    (the CDC scheme: placement (21), coded multicast (23)–(24)).

    Examples
    --------
    >>> from edgeopt.coding import cdc_scheme
    >>> plan = cdc_scheme(3, 2, 6)
    >>> plan.batches, plan.files_per_batch, len(plan.multicasts)
    (((0, 1), (0, 2), (1, 2)), 2, 3)
    >>> plan.multicasts[0]
    Multicast(sender=0, group=(0, 1, 2), parts=((1, 1, 0), (2, 0, 0)))
    """
    r, k = _check_loads(computation_load, num_nodes)
    n = check_int(num_files, "num_files", min_value=1)
    do_pad = check_bool(pad, "pad")
    n_batches = math.comb(k, r)
    padding = (-n) % n_batches
    if padding and not do_pad:
        low = (n // n_batches) * n_batches
        high = low + n_batches
        nearest = f"{low} or {high}" if low > 0 else f"{high}"
        raise invalid_input(
            "num_files",
            num_files,
            f"a multiple of C({k}, {r}) = {n_batches} (nearest valid: {nearest}), or pad=True",
        )
    n_total = n + padding
    g = n_total // n_batches
    batches = tuple(itertools.combinations(range(k), r))
    index = {t: b for b, t in enumerate(batches)}
    batch_files = np.arange(n_total, dtype=np.int64).reshape(n_batches, g)
    placement = np.zeros((k, n_total), dtype=bool)
    for b, subset in enumerate(batches):
        placement[list(subset), b * g : (b + 1) * g] = True
    multicasts: list[Multicast] = []
    if r < k:
        for group in itertools.combinations(range(k), r + 1):
            for s in group:
                parts = []
                for recv in group:
                    if recv == s:
                        continue
                    holders = tuple(x for x in group if x != recv)
                    parts.append((recv, index[holders], holders.index(s)))
                multicasts.append(Multicast(s, group, tuple(parts)))
    placement.setflags(write=False)
    batch_files.setflags(write=False)
    return CDCScheme(k, r, n_total, padding, batches, batch_files, placement, tuple(multicasts))


@dataclass(frozen=True)
class CDCResult:
    """Result of :func:`simulate_cdc`: a MapReduce job run bit by bit with the CDC plan.

    Parameters
    ----------
    load : float
        Measured normalized load of the coded shuffle: bits sent / (Q·N·value bits), N the
        plan's file count and value bits the (padded) size of one intermediate value
        (through an access point: the bits of the uplink and the downlink together).
    uncoded_load : float
        The same for the uncoded shuffle of the same job (every missing value unicast once;
        through an access point: sent up once and forwarded down once).
    correct : bool
        Every node's reduce output, after the coded shuffle and after the uncoded one,
        equals the single-machine computation.
    coded_bits, uncoded_bits : int
        Bits sent in each shuffle.
    value_bits : int
        Bits per intermediate value (after padding, for TeraSort).
    padding_bits : int
        Bits of the shuffled intermediate values that are padding (TeraSort's value padding
        and the values of padding files), out of Q·N·value_bits.
    padding_fraction : float
        ``padding_bits / (Q·N·value_bits)``.
    num_messages : int
        Coded multicasts sent (through an access point: the uplink packets plus the
        downlink broadcasts).
    shuffle_time_s : float
        Wall-clock seconds of the coded shuffle (encoding and decoding, no map or reduce).
    solve_time_s : float
        Wall-clock seconds of the whole call.
    uplink_load, downlink_load : float or None
        ``network="access-point"``: measured normalized load (bits / (Q·N·value bits)) of
        the coded relaying on the uplink (devices to the access point) and on the downlink
        (the access point's broadcasts); ``load`` is then their sum and ``coded_bits`` the
        bits of both links.  ``None`` on the shared link.
    uncoded_uplink_load, uncoded_downlink_load : float or None
        The same for the uncoded relaying (``uncoded_load`` is their sum).  ``None`` on the
        shared link.
    uplink_bits_per_device, uncoded_uplink_bits_per_device : tuple of int or None
        Length K: bits each device sends up in the coded and in the uncoded relaying.
        ``None`` on the shared link.
    """

    load: float
    uncoded_load: float
    correct: bool
    coded_bits: int
    uncoded_bits: int
    value_bits: int
    padding_bits: int
    padding_fraction: float
    num_messages: int
    shuffle_time_s: float
    solve_time_s: float
    uplink_load: float | None = None
    downlink_load: float | None = None
    uncoded_uplink_load: float | None = None
    uncoded_downlink_load: float | None = None
    uplink_bits_per_device: tuple[int, ...] | None = None
    uncoded_uplink_bits_per_device: tuple[int, ...] | None = None


def _segment(values: NDArray[np.uint8], j: int, r: int) -> NDArray[np.uint8]:
    """Segment j of r of each value: ``values`` has shape (g, B), the result (g, B / r)."""
    w = values.shape[1] // r
    return values[:, j * w : (j + 1) * w]


def _coded_shuffle(
    plan: CDCScheme, mapped: list[NDArray[np.uint8]], value_bytes: int
) -> tuple[list[dict[int, NDArray[np.uint8]]], int, int]:
    """Run the coded shuffle; returns the values each node decoded, bits sent, messages.

    ``mapped[b]`` has shape (Q, g, B): the map output of batch b (stored at the r nodes of
    ``plan.batches[b]``).  The result ``decoded[k][b]`` (shape (g, B)) is reduce function
    k's values for batch b, for every batch b that node k does not store.
    """
    r, k = plan.computation_load, plan.num_nodes
    g = plan.files_per_batch
    decoded: list[dict[int, NDArray[np.uint8]]] = [{} for _ in range(k)]
    for node in range(k):
        for b, subset in enumerate(plan.batches):
            if node not in subset:
                decoded[node][b] = np.zeros((g, value_bytes), dtype=np.uint8)
    holds = plan.placement
    bits = 0
    for msg in plan.multicasts:
        # encode at the sender: the XOR of one segment for each receiver
        recv0, b0, j0 = msg.parts[0]
        if not holds[msg.sender, plan.batch_files[b0, 0]]:
            raise AssertionError("the plan asks a node to send a value it does not hold")
        payload = _segment(mapped[b0][recv0], j0, r).copy()
        for recv, b, j in msg.parts[1:]:
            np.bitwise_xor(payload, _segment(mapped[b][recv], j, r), out=payload)
        bits += payload.nbytes * 8
        # decode at each receiver: cancel the segments it mapped itself
        for recv, b, j in msg.parts:
            out = _segment(decoded[recv][b], j, r)
            np.copyto(out, payload)
            for other, b2, j2 in msg.parts:
                if other != recv:
                    # the receiver holds batch b2 (= S minus `other`, which contains it)
                    np.bitwise_xor(out, _segment(mapped[b2][other], j2, r), out=out)
    return decoded, bits, len(plan.multicasts)


def _uncoded_shuffle(
    plan: CDCScheme, mapped: list[NDArray[np.uint8]]
) -> tuple[list[dict[int, NDArray[np.uint8]]], int]:
    """Each missing batch of values unicast once, by the first node that holds it."""
    received: list[dict[int, NDArray[np.uint8]]] = [{} for _ in range(plan.num_nodes)]
    bits = 0
    for node in range(plan.num_nodes):
        for b, subset in enumerate(plan.batches):
            if node not in subset:
                sent = mapped[b][node].copy()  # sent by node subset[0]
                bits += sent.nbytes * 8
                received[node][b] = sent
    return received, bits


def _access_point_coded_shuffle(
    plan: CDCScheme, mapped: list[NDArray[np.uint8]], value_bytes: int
) -> tuple[list[dict[int, NDArray[np.uint8]]], NDArray[np.int64], int, int]:
    """Coded relaying through an access point; returns decoded values, bits and messages.

    Uplink: every device sends the CDC multicast packets of the plan to the access point.
    Downlink: for each group S the access point holds the r + 1 packets P_0, ..., P_r (in
    the plan's sender order) and broadcasts the r XORs P_i ⊕ P_(i+1); a device of S, which
    knows its own packet, recovers the others along the chain and then cancels the segments
    it mapped itself, as on the shared link.  Returns ``decoded`` (as
    :func:`_coded_shuffle`), the uplink bits of each device (shape (K,)), the downlink bits
    and the number of messages (uplink packets plus downlink broadcasts).
    """
    r, k = plan.computation_load, plan.num_nodes
    g = plan.files_per_batch
    decoded: list[dict[int, NDArray[np.uint8]]] = [{} for _ in range(k)]
    for node in range(k):
        for b, subset in enumerate(plan.batches):
            if node not in subset:
                decoded[node][b] = np.zeros((g, value_bytes), dtype=np.uint8)
    holds = plan.placement
    up_bits = np.zeros(k, dtype=np.int64)
    down_bits = 0
    messages = 0
    for _, group_msgs in itertools.groupby(plan.multicasts, key=lambda m: m.group):
        msgs = list(group_msgs)
        # uplink: each sender encodes its packet from the values it mapped
        packets: list[NDArray[np.uint8]] = []
        for msg in msgs:
            recv0, b0, j0 = msg.parts[0]
            if not holds[msg.sender, plan.batch_files[b0, 0]]:
                raise AssertionError("the plan asks a node to send a value it does not hold")
            payload = _segment(mapped[b0][recv0], j0, r).copy()
            for recv, b, j in msg.parts[1:]:
                np.bitwise_xor(payload, _segment(mapped[b][recv], j, r), out=payload)
            up_bits[msg.sender] += payload.nbytes * 8
            packets.append(payload)
        messages += len(msgs)
        # the access point re-encodes what it received: r chain XORs, broadcast to all
        chain = [np.bitwise_xor(packets[i], packets[i + 1]) for i in range(len(packets) - 1)]
        down_bits += sum(c.nbytes * 8 for c in chain)
        messages += len(chain)
        # each device of the group: its own packet, then the chain both ways
        for own, me in enumerate(msgs):
            known = {own: packets[own]}
            for i in range(own, len(chain)):
                known[i + 1] = np.bitwise_xor(known[i], chain[i])
            for i in range(own - 1, -1, -1):
                known[i] = np.bitwise_xor(known[i + 1], chain[i])
            node = me.sender
            for idx, msg in enumerate(msgs):
                if idx == own:
                    continue
                got = known[idx]
                for recv, b, j in msg.parts:
                    if recv != node:
                        continue
                    out = _segment(decoded[node][b], j, r)
                    np.copyto(out, got)
                    for other, b2, j2 in msg.parts:
                        if other != node:
                            # node holds batch b2 (= S minus `other`, which contains node)
                            np.bitwise_xor(out, _segment(mapped[b2][other], j2, r), out=out)
    return decoded, up_bits, down_bits, messages


def _access_point_uncoded_shuffle(
    plan: CDCScheme, mapped: list[NDArray[np.uint8]], value_bytes: int
) -> tuple[list[dict[int, NDArray[np.uint8]]], NDArray[np.int64], int]:
    """Uncoded relaying: every missing value sent up once and forwarded down once.

    The value of reduce function k for a batch that k does not store is split into r
    segments; the j-th node of the batch sends segment j up (so each device sends an equal
    share) and the access point forwards it down.  Returns the values each node received,
    the uplink bits of each device (shape (K,)) and the downlink bits.
    """
    r, k = plan.computation_load, plan.num_nodes
    g = plan.files_per_batch
    received: list[dict[int, NDArray[np.uint8]]] = [{} for _ in range(k)]
    up_bits = np.zeros(k, dtype=np.int64)
    down_bits = 0
    for node in range(k):
        for b, subset in enumerate(plan.batches):
            if node in subset:
                continue
            out = np.zeros((g, value_bytes), dtype=np.uint8)
            for j, sender in enumerate(subset):
                sent = _segment(mapped[b][node], j, r).copy()  # up from `sender`
                up_bits[sender] += sent.nbytes * 8
                down_bits += sent.nbytes * 8  # forwarded down by the access point
                np.copyto(_segment(out, j, r), sent)
            received[node][b] = out
    return received, up_bits, down_bits


def _gather(
    plan: CDCScheme, node: int, mapped: list[NDArray[np.uint8]], got: dict[int, NDArray[np.uint8]]
) -> NDArray[np.uint8]:
    """Reduce function ``node``'s values for all N files, shape (N, B), in file order."""
    parts = [mapped[b][node] if node in subset else got[b] for b, subset in enumerate(plan.batches)]
    return np.concatenate(parts, axis=0)


def _terasort_map(
    records: NDArray[np.uint8], q: int, max_count: int, value_bytes: int
) -> NDArray[np.uint8]:
    """Map a batch of TeraSort files: bucket each file's records into Q key ranges.

    ``records`` has shape (g, R, 100); the result (Q, g, value_bytes) holds, for each
    reduce function and file, a 4-byte little-endian record count, the file's records of
    that key range in file order, and zero padding.
    """
    g, n_rec, _ = records.shape
    bucket = _bucket(records, q)
    order = np.argsort(bucket, axis=1, kind="stable")
    sorted_bucket = np.take_along_axis(bucket, order, axis=1)
    sorted_rec = np.take_along_axis(records, order[:, :, None], axis=1)
    counts = np.zeros((g, q), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(g), n_rec), bucket.ravel()), 1)
    starts = np.cumsum(counts, axis=1) - counts
    rank = np.arange(n_rec)[None, :] - np.take_along_axis(starts, sorted_bucket, axis=1)
    body = np.zeros((q, g, max_count, RECORD_BYTES), dtype=np.uint8)
    files = np.repeat(np.arange(g)[:, None], n_rec, axis=1)
    body[sorted_bucket, files, rank] = sorted_rec
    out = np.zeros((q, g, value_bytes), dtype=np.uint8)
    header = np.ascontiguousarray(counts.T, dtype="<u4")
    out[:, :, :_HEADER_BYTES] = header.view(np.uint8).reshape(q, g, _HEADER_BYTES)
    out[:, :, _HEADER_BYTES : _HEADER_BYTES + max_count * RECORD_BYTES] = body.reshape(
        q, g, max_count * RECORD_BYTES
    )
    return out


def _bucket(records: NDArray[np.uint8], q: int) -> NDArray[np.int64]:
    """Key range of each record: the first two key bytes, big-endian, split into Q ranges."""
    prefix = records[..., 0].astype(np.int64) * 256 + records[..., 1]
    return (prefix * q) >> 16


def _sort_records(records: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Records (M, 100) sorted by their bytes: by key, ties broken by the rest."""
    flat = np.ascontiguousarray(records).view(f"V{RECORD_BYTES}").ravel()
    return np.sort(flat).view(np.uint8).reshape(-1, RECORD_BYTES)


def _terasort_reduce(values: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Reduce for TeraSort: unpack the (N, B) values of one key range and sort the records."""
    counts = values[:, :_HEADER_BYTES].copy().view("<u4").ravel().astype(np.int64)
    body = values[:, _HEADER_BYTES:].reshape(values.shape[0], -1)
    rows = [body[i, : c * RECORD_BYTES] for i, c in enumerate(counts)]
    recs = np.concatenate(rows).reshape(-1, RECORD_BYTES)
    return _sort_records(recs)


def simulate_cdc(
    num_nodes: Any,
    computation_load: Any,
    *,
    num_files: Any,
    value_bits: Any = None,
    job: Any = "fixed",
    network: Any = "shared-link",
    records_per_file: Any = 100,
    pad: Any = False,
    rng: Any = None,
) -> CDCResult:
    """Run a MapReduce job bit by bit with the CDC plan and measure its shuffle load.

    Map, shuffle and reduce are carried out on byte arrays: every coded multicast is an
    actual XOR of segments at its sender and is decoded at each receiver by XOR-ing out the
    segments it mapped itself; the uncoded shuffle of the same job is run too.  Each batch
    is mapped once and its output shared by the r nodes storing it (the map is
    deterministic, so every holder would compute the same bytes).

    * ``job="fixed"``: the intermediate value of reduce function q for file n is
      ``value_bits`` bits of uniform random content; reduce q returns its N values (in file
      order).  This is the setting of :func:`cdc_load`.
    * ``job="terasort"``: each file holds ``records_per_file`` random 100-byte records with
      a 10-byte key; map buckets each file's records into Q key ranges (split on the first
      two key bytes), reduce q sorts all records of range q.  Buckets have random sizes, so
      every value is padded to a common length (a 4-byte record count, the largest bucket's
      records, zero bytes up to a multiple of r), agreed before the shuffle; the padding is
      reported beside the load.

    Parameters
    ----------
    num_nodes : int
        K >= 1 (Q = K reduce functions).
    computation_load : int
        r, 1 <= r <= K.
    num_files : int
        N; a multiple of C(K, r) unless ``pad`` is true (then padded with empty files).
    value_bits : int, optional
        Bits per intermediate value for ``job="fixed"`` (required there): a positive
        multiple of 8·r, so that segments are whole bytes.  Unused by TeraSort.
    job : {"fixed", "terasort"}
    network : {"shared-link", "access-point"}
        ``"shared-link"``: every multicast reaches all its receivers at the cost of one
        transmission.  ``"access-point"``: the devices cannot hear each other; each
        multicast packet of the plan goes up to an access point, which broadcasts, for
        every (r + 1)-group, the r XORs of consecutive packets of the group (heard by every
        device); the uncoded relaying sends each missing value up once (in r segments, one
        per node storing it) and forwards it down once.  Both relayings are carried out on
        the bytes and counted per link (the ``uplink_*`` and ``downlink_*`` fields).
    records_per_file : int
        TeraSort records per file, >= 1.
    pad : bool
        Pad N up to a multiple of C(K, r).
    rng : numpy.random.Generator, int or None
        Source of the job's data.

    Returns
    -------
    CDCResult

    Raises
    ------
    InvalidInputError
        Bad K, r, N, job or network; ``value_bits`` missing or not a multiple of 8·r (the
        message names the nearest valid sizes).

    References
    ----------
    Li, Maddah-Ali, Yu, Avestimehr, IEEE TIT 2018, doi:10.1109/TIT.2017.2756959, Sec. V
    (scheme) and Theorem 1 (load); S. Li, Q. Yu, M. A. Maddah-Ali, A. S. Avestimehr, "A
    scalable framework for wireless distributed computing", IEEE/ACM Trans. Netw. 25(5),
    2017, doi:10.1109/TNET.2017.2702605 (the access-point setting: devices that exchange
    data only through an access point, coding at the devices and at the access point);
    S. Li, S. Supittayapornpong, M. A. Maddah-Ali, A. S. Avestimehr, "Coded TeraSort",
    IEEE IPDPSW 2017, doi:10.1109/IPDPSW.2017.33 (the TeraSort job: key-range buckets, sort
    per range).

    Examples
    --------
    >>> from edgeopt.coding import cdc_load, simulate_cdc
    >>> res = simulate_cdc(4, 2, num_files=6, value_bits=64, rng=0)
    >>> res.correct, res.load, res.load == cdc_load(2, 4), res.uncoded_load
    (True, 0.25, True, 0.5)
    >>> ts = simulate_cdc(3, 1, num_files=3, job="terasort", records_per_file=50, rng=0)
    >>> ts.correct, ts.load
    (True, 0.6666666666666666)

    Through an access point (uplink (1/r)(1 − r/K), downlink (1/(r + 1))(1 − r/K)):

    >>> ap = simulate_cdc(4, 1, num_files=4, value_bits=64, network="access-point", rng=0)
    >>> ap.correct, ap.uplink_load, ap.downlink_load, ap.uncoded_downlink_load
    (True, 0.75, 0.375, 0.75)
    >>> ap.uplink_bits_per_device
    (192, 192, 192, 192)
    """
    t0 = time.perf_counter()
    r, k = _check_loads(computation_load, num_nodes)
    job = check_choice(job, "job", JOBS)
    network = check_choice(network, "network", NETWORKS)
    gen = check_rng(rng)
    plan = cdc_scheme(k, r, num_files, pad=pad)
    q, n = k, plan.num_files
    n_real = n - plan.num_padding_files
    g = plan.files_per_batch
    if job == "fixed":
        if value_bits is None:
            raise invalid_input("value_bits", value_bits, f"a positive multiple of 8*r = {8 * r}")
        vb = check_int(value_bits, "value_bits", min_value=1)
        if vb % (8 * r):
            low = (vb // (8 * r)) * 8 * r
            nearest = f"{low} or {low + 8 * r}" if low else f"{8 * r}"
            raise invalid_input(
                "value_bits", value_bits, f"a multiple of 8*r = {8 * r} (nearest valid: {nearest})"
            )
        value_bytes = vb // 8
        truth = np.zeros((q, n, value_bytes), dtype=np.uint8)
        truth[:, :n_real] = gen.integers(0, 256, size=(q, n_real, value_bytes), dtype=np.uint8)
        mapped = [truth[:, b * g : (b + 1) * g] for b in range(len(plan.batches))]
        padding_bytes = q * (n - n_real) * value_bytes
        expected: list[NDArray[np.uint8]] = [truth[node] for node in range(k)]
    else:
        n_rec = check_int(records_per_file, "records_per_file", min_value=1)
        records = gen.integers(0, 256, size=(n_real, n_rec, RECORD_BYTES), dtype=np.uint8)
        real_bucket = _bucket(records, q)
        counts = np.stack([np.bincount(row, minlength=q) for row in real_bucket])
        max_count = int(counts.max())
        raw = _HEADER_BYTES + max_count * RECORD_BYTES
        value_bytes = -(-raw // r) * r
        vb = 8 * value_bytes
        # padding files hold no records: their values are empty buckets (count 0)
        mapped = []
        for b in range(len(plan.batches)):
            files = plan.batch_files[b]
            real = files < n_real
            out = np.zeros((q, g, value_bytes), dtype=np.uint8)
            if np.any(real):
                out[:, real] = _terasort_map(records[files[real]], q, max_count, value_bytes)
            mapped.append(out)
        padding_bytes = q * n * value_bytes - n_real * n_rec * RECORD_BYTES
        flat = records.reshape(-1, RECORD_BYTES)
        key_range = _bucket(flat, q)
        expected = [_sort_records(flat[key_range == node]) for node in range(k)]

    t1 = time.perf_counter()
    ap: dict[str, Any] = {}
    if network == "shared-link":
        decoded, coded_bits, messages = _coded_shuffle(plan, mapped, value_bytes)
        shuffle_s = time.perf_counter() - t1
        received, uncoded_bits = _uncoded_shuffle(plan, mapped)
    else:
        decoded, up, down, messages = _access_point_coded_shuffle(plan, mapped, value_bytes)
        shuffle_s = time.perf_counter() - t1
        received, up_u, down_u = _access_point_uncoded_shuffle(plan, mapped, value_bytes)
        coded_bits = int(up.sum()) + down
        uncoded_bits = int(up_u.sum()) + down_u
        total_ap = q * n * vb
        ap = {
            "uplink_load": int(up.sum()) / total_ap,
            "downlink_load": down / total_ap,
            "uncoded_uplink_load": int(up_u.sum()) / total_ap,
            "uncoded_downlink_load": down_u / total_ap,
            "uplink_bits_per_device": tuple(int(x) for x in up),
            "uncoded_uplink_bits_per_device": tuple(int(x) for x in up_u),
        }

    correct = True
    for node in range(k):
        for got in (decoded[node], received[node]):
            values = _gather(plan, node, mapped, got)
            output = values if job == "fixed" else _terasort_reduce(values)
            correct = correct and bool(np.array_equal(output, expected[node]))
    total = q * n * vb
    return CDCResult(
        load=coded_bits / total,
        uncoded_load=uncoded_bits / total,
        correct=correct,
        coded_bits=coded_bits,
        uncoded_bits=uncoded_bits,
        value_bits=vb,
        padding_bits=8 * padding_bytes,
        padding_fraction=8 * padding_bytes / total,
        num_messages=messages,
        shuffle_time_s=shuffle_s,
        solve_time_s=time.perf_counter() - t0,
        **ap,
    )
