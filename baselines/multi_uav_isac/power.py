"""Power subproblem for a fixed association (spec Sec. 8.1): exact KKT water-filling and the
paper's Algorithm 2 (projected scaled gradient ascent with the doubling/halving step search).

For a fixed association every UAV's bandwidth is fixed and G is a separable concave function
of the 2K+1 link powers; the problem decouples per BS. The link model is built over *groups*
(a group = one BS with a given set of UAVs, own budget P_total), so that many candidate cells
(exhaustive search, local search) are solved in one vectorised call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from baselines.multi_uav_isac.association import weighted_voronoi
from isac_envs.multi_uav_isac.model import Decision, Instance, Params, validate_instance

LN2 = math.log(2.0)


@dataclass(frozen=True)
class LinkModel:
    """Links (comm links of cooperative UAVs and sensing links of all UAVs) grouped into budgets."""

    group: np.ndarray    # (L,) group of each link
    n_groups: int
    is_comm: np.ndarray  # (L,) bool
    uav: np.ndarray      # (L,) UAV index
    bw_hz: np.ndarray    # (L,) bandwidth b_j of the link's UAV
    weight: np.ndarray   # (L,) w_c b (comm) or w_s (sensing)
    alpha: np.ndarray    # (L,) g^c / (N0 b) (comm; 1 for sensing)
    a_d: np.ndarray      # (L,) A^d = beta1 / (b^2 g^s) (sensing; 1 for comm)
    a_t: np.ndarray      # (L,) A^theta = beta2 / g^s (sensing; 1 for comm)
    lb: np.ndarray       # (L,) lower bounds (p_min, C5, C6)
    ub: np.ndarray       # (L,) upper bounds (p_max)
    params: Params

    def group_sum(self, x: np.ndarray) -> np.ndarray:
        return np.bincount(self.group, x, self.n_groups)


# --------------------------------------------------------------------------- link model
def build_links(params: Params, instance: Instance, member_uav, member_group, group_bs) -> LinkModel:
    """Links of groups: group g is BS ``group_bs[g]`` serving the UAVs j with member_group == g."""
    k = params.num_uavs
    member_uav = np.asarray(member_uav, np.int64)
    member_group = np.asarray(member_group, np.int64)
    group_bs = np.asarray(group_bs, np.int64)
    load = np.bincount(member_group, minlength=len(group_bs))
    coop = member_uav < k
    uav = np.concatenate([member_uav[coop], member_uav])
    group = np.concatenate([member_group[coop], member_group])
    is_comm = np.arange(len(uav)) < int(coop.sum())
    bs = group_bs[group]
    b = params.bandwidth_hz / load[group]
    g_c = instance.gain_comm[np.minimum(uav, k - 1), bs]
    g_s = instance.gain_sense[uav, bs]
    w_c = params.theta1 / (k * params.rate_unit_bps)
    w_s = (1.0 - params.theta1) * params.theta2 / (k + 1)
    with np.errstate(divide="ignore"):
        alpha = np.where(is_comm, g_c / (params.noise_psd_w_per_hz * b), 1.0)
        a_d = np.where(is_comm, 1.0, params.beta1 / (b**2 * g_s))
        a_t = np.where(is_comm, 1.0, params.beta2 / g_s)
    lm = LinkModel(group=group, n_groups=len(group_bs), is_comm=is_comm, uav=uav, bw_hz=b,
                   weight=np.where(is_comm, w_c * b, w_s), alpha=alpha, a_d=a_d, a_t=a_t,
                   lb=np.zeros(len(uav)), ub=np.full(len(uav), params.p_max_w), params=params)
    return replace(lm, lb=_lower_bounds(lm))


def link_model(params: Params, instance: Instance, assoc) -> LinkModel:
    """Link model of an association: one group per BS (group m = BS m)."""
    assoc = np.asarray(assoc, np.int64)
    return build_links(params, instance, np.arange(params.num_uavs + 1), assoc, np.arange(params.num_bs))


def _rho_inverse(lm: LinkModel, rho_min: float) -> np.ndarray:
    """Positive root p of rho_j(p) = rho_min (Sec. 8.1 quadratic)."""
    pr = lm.params
    v1, v2, ed, et = pr.varpi1_m2, pr.varpi2_rad2, pr.crb_floor_range_m2, pr.crb_floor_angle_rad2
    c2 = v1 * et + v2 * ed - rho_min * ed * et
    c1 = v1 * lm.a_t + v2 * lm.a_d - rho_min * (lm.a_d * et + lm.a_t * ed)
    c0 = -rho_min * lm.a_d * lm.a_t
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        sq = np.sqrt(c1 * c1 - 4.0 * c2 * c0)
        root = np.where(c1 >= 0, -2.0 * c0 / (c1 + sq), (-c1 + sq) / (2.0 * c2))
    return np.where(np.isfinite(root), root, np.inf)


def _lower_bounds(lm: LinkModel) -> np.ndarray:
    """C3/C5/C6 as lower bounds, capped at ub, shrunk where a group's sum exceeds its budget."""
    pr = lm.params
    with np.errstate(over="ignore", divide="ignore"):
        lb_c = (np.exp2(pr.rate_min_bps / lm.bw_hz) - 1.0) / lm.alpha
    lb_s = _rho_inverse(lm, pr.rho_min) if pr.rho_min > 0 else np.zeros_like(lm.a_d)
    lb = np.maximum(pr.p_min_w, np.where(lm.is_comm, lb_c, lb_s))
    lb = np.minimum(lb, lm.ub)
    n = lm.group_sum(np.ones_like(lb))
    s = lm.group_sum(lb)
    over = s > pr.p_total_w
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(over, (pr.p_total_w - n * pr.p_min_w) / (s - n * pr.p_min_w), 1.0)
    return pr.p_min_w + (lb - pr.p_min_w) * f[lm.group]


