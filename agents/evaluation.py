"""Run any policy (solver, agent, random) on seeded evaluation episodes; statistics; ``evaluate``.

Every number comes from the env's rewards and ``info`` (i.e. from the system's ``evaluate``).
An episode's **score** is the env's own reward aggregated by its ``score_rule`` (contract 4):
``"mean_reward"`` = mean of the step rewards, ``"return"`` = their sum (docs/benchmark.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import gymnasium as gym
import numpy as np

import isac_envs  # noqa: F401  (registers the ids)
from agents.systems import SCORE_RULES, SystemInfo

#: Independent uniform-random action streams averaged per instance for the random anchor.
RANDOM_STREAMS = 16


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
    #: the env's reward aggregated by its score rule (the leaderboard's ranking value)
    score: float = math.nan
    #: random action streams averaged into this record (1 for a deterministic policy)
    streams: int = 1

    def record(self) -> dict[str, Any]:
        """Plain-JSON per-seed record (raw results, reference-score files)."""
        out = {"seed": int(self.seed), "score": self.score, "objective": self.objective, "feasible": self.feasible,
               "reward": self.reward, "metrics": dict(self.metrics), "seconds_per_decision": self.seconds_per_decision,
               "steps": int(self.steps), "streams": int(self.streams)}
        if self.native_objective is not None:
            out["native_objective"] = self.native_objective
        return out

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> "EpisodeResult":
        return cls(int(rec["seed"]), float(rec["objective"]), float(rec["reward"]), float(rec["feasible"]),
                   {k: float(v) for k, v in rec["metrics"].items()}, float(rec["seconds_per_decision"]),
                   int(rec["steps"]), rec.get("native_objective"), [], float(rec["score"]), int(rec.get("streams", 1)))


def episode_score(rewards: list[float], score_rule: str) -> float:
    """Contract 4: mean of the step rewards (``"mean_reward"``) or their sum (``"return"``)."""
    if score_rule not in SCORE_RULES:
        raise ValueError(f"score_rule must be one of {SCORE_RULES}, got {score_rule!r}")
    r = np.asarray(rewards, float)
    return float(r.mean() if score_rule == "mean_reward" else r.sum())


def _env_score_rule(env, default: str) -> str:
    """The played env's own ``score_rule`` (an agent may play an older id), else ``default``."""
    return getattr(getattr(env, "unwrapped", env), "score_rule", default)


def run_episode(env: gym.Env, policy, seed: int, episode_objective: str = "mean",
                native: Callable | None = None, keep_actions: bool = False,
                score_rule: str = "mean_reward") -> EpisodeResult:
    """Play one episode from ``env.reset(seed=seed)`` with ``policy.act(obs, info)``.

    episode_objective: "mean" of the steps' info["objective"], or the "last" step's.
    native: optional ``f(params, instance, decision) -> Evaluation`` scoring a solver's own
        Decision (the one the policy planned on the reset instance).
    score_rule: used when the env class declares no ``score_rule``.

    A multi-agent policy (``policy.multiagent``) plays its own PettingZoo parallel env with
    the same seed instead, and a policy with an ``own_env`` (an agent trained with env-only
    options or on another env id) plays that env: the same instance and the same ``evaluate``.
    """
    if getattr(policy, "multiagent", False):
        return run_parallel_episode(policy.parallel_env, policy, seed, episode_objective, score_rule)
    env = getattr(policy, "own_env", None) or env  # e.g. an agent trained with observation="full"
    rule = _env_score_rule(env, score_rule)
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
    return _aggregate(seed, infos, rewards, act_time, episode_objective, native_obj, actions, rule)


def run_parallel_episode(par_env, policy, seed: int, episode_objective: str = "mean",
                         score_rule: str = "mean_reward") -> EpisodeResult:
    """One episode of a PettingZoo parallel env; every agent's info is the single-agent info."""
    rule = _env_score_rule(par_env, score_rule)
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
    return _aggregate(seed, steps, rewards, act_time, episode_objective, None, [], rule)


