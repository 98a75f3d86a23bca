"""Cell-association rules shared by the solvers (spec Sec. 8.3): the power-weighted Voronoi rule of
ref. [3], used by the comparison scheme, AIBOT's starting point, the naive scheme and the power
subproblem's default association. Depends on the model only (no solver imports it back).
"""

from __future__ import annotations

import numpy as np

from isac_envs.multi_uav_isac.model import Instance, Params


def weighted_voronoi(params: Params, instance: Instance, weights=None) -> np.ndarray:
    """a_j = argmax_m w_m beta0 N_t / d_hat_{j,m}^2 with w_m = P_total by default (power-weighted Voronoi)."""
    w = np.full(params.num_bs, params.p_total_w) if weights is None else np.asarray(weights, float)
    diff = instance.uav_pos_est[:, None, :] - instance.bs_pos[None, :, :]
    d2 = np.einsum("jmc,jmc->jm", diff, diff)
    return np.argmax(w[None, :] * params.beta0 * params.num_antennas / d2, axis=1).astype(np.int64)
