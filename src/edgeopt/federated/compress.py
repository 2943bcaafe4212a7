"""Update compressors for digital uplinks: QSGD, top-k with error feedback, signSGD.

A compressor acts on the stacked local updates ``(K, d)`` of one round and returns what the
server decodes, ``(K, d)``, together with the exact number of bits each device sends; the
server then combines the decoded vectors (:meth:`Compressor.combine`: the weighted average,
or the majority vote of signSGD).  Random choices (QSGD's stochastic rounding) are drawn from
the NumPy generator of the run, so results do not depend on the torch device.

Bit counts (per device and round, ``d`` entries, floats sent as 32-bit IEEE numbers):

* QSGD with ``s`` levels: ``32 + d·(1 + ⌈log2(s + 1)⌉)`` bits, i.e. the norm, then for each
  entry a sign bit and the level index in ``0..s`` in fixed-width binary (the plain encoding
  of Alistarh et al., not their Elias code, so the count is an upper bound of theirs);
* top-k: ``32 + k·(32 + ⌈log2 d⌉)`` bits, i.e. the count k, then each kept value and its
  index;
* signSGD: ``d + 32`` bits, i.e. one sign bit per entry and one 32-bit scale.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from edgeopt._validation import (
    check_finite_tensor,
    check_int,
    check_rng,
    check_scalar,
    invalid_input,
    invalid_inputs,
)

__all__ = ["Compressor", "QSGD", "TopK", "SignSGD"]


def _check_updates(updates: Any) -> torch.Tensor:
    """The stacked updates of the transmitting clients: a finite 2-D tensor ``(K, d)``."""
    return check_finite_tensor(updates, "updates", ndim=2)  # type: ignore[no-any-return]


class Compressor:
    """Base class: lossless float32 transfer (``32·d`` bits), weighted-average combine.

    Subclasses override :meth:`payload_bits` and :meth:`compress` (and :meth:`combine`
    where the server does something other than averaging).

    Examples
    --------
    >>> from edgeopt.federated.compress import Compressor
    >>> Compressor().payload_bits(100)
    3200
    """

    #: Short name used in reports.
    name = "float32"

    def reset(self, num_clients: int, dim: int, device: Any = "cpu") -> None:
        """Clear any per-client state before a new training run (no state here).

        Parameters
        ----------
        num_clients : int >= 1
            Number of clients of the run.
        dim : int >= 1
            Number of entries of an update.
        device : str or torch.device
            Where to keep the state (default ``"cpu"``).

        Returns
        -------
        None

        Examples
        --------
        >>> from edgeopt.federated.compress import Compressor
        >>> Compressor().reset(num_clients=2, dim=3) is None
        True
        """

    def payload_bits(self, dim: int) -> int:
        """Exact bits one device sends for a ``dim``-entry update: ``32·dim`` (float32).

        Parameters
        ----------
        dim : int >= 1
            Number of entries of the update.

        Returns
        -------
        int
            Message length in bits.

        Raises
        ------
        InvalidInputError
            If ``dim < 1``.

        Examples
        --------
        >>> from edgeopt.federated.compress import Compressor
        >>> Compressor().payload_bits(10)
        320
        """
        return 32 * check_int(dim, "dim")

    def compress(
        self, updates: torch.Tensor, client_ids: NDArray[np.int64], rng: Any = None
    ) -> tuple[torch.Tensor, NDArray[np.float64]]:
        """Encode and decode the updates of one round.

        Parameters
        ----------
        updates : torch.Tensor, shape (K, d)
            Local updates of the transmitting clients.
        client_ids : numpy.ndarray of int, shape (K,)
            Which clients they are (indexes per-client state such as error memories).
        rng : numpy.random.Generator, int or None

        Returns
        -------
        decoded : torch.Tensor, shape (K, d)
            What the server reconstructs from each device's message.
        bits : numpy.ndarray of float64, shape (K,)
            Exact message length of each device.

        Raises
        ------
        InvalidInputError
            If ``updates`` is not a finite 2-D tensor.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated.compress import Compressor
        >>> dec, bits = Compressor().compress(torch.tensor([[1.5, -2.0]]), [0])
        >>> dec.tolist(), bits.tolist()
        ([[1.5, -2.0]], [64.0])
        """
        u = _check_updates(updates)
        return u.clone(), np.full(u.shape[0], float(self.payload_bits(u.shape[1])))

    def combine(self, decoded: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Server-side combination: the weighted average ``Σ_i w_i û_i / Σ_i w_i``.

        Parameters
        ----------
        decoded : torch.Tensor, shape (K, d)
            The decoded messages ``û_i`` (first output of :meth:`compress`).
        weights : torch.Tensor, shape (K,)
            Positive weights ``w_i`` (the local data sizes in FedAvg).

        Returns
        -------
        torch.Tensor, shape (d,)
            The global update.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated.compress import Compressor
        >>> Compressor().combine(torch.tensor([[0.0, 4.0], [3.0, 1.0]]),
        ...                      torch.tensor([2.0, 1.0])).tolist()
        [1.0, 3.0]
        """
        w = weights.to(decoded.dtype)
        return (w[:, None] * decoded).sum(0) / w.sum()


