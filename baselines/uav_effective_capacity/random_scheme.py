"""Comparison scheme 5 (spec Sec. 8.2): the random scheme.

Fixed initial sensing covariance R_s^0 = p_0 a_t a_t^H / M with p_0 = min(P, Gamma d_t^2 / M)
(the minimal-power target beam meeting C1 alone); communication beams by WMMSE with power
P - p_0 and the sensing interference as noise (<= 50 iterations); placement by Algorithm 4'
with this inner solver.
"""

from __future__ import annotations

import math

import numpy as np

from isac_envs.uav_effective_capacity.model import validate_instance
from isac_envs.uav_effective_capacity.model import Params

from . import _common as C
from ._common import users_moved  # noqa: F401  (replan predicate)


def inner_design(params: Params, instance, q, init=None, iters: int = 50):
    ctx = C.make_ctx(params, instance, q)
    L, K, M = ctx.h.shape
    if not ctx.feasible_position:
        return C.infeasible_design(ctx, L)
    p0 = min(ctx.P, ctx.G / M)
    p_s = np.full(L, p0)
    v = np.broadcast_to(ctx.a_t / math.sqrt(M), (L, M)).copy()
    if init is None:
        V = C.mmse_init(ctx)[0]
    else:
        V = np.asarray(init[0])
    V = V / np.maximum(np.linalg.norm(V, axis=(1, 2)), 1e-300)[:, None, None]
    W = math.sqrt(ctx.P - p0) * V
    if ctx.P - p0 <= 0:
        return W * 0.0, v, p_s
    noise = 1.0 + p0 * np.abs(np.einsum("lkm,lm->lk", ctx.h.conj(), v)) ** 2
    W = C.wmmse_beams(ctx.h, W, noise, ctx.alpha, ctx.P - p_s, iters)
    return W, v, p_s


def solve(params: Params, instance, return_trace: bool = False):
    validate_instance(params, instance)
    return C.placement(params, instance, lambda q, init: inner_design(params, instance, q, init), return_trace)
