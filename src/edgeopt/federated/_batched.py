"""Local training of all clients: batched, and the sequential reference.

Two batched implementations share one entry point, :func:`train_batched`:

* the built-in models run on parameters stacked along a leading client axis.  The dense
  ones (:class:`~edgeopt.nn.models.LogisticRegression`,
  :class:`~edgeopt.nn.models.MLP`) use a written-out backward pass: batched matrix
  products (``baddbmm``) forward, the softmax cross-entropy gradient, and each weight
  updated in place by ``W ← W − lr·xᵀδ`` (``baddbmm_``), with the per-step activations in
  buffers reused across steps.  :class:`~edgeopt.nn.models.SmallCNN` runs a
  client-batched forward (grouped convolutions, ``groups=K``) and differentiates the sum of
  the clients' losses once by autograd, which gives every client its own gradient because
  client ``k``'s loss depends only on its own slice;
* any other model (a user factory) runs ``torch.func.vmap(torch.func.grad(loss))`` over the
  stacked parameters with ``functional_call``: generic, but each operation pays the
  transform's dispatch overhead.

All paths run plain SGD, ``θ ← θ − lr·∇ℓ(θ)``, from the same global parameters on the same
mini-batches.  The mini-batches are drawn once per round by :func:`sample_batches` from the
NumPy generator, client after client within each step, so the two paths see identical
indices.  Clients with different data sizes stack because every batch is padded to the
largest batch of the round and carries a 0/1 mask: a client's loss is the masked mean over
its own samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.func import functional_call, grad, vmap

__all__ = [
    "sample_batches",
    "pad_client_data",
    "batched_logits",
    "train_batched",
    "train_sequential",
]


def sample_batches(
    sizes: Sequence[int] | NDArray[np.int64],
    batch_size: int | None,
    local_steps: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Mini-batch indices of every client for every local step of one round.

    Client ``i`` with ``n_i`` samples uses batches of ``b_i = min(batch_size, n_i)`` samples
    (all of them for ``batch_size=None``), drawn without replacement within a step and
    independently across steps (``rng.permutation(n_i)[:b_i]``; for ``b_i = n_i`` the whole
    local set, i.e. full-batch gradient descent).

    Returns
    -------
    index : numpy.ndarray of int64, shape (local_steps, K, B)
        Local sample indices, ``B = max_i b_i``; padding entries are 0.
    mask : numpy.ndarray of float32, shape (local_steps, K, B)
        1 for real samples, 0 for padding.
    """
    sizes_arr = np.asarray(sizes, dtype=np.int64)
    b = sizes_arr.copy() if batch_size is None else np.minimum(sizes_arr, batch_size)
    width = int(b.max())
    k = sizes_arr.size
    index = np.zeros((local_steps, k, width), dtype=np.int64)
    mask = np.zeros((local_steps, k, width), dtype=np.float32)
    for step in range(local_steps):
        for i in range(k):
            index[step, i, : b[i]] = rng.permutation(int(sizes_arr[i]))[: b[i]]
            mask[step, i, : b[i]] = 1.0
    return index, mask


