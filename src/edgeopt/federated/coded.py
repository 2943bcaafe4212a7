"""Distributed full-batch gradient descent with straggler schemes (needs the ``torch`` extra).

The training set is split into ``n`` partitions, one per worker of the gradient code; in
every round each worker computes the gradients of the partitions it holds and sends one
combination of them (:class:`edgeopt.coding.GradientCode`), the server waits for the
scheme's workers, decodes and takes a gradient step.  Worker delays are drawn from a
:class:`edgeopt.coding.DelayModel`, so each round also advances a simulated wall clock.

With an exact code (``"fractional"``, ``"cyclic"``) the decoded gradient is the full
gradient whatever ``s`` workers straggle, so the iterates are those of uncoded gradient
descent; the baselines (``"ignore"``, ``"backup"``) and the ``"approximate"`` code are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from edgeopt._validation import (
    check_choice,
    check_int,
    check_int_array,
    check_rng,
    check_scalar,
    invalid_input,
    invalid_inputs,
)
from edgeopt.coding import DelayModel, delay_model, gradient_code, scheme_plan
from edgeopt.federated.data import Dataset

__all__ = ["CODED_SCHEMES", "CodedRun", "coded_gradient_descent"]

#: Schemes of :func:`coded_gradient_descent`.
CODED_SCHEMES = ("uncoded", "ignore", "backup", "fractional", "cyclic", "approximate")


@dataclass(frozen=True)
class CodedRun:
    """Result of :func:`coded_gradient_descent`.

    Parameters
    ----------
    scheme : str
        The scheme run.
    loss : numpy.ndarray of float64, shape (rounds + 1,)
        Training loss (mean cross-entropy over the whole training set) before every round
        and after the last.
    time_s : numpy.ndarray of float64, shape (rounds + 1,)
        Simulated wall clock at the same points, seconds (0 first).
    params : numpy.ndarray of float64, shape (rounds + 1, (input_dim + 1) * num_classes)
        The model (weights then bias, flattened) at the same points.
    stragglers : list of numpy.ndarray of int64
        The workers the server did not wait for, per round.
    test_accuracy : float
        Accuracy of the final model on the test set.

    Examples
    --------
    >>> from edgeopt.federated import digits_dataset
    >>> from edgeopt.federated.coded import coded_gradient_descent
    >>> run = coded_gradient_descent(digits_dataset(), scheme="cyclic", num_workers=6,
    ...                              num_stragglers=1, rounds=3, lr=0.5, rng=0)
    >>> run.loss.shape, run.params.shape, len(run.stragglers)
    ((4,), (4, 650), 3)
    """

    scheme: str
    loss: NDArray[np.float64]
    time_s: NDArray[np.float64]
    params: NDArray[np.float64]
    stragglers: list[NDArray[np.int64]]
    test_accuracy: float


def _loss_sum(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, d: int) -> torch.Tensor:
    """Summed cross-entropy of the linear softmax model ``w = [W; b]`` (shape (d+1, C))."""
    logits = x @ w[:d] + w[d]
    return torch.nn.functional.cross_entropy(logits, y, reduction="sum")


def coded_gradient_descent(
    dataset: Dataset,
    *,
    scheme: str,
    num_workers: int,
    num_stragglers: int = 0,
    rounds: int,
    lr: float,
    delays: DelayModel | None = None,
    straggler_sets: Sequence[Any] | None = None,
    replication: int | None = None,
    rng: Any = None,
) -> CodedRun:
    """Full-batch gradient descent of softmax regression over ``n`` workers with a scheme.

    Partition ``j`` holds the ``j``-th of ``n`` contiguous, near-equal slices of the
    training set; its gradient ``g_j`` is that of the summed loss over the slice divided by
    the training-set size, so ``sum_j g_j`` is the full gradient of the mean loss.  Every
    round, with the round's worker delays ``T_i`` (from ``delays`` and the scheme's loads):

    * ``"uncoded"`` -- worker ``i`` sends ``g_i``; the server waits for all ``n``;
    * ``"ignore"`` -- the same messages; the server uses the first ``n - s`` and rescales
      their sum by ``n / (n - s)`` (biased: the slowest partitions are missing);
    * ``"backup"`` -- every worker computes the gradient of a fresh uniformly random
      ``1 / (n - s)`` of the training set; the server averages the first ``n - s`` (an
      unbiased stochastic gradient; Chen et al., "Revisiting distributed synchronous SGD",
      2016);
    * ``"fractional"``, ``"cyclic"``, ``"approximate"`` -- worker ``i`` sends
      ``sum_j B[i, j] g_j`` (:func:`edgeopt.coding.gradient_code`); the server waits for
      the first ``n - s`` and sums them with the weights of ``GradientCode.decode``.

    The step is ``w <- w - lr * g``.  Computation is in float64.

    Parameters
    ----------
    dataset : Dataset
        E.g. :func:`edgeopt.federated.digits_dataset`.
    scheme : str
        One of :data:`CODED_SCHEMES`.
    num_workers : int
        n >= 1.
    num_stragglers : int
        s, 0 <= s < n (ignored by ``"uncoded"``).
    rounds : int
        Gradient steps, >= 1.
    lr : float
        Step size, > 0.
    delays : DelayModel, optional
        Worker delays (default: shifted exponential with ``a = 1 s``, ``mu = 1/s`` per data
        set).
    straggler_sets : sequence of array_like of int, optional
        One set of ``s`` workers per round that the server does not wait for, instead of
        the slowest ones (the clock still advances by the delays of the others).
    replication : int, optional
        ``"approximate"``: copies per partition (see :func:`edgeopt.coding.gradient_code`).
    rng : numpy.random.Generator, int or None
        Random source of the delays (and of the batches of ``"backup"``).

    Returns
    -------
    CodedRun

    Raises
    ------
    InvalidInputError
        Bad counts, an unknown scheme, a fractional code with ``(s + 1)`` not dividing
        ``n``, straggler sets of the wrong size or number.

    References
    ----------
    R. Tandon, Q. Lei, A. G. Dimakis, N. Karampatziakis, "Gradient coding: avoiding
    stragglers in distributed learning", ICML 2017, §2 (the distributed gradient descent
    setting) and §6 (experiments).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.federated import digits_dataset
    >>> from edgeopt.federated.coded import coded_gradient_descent
    >>> data = digits_dataset()
    >>> plain = coded_gradient_descent(data, scheme="uncoded", num_workers=6, rounds=5,
    ...                                lr=0.5, rng=0)
    >>> coded = coded_gradient_descent(data, scheme="cyclic", num_workers=6,
    ...                                num_stragglers=2, rounds=5, lr=0.5, rng=1)
    >>> bool(np.allclose(plain.params, coded.params, rtol=0, atol=1e-12))
    True
    """
    check_choice(scheme, "scheme", CODED_SCHEMES)
    if not isinstance(dataset, Dataset):
        raise invalid_input("dataset", dataset, "an edgeopt.federated.Dataset")
    n = check_int(num_workers, "num_workers")
    s = 0 if scheme == "uncoded" else check_int(num_stragglers, "num_stragglers", min_value=0)
    steps = check_int(rounds, "rounds")
    step = check_scalar(lr, "lr", positive=True)
    gen = check_rng(rng)
    model = delays if delays is not None else delay_model("shifted_exponential")
    if not isinstance(model, DelayModel):
        raise invalid_input("delays", delays, "a DelayModel from edgeopt.coding.delay_model")
    if s >= n:
        raise invalid_inputs(f"num_stragglers={s}, num_workers={n}", "num_stragglers < num_workers")
    plan_scheme = "cyclic" if scheme == "fractional" else scheme
    if scheme == "fractional" and n % (s + 1):
        raise invalid_inputs(
            f"num_workers={n}, num_stragglers={s}, scheme='fractional'",
            "(num_stragglers + 1) dividing num_workers",
        )
    loads, _, wait, _ = scheme_plan(plan_scheme, n, num_stragglers=s, replication=replication)
    code = None
    if scheme in ("fractional", "cyclic", "approximate"):
        code = gradient_code(n, s, scheme=scheme, replication=replication)
    fixed: list[NDArray[np.int64]] | None = None
    if straggler_sets is not None:
        if len(straggler_sets) != steps:
            raise invalid_input("straggler_sets", straggler_sets, f"{steps} sets, one per round")
        fixed = []
        for r, S in enumerate(straggler_sets):
            idx = np.unique(check_int_array(S, f"straggler_sets[{r}]", ndim=1, min_value=0))
            if idx.size != n - wait or (idx.size and idx.max() >= n):
                raise invalid_input(
                    f"straggler_sets[{r}]", S, f"{n - wait} distinct worker indices in [0, {n})"
                )
            fixed.append(idx)

    dt = torch.float64
    x = torch.as_tensor(dataset.x_train, dtype=dt)
    y = torch.as_tensor(dataset.y_train)
    total, d = x.shape
    c = dataset.num_classes
    bounds = np.linspace(0, total, n + 1).round().astype(int)
    w = torch.zeros(d + 1, c, dtype=dt)
    B = torch.tensor(np.array(code.B), dtype=dt) if code is not None else None

    def grad(idx: torch.Tensor | slice, weights: torch.Tensor) -> torch.Tensor:
        wv = weights.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(_loss_sum(wv, x[idx], y[idx], d) / total, wv)
        return g

    def full_loss(weights: torch.Tensor) -> float:
        with torch.no_grad():
            return float(_loss_sum(weights, x, y, d)) / total

    losses, clock, params = [full_loss(w)], [0.0], [w.flatten().numpy().copy()]
    dropped: list[NDArray[np.int64]] = []
    for r in range(steps):
        t = model.sample(loads, trials=1, rng=gen)[0]
        order = np.argsort(t, kind="stable")
        if fixed is not None:
            late = fixed[r]
            alive = np.setdiff1d(np.arange(n), late)
        else:
            alive = np.sort(order[:wait])
            late = np.sort(order[wait:])
        clock.append(clock[-1] + float(t[alive].max()))
        dropped.append(late.astype(np.int64))
        if scheme == "backup":
            m = int(round(total / (n - s)))
            g = sum(
                (grad(torch.as_tensor(gen.choice(total, m, replace=False)), w) * (total / m))
                for _ in alive
            ) / len(alive)
        else:
            parts = [grad(slice(bounds[j], bounds[j + 1]), w) for j in range(n)]
            if code is None or B is None:
                scale = n / len(alive) if scheme == "ignore" else 1.0
                g = sum(parts[i] for i in alive) * scale
            else:
                stacked = torch.stack(parts)  # (n, d + 1, C)
                messages = torch.einsum("ij,jkl->ikl", B, stacked)
                a = torch.as_tensor(code.decode(alive), dtype=dt)
                g = torch.einsum("i,ikl->kl", a, messages)
        w = w - step * g
        losses.append(full_loss(w))
        params.append(w.flatten().numpy().copy())
    with torch.no_grad():
        xt = torch.as_tensor(dataset.x_test, dtype=dt)
        pred = (xt @ w[:d] + w[d]).argmax(dim=1).numpy()
    acc = float(np.mean(pred == dataset.y_test))
    return CodedRun(
        scheme,
        np.array(losses),
        np.array(clock),
        np.array(params),
        dropped,
        acc,
    )
