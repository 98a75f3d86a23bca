"""``agents.evaluate``: any policy form, observation normalisers, clear errors, the README snippet."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agents import evaluate
from agents.evaluation import make_env, run_episode
from agents.leaderboard import run_leaderboard, summarise
from agents.seeds import eval_seeds
from agents.systems import get_system, system_of
from agents.trained import SHIPPED_DIR, agent_factories_for, load_agent, run_env_id

DFL = "device_free_localization"
README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Compare your agent", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_compare_your_agent_snippet_runs(tmp_path, capsys):
    code = _readme_snippet()
    assert 'evaluate(policy, "device_free_localization", config="small", episodes=100)' in code
    exec(compile(code.replace("episodes=100", "episodes=2"), "README.md", "exec"), {})
    out = capsys.readouterr().out
    first = out.splitlines()[0].split()
    assert len(first) == 4 and all(np.isfinite(float(v)) for v in first)
    assert "| sca |" in out and "| random |" in out and "| policy |" in out


class FullPower:
    def act(self, obs, info):
        return np.ones(3, np.float32)


class PredictOnly:
    def predict(self, obs, deterministic=True):
        return np.ones(3, np.float32), None


def test_every_policy_form_gives_the_same_numbers_and_the_anchors_hold(tmp_path):
    kw = dict(config="small", episodes=2, reference_dir=tmp_path)
    a = evaluate(FullPower(), DFL, **kw)
    b = evaluate(PredictOnly(), DFL, **kw)
    c = evaluate(lambda obs: np.ones(3, np.float32), DFL, **kw)
    assert a.score == b.score == c.score and a.objective == b.objective == c.objective
    assert [r["seed"] for r in a.per_episode] == eval_seeds(2)
    assert a.score == pytest.approx(np.mean([r["score"] for r in a.per_episode]), rel=1e-12)
    by = {r["policy"]: r for r in a.records}
    assert set(by) == {"policy", "sca", "bisection_optimum", "random"}  # the anchors only, when re-run
    rand, sca = by["random"]["score"], by["sca"]["score"]
    assert a.normalised == pytest.approx((a.score - rand) / (sca - rand))
    # full power is the paper's comparison scheme "initial_condition": same per-seed scores
    env = make_env(get_system(DFL), "small")
    from baselines.device_free_localization import initial_condition
    from baselines.policy import SolverPolicy

    ic = [run_episode(env, SolverPolicy(initial_condition.solve, env), s).score for s in eval_seeds(2)]
    np.testing.assert_allclose([r["score"] for r in a.per_episode], ic, rtol=1e-6)
    assert "| policy | agent |" in a.table()


def test_bad_policies_are_named():
    with pytest.raises(TypeError, match="act\\(obs, info\\)"):
        evaluate(42, DFL, episodes=1)
    with pytest.raises(ValueError, match="unknown system"):
        evaluate(FullPower(), "no_such_system", episodes=1)


def test_system_by_env_id_and_v0_default():
    system = get_system(DFL)
    assert system_of(system.env_id).name == DFL
    assert system.v0_id.endswith("-v0") and system.v0_id.startswith("isac_envs/DeviceFreeLocalization")
    assert run_env_id({}, system) == system.v0_id
    assert run_env_id({"env_id": "isac_envs/X-v3"}, system) == "isac_envs/X-v3"


def test_import_agents_is_light():
    code = ("import sys, agents; from agents import evaluate; "
            "assert 'torch' not in sys.modules and 'stable_baselines3' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=README.parent)


@pytest.fixture(scope="module")
def sb3_model(tmp_path_factory):
    """A tiny untrained PPO on the DFL env, saved with a VecNormalize pickle."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    system = get_system(DFL)
    venv = VecNormalize(DummyVecEnv([lambda: make_env(system, "small")]))
    venv.reset()
    for _ in range(20):  # move the running statistics away from (0, 1)
        venv.step(np.array([venv.action_space.sample()]))
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, seed=0, device="cpu",
                policy_kwargs=dict(net_arch=[8]))
    folder = tmp_path_factory.mktemp("sb3")
    model.save(folder / "my_agent.zip")
    venv.save(folder / "vecnormalize.pkl")
    return model, venv, folder


def test_sb3_model_with_vecnormalize_object_or_pickle(sb3_model, tmp_path):
    model, venv, folder = sb3_model
    kw = dict(config="small", episodes=2, reference_dir=tmp_path)
    a = evaluate(model, DFL, obs_normalizer=venv, **kw)
    b = evaluate(model, DFL, obs_normalizer=folder / "vecnormalize.pkl", **kw)
    c = evaluate(lambda o: model.predict(venv.normalize_obs(o), deterministic=True)[0], DFL, **kw)
    d = evaluate(model, DFL, **kw)  # without the normaliser: a different policy
    assert a.score == b.score
    assert a.score == pytest.approx(c.score, rel=1e-5)
    assert d.score != a.score


