"""multi_uav_isac envs: Gymnasium/SB3 checkers, PettingZoo API and seed tests, episode rules,
determinism, replay, bad input, rendering, SolverPolicy through the codec."""

import gymnasium as gym
import numpy as np
import pytest

import isac_envs  # noqa: F401  (registers the ids)
from baselines.multi_uav_isac.aibot import solve as aibot
from baselines.multi_uav_isac.voronoi_iwf import solve as voronoi
from baselines.policy import SolverPolicy
from isac_envs.multi_uav_isac import model
from isac_envs.multi_uav_isac.env import MultiUAVISACEnv
from isac_envs.multi_uav_isac.parallel import MultiUAVISACParallelEnv, joint_action
from isac_envs.multiagent import multi_uav_isac_v0

ENV_ID = "isac_envs/MultiUAVISAC-v0"


def test_gymnasium_and_sb3_checkers():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(ENV_ID, config="small")
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(MultiUAVISACEnv(config="small"))


def test_spaces_and_overrides():
    env = gym.make(ENV_ID)
    assert env.observation_space.shape == (327,) and env.action_space.shape == (151,)
    env = gym.make(ENV_ID, config="small", num_uavs=6)
    assert env.unwrapped.params.num_uavs == 6 and env.unwrapped.params.num_bs == 3
    with pytest.raises(ValueError):
        MultiUAVISACEnv(params=model.Params(), config="small")
    with pytest.raises(ValueError, match="num_bs"):
        MultiUAVISACEnv(num_bs=0)
    with pytest.raises(ValueError, match="render_mode"):
        MultiUAVISACEnv(render_mode="human")


def test_episode_length_terminal_and_info():
    env = MultiUAVISACEnv(config="small")
    obs, info = env.reset(seed=3)
    assert info["slot"] == 0 and info["instance"].slot == 0
    for t in range(5):
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        assert info["slot"] == t and not trunc
        assert term == (t == 4)
        assert r == pytest.approx(info["objective"] - 2.0 * sum(info["violations"].values()))
        assert set(info["decision"]) == {"assoc", "p_comm", "p_sense"}
        assert info["violations"]["C3"] == 0.0 and info["violations"]["C4"] <= 1e-9
    assert info["instance"].slot == 4 and obs[-1] == pytest.approx(4 / 5)


def test_reward_is_evaluate_of_decoded_action():
    env = MultiUAVISACEnv(config="small")
    _, info = env.reset(seed=0)
    inst = info["instance"]
    a = env.action_space.sample()
    _, r, *_ , info = env.step(a)
    ev = model.evaluate(env.params, inst, model.decode_action(env.params, a))
    assert r == ev.penalised(env.params.penalty) and info["objective"] == ev.objective


def _rollout(seed, n=5):
    env = MultiUAVISACEnv(config="small")
    env.action_space.seed(seed)
    out = [env.reset(seed=seed)[0]]
    for _ in range(n):
        o, r, *_ = env.step(env.action_space.sample())
        out += [o, np.array([r])]
    return np.concatenate(out)


def test_determinism_same_seed_same_episode():
    assert np.array_equal(_rollout(11), _rollout(11))
    assert not np.array_equal(_rollout(11), _rollout(12))


def test_reset_with_instance_replays():
    env = MultiUAVISACEnv(config="small")
    _, info = env.reset(seed=9)
    inst = info["instance"]
    obs1, _ = env.reset(seed=1, options={"instance": inst})
    assert env.instance is inst and np.array_equal(obs1, model.observe(env.params, inst))
    with pytest.raises(TypeError):
        env.reset(options={"instance": "nope"})
    with pytest.raises(ValueError):
        env.reset(options={"bogus": 1})


@pytest.mark.parametrize("action", [np.zeros(23), np.full(24, np.nan), np.full(24, np.inf)])
def test_bad_actions(action):
    env = MultiUAVISACEnv(config="small")
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.step(action)


def test_step_before_reset():
    with pytest.raises(RuntimeError):
        MultiUAVISACEnv(config="small").step(np.zeros(24))


