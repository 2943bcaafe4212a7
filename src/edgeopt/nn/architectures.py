"""Profiled image-classification networks as explicit layer graphs (no weights, no download).

AlexNet (single-tower), VGG-16, ResNet-18, ResNet-50 (v1.5: stride in the 3×3 convolution)
and MobileNetV2 (width 1.0), following the layouts of torchvision's reference models, written
as a :class:`LayerGraph`: named layer nodes, each with the names of the nodes whose outputs it
reads (``"input"`` is the image).  A node is one unit a partitioner may place: a convolution
with its batch norm and activation, a pooling, a residual addition, a fully connected layer.
The graph view is what the profiles in ``edgeopt.profiles`` (made by ``models/make_profiles.py``)
record and what :func:`split_forward` runs on two sides of a cut.

References
----------
.. [1] A. Krizhevsky, "One weird trick for parallelizing convolutional neural networks",
   arXiv:1404.5997, 2014 (the single-tower AlexNet).
.. [2] K. Simonyan, A. Zisserman, "Very deep convolutional networks for large-scale image
   recognition", ICLR 2015.
.. [3] K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition",
   CVPR 2016, doi:10.1109/CVPR.2016.90.
.. [4] M. Sandler, A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen, "MobileNetV2: inverted
   residuals and linear bottlenecks", CVPR 2018, doi:10.1109/CVPR.2018.00474.

Examples
--------
>>> import torch
>>> from edgeopt.nn.architectures import build_architecture
>>> net = build_architecture("resnet18").eval()
>>> net(torch.zeros(1, 3, 64, 64)).shape
torch.Size([1, 1000])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn

from edgeopt._validation import check_choice, check_int, invalid_input

__all__ = [
    "ARCHITECTURES",
    "INPUT",
    "LayerGraph",
    "build_architecture",
    "alexnet",
    "vgg16",
    "resnet18",
    "resnet50",
    "mobilenetv2",
    "split_forward",
    "profile_layers",
]

#: The name of the graph's input (the image) in every node's list of inputs.
INPUT = "input"


class _Add(nn.Module):
    """Sum of its inputs followed by an optional ReLU (the join of a residual block)."""

    def __init__(self, relu: bool) -> None:
        super().__init__()
        self.relu = relu

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        """Elementwise sum of equally shaped tensors (then ReLU when configured)."""
        out = tensors[0]
        for t in tensors[1:]:
            out = out + t
        return torch.relu(out) if self.relu else out


class LayerGraph(nn.Module):
    """A network as named layer nodes in topological order.

    Parameters
    ----------
    layers : sequence of (str, torch.nn.Module, sequence of str)
        ``(name, module, inputs)`` in an order in which every node comes after its inputs;
        ``inputs`` names earlier nodes or :data:`INPUT`.  The last node is the output.  A
        node with several inputs calls ``module(*tensors)``.
    kinds : mapping of str to str, optional
        A short description per node (``"conv"``, ``"pool"``, ``"add"``, ``"fc"``...).

    Attributes
    ----------
    order : list of str
        Node names, topological order.
    inputs : dict of str to tuple of str
        Each node's inputs.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from edgeopt.nn.architectures import LayerGraph
    >>> g = LayerGraph([("a", nn.Identity(), ["input"]), ("b", nn.ReLU(), ["a"])])
    >>> g(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def __init__(
        self,
        layers: Iterable[tuple[str, nn.Module, Iterable[str]]],
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleDict()
        self.order: list[str] = []
        self.inputs: dict[str, tuple[str, ...]] = {}
        seen = {INPUT}
        for name, module, inputs in layers:
            ins = tuple(inputs)
            if name in seen or not ins or any(i not in seen for i in ins):
                raise invalid_input("layers", name, "new node names whose inputs come earlier")
            self.layers[name] = module
            self.order.append(name)
            self.inputs[name] = ins
            seen.add(name)
        self.kinds = dict(kinds or {})

    def run(
        self, tensors: dict[str, torch.Tensor], nodes: Iterable[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """Run some nodes (topological order) on the tensors already available.

        Parameters
        ----------
        tensors : dict of str to torch.Tensor
            Available outputs by node name (and :data:`INPUT`); updated in place.
        nodes : iterable of str, optional
            The nodes to run (default all); each one's inputs must be available by then.

        Returns
        -------
        dict of str to torch.Tensor
            ``tensors`` with the outputs of the nodes run.

        Examples
        --------
        >>> import torch
        >>> from torch import nn
        >>> from edgeopt.nn.architectures import LayerGraph
        >>> g = LayerGraph([("a", nn.ReLU(), ["input"]), ("b", nn.Identity(), ["a"])])
        >>> sorted(g.run({"input": torch.tensor([-1.0])}, ["a"]))
        ['a', 'input']
        """
        wanted = set(self.order if nodes is None else nodes)
        for name in self.order:
            if name in wanted:
                tensors[name] = self.layers[name](*(tensors[i] for i in self.inputs[name]))
        return tensors

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network's output for a batch of images ``(B, C, H, W)``.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.nn.architectures import build_architecture
        >>> build_architecture("alexnet", num_classes=5).eval()(torch.zeros(1, 3, 64, 64)).shape
        torch.Size([1, 5])
        """
        return self.run({INPUT: x})[self.order[-1]]


def split_forward(
    net: LayerGraph, x: torch.Tensor, device_nodes: Iterable[str]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run a network split in two: the device part, the handed-over tensors, the server part.

    The device runs ``device_nodes`` (closed under predecessors) on the input; every tensor
    a server-side node reads that the server does not compute itself (the input or a
    device-side output) is handed over once; the server runs the remaining nodes from those
    tensors only.

    Parameters
    ----------
    net : LayerGraph
    x : torch.Tensor, shape (B, C, H, W)
        Input images.
    device_nodes : iterable of str
        Node names run on the device.

    Returns
    -------
    output : torch.Tensor
        The network's output (computed on the server, or on the device if it runs all).
    handed_over : dict of str to torch.Tensor
        The tensors sent from device to server, by producing node (or ``"input"``).

    Raises
    ------
    InvalidInputError
        If ``device_nodes`` names an unknown node or is not closed under predecessors.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.nn.architectures import build_architecture, split_forward
    >>> net = build_architecture("alexnet").eval()
    >>> x = torch.randn(1, 3, 64, 64)
    >>> out, sent = split_forward(net, x, net.order[:3])
    >>> list(sent), bool(torch.allclose(out, net(x), atol=1e-5))
    (['conv2'], True)
    """
    device = set(device_nodes)
    for name in device:
        if name not in net.inputs:
            raise invalid_input("device_nodes", name, "names of the network's nodes")
        if any(i != INPUT and i not in device for i in net.inputs[name]):
            raise invalid_input("device_nodes", name, "a set closed under predecessors")
    local = net.run({INPUT: x}, [n for n in net.order if n in device])
    server_nodes = [n for n in net.order if n not in device]
    needed: list[str] = []
    for n in server_nodes:
        for i in net.inputs[n]:
            if (i == INPUT or i in device) and i not in needed:
                needed.append(i)
    sent = {i: local[i].detach().clone() for i in needed}
    if not server_nodes:
        return local[net.order[-1]], sent
    remote = net.run(dict(sent), server_nodes)
    return remote[net.order[-1]], sent


class _Builder:
    """Collects ``(name, module, inputs)`` triples and kinds while a network is written."""

    def __init__(self) -> None:
        self.layers: list[tuple[str, nn.Module, tuple[str, ...]]] = []
        self.kinds: dict[str, str] = {}
        self.last = INPUT

    def add(self, name: str, kind: str, module: nn.Module, *inputs: str) -> str:
        self.layers.append((name, module, inputs or (self.last,)))
        self.kinds[name] = kind
        self.last = name
        return name

    def build(self) -> LayerGraph:
        return LayerGraph(self.layers, self.kinds)


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: str = "relu"):
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act == "relu":
        layers.append(nn.ReLU(inplace=False))
    elif act == "relu6":
        layers.append(nn.ReLU6(inplace=False))
    return nn.Sequential(*layers)


def alexnet(num_classes: int = 1000) -> LayerGraph:
    """AlexNet, single-tower variant [1]_ (five convolutions, three fully connected layers).

    Parameters
    ----------
    num_classes : int, default 1000

    Returns
    -------
    LayerGraph
        A chain of 11 nodes; 61.10 M parameters and 0.714 G multiply-accumulates at
        224×224 with 1000 classes.

    Examples
    --------
    >>> from edgeopt.nn.architectures import alexnet
    >>> sum(p.numel() for p in alexnet().parameters())
    61100840
    """
    b = _Builder()
    relu = nn.ReLU
    b.add("conv1", "conv", nn.Sequential(nn.Conv2d(3, 64, 11, 4, 2), relu()))
    b.add("pool1", "pool", nn.MaxPool2d(3, 2))
    b.add("conv2", "conv", nn.Sequential(nn.Conv2d(64, 192, 5, padding=2), relu()))
    b.add("pool2", "pool", nn.MaxPool2d(3, 2))
    b.add("conv3", "conv", nn.Sequential(nn.Conv2d(192, 384, 3, padding=1), relu()))
    b.add("conv4", "conv", nn.Sequential(nn.Conv2d(384, 256, 3, padding=1), relu()))
    b.add("conv5", "conv", nn.Sequential(nn.Conv2d(256, 256, 3, padding=1), relu()))
    b.add("pool5", "pool", nn.Sequential(nn.MaxPool2d(3, 2), nn.AdaptiveAvgPool2d((6, 6))))
    b.add("fc6", "fc", nn.Sequential(nn.Flatten(), nn.Dropout(), nn.Linear(9216, 4096), relu()))
    b.add("fc7", "fc", nn.Sequential(nn.Dropout(), nn.Linear(4096, 4096), relu()))
    b.add("fc8", "fc", nn.Linear(4096, num_classes))
    return b.build()


def vgg16(num_classes: int = 1000) -> LayerGraph:
    """VGG-16 (configuration D of [2]_, without batch norm).

    Parameters
    ----------
    num_classes : int, default 1000

    Returns
    -------
    LayerGraph
        A chain of 22 nodes (13 convolutions, 5 poolings, the adaptive pooling, 3 fully
        connected layers); 138.36 M parameters and 15.47 G multiply-accumulates at 224×224.

    Examples
    --------
    >>> from edgeopt.nn.architectures import vgg16
    >>> sum(p.numel() for p in vgg16().parameters())
    138357544
    """
    b = _Builder()
    cfg = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
    cin = 3
    for s, stage in enumerate(cfg, start=1):
        for j, cout in enumerate(stage, start=1):
            conv = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())
            b.add(f"conv{s}_{j}", "conv", conv)
            cin = cout
        b.add(f"pool{s}", "pool", nn.MaxPool2d(2, 2))
    b.add("avgpool", "pool", nn.AdaptiveAvgPool2d((7, 7)))
    b.add("fc6", "fc", nn.Sequential(nn.Flatten(), nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout()))
    b.add("fc7", "fc", nn.Sequential(nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout()))
    b.add("fc8", "fc", nn.Linear(4096, num_classes))
    return b.build()


def _resnet(blocks: list[int], bottleneck: bool, num_classes: int) -> LayerGraph:
    b = _Builder()
    b.add("conv1", "conv", _conv_bn(3, 64, 7, 2))
    b.add("maxpool", "pool", nn.MaxPool2d(3, 2, 1))
    cin = 64
    expansion = 4 if bottleneck else 1
    for s, (count, width) in enumerate(zip(blocks, [64, 128, 256, 512], strict=True), start=1):
        for j in range(count):
            stride = 2 if (j == 0 and s > 1) else 1
            cout = width * expansion
            src = b.last
            p = f"layer{s}_{j}"
            if bottleneck:
                b.add(f"{p}_conv1", "conv", _conv_bn(cin, width, 1), src)
                b.add(f"{p}_conv2", "conv", _conv_bn(width, width, 3, stride))
                main = b.add(f"{p}_conv3", "conv", _conv_bn(width, cout, 1, act="none"))
            else:
                b.add(f"{p}_conv1", "conv", _conv_bn(cin, width, 3, stride), src)
                main = b.add(f"{p}_conv2", "conv", _conv_bn(width, cout, 3, act="none"))
            short = src
            if stride != 1 or cin != cout:
                short = b.add(
                    f"{p}_downsample", "conv", _conv_bn(cin, cout, 1, stride, act="none"), src
                )
            b.add(f"{p}_add", "add", _Add(relu=True), main, short)
            cin = cout
    b.add("avgpool", "pool", nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()))
    b.add("fc", "fc", nn.Linear(cin, num_classes))
    return b.build()


def resnet18(num_classes: int = 1000) -> LayerGraph:
    """ResNet-18 [3]_ (basic blocks [2, 2, 2, 2]).

    Parameters
    ----------
    num_classes : int, default 1000

    Returns
    -------
    LayerGraph
        A DAG (residual joins are ``"add"`` nodes); 11.69 M parameters and 1.814 G
        multiply-accumulates at 224×224.

    Examples
    --------
    >>> from edgeopt.nn.architectures import resnet18
    >>> sum(p.numel() for p in resnet18().parameters())
    11689512
    """
    return _resnet([2, 2, 2, 2], False, num_classes)


def resnet50(num_classes: int = 1000) -> LayerGraph:
    """ResNet-50 v1.5 [3]_ (bottleneck blocks [3, 4, 6, 3], stride in the 3×3 convolution).

    Parameters
    ----------
    num_classes : int, default 1000

    Returns
    -------
    LayerGraph
        A DAG; 25.56 M parameters and 4.089 G multiply-accumulates at 224×224.

    Examples
    --------
    >>> from edgeopt.nn.architectures import resnet50
    >>> sum(p.numel() for p in resnet50().parameters())
    25557032
    """
    return _resnet([3, 4, 6, 3], True, num_classes)


def mobilenetv2(num_classes: int = 1000) -> LayerGraph:
    """MobileNetV2 [4]_ at width multiplier 1.0 (inverted residual blocks, ReLU6).

    Parameters
    ----------
    num_classes : int, default 1000

    Returns
    -------
    LayerGraph
        A DAG (residual joins are ``"add"`` nodes); 3.505 M parameters and 0.301 G
        multiply-accumulates at 224×224.

    Examples
    --------
    >>> from edgeopt.nn.architectures import mobilenetv2
    >>> sum(p.numel() for p in mobilenetv2().parameters())
    3504872
    """
    b = _Builder()
    b.add("conv_stem", "conv", _conv_bn(3, 32, 3, 2, act="relu6"))
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1)]  # fmt: skip
    cin = 32
    k = 0
    for t, c, n, s in settings:
        for j in range(n):
            stride = s if j == 0 else 1
            hidden = cin * t
            src = b.last
            p = f"block{k}"
            if t != 1:
                b.add(f"{p}_expand", "conv", _conv_bn(cin, hidden, 1, act="relu6"), src)
            b.add(f"{p}_dw", "conv", _conv_bn(hidden, hidden, 3, stride, hidden, "relu6"))
            proj = b.add(f"{p}_project", "conv", _conv_bn(hidden, c, 1, act="none"))
            if stride == 1 and cin == c:
                b.add(f"{p}_add", "add", _Add(relu=False), proj, src)
            cin = c
            k += 1
    b.add("conv_head", "conv", _conv_bn(cin, 1280, 1, act="relu6"))
    b.add("avgpool", "pool", nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()))
    b.add("classifier", "fc", nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes)))
    return b.build()


