"""Small PyTorch models for the federated loops, and deterministic initialization.

Every model maps a batch of flat features ``(B, input_dim)`` to logits
``(B, num_classes)``; the CNN reshapes its input to ``(B, 1, 8, 8)`` itself.  None of them
has buffers or batch statistics, so all clients can be trained together on client-stacked
parameters: the dense models with a written-out forward and backward pass
(``torch.baddbmm``), the CNN with a client-batched forward differentiated by autograd, a
user factory with ``torch.func.vmap`` (see :mod:`edgeopt.federated._batched`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from edgeopt._validation import check_int, check_rng, invalid_input

__all__ = ["MODELS", "LogisticRegression", "MLP", "SmallCNN", "build_model", "init_parameters"]

#: Names accepted by :func:`build_model`.
MODELS = ("logistic", "mlp", "cnn")


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: one linear layer, ``(B, input_dim) -> (B, C)``.

    Parameters
    ----------
    input_dim : int
        Number of input features.
    num_classes : int
        Number of classes (outputs).
    """

    def __init__(self, input_dim: int, num_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(input_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch of flat feature vectors.

        Parameters
        ----------
        x : torch.Tensor, shape (B, input_dim)
            Flat features.

        Returns
        -------
        torch.Tensor, shape (B, num_classes)
            Unnormalized class scores.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.nn.models import LogisticRegression
        >>> LogisticRegression(5, 3)(torch.zeros(4, 5)).shape
        torch.Size([4, 3])
        """
        return self.linear(x)


class MLP(nn.Module):
    """Multilayer perceptron with one ReLU hidden layer, ``(B, input_dim) -> (B, C)``.

    Parameters
    ----------
    input_dim : int
        Number of input features.
    num_classes : int
        Number of classes (outputs).
    hidden : int
        Width of the hidden layer (default 64).
    """

    def __init__(self, input_dim: int, num_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch of flat feature vectors.

        Parameters
        ----------
        x : torch.Tensor, shape (B, input_dim)
            Flat features.

        Returns
        -------
        torch.Tensor, shape (B, num_classes)
            Unnormalized class scores.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.nn.models import MLP
        >>> MLP(5, 3, hidden=8)(torch.zeros(4, 5)).shape
        torch.Size([4, 3])
        """
        return self.fc2(torch.relu(self.fc1(x)))


class SmallCNN(nn.Module):
    """A two-convolution network for 8×8 grey images (input ``(B, 64)``).

    conv 3×3 (1→8) → ReLU → max-pool 2 → conv 3×3 (8→16) → ReLU → max-pool 2 →
    linear (64→C).

    Parameters
    ----------
    num_classes : int
        Number of classes (outputs).
    side : int
        Image side; the input must have ``side²`` features (default 8).

    Raises
    ------
    InvalidInputError
        If ``side`` is not a multiple of 4 (two 2×2 poolings).
    """

    def __init__(self, num_classes: int, side: int = 8) -> None:
        super().__init__()
        if side % 4:
            raise invalid_input("side", side, "a multiple of 4")
        self.side = side
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.fc = nn.Linear(16 * (side // 4) ** 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch of flat feature vectors.

        Parameters
        ----------
        x : torch.Tensor, shape (B, side²)
            Flat features (an image row by row).

        Returns
        -------
        torch.Tensor, shape (B, num_classes)
            Unnormalized class scores.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.nn.models import SmallCNN
        >>> SmallCNN(10)(torch.zeros(4, 64)).shape
        torch.Size([4, 10])
        """
        h = x.reshape(x.shape[0], 1, self.side, self.side)
        h = torch.max_pool2d(torch.relu(self.conv1(h)), 2)
        h = torch.max_pool2d(torch.relu(self.conv2(h)), 2)
        return self.fc(h.flatten(1))


def build_model(
    model: str | Callable[[], nn.Module],
    input_dim: int,
    num_classes: int,
    *,
    rng: Any = None,
) -> nn.Module:
    """Build a model from its name or from a user factory, its parameters drawn from ``rng``.

    The constructor (or the factory) runs with torch's CPU generator seeded from ``rng``
    inside :func:`torch.random.fork_rng`, so every parameter it draws on the CPU is a
    function of ``rng`` alone and the caller's global torch random state is left as it was.
    (Factories should create their parameters on the CPU: CUDA generators are not seeded.)

    Parameters
    ----------
    model : {"logistic", "mlp", "cnn"} or callable
        A callable is called with no arguments and must return an ``nn.Module`` mapping
        ``(B, input_dim)`` to ``(B, num_classes)`` logits, without buffers that change
        during training (no batch norm).
    input_dim : int >= 1
        Number of input features.
    num_classes : int >= 2
        Number of output logits.
    rng : numpy.random.Generator, int or None
        Source of the torch seed (one 63-bit integer is drawn from it).

    Returns
    -------
    torch.nn.Module
        A new module on the CPU.

    Raises
    ------
    InvalidInputError
        Unknown name, a factory that does not return a module, or ``"cnn"`` on inputs that
        are not square images with a side divisible by 4.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.nn.models import build_model
    >>> sum(p.numel() for p in build_model("mlp", 64, 10, rng=0).parameters())
    4810
    >>> a, b = build_model("mlp", 64, 10, rng=3), build_model("mlp", 64, 10, rng=3)
    >>> bool(torch.equal(a.fc1.weight, b.fc1.weight))
    True
    """
    d = check_int(input_dim, "input_dim")
    c = check_int(num_classes, "num_classes", min_value=2)
    is_factory = callable(model) and not isinstance(model, str)
    if not is_factory and model not in MODELS:
        raise invalid_input(
            "model",
            model,
            f"one of {', '.join(map(repr, MODELS))} or a factory returning torch.nn.Module",
        )
    side = math.isqrt(d)
    if model == "cnn" and (side * side != d or side % 4):
        raise invalid_input(
            "input_dim",
            d,
            "a square image with a side divisible by 4 for model='cnn' (e.g. 64 for 8x8 digits)",
        )
    seed = int(check_rng(rng).integers(0, 2**63 - 1))
    built: Any
    with torch.random.fork_rng(devices=[]):  # leave the caller's global torch stream alone
        torch.default_generator.manual_seed(seed)
        if is_factory:
            assert callable(model)
            built = model()
        elif model == "logistic":
            built = LogisticRegression(d, c)
        elif model == "mlp":
            built = MLP(d, c)
        else:
            built = SmallCNN(c, side=side)
    if not isinstance(built, nn.Module):
        raise invalid_input(
            "model", model, f"a factory returning torch.nn.Module, got {type(built).__name__}"
        )
    return built


def init_parameters(module: nn.Module, rng: Any) -> None:
    """Draw the parameters of every Linear and Conv layer from ``rng``, in place.

    Weights and biases are uniform on ``[-1/√fan_in, 1/√fan_in]`` (the distribution of
    PyTorch's default initialization of these layers; ``fan_in`` is the number of inputs of
    one output unit, ``in_channels · kernel size`` for a convolution), drawn in float64 from
    the NumPy generator in module order, so that a seed fixes the initial model on any device
    without touching torch's global random state.  Parameters of other layers keep the
    values their constructor gave them (drawn from ``rng`` too when the module comes from
    :func:`build_model`).

    Parameters
    ----------
    module : torch.nn.Module
        The model, modified in place.
    rng : numpy.random.Generator, int or None
        Source of the draws.

    Returns
    -------
    None
        The parameters of ``module`` are overwritten.

    Raises
    ------
    InvalidInputError
        If ``module`` is not a ``torch.nn.Module`` or ``rng`` is not a random source.

    References
    ----------
    Y. LeCun, L. Bottou, G. B. Orr and K.-R. Müller, "Efficient BackProp," in Neural
    Networks: Tricks of the Trade, Springer, 1998, Sec. 4.6 (weights of scale
    ``fan_in^{-1/2}``); the uniform bound is that of ``torch.nn.Linear`` and
    ``torch.nn.Conv2d`` (PyTorch documentation, "Variables").

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.nn.models import MLP, init_parameters
    >>> a, b = MLP(4, 2), MLP(4, 2)
    >>> init_parameters(a, np.random.default_rng(1)); init_parameters(b, np.random.default_rng(1))
    >>> bool(all((p == q).all() for p, q in zip(a.parameters(), b.parameters())))
    True
    >>> bool(a.fc1.weight.abs().max() <= 0.5)  # fan_in = 4
    True
    """
    if not isinstance(module, nn.Module):
        raise invalid_input("module", module, "a torch.nn.Module")
    gen = check_rng(rng)
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
                draw = gen.uniform(-bound, bound, size=tuple(p.shape))
                p.copy_(torch.as_tensor(draw, dtype=p.dtype))
