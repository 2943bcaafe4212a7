"""Low-rank interference alignment for the data shuffle of wireless distributed computing.

With one-shot linear precoders v_j (one per message) and decoders u_(i,a) (one per virtual
receiver: a receiver i paired with a message a it wants), message a is decoded free of
interference iff X_(i,a),j = u_(i,a)ᴴ v_j satisfies

    X_(i,a),a = 1,   X_(i,a),j = 0 for every j that interferes at i,   X_(i,a),j free

where receiver i already holds message j (its side information cancels it).  With
precoders and decoders of dimension rank(X) the shuffle achieves the symmetric degrees of
freedom 1/rank(X), so the design is the low-rank matrix completion problem

    minimize rank(X)  subject to  X_Ω = P_Ω                                     (P)

over the fixed entries Ω of the pattern P (Yang, Shi, Ding, IEEE TSP 2019).  The methods
here work with real matrices (a real completion is a complex one).

Methods of :func:`minimize_rank`:

* ``"nuclear"``: the convex relaxation min ‖X‖_* s.t. X_Ω = P_Ω (CVXPY; SCS, Clarabel as
  fallback); the rank is the number of singular values above
  :data:`RANK_THRESHOLD` times the largest, certified by a rank-k completion;
* ``"dc"``: the difference-of-convex algorithm of the paper: for k = 1, 2, ... minimize
  ‖X‖_* − ‖X‖_(k) (the nuclear norm minus the Ky Fan k-norm, zero iff rank X <= k) by
  successive linearization of the Ky Fan norm, started from the nuclear-norm solution,
  until a rank-k completion is found; never worse than ``"nuclear"``;
* ``"altmin"``: fixed-rank alternating least squares on the fixed entries, with a bisection
  over the rank (no convex program: fast and usable for large patterns).

Every claimed rank comes with a completed matrix of that rank whose largest error on the
fixed entries is at most :data:`RESIDUAL_TOL`.  Each method starts from the always-valid
completion that sets the free entries to 0 (rank at most the number of messages: the
TDMA-like scheme), so a result is never worse than that.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgeopt import status as st
from edgeopt._validation import (
    check_alignment_pattern,
    check_choice,
    check_int,
    check_rng,
    invalid_input,
)
from edgeopt.coding.cdc import CDCScheme
from edgeopt.status import SolverStats

__all__ = [
    "RankResult",
    "minimize_rank",
    "shuffle_alignment_matrix",
    "RANK_METHODS",
    "RESIDUAL_TOL",
    "RANK_THRESHOLD",
]

#: The largest error on the fixed entries of a completion whose rank is claimed.
RESIDUAL_TOL = 1e-6
#: ``"nuclear"`` reads the rank of its solution as the number of singular values above this
#: fraction of the largest one (then certifies it with a rank-k completion).
RANK_THRESHOLD = 1e-6
#: Ridge weight of the alternating least-squares steps (keeps the factors bounded where a
#: row or column has fewer fixed entries than the rank).
_RIDGE = 1e-10
#: Weight ρ of the proximal term (ρ/2)‖X − X_t‖_F² added to each DC step: it makes every
#: step strongly convex (the linearized objective is flat along some directions otherwise)
#: and keeps the DC objective non-increasing.
_PROXIMAL = 0.01
#: SCS first (measured: on a 30 x 30 pattern one program takes about 0.03 s with SCS and
#: about 7 s with Clarabel's interior point), Clarabel if SCS fails.  Every rank is
#: certified afterwards, so the first-order solver's accuracy does not affect a claim.
_SCS_SETTINGS: dict[str, Any] = {"eps_abs": 1e-7, "eps_rel": 1e-7, "max_iters": 10_000}


@dataclass(frozen=True)
class RankResult:
    """Result of :func:`minimize_rank`.

    Parameters
    ----------
    status : str
        ``"optimal"`` when the rank is 1 (the least possible with a wanted entry);
        ``"feasible"`` for any other certified completion; ``"solver_error"`` when every
        convex solver failed (the matrix is then the zero-filled completion, still valid).
    objective : float
        The rank, as a float.
    rank : int
        Rank of ``matrix``, which is the product of two factors with ``rank`` columns.
    dof : float
        Symmetric degrees of freedom 1 / rank.
    matrix : numpy.ndarray of float64, shape (R, M)
        The completed matrix X.
    residual : float
        max over the fixed entries of |X − P| (<= :data:`RESIDUAL_TOL`).
    method : str
    solve_time_s : float
    stats : SolverStats
        ``iterations``: convex programs solved (``"nuclear"``, ``"dc"``) or alternating
        least-squares runs (``"altmin"``).  ``extra``: ``"ranks_tried"`` (list of int),
        ``"nuclear_norm"`` (float, the relaxation's optimum, for ``"nuclear"`` and ``"dc"``).
    """

    status: str
    objective: float
    rank: int
    dof: float
    matrix: NDArray[np.float64]
    residual: float
    method: str
    solve_time_s: float
    stats: SolverStats = field(default_factory=lambda: SolverStats("none", None))


# -- shared pieces --------------------------------------------------------------------------


@dataclass
class _Problem:
    pattern: NDArray[np.float64]
    mask: NDArray[np.float64]  # 1.0 on fixed entries
    target: NDArray[np.float64]  # pattern with free entries set to 0
    rng: np.random.Generator
    options: dict[str, Any]
    programs: int = 0
    runs: int = 0
    ranks_tried: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Completion:
    rank: int
    matrix: NDArray[np.float64]
    residual: float
    solver: str


def _residual(prob: _Problem, x: NDArray[np.float64]) -> float:
    return float(np.max(np.abs(x - prob.target) * prob.mask))


def _zero_fill(prob: _Problem) -> _Completion:
    """The completion with every free entry 0; its rank is at most the number of messages."""
    x = prob.target.copy()
    rank = int(np.linalg.matrix_rank(x))
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    # keep it as an exact product of rank-k factors (the 0/1 matrix itself, up to rounding)
    xk = (u[:, :rank] * s[:rank]) @ vt[:rank]
    if _residual(prob, xk) <= RESIDUAL_TOL:
        x = xk
    return _Completion(rank, x, _residual(prob, x), "zero-fill")


def _als(
    prob: _Problem, u: NDArray[np.float64], v: NDArray[np.float64], iterations: int
) -> tuple[NDArray[np.float64], float]:
    """Alternating least squares for X = U Vᵀ on the fixed entries, from (U, V)."""
    m, t = prob.mask, prob.target * prob.mask
    k = u.shape[1]
    eye = _RIDGE * np.eye(k)
    x = u @ v.T
    res = best = _residual(prob, x)
    prob.runs += 1
    stalled = 0
    for _ in range(iterations):
        gram = np.einsum("ij,jk,jl->ikl", m, v, v) + eye
        u = np.linalg.solve(gram, (t @ v)[:, :, None])[:, :, 0]
        gram = np.einsum("ji,jk,jl->ikl", m, u, u) + eye
        v = np.linalg.solve(gram, (t.T @ u)[:, :, None])[:, :, 0]
        x = u @ v.T
        res = _residual(prob, x)
        if res <= RESIDUAL_TOL * 1e-3:
            break
        if res < 0.999 * best:
            best, stalled = res, 0
        else:
            stalled += 1  # no progress: a fresh start is more useful than more sweeps
            if stalled >= 50:
                break
    return x, res


def _certify(prob: _Problem, x: NDArray[np.float64], k: int) -> _Completion | None:
    """A rank-k completion near ``x``: truncated SVD, polished by least squares if needed."""
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    root = np.sqrt(s[:k])
    uf, vf = u[:, :k] * root, vt[:k].T * root
    xk = uf @ vf.T
    res = _residual(prob, xk)
    if res > RESIDUAL_TOL:
        xk, res = _als(prob, uf, vf, int(prob.options["polish_iterations"]))
    if res > RESIDUAL_TOL:
        # a degenerate spectrum (e.g. an identity-like X) gives factors with zero rows that
        # least squares never leaves: start once more from slightly perturbed factors
        scale = 0.1 * max(1.0, float(np.max(np.abs(uf))), float(np.max(np.abs(vf))))
        up = uf + scale * prob.rng.standard_normal(uf.shape)
        vp = vf + scale * prob.rng.standard_normal(vf.shape)
        xk, res = _als(prob, up, vp, int(prob.options["polish_iterations"]))
    if res <= RESIDUAL_TOL:
        return _Completion(k, xk, res, "")
    return None


def _random_completion(prob: _Problem, k: int) -> _Completion | None:
    """Rank-k alternating least squares from random starts (``restarts`` of them)."""
    r_rows, m_cols = prob.pattern.shape
    for _ in range(int(prob.options["restarts"])):
        u = prob.rng.standard_normal((r_rows, k))
        v = prob.rng.standard_normal((m_cols, k))
        x, res = _als(prob, u, v, int(prob.options["iterations"]))
        if res <= RESIDUAL_TOL:
            return _Completion(k, x, res, "als")
    return None


class _Program:
    """min ‖X‖_* − ⟨W, X⟩ s.t. X_Ω = P_Ω, built once per pattern (W a CVXPY Parameter)."""

    def __init__(self, prob: _Problem) -> None:
        import cvxpy as cp

        self.cp = cp
        shape = prob.pattern.shape
        self.x = cp.Variable(shape)
        self.w = cp.Parameter(shape)
        self.center = cp.Parameter(shape)
        self.weight = cp.Parameter(nonneg=True)
        objective = cp.Minimize(
            cp.normNuc(self.x)
            - cp.sum(cp.multiply(self.w, self.x))
            + self.weight * cp.sum_squares(self.x - self.center)
        )
        constraints = [cp.multiply(prob.mask, self.x) == prob.target * prob.mask]
        self.problem = cp.Problem(objective, constraints)
        self.solver_used = ""

    def solve(
        self,
        prob: _Problem,
        w: NDArray[np.float64],
        center: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64] | None:
        cp = self.cp
        self.w.value = w
        self.weight.value = 0.0 if center is None else _PROXIMAL / 2
        self.center.value = np.zeros(w.shape) if center is None else center
        prob.programs += 1
        for solver in (cp.SCS, cp.CLARABEL):
            try:
                kwargs: dict[str, Any] = _SCS_SETTINGS if solver == cp.SCS else {}
                with warnings.catch_warnings():  # an inaccurate solution is certified anyway
                    warnings.simplefilter("ignore")
                    self.problem.solve(solver=solver, warm_start=True, **kwargs)
            except cp.SolverError:
                continue
            if self.problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and (
                self.x.value is not None
            ):
                self.solver_used = solver.lower()
                return np.asarray(self.x.value, dtype=np.float64)
        return None


def _read_rank(x: NDArray[np.float64]) -> int:
    s = np.linalg.svd(x, compute_uv=False)
    return max(1, int(np.sum(s > RANK_THRESHOLD * s[0])))


def _nuclear_solution(
    prob: _Problem, upper: _Completion
) -> tuple[_Completion | None, NDArray[np.float64] | None, _Program | None]:
    """Solve the relaxation and certify the rank read off it (or the next larger ones)."""
    program = _Program(prob)
    x = program.solve(prob, np.zeros(prob.pattern.shape))
    if x is None:
        return None, None, program
    prob.extra["nuclear_norm"] = float(np.sum(np.linalg.svd(x, compute_uv=False)))
    name = "nuclear/" + program.solver_used
    for k in range(_read_rank(x), upper.rank):
        prob.ranks_tried.append(k)
        found = _certify(prob, x, k)
        if found is not None:
            found.solver = name
            return found, x, program
    return _Completion(upper.rank, upper.matrix, upper.residual, name), x, program


# -- the methods (same signature) -----------------------------------------------------------


def _rank_nuclear(prob: _Problem, upper: _Completion) -> _Completion | None:
    """Nuclear-norm relaxation: min ‖X‖_* s.t. X_Ω = P_Ω, rank read off by a threshold.

    References
    ----------
    E. J. Candès, B. Recht, "Exact matrix completion via convex optimization", Found.
    Comput. Math. 9, 2009, doi:10.1007/s10208-009-9045-5, eq. (1.5); K. Yang, Y. Shi,
    Z. Ding, "Data shuffling in wireless distributed computing via low-rank optimization",
    IEEE Trans. Signal Process. 67(12), 2019, doi:10.1109/TSP.2019.2912139, Sec. III-B
    (nuclear-norm relaxation of the rank problem).
    """
    found, _, _ = _nuclear_solution(prob, upper)
    return found


def _rank_dc(prob: _Problem, upper: _Completion) -> _Completion | None:
    """DC algorithm: min ‖X‖_* − ‖X‖_(k) for increasing k, by successive linearization.

    For a given k, ‖X‖_* − ‖X‖_(k) = Σ_{i>k} σ_i(X) >= 0 vanishes iff rank X <= k.  The Ky
    Fan k-norm is convex, so at X_t it is minorized by ⟨U_k V_kᵀ, X⟩ (U_k, V_k the top-k
    singular vectors of X_t: a subgradient), and each step solves the convex program
    min ‖X‖_* − ⟨U_k V_kᵀ, X⟩ + (ρ/2)‖X − X_t‖_F² s.t. X_Ω = P_Ω (a proximal
    linearization, ρ = 0.01), which never increases the DC objective.  After each step the
    iterate is truncated to rank k and polished by least squares on the fixed entries; k
    is given up when the tail Σ_{i>k} σ_i stops decreasing (by less than 0.1 %).
    The iterations start from the nuclear-norm solution; k runs from 1 up to the rank
    certified by the relaxation, so the result is never worse than ``"nuclear"``.

    References
    ----------
    K. Yang, Y. Shi, Z. Ding, "Data shuffling in wireless distributed computing via low-rank
    optimization", IEEE Trans. Signal Process. 67(12), 2019, doi:10.1109/TSP.2019.2912139,
    Sec. IV (the DC representation of the rank constraint via the Ky Fan k-norm, and its
    successive linearization, Algorithm 1).
    """
    base, x0, program = _nuclear_solution(prob, upper)
    if base is None or x0 is None or program is None:
        return None
    best = base
    tol = float(prob.options["dc_tol"])
    x = x0
    for k in range(1, best.rank):
        prob.ranks_tried.append(k)
        found = _certify(prob, x, k)
        s = np.linalg.svd(x, compute_uv=False)
        tail = float(np.sum(s[k:]))
        for _ in range(int(prob.options["dc_iterations"])):
            if found is not None or tail <= tol * s[0]:
                break
            u, _s, vt = np.linalg.svd(x, full_matrices=False)
            nxt = program.solve(prob, u[:, :k] @ vt[:k], center=x)
            if nxt is None:
                break
            x = nxt
            found = _certify(prob, x, k)
            s = np.linalg.svd(x, compute_uv=False)
            new_tail = float(np.sum(s[k:]))
            if new_tail > (1.0 - 1e-3) * tail:  # stalled: this k is not reached from here
                break
            tail = new_tail
        if found is not None:
            found.solver = "dc/" + program.solver_used
            return found
    if best.solver.startswith("nuclear"):
        best.solver = "dc/" + best.solver.split("/", 1)[1]
    return best


def _rank_altmin(prob: _Problem, upper: _Completion) -> _Completion | None:
    """Fixed-rank alternating minimization with a bisection over the rank.

    For a rank k, alternate the least-squares updates of the factors of X = U Vᵀ on the
    fixed entries (each row of U, then each row of V, a k×k ridge-regularized solve) from
    ``restarts`` random starts; k is bisected between 1 and the zero-filled completion's
    rank, keeping the smallest k at which a completion was found.

    References
    ----------
    P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank matrix completion using alternating
    minimization", Proc. ACM STOC 2013, doi:10.1145/2488608.2488693, Algorithm 1 (the
    alternating least-squares updates); applied to the alignment problem (P) of Yang, Shi,
    Ding, IEEE TSP 2019, doi:10.1109/TSP.2019.2912139, eq. (12).
    """
    lo, hi = 1, upper.rank
    best = upper
    while lo < hi:
        mid = (lo + hi) // 2
        prob.ranks_tried.append(mid)
        found = _random_completion(prob, mid)
        if found is not None:
            best, hi = found, mid
        else:
            lo = mid + 1
    return best


_Method = Callable[[_Problem, _Completion], "_Completion | None"]

#: The dispatch table of :func:`minimize_rank`; every method has the same signature.
_DISPATCH: dict[str, _Method] = {"dc": _rank_dc, "nuclear": _rank_nuclear, "altmin": _rank_altmin}

#: The methods of :func:`minimize_rank`.
RANK_METHODS = tuple(_DISPATCH)

_DEFAULTS: dict[str, int | float] = {
    "restarts": 4,
    "iterations": 500,
    "polish_iterations": 300,
    "dc_iterations": 15,
    "dc_tol": 1e-9,
}


def minimize_rank(
    pattern: Any,
    method: Any = "dc",
    *,
    rng: Any = None,
    restarts: Any = 4,
    iterations: Any = 500,
    dc_iterations: Any = 15,
) -> RankResult:
    """Complete an alignment pattern with a matrix of low rank (the DoF of the shuffle).

    Solves (heuristically) min rank X s.t. X_(i,a),a = 1 at wanted entries and
    X_(i,a),j = 0 at interfering ones, the NaN entries free (Yang, Shi, Ding 2019, eq. (12));
    the achievable symmetric DoF is 1 / rank.

    Parameters
    ----------
    pattern : array_like of float, shape (R, M)
        Virtual receivers × messages: 1.0 wanted, 0.0 interfering, NaN free (e.g. from
        :func:`shuffle_alignment_matrix`).
    method : {"dc", "nuclear", "altmin"}
        See the module documentation.  ``"dc"`` and ``"nuclear"`` solve semidefinite
        programs (sizes up to a few thousand entries); ``"altmin"`` solves none.
    rng : numpy.random.Generator, int or None
        Random starts of the alternating least squares (``"altmin"``) and of the
        perturbed restart of the least-squares polishing (every method).
    restarts : int
        Random starts per rank for ``"altmin"``, >= 1.
    iterations : int
        Alternating least-squares sweeps per start, >= 1.
    dc_iterations : int
        Convex programs per k for ``"dc"``, >= 1.

    Returns
    -------
    RankResult
        ``rank``, ``matrix`` (residual <= :data:`RESIDUAL_TOL` on the fixed entries),
        ``residual``, ``dof``, ``status``, ``solve_time_s``, ``stats``.

    Raises
    ------
    InvalidInputError
        A pattern that is not 2-D, has entries other than 0, 1 and NaN, or has no wanted
        entry; an unknown method; bad counts.

    References
    ----------
    K. Yang, Y. Shi, Z. Ding, "Data shuffling in wireless distributed computing via low-rank
    optimization", IEEE Trans. Signal Process. 67(12), 2019, doi:10.1109/TSP.2019.2912139,
    eq. (12) (the rank problem) and Sec. IV (DC algorithm).

    Examples
    --------
    >>> import numpy as np
    >>> from edgeopt.coding import minimize_rank
    >>> nan = np.nan
    >>> pattern = np.array([[1.0, nan, 0.0], [nan, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> res = minimize_rank(pattern, "altmin", rng=0)
    >>> res.rank, res.residual <= 1e-6
    (2, True)
    >>> minimize_rank(pattern, "dc").rank
    2
    """
    t0 = time.perf_counter()
    pat = check_alignment_pattern(pattern)
    name = check_choice(method, "method", RANK_METHODS)
    options = dict(_DEFAULTS)
    options["restarts"] = check_int(restarts, "restarts", min_value=1)
    options["iterations"] = check_int(iterations, "iterations", min_value=1)
    options["dc_iterations"] = check_int(dc_iterations, "dc_iterations", min_value=1)
    mask = (~np.isnan(pat)).astype(np.float64)
    prob = _Problem(pat, mask, np.nan_to_num(pat, nan=0.0), check_rng(rng), options)
    upper = _zero_fill(prob)
    setup = time.perf_counter() - t0
    found = upper if upper.rank == 1 else _DISPATCH[name](prob, upper)
    status = st.FEASIBLE
    if found is None:
        found, status = upper, st.SOLVER_ERROR
    elif found.rank == 1:
        status = st.OPTIMAL
    stats = SolverStats(
        found.solver or name,
        prob.programs if name != "altmin" else prob.runs,
        setup_time_s=setup,
        extra={"ranks_tried": list(prob.ranks_tried), **prob.extra},
    )
    return RankResult(
        status=status,
        objective=float(found.rank),
        rank=found.rank,
        dof=1.0 / found.rank,
        matrix=found.matrix,
        residual=found.residual,
        method=name,
        solve_time_s=time.perf_counter() - t0,
        stats=stats,
    )


def shuffle_alignment_matrix(plan: Any) -> NDArray[np.float64]:
    """The alignment pattern of the CDC shuffle: virtual receivers × messages.

    The messages are the intermediate values W_(k,b) that node k needs: those of its reduce
    function for each batch b it does not store (C(K − 1, r) per node, K·C(K − 1, r) in
    all, in the order node k = 0, 1, ..., then batch index).  Virtual receiver (k, b) wants
    W_(k,b): entry 1.0; message W_(k',b') is side information at node k (free, NaN) when k
    stores batch b' (it mapped those files, so it computed every reduce function's values
    for them), and interference (0.0) otherwise.

    Parameters
    ----------
    plan : CDCScheme
        From :func:`edgeopt.coding.cdc_scheme`.

    Returns
    -------
    numpy.ndarray of float64, shape (K·C(K − 1, r), K·C(K − 1, r))
        Rows and columns in the same order (the diagonal is the wanted entries).

    Raises
    ------
    InvalidInputError
        Not a CDCScheme, or r = K (nothing is shuffled).

    References
    ----------
    K. Yang, Y. Shi, Z. Ding, IEEE TSP 2019, doi:10.1109/TSP.2019.2912139, Sec. II-C
    (virtual receivers and the side-information pattern of the shuffle).

    Examples
    --------
    >>> from edgeopt.coding import cdc_scheme, shuffle_alignment_matrix
    >>> shuffle_alignment_matrix(cdc_scheme(3, 1, 3))
    array([[ 1.,  0., nan,  0., nan,  0.],
           [ 0.,  1., nan,  0., nan,  0.],
           [nan,  0.,  1.,  0.,  0., nan],
           [nan,  0.,  0.,  1.,  0., nan],
           [ 0., nan,  0., nan,  1.,  0.],
           [ 0., nan,  0., nan,  0.,  1.]])
    """
    if not isinstance(plan, CDCScheme):
        raise invalid_input("plan", plan, "a CDCScheme from cdc_scheme(...)")
    if plan.computation_load == plan.num_nodes:
        raise invalid_input("plan", plan.computation_load, "a plan with r < K (a shuffle)")
    messages = [
        (k, b)
        for k in range(plan.num_nodes)
        for b, subset in enumerate(plan.batches)
        if k not in subset
    ]
    holders = np.array([list(plan.batches[b]) for _, b in messages])  # (M, r)
    nodes = np.array([k for k, _ in messages])
    side = np.any(holders[None, :, :] == nodes[:, None, None], axis=2)  # (R, M)
    out = np.where(side, np.nan, 0.0)
    np.fill_diagonal(out, 1.0)
    return out
