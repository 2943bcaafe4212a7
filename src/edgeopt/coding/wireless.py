"""Wireless distributed computing through an access point: shuffle loads and job time.

K devices run a MapReduce job with Q = K reduce functions and computation load r, with the
placement of coded distributed computing (:func:`edgeopt.coding.cdc_scheme`: the files in
C(K, r) batches, batch B_T stored at the r devices of T).  The devices cannot hear each
other: every shuffle message goes up to an access point (AP), which broadcasts down, and
every downlink broadcast is heard by all devices.  Two relayings:

* **uncoded**: every missing intermediate value goes up once and is forwarded down once,
  uplink = downlink = 1 − r/K;
* **coded**: the devices send up the coded multicast packets of the CDC plan, uplink
  (1/r)(1 − r/K); for each (r + 1)-group the AP holds r + 1 packets, each device of the
  group knows its own and needs the other r, so the AP broadcasts the r XORs of consecutive
  packets, downlink (1/(r + 1))(1 − r/K).

Loads are bits over Q·N·(bits per intermediate value), as :func:`edgeopt.coding.cdc_load`.
The job time adds the map phase (r times the map time at load 1), the shuffle (the devices
transmit up one at a time, then the AP broadcasts at the rate of the weakest receiver) and
the reduce phase; :func:`optimal_computation_load` finds the r that minimizes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_choice,
    check_complex_array,
    check_int,
    check_scalar,
    invalid_input,
    invalid_inputs,
)
from edgeopt.system import System
from edgeopt.units import dbm_to_w

__all__ = [
    "ACCESS_POINT_SCHEMES",
    "DEFAULT_AP_POWER_DBM",
    "DEFAULT_AP_POWER_W",
    "access_point_loads",
    "access_point_rates",
    "access_point_shuffle_time_s",
    "job_time_s",
    "optimal_computation_load",
]

#: Relayings of the access-point shuffle.
ACCESS_POINT_SCHEMES = ("coded", "uncoded")
#: Access-point (base-station) transmit power, dBm: 46 dBm total BS power for a 10 MHz
#: carrier, 3GPP TR 36.814 V9.0.0, Table A.2.1.1-2 (macro cell).
DEFAULT_AP_POWER_DBM = 46.0
#: :data:`DEFAULT_AP_POWER_DBM` in watts (≈ 39.8 W).
DEFAULT_AP_POWER_W = float(dbm_to_w(DEFAULT_AP_POWER_DBM))


def _check_loads(computation_load: Any, num_nodes: Any) -> tuple[int, int]:
    k = check_int(num_nodes, "num_nodes", min_value=1)
    r = check_int(computation_load, "computation_load", min_value=1)
    if r > k:
        raise invalid_input("computation_load", computation_load, f"an integer in 1..{k} (K)")
    return r, k


def access_point_loads(
    computation_load: Any, num_nodes: Any, *, scheme: Any = "coded"
) -> tuple[float, float]:
    """Normalized uplink and downlink loads of the shuffle through an access point.

    With Q = K reduce functions, N files in C(K, r) batches of g = N / C(K, r) files and T
    bits per intermediate value, for each of the C(K, r + 1) groups S of r + 1 devices:

    * coded: each device of S sends one packet, the XOR of r segments of T/r bits for
      each of g files: (r + 1)·g·T/r bits up per group, and the AP broadcasts r XORs of
      consecutive packets, r·g·T/r = g·T bits down per group.  With
      C(K, r + 1)/C(K, r) = (K − r)/(r + 1) and the normalization K·N·T,

      L_up(r) = (1/r)(1 − r/K),   L_down(r) = (1/(r + 1))(1 − r/K);

    * uncoded: the K − r devices outside each batch each need its g values of T bits,
      sent up once and forwarded down once: L_up(r) = L_down(r) = 1 − r/K.

    Parameters
    ----------
    computation_load : int
        r, the number of devices that map each file, 1 <= r <= K.
    num_nodes : int
        K >= 1 devices (and reduce functions).
    scheme : {"coded", "uncoded"}
        The relaying.

    Returns
    -------
    tuple of float
        ``(uplink, downlink)``: bits on each link over Q·N·(bits per value), each computed
        as one division of integers (so it equals a bit count over Q·N·T exactly when the
        rationals are equal).

    Raises
    ------
    InvalidInputError
        K or r not an integer, r < 1, r > K, an unknown scheme.

    References
    ----------
    S. Li, Q. Yu, M. A. Maddah-Ali, A. S. Avestimehr, "A scalable framework for wireless
    distributed computing", IEEE/ACM Trans. Netw. 25(5), 2017,
    doi:10.1109/TNET.2017.2702605 (the setting: a dataset placed repetitively so that both
    the devices and the access point code).  The loads above are derived for edgeopt's
    relaying of the CDC placement (docs: *Coded computing*, "Through an access point") and
    checked bit by bit by :func:`edgeopt.coding.simulate_cdc` with
    ``network="access-point"``.

    Examples
    --------
    >>> from edgeopt.coding import access_point_loads
    >>> access_point_loads(1, 4)
    (0.75, 0.375)
    >>> access_point_loads(2, 4)
    (0.25, 0.16666666666666666)
    >>> access_point_loads(2, 4, scheme="uncoded")
    (0.5, 0.5)
    """
    r, k = _check_loads(computation_load, num_nodes)
    name = check_choice(scheme, "scheme", ACCESS_POINT_SCHEMES)
    if name == "uncoded":
        return (k - r) / k, (k - r) / k
    return (k - r) / (r * k), (k - r) / ((r + 1) * k)


def access_point_rates(
    system: Any,
    channels: Any,
    *,
    ap_power_w: Any = DEFAULT_AP_POWER_W,
    bandwidth_hz: Any = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Uplink and downlink rates of each device for the shuffle through the access point.

    The base station of ``system`` is the access point.  Uplink: device k transmits alone
    on the whole band b (the devices take turns), r_k^up = b·log2(1 + p_k‖h_k‖²/(N0·b)),
    :meth:`edgeopt.system.System.rates_bps`.  Downlink: the access point sends a common
    message with power P/N from each of its N antennas (no beamforming: every device must
    hear it; with N = 1 it is the reciprocal of the uplink channel),
    r_k^down = b·log2(1 + P‖h_k‖²/(N·N0·b)), by the same method with the devices' powers
    replaced by P/N.  The system model has one receiver noise density N0 (the base
    station's); it is used for the devices' receivers too.

    Parameters
    ----------
    system : edgeopt.system.System
        K devices and the access point.
    channels : array_like of complex, shape (K, N)
        One realization of the channels h_k (e.g. ``system.channels(rng)``), used on both
        links (reciprocity).
    ap_power_w : float
        Access-point transmit power P in watts, > 0 (default 46 dBm ≈ 39.8 W, the 3GPP
        TR 36.814 macro base station, :data:`DEFAULT_AP_POWER_W`; the system model has no
        downlink power).
    bandwidth_hz : float, optional
        Band b of each link in Hz, > 0 (default: the base station's bandwidth).

    Returns
    -------
    tuple of numpy.ndarray of float64, each shape (K,)
        ``(uplink_rates_bps, downlink_rates_bps)`` in bit/s.

    Raises
    ------
    InvalidInputError
        Not a System, channels of the wrong shape, a non-positive power or band.

    References
    ----------
    C. E. Shannon, Bell Syst. Tech. J. 27, 1948 (C = W·log2(1 + P/N)); 3GPP TR 36.814
    V9.0.0, Table A.2.1.1-2 (46 dBm base-station power at 10 MHz).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.coding import access_point_rates
    >>> from edgeopt.system import normalized_system
    >>> cell = normalized_system(2, power_w=1.0, noise_w=1.0, bandwidth_hz=1e6)
    >>> h = np.array([[1.0], [0.5]], dtype=complex)   # |h|² = 1 and 0.25
    >>> up, down = access_point_rates(cell, h, ap_power_w=4.0)
    >>> up.round().tolist(), down.round().tolist()    # SNR 1, 0.25 up; 4, 1 down
    ([1000000.0, 321928.0], [2321928.0, 1000000.0])
    """
    if not isinstance(system, System):
        raise invalid_inputs(f"system={type(system).__name__}", "an edgeopt.system.System")
    h = check_complex_array(channels, "channels", ndim=2)
    power = check_scalar(ap_power_w, "ap_power_w", positive=True)
    band = (
        system.base_station.bandwidth_hz
        if bandwidth_hz is None
        else check_scalar(bandwidth_hz, "bandwidth_hz", positive=True)
    )
    up = system.rates_bps(h, band)
    per_antenna = power / system.num_antennas
    down = system.with_devices(tx_power_w=np.full(system.num_devices, per_antenna)).rates_bps(
        h, band
    )
    return up, down


