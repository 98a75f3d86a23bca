"""cell_free_sat_uav Gymnasium env: checkers, codec round trip, reward-sum identity (check 13), determinism, bad input."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import isac_envs  # noqa: F401
from baselines.cell_free_sat_uav import algorithm3
from baselines.policy import SolverPolicy
from isac_envs.cell_free_sat_uav import model as m
from isac_envs.cell_free_sat_uav.env import CellFreeSatUAVEnv

ENV_ID = "isac_envs/CellFreeSatUAV-v0"


@pytest.mark.parametrize("kw", [dict(config="small"), dict(), dict(config="small", observation="full"),
                                dict(config="small", enforce_interference=False, objective_mode="maxmin")])
def test_checkers(kw):
    check_env(gym.make(ENV_ID, render_mode="rgb_array", **kw).unwrapped, skip_render_check=False)
    sb3_check_env(gym.make(ENV_ID, **kw).unwrapped)


def test_spaces_default_and_small():
    env = CellFreeSatUAVEnv()
    assert env.observation_space.shape == (319,) and env.action_space.shape == (81,)
    env = CellFreeSatUAVEnv(config="small", observation="full")
    assert env.observation_space.shape == (48 + 2 * 2 * 3 * 4,)


def _play(env, decision_fn, seed):
    obs, info = env.reset(seed=seed)
    decision = decision_fn(env.unwrapped.params, info["instance"])
    total, done = 0.0, False
    while not done:
        obs, r, term, trunc, info = env.step(env.unwrapped.encode_action(decision))
        assert env.observation_space.contains(obs)
        total += r
        done = term or trunc
    return decision, total, info


@pytest.mark.parametrize("config,seed", [("paper", 0), ("small", 3)])
def test_codec_round_trip_reward_sum_identity(config, seed):
    env = gym.make(ENV_ID, config=config)
    decision, total, info = _play(env, algorithm3.solve, seed)
    ev = m.evaluate(env.unwrapped.params, env.unwrapped.instance, decision)
    assert ev.feasible and info["feasible"]
    assert total == pytest.approx(ev.objective, rel=1e-4)            # acceptance check 13
    assert info["objective"] == pytest.approx(ev.objective, rel=1e-4)
    final = info["decision"]
    assert np.array_equal(final.assignment, decision.assignment)
    assert np.allclose(final.power, decision.power, rtol=1e-5, atol=1e-8)   # float32 action rounding
    assert np.allclose(final.hover_time, decision.hover_time, rtol=1e-5)
    if config == "paper":
        assert total == pytest.approx(114.2627, abs=0.05)            # spec's prototype value, seed 0


def test_solver_policy_reproduces_evaluate():
    env = gym.make(ENV_ID, config="small")
    pol = SolverPolicy(algorithm3.solve, env, replan="episode")
    obs, info = env.reset(seed=11)
    inst = info["instance"]
    done = False
    while not done:
        obs, r, term, trunc, info = env.step(pol.act(obs, info))
        done = term or trunc
    assert pol.solver_calls == 1
    ref = m.evaluate(env.unwrapped.params, inst, algorithm3.solve(env.unwrapped.params, inst))
    assert info["objective"] == pytest.approx(ref.objective, rel=1e-4)


def test_random_policy_feasible_and_scores_below_alg3():
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=0)
    alg3 = m.evaluate(env.unwrapped.params, info["instance"], algorithm3.solve(env.unwrapped.params, info["instance"]))
    rng = np.random.default_rng(0)
    scores = []
    for ep in range(4):
        env.reset(seed=0)
        done = False
        while not done:
            _, _, term, trunc, info = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
            assert info["feasible"] and sum(info["violations"].values()) <= 1e-12
            done = term or trunc
        scores.append(info["objective"])
    frac = np.mean(scores) / alg3.objective
    assert 0.4 <= frac <= 0.65              # spec: 40-65 % of Alg. 3 (57.4 vs 114.3 on seed 0)


def test_budgets_by_construction_with_extreme_actions():
    env = CellFreeSatUAVEnv(enforce_interference=False)
    env.reset(seed=5)
    done = False
    while not done:
        _, r, term, trunc, info = env.step(np.ones(env.action_space.shape, np.float32))
        done = term or trunc
    v = info["violations"]
    assert max(v["total_hover_time"], v["slot_hover_time"], v["energy"], v["max_power"]) <= 1e-12
    assert v["interference"] > 0 and not info["feasible"]        # back-off disabled: I_th violated, penalised
    assert info["metrics"]["total_hover_time_s"] == pytest.approx(300.0)


def test_maxmin_rewards_zero_until_last_step():
    env = CellFreeSatUAVEnv(config="small", objective_mode="maxmin")
    env.reset(seed=1)
    rewards = []
    act = -np.ones(env.action_space.shape, np.float32)
    act[[1, 2, 5, 6]] = 1.0                          # subchannels 0, 2 -> user 1, 1, 3 -> user 0
    act[8:20] = 0.5
    act[-1] = 0.0                                    # half of the remaining time
    for _ in range(2):
        _, r, term, _, info = env.step(act)
        rewards.append(r)
    assert rewards[0] == pytest.approx(0.0, abs=1e-9) and term
    assert rewards[1] == pytest.approx(info["metrics"]["efficiency_min"]) and rewards[1] > 0


def test_determinism_and_replay():
    def run(seed, instance=None):
        env = CellFreeSatUAVEnv(config="small")
        obs, info = env.reset(seed=seed, options={"instance": instance} if instance is not None else None)
        rng = np.random.default_rng(42)
        out = [obs]
        done = False
        while not done:
            obs, r, term, trunc, info = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
            out += [obs, np.array([r])]
            done = term or trunc
        return out, env.instance

    a, inst = run(9)
    b, _ = run(9)
    c, _ = run(123, instance=inst)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(np.array_equal(x, y) for x, y in zip(a, c))


def test_observation_blocks():
    env = CellFreeSatUAVEnv(config="small")
    obs, _ = env.reset(seed=0)
    p = env.params
    N, K, M, L = 2, 2, 3, 4
    off = N * K * M + N * M * L
    assert np.array_equal(obs[off:off + N], [1, 0])                          # slot one-hot
    assert obs[off + N] == 1.0 and np.all(obs[off + N + 1: off + N + 1 + M] == 1.0)   # time and energy left
    snr = 10 * np.log10(env.instance.gain_user.mean(axis=3) * p.max_power_w / p.noise_w) / 20
    assert np.allclose(obs[:N * K * M], np.clip(snr, -5, 5).ravel(), atol=1e-6)
    obs, *_ = env.step(np.zeros(env.action_space.shape, np.float32))
    assert np.array_equal(obs[off:off + N], [0, 1])
    t0 = env.committed.hover_time[0]
    assert obs[off + N] == pytest.approx(1 - t0 / p.total_hover_time_s, rel=1e-6)
    assert obs[off + N + 1 + M] == pytest.approx(t0 / p.max_slot_hover_time_s, rel=1e-6)


def test_bad_input():
    env = CellFreeSatUAVEnv(config="small")
    with pytest.raises(RuntimeError):
        env.step(np.zeros(21))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(20))
    bad = np.zeros(21)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        env.step(bad)
    with pytest.raises(ValueError, match="observation"):
        CellFreeSatUAVEnv(observation="partial")
    with pytest.raises(TypeError, match="enforce_interference"):
        CellFreeSatUAVEnv(enforce_interference="yes")
    with pytest.raises(ValueError, match="num_uavs"):
        CellFreeSatUAVEnv(num_uavs=0)
    with pytest.raises(ValueError, match="bogus"):
        CellFreeSatUAVEnv(bogus=1)
    with pytest.raises(ValueError):
        CellFreeSatUAVEnv(params=m.Params(), config="small")
    with pytest.raises(TypeError):
        env.reset(options={"instance": "not an instance"})
    with pytest.raises(ValueError, match="render_mode"):
        CellFreeSatUAVEnv(render_mode="human")


def test_render_modes():
    env = CellFreeSatUAVEnv(config="small", render_mode="ansi")
    env.reset(seed=0)
    env.step(np.zeros(21, np.float32))
    text = env.render()
    assert text.startswith("slot 0") and text.count("subch") == 4
    env = CellFreeSatUAVEnv(config="small", render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img.shape == (480, 480, 3) and img.dtype == np.uint8 and (img != 255).any()


def test_import_cost_stays_light():
    import subprocess
    import sys

    code = ("import sys, gymnasium as gym, isac_envs; e = gym.make('isac_envs/CellFreeSatUAV-v0'); e.reset(seed=0); "
            "e.step(e.action_space.sample()); "
            "print(','.join(m for m in ('cvxpy', 'torch', 'matplotlib', 'pettingzoo') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


@pytest.mark.parametrize("enforce", [True, False])
def test_decode_encode_decode_is_idempotent(enforce):
    env = CellFreeSatUAVEnv(enforce_interference=enforce)
    env.reset(seed=3)
    rng = np.random.default_rng(1)
    for _ in range(env.params.num_groups):
        act = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        d1 = env.decode_action(act)
        d2 = env.decode_action(env.encode_action(d1))
        n = env.slot
        assert np.array_equal(d1.assignment, d2.assignment)
        assert np.allclose(d1.power[n], d2.power[n], rtol=1e-5, atol=1e-7 * env.params.max_power_w)   # float32 action
        assert d1.hover_time[n] == pytest.approx(d2.hover_time[n], rel=1e-5, abs=1e-6)
        env.step(act)
