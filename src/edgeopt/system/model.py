"""The system model's three objects: :class:`BaseStation`, :class:`Devices`, :class:`System`.

A cell of K single-antenna devices around a base station with N receive antennas.  Device i
sits at distance d_i, transmits with power p_i, computes at CPU frequency f_i with effective
switched capacitance κ_i, spends C_i cycles per sample and holds D_i samples.  The uplink
channel of device i is h_i = √β_i·g_i (shape (N,)), with the large-scale gain
β_i = 10^(−(PL(d_i) − S_i)/10) (path loss PL, shadowing S_i ~ N(0, σ²) in dB) and unit-power
small-scale fading g_i; in the normalized form (``pathloss=None``) β_i = 1 and S_i = 0.

Defaults follow the macro-cell case of 3GPP TR 36.814 V9.0.0, "Further advancements for
E-UTRA physical layer aspects", Annex A.2.1.1 (inter-site distance 500 m, 10 MHz, 2 GHz
carrier) where it gives a value; the docstring of each constant names its source.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt._validation import (
    check_array,
    check_broadcast,
    check_choice,
    check_complex_array,
    check_int,
    check_int_array,
    check_options,
    check_result_finite,
    check_rng,
    check_scalar,
    invalid_input,
    invalid_inputs,
    missing_input,
)
from edgeopt.channel import (
    FADING_MODELS,
    PATHLOSS_MODELS,
    pathloss_db,
    rayleigh,
    rician,
    shannon_rate,
    uplink_channels,
)
from edgeopt.cost import compute_energy, compute_time
from edgeopt.units import db_to_lin, dbm_to_w, lin_to_db, thermal_noise_w, w_to_dbm

__all__ = [
    "BaseStation",
    "Devices",
    "System",
    "INTER_SITE_DISTANCE_M",
    "DEFAULT_RADIUS_M",
    "DEFAULT_MIN_RADIUS_M",
    "DEFAULT_BANDWIDTH_HZ",
    "DEFAULT_NOISE_FIGURE_DB",
    "DEFAULT_SHADOWING_SIGMA_DB",
    "DEFAULT_TX_POWER_DBM",
    "DEFAULT_TX_POWER_W",
    "DEFAULT_CPU_FREQ_HZ",
    "DEFAULT_KAPPA",
    "DEFAULT_SERVER_CPU_FREQ_HZ",
]

#: Inter-site distance of the macro cell, m: 3GPP TR 36.814, Annex A.2.1.1 (Case 1, 500 m).
INTER_SITE_DISTANCE_M = 500.0
#: Cell radius, m: the circumradius ISD/√3 ≈ 288.7 m of the hexagonal cell of a site at
#: inter-site distance ISD = 500 m (TR 36.814, Annex A.2.1.1); devices are dropped over the disc.
DEFAULT_RADIUS_M = INTER_SITE_DISTANCE_M / math.sqrt(3.0)
#: Minimum device–base-station distance, m: 35 m, TR 36.814, Annex A.2.1.1 (macro cell).
DEFAULT_MIN_RADIUS_M = 35.0
#: System bandwidth, Hz: 10 MHz, TR 36.814, Annex A.2.1.1 (macro-cell simulation baseline).
DEFAULT_BANDWIDTH_HZ = 10e6
#: Base-station receiver noise figure, dB: 5 dB, TR 36.814, Annex A.2.1.1.
DEFAULT_NOISE_FIGURE_DB = 5.0
#: Log-normal shadowing standard deviation, dB: 8 dB, TR 36.814, Table A.2.1.1.2-3 (macro).
DEFAULT_SHADOWING_SIGMA_DB = 8.0
#: Device (UE) maximum transmit power, dBm: 23 dBm (power class 3), TR 36.814, Annex A.2.1.1.
DEFAULT_TX_POWER_DBM = 23.0
#: :data:`DEFAULT_TX_POWER_DBM` in watts (≈ 0.1995 W).
DEFAULT_TX_POWER_W = float(dbm_to_w(DEFAULT_TX_POWER_DBM))
#: Device CPU frequency, Hz: 1 GHz.  No standard gives one; a round phone-class figure.
DEFAULT_CPU_FREQ_HZ = 1e9
#: Effective switched capacitance κ, J·s²: 1e-28, the order used throughout the
#: federated-learning-over-wireless literature (see :mod:`edgeopt.cost`).  No standard value.
DEFAULT_KAPPA = 1e-28
#: Edge-server CPU frequency, Hz: 10 GHz.  No standard gives one; a round figure of the
#: order assumed in mobile-edge-computing studies.  Set it for your server.
DEFAULT_SERVER_CPU_FREQ_HZ = 10e9

#: The TOML spelling of ``pathloss=None`` (TOML has no null).
_NORMALIZED = "none"

_BS_FIELDS = (
    "num_antennas",
    "bandwidth_hz",
    "noise_figure_db",
    "pathloss",
    "pathloss_params",
    "fading",
    "k_factor_db",
    "shadowing_sigma_db",
    "noise_w",
    "server_cpu_freq_hz",
)
_DEVICE_FIELDS = (
    "distance_m",
    "tx_power_w",
    "cpu_freq_hz",
    "kappa",
    "cycles_per_sample",
    "num_samples",
)


def _frozen(arr: NDArray[Any]) -> NDArray[Any]:
    """A read-only copy of ``arr`` (a frozen dataclass must not change under its user)."""
    out = np.array(arr, copy=True)
    out.setflags(write=False)
    return out


def _is_array(value: Any) -> bool:
    """Whether ``value`` is meant as an array (anything with dimensions, ragged lists too)."""
    if value is None or isinstance(value, str | bytes):
        return False
    try:
        return bool(np.ndim(value) >= 1)
    except ValueError:  # a ragged list: an array, refused with its name by the checks
        return True


def _span(values: NDArray[np.float64], fmt: str) -> str:
    """``"a"`` when all values are equal, else ``"min to max"``, each formatted with ``fmt``."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if format(lo, fmt) == format(hi, fmt):
        return format(lo, fmt)
    return f"{format(lo, fmt)} to {format(hi, fmt)}"


