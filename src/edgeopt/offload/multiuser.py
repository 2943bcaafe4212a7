"""Joint offloading decisions and resource allocation for N users sharing a band and a server.

User ``i`` has a task of ``d_i`` input bits and ``c_i`` CPU cycles.  Computed locally at
``f_i`` it costs ``L_i = lambda_t c_i / f_i + lambda_e kappa_i c_i f_i^2``.  Offloaded, it
gets ``b_i`` Hz of the shared uplink band ``B`` (OFDMA, rate
``r_i = b_i log2(1 + p_i g_i / (N0 b_i))``) and ``F_i`` cycle/s of the server CPU ``F``, and
costs ``lambda_t (d_i / r_i + c_i / F_i) + lambda_e p_i d_i / r_i``.  The problem is

.. math::

    \\min_{x \\in \\{0,1\\}^N,\\ b,\\ F} \\sum_i (1 - x_i) L_i
        + x_i \\Big[ \\frac{(\\lambda_t + \\lambda_e p_i) d_i}{r_i(b_i)}
        + \\frac{\\lambda_t c_i}{F_i} \\Big]
    \\quad \\text{s.t.} \\quad \\sum_i x_i b_i \\le B, \\quad \\sum_i x_i F_i \\le F.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt import status as st
from edgeopt._validation import (
    check_array,
    check_choice,
    check_int,
    check_mask,
    check_option_schema,
    check_rng,
    check_scalar,
    invalid_input,
)
from edgeopt.offload._multiuser import exact, greedy, milp, relax_round
from edgeopt.offload._multiuser._base import Arrays, MethodSpec, allocation
from edgeopt.status import SolverStats
from edgeopt.system import System, drop_devices

__all__ = ["MultiUserOffloading", "OffloadingResult", "MULTIUSER_METHODS"]

_DISPATCH: dict[str, MethodSpec] = {
    "exact": MethodSpec(exact.solve_exact, exact.OPTIONS),
    "milp": MethodSpec(milp.solve_milp, milp.OPTIONS),
    "relax-round": MethodSpec(relax_round.solve_relax_round, relax_round.OPTIONS),
    "greedy": MethodSpec(greedy.solve_greedy, greedy.OPTIONS),
}

#: The methods of :meth:`MultiUserOffloading.solve`.
MULTIUSER_METHODS = tuple(_DISPATCH)


@dataclass(frozen=True)
class OffloadingResult:
    """Result of :meth:`MultiUserOffloading.solve`.

    Parameters
    ----------
    decision : numpy.ndarray of bool, shape (N,)
        Users that offload.
    bandwidth_hz : numpy.ndarray of float64, shape (N,)
        Band of each offloading user (0 for local users), Hz.
    server_cpu_hz : numpy.ndarray of float64, shape (N,)
        Server CPU of each offloading user, cycle/s.
    cost : float
        The objective of ``decision`` with this allocation.  For ``"milp"`` the allocation
        is in whole blocks and shares, so ``cost >= problem.cost(decision)``.
    objective : float
        ``cost``.
    lower_bound : float or None
        A proven lower bound of the (continuous) optimum where the method has one
        (``"exact"``: the cost itself when optimal; ``"relax-round"``: the relaxation
        bound); ``None`` otherwise.  For ``"milp"``, a bound of the discretized problem is
        its cost (``status="optimal"``).
    gap : float or None
        ``(cost - lower_bound) / cost`` where a bound exists.
    status : str
        ``"optimal"`` (``"exact"``, ``"milp"`` for its discretized problem), ``"feasible"``
        (heuristics), ``"limit_reached"`` or ``"solver_error"``.
    method : str
    solve_time_s : float
    stats : edgeopt.status.SolverStats
        ``iterations``: ``"exact"``: nodes bounded; ``"milp"``: 1 program; ``"relax-round"``:
        Frank–Wolfe steps; ``"greedy"``: cost evaluations.

    Examples
    --------
    >>> from edgeopt.offload import MultiUserOffloading
    >>> res = MultiUserOffloading.random(5, rng=2).solve("relax-round")
    >>> res.decision.shape, res.status, res.gap is not None
    ((5,), 'feasible', True)
    """

    decision: NDArray[np.bool_]
    bandwidth_hz: NDArray[np.float64]
    server_cpu_hz: NDArray[np.float64]
    cost: float
    objective: float
    lower_bound: float | None
    gap: float | None
    status: str
    method: str
    solve_time_s: float
    stats: SolverStats


@dataclass(frozen=True)
class MultiUserOffloading:
    """N users choosing local computing or offloading over a shared band and server CPU.

    Parameters
    ----------
    input_bits : array_like, shape (N,)
        Task input ``d_i``, bits (> 0).
    cycles : array_like, shape (N,)
        Task CPU cycles ``c_i`` (> 0).
    cpu_freq_hz : array_like, shape (N,)
        Local CPU frequency ``f_i``, Hz (> 0).
    kappa : array_like, shape (N,)
        Effective switched capacitance ``kappa_i`` (> 0).
    tx_power_w : array_like, shape (N,)
        Transmit power ``p_i``, W (> 0).
    channel_gain : array_like, shape (N,)
        Uplink power gain ``g_i`` (linear, > 0).
    noise_psd_w_per_hz : float
        Noise power spectral density ``N0``, W/Hz (> 0).
    bandwidth_hz : float
        Shared uplink band ``B``, Hz (> 0).
    server_cpu_freq_hz : float
        Server CPU ``F``, cycle/s (> 0).
    weight_time, weight_energy : float
        ``lambda_t`` (per second) and ``lambda_e`` (per joule), ``>= 0``, ``lambda_t > 0``.

    Examples
    --------
    >>> from edgeopt.offload import MultiUserOffloading
    >>> prob = MultiUserOffloading.random(6, rng=0)
    >>> res = prob.solve("exact")
    >>> res.status, bool(abs(res.cost - prob.cost(res.decision)) < 1e-9 * res.cost)
    ('optimal', True)
    """

    input_bits: NDArray[np.float64]
    cycles: NDArray[np.float64]
    cpu_freq_hz: NDArray[np.float64]
    kappa: NDArray[np.float64]
    tx_power_w: NDArray[np.float64]
    channel_gain: NDArray[np.float64]
    noise_psd_w_per_hz: float
    bandwidth_hz: float
    server_cpu_freq_hz: float
    weight_time: float = 1.0
    weight_energy: float = 1.0
    _arrays: Arrays = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        d = check_array(self.input_bits, "input_bits", ndim=1, positive=True, allow_empty=False)
        n = d.shape[0]
        vals = {"input_bits": d}
        for name in ("cycles", "cpu_freq_hz", "kappa", "tx_power_w", "channel_gain"):
            arr = check_array(getattr(self, name), name, ndim=(0, 1), positive=True)
            if arr.ndim == 1 and arr.shape[0] != n:
                raise invalid_input(name, arr, f"a positive number or an array of length {n}")
            vals[name] = np.broadcast_to(arr, (n,)).copy()
        for name, arr in vals.items():
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        for name in ("noise_psd_w_per_hz", "bandwidth_hz", "server_cpu_freq_hz"):
            object.__setattr__(self, name, check_scalar(getattr(self, name), name, positive=True))
        lt = check_scalar(self.weight_time, "weight_time", positive=True)
        le = check_scalar(self.weight_energy, "weight_energy", nonneg=True)
        object.__setattr__(self, "weight_time", lt)
        object.__setattr__(self, "weight_energy", le)
        c, f, k, p = vals["cycles"], vals["cpu_freq_hz"], vals["kappa"], vals["tx_power_w"]
        local = lt * c / f + le * k * c * f**2
        arrays = Arrays(
            local=local,
            w=(lt + le * p) * d,
            a=lt * c,
            s=p * vals["channel_gain"] / self.noise_psd_w_per_hz,
            bandwidth_hz=self.bandwidth_hz,
            server_cpu_hz=self.server_cpu_freq_hz,
        )
        object.__setattr__(self, "_arrays", arrays)

    @property
    def num_users(self) -> int:
        """N, the number of users.

        Examples
        --------
        >>> from edgeopt.offload import MultiUserOffloading
        >>> MultiUserOffloading.random(3, rng=0).num_users
        3
        """
        return int(self.input_bits.shape[0])

    @property
    def local_cost(self) -> NDArray[np.float64]:
        """``L_i``, each user's cost computed locally, shape ``(N,)``.

        Examples
        --------
        >>> from edgeopt.offload import MultiUserOffloading
        >>> bool((MultiUserOffloading.random(3, rng=0).local_cost > 0).all())
        True
        """
        return self._arrays.local.copy()

    def cost(self, decision: Any) -> float:
        """Optimal cost of a fixed offloading decision (its allocation solved exactly).

        For the offloading set ``S`` the server CPU split is
        ``F_i = F sqrt(a_i) / sum_S sqrt(a_j)`` (value ``(sum_S sqrt(a_j))^2 / F``,
        ``a_i = lambda_t c_i``) and the band split solves the KKT condition
        ``w_i r_i'(b_i) / r_i(b_i)^2 = mu`` with ``sum b_i = B`` (``w_i = (lambda_t +
        lambda_e p_i) d_i``) by nested bisection; both subproblems are convex.

        Parameters
        ----------
        decision : array_like of bool, shape (N,)
            Users that offload.

        Returns
        -------
        float

        Raises
        ------
        InvalidInputError
            If ``decision`` is not a boolean mask of length N.

        Examples
        --------
        >>> import numpy as np
        >>> from edgeopt.offload import MultiUserOffloading
        >>> prob = MultiUserOffloading.random(3, rng=0)
        >>> bool(prob.cost(np.zeros(3, bool)) == prob.local_cost.sum())
        True
        """
        mask = check_mask(decision, "decision", self.num_users)
        return allocation(self._arrays, mask).cost

    def allocation(self, decision: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The optimal ``(bandwidth_hz, server_cpu_hz)`` of a fixed decision, shapes ``(N,)``.

        Examples
        --------
        >>> import numpy as np
        >>> from edgeopt.offload import MultiUserOffloading
        >>> prob = MultiUserOffloading.random(4, rng=1)
        >>> b, f = prob.allocation(np.ones(4, bool))
        >>> bool(abs(b.sum() - prob.bandwidth_hz) < 1e-6 * prob.bandwidth_hz)
        True
        """
        mask = check_mask(decision, "decision", self.num_users)
        out = allocation(self._arrays, mask)
        return out.bandwidth_hz, out.server_cpu_hz

    def solve(self, method: str = "exact", **options: Any) -> OffloadingResult:
        """Choose who offloads and allocate the band and the server CPU.

        Methods (one module each, the same signature, dispatched by name):

        * ``"exact"`` -- best-first branch and bound; each node's bound is the Lagrangian
          lower bound of the perspective relaxation (jointly convex, equal to the cost at
          0/1 points), so the result is optimal.  Options ``relax_iterations`` (30),
          ``time_limit_s`` (None).  Exponential in the worst case; see the performance page.
        * ``"milp"`` -- the band in ``num_blocks`` (20) integer resource blocks and the CPU
          in ``num_shares`` (20) integer shares, one-hot per user: an exact MILP of the
          discretized problem, solved by HiGHS (through CVXPY).  ``time_limit_s`` (None).
        * ``"relax-round"`` -- the relaxation solved by Frank–Wolfe, rounded by the best
          of up to ``max_rounding_candidates`` (64) thresholds; gives a lower bound too.
        * ``"greedy"`` -- users added in order of stand-alone saving while the cost drops.

        Parameters
        ----------
        method : {"exact", "milp", "relax-round", "greedy"}
        **options
            The method's options above.

        Returns
        -------
        OffloadingResult

        Raises
        ------
        InvalidInputError
            An unknown method or option, or a bad option value.

        Examples
        --------
        >>> from edgeopt.offload import MultiUserOffloading
        >>> prob = MultiUserOffloading.random(8, rng=3)
        >>> best = prob.solve("exact")
        >>> heur = prob.solve("greedy")
        >>> best.status, heur.status, bool(heur.cost >= best.cost * (1 - 1e-9))
        ('optimal', 'feasible', True)
        """
        start = time.perf_counter()
        method = check_choice(method, "method", MULTIUSER_METHODS)
        spec = _DISPATCH[method]
        opts = check_option_schema(options, f"method={method!r}", spec.options)
        setup = time.perf_counter() - start
        out = spec.func(self._arrays, opts, self)
        alloc = out.allocation
        lower = out.lower_bound
        if method == "exact" and out.status == st.OPTIMAL:
            lower = alloc.cost
        gap = None
        if lower is not None:
            gap = max(0.0, (alloc.cost - lower) / alloc.cost) if alloc.cost > 0 else 0.0
        extra = dict(out.extra)
        return OffloadingResult(
            decision=alloc.decision,
            bandwidth_hz=alloc.bandwidth_hz,
            server_cpu_hz=alloc.server_cpu_hz,
            cost=alloc.cost,
            objective=alloc.cost,
            lower_bound=lower,
            gap=gap,
            status=out.status,
            method=method,
            solve_time_s=time.perf_counter() - start,
            stats=SolverStats(out.solver_name, out.iterations, setup, extra),
        )

    @classmethod
    def from_system(
        cls,
        system: System,
        tasks: Mapping[str, Any],
        *,
        rng: Any = None,
        weight_time: float = 1.0,
        weight_energy: float = 1.0,
    ) -> MultiUserOffloading:
        """The problem for the devices of a system and their tasks.

        Powers, CPUs and capacitances are the devices'; the band, noise density and server
        CPU the base station's.  The gain ``g_i`` is ``||h_i||^2`` of one channel draw
        (maximum-ratio combining) when ``rng`` is given, else its mean
        ``N beta_i`` (path gain times antennas).

        Parameters
        ----------
        system : edgeopt.system.System
        tasks : mapping
            ``"input_bits"`` and ``"cycles"``, each a number or an array of shape ``(K,)``.
        rng : numpy.random.Generator, int or None
            Channel draw; ``None`` uses the mean gain.
        weight_time, weight_energy : float

        Returns
        -------
        MultiUserOffloading

        Raises
        ------
        InvalidInputError
            If ``tasks`` lacks a key or a value is bad.

        Examples
        --------
        >>> from edgeopt.system import drop_devices
        >>> from edgeopt.offload import MultiUserOffloading
        >>> system = drop_devices(5, rng=0)
        >>> prob = MultiUserOffloading.from_system(system, {"input_bits": 1e6, "cycles": 1e9})
        >>> prob.num_users, prob.bandwidth_hz == system.base_station.bandwidth_hz
        (5, True)
        """
        if not isinstance(system, System):
            raise invalid_input("system", system, "an edgeopt.system.System")
        if not isinstance(tasks, Mapping) or set(tasks) != {"input_bits", "cycles"}:
            raise invalid_input("tasks", tasks, "a mapping with keys 'input_bits' and 'cycles'")
        k = system.num_devices
        if rng is None:
            gain = system.path_gain() * system.num_antennas
        else:
            h = system.channels(check_rng(rng))
            gain = np.sum(np.abs(h) ** 2, axis=-1)
        dev = system.devices

        def per_device(name: str) -> NDArray[np.float64]:
            arr = check_array(tasks[name], f"tasks[{name!r}]", ndim=(0, 1), positive=True)
            if arr.ndim == 1 and arr.shape[0] != k:
                raise invalid_input(f"tasks[{name!r}]", arr, f"a number or a length-{k} array")
            return np.broadcast_to(arr, (k,)).copy()

        return cls(
            input_bits=per_device("input_bits"),
            cycles=per_device("cycles"),
            cpu_freq_hz=np.asarray(dev.cpu_freq_hz),
            kappa=np.asarray(dev.kappa),
            tx_power_w=np.asarray(dev.tx_power_w),
            channel_gain=gain,
            noise_psd_w_per_hz=system.noise_psd_w_per_hz,
            bandwidth_hz=system.base_station.bandwidth_hz,
            server_cpu_freq_hz=system.base_station.server_cpu_freq_hz,
            weight_time=weight_time,
            weight_energy=weight_energy,
        )

    @classmethod
    def random(cls, num_users: int, rng: Any = None) -> MultiUserOffloading:
        """A typical instance: users dropped in a macro cell with tasks of a few Mbit.

        :func:`edgeopt.system.drop_devices` (3GPP macro-cell defaults: 10 MHz band,
        23 dBm) with CPUs log-uniform on 0.5-2 GHz; tasks of 0.2-2 Mbit and 0.5-2 Gcycles;
        one Rayleigh channel draw; weights ``lambda_t = lambda_e = 1``.

        Parameters
        ----------
        num_users : int
        rng : numpy.random.Generator, int or None

        Returns
        -------
        MultiUserOffloading

        Examples
        --------
        >>> from edgeopt.offload import MultiUserOffloading
        >>> MultiUserOffloading.random(4, rng=0).num_users
        4
        """
        n = check_int(num_users, "num_users")
        gen = check_rng(rng)
        system = drop_devices(n, rng=gen, cpu_freq_hz=(5e8, 2e9))
        tasks = {
            "input_bits": gen.uniform(2e5, 2e6, n),
            "cycles": gen.uniform(5e8, 2e9, n),
        }
        return cls.from_system(system, tasks, rng=gen)
