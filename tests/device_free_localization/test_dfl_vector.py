"""Native vector env (contract 5, issue 12): every env of the batch replays the single env's episode."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

import isac_envs  # noqa: F401
from isac_envs.device_free_localization import model
from isac_envs.device_free_localization.vector import DeviceFreeLocalizationVectorEnv

V1, V0 = "isac_envs/DeviceFreeLocalization-v1", "isac_envs/DeviceFreeLocalization-v0"
pytestmark = pytest.mark.filterwarnings("ignore:.*is out of date:DeprecationWarning")


def single_rollout(env_id, seed, actions, **kw):
    """The single env's episode stream from reset(seed), auto-resetting with reset() (no seed) like SyncVectorEnv."""
    env = gym.make(env_id, **kw)
    obs, _ = env.reset(seed=seed)
    out = {"obs": [obs], "rew": [], "obj": [], "feas": [], "trunc": [], "final": []}
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out["rew"].append(r), out["obj"].append(info["objective"]), out["feas"].append(info["feasible"])
        out["trunc"].append(trunc)
        if trunc:
            out["final"].append(obs)
            obs, _ = env.reset()
        out["obs"].append(obs)
    return {k: np.array(v) for k, v in out.items()}


def vector_rollout(venv, seed, actions):
    obs, _ = venv.reset(seed=seed)
    out = {"obs": [obs], "rew": [], "obj": [], "feas": [], "trunc": [], "final": []}
    for a in actions:
        obs, r, term, trunc, info = venv.step(a)
        assert not term.any()
        # SyncVectorEnv: a reset env's step info is only in final_info; the native env also keeps it on top
        obj = np.where(info.get("_objective", np.zeros(len(r), bool)), info.get("objective", 0.0), np.nan)
        feas = np.where(info.get("_feasible", np.zeros(len(r), bool)), info.get("feasible", False), False)
        if trunc.any():
            assert (info["_final_obs"] == trunc).all() and (info["_final_info"] == trunc).all()
            out["final"].append(np.stack(info["final_obs"][trunc]))
            obj[trunc] = info["final_info"]["objective"][trunc]
            feas[trunc] = info["final_info"]["feasible"][trunc]
        out["rew"].append(r), out["obj"].append(obj), out["feas"].append(feas), out["trunc"].append(trunc)
        out["obs"].append(obs)
    return out


@pytest.mark.parametrize("env_id", [V1])
def test_make_vec_returns_native_env_with_single_spaces(env_id):
    venv = gym.make_vec(env_id, num_envs=3, config="small")
    single = gym.make(env_id, config="small")
    assert isinstance(venv, DeviceFreeLocalizationVectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert venv.single_observation_space == single.observation_space
    assert venv.single_action_space == single.action_space
    assert venv.observation_space == batch_space(single.observation_space, 3)
    assert venv.action_space == batch_space(single.action_space, 3)
    assert venv.params == single.unwrapped.params
    sync_v0 = gym.make_vec(V0, num_envs=2)  # v0 (spec's per-slot draws): SyncVectorEnv, 40 dB span
    assert not isinstance(sync_v0, DeviceFreeLocalizationVectorEnv)


@pytest.mark.parametrize("env_id,length,steps", [(V1, 4, 11), (V1, 20, 45)])  # 20 slots: block refills
def test_every_env_replays_the_single_env_across_autoreset(env_id, length, steps):
    n, seed = 5, 123
    actions = np.random.default_rng(0).uniform(-1.3, 1.3, (steps, n, 3)).astype(np.float32)
    venv = gym.make_vec(env_id, num_envs=n, episode_length=length, si_level_db=-100.0)
    vec = vector_rollout(venv, seed, actions)
    assert vec["obs"][0].dtype == np.float32 and vec["rew"][0].dtype == np.float64 and vec["obs"][0].shape == (n, 34)
    for i in range(n):
        ref = single_rollout(env_id, seed + i, actions[:, i], episode_length=length, si_level_db=-100.0)
        np.testing.assert_allclose(np.array(vec["obs"])[:, i], ref["obs"], rtol=1e-12, atol=0)
        np.testing.assert_allclose(np.array(vec["rew"])[:, i], ref["rew"], rtol=1e-12)
        np.testing.assert_allclose(np.array(vec["obj"])[:, i], ref["obj"], rtol=1e-12)
        np.testing.assert_array_equal(np.array(vec["feas"])[:, i], ref["feas"])
        np.testing.assert_array_equal(np.array(vec["trunc"])[:, i], ref["trunc"])
        np.testing.assert_allclose(np.array(vec["final"])[:, i], ref["final"], rtol=1e-12)


def test_matches_sync_vector_env_and_seed_conventions():
    n, steps = 3, 9
    actions = np.random.default_rng(1).uniform(-1, 1, (steps, n, 3)).astype(np.float32)
    native = gym.make_vec(V1, num_envs=n, config="small")
    sync = gym.make_vec(V1, num_envs=n, config="small", vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
    for seed in (7, [3, 1, 4]):
        a, b = vector_rollout(native, seed, actions), vector_rollout(sync, seed, actions)
        for k in ("obs", "rew", "obj", "feas", "trunc", "final"):
            np.testing.assert_allclose(np.array(a[k], float), np.array(b[k], float), rtol=1e-12)
    # reset(seed=None) keeps each env's generator, as SyncVectorEnv does
    o1, _ = native.reset(seed=None)
    o2, _ = sync.reset(seed=None)
    np.testing.assert_allclose(o1, o2, rtol=1e-12)


def test_info_arrays_come_from_evaluate():
    venv = DeviceFreeLocalizationVectorEnv(2, config="small")
    single = gym.make(V1, config="small").unwrapped
    venv.reset(seed=5)
    _, info = single.reset(seed=6)
    a = np.array([[0.9, 0.8, 1.0], [0.7, -0.2, 1.0]], dtype=np.float32)
    _, r, _, _, vinfo = venv.step(a)
    ev = model.evaluate(single.params, info["instance"], single.decode_action(a[1]))
    assert vinfo["objective"][1] == pytest.approx(ev.objective, rel=1e-12)
    assert vinfo["c1_comm_sinr"][1] == pytest.approx(ev.violations["c1_comm_sinr"], rel=1e-12, abs=1e-15)
    assert vinfo["feasible"][1] == ev.feasible and vinfo["slot"].tolist() == [0, 0]
    assert r[1] == pytest.approx(ev.penalised(2.0), rel=1e-12)
    np.testing.assert_allclose(vinfo["tx_power_w"][1], single.decode_action(a[1]).tx_power_w, rtol=1e-15)


@pytest.mark.parametrize("actions,exc,match", [
    (np.zeros((2, 4)), ValueError, "shape"),
    (np.zeros(3), ValueError, "shape"),
    (np.array([[0.0, np.nan, 0.0], [0, 0, 0]]), ValueError, "non-finite"),
    ("abc", TypeError, "actions"),
])
def test_bad_batch_actions_raise(actions, exc, match):
    venv = DeviceFreeLocalizationVectorEnv(2)
    venv.reset(seed=0)
    with pytest.raises(exc, match=match):
        venv.step(actions)


def test_constructor_and_reset_errors():
    with pytest.raises(ValueError, match="num_envs"):
        DeviceFreeLocalizationVectorEnv(0)
    with pytest.raises(ValueError, match="max_power_dbm"):
        DeviceFreeLocalizationVectorEnv(2, max_power_dbm=1e300)
    venv = DeviceFreeLocalizationVectorEnv(2)
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="seed list"):
        venv.reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match="option"):
        venv.reset(seed=0, options={"instance": None})


