"""Neural-network definitions (needs the ``torch`` extra).

The one home of edgeopt's PyTorch models: the small federated-learning models for 8×8
digits (:class:`LogisticRegression`, :class:`MLP`, :class:`SmallCNN`), the factory
:func:`build_model` and the deterministic initializer :func:`init_parameters`.

Importing this package imports torch; the torch-free subpackages (``channel``, ``cost``,
``system``, the solver families) never import it.

Examples
--------
>>> from edgeopt.nn import build_model
>>> model = build_model("mlp", input_dim=64, num_classes=10, rng=0)
>>> sum(p.numel() for p in model.parameters()) > 0
True
"""

from __future__ import annotations

from edgeopt.nn.architectures import (
    ARCHITECTURES,
    LayerGraph,
    build_architecture,
    profile_layers,
    split_forward,
)
from edgeopt.nn.models import (
    MLP,
    MODELS,
    LogisticRegression,
    SmallCNN,
    build_model,
    init_parameters,
)
from edgeopt.nn.multiexit import MultiExitCNN

__all__ = ["MODELS", "LogisticRegression", "MLP", "SmallCNN", "build_model", "init_parameters"]
__all__ += ["ARCHITECTURES", "LayerGraph", "build_architecture", "profile_layers", "split_forward"]
__all__ += ["MultiExitCNN"]