class QSGD(Compressor):
    """Unbiased stochastic quantization with ``s`` levels (QSGD).

    Each entry is sent as ``‖v‖₂ · sign(v_j) · ξ_j / s`` where ``ξ_j`` is ``⌊s|v_j|/‖v‖⌋``
    rounded up with probability equal to the fractional part, so ``E[Q(v)] = v``
    (Alistarh et al. 2017, Eq. (2)–(3)).

    Parameters
    ----------
    levels : int >= 1
        Number of quantization levels ``s`` (``s = 1`` is ternary).

    Raises
    ------
    InvalidInputError
        If ``levels < 1``.

    References
    ----------
    D. Alistarh, D. Grubic, J. Li, R. Tomioka and M. Vojnovic, "QSGD: Communication-efficient
    SGD via gradient quantization and encoding," NeurIPS 2017.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated.compress import QSGD
    >>> q = QSGD(levels=4)
    >>> q.payload_bits(1000)  # 32 + 1000 * (1 + 3)
    4032
    >>> dec, bits = q.compress(torch.tensor([[3.0, -4.0]]), [0], rng=0)
    >>> sorted(abs(v) for v in dec[0].tolist()) in ([2.5, 3.75], [2.5, 5.0], [3.75, 3.75],
    ...                                            [3.75, 5.0])
    True
    """

    def __init__(self, levels: int) -> None:
        self.levels = check_int(levels, "levels", min_value=1)
        self.name = f"qsgd{self.levels}"

    def payload_bits(self, dim: int) -> int:
        """Bits of one message: ``32 + dim·(1 + ⌈log2(s + 1)⌉)``.

        Returns
        -------
        int
            The norm (32 bits), then a sign bit and a fixed-width level index per entry.

        See Also
        --------
        Compressor.payload_bits : the parameter and the error raised.

        Examples
        --------
        >>> from edgeopt.federated.compress import QSGD
        >>> QSGD(levels=1).payload_bits(10)  # 32 + 10 * (1 + 1)
        52
        """
        d = check_int(dim, "dim")
        return 32 + d * (1 + math.ceil(math.log2(self.levels + 1)))

    def compress(
        self, updates: torch.Tensor, client_ids: Any, rng: Any = None
    ) -> tuple[torch.Tensor, NDArray[np.float64]]:
        """Quantize each row independently with its own norm.

        ``client_ids`` is ignored (QSGD keeps no per-client state); ``rng`` is the source of
        the stochastic rounding (``K·d`` uniform draws).

        Returns
        -------
        decoded : torch.Tensor, shape (K, d)
            ``‖u_i‖ · sign(u_ij) · ξ_ij / s``, an unbiased estimate of ``u_i``; an all-zero
            row decodes to zero.
        bits : numpy.ndarray of float64, shape (K,)
            :meth:`payload_bits` of ``d`` for each device.

        Raises
        ------
        InvalidInputError
            As :meth:`Compressor.compress`, or ``rng`` that is not a random source.

        See Also
        --------
        Compressor.compress : the parameters.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated.compress import QSGD
        >>> dec, bits = QSGD(levels=5).compress(torch.tensor([[3.0, 4.0]]), [0], rng=1)
        >>> dec.tolist(), bits.tolist()  # 5|v_j|/‖v‖ = 3, 4 are levels: no rounding
        ([[3.0, 4.0]], [40.0])
        """
        u = _check_updates(updates)
        gen = check_rng(rng)
        s = float(self.levels)
        noise = torch.as_tensor(gen.random(tuple(u.shape)), dtype=u.dtype, device=u.device)
        norm = torch.linalg.vector_norm(u, dim=1, keepdim=True)
        safe = torch.where(norm > 0, norm, torch.ones_like(norm))
        scaled = u.abs() / safe * s
        low = torch.floor(scaled)
        level = low + (noise < scaled - low).to(u.dtype)
        decoded = norm * torch.sign(u) * level / s
        return decoded, np.full(u.shape[0], float(self.payload_bits(u.shape[1])))


