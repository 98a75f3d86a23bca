"""Native vector env of multi_uav_isac (issue 12, contract 5): gym.make_vec returns it, env i's episode
equals the single env's with seed s + i (observations, rewards, objective) across the same-step
autoreset, batched actions checked once, infos as documented."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import isac_envs  # noqa: F401
from isac_envs.multi_uav_isac import model, vector
from isac_envs.multi_uav_isac.vector import MultiUAVISACVectorEnv

ENV_ID = "isac_envs/MultiUAVISAC-v0"


def _close(a, b, rtol=1e-12):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.all(np.abs(a - b) <= rtol * np.maximum(1.0, np.abs(b)))


def test_make_vec_returns_native_env_with_single_spaces():
    venv = gym.make_vec(ENV_ID, num_envs=3, config="small", rho_min=0.3)
    assert isinstance(venv.unwrapped, MultiUAVISACVectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    single = gym.make(ENV_ID, config="small")
    assert venv.single_observation_space == single.observation_space
    assert venv.single_action_space == single.action_space
    assert venv.observation_space.shape == (3, 62) and venv.action_space.shape == (3, 24)
    assert venv.unwrapped.params.rho_min == 0.3 and venv.unwrapped.params.num_bs == 3


@pytest.mark.parametrize("config,n_envs,episodes,block", [("small", 4, 2.6, None), ("paper", 3, 1.3, None),
                                                          ("paper", 3, 2.2, 3)])
def test_each_env_equals_the_single_env_across_autoreset(config, n_envs, episodes, block, monkeypatch):
    if block is not None:    # mobility noise drawn 3 slots ahead: refills inside and across episodes
        monkeypatch.setattr(vector, "NOISE_BUFFER_FLOATS", n_envs * block * (2 * 18 + 1) * 3)
    venv = MultiUAVISACVectorEnv(n_envs, config=config)
    assert block is None or venv._block == block
    singles = [gym.make(ENV_ID, config=config) for _ in range(n_envs)]
    n_steps = int(episodes * venv.params.num_slots)
    rng = np.random.default_rng(7)
    actions = rng.uniform(-1.3, 1.3, (n_steps, n_envs, venv.single_action_space.shape[0]))
    obs, _ = venv.reset(seed=40)
    single_obs = [env.reset(seed=40 + i)[0] for i, env in enumerate(singles)]
    assert _close(obs, np.stack(single_obs))
    autoresets = 0
    for t in range(n_steps):
        obs, rew, term, trunc, info = venv.step(actions[t])
        assert obs.dtype == np.float32 and rew.dtype == np.float64 and not trunc.any()
        for i, env in enumerate(singles):
            o, r, te, tr, inf = env.step(actions[t, i])
            assert te == term[i] and _close(rew[i], r) and _close(info["objective"][i], inf["objective"])
            assert info["feasible"][i] == inf["feasible"] and info["slot"][i] == inf["slot"]
            assert all(_close(info["violations"][key][i], inf["violations"][key]) for key in model.VIOLATION_KEYS)
            if te:                               # SAME_STEP: final obs in the info, reset obs returned
                autoresets += 1
                assert info["_final_obs"][i] and _close(info["final_obs"][i], o)
                assert _close(info["final_info"]["objective"][i], inf["objective"])
                o, _ = env.reset()               # env i continues its own generator, no new seed
            assert _close(obs[i], o)
    assert autoresets >= n_envs


def test_seed_list_none_and_determinism():
    a = MultiUAVISACVectorEnv(3, config="small")
    o1, _ = a.reset(seed=[5, 9, 5])
    assert np.array_equal(o1[0], o1[2]) and not np.array_equal(o1[0], o1[1])
    single = gym.make(ENV_ID, config="small")
    assert _close(o1[1], single.reset(seed=9)[0])
    o2, _ = a.reset(seed=None)
    o3, _ = a.reset(seed=None)
    assert not np.array_equal(o2, o3)
    with pytest.raises(ValueError, match="num_envs=3"):
        a.reset(seed=[1, 2])


def test_batched_action_validation_and_infos():
    venv = MultiUAVISACVectorEnv(2, config="small")
    with pytest.raises(RuntimeError):
        venv.step(np.zeros((2, 24)))
    venv.reset(seed=0)
    for bad, err in ((np.zeros((2, 23)), ValueError), (np.zeros((1, 2, 24)), ValueError),
                     (np.zeros(48), ValueError), (np.full((2, 24), np.nan), ValueError),
                     (np.zeros((2, 24), complex), TypeError), (np.array([["a"] * 24] * 2), TypeError)):
        with pytest.raises(err):
            venv.step(bad)
    obs, rew, term, trunc, info = venv.step(np.zeros((2, 24), np.float32))
    for key in ("objective", "feasible", "slot", "rate_term", "sensing_term"):
        assert info[key].shape == (2,) and info["_" + key].all()
    assert "instance" not in info and "metrics" not in info
    assert np.allclose(rew, info["objective"] - 2.0 * sum(info["violations"][k] for k in model.VIOLATION_KEYS))
    with pytest.raises(ValueError, match="num_envs"):
        MultiUAVISACVectorEnv(0)
    with pytest.raises(ValueError, match="render_mode"):
        MultiUAVISACVectorEnv(2, render_mode="rgb_array")
    with pytest.raises(ValueError, match="num_bs"):
        MultiUAVISACVectorEnv(2, num_bs=0)


def test_vector_env_at_swarm_scale_matches_single():
    venv = MultiUAVISACVectorEnv(2, num_bs=128, num_slots=2)
    single = gym.make(ENV_ID, num_bs=128, num_slots=2)
    obs, _ = venv.reset(seed=3)
    o1, _ = single.reset(seed=4)
    assert _close(obs[1], o1)
    a = np.random.default_rng(0).uniform(-1, 1, (2, venv.single_action_space.shape[0]))
    for _ in range(3):
        obs, rew, term, _, info = venv.step(a)
        o1, r1, t1, _, i1 = single.step(a[1])
        if t1:
            o1, _ = single.reset()
        assert _close(rew[1], r1) and _close(obs[1], o1) and term[1] == t1 and np.all(np.isfinite(obs))
