"""Comparison scheme 2 (spec Sec. 8.2): random UAV deployment, then Algorithm 3'.

q uniform in the region, redrawn (at most 100 times) until the sensing constraint is
satisfiable there (Gamma d_t^2 <= M P_max). ``seed=None`` derives a deterministic per-instance
seed from the fading samples.
"""

from __future__ import annotations

import numpy as np

from isac_envs.uav_effective_capacity import model
from isac_envs.uav_effective_capacity.model import Params

from ._common import users_moved  # noqa: F401  (replan predicate)
from .ao import beamforming


def solve(params: Params, instance, seed: int | None = None):
    model.validate_instance(params, instance)
    if seed is None:
        seed = int(1e6 * abs(instance.fading[0, 0, 0]))
    rng = np.random.default_rng(seed)
    lo, hi = params.lo, params.hi
    cap = params.num_antennas * params.p_max
    for _ in range(100):
        q = lo + rng.uniform(0.0, 1.0, 2) * (hi - lo)
        if params.sensing_threshold * model.sq_distance_m2(params, q, instance.target_pos) <= cap:
            break
    return beamforming(params, instance, q)