def pad_client_data(
    x: torch.Tensor, y: torch.Tensor, parts: Sequence[NDArray[np.int64]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack the clients' local data as ``(K, n_max, D)`` features and ``(K, n_max)`` labels."""
    n_max = max(len(p) for p in parts)
    xs = x.new_zeros((len(parts), n_max, x.shape[1]))
    ys = y.new_zeros((len(parts), n_max))
    for i, p in enumerate(parts):
        idx = torch.as_tensor(p, device=x.device)
        xs[i, : len(p)] = x[idx]
        ys[i, : len(p)] = y[idx]
    return xs, ys


def _masked_loss(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    buffers: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """Weighted cross-entropy ``Σ_j mask_j ℓ_j`` (``mask`` already divided by its sum)."""
    logits = functional_call(model, (params, buffers), (x,))
    # cross-entropy written out: cheaper under vmap than F.cross_entropy's batching rule
    loss = torch.logsumexp(logits, dim=-1) - logits.gather(-1, y[:, None]).squeeze(-1)
    return (loss * mask).sum()


def _blinear(x: torch.Tensor, weight_t: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x @ Wᵀ + b`` per client: x (K, B, in), weight_t = Wᵀ (K, in, out), bias (K, out)."""
    return torch.baddbmm(bias.unsqueeze(1), x, weight_t)


def _linear_weights(model: nn.Module) -> list[str]:
    """Names of the weights of the model's Linear layers."""
    return [f"{name}.weight" for name, m in model.named_modules() if isinstance(m, nn.Linear)]


def _bconv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """3×3 'same' convolution per client as one grouped convolution.

    x (B, K·C_in, H, W), weight (K, C_out, C_in, 3, 3), bias (K, C_out) ->
    (B, K·C_out, H, W).
    """
    k = weight.shape[0]
    return torch.nn.functional.conv2d(
        x, weight.reshape(-1, *weight.shape[2:]), bias.reshape(-1), padding=1, groups=k
    )


def _dense_layers(model: nn.Module) -> list[str] | None:
    """Module names of the Linear layers of a built-in dense model (ReLU between), else None."""
    from edgeopt.nn.models import MLP, LogisticRegression

    kind = type(model)
    if kind is LogisticRegression:
        return ["linear"]
    if kind is MLP:
        return ["fc1", "fc2"]
    return None


@torch.no_grad()
def _train_dense(
    layers: list[str],
    global_params: dict[str, torch.Tensor],
    xs: torch.Tensor,
    ys: torch.Tensor,
    flat_idx: torch.Tensor,
    weight: torch.Tensor,
    lr: float,
) -> dict[str, torch.Tensor]:
    """Local SGD of all clients for a stack of Linear layers with ReLU between them.

    The backward pass is written out (softmax cross-entropy, then ``x^T δ`` per layer) and
    every weight update is one in-place ``baddbmm_`` on the client-stacked ``(K, in, out)``
    weights, so that no gradient tensor is materialized, and the per-step activations live
    in buffers allocated once per call.  This matters on the CPU: autograd allocates a few
    fresh megabytes per step (one gradient the size of all K first-layer weights), which
    the C allocator serves from newly mapped pages, and the page faults then cost as much
    as the arithmetic and vary from round to round.

    ``flat_idx`` (local_steps, K·B) indexes rows of ``xs`` flattened to ``(K·n_max, D)``;
    ``weight`` (local_steps, K, B) is the mask divided by each client's batch size.
    """
    k, n_max = xs.shape[0], xs.shape[1]
    steps, b = weight.shape[0], weight.shape[2]
    x_flat = xs.reshape(k * n_max, -1)
    y_flat = ys.reshape(-1)
    # weights as (K, in, out): x^T δ comes out in that layout; biases as (K, 1, out)
    wts = [
        global_params[f"{n}.weight"].detach().t().unsqueeze(0).expand(k, -1, -1).contiguous()
        for n in layers
    ]
    bias = [global_params[f"{n}.bias"].detach().unsqueeze(0).expand(k, -1).clone() for n in layers]
    x_buf = x_flat.new_empty((k * b, x_flat.shape[1]))
    # pre-activations of every layer and the activations feeding each hidden layer
    z = [x_flat.new_empty((k, b, w.shape[2])) for w in wts]
    act = [x_buf.view(k, b, -1)] + [x_flat.new_empty((k, b, w.shape[2])) for w in wts[:-1]]
    delta_in = [x_flat.new_empty((k, b, w.shape[1])) for w in wts[1:]]
    for step in range(steps):
        torch.index_select(x_flat, 0, flat_idx[step], out=x_buf)
        y = y_flat.index_select(0, flat_idx[step]).view(k, b, 1)
        for i, (w, c) in enumerate(zip(wts, bias, strict=True)):
            torch.baddbmm(c.unsqueeze(1), act[i], w, out=z[i])
            if i + 1 < len(wts):
                torch.clamp_min(z[i], 0.0, out=act[i + 1])
        # δ of the loss Σ_j weight_j (logsumexp(z_j) − z_j[y_j]) w.r.t. the logits
        delta = torch.softmax(z[-1], dim=-1)
        delta.scatter_add_(-1, y, torch.full_like(y, -1, dtype=delta.dtype))
        delta.mul_(weight[step].unsqueeze(-1))
        for i in range(len(wts) - 1, -1, -1):
            if i > 0:  # δ of the layer below, with this layer's weights before the update
                torch.bmm(delta, wts[i].transpose(1, 2), out=delta_in[i - 1])
            wts[i].baddbmm_(act[i].transpose(1, 2), delta, alpha=-lr)
            bias[i].sub_(delta.sum(1), alpha=lr)
            if i > 0:
                delta = delta_in[i - 1].masked_fill_(z[i - 1] <= 0, 0.0)
    out: dict[str, torch.Tensor] = {}
    for n, w, c in zip(layers, wts, bias, strict=True):
        out[f"{n}.weight"] = w.transpose(1, 2)
        out[f"{n}.bias"] = c
    return {n: out[n] for n in global_params}


def batched_logits(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    *,
    transposed: bool = False,
) -> torch.Tensor | None:
    """Logits ``(K, B, C)`` of the built-in models for client-stacked ``params``.

    Returns ``None`` for any other model (the caller then falls back to ``vmap``).  The
    computation is the model's own forward pass, client by client, written with batched
    operations.  With ``transposed=True`` the Linear weights are given as ``(K, in, out)``
    (the layout in which their gradients come out contiguous, see :func:`train_batched`).
    """
    from edgeopt.nn.models import MLP, LogisticRegression, SmallCNN

    if not transposed:
        names = set(_linear_weights(model))
        params = {n: p.transpose(1, 2) if n in names else p for n, p in params.items()}
    kind = type(model)
    if kind is LogisticRegression:
        return _blinear(x, params["linear.weight"], params["linear.bias"])
    if kind is MLP:
        h = torch.relu(_blinear(x, params["fc1.weight"], params["fc1.bias"]))
        return _blinear(h, params["fc2.weight"], params["fc2.bias"])
    if kind is SmallCNN:
        assert isinstance(model, SmallCNN)
        k, b = x.shape[0], x.shape[1]
        side = model.side
        h = x.reshape(k, b, side, side).transpose(0, 1)  # (B, K·1, H, W)
        h = torch.max_pool2d(torch.relu(_bconv(h, params["conv1.weight"], params["conv1.bias"])), 2)
        h = torch.max_pool2d(torch.relu(_bconv(h, params["conv2.weight"], params["conv2.bias"])), 2)
        h = h.reshape(b, k, -1).transpose(0, 1)  # (K, B, 16·(side/4)²), channel-major per client
        return _blinear(h, params["fc.weight"], params["fc.bias"])
    return None


def train_batched(
    model: nn.Module,
    global_params: dict[str, torch.Tensor],
    xs: torch.Tensor,
    ys: torch.Tensor,
    index: NDArray[np.int64],
    mask: NDArray[np.float32],
    lr: float,
    *,
    use_vmap: bool | None = None,
) -> dict[str, torch.Tensor]:
    """Run the local SGD steps of all clients at once over client-stacked parameters.

    Parameters
    ----------
    model : torch.nn.Module
        Architecture shared by all clients (its own parameters are not used).
    global_params : dict of str to torch.Tensor
        Starting point of every client.
    xs, ys : torch.Tensor, shapes (K, n_max, D) and (K, n_max)
        Padded local data (:func:`pad_client_data`).
    index, mask : numpy.ndarray, shape (local_steps, K, B)
        From :func:`sample_batches`.
    lr : float
    use_vmap : bool, optional
        Force the generic ``vmap`` path (True) or require the built-in batched forward
        (False); default: built-in where available, else ``vmap``.

    Returns
    -------
    dict of str to torch.Tensor
        Final local parameters, each of shape ``(K, *param.shape)`` (the Linear weights of
        the dense built-in models are transposed views of ``(K, in, out)`` storage, not
        contiguous).
    """
    k, n_max = xs.shape[0], xs.shape[1]
    mask_t = torch.as_tensor(mask, device=xs.device, dtype=xs.dtype)
    mask_t = mask_t / mask_t.sum(-1, keepdim=True)  # masked mean = sum of these weights
    # flat row index client * n_max + local index of every step's batches
    flat_idx = torch.as_tensor(
        (np.arange(k)[None, :, None] * n_max + index).reshape(index.shape[0], -1),
        device=xs.device,
    )
    if use_vmap is not True:
        layers = _dense_layers(model)
        if layers is not None:
            return _train_dense(layers, global_params, xs, ys, flat_idx, mask_t, lr)
    params = {
        n: p.detach().unsqueeze(0).expand(k, *p.shape).clone() for n, p in global_params.items()
    }
    x_all = xs.reshape(k * n_max, *xs.shape[2:]).index_select(0, flat_idx.reshape(-1))
    x_all = x_all.reshape(*index.shape, *xs.shape[2:])
    y_all = ys.reshape(-1).index_select(0, flat_idx.reshape(-1)).reshape(index.shape)
    names = list(params)
    if use_vmap is None:
        with torch.no_grad():
            use_vmap = batched_logits(model, params, x_all[0, :, :1]) is None
    if not use_vmap:
        # Linear weights as contiguous (K, in, out): their gradients x^T g then come out in
        # the same layout, and the in-place update runs over contiguous memory
        lin = set(_linear_weights(model))
        work = {n: p.transpose(1, 2).contiguous() if n in lin else p for n, p in params.items()}
        leaves = [work[n] for n in names]
        for step in range(index.shape[0]):
            for t in leaves:
                t.requires_grad_(True)
            logits = batched_logits(model, work, x_all[step], transposed=True)
            if logits is None:
                raise TypeError(f"no built-in batched forward for {type(model).__name__}")
            loss = torch.logsumexp(logits, dim=-1) - logits.gather(
                -1, y_all[step].unsqueeze(-1)
            ).squeeze(-1)
            grads = torch.autograd.grad((loss * mask_t[step]).sum(), leaves)
            with torch.no_grad():
                for t in leaves:
                    t.requires_grad_(False)
                torch._foreach_add_(leaves, list(grads), alpha=-lr)
        return {n: w.transpose(1, 2).contiguous() if n in lin else w for n, w in work.items()}

    buffers = {name: b for name, b in model.named_buffers()}

    def loss_fn(
        p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, m: torch.Tensor
    ) -> torch.Tensor:
        return _masked_loss(model, p, buffers, x, y, m)

    step_grad = vmap(grad(loss_fn))
    with torch.no_grad():
        for step in range(index.shape[0]):
            with torch.enable_grad():
                grads = step_grad(params, x_all[step], y_all[step], mask_t[step])
            torch._foreach_add_([params[n] for n in names], [grads[n] for n in names], alpha=-lr)
    return params


def train_sequential(
    model: nn.Module,
    global_params: dict[str, torch.Tensor],
    xs: torch.Tensor,
    ys: torch.Tensor,
    index: NDArray[np.int64],
    mask: NDArray[np.float32],
    lr: float,
) -> dict[str, torch.Tensor]:
    """The reference: a Python loop over clients, autograd on an ``nn.Module`` per step.

    Same inputs and output as :func:`train_batched`; each client's loss is the mean over
    its unpadded batch.  The model's own parameters serve as scratch space (they hold the
    last client's parameters afterwards).
    """
    k = xs.shape[0]
    out: dict[str, list[torch.Tensor]] = {n: [] for n in global_params}
    named = dict(model.named_parameters())
    for i in range(k):
        with torch.no_grad():
            for n, p in global_params.items():
                named[n].copy_(p)
        for step in range(index.shape[0]):
            b = int(mask[step, i].sum())
            idx = torch.as_tensor(index[step, i, :b], device=xs.device)
            model.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(xs[i, idx]), ys[i, idx])
            loss.backward()
            with torch.no_grad():
                for p in named.values():
                    if p.grad is not None:
                        p.sub_(lr * p.grad)
        for n in global_params:
            out[n].append(named[n].detach().clone())
    model.zero_grad(set_to_none=True)
    return {n: torch.stack(v) for n, v in out.items()}
