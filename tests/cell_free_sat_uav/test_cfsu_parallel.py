"""cell_free_sat_uav PettingZoo variant (UAVs as agents) at the default and non-default swarm sizes."""

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from baselines.cell_free_sat_uav import algorithm3
from isac_envs.cell_free_sat_uav import model as m
from isac_envs.cell_free_sat_uav.env import CellFreeSatUAVEnv
from isac_envs.cell_free_sat_uav.parallel import joint_action
from isac_envs.multiagent import cell_free_sat_uav_v0


@pytest.mark.parametrize("kw", [dict(config="small"), dict(config="small", num_uavs=2), dict(config="small", num_uavs=16),
                                dict(num_uavs=11), dict(), dict(config="small", observation="full", num_uavs=5)])
def test_api_and_seed(kw):
    parallel_api_test(cell_free_sat_uav_v0.parallel_env(**kw), num_cycles=6)
    parallel_seed_test(lambda: cell_free_sat_uav_v0.parallel_env(**kw))


@pytest.mark.parametrize("num_uavs", [1, 2, 7, 16])
def test_spaces_scale_with_swarm_size(num_uavs):
    env = cell_free_sat_uav_v0.parallel_env(config="small", num_uavs=num_uavs)
    obs, infos = env.reset(seed=0)
    assert env.possible_agents == [f"uav_{i}" for i in range(num_uavs)]
    d_obs = 2 * 2 * num_uavs + 2 * num_uavs * 4 + 4 + 1 + num_uavs + 4
    assert env.state().shape == (d_obs,)
    assert env.observation_space("uav_0").shape == (d_obs + num_uavs,)
    assert env.action_space("uav_0").shape == (4 * 2 + 4 + 1,)
    for i, a in enumerate(env.possible_agents):
        assert np.array_equal(obs[a][:d_obs], env.state()) and obs[a][d_obs + i] == 1.0
        assert infos[a]["instance"] is env.instance
    assert env.metadata["name"] == "cell_free_sat_uav_v0" and env.metadata["is_parallelizable"]


@pytest.mark.parametrize("num_uavs", [3, 12])
def test_solver_through_agents_matches_single_agent(num_uavs):
    par = cell_free_sat_uav_v0.parallel_env(config="small", num_uavs=num_uavs)
    obs, infos = par.reset(seed=4)
    inst = infos["uav_0"]["instance"]
    d = algorithm3.solve(par.params, inst)
    total = 0.0
    while par.agents:
        obs, rew, term, trunc, infos = par.step(par.encode_actions(d))
        total += rew["uav_0"]
        assert len(set(rew.values())) == 1
    ref = m.evaluate(par.params, inst, d)
    assert ref.feasible and total == pytest.approx(ref.objective, rel=1e-4)


def test_joint_decoding_rules():
    p = m.Params(num_uavs=3, num_groups=2, users_per_group=2, num_subchannels=2, num_sat_users=0)
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, size=(3, 2 * 2 + 2 + 1))
    single = joint_action(p, acts)
    env = CellFreeSatUAVEnv(params=p)
    env.reset(seed=0)
    d = env.decode_action(single)
    summed = acts[:, :4].sum(axis=0).reshape(2, 2)
    assert np.array_equal(d.assignment[0], summed.argmax(axis=1))            # scores summed over agents
    w = (acts[:, 4:6] + 1) / 2
    expect = p.max_power_w * w / np.maximum(1, w.sum(axis=1, keepdims=True))
    assert np.allclose(d.power[0], expect)                                    # UAV m's row from agent m
    tau = np.mean((acts[:, -1] + 1) / 2)
    assert d.hover_time[0] == pytest.approx(tau * p.max_slot_hover_time_s)   # mean of the time proposals


def test_parallel_bad_input_and_aec():
    env = cell_free_sat_uav_v0.parallel_env(config="small")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="missing"):
        env.step({"uav_0": np.zeros(13)})
    acts = {a: np.zeros(13) for a in env.agents}
    acts["uav_1"] = np.full(13, np.nan)
    with pytest.raises(ValueError, match="non-finite"):
        env.step(acts)
    aec = cell_free_sat_uav_v0.env(config="small", num_uavs=5)
    aec.reset(seed=1)
    assert aec.num_agents == 5


@pytest.mark.parametrize("num_uavs", [64, 128])
def test_swarm_scale_steps_and_resets(num_uavs):
    """Issue 12 item 4: the default setting with 64 and 128 UAV agents resets and plays whole flights."""
    env = cell_free_sat_uav_v0.parallel_env(num_uavs=num_uavs)
    rng = np.random.default_rng(0)
    for seed in (0, 1):
        obs, infos = env.reset(seed=seed)
        assert len(obs) == num_uavs and env.observation_space("uav_0").shape == (env.state().size + num_uavs,)
        total = 0.0
        while env.agents:
            obs, rew, term, trunc, infos = env.step({a: rng.uniform(-1, 1, env.action_space(a).shape)
                                                     .astype(np.float32) for a in env.agents})
            total += rew["uav_0"]
            assert all(np.isfinite(o).all() for o in obs.values())
        assert infos["uav_0"]["feasible"] and total == pytest.approx(infos["uav_0"]["objective"], rel=1e-9)
        assert total > 0
