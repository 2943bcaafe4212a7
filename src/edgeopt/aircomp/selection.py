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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from edgeopt import status as st
from edgeopt._validation import (
    check_channels,
    check_choice,
    check_option_schema,
    check_powers,
    check_rng,
    check_scalar,
    check_weights,
    invalid_inputs,
)
from edgeopt.aircomp import _kernels
from edgeopt.aircomp._methods import all_devices, dc, eig, fast, sdr
from edgeopt.aircomp._methods._base import (
    FEASIBILITY_TOL,
    LIMIT_OPTIONS,
    SCA_INNER,
    SCA_OUTER,
    Limits,
    MethodResult,
    MethodSpec,
    SelectionProblem,
)
from edgeopt.aircomp.model import _mse
from edgeopt.status import SolverStats

__all__ = ["AirCompSolution", "select_devices", "METHODS"]

#: The dispatch table of :func:`select_devices`: one module per method, each with the same
#: function signature (see :mod:`edgeopt.aircomp._methods`).
_DISPATCH: dict[str, MethodSpec] = {
    "dc": MethodSpec(dc.select_dc, dc.OPTIONS, dc.RANDOMIZED),
    "sdr": MethodSpec(sdr.select_sdr, sdr.OPTIONS, sdr.RANDOMIZED),
    "fast": MethodSpec(fast.select_fast, fast.OPTIONS, fast.RANDOMIZED),
    "all": MethodSpec(all_devices.select_all, all_devices.OPTIONS, all_devices.RANDOMIZED),
    "eig": MethodSpec(eig.select_eig, eig.OPTIONS, eig.RANDOMIZED),
}

#: The device-selection methods of :func:`select_devices`.
METHODS = tuple(_DISPATCH)

