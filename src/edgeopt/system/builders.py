"""Builders of a :class:`~edgeopt.system.model.System`: the normalized cell and a random drop."""

from __future__ import annotations

from typing import Any

import numpy as np
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
from edgeopt.system.model import (
    DEFAULT_CPU_FREQ_HZ,
    DEFAULT_KAPPA,
    DEFAULT_MIN_RADIUS_M,
    DEFAULT_RADIUS_M,
    DEFAULT_TX_POWER_W,
    BaseStation,
    Devices,
    System,
    _is_array,
)

__all__ = ["normalized_system", "drop_devices"]

#: Device parameters the builders take, in the order their ranges are drawn.
DEVICE_PARAMS = ("tx_power_w", "cpu_freq_hz", "kappa", "cycles_per_sample", "num_samples")
_DEFAULTS: dict[str, Any] = {
    "tx_power_w": DEFAULT_TX_POWER_W,
    "cpu_freq_hz": DEFAULT_CPU_FREQ_HZ,
    "kappa": DEFAULT_KAPPA,
    "cycles_per_sample": None,
    "num_samples": None,
}


def _device_params(
    params: dict[str, Any], allowed: tuple[str, ...], defaults: dict[str, Any]
) -> dict[str, Any]:
    for key, value in params.items():
        if key not in allowed:
            raise invalid_input(key, value, "a device parameter among " + ", ".join(allowed))
    return {name: params.get(name, defaults[name]) for name in allowed}


def _draw_range(
    name: str, value: tuple[Any, ...], k: int, gen: np.random.Generator
) -> NDArray[Any]:
    """Draw K values from the range ``value = (low, high)`` (see :func:`drop_devices`)."""
    if len(value) != 2:
        raise invalid_input(name, value, "a 2-tuple (low, high) for a range")
    if name == "num_samples":
        low_i = check_int(value[0], f"{name}[0]", min_value=0)
        high_i = check_int(value[1], f"{name}[1]", min_value=0)
        if low_i > high_i:
            raise invalid_inputs(f"{name}=({low_i}, {high_i})", "low <= high")
        return gen.integers(low_i, high_i, size=k, endpoint=True)
    low = check_scalar(value[0], f"{name}[0]", positive=True)
    high = check_scalar(value[1], f"{name}[1]", positive=True)
    if low > high:
        raise invalid_inputs(f"{name}=({low!r}, {high!r})", "low <= high")
    if name == "cpu_freq_hz":
        return np.exp(gen.uniform(np.log(low), np.log(high), size=k))
    return gen.uniform(low, high, size=k)


def _resolve(name: str, value: Any, k: int, gen: np.random.Generator | None) -> Any:
    """A device parameter as a length-K array (or None), drawing a range from ``gen``."""
    if value is None:
        return None
    if isinstance(value, tuple):
        if gen is None:
            raise invalid_input(
                name,
                value,
                "a number or a length-K array (a range (low, high) needs "
                "drop_devices(..., rng=...))",
            )
        return _draw_range(name, value, k, gen)
    shape = (k,) if _is_array(value) else ()
    if name == "num_samples":
        arr: NDArray[Any] = check_int_array(value, name, shape=shape, min_value=0)
    else:
        arr = check_array(value, name, shape=shape, positive=True)
    return np.full(k, arr, dtype=arr.dtype) if arr.ndim == 0 else arr


def normalized_system(
    num_devices: Any,
    *,
    num_antennas: Any = 1,
    power_w: Any = 1.0,
    noise_w: Any = 1.0,
    bandwidth_hz: Any = 1e6,
    **device_params: Any,
) -> System:
    """The normalized setting of many papers: unit-gain CN(0, I) channels, a given noise.

    The base station is :meth:`BaseStation.normalized` (no path loss, no shadowing,
    Rayleigh fading h_i ~ CN(0, I_N), receiver noise power σ² = ``noise_w`` over
    ``bandwidth_hz``); the devices have no distances.

    Parameters
    ----------
    num_devices : int
        K >= 1.
    num_antennas : int
        Receive antennas N >= 1.
    power_w : float or array_like, shape (K,)
        Transmit power of every device (a scalar: equal powers), W, > 0.
    noise_w : float
        Receiver noise power over the band, W, > 0.
    bandwidth_hz : float
        Band B in Hz, > 0.
    **device_params
        ``cpu_freq_hz`` (default 1 GHz), ``kappa`` (default 1e-28), ``cycles_per_sample``
        and ``num_samples`` (default None): each a scalar or a length-K array.

    Returns
    -------
    System

    Raises
    ------
    InvalidInputError
        Naming the argument: a bad count, a non-positive or non-finite value, an array of
        the wrong length, an unknown device parameter, or a range ``(low, high)`` (ranges
        are drawn by :func:`drop_devices`).

    Examples
    --------
    >>> from edgeopt.system import normalized_system
    >>> system = normalized_system(3, num_antennas=2, power_w=[1.0, 2.0, 4.0], noise_w=0.5)
    >>> system.mean_snr().tolist()
    [2.0, 4.0, 8.0]
    >>> system.channels(0).shape
    (3, 2)
    """
    k = check_int(num_devices, "num_devices", min_value=1)
    bs = BaseStation.normalized(
        noise_w=noise_w, num_antennas=num_antennas, bandwidth_hz=bandwidth_hz
    )
    allowed = DEVICE_PARAMS[1:]
    values = _device_params(device_params, allowed, _DEFAULTS)
    arrays = {name: _resolve(name, values[name], k, None) for name in allowed}
    tx = _resolve("power_w", power_w, k, None)
    return System(bs, Devices(tx_power_w=tx, **arrays))


