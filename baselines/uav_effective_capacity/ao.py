"""The paper's solver (spec Sec. 8.1): AO = Algorithm 3' (EC-GPI beamforming and sensing
covariance at a fixed UAV position, theta-continuation, safeguarded fixed point) inside
Algorithm 4' (SCA placement with a trust region, (P7) solved by cvxpy/CLARABEL)."""

from __future__ import annotations

import numpy as np

from isac_envs.uav_effective_capacity import model
from isac_envs.uav_effective_capacity.model import Decision, Params, split_power

from . import _common as C
from ._common import users_moved  # noqa: F401  (replan predicate)

TAUS = (1.0, 0.5, 0.25, 0.125, 0.0625)


def continuation_stages(theta: np.ndarray) -> list[np.ndarray]:
    """theta' stages: min(theta, 0.01) if theta > 0.01, min(theta, 0.1) if theta > 0.1, theta."""
    stages = []
    for cap in (0.01, 0.1):
        if np.max(theta) > cap:
            stages.append(np.minimum(theta, cap))
    return stages + [theta]


def _block_objective(ctx, N, D, theta, ln_phi, sum_rate):
    """Per-block MM surrogate S^l (to minimise): EC: sum_k alpha/theta e^(x - ln phi); else -sum rate."""
    r = C.log_rates(N, D)
    if sum_rate:
        return -np.sum(ctx.alpha * r, axis=1)
    with np.errstate(over="ignore"):  # a much worse candidate block: S = inf, and the safeguard rejects it
        return np.sum(ctx.alpha / theta * np.exp(-theta * r - ln_phi), axis=1)


#: A block whose largest MM weight is below e^-300 is rescaled (the GPI step is invariant to it).
_LOG_WEIGHT_FLOOR = -300.0


def _rescale_faint_blocks(c, r, theta, ln_phi, alpha):
    """Step 2 weights c = alpha/ln2 e^(x - ln phi) with each faint block scaled so that its largest is alpha/ln2.

    Steps 3-6 are invariant to a positive per-block factor of c (A, B, mu, kappa scale with it), but
    at large theta a block far above the worst one gets weights that underflow (B0 = 0: singular).
    """
    log_w = -theta * r - ln_phi  # (L, K) = log of the normalised weights
    m = log_w.max(axis=1, keepdims=True)
    faint = m[:, 0] < _LOG_WEIGHT_FLOOR
    if not faint.any():
        return c
    return np.where(faint[:, None], alpha / C.LN2 * np.exp(log_w - m), c)


def _gpi_stage(ctx, W, v, p_s, theta, sum_rate: bool, max_iter: int = 300):
    """One theta-stage of Algorithm 3' (steps 1-8); returns (W, v, p_s, trace of J)."""
    L, K, M = ctx.h.shape
    alpha, a_t = ctx.alpha, ctx.a_t
    hc = ctx.h.conj()
    eye = np.eye(M)
    trace = []
    for t in range(1, max_iter + 1):
        N, n, D, T, hv2 = C.stats(ctx.h, W, v, p_s)  # step 1
        r = C.log_rates(N, D)
        if sum_rate:
            ln_phi = None
            c = np.broadcast_to(alpha / C.LN2, (L, K))
            J = float(np.sum(alpha * r.mean(axis=0)))
        else:
            ln_phi, J, wnorm = C.ec_terms(r, theta, alpha)
            c = _rescale_faint_blocks(alpha / C.LN2 * wnorm, r, theta, ln_phi, alpha)  # step 2
        trace.append(J)
        if t >= 5 and abs(J - trace[-2]) <= 1e-7 * max(1.0, abs(J)):  # step 8
            break
        vn, mu, kappa, e, Pi, P_c, g_c = C.sensing_direction(ctx, W, v, p_s, c, N, n, D, T, hv2)  # 4, 6
        cT, cD = c / T, c / D  # step 3, 5
        A = (ctx.hcols * cT[:, None, :]) @ np.swapaxes(ctx.hcols.conj(), 1, 2)
        B = (ctx.hcols * cD[:, None, :]) @ np.swapaxes(ctx.hcols.conj(), 1, 2)
        Abar = A + (np.sum(cT * n, axis=1) / P_c)[:, None, None] * eye \
            + mu[:, None, None] * np.outer(a_t, a_t.conj())[None]
        B0 = B + (np.sum(cD * n, axis=1) / P_c + mu * g_c)[:, None, None] * eye
        sol = _solve_blocks(B0, np.concatenate([Abar @ W, ctx.hcols], axis=2))
        y, z = sol[:, :, :K], sol[:, :, K:]
        hy = np.einsum("lkm,lmk->lk", hc, y)
        hz = np.einsum("lkm,lmk->lk", hc, z)
        Wn = y + z * (cD * hy / (1.0 - cD * hz))[:, None, :]
        W, v, p_s = _safeguard(ctx, W, v, p_s, Wn, vn, theta, ln_phi, N, D, sum_rate)  # step 7
    return W, v, p_s, trace


def _solve_blocks(B0, rhs):
    """B0^-1 rhs per block; B0 is Hermitian PSD + a positive multiple of I (pseudo-inverse if it is singular)."""
    try:
        return np.linalg.solve(B0, rhs)
    except np.linalg.LinAlgError:  # a degenerate block: keep the others exact
        return np.linalg.pinv(B0, hermitian=True) @ rhs


