"""MDS-coded matrix multiplication for linear models (Lee et al., IEEE TIT 2018).

The rows of ``A`` (shape ``(m, p)``) are split into ``k`` blocks ``A_1, ..., A_k``; worker
``i`` stores the coded block ``sum_j G[i, j] A_j`` and returns its product with ``x``.  Any
``k`` results determine ``A x``: with ``G_S`` the rows of ``G`` of the ``k`` workers in ``S``,
``[A_1 x; ...; A_k x] = G_S^{-1} y_S`` whenever ``G_S`` is invertible (every ``k x k``
submatrix of an MDS generator is).  Each worker's load is ``1/k`` of the data set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_int,
    check_int_array,
    check_rng,
    check_scalar,
    invalid_input,
    invalid_inputs,
)

__all__ = ["MDSCode", "mds_code", "mds_expected_time"]


@dataclass(frozen=True, eq=False)
class MDSCode:
    """An ``(n, k)`` real MDS code for coded matrix multiplication; see :func:`mds_code`.

    Parameters
    ----------
    num_workers : int
        n.
    k : int
        Blocks; any ``k`` of the ``n`` results decode.
    G : numpy.ndarray of float64, shape (n, k)
        Generator: worker ``i`` stores ``sum_j G[i, j] A_j`` (read-only).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.coding import mds_code
    >>> code = mds_code(5, 3, rng=0)
    >>> A = np.arange(12.0).reshape(6, 2); x = np.array([1.0, -1.0])
    >>> y = code.encode(A) @ x
    >>> np.allclose(code.decode(y[[0, 2, 4]], [0, 2, 4]), A @ x)
    True
    """

    num_workers: int
    k: int
    G: NDArray[np.float64]

    def encode(self, A: Any) -> NDArray[np.float64]:
        """The coded blocks, shape ``(n, m / k, p)``: worker ``i`` stores ``[i]``.

        Parameters
        ----------
        A : array_like, shape (m, p) or (m,)
            Data matrix; ``m`` must be a multiple of ``k``.

        Returns
        -------
        numpy.ndarray of float64, shape (n, m // k, p) (or (n, m // k))

        Raises
        ------
        InvalidInputError
            Non-finite entries or ``m`` not a multiple of ``k``.

        Examples
        --------
        >>> import numpy as np
        >>> from edgeopt.coding import mds_code
        >>> mds_code(4, 2, rng=0).encode(np.ones((4, 3))).shape
        (4, 2, 3)
        """
        a = check_array(A, "A", ndim=(1, 2), allow_empty=False)
        if a.shape[0] % self.k:
            raise invalid_inputs(f"A (shape {a.shape}), k={self.k}", "rows of A a multiple of k")
        blocks = a.reshape(self.k, a.shape[0] // self.k, *a.shape[1:])
        return np.asarray(np.tensordot(self.G, blocks, axes=(1, 0)))

    def condition_number(self, alive: Any) -> float:
        """2-norm condition number of the decoding matrix ``G_S`` (first ``k`` of ``alive``).

        Parameters
        ----------
        alive : array_like of int, shape (>= k,)
            Workers whose results arrived.

        Returns
        -------
        float

        Examples
        --------
        >>> from edgeopt.coding import mds_code
        >>> bool(mds_code(6, 3, rng=0).condition_number([0, 1, 2]) >= 1.0)
        True
        """
        return float(np.linalg.cond(self.G[self._alive(alive)]))

    def _alive(self, alive: Any) -> NDArray[np.int64]:
        idx = check_int_array(alive, "alive", ndim=1, min_value=0)
        if idx.size and int(idx.max()) >= self.num_workers:
            raise invalid_input("alive", alive, f"worker indices in [0, {self.num_workers})")
        if np.unique(idx).size != idx.size:
            raise invalid_input("alive", alive, "distinct worker indices")
        if idx.size < self.k:
            raise invalid_input("alive", alive, f"at least k = {self.k} workers")
        return idx[: self.k]

    def decode(self, results: Any, alive: Any) -> NDArray[np.float64]:
        """Recover ``A x`` from the results of the workers in ``alive``.

        Parameters
        ----------
        results : array_like, shape (len(alive), m / k) or (len(alive), m / k, q)
            Worker ``alive[j]``'s product in row ``j``.
        alive : array_like of int, shape (>= k,)
            Their indices; the first ``k`` are used.

        Returns
        -------
        numpy.ndarray of float64, shape (m,) or (m, q)

        Raises
        ------
        InvalidInputError
            Fewer than ``k`` workers, bad indices, or results of another length.

        Examples
        --------
        >>> import numpy as np
        >>> from edgeopt.coding import mds_code
        >>> code = mds_code(3, 2, rng=1)
        >>> y = code.encode(np.eye(2)) @ np.array([2.0, 3.0])
        >>> code.decode(y[1:], [1, 2]).round(12).tolist()
        [2.0, 3.0]
        """
        idx = self._alive(alive)
        y = check_array(results, "results", ndim=(2, 3), allow_empty=False)
        if y.shape[0] < idx.size:
            raise invalid_inputs(
                f"results (shape {y.shape}), alive (length {idx.size})", "one result per worker"
            )
        y = y[: self.k]
        blocks = scipy.linalg.solve(self.G[idx], y.reshape(self.k, -1), check_finite=False)
        return np.asarray(blocks.reshape(self.k * y.shape[1], *y.shape[2:]))


def mds_code(num_workers: int, k: int, *, rng: Any = None) -> MDSCode:
    """A random Gaussian ``(n, k)`` MDS code (Lee et al., IEEE TIT 2018, §III).

    The generator has i.i.d. N(0, 1) entries: every ``k x k`` submatrix is invertible with
    probability one, and, unlike a real Vandermonde generator (whose condition numbers grow
    exponentially with ``k``), its condition numbers grow only polynomially (Chen and
    Dongarra, SIAM J. Matrix Anal. Appl. 2005).  :meth:`MDSCode.condition_number` reports
    the one of a given set.

    Parameters
    ----------
    num_workers : int
        n >= 1.
    k : int
        1 <= k <= n.
    rng : numpy.random.Generator, int or None
        Random source of the generator.

    Returns
    -------
    MDSCode

    Raises
    ------
    InvalidInputError
        Non-integer counts or ``k > n``.

    References
    ----------
    K. Lee, M. Lam, R. Pedarsani, D. Papailiopoulos, K. Ramchandran, "Speeding up
    distributed machine learning using codes", IEEE Trans. Inf. Theory 64(3):1514-1529,
    2018, doi:10.1109/TIT.2017.2736066, §III.

    Examples
    --------
    >>> from edgeopt.coding import mds_code
    >>> mds_code(10, 7, rng=0).G.shape
    (10, 7)
    """
    n = check_int(num_workers, "num_workers")
    kk = check_int(k, "k")
    if kk > n:
        raise invalid_inputs(f"k={kk}, num_workers={n}", "k <= num_workers")
    G = check_rng(rng).standard_normal((n, kk))
    G.setflags(write=False)
    return MDSCode(n, kk, G)


def mds_expected_time(num_workers: int, k: int, *, shift_s: float, rate_per_s: float) -> float:
    """Expected time until ``k`` of ``n`` MDS-coded workers finish (loads ``1/k``).

    With ``T_i = (1/k)(a + X_i/mu)`` the ``k``-th order statistic of ``n`` Exp(1) variables
    has mean ``H_n - H_{n-k}``, so

        E[T] = (1 / k) (a + (H_n - H_{n-k}) / mu)

    (Lee et al., IEEE TIT 2018, Theorem 1's expression).

    Parameters
    ----------
    num_workers : int
        n >= 1.
    k : int
        1 <= k <= n.
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
        Non-integer counts, ``k > n``, non-positive shift or rate.

    Examples
    --------
    >>> from edgeopt.coding import mds_expected_time
    >>> mds_expected_time(2, 2, shift_s=1.0, rate_per_s=1.0)
    1.25
    """
    n = check_int(num_workers, "num_workers")
    kk = check_int(k, "k")
    if kk > n:
        raise invalid_inputs(f"k={kk}, num_workers={n}", "k <= num_workers")
    a = check_scalar(shift_s, "shift_s", positive=True)
    mu = check_scalar(rate_per_s, "rate_per_s", positive=True)
    hn = math.fsum(1.0 / i for i in range(n - kk + 1, n + 1))
    return (a + hn / mu) / kk
