"""Native vector env of UAVEffectiveCapacity-v1 (contract 5): registration, spaces, per-env
equivalence with the single env (1e-12) across the SAME_STEP autoreset, seeding, bad actions."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import isac_envs  # noqa: F401
from isac_envs.uav_effective_capacity.vector import UAVEffectiveCapacityEnvVector

ENV_ID = "isac_envs/UAVEffectiveCapacity-v1"
KW = dict(config="small", num_samples=12)


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))) if a.size else 0.0


def test_make_vec_returns_native_env_with_single_spaces():
    venv = gym.make_vec(ENV_ID, num_envs=4, **KW)
    assert isinstance(venv, UAVEffectiveCapacityEnvVector)
    single = gym.make(ENV_ID, **KW)
    assert venv.single_action_space == single.action_space
    assert venv.single_observation_space == single.observation_space
    assert venv.action_space.shape == (4, 29) and venv.observation_space.shape == (4, 43)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert venv.params == single.unwrapped.params


@pytest.mark.parametrize("basis", ["channel", "antenna"])
def test_each_env_reproduces_the_single_env_across_autoreset(basis):
    B, L = 3, 12
    venv = gym.make_vec(ENV_ID, num_envs=B, action_basis=basis, **KW)
    envs = [gym.make(ENV_ID, action_basis=basis, **KW) for _ in range(B)]
    obs, info = venv.reset(seed=40)
    single = np.stack([e.reset(seed=40 + i)[0] for i, e in enumerate(envs)])
    assert rel(obs, single) <= 1e-12 and np.all(info["slot"] == 0)
    rng = np.random.default_rng(0)
    autoresets = 0
    for t in range(2 * (L + 1) + 3):  # two full episodes and the start of a third
        a = rng.uniform(-1.2, 1.2, (B, 29)).astype(np.float32)
        obs, r, term, trunc, info = venv.step(a)
        res = [e.step(a[i]) for i, e in enumerate(envs)]
        assert rel(r, [x[1] for x in res]) <= 1e-12
        assert np.array_equal(term, [x[2] for x in res]) and not np.any(trunc)
        step_info = info["final_info"] if term[0] else info
        assert rel(step_info["objective"], [x[4]["objective"] for x in res]) <= 1e-12
        assert np.array_equal(step_info["feasible"], [x[4]["feasible"] for x in res])
        assert np.array_equal(step_info["slot"], [x[4]["slot"] for x in res])
        if term[0]:
            autoresets += 1
            assert np.all(info["_final_obs"]) and np.all(info["_final_info"])
            assert rel(np.stack(info["final_obs"]), np.stack([x[0] for x in res])) <= 1e-12
            m_single = res[0][4]["metrics"]
            assert rel([step_info["metrics"][k][0] for k in m_single], list(m_single.values())) <= 1e-12
            single = np.stack([e.reset()[0] for e in envs])  # own generator, no new seed
            assert rel(obs, single) <= 1e-12 and np.all(info["slot"] == 0)
        else:
            assert rel(obs, np.stack([x[0] for x in res])) <= 1e-12
    assert autoresets == 2


def test_seeding_lists_none_and_determinism():
    venv = gym.make_vec(ENV_ID, num_envs=2, **KW)
    o1, _ = venv.reset(seed=[5, 9])
    o2 = np.stack([gym.make(ENV_ID, **KW).reset(seed=s)[0] for s in (5, 9)])
    np.testing.assert_array_equal(o1, o2)
    a, _ = venv.reset(seed=3)
    b, _ = venv.reset(seed=3)
    np.testing.assert_array_equal(a, b)
    venv.reset(seed=None)
    with pytest.raises(ValueError, match="seed"):
        venv.reset(seed=[1, 2, 3])


def test_bad_actions_and_arguments():
    venv = gym.make_vec(ENV_ID, num_envs=2, **KW)
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(np.zeros((2, 29)))
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2, 29\)"):
        venv.step(np.zeros((1, 29)))
    with pytest.raises(ValueError, match=r"shape \(2, 29\)"):
        venv.step(np.zeros((2, 29, 1)))
    with pytest.raises(ValueError, match="non-finite"):
        venv.step(np.full((2, 29), np.nan))
    with pytest.raises(TypeError, match="real numeric"):
        venv.step(np.zeros((2, 29), complex))
    with pytest.raises(ValueError, match="num_envs"):
        UAVEffectiveCapacityEnvVector(0, **KW)
    with pytest.raises(ValueError, match="p_max"):
        UAVEffectiveCapacityEnvVector(2, config="small", p_max=-1.0)
