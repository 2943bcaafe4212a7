"""Worker delay models for straggler simulations.

A delay model gives the time worker ``i`` needs to process a load ``l_i`` (the fraction of
the data set it holds, in (0, 1]) and to return its result.  Four laws:

* ``"shifted_exponential"`` -- ``T_i = l_i (a_i + X_i / mu_i)``, ``X_i ~ Exp(1)``: a
  deterministic time ``a_i`` per data set plus an exponential tail of rate ``mu_i`` per
  data set (Lee et al., "Speeding up distributed machine learning using codes", IEEE TIT
  2018, §III, Eq. (1) with the load scaling of §III-B);
* ``"pareto"`` -- ``T_i = l_i a_i Y_i``, ``Y_i`` Pareto with scale 1 and tail index
  ``alpha`` (heavy tails, ``P(Y > y) = y^-alpha``);
* ``"bimodal"`` -- the shifted exponential, slowed by ``slow_factor`` for a slow worker:
  each worker is slow with probability ``slow_prob``, either afresh in every round
  (``persistent=False``) or once for all rounds (``persistent=True``);
* ``"empirical"`` -- ``T_i = l_i D_i``, ``D_i`` resampled uniformly from measured delays
  per data set.

Every model may add an upload time ``u_i = L / r_i`` per worker (a result of ``L`` bits sent
at rate ``r_i``, e.g. from :meth:`edgeopt.system.System.rates_bps`), the wireless edge case.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_bool,
    check_choice,
    check_complex_array,
    check_int,
    check_rng,
    check_scalar,
    invalid_inputs,
)
from edgeopt.system import System

__all__ = ["DelayModel", "DELAY_MODELS", "delay_model", "upload_times", "from_system"]

#: The delay laws of :class:`DelayModel`, in the order of the numbered kernel models.
DELAY_MODELS = ("shifted_exponential", "pareto", "bimodal", "empirical")


def _freeze(arr: NDArray[Any]) -> NDArray[Any]:
    out = np.array(arr, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class DelayModel:
    """A worker delay model; build it with :func:`delay_model`.

    Parameters
    ----------
    kind : str
        One of :data:`DELAY_MODELS`.
    shift_s : numpy.ndarray of float64, shape () or (n,)
        Shift ``a_i``: seconds per data set (the whole data set, load 1), > 0 (``"pareto"``:
        the scale).  A scalar array applies to every worker.
    rate_per_s : numpy.ndarray of float64, shape () or (n,)
        Straggling rate ``mu_i`` per data set, 1/s, > 0 (``"shifted_exponential"`` and
        ``"bimodal"``).
    alpha : float
        Pareto tail index, > 1 (finite mean).
    slow_factor : float
        Slow-down of a slow worker (``"bimodal"``), >= 1.
    slow_prob : float
        Probability that a worker is slow (``"bimodal"``), in [0, 1].
    persistent : bool
        Whether a worker's slow state is drawn once for all rounds (``"bimodal"``).
    samples_s : numpy.ndarray of float64, shape (m,)
        Measured delays per data set, seconds, >= 0 (``"empirical"``).
    upload_s : numpy.ndarray of float64, shape () or (n,)
        Upload time added to every worker's delay, seconds, >= 0.

    Examples
    --------
    >>> from edgeopt.coding import delay_model
    >>> model = delay_model("shifted_exponential", shift_s=1.0, rate_per_s=2.0)
    >>> model.mean_s(0.5, num_workers=2).tolist()
    [0.75, 0.75]
    """

    kind: str
    shift_s: NDArray[np.float64]
    rate_per_s: NDArray[np.float64]
    alpha: float = 2.0
    slow_factor: float = 1.0
    slow_prob: float = 0.0
    persistent: bool = False
    samples_s: NDArray[np.float64] = dataclasses.field(default_factory=lambda: _freeze(np.ones(1)))
    upload_s: NDArray[np.float64] = dataclasses.field(default_factory=lambda: _freeze(np.zeros(())))

    def per_worker(self, num_workers: int) -> dict[str, NDArray[np.float64]]:
        """The per-worker arrays ``shift_s``, ``rate_per_s``, ``upload_s``, each (n,).

        Parameters
        ----------
        num_workers : int
            n >= 1; must match the length of every per-worker array given.

        Returns
        -------
        dict of str to numpy.ndarray of float64, shape (n,)

        Raises
        ------
        InvalidInputError
            A per-worker array of another length.

        Examples
        --------
        >>> from edgeopt.coding import delay_model
        >>> delay_model("shifted_exponential", shift_s=[1.0, 2.0], rate_per_s=1.0).per_worker(
        ...     2)["shift_s"].tolist()
        [1.0, 2.0]
        """
        n = check_int(num_workers, "num_workers")
        out = {}
        for name in ("shift_s", "rate_per_s", "upload_s"):
            arr = getattr(self, name)
            if arr.ndim == 1 and arr.shape[0] != n:
                raise invalid_inputs(
                    f"{name} (length {arr.shape[0]}), num_workers={n}",
                    f"one {name} per worker or a scalar",
                )
            out[name] = np.ascontiguousarray(np.broadcast_to(arr, (n,)), dtype=np.float64)
        return out

    def mean_s(self, load: Any, *, num_workers: int) -> NDArray[np.float64]:
        """Expected delay of each worker for the given loads, seconds, shape (n,).

        ``l_i (a_i + 1/mu_i) + u_i`` (shifted exponential); ``l_i a_i alpha / (alpha - 1)
        + u_i`` (Pareto); ``l_i (a_i + 1/mu_i)(1 + p (f - 1)) + u_i`` (bimodal, per round);
        ``l_i mean(D) + u_i`` (empirical).

        Parameters
        ----------
        load : float or array_like, shape (n,)
            Loads ``l_i`` (fractions of the data set), >= 0.
        num_workers : int
            n.

        Returns
        -------
        numpy.ndarray of float64, shape (n,)

        Examples
        --------
        >>> from edgeopt.coding import delay_model
        >>> delay_model("pareto", shift_s=1.0, alpha=3.0).mean_s(1.0, num_workers=1).tolist()
        [1.5]
        """
        w = self.per_worker(num_workers)
        ell = np.broadcast_to(check_array(load, "load", ndim=(0, 1), nonneg=True), (num_workers,))
        if self.kind == "pareto":
            per = w["shift_s"] * self.alpha / (self.alpha - 1.0)
        elif self.kind == "empirical":
            per = np.full(num_workers, float(self.samples_s.mean()))
        else:
            per = w["shift_s"] + 1.0 / w["rate_per_s"]
            if self.kind == "bimodal":
                per = per * (1.0 + self.slow_prob * (self.slow_factor - 1.0))
        return np.asarray(ell * per + w["upload_s"], dtype=np.float64)

    def with_upload(self, upload_s: Any) -> DelayModel:
        """The same model with the upload times replaced, e.g. from :func:`upload_times`.

        Parameters
        ----------
        upload_s : float or array_like, shape (n,)
            Seconds, >= 0.

        Returns
        -------
        DelayModel

        Examples
        --------
        >>> from edgeopt.coding import delay_model
        >>> model = delay_model("pareto", shift_s=1.0).with_upload([0.5, 0.25])
        >>> model.upload_s.tolist()
        [0.5, 0.25]
        """
        up = check_array(upload_s, "upload_s", ndim=(0, 1), nonneg=True, allow_empty=False)
        return dataclasses.replace(self, upload_s=_freeze(up))

    def sample(self, load: Any, *, trials: int, rng: Any = None) -> NDArray[np.float64]:
        """Draw delays with NumPy: shape ``(trials, n)``, seconds (the reference sampler).

        A persistent bimodal model draws its slow workers once, shared by every trial.

        Parameters
        ----------
        load : array_like, shape (n,)
            Loads ``l_i`` (fractions of the data set), >= 0.
        trials : int
            Number of rounds drawn, >= 1.
        rng : numpy.random.Generator, int or None
            Random source.

        Returns
        -------
        numpy.ndarray of float64, shape (trials, n)

        Examples
        --------
        >>> from edgeopt.coding import delay_model
        >>> model = delay_model("shifted_exponential", shift_s=1.0, rate_per_s=1.0)
        >>> model.sample([0.5, 0.5], trials=3, rng=0).shape
        (3, 2)
        """
        ell = check_array(load, "load", ndim=1, nonneg=True, allow_empty=False)
        n = ell.shape[0]
        t = check_int(trials, "trials")
        gen = check_rng(rng)
        w = self.per_worker(n)
        if self.kind == "pareto":
            y = (1.0 - gen.random((t, n))) ** (-1.0 / self.alpha)
            d = ell * w["shift_s"] * y
        elif self.kind == "empirical":
            d = ell * self.samples_s[gen.integers(0, self.samples_s.shape[0], size=(t, n))]
        else:
            d = ell * (w["shift_s"] + gen.exponential(1.0, size=(t, n)) / w["rate_per_s"])
            if self.kind == "bimodal":
                if self.persistent:
                    slow = self.slow_workers(n, rng=gen)[None, :]
                else:
                    slow = gen.random((t, n)) < self.slow_prob
                d = np.where(slow, d * self.slow_factor, d)
        return np.asarray(d + w["upload_s"], dtype=np.float64)

    def slow_workers(self, num_workers: int, *, rng: Any = None) -> NDArray[np.bool_]:
        """Draw which workers are slow (each with probability ``slow_prob``), shape (n,).

        Parameters
        ----------
        num_workers : int
            n >= 1.
        rng : numpy.random.Generator, int or None

        Returns
        -------
        numpy.ndarray of bool, shape (n,)

        Examples
        --------
        >>> from edgeopt.coding import delay_model
        >>> m = delay_model("bimodal", shift_s=1.0, rate_per_s=1.0, slow_factor=5.0,
        ...                 slow_prob=1.0)
        >>> m.slow_workers(3, rng=0).tolist()
        [True, True, True]
        """
        n = check_int(num_workers, "num_workers")
        return np.asarray(check_rng(rng).random(n) < self.slow_prob)


def delay_model(
    kind: str,
    *,
    shift_s: Any = 1.0,
    rate_per_s: Any = 1.0,
    alpha: float = 2.0,
    slow_factor: float = 5.0,
    slow_prob: float = 0.1,
    persistent: bool = False,
    samples_s: Any = None,
    upload_s: Any = 0.0,
) -> DelayModel:
    """Build a worker delay model (see :mod:`edgeopt.coding.delays` for the four laws).

    Parameters
    ----------
    kind : str
        ``"shifted_exponential"``, ``"pareto"``, ``"bimodal"`` or ``"empirical"``.
    shift_s : float or array_like, shape (n,)
        ``a_i``, seconds per data set, > 0 (Pareto: the scale).  Per-worker values model
        heterogeneous CPUs.
    rate_per_s : float or array_like, shape (n,)
        ``mu_i``, 1/s per data set, > 0.
    alpha : float
        Pareto tail index, > 1.
    slow_factor : float
        Bimodal slow-down, >= 1.
    slow_prob : float
        Bimodal probability of a slow worker, in [0, 1].
    persistent : bool
        Bimodal: slow workers drawn once for all rounds (True) or in every round (False).
    samples_s : array_like, shape (m,)
        Empirical: measured delays per data set, seconds, >= 0 (required for that kind).
    upload_s : float or array_like, shape (n,)
        Upload time per worker, seconds, >= 0 (see :func:`upload_times`).

    Returns
    -------
    DelayModel

    Raises
    ------
    InvalidInputError
        An unknown kind, non-positive shifts or rates, ``alpha <= 1``, a probability
        outside [0, 1], a factor below 1, or no samples for ``"empirical"``.

    References
    ----------
    K. Lee, M. Lam, R. Pedarsani, D. Papailiopoulos, K. Ramchandran, "Speeding up
    distributed machine learning using codes", IEEE Trans. Inf. Theory 64(3), 2018,
    doi:10.1109/TIT.2017.2736066, §III (the shifted-exponential model).

    Examples
    --------
    >>> from edgeopt.coding import delay_model
    >>> delay_model("empirical", samples_s=[1.0, 3.0]).mean_s(1.0, num_workers=2).tolist()
    [2.0, 2.0]
    """
    check_choice(kind, "kind", DELAY_MODELS)
    shift = check_array(shift_s, "shift_s", ndim=(0, 1), positive=True, allow_empty=False)
    rate = check_array(rate_per_s, "rate_per_s", ndim=(0, 1), positive=True, allow_empty=False)
    a = check_scalar(alpha, "alpha")
    if a <= 1.0:
        raise invalid_inputs(f"alpha={a}", "a Pareto tail index alpha > 1 (a finite mean)")
    f = check_scalar(slow_factor, "slow_factor", low=1.0)
    p = check_scalar(slow_prob, "slow_prob", low=0.0, high=1.0)
    pers = check_bool(persistent, "persistent")
    if kind == "empirical":
        if samples_s is None:
            raise invalid_inputs("kind='empirical', samples_s=None", "measured delays samples_s")
        samples = check_array(samples_s, "samples_s", ndim=1, nonneg=True, allow_empty=False)
    else:
        samples = np.ones(1)
    up = check_array(upload_s, "upload_s", ndim=(0, 1), nonneg=True, allow_empty=False)
    return DelayModel(
        kind, _freeze(shift), _freeze(rate), a, f, p, pers, _freeze(samples), _freeze(up)
    )


def upload_times(payload_bits: float, rates_bps: Any) -> NDArray[np.float64]:
    """Upload time ``u_i = L / r_i`` of a result of ``L`` bits at each worker's rate.

    Parameters
    ----------
    payload_bits : float
        ``L``, bits, > 0.
    rates_bps : array_like, shape (n,)
        Uplink rates ``r_i``, bit/s, > 0 (e.g. :meth:`edgeopt.system.System.rates_bps`).

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        Seconds.

    Raises
    ------
    InvalidInputError
        Non-positive payload or rates.

    Examples
    --------
    >>> from edgeopt.coding import upload_times
    >>> upload_times(1e6, [1e6, 2e6]).tolist()
    [1.0, 0.5]
    """
    bits = check_scalar(payload_bits, "payload_bits", positive=True)
    r = check_array(rates_bps, "rates_bps", ndim=1, positive=True, allow_empty=False)
    return np.asarray(bits / r, dtype=np.float64)


def from_system(
    system: System,
    *,
    num_samples: float,
    tail_ratio: float = 1.0,
    payload_bits: float | None = None,
    channels: Any = None,
    bandwidth_hz: Any = None,
) -> DelayModel:
    """A shifted-exponential model of the system's devices as workers.

    Worker ``i``'s shift is the time device ``i`` takes to process the whole data set,
    ``a_i = C_i N / f_i`` (:meth:`edgeopt.system.System.compute_time_s` with
    ``num_samples = N``), so heterogeneous CPUs give heterogeneous shifts; its straggling rate
    is ``mu_i = tail_ratio / a_i`` (the mean of the exponential tail is ``a_i / tail_ratio``
    per data set).  With ``payload_bits`` the upload ``u_i = L / r_i`` of each worker's result
    is added, at the rates :meth:`edgeopt.system.System.rates_bps` gives for ``channels``
    and ``bandwidth_hz``.

    Parameters
    ----------
    system : edgeopt.system.System
        Its devices need ``cycles_per_sample``.
    num_samples : float
        ``N``, samples in the data set, > 0.
    tail_ratio : float
        ``a_i mu_i``, > 0 (large: nearly deterministic workers).
    payload_bits : float, optional
        Result size ``L`` in bits, > 0; no upload when omitted.
    channels : array_like of complex, shape (K, N_ant)
        Required with ``payload_bits`` (e.g. ``system.channels(rng)``).
    bandwidth_hz : float or array_like, shape (K,)
        Each worker's band, Hz (required with ``payload_bits``).

    Returns
    -------
    DelayModel
        ``"shifted_exponential"`` with ``n = K`` per-worker arrays.

    Raises
    ------
    InvalidInputError
        Devices without ``cycles_per_sample``, non-positive counts or ratio, an upload
        without channels or band, a device with rate 0.

    Examples
    --------
    >>> from edgeopt.coding import from_system
    >>> from edgeopt.system import normalized_system
    >>> cell = normalized_system(2, cpu_freq_hz=[1e9, 2e9], cycles_per_sample=1e6)
    >>> model = from_system(cell, num_samples=1000, tail_ratio=2.0)
    >>> model.shift_s.tolist(), model.rate_per_s.tolist()
    ([1.0, 0.5], [2.0, 4.0])
    """
    if not isinstance(system, System):
        raise invalid_inputs(f"system={type(system).__name__}", "an edgeopt.system.System")
    n_samples = check_scalar(num_samples, "num_samples", positive=True)
    ratio = check_scalar(tail_ratio, "tail_ratio", positive=True)
    shift = system.compute_time_s(np.full(system.num_devices, n_samples))
    if np.any(shift <= 0):
        raise invalid_inputs("cycles_per_sample, cpu_freq_hz", "a positive time per data set")
    upload: Any = 0.0
    if payload_bits is not None:
        if channels is None or bandwidth_hz is None:
            raise invalid_inputs(
                "payload_bits, channels, bandwidth_hz", "channels and bandwidth_hz with an upload"
            )
        h = check_complex_array(channels, "channels", ndim=2)
        upload = upload_times(payload_bits, system.rates_bps(h, bandwidth_hz))
    return delay_model(
        "shifted_exponential", shift_s=shift, rate_per_s=ratio / shift, upload_s=upload
    )
