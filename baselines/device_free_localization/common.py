"""Shared pieces of the device-free localisation solvers (spec Sec. 8).

- :class:`Problem`: the normalised gains (x_b = p_b / P_max, gains in noise units at full power)
  and the C1 matrices F^c, f^c;
- :func:`least_power`: the exact least-power oracle for a sensing level tau (2^B row selections);
- :func:`start_point`: x^(0) shared by SCA and bisection;
- :func:`comm_fallback`: the best-effort allocation when C1 is infeasible for every power.

Pure numpy; no cvxpy here.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from isac_envs.device_free_localization.model import NUM_BS, Decision, Instance, Params, normalised_gains

#: (8, 3) row selections sigma: True = take the sensing row of BS b, False = its communication row.
_SELECTIONS = np.array(list(product((False, True), repeat=NUM_BS)))
_EYE = np.eye(NUM_BS)


@dataclass(frozen=True, eq=False)
class Problem:
    """(P2) in normalised variables: max_x min_b A_b x_b / I_b(x) s.t. C1, 0 <= x <= 1."""

    echo: np.ndarray      # A_b
    cross: np.ndarray     # C_b'b (transmitter b', receiver b), zero diagonal
    si: np.ndarray        # S_b
    comm: np.ndarray      # H_bj
    gamma: float          # gamma_lin
    comm_f_mat: np.ndarray  # F^c_jb = gamma H_bj / g_j (b != j)
    comm_f_vec: np.ndarray  # f^c_j = gamma / g_j
    max_power_w: float

    def sensing_interference(self, x: np.ndarray) -> np.ndarray:
        """I_b(x) = sum_b' C_b'b x_b' + S_b x_b + 1 (noise units)."""
        return x @ self.cross + self.si * x + 1.0

    def sensing_sinr(self, x: np.ndarray) -> np.ndarray:
        """SINR^s_b(x) = A_b x_b / I_b(x)  (S8, normalised)."""
        return self.echo * x / self.sensing_interference(x)

    def comm_sinr(self, x: np.ndarray) -> np.ndarray:
        """SINR^c_j(x) = g_j x_j / (sum_{b != j} H_bj x_b + 1)  (S7, normalised)."""
        rx = x[:, None] * self.comm
        signal = np.diagonal(rx)
        return signal / (rx.sum(axis=0) - signal + 1.0)

    def to_decision(self, x: np.ndarray) -> Decision:
        return Decision(tx_power_w=self.max_power_w * np.clip(x, 0.0, 1.0))


def make_problem(params: Params, instance: Instance, gamma_lin: float | None = None) -> Problem:
    """Normalised gains and C1 matrices of one instance (gamma_lin defaults to the params' threshold)."""
    g = normalised_gains(params, instance)
    gamma = params.comm_threshold_lin if gamma_lin is None else float(gamma_lin)
    f_mat = gamma * g.comm.T / g.comm_direct[:, None]  # [j, b] = gamma H_bj / g_j
    np.fill_diagonal(f_mat, 0.0)
    return Problem(echo=g.echo, cross=g.cross, si=g.si, comm=g.comm, gamma=gamma, comm_f_mat=f_mat,
                   comm_f_vec=gamma / g.comm_direct, max_power_w=params.max_power_w)


def _least_fixed_point(f_mat: np.ndarray, f_vec: np.ndarray) -> np.ndarray | None:
    """x = (I - F)^-1 f for a stack of nonnegative F with f > 0; None if any rho(F) >= 1.

    With F >= 0 and f > 0, rho(F) < 1 iff the solution of (I - F) x = f is finite and > 0
    (Neumann series one way, the M-matrix criterion the other), so no eigenvalues are needed.
    """
    try:
        x = np.linalg.solve(_EYE - f_mat, f_vec[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return None
    if not (np.isfinite(x).all() and (x > 0).all()):
        return None
    return x


def least_power(problem: Problem, tau: float, gamma_scale: float = 1.0) -> np.ndarray | None:
    """The least x meeting SINR^s_b >= tau and SINR^c_j >= gamma_scale * gamma, or None if infeasible.

    Every constraint is a lower bound on one component of x; the least feasible point is the
    componentwise max over the 2^B row selections of their fixed points (spec Sec. 8).
    """
    f_c = gamma_scale * problem.comm_f_mat
    v_c = gamma_scale * problem.comm_f_vec
    if tau <= 0.0:
        x = _least_fixed_point(f_c, v_c)
    else:
        denom = problem.echo - tau * problem.si
        if (denom <= 0.0).any():
            return None
        f_s = tau * problem.cross.T / denom[:, None]  # [b, b'] = tau C_b'b / (A_b - tau S_b)
        v_s = tau / denom
        mats = np.where(_SELECTIONS[:, :, None], f_s, f_c)   # (8, 3, 3)
        vecs = np.where(_SELECTIONS, v_s, v_c)               # (8, 3)
        xs = _least_fixed_point(mats, vecs)
        x = None if xs is None else xs.max(axis=0)
    if x is None or (x > 1.0).any():
        return None
    return x


def comm_feasible_point(problem: Problem) -> np.ndarray | None:
    """x_c: the least-power C1-feasible vector, or None when C1 is infeasible for every power."""
    return least_power(problem, 0.0)


def start_point(problem: Problem, x_comm: np.ndarray) -> np.ndarray:
    """x^(0) = 1 (the IC) if it meets C1, else x_c / max(x_c) (C1-feasible: scaling up keeps C1)."""
    ones = np.ones(NUM_BS)
    if (problem.comm_sinr(ones) >= problem.gamma).all():
        return ones
    return x_comm / x_comm.max()


def comm_fallback(problem: Problem, rtol: float = 1e-6, max_iter: int = 200) -> Decision:
    """C1 infeasible: maximise min_j SINR^c_j / gamma by bisection on the threshold scale beta.

    Returns the least-power vector at the best scale found (feasible=False under evaluate), or
    full power if even the lower end is rejected through rounding.
    """
    lo = float((problem.comm_sinr(np.ones(NUM_BS)) / problem.gamma).min())
    hi = 1.0
    x_best = least_power(problem, 0.0, lo) if lo > 0 else None
    if x_best is None:
        return problem.to_decision(np.ones(NUM_BS))
    for _ in range(max_iter):
        if hi <= lo * (1.0 + rtol):
            break
        mid = float(np.sqrt(lo * hi))
        x = least_power(problem, 0.0, mid)
        if x is None:
            hi = mid
        else:
            lo, x_best = mid, x
    return problem.to_decision(x_best)
