"""Unit conversions: dB, dBm, watts, and thermal noise power.

All functions are vectorized: they take a scalar or an array of any shape and return a
float64 array of the same shape (a 0-d array for scalar input, which behaves like a float).
NaN or inf input raises :class:`~edgeopt.errors.InvalidInputError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import check_array, check_result_finite, check_scalar

__all__ = [
    "BOLTZMANN_J_PER_K",
    "REFERENCE_TEMPERATURE_K",
    "db_to_lin",
    "lin_to_db",
    "dbm_to_w",
    "w_to_dbm",
    "thermal_noise_w",
]

#: Boltzmann constant k (J/K), exact since the 2019 SI redefinition.
BOLTZMANN_J_PER_K = 1.380649e-23
#: Reference temperature T0 = 290 K of the noise-figure definition (IEEE Std 161).
REFERENCE_TEMPERATURE_K = 290.0


def _from_db(x: Any, offset_db: float, limit: str) -> NDArray[np.float64]:
    """10^((x − offset)/10) of a checked ``x``, refusing a result that overflows."""
    arr = check_array(x, "x")
    with np.errstate(over="ignore"):
        out = np.power(10.0, (arr - offset_db) / 10.0)
    check_result_finite(out, "x", limit)
    return out


def _to_db(x: Any, offset_db: float) -> NDArray[np.float64]:
    """10·log10(x) + offset of a checked, positive ``x``."""
    return 10.0 * np.log10(check_array(x, "x", positive=True)) + offset_db


def db_to_lin(x: Any) -> NDArray[np.float64]:
    """Convert decibels to a linear power ratio, 10^(x/10).

    Parameters
    ----------
    x : array_like, any shape
        Power ratio in dB.

    Returns
    -------
    numpy.ndarray of float64, same shape as ``x``

    Raises
    ------
    InvalidInputError
        NaN or inf entries, non-numeric input, or values so large that 10^(x/10)
        overflows float64.

    References
    ----------
    Definition of the decibel, IEC 60027-3 (L = 10·log10(P1/P0) dB for power ratios).

    Examples
    --------
    >>> from edgeopt.units import db_to_lin
    >>> float(db_to_lin(30.0))
    1000.0
    """
    return _from_db(x, 0.0, "dB values below about 3083 dB")


def lin_to_db(x: Any) -> NDArray[np.float64]:
    """Convert a linear power ratio (> 0) to decibels, 10·log10(x).

    Parameters
    ----------
    x : array_like, any shape
        Linear power ratio; every entry must be > 0.

    Returns
    -------
    numpy.ndarray of float64, same shape as ``x``

    Raises
    ------
    InvalidInputError
        If an entry is <= 0, NaN or inf.

    References
    ----------
    Definition of the decibel, IEC 60027-3.

    Examples
    --------
    >>> from edgeopt.units import lin_to_db
    >>> float(lin_to_db(100.0))
    20.0
    """
    return _to_db(x, 0.0)


def dbm_to_w(x: Any) -> NDArray[np.float64]:
    """Convert a power in dBm to watts, 10^((x − 30)/10).

    Parameters
    ----------
    x : array_like, any shape
        Power in dBm.

    Returns
    -------
    numpy.ndarray of float64, watts

    Raises
    ------
    InvalidInputError
        NaN or inf entries, non-numeric input, or values whose power overflows float64.

    References
    ----------
    IEC 60027-3: dBm is the power level relative to 1 mW.

    Examples
    --------
    >>> from edgeopt.units import dbm_to_w
    >>> float(dbm_to_w(30.0))
    1.0
    """
    return _from_db(x, 30.0, "dBm values below about 3113 dBm")


def w_to_dbm(x: Any) -> NDArray[np.float64]:
    """Convert a power in watts (> 0) to dBm, 10·log10(x) + 30.

    Parameters
    ----------
    x : array_like, any shape
        Power in watts; every entry must be > 0.

    Returns
    -------
    numpy.ndarray of float64, dBm

    Raises
    ------
    InvalidInputError
        Entries <= 0, NaN or inf, or non-numeric input.

    References
    ----------
    IEC 60027-3: dBm is the power level relative to 1 mW.

    Examples
    --------
    >>> from edgeopt.units import w_to_dbm
    >>> float(w_to_dbm(0.001))
    0.0
    """
    return _to_db(x, 30.0)


def thermal_noise_w(bandwidth_hz: Any, noise_figure_db: float = 0.0) -> NDArray[np.float64]:
    """Thermal noise power k·T0·B·10^(NF/10) in watts, T0 = 290 K.

    At NF = 0 dB this is the familiar −174 dBm/Hz density (−173.975 dBm/Hz exactly).

    Parameters
    ----------
    bandwidth_hz : array_like, any shape
        Noise bandwidth B in Hz, every entry >= 0.
    noise_figure_db : float
        Receiver noise figure NF in dB (default 0), between −300 and 300.

    Returns
    -------
    numpy.ndarray of float64, watts, same shape as ``bandwidth_hz``

    Raises
    ------
    InvalidInputError
        Negative, NaN or inf bandwidth; a noise figure that is not a finite number in
        [−300, 300] dB; a product that overflows float64.

    References
    ----------
    H. T. Friis, "Noise figures of radio receivers," Proc. IRE, 1944 (N = k·T0·B·F).

    Examples
    --------
    >>> from edgeopt.units import thermal_noise_w, w_to_dbm
    >>> round(float(w_to_dbm(thermal_noise_w(1.0))), 2)
    -173.98
    >>> round(float(w_to_dbm(thermal_noise_w(10e6, noise_figure_db=9.0))), 1)
    -95.0
    """
    bw = check_array(bandwidth_hz, "bandwidth_hz", nonneg=True)
    nf = check_scalar(noise_figure_db, "noise_figure_db", low=-300.0, high=300.0)
    with np.errstate(over="ignore"):
        out = BOLTZMANN_J_PER_K * REFERENCE_TEMPERATURE_K * bw * 10.0 ** (nf / 10.0)
    check_result_finite(out, "bandwidth_hz, noise_figure_db", "a smaller bandwidth")
    return out