#: Scaled channels are shrunk to ``||g_i||^2 <= _GAIN_CAP`` (see ``_kernels.scale_channels``):
#: a conservative restriction that keeps the solvers' data within a dynamic range of 1e6.
_GAIN_CAP = 1e6


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
        the target, possibly empty).  Test groups with :data:`edgeopt.status.SOLUTION_PRESENT`
        and the other groups of :mod:`edgeopt.status`.
    method : str
        The method that produced it.
    solve_time_s : float
        Wall-clock time of the whole selection, seconds (``stats.setup_time_s`` included).
    objective : int
        Number of selected devices.
    mse_target : float
        The target ``gamma``.
    stats : edgeopt.status.SolverStats
        ``solver_name``: the method, with the backend of ``"dc"`` and ``"sdr"``
        (``"dc/clarabel"``, ``"sdr/cvxpy"``, ``"fast"``...); ``iterations``: the method's
        outer iterations -- convex programs solved (``"dc"``, ``"sdr"``), max-min SCA runs
        (``"fast"``, ``"all"``), dominant-eigenvector evaluations (``"eig"``);
        ``setup_time_s``: input checks, channel scaling and building the programs.
        ``extra``: ``"failed_programs"`` (convex programs on which every solver failed),
        ``"dropped_by_check"`` (devices the exact MSE check removed from the method's
        selection) and ``"greedy_fallback"`` (whether the selection of ``"fast"`` replaced
        an empty one although a device was servable).
    options : dict
        The method options used (defaults filled in).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt import status
    >>> from edgeopt.aircomp import AirCompSolution, select_devices
    >>> h = np.array([[1.0 + 0j, 0j], [0j, 1.0 + 0j], [0.05 + 0j, 0j]])
    >>> sol = select_devices(h, power_w=1.0, noise_w=1.0, mse_target=4.0, method="fast")
    >>> isinstance(sol, AirCompSolution), sol.status in status.SOLUTION_PRESENT, sol.objective
    (True, True, 2)
    >>> sol.selected.tolist(), bool(sol.mse <= sol.mse_target), sol.mse_target
    ([True, True, False], True, 4.0)
    >>> sol.stats.solver_name, sol.stats.iterations
    ('fast', 1)
    """

    selected: NDArray[np.bool_]
    beamformer: NDArray[np.complex128]
    mse: float
    status: str
    method: str
    solve_time_s: float
    objective: int
    mse_target: float
    stats: SolverStats
    options: dict[str, Any] = field(default_factory=dict)


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
                np.ascontiguousarray(G[selected]), m, SCA_OUTER, SCA_INNER, 1.0
            )
    return selected, None


@overload
def select_devices(
    channels: np.ndarray[tuple[int, int], Any] | Sequence[Sequence[complex]],
    *,
    power_w: Any,
    noise_w: float,
    mse_target: float,
    weights: Any = None,
    method: str = "dc",
    rng: Any = None,
    **options: Any,
) -> AirCompSolution: ...


@overload
def select_devices(
    channels: np.ndarray[tuple[int, int, int], Any] | Sequence[Sequence[Sequence[complex]]],
    *,
    power_w: Any,
    noise_w: float,
    mse_target: float,
    weights: Any = None,
    method: str = "dc",
    rng: Any = None,
    **options: Any,
) -> list[AirCompSolution]: ...


def select_devices(
    channels: Any,
    *,
    power_w: Any,
    noise_w: float,
    mse_target: float,
    weights: Any = None,
    method: str = "dc",
    rng: Any = None,
    **options: Any,
) -> AirCompSolution | list[AirCompSolution]:
    """Select the most devices whose over-the-air aggregate meets an MSE target.

    Solves ``max |S|`` subject to ``MSE(m, S) <= mse_target`` over the device set ``S`` and
    the receive beamformer ``m`` (see :func:`~edgeopt.aircomp.model.aircomp_mse`).  Let
    ``gamma_i = mse_target * power_w / (noise_w * w_i^2)``; ``S`` is served by ``m`` iff
    ``||m||^2 <= gamma_i |m^H h_i|^2`` for every ``i`` in ``S``.

    Methods (one module each under ``edgeopt.aircomp._methods``, dispatched by name; every
    method function has the same signature and cites its sources):

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
    ``aircomp_mse(beamformer, channels[selected]) <= mse_target * (1 + 1e-6)`` (the one
    feasibility tolerance of the solvers).  See the user guide (AirComp page) for the
    equations.

    Numerical safeguards: scaled channels longer than ``||g_i||^2 = 1e6`` are shrunk to that
    length before any solver sees them (conservative: it only rules out beamformers within
    ``|cos|^2 < 1e-6`` of orthogonal to such a strong device, and bounds the dynamic range
    of the programs); if a method ends with nothing selected although a device is servable
    (a numerical failure, seen with ``"dc"`` and ``"sdr"``), the selection of the greedy
    ``"fast"`` method is returned instead (``stats.extra["greedy_fallback"]``); if
    every solver of the fallback chain fails on some program, the status is
    ``"solver_error"`` (with the best selection that passed the exact check).  The function
    is thread-safe (cached programs are per thread).

    Parameters
    ----------
    channels : array_like of complex, shape (K, N) or (B, K, N)
        Channel ``h_i`` of device ``i`` in row ``i``, ``K >= 1`` (a real array is a valid
        complex one).  With a leading batch axis, every draw ``b`` is solved (``"fast"``:
        in parallel over Numba threads; other methods: one after the other) with the rng
        stream ``rng.spawn(B)[b]``, and a list of ``B`` solutions is returned, each equal
        to the single call on that draw with that stream.
    power_w : float or array_like of float, shape (K,)
        Power budget in watts, ``> 0``: one ``P`` for every device or device ``i``'s own
        ``P_i`` (then ``gamma_i = mse_target * P_i / (noise_w * w_i^2)``).
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
        Method options: ``"dc"``: ``max_inner`` (linearizations per ``k``, default 3),
        ``tol`` (relative change that ends them, 1e-3), ``rank_weight`` (weight of the rank
        penalty, 1.0), ``max_rank_iter`` (DC rank-one iterations per feasibility test, 20),
        ``polish_samples`` (Gaussian draws from each relaxed solution used, with its top
        eigenvector, as starts of the max-min SCA that extracts a beamformer, 30),
        ``backend`` (``"clarabel"``: the programs handed to Clarabel directly, built once per
        call and updated between solves; ``"cvxpy"``: the cached CVXPY DPP programs solved
        by Clarabel with SCS as fallback); ``"sdr"``: ``randomizations`` (100), ``backend``;
        ``"fast"``: ``sca_outer`` (30), ``sca_inner``
        (40), ``drop_fraction`` (0.5), ``add_back`` (True), ``add_back_tries`` (None: 8
        with at most 16 antennas, 4 above),
        ``drop_outer`` (2: SCA iterations per bulk drop step);
        ``"all"``: ``restarts`` (8).  Every method: ``time_limit_s`` and
        ``max_iterations`` (default None): when one is reached, the best verified
        selection so far is returned with status ``"limit_reached"`` (``"all"``: still
        ``"target_missed"`` when it misses the target).

    Cost in ``K`` devices and ``N`` antennas: ``"fast"`` about ``O(K N log K + K N^2)``
    (SCA runs grow about logarithmically in ``K``, each ``O(K N)`` plus ``O(N^3)`` per
    iteration, never a ``K x K`` matrix); ``"all"`` ``O(restarts K N)``; ``"eig"``
    ``O(K N^2)`` per dropped device;
    ``"dc"`` and ``"sdr"`` ``O(log K)`` semidefinite programs (bisections and galloping
    steps), each with at most ``K`` constraints and a ``2N x 2N`` cone, plus max-min SCA
    runs of ``O(K N)`` per iteration (see the performance page).  Ctrl-C stops any call
    within about a
    second (``KeyboardInterrupt``).

    Returns
    -------
    AirCompSolution (a list of ``B`` of them for ``(B, K, N)`` channels)
        With ``status`` (see :mod:`edgeopt.status` for its groups), ``objective`` (the
        number of selected devices), ``solve_time_s`` and ``stats``
        (:class:`~edgeopt.status.SolverStats`; ``iterations`` counts convex programs for
        ``"dc"`` and ``"sdr"``, max-min SCA runs for ``"fast"`` and ``"all"``,
        dominant-eigenvector evaluations for ``"eig"``).

    Raises
    ------
    InvalidInputError
        Non-numeric or non-finite channels, wrong shapes, non-positive ``power_w``, ``noise_w``,
        ``mse_target`` or weights, an unknown method or option, or finite inputs whose
        scaled gains ``gamma_i ||h_i||^2`` overflow (e.g. a weight of ``1e-200``).

    References
    ----------
    K. Yang, T. Jiang, Y. Shi, Z. Ding, "Federated learning via over-the-air computation,"
    IEEE Trans. Wireless Commun., vol. 19, no. 3, pp. 2022-2035, 2020,
    DOI 10.1109/TWC.2019.2961673: problem (12), the sparse and low-rank program (17)-(20),
    the DC program (29) and Algorithm 2 (two-step framework); SDR with Gaussian
    randomization is their baseline (Z.-Q. Luo et al., IEEE Signal Process. Mag., 2010,
    DOI 10.1109/MSP.2010.936019).  Each method's own function cites what it implements.

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
    h = check_channels(channels, ndim=(2, 3), min_devices=1)
    k, n = h.shape[-2:]
    power = check_powers(power_w, k)
    noise = check_scalar(noise_w, "noise_w", positive=True)
    gamma = check_scalar(mse_target, "mse_target", positive=True)
    w = check_weights(weights, k)
    method = check_choice(method, "method", METHODS)
    spec = _DISPATCH[method]
    opts = check_option_schema(options, f"method={method!r}", {**spec.options, **LIMIT_OPTIONS})
    limits = Limits(opts["time_limit_s"], opts["max_iterations"], t0)
    # a fresh OS-seeded generator costs more than the "fast" method: make it only if used
    gen = check_rng(rng) if rng is not None or spec.randomized else None
    if h.ndim == 3:
        return _select_batch(h, power, noise, gamma, w, method, opts, gen, limits)
    return _select_one(h, power, noise, gamma, w, method, opts, gen, limits)


