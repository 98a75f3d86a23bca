"""Comparison scheme 6 (spec Sec. 8.2): the WMMSE scheme.

Algorithm 3' with the beamforming step replaced by WMMSE (Shi et al. 2011) for the per-block
weighted sum rate (<= 3 WMMSE iterations per round, sensing interference as noise), then the
sensing step (steps 4 + 6 of Alg. 3') with sum-rate weights and the power split (S22); a block
keeps the round only if its weighted sum rate does not decrease; <= 20 rounds. Placement by
Algorithm 4' with this inner solver. theta-agnostic, and the comm beams ignore sensing.
"""

from __future__ import annotations

import numpy as np

from isac_envs.uav_effective_capacity.model import validate_instance
from isac_envs.uav_effective_capacity.model import Params, split_power

from . import _common as C
from ._common import users_moved  # noqa: F401  (replan predicate)


def inner_design(params: Params, instance, q, init=None, rounds: int = 20, wmmse_iters: int = 3):
    ctx = C.make_ctx(params, instance, q)
    L = instance.fading.shape[0]
    if not ctx.feasible_position:
        return C.infeasible_design(ctx, L)
    W, v, p_s = C.mmse_init(ctx) if init is None else C.warm_init(ctx, init)
    c = np.broadcast_to(ctx.alpha / C.LN2, (L, ctx.alpha.shape[0]))
    prev_total = None
    for _ in range(rounds):
        N, n, D, T, hv2 = C.stats(ctx.h, W, v, p_s)
        wsr_old = np.sum(ctx.alpha * C.log_rates(N, D), axis=1)
        total = float(wsr_old.sum())
        if prev_total is not None and abs(total - prev_total) <= 1e-6 * max(1.0, abs(total)):
            break
        prev_total = total
        W1 = C.wmmse_beams(ctx.h, W, n, ctx.alpha, ctx.P - p_s, wmmse_iters)
        N1, n1, D1, T1, hv21 = C.stats(ctx.h, W1, v, p_s)
        vn = C.sensing_direction(ctx, W1, v, p_s, c, N1, n1, D1, T1, hv21)[0]
        Wc, vc, pc = split_power(W1, vn, ctx.a_t, ctx.P, ctx.G)
        wsr_new = C.weighted_sum_rate(ctx, Wc, vc, pc)
        ok = wsr_new >= wsr_old
        W = np.where(ok[:, None, None], Wc, W)
        v = np.where(ok[:, None], vc, v)
        p_s = np.where(ok, pc, p_s)
    return W, v, p_s


def solve(params: Params, instance, return_trace: bool = False):
    validate_instance(params, instance)
    return C.placement(params, instance, lambda q, init: inner_design(params, instance, q, init), return_trace)
