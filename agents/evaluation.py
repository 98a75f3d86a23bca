"""Run any policy (solver, agent, random) on seeded evaluation episodes; statistics.

Every number comes from the env's ``info`` (i.e. from the system's ``evaluate``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import gymnasium as gym
import numpy as np

import isac_envs  # noqa: F401  (registers the ids)
from agents.systems import SystemInfo


def make_env(system: SystemInfo, config: str | None = None, **kwargs: Any) -> gym.Env:
    """The system's single-agent env (no passive checker: it would be timed too)."""
    if config is not None:
        kwargs["config"] = config
    return gym.make(system.env_id, disable_env_checker=True, **kwargs)


@dataclass
class EpisodeResult:
    seed: int
    objective: float
    reward: float
    feasible: float
    metrics: dict[str, float]
    seconds_per_decision: float
    steps: int
    native_objective: float | None = None
    actions: list[np.ndarray] = field(default_factory=list, repr=False)


def run_episode(env: gym.Env, policy, seed: int, episode_objective: str = "mean",
                native: Callable | None = None, keep_actions: bool = False) -> EpisodeResult:
    """Play one episode from ``env.reset(seed=seed)`` with ``policy.act(obs, info)``.

    episode_objective: "mean" of the steps' info["objective"], or the "last" step's.
    native: optional ``f(params, instance, decision) -> Evaluation`` scoring a solver's own
        Decision (the one the policy planned on the reset instance).

    A multi-agent policy (``policy.multiagent``) plays its own PettingZoo parallel env with
    the same seed instead, and a policy with an ``own_env`` (an agent trained with env-only
    options) plays that env: the same instance and the same ``evaluate`` in its infos.
    """
    if getattr(policy, "multiagent", False):
        return run_parallel_episode(policy.parallel_env, policy, seed, episode_objective)
    env = getattr(policy, "own_env", None) or env  # e.g. an agent trained with observation="full"
    obs, info = env.reset(seed=seed)
    reset_instance = info["instance"]
    if hasattr(policy, "reset"):
        policy.reset(seed=seed)
    infos, rewards, actions = [], [], []
    act_time = 0.0
    native_obj = None
    done = False
    while not done:
        t0 = time.perf_counter()
        action = policy.act(obs, info)
        act_time += time.perf_counter() - t0
        if native is not None and native_obj is None and getattr(policy, "decision", None) is not None:
            native_obj = float(native(env.unwrapped.params, reset_instance, policy.decision).objective)
        if keep_actions:
            actions.append(np.array(action, copy=True))
        obs, reward, terminated, truncated, info = env.step(action)
        infos.append(info)
        rewards.append(float(reward))
        done = terminated or truncated
    return _aggregate(seed, infos, rewards, act_time, episode_objective, native_obj, actions)


def run_parallel_episode(par_env, policy, seed: int, episode_objective: str = "mean") -> EpisodeResult:
    """One episode of a PettingZoo parallel env; every agent's info is the single-agent info."""
    observations, infos = par_env.reset(seed=seed)
    policy.reset(seed=seed)
    steps: list[dict] = []
    rewards, act_time = [], 0.0
    while par_env.agents:
        t0 = time.perf_counter()
        actions = policy.act_all(observations, infos)
        act_time += time.perf_counter() - t0
        observations, rew, _, _, infos = par_env.step(actions)
        first = next(iter(infos))
        steps.append(infos[first])
        rewards.append(float(rew[first]))
    return _aggregate(seed, steps, rewards, act_time, episode_objective, None, [])


def _aggregate(seed, infos, rewards, act_time, episode_objective, native_obj, actions) -> EpisodeResult:
    objectives = [float(i["objective"]) for i in infos]
    feasibles = [bool(i["feasible"]) for i in infos]
    metrics = [i["metrics"] for i in infos]
    steps = len(objectives)
    if episode_objective == "last":
        objective, feasible, mets = objectives[-1], float(feasibles[-1]), dict(metrics[-1])
    else:
        objective = float(np.mean(objectives))
        feasible = float(np.mean(feasibles))
        mets = {k: float(np.mean([m[k] for m in metrics])) for k in metrics[0]}
    return EpisodeResult(seed, objective, float(np.sum(rewards)), feasible, mets,
                         act_time / steps, steps, native_obj, actions)


def run_policy(env: gym.Env, policy, seeds: Iterable[int], episode_objective: str = "mean",
               native: Callable | None = None, progress: Callable[[], None] | None = None,
               keep_actions: bool = False) -> list[EpisodeResult]:
    out = []
    for s in seeds:
        out.append(run_episode(env, policy, s, episode_objective, native, keep_actions))
        if progress is not None:
            progress()
    return out


# --------------------------------------------------------------------------- statistics
def bootstrap_mean_ci(x: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95):
    """Percentile bootstrap CI of the mean (fixed resampling seed: deterministic tables)."""
    x = np.asarray(x, float)
    if x.size < 2:
        return float(x.mean()), float(x.mean())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def paired_bootstrap_diff_ci(x: np.ndarray, ref: np.ndarray, n_boot: int = 2000, seed: int = 0,
                             level: float = 0.95):
    """Mean of x - ref over the same instances, with a paired percentile bootstrap CI."""
    d = np.asarray(x, float) - np.asarray(ref, float)
    lo, hi = bootstrap_mean_ci(d, n_boot, seed, level)
    return float(d.mean()), lo, hi


def normalised_score(policy_mean: float, random_mean: float, solver_mean: float) -> float:
    """(policy - random) / (paper solver - random): 0 = random, 1 = the paper's solver."""
    span = solver_mean - random_mean
    if not np.isfinite(span) or abs(span) < 1e-12:
        return float("nan")
    return float((policy_mean - random_mean) / span)
