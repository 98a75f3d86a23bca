"""device_free_localization baselines: oracle, fallback, acceptance checks 1-3 and 11, SolverPolicy."""

import numpy as np
import pytest

from baselines.device_free_localization import bisection_optimum, comm_min_power, initial_condition, sca
from baselines.device_free_localization.common import (
    comm_fallback,
    comm_feasible_point,
    least_power,
    make_problem,
    start_point,
)
from baselines.policy import SolverPolicy
from isac_envs.device_free_localization.env import DeviceFreeLocalizationEnv
from isac_envs.device_free_localization.model import Params, evaluate, sample_instance

P = Params()
SOLVERS = {"bisection_optimum": bisection_optimum.solve, "sca": sca.solve,
           "initial_condition": initial_condition.solve, "comm_min_power": comm_min_power.solve}


def instance(seed, params=P):
    return sample_instance(params, np.random.default_rng(seed))


def comm_infeasible_seed():
    for s in range(200):
        if comm_feasible_point(make_problem(P, instance(s))) is None:
            return s
    raise AssertionError("no comm-infeasible instance in 200 seeds (expected ~3 %)")


def min_sensing_sinr(params, inst, decision):
    return make_problem(params, inst).sensing_sinr(decision.tx_power_w / params.max_power_w).min()


# ----------------------------------------------------------------------------- oracle
def test_comm_least_power_is_tight_yates_point():
    prob = make_problem(P, instance(0))
    x = comm_feasible_point(prob)
    np.testing.assert_allclose(prob.comm_sinr(x), prob.gamma, rtol=1e-9)  # every UE exactly at gamma
    # any scaled-down vector violates C1; any random feasible vector dominates x
    assert (prob.comm_sinr(0.99 * x) < prob.gamma).any()
    rng = np.random.default_rng(0)
    for y in rng.uniform(0, 1, (2000, 3)):
        if (prob.comm_sinr(y) >= prob.gamma).all():
            assert (y >= x - 1e-12).all()


def test_least_power_sensing_level_is_least_and_tight():
    prob = make_problem(P, instance(1))
    x0 = start_point(prob, comm_feasible_point(prob))
    tau = 0.9 * prob.sensing_sinr(x0).min()
    x = least_power(prob, tau)
    assert x is not None and (x <= 1).all()
    s, c = prob.sensing_sinr(x), prob.comm_sinr(x)
    assert (s >= tau * (1 - 1e-9)).all() and (c >= prob.gamma * (1 - 1e-9)).all()
    # least point: each component has its own sensing or comm constraint tight
    tight = np.isclose(s, tau, rtol=1e-7) | np.isclose(c, prob.gamma, rtol=1e-7)
    assert tight.all()
    rng = np.random.default_rng(1)
    for y in rng.uniform(0, 1, (4000, 3)):
        if (prob.sensing_sinr(y) >= tau).all() and (prob.comm_sinr(y) >= prob.gamma).all():
            assert (y >= x - 1e-12).all()
    hi = (prob.echo / (prob.si + 1)).min()
    assert least_power(prob, 1.01 * hi) is None


def test_least_power_matches_lp():
    from scipy.optimize import linprog

    prob = make_problem(P, instance(2))
    tau = 0.8 * prob.sensing_sinr(np.ones(3)).min()
    x = least_power(prob, tau)
    # rows scaled to O(1): A_b x_b - tau I_b(x) >= 0 and g_j x_j / gamma - sum H_bj x_b >= 1
    a_s = -(np.diag(prob.echo - tau * prob.si) - tau * prob.cross.T)
    b_s = -tau * np.ones(3)
    a_c = -(np.diag(np.diagonal(prob.comm) / prob.gamma) - (prob.comm.T - np.diag(np.diagonal(prob.comm))))
    b_c = -np.ones(3)
    lp = linprog(np.ones(3), A_ub=np.vstack([a_s, a_c]), b_ub=np.concatenate([b_s, b_c]), bounds=[(0, 1)] * 3,
                 method="highs")
    assert lp.status == 0
    np.testing.assert_allclose(x, lp.x, rtol=1e-5)


# ----------------------------------------------------------------------------- check 1: global optimality
def gp_optimum(params, inst):
    import cvxpy as cp

    prob = make_problem(params, inst)
    x, t = cp.Variable(3, pos=True), cp.Variable(pos=True)
    cons = [x <= 1]
    for b in range(3):
        interf = sum(prob.cross[k, b] * x[k] for k in range(3) if k != b) + prob.si[b] * x[b] + 1
        cons.append(t * interf / (prob.echo[b] * x[b]) <= 1)
        c_int = sum(prob.comm[k, b] * x[k] for k in range(3) if k != b) + 1
        cons.append(prob.gamma * c_int / (prob.comm[b, b] * x[b]) <= 1)
    cp.Problem(cp.Maximize(t), cons).solve(gp=True)
    return float(t.value)


@pytest.mark.parametrize("n", [pytest.param(4, id="4seeds"), pytest.param(20, id="20seeds", marks=pytest.mark.slow)])
def test_check1_bisection_matches_gp(n):
    done = 0
    for s in range(100):
        inst = instance(s)
        if comm_feasible_point(make_problem(P, inst)) is None:
            continue
        t_bis = min_sensing_sinr(P, inst, bisection_optimum.solve(P, inst))
        assert abs(gp_optimum(P, inst) / t_bis - 1) <= 1e-5
        done += 1
        if done == n:
            break