def _check_rates(value: Any, name: str, k: int) -> NDArray[np.float64]:
    """Rates as a (K,) array of positive bit/s (a scalar: the same for every device)."""
    arr = check_array(value, name, ndim=(0, 1), positive=True, allow_empty=False)
    if arr.ndim == 1 and arr.shape[0] != k:
        raise invalid_input(name, value, f"a positive number or an array of shape ({k},)")
    return np.broadcast_to(arr, (k,))


def _check_times(value: Any, name: str, k: int, *, positive: bool) -> float:
    """The slowest device's time: a scalar or a (K,) array of seconds."""
    arr = check_array(
        value, name, ndim=(0, 1), positive=positive, nonneg=not positive, allow_empty=False
    )
    if arr.ndim == 1 and arr.shape[0] != k:
        kind = "positive" if positive else "non-negative"
        raise invalid_input(name, value, f"a {kind} number or an array of shape ({k},)")
    return float(np.max(arr))


def access_point_shuffle_time_s(
    computation_load: Any,
    num_nodes: Any,
    *,
    intermediate_bits: Any,
    uplink_rates_bps: Any,
    downlink_rates_bps: Any,
    scheme: Any = "coded",
) -> float:
    """Time of the shuffle through the access point, in seconds.

    With D = Q·N·T the bits of all intermediate values and (L_up, L_down) from
    :func:`access_point_loads`, every device sends an equal share L_up·D/K of the uplink
    bits (the scheme is symmetric in the devices), one device at a time, and the AP then
    broadcasts L_down·D bits at the rate the weakest device can decode:

        t_shuffle(r) = Σ_k (L_up(r)·D/K) / r_k^up + L_down(r)·D / min_k r_k^down.

    The uplink and downlink phases do not overlap (a half-duplex access point on one band).

    Parameters
    ----------
    computation_load : int
        r, 1 <= r <= K.
    num_nodes : int
        K >= 1.
    intermediate_bits : float
        D = Q·N·T, the bits of all intermediate values of the job (K reduce functions times
        N files times T bits per value), > 0.
    uplink_rates_bps : float or array_like of float, shape (K,)
        Each device's uplink rate when it transmits, bit/s, > 0 (a scalar: all equal).
    downlink_rates_bps : float or array_like of float, shape (K,)
        Each device's downlink rate from the access point, bit/s, > 0.
    scheme : {"coded", "uncoded"}

    Returns
    -------
    float
        Seconds (0 at r = K: nothing to shuffle).

    Raises
    ------
    InvalidInputError
        Bad K, r or scheme; non-positive bits or rates; rate arrays not of shape (K,).

    References
    ----------
    Li, Yu, Maddah-Ali, Avestimehr, IEEE/ACM Trans. Netw. 25(5), 2017,
    doi:10.1109/TNET.2017.2702605 (the uplink/downlink access-point model); loads from
    :func:`access_point_loads`.

    Examples
    --------
    >>> from edgeopt.coding import access_point_shuffle_time_s
    >>> # K = 4, r = 1: uplink 0.75 D in quarters at 1 and 2 Mbit/s, downlink 0.375 D
    >>> access_point_shuffle_time_s(1, 4, intermediate_bits=8e6,
    ...                             uplink_rates_bps=[1e6, 1e6, 2e6, 2e6],
    ...                             downlink_rates_bps=[3e6, 4e6, 5e6, 6e6])
    5.5
    """
    r, k = _check_loads(computation_load, num_nodes)
    up_load, down_load = access_point_loads(r, k, scheme=scheme)
    bits = check_scalar(intermediate_bits, "intermediate_bits", positive=True)
    up = _check_rates(uplink_rates_bps, "uplink_rates_bps", k)
    down = _check_rates(downlink_rates_bps, "downlink_rates_bps", k)
    share = up_load * bits / k
    return float(np.sum(share / up)) + down_load * bits / float(np.min(down))