def _aggregate(seed, infos, rewards, act_time, episode_objective, native_obj, actions,
               score_rule: str = "mean_reward") -> EpisodeResult:
    objectives = [float(i["objective"]) for i in infos]
    feasibles = [bool(i["feasible"]) for i in infos]
    metrics = [i["metrics"] for i in infos]
    steps = len(objectives)
    feasible = float(np.mean(feasibles))  # fraction of feasible steps
    if episode_objective == "last":
        objective, mets = objectives[-1], {k: float(v) for k, v in metrics[-1].items()}
    else:
        objective = float(np.mean(objectives))
        mets = {k: float(np.mean([m[k] for m in metrics])) for k in metrics[0]}
    return EpisodeResult(seed, objective, float(np.sum(rewards)), feasible, mets, act_time / steps, steps,
                         native_obj, actions, episode_score(rewards, score_rule))


def run_policy(env: gym.Env, policy, seeds: Iterable[int], episode_objective: str = "mean",
               native: Callable | None = None, progress: Callable[[], None] | None = None,
               keep_actions: bool = False, score_rule: str = "mean_reward") -> list[EpisodeResult]:
    out = []
    for s in seeds:
        out.append(run_episode(env, policy, s, episode_objective, native, keep_actions, score_rule))
        if progress is not None:
            progress()
    return out


def run_random(env: gym.Env, seeds: Iterable[int], streams: int = RANDOM_STREAMS, episode_objective: str = "mean",
               score_rule: str = "mean_reward", progress: Callable[[], None] | None = None) -> list[EpisodeResult]:
    """The random anchor: per instance, the mean over ``streams`` independent uniform-random
    action streams (stream k of seed s is seeded from ``(s, k)``: deterministic)."""
    from baselines.policy import RandomPolicy

    if isinstance(streams, bool) or not isinstance(streams, int) or streams < 1:
        raise ValueError(f"streams must be an integer >= 1, got {streams!r}")
    policies = [RandomPolicy(env, stream=k) for k in range(streams)]
    out = []
    for s in seeds:
        eps = [run_episode(env, p, s, episode_objective, score_rule=score_rule) for p in policies]
        out.append(_mean_episode(s, eps))
        if progress is not None:
            progress()
    return out


def _mean_episode(seed: int, eps: list[EpisodeResult]) -> EpisodeResult:
    mean = lambda xs: float(np.mean(xs))  # noqa: E731
    mets = {k: mean([e.metrics[k] for e in eps]) for k in eps[0].metrics}
    return EpisodeResult(seed, mean([e.objective for e in eps]), mean([e.reward for e in eps]),
                         mean([e.feasible for e in eps]), mets, mean([e.seconds_per_decision for e in eps]),
                         eps[0].steps, None, [], mean([e.score for e in eps]), len(eps))


# --------------------------------------------------------------------------- statistics
def bootstrap_mean_ci(x: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95):
    """Percentile bootstrap CI of the mean (fixed resampling seed: deterministic tables)."""
    return stratified_bootstrap_ci(x, np.mean, n_boot=n_boot, seed=seed, level=level)


def paired_bootstrap_diff_ci(x: np.ndarray, ref: np.ndarray, n_boot: int = 2000, seed: int = 0,
                             level: float = 0.95):
    """Mean of x - ref over the same instances, with a paired percentile bootstrap CI."""
    d = np.asarray(x, float) - np.asarray(ref, float)
    lo, hi = bootstrap_mean_ci(d, n_boot, seed, level)
    return float(d.mean()), lo, hi


def iqm(x, axis: int = -1) -> np.ndarray | float:
    """Interquartile mean: the mean of the middle 50 % (``scipy.stats.trim_mean(x, 0.25)``)."""
    x = np.sort(np.asarray(x, float), axis=axis)
    n = x.shape[axis]
    cut = int(0.25 * n)
    mid = np.take(x, np.arange(cut, n - cut), axis=axis)
    out = mid.mean(axis=axis)
    return float(out) if np.ndim(out) == 0 else out


def stratified_bootstrap_ci(x, statistic: Callable = iqm, strata=None, n_boot: int = 2000, seed: int = 0,
                            level: float = 0.95) -> tuple[float, float]:
    """Percentile CI of ``statistic`` (vectorised over the last axis) by a stratified bootstrap.

    Each stratum (e.g. a system, or a group of instances) is resampled with replacement
    within itself and the strata keep their sizes (Agarwal et al. 2021, rliable); with one
    stratum (``strata=None``) it is the ordinary percentile bootstrap over the values.
    """
    x = np.asarray(x, float).ravel()
    if x.size < 2:
        v = float(x.mean()) if x.size else math.nan
        return v, v
    labels = np.zeros(x.size, int) if strata is None else np.asarray(strata).ravel()
    if labels.shape != x.shape:
        raise ValueError(f"strata must have one label per value ({x.size}), got shape {labels.shape}")
    rng = np.random.default_rng(seed)
    cols = []
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        cols.append(idx[rng.integers(0, idx.size, size=(n_boot, idx.size))])
    samples = x[np.concatenate(cols, axis=1)]
    stats = np.asarray(statistic(samples, axis=-1))
    a = (1 - level) / 2
    return float(np.quantile(stats, a)), float(np.quantile(stats, 1 - a))


