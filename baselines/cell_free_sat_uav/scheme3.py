"""Scheme 3 (paper Sec. V, path-loss-based allocation of Shen et al. [41]): equal power, equal times, (S-BO)."""

from __future__ import annotations

import numpy as np

from isac_envs.cell_free_sat_uav import model
from isac_envs.cell_free_sat_uav.model import Decision, Instance, Params


def _allocate_slot(g: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Phase 1: users 0..min(K, L)-1 take their best free subchannel; phase 2: poorest user takes its best."""
    K, L = g.shape
    a = np.full(L, -1, np.int64)
    avail = np.ones(L, bool)
    acc = np.zeros(K)
    for k in range(min(K, L)):
        l = int(np.argmax(np.where(avail, g[k], -np.inf)))
        a[l], avail[l] = k, False
        acc[k] += rate[k, l]
    while avail.any():
        k = int(np.argmin(acc))
        l = int(np.argmax(np.where(avail, g[k], -np.inf)))
        a[l], avail[l] = k, False
        acc[k] += rate[k, l]
    return a


def solve(params: Params, instance: Instance) -> Decision:
    """T_n = min(T_slot, T_tot/N); subchannels by summed path gain; every UAV p = min(P_max, E_m/sum T)/L; (S-BO)."""
    model.validate_instance(params, instance)
    N, M, L = params.num_groups, params.num_uavs, params.num_subchannels
    T = np.full(N, min(params.max_slot_hover_time_s, params.total_hover_time_s / N))
    g = instance.gain_user.sum(axis=2)                                           # (N, K, L)
    rate = np.log2(1 + params.num_rx_antennas * g * params.max_power_w / (L * params.noise_w))
    a = np.stack([_allocate_slot(g[n], rate[n]) for n in range(N)])
    P = np.full((N, M, L), min(params.max_power_w, params.energy_per_uav_j / T.sum()) / L)
    P = model.backoff(params, instance.gain_sat, instance.sat_subchannel, a, P)
    return Decision(a, P, T)