def job_time_s(
    computation_load: Any,
    num_nodes: Any,
    *,
    map_time_s: Any,
    intermediate_bits: Any,
    uplink_rates_bps: Any,
    downlink_rates_bps: Any,
    reduce_time_s: Any = 0.0,
    scheme: Any = "coded",
) -> float:
    """Total time of the MapReduce job through the access point, T(r), seconds.

        T(r) = r·t_map + t_shuffle(r) + t_reduce,

    where t_map is the time of the map phase at load 1 (each device maps N/K files; at load
    r it maps r·N/K, and the devices map in parallel, so the slowest one sets the phase),
    t_shuffle(r) is :func:`access_point_shuffle_time_s` and t_reduce the reduce phase (the
    slowest device).

    Parameters
    ----------
    computation_load : int
        r, 1 <= r <= K.
    num_nodes : int
        K >= 1.
    map_time_s : float or array_like of float, shape (K,)
        Each device's map time at load 1 (for N/K files), seconds, > 0.
    intermediate_bits : float
        D = Q·N·T, > 0 (see :func:`access_point_shuffle_time_s`).
    uplink_rates_bps, downlink_rates_bps : float or array_like of float, shape (K,)
        bit/s, > 0 (e.g. from :func:`access_point_rates`).
    reduce_time_s : float or array_like of float, shape (K,)
        Each device's reduce time, seconds, >= 0 (default 0: it does not depend on r, so it
        shifts T(r) without moving r*).
    scheme : {"coded", "uncoded"}

    Returns
    -------
    float
        Seconds.

    Raises
    ------
    InvalidInputError
        Bad K, r or scheme; non-positive map time, bits or rates; a negative reduce time;
        arrays not of shape (K,).

    References
    ----------
    Li, Yu, Maddah-Ali, Avestimehr, IEEE/ACM Trans. Netw. 25(5), 2017,
    doi:10.1109/TNET.2017.2702605; S. Li, S. Supittayapornpong, M. A. Maddah-Ali,
    A. S. Avestimehr, "Coded TeraSort", IEEE IPDPSW 2017, doi:10.1109/IPDPSW.2017.33 (a job's
    time as the sum of its map, shuffle and reduce stages, the map stage growing with r).

    Examples
    --------
    >>> from edgeopt.coding import job_time_s
    >>> job_time_s(1, 4, map_time_s=1.0, intermediate_bits=8e6, uplink_rates_bps=1e6,
    ...            downlink_rates_bps=2e6, reduce_time_s=0.5)   # 1 + 6 + 1.5 + 0.5
    9.0
    """
    r, k = _check_loads(computation_load, num_nodes)
    t_map = _check_times(map_time_s, "map_time_s", k, positive=True)
    t_reduce = _check_times(reduce_time_s, "reduce_time_s", k, positive=False)
    shuffle = access_point_shuffle_time_s(
        r,
        k,
        intermediate_bits=intermediate_bits,
        uplink_rates_bps=uplink_rates_bps,
        downlink_rates_bps=downlink_rates_bps,
        scheme=scheme,
    )
    return r * t_map + shuffle + t_reduce


