"""Device selection and receive beamforming for over-the-air aggregation.

Maximize the number of devices ``|S|`` subject to ``MSE(m, S) <= gamma`` (Yang, Jiang, Shi,
Ding 2020).  With ``gamma_i = gamma P / (sigma^2 w_i^2)`` and scaled channels
``g_i = sqrt(gamma_i) h_i`` a set ``S`` is served by ``m`` iff every margin
``|m^H g_i|^2 / ||m||^2 >= 1``.

Thread safety: :func:`select_devices` may be called from several threads at once (e.g.
multi-threaded Dask workers).  The cached CVXPY programs whose Parameters are overwritten
before each solve are cached per thread (:mod:`._sdp`), Clarabel solvers are built per call,
and the Numba kernels hold no state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt import status as st
from edgeopt._validation import (
    check_bool,
    check_choice,
    check_int,
    check_rng,
    check_scalar,
)
from edgeopt.aircomp import _dc, _kernels
from edgeopt.aircomp.model import _check_channels, _check_weights, _mse
from edgeopt.errors import InvalidInputError

__all__ = ["AirCompSolution", "select_devices", "METHODS"]

#: The device-selection methods of :func:`select_devices`.
METHODS = ("dc", "sdr", "fast", "all", "eig")

#: Scaled channels are shrunk to ``||g_i||^2 <= _GAIN_CAP`` (see ``_kernels.scale_channels``):
#: a conservative restriction that keeps the solvers' data within a dynamic range of 1e6.
_GAIN_CAP = 1e6

_DEFAULTS: dict[str, dict[str, Any]] = {
    "dc": {
        "max_inner": 5,
        "tol": 1e-3,
        "rank_weight": 1.0,
        "max_rank_iter": 20,
        "polish_samples": 30,
        "backend": "clarabel",
    },
    "sdr": {"randomizations": 100, "backend": "clarabel"},
    "fast": {"sca_outer": 30, "sca_inner": 40, "add_back": True},
    "all": {"restarts": 8},
    "eig": {},
}


@dataclass(frozen=True)
class AirCompSolution:
    """Result of :func:`select_devices`.

    Parameters
    ----------
    selected : numpy.ndarray of bool, shape (K,)
        Selected devices.
    beamformer : numpy.ndarray of complex128, shape (N,)
        Unit-norm receive beamformer ``m`` (all zeros when nothing is selected).
    mse : float
        ``aircomp_mse(beamformer, channels[selected], ...)``; ``inf`` when nothing is selected.
    status : str
        ``"feasible"`` (the selection meets the target), ``"infeasible"`` (no device can meet
        it; ``selected`` all False), for ``method="all"``, ``"target_missed"``, or, for
        ``"dc"`` and ``"sdr"``, ``"solver_error"``: every solver of the fallback chain failed
        on at least one convex program, so the method did not run as specified; the
        selection is then the best one found that passed the exact check (it still meets
        the target, possibly empty).
    method : str
        The method that produced it.
    iterations : int
        Convex programs solved (``"dc"``, ``"sdr"``) or max-min SCA runs (``"fast"``,
        ``"all"``, ``"eig"``: dominant-eigenvector evaluations).
    solve_time_s : float
        Wall-clock time of the whole selection, seconds.
    objective : int
        Number of selected devices.
    mse_target : float
        The target ``gamma``.
    options : dict
        The method options used (defaults filled in).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.aircomp import AirCompSolution, select_devices
    >>> h = np.array([[1.0 + 0j, 0j], [0j, 1.0 + 0j], [0.05 + 0j, 0j]])
    >>> sol = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=4.0, method="fast")
    >>> isinstance(sol, AirCompSolution), sol.status, sol.objective
    (True, 'feasible', 2)
    >>> sol.selected.tolist(), bool(sol.mse <= sol.mse_target), sol.mse_target
    ([True, True, False], True, 4.0)
    """

    selected: NDArray[np.bool_]
    beamformer: NDArray[np.complex128]
    mse: float
    status: str
    method: str
    iterations: int
    solve_time_s: float
    objective: int
    mse_target: float
    options: dict[str, Any] = field(default_factory=dict)


def _check_options(method: str, options: dict[str, Any]) -> dict[str, Any]:
    allowed = _DEFAULTS[method]
    out = dict(allowed)
    for key, value in options.items():
        if key not in allowed:
            known = ", ".join(allowed) or "(none)"
            raise InvalidInputError(
                f"{key}={value!r} is invalid: expected an option of method={method!r} ({known})"
            )
        if key in ("max_inner", "randomizations", "sca_outer", "sca_inner"):
            out[key] = check_int(value, key, min_value=1)
        elif key in ("max_rank_iter", "restarts", "polish_samples"):
            out[key] = check_int(value, key, min_value=0)
        elif key in ("tol", "rank_weight"):
            out[key] = check_scalar(value, key, positive=True)
        elif key == "add_back":
            out[key] = check_bool(value, key)
        elif key == "backend":
            out[key] = check_choice(value, key, ("clarabel", "cvxpy"))
    return out


def _verify(
    G: NDArray[np.complex128], selected: NDArray[np.bool_], m: NDArray[np.complex128] | None
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None]:
    """Drop devices (worst margin first, re-polishing ``m``) until every margin is >= 1."""
    selected = selected.copy()
    if m is None or not np.any(m != 0):
        return np.zeros_like(selected), None
    while selected.any():
        idx = np.flatnonzero(selected)
        marg = _kernels.margins(G[idx], m)
        if marg.min() >= 1.0:
            return selected, m
        selected[idx[np.argmin(marg)]] = False
        if selected.any():
            m, _ = _kernels.maxmin_sca(
                np.ascontiguousarray(G[selected]), m, _dc.SCA_OUTER, _dc.SCA_INNER, 1.0
            )
    return selected, None


def _best_beamformer_all(
    G: NDArray[np.complex128], rng: np.random.Generator, restarts: int
) -> tuple[NDArray[np.complex128], int]:
    """Max-min beamformer for every row of ``G`` (SCA from the dominant direction and
    ``restarts`` random starts)."""
    k, n = G.shape
    starts: list[NDArray[np.complex128]] = [_kernels.dominant_direction(G, np.arange(k))]
    for _ in range(restarts):
        z = np.asarray(rng.standard_normal(n) + 1j * rng.standard_normal(n), dtype=np.complex128)
        starts.append(z / np.linalg.norm(z))
    best_m, best_v = starts[0], -1.0
    for m0 in starts:
        m, v = _kernels.maxmin_sca(G, m0, _dc.SCA_OUTER, _dc.SCA_INNER)
        if v > best_v:
            best_m, best_v = m, v
    return best_m, len(starts)


def _two_step(
    method: str, G: NDArray[np.complex128], opts: dict[str, Any], gen: np.random.Generator
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None, int, int]:
    """Methods ``"dc"`` and ``"sdr"`` on the scaled channels ``G``.

    Returns the selection, its beamformer, the number of convex programs solved and the
    number of programs on which every solver of the fallback chain failed.
    """
    from edgeopt.aircomp._sdp import ClarabelBackend, RealBackend

    k = G.shape[0]
    backend = ClarabelBackend(G) if opts["backend"] == "clarabel" else RealBackend(G)
    if method == "dc":
        x, _, whole = _dc.sparsity_dc(
            backend, max_inner=opts["max_inner"], tol=opts["tol"], rank_weight=opts["rank_weight"]
        )
        known = None if whole is None else {k: whole}
        tracker = _dc.BestServed(G)

        def detect(mask: Any, X0: Any) -> Any:
            return _dc.rank_one_dc(
                backend, G, mask, X0, opts["max_rank_iter"], gen, opts["polish_samples"], tracker
            )

        selected, m, _ = _dc.two_step(
            backend,
            G,
            x,
            int(np.sum(x <= 1e-6)),
            detect,
            known,
            search="bisect",
            extend=True,
            tracker=tracker,
        )
    else:
        x, _ = _dc.sparsity_l1(backend)
        selected, m = _dc.sdr_step2(backend, G, x, gen, opts["randomizations"])
    return selected, m, backend.solves, backend.failures


def select_devices(
    channels: Any,
    *,
    power_w: float,
    noise_w: float,
    mse_target: float,
    weights: Any = None,
    method: str = "dc",
    rng: Any = None,
    **options: Any,
) -> AirCompSolution:
    """Select the most devices whose over-the-air aggregate meets an MSE target.

    Solves ``max |S|`` subject to ``MSE(m, S) <= mse_target`` over the device set ``S`` and
    the receive beamformer ``m`` (see :func:`~edgeopt.aircomp.model.aircomp_mse`).  Let
    ``gamma_i = mse_target * power_w / (noise_w * w_i^2)``; ``S`` is served by ``m`` iff
    ``||m||^2 <= gamma_i |m^H h_i|^2`` for every ``i`` in ``S``.

    Methods:

    * ``"dc"`` -- the two-step framework of Yang et al.: step 1 lifts ``M = m m^H`` with
      slacks ``x_i >= ||m||^2 - gamma_i |m^H h_i|^2`` and minimizes the DC representations
      of ``||x||_0`` (``||x||_1 - |||x|||_k``, ``k = 0, 1, ...``) and of ``rank M = 1``
      (``tr M - ||M||_2``) by successive linearization; step 2 orders the devices by ``x``
      and keeps the largest prefix for which the DC rank-one program finds a beamformer
      (bisection; candidates polished by the max-min SCA), then adds the remaining devices
      that still fit.
    * ``"sdr"`` -- the same two steps with ``l1`` minimization and semidefinite relaxation
      with Gaussian randomization (the paper's baseline; the selection is the set served by
      the best random candidate).
    * ``"fast"`` -- no semidefinite program: greedy removal of the device with the
      smallest margin under a max-min beamformer found by successive convex approximation
      with closed-form steps, then greedy re-insertion (Numba).
    * ``"all"`` -- every device with the best max-min beamformer found; status
      ``"target_missed"`` when its MSE exceeds the target.
    * ``"eig"`` -- the simple heuristic: drop the weakest device until the dominant
      eigenvector of ``sum_i h_i h_i^H / ||h_i||^2`` meets the target (a reference floor).

    Devices that cannot meet the target even alone (``gamma_i ||h_i||^2 < 1``) are never
    selected; ``"dc"`` and ``"sdr"`` build their programs for the others only.  Every
    solution except ``"all"`` with ``"target_missed"`` is verified before it is returned:
    ``aircomp_mse(beamformer, channels[selected]) <= mse_target * (1 + 1e-6)``.  See the
    user guide (AirComp page) for the equations.

    Numerical safeguards: scaled channels longer than ``||g_i||^2 = 1e6`` are shrunk to that
    length before any solver sees them (conservative: it only rules out beamformers within
    ``|cos|^2 < 1e-6`` of orthogonal to such a strong device, and bounds the dynamic range
    of the programs); if ``"dc"`` or ``"sdr"`` end with nothing selected although a device
    is servable, the selection of the greedy ``"fast"`` method is returned instead; if
    every solver of the fallback chain fails on some program, the status is
    ``"solver_error"`` (with the best selection that passed the exact check).  The function
    is thread-safe (cached programs are per thread).

    Parameters
    ----------
    channels : array_like of complex, shape (K, N)
        Channel ``h_i`` of device ``i`` in row ``i``, ``K >= 1``.
    power_w : float
        Per-device power budget ``P`` in watts, ``> 0``.
    noise_w : float
        Receiver noise power ``sigma^2`` in watts, ``> 0``.
    mse_target : float
        Target MSE ``gamma > 0`` (linear scale).
    weights : array_like of float, shape (K,), optional
        Aggregation weights ``w_i > 0``; default all ones.
    method : {"dc", "sdr", "fast", "all", "eig"}
        Selection method (default ``"dc"``).
    rng : numpy.random.Generator, int or None
        Randomness of ``"dc"`` (Gaussian draws among the SCA starts), ``"sdr"`` (Gaussian
        randomization) and ``"all"`` (random restarts).
    **options
        Method options: ``"dc"``: ``max_inner`` (linearizations per ``k``, default 5),
        ``tol`` (relative change that ends them, 1e-3), ``rank_weight`` (weight of the rank
        penalty, 1.0), ``max_rank_iter`` (DC rank-one iterations per feasibility test, 20),
        ``polish_samples`` (Gaussian draws from each relaxed solution used, with its top
        eigenvector, as starts of the max-min SCA that extracts a beamformer, 30),
        ``backend`` (``"clarabel"``: the programs handed to Clarabel directly, built once per
        call and updated between solves; ``"cvxpy"``: the cached CVXPY DPP programs solved
        by Clarabel with SCS as fallback); ``"sdr"``: ``randomizations`` (100), ``backend``;
        ``"fast"``: ``sca_outer`` (30), ``sca_inner``
        (40), ``add_back`` (True); ``"all"``: ``restarts`` (8).

    Returns
    -------
    AirCompSolution

    Raises
    ------
    InvalidInputError
        Real or non-finite channels, wrong shapes, non-positive ``power_w``, ``noise_w``,
        ``mse_target`` or weights, an unknown method or option, or finite inputs whose
        scaled gains ``gamma_i ||h_i||^2`` overflow (e.g. a weight of ``1e-200``).

    References
    ----------
    K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air computation,"
    IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020: problem (12), the
    sparse and low-rank program (17)-(20), the DC program (29) and Algorithm 2 (two-step
    framework); SDR with Gaussian randomization is their baseline.

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.aircomp import aircomp_mse, select_devices
    >>> rng = np.random.default_rng(1)
    >>> h = (rng.standard_normal((8, 4)) + 1j * rng.standard_normal((8, 4))) / np.sqrt(2)
    >>> sol = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=1.0, method="fast")
    >>> sol.status, bool(sol.mse <= 1.0)
    ('feasible', True)
    >>> bool(aircomp_mse(sol.beamformer, h[sol.selected], power_w=1.0, noise_w=1.0) <= 1.0)
    True
    """
    t0 = time.perf_counter()
    h = _check_channels(channels)
    if h.shape[0] == 0:
        raise InvalidInputError(
            f"channels=array(shape={h.shape}) is invalid: expected at least one device (K >= 1)"
        )
    power = check_scalar(power_w, "power_w", positive=True)
    noise = check_scalar(noise_w, "noise_w", positive=True)
    gamma = check_scalar(mse_target, "mse_target", positive=True)
    w = _check_weights(weights, h.shape[0])
    method = check_choice(method, "method", METHODS)
    # a fresh OS-seeded generator costs more than the "fast" method: make it only if used
    gen = check_rng(rng) if rng is not None or method in ("dc", "sdr", "all") else None
    opts = _check_options(method, options)

    k, n = h.shape
    # gamma_i = gamma P / (sigma^2 w_i^2); the kernel flags overflow (no NumPy warnings)
    G, bad = _kernels.scale_channels(h, gamma * power / noise, w, _GAIN_CAP)
    if bad >= 0:
        raise InvalidInputError(
            f"weights/power_w/noise_w/mse_target are invalid together: expected finite scaled "
            f"gains gamma_i ||h_i||^2 with gamma_i = mse_target * power_w / (noise_w * "
            f"weights_i^2), but device {bad} overflows (weights[{bad}]={w[bad]!r}, "
            f"power_w={power!r}, noise_w={noise!r}, mse_target={gamma!r})"
        )

    def solution(
        sel: NDArray[np.bool_], beam: NDArray[np.complex128], mse: float, status: str, obj: int
    ) -> AirCompSolution:
        return AirCompSolution(
            sel, beam, mse, status, method, iterations, time.perf_counter() - t0, obj, gamma, opts
        )

    selected = np.zeros(k, dtype=bool)
    m: NDArray[np.complex128] | None = None
    iterations = 0
    failures = 0
    if method == "all":
        assert gen is not None
        m, iterations = _best_beamformer_all(G, gen, opts["restarts"])
        mse = _mse(m, h, power, noise, w)
        status = st.FEASIBLE if mse <= gamma * (1 + 1e-6) else st.TARGET_MISSED
        return solution(np.ones(k, dtype=bool), m, mse, status, k)
    if method == "fast":
        selected, m, iterations = _kernels.greedy_select(
            G, opts["sca_outer"], opts["sca_inner"], opts["add_back"]
        )
        selected = np.asarray(selected, dtype=bool)
    elif method == "eig":
        selected, m = _kernels.eig_heuristic(G)
        selected = np.asarray(selected, dtype=bool)
        # dominant-direction evaluations: one per drop plus the successful one
        n_sel = int(selected.sum())
        iterations = k - n_sel + 1 if n_sel else k
    else:
        assert gen is not None
        # exact screening: |m^H g_i|^2 / ||m||^2 <= ||g_i||^2, so a device with ||g_i|| < 1
        # cannot be served even alone; the programs are built for the others only
        strong = np.flatnonzero(np.sum(np.abs(G) ** 2, axis=1) >= 1.0)
        if strong.size:
            sel_c, m, iterations, failures = _two_step(
                method, np.ascontiguousarray(G[strong]), opts, gen
            )
            selected[strong[sel_c]] = True

    selected, m, mse = _checked(G, h, power, noise, w, gamma, selected, m)
    if method in ("dc", "sdr") and not selected.any() and np.any(np.sum(np.abs(G) ** 2, 1) >= 1):
        # a servable device exists (a lone strong device is served by m = g_i), so an empty
        # result is a numerical failure of the programs: keep the cheap greedy's selection
        sel_f, m_f, _ = _kernels.greedy_select(G, _dc.SCA_OUTER, _dc.SCA_INNER, True)
        selected, m, mse = _checked(G, h, power, noise, w, gamma, np.asarray(sel_f, bool), m_f)
    if failures:
        status = st.SOLVER_ERROR
    elif selected.any():
        status = st.FEASIBLE
    else:
        status = st.INFEASIBLE
    if m is None or not selected.any():
        return solution(
            np.zeros(k, dtype=bool), np.zeros(n, dtype=np.complex128), float("inf"), status, 0
        )
    return solution(selected, m.astype(np.complex128), mse, status, int(selected.sum()))


def _checked(
    G: NDArray[np.complex128],
    h: NDArray[np.complex128],
    power: float,
    noise: float,
    w: NDArray[np.float64],
    gamma: float,
    selected: NDArray[np.bool_],
    m: NDArray[np.complex128] | None,
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None, float]:
    """The guarantee: check a selection with the exact MSE; repair it (:func:`_verify`) if
    it fails.  Returns the selection, its unit-norm beamformer and its MSE (``inf`` and an
    empty selection if nothing could be kept)."""
    mse = float("inf")
    if m is not None and selected.any():
        m = m / np.sqrt(np.vdot(m, m).real)
        mse = _mse(m, h, power, noise, w, selected)
    if mse <= gamma * (1 + 1e-6):
        return selected, m, mse
    selected, m = _verify(G, selected, m)
    if m is None or not selected.any():
        return np.zeros_like(selected), None, float("inf")
    m = m / np.linalg.norm(m)
    mse = _mse(m, h, power, noise, w, selected)
    if not mse <= gamma * (1 + 1e-6):  # pragma: no cover - margins >= 1 imply it
        raise AssertionError(f"internal error: verified selection has MSE {mse} > {gamma}")
    return selected, m, mse
