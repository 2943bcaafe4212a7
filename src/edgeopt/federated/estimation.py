"""Each device's loss and gradient, on its whole local data or on one mini-batch, for the τ
controller's estimates."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from edgeopt.federated._batched import _masked_loss

__all__ = ["local_objectives", "batch_objectives"]


def local_objectives(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    xs: torch.Tensor,
    ys: torch.Tensor,
    sizes: Any,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""``F_i(w_i)`` and ``∇F_i(w_i)`` for every device ``i``, each on its own data.

    ``F_i`` is the mean cross-entropy over device ``i``'s ``D_i`` samples (the loss its
    local SGD steps descend), evaluated at device ``i``'s parameters ``w_i``, and its
    gradient is taken by autograd, all devices at once (:func:`torch.func.vmap` of
    :func:`torch.func.grad_and_value`).

    Parameters
    ----------
    model : torch.nn.Module
        The network (its parameters are replaced by ``params``).
    params : dict of str to torch.Tensor
        Per-device parameters, each of shape ``(K, *shape)`` in the order of
        ``model.named_parameters()``.
    xs : torch.Tensor, shape (K, n_max, D)
        The devices' features, padded (see ``pad_client_data``).
    ys : torch.Tensor, shape (K, n_max)
        Their labels, padded.
    sizes : array_like of int, shape (K,)
        ``D_i >= 1``: how many of the ``n_max`` rows of each device are data.

    Returns
    -------
    loss : numpy.ndarray of float64, shape (K,)
    grad : numpy.ndarray of float64, shape (K, d)
        Flattened in the order of ``params``.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated.estimation import local_objectives
    >>> net = torch.nn.Linear(2, 2, bias=False)
    >>> params = {"weight": torch.zeros(3, 2, 2)}
    >>> xs, ys = torch.ones(3, 4, 2), torch.zeros(3, 4, dtype=torch.long)
    >>> loss, grad = local_objectives(net, params, xs, ys, [4, 2, 1])
    >>> loss.round(4).tolist(), grad.shape  # log 2 at uniform logits
    ([0.6931, 0.6931, 0.6931], (3, 4))
    """
    k, n_max = ys.shape
    counts = torch.as_tensor(np.asarray(sizes), device=xs.device, dtype=xs.dtype)
    rows = torch.arange(n_max, device=xs.device, dtype=xs.dtype)
    mask = (rows[None, :] < counts[:, None]).to(xs.dtype) / counts[:, None]
    buffers = dict(model.named_buffers())

    def loss(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, m: torch.Tensor) -> Any:
        return _masked_loss(model, p, buffers, x, y, m)

    with torch.enable_grad():
        grads, values = torch.func.vmap(torch.func.grad_and_value(loss))(params, xs, ys, mask)
    flat = torch.cat([grads[name].reshape(k, -1) for name in params], dim=1)
    return (
        values.detach().double().cpu().numpy(),
        flat.detach().double().cpu().numpy(),
    )


def batch_objectives(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    xs: torch.Tensor,
    ys: torch.Tensor,
    index: NDArray[np.int64],
    mask: NDArray[np.float32],
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    r"""Each device's mini-batch loss and gradient at its own parameters: one local SGD step's.

    Device ``i``'s loss is the mean cross-entropy over the mini-batch ``index[i]`` (the
    entries where ``mask[i]`` is 1), the loss its local step descends, and the gradient is
    the one that step applies (:func:`torch.func.vmap` of :func:`torch.func.grad_and_value`).

    Parameters
    ----------
    model : torch.nn.Module
        The network (its parameters are replaced by ``params``).
    params : dict of str to torch.Tensor
        Per-device parameters, each of shape ``(K, *shape)``.
    xs : torch.Tensor, shape (K, n_max, D)
    ys : torch.Tensor, shape (K, n_max)
        The devices' padded data.
    index : numpy.ndarray of int, shape (K, B)
        One step's mini-batch rows of each device (``sample_batches(...)[0][step]``).
    mask : numpy.ndarray, shape (K, B)
        1 for a real sample, 0 for padding.

    Returns
    -------
    loss : torch.Tensor, shape (K,)
    grad : dict of str to torch.Tensor
        Shaped like ``params``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from edgeopt.federated.estimation import batch_objectives
    >>> net = torch.nn.Linear(2, 2, bias=False)
    >>> params = {"weight": torch.zeros(3, 2, 2)}
    >>> xs, ys = torch.ones(3, 4, 2), torch.zeros(3, 4, dtype=torch.long)
    >>> index, mask = np.zeros((3, 2), dtype=np.int64), np.ones((3, 2), dtype=np.float32)
    >>> loss, grad = batch_objectives(net, params, xs, ys, index, mask)
    >>> loss.double().numpy().round(4).tolist(), tuple(grad["weight"].shape)
    ([0.6931, 0.6931, 0.6931], (3, 2, 2))
    """
    k = xs.shape[0]
    idx = torch.as_tensor(np.asarray(index), device=xs.device)
    rows = torch.arange(k, device=xs.device)[:, None]
    xb, yb = xs[rows, idx], ys[rows, idx]
    m = torch.as_tensor(np.asarray(mask), device=xs.device, dtype=xs.dtype)
    m = m / m.sum(-1, keepdim=True)
    buffers = dict(model.named_buffers())

    def loss(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> Any:
        return _masked_loss(model, p, buffers, x, y, w)

    with torch.enable_grad():
        grads, values = torch.func.vmap(torch.func.grad_and_value(loss))(params, xb, yb, m)
    return values.detach(), {name: g.detach() for name, g in grads.items()}