def _safeguard(ctx, W, v, p_s, Wn, vn, theta, ln_phi, N, D, sum_rate):
    """Step 7: per block, the first step tau whose (S22) design does not worsen S^l nor the shortfall."""
    L = W.shape[0]
    S_old = _block_objective(ctx, N, D, theta, ln_phi, sum_rate)
    sf_old = C.shortfall(ctx, W, v, p_s)
    Wh = W / np.maximum(np.linalg.norm(W, axis=(1, 2)), 1e-300)[:, None, None]
    Wnh = Wn / np.maximum(np.linalg.norm(Wn, axis=(1, 2)), 1e-300)[:, None, None]
    W_out, v_out, p_out = W.copy(), v.copy(), p_s.copy()
    pending = np.ones(L, bool)
    for tau in TAUS:
        idx = np.flatnonzero(pending)
        if idx.size == 0:
            break
        Wc, vc, pc = split_power(Wh[idx] + tau * (Wnh[idx] - Wh[idx]), v[idx] + tau * (vn[idx] - v[idx]),
                                 ctx.a_t, ctx.P, ctx.G)
        Nc, _, Dc, _, _ = C.stats(ctx.h[idx], Wc, vc, pc)
        S_new = _block_objective(ctx, Nc, Dc, theta, ln_phi, sum_rate)
        sf_new = C.shortfall(ctx, Wc, vc, pc)
        ok = (S_new <= S_old[idx] + 1e-12 * np.abs(S_old[idx])) & (sf_new <= sf_old[idx] + 1e-9 * ctx.G)
        acc = idx[ok]
        W_out[acc], v_out[acc], p_out[acc] = Wc[ok], vc[ok], pc[ok]
        pending[acc] = False
    return W_out, v_out, p_out


def beamforming_state(params: Params, instance, q, init=None, sum_rate: bool = False, max_iter: int = 300,
                      init_state=None):
    """Algorithm 3' at q: returns (W, v, p_s, stage traces). ``init`` = (W, v) directions (warm start)."""
    ctx = C.make_ctx(params, instance, q)
    L = instance.fading.shape[0]
    if not ctx.feasible_position:  # infeasible position: early exit
        W, v, p_s = C.infeasible_design(ctx, L)
        return W, v, p_s, [[0.0]]
    if init_state is not None:
        W, v, p_s = split_power(*init_state, ctx.a_t, ctx.P, ctx.G)
        stages = [ctx.theta]
    elif init is None:
        W, v, p_s = C.mmse_init(ctx)
        stages = [ctx.theta] if sum_rate else continuation_stages(ctx.theta)
    else:
        W, v, p_s = C.warm_init(ctx, init)
        stages = [ctx.theta]
    traces = []
    for th in stages:
        W, v, p_s, tr = _gpi_stage(ctx, W, v, p_s, th, sum_rate, max_iter)
        traces.append(tr)
    return W, v, p_s, traces


def beamforming(params: Params, instance, q, init=None, sum_rate: bool = False, return_trace=False,
                max_iter: int = 300):
    """Algorithm 3' at a fixed UAV position q -> Decision (trace: J per iteration, all stages;
    ``return_trace="stages"`` gives one list per theta-stage, each non-decreasing)."""
    W, v, p_s, traces = beamforming_state(params, instance, q, init, sum_rate, max_iter)
    dec = Decision(np.clip(np.asarray(q, float), params.lo, params.hi), W, model.rank_one_cov(v, p_s))
    if return_trace == "stages":
        return dec, traces
    if return_trace:
        return dec, [x for tr in traces for x in tr]
    return dec


def beamforming_multistart(params: Params, instance, q, seeds=(0, 1, 2, 3)) -> Decision:
    """Best (by evaluate) of Alg. 3' from the MMSE start and from i.i.d. CN random directions."""
    best = beamforming(params, instance, q)
    best_J = model.evaluate(params, instance, best).objective
    L, K, M = instance.fading.shape
    ctx = C.make_ctx(params, instance, q)
    if not ctx.feasible_position:
        return best
    for s in seeds:
        rng = np.random.default_rng(s)
        V = (rng.standard_normal((L, M, K)) + 1j * rng.standard_normal((L, M, K))) / np.sqrt(2)
        v = (rng.standard_normal((L, M)) + 1j * rng.standard_normal((L, M))) / np.sqrt(2)
        W, vv, p_s = split_power(V, v, ctx.a_t, ctx.P, ctx.G)
        for th in continuation_stages(ctx.theta):
            W, vv, p_s, _ = _gpi_stage(ctx, W, vv, p_s, th, False)
        dec = Decision(ctx.q.copy(), W, model.rank_one_cov(vv, p_s))
        J = model.evaluate(params, instance, dec).objective
        if J > best_J:
            best, best_J = dec, J
    return best


def _inner(params, instance, sum_rate=False):
    def run(q, init):
        W, v, p_s, _ = beamforming_state(params, instance, q, init, sum_rate)
        return W, v, p_s
    return run


def solve(params: Params, instance, return_trace: bool = False, max_outer: int = 30, path: list | None = None):
    """AO: Algorithm 4' placement around Algorithm 3' (trace: accepted objectives ec^0 < ec^1 < ...).

    ``path``: optional list that receives the accepted UAV positions (the placement trajectory).
    """
    model.validate_instance(params, instance)
    return C.placement(params, instance, _inner(params, instance), return_trace, max_outer=max_outer, path=path)
