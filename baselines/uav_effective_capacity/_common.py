"""Shared machinery of the uav_effective_capacity solvers: the per-position context (channels
scaled to unit noise), SINR statistics vectorised over blocks, the WMMSE beam update and the
(P7) SCA placement of Algorithm 4' (cvxpy, DPP, built once per user count and cached; every
solve starts from scratch, so the output does not depend on what was solved before)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from isac_envs.uav_effective_capacity import model
from isac_envs.uav_effective_capacity.model import Decision, Params, split_power

LN2 = math.log(2.0)


@dataclass
class Ctx:
    """Everything the inner solvers need at a fixed UAV position q (noise normalised to 1)."""

    params: Params
    q: np.ndarray
    h: np.ndarray  # (L, K, M) channels / sigma
    hcols: np.ndarray  # (L, M, K) = h^T (columns h_k)
    a_t: np.ndarray  # (M,)
    G: float  # Gamma d_t^2
    P: float
    theta: np.ndarray  # (K,)
    alpha: np.ndarray  # (K,)

    @property
    def feasible_position(self) -> bool:
        return self.G <= self.a_t.shape[0] * self.P * (1.0 + 1e-12)


def make_ctx(params: Params, instance, q) -> Ctx:
    q = np.clip(np.asarray(q, float), params.lo, params.hi)
    h = model.channels(params, instance, q) / math.sqrt(params.noise_power)
    a_t, dt2 = model.target_geometry(params, instance, q)
    return Ctx(params, q, h, np.swapaxes(h, 1, 2), a_t, params.sensing_threshold * dt2, params.p_max,
               params.theta, params.weights)


def stats(h: np.ndarray, W: np.ndarray, v: np.ndarray, p_s: np.ndarray):
    """N_k (signal), n_k (noise + sensing interference), D_k, T_k and |h_k^H v|^2, each (L, K)."""
    hc = h.conj()
    p = np.abs(hc @ W) ** 2
    N = np.diagonal(p, axis1=1, axis2=2)
    hv2 = np.abs(np.einsum("lkm,lm->lk", hc, v)) ** 2
    n = 1.0 + p_s[:, None] * hv2
    D = p.sum(axis=2) - N + n
    return N, n, D, N + D, hv2


def log_rates(N, D):
    """log2(T/D) = log2(1 + SINR), (L, K)."""
    return np.log2((N + D) / D)


def ec_terms(rate, theta, alpha):
    """x = -theta r, ln phi (K,), J and the normalised weights exp(x - ln phi) (L, K)."""
    x = -theta * rate
    x_max = x.max(axis=0)
    ex = np.exp(x - x_max)
    mean_ex = ex.mean(axis=0)
    ln_phi = x_max + np.log(mean_ex)
    J = float(np.sum(-alpha / theta * ln_phi))
    return ln_phi, J, ex / mean_ex


def shortfall(ctx: Ctx, W, v, p_s):
    """Per-block sensing shortfall max(0, G - a^H (W W^H + p_s v v^H) a)."""
    gain = np.sum(np.abs(ctx.a_t.conj() @ W) ** 2, axis=1) + p_s * np.abs(v @ ctx.a_t.conj()) ** 2
    return np.maximum(0.0, ctx.G - gain)


def infeasible_design(ctx: Ctx, L: int):
    """All power to the target beam (the position cannot meet C1)."""
    M, K = ctx.a_t.shape[0], ctx.alpha.shape[0]
    W = np.zeros((L, M, K), complex)
    v = np.broadcast_to(ctx.a_t / math.sqrt(M), (L, M)).copy()
    return W, v, np.full(L, ctx.P)


def mmse_init(ctx: Ctx):
    """Alg. 3 line 3: V_k ∝ (I + P/K sum_i h_i h_i^H)^-1 h_k (unit columns), v = a_t/sqrt(M), (S22)."""
    L, K, M = ctx.h.shape
    X = np.eye(M) + (ctx.P / K) * (ctx.hcols @ np.swapaxes(ctx.hcols.conj(), 1, 2))
    V = np.linalg.solve(X, ctx.hcols)
    V = V / np.linalg.norm(V, axis=1, keepdims=True)
    v = np.broadcast_to(ctx.a_t / math.sqrt(M), (L, M))
    return split_power(V, v, ctx.a_t, ctx.P, ctx.G)


def warm_init(ctx: Ctx, init):
    """Directions (W, v) of a previous design re-split at this position."""
    W0, v0 = init
    return split_power(np.asarray(W0), np.asarray(v0), ctx.a_t, ctx.P, ctx.G)


def to_decision(ctx: Ctx, W, v, p_s) -> Decision:
    return Decision(ctx.q.copy(), W, model.rank_one_cov(v, p_s))


def directions(decision: Decision):
    """(W, v) directions of a rank-one decision (v = principal eigenvector of R_s, a_t fallback)."""
    R = np.asarray(decision.sensing_cov)
    w, vecs = np.linalg.eigh(R)
    return np.asarray(decision.beamformers), vecs[:, :, -1]


def weighted_sum_rate(ctx: Ctx, W, v, p_s, h=None):
    N, n, D, T, _ = stats(ctx.h if h is None else h, W, v, p_s)
    return np.sum(ctx.alpha * log_rates(N, D), axis=1)


def users_moved(prev_instance, instance) -> bool:
    """Replan predicate (spec Sec. 6): plan again only when the users' positions changed."""
    if prev_instance is None:
        return True
    return not np.array_equal(prev_instance.user_pos, instance.user_pos)


