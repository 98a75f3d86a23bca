"""Multi-agent batching: envs x agents in one SB3 VecEnv, native path == PettingZoo path; swarm scale."""

import importlib

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import isac_envs  # noqa: F401
from agents.multiagent import ParallelEnvVec
from agents.systems import get_system
from agents.trained import make_parallel_env
from agents.training import build_train_vec_env
from agents.vec import AgentBatchVecEnv, VectorEnvAdapter

SYSTEM = "cell_free_sat_uav"


def _sync_same_step(env_id):
    """A stand-in native vector env (SyncVectorEnv, SAME_STEP) for ids whose vector.py has not landed."""
    def make(num_envs, **kwargs):
        return SyncVectorEnv([lambda: gym.make(env_id, disable_env_checker=True, **kwargs)] * num_envs,
                             autoreset_mode=AutoresetMode.SAME_STEP)
    return make


@pytest.fixture
def native(monkeypatch):
    """Give the CSUN id a vector entry point and the parallel module its batched hooks, if missing."""
    system = get_system(SYSTEM)
    spec = gym.spec(system.env_id)
    if spec.vector_entry_point is None:
        monkeypatch.setattr(spec, "vector_entry_point", _sync_same_step(system.env_id))
    module = importlib.import_module(f"isac_envs.{SYSTEM}.parallel")

    def batch_agent_observations(params, vec_obs):
        m = params.num_uavs
        eye = np.broadcast_to(np.eye(m, dtype=np.float32), (len(vec_obs), m, m))
        return np.concatenate([np.repeat(vec_obs[:, None, :], m, axis=1), eye], axis=2)

    def batch_joint_action(params, agent_actions):
        return np.stack([module.joint_action(params, a) for a in agent_actions])

    for name, fn in (("batch_agent_observations", batch_agent_observations), ("batch_joint_action", batch_joint_action)):
        if not hasattr(module, name):
            monkeypatch.setattr(module, name, fn, raising=False)
    return system


def _play(vec, steps, seed=5):
    rng = np.random.default_rng(seed)
    out = [vec.reset()]
    for _ in range(steps):
        out.append(vec.step(rng.uniform(-1, 1, size=(vec.num_envs, *vec.action_space.shape)).astype(np.float32)))
    return out


def test_native_agent_batch_equals_pettingzoo_copies(native):
    opts = dict(num_uavs=3)
    nat, kind = build_train_vec_env(native, "small", 2, seed=1, multiagent=True, env_options=opts, vector="native")
    ref, ref_kind = build_train_vec_env(native, "small", 2, seed=1, multiagent=True, env_options=opts, vector="per-env")
    assert (kind, ref_kind) == ("native-agents", "pettingzoo")
    assert isinstance(nat, AgentBatchVecEnv) and isinstance(ref, ParallelEnvVec)
    assert nat.num_envs == ref.num_envs == 6
    length = make_parallel_env(native, "small", **opts).params.num_groups
    a, b = _play(ref, length), _play(nat, length)  # the first episode: same training seeds on both paths
    np.testing.assert_array_equal(a[0], b[0])
    for t, ((o1, r1, d1, i1), (o2, r2, d2, i2)) in enumerate(zip(a[1:], b[1:]), start=1):
        np.testing.assert_allclose(r2, r1, rtol=1e-12)
        np.testing.assert_array_equal(d2, d1)
        assert d1.all() == (t == length)
        if t < length:
            np.testing.assert_allclose(o2, o1, rtol=1e-6, atol=1e-6)
        else:  # episode end: the agents' terminal observations, then a new (autoreset) episode
            for x, y in zip(i1, i2):
                np.testing.assert_allclose(y["terminal_observation"], x["terminal_observation"], rtol=1e-6, atol=1e-6)
                assert y["TimeLimit.truncated"] == x["TimeLimit.truncated"]
            assert np.isfinite(o2).all() and not np.allclose(o2, b[0])


def test_agent_batch_rewards_are_the_team_reward(native):
    nat, _ = build_train_vec_env(native, "small", 3, seed=0, multiagent=True, env_options=dict(num_uavs=4),
                                 vector="native")
    _, rewards, _, _ = _play(nat, 1)[1]
    per_env = rewards.reshape(3, 4)
    assert (per_env == per_env[:, :1]).all() and len(np.unique(per_env[:, 0])) == 3


def test_fallback_without_native_vector_env(monkeypatch):
    system = get_system("device_free_localization")
    monkeypatch.setattr(gym.spec(system.env_id), "vector_entry_point", None)
    vec, kind = build_train_vec_env(system, "small", 2, seed=0, multiagent=False)
    assert kind == "per-env" and not isinstance(vec, VectorEnvAdapter)
    vec, kind = build_train_vec_env(system, "small", 2, seed=0, multiagent=True)
    assert kind == "pettingzoo" and vec.num_envs == 6
    with pytest.raises(ValueError, match="native"):
        build_train_vec_env(system, "small", 2, seed=0, multiagent=False, vector="native")
    with pytest.raises(ValueError, match="vector must be"):
        build_train_vec_env(system, "small", 2, seed=0, multiagent=False, vector="fast")


