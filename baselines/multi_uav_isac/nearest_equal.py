"""Naive baseline (spec Sec. 8.4): nearest BS, every link of BS m gets min(p_max, P_total / n_m).

Ignores C5/C6 (the QoS lower bounds).
"""

from __future__ import annotations

import numpy as np

from baselines.multi_uav_isac.association import weighted_voronoi
from isac_envs.multi_uav_isac.model import Decision, Instance, Params, link_bs, validate_instance


def solve(params: Params, instance: Instance) -> Decision:
    """Nearest-BS association and equal power per link of each BS."""
    validate_instance(params, instance)
    k = params.num_uavs
    assoc = weighted_voronoi(params, instance)
    bs = link_bs(params, assoc)
    n = np.bincount(bs, minlength=params.num_bs)
    p = np.minimum(params.p_max_w, params.p_total_w / n[bs])
    return Decision(assoc=assoc, p_comm=p[:k].copy(), p_sense=p[k:].copy())