# =========================================================================== WMMSE beam update
def wmmse_beams(h, W, noise, alpha, P_c, iters: int, tol: float = 1e-6):
    """Shi et al. WMMSE for the per-block weighted sum rate with power P_c (L,) and noise (L, K).

    eta >= 0 by 60-step bisection on the eigen-decomposition so that sum ||w_k||^2 = P_c.
    """
    hc = h.conj()
    hcols = np.swapaxes(h, 1, 2)
    prev = None
    for _ in range(iters):
        p = np.abs(hc @ W) ** 2
        g = np.einsum("lkm,lmk->lk", hc, W)
        T = p.sum(axis=2) + noise
        rate = np.sum(alpha * np.log2(T / np.maximum(T - np.abs(g) ** 2, 1e-300)), axis=1)
        if prev is not None and np.all(np.abs(rate - prev) <= tol * np.maximum(1.0, np.abs(rate))):
            break
        prev = rate
        u = g / T
        e = np.maximum(1.0 - np.abs(g) ** 2 / T, 1e-300)
        omega = 1.0 / e
        Phi = (hcols * (alpha * omega * np.abs(u) ** 2)[:, None, :]) @ np.swapaxes(hcols.conj(), 1, 2)
        Bm = hcols * (alpha * omega * u)[:, None, :]
        W = _power_constrained_solve(Phi, Bm, P_c)
    return W


def _power_constrained_solve(Phi, Bm, P_c):
    lam, Q = np.linalg.eigh(Phi)
    lam = np.maximum(lam, 0.0)
    C = np.swapaxes(Q.conj(), 1, 2) @ Bm  # (L, M, K)
    c2 = np.sum(np.abs(C) ** 2, axis=2)  # (L, M)
    keep = lam > 1e-12 * lam[:, -1:]
    c2 = np.where(keep, c2, 0.0)

    def power(eta):
        return np.sum(np.divide(c2, (lam + eta[:, None]) ** 2, out=np.zeros_like(c2), where=c2 > 0), axis=1)

    lo = np.zeros(P_c.shape[0])
    hi = np.sqrt(c2.sum(axis=1) / np.maximum(P_c, 1e-300)) + 1e-300
    need = power(lo) > P_c
    for _ in range(60):
        mid = (lo + hi) / 2.0
        over = power(mid) > P_c
        lo = np.where(over, mid, lo)
        hi = np.where(over, hi, mid)
    eta = np.where(need, hi, 0.0)
    inv = np.divide(1.0, lam + eta[:, None], out=np.zeros_like(lam), where=keep | (eta[:, None] > 0))
    return Q @ (inv[:, :, None] * C)


