"""cell_free_sat_uav native vector env (issue 12, contract 5): gym.make_vec returns it and env i's episode equals
the single env's with seed s + i (observations, rewards, objective), across the SAME_STEP autoreset."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import isac_envs  # noqa: F401
from isac_envs.cell_free_sat_uav.vector import CellFreeSatUAVVectorEnv

ENV_ID = "isac_envs/CellFreeSatUAV-v0"


@pytest.mark.parametrize("kw", [dict(config="small"), dict(), dict(config="small", observation="full", num_rx_antennas=3),
                                dict(config="small", objective_mode="maxmin", enforce_interference=False, penalty=5.0)])
@pytest.mark.parametrize("seed", [7, [3, 11, 5]])
def test_episodes_equal_single_env(kw, seed):
    B = 3
    venv = gym.make_vec(ENV_ID, num_envs=B, **kw)
    assert isinstance(venv, CellFreeSatUAVVectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    singles = [gym.make(ENV_ID, **kw) for _ in range(B)]
    assert venv.single_observation_space == singles[0].observation_space
    assert venv.single_action_space == singles[0].action_space
    seeds = [seed + i for i in range(B)] if isinstance(seed, int) else seed
    obs, _ = venv.reset(seed=seed)
    ref = np.stack([e.reset(seed=s)[0] for e, s in zip(singles, seeds)])
    np.testing.assert_allclose(obs, ref, rtol=1e-12, atol=0)
    rng = np.random.default_rng(0)
    N = singles[0].unwrapped.params.num_groups
    for t in range(2 * N + 1):                                         # crosses one autoreset
        acts = rng.uniform(-1.1, 1.1, venv.action_space.shape).astype(np.float32)
        obs, rew, term, trunc, info = venv.step(acts)
        assert obs.dtype == np.float32 and rew.dtype == np.float64 and term.dtype == bool and not trunc.any()
        for i, e in enumerate(singles):
            o1, r1, d1, _, i1 = e.step(acts[i])
            assert term[i] == d1 and info["slot"][i] == i1["slot"] and info["feasible"][i] == i1["feasible"]
            assert rew[i] == pytest.approx(r1, rel=1e-12, abs=1e-12)
            assert info["objective"][i] == pytest.approx(i1["objective"], rel=1e-12, abs=1e-12)
            if d1:
                assert info["_final_obs"][i] and info["_final_info"][i]
                np.testing.assert_allclose(info["final_obs"][i], o1, rtol=1e-12, atol=0)
                assert info["final_info"]["objective"][i] == pytest.approx(i1["objective"], rel=1e-12)
                o1, _ = e.reset()                                       # own generator, no new seed
            np.testing.assert_allclose(obs[i], o1, rtol=1e-12, atol=0)


def test_bad_input_and_hybrid_refused():
    with pytest.raises(ValueError, match="hybrid"):
        gym.make_vec(ENV_ID, num_envs=2, action_mode="hybrid")
    with pytest.raises(ValueError, match="num_envs"):
        CellFreeSatUAVVectorEnv(0)
    with pytest.raises(ValueError, match="num_uavs"):
        CellFreeSatUAVVectorEnv(2, num_uavs=0)
    venv = CellFreeSatUAVVectorEnv(2, config="small")
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(np.zeros((2, 21)))
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        venv.step(np.zeros((2, 20)))
    with pytest.raises(ValueError, match="shape"):
        venv.step(np.zeros(42))
    bad = np.zeros((2, 21))
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        venv.step(bad)
    with pytest.raises(TypeError, match="dtype"):
        venv.step(np.zeros((2, 21), complex))


def test_unseeded_reset_differs_and_seeded_repeats():
    venv = CellFreeSatUAVVectorEnv(2, config="small")
    a, _ = venv.reset(seed=1)
    b, _ = venv.reset(seed=1)
    c, _ = venv.reset()
    assert np.array_equal(a, b) and not np.array_equal(a, c)
