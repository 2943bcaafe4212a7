"""Small-scale fading, shadowing and multi-antenna uplink channels.

Conventions: complex baseband gains are ``complex128``; shapes are batch first, then
devices, then antennas, so a set of uplink channels is ``(K, N)`` or ``(batch, K, N)``.
Every function takes ``rng`` (a :class:`numpy.random.Generator`, an int seed or ``None``)
and uses no other source of randomness.
"""

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
    check_shape,
    invalid_input,
    invalid_inputs,
    missing_input,
)
from edgeopt.channel.pathloss import PATHLOSS_MODELS, pathloss_db
from edgeopt.units import db_to_lin

__all__ = [
    "FADING_MODELS",
    "rayleigh",
    "rician",
    "lognormal_shadowing_db",
    "uplink_channels",
]

#: Small-scale fading models accepted by :func:`uplink_channels`.
FADING_MODELS = ("rayleigh", "rician", "none")


def rayleigh(shape: Any, rng: Any = None) -> NDArray[np.complex128]:
    """I.i.d. circularly-symmetric complex Gaussian gains, CN(0, 1).

    Each entry is (X + jY)/√2 with X, Y i.i.d. N(0, 1), so E[abs(h)²] = 1 and abs(h) is Rayleigh
    distributed.

    Parameters
    ----------
    shape : int or sequence of int
        Output shape, e.g. ``(batch, K, N)``.
    rng : numpy.random.Generator, int or None
        Random source (see :func:`edgeopt._validation.check_rng`).  The real parts are drawn
        first (one ``standard_normal`` call of ``shape``), then the imaginary parts.

    Returns
    -------
    numpy.ndarray of complex128, shape ``shape``

    Raises
    ------
    InvalidInputError
        Bad ``shape`` (negative, non-integer) or ``rng``.

    References
    ----------
    D. Tse and P. Viswanath, *Fundamentals of Wireless Communication*, Cambridge, 2005,
    Sec. 2.4.2 (Rayleigh fading model, h ~ CN(0, 1)).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.channel import rayleigh
    >>> h = rayleigh((2, 3), np.random.default_rng(0))
    >>> h.shape, h.dtype
    ((2, 3), dtype('complex128'))
    >>> round(float(np.mean(np.abs(rayleigh(200_000, 1)) ** 2)), 2)
    1.0
    """
    shp = check_shape(shape)
    gen = check_rng(rng)
    real = gen.standard_normal(shp)
    imag = gen.standard_normal(shp)
    return (real + 1j * imag) * np.sqrt(0.5)


def rician(shape: Any, k_factor_db: Any, rng: Any = None) -> NDArray[np.complex128]:
    """Rician fading gains of unit mean power.

    h = √(K/(K+1))·e^{jφ} + √(1/(K+1))·w with w ~ CN(0, 1), φ ~ U[0, 2π) drawn
    independently for every entry (a line-of-sight component of random phase), and
    K = 10^(k_factor_db/10) the ratio of line-of-sight to scattered power; E[abs(h)²] = 1.

    Parameters
    ----------
    shape : int or sequence of int
        Output shape.
    k_factor_db : float
        Rician K-factor in dB (finite; a very negative value approaches Rayleigh fading).
    rng : numpy.random.Generator, int or None
        Random source.  Draw order: the phases (``shape``), then the scattered part as in
        :func:`rayleigh`.

    Returns
    -------
    numpy.ndarray of complex128, shape ``shape``

    Raises
    ------
    InvalidInputError
        Bad ``shape``, ``k_factor_db`` not a finite number in [−300, 300] dB or bad ``rng``.

    References
    ----------
    A. Goldsmith, *Wireless Communications*, Cambridge, 2005, Eq. (3.37) (Rician
    distribution, K-factor).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.channel import rician
    >>> h = rician(200_000, 10.0, np.random.default_rng(0))
    >>> round(float(np.mean(np.abs(h) ** 2)), 2)
    1.0
    """
    shp = check_shape(shape)
    k_db = check_scalar(k_factor_db, "k_factor_db", low=-300.0, high=300.0)
    gen = check_rng(rng)
    k_lin = float(db_to_lin(k_db))
    phase = gen.uniform(0.0, 2.0 * np.pi, size=shp)
    scatter = rayleigh(shp, gen)
    los = np.sqrt(k_lin / (k_lin + 1.0)) * np.exp(1j * phase)
    return los + np.sqrt(1.0 / (k_lin + 1.0)) * scatter


def lognormal_shadowing_db(shape: Any, sigma_db: Any, rng: Any = None) -> NDArray[np.float64]:
    """Log-normal shadowing in dB: i.i.d. N(0, σ²) samples.

    The linear power factor is 10^(S/10); it is log-normal with median 1.

    Parameters
    ----------
    shape : int or sequence of int
        Output shape.
    sigma_db : float
        Standard deviation σ in dB, >= 0 (8 dB is the 3GPP TR 36.814 macro-cell value).
    rng : numpy.random.Generator, int or None
        Random source.

    Returns
    -------
    numpy.ndarray of float64, shape ``shape``
        Shadowing in dB (add it to the *gain* in dB, i.e. subtract it from the loss).

    Raises
    ------
    InvalidInputError
        Bad ``shape``, negative or non-finite ``sigma_db``, bad ``rng``.

    References
    ----------
    A. Goldsmith, *Wireless Communications*, Cambridge, 2005, Eq. (2.46) (log-normal
    shadowing).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.channel import lognormal_shadowing_db
    >>> s = lognormal_shadowing_db(100_000, 8.0, np.random.default_rng(0))
    >>> round(float(np.std(s)), 1)
    8.0
    """
    shp = check_shape(shape)
    sigma = check_scalar(sigma_db, "sigma_db", nonneg=True)
    gen = check_rng(rng)
    return sigma * gen.standard_normal(shp)


