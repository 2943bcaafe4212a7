"""Split a training set across clients: IID, label shards, Dirichlet label skew."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_choice,
    check_int,
    check_rng,
    check_scalar,
    invalid_input,
)

__all__ = ["PARTITIONS", "partition"]

#: Names accepted by :func:`partition`.
PARTITIONS = ("iid", "label_shards", "dirichlet")


def partition(
    labels: Any,
    num_clients: int,
    method: str = "iid",
    *,
    rng: Any = None,
    alpha: float = 0.5,
    shards_per_client: int = 2,
) -> list[NDArray[np.int64]]:
    """Assign every training sample to exactly one client.

    * ``"iid"``: a random permutation cut into ``num_clients`` near-equal parts.
    * ``"label_shards"`` (McMahan et al. 2017, Sec. 3): samples sorted by label, cut into
      ``num_clients · shards_per_client`` equal shards, each client gets
      ``shards_per_client`` random shards, hence only a few classes.
    * ``"dirichlet"`` (Hsu et al. 2019): for each class, the shares of the clients are drawn
      from ``Dir(alpha · 1)``; small ``alpha`` means strong label skew.  A client left
      empty receives one sample from the currently largest client, so that every client
      holds at least one sample.

    Parameters
    ----------
    labels : array_like of int, shape (n,)
        Training labels.
    num_clients : int, 1 <= num_clients <= n
    method : {"iid", "label_shards", "dirichlet"}
    rng : numpy.random.Generator, int or None
    alpha : float > 0
        Dirichlet concentration (``"dirichlet"`` only).
    shards_per_client : int >= 1
        (``"label_shards"`` only); ``num_clients · shards_per_client <= n``.

    Returns
    -------
    list of numpy.ndarray of int64
        ``num_clients`` sorted index arrays, disjoint, covering ``0 .. n-1``, none empty.

    Raises
    ------
    InvalidInputError
        Unknown method, too many clients or shards, bad ``alpha``.

    References
    ----------
    H. B. McMahan et al., "Communication-efficient learning of deep networks from
    decentralized data," AISTATS 2017.  T.-M. H. Hsu, H. Qi and M. Brown, "Measuring the
    effects of non-identical data distribution for federated visual classification,"
    arXiv:1909.06335, 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.federated.partition import partition
    >>> parts = partition(np.repeat(np.arange(4), 5), 4, "label_shards", rng=0,
    ...                   shards_per_client=1)
    >>> [len(np.unique(np.repeat(np.arange(4), 5)[p])) for p in parts]
    [1, 1, 1, 1]
    """
    y = check_array(labels, "labels", ndim=1, allow_empty=False)
    if np.any(y != np.round(y)) or np.any(y < 0):
        raise invalid_input("labels", labels, "non-negative integer labels")
    y_int = y.astype(np.int64)
    n = y_int.size
    k = check_int(num_clients, "num_clients", min_value=1, max_value=n)
    meth = check_choice(method, "partition", PARTITIONS)
    gen = check_rng(rng)
    if meth == "iid":
        parts = np.array_split(gen.permutation(n), k)
    elif meth == "label_shards":
        s = check_int(shards_per_client, "shards_per_client", min_value=1, max_value=n // k)
        order = np.argsort(y_int, kind="stable")
        shards = np.array_split(order, k * s)
        assign = gen.permutation(k * s).reshape(k, s)
        parts = [np.concatenate([shards[j] for j in row]) for row in assign]
    else:
        a = check_scalar(alpha, "alpha", positive=True)
        buckets: list[list[NDArray[np.int64]]] = [[] for _ in range(k)]
        for c in np.unique(y_int):
            idx = np.flatnonzero(y_int == c)
            idx = idx[gen.permutation(idx.size)]
            shares = gen.dirichlet(np.full(k, a))
            cuts = np.round(np.cumsum(shares)[:-1] * idx.size).astype(np.int64)
            for i, piece in enumerate(np.split(idx, cuts)):
                buckets[i].append(piece)
        parts = [np.concatenate(b) for b in buckets]
        for i in range(k):
            if parts[i].size == 0:
                j = int(np.argmax([p.size for p in parts]))
                parts[i], parts[j] = parts[j][-1:], parts[j][:-1]
    return [np.sort(p).astype(np.int64) for p in parts]