def normalised_score(policy_mean: float, random_mean: float, solver_mean: float) -> float:
    """(policy - random) / (paper solver - random): 0 = random, 1 = the paper's solver."""
    span = solver_mean - random_mean
    if not np.isfinite(span) or abs(span) < 1e-12:
        return float("nan")
    return float((policy_mean - random_mean) / span)


# --------------------------------------------------------------------------- any policy
class _CallablePolicy:
    """A plain ``obs -> action`` function (or a ``predict``-only object) as a policy."""

    multiagent = False
    decision = None

    def __init__(self, fn: Callable, name: str, normaliser=None):
        self.fn, self.name, self.normalise = fn, name, normaliser or (lambda o: o)

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs, info):
        return self.fn(self.normalise(obs))


class _NormalisedActPolicy:
    """An ``act(obs, info)`` policy fed normalised observations."""

    multiagent = False
    decision = None

    def __init__(self, policy, normaliser, name: str):
        self.policy, self.normalise, self.name = policy, normaliser, name

    def reset(self, seed: int | None = None) -> None:
        if hasattr(self.policy, "reset"):
            self.policy.reset(seed=seed)

    def act(self, obs, info):
        return self.policy.act(self.normalise(obs), info)


def _is_sb3_model(obj) -> bool:
    return hasattr(obj, "predict") and hasattr(obj, "policy") and hasattr(obj, "observation_space")


def check_model_spaces(model, env: gym.Env, system: SystemInfo, config: str | None) -> None:
    """A clear error when an SB3 model was trained on other spaces (e.g. the PettingZoo env)."""
    want, got = env.observation_space.shape, getattr(model.observation_space, "shape", None)
    act_want, act_got = env.action_space.shape, getattr(model.action_space, "shape", None)
    if got == want and act_got == act_want:
        return
    hint = ""
    if system.parallel_module is not None:
        from agents.trained import make_parallel_env

        par = make_parallel_env(system, config)
        agent = par.possible_agents[0]
        if got == par.observation_space(agent).shape:
            mod = system.parallel_module.rsplit(".", 1)[-1]
            hint = (f"; it matches one agent of the PettingZoo env (isac_envs.multiagent.{mod}.parallel_env): "
                    "a multi-agent model acts through act_all(observations, infos) on that env "
                    "(agents.trained.MultiAgentPolicy / an `isac train --multiagent` run folder)")
    env_id = env.spec.id if env.spec is not None else system.env_id
    raise ValueError(f"the model's observation/action shapes {got}/{act_got} do not match {env_id}'s "
                     f"{want}/{act_want}{hint}")


def as_policy(policy, env: gym.Env, system: SystemInfo, config: str | None = None, obs_normalizer=None,
              name: str = "policy"):
    """Any agent as an ``act(obs, info)`` policy: an object with ``act``, an SB3 model
    (``predict(obs, deterministic=True)``), a plain callable ``obs -> action``, or the path of an
    ``isac train`` run folder or of an SB3 ``.zip``.

    obs_normalizer: an SB3 ``VecNormalize`` (or its pickle path), an ``obs_norm.npz`` path, or
        any callable ``obs -> obs``; applied to every observation before the policy sees it.
    """
    from pathlib import Path

    from agents.trained import AgentPolicy, load_agent, load_sb3_model, make_normaliser

    if isinstance(policy, (str, Path)):
        path = Path(policy)
        if path.is_dir():
            return load_agent(path, config)  # its own normaliser and env id, from run.yaml
        return load_sb3_model(path, obs_normalizer, system=system, config=config)
    norm = make_normaliser(obs_normalizer)
    if hasattr(policy, "act") or hasattr(policy, "act_all"):
        if getattr(policy, "multiagent", False) or norm is None:
            return policy
        return _NormalisedActPolicy(policy, norm, getattr(policy, "name", name))
    if _is_sb3_model(policy):
        check_model_spaces(policy, env, system, config)
        return AgentPolicy(policy, norm, name)
    if hasattr(policy, "predict"):
        return _CallablePolicy(lambda o: policy.predict(o, deterministic=True)[0], name, norm)
    if callable(policy):
        return _CallablePolicy(policy, name, norm)
    raise TypeError(f"policy must have act(obs, info), predict(obs, deterministic=True) or be a callable obs -> "
                    f"action, got {type(policy).__name__}")