class TopK(Compressor):
    """Top-k sparsification with error feedback.

    Each client keeps a memory ``e_i`` (zero at the start of a run), sends the ``k`` largest
    entries in magnitude of ``a_i = u_i + e_i`` and keeps the rest, ``e_i ← a_i − top_k(a_i)``,
    so nothing is lost over rounds: the sum of everything sent plus the memory equals the
    sum of the updates (Stich, Cordonnier and Jaggi 2018, Alg. 1).

    Parameters
    ----------
    ratio : float in (0, 1], optional
        Kept fraction; ``k = max(1, ⌈ratio·d⌉)``.
    k : int >= 1, optional
        Kept entries (give exactly one of ``ratio`` and ``k``; ``k`` is capped at ``d``).

    References
    ----------
    S. U. Stich, J.-B. Cordonnier and M. Jaggi, "Sparsified SGD with memory," NeurIPS 2018.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated.compress import TopK
    >>> c = TopK(k=1)
    >>> c.reset(num_clients=1, dim=3)
    >>> dec, bits = c.compress(torch.tensor([[1.0, -3.0, 2.0]]), [0])
    >>> dec.tolist(), int(bits[0])  # 32 + 1 * (32 + 2)
    ([[0.0, -3.0, 0.0]], 66)
    >>> c.memory.tolist()
    [[1.0, 0.0, 2.0]]
    """

    def __init__(self, ratio: float | None = None, *, k: int | None = None) -> None:
        if (ratio is None) == (k is None):
            raise invalid_inputs(f"ratio={ratio!r}, k={k!r}", "exactly one of ratio and k")
        self.ratio = None if ratio is None else check_scalar(ratio, "ratio", positive=True, high=1)
        self.k = None if k is None else check_int(k, "k")
        self.name = f"topk{self.ratio}" if self.ratio is not None else f"topk{self.k}"
        self.memory: torch.Tensor | None = None

    def kept(self, dim: int) -> int:
        """Number of entries sent for a ``dim``-entry update.

        Returns
        -------
        int
            ``min(k, dim)``, or ``max(1, ⌈ratio·dim⌉)`` capped at ``dim``.

        See Also
        --------
        Compressor.payload_bits : the parameter and the error raised.

        Examples
        --------
        >>> from edgeopt.federated.compress import TopK
        >>> TopK(0.01).kept(1000), TopK(0.01).kept(10), TopK(k=50).kept(20)
        (10, 1, 20)
        """
        d = check_int(dim, "dim")
        if self.k is not None:
            return min(self.k, d)
        assert self.ratio is not None
        return max(1, min(d, math.ceil(self.ratio * d)))

    def payload_bits(self, dim: int) -> int:
        """Bits of one message: ``32 + k·(32 + ⌈log2 dim⌉)`` with ``k`` = :meth:`kept`.

        Returns
        -------
        int
            The count (32 bits), then each kept value (32 bits) and its index.

        See Also
        --------
        Compressor.payload_bits : the parameter and the error raised.

        Examples
        --------
        >>> from edgeopt.federated.compress import TopK
        >>> TopK(k=3).payload_bits(1024)  # 32 + 3 * (32 + 10)
        158
        """
        d = check_int(dim, "dim")
        return 32 + self.kept(d) * (32 + math.ceil(math.log2(d)) if d > 1 else 32)

    def reset(self, num_clients: int, dim: int, device: Any = "cpu") -> None:
        """Zero the error memories: ``memory`` becomes a ``(num_clients, dim)`` tensor.

        Raises
        ------
        InvalidInputError
            If ``num_clients`` or ``dim`` is below 1.

        See Also
        --------
        Compressor.reset : the parameters.

        Examples
        --------
        >>> from edgeopt.federated.compress import TopK
        >>> c = TopK(k=1)
        >>> c.reset(num_clients=2, dim=3)
        >>> c.memory.tolist()
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
        """
        k = check_int(num_clients, "num_clients")
        d = check_int(dim, "dim")
        self.memory = torch.zeros((k, d), device=device)

    def compress(
        self, updates: torch.Tensor, client_ids: Any, rng: Any = None
    ) -> tuple[torch.Tensor, NDArray[np.float64]]:
        """Sparsify ``update + memory`` per row and update the memories.

        ``client_ids`` gives the row of :attr:`memory` of each transmitting client (in
        ``0 .. num_clients-1``); ``rng`` is ignored (top-k is deterministic, ties are broken
        by :func:`torch.topk`).

        Returns
        -------
        decoded : torch.Tensor, shape (K, d)
            ``top_k(u_i + e_i)``: the kept entries, zeros elsewhere.
        bits : numpy.ndarray of float64, shape (K,)
            :meth:`payload_bits` of ``d`` for each device.

        Raises
        ------
        InvalidInputError
            As :meth:`Compressor.compress`; also called before :meth:`reset` (or with
            another ``d``), or bad ``client_ids``.

        See Also
        --------
        Compressor.compress : the parameters.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated.compress import TopK
        >>> c = TopK(k=1)
        >>> c.reset(num_clients=1, dim=2)
        >>> c.compress(torch.tensor([[2.0, 1.5]]), [0])[0].tolist()
        [[2.0, 0.0]]
        >>> c.compress(torch.tensor([[2.0, 1.5]]), [0])[0].tolist()  # memory 1.5 + 1.5 wins
        [[0.0, 3.0]]
        """
        u = _check_updates(updates)
        ids = torch.as_tensor(np.asarray(client_ids, dtype=np.int64), device=u.device)
        if self.memory is None or self.memory.shape[1] != u.shape[1]:
            have = "no memory" if self.memory is None else f"memories of d = {self.memory.shape[1]}"
            raise invalid_inputs(
                f"updates (shape {tuple(u.shape)}), TopK state ({have})",
                "TopK.reset(num_clients, dim) called first with this d",
            )
        if ids.shape != (u.shape[0],) or (ids < 0).any() or (ids >= self.memory.shape[0]).any():
            raise invalid_input(
                "client_ids", client_ids, f"{u.shape[0]} ids in 0..{self.memory.shape[0] - 1}"
            )
        acc = u + self.memory[ids].to(u.dtype)
        k = self.kept(u.shape[1])
        top = torch.topk(acc.abs(), k, dim=1).indices
        decoded = torch.zeros_like(acc).scatter_(1, top, acc.gather(1, top))
        self.memory[ids] = (acc - decoded).to(self.memory.dtype)
        return decoded, np.full(u.shape[0], float(self.payload_bits(u.shape[1])))