def test_render_modes():
    env = MultiUAVISACEnv(config="small", render_mode="ansi")
    env.reset(seed=0)
    assert "no decision" in env.render()
    env.step(env.action_space.sample())
    text = env.render()
    assert "G=" in text and "BS2" in text and "C5" in text
    env = MultiUAVISACEnv(config="small", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    img = env.render()
    assert img.shape == (480, 480, 3) and img.dtype == np.uint8 and img.std() > 0
    assert MultiUAVISACEnv(config="small").render() is None


@pytest.mark.parametrize("solver,replan", [(voronoi, "step"), (aibot, "step")])
def test_solver_policy_reproduces_evaluate(solver, replan):
    env = MultiUAVISACEnv(config="small")
    pol = SolverPolicy(solver, env, replan=replan)
    obs, info = env.reset(seed=4)
    done = False
    while not done:
        inst = info["instance"]
        own = model.evaluate(env.params, inst, solver(env.params, inst))
        obs, r, term, trunc, info = env.step(pol.act(obs, info))
        assert info["objective"] == pytest.approx(own.objective, rel=1e-6)
        done = term or trunc


# --------------------------------------------------------------------------- PettingZoo
def test_parallel_api_and_seed():
    from pettingzoo.test import parallel_api_test, parallel_seed_test

    parallel_api_test(multi_uav_isac_v0.parallel_env(config="small"), num_cycles=12)
    parallel_seed_test(lambda: multi_uav_isac_v0.parallel_env(config="small"))


def test_parallel_spaces_state_and_aec():
    penv = multi_uav_isac_v0.parallel_env()
    assert penv.possible_agents == [f"bs_{i}" for i in range(6)]
    assert penv.action_space("bs_0").shape == (56,) and penv.observation_space("bs_3").shape == (333,)
    obs, infos = penv.reset(seed=0)
    assert np.array_equal(penv.state(), obs["bs_2"][:327]) and obs["bs_2"][327 + 2] == 1.0
    assert multi_uav_isac_v0.parallel_env(config="small").action_space("bs_0").shape == (14,)
    aec = multi_uav_isac_v0.env(config="small")
    aec.reset(seed=0)
    assert aec.agents == ["bs_0", "bs_1", "bs_2"]


def test_parallel_joint_decoding_matches_single_agent():
    """Same seed: the parallel env's team reward equals the single-agent reward of the joint action."""
    penv = MultiUAVISACParallelEnv(config="small")
    senv = MultiUAVISACEnv(config="small")
    penv.reset(seed=5)
    senv.reset(seed=5)
    rng = np.random.default_rng(0)
    p = penv.params
    for _ in range(5):
        acts = rng.uniform(-1, 1, (p.num_bs, 3 * p.num_uavs + 2))
        _, rew, terms, _, infos = penv.step({a: acts[i] for i, a in enumerate(penv.possible_agents)})
        joint = joint_action(p, acts)
        _, r, term, _, info = senv.step(joint)
        assert all(v == r for v in rew.values()) and terms["bs_0"] == term
        dec = info["decision"]
        k = p.num_uavs
        # the winner of UAV j is the highest bidder; its power score decodes UAV j's radar power
        assert np.array_equal(dec["assoc"], np.argmax(acts[:, : k + 1].T, axis=1))
        j = 0
        y = (acts[dec["assoc"][j], 2 * k + 1 + j] + 1) / 2
        expect = p.p_min_w + y * (p.p_max_w - p.p_min_w)
        assert dec["p_sense"][j] <= expect + 1e-12
    assert penv.agents == []


def test_parallel_missing_or_bad_action():
    penv = MultiUAVISACParallelEnv(config="small")
    penv.reset(seed=0)
    with pytest.raises(ValueError, match="missing"):
        penv.step({"bs_0": np.zeros(14)})
    with pytest.raises(ValueError):
        penv.step({a: np.full(14, np.nan) for a in penv.agents})


def test_step_fast_path_equals_evaluate_and_metrics_lazy():
    """The env step scores the decoded decision with the shared core, unchecked, metrics computed on first
    access: the same numbers, bit for bit, as the public evaluate()."""
    from collections.abc import Mapping

    env = MultiUAVISACEnv(config="small")
    _, info = env.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(5):
        inst = info["instance"]
        a = rng.uniform(-1.3, 1.3, 24)
        _, r, _, _, info = env.step(a)
        ev = model.evaluate(env.params, inst, model.decode_action(env.params, a))
        assert isinstance(info["metrics"], Mapping) and not isinstance(info["metrics"], dict)
        assert info["metrics"]._data is None                     # not computed until read
        assert dict(info["metrics"]) == ev.metrics and info["violations"] == ev.violations
        assert r == ev.penalised(env.params.penalty) and info["objective"] == ev.objective


def _joint_by_hand(p, acts):
    """Spec Sec. 7 written out per UAV: bids -> argmax (lowest index on ties), winner's power scores."""
    k = p.num_uavs
    a = np.clip(acts, -1, 1)
    bids = a[:, : k + 1].T
    win = [int(np.flatnonzero(row == row.max())[0]) for row in bids]
    comm = [a[win[j], k + 1 + j] for j in range(k)]
    sense = [a[win[j], 2 * k + 1 + j] for j in range(k + 1)]
    return np.concatenate([bids.ravel(), comm, sense])


def test_batched_multiagent_hooks_equal_the_parallel_env():
    """Contract 6: batch_agent_observations / batch_joint_action equal the parallel env's own
    observations() / joint_action() (the BS agents are stateless)."""
    from isac_envs.multi_uav_isac.parallel import batch_agent_observations, batch_joint_action

    rng = np.random.default_rng(3)
    for config in ("small", "paper"):
        penv = MultiUAVISACParallelEnv(config=config)
        p = penv.params
        obs_rows, own_obs, acts, own_joint = [], [], [], []
        for seed in range(3):
            obs, _ = penv.reset(seed=seed)
            for _ in range(2):
                a = rng.uniform(-1.5, 1.5, (p.num_bs, 3 * p.num_uavs + 2))
                a[:, 0] = a[0, 0]                       # ties in the bids -> lowest BS index wins
                acts.append(a)
                own_joint.append(_joint_by_hand(p, a))
                assert np.array_equal(penv.joint_action(a), own_joint[-1])
                obs_rows.append(penv.state())
                own_obs.append(np.stack([obs[ag] for ag in penv.possible_agents]))
                obs, *_ = penv.step({ag: a[i] for i, ag in enumerate(penv.possible_agents)})
        batched_obs = batch_agent_observations(p, np.stack(obs_rows))
        assert batched_obs.dtype == np.float32 and np.array_equal(batched_obs, np.stack(own_obs))
        assert np.array_equal(batch_joint_action(p, np.stack(acts)), np.stack(own_joint))


@pytest.mark.parametrize("num_bs", [64, 128])
def test_swarm_scale_parallel_env_steps_and_resets(num_bs):
    """Issue 12 item 4: the PettingZoo env runs with 64 and 128 BS agents (default K = 18 UAVs); the team
    reward is the single-agent reward of the joint action, every observation finite, episodes reset."""
    penv = MultiUAVISACParallelEnv(num_bs=num_bs, num_slots=3)
    senv = MultiUAVISACEnv(num_bs=num_bs, num_slots=3)
    p = penv.params
    assert len(penv.possible_agents) == num_bs and penv.observation_space("bs_0").shape == (model.obs_dim(p) + num_bs,)
    rng = np.random.default_rng(num_bs)
    for episode in range(2):
        obs, _ = penv.reset(seed=episode)
        senv.reset(seed=episode)
        assert np.array_equal(obs[f"bs_{num_bs - 1}"][-num_bs:], np.eye(num_bs, dtype=np.float32)[-1])
        while penv.agents:
            acts = rng.uniform(-1, 1, (num_bs, 3 * p.num_uavs + 2)).astype(np.float32)
            obs, rew, terms, _, infos = penv.step({a: acts[i] for i, a in enumerate(penv.possible_agents)})
            _, r, term, _, info = senv.step(joint_action(p, acts))
            assert rew["bs_0"] == r == rew[f"bs_{num_bs - 1}"] and terms["bs_0"] == term
            assert all(np.all(np.isfinite(o)) for o in obs.values())
            assert np.isfinite(r) and len(set(info["decision"]["assoc"].tolist())) > 1
        assert term