def test_batched_reflection_is_the_scalar_one():
    rng = np.random.default_rng(0)
    a = model.Params().apothem_m
    xy, v = rng.uniform(-1.6 * a, 1.6 * a, (400, 2)), rng.normal(size=(400, 2))
    bx, bv = model.reflect_in_hexagon_batch(xy, v, a)
    for i in range(400):
        sx, sv = model.reflect_in_hexagon(xy[i], v[i], a)
        np.testing.assert_array_equal(bx[i], sx)
        np.testing.assert_array_equal(bv[i], sv)


def test_batch_multiagent_hooks_replay_the_parallel_env():
    """Native vector env + batch_agent_observations/batch_feedback/batch_joint_action == the PettingZoo env."""
    from isac_envs.device_free_localization.parallel import batch_agent_observations, batch_feedback, batch_joint_action
    from isac_envs.multiagent import device_free_localization_v1 as m

    n, steps, seed = 3, 7, 40
    venv = DeviceFreeLocalizationVectorEnv(n, episode_length=3)
    pars = [m.parallel_env(episode_length=3) for _ in range(n)]
    agent_actions = np.random.default_rng(2).uniform(-1.2, 1.2, (steps, n, 3, 1)).astype(np.float32)
    vobs, _ = venv.reset(seed=seed)
    local = batch_agent_observations(venv.params, vobs)
    pobs = [p.reset(seed=seed + i)[0] for i, p in enumerate(pars)]
    for t in range(steps):
        for i, p in enumerate(pars):
            np.testing.assert_array_equal(local[i], np.stack([pobs[i][a] for a in p.possible_agents]))
        joint = batch_joint_action(venv.params, agent_actions[t])
        vobs, rew, _, trunc, info = venv.step(joint)
        previous = batch_feedback(venv.params, info["range_std_m"], info["comm_sinr_db"], joint)
        previous[trunc] = 0.0  # a reset env starts without feedback
        local = batch_agent_observations(venv.params, vobs, previous)
        for i, p in enumerate(pars):
            out = p.step({a: agent_actions[t, i, b] for b, a in enumerate(p.possible_agents)})
            assert out[1]["bs_0"] == pytest.approx(rew[i], rel=1e-12)
            if trunc[i]:
                out = (p.reset()[0],)
            pobs[i] = out[0]
    with pytest.raises(ValueError, match="vec_obs"):
        batch_agent_observations(venv.params, np.zeros(34))
    with pytest.raises(ValueError, match="agent_actions"):
        batch_joint_action(venv.params, np.zeros((2, 3)))
