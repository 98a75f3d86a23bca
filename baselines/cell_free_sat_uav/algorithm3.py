"""Algorithm 3 (paper): maximise the overall data transmission efficiency (8).

Alternates Algorithm 1 (dual-subgradient subchannel allocation, Sec. 8.1), Algorithm 2 (damped
coordinated power allocation with the deterministic equivalent, Sec. 8.2, cvxpy) and the
hovering-time LP (21) (Sec. 8.3, HiGHS).
"""

from __future__ import annotations

import numpy as np

from baselines.cell_free_sat_uav import _common as C
from isac_envs.cell_free_sat_uav.model import Instance, Params, interference_w, validate_instance


# --------------------------------------------------------------------------- Algorithm 1
def _alloc_terms(params: Params, instance: Instance, csi: C.CSI, P: np.ndarray, T: np.ndarray):
    W = (T / params.total_hover_time_s)[:, None, None] * C.de_rates(params, instance, csi, P)   # (N, K, L)
    N = params.num_groups
    if csi.use_interference and params.num_sat_users > 0:
        i_ratio = interference_w(params, csi.gain_sat, instance.sat_subchannel, P) / params.interference_threshold_w
    else:
        i_ratio = np.zeros((N, params.num_sat_users))
    ecoef = T[:, None, None] * np.maximum(P, 0.0) / params.energy_per_uav_j                      # (N, M, L)
    pcoef = np.maximum(P, 0.0) / params.max_power_w
    return W, i_ratio, ecoef, pcoef


def _recover(params, instance, W, i_ratio, ecoef, pcoef, a):
    """Primal recovery (Sec. 8.1 step 4): drop interference violators, then the weakest subchannels on violated rows."""
    a = a.copy()
    N, L = a.shape
    if i_ratio.size:
        worst = np.zeros((N, L))
        np.maximum.at(worst, (np.repeat(np.arange(N), i_ratio.shape[1]), instance.sat_subchannel.ravel()), i_ratio.ravel())
        a[worst > 1.0 + 1e-6] = -1
    w_a = np.where(a >= 0, C.assigned(a, W), np.inf)
    while True:
        u = a >= 0
        e_row = (u[:, None, :] * ecoef).sum(axis=(0, 2))              # (M,)
        p_row = (u[:, None, :] * pcoef).sum(axis=2)                   # (N, M)
        bad = u & (((ecoef > 0) & (e_row > 1 + 1e-6)[None, :, None]).any(axis=1)
                   | ((pcoef > 0) & (p_row > 1 + 1e-6)[:, :, None]).any(axis=1))
        if not bad.any():
            return a
        cand = np.where(bad, w_a, np.inf)
        n, l = np.unravel_index(np.argmin(cand), cand.shape)
        a[n, l] = -1
        w_a[n, l] = np.inf


def subchannel_allocation(params: Params, instance: Instance, P: np.ndarray, T: np.ndarray, csi: C.CSI | None = None,
                          max_iter: int = 100) -> np.ndarray:
    """Algorithm 1: dual subgradient on (22) with multipliers mu (interference), beta (energy), alpha (peak power)."""
    csi = csi or C.make_csi(instance)
    W, i_ratio, ecoef, pcoef = _alloc_terms(params, instance, csi, P, T)
    N, K, L = W.shape
    mask = instance.sat_subchannel[:, :, None] == np.arange(L)                 # (N, J, L)
    mu = np.zeros(i_ratio.shape)
    beta = np.zeros(params.num_uavs)
    alpha = np.zeros((N, params.num_uavs))
    s0 = float(np.mean(W.max(axis=1)))
    best_a, best_val = None, -np.inf
    a = np.full((N, L), -1, np.int64)
    for t in range(1, max_iter + 1):
        pen = ((mu * i_ratio)[:, :, None] * mask).sum(axis=1) + np.einsum("m,nml->nl", beta, ecoef) \
            + np.einsum("nm,nml->nl", alpha, pcoef)                            # (27)
        H = W - pen[:, None, :]
        a = np.where(H.max(axis=1) > 0, H.argmax(axis=1), -1)                    # (26)
        u = a >= 0
        g_mu = 1.0 - np.take_along_axis(u, instance.sat_subchannel, axis=1) * i_ratio      # (31)
        g_beta = 1.0 - (u[:, None, :] * ecoef).sum(axis=(0, 2))                            # (32)
        g_alpha = 1.0 - (u[:, None, :] * pcoef).sum(axis=2)                                # (33)
        feasible = min(g_mu.min(initial=1.0), g_beta.min(), g_alpha.min()) >= -1e-6
        value = float(C.assigned(a, W).sum())
        if feasible and value > best_val:
            best_a, best_val = a.copy(), value
        if feasible and t == 1:
            return a
        if s0 <= 0:
            break
        step = s0 / np.sqrt(t)                                                             # (28)-(30)
        mu = np.maximum(0.0, mu - step * g_mu)
        beta = np.maximum(0.0, beta - step * g_beta)
        alpha = np.maximum(0.0, alpha - step * g_alpha)
    rec = _recover(params, instance, W, i_ratio, ecoef, pcoef, a)
    if best_a is None or float(C.assigned(rec, W).sum()) >= best_val:
        return rec
    return best_a


