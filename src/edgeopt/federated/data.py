"""Datasets for the federated loops: scikit-learn's digits and a synthetic logistic task.

A :class:`Dataset` holds NumPy arrays (features ``float32``, labels ``int64``) with a fixed
train/test split; the training loop moves them to the requested torch device.  Nothing here
downloads anything: the digits ship with scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_int,
    check_rng,
    check_scalar,
    invalid_input,
    invalid_inputs,
)

__all__ = ["Dataset", "digits_dataset", "synthetic_dataset", "resolve_dataset"]


@dataclass(frozen=True)
class Dataset:
    """A labelled classification dataset with a fixed train/test split.

    Parameters
    ----------
    x_train : numpy.ndarray of float32, shape (n_train, input_dim)
        Training features (flat; models reshape them when they need to).
    y_train : numpy.ndarray of int64, shape (n_train,)
        Training labels in ``0 .. num_classes - 1``.
    x_test : numpy.ndarray of float32, shape (n_test, input_dim)
        Test features, ``n_test >= 1``.
    y_test : numpy.ndarray of int64, shape (n_test,)
        Test labels.
    num_classes : int >= 2
        Number of classes.
    name : str
        Short name used in reports.
    true_weights : numpy.ndarray of float64, shape (input_dim + 1,), optional
        For the synthetic task: the generating logistic-regression parameters (weights then
        bias), i.e. the population optimum of the logistic loss.

    Raises
    ------
    InvalidInputError
        If shapes disagree, the training or the test set is empty, features are not finite
        or labels are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.federated import Dataset
    >>> x = np.eye(3)
    >>> ds = Dataset(x, np.array([0, 1, 1]), x[:1], np.array([0]), num_classes=2)
    >>> ds.input_dim, ds.num_train, ds.x_train.dtype
    (3, 3, dtype('float32'))
    """

    x_train: NDArray[np.float32]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.float32]
    y_test: NDArray[np.int64]
    num_classes: int
    name: str = "custom"
    true_weights: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        for xname, yname in (("x_train", "y_train"), ("x_test", "y_test")):
            x = check_array(getattr(self, xname), xname, ndim=2)
            if x.shape[0] == 0:
                raise invalid_input(xname, x, "at least one sample")
            y = np.asarray(getattr(self, yname))
            if y.shape != (x.shape[0],) or y.dtype.kind not in "iu":
                raise invalid_input(yname, y, f"integer labels of shape ({x.shape[0]},)")
            object.__setattr__(self, xname, np.ascontiguousarray(x, dtype=np.float32))
            object.__setattr__(self, yname, np.ascontiguousarray(y, dtype=np.int64))
        check_int(self.num_classes, "num_classes", min_value=2)
        for yname in ("y_train", "y_test"):
            y = getattr(self, yname)
            if y.min() < 0 or y.max() >= self.num_classes:
                raise invalid_input(yname, y, f"labels in 0..{self.num_classes - 1}")
        if self.x_test.shape[1] != self.x_train.shape[1]:
            raise invalid_inputs(
                f"x_test ({self.x_test.shape[1]} features), x_train "
                f"({self.x_train.shape[1]} features)",
                "the same number of features",
            )

    @property
    def input_dim(self) -> int:
        """Number of features per sample."""
        return int(self.x_train.shape[1])

    @property
    def num_train(self) -> int:
        """Number of training samples."""
        return int(self.x_train.shape[0])


def digits_dataset(*, test_fraction: float = 0.2, split_seed: int = 0) -> Dataset:
    """The handwritten digits bundled with scikit-learn, scaled to [0, 1], fixed split.

    1,797 grey-level images of 8×8 pixels (values 0..16, divided by 16 here), ten classes.
    The split is a stratified permutation drawn from ``split_seed`` (fixed by default, so the
    same test set is used everywhere); it is not part of any experiment's randomness.

    Parameters
    ----------
    test_fraction : float in (0, 1)
        Share of each class put in the test set (default 0.2: 1,438 train, 359 test).
    split_seed : int >= 0
        Seed of the split permutation.

    Returns
    -------
    Dataset
        ``input_dim`` 64, ``num_classes`` 10.

    Raises
    ------
    InvalidInputError
        ``test_fraction`` outside (0, 1) or a negative ``split_seed``.

    References
    ----------
    E. Alpaydin and C. Kaynak, "Optical recognition of handwritten digits," UCI ML
    Repository, 1998 (the test part bundled as ``sklearn.datasets.load_digits``).

    Examples
    --------
    >>> from edgeopt.federated.data import digits_dataset
    >>> ds = digits_dataset()
    >>> ds.x_train.shape, ds.x_test.shape, ds.num_classes
    ((1438, 64), (359, 64), 10)
    """
    from sklearn.datasets import load_digits

    frac = check_scalar(test_fraction, "test_fraction", low=0.0, high=1.0)
    if not 0.0 < frac < 1.0:
        raise invalid_input("test_fraction", frac, "0 < value < 1")
    rng = check_rng(split_seed, "split_seed")
    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float32) / np.float32(16.0)
    y = np.asarray(bunch.target, dtype=np.int64)
    test_idx = []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(idx.size)]
        test_idx.append(idx[: int(round(frac * idx.size))])
    test = np.sort(np.concatenate(test_idx))
    mask = np.zeros(y.size, dtype=bool)
    mask[test] = True
    return Dataset(x[~mask], y[~mask], x[mask], y[mask], num_classes=10, name="digits")


def synthetic_dataset(
    *,
    num_train: int = 2000,
    num_test: int = 500,
    input_dim: int = 10,
    rng: Any = None,
) -> Dataset:
    """A binary logistic-regression task with known generating parameters.

    Features are i.i.d. standard normal, ``x ~ N(0, I)``; the true weights
    ``w* ~ N(0, (4/input_dim) I)`` and bias ``b* ~ N(0, 1/4)``; labels are drawn as
    ``y ~ Bernoulli(σ(w*ᵀx + b*))``.  ``(w*, b*)`` minimizes the population logistic loss, so
    the Bayes accuracy is that of the sign of ``w*ᵀx + b*``.

    Parameters
    ----------
    num_train, num_test : int >= 1
        Sizes of the training and test sets.
    input_dim : int >= 1
        Number of features.
    rng : numpy.random.Generator, int or None
        Source of the weights, features and labels.

    Returns
    -------
    Dataset
        ``num_classes`` 2, ``true_weights`` = (w*, b*).

    Raises
    ------
    InvalidInputError
        Sizes below 1, or an invalid ``rng``.

    Examples
    --------
    >>> from edgeopt.federated.data import synthetic_dataset
    >>> ds = synthetic_dataset(num_train=100, num_test=20, input_dim=5, rng=0)
    >>> ds.x_train.shape, ds.true_weights.shape
    ((100, 5), (6,))
    """
    n_tr = check_int(num_train, "num_train")
    n_te = check_int(num_test, "num_test")
    dim = check_int(input_dim, "input_dim")
    gen = check_rng(rng)
    w = gen.normal(0.0, 2.0 / np.sqrt(dim), size=dim)
    b = gen.normal(0.0, 0.5)
    x = gen.standard_normal((n_tr + n_te, dim))
    p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
    y = (gen.random(n_tr + n_te) < p).astype(np.int64)
    return Dataset(
        x[:n_tr].astype(np.float32),
        y[:n_tr],
        x[n_tr:].astype(np.float32),
        y[n_tr:],
        num_classes=2,
        name="synthetic",
        true_weights=np.append(w, b),
    )


def resolve_dataset(data: Any, rng: np.random.Generator) -> Dataset:
    """Turn ``"digits"``, ``"synthetic"`` or a :class:`Dataset` into a :class:`Dataset`.

    ``"synthetic"`` is drawn from ``rng`` with the defaults of :func:`synthetic_dataset`.

    Parameters
    ----------
    data : {"digits", "synthetic"} or Dataset
        A name, or a dataset returned as is.
    rng : numpy.random.Generator
        Source of the synthetic task (unused otherwise).

    Returns
    -------
    Dataset

    Raises
    ------
    InvalidInputError
        For anything else.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.federated.data import resolve_dataset
    >>> resolve_dataset("synthetic", np.random.default_rng(0)).num_classes
    2
    """
    if isinstance(data, Dataset):
        return data
    if data == "digits":
        return digits_dataset()
    if data == "synthetic":
        return synthetic_dataset(rng=rng)
    raise invalid_input("data", data, "'digits', 'synthetic' or an edgeopt Dataset")