def test_leaderboard_takes_a_plain_sb3_zip_and_its_pickle(sb3_model, tmp_path):
    _, venv, folder = sb3_model
    system = get_system(DFL)
    facs = agent_factories_for(system, "small", [str(folder / "my_agent.zip"), str(folder / "vecnormalize.pkl")])
    assert list(facs) == ["my_agent"]
    rows = run_leaderboard(system, "small", 1, agent_factories=facs, only=["initial_condition"], progress=False,
                           reference_dir=tmp_path)
    _, _, records = summarise(system, rows)
    mine = next(r for r in records if r["policy"] == "my_agent")
    ref = evaluate(lambda o: np.asarray(facs["my_agent"](None).act(o, {})), DFL, episodes=1, reference_dir=tmp_path)
    assert mine["score"] == ref.score
    with pytest.raises(ValueError, match="must follow"):
        agent_factories_for(system, "small", [str(folder / "vecnormalize.pkl")])
    with pytest.raises(ValueError, match="neither a run folder"):
        agent_factories_for(system, "small", [str(folder / "nothing.txt")])


def test_a_pettingzoo_model_on_the_gym_env_names_act_all(tmp_path):
    mappo = SHIPPED_DIR / DFL / "mappo"
    if not (mappo / "run.yaml").exists():
        pytest.skip("no shipped DFL MAPPO")
    policy = load_agent(mappo, "small")
    env = make_env(get_system(DFL), "small")
    obs, info = env.reset(seed=0)
    with pytest.raises(TypeError, match="act_all"):
        policy.act(obs, info)
    with pytest.raises(ValueError, match="act_all.*PettingZoo|PettingZoo.*act_all"):
        evaluate(policy.model, DFL, episodes=1, reference_dir=tmp_path)  # the bare SB3 model
    result = evaluate(policy, DFL, episodes=1, reference_dir=tmp_path)  # played on its parallel env
    assert np.isfinite(result.score)


def test_an_agent_plays_the_env_id_recorded_in_its_run(tmp_path):
    import shutil

    import gymnasium as gym
    import yaml

    src = SHIPPED_DIR / DFL / "ppo"
    if not (src / "run.yaml").exists():
        pytest.skip("no shipped DFL PPO")
    system = get_system(DFL)
    alias = "isac_envs/DeviceFreeLocalizationBoardTestAlias-v0"
    if alias not in gym.registry:
        gym.register(alias, entry_point=gym.spec(system.env_id).entry_point)
    run_dir = tmp_path / "ppo"
    shutil.copytree(src, run_dir)
    run = yaml.safe_load((run_dir / "run.yaml").read_text())
    run["env_id"] = alias
    (run_dir / "run.yaml").write_text(yaml.safe_dump(run))
    policy = load_agent(run_dir, "small")
    assert policy.own_env is not None and policy.own_env.spec.id == alias
    rows = run_leaderboard(system, "small", 1, agent_factories=agent_factories_for(system, "small", [str(run_dir)]),
                           only=["initial_condition"], progress=False, reference_dir=tmp_path)
    _, cells, records = summarise(system, rows)
    assert next(r for r in records if r["policy"] == "ppo")["env_id"] == alias
    assert any(c[0] == f"ppo (on `{alias}`)" for c in cells)
    del run["env_id"]  # no env_id: the system's -v0 id
    (run_dir / "run.yaml").write_text(yaml.safe_dump(run))
    policy = load_agent(run_dir, "small")
    assert (policy.own_env is None) == (system.env_id == system.v0_id)


def test_paths_of_a_zip_or_a_run_folder_are_policies(sb3_model, tmp_path):
    model, venv, folder = sb3_model
    kw = dict(config="small", episodes=1, reference_dir=tmp_path)
    a = evaluate(folder / "my_agent.zip", DFL, obs_normalizer=folder / "vecnormalize.pkl", **kw)
    assert a.score == evaluate(model, DFL, obs_normalizer=venv, **kw).score
    ppo = SHIPPED_DIR / DFL / "ppo"
    if (ppo / "run.yaml").exists():
        assert evaluate(str(ppo), DFL, **kw).score == evaluate(load_agent(ppo, "small"), DFL, **kw).score


def test_an_agent_that_cannot_load_is_a_skipped_row(tmp_path):
    import gymnasium as gym

    def retired(env):
        raise gym.error.DeprecatedEnv("Environment version v0 for `X` is deprecated. Please use `X-v1` instead.")

    system = get_system(DFL)
    rows = run_leaderboard(system, "small", 1, agent_factories={"old": retired}, only=["initial_condition"],
                           progress=False, reference_dir=tmp_path)
    _, cells, records = summarise(system, rows)
    old = next(r for r in records if r["policy"] == "old")
    assert "X-v1" in old["note"] and "score" not in old