# --------------------------------------------------------------------------- utilities
def link_rho(lm: LinkModel, p: np.ndarray) -> np.ndarray:
    """rho_j(p) of every link in A-form (S9): varpi1 p / (A^d + eps_d p) + varpi2 p / (A^t + eps_t p)."""
    pr = lm.params
    return (pr.varpi1_m2 * p / (lm.a_d + pr.crb_floor_range_m2 * p)
            + pr.varpi2_rad2 * p / (lm.a_t + pr.crb_floor_angle_rad2 * p))


def utility(lm: LinkModel, p: np.ndarray) -> np.ndarray:
    """U_l(p_l) per link: w_c b log2(1 + alpha p) or w_s rho(p) (S9 in A-form)."""
    rate = lm.weight * np.log2(1.0 + lm.alpha * p)
    return np.where(lm.is_comm, rate, lm.weight * link_rho(lm, p))


def marginal(lm: LinkModel, p: np.ndarray) -> np.ndarray:
    """U_l'(p_l)."""
    pr = lm.params
    d_rate = lm.weight * lm.alpha / (LN2 * (1.0 + lm.alpha * p))
    d_rho = (pr.varpi1_m2 * lm.a_d / (lm.a_d + pr.crb_floor_range_m2 * p) ** 2
             + pr.varpi2_rad2 * lm.a_t / (lm.a_t + pr.crb_floor_angle_rad2 * p) ** 2)
    return np.where(lm.is_comm, d_rate, lm.weight * d_rho)


