"""multi_uav_isac baselines: power subproblem (KKT optimality, Alg. 2 = KKT), AIBOT, comparison
schemes, exhaustive/local search, registry, determinism and infeasible settings."""

import numpy as np
import pytest

from baselines.multi_uav_isac import POLICIES, PAPER_SOLVER, aibot, nearest_equal, power, reference, voronoi_iwf
from isac_envs.core import load_config
from isac_envs.multi_uav_isac import model
from isac_envs.multi_uav_isac.model import Params

SMALL = load_config(Params, "multi_uav_isac", "small")
PAPER = Params()


def _inst(p, seed):
    return model.sample_instance(p, np.random.default_rng(seed))


def _score(p, inst, dec):
    return model.evaluate(p, inst, dec).penalised(p.penalty)


def test_registry_targets_load():
    assert PAPER_SOLVER == "aibot" and PAPER_SOLVER in POLICIES
    for name, spec in POLICIES.items():
        assert callable(spec.load()), name
    assert POLICIES["exhaustive"].small_only


def test_link_model_lower_bounds_meet_c5_c6():
    p, inst = PAPER, _inst(PAPER, 0)
    assoc = voronoi_iwf.weighted_voronoi(p, inst)
    lm = power.link_model(p, inst, assoc)
    dec = power.to_decision(p, assoc, lm, lm.lb)
    ev = model.evaluate(p, inst, dec)
    # at the lower bounds: every QoS exactly at its minimum or above (p_min binding)
    k = p.num_uavs
    rates = (lm.bw_hz * np.log2(1 + lm.alpha * lm.lb))[lm.is_comm]
    assert np.all(rates >= p.rate_min_bps * (1 - 1e-9))
    assert ev.violations["C5"] <= 1e-9 and ev.violations["C6"] <= 1e-9
    rho = power.utility(lm, lm.lb)[~lm.is_comm] / lm.weight[~lm.is_comm]
    tight = lm.lb[~lm.is_comm] > p.p_min_w * 1.0001
    assert np.allclose(rho[tight], p.rho_min, rtol=1e-9)
    assert len(rates) == k


def test_kkt_is_optimal_against_feasible_perturbations():
    p, inst = SMALL, _inst(SMALL, 3)
    assoc = np.array([0, 1, 1, 2, 2])
    lm = power.link_model(p, inst, assoc)
    p_opt = power.solve_kkt(lm)
    f_opt = power.utility(lm, p_opt).sum()
    assert np.all(lm.group_sum(p_opt) <= p.p_total_w * (1 + 1e-12))
    rng = np.random.default_rng(0)
    for _ in range(300):
        q = power._project(lm, p_opt * np.exp(0.3 * rng.standard_normal(p_opt.shape)), np.ones_like(p_opt))
        assert power.utility(lm, q).sum() <= f_opt + 1e-12


def test_kkt_marginal_utilities_equalised():
    """KKT: interior links of one BS share the same marginal utility (the water level)."""
    p, inst = PAPER, _inst(PAPER, 2)
    assoc = voronoi_iwf.weighted_voronoi(p, inst)
    lm = power.link_model(p, inst, assoc)
    x = power.solve_kkt(lm)
    mu = power.marginal(lm, x)
    interior = (x > lm.lb * (1 + 1e-6)) & (x < lm.ub * (1 - 1e-6))
    for g in np.unique(lm.group[interior]):
        sel = interior & (lm.group == g)
        if sel.sum() > 1 and lm.group_sum(x)[g] > p.p_total_w * (1 - 1e-9):
            assert np.ptp(np.log(mu[sel])) < 1e-4


@pytest.mark.parametrize("seed", range(3))
def test_alg2_matches_kkt_a6(seed):
    p, inst = PAPER, _inst(PAPER, seed)
    assoc = aibot.solve(p, inst, power="kkt").assoc
    f_kkt = model.evaluate(p, inst, power.power_kkt(p, inst, assoc)).objective
    dec, trace = power.power_pga(p, inst, assoc, return_trace=True)
    f_pga = model.evaluate(p, inst, dec).objective
    assert abs(f_pga - f_kkt) <= 1e-5 * f_kkt
    assert np.all(np.diff(trace) >= 0) and len(trace) <= 40


