"""Comparison scheme 3 (spec Sec. 8.2): communication-only placement, then Algorithm 3'.

q = argmax over the 1 m grid of the LoS, interference-free MRT sum rate
sum_k alpha_k log2(1 + P M beta_0 / (K sigma^2 d_k(q)^2)) (ignores sensing and scattering);
then Algorithm 3' with the sensing constraint enforced (infeasible where C1 cannot hold).
"""

from __future__ import annotations

import numpy as np

from isac_envs.uav_effective_capacity.model import validate_instance
from isac_envs.uav_effective_capacity.model import Params

from ._common import users_moved  # noqa: F401  (replan predicate)
from .ao import beamforming


def comm_only_position(params: Params, instance, step_m: float = 1.0) -> np.ndarray:
    lo, hi = params.lo, params.hi
    xs = np.arange(lo[0], hi[0] + 1e-9, step_m)
    ys = np.arange(lo[1], hi[1] + 1e-9, step_m)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    d2 = params.uav_height**2 + (X[..., None] - instance.user_pos[:, 0]) ** 2 + (Y[..., None] - instance.user_pos[:, 1]) ** 2
    snr = params.p_max * params.num_antennas * params.ref_gain / (params.num_users * params.noise_power * d2)
    score = np.sum(params.weights * np.log2(1.0 + snr), axis=-1)
    i, j = np.unravel_index(np.argmax(score), score.shape)
    return np.array([xs[i], ys[j]])


def solve(params: Params, instance):
    validate_instance(params, instance)
    return beamforming(params, instance, comm_only_position(params, instance))
