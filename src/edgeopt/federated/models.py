"""Small PyTorch models for the federated loops, and deterministic initialization.

Every model maps a batch of flat features ``(B, input_dim)`` to logits
``(B, num_classes)``; the CNN reshapes its input to ``(B, 1, 8, 8)`` itself.  None of them
has buffers or batch statistics, so all clients can be trained together with
``torch.func.vmap`` (see :mod:`edgeopt.federated._batched`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from edgeopt._validation import check_int
from edgeopt.errors import InvalidInputError

__all__ = ["MODELS", "LogisticRegression", "MLP", "SmallCNN", "build_model", "init_parameters"]

#: Names accepted by :func:`build_model`.
MODELS = ("logistic", "mlp", "cnn")


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: one linear layer, ``(B, input_dim) -> (B, C)``.

    Parameters
    ----------
    input_dim, num_classes : int
    """

    def __init__(self, input_dim: int, num_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(input_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(B, num_classes)``."""
        return self.linear(x)


class MLP(nn.Module):
    """Multilayer perceptron with one ReLU hidden layer, ``(B, input_dim) -> (B, C)``.

    Parameters
    ----------
    input_dim, num_classes : int
    hidden : int
        Width of the hidden layer (default 64).
    """

    def __init__(self, input_dim: int, num_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(B, num_classes)``."""
        return self.fc2(torch.relu(self.fc1(x)))


class SmallCNN(nn.Module):
    """A two-convolution network for 8×8 grey images (input ``(B, 64)``).

    conv 3×3 (1→8) → ReLU → max-pool 2 → conv 3×3 (8→16) → ReLU → max-pool 2 →
    linear (64→C).

    Parameters
    ----------
    num_classes : int
    side : int
        Image side; the input must have ``side²`` features (default 8).
    """

    def __init__(self, num_classes: int, side: int = 8) -> None:
        super().__init__()
        if side % 4:
            raise InvalidInputError(f"side={side!r} is invalid: expected a multiple of 4")
        self.side = side
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.fc = nn.Linear(16 * (side // 4) ** 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(B, num_classes)``."""
        h = x.reshape(x.shape[0], 1, self.side, self.side)
        h = torch.max_pool2d(torch.relu(self.conv1(h)), 2)
        h = torch.max_pool2d(torch.relu(self.conv2(h)), 2)
        return self.fc(h.flatten(1))


def build_model(
    model: str | Callable[[], nn.Module], input_dim: int, num_classes: int
) -> nn.Module:
    """Build a model from its name or from a user factory.

    Parameters
    ----------
    model : {"logistic", "mlp", "cnn"} or callable
        A callable is called with no arguments and must return an ``nn.Module`` mapping
        ``(B, input_dim)`` to ``(B, num_classes)`` logits, without buffers that change
        during training (no batch norm).
    input_dim, num_classes : int

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    InvalidInputError
        Unknown name, a factory that does not return a module, or ``"cnn"`` on inputs that
        are not square images with a side divisible by 4.

    Examples
    --------
    >>> from edgeopt.federated.models import build_model
    >>> sum(p.numel() for p in build_model("mlp", 64, 10).parameters())
    4810
    """
    d = check_int(input_dim, "input_dim")
    c = check_int(num_classes, "num_classes", min_value=2)
    if callable(model) and not isinstance(model, str):
        with torch.random.fork_rng(devices=[]):
            built = model()
        if not isinstance(built, nn.Module):
            raise InvalidInputError(
                f"model={model!r} is invalid: expected a factory returning torch.nn.Module, "
                f"got {type(built).__name__}"
            )
        return built
    if model not in MODELS:
        raise InvalidInputError(
            f"model={model!r} is invalid: expected one of {', '.join(map(repr, MODELS))} "
            "or a factory returning torch.nn.Module"
        )
    with torch.random.fork_rng(devices=[]):  # leave the caller's global torch stream alone
        if model == "logistic":
            return LogisticRegression(d, c)
        if model == "mlp":
            return MLP(d, c)
        side = math.isqrt(d)
        if side * side != d or side % 4:
            raise InvalidInputError(
                f"input_dim={d!r} is invalid for model='cnn': expected a square image with a "
                "side divisible by 4 (e.g. 64 for 8x8 digits)"
            )
        return SmallCNN(c, side=side)


def init_parameters(module: nn.Module, rng: np.random.Generator) -> None:
    """Draw the parameters of every Linear and Conv layer from ``rng``, in place.

    Weights and biases are uniform on ``[-1/√fan_in, 1/√fan_in]`` (the distribution of
    PyTorch's default initialization of these layers), drawn in float64 from the NumPy
    generator in module order, so that a seed fixes the initial model on any device without
    touching torch's global random state.  Parameters of other layers keep the values their
    constructor gave them.

    Parameters
    ----------
    module : torch.nn.Module
    rng : numpy.random.Generator

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.federated.models import MLP, init_parameters
    >>> a, b = MLP(4, 2), MLP(4, 2)
    >>> init_parameters(a, np.random.default_rng(1)); init_parameters(b, np.random.default_rng(1))
    >>> bool(all((p == q).all() for p, q in zip(a.parameters(), b.parameters())))
    True
    """
    layers = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    with torch.no_grad():
        for sub in module.modules():
            if not isinstance(sub, layers):
                continue
            weight: Any = sub.weight
            fan_in = int(np.prod(weight.shape[1:]))
            bound = 1.0 / math.sqrt(fan_in)
            for p in (sub.weight, sub.bias):
                if p is None:
                    continue
                draw = rng.uniform(-bound, bound, size=tuple(p.shape))
                p.copy_(torch.as_tensor(draw, dtype=p.dtype))