def test_power_solve_dispatch():
    p, inst = SMALL, _inst(SMALL, 0)
    a = power.solve(p, inst, method="kkt")
    b = power.solve(p, inst, method="pga")
    assert model.evaluate(p, inst, b).objective == pytest.approx(model.evaluate(p, inst, a).objective, rel=1e-5)
    with pytest.raises(ValueError):
        power.solve(p, inst, method="x")


def test_weighted_voronoi_is_nearest_bs_for_equal_budgets():
    p, inst = PAPER, _inst(PAPER, 1)
    d = np.linalg.norm(inst.uav_pos_est[:, None, :] - inst.bs_pos[None], axis=-1)
    assert np.array_equal(voronoi_iwf.weighted_voronoi(p, inst), np.argmin(d, axis=1))
    w = np.ones(p.num_bs)
    w[0] = 1e6  # a BS with a huge budget wins everyone
    assert np.all(voronoi_iwf.weighted_voronoi(p, inst, weights=w) == 0)


def test_voronoi_pool_reserves_sensing_budget():
    p, inst = PAPER, _inst(PAPER, 0)
    dec = voronoi_iwf.solve(p, inst)
    ev = model.evaluate(p, inst, dec)
    assert ev.feasible
    k = p.num_uavs
    p_s = np.bincount(dec.assoc, dec.p_sense, p.num_bs)
    # sensing share per BS: the pool (1 - theta1) P_total unless capped / scaled
    assert np.all(p_s <= 0.5 * p.p_total_w + 1e-9)
    busy = np.bincount(dec.assoc, minlength=p.num_bs) > 0
    p_bs = np.bincount(dec.assoc[:k], dec.p_comm, p.num_bs) + p_s
    assert np.allclose(p_bs[busy], p.p_total_w, rtol=1e-6) or np.any(dec.p_comm >= p.p_max_w - 1e-9)
    d_min = voronoi_iwf.solve(p, inst, sensing="min")
    lm = power.link_model(p, inst, d_min.assoc)
    assert np.allclose(d_min.p_sense, lm.lb[~lm.is_comm])
    with pytest.raises(ValueError):
        voronoi_iwf.solve(p, inst, sensing="x")


def test_nearest_equal_hand_values():
    p, inst = SMALL, _inst(SMALL, 0)
    dec = nearest_equal.solve(p, inst)
    k = p.num_uavs
    n = np.bincount(dec.assoc[:k], minlength=3) + np.bincount(dec.assoc, minlength=3)
    assert np.allclose(dec.p_sense, np.minimum(10.0, 20.0 / n[dec.assoc]))


def test_aibot_trace_monotone_and_deterministic():
    p, inst = PAPER, _inst(PAPER, 0)
    d1, trace = aibot.solve(p, inst, return_trace=True)
    d2 = aibot.solve(p, inst)
    assert np.array_equal(d1.assoc, d2.assoc) and np.array_equal(d1.p_comm, d2.p_comm)
    assert np.all(np.diff(trace) >= 0) and 2 <= len(trace) <= 11
    assert trace[-1] == pytest.approx(_score(p, inst, d1))
    with pytest.raises(ValueError):
        aibot.solve(p, inst, power="x")
    with pytest.raises(ValueError):
        aibot.solve(p, inst, density="x")


