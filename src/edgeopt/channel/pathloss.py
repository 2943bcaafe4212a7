"""Large-scale path loss models (distances in metres, losses in dB).

Three models, picked by name in :func:`pathloss_db`:

``"3gpp-macro"``
    PL = 128.1 + 37.6·log10(d / 1 km), the macro-cell urban model of 3GPP TR 36.814
    (Table A.2.1.1.2-3, 2 GHz carrier).  No parameters.
``"free-space"``
    PL = 20·log10(4π·d·f_c / c), Friis' free-space loss.  Needs ``carrier_hz``.
``"log-distance"``
    PL = PL0 + 10·n·log10(d / d0).  Needs ``pl0_db`` and ``exponent``; ``d0_m`` defaults
    to 1 m.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import check_array, check_choice, check_scalar
from edgeopt.errors import InvalidInputError

__all__ = ["PATHLOSS_MODELS", "SPEED_OF_LIGHT_M_PER_S", "pathloss_db"]

#: Speed of light in vacuum c (m/s), exact by definition of the metre.
SPEED_OF_LIGHT_M_PER_S = 299_792_458.0

#: Model names accepted by :func:`pathloss_db`, with their required and optional parameters.
PATHLOSS_MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "3gpp-macro": ((), ()),
    "free-space": (("carrier_hz",), ()),
    "log-distance": (("pl0_db", "exponent"), ("d0_m",)),
}


def _check_params(model: str, params: dict[str, Any]) -> None:
    required, optional = PATHLOSS_MODELS[model]
    for key in params:
        if key not in required and key not in optional:
            allowed = ", ".join(required + optional) or "none"
            raise InvalidInputError(
                f"{key}={params[key]!r} is invalid: not a parameter of path loss model "
                f"{model!r} (its parameters: {allowed})"
            )
    for key in required:
        if key not in params:
            raise InvalidInputError(
                f"{key} is missing: path loss model {model!r} needs {', '.join(required)}"
            )


def pathloss_db(distance_m: Any, model: str = "3gpp-macro", **params: Any) -> NDArray[np.float64]:
    """Path loss in dB at the given distances.

    Parameters
    ----------
    distance_m : array_like of float, any shape
        Transmitter–receiver distances in metres, every entry > 0.  The formulas are
        applied as written at every distance; they are meant for the far field (the 3GPP
        model for roughly 35 m and more, free space for d much larger than the wavelength).
    model : {"3gpp-macro", "free-space", "log-distance"}
        The model (see the module description).
    **params
        Model parameters: ``carrier_hz`` (> 0) for ``"free-space"``; ``pl0_db`` (path
        loss at the reference distance, dB), ``exponent`` (path loss exponent n >= 0) and
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

    References
    ----------
    3GPP TR 36.814 V9.0.0, "Further advancements for E-UTRA physical layer aspects,"
    Table A.2.1.1.2-3 (macro cell, PL = 128.1 + 37.6·log10(R), R in km).

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
    """
    d = check_array(distance_m, "distance_m", positive=True)
    model = check_choice(model, "model", PATHLOSS_MODELS)
    _check_params(model, params)
    if model == "3gpp-macro":
        return 128.1 + 37.6 * np.log10(d / 1000.0)
    if model == "free-space":
        fc = check_scalar(params["carrier_hz"], "carrier_hz", positive=True)
        return 20.0 * np.log10(4.0 * np.pi * d * fc / SPEED_OF_LIGHT_M_PER_S)
    pl0 = check_scalar(params["pl0_db"], "pl0_db")
    n = check_scalar(params["exponent"], "exponent", nonneg=True)
    d0 = check_scalar(params.get("d0_m", 1.0), "d0_m", positive=True)
    return pl0 + 10.0 * n * np.log10(d / d0)