def uplink_channels(
    distances_m: Any,
    num_antennas: Any,
    *,
    rng: Any = None,
    pathloss: str = "3gpp-macro",
    fading: str = "rayleigh",
    k_factor_db: Any = None,
    shadowing_sigma_db: Any = 0.0,
    batch: Any = None,
    **params: Any,
) -> NDArray[np.complex128]:
    """Uplink SIMO channels of K single-antenna devices to an N-antenna receiver.

    Entry ``[..., k, n]`` is h_kn = √(β_k)·g_kn with the large-scale gain
    β_k = 10^(−(PL(d_k) − S_k)/10) (path loss :func:`pathloss_db`, shadowing S_k ~ N(0, σ²)
    in dB, one draw per device and per batch element) and small-scale fading g_kn drawn
    independently per device and antenna (:func:`rayleigh`, :func:`rician`, or 1 for
    ``fading="none"``).  So E[abs(h_kn)²] = 10^(−PL(d_k)/10)·E[10^(S_k/10)].

    Parameters
    ----------
    distances_m : array_like of float, shape (K,) or (batch, K)
        Device–receiver distances in metres (> 0; >= 35 m for the default model).  A 2-D
        array gives one geometry per batch element.
    num_antennas : int
        Receive antennas N >= 1.
    rng : numpy.random.Generator, int or None
        Random source (keyword; ``None``, the default, draws a fresh OS-seeded generator).
        Draw order: shadowing (if σ > 0), then fading.
    pathloss : str
        Path loss model name, see :func:`pathloss_db`.
    fading : {"rayleigh", "rician", "none"}
        Small-scale fading model.
    k_factor_db : float, optional
        Rician K-factor in dB; required for (and only allowed with) ``fading="rician"``.
    shadowing_sigma_db : float
        Log-normal shadowing standard deviation in dB (>= 0; 0 means no shadowing).
    batch : int, optional
        Number of independent realizations; the output gets a leading axis of this length.
        With a 2-D ``distances_m`` it may be omitted or must equal its first length.
    **params
        Passed to :func:`pathloss_db` (e.g. ``carrier_hz``).

    Returns
    -------
    numpy.ndarray of complex128, shape (K, N) or (batch, K, N)

    Raises
    ------
    InvalidInputError
        Bad distances, antenna count, model names or parameters, batch size or rng.

    Warns
    -----
    ModelRangeWarning
        A distance below the path loss model's range (see :func:`pathloss_db`).

    References
    ----------
    E. Björnson, J. Hoydis and L. Sanguinetti, "Massive MIMO networks," Foundations and
    Trends in Signal Processing 11(3-4), 2017, Sec. 2.3 (large-scale fading times i.i.d.
    small-scale fading, Eq. (2.3)).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.channel import uplink_channels
    >>> h = uplink_channels([100.0, 250.0, 500.0], 4, rng=np.random.default_rng(0), batch=2)
    >>> h.shape
    (2, 3, 4)
    >>> h = uplink_channels([1000.0], 2, rng=0, fading="none")
    >>> np.round(-10 * np.log10(np.abs(h) ** 2), 1).tolist()
    [[128.1, 128.1]]
    """
    d = check_array(distances_m, "distances_m", ndim=(1, 2), positive=True)
    n_ant = check_int(num_antennas, "num_antennas", min_value=1)
    fading = check_choice(fading, "fading", FADING_MODELS)
    pathloss = check_choice(pathloss, "pathloss", PATHLOSS_MODELS)
    sigma = check_scalar(shadowing_sigma_db, "shadowing_sigma_db", nonneg=True)
    if fading == "rician":
        if k_factor_db is None:
            raise missing_input("k_factor_db", "a K-factor in dB with fading='rician'")
        k_db = check_scalar(k_factor_db, "k_factor_db", low=-300.0, high=300.0)
    elif k_factor_db is not None:
        raise invalid_input(
            "k_factor_db", k_factor_db, f"None: only used with fading='rician', not {fading!r}"
        )
    if batch is not None:
        n_batch = check_int(batch, "batch", min_value=1)
        if d.ndim == 2 and d.shape[0] != n_batch:
            raise invalid_inputs(
                f"batch={batch!r}, distances_m (shape {d.shape})",
                "batch equal to the first length of a 2-D distances_m, or None",
            )
    pl_db = pathloss_db(d, pathloss, **params)
    gen = check_rng(rng)
    if d.ndim == 1 and batch is not None:
        lead: tuple[int, ...] = (n_batch, d.shape[0])
        pl_db = np.broadcast_to(pl_db, lead)
    else:
        lead = d.shape
    gain_db = -pl_db
    if sigma > 0.0:
        gain_db = gain_db + lognormal_shadowing_db(lead, sigma, gen)
    amplitude = np.sqrt(db_to_lin(gain_db))
    shape = (*lead, n_ant)
    if fading == "rayleigh":
        small = rayleigh(shape, gen)
    elif fading == "rician":
        small = rician(shape, k_db, gen)
    else:
        small = np.ones(shape, dtype=np.complex128)
    return amplitude[..., None] * small
