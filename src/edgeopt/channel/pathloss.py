"""Large-scale path loss models (distances in metres, losses in dB).

Three models, picked by name in :func:`pathloss_db`:

``"3gpp-macro"``
    PL = 128.1 + 37.6·log10(d / 1 km), the macro-cell urban model of 3GPP TR 36.814
    (Table A.2.1.1.2-3, 2 GHz carrier), for distances d >= 35 m.  No parameters.
``"free-space"``
    PL = 20·log10(4π·d·f_c / c), Friis' free-space loss, in the far field.  Needs
    ``carrier_hz``; ``antenna_size_m`` (default 0) sets the far-field distance.
``"log-distance"``
    PL = PL0 + 10·n·log10(d / d0), for d >= d0.  Needs ``pl0_db`` and ``exponent``;
    ``d0_m`` defaults to 1 m.

A distance below a model's range gives a :class:`~edgeopt.errors.ModelRangeWarning`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_choice,
    check_options,
    check_scalar,
    warn_model_range,
)

__all__ = [
    "PATHLOSS_MODELS",
    "SPEED_OF_LIGHT_M_PER_S",
    "MACRO_MIN_DISTANCE_M",
    "far_field_distance_m",
    "pathloss_db",
]

#: Speed of light in vacuum c (m/s), exact by definition of the metre.
SPEED_OF_LIGHT_M_PER_S = 299_792_458.0

#: Smallest device–base-station distance of the 3GPP TR 36.814 macro-cell model (m).
MACRO_MIN_DISTANCE_M = 35.0

#: Model names accepted by :func:`pathloss_db`, with their required and optional parameters.
PATHLOSS_MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "3gpp-macro": ((), ()),
    "free-space": (("carrier_hz",), ("antenna_size_m",)),
    "log-distance": (("pl0_db", "exponent"), ("d0_m",)),
}


def far_field_distance_m(carrier_hz: Any, antenna_size_m: Any = 0.0) -> float:
    """Smallest distance at which edgeopt applies Friis' free-space formula without warning.

    d_min = max(2·D²/λ, λ) with λ = c / f_c: the Fraunhofer distance 2·D²/λ of an antenna
    whose largest dimension is D, and at least one wavelength.  Friis' formula holds in
    the far field of both antennas, which starts at the Fraunhofer distance and lies many
    wavelengths and antenna sizes away; one wavelength is the loosest bound that still
    rules out the absurd (the formula's loss falls to 0 dB at d = λ/(4π), a gain above 1
    below).  The maximum is also >= D, since 2·D²/λ >= D whenever D >= λ/2.

    Parameters
    ----------
    carrier_hz : float
        Carrier frequency f_c in Hz (> 0).
    antenna_size_m : float
        Largest dimension D of the larger of the two antennas, metres (>= 0; 0 when
        unknown, which leaves d_min = λ).

    Returns
    -------
    float
        The distance in metres.

    Raises
    ------
    InvalidInputError
        A carrier <= 0, a negative antenna size, NaN or inf.

    References
    ----------
    T. S. Rappaport, *Wireless Communications: Principles and Practice*, 2nd ed., 2002,
    Eq. (4.7)–(4.8) (Fraunhofer distance d_f = 2D²/λ, with d_f >> D and d_f >> λ).

    Examples
    --------
    >>> from edgeopt.channel import far_field_distance_m
    >>> round(far_field_distance_m(2.4e9), 4)           # one wavelength: 12.5 cm
    0.1249
    >>> round(far_field_distance_m(2.4e9, 1.0), 1)      # a 1 m antenna: 2·D²/λ
    16.0
    """
    fc = check_scalar(carrier_hz, "carrier_hz", positive=True)
    size = check_scalar(antenna_size_m, "antenna_size_m", nonneg=True)
    wavelength = SPEED_OF_LIGHT_M_PER_S / fc
    return max(2.0 * size * size / wavelength, wavelength)


def _warn_below(d: NDArray[np.float64], minimum: float, model: str, rule: str) -> None:
    if d.size and float(d.min()) < minimum:
        warn_model_range(
            "distance_m",
            float(d.min()),
            f"path loss model {model!r}",
            f"distances >= {minimum:.4g} m ({rule}); distances are in metres",
            stacklevel=3,
        )


def pathloss_db(distance_m: Any, model: str = "3gpp-macro", **params: Any) -> NDArray[np.float64]:
    """Path loss in dB at the given distances.

    Parameters
    ----------
    distance_m : array_like of float, any shape
        Transmitter–receiver distances in **metres**, every entry > 0.  The formulas are
        applied as written at every distance, but a distance below the range the model's
        source states gives a :class:`~edgeopt.errors.ModelRangeWarning` (often a unit
        mistake, e.g. kilometres given as metres):

        * ``"3gpp-macro"``: d >= 35 m, the minimum distance between a device and the base
          station in TR 36.814's macro-cell scenario (Sec. A.2.1.1), the shortest
          distance the model is specified for;
        * ``"free-space"``: the far field, d >= max(2·D²/λ, λ) with λ = c/f_c and D =
          ``antenna_size_m`` (:func:`far_field_distance_m`);
        * ``"log-distance"``: d >= ``d0_m``, the reference distance the model is anchored
          at (Rappaport, Sec. 4.9: d0 is in the far field and the model is for d >= d0).
    model : {"3gpp-macro", "free-space", "log-distance"}
        The model (see the module description).
    **params
        Model parameters: ``carrier_hz`` (> 0) and optionally ``antenna_size_m`` (largest
        antenna dimension, >= 0, default 0) for ``"free-space"``; ``pl0_db`` (path loss
        at the reference distance, dB), ``exponent`` (path loss exponent n >= 0) and
        optionally ``d0_m`` (reference distance, > 0, default 1 m) for ``"log-distance"``.
        Any other keyword is an error.

    Returns
    -------
    numpy.ndarray of float64, same shape as ``distance_m``
        Path loss in dB (positive numbers mean attenuation).

    Raises
    ------
    InvalidInputError
        Non-positive, NaN or inf distance; unknown model; a missing, unknown or invalid
        model parameter.

    Warns
    -----
    ModelRangeWarning
        When any distance is below the model's range (see ``distance_m``).

    References
    ----------
    3GPP TR 36.814 V9.0.0, "Further advancements for E-UTRA physical layer aspects,"
    Table A.2.1.1.2-3 (macro cell, PL = 128.1 + 37.6·log10(R), R in km) and Sec. A.2.1.1
    (minimum distance between device and cell: 35 m for the macro cell).

    H. T. Friis, "A note on a simple transmission formula," Proc. IRE 34(5), 1946
    (free-space loss (4π d / λ)²).

    T. S. Rappaport, *Wireless Communications: Principles and Practice*, 2nd ed., 2002,
    Eq. (4.69) (log-distance model).

    Examples
    --------
    >>> from edgeopt.channel import pathloss_db
    >>> round(float(pathloss_db(1000.0)), 1)
    128.1
    >>> round(float(pathloss_db(100.0, "free-space", carrier_hz=2.4e9)), 2)
    80.05
    >>> pathloss_db([10.0, 100.0], "log-distance", pl0_db=40.0, exponent=3.0).round(1).tolist()
    [70.0, 100.0]

    Distances are in metres: 0.1 (100 m meant, given in km) is far below the macro model's
    35 m, and its "loss" of −22 dB would be a gain; a warning says so.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     loss_db = pathloss_db(0.1)
    >>> round(float(loss_db), 1), caught[0].category.__name__
    (-22.3, 'ModelRangeWarning')
    """
    d = check_array(distance_m, "distance_m", positive=True)
    model = check_choice(model, "model", PATHLOSS_MODELS)
    required, optional = PATHLOSS_MODELS[model]
    check_options(params, f"path loss model {model!r}", required=required, optional=optional)
    if model == "3gpp-macro":
        _warn_below(d, MACRO_MIN_DISTANCE_M, model, "3GPP TR 36.814's minimum distance")
        return 128.1 + 37.6 * np.log10(d / 1000.0)
    if model == "free-space":
        fc = check_scalar(params["carrier_hz"], "carrier_hz", positive=True)
        d_far = far_field_distance_m(fc, params.get("antenna_size_m", 0.0))
        _warn_below(d, d_far, model, "the far field, max(2·D²/λ, λ)")
        return 20.0 * np.log10(4.0 * np.pi * d * fc / SPEED_OF_LIGHT_M_PER_S)
    pl0 = check_scalar(params["pl0_db"], "pl0_db")
    n = check_scalar(params["exponent"], "exponent", nonneg=True)
    d0 = check_scalar(params.get("d0_m", 1.0), "d0_m", positive=True)
    _warn_below(d, d0, model, "the reference distance d0_m")
    return pl0 + 10.0 * n * np.log10(d / d0)
