"""A small multi-exit CNN for 8×8 digits (BranchyNet style) and its per-exit layer chains.

The trunk has three convolution stages; after the first two a side branch classifies
early, the third ends in the main classifier.  Training minimizes the sum of the exits'
cross-entropies (BranchyNet's joint loss).  :meth:`MultiExitCNN.exit_chain` gives the chain
of layers that computes one exit -- trunk stages, then that exit's head -- as a
:class:`~edgeopt.nn.architectures.LayerGraph` sharing the model's modules, so that it can
be profiled (:func:`~edgeopt.nn.architectures.profile_layers`) and run split between device
and server (:func:`~edgeopt.nn.architectures.split_forward`).

References
----------
.. [1] S. Teerapittayanon, B. McDanel, H. T. Kung, "BranchyNet: fast inference via early
   exiting from deep neural networks", ICPR 2016, doi:10.1109/ICPR.2016.7900006 (the joint
   loss over the exits).

Examples
--------
>>> import torch
>>> from edgeopt.nn.multiexit import MultiExitCNN
>>> net = MultiExitCNN()
>>> [t.shape for t in net(torch.zeros(2, 64))]
[torch.Size([2, 10]), torch.Size([2, 10]), torch.Size([2, 10])]
>>> net.exit_chain(0).order
['stage1', 'exit1']
"""

from __future__ import annotations

import torch
from torch import nn

from edgeopt._validation import check_int, invalid_input
from edgeopt.nn.architectures import LayerGraph

__all__ = ["MultiExitCNN"]


class _Reshape(nn.Module):
    """``(B, 64) -> (B, 1, 8, 8)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], 1, 8, 8)


class MultiExitCNN(nn.Module):
    """Three-exit CNN for flat 8×8 images ``(B, 64)``.

    Parameters
    ----------
    num_classes : int, default 10

    Attributes
    ----------
    num_exits : int
        3.

    Examples
    --------
    >>> from edgeopt.nn.multiexit import MultiExitCNN
    >>> MultiExitCNN().num_exits
    3
    """

    num_exits = 3

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        c = check_int(num_classes, "num_classes")
        self.stage1 = nn.Sequential(_Reshape(), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.stage2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.stage3 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.exit1 = nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 16, c))
        self.exit2 = nn.Sequential(nn.Flatten(), nn.Linear(16 * 16, c))
        self.exit3 = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4, 64), nn.ReLU(), nn.Linear(64, c))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Logits of every exit, ``[(B, C)] * 3``, earliest first.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.nn.multiexit import MultiExitCNN
        >>> len(MultiExitCNN()(torch.zeros(1, 64)))
        3
        """
        h1 = self.stage1(x)
        h2 = self.stage2(h1)
        h3 = self.stage3(h2)
        return [self.exit1(h1), self.exit2(h2), self.exit3(h3)]

    def exit_chain(self, index: int) -> LayerGraph:
        """The layer chain computing exit ``index`` (0, 1 or 2), sharing this model's modules.

        Parameters
        ----------
        index : int

        Returns
        -------
        LayerGraph
            Nodes ``stage1 .. stage{index+1}`` then ``exit{index+1}``.

        Raises
        ------
        InvalidInputError
            If the index is not 0, 1 or 2.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.nn.multiexit import MultiExitCNN
        >>> net = MultiExitCNN().eval()
        >>> x = torch.rand(4, 64)
        >>> bool(torch.equal(net.exit_chain(1)(x), net(x)[1]))
        True
        """
        if isinstance(index, bool) or index not in (0, 1, 2):
            raise invalid_input("index", index, "0, 1 or 2")
        stages = [("stage1", self.stage1), ("stage2", self.stage2), ("stage3", self.stage3)]
        layers = []
        prev = "input"
        for name, module in stages[: index + 1]:
            layers.append((name, module, [prev]))
            prev = name
        head = f"exit{index + 1}"
        layers.append((head, getattr(self, head), [prev]))
        kinds = {name: "conv" for name, _ in stages} | {head: "fc"}
        return LayerGraph(layers, kinds)
