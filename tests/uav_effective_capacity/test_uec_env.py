"""Placement variant (UAVEffectiveCapacityPlacement-v0, also the old id UAVEffectiveCapacity-v0) tests: checkers, determinism, static-protocol identity (V2), motion limits (V4), V3, replay,
bad input, rendering, SolverPolicy through the env."""

import math
import re

import gymnasium as gym
import numpy as np
import pytest

import isac_envs  # noqa: F401
from baselines.policy import SolverPolicy
from isac_envs.uav_effective_capacity import model as m
from isac_envs.uav_effective_capacity.placement_env import UAVEffectiveCapacityPlacementEnv as UAVEffectiveCapacityEnv

ENV_ID = "isac_envs/UAVEffectiveCapacityPlacement-v0"


def make(**kw):
    kw.setdefault("config", "small")
    return gym.make(ENV_ID, **kw)


def test_gymnasium_and_sb3_checkers():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check

    env = make()
    check_env(env.unwrapped)
    sb3_check(env.unwrapped)
    assert env.action_space.shape == (8,) and env.observation_space.shape == (20,)
    big = gym.make(ENV_ID)
    assert big.action_space.shape == (12,) and big.observation_space.shape == (28,)


def rollout(env, seed, actions):
    obs, info = env.reset(seed=seed)
    out = [obs]
    rewards = []
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out.append(obs)
        rewards.append(r)
        if term or trunc:
            break
    return np.array(out), np.array(rewards), term, trunc


def test_determinism_and_truncation():
    env = make(user_speed=2.0)
    acts = np.random.default_rng(0).uniform(-1, 1, (5, 8)).astype(np.float32)
    o1, r1, term, trunc = rollout(env, 3, acts)
    o2, r2, _, _ = rollout(make(user_speed=2.0), 3, acts)
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(r1, r2)
    assert len(r1) == 5 and trunc and not term
    o3, _, _, _ = rollout(env, 4, acts)
    assert not np.array_equal(o1[0], o3[0])


def test_v2_static_protocol_identity():
    env = make(num_slots=1, uav_speed_max=math.inf)
    rng = np.random.default_rng(1)
    for seed in range(3):
        _, info = env.reset(seed=seed)
        inst = info["instance"]
        a = rng.uniform(-1, 1, 8).astype(np.float32)
        d = env.unwrapped.decode_action(a)
        ev = m.evaluate(env.unwrapped.params, inst, d)
        _, r, term, trunc, info = env.step(a)
        assert r == pytest.approx(ev.objective - 50.0 * sum(ev.violations.values()), rel=1e-12, abs=1e-12)
        assert info["objective"] == ev.objective and trunc and info["slot"] == 0
        wp = env.unwrapped.params.lo + (a[:2].astype(float) + 1) / 2 * (env.unwrapped.params.hi - env.unwrapped.params.lo)
        np.testing.assert_allclose(info["uav_pos"], wp, atol=1e-9)


def test_v4_motion_limits_and_region():
    env = make(num_slots=30, uav_speed_max=12.0, slot_duration=0.5)
    _, info = env.reset(seed=0)
    prev = info["instance"].uav_start
    rng = np.random.default_rng(2)
    p = env.unwrapped.params
    for _ in range(30):
        _, _, _, trunc, info = env.step(rng.uniform(-1.5, 1.5, 8))
        q = info["uav_pos"]
        assert np.linalg.norm(q - prev) <= 6.0 + 1e-9
        assert np.all(q >= p.lo) and np.all(q <= p.hi)
        np.testing.assert_array_equal(info["instance"].uav_start, q)
        prev = q
    assert trunc


def test_v3_zero_action_feasible_at_defaults():
    env = gym.make(ENV_ID, num_slots=12)
    _, info = env.reset(seed=0)
    for _ in range(12):
        _, r, _, trunc, info = env.step(np.zeros(12, np.float32))
        assert info["feasible"]
    np.testing.assert_allclose(info["uav_pos"], [50.0, 100.0])
    assert 62.0 < r < 64.0  # spec V3: 63.0 +- 0.5 at the centre