def _gain_ratio(power: NDArray[np.float64], noise: float, gamma: float) -> NDArray[np.float64]:
    """``gamma P_i / sigma^2`` per device (``(K,)``); an overflow gives ``inf``, which the
    scaling kernels flag (no NumPy warning)."""
    with np.errstate(over="ignore"):
        ratio: NDArray[np.float64] = gamma * power / noise
    return ratio


def _scaled(
    h: NDArray[np.complex128],
    power: NDArray[np.float64],
    noise: float,
    gamma: float,
    w: NDArray[np.float64],
) -> NDArray[np.complex128]:
    """The scaled channels ``g_i = sqrt(gamma P_i / (sigma^2 w_i^2)) h_i`` (``(K, N)``),
    each shrunk to ``||g_i||^2 <= 1e6``; overflowing gains raise, naming the inputs."""
    G, bad = _kernels.scale_channels(h, _gain_ratio(power, noise, gamma), w, _GAIN_CAP)
    if bad >= 0:
        raise invalid_inputs(
            f"weights[{bad}]={float(w[bad])!r}, power_w={float(power[bad])!r}, "
            f"noise_w={noise!r}, mse_target={gamma!r}",
            "finite scaled gains gamma_i ||h_i||^2 with gamma_i = mse_target * power_w / "
            f"(noise_w * weights_i^2), but device {bad} overflows",
        )
    out: NDArray[np.complex128] = G
    return out


