"""cell_free_sat_uav hybrid action mode (issue 10 item 2): the shared power step of Algorithm 2, the hybrid codec,
Algorithm 3's round trip through both modes, the PettingZoo variant and the batched multi-agent hooks."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

import isac_envs  # noqa: F401
from baselines.cell_free_sat_uav import _common as C
from baselines.cell_free_sat_uav import algorithm3, algorithm6
from isac_envs.cell_free_sat_uav import model as m
from isac_envs.cell_free_sat_uav import parallel as par_mod
from isac_envs.cell_free_sat_uav import power
from isac_envs.cell_free_sat_uav.env import CellFreeSatUAVEnv
from isac_envs.core import load_config
from isac_envs.multiagent import cell_free_sat_uav_v0

ENV_ID = "isac_envs/CellFreeSatUAV-v0"
SMALL = load_config(m.Params, "cell_free_sat_uav", "small")


def _random_problem(rng):
    A, M = int(rng.integers(1, 7)), int(rng.integers(1, 5))
    R = int(rng.integers(0, 2 * A + 1))
    return (10 ** rng.uniform(-1, 3, (A, M)), rng.uniform(0.05, 1, M), rng.integers(0, A, R),
            10 ** rng.uniform(-1, 2, (R, M)))


@pytest.mark.parametrize("seed", range(6))
def test_max_log_sum_matches_cvxpy(seed):
    import cvxpy as cp

    b, u, rows, coef = _random_problem(np.random.default_rng(seed))
    x = power.max_log_sum(b, u, rows, coef)
    assert (x >= 0).all() and (x.sum(axis=0) <= u + 1e-9).all()
    assert all(coef[r] @ x[rows[r]] <= 1 + 1e-9 for r in range(rows.size))
    X = cp.Variable(b.shape, nonneg=True)
    cons = [cp.sum(X, axis=0) <= u] + [coef[r] @ X[rows[r]] <= 1 for r in range(rows.size)]
    prob = cp.Problem(cp.Maximize(cp.sum(cp.log(1 + cp.multiply(b, X)))), cons)
    prob.solve(solver=cp.CLARABEL)
    assert np.log1p(b * x).sum() == pytest.approx(prob.value, abs=1e-6)


def test_max_log_sum_woodbury_path_matches_dense():
    """Above DENSE_NEWTON_MAX variables (large swarms) the Newton system goes through the general rows."""
    rng = np.random.default_rng(7)
    A, M = 6, 20
    b, u = 10 ** rng.uniform(-1, 3, (A, M)), rng.uniform(0.05, 1, M)
    rows, coef = rng.integers(0, A, 10), 10 ** rng.uniform(-1, 2, (10, M))
    assert A * M > power.DENSE_NEWTON_MAX
    x = power.max_log_sum(b, u, rows, coef)
    dense = power.DENSE_NEWTON_MAX
    try:
        power.DENSE_NEWTON_MAX = 10**9
        x_dense = power.max_log_sum(b, u, rows, coef)
    finally:
        power.DENSE_NEWTON_MAX = dense
    assert np.log1p(b * x).sum() == pytest.approx(np.log1p(b * x_dense).sum(), abs=1e-7)
    assert (x.sum(axis=0) <= u + 1e-9).all() and all(coef[r] @ x[rows[r]] <= 1 + 1e-9 for r in range(10))


def test_max_log_sum_water_filling_hand_value():
    # one UAV, no interference rows: water-filling x_a = (1/pi - 1/b_a)^+ with sum x = budget
    b = np.array([[4.0], [1.0], [0.1]])
    x = power.max_log_sum(b, np.array([1.0]), np.zeros(0, np.int64), np.zeros((0, 1)))
    # two active links: 1/pi = (1 + 1/4 + 1) / 2 = 1.125 -> x = (0.875, 0.125, 0)
    assert np.allclose(x[:, 0], [0.875, 0.125, 0.0], atol=1e-7)


def test_baselines_share_the_model_power_step():
    assert C.damped_step is power.damped_step
    # results unchanged by the move (values pinned before the refactor, same cvxpy/CLARABEL build)
    inst = m.sample_instance(SMALL, np.random.default_rng(0))
    assert m.evaluate(SMALL, inst, algorithm3.solve(SMALL, inst)).objective == pytest.approx(39.51080313667307, rel=1e-9)
    ev6 = m.evaluate(SMALL, inst, algorithm6.solve(SMALL, inst))
    assert ev6.metrics["efficiency_min"] == pytest.approx(7.6307841206183324, rel=1e-9)


def _slot_value(p, inst, n, a_row, P):
    l = np.flatnonzero(a_row >= 0)
    alpha = inst.gain_user[n, a_row[l], :, l] * P[:, l].T / p.noise_w
    from isac_envs.physics.deterministic_equivalent import de_rate_bits

    return float(de_rate_bits(alpha, p.num_rx_antennas).sum())


@pytest.mark.parametrize("seed", range(3))
def test_slot_power_beats_every_feasible_point(seed):
    """The decoder's power is optimal for the slot's concave DE problem: no random feasible point nor
    Algorithm 3's own slot powers (feasible for the caps they use) do better."""
    p = SMALL
    inst = m.sample_instance(p, np.random.default_rng(seed))
    d = algorithm3.solve(p, inst)
    rng = np.random.default_rng(seed)
    for n in range(p.num_groups):
        a_row = d.assignment[n]
        cap = d.power[n].sum(axis=1)
        P = power.slot_power(p, inst.gain_user[n], inst.gain_sat[n], inst.sat_subchannel[n], a_row, 10.0, cap)
        assert (P.sum(axis=1) <= cap * (1 + 1e-9)).all()
        full = m.Decision(d.assignment, np.where(np.arange(p.num_groups)[:, None, None] == n, P, d.power), d.hover_time)
        assert m.evaluate(p, inst, full).violations["interference"] <= 1e-9
        best = _slot_value(p, inst, n, a_row, P)
        assert best >= _slot_value(p, inst, n, a_row, d.power[n]) * (1 - 1e-4)      # Alg. 2's stopping tolerance
        for _ in range(50):
            Q = rng.uniform(size=P.shape) * (a_row >= 0)
            Q *= (cap / np.maximum(Q.sum(axis=1), 1e-300))[:, None] * rng.uniform()
            Q = m.backoff(p, inst.gain_sat[n:n + 1], inst.sat_subchannel[n:n + 1], a_row[None], Q[None])[0]
            assert _slot_value(p, inst, n, a_row, Q) <= best * (1 + 1e-4)