def drop_devices(
    num_devices: Any,
    *,
    radius_m: Any = DEFAULT_RADIUS_M,
    min_radius_m: Any = DEFAULT_MIN_RADIUS_M,
    rng: Any,
    base_station: BaseStation | None = None,
    **device_params: Any,
) -> System:
    """Drop K devices uniformly over the annulus min_radius_m <= d <= radius_m of a cell.

    The drop is uniform over the area: d_i = √U_i with U_i ~ U(r_min², r_max²) (the
    distance's density 2d/(r_max² − r_min²)).  Each device parameter is

    * a scalar: every device gets it;
    * a NumPy array (or list) of length K: one value per device;
    * a 2-tuple ``(low, high)``: **always a range**, even when K = 2 (give an array for two
      explicit values), drawn independently per device: uniform on [low, high], except
      ``cpu_freq_hz``, drawn log-uniform (log f ~ U(log low, log high), so each decade
      holds as many devices), and ``num_samples``, drawn uniform on the integers
      low, ..., high.

    Everything is drawn from the one ``rng``, in this order: the K distances, then the
    ranges among ``tx_power_w``, ``cpu_freq_hz``, ``kappa``, ``cycles_per_sample``,
    ``num_samples`` (K draws each).  The same seed gives the same system.

    Parameters
    ----------
    num_devices : int
        K >= 1.
    radius_m : float
        Cell radius r_max in metres (default ISD/√3 ≈ 288.7 m, the hexagonal cell of the
        3GPP TR 36.814 macro case at inter-site distance 500 m, Annex A.2.1.1).
    min_radius_m : float
        Minimum distance r_min in metres, 0 < r_min < r_max (default 35 m, TR 36.814,
        Annex A.2.1.1).
    rng : numpy.random.Generator, int or None
        Random source (keyword, required).
    base_station : BaseStation, optional
        The base station (default :class:`BaseStation()`, the TR 36.814 macro cell); it
        must have a path loss model (for unit-gain channels use
        :func:`normalized_system`).
    **device_params
        ``tx_power_w`` (default 23 dBm ≈ 0.1995 W, TR 36.814, Annex A.2.1.1),
        ``cpu_freq_hz`` (default 1 GHz), ``kappa`` (default 1e-28), ``cycles_per_sample``
        and ``num_samples`` (default None: the training loop fills them in).

    Returns
    -------
    System

    Raises
    ------
    InvalidInputError
        Naming the argument: a bad count or rng, radii that are not finite and positive or
        ``min_radius_m >= radius_m``, a normalized base station, an unknown device
        parameter, an array of the wrong length, a non-positive value, or a range that is
        not ``(low, high)`` with 0 < low <= high.

    References
    ----------
    3GPP TR 36.814 V9.0.0, Annex A.2.1.1 (macro cell: inter-site distance 500 m, minimum
    distance 35 m, UE power 23 dBm, devices dropped uniformly in the cell).

    Examples
    --------
    >>> from edgeopt.system import drop_devices
    >>> system = drop_devices(50, rng=0, cpu_freq_hz=(1e8, 1e9), num_samples=(100, 500))
    >>> system.num_devices
    50
    >>> bool(system.devices.distance_m.min() >= 35.0)
    True
    >>> system.devices.num_samples[:3].tolist()
    [192, 292, 231]
    """
    k = check_int(num_devices, "num_devices", min_value=1)
    r_max = check_scalar(radius_m, "radius_m", positive=True)
    r_min = check_scalar(min_radius_m, "min_radius_m", positive=True)
    if r_min >= r_max:
        raise invalid_inputs(
            f"min_radius_m={r_min!r}, radius_m={r_max!r}", "min_radius_m < radius_m"
        )
    if base_station is None:
        base_station = BaseStation()
    elif not isinstance(base_station, BaseStation):
        raise invalid_input("base_station", base_station, "a BaseStation or None")
    if base_station.pathloss is None:
        raise invalid_input(
            "base_station",
            base_station,
            "a base station with a path loss model (normalized_system gives unit-gain channels)",
        )
    values = _device_params(device_params, DEVICE_PARAMS, _DEFAULTS)
    gen = check_rng(rng)
    distance = np.sqrt(gen.uniform(r_min * r_min, r_max * r_max, size=k))
    # Rounding of the square root could leave the annulus by one ulp; keep it closed.
    distance = np.clip(distance, r_min, r_max)
    arrays = {name: _resolve(name, values[name], k, gen) for name in DEVICE_PARAMS}
    return System(base_station, Devices(distance_m=distance, **arrays))