_BUILDERS = {
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "mobilenetv2": mobilenetv2,
}

#: Names accepted by :func:`build_architecture` (the profiles of ``edgeopt.profiles``).
ARCHITECTURES = tuple(_BUILDERS)


def build_architecture(name: str, num_classes: int = 1000) -> LayerGraph:
    """One of the profiled networks by name, randomly initialized by torch's defaults.

    Parameters
    ----------
    name : {"alexnet", "vgg16", "resnet18", "resnet50", "mobilenetv2"}
    num_classes : int, default 1000

    Returns
    -------
    LayerGraph

    Raises
    ------
    InvalidInputError
        If the name is unknown.

    Examples
    --------
    >>> from edgeopt.nn.architectures import build_architecture
    >>> len(build_architecture("vgg16").order)
    22
    """
    name = check_choice(name, "name", ARCHITECTURES)
    return _BUILDERS[name](check_int(num_classes, "num_classes"))


def profile_layers(
    net: LayerGraph, input_shape: tuple[int, ...] = (1, 3, 224, 224), bits_per_activation: int = 32
) -> dict[str, object]:
    """Per-layer operations, parameters and output sizes of a network, measured by torch.

    Multiply-accumulates are counted by :class:`torch.utils.flop_counter.FlopCounterMode`
    (its per-module breakdown; one multiply-accumulate is two of its FLOPs, and it counts
    convolutions and matrix products only, as the reference figures do); output activation
    sizes are read by forward hooks on every node.  One forward pass of zeros in ``eval``
    mode, without gradients.

    Parameters
    ----------
    net : LayerGraph
    input_shape : tuple of int, default (1, 3, 224, 224)
        ``(B, C, H, W)`` of the input batch (counts are per batch).
    bits_per_activation : int, default 32
        Bits of one activation (32-bit floats).

    Returns
    -------
    dict
        ``input_shape``, ``input_bits``, ``bits_per_activation``, ``total_params``,
        ``total_macs`` and ``layers``: one dict per node in topological order with ``name``,
        ``kind``, ``inputs``, ``macs``, ``params``, ``output_shape`` and ``output_bits``.

    Examples
    --------
    >>> from edgeopt.nn.architectures import alexnet, profile_layers
    >>> prof = profile_layers(alexnet())
    >>> prof["total_params"], prof["layers"][0]["name"], prof["layers"][0]["output_shape"]
    (61100840, 'conv1', [1, 64, 55, 55])
    """
    from torch.utils.flop_counter import FlopCounterMode

    bits = check_int(bits_per_activation, "bits_per_activation")
    shape = tuple(check_int(s, "input_shape") for s in input_shape)
    shapes: dict[str, list[int]] = {}
    handles = []
    for name in net.order:

        def hook(_m: nn.Module, _i: object, out: torch.Tensor, name: str = name) -> None:
            shapes[name] = list(out.shape)

        handles.append(net.layers[name].register_forward_hook(hook))
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            net(torch.zeros(shape))
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)
    counts = counter.get_flop_counts()
    prefix = type(net).__name__ + ".layers."
    layers = []
    total_macs = 0
    for name in net.order:
        flops = sum(counts.get(prefix + name, {}).values())
        total_macs += int(flops) // 2
        numel = 1
        for s in shapes[name]:
            numel *= s
        layers.append(
            {
                "name": name,
                "kind": net.kinds.get(name, "layer"),
                "inputs": list(net.inputs[name]),
                "macs": int(flops) // 2,
                "params": int(sum(p.numel() for p in net.layers[name].parameters())),
                "output_shape": shapes[name],
                "output_bits": numel * bits,
            }
        )
    numel_in = 1
    for s in shape:
        numel_in *= s
    return {
        "input_shape": list(shape),
        "input_bits": numel_in * bits,
        "bits_per_activation": bits,
        "total_params": int(sum(p.numel() for p in net.parameters())),
        "total_macs": total_macs,
        "layers": layers,
    }