# --------------------------------------------------------------------------- Algorithm 2
class SumPowerProblem:
    """Problem (34) for a fixed variable set A = {(n, l): used, T_n > 0}, built once with cvxpy Parameters (DPP):
    b (SNR coefficients, change with nu), the weights T_n / T_tot and the energy coefficients (change with T).
    Epigraph form max w.s, s <= sum_m log(1 + b x) keeps it DPP, so one compilation serves every outer iteration."""

    def __init__(self, params: Params, instance: Instance, csi: C.CSI, active: np.ndarray):
        import cvxpy as cp

        self.params = params
        self.idx_n, self.idx_l = np.nonzero(active)
        A, M = self.idx_n.size, params.num_uavs
        self.size = A
        if A == 0:
            return
        self.x = cp.Variable((A, M), nonneg=True)
        s = cp.Variable(A)
        self.b = cp.Parameter((A, M), nonneg=True)
        self.w = cp.Parameter(A, nonneg=True)
        self.e_coef = cp.Parameter(A, nonneg=True)
        slots = np.unique(self.idx_n)
        G = (self.idx_n[None, :] == slots[:, None]).astype(float)                # per-slot peak power
        cons = [s <= cp.sum(cp.log(1 + cp.multiply(self.b, self.x)), axis=1), G @ self.x <= 1, self.e_coef @ self.x <= 1]
        rows, coef = C.sat_rows(params, instance, csi, self.idx_n, self.idx_l)
        if rows.size:
            S = np.zeros((rows.size, A))
            S[np.arange(rows.size), rows] = 1.0
            cons.append(cp.sum(cp.multiply(coef, S @ self.x), axis=1) <= 1)
        self.problem = cp.Problem(cp.Maximize(self.w @ s), cons)

    def set_times(self, T: np.ndarray) -> None:
        p = self.params
        self.w.value = T[self.idx_n] / p.total_hover_time_s / C.LN2
        self.e_coef.value = T[self.idx_n] * p.max_power_w / p.energy_per_uav_j

    def solve(self, b: np.ndarray) -> np.ndarray | None:
        self.b.value = np.maximum(b, 0.0)
        if not C.solve_cvx(self.problem):
            return None
        return np.clip(np.asarray(self.x.value), 0.0, None)


def _sum_problem(params, instance, csi, a, T, cache: dict | None) -> SumPowerProblem:
    """The (cached) problem (34) for the current variable set, with the current times set."""
    active = (a >= 0) & (T[:, None] > 0)
    return C.cached_problem(cache, active.tobytes(), lambda: SumPowerProblem(params, instance, csi, active), T)


def power_allocation(params: Params, instance: Instance, a: np.ndarray, P: np.ndarray, T: np.ndarray,
                     csi: C.CSI | None = None, max_iter: int = 20, tol: float = 1e-4,
                     cache: dict | None = None) -> np.ndarray:
    """Algorithm 2: alternate nu (35) and (34), damped so that eta_hat_sum never decreases (D6).

    ``cache``: a dict reused across calls (one ``solve``) so that (34) is compiled once per variable set."""
    csi = csi or C.make_csi(instance)
    prob = _sum_problem(params, instance, csi, a, T, cache)
    if prob.size == 0:
        return P
    return C.sca_power_loop(params, instance, csi, a, P, T, prob, lambda b, nu: prob.solve(b),
                            lambda Q: C.de_eta_sum(params, csi, a, Q, T), max_iter, tol)


# --------------------------------------------------------------------------- LP (21)
def hover_time_lp(params: Params, instance: Instance, a: np.ndarray, P: np.ndarray, T: np.ndarray,
                  csi: C.CSI | None = None) -> np.ndarray:
    """LP (21): max sum_n c_n T_n s.t. total time, per-UAV energy, 0 <= T_n <= T_slot (HiGHS); repaired."""
    from scipy.optimize import linprog

    csi = csi or C.make_csi(instance)
    c = C.assigned(a, C.de_rates(params, instance, csi, P)).sum(axis=1) / params.total_hover_time_s
    e = np.where((a >= 0)[:, None, :], P, 0.0).sum(axis=2)                            # (N, M)
    A_ub = np.vstack([np.ones((1, params.num_groups)), e.T])
    b_ub = np.concatenate([[params.total_hover_time_s], np.full(params.num_uavs, params.energy_per_uav_j)])
    res = linprog(-c, A_ub=A_ub, b_ub=b_ub, bounds=[(0.0, params.max_slot_hover_time_s)] * params.num_groups,
                  method="highs")
    if res.status != 0 or res.x is None:
        return T
    return C.repair_time(params, a, P, res.x)


# --------------------------------------------------------------------------- Algorithm 3
def solve(params: Params, instance: Instance, return_trace: bool = False, use_interference: bool = True,
          gain_user=None, gain_sat=None, max_iter: int = 10, tol: float = 1e-3):
    """Algorithm 3: (T, P) <- (T^0, P^0); repeat Alg. 1, Alg. 2, LP (21); return the best iterate (Sec. 8.4)."""
    validate_instance(params, instance)
    csi = C.make_csi(instance, gain_user, gain_sat, use_interference)
    T, P = C.initial_point(params, instance, csi)
    a = subchannel_allocation(params, instance, P, T, csi)
    trace = [C.de_eta_sum(params, csi, a, P, T)]
    best = (trace[0], a, P, T)
    cache: dict = {}
    for _ in range(max_iter):
        a = subchannel_allocation(params, instance, P, T, csi)
        P = np.where((a >= 0)[:, None, :], P, 0.0)
        P = power_allocation(params, instance, a, P, T, csi, cache=cache)
        T = hover_time_lp(params, instance, a, P, T, csi)
        trace.append(C.de_eta_sum(params, csi, a, P, T))
        if trace[-1] > best[0]:
            best = (trace[-1], a, P, T)
        if trace[-1] - trace[-2] <= tol * abs(trace[-2]):
            break
    decision = C.finish(params, *best[1:])
    return (decision, trace) if return_trace else decision

