"""Common random numbers: every policy kind sees the same instance for the same seed."""

import gymnasium as gym
import numpy as np
import pytest

import isac_envs
from agents.evaluation import make_env, run_policy
from agents.leaderboard import run_leaderboard, summarise
from agents.seeds import eval_seeds
from agents.systems import all_systems, get_system
from agents.trained import make_parallel_env

MULTI = [s.name for s in all_systems() if s.parallel_module]


@pytest.mark.parametrize("name", MULTI)
def test_parallel_env_draws_the_single_agent_instance(name):
    system = get_system(name)
    for seed in eval_seeds(3):
        _, info = make_env(system, "small").reset(seed=seed)
        par = make_parallel_env(system, "small")
        _, infos = par.reset(seed=seed)
        assert infos[par.agents[0]]["instance"] == info["instance"]


@pytest.mark.parametrize("name", isac_envs.available_systems())
def test_every_registered_id_builds_from_small_config(name):
    system = get_system(name)
    env = gym.make(system.env_id, config="small")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert "instance" in info and info["slot"] == 0


def test_leaderboard_statistics_come_from_evaluate(tmp_path):
    """The leaderboard's mean score/objective equal the means over the env's rewards/infos."""
    system = get_system("device_free_localization")
    rows = run_leaderboard(system, "small", episodes=2, only=["initial_condition"], progress=False,
                           reference_dir=tmp_path)
    _, _, records = summarise(system, rows)
    env = make_env(system, "small")
    from baselines.policy import SolverPolicy
    from baselines.device_free_localization import initial_condition

    res = run_policy(env, SolverPolicy(initial_condition.solve, env), eval_seeds(2))
    ic = next(r for r in records if r["policy"] == "initial_condition")
    assert ic["objective"] == pytest.approx(np.mean([r.objective for r in res]), rel=1e-12)
    assert ic["score"] == pytest.approx(np.mean([r.reward / r.steps for r in res]), rel=1e-12)
    # the paper solver is not in this run, so there is no normalised score
    rand = next(r for r in records if r["policy"] == "random")
    assert np.isnan(rand["normalised"])
