"""Gradient codes: recover the full gradient from any ``n - s`` of ``n`` workers.

The data set is split into ``n`` partitions; worker ``i`` holds the partitions in row ``i`` of
``assignment`` and sends ``sum_j B[i, j] g_j``, one linear combination of their gradients.
The server, receiving the messages of the workers in ``alive``, sums them with the weights
``a`` of :meth:`GradientCode.decode`; ``a @ B = 1`` gives ``sum_j g_j`` exactly (Tandon,
Lei, Dimakis, Karampatziakis, "Gradient coding: avoiding stragglers in distributed
learning", ICML 2017).  Approximate codes hold fewer copies and return the least-squares
weights with the error ``||a B - 1||_2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from edgeopt._validation import (
    check_choice,
    check_int,
    check_int_array,
    check_mask,
    check_scalar,
    invalid_input,
    invalid_inputs,
)

__all__ = [
    "GradientCode",
    "GRADIENT_SCHEMES",
    "gradient_code",
    "gc_expected_time",
    "optimal_stragglers",
    "harmonic",
]

#: Seed of the fixed perturbation of the cyclic construction (the code is deterministic).
_CYCLIC_SEED = 20170806
#: Size of that perturbation relative to the unit-norm Fourier rows of ``H``.
_CYCLIC_PERTURBATION = 0.05


def _freeze(arr: NDArray[Any]) -> NDArray[Any]:
    out = np.array(arr, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class GradientCode:
    """A gradient code over ``n`` workers and ``n`` partitions; see :func:`gradient_code`.

    Parameters
    ----------
    scheme : str
        ``"fractional"``, ``"cyclic"`` or ``"approximate"``.
    num_workers : int
        n.
    num_stragglers : int
        s: the code recovers the exact gradient from any ``n - s`` workers (exact schemes);
        for ``"approximate"``, the number of stragglers it is meant for.
    B : numpy.ndarray of float64, shape (n, n)
        Encoding matrix: row ``i`` holds worker ``i``'s coefficients over the partitions,
        nonzero exactly on the partitions it holds (read-only).
    assignment : numpy.ndarray of int64, shape (n, d)
        The partitions each worker holds, ``d`` per worker (``d = s + 1`` for the exact
        schemes), in increasing order (read-only).

    Examples
    --------
    >>> from edgeopt.coding import gradient_code
    >>> code = gradient_code(4, 1, scheme="fractional")
    >>> code.B.astype(int).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]
    >>> code.decode([0, 2, 3]).tolist()
    [1.0, 0.0, 1.0, 0.0]
    """

    scheme: str
    num_workers: int
    num_stragglers: int
    B: NDArray[np.float64]
    assignment: NDArray[np.int64]

    @property
    def replication(self) -> int:
        """Partitions per worker, ``d`` (``s + 1`` for the exact schemes)."""
        return int(self.assignment.shape[1])

    @property
    def exact(self) -> bool:
        """Whether any ``n - s`` workers give the exact gradient."""
        return self.scheme != "approximate"

    def _alive(self, alive: Any) -> NDArray[np.int64]:
        n = self.num_workers
        arr = np.asarray(alive) if not isinstance(alive, str | bytes) else None
        if arr is not None and arr.dtype == np.bool_:
            return np.flatnonzero(check_mask(arr, "alive", n)).astype(np.int64)
        idx = check_int_array(alive, "alive", ndim=1, min_value=0)
        if idx.size and int(idx.max()) >= n:
            raise invalid_input("alive", alive, f"worker indices in [0, {n})")
        out = np.unique(idx)
        if out.size != idx.size:
            raise invalid_input("alive", alive, "distinct worker indices")
        return out

    def decode(self, alive: Any) -> NDArray[np.float64]:
        """Decoding weights ``a`` for the workers in ``alive``: ``a @ B = 1``.

        Parameters
        ----------
        alive : array_like of int, shape (m,), or of bool, shape (n,)
            The workers whose messages arrived (indices, or a mask).

        Returns
        -------
        numpy.ndarray of float64, shape (n,)
            ``a``, zero outside ``alive``.  Exact schemes: ``a @ B`` equals the all-ones row
            to rounding; ``"approximate"``: the least-squares weights (minimum norm),
            ``||a @ B - 1||_2`` is :meth:`error`.

        Raises
        ------
        InvalidInputError
            Indices outside ``[0, n)`` or repeated; for an exact scheme, fewer than
            ``n - s`` alive workers.

        Examples
        --------
        >>> import numpy as np
        >>> from edgeopt.coding import gradient_code
        >>> code = gradient_code(7, 2, scheme="cyclic")
        >>> a = code.decode([0, 1, 3, 4, 6])
        >>> bool(np.abs(a @ code.B - 1).max() < 1e-12), a[[2, 5]].tolist()
        (True, [0.0, 0.0])
        """
        idx = self._alive(alive)
        n, s = self.num_workers, self.num_stragglers
        if self.exact and idx.size < n - s:
            raise invalid_input(
                "alive", alive, f"at least n - s = {n - s} alive workers (got {idx.size})"
            )
        a = np.zeros(n)
        if idx.size == 0:
            return a
        a[idx] = _DECODERS[self.scheme](self, idx)
        return a

    def error(self, alive: Any) -> float:
        """Gradient error ``||a @ B - 1||_2`` of the decoding weights for ``alive``.

        Parameters
        ----------
        alive : array_like of int or bool
            As in :meth:`decode`.

        Returns
        -------
        float
            Zero to rounding for an exact scheme with at least ``n - s`` alive workers.

        Examples
        --------
        >>> from edgeopt.coding import gradient_code
        >>> code = gradient_code(6, 2, scheme="approximate", replication=2)
        >>> round(code.error([0, 2, 4, 5]), 6)
        0.0
        >>> round(code.error([0, 1, 2, 3]), 6)  # partitions 4 and 5 are missing
        1.414214
        """
        a = self.decode(alive)
        return float(np.linalg.norm(a @ self.B - 1.0))


# -- constructions -----------------------------------------------------------------------


def _windows(n: int, d: int) -> NDArray[np.int64]:
    """Cyclic windows: worker ``i`` holds partitions ``i, i+1, ..., i+d-1 (mod n)``."""
    return (np.arange(n)[:, None] + np.arange(d)[None, :]) % n


def _fractional(n: int, s: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Fractional repetition code of Tandon et al. (ICML 2017), §3.1 (Algorithm 1).

    The workers form ``n / (s + 1)`` groups of ``s + 1``; every worker of group ``g`` holds
    the partitions ``g (s+1), ..., g (s+1) + s`` and sends their plain sum, so ``B`` is
    block diagonal with all-ones blocks.  Any ``s`` stragglers leave a survivor in every
    group, and one survivor per group with weight 1 gives the full gradient.
    """
    d = s + 1
    groups = np.arange(n) // d
    assignment = groups[:, None] * d + np.arange(d)[None, :]
    B = np.zeros((n, n))
    np.put_along_axis(B, assignment, 1.0, axis=1)
    return B, assignment