def test_reset_replays_instance_and_observation_fields():
    env = make()
    _, info = env.reset(seed=5)
    inst = info["instance"]
    a = np.full(8, 0.3, np.float32)
    _, r1, _, _, _ = env.step(a)
    obs, info2 = env.reset(seed=99, options={"instance": inst})
    assert info2 == {"slot": 0, "instance": inst}
    _, r2, _, _, _ = env.step(a)
    assert r1 == r2
    p = env.unwrapped.params
    np.testing.assert_allclose(obs[0:2], 2 * (inst.uav_start - p.lo) / (p.hi - p.lo) - 1, rtol=1e-6)
    np.testing.assert_allclose(obs[2:6], ((inst.user_pos - [50, 100]) / 200).ravel(), rtol=1e-5)
    gain_db = 10 * np.log10(m.user_gains(p, inst, inst.uav_start))
    np.testing.assert_allclose(obs[8:10], (gain_db + 65) / 10, rtol=1e-5)
    assert obs[18] == pytest.approx(1.0) and obs[19] == pytest.approx(15 / 200)
    with pytest.raises(TypeError):
        env.reset(options={"instance": "nope"})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"foo": 1})


def test_bad_input():
    env = make()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(7))
    with pytest.raises(ValueError, match="non-finite"):
        env.step(np.array([np.nan] * 8))
    with pytest.raises(ValueError, match="render_mode"):
        UAVEffectiveCapacityEnv(config="small", render_mode="human")
    with pytest.raises(ValueError, match="either params= or config="):
        UAVEffectiveCapacityEnv(params=m.Params(), config="small")
    with pytest.raises(ValueError, match="p_max"):
        make(p_max=-1.0)
    with pytest.raises(ValueError, match="unknown"):
        make(not_a_field=1)
    with pytest.raises(RuntimeError):
        UAVEffectiveCapacityEnv(config="small").step(np.zeros(8))


def test_render_modes():
    env = make(render_mode="ansi")
    env.reset(seed=0)
    env.step(np.zeros(8, np.float32))
    text = env.render()
    assert re.fullmatch(r"slot 1/5 q=\(\d+\.\d,\d+\.\d\) J=\d+\.\d\d EC=\[[\d. ]+\] gain/Γ=1\.00 p_s=\d\.\d\dW feasible", text), text
    env = make(render_mode="rgb_array")
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.ones(8, np.float32))
    img = env.render()
    assert img.shape == (400, 400, 3) and img.dtype == np.uint8
    assert np.any(np.all(img == (20, 160, 40), axis=2)) and np.any(np.all(img == (30, 60, 220), axis=2))


def test_solver_policy_through_env_static():
    """SolverPolicy acts with encode_action(AO); the env scores decode(encode(AO)) (C9: within 0.5)."""
    from baselines.uav_effective_capacity import ao

    env = make(num_slots=1, uav_speed_max=math.inf)
    obs, info = env.reset(seed=0)
    policy = SolverPolicy(ao.solve, env, replan=ao.users_moved)
    action = policy.act(obs, info)
    native = m.evaluate(env.unwrapped.params, info["instance"], policy.decision)
    projected = m.evaluate(env.unwrapped.params, info["instance"], env.unwrapped.decode_action(action))
    _, r, _, _, info2 = env.step(action)
    assert info2["objective"] == projected.objective
    assert info2["feasible"] and native.feasible
    assert projected.objective >= native.objective - 0.5


def test_solver_policy_replans_only_when_users_move():
    from baselines.uav_effective_capacity import random_deployment as rd

    for speed, calls in ((0.0, 1), (1.0, 5)):
        env = make(user_speed=speed)
        policy = SolverPolicy(rd.solve, env, replan=rd.users_moved)
        obs, info = env.reset(seed=0)
        done = False
        while not done:
            obs, _, term, trunc, info = env.step(policy.act(obs, info))
            done = term or trunc
        assert policy.solver_calls == calls