class SignSGD(Compressor):
    """signSGD with (weighted) majority vote and a transmitted scale.

    Device ``i`` sends the signs of ``u_i`` (one bit per entry; an exact zero is sent as +1)
    and the scale ``c_i = ‖u_i‖₁ / d`` (an all-zero update decodes to zero and casts no
    vote);
    the server returns ``c̄ · sign(Σ_i w_i sign(u_i))`` with ``c̄ = Σ w_i c_i / Σ w_i``.
    With equal weights this is the majority vote of Bernstein et al. (2018, Alg. 3), scaled
    as in Karimireddy et al. (2019) so that the step has the magnitude of an average
    update; a tied vote gives 0.

    References
    ----------
    J. Bernstein, Y.-X. Wang, K. Azizzadenesheli and A. Anandkumar, "signSGD: Compressed
    optimisation for non-convex problems," ICML 2018.  S. P. Karimireddy, Q. Rebjock,
    S. Stich and M. Jaggi, "Error feedback fixes SignSGD and other gradient compression
    schemes," ICML 2019.

    Examples
    --------
    >>> import torch
    >>> from edgeopt.federated.compress import SignSGD
    >>> c = SignSGD()
    >>> dec, bits = c.compress(torch.tensor([[1.0, -3.0], [2.0, 1.0], [1.0, -1.0]]), [0, 1, 2])
    >>> int(bits[0]), c.combine(dec, torch.ones(3)).tolist()
    (34, [1.5, -1.5])
    """

    name = "signsgd"

    def payload_bits(self, dim: int) -> int:
        """Bits of one message: ``dim + 32`` (the signs and the scale).

        Returns
        -------
        int

        See Also
        --------
        Compressor.payload_bits : the parameter and the error raised.

        Examples
        --------
        >>> from edgeopt.federated.compress import SignSGD
        >>> SignSGD().payload_bits(100)
        132
        """
        return check_int(dim, "dim") + 32

    def compress(
        self, updates: torch.Tensor, client_ids: Any, rng: Any = None
    ) -> tuple[torch.Tensor, NDArray[np.float64]]:
        """Decode each device's message as ``c_i · sign(u_i)``, ``c_i = ‖u_i‖₁ / d``.

        ``client_ids`` and ``rng`` are ignored (no per-client state; signSGD is
        deterministic).

        Returns
        -------
        decoded : torch.Tensor, shape (K, d)
            Scaled signs (an exact zero entry counts as +1).
        bits : numpy.ndarray of float64, shape (K,)
            :meth:`payload_bits` of ``d`` for each device.

        See Also
        --------
        Compressor.compress : the parameters and the errors raised.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated.compress import SignSGD
        >>> SignSGD().compress(torch.tensor([[1.0, -3.0, 0.0, 4.0]]), [0])[0].tolist()
        [[2.0, -2.0, 2.0, 2.0]]
        """
        u = _check_updates(updates)
        scale = u.abs().mean(dim=1, keepdim=True)
        signs = torch.where(u >= 0, 1.0, -1.0).to(u.dtype)
        return scale * signs, np.full(u.shape[0], float(self.payload_bits(u.shape[1])))

    def combine(self, decoded: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Weighted majority vote of the signs times the weighted mean scale.

        ``decoded`` is the output of :meth:`compress` (``c_i · sign(u_i)``), ``weights``
        the positive vote weights ``w_i``.

        Returns
        -------
        torch.Tensor, shape (d,)
            ``c̄ · sign(Σ_i w_i sign(û_i))`` with ``c̄ = Σ w_i c_i / Σ w_i``; 0 where the
            vote ties.

        See Also
        --------
        Compressor.combine : the parameters' shapes.

        Examples
        --------
        >>> import torch
        >>> from edgeopt.federated.compress import SignSGD
        >>> dec = torch.tensor([[1.0, 1.0], [-2.0, 2.0]])
        >>> SignSGD().combine(dec, torch.tensor([1.0, 1.0])).tolist()  # tie, agreement
        [0.0, 1.5]
        >>> SignSGD().combine(dec, torch.tensor([1.0, 3.0])).tolist()
        [-1.75, 1.75]
        """
        w = weights.to(decoded.dtype)
        scale = decoded.abs().amax(dim=1)
        vote = torch.sign((w[:, None] * torch.sign(decoded)).sum(0))
        return (w * scale).sum() / w.sum() * vote
