"""Stronger references for the overall efficiency (spec Sec. 8.10), not in the paper.

- ``joint_step``: for a fixed assignment, the joint (P, T) problem is convex in (q = T x, T)
  (perspective, ``T log(1 + b q / T) = -rel_entr(T, T + b q)``); alternated with the nu update,
  damped in (q, T) space.
- ``solve``: Algorithm 3, then joint steps alternated with Algorithm 1.
- ``exhaustive``: every assignment (all subchannels used) x joint step; tiny instances only.
"""

from __future__ import annotations

import itertools

import numpy as np

from baselines.cell_free_sat_uav import _common as C
from baselines.cell_free_sat_uav import algorithm3
from isac_envs.cell_free_sat_uav.model import Decision, Instance, Params, validate_instance

#: largest number of assignments ``exhaustive`` enumerates (K_g^(N L))
MAX_ASSIGNMENTS = 4096


class JointProblem:
    """max (1/T_tot) sum_A [sum_m -rel_entr(T_n, T_n + b q)/ln2 + T_n C(nu)] over (q, T); Parameters b, C(nu)."""

    def __init__(self, params: Params, instance: Instance, csi: C.CSI, used: np.ndarray):
        import cvxpy as cp

        N, M = params.num_groups, params.num_uavs
        self.idx_n, self.idx_l = np.nonzero(used)
        A = self.idx_n.size
        self.size = A
        if A == 0:
            return
        E = np.zeros((A, N))
        E[np.arange(A), self.idx_n] = 1.0
        self.q = cp.Variable((A, M), nonneg=True)
        self.T = cp.Variable(N, nonneg=True)
        self.b = cp.Parameter((A, M), nonneg=True)
        self.cnu = cp.Parameter(A)
        t_a = E @ self.T
        t_am = cp.reshape(t_a, (A, 1), order="C") @ np.ones((1, M))
        obj = (cp.sum(-cp.rel_entr(t_am, t_am + cp.multiply(self.b, self.q))) / C.LN2 + self.cnu @ t_a) \
            / params.total_hover_time_s
        cons = [E.T @ self.q <= cp.reshape(self.T, (N, 1), order="C") @ np.ones((1, M)),
                params.max_power_w * cp.sum(self.q, axis=0) <= params.energy_per_uav_j,
                cp.sum(self.T) <= params.total_hover_time_s, self.T <= params.max_slot_hover_time_s]
        rows, coef = C.sat_rows(params, instance, csi, self.idx_n, self.idx_l)
        if rows.size:
            S = np.zeros((rows.size, A))
            S[np.arange(rows.size), rows] = 1.0
            cons.append(cp.sum(cp.multiply(coef, S @ self.q), axis=1) <= (S @ E) @ self.T)
        self.problem = cp.Problem(cp.Maximize(obj), cons)

    def solve(self, b: np.ndarray, cnu: np.ndarray):
        self.b.value = np.maximum(b, 0.0)
        self.cnu.value = cnu
        if not C.solve_cvx(self.problem):
            return None
        return np.clip(np.asarray(self.q.value), 0.0, None), np.clip(np.asarray(self.T.value), 0.0, None)