def _select_one(
    h: NDArray[np.complex128],
    power: NDArray[np.float64],
    noise: float,
    gamma: float,
    w: NDArray[np.float64],
    method: str,
    opts: dict[str, Any],
    gen: np.random.Generator | None,
    limits: Limits,
) -> AirCompSolution:
    """:func:`select_devices` for one validated ``(K, N)`` draw."""
    t0 = time.perf_counter()
    spec = _DISPATCH[method]
    k, n = h.shape
    G = _scaled(h, power, noise, gamma, w)
    problem = SelectionProblem(h, G, power, noise, gamma, w, limits)
    setup = time.perf_counter() - t0
    method_opts = {key: v for key, v in opts.items() if key in spec.options}
    res = spec.run(problem, method_opts, gen)
    return _finish(problem, method, opts, res, setup, t0)


def _finish(
    problem: SelectionProblem,
    method: str,
    opts: dict[str, Any],
    res: MethodResult,
    setup: float,
    t0: float,
) -> AirCompSolution:
    """Check a method's result exactly and wrap it in an :class:`AirCompSolution`."""
    h, power, noise, w, gamma = (
        problem.channels,
        problem.power_w,
        problem.noise_w,
        problem.weights,
        problem.mse_target,
    )
    k, n = h.shape
    extra: dict[str, Any] = {
        "failed_programs": res.failed_programs,
        "dropped_by_check": 0,
        "greedy_fallback": False,
    }
    if res.fixed:
        assert res.beamformer is not None
        selected = res.selected
        unit = res.beamformer / np.linalg.norm(res.beamformer)
        mse = _mse(unit, h, power, noise, w, selected)
        m: NDArray[np.complex128] | None = unit
        if mse > gamma * (1 + FEASIBILITY_TOL):
            status = st.TARGET_MISSED
        else:
            status = st.LIMIT_REACHED if res.limit_reached else st.FEASIBLE
    else:
        selected, m, mse = _checked(problem, res.selected, res.beamformer)
        extra["dropped_by_check"] = int(res.selected.sum() - selected.sum())
        if not selected.any() and problem.servable().size and not res.limit_reached:
            # a servable device exists (a lone one is served by m = g_i), so an empty result
            # is a numerical failure of the method: keep the cheap greedy's selection
            defaults = check_option_schema({}, "method='fast'", fast.OPTIONS)
            greedy = fast.select_fast(problem, defaults, None)
            selected, m, mse = _checked(problem, greedy.selected, greedy.beamformer)
            extra["greedy_fallback"] = True
        if res.failed_programs:
            status = st.SOLVER_ERROR
        elif res.limit_reached:
            status = st.LIMIT_REACHED
        else:
            status = st.FEASIBLE if selected.any() else st.INFEASIBLE
    if m is None or not selected.any():
        selected, m, mse = np.zeros(k, dtype=bool), np.zeros(n, dtype=np.complex128), np.inf
    backend = opts.get("backend")
    stats = SolverStats(
        method if backend is None else f"{method}/{backend}",
        iterations=res.iterations,
        setup_time_s=setup + res.setup_time_s,
        extra=extra,
    )
    return AirCompSolution(
        selected=selected,
        beamformer=m.astype(np.complex128),
        mse=float(mse),
        status=status,
        method=method,
        solve_time_s=time.perf_counter() - t0,
        objective=int(selected.sum()),
        mse_target=gamma,
        stats=stats,
        options=opts,
    )