def _cyclic(n: int, s: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Cyclic repetition gradient code (Tandon et al., ICML 2017, §3.2, Algorithm 2).

    Worker ``i`` holds partitions ``i, ..., i + s (mod n)``.  Every row ``b_i`` of ``B`` is
    the vector supported on that window orthogonal to the rows of a real ``s x n`` matrix
    ``H`` with ``H 1 = 0`` (Tandon et al.'s Algorithm 2): the rows of ``B`` then lie in the
    ``(n - s)``-dimensional null space of ``H``, which contains the all-ones vector, and any
    ``n - s`` of them span it, so any ``n - s`` workers recover the sum.

    The choice of ``H`` sets the conditioning.  Tandon et al. draw it at random, which loses
    accuracy as ``n`` grows.  Here ``H`` holds the real Fourier vectors (cosines and sines)
    of the frequencies nearest ``t n / (s + 1)``, ``t = 1, ..., s`` -- the spectrum of the
    all-ones window, i.e. the roots of unity of the cyclic MDS-code view of gradient coding
    (Raviv, Tamo, Tandon, Dimakis, "Gradient coding from cyclic MDS codes and expander
    graphs", ICML 2018 / IEEE TIT 66(12), 2020, doi:10.1109/TIT.2020.3029396, §III), with
    ``1`` left out of the spectrum.  When ``(s + 1) | n`` the window's zeros are exactly
    n-th roots of unity and ``B`` is the 0/1 cyclic repetition matrix, decoded with weights
    1 on one residue class of workers modulo ``s + 1`` that has no straggler (there is one
    by the pigeonhole principle).  Otherwise the rounded spectrum is perturbed by a fixed,
    seeded Gaussian matrix of relative size 0.05 (orthogonal to ``1``).  The unperturbed
    spectrum can leave some straggler sets undecodable (e.g. n = 20, s = 2); for a random
    perturbation every set is decodable with probability one (the argument of Algorithm
    2), while its small size keeps most of the conditioning of the spectrum.  This is
    checked, not proven, for the fixed draw: on every alive set for small n and on 1,000
    random alive sets per (n, s) up to n = 200, s = n / 10 (worst residual about 1e-11).
    Rows are scaled to unit largest entry.
    """
    d = s + 1
    assignment = _windows(n, d)
    B = np.zeros((n, n))
    if n % d == 0:
        np.put_along_axis(B, assignment, 1.0, axis=1)
        return B, np.sort(assignment, axis=1)
    j = np.arange(n)
    rows = []
    for t in range(1, s // 2 + 1):
        k = round(t * n / d)
        rows.append(np.cos(2 * np.pi * k * j / n))
        rows.append(np.sin(2 * np.pi * k * j / n))
    if s % 2:
        rows.append(np.cos(np.pi * j * (2 * round(n / 2) if n % 2 == 0 else n - 1) / n))
    H = np.array(rows).reshape(s, n)
    H /= np.linalg.norm(H, axis=1, keepdims=True)
    G = np.random.default_rng(_CYCLIC_SEED + 1000 * n + s).standard_normal((s, n))
    G /= np.linalg.norm(G, axis=1, keepdims=True)
    H = H + _CYCLIC_PERTURBATION * G
    H -= H.mean(axis=1, keepdims=True)
    for i in range(n):
        sup = assignment[i]
        v = scipy.linalg.null_space(H[:, sup])[:, 0]
        v = v / v[np.argmax(np.abs(v))]
        B[i, sup] = v
    return B, np.sort(assignment, axis=1)


def _approximate(n: int, d: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Fractional repetition with ``d`` copies where ``d | n``, else cyclic 0/1 windows.

    Every worker sends the plain sum of its ``d`` partitions (Raviv et al., 2020, §V:
    approximate gradient coding from replication; Charles, Papailiopoulos, Ellenberg,
    "Approximate gradient coding via sparse random graphs", 2017).
    """
    if n % d == 0:
        B, assignment = _fractional(n, d - 1)
        return B, assignment
    assignment = _windows(n, d)
    B = np.zeros((n, n))
    np.put_along_axis(B, assignment, 1.0, axis=1)
    return B, np.sort(assignment, axis=1)


# -- decoders ------------------------------------------------------------------------------


def _decode_fractional(code: GradientCode, idx: NDArray[np.int64]) -> NDArray[np.float64]:
    d = code.replication
    group = idx // d
    first = np.ones(idx.size, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    return first.astype(np.float64)


def _lstsq_refined(A: NDArray[np.float64], steps: int = 2) -> NDArray[np.float64]:
    """Minimum-norm least-squares ``x`` with ``x @ A ~ 1`` (QR with column pivoting).

    The numerical rank uses the relative threshold ``max(A.shape) * eps`` (NumPy's rule
    for ``lstsq``): with LAPACK's default, ``eps``, the replicated rows of an approximate
    code can leave rounding-level pivots counted as rank, and the weights then miss the
    least-squares optimum by a wide margin on some BLAS builds."""
    one = np.ones(A.shape[1])
    cond = max(A.shape) * np.finfo(np.float64).eps
    x = scipy.linalg.lstsq(A.T, one, cond=cond, lapack_driver="gelsy", check_finite=False)[0]
    for _ in range(steps):
        r = one - x @ A
        x = x + scipy.linalg.lstsq(A.T, r, cond=cond, lapack_driver="gelsy", check_finite=False)[0]
    return np.asarray(x)


def _qr_refined(A: NDArray[np.float64], steps: int = 2) -> NDArray[np.float64]:
    """``x`` with ``x @ A = 1`` for ``A`` of full row rank: QR of ``A^T``, refined twice."""
    one = np.ones(A.shape[1])
    q, r = np.linalg.qr(A.T)
    x = scipy.linalg.solve_triangular(r, q.T @ one, check_finite=False)
    for _ in range(steps):
        x = x + scipy.linalg.solve_triangular(r, q.T @ (one - x @ A), check_finite=False)
    return np.asarray(x)


def _decode_cyclic(code: GradientCode, idx: NDArray[np.int64]) -> NDArray[np.float64]:
    n, d = code.num_workers, code.replication
    if n % d == 0:
        alive = np.zeros(n, dtype=bool)
        alive[idx] = True
        full = alive.reshape(n // d, d).all(axis=0)
        r = int(np.flatnonzero(full)[0]) if full.any() else -1
        if r >= 0:
            return (idx % d == r).astype(np.float64)
    return _qr_refined(code.B[idx])


def _decode_approximate(code: GradientCode, idx: NDArray[np.int64]) -> NDArray[np.float64]:
    return _lstsq_refined(code.B[idx], steps=1)


_Builder = Callable[[int, int], tuple[NDArray[np.float64], NDArray[np.int64]]]
_Decoder = Callable[[GradientCode, NDArray[np.int64]], NDArray[np.float64]]

#: Dispatch tables of :func:`gradient_code` and :meth:`GradientCode.decode`.
_BUILDERS: dict[str, _Builder] = {"fractional": _fractional, "cyclic": _cyclic}
_DECODERS: dict[str, _Decoder] = {
    "fractional": _decode_fractional,
    "cyclic": _decode_cyclic,
    "approximate": _decode_approximate,
}

#: The schemes of :func:`gradient_code`.
GRADIENT_SCHEMES = ("fractional", "cyclic", "approximate")


def gradient_code(
    num_workers: int,
    num_stragglers: int,
    scheme: str = "cyclic",
    *,
    replication: int | None = None,
) -> GradientCode:
    """Build a gradient code for ``n`` workers that tolerates ``s`` stragglers.

    Schemes (Tandon et al., ICML 2017):

    * ``"fractional"`` -- fractional repetition (§3.1): ``n / (s + 1)`` groups of
      ``s + 1`` workers holding the same ``s + 1`` partitions; requires ``(s + 1) | n``.
    * ``"cyclic"`` -- cyclic repetition (§3.2): worker ``i`` holds partitions
      ``i, ..., i + s (mod n)``; any ``s < n``.  See the construction notes below.
    * ``"approximate"`` -- ``replication = d < s + 1`` copies of every partition (plain sums
      of replicated partitions); decoded by least squares, with error
      :meth:`GradientCode.error`.

    The exact schemes use the minimum replication: every row of ``B`` has exactly ``s + 1``
    nonzeros, Tandon et al.'s lower bound (Theorem 1).

    The cyclic construction is Tandon et al.'s Algorithm 2 (rows of ``B`` in the null space
    of an ``s x n`` matrix ``H`` with ``H 1 = 0``), with ``H`` built from the spectrum of the
    all-ones window as in the cyclic-MDS view of Raviv, Tamo, Tandon and Dimakis (IEEE TIT
    2020) instead of at random: the 0/1 cyclic repetition code when ``(s + 1) | n``, else
    the real Fourier vectors of the frequencies nearest ``t n / (s + 1)`` with a small fixed
    random perturbation (every straggler set decodable with probability one over its
    draw; the fixed draw is checked by the tests).  Decoding solves
    ``a_A B_A = 1`` by a QR factorization of ``B_A^T`` and two steps of iterative
    refinement.

    Parameters
    ----------
    num_workers : int
        n >= 1 (also the number of partitions).
    num_stragglers : int
        s, 0 <= s < n.
    scheme : str
        ``"cyclic"`` (default), ``"fractional"`` or ``"approximate"``.
    replication : int, optional
        ``"approximate"`` only: copies ``d`` of every partition, 1 <= d <= s (default
        ``max(1, s // 2)``).

    Returns
    -------
    GradientCode

    Raises
    ------
    InvalidInputError
        Non-integer counts, ``s >= n``, ``"fractional"`` with ``(s + 1)`` not dividing
        ``n``, ``replication`` outside ``[1, s]`` or given with an exact scheme.

    References
    ----------
    R. Tandon, Q. Lei, A. G. Dimakis, N. Karampatziakis, "Gradient coding: avoiding
    stragglers in distributed learning", ICML 2017, PMLR 70:3368-3376, §3 (Algorithms 1
    and 2, Theorem 1).  N. Raviv, I. Tamo, R. Tandon, A. G. Dimakis, "Gradient coding from
    cyclic MDS codes and expander graphs", IEEE Trans. Inf. Theory 66(12), 2020,
    doi:10.1109/TIT.2020.3029396.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.coding import gradient_code
    >>> code = gradient_code(10, 2)
    >>> code.assignment[0].tolist(), int((code.B != 0).sum(axis=1).max())
    ([0, 1, 2], 3)
    >>> a = code.decode([0, 1, 2, 4, 5, 6, 7, 9])
    >>> bool(np.abs(a @ code.B - 1).max() < 1e-12)
    True
    """
    n = check_int(num_workers, "num_workers")
    s = check_int(num_stragglers, "num_stragglers", min_value=0)
    check_choice(scheme, "scheme", GRADIENT_SCHEMES)
    if s >= n:
        raise invalid_inputs(f"num_stragglers={s}, num_workers={n}", "num_stragglers < num_workers")
    if scheme == "approximate":
        d = max(1, s // 2) if replication is None else check_int(replication, "replication")
        if not 1 <= d <= max(s, 1):
            raise invalid_inputs(
                f"replication={d}, num_stragglers={s}",
                "1 <= replication <= num_stragglers (fewer copies than s + 1)",
            )
        B, assignment = _approximate(n, d)
    else:
        if replication is not None:
            raise invalid_inputs(
                f"replication={replication}, scheme={scheme!r}",
                "replication only with scheme='approximate' (exact schemes use s + 1)",
            )
        if scheme == "fractional" and n % (s + 1):
            raise invalid_inputs(
                f"num_workers={n}, num_stragglers={s}, scheme='fractional'",
                "(num_stragglers + 1) dividing num_workers (or scheme='cyclic')",
            )
        B, assignment = _BUILDERS[scheme](n, s)
    return GradientCode(scheme, n, s, _freeze(B), _freeze(assignment.astype(np.int64)))


# -- closed forms --------------------------------------------------------------------------


def harmonic(j: int) -> float:
    """The harmonic number ``H_j = sum_{i=1}^j 1/i`` (``H_0 = 0``).

    Parameters
    ----------
    j : int
        j >= 0.

    Returns
    -------
    float

    Examples
    --------
    >>> from edgeopt.coding import harmonic
    >>> harmonic(3)
    1.8333333333333333
    """
    m = check_int(j, "j", min_value=0)
    return float(math.fsum(1.0 / i for i in range(1, m + 1)))


def _shift_rate(shift_s: Any, rate_per_s: Any) -> tuple[float, float]:
    return (
        check_scalar(shift_s, "shift_s", positive=True),
        check_scalar(rate_per_s, "rate_per_s", positive=True),
    )


def gc_expected_time(
    num_workers: int, num_stragglers: int, *, shift_s: float, rate_per_s: float
) -> float:
    """Expected time until ``n - s`` of ``n`` gradient-coded workers finish.

    With loads ``(s + 1)/n`` and shifted-exponential delays
    ``T_i = ((s + 1)/n)(a + X_i/mu)``, the ``(n - s)``-th order statistic of ``n`` Exp(1)
    variables has mean ``H_n - H_s`` (Rényi's representation), so

        E[T] = ((s + 1) / n) (a + (H_n - H_s) / mu).

    Parameters
    ----------
    num_workers : int
        n >= 1.
    num_stragglers : int
        s, 0 <= s < n.
    shift_s : float
        ``a``, seconds per data set, > 0.
    rate_per_s : float
        ``mu``, 1/s per data set, > 0.

    Returns
    -------
    float
        Seconds.

    Raises
    ------
    InvalidInputError
        Non-integer counts, ``s >= n``, non-positive shift or rate.

    References
    ----------
    Tandon et al., ICML 2017, §5 (the shifted-exponential analysis); Lee et al., IEEE TIT
    2018, Lemma 2 (order statistics of shifted exponentials).

    Examples
    --------
    >>> from edgeopt.coding import gc_expected_time
    >>> gc_expected_time(2, 0, shift_s=1.0, rate_per_s=1.0)
    1.25
    """
    n = check_int(num_workers, "num_workers")
    s = check_int(num_stragglers, "num_stragglers", min_value=0)
    if s >= n:
        raise invalid_inputs(f"num_stragglers={s}, num_workers={n}", "num_stragglers < num_workers")
    a, mu = _shift_rate(shift_s, rate_per_s)
    return (s + 1) / n * (a + (harmonic(n) - harmonic(s)) / mu)


def optimal_stragglers(num_workers: int, *, shift_s: float, rate_per_s: float) -> int:
    """The ``s`` in ``[0, n)`` that minimizes :func:`gc_expected_time` (smallest if tied).

    Parameters
    ----------
    num_workers : int
        n >= 1.
    shift_s, rate_per_s : float
        As in :func:`gc_expected_time`.

    Returns
    -------
    int

    Examples
    --------
    >>> from edgeopt.coding import optimal_stragglers
    >>> optimal_stragglers(20, shift_s=1.0, rate_per_s=1.0)
    0
    >>> optimal_stragglers(20, shift_s=0.1, rate_per_s=1.0)
    19
    """
    n = check_int(num_workers, "num_workers")
    a, mu = _shift_rate(shift_s, rate_per_s)
    hn = harmonic(n)
    times = [(s + 1) / n * (a + (hn - harmonic(s)) / mu) for s in range(n)]
    return int(np.argmin(np.array(times)))