def test_native_single_agent_path_starts_from_the_same_training_seeds(monkeypatch):
    system = get_system("device_free_localization")
    spec = gym.spec(system.env_id)
    if spec.vector_entry_point is None:
        monkeypatch.setattr(spec, "vector_entry_point", _sync_same_step(system.env_id))
    nat, kind = build_train_vec_env(system, "small", 3, seed=2, multiagent=False)
    ref, _ = build_train_vec_env(system, "small", 3, seed=2, multiagent=False, vector="per-env")
    assert kind == "native"
    a, b = _play(ref, 8), _play(nat, 8)
    np.testing.assert_allclose(b[0], a[0], rtol=1e-6, atol=1e-7)
    for (o1, r1, d1, i1), (o2, r2, d2, i2) in zip(a[1:], b[1:]):
        np.testing.assert_allclose(r2, r1, rtol=1e-9)
        np.testing.assert_array_equal(d2, d1)
    for x, y in zip(a[-1][3], b[-1][3]):  # the 8-slot episode ended in every env on both paths
        np.testing.assert_allclose(y["terminal_observation"], x["terminal_observation"], rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_mappo_trains_at_64_agents(tmp_path):
    from agents.cli import main as isac
    from agents.trained import read_run

    out = tmp_path / "swarm"
    assert isac(["train", "--multiagent", "--system", SYSTEM, "--env", "num_uavs=64", "--timesteps", "512",
                 "--n-envs", "2", "--eval-every", "512", "--eval-episodes", "1", "--no-progress",
                 "--out", str(out)]) == 0
    run = read_run(out)
    assert run["env_options"] == {"num_uavs": 64} and run["multiagent"]
    assert 512 <= run["trained_timesteps"] <= 2 * 512  # a rollout never exceeds the run
    assert np.isfinite(run["final_validation_objective"])
    par = make_parallel_env(get_system(SYSTEM), "small", num_uavs=64)
    assert len(par.possible_agents) == 64


def _params(run_dir):
    from stable_baselines3 import PPO

    return [p.detach().numpy().copy() for p in PPO.load(run_dir / "model.zip", device="cpu").policy.parameters()]


@pytest.mark.slow
def test_isac_train_through_a_native_vector_env_is_deterministic(monkeypatch, tmp_path):
    from agents.trained import read_run
    from agents.training import train

    system = get_system("device_free_localization")
    spec = gym.spec(system.env_id)
    if spec.vector_entry_point is None:
        monkeypatch.setattr(spec, "vector_entry_point", _sync_same_step(system.env_id))
    kw = dict(config="small", timesteps=64, n_envs=2, seed=3, eval_every=64, eval_episodes=1, progress=False)
    a, b = train(system.name, out=tmp_path / "a", **kw), train(system.name, out=tmp_path / "b", **kw)
    assert read_run(a)["vector_env"] == "native"
    for x, y in zip(_params(a), _params(b)):
        np.testing.assert_array_equal(x, y)
    assert (a / "curve.csv").read_text() == (b / "curve.csv").read_text()
    c = train(system.name, out=tmp_path / "c", **{**kw, "seed": 4})
    assert any(not np.array_equal(x, y) for x, y in zip(_params(a), _params(c)))


def test_isac_train_multiagent_over_the_native_vector_env(native, tmp_path):
    from agents.trained import load_agent, read_run
    from agents.training import train

    out = train(SYSTEM, multiagent=True, config="small", timesteps=48, n_envs=2, seed=0, eval_every=48,
                eval_episodes=1, progress=False, env_options=dict(num_uavs=3), out=tmp_path / "ma")
    run = read_run(out)
    assert run["vector_env"] == "native-agents" and run["trained_timesteps"] >= 48
    assert load_agent(out).multiagent


@pytest.mark.parametrize("name", ["device_free_localization", "multi_uav_isac", "cell_free_sat_uav"])
def test_system_hooks_over_its_native_vector_env_equal_the_pettingzoo_env(name):
    """With the system's own native vector env and batched hooks (skipped until they exist): the first
    episode of every copy (same training seeds on both paths) is the PettingZoo env's, agent by agent,
    including the terminal observations (DFL: with the last slot's feedback)."""
    system = get_system(name)
    module = importlib.import_module(type(make_parallel_env(system, "small")).__module__)
    if gym.spec(system.env_id).vector_entry_point is None or not hasattr(module, "batch_joint_action"):
        pytest.skip(f"{name}: no native vector env / batched hooks on this branch")
    nat, kind = build_train_vec_env(system, "small", 3, seed=1, multiagent=True, vector="native")
    ref, _ = build_train_vec_env(system, "small", 3, seed=1, multiagent=True, vector="per-env")
    assert kind == "native-agents"
    length = gym.make(system.env_id, config="small").spec.max_episode_steps or 0
    a = _play(ref, 64)
    b = _play(nat, 64)
    np.testing.assert_allclose(b[0], a[0], rtol=1e-6, atol=1e-6)
    for (o1, r1, d1, i1), (o2, r2, d2, i2) in zip(a[1:], b[1:]):
        np.testing.assert_allclose(r2, r1, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(d2, d1)
        if d1.any():  # end of the first episode: terminal observations agree, then the paths' seeds differ
            for x, y in zip(i1, i2):
                np.testing.assert_allclose(y["terminal_observation"], x["terminal_observation"], rtol=1e-6, atol=1e-6)
            break
        np.testing.assert_allclose(o2, o1, rtol=1e-6, atol=1e-6)
    else:
        pytest.fail(f"no episode ended in 64 steps (max_episode_steps={length})")
