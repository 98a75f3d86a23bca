"""Ray RLlib backend (``pip install -e ".[rllib]"``; .ci/rllib.sh runs this in its own venv).

One RLlib PPO training iteration on a local Ray instance (2 CPUs) for one single-agent and one
multi-agent env; the exported policy reproduces the RLModule's deterministic action and is scored
by the project's evaluation like any agent. Skipped when Ray RLlib is not installed.
"""

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.rllib")
torch = pytest.importorskip("torch")

from agents.cli import main as isac  # noqa: E402
from agents.evaluation import make_env, run_policy  # noqa: E402
from agents.rllib_backend import POLICY_FILE, RLlibActor, make_rllib_env, train_rllib  # noqa: E402
from agents.seeds import TRAIN_SEEDS, eval_seeds  # noqa: E402
from agents.systems import get_system  # noqa: E402
from agents.trained import load_agent, read_run  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False)  # never a stale cluster address
    yield
    ray.shutdown()


def _module_action(run_dir, module_id, obs):
    """The RLModule restored from the RLlib checkpoint: deterministic (mean) action, clipped like RLlib."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    path = run_dir / "checkpoints" / "final" / "learner_group" / "learner" / "rl_module" / module_id
    module = RLModule.from_checkpoint(str(path))
    with torch.no_grad():
        out = module.forward_inference({"obs": torch.as_tensor(obs)})
    logits = out["action_dist_inputs"].numpy()
    return np.clip(logits[:, : logits.shape[1] // 2], -1.0, 1.0)


def test_single_agent_one_iteration(local_ray, tmp_path):
    system = get_system("device_free_localization")
    out = train_rllib(system.name, config="small", timesteps=256, seed=0, out=tmp_path / "sa", num_env_runners=1,
                      eval_episodes=1, progress=False, train_batch_size=256, batch_size=128, n_epochs=2)
    for name in ("run.yaml", "curve.csv", "learning_curve.png", POLICY_FILE, "eval_check.json"):
        assert (out / name).exists(), name
    assert (out / "checkpoints" / "final").is_dir()
    run = read_run(out)
    assert run["backend"] == "rllib" and run["trained_timesteps"] >= 256 and run["env_steps_per_second"] > 0
    assert run["rllib"]["num_env_runners"] == 1  # sampled by a remote worker: the env id resolved there

    env = make_env(system, "small")
    obs = np.stack([env.reset(seed=s)[0] for s in range(16)]).astype(np.float32)
    actor = RLlibActor.load(out / POLICY_FILE, "default_policy", env.action_space)
    np.testing.assert_allclose(actor(obs), _module_action(out, "default_policy", obs), rtol=1e-5, atol=1e-5)

    pol = load_agent(out)
    a = run_policy(env, pol, eval_seeds(2), system.episode_objective)
    b = run_policy(env, load_agent(out), eval_seeds(2), system.episode_objective)
    assert [r.objective for r in a] == [r.objective for r in b] and all(np.isfinite(r.objective) for r in a)

    res = tmp_path / "res"
    assert isac(["leaderboard", "--system", system.name, "--episodes", "1", "--only", "initial_condition",
                 "--agents", str(out), "--out", str(res), "--no-progress"]) == 0
    assert "| rllib_ppo |" in (res / f"leaderboard_{system.name}_small.md").read_text()


@pytest.mark.parametrize("policies", ["shared", "per-agent"])
def test_multi_agent_one_iteration(local_ray, tmp_path, policies):
    system = get_system("multi_uav_isac")
    out = train_rllib(system.name, multiagent=True, policies=policies, config="small", timesteps=128, seed=0,
                      out=tmp_path / policies, num_env_runners=1, eval_episodes=1, progress=False,
                      train_batch_size=128, batch_size=64, n_epochs=1)
    run = read_run(out)
    mapping = run["rllib"]["agent_to_module"]
    agents = sorted(mapping)
    if policies == "shared":
        assert set(mapping.values()) == {"shared"}
    else:
        assert mapping == {a: a for a in agents} and len(agents) > 1
    pol = load_agent(out)
    assert pol.multiagent and set(pol.actors) == set(agents)
    res = run_policy(make_env(system, "small"), pol, eval_seeds(1), system.episode_objective)
    assert np.isfinite(res[0].objective)
    obs = {a: o for a, o in pol.parallel_env.reset(seed=3)[0].items()}
    first = agents[0]
    x = obs[first][None].astype(np.float32)
    np.testing.assert_allclose(pol.actors[first](x), _module_action(out, mapping[first], x), rtol=1e-5, atol=1e-5)


def test_worker_envs_draw_training_seeds():
    settings = dict(system="device_free_localization", config="small", env_options={}, multiagent=False, seed=1,
                    num_env_runners=2, envs_per_worker=2)

    class Ctx:
        worker_index = 2

    env = make_rllib_env(settings, Ctx())
    seeds = []
    orig = env.env.reset
    env.env.reset = lambda seed=None, options=None: (seeds.append(seed), orig(seed=seed, options=options))[1]
    for _ in range(3):
        env.reset(seed=eval_seeds(1)[0])  # RLlib's seed is replaced by the stream's training seed
    assert all(s in TRAIN_SEEDS for s in seeds) and len(set(seeds)) == 3
    assert np.diff(seeds).tolist() == [6, 6]  # 3 workers x 2 envs = 6 interleaved streams