# --------------------------------------------------------------------------- exact KKT
def _price_response(lm: LinkModel, newton_steps: int = 25):
    """Per-link best response p(nu) to per-link prices nu: U_l'(p) = nu on [lb, ub].

    Comm links in closed form; free sensing links by Newton from p = lb (U' is convex decreasing,
    so Newton from the left converges monotonically), at most ``newton_steps`` steps.
    """
    pr = lm.params
    # fixed sensing powers need no solve; a zero-weight link (theta1 = 1) has U' = 0 < nu: it stays at lb
    idx = np.flatnonzero(~lm.is_comm & (lm.ub > lm.lb) & (lm.weight > 0))
    ed, et = pr.crb_floor_range_m2, pr.crb_floor_angle_rad2
    ad, at, lb, ub = lm.a_d[idx], lm.a_t[idx], lm.lb[idx], lm.ub[idx]
    c_d = lm.weight[idx] * pr.varpi1_m2 * ad
    c_t = lm.weight[idx] * pr.varpi2_rad2 * at
    with np.errstate(divide="ignore"):
        inv_alpha = 1.0 / lm.alpha

    def respond(nu: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", over="ignore"):
            p = np.where(lm.is_comm, lm.weight / (nu * LN2) - inv_alpha, lm.lb)
        if idx.size:
            target, x = nu[idx], lb.copy()
            for _ in range(newton_steps):
                xd, xt = ad + ed * x, at + et * x
                f = c_d / xd**2 + c_t / xt**2
                df = -2.0 * (c_d * ed / xd**3 + c_t * et / xt**3)
                with np.errstate(over="ignore"):  # a vanishing slope (e.g. theta2 ~ 1e-309) steps to a bound
                    step = np.divide(f - target, df, out=np.zeros_like(x), where=df != 0.0)
                new = np.clip(x - step, lb, ub)
                done = np.all(np.abs(new - x) <= 1e-14 * new)
                x = new
                if done:
                    break
            p[idx] = x
        return np.clip(p, lm.lb, lm.ub)

    return respond


def solve_kkt(lm: LinkModel, bisect_steps: int = 45) -> np.ndarray:
    """Exact optimum of max sum U s.t. lb <= p <= ub, group sums <= P_total (per-group price bisection)."""
    pr = lm.params
    budget = pr.p_total_w
    respond = _price_response(lm)
    at_ub = lm.group_sum(lm.ub) <= budget
    lo = np.full(lm.n_groups, -30.0)
    hi = np.full(lm.n_groups, 5.0)
    for _ in range(bisect_steps):
        mid = 0.5 * (lo + hi)
        feas = lm.group_sum(respond(10.0 ** mid[lm.group])) <= budget
        hi = np.where(feas, mid, hi)
        lo = np.where(feas, lo, mid)
    p = respond(10.0 ** hi[lm.group])
    p = np.where(at_ub[lm.group], lm.ub, p)
    return _rescale_excess(lm, p)


def _rescale_excess(lm: LinkModel, p: np.ndarray) -> np.ndarray:
    """Shrink p - lb proportionally in any group still above its budget."""
    budget = lm.params.p_total_w
    s, s_lb = lm.group_sum(p), lm.group_sum(lm.lb)
    over = s > budget
    room = s - s_lb
    f = np.where(over & (room > 0), np.maximum(budget - s_lb, 0.0) / np.where(room > 0, room, 1.0), 1.0)
    return lm.lb + (p - lm.lb) * f[lm.group]


def to_decision(params: Params, assoc, lm: LinkModel, p: np.ndarray) -> Decision:
    """Decision from link powers of a per-BS link model."""
    k = params.num_uavs
    p_comm = np.zeros(k)
    p_sense = np.zeros(k + 1)
    p_comm[lm.uav[lm.is_comm]] = p[lm.is_comm]
    p_sense[lm.uav[~lm.is_comm]] = p[~lm.is_comm]
    return Decision(assoc=np.asarray(assoc, np.int64).copy(), p_comm=p_comm, p_sense=p_sense)


def power_kkt(params: Params, instance: Instance, assoc, mode: str = "joint", lm: LinkModel | None = None) -> Decision:
    """Exact optimum of the power subproblem for ``assoc``; ``mode="comm"``: sensing fixed at its lb."""
    validate_instance(params, instance)
    if mode not in ("joint", "comm"):
        raise ValueError(f"mode must be 'joint' or 'comm', got {mode!r}")
    lm = lm if lm is not None else link_model(params, instance, assoc)
    if mode == "comm":
        lm = replace(lm, ub=np.where(lm.is_comm, lm.ub, lm.lb))
    return to_decision(params, assoc, lm, solve_kkt(lm))


# --------------------------------------------------------------------------- Algorithm 2 (PGA)
def _project(lm: LinkModel, y: np.ndarray, s: np.ndarray, steps: int = 100) -> np.ndarray:
    """Proj_s(y) = clip(y - tau s, lb, ub), tau >= 0 per group the smallest meeting the budget."""
    budget = lm.params.p_total_w
    p = np.clip(y, lm.lb, lm.ub)
    over = lm.group_sum(p) > budget * (1.0 + 1e-12)
    if not over.any():
        return p
    hi = np.zeros(lm.n_groups)
    np.maximum.at(hi, lm.group, (y - lm.lb) / s)
    lo = np.zeros(lm.n_groups)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        feas = lm.group_sum(np.clip(y - mid[lm.group] * s, lm.lb, lm.ub)) <= budget
        hi = np.where(feas, mid, hi)
        lo = np.where(feas, lo, mid)
    tau = np.where(over, hi, 0.0)
    return np.clip(y - tau[lm.group] * s, lm.lb, lm.ub)


def solve_pga(lm: LinkModel, p0: np.ndarray | None = None, max_iter: int = 200, tol: float = 1e-7):
    """Algorithm 2 made to work (Sec. 8.1): scaled projected gradient ascent, doubling/halving steps.

    Returns (p, trace) with trace the objective sum U after every accepted iteration.
    """
    pr = lm.params
    if p0 is None:
        n = lm.group_sum(np.ones(len(lm.group)))
        p0 = np.minimum(pr.p_max_w, pr.p_total_w / n[lm.group])
    p = _project(lm, p0, np.maximum(p0, 1e-12))
    f = float(utility(lm, p).sum())
    trace, step = [f], 1.0
    for _ in range(max_iter):
        s = np.maximum(p, 1e-12)
        g = marginal(lm, p)
        d = s * g / max(float(np.max(np.abs(g))), 1e-300)

        def value(m):
            q = _project(lm, p + m * d, s)
            return float(utility(lm, q).sum()), q

        f_try, q_try = value(step)
        if f_try > f:
            while step < 1e6:
                f2, q2 = value(2.0 * step)
                if f2 <= f_try:
                    break
                step, f_try, q_try = 2.0 * step, f2, q2
        else:
            while f_try <= f and step >= 1e-10:
                step *= 0.5
                f_try, q_try = value(step)
            if f_try <= f:
                break
        rel = (f_try - f) / max(abs(f), 1e-300)
        p, f = q_try, f_try
        trace.append(f)
        if rel < tol:
            break
    return p, trace


def power_pga(params: Params, instance: Instance, assoc, p0=None, max_iter: int = 200, tol: float = 1e-7,
              return_trace: bool = False):
    """Paper Algorithm 2 on the power subproblem of ``assoc`` (Sec. 8.1)."""
    validate_instance(params, instance)
    lm = link_model(params, instance, assoc)
    p, trace = solve_pga(lm, p0=p0, max_iter=max_iter, tol=tol)
    dec = to_decision(params, assoc, lm, p)
    return (dec, trace) if return_trace else dec


def solve(params: Params, instance: Instance, assoc=None, method: str = "kkt") -> Decision:
    """Powers for ``assoc`` (default: weighted Voronoi) by ``method`` "kkt" or "pga"."""
    validate_instance(params, instance)
    if assoc is None:
        assoc = weighted_voronoi(params, instance)
    if method == "kkt":
        return power_kkt(params, instance, assoc)
    if method == "pga":
        return power_pga(params, instance, assoc)
    raise ValueError(f"method must be 'kkt' or 'pga', got {method!r}")


def penalised_link_scores(lm: LinkModel, p: np.ndarray) -> np.ndarray:
    """Per-link share of evaluate's penalised score: U_l - penalty * (C5 or C6 term of the link).

    Summed over a group it is the group's contribution to G - penalty * (C5 + C6) (C3 = C4 = 0 for
    powers inside [lb, ub] with the budget met), so associations can be ranked by group sums.
    """
    pr = lm.params
    k = pr.num_uavs
    u = utility(lm, p)
    rate = lm.bw_hz * np.log2(1.0 + lm.alpha * p)
    rho = link_rho(lm, p)
    c6 = np.maximum(0.0, 1.0 - rate / pr.rate_min_bps) / k if pr.rate_min_bps > 0 else np.zeros_like(u)
    c5 = np.maximum(0.0, 1.0 - rho / pr.rho_min) / (k + 1) if pr.rho_min > 0 else np.zeros_like(u)
    return u - pr.penalty * np.where(lm.is_comm, c6, c5)
