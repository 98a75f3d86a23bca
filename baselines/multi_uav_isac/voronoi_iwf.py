"""Paper's comparison scheme (spec Sec. 8.3): weighted Voronoi association + iterative water-filling.

Association: received-power-weighted Voronoi cells (ref. [3]): a_j = argmax_m P_m beta0 N_t / d_hat^2
(nearest BS to the estimate for equal budgets). Power (``sensing="pool"``, default): each BS reserves
the sensing pool (1 - theta1) P_total, split equally over its radar streams (raised to their C5
bound, capped at p_max, scaled down if the comm lower bounds need the budget), then water-fills the
rest over its comm links. ``sensing="min"``: radar streams at their C5 minimum only.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from baselines.multi_uav_isac.association import weighted_voronoi
from baselines.multi_uav_isac.power import link_model, power_kkt
from isac_envs.multi_uav_isac.model import Decision, Instance, Params, validate_instance

__all__ = ["solve", "weighted_voronoi"]   # weighted_voronoi lives in .association (re-exported)


def _pool_sensing(params: Params, lm) -> np.ndarray:
    """Sensing powers of the pool rule (per BS: equal share of (1-theta1) P_total, C5-raised, capped)."""
    sense = ~lm.is_comm
    n_s = lm.group_sum(sense.astype(float))
    share = (1.0 - params.theta1) * params.p_total_w / np.maximum(n_s, 1.0)
    p_s = np.where(sense, np.minimum(params.p_max_w, np.maximum(lm.lb, share[lm.group])), 0.0)
    lb_s = np.where(sense, lm.lb, 0.0)
    need = lm.group_sum(np.where(lm.is_comm, lm.lb, 0.0)) + lm.group_sum(p_s)
    excess_room = lm.group_sum(p_s - lb_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(need > params.p_total_w,
                     np.clip(1.0 - (need - params.p_total_w) / excess_room, 0.0, 1.0), 1.0)
    f = np.where(np.isfinite(f), f, 1.0)
    return np.where(sense, lb_s + (p_s - lb_s) * f[lm.group], 0.0)


def solve(params: Params, instance: Instance, sensing: str = "pool") -> Decision:
    """Weighted Voronoi + water-filling; ``sensing`` "pool" (default) or "min" (C5 minimum only)."""
    validate_instance(params, instance)
    if sensing not in ("pool", "min"):
        raise ValueError(f"sensing must be 'pool' or 'min', got {sensing!r}")
    assoc = weighted_voronoi(params, instance)
    lm = link_model(params, instance, assoc)
    if sensing == "pool":
        p_s = _pool_sensing(params, lm)
        fixed = np.where(lm.is_comm, lm.lb, p_s)
        lm = replace(lm, lb=np.where(lm.is_comm, lm.lb, fixed), ub=np.where(lm.is_comm, lm.ub, fixed))
    return power_kkt(params, instance, assoc, mode="comm", lm=lm)
