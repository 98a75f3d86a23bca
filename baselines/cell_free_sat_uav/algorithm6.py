"""Algorithm 6 (paper): maximise the minimum data transmission efficiency (10).

Alternates Algorithm 4 (greedy max-min subchannel allocation, Sec. 8.5), Algorithm 5 (damped
max-min power allocation with the deterministic equivalent, Sec. 8.6, cvxpy, lexicographic
stage 2) and the max-min hovering-time LP (49) (Sec. 8.7, HiGHS).
"""

from __future__ import annotations

import numpy as np

from baselines.cell_free_sat_uav import _common as C
from isac_envs.cell_free_sat_uav.model import Instance, Params, validate_instance


# --------------------------------------------------------------------------- Algorithm 4
def subchannel_allocation(params: Params, instance: Instance, P: np.ndarray, T: np.ndarray,
                          csi: C.CSI | None = None) -> np.ndarray:
    """Algorithm 4: per slot, the poorest user (users without a subchannel first) takes its best free subchannel."""
    csi = csi or C.make_csi(instance)
    R = C.de_rates(params, instance, csi, P)                                  # (N, K, L)
    N, K, L = R.shape
    a = np.full((N, L), -1, np.int64)
    for n in range(N):
        avail = np.ones(L, bool)
        r = np.zeros(K)
        has = np.zeros(K, bool)
        for _ in range(L):
            k = int(np.lexsort((np.arange(K), r, has))[0])
            l = int(np.argmax(np.where(avail, R[n, k], -np.inf)))
            a[n, l] = k
            avail[l] = False
            r[k] += R[n, k, l]
            has[k] = True
    return a


# --------------------------------------------------------------------------- Algorithm 5
class MaxMinPowerProblem:
    """Problems (58): stage 1 (max t) and stage 2 (max sum, t >= threshold), built once per (variable set,
    assignment) with Parameters b, C(nu), the user weights T_n / T_tot, the energy coefficients and the
    threshold (DPP: epigraph variables r_A <= sum_m log2(1 + b x) + C(nu))."""

    def __init__(self, params: Params, instance: Instance, csi: C.CSI, a: np.ndarray, active: np.ndarray):
        import cvxpy as cp

        self.params = params
        self.idx_n, self.idx_l = np.nonzero(active)
        A, M = self.idx_n.size, params.num_uavs
        self.size = A
        if A == 0:
            return
        k_of = a[self.idx_n, self.idx_l]
        users = sorted(set(zip(self.idx_n.tolist(), k_of.tolist())))
        self.users = np.array(users, dtype=np.int64).reshape(-1, 2)
        pos = {u: i for i, u in enumerate(users)}
        self.user_of = np.array([pos[(int(n), int(k))] for n, k in zip(self.idx_n, k_of)])
        self.x = cp.Variable((A, M), nonneg=True)
        r = cp.Variable(A)
        self.b = cp.Parameter((A, M), nonneg=True)
        self.cnu = cp.Parameter(A)
        self.U = cp.Parameter((len(users), A), nonneg=True)
        self.e_coef = cp.Parameter(A, nonneg=True)
        self.thr = cp.Parameter()
        eta = self.U @ r
        slots = np.unique(self.idx_n)
        G = (self.idx_n[None, :] == slots[:, None]).astype(float)
        cons = [r <= cp.sum(cp.log(1 + cp.multiply(self.b, self.x)), axis=1) / C.LN2 + self.cnu,
                G @ self.x <= 1, self.e_coef @ self.x <= 1]
        rows, coef = C.sat_rows(params, instance, csi, self.idx_n, self.idx_l)
        if rows.size:
            S = np.zeros((rows.size, A))
            S[np.arange(rows.size), rows] = 1.0
            cons.append(cp.sum(cp.multiply(coef, S @ self.x), axis=1) <= 1)
        self.t = cp.Variable()
        self.stage1 = cp.Problem(cp.Maximize(self.t), cons + [eta >= self.t])
        self.stage2 = cp.Problem(cp.Maximize(cp.sum(eta)), cons + [eta >= self.thr])

    def set_times(self, T: np.ndarray) -> None:
        p = self.params
        U = np.zeros(self.U.shape)
        U[self.user_of, np.arange(self.size)] = T[self.idx_n] / p.total_hover_time_s
        self.U.value = U
        self.e_coef.value = T[self.idx_n] * p.max_power_w / p.energy_per_uav_j

    def solve(self, b: np.ndarray, cnu: np.ndarray) -> np.ndarray | None:
        self.b.value = np.maximum(b, 0.0)
        self.cnu.value = cnu
        if not C.solve_cvx(self.stage1):
            return None
        x1 = np.clip(np.asarray(self.x.value), 0.0, None)
        t_star = float(self.t.value)
        self.thr.value = t_star - 1e-3 * abs(t_star)
        if C.solve_cvx(self.stage2, fallback=False):   # numerically delicate: on failure keep stage 1
            return np.clip(np.asarray(self.x.value), 0.0, None)
        return x1