def test_ot_association_balances_loads():
    """Alg. 1 with load-aware cells leaves fewer BSs idle than the nearest-BS rule (seeds 0-9)."""
    p = PAPER
    idle_ot, idle_nn = 0, 0
    for s in range(10):
        inst = _inst(p, s)
        rng = np.random.default_rng(0)
        samples = aibot.density_samples(p, inst, 2000, "mix", 100.0, rng)
        a = aibot.ot_association(p, inst, 10.0, 10.0, samples)
        idle_ot += np.sum(np.bincount(a, minlength=p.num_bs) == 0)
        idle_nn += np.sum(np.bincount(voronoi_iwf.weighted_voronoi(p, inst), minlength=p.num_bs) == 0)
    assert idle_ot < idle_nn


def test_exhaustive_is_optimal_and_guards_size():
    p, inst = SMALL, _inst(SMALL, 9)
    best = _score(p, inst, reference.exhaustive(p, inst))
    rng = np.random.default_rng(1)
    for _ in range(30):  # random associations with exact powers never beat it
        a = rng.integers(0, p.num_bs, p.num_uavs + 1)
        assert _score(p, inst, power.power_kkt(p, inst, a)) <= best + 1e-9
    assert best >= _score(p, inst, aibot.solve(p, inst)) - 1e-9
    with pytest.raises(ValueError, match="associations"):
        reference.exhaustive(PAPER, _inst(PAPER, 0))


def test_cell_cache_matches_full_kkt():
    p, inst = SMALL, _inst(SMALL, 2)
    assoc = np.array([0, 0, 1, 2, 1])
    cells = reference.CellScores(p, inst)
    masks = reference._cell_masks(assoc, p.num_bs)
    total = cells.scores(np.arange(p.num_bs), masks).sum()
    assert total == pytest.approx(_score(p, inst, power.power_kkt(p, inst, assoc)), rel=1e-9)


def test_local_search_improves_start():
    p, inst = SMALL, _inst(SMALL, 9)
    start = voronoi_iwf.weighted_voronoi(p, inst)
    dec = reference.local_search(p, inst, assoc0=start)
    assert _score(p, inst, dec) >= _score(p, inst, power.power_kkt(p, inst, start)) - 1e-12
    assert _score(p, inst, reference.local_search(p, inst)) >= _score(p, inst, aibot.solve(p, inst)) - 1e-6


@pytest.mark.parametrize("name", ["aibot", "voronoi_iwf", "voronoi_iwf_min", "nearest_equal", "exhaustive"])
def test_infeasible_qos_reported_not_raised(name):
    """Unreachable QoS (R_min 5 Gbit/s, rho_min 1.99): best effort, feasible=False, no exception."""
    p = SMALL.replace(rate_min_bps=5e9, rho_min=1.99)
    inst = _inst(p, 0)
    spec = POLICIES[name]
    dec = spec.load()(p, inst, **spec.options)
    ev = model.evaluate(p, inst, dec)
    assert not ev.feasible and np.isfinite(ev.objective)
    assert ev.violations["C3"] <= 1e-9 and ev.violations["C4"] <= 1e-9


def test_solvers_never_read_ground_truth():
    """Changing the true positions (but not estimates/gains) leaves every solver's output unchanged."""
    p, inst = SMALL, _inst(SMALL, 4)
    fake = model.Instance(**{**inst.__dict__, "uav_pos": inst.uav_pos + 123.0})
    for name in ["aibot", "voronoi_iwf", "nearest_equal", "exhaustive"]:
        fn = POLICIES[name].load()
        a, b = fn(p, inst), fn(p, fake)
        assert np.array_equal(a.assoc, b.assoc) and np.array_equal(a.p_sense, b.p_sense), name


def test_registry_and_package_import_cost():
    """The registry imports no solver; ``import isac_envs`` and the env load no cvxpy/matplotlib/pettingzoo."""
    import subprocess
    import sys

    code = ("import sys, gymnasium as gym, isac_envs, baselines.multi_uav_isac; "
            "e = gym.make('isac_envs/MultiUAVISAC-v0'); e.reset(seed=0); e.step(e.action_space.sample()); "
            "bad = [m for m in ('cvxpy', 'matplotlib', 'pettingzoo', 'torch', 'baselines.multi_uav_isac.aibot') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