# =========================================================================== sensing step (4 + 6)
def sensing_direction(ctx: Ctx, W, v, p_s, c, N, n, D, T, hv2):
    """Steps 4 and 6 of Alg. 3': sensing multiplier mu, kappa_p and v' = (E + kappa_p I)^-1 a_t."""
    L, K, M = ctx.h.shape
    P_c = np.maximum(ctx.P - p_s, 1e-12 * ctx.P)
    e = c * N / (T * D)
    Pi = np.sum(c * n * N / (T * D), axis=1)
    E = (ctx.hcols * e[:, None, :]) @ np.swapaxes(ctx.hcols.conj(), 1, 2)
    g_c = np.sum(np.abs(ctx.a_t.conj() @ W) ** 2, axis=1) / P_c
    g_s = np.abs(v @ ctx.a_t.conj()) ** 2
    E_v = np.sum(e * hv2, axis=1)
    active = (p_s > 0) & (g_s > g_c)
    mu = np.where(active, (Pi / P_c + E_v) / np.where(active, g_s - g_c, 1.0), 0.0)
    kappa = Pi / P_c + mu * g_c
    ok = (kappa > 0) & (ctx.P - p_s > 1e-12 * ctx.P)
    rhs = np.broadcast_to(ctx.a_t[None, :, None], (L, M, 1))
    vn = np.linalg.solve(E + np.where(ok, kappa, 1.0)[:, None, None] * np.eye(M), rhs)[:, :, 0]
    vn = vn / np.linalg.norm(vn, axis=1, keepdims=True)
    phase = np.sum(vn.conj() * v, axis=1)
    vn = vn * np.exp(1j * np.angle(phase))[:, None]
    vn = np.where(ok[:, None], vn, ctx.a_t[None] / math.sqrt(M))
    return vn, mu, kappa, e, Pi, P_c, g_c


# =========================================================================== Algorithm 4' (P7)
_P7_CACHE: dict[int, tuple] = {}
_SCALE_M = 100.0  # internal length unit of (P7)


def _p7_problem(K: int):
    """(P7) as a DPP problem (lengths in 100 m): min s^T zeta s.t. (19), linearised (20), box, trust region."""
    if K in _P7_CACHE:
        return _P7_CACHE[K]
    import cvxpy as cp

    q, zt, z = cp.Variable(2), cp.Variable(), cp.Variable(K)
    par = {
        "s": cp.Parameter(K, nonneg=True), "U": cp.Parameter((K, 2)), "m": cp.Parameter(2),
        "H2": cp.Parameter(nonneg=True), "coef": cp.Parameter(), "rhs": cp.Parameter(),
        "lo": cp.Parameter(2), "hi": cp.Parameter(2), "qk": cp.Parameter(2), "chi": cp.Parameter(nonneg=True),
    }
    cons = [cp.sum_squares(q - par["U"][k]) + par["H2"] <= z[k] for k in range(K)]
    cons += [cp.sum_squares(q - par["m"]) + par["H2"] <= zt,
             par["coef"] * zt <= par["rhs"],
             q >= par["lo"], q <= par["hi"],
             cp.sum_squares(q - par["qk"]) <= par["chi"]]
    prob = cp.Problem(cp.Minimize(par["s"] @ z), cons)
    _P7_CACHE[K] = (prob, q, par)
    return _P7_CACHE[K]


def beam_gain_poly(params: Params, Wbar: np.ndarray, rho_m2: float):
    """(S14) h(rho) = a(rho)^H Wbar a(rho) and its derivative h'(rho) for a target at squared distance rho."""
    M = Wbar.shape[0]
    c = 2.0 * math.pi * params.antenna_spacing
    n = np.arange(M)
    delta = n[None, :] - n[:, None]  # q - p
    phase = np.exp(1j * c * delta * params.uav_height / math.sqrt(rho_m2))
    h = float(np.real(np.sum(Wbar * phase)))
    dphase = 1j * c * delta * params.uav_height * (-0.5) * rho_m2 ** -1.5
    dh = float(np.real(np.sum(Wbar * phase * dphase)))
    return h, dh


def solve_fresh(prob) -> bool:
    """Solve a cached DPP problem with CLARABEL from scratch; False on a solver error.

    ``warm_start=False``: cvxpy would otherwise update the Clarabel object of the previous solve
    (any earlier instance), so the same input could give different bits depending on what ran
    before. Every Parameter is set by the caller before each solve. An "optimal_inaccurate"
    status is accepted quietly: callers check the returned point with evaluate().
    """
    import cvxpy as cp

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Solution may be inaccurate", category=UserWarning)
            prob.solve(solver=cp.CLARABEL, warm_start=False)
    except (cp.SolverError, ArithmeticError, ValueError):
        return False
    return True


