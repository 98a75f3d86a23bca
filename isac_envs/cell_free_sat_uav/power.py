"""The concave power step of the paper's Algorithm 2 (spec Sec. 8.2), shared by the solvers and the env.

``sca_power_loop`` is Algorithm 2's outer loop: refresh the slack nu (35) of every used link, solve the
concave problem (34) for the linearised gains b = N_r lambda nu P_max / sigma^2, repair, and move by
the first damped step that increases the surrogate (D6). ``baselines.cell_free_sat_uav`` runs it with
cvxpy over the whole flight (Algorithms 2 and 5); the hybrid-action decoder of ``CellFreeSatUAVEnv``
runs it for one slot (``slot_power``) with ``max_log_sum``, an exact primal-dual interior-point solver of
(34) for one slot in numpy (no cvxpy on the step path). Pure functions; nothing imports ``baselines``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from isac_envs.physics.deterministic_equivalent import de_rate_bits, de_slack_nu

__all__ = ["damped_step", "sca_power_loop", "max_log_sum", "slot_power", "DAMPING"]

#: the step sizes gamma tried by the damped move of Algorithms 2 and 5 (D6)
DAMPING = (1.0, 0.5, 0.25, 0.125, 0.0625)


def damped_step(P: np.ndarray, P_hat: np.ndarray, cur: float, value) -> tuple[np.ndarray, float] | None:
    """Move towards ``P_hat`` by the first gamma in 1, 1/2, ..., 1/16 that improves ``value``; None if none does."""
    for gamma in DAMPING:
        P_new = P + gamma * (P_hat - P)
        val = value(P_new)
        if val > cur:
            return P_new, val
    return None


def sca_power_loop(params, P: np.ndarray, gain: np.ndarray, put: Callable, nu_of: Callable, solve_step: Callable,
                   repair: Callable, value: Callable, max_iter: int, tol: float) -> np.ndarray:
    """Algorithm 2's outer loop (Sec. 8.2): nu (35) -> x = solve_step(b, nu) of (34) -> repair -> damped move.

    gain: (A, M) lambda of the assigned user of every used link; ``put(P, X)`` returns a copy of P with the
    used links' powers (A, M) set to X (W); ``nu_of(P)`` the slack (A,) of (17); ``solve_step(b, nu)`` the
    normalised powers x (A, M) or None; ``value(P)`` the surrogate that must never decrease.
    """
    cur = value(P)
    for _ in range(max_iter):
        nu = nu_of(P)
        x = solve_step(params.num_rx_antennas * gain * nu[:, None] * params.max_power_w / params.noise_w, nu)
        if x is None:
            break
        step = damped_step(P, repair(put(P, params.max_power_w * x)), cur, value)
        if step is None:
            break
        gain_rel = (step[1] - cur) / max(abs(cur), 1e-12)
        P, cur = step
        if gain_rel < tol:
            break
    return P


# --------------------------------------------------------------------------- (34) for one slot, numpy
def _constraints(A: int, M: int, row_link: np.ndarray, coef: np.ndarray, budget: np.ndarray):
    """C x <= d for x (A, M) flattened: per-UAV budget rows, interference rows, then -x <= 0."""
    n = A * M
    C = np.zeros((M + row_link.size + n, n))
    cols = np.arange(A)[:, None] * M + np.arange(M)[None, :]                     # (A, M) flat index
    C[np.arange(M)[None, :].repeat(A, 0), cols] = 1.0
    if row_link.size:
        C[M + np.arange(row_link.size)[:, None], cols[row_link]] = coef
    C[M + row_link.size:] = -np.eye(n)
    return C, np.concatenate([budget, np.ones(row_link.size), np.zeros(n)])


#: above this many variables the Newton system is solved through the general rows (Woodbury), not densely
DENSE_NEWTON_MAX = 64


def _newton_solver(C: np.ndarray, n_general: int, w: np.ndarray, hess: np.ndarray):
    """Solver of (C^T diag(w) C + diag(hess)) dx = r. C = [general rows; -I]: dense for small problems, else
    Woodbury through the k general rows (k = UAV budgets + interference rows << n at large swarms):
    K = D + G^T W G, D = hess + w_x diagonal, K^-1 r = D^-1 r - D^-1 G^T (W^-1 + G D^-1 G^T)^-1 G D^-1 r."""
    n = C.shape[1]
    if n <= DENSE_NEWTON_MAX:
        K = (C.T * w) @ C
        K.flat[:: n + 1] += hess
        return lambda r: np.linalg.solve(K, r)
    G, w_g = C[:n_general], w[:n_general]
    d_inv = 1.0 / (hess + w[n_general:])
    if not np.all(np.isfinite(d_inv)):
        raise np.linalg.LinAlgError("degenerate diagonal")
    GD = G * d_inv
    S = GD @ G.T
    S.flat[:: n_general + 1] += 1.0 / np.maximum(w_g, 1e-300)
    return lambda r: d_inv * r - GD.T @ np.linalg.solve(S, GD @ r)


def max_log_sum(b: np.ndarray, budget: np.ndarray, row_link: np.ndarray, coef: np.ndarray,
                tol: float = 1e-9, max_iter: int = 60) -> np.ndarray:
    """Problem (34) for one slot: max sum_{a,m} ln(1 + b_{a,m} x_{a,m}) s.t. x >= 0, sum_a x_{a,m} <= budget_m,
    sum_m coef_{r,m} x_{row_link[r], m} <= 1 (interference rows). Primal-dual interior point with Mehrotra's
    predictor-corrector (Nocedal & Wright Sec. 14.2 / 19.3) on C x + v = d, stopped at a duality gap
    v.y <= tol (the optimum of the concave problem; agrees with cvxpy/CLARABEL, tested).
    b (A, M) >= 0, budget (M,) >= 0; returns x (A, M)."""
    A, M = b.shape
    x_out = np.zeros((A, M))
    on = budget > 1e-15                                                          # UAVs with a budget
    if A == 0 or not on.any():
        return x_out
    u = budget[on]
    C, d = _constraints(A, int(on.sum()), row_link, coef[:, on], u)
    Ct = C.T
    n_general = C.shape[0] - A * u.size
    x = np.tile(u / A, A)
    x *= min(0.5, 0.5 / max(float(np.max((C[:n_general] @ x) / d[:n_general])), 1e-300))   # strictly inside
    bf = b[:, on].ravel()
    v = d - C @ x
    y = 1.0 / v
    m = v.size
    dual_tol = 1e-9 * (1.0 + float(bf.max()))
    for _ in range(max_iter):
        g = bf / (1.0 + bf * x)                                                   # gradient of the objective
        r_d = Ct @ y - g
        gap = float(v @ y)
        if gap <= tol and float(np.abs(r_d).max()) <= dual_tol:
            break
        try:
            newton = _newton_solver(C, n_general, y / v, g * g)
            dx = newton(g)                                                        # predictor (affine scaling)
        except np.linalg.LinAlgError:                                             # numerically singular: x is final
            break
        dv = -(C @ dx)
        dy = -y - y * dv / v
        vy, dvy = np.concatenate([v, y]), np.concatenate([dv, dy])
        neg = dvy < 0
        a_aff = min(1.0, float(np.min(-vy[neg] / dvy[neg]))) if neg.any() else 1.0
        sigma = (float((v + a_aff * dv) @ (y + a_aff * dy)) / gap) ** 3
        rc = sigma * gap / m - v * y - dv * dy                                    # corrector
        try:
            dx = newton(-r_d - Ct @ (rc / v))
        except np.linalg.LinAlgError:
            break
        dv = -(C @ dx)
        dvy = np.concatenate([dv, (rc - y * dv) / v])
        neg = dvy < 0
        a = min(1.0, 0.99 * float(np.min(-vy[neg] / dvy[neg]))) if neg.any() else 1.0
        x_new = x + a * dx
        v_new = d - C @ x_new
        if not (np.all(v_new > 0) and np.all(np.isfinite(x_new)) and np.all(np.isfinite(dvy))):   # round-off: stop
            break
        x, v, y = x_new, v_new, y + a * dvy[m:]
    x_out[:, on] = np.maximum(x.reshape(A, u.size), 0.0)
    x_out[b <= 0] = 0.0                          # no gain: any power is optimal, none wastes no energy
    return x_out


def slot_power(params, gain_user_n: np.ndarray, gain_sat_n: np.ndarray, sat_subchannel_n: np.ndarray,
               assign_row: np.ndarray, hover_time_s: float, cap_w: np.ndarray, enforce_interference: bool = True,
               max_iter: int = 20, tol: float = 1e-4) -> np.ndarray:
    """Algorithm 2 for one slot (the hybrid-action decoder, spec Sec. 6 amendment): powers (M, L) W that maximise
    the slot's deterministic-equivalent rate sum over the used subchannels for the given assignment, with each
    UAV's total power at most ``cap_w`` (peak power and the slot's energy share) and, if ``enforce_interference``,
    every satellite user on a used subchannel at most I_th. Starts from equal powers backed off (S-BO)."""
    M, L = gain_user_n.shape[1], gain_user_n.shape[2]
    P = np.zeros((M, L))
    l_idx = np.flatnonzero(assign_row >= 0)
    cap_w = np.minimum(np.maximum(np.asarray(cap_w, float), 0.0), params.max_power_w)
    if hover_time_s <= 0 or l_idx.size == 0 or not (cap_w > 0).any():
        return P
    gain = np.transpose(gain_user_n[assign_row[l_idx], :, l_idx], (0, 1))       # (A, M)
    row_link = np.zeros(0, np.int64)
    coef = np.zeros((0, M))
    if enforce_interference and sat_subchannel_n.size:
        row_link, j = np.nonzero(sat_subchannel_n[None, :] == l_idx[:, None])
        coef = gain_sat_n[j, :, l_idx[row_link]] * params.max_power_w / params.interference_threshold_w
    noise, nr = params.noise_w, params.num_rx_antennas

    def alpha(Q):
        return gain * Q[:, l_idx].T / noise

    def put(Q, X):
        out = Q.copy()
        out[:, l_idx] = X.T
        return out

    def repair(Q):
        Q = np.maximum(Q, 0.0)
        tot = Q.sum(axis=1)
        Q = Q * np.minimum(1.0, cap_w / np.where(tot > 0, tot, 1.0))[:, None]
        if row_link.size:
            load = (coef * Q[:, l_idx[row_link]].T).sum(axis=1) * (1.0 / params.max_power_w)   # I / I_th per row
            scale = np.ones(l_idx.size)
            np.minimum.at(scale, row_link, 1.0 / np.maximum(load, 1.0))
            Q = Q.copy()
            Q[:, l_idx] *= scale[None, :]
        return Q

    P = repair(put(P, np.broadcast_to(cap_w / l_idx.size, (l_idx.size, M))))
    return sca_power_loop(params, P, gain, put, lambda Q: de_slack_nu(alpha(Q), nr),
                          lambda b, nu: max_log_sum(b, cap_w / params.max_power_w, row_link, coef),
                          repair, lambda Q: float(de_rate_bits(alpha(Q), nr).sum()), max_iter, tol)