def _maxmin_problem(params, instance, csi, a, T, cache: dict | None) -> MaxMinPowerProblem:
    active = (a >= 0) & (T[:, None] > 0)
    key = active.tobytes() + np.where(active, a, -1).tobytes()
    return C.cached_problem(cache, key, lambda: MaxMinPowerProblem(params, instance, csi, a, active), T)


def _served_min(params, csi, a, P, T, users) -> float:
    eff = C.de_user_eff(params, csi, a, P, T)
    return float(eff[users[:, 0], users[:, 1]].min())


def power_allocation(params: Params, instance: Instance, a: np.ndarray, P: np.ndarray, T: np.ndarray,
                     csi: C.CSI | None = None, max_iter: int = 20, tol: float = 1e-4,
                     cache: dict | None = None) -> np.ndarray:
    """Algorithm 5: alternate nu and (58) (two stages), damped on the minimum efficiency of the served users."""
    csi = csi or C.make_csi(instance)
    prob = _maxmin_problem(params, instance, csi, a, T, cache)
    if prob.size == 0:
        return P
    return C.sca_power_loop(params, instance, csi, a, P, T, prob,
                            lambda b, nu: prob.solve(b, C.compensation(params, nu)),
                            lambda Q: _served_min(params, csi, a, Q, T, prob.users), max_iter, tol)


# --------------------------------------------------------------------------- LP (49)
def hover_time_lp(params: Params, instance: Instance, a: np.ndarray, P: np.ndarray, T: np.ndarray,
                  csi: C.CSI | None = None) -> np.ndarray:
    """LP (49): stage 1 max t s.t. t <= alpha_{n,k} T_n, budgets; stage 2 max the sum with t >= (1-1e-6) t* (HiGHS)."""
    from scipy.optimize import linprog

    csi = csi or C.make_csi(instance)
    N, K = params.num_groups, params.users_per_group
    R = C.assigned(a, C.de_rates(params, instance, csi, P))                    # (N, L)
    rho = a[:, None, :] == np.arange(K)[None, :, None]
    alpha = (rho * R[:, None, :]).sum(axis=2) / params.total_hover_time_s    # (N, K)
    e = np.where((a >= 0)[:, None, :], P, 0.0).sum(axis=2)                  # (N, M)
    # variables z = (T_0..T_{N-1}, t)
    rows_t = np.zeros((N * K, N + 1))
    rows_t[np.arange(N * K), np.repeat(np.arange(N), K)] = -alpha.ravel()
    rows_t[:, N] = 1.0
    budget = np.vstack([np.concatenate([np.ones(N), [0.0]])[None, :], np.hstack([e.T, np.zeros((e.shape[1], 1))])])
    A_ub = np.vstack([rows_t, budget])
    b_ub = np.concatenate([np.zeros(N * K), [params.total_hover_time_s], np.full(e.shape[1], params.energy_per_uav_j)])
    bounds = [(0.0, params.max_slot_hover_time_s)] * N + [(0.0, None)]
    c1 = np.zeros(N + 1)
    c1[N] = -1.0
    res = linprog(c1, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0 or res.x is None:
        return T
    t_star = float(res.x[N])
    c2 = np.concatenate([-alpha.sum(axis=1), [0.0]])
    A2 = np.vstack([A_ub, -c1[None, :]])
    b2 = np.concatenate([b_ub, [-(1 - 1e-6) * t_star]])
    res2 = linprog(c2, A_ub=A2, b_ub=b2, bounds=bounds, method="highs")
    z = res2.x if res2.status == 0 and res2.x is not None else res.x
    return C.repair_time(params, a, P, z[:N])


# --------------------------------------------------------------------------- Algorithm 6
def solve(params: Params, instance: Instance, return_trace: bool = False, max_iter: int = 10, tol: float = 1e-3):
    """Algorithm 6: (T, P) <- (T^0, P^0); repeat Alg. 4 (kept if not worse), Alg. 5, LP (49); best iterate (Sec. 8.8)."""
    validate_instance(params, instance)
    csi = C.make_csi(instance)
    T, P = C.initial_point(params, instance, csi)
    a = subchannel_allocation(params, instance, P, T, csi)

    def score(a_, P_, T_):
        return (C.de_eta_min(params, csi, a_, P_, T_), C.de_eta_sum(params, csi, a_, P_, T_))

    trace = [score(a, P, T)[0]]
    best = (score(a, P, T), a, P, T)
    cache: dict = {}
    for _ in range(max_iter):
        a_new = subchannel_allocation(params, instance, P, T, csi)
        if C.de_eta_min(params, csi, a_new, P, T) >= C.de_eta_min(params, csi, a, P, T):
            a = a_new
        P = power_allocation(params, instance, a, P, T, csi, cache=cache)
        T = hover_time_lp(params, instance, a, P, T, csi)
        s = score(a, P, T)
        trace.append(s[0])
        if s > best[0]:
            best = (s, a, P, T)
        if trace[-1] - trace[-2] <= tol * abs(trace[-2]):
            break
    decision = C.finish(params, *best[1:])
    return (decision, trace) if return_trace else decision