def p7_step(params: Params, instance, W, v, p_s, q_l, q_k, chi: float):
    """One (P7) solve linearised at q_l with trust region around q_k; returns the new q or None."""
    K = params.num_users
    prob, qv, par = _p7_problem(K)
    s = _SCALE_M
    P_k = np.mean(np.sum(np.abs(W) ** 2, axis=1), axis=0)  # (K,)
    P_s = float(np.mean(p_s))
    Wbar = np.mean(W @ np.swapaxes(W.conj(), 1, 2), axis=0) + np.mean(model.rank_one_cov(v, p_s), axis=0)
    kap, M = params.rician_factor, params.num_antennas
    c_n = params.noise_power * (kap + 1.0) / (params.ref_gain * (kap * M + 1.0))
    X = P_k.sum() - P_k + P_s
    zeta_l = model.sq_distance_m2(params, q_l, instance.user_pos)
    S = P_k * c_n / (LN2 * (X + zeta_l * c_n) * (X + P_k + zeta_l * c_n))  # |S_k| of (21)
    aS = params.weights * S
    par["s"].value = aS / max(aS.max(), 1e-300) if aS.max() > 0 else np.ones(K) / K
    rho_l = float(model.sq_distance_m2(params, q_l, instance.target_pos))
    hl, dh = beam_gain_poly(params, Wbar, rho_l)
    if hl <= 0:
        return None
    # h + h'(zeta_t - rho_l) >= Gamma zeta_t in units of (100 m)^2, divided by h
    dh_s = dh * s**2
    par["coef"].value = (params.sensing_threshold * s**2 - dh_s) / hl
    par["rhs"].value = 1.0 - dh_s * (rho_l / s**2) / hl
    par["U"].value = instance.user_pos / s
    par["m"].value = instance.target_pos / s
    par["H2"].value = (params.uav_height / s) ** 2
    par["lo"].value, par["hi"].value = params.lo / s, params.hi / s
    par["qk"].value = np.asarray(q_k, float) / s
    par["chi"].value = chi / s**2
    if not solve_fresh(prob):
        return None
    if qv.value is None or prob.status not in ("optimal", "optimal_inaccurate"):
        return None
    return np.clip(qv.value * s, params.lo, params.hi)


def placement(params: Params, instance, inner, return_trace: bool = False, q0=None,
              max_outer: int = 30, chi0: float = 400.0, path: list | None = None):
    """Algorithm 4': SCA placement around an inner beamforming solver.

    ``inner(q, init) -> (W, v, p_s)`` (init: None or the (W, v) of the previous outer iterate);
    acceptance uses evaluate() of the decision (true sample-average EC). ``path``, if given,
    receives the accepted positions q^0, q^1, ... (for the figures).
    """
    q_k = np.clip(np.asarray(instance.target_pos if q0 is None else q0, float), params.lo, params.hi)
    W, v, p_s = inner(q_k, None)
    dec = Decision(q_k.copy(), W, model.rank_one_cov(v, p_s))
    ec = model.evaluate(params, instance, dec).objective
    trace, chi = [ec], chi0
    if path is not None:
        path.append(q_k.copy())
    for _ in range(max_outer):
        q_l = q_k.copy()
        for _ in range(10):
            q_new = p7_step(params, instance, W, v, p_s, q_l, q_k, chi)
            if q_new is None:
                break
            moved = np.linalg.norm(q_new - q_l)
            q_l = q_new
            if moved <= 0.1:
                break
        if np.linalg.norm(q_l - q_k) < 1e-3:
            break
        W2, v2, p2 = inner(q_l, (W, v))
        dec2 = Decision(q_l.copy(), W2, model.rank_one_cov(v2, p2))
        ec2 = model.evaluate(params, instance, dec2).objective
        if ec2 > ec:
            gain = (ec2 - ec) / max(abs(ec), 1e-12)
            q_k, W, v, p_s, dec, ec = q_l, W2, v2, p2, dec2, ec2
            trace.append(ec)
            if path is not None:
                path.append(q_k.copy())
            if gain < 1e-4:
                break
        else:
            chi /= 5.0
            if chi < 0.04:
                break
    return (dec, trace) if return_trace else dec
