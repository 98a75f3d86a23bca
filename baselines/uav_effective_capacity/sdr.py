"""Comparison scheme 4 (spec Sec. 8.2): "SDR", the theta-agnostic Shannon-capacity design.

Per block maximise the weighted sum rate s.t. C1, C2, placement by Algorithm 4'.
``backend="gpi"`` (default): Algorithm 3' with ``sum_rate=True`` (the same KKT points as
SCA + SDR with exact rank-one recovery). ``backend="cvxpy"`` (cross-check only, low SNR):
at the GPI backend's position, per block 3 SCA iterations of the SDP relaxation warm-started
from the WMMSE scheme's design, with rank-one recovery (Hua et al.); a block whose SDP fails
keeps its warm start.
"""

from __future__ import annotations

import math

import numpy as np

from isac_envs.uav_effective_capacity import model
from isac_envs.uav_effective_capacity.model import Decision, Params

from . import _common as C
from ._common import users_moved  # noqa: F401  (replan predicate)
from .ao import beamforming_state
from .wmmse import inner_design as wmmse_design

_SDP_CACHE: dict[tuple, tuple] = {}


def solve(params: Params, instance, backend: str = "gpi", return_trace: bool = False, sca_iters: int = 3):
    model.validate_instance(params, instance)
    if backend not in ("gpi", "cvxpy"):
        raise ValueError(f"backend must be 'gpi' or 'cvxpy', got {backend!r}")

    def inner(q, init):
        return beamforming_state(params, instance, q, init, sum_rate=True)[:3]

    dec, trace = C.placement(params, instance, inner, return_trace=True)
    if backend == "cvxpy":
        dec = sdp_beamforming(params, instance, dec.uav_pos, sca_iters)
        trace = trace + [model.evaluate(params, instance, dec).objective]
    return (dec, trace) if return_trace else dec


def _sdp_problem(M: int, K: int, weights: tuple):
    """Per-block SCA step of the SDP relaxation (DPP: the user weights are constants of the cache key)."""
    key = (M, K, weights)
    if key in _SDP_CACHE:
        return _SDP_CACHE[key]
    import cvxpy as cp

    Wk = [cp.Variable((M, M), hermitian=True) for _ in range(K)]
    R = cp.Variable((M, M), hermitian=True)
    Hh = [cp.Parameter((M, M), hermitian=True) for _ in range(K)]  # h h^H / sigma^2
    Hs = [cp.Parameter((M, M), hermitian=True) for _ in range(K)]  # h h^H / (sigma^2 I0_k)
    At = cp.Parameter((M, M), hermitian=True)
    G = cp.Parameter(nonneg=True)
    P = cp.Parameter(nonneg=True)
    Sigma = sum(Wk) + R
    terms = [cp.log(cp.real(cp.trace(Hh[k] @ Sigma)) + 1.0) - cp.real(cp.trace(Hs[k] @ (Sigma - Wk[k])))
             for k in range(K)]
    obj = cp.Maximize(sum(weights[k] * terms[k] for k in range(K)))
    cons = [w >> 0 for w in Wk] + [R >> 0, cp.real(cp.trace(At @ Sigma)) >= G, cp.real(cp.trace(Sigma)) <= P]
    prob = cp.Problem(obj, cons)
    _SDP_CACHE[key] = (prob, Wk, R, Hh, Hs, At, G, P)
    return _SDP_CACHE[key]


def sdp_beamforming(params: Params, instance, q, sca_iters: int = 3) -> Decision:
    """Per-block SCA of the SDP relaxation (a Python loop over blocks: cross-check only)."""
    ctx = C.make_ctx(params, instance, q)
    L, K, M = ctx.h.shape
    W0, v0, p0 = wmmse_design(params, instance, ctx.q)
    W_out, R_out = W0.copy(), model.rank_one_cov(v0, p0)
    if not ctx.feasible_position:
        return Decision(ctx.q.copy(), W_out, R_out)
    prob, Wk, R, Hh, Hs, At, G, P = _sdp_problem(M, K, tuple(float(w) for w in ctx.alpha))
    At.value, G.value, P.value = np.outer(ctx.a_t, ctx.a_t.conj()), ctx.G, ctx.P
    for l in range(L):
        hl = ctx.h[l]
        Hk = [np.outer(hl[k], hl[k].conj()) for k in range(K)]
        Wl = [np.outer(W0[l][:, k], W0[l][:, k].conj()) for k in range(K)]
        Sig = sum(Wl) + R_out[l]
        ok = False
        for _ in range(sca_iters):
            for k in range(K):
                I0 = float(np.real(np.trace(Hk[k] @ (Sig - Wl[k])))) + 1.0
                Hh[k].value, Hs[k].value = Hk[k], Hk[k] / I0
            if not C.solve_fresh(prob):  # no warm start from an earlier block or instance
                break
            if prob.status not in ("optimal", "optimal_inaccurate") or R.value is None:
                break
            Wl = [w.value for w in Wk]
            Sig = sum(Wl) + R.value
            ok = True
        if ok:  # rank-one recovery keeping every SINR and the gain
            cols = []
            for k in range(K):
                hw = float(np.real(hl[k].conj() @ Wl[k] @ hl[k]))
                cols.append(Wl[k] @ hl[k] / math.sqrt(max(hw, 1e-300)))
            W_out[l] = np.stack(cols, axis=1)
            R_out[l] = Sig - W_out[l] @ W_out[l].conj().T
    return Decision(ctx.q.copy(), W_out, R_out)