@pytest.mark.parametrize("config,seed", [("small", 0), ("small", 5), ("paper", 0)])
@pytest.mark.parametrize("mode", ["direct", "hybrid"])
def test_algorithm3_round_trips_through_both_modes(mode, config, seed):
    env = gym.make(ENV_ID, config=config, action_mode=mode)
    obs, info = env.reset(seed=seed)
    d = algorithm3.solve(env.unwrapped.params, info["instance"])
    native = m.evaluate(env.unwrapped.params, info["instance"], d).objective
    total, done = 0.0, False
    while not done:
        obs, r, done, _, info = env.step(env.unwrapped.encode_action(d))
        total += r
    assert info["feasible"] and np.array_equal(info["decision"].assignment, d.assignment)
    assert np.allclose(info["decision"].hover_time, d.hover_time, rtol=1e-5)
    if mode == "direct":
        assert total == pytest.approx(native, rel=1e-5)
    else:                       # the decoder re-solves each slot's power: never more than 1 % below, usually equal
        assert total >= 0.99 * native and total == pytest.approx(native, rel=2e-3)


def test_hybrid_checkers_and_spaces():
    env = gym.make(ENV_ID, config="small", action_mode="hybrid", render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    assert env.action_space.shape == (4 * 3 + 3 + 1,)
    assert CellFreeSatUAVEnv(action_mode="hybrid").action_space.shape == (8 * 5 + 6 + 1,)
    with pytest.raises(ValueError, match="action_mode"):
        CellFreeSatUAVEnv(action_mode="mixed")


def test_hybrid_decode_rules():
    env = CellFreeSatUAVEnv(config="small", action_mode="hybrid")
    env.reset(seed=2)
    p = env.params
    L, K, M = 4, 2, 3
    rng = np.random.default_rng(0)
    for _ in range(p.num_groups):
        act = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        scores = act[: L * (K + 1)].reshape(L, K + 1)
        scores[0, K] = 5.0                                              # subchannel 0 idle
        act[: L * (K + 1)] = np.clip(scores, -1, 1).ravel()
        act[L * (K + 1)] = -1.0                                         # UAV 0: zero energy share
        e_left = env._energy_left()
        share = (act[L * (K + 1): L * (K + 1) + M] + 1) / 2
        d = env.decode_action(act)
        n = env.slot
        k = act[: L * (K + 1)].reshape(L, K + 1).argmax(axis=1)
        assert d.assignment[n, 0] == -1 and np.array_equal(d.assignment[n], np.where(k == K, -1, k))
        assert d.hover_time[n] == pytest.approx((act[-1] + 1) / 2 * env._time_cap())
        spent = d.hover_time[n] * d.power[n].sum(axis=1)
        assert spent[0] == 0.0 and (spent <= share * e_left * (1 + 1e-9) + 1e-12).all()
        assert (d.power[n].sum(axis=1) <= p.max_power_w * (1 + 1e-9)).all()
        _, _, _, _, info = env.step(act)
        assert info["feasible"]


def test_hybrid_random_policy_feasible_and_below_alg3():
    env = CellFreeSatUAVEnv(config="small", action_mode="hybrid")
    rng = np.random.default_rng(0)
    for seed in range(2):
        obs, info = env.reset(seed=seed)
        a3 = m.evaluate(env.params, info["instance"], algorithm3.solve(env.params, info["instance"])).objective
        done = False
        while not done:
            _, _, done, _, info = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
            assert info["feasible"]
        assert 0 < info["objective"] < a3


@pytest.mark.parametrize("mode", ["direct", "hybrid"])
def test_parallel_modes_and_algorithm3_through_agents(mode):
    parallel_api_test(cell_free_sat_uav_v0.parallel_env(config="small", action_mode=mode), num_cycles=4)
    env = cell_free_sat_uav_v0.parallel_env(config="small", action_mode=mode, num_uavs=5)
    obs, infos = env.reset(seed=4)
    inst = infos["uav_0"]["instance"]
    d = algorithm3.solve(env.params, inst)
    total = 0.0
    while env.agents:
        obs, rew, *_ = env.step(env.encode_actions(d))
        total += rew["uav_0"]
    assert total == pytest.approx(m.evaluate(env.params, inst, d).objective, rel=2e-3)


@pytest.mark.parametrize("mode", ["direct", "hybrid"])
def test_batched_multiagent_hooks_equal_the_parallel_env(mode):
    env = cell_free_sat_uav_v0.parallel_env(config="small", action_mode=mode, num_uavs=4)
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=0)
    states, acts, joints = [], [], []
    while env.agents:
        states.append(env.state())
        assert np.array_equal(par_mod.batch_agent_observations(env.params, env.state()[None])[0],
                              np.stack([obs[a] for a in env.possible_agents]))
        a = rng.uniform(-1.2, 1.2, (4, par_mod.agent_action_dim(env.params, mode)))
        acts.append(a)
        joints.append(env.joint_action(np.clip(a, -1, 1)))
        obs, *_ = env.step({ag: a[i] for i, ag in enumerate(env.possible_agents)})
    batched = par_mod.batch_joint_action(env.params, np.stack(acts), mode)
    assert np.array_equal(batched, np.stack(joints))
    assert batched.shape == (len(acts), m.action_dim(env.params, mode))