def optimal_computation_load(
    num_nodes: Any,
    *,
    map_time_s: Any,
    intermediate_bits: Any,
    uplink_rates_bps: Any,
    downlink_rates_bps: Any,
    reduce_time_s: Any = 0.0,
    scheme: Any = "coded",
) -> int:
    """The computation load r* ∈ {1, ..., K} that minimizes the job time T(r).

    r* = argmin_r T(r) over the K integers (:func:`job_time_s`), the smallest r on a tie.
    T(r) is evaluated at every r: with the coded relaying t_shuffle(r) falls like 1/r
    while the map phase grows like r, so r* grows with the ratio of the shuffle time at
    r = 1 to the map time.

    Parameters
    ----------
    num_nodes : int
        K >= 1.
    map_time_s, intermediate_bits, uplink_rates_bps, downlink_rates_bps, reduce_time_s, scheme
        As :func:`job_time_s`.

    Returns
    -------
    int
        r*.

    Raises
    ------
    InvalidInputError
        As :func:`job_time_s`.

    References
    ----------
    Li, Yu, Maddah-Ali, Avestimehr, IEEE/ACM Trans. Netw. 25(5), 2017,
    doi:10.1109/TNET.2017.2702605.

    Examples
    --------
    >>> from edgeopt.coding import optimal_computation_load
    >>> kw = dict(intermediate_bits=8e8, uplink_rates_bps=5e7, downlink_rates_bps=2e8)
    >>> optimal_computation_load(10, map_time_s=1.0, **kw)
    4
    >>> optimal_computation_load(10, map_time_s=1.0, scheme="uncoded", **kw)
    10
    >>> optimal_computation_load(10, map_time_s=100.0, **kw)
    1
    """
    k = check_int(num_nodes, "num_nodes", min_value=1)
    times = [
        job_time_s(
            r,
            k,
            map_time_s=map_time_s,
            intermediate_bits=intermediate_bits,
            uplink_rates_bps=uplink_rates_bps,
            downlink_rates_bps=downlink_rates_bps,
            reduce_time_s=reduce_time_s,
            scheme=scheme,
        )
        for r in range(1, k + 1)
    ]
    return int(np.argmin(times)) + 1
