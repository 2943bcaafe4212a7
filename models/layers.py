"""DNN layer profiles and device profiles, loaded without torch.

:func:`load_profile` reads one network's per-layer table (multiply-accumulates, parameters,
output activation sizes, layer graph) from the JSON files made by ``models/make_profiles.py``;
:func:`load_device_profile` reads the nominal device profiles of ``devices.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import check_array, check_choice, check_int, invalid_input

__all__ = [
    "MODEL_NAMES",
    "DEVICE_NAMES",
    "LayerProfile",
    "ModelProfile",
    "DeviceProfile",
    "load_profile",
    "load_device_profile",
]

#: Names accepted by :func:`load_profile`.
MODEL_NAMES = ("alexnet", "vgg16", "resnet18", "resnet50", "mobilenetv2")
#: Names accepted by :func:`load_device_profile`.
DEVICE_NAMES = ("phone", "iot", "edge_server")

_PACKAGE = "edgeopt.profiles"


def _read_json(filename: str) -> dict[str, Any]:
    return json.loads((resources.files(_PACKAGE) / filename).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class LayerProfile:
    """One node of a network's layer graph.

    Parameters
    ----------
    name : str
    kind : str
        ``"conv"``, ``"pool"``, ``"add"`` (a residual join) or ``"fc"``.
    inputs : tuple of str
        The nodes whose outputs it reads (``"input"``: the image).
    macs : int
        Multiply-accumulates of one forward pass of the profiled batch.
    params : int
        Parameters of the layer.
    output_shape : tuple of int
    output_bits : int
        Bits of its output activation (``numel * bits_per_activation``).

    Examples
    --------
    >>> from edgeopt.profiles import load_profile
    >>> stem = load_profile("resnet18").layers[0]
    >>> stem.name, stem.kind, stem.output_shape
    ('conv1', 'conv', (1, 64, 112, 112))
    """

    name: str
    kind: str
    inputs: tuple[str, ...]
    macs: int
    params: int
    output_shape: tuple[int, ...]
    output_bits: int


@dataclass(frozen=True)
class DeviceProfile:
    """Nominal compute and radio figures of a device class (see ``devices.json``).

    Parameters
    ----------
    name : str
    cpu_freq_hz : float
        Clock of the core that runs the network, Hz.
    macs_per_cycle : float
        Peak FP32 multiply-accumulates per cycle of that core.
    kappa : float
        Effective switched capacitance: ``kappa f^2`` joules per cycle.
    tx_power_w : float
        Transmit power, W.
    sources : dict of str to str
        Where each figure comes from.

    Examples
    --------
    >>> from edgeopt.profiles import load_device_profile
    >>> phone = load_device_profile("phone")
    >>> phone.macs_per_second > 1e10, "kappa" in phone.sources
    (True, True)
    """

    name: str
    cpu_freq_hz: float
    macs_per_cycle: float
    kappa: float
    tx_power_w: float
    sources: dict[str, str]

    @property
    def macs_per_second(self) -> float:
        """Peak multiply-accumulates per second, ``cpu_freq_hz * macs_per_cycle``."""
        return self.cpu_freq_hz * self.macs_per_cycle

    @property
    def compute_power_w(self) -> float:
        """Dynamic compute power at full clock, ``kappa f^3``, W."""
        return self.kappa * self.cpu_freq_hz**3


@dataclass(frozen=True)
class ModelProfile:
    """Per-layer profile of a network at one input size (see :func:`load_profile`).

    Parameters
    ----------
    name : str
    input_shape : tuple of int
        ``(B, C, H, W)`` of the profiled input.
    bits_per_activation : int
    input_bits : int
        Bits of the input image batch.
    total_params, total_macs : int
    layers : tuple of LayerProfile
        Topological order; the last layer is the output.

    Examples
    --------
    >>> from edgeopt.profiles import load_profile
    >>> p = load_profile("vgg16")
    >>> p.is_chain, len(p.layers), round(p.total_macs / 1e9, 2)
    (True, 22, 15.47)
    """

    name: str
    input_shape: tuple[int, ...]
    bits_per_activation: int
    input_bits: int
    total_params: int
    total_macs: int
    layers: tuple[LayerProfile, ...]

    @property
    def names(self) -> list[str]:
        """Layer names, topological order."""
        return [layer.name for layer in self.layers]

    @property
    def macs(self) -> NDArray[np.float64]:
        """Multiply-accumulates per layer, shape ``(L,)``."""
        return np.array([layer.macs for layer in self.layers], dtype=np.float64)

    @property
    def output_bits(self) -> NDArray[np.float64]:
        """Output activation bits per layer, shape ``(L,)``."""
        return np.array([layer.output_bits for layer in self.layers], dtype=np.float64)

    @property
    def is_chain(self) -> bool:
        """Whether every layer reads exactly the previous one (the first reads the input)."""
        prev = "input"
        for layer in self.layers:
            if layer.inputs != (prev,):
                return False
            prev = layer.name
        return True

    def layer_times_s(self, device: DeviceProfile | float) -> NDArray[np.float64]:
        """Per-layer compute times ``macs / (macs per second)``, shape ``(L,)``, seconds.

        Parameters
        ----------
        device : DeviceProfile or float
            A device profile, or its multiply-accumulates per second.

        Returns
        -------
        numpy.ndarray of float64, shape (L,)

        Examples
        --------
        >>> from edgeopt.profiles import load_profile
        >>> bool(load_profile("alexnet").layer_times_s(1e9)[0] > 0)
        True
        """
        rate = device.macs_per_second if isinstance(device, DeviceProfile) else device
        rate = float(check_array(rate, "device", ndim=0, positive=True))
        return self.macs / rate

    def graph(
        self,
        device_time_s: Any,
        server_time_s: Any,
    ) -> nx.DiGraph:
        """The layer graph with the node attributes :func:`edgeopt.offload.partition_dag` reads.

        Parameters
        ----------
        device_time_s, server_time_s : array_like, shape (L,)
            Per-layer compute times on each side, seconds (e.g. :meth:`layer_times_s`, or
            measured times).

        Returns
        -------
        networkx.DiGraph
            Nodes are layer names with ``device_time_s``, ``server_time_s``,
            ``output_bits`` and ``kind``; an edge ``u -> v`` when ``v`` reads ``u``'s output
            (the input itself is not a node).

        Examples
        --------
        >>> from edgeopt.profiles import load_profile
        >>> p = load_profile("resnet18")
        >>> g = p.graph(p.layer_times_s(1e10), p.layer_times_s(1e11))
        >>> g.number_of_nodes(), g.in_degree("layer1_0_add")
        (31, 2)
        """
        n = len(self.layers)
        dev = check_array(device_time_s, "device_time_s", shape=(n,), nonneg=True)
        srv = check_array(server_time_s, "server_time_s", shape=(n,), nonneg=True)
        g = nx.DiGraph()
        for i, layer in enumerate(self.layers):
            g.add_node(
                layer.name,
                device_time_s=float(dev[i]),
                server_time_s=float(srv[i]),
                output_bits=float(layer.output_bits),
                kind=layer.kind,
            )
            for src in layer.inputs:
                if src != "input":
                    g.add_edge(src, layer.name)
        return g


def load_profile(name: str, *, bits_per_activation: int = 32) -> ModelProfile:
    """Load the per-layer profile of one network at 224×224 (no torch needed).

    The profiles were measured by ``models/make_profiles.py`` from the definitions in
    ``edgeopt.nn.architectures`` (torch's ``FlopCounterMode`` for multiply-accumulates,
    forward hooks for output sizes; batch of one).

    Parameters
    ----------
    name : {"alexnet", "vgg16", "resnet18", "resnet50", "mobilenetv2"}
    bits_per_activation : int, default 32
        Bits of one activation and input value (32: float32; 8: 8-bit quantized).

    Returns
    -------
    ModelProfile

    Raises
    ------
    InvalidInputError
        If the name is unknown or ``bits_per_activation`` is not a positive integer.

    Examples
    --------
    >>> from edgeopt.profiles import load_profile
    >>> p = load_profile("resnet50")
    >>> p.total_params, p.is_chain
    (25557032, False)
    >>> load_profile("resnet50", bits_per_activation=8).input_bits * 4 == p.input_bits
    True
    """
    name = check_choice(name, "name", MODEL_NAMES)
    bits = check_int(bits_per_activation, "bits_per_activation")
    doc = _read_json(f"{name}.json")
    stored = int(doc["bits_per_activation"])
    layers = tuple(
        LayerProfile(
            name=str(d["name"]),
            kind=str(d["kind"]),
            inputs=tuple(d["inputs"]),
            macs=int(d["macs"]),
            params=int(d["params"]),
            output_shape=tuple(d["output_shape"]),
            output_bits=int(d["output_bits"]) // stored * bits,
        )
        for d in doc["layers"]
    )
    return ModelProfile(
        name=name,
        input_shape=tuple(doc["input_shape"]),
        bits_per_activation=bits,
        input_bits=int(doc["input_bits"]) // stored * bits,
        total_params=int(doc["total_params"]),
        total_macs=int(doc["total_macs"]),
        layers=layers,
    )


def load_device_profile(name: str) -> DeviceProfile:
    """Load one nominal device profile from ``devices.json``.

    Parameters
    ----------
    name : {"phone", "iot", "edge_server"}

    Returns
    -------
    DeviceProfile

    Raises
    ------
    InvalidInputError
        If the name is unknown.

    Examples
    --------
    >>> from edgeopt.profiles import load_device_profile
    >>> load_device_profile("iot").cpu_freq_hz
    1500000000.0
    """
    name = check_choice(name, "name", DEVICE_NAMES)
    d = _read_json("devices.json")["devices"][name]
    if not isinstance(d, dict):
        raise invalid_input("name", name, "a device entry of devices.json")
    return DeviceProfile(
        name=name,
        cpu_freq_hz=float(d["cpu_freq_hz"]),
        macs_per_cycle=float(d["macs_per_cycle"]),
        kappa=float(d["kappa"]),
        tx_power_w=float(d["tx_power_w"]),
        sources=dict(d["sources"]),
    )
