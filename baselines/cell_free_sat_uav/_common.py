"""Pieces shared by the cell_free_sat_uav solvers (spec Sec. 8.0): CSI, initial point, repair, DE surrogates."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from isac_envs.cell_free_sat_uav import model, power
from isac_envs.cell_free_sat_uav.model import Decision, Instance, Params
from isac_envs.physics.deterministic_equivalent import de_compensation_bits, de_rate_bits, de_slack_nu

LN2 = float(np.log(2.0))


@dataclass(frozen=True)
class CSI:
    """The large-scale CSI a solver works with (true gains, or Scheme 2's proxy) and whether I_th is enforced."""

    gain_user: np.ndarray      # (N, K, M, L)
    gain_sat: np.ndarray       # (N, J, M, L)
    use_interference: bool = True


def make_csi(instance: Instance, gain_user=None, gain_sat=None, use_interference: bool = True) -> CSI:
    gu = instance.gain_user if gain_user is None else np.asarray(gain_user, float)
    gs = instance.gain_sat if gain_sat is None else np.asarray(gain_sat, float)
    return CSI(gu, gs, bool(use_interference))


def initial_point(params: Params, instance: Instance, csi: CSI):
    """(T^0, P^0): equal times, equal powers on every subchannel, then (S-BO) with the solver's CSI."""
    N, M, L = params.num_groups, params.num_uavs, params.num_subchannels
    T0 = np.full(N, min(params.max_slot_hover_time_s, params.total_hover_time_s / N))
    P0 = np.full((N, M, L), min(params.max_power_w, params.energy_per_uav_j / T0.sum()) / L)
    if csi.use_interference:
        P0 = model.backoff(params, csi.gain_sat, instance.sat_subchannel, np.zeros((N, L), np.int64), P0)
    return T0, P0


def repair_power(params: Params, instance: Instance, csi: CSI, a: np.ndarray, P: np.ndarray, T: np.ndarray):
    """p <- p u; per-(n, m) peak-power scaling; per-UAV energy scaling; (S-BO) (Sec. 8.0 repair)."""
    P = np.where((a >= 0)[:, None, :], np.maximum(P, 0.0), 0.0)
    tot = P.sum(axis=2, keepdims=True)
    P = P * np.minimum(1.0, params.max_power_w / np.where(tot > 0, tot, 1.0))
    e_used = np.einsum("n,nm->m", np.maximum(T, 0.0), P.sum(axis=2))
    P = P * np.minimum(1.0, params.energy_per_uav_j / np.where(e_used > 0, e_used, 1.0))[None, :, None]
    if csi.use_interference:
        P = model.backoff(params, csi.gain_sat, instance.sat_subchannel, a, P)
    return P


def repair_time(params: Params, a: np.ndarray, P: np.ndarray, T: np.ndarray) -> np.ndarray:
    """T <- s T, s = min(1, T_tot / sum T, min_m E_m / E^used_m); clip to [0, T_slot]."""
    T = np.maximum(np.asarray(T, float), 0.0)
    e = np.where((a >= 0)[:, None, :], P, 0.0).sum(axis=2)
    e_used = T @ e
    s = 1.0
    if T.sum() > 0:
        s = min(s, params.total_hover_time_s / T.sum())
    pos = e_used > 0
    if pos.any():
        s = min(s, float(np.min(params.energy_per_uav_j / e_used[pos])))
    return np.clip(s * T, 0.0, params.max_slot_hover_time_s)


def assigned(a: np.ndarray, per_user: np.ndarray) -> np.ndarray:
    """Pick (N, K, L, ...) values of the assigned user on every (n, l): (N, L, ...); unused -> 0."""
    idx = np.maximum(a, 0)
    out = np.take_along_axis(per_user, idx[:, None, :].reshape(a.shape[0], 1, a.shape[1], *([1] * (per_user.ndim - 3))),
                             axis=1)[:, 0]
    mask = (a >= 0).reshape(a.shape + (1,) * (per_user.ndim - 3))
    return np.where(mask, out, 0.0)


def assigned_gain(csi: CSI, a: np.ndarray) -> np.ndarray:
    """lambda_{n, a_nl, m, l} as (N, L, M) (0 on unused (n, l))."""
    g = np.transpose(csi.gain_user, (0, 1, 3, 2))       # (N, K, L, M)
    return assigned(a, g)


def assigned_alpha(params: Params, csi: CSI, a: np.ndarray, P: np.ndarray) -> np.ndarray:
    """alpha of the assigned user's link, (N, L, M)."""
    return assigned_gain(csi, a) * np.transpose(np.maximum(P, 0.0), (0, 2, 1)) / params.noise_w


def assigned_nu(params: Params, csi: CSI, a: np.ndarray, P: np.ndarray) -> np.ndarray:
    """nu* of (17) for the assigned user of every (n, l); (N, L)."""
    return de_slack_nu(assigned_alpha(params, csi, a, P), params.num_rx_antennas)


def de_rates(params: Params, instance: Instance, csi: CSI, P: np.ndarray) -> np.ndarray:
    """R_hat_{n,k,l}(P) for every (n, k, l) with the solver's CSI; (N, K, L)."""
    return model.de_rates_all(params, instance, P, csi.gain_user)


def de_user_eff(params: Params, csi: CSI, a: np.ndarray, P: np.ndarray, T: np.ndarray) -> np.ndarray:
    """eta_hat_{n,k} (S10 with the DE rate); (N, K)."""
    rate = np.where(a >= 0, de_rate_bits(assigned_alpha(params, csi, a, P), params.num_rx_antennas), 0.0)
    rho = a[:, None, :] == np.arange(params.users_per_group)[None, :, None]
    return (np.maximum(T, 0.0) / params.total_hover_time_s)[:, None] * (rho * rate[:, None, :]).sum(axis=2)


def de_eta_sum(params, csi, a, P, T) -> float:
    return float(de_user_eff(params, csi, a, P, T).sum())


def de_eta_min(params, csi, a, P, T) -> float:
    return float(de_user_eff(params, csi, a, P, T).min())


def compensation(params: Params, nu: np.ndarray) -> np.ndarray:
    """C(nu) = -Nr log2 nu + Nr (nu - 1) log2 e."""
    return de_compensation_bits(nu, params.num_rx_antennas)


def sat_rows(params: Params, instance: Instance, csi: CSI, idx_n: np.ndarray, idx_l: np.ndarray):
    """Interference rows for the variable set A = (idx_n, idx_l): (row -> A index, coefficients (R, M))."""
    if not csi.use_interference or instance.sat_subchannel.shape[1] == 0 or idx_n.size == 0:
        return np.zeros(0, np.int64), np.zeros((0, params.num_uavs))
    on = instance.sat_subchannel[idx_n] == idx_l[:, None]        # (A, J)
    ai, j = np.nonzero(on)
    coef = csi.gain_sat[idx_n[ai], j, :, idx_l[ai]] * params.max_power_w / params.interference_threshold_w
    return ai, coef


def finish(params: Params, a: np.ndarray, P: np.ndarray, T: np.ndarray) -> Decision:
    """Decision with powers zeroed on unused subchannels."""
    a = np.asarray(a, np.int64).copy()
    P = np.where((a >= 0)[:, None, :], np.maximum(P, 0.0), 0.0)
    return Decision(a, P, np.asarray(T, float).copy())


def solve_cvx(problem, fallback: bool = True) -> bool:
    """Solve a cvxpy problem with CLARABEL (fallback: SCS with a bounded iteration count); True if an
    optimal(-inaccurate) solution came back. Callers keep their previous iterate on False."""
    import cvxpy as cp

    attempts = [(cp.CLARABEL, {})] + ([(cp.SCS, {"max_iters": 5000, "eps_abs": 1e-6, "eps_rel": 1e-6})] if fallback else [])
    for solver, opts in attempts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=solver, **opts)
        except (cp.error.SolverError, ValueError, ArithmeticError):
            continue
        if problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            return True
    return False


