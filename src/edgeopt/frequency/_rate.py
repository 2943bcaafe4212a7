"""The uplink rate ``r(b) = b log2(1 + a/b)`` of a device given bandwidth ``b``, and its inverse.

``a = p g / N0`` (hertz) is the bandwidth at which the SNR is 1.  The rate is concave and
increasing in ``b`` with supremum ``a / ln 2`` (infinite bandwidth).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import lambertw

LN2 = float(np.log(2.0))


def rate_bps(b: NDArray[np.float64], a: NDArray[np.float64]) -> NDArray[np.float64]:
    """``b log2(1 + a/b)``, 0 at ``b = 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = b * np.log1p(a / b) / LN2
    out: NDArray[np.float64] = np.where(b > 0, r, 0.0)
    return out


def rate_slope(b: NDArray[np.float64], a: NDArray[np.float64]) -> NDArray[np.float64]:
    """``d r / d b = (log(1 + a/b) − a/(a + b)) / ln 2`` (> 0)."""
    out: NDArray[np.float64] = (np.log1p(a / b) - a / (a + b)) / LN2
    return out


def bandwidth_for_rate(rate: NDArray[np.float64], a: NDArray[np.float64]) -> NDArray[np.float64]:
    """The bandwidth ``b`` with ``b log2(1 + a/b) = rate``; ``inf`` where ``rate >= a / ln 2``.

    With ``x = a/b`` the equation is ``log(1 + x)/x = c``, ``c = rate ln2 / a`` in (0, 1),
    whose root is ``1 + x = −W₋₁(−c e^{−c}) / c`` (the lower branch of Lambert's W).
    """
    c = rate * LN2 / a
    ok = (c > 0) & (c < 1)
    cc = np.where(ok, c, 0.5)
    w = lambertw(-cc * np.exp(-cc), -1).real
    x = (-w - cc) / cc
    with np.errstate(divide="ignore"):
        b = np.where(ok, a / x, np.where(c <= 0, 0.0, np.inf))
    out: NDArray[np.float64] = b
    return out


def polish(
    b: NDArray[np.float64], rate: NDArray[np.float64], a: NDArray[np.float64], steps: int = 2
) -> NDArray[np.float64]:
    """Newton steps on ``r(b) = rate`` from ``b`` (finite, positive entries only)."""
    fin = np.isfinite(b) & (b > 0)
    bb = np.where(fin, b, 1.0)
    for _ in range(steps):
        f = bb * np.log1p(a / bb) - rate * LN2
        fp = np.log1p(a / bb) - a / (a + bb)
        bb = np.maximum(bb - f / fp, 0.5 * bb)
    out: NDArray[np.float64] = np.where(fin, bb, b)
    return out