@pytest.mark.parametrize("n", [pytest.param(40, id="40seeds"), pytest.param(300, id="300seeds", marks=pytest.mark.slow)])
def test_check1_optimum_beats_ic(n):
    for s in range(n):
        inst = instance(s)
        ev_ic = evaluate(P, inst, initial_condition.solve(P, inst))
        ev_bis = evaluate(P, inst, bisection_optimum.solve(P, inst))
        if ev_ic.feasible:
            assert ev_bis.feasible and ev_bis.objective >= ev_ic.objective - 1e-9


# ----------------------------------------------------------------------------- checks 2-3: SCA
@pytest.mark.parametrize("n", [pytest.param(15, id="15seeds"), pytest.param(50, id="50seeds", marks=pytest.mark.slow)])
def test_check2_3_sca_reaches_optimum_monotonically(n):
    gaps, iters = [], []
    for s in range(n):
        inst = instance(s)
        d_sca, trace = sca.solve(P, inst, return_trace=True)
        ev_sca, ev_bis = evaluate(P, inst, d_sca), evaluate(P, inst, bisection_optimum.solve(P, inst))
        feasible_c1 = comm_feasible_point(make_problem(P, inst)) is not None
        assert ev_sca.feasible == feasible_c1
        if not feasible_c1:
            continue
        gaps.append(abs(ev_sca.metrics["range_std_max_m"] / ev_bis.metrics["range_std_max_m"] - 1))
        assert np.all(np.diff(trace) >= -1e-8 * np.abs(trace[:-1]))
        iters.append(len(trace) - 1)
        assert trace[-1] == pytest.approx(min_sensing_sinr(P, inst, d_sca), rel=1e-9)
    assert np.mean(np.array(gaps) <= 1e-3) >= 0.98 and np.mean(gaps) <= 1e-3
    assert max(iters) <= 30 and np.mean(iters) <= 10


def test_sca_literal_options_and_max_iter():
    inst = instance(3)
    d1, tr1 = sca.solve(P, inst, max_iter=1, return_trace=True)
    assert len(tr1) <= 2
    d, tr = sca.solve(P, inst, max_iter=20, eps=1e-6, return_trace=True)
    assert evaluate(P, inst, d).objective >= evaluate(P, inst, d1).objective - 1e-12


def test_bisection_trace_monotone_and_least_power():
    inst = instance(4)
    d, trace = bisection_optimum.solve(P, inst, return_trace=True)
    assert np.all(np.diff(trace) >= 0)
    prob = make_problem(P, inst)
    x = d.tx_power_w / P.max_power_w
    assert prob.sensing_sinr(x).min() == pytest.approx(trace[-1], rel=1e-9)
    # least-power tie-break: scaling any single BS down loses either C1 or the sensing level
    for b in range(3):
        y = x.copy()
        y[b] *= 0.999
        assert (prob.comm_sinr(y) < prob.gamma).any() or prob.sensing_sinr(y).min() < trace[-1] * (1 - 1e-9)


# ----------------------------------------------------------------------------- check 11 / infeasible
def test_comm_infeasible_instance_flagged_by_every_solver():
    inst = instance(comm_infeasible_seed())
    for name, solve in SOLVERS.items():
        ev = evaluate(P, inst, solve(P, inst))
        assert not ev.feasible and ev.violations["c1_comm_sinr"] > 0, name
    # the fallback maximises the worst UE's SINR ratio: at least the IC's, and no random point beats it
    prob = make_problem(P, inst)
    x_fb = comm_fallback(prob).tx_power_w / P.max_power_w
    best = (prob.comm_sinr(x_fb) / prob.gamma).min()
    assert best >= (prob.comm_sinr(np.ones(3)) / prob.gamma).min() - 1e-12
    rng = np.random.default_rng(0)
    ys = rng.uniform(0, 1, (5000, 3))
    ratios = np.array([(prob.comm_sinr(y) / prob.gamma).min() for y in ys])
    assert ratios.max() <= best * (1 + 1e-6)


def test_comm_min_power_meets_c1_with_least_power():
    inst = instance(0)
    ev = evaluate(P, inst, comm_min_power.solve(P, inst))
    assert ev.feasible and ev.metrics["comm_sinr_min_db"] == pytest.approx(10.0, abs=1e-6)
    assert ev.metrics["total_power_w"] <= evaluate(P, inst, bisection_optimum.solve(P, inst)).metrics["total_power_w"]


# ----------------------------------------------------------------------------- determinism and SolverPolicy
@pytest.mark.parametrize("name", list(SOLVERS))
def test_solvers_deterministic(name):
    inst = instance(5)
    a, b = SOLVERS[name](P, inst), SOLVERS[name](P, inst)
    np.testing.assert_array_equal(a.tx_power_w, b.tx_power_w)


@pytest.mark.parametrize("name", ["bisection_optimum", "sca"])
def test_solver_policy_round_trip(name):
    env = DeviceFreeLocalizationEnv(config="small")
    policy = SolverPolicy(SOLVERS[name], env)
    for seed in range(3):
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            inst = info["instance"]
            own = evaluate(env.params, inst, SOLVERS[name](env.params, inst))
            obs, reward, term, trunc, info = env.step(policy.act(obs, info))
            assert info["objective"] == pytest.approx(own.objective, rel=1e-6)
            assert info["feasible"] == own.feasible
            if own.feasible:  # the float32 round trip may leave a C1 shortfall below the 1e-6 tolerance
                assert info["violations"]["c1_comm_sinr"] <= 1e-6
                assert reward == pytest.approx(own.objective, abs=2 * env.params.penalty * 1e-6)
            done = term or trunc