# --------------------------------------------------------------------------- evaluate()
@dataclass
class EvaluationResult:
    """What :func:`evaluate` returns: the policy's scores beside the reference rows.

    score / objective / feasible: means over the test episodes; normalised: (score - random) /
    (paper solver - random); per_episode: one plain record per test seed.
    """

    name: str
    system: str
    env_id: str
    config: str
    seeds: list[int]
    records: list[dict[str, Any]]  # the table's records, ranked by score
    header: list[str]
    cells: list[list[str]]
    per_episode: list[dict[str, Any]]
    reference_source: str

    @property
    def _me(self) -> dict[str, Any]:
        return next(r for r in self.records if r["policy"] == self.name and r["kind"] == "agent")

    score = property(lambda self: self._me["score"])
    score_ci = property(lambda self: (self._me["score_ci_low"], self._me["score_ci_high"]))
    score_iqm = property(lambda self: self._me["score_iqm"])
    normalised = property(lambda self: self._me["normalised"])
    objective = property(lambda self: self._me["objective"])
    feasible = property(lambda self: self._me["feasible"])
    gap_to_best = property(lambda self: self._me.get("gap_to_best", math.nan))
    ms_per_decision = property(lambda self: self._me["ms_per_decision"])

    def table(self) -> str:
        """Markdown table: the policy beside the reference-score rows, ranked by score."""
        from agents.leaderboard import markdown_table

        return (f"{self.system} (`{self.env_id}`, config `{self.config}`), {len(self.seeds)} test episodes; "
                f"reference rows: {self.reference_source}\n\n" + markdown_table(self.header, self.cells))

    def __str__(self) -> str:
        return self.table()


def evaluate(policy, system: str, config: str = "small", episodes: int = 100, *, obs_normalizer=None,
             name: str = "policy", seed_offset: int = 0, env_id: str | None = None,
             env_kwargs: dict[str, Any] | None = None, recompute: bool = False, reference_dir=None,
             progress: bool = False) -> EvaluationResult:
    """Score ``policy`` on the leaderboard's test episodes of ``system`` (name or Gymnasium id).

    The paper solver, the best-known reference and the random anchor come from the shipped
    reference-score file when it matches the installed code and covers the seeds (else they are
    re-run on the same seeds; ``recompute=True`` forces it). ``env_id`` plays another registered
    version of the system (the one the agent was trained on); ``env_kwargs`` are env options.
    """
    from agents import reference_scores
    from agents.leaderboard import Row, best_known_names, reference_rows, summarise
    from agents.seeds import eval_seeds, validation_seeds
    from agents.systems import system_of

    info = system if isinstance(system, SystemInfo) else system_of(system)
    if env_id is not None:
        info = info.with_env_id(env_id)
    seeds = eval_seeds(episodes, seed_offset)
    env = make_env(info, config, **(env_kwargs or {}))
    pol = as_policy(policy, env, info, config, obs_normalizer, name)
    rule = info.score_rule
    if not getattr(pol, "multiagent", False):
        warm = getattr(pol, "own_env", None) or env
        obs, inf = warm.reset(seed=validation_seeds(1)[0])  # untimed warm-up (torch init, caches)
        pol.act(obs, inf)
    eps = run_policy(env, pol, seeds, info.episode_objective, score_rule=rule)
    env.close()
    usable = not recompute and reference_scores.lookup(info, config, seeds, RANDOM_STREAMS, reference_dir)[0]
    only = None if usable else [info.baselines.PAPER_SOLVER, *best_known_names(info)]  # the anchors only
    refs, source = reference_rows(info, config, seeds, only, recompute=recompute, reference_dir=reference_dir,
                                  progress=progress)
    me = Row(name, "agent", eps)
    header, cells, records = summarise(info, [me] + refs)
    return EvaluationResult(name, info.name, info.env_id, str(config), seeds, records, header, cells,
                            [e.record() for e in eps], source)