def _table(data: Any, name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """Check a dict / TOML table and that its keys are among ``allowed``; return a copy."""
    if not isinstance(data, Mapping):
        raise invalid_input(name, data, "a dict (a TOML table)")
    for key, value in data.items():
        if key not in allowed:
            raise invalid_input(f"{name}[{key!r}]", value, "a key among " + ", ".join(allowed))
    return dict(data)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BaseStation:
    """The base station (receiver) of the cell: antennas, band, noise and channel model.

    Every argument is keyword-only; the defaults describe the 3GPP TR 36.814 macro cell.

    Parameters
    ----------
    num_antennas : int
        Receive antennas N >= 1 (default 1: the single-antenna link; TR 36.814 leaves the
        antenna configuration to each study).
    bandwidth_hz : float
        System bandwidth B in Hz, > 0 (default 10 MHz, TR 36.814, Annex A.2.1.1).
    noise_figure_db : float
        Receiver noise figure NF in dB, >= 0 (default 5 dB, TR 36.814, Annex A.2.1.1).  The
        noise power over the band is k·T0·B·10^(NF/10) (:func:`edgeopt.units.thermal_noise_w`)
        unless ``noise_w`` is given.
    pathloss : str or None
        Path loss model of :func:`edgeopt.channel.pathloss_db` (``"3gpp-macro"``, the default:
        128.1 + 37.6·log10(d/1 km), TR 36.814, Table A.2.1.1.2-3; ``"free-space"``;
        ``"log-distance"``), or ``None`` for the normalized form: unit-gain channels
        (β_i = 1), no shadowing, and the noise power given as ``noise_w``.
    pathloss_params : mapping of str to float
        The model's parameters, named as in :func:`edgeopt.channel.pathloss_db`
        (``carrier_hz`` and ``antenna_size_m`` for free space; ``pl0_db``, ``exponent``,
        ``d0_m`` for log-distance).  Stored as a read-only mapping.
    fading : {"rayleigh", "rician", "none"}
        Small-scale fading of unit mean power per antenna (default ``"rayleigh"``: g_i ~
        CN(0, I_N)).
    k_factor_db : float, optional
        Rician K-factor in dB; required with, and only allowed with, ``fading="rician"``.
    shadowing_sigma_db : float
        Log-normal shadowing standard deviation σ in dB, >= 0 (default 8 dB, TR 36.814,
        Table A.2.1.1.2-3); must be 0 in the normalized form (see :meth:`normalized`).
    noise_w : float, optional
        Receiver noise power over the whole band in watts, > 0.  Required in the normalized
        form; with a path loss model it replaces the thermal noise (``noise_figure_db`` is
        then unused).
    server_cpu_freq_hz : float
        CPU frequency of the edge server co-located with the base station, Hz, > 0 (default
        10 GHz; no standard gives one, set it for your server).

    Raises
    ------
    InvalidInputError
        Naming the argument: a count that is not an integer >= 1, a non-positive or
        non-finite bandwidth, noise or CPU frequency, an unknown model name or parameter, a
        K-factor without Rician fading (or Rician fading without one), shadowing or no
        ``noise_w`` in the normalized form.

    References
    ----------
    3GPP TR 36.814 V9.0.0, "Further advancements for E-UTRA physical layer aspects," 2010,
    Annex A.2.1.1 (macro-cell simulation parameters) and Table A.2.1.1.2-3 (path loss and
    shadowing).

    Examples
    --------
    >>> from edgeopt.system import BaseStation
    >>> bs = BaseStation(num_antennas=4)
    >>> bs.bandwidth_hz, bs.noise_figure_db, bs.pathloss, bs.shadowing_sigma_db
    (10000000.0, 5.0, '3gpp-macro', 8.0)
    >>> BaseStation(pathloss="free-space", pathloss_params={"carrier_hz": 2.4e9}).pathloss_params
    mappingproxy({'carrier_hz': 2400000000.0})
    >>> BaseStation.normalized(noise_w=0.1).pathloss is None
    True
    """

    num_antennas: int = 1
    bandwidth_hz: float = DEFAULT_BANDWIDTH_HZ
    noise_figure_db: float = DEFAULT_NOISE_FIGURE_DB
    pathloss: str | None = "3gpp-macro"
    pathloss_params: Mapping[str, float] = dataclasses.field(default_factory=dict)
    fading: str = "rayleigh"
    k_factor_db: float | None = None
    shadowing_sigma_db: float = DEFAULT_SHADOWING_SIGMA_DB
    noise_w: float | None = None
    server_cpu_freq_hz: float = DEFAULT_SERVER_CPU_FREQ_HZ

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "num_antennas", check_int(self.num_antennas, "num_antennas", min_value=1))
        put(self, "bandwidth_hz", check_scalar(self.bandwidth_hz, "bandwidth_hz", positive=True))
        put(
            self,
            "noise_figure_db",
            check_scalar(self.noise_figure_db, "noise_figure_db", nonneg=True, high=300.0),
        )
        put(
            self,
            "server_cpu_freq_hz",
            check_scalar(self.server_cpu_freq_hz, "server_cpu_freq_hz", positive=True),
        )
        put(
            self,
            "shadowing_sigma_db",
            check_scalar(self.shadowing_sigma_db, "shadowing_sigma_db", nonneg=True),
        )
        if self.noise_w is not None:
            put(self, "noise_w", check_scalar(self.noise_w, "noise_w", positive=True))
        put(self, "fading", check_choice(self.fading, "fading", FADING_MODELS))
        if self.fading == "rician":
            if self.k_factor_db is None:
                raise missing_input("k_factor_db", "a Rician K-factor in dB with fading='rician'")
            put(
                self,
                "k_factor_db",
                check_scalar(self.k_factor_db, "k_factor_db", low=-300.0, high=300.0),
            )
        elif self.k_factor_db is not None:
            raise invalid_inputs(
                f"k_factor_db={self.k_factor_db!r}, fading={self.fading!r}",
                "k_factor_db only with fading='rician'",
            )
        if not isinstance(self.pathloss_params, Mapping):
            raise invalid_input(
                "pathloss_params", self.pathloss_params, "a mapping of parameter names to numbers"
            )
        params: dict[str, float] = {}
        for key, value in self.pathloss_params.items():
            if not isinstance(key, str):
                raise invalid_input("pathloss_params", dict(self.pathloss_params), "str keys")
            params[key] = check_scalar(value, f"pathloss_params[{key!r}]")
        if self.pathloss is None:
            if params:
                raise invalid_inputs(
                    f"pathloss=None, pathloss_params={params!r}",
                    "no path loss parameters in the normalized form",
                )
            if self.shadowing_sigma_db != 0.0:
                raise invalid_inputs(
                    f"pathloss=None, shadowing_sigma_db={self.shadowing_sigma_db!r}",
                    "shadowing_sigma_db=0 in the normalized form (unit-gain channels; "
                    "BaseStation.normalized(...) sets it)",
                )
            if self.noise_w is None:
                raise missing_input(
                    "noise_w", "the receiver noise power in watts in the normalized form"
                )
        else:
            model = check_choice(self.pathloss, "pathloss", PATHLOSS_MODELS)
            required, optional = PATHLOSS_MODELS[model]
            check_options(
                params, f"path loss model {model!r}", required=required, optional=optional
            )
        put(self, "pathloss_params", MappingProxyType(params))

    def __hash__(self) -> int:
        values = [getattr(self, name) for name in _BS_FIELDS]
        values[_BS_FIELDS.index("pathloss_params")] = tuple(sorted(self.pathloss_params.items()))
        return hash(tuple(values))

    @classmethod
    def normalized(
        cls,
        *,
        noise_w: Any = 1.0,
        num_antennas: Any = 1,
        bandwidth_hz: Any = 1e6,
        fading: str = "rayleigh",
        k_factor_db: Any = None,
        server_cpu_freq_hz: Any = DEFAULT_SERVER_CPU_FREQ_HZ,
    ) -> BaseStation:
        """The normalized base station: unit-gain channels and a given noise power.

        Parameters
        ----------
        noise_w : float
            Receiver noise power over the band, watts (> 0, default 1).
        num_antennas : int
            Receive antennas N >= 1.
        bandwidth_hz : float
            Bandwidth in Hz (> 0, default 1 MHz); sets the noise density noise_w / B used
            for a split of the band.
        fading : {"rayleigh", "rician", "none"}
            Small-scale fading (``"rayleigh"``: channels CN(0, I_N)).
        k_factor_db : float, optional
            Rician K-factor in dB (only with ``fading="rician"``).
        server_cpu_freq_hz : float
            Edge-server CPU frequency in Hz.

        Returns
        -------
        BaseStation
            With ``pathloss=None`` and ``shadowing_sigma_db=0``.

        Raises
        ------
        InvalidInputError
            As the constructor.

        Examples
        --------
        >>> from edgeopt.system import BaseStation
        >>> bs = BaseStation.normalized(noise_w=0.5, num_antennas=2)
        >>> bs.pathloss, bs.noise_w, bs.num_antennas, bs.shadowing_sigma_db
        (None, 0.5, 2, 0.0)
        """
        return cls(
            num_antennas=num_antennas,
            bandwidth_hz=bandwidth_hz,
            pathloss=None,
            fading=fading,
            k_factor_db=k_factor_db,
            shadowing_sigma_db=0.0,
            noise_w=noise_w,
            server_cpu_freq_hz=server_cpu_freq_hz,
        )

    @property
    def receiver_noise_w(self) -> float:
        """Receiver noise power over the whole band in watts.

        ``noise_w`` when given, else the thermal noise k·T0·B·10^(NF/10)
        (:func:`edgeopt.units.thermal_noise_w`).

        Examples
        --------
        >>> from edgeopt.system import BaseStation
        >>> from edgeopt.units import w_to_dbm
        >>> round(float(w_to_dbm(BaseStation().receiver_noise_w)), 2)   # -174 + 70 + 5 dBm
        -98.98
        """
        if self.noise_w is not None:
            return self.noise_w
        return float(thermal_noise_w(self.bandwidth_hz, self.noise_figure_db))

    def to_dict(self) -> dict[str, Any]:
        """The base station as a plain dict (a TOML table): str, int, float and dict values.

        ``None`` entries are left out (TOML has no null), except ``pathloss=None``, written
        as ``"none"``; an empty ``pathloss_params`` is left out.

        Returns
        -------
        dict

        Examples
        --------
        >>> from edgeopt.system import BaseStation
        >>> BaseStation.normalized(noise_w=2.0).to_dict()["pathloss"]
        'none'
        """
        out: dict[str, Any] = {
            "num_antennas": int(self.num_antennas),
            "bandwidth_hz": float(self.bandwidth_hz),
            "noise_figure_db": float(self.noise_figure_db),
            "pathloss": _NORMALIZED if self.pathloss is None else str(self.pathloss),
            "fading": str(self.fading),
            "shadowing_sigma_db": float(self.shadowing_sigma_db),
            "server_cpu_freq_hz": float(self.server_cpu_freq_hz),
        }
        if self.pathloss_params:
            out["pathloss_params"] = {k: float(v) for k, v in self.pathloss_params.items()}
        if self.k_factor_db is not None:
            out["k_factor_db"] = float(self.k_factor_db)
        if self.noise_w is not None:
            out["noise_w"] = float(self.noise_w)
        return out

    @classmethod
    def from_dict(cls, data: Any, *, name: str = "base_station") -> BaseStation:
        """Build a base station from :meth:`to_dict`'s form (a dict or TOML table).

        Missing keys take the constructor's defaults; ``pathloss = "none"`` is the
        normalized form.

        Parameters
        ----------
        data : mapping
            Keys among the constructor's arguments.
        name : str
            How the table is named in error messages.

        Returns
        -------
        BaseStation

        Raises
        ------
        InvalidInputError
            Not a mapping, an unknown key, or a bad value (as the constructor).

        Examples
        --------
        >>> from edgeopt.system import BaseStation
        >>> bs = BaseStation(num_antennas=2, fading="rician", k_factor_db=6.0)
        >>> BaseStation.from_dict(bs.to_dict()) == bs
        True
        """
        table = _table(data, name, _BS_FIELDS)
        if table.get("pathloss") == _NORMALIZED:
            table["pathloss"] = None
        return cls(**table)


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Devices:
    """The K devices of the cell, one entry per device in each array.

    Each argument is a length-K array (a list is accepted) or a scalar shared by every
    device; K is the length of the arrays, so at least one argument must be an array.  The
    arrays are stored as read-only copies (float64; ``num_samples`` int64).

    Parameters
    ----------
    distance_m : array_like, shape (K,), optional
        Distance of each device to the base station, m, > 0.  Required by a base station
        with a path loss model; ``None`` in the normalized form (unit-gain channels).
    tx_power_w : array_like, shape (K,)
        Transmit power p_i, W, > 0.
    cpu_freq_hz : array_like, shape (K,)
        CPU frequency f_i, Hz, > 0.
    kappa : array_like, shape (K,)
        Effective switched capacitance κ_i, J·s², > 0 (energy κ·C·f² for C cycles at f).
    cycles_per_sample : array_like, shape (K,), optional
        CPU cycles C_i to process one sample, > 0; ``None`` until the training loop fills in
        its model's cost.
    num_samples : array_like of int, shape (K,), optional
        Local data set size D_i, integers >= 0; ``None`` until a data partition fills it.

    Raises
    ------
    InvalidInputError
        Naming the argument: lengths that differ, non-positive or non-finite values,
        non-integer or negative sample counts, or no array at all.

    Examples
    --------
    >>> from edgeopt.system import Devices
    >>> dev = Devices(distance_m=[50.0, 120.0, 200.0], tx_power_w=0.2, cpu_freq_hz=1e9,
    ...               kappa=1e-28)
    >>> dev.num_devices, dev.tx_power_w.tolist()
    (3, [0.2, 0.2, 0.2])
    >>> dev
    Devices(K=3, distance_m=50.0 to 200.0, tx_power_w=0.2, cpu_freq_hz=1e+09, kappa=1e-28, \
cycles_per_sample=None, num_samples=None)
    """

    distance_m: NDArray[np.float64] | None = None
    tx_power_w: NDArray[np.float64]
    cpu_freq_hz: NDArray[np.float64]
    kappa: NDArray[np.float64]
    cycles_per_sample: NDArray[np.float64] | None = None
    num_samples: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        values = {name: getattr(self, name) for name in _DEVICE_FIELDS}
        k = None
        for value in values.values():
            if _is_array(value):
                k = len(value)
                break
        if k is None:
            raise invalid_inputs(
                ", ".join(_DEVICE_FIELDS), "at least one length-K array (K = number of devices)"
            )
        for name, value in values.items():
            if value is None:
                if name in ("tx_power_w", "cpu_freq_hz", "kappa"):
                    raise missing_input(name, f"a number or a length-{k} array")
                continue
            shape = (k,) if _is_array(value) else ()
            if name == "num_samples":
                arr: NDArray[Any] = check_int_array(value, name, shape=shape, min_value=0)
            else:
                arr = check_array(value, name, shape=shape, positive=True)
            if arr.ndim == 0:
                arr = np.full(k, arr, dtype=arr.dtype)
            if k == 0:
                raise invalid_input(name, value, "at least one device")
            object.__setattr__(self, name, _frozen(arr))

    @property
    def num_devices(self) -> int:
        """The number of devices K."""
        return int(self.tx_power_w.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Devices):
            return NotImplemented
        for name in _DEVICE_FIELDS:
            a, b = getattr(self, name), getattr(other, name)
            if (a is None) != (b is None):
                return False
            if a is not None and not np.array_equal(a, b):
                return False
        return True

    def __repr__(self) -> str:
        parts = [f"K={self.num_devices}"]
        for name in _DEVICE_FIELDS:
            value = getattr(self, name)
            if value is None:
                parts.append(f"{name}=None")
            elif name == "num_samples":
                parts.append(f"{name}={_span(value.astype(np.float64), '.0f')}")
            elif name in ("distance_m",):
                parts.append(f"{name}={_span(value, '.1f')}")
            else:
                parts.append(f"{name}={_span(value, '.4g')}")
        return "Devices(" + ", ".join(parts) + ")"

    def to_dict(self) -> dict[str, Any]:
        """The devices as a plain dict of lists (a TOML table); ``None`` fields left out.

        Returns
        -------
        dict of str to list
            Lists of Python floats (``num_samples``: ints).

        Examples
        --------
        >>> from edgeopt.system import Devices
        >>> Devices(tx_power_w=[1.0, 2.0], cpu_freq_hz=1e9, kappa=1e-28).to_dict()
        {'tx_power_w': [1.0, 2.0], 'cpu_freq_hz': [1000000000.0, 1000000000.0], \
'kappa': [1e-28, 1e-28]}
        """
        return {
            name: getattr(self, name).tolist()
            for name in _DEVICE_FIELDS
            if getattr(self, name) is not None
        }

    @classmethod
    def from_dict(cls, data: Any, *, name: str = "devices") -> Devices:
        """Build devices from :meth:`to_dict`'s form (a dict or TOML table).

        Parameters
        ----------
        data : mapping
            Keys among the constructor's arguments; values lists or numbers.
        name : str
            How the table is named in error messages.

        Returns
        -------
        Devices

        Raises
        ------
        InvalidInputError
            Not a mapping, an unknown key, or a bad value (as the constructor).

        Examples
        --------
        >>> from edgeopt.system import Devices
        >>> dev = Devices(distance_m=[40.0, 90.0], tx_power_w=0.1, cpu_freq_hz=2e9,
        ...               kappa=1e-28, num_samples=[300, 700])
        >>> Devices.from_dict(dev.to_dict()) == dev
        True
        """
        return cls(**_table(data, name, _DEVICE_FIELDS))