def joint_step(params: Params, instance: Instance, a: np.ndarray, P: np.ndarray, T: np.ndarray,
               csi: C.CSI | None = None, problem: JointProblem | None = None, max_iter: int = 30, tol: float = 1e-5):
    """Damped alternation of nu and the joint (P, T) problem for a fixed assignment; returns (P, T)."""
    csi = csi or C.make_csi(instance)
    prob = problem or JointProblem(params, instance, csi, a >= 0)
    if prob.size == 0:
        return P, T
    n_i, l_i = prob.idx_n, prob.idx_l
    gain = C.assigned_gain(csi, a)[n_i, l_i]
    p_max = params.max_power_w
    cur = C.de_eta_sum(params, csi, a, P, T)
    for _ in range(max_iter):
        nu = C.assigned_nu(params, csi, a, P)[n_i, l_i]
        sol = prob.solve(params.num_rx_antennas * gain * nu[:, None] * p_max / params.noise_w, C.compensation(params, nu))
        if sol is None:
            break
        q_hat, t_hat = sol
        q = T[n_i, None] * P[n_i, :, l_i] / p_max
        for gamma in (1.0, 0.5, 0.25):
            q_new = q + gamma * (q_hat - q)
            T_new = T + gamma * (t_hat - T)
            P_new = P.copy()
            pos = T_new[n_i] > 0
            P_new[n_i[pos], :, l_i[pos]] = p_max * q_new[pos] / T_new[n_i[pos], None]
            P_new = C.repair_power(params, instance, csi, a, P_new, T_new)
            T_new = C.repair_time(params, a, P_new, T_new)
            val = C.de_eta_sum(params, csi, a, P_new, T_new)
            if val > cur:
                break
        else:
            break
        rel = (val - cur) / max(abs(cur), 1e-12)
        P, T, cur = P_new, T_new, val
        if rel < tol:
            break
    return P, T


def solve(params: Params, instance: Instance, return_trace: bool = False, max_iter: int = 10, tol: float = 1e-4):
    """Algorithm 3's output, then up to ``max_iter`` rounds of joint (P, T) step + Algorithm 1 (kept if not worse)."""
    validate_instance(params, instance)
    csi = C.make_csi(instance)
    d = algorithm3.solve(params, instance)
    a, P, T = d.assignment.copy(), d.power.copy(), d.hover_time.copy()
    cache: dict[bytes, JointProblem] = {}
    trace = [C.de_eta_sum(params, csi, a, P, T)]
    for _ in range(max_iter):
        key = (a >= 0).tobytes()
        if key not in cache:
            cache[key] = JointProblem(params, instance, csi, a >= 0)
        P, T = joint_step(params, instance, a, P, T, csi, cache[key])
        a_new = algorithm3.subchannel_allocation(params, instance, P, T, csi)
        P_new = np.where((a_new >= 0)[:, None, :], P, 0.0)
        if C.de_eta_sum(params, csi, a_new, P_new, T) >= C.de_eta_sum(params, csi, a, P, T):
            a, P = a_new, P_new
        trace.append(C.de_eta_sum(params, csi, a, P, T))
        if trace[-1] - trace[-2] <= tol * abs(trace[-2]):
            break
    out = C.finish(params, a, P, T)
    return (out, trace) if return_trace else out


def exhaustive(params: Params, instance: Instance) -> Decision:
    """Global optimum of the DE surrogate of eta_sum over all assignments (all subchannels used) x joint step.

    Raises ValueError at once when K_g^(N L) > MAX_ASSIGNMENTS (an input guard, not infeasibility).
    """
    validate_instance(params, instance)
    N, L, K = params.num_groups, params.num_subchannels, params.users_per_group
    count = K ** (N * L)
    if count > MAX_ASSIGNMENTS:
        raise ValueError(f"reference.exhaustive enumerates users_per_group^(num_groups*num_subchannels) = "
                         f"{K}^{N * L} = {count} assignments > {MAX_ASSIGNMENTS}; use a tiny instance")
    csi = C.make_csi(instance)
    T0, P0 = C.initial_point(params, instance, csi)
    prob = JointProblem(params, instance, csi, np.ones((N, L), bool))
    best_val, best = -np.inf, None
    for combo in itertools.product(range(K), repeat=N * L):
        a = np.array(combo, dtype=np.int64).reshape(N, L)
        P, T = joint_step(params, instance, a, P0.copy(), T0.copy(), csi, prob)
        val = C.de_eta_sum(params, csi, a, P, T)
        if val > best_val:
            best_val, best = val, (a, P, T)
    return C.finish(params, *best)
