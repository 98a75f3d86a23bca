"""Comparison scheme 1 (spec Sec. 8.2): ergodic grid search of the placement (upper reference).

Algorithm 3' (cold) at every point of the 20 m grid of the region, keep the best feasible
objective (by ``evaluate``), then refine on the 5 m grid {-10, -5, 0, 5, 10}^2 around it.
"""

from __future__ import annotations

import numpy as np

from isac_envs.uav_effective_capacity import model
from isac_envs.uav_effective_capacity.model import Params

from ._common import users_moved  # noqa: F401  (replan predicate)
from .ao import beamforming


def _grid(lo: float, hi: float, step: float) -> np.ndarray:
    return np.arange(lo, hi + 1e-9, step)


def _best(params: Params, instance, points, best):
    for q in points:
        dec = beamforming(params, instance, q)
        ev = model.evaluate(params, instance, dec)
        key = (ev.feasible, ev.objective)
        if best is None or key > best[0]:
            best = (key, dec)
    return best


def solve(params: Params, instance, step_m: float = 20.0, refine_m: float = 5.0):
    model.validate_instance(params, instance)
    lo, hi = params.lo, params.hi
    coarse = [np.array([x, y]) for x in _grid(lo[0], hi[0], step_m) for y in _grid(lo[1], hi[1], step_m)]
    best = _best(params, instance, coarse, None)
    centre = best[1].uav_pos
    offsets = [np.array([dx, dy]) * refine_m for dx in range(-2, 3) for dy in range(-2, 3) if (dx, dy) != (0, 0)]
    fine = {tuple(np.clip(centre + o, lo, hi)) for o in offsets} - {tuple(centre)}
    best = _best(params, instance, [np.array(p) for p in sorted(fine)], best)
    return best[1]