@dataclasses.dataclass(frozen=True, repr=False)
class System:
    """A base station and its cell of devices: the one description of a scenario.

    Solvers take plain arrays; the methods here produce them (channels, average SNRs,
    rates, computation times and energies), each a thin call of :mod:`edgeopt.channel`,
    :mod:`edgeopt.units` or :mod:`edgeopt.cost`.

    Parameters
    ----------
    base_station : BaseStation
    devices : Devices
        With ``distance_m`` set when the base station has a path loss model.

    Raises
    ------
    InvalidInputError
        Arguments of the wrong type, a path loss model without device distances, or path
        loss parameters that :func:`edgeopt.channel.pathloss_db` refuses.

    Warns
    -----
    ModelRangeWarning
        When a device is closer than the path loss model's range (from
        :func:`edgeopt.channel.pathloss_db`).

    Examples
    --------
    >>> from edgeopt.system import BaseStation, Devices, System
    >>> dev = Devices(distance_m=[50.0, 150.0], tx_power_w=0.2, cpu_freq_hz=1e9, kappa=1e-28)
    >>> system = System(BaseStation(num_antennas=2), dev)
    >>> system.num_devices, system.num_antennas
    (2, 2)
    >>> system
    System: K = 2 devices, N = 2 antennas
      base station: 3gpp-macro path loss, rayleigh fading, shadowing 8 dB,
                    band 10 MHz, noise -99.0 dBm (NF 5 dB)
      distance:     50.0 to 150.0 m
      mean SNR:     24.9 to 42.8 dB (per antenna, shadowing at its median)
      tx power:     23.0 dBm
      CPU:          1 GHz
    """

    base_station: BaseStation
    devices: Devices
    _path_gain: NDArray[np.float64] = dataclasses.field(init=False, repr=False, compare=False)

    __hash__ = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if not isinstance(self.base_station, BaseStation):
            raise invalid_input("base_station", self.base_station, "a BaseStation")
        if not isinstance(self.devices, Devices):
            raise invalid_input("devices", self.devices, "a Devices")
        bs, dev = self.base_station, self.devices
        if bs.pathloss is None:
            gain = np.ones(dev.num_devices)
        else:
            if dev.distance_m is None:
                raise invalid_inputs(
                    f"base_station.pathloss={bs.pathloss!r}, devices.distance_m=None",
                    "device distances with a path loss model (or the normalized form, "
                    "pathloss=None)",
                )
            loss_db = pathloss_db(dev.distance_m, bs.pathloss, **bs.pathloss_params)
            gain = db_to_lin(-loss_db)
        object.__setattr__(self, "_path_gain", _frozen(gain))

    # -- sizes and noise ------------------------------------------------------------------

    @property
    def num_devices(self) -> int:
        """The number of devices K."""
        return self.devices.num_devices

    @property
    def num_antennas(self) -> int:
        """The number of base-station antennas N."""
        return self.base_station.num_antennas

    @property
    def noise_w(self) -> float:
        """Receiver noise power over the whole band σ², watts.

        The base station's ``noise_w`` when given (the normalized form), else the thermal
        noise k·T0·B·10^(NF/10) of :func:`edgeopt.units.thermal_noise_w`.

        Examples
        --------
        >>> from edgeopt.system import normalized_system
        >>> normalized_system(3, noise_w=0.1).noise_w
        0.1
        """
        return self.base_station.receiver_noise_w

    @property
    def noise_psd_w_per_hz(self) -> float:
        """Noise power spectral density N0 = σ²/B, W/Hz (the noise of a band b is N0·b).

        Examples
        --------
        >>> from edgeopt.system import normalized_system
        >>> normalized_system(3, noise_w=1.0, bandwidth_hz=1e6).noise_psd_w_per_hz
        1e-06
        """
        return self.noise_w / self.base_station.bandwidth_hz

    # -- channels and SNR ------------------------------------------------------------------

    def path_gain(self) -> NDArray[np.float64]:
        """Large-scale gain β_i = 10^(−PL(d_i)/10) of each device (1 in the normalized form).

        Shadowing is not included (its median, 0 dB).

        Returns
        -------
        numpy.ndarray of float64, shape (K,)
            Linear power gains (read-only).

        Examples
        --------
        >>> import numpy as np
        >>> from edgeopt.system import BaseStation, Devices, System
        >>> dev = Devices(distance_m=[1000.0], tx_power_w=0.2, cpu_freq_hz=1e9, kappa=1e-28)
        >>> round(float(-10 * np.log10(System(BaseStation(), dev).path_gain()[0])), 6)
        128.1
        """
        return self._path_gain

    def mean_snr(self) -> NDArray[np.float64]:
        """Average received SNR of each device over the whole band, linear: the link budget.

        SNR_i = p_i·β_i / σ², i.e. in dB, P_i [dBm] − PL(d_i) − (−174 dBm/Hz + 10·log10 B) −
        NF.  It is the SNR per receive antenna averaged over the small-scale fading
        (E‖g_i‖² = N), with the shadowing at its median 0 dB: E|h_in|² = β_i·E[10^(S/10)],
        and the mean over shadowing is larger by the factor exp((σ·ln10/10)²/2).  With
        maximum-ratio combining over N antennas the average post-combining SNR is
        N·SNR_i.

        Returns
        -------
        numpy.ndarray of float64, shape (K,)
            Linear SNR per device.

        References
        ----------
        3GPP TR 36.814 V9.0.0, Annex A.2.1.1 (link budget parameters); A. Goldsmith,
        *Wireless Communications*, Cambridge, 2005, Sec. 2.1 (received power
        P_r = P_t·β, SNR P_r/(N0·B)).

        Examples
        --------
        >>> import numpy as np
        >>> from edgeopt.system import BaseStation, Devices, System
        >>> dev = Devices(distance_m=[1000.0], tx_power_w=0.2, cpu_freq_hz=1e9, kappa=1e-28)
        >>> snr = System(BaseStation(), dev).mean_snr()
        >>> round(float(10 * np.log10(snr[0])), 2)   # 23.01 - 128.1 - (-98.98) dB
        -6.11
        """
        return self.devices.tx_power_w * self._path_gain / self.noise_w

    def channels(self, rng: Any, batch: Any = None) -> NDArray[np.complex128]:
        """Draw the uplink channels h_i = √β_i·g_i of every device.

        With a path loss model this is :func:`edgeopt.channel.uplink_channels` on the
        devices' distances (shadowing drawn per device and per batch element, then the
        fading); in the normalized form h_i = g_i: :func:`edgeopt.channel.rayleigh`
        (CN(0, I_N)), :func:`edgeopt.channel.rician`, or ones for ``fading="none"``.

        Parameters
        ----------
        rng : numpy.random.Generator, int or None
            Random source; the same state gives the same channels.
        batch : int, optional
            Number of independent realizations (a leading axis).

        Returns
        -------
        numpy.ndarray of complex128, shape (K, N) or (batch, K, N)

        Raises
        ------
        InvalidInputError
            Bad ``rng`` or ``batch``.

        Examples
        --------
        >>> from edgeopt.system import normalized_system
        >>> system = normalized_system(5, num_antennas=4)
        >>> system.channels(0).shape, system.channels(0, batch=3).shape
        ((5, 4), (3, 5, 4))
        """
        bs = self.base_station
        gen = check_rng(rng)
        n_batch = None if batch is None else check_int(batch, "batch", min_value=1)
        if bs.pathloss is not None:
            return uplink_channels(
                self.devices.distance_m,
                bs.num_antennas,
                rng=gen,
                pathloss=bs.pathloss,
                fading=bs.fading,
                k_factor_db=bs.k_factor_db,
                shadowing_sigma_db=bs.shadowing_sigma_db,
                batch=n_batch,
                **bs.pathloss_params,
            )
        shape: tuple[int, ...] = (self.num_devices, bs.num_antennas)
        if n_batch is not None:
            shape = (n_batch, *shape)
        if bs.fading == "rayleigh":
            return rayleigh(shape, gen)
        if bs.fading == "rician":
            return rician(shape, bs.k_factor_db, gen)
        return np.ones(shape, dtype=np.complex128)

    def rates_bps(self, channels: Any, bandwidth_hz: Any) -> NDArray[np.float64]:
        """Shannon rate of each device with maximum-ratio combining, for a split of the band.

        r_i = b_i·log2(1 + p_i‖h_i‖² / (N0·b_i)), N0 = σ²/B the noise density
        (:attr:`noise_psd_w_per_hz`): device i transmits alone on its own b_i Hz
        (orthogonal access, no interference) and the base station combines its N antennas
        with weights h_i/‖h_i‖.  A device given no band (b_i = 0) has rate 0.  The split is
        not required to sum to B: under TDMA every device uses the whole band in its slot.

        Parameters
        ----------
        channels : array_like of complex, shape (..., K, N)
            Channels, e.g. from :meth:`channels`.
        bandwidth_hz : array_like of float, shape (K,) or broadcastable with (..., K)
            Bandwidth b_i of each device in Hz, >= 0 (a scalar gives every device the same).

        Returns
        -------
        numpy.ndarray of float64, shape (..., K)
            Rates in bit/s (the broadcast shape of the channels' (..., K) and the bandwidth).

        Raises
        ------
        InvalidInputError
            Channels of the wrong shape or not finite; negative or non-finite bandwidths;
            shapes that do not broadcast; an SNR that overflows float64.

        References
        ----------
        C. E. Shannon, Bell Syst. Tech. J. 27, 1948 (C = W·log2(1 + P/N)); D. Tse and
        P. Viswanath, *Fundamentals of Wireless Communication*, Cambridge, 2005,
        Sec. 5.3.1 (receive beamforming / MRC: SNR P‖h‖²/N0 per unit band).

        Examples
        --------
        >>> import numpy as np
        >>> from edgeopt.system import normalized_system
        >>> system = normalized_system(2, num_antennas=2, noise_w=1.0, bandwidth_hz=1e6)
        >>> h = np.array([[1.0, 1.0], [0.5, 0.5]], dtype=complex)   # ‖h‖² = 2 and 0.5
        >>> system.rates_bps(h, 0.5e6).round().tolist()   # 0.5 MHz each: SNR 4 and 1
        [1160964.0, 500000.0]
        """
        k, n = self.num_devices, self.num_antennas
        h = check_complex_array(channels, "channels", ndim=range(2, 33))
        if h.shape[-2:] != (k, n):
            raise invalid_input("channels", h, f"shape (..., {k}, {n}) (devices, antennas)")
        bw = check_array(bandwidth_hz, "bandwidth_hz", nonneg=True)
        gain = np.sum(h.real**2 + h.imag**2, axis=-1)
        signal, band = check_broadcast(channels=self.devices.tx_power_w * gain, bandwidth_hz=bw)
        noise = self.noise_psd_w_per_hz * band
        with np.errstate(over="ignore"):
            snr = np.divide(signal, noise, out=np.zeros(signal.shape), where=noise > 0)
        check_result_finite(snr, "channels, bandwidth_hz", "a bandwidth that is 0 or not tiny")
        return shannon_rate(band, snr)

    # -- computation -----------------------------------------------------------------------

    def _cycles(self, num_samples: Any) -> NDArray[np.float64]:
        dev = self.devices
        if dev.cycles_per_sample is None:
            raise missing_input(
                "cycles_per_sample",
                "CPU cycles per sample on the devices: system.with_devices(cycles_per_sample=...)",
            )
        if num_samples is None:
            if dev.num_samples is None:
                raise missing_input(
                    "num_samples", "samples per device, given here or set on the devices"
                )
            n = dev.num_samples.astype(np.float64)
        else:
            n = check_array(num_samples, "num_samples", nonneg=True)
        c, n = check_broadcast(cycles_per_sample=dev.cycles_per_sample, num_samples=n)
        with np.errstate(over="ignore"):
            cycles = c * n
        check_result_finite(cycles, "cycles_per_sample, num_samples", "smaller counts")
        return cycles

    def compute_time_s(self, num_samples: Any = None) -> NDArray[np.float64]:
        """Local computation time of each device, C_i·n_i / f_i seconds.

        Parameters
        ----------
        num_samples : array_like of float, shape (K,) or broadcastable with it, optional
            Samples n_i each device processes (>= 0; e.g. batch size times local steps, or
            D_i for one epoch).  Default: the devices' ``num_samples``.

        Returns
        -------
        numpy.ndarray of float64, shape (K,) (or the broadcast shape)
            Seconds.

        Raises
        ------
        InvalidInputError
            ``cycles_per_sample`` not set on the devices, no ``num_samples`` here or on the
            devices, negative or non-finite counts.

        References
        ----------
        :func:`edgeopt.cost.compute_time` (Tran et al., IEEE INFOCOM 2019, Eq. 3).

        Examples
        --------
        >>> from edgeopt.system import normalized_system
        >>> system = normalized_system(2, cpu_freq_hz=[1e9, 2e9], cycles_per_sample=1e6)
        >>> system.compute_time_s([500, 500]).tolist()
        [0.5, 0.25]
        """
        return compute_time(self._cycles(num_samples), self.devices.cpu_freq_hz)

    def compute_energy_j(self, num_samples: Any = None) -> NDArray[np.float64]:
        """Local computation energy of each device, κ_i·C_i·n_i·f_i² joules.

        Parameters
        ----------
        num_samples : array_like of float, shape (K,) or broadcastable with it, optional
            Samples n_i each device processes (>= 0).  Default: the devices' ``num_samples``.

        Returns
        -------
        numpy.ndarray of float64, shape (K,) (or the broadcast shape)
            Joules.

        Raises
        ------
        InvalidInputError
            As :meth:`compute_time_s`.

        References
        ----------
        :func:`edgeopt.cost.compute_energy` (Burd and Brodersen, 1996; Tran et al., IEEE
        INFOCOM 2019, Eq. 4).

        Examples
        --------
        >>> from edgeopt.system import normalized_system
        >>> system = normalized_system(1, cpu_freq_hz=1e9, kappa=1e-28, cycles_per_sample=1e6)
        >>> system.compute_energy_j(1000).round(6).tolist()
        [0.1]
        """
        dev = self.devices
        return compute_energy(self._cycles(num_samples), dev.cpu_freq_hz, dev.kappa)

    # -- copies, serialization, summary --------------------------------------------------

    def with_devices(self, **changes: Any) -> System:
        """A copy with some device fields replaced (e.g. the data partition's sample counts).

        Parameters
        ----------
        **changes
            Fields of :class:`Devices` (``num_samples=...``, ``cycles_per_sample=...``).

        Returns
        -------
        System

        Raises
        ------
        InvalidInputError
            An unknown field or a bad value.

        Examples
        --------
        >>> from edgeopt.system import normalized_system
        >>> system = normalized_system(2).with_devices(num_samples=[100, 300])
        >>> system.devices.num_samples.tolist()
        [100, 300]
        """
        fields = _table(changes, "with_devices", _DEVICE_FIELDS)
        return System(self.base_station, dataclasses.replace(self.devices, **fields))

    def to_dict(self) -> dict[str, Any]:
        """The system as nested plain dicts: ``{"base_station": {...}, "devices": {...}}``.

        Values are str, int, float, lists of them and dicts, so the result can be written
        as TOML tables (``[system.base_station]``, ``[system.devices]``) or JSON and read
        back with :meth:`from_dict`.

        Returns
        -------
        dict

        Examples
        --------
        >>> from edgeopt.system import drop_devices, System
        >>> system = drop_devices(4, rng=0)
        >>> sorted(system.to_dict())
        ['base_station', 'devices']
        >>> System.from_dict(system.to_dict()) == system
        True
        """
        return {"base_station": self.base_station.to_dict(), "devices": self.devices.to_dict()}

    @classmethod
    def from_dict(cls, data: Any) -> System:
        """Build a system from :meth:`to_dict`'s form (a dict, or TOML tables read back).

        Parameters
        ----------
        data : mapping
            With a ``"devices"`` table and an optional ``"base_station"`` table (default:
            :class:`BaseStation`'s defaults).

        Returns
        -------
        System

        Raises
        ------
        InvalidInputError
            Not a mapping, an unknown or missing key, or a bad value.

        Examples
        --------
        >>> from edgeopt.system import System
        >>> system = System.from_dict({
        ...     "base_station": {"num_antennas": 2},
        ...     "devices": {"distance_m": [50.0, 80.0], "tx_power_w": 0.2,
        ...                 "cpu_freq_hz": 1e9, "kappa": 1e-28}})
        >>> system.num_devices, system.num_antennas
        (2, 2)
        """
        table = _table(data, "system", ("base_station", "devices"))
        if "devices" not in table:
            raise missing_input("system['devices']", "a table of the devices' parameters")
        bs = BaseStation.from_dict(table.get("base_station", {}), name="system['base_station']")
        return cls(bs, Devices.from_dict(table["devices"], name="system['devices']"))

    def __repr__(self) -> str:
        bs, dev = self.base_station, self.devices
        k, n = self.num_devices, self.num_antennas
        if bs.pathloss is None:
            channel = "normalized unit-gain channels"
        else:
            channel = f"{bs.pathloss} path loss"
        fading = f"{bs.fading} fading"
        if bs.fading == "rician":
            fading += f" (K = {bs.k_factor_db:g} dB)"
        parts = [channel, fading]
        if bs.pathloss is not None:
            parts.append(f"shadowing {bs.shadowing_sigma_db:g} dB")
        if bs.noise_w is None:
            noise = f"noise {float(w_to_dbm(self.noise_w)):.1f} dBm (NF {bs.noise_figure_db:g} dB)"
        else:
            noise = f"noise_w {bs.noise_w:g} W"
        lines = [
            f"System: K = {k} device{'s' if k != 1 else ''}, "
            f"N = {n} antenna{'s' if n != 1 else ''}",
            "  base station: " + ", ".join(parts) + ",",
            f"                band {_fmt_hz(bs.bandwidth_hz)}, {noise}",
        ]
        if dev.distance_m is not None:
            lines.append(f"  distance:     {_span(dev.distance_m, '.1f')} m")
        note = "per antenna" if bs.pathloss is None else "per antenna, shadowing at its median"
        lines.append(f"  mean SNR:     {_span(lin_to_db(self.mean_snr()), '.1f')} dB ({note})")
        lines.append(f"  tx power:     {_span(w_to_dbm(dev.tx_power_w), '.1f')} dBm")
        lines.append(f"  CPU:          {_span(dev.cpu_freq_hz / 1e9, '.3g')} GHz")
        if dev.num_samples is not None:
            lines.append(f"  samples:      {_span(dev.num_samples.astype(float), '.0f')}")
        return "\n".join(lines)


def _fmt_hz(value: float) -> str:
    for scale, unit in ((1e9, "GHz"), (1e6, "MHz"), (1e3, "kHz")):
        if value >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value:.4g} Hz"