def _select_batch(
    h: NDArray[np.complex128],
    power: NDArray[np.float64],
    noise: float,
    gamma: float,
    w: NDArray[np.float64],
    method: str,
    opts: dict[str, Any],
    gen: np.random.Generator | None,
    limits: Limits,
) -> list[AirCompSolution]:
    """:func:`select_devices` for every draw of validated ``(B, K, N)`` channels."""
    b = h.shape[0]
    streams: list[np.random.Generator | None] = list(gen.spawn(b)) if gen else [None] * b
    if method != "fast":
        # the two-step methods spend their time in the solvers: one call per draw
        return [
            _select_one(h[i], power, noise, gamma, w, method, opts, streams[i], limits)
            for i in range(b)
        ]
    t0 = time.perf_counter()
    G, bad = _kernels.scale_channels_batch(h, _gain_ratio(power, noise, gamma), w, _GAIN_CAP)
    if bad >= 0:
        _scaled(h[bad], power, noise, gamma, w)  # raises, naming the inputs
    setup = (time.perf_counter() - t0) / b
    method_opts = {key: v for key, v in opts.items() if key in fast.OPTIONS}
    sel, ms, runs, cut = fast.select_fast_batch(G, method_opts, limits)
    spent = (time.perf_counter() - t0) / b  # the batch's time, shared equally
    out = []
    for i in range(b):
        t1 = time.perf_counter()
        problem = SelectionProblem(h[i], G[i], power, noise, gamma, w, limits)
        res = MethodResult(sel[i], ms[i], int(runs[i]), limit_reached=bool(cut[i]))
        # its solve time: the batch's share plus its own check
        out.append(_finish(problem, method, opts, res, setup, t1 - spent))
    return out


def _checked(
    problem: SelectionProblem,
    selected: NDArray[np.bool_],
    m: NDArray[np.complex128] | None,
) -> tuple[NDArray[np.bool_], NDArray[np.complex128] | None, float]:
    """The guarantee: check a selection with the exact MSE; repair it (:func:`_verify`) if
    it fails.  Returns the selection, its unit-norm beamformer and its MSE (``inf`` and an
    empty selection if nothing could be kept)."""
    h, power, noise, w = problem.channels, problem.power_w, problem.noise_w, problem.weights
    bound = problem.mse_target * (1 + FEASIBILITY_TOL)
    mse = float("inf")
    if m is not None and selected.any():
        m = m / np.sqrt(np.vdot(m, m).real)
        mse = _mse(m, h, power, noise, w, selected)
    if mse <= bound:
        return selected, m, mse
    selected, m = _verify(problem.scaled, selected, m)
    if m is None or not selected.any():
        return np.zeros_like(selected), None, float("inf")
    m = m / np.linalg.norm(m)
    mse = _mse(m, h, power, noise, w, selected)
    if not mse <= bound:  # pragma: no cover - margins >= 1 imply it
        raise AssertionError(f"internal error: verified selection has MSE {mse} > {bound}")
    return selected, m, mse