damped_step = power.damped_step          # Algorithm 2's damped move (D6), shared with the env's hybrid decoder


def sca_power_loop(params, instance, csi, a, P, T, prob, solve_step, value, max_iter: int, tol: float) -> np.ndarray:
    """Outer loop shared by Algorithms 2 and 5 (and the env's hybrid decoder): the model's
    ``power.sca_power_loop`` over the whole flight's used links ``prob.idx_n, prob.idx_l``.

    ``solve_step(b, nu) -> x | None`` solves the system's convex problem for the linearised gains
    ``b`` (per used link and UAV); ``value(P)`` is the surrogate that must never decrease.
    """
    n_i, l_i = prob.idx_n, prob.idx_l

    def put(Q, X):
        out = Q.copy()
        out[n_i, :, l_i] = X
        return out

    return power.sca_power_loop(params, P, assigned_gain(csi, a)[n_i, l_i], put,
                                lambda Q: assigned_nu(params, csi, a, Q)[n_i, l_i], solve_step,
                                lambda Q: repair_power(params, instance, csi, a, Q, T), value, max_iter, tol)


def cached_problem(cache: dict | None, key: bytes, build, T: np.ndarray):
    """The convex problem for a variable set, built once per ``solve`` (``cache``), with the times ``T`` set."""
    if cache is None or key not in cache:
        prob = build()
        if cache is not None:
            cache[key] = prob
    else:
        prob = cache[key]
    if prob.size:
        prob.set_times(T)
    return prob
