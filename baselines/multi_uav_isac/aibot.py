"""AIBOT (spec Sec. 8.2): paper Algorithm 1 (semi-discrete optimal-transport cell association) and
Algorithm 3 (alternation of association and power, Algorithm 2 = projected gradient ascent).

Algorithm 1 partitions the UAV density f(q) (Monte-Carlo samples: KDE of the cooperative estimates
mixed with the hotspot model) into cells Q_i with the load-aware rule of eq. (15),
q in Q_i  <=>  i = argmax G_i(q) / max(U_i, u_floor), where G_i is the full-resource utility of a UAV
at q served alone by BS i and U_i the Cesaro-averaged cell load (fictitious play).
"""

from __future__ import annotations

import numpy as np

from baselines.multi_uav_isac.association import weighted_voronoi
from baselines.multi_uav_isac.power import power_kkt, power_pga
from isac_envs.multi_uav_isac.model import (
    Decision, Instance, Params, clip_box, evaluate, rho_from_snr, validate_instance,
)


def density_samples(params: Params, instance: Instance, n_samples: int, density: str, kde_bw_m: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Samples of f(q): ``"mix"`` = half KDE of the cooperative estimates, half hotspot model; ``"model"``."""
    if density not in ("mix", "model"):
        raise ValueError(f"density must be 'mix' or 'model', got {density!r}")
    k = params.num_uavs
    parts = []
    n_model = n_samples
    if density == "mix":
        n_kde = n_samples // 2
        n_model = n_samples - n_kde
        pick = rng.integers(0, k, n_kde)
        bw = np.array([kde_bw_m, kde_bw_m, kde_bw_m * params.hotspot_std_z_m / params.hotspot_std_m])
        parts.append(clip_box(params, instance.uav_pos_est[pick] + rng.standard_normal((n_kde, 3)) * bw))
    c = rng.choice(params.num_hotspots, size=n_model, p=instance.hotspot_weights)
    spread = np.array([params.hotspot_std_m, params.hotspot_std_m, params.hotspot_std_z_m])
    parts.append(clip_box(params, instance.hotspot_centers[c] + rng.standard_normal((n_model, 3)) * spread))
    return np.concatenate(parts, axis=0)


def _dist2(points: np.ndarray, bs_pos: np.ndarray) -> np.ndarray:
    diff = points[:, None, :] - bs_pos[None, :, :]
    return np.einsum("smc,smc->sm", diff, diff)


def full_resource_utility(params: Params, points, bs_pos, p_comm_w: float, p_sense_w: float,
                          load=1.0, rcs_m2: float | None = None, with_rate: bool = True) -> np.ndarray:
    """G_i(q) (Sec. 8.2): utility of a UAV at q served by BS i with P^c, P^s and bandwidth B / load."""
    k = params.num_uavs
    w_c = params.theta1 / (k * params.rate_unit_bps)
    w_s = (1.0 - params.theta1) * params.theta2 / (k + 1)
    rcs = params.rcs_coop_m2 if rcs_m2 is None else rcs_m2
    d2 = _dist2(np.atleast_2d(points), bs_pos)
    nt = params.num_antennas
    b = params.bandwidth_hz / np.asarray(load, float)
    g_s = params.beta0 * rcs * nt**2 * params.sensing_time_s / (4.0 * np.pi * params.noise_psd_w_per_hz * d2**2)
    util = w_s * rho_from_snr(params, (p_sense_w / load) * g_s, b)
    if with_rate:
        g_c = params.beta0 * nt / d2
        util = util + w_c * b * np.log2(1.0 + (p_comm_w / load) * g_c / (params.noise_psd_w_per_hz * b))
    return util


def ot_association(params: Params, instance: Instance, p_comm_w: float, p_sense_w: float,
                   samples: np.ndarray, T1: int = 50, u_floor: float = 0.5, return_loads: bool = False):
    """Algorithm 1: semi-discrete OT cells with Cesaro-averaged loads; returns assoc (K+1,)
    (and the final loads U_i with ``return_loads=True``)."""
    k, m = params.num_uavs, params.num_bs
    util = full_resource_utility(params, samples, instance.bs_pos, p_comm_w, p_sense_w)   # (S, M)
    cells = np.argmax(util, axis=1)
    member = np.zeros_like(util)
    eye = np.eye(m)
    loads = np.ones(m)
    for t in range(1, T1 + 1):
        member = (1.0 - 1.0 / t) * member + eye[cells] / t        # 1 - R_m (Alg. 1 line 2)
        loads = k * member.mean(axis=0)                             # U_i (line 3, eq. 1)
        cells = np.argmax(util / np.maximum(loads, u_floor), axis=1)  # eq. (15)
    util_est = full_resource_utility(params, instance.uav_pos_est[:k], instance.bs_pos, p_comm_w, p_sense_w)
    assoc = np.empty(k + 1, np.int64)
    assoc[:k] = np.argmax(util_est / np.maximum(loads, u_floor), axis=1)
    n_i = np.bincount(assoc[:k], minlength=m) + 1.0
    rho_nc = full_resource_utility(params, instance.uav_pos_est[k:], instance.bs_pos, p_comm_w, p_sense_w,
                                   load=n_i, rcs_m2=params.rcs_noncoop_m2, with_rate=False)[0]
    assoc[k] = int(np.argmax(rho_nc))
    return (assoc, loads) if return_loads else assoc


def _powers(params, instance, assoc, power):
    if power == "pga":
        return power_pga(params, instance, assoc)
    return power_kkt(params, instance, assoc)


def iterations(params: Params, instance: Instance, T3: int = 10, T1: int = 50, n_samples: int = 2000,
               density: str = "mix", kde_bw_m: float = 100.0, u_floor: float = 0.5, power: str = "pga",
               seed: int = 0):
    """Algorithm 3 step by step: yields (best-so-far decision, its penalised score, current decision)
    after the initial point (weighted Voronoi + Alg. 2) and after every outer iteration."""
    validate_instance(params, instance)
    if power not in ("pga", "kkt"):
        raise ValueError(f"power must be 'pga' or 'kkt', got {power!r}")
    rng = np.random.default_rng(seed)
    samples = density_samples(params, instance, n_samples, density, kde_bw_m, rng)
    assoc = weighted_voronoi(params, instance)
    dec = _powers(params, instance, assoc, power)
    best = dec
    best_score = evaluate(params, instance, dec).penalised(params.penalty)
    yield best, best_score, dec
    for _ in range(T3):
        total = dec.p_comm.sum() + dec.p_sense.sum()
        eta = dec.p_comm.sum() / total if total > 0 else params.theta1
        new_assoc = ot_association(params, instance, eta * params.p_total_w, (1.0 - eta) * params.p_total_w,
                                   samples, T1=T1, u_floor=u_floor)
        dec = _powers(params, instance, new_assoc, power)
        score = evaluate(params, instance, dec).penalised(params.penalty)
        if score > best_score:
            best, best_score = dec, score
        yield best, best_score, dec
        if np.array_equal(new_assoc, assoc):
            return
        assoc = new_assoc


def solve(params: Params, instance: Instance, T3: int = 10, T1: int = 50, n_samples: int = 2000,
          density: str = "mix", kde_bw_m: float = 100.0, u_floor: float = 0.5, power: str = "pga",
          seed: int = 0, return_trace: bool = False):
    """Algorithm 3: alternate OT association (Alg. 1) and power allocation (Alg. 2); keep the best.

    Starts from the weighted Voronoi association; each outer iteration sets the comm/sensing power
    split eta of the current powers, re-associates with Alg. 1 and re-allocates power with Alg. 2
    (``power="kkt"``: the exact KKT solver); stops when the association repeats or after ``T3``.
    The trace holds the best-so-far penalised score G - penalty * sum(violations) (= G when
    feasible) after the initial point and every outer iteration: non-decreasing.
    """
    validate_instance(params, instance)
    trace = []
    for best, score, _ in iterations(params, instance, T3=T3, T1=T1, n_samples=n_samples, density=density,
                                     kde_bw_m=kde_bw_m, u_floor=u_floor, power=power, seed=seed):
        trace.append(score)
    best = Decision(assoc=best.assoc.copy(), p_comm=best.p_comm.copy(), p_sense=best.p_sense.copy())
    return (best, trace) if return_trace else best
