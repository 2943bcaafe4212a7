"""Small, self-contained point functions to try sweeps on (and to test the executors).

They are ordinary module-level functions, so every executor (process pools and Dask workers
included) can import them by name.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edgeopt._validation import check_int, check_rng, check_scalar
from edgeopt.units import db_to_lin

__all__ = ["rayleigh_outage"]


def rayleigh_outage(params: dict[str, Any], rng: Any) -> dict[str, float]:
    """Monte Carlo outage probability of a Rayleigh-faded link, with its closed form.

    With unit-mean power gain :math:`g = |h|^2 \\sim \\mathrm{Exp}(1)` and mean SNR
    :math:`\\bar\\gamma`, the link is in outage when
    :math:`\\log_2(1 + \\bar\\gamma g) < R`, so
    :math:`P_\\mathrm{out} = 1 - \\exp\\!\\big(-(2^R - 1)/\\bar\\gamma\\big)`
    (Goldsmith, *Wireless Communications*, 2005, eq. (4.3) and Sec. 4.2.1).

    Parameters
    ----------
    params : dict
        ``snr_db`` (float, mean SNR in dB), ``rate_bps_hz`` (float > 0, target spectral
        efficiency, bit/s/Hz) and optionally ``num_samples`` (int >= 1, default 10000).
    rng : numpy.random.Generator, int or None
        Random source (normalized by :func:`edgeopt._validation.check_rng`).

    Returns
    -------
    dict
        ``outage`` (Monte Carlo estimate), ``outage_exact`` (closed form) and
        ``std_error`` (standard error of the estimate, from the exact probability).

    Raises
    ------
    InvalidInputError
        For a missing or invalid parameter.

    References
    ----------
    A. Goldsmith, *Wireless Communications*, Cambridge University Press, 2005, eq. (4.3).

    Examples
    --------
    >>> from edgeopt.sweep.demo import rayleigh_outage
    >>> out = rayleigh_outage({"snr_db": 10.0, "rate_bps_hz": 1.0}, rng=1)
    >>> round(out["outage_exact"], 4)
    0.0952
    >>> abs(out["outage"] - out["outage_exact"]) < 5 * out["std_error"]
    True
    """
    gen = check_rng(rng)
    snr_db = check_scalar(params.get("snr_db"), "params['snr_db']")
    rate = check_scalar(params.get("rate_bps_hz"), "params['rate_bps_hz']", positive=True)
    n = check_int(params.get("num_samples", 10_000), "params['num_samples']")
    snr = float(db_to_lin(snr_db))
    threshold = (2.0**rate - 1.0) / snr
    gain = gen.exponential(1.0, size=n)
    p_exact = -math.expm1(-threshold)
    return {
        "outage": float(np.mean(gain < threshold)),
        "outage_exact": p_exact,
        "std_error": math.sqrt(p_exact * (1.0 - p_exact) / n),
    }
