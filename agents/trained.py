"""Trained agents behind the same ``act(obs, info)`` interface as the solvers.

A run folder (``isac train --out runs/NAME``, or a shipped agent under ``agents/shipped/``)
holds ``model.zip`` (SB3), ``obs_norm.npz`` (observation normalisation, if used) and
``run.yaml`` (how it was trained). Agents never read ``info["instance"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"


class ObsNormaliser:
    """SB3 VecNormalize's observation transform, stored as plain arrays (no pickle)."""

    def __init__(self, mean: np.ndarray, var: np.ndarray, clip: float, epsilon: float):
        self.mean, self.var, self.clip, self.epsilon = mean, var, float(clip), float(epsilon)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        z = (np.asarray(obs, np.float64) - self.mean) / np.sqrt(self.var + self.epsilon)
        return np.clip(z, -self.clip, self.clip).astype(np.float32)

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean, var=self.var, clip=self.clip, epsilon=self.epsilon)

    @classmethod
    def load(cls, path: Path) -> "ObsNormaliser | None":
        if not Path(path).exists():
            return None
        z = np.load(path)
        return cls(z["mean"], z["var"], float(z["clip"]), float(z["epsilon"]))

    @classmethod
    def from_vecnormalize(cls, vn) -> "ObsNormaliser | None":
        if not getattr(vn, "norm_obs", False):
            return None
        return cls(vn.obs_rms.mean.copy(), vn.obs_rms.var.copy(), vn.clip_obs, vn.epsilon)


def _identity(obs):
    return np.asarray(obs, np.float32)


class NumpyActor:
    """The deterministic action of an SB3 PPO/SAC MlpPolicy as a float32 numpy forward pass.

    Same layers and weights as ``model.predict(obs, deterministic=True)`` (PPO: Gaussian mean,
    clipped to the action bounds; SAC: tanh-squashed mean), ~50x less overhead than torch per
    decision. Equality with ``model.predict`` is checked in the tests.
    """

    _ACTIVATIONS = {"Tanh": np.tanh, "ReLU": lambda x: np.maximum(x, 0.0)}

    def __init__(self, layers: list, squash: bool, low: np.ndarray, high: np.ndarray):
        self.layers, self.squash, self.low, self.high = layers, squash, low, high

    @classmethod
    def from_model(cls, model) -> "NumpyActor | None":
        policy = model.policy
        try:
            if hasattr(policy, "mlp_extractor"):  # PPO / A2C ActorCriticPolicy
                if type(policy.features_extractor).__name__ != "FlattenExtractor":
                    return None
                mods = list(policy.mlp_extractor.policy_net) + [policy.action_net]
                squash = False
            else:  # SAC
                actor = policy.actor
                mods = list(actor.latent_pi) + [actor.mu]
                squash = True
            layers = [cls._layer(m) for m in mods]
        except (AttributeError, KeyError):
            return None
        space = model.action_space
        return cls(layers, squash, space.low.astype(np.float32), space.high.astype(np.float32))

    @classmethod
    def _layer(cls, module):
        name = type(module).__name__
        if name == "Linear":
            w = module.weight.detach().cpu().numpy().astype(np.float32)
            b = module.bias.detach().cpu().numpy().astype(np.float32)
            return lambda x, w=w, b=b: x @ w.T + b
        return cls._ACTIVATIONS[name]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, np.float32)
        for layer in self.layers:
            x = layer(x)
        if self.squash:
            x = self.low + (np.tanh(x) + 1.0) * 0.5 * (self.high - self.low)
        return np.clip(x, self.low, self.high)


class AgentPolicy:
    """A single-agent SB3 model as a policy: deterministic action for the observation."""

    multiagent = False

    def __init__(self, model, normaliser: ObsNormaliser | None = None, name: str = "agent", own_env=None):
        self.model = model
        self.own_env = own_env  # the env to play in, when trained with env-only options
        self.normalise = normaliser or _identity
        self.name = name
        self.decision = None  # agents have no native Decision
        self.actor = NumpyActor.from_model(model)

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        return self._forward(self.normalise(obs))

    def _forward(self, x: np.ndarray) -> np.ndarray:
        if self.actor is not None:
            return self.actor(x)
        action, _ = self.model.predict(x, deterministic=True)
        return action

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        return self.act(observation, {}), state


class MultiAgentPolicy(AgentPolicy):
    """A parameter-sharing model acting for every agent of a PettingZoo parallel env."""

    multiagent = True

    def __init__(self, model, parallel_env, normaliser: ObsNormaliser | None = None, name: str = "mappo"):
        super().__init__(model, normaliser, name)
        self.parallel_env = parallel_env

    def act_all(self, observations: dict[str, np.ndarray], infos: dict) -> dict[str, np.ndarray]:
        agents = list(observations)
        batch = np.stack([self.normalise(observations[a]) for a in agents])
        actions = self._forward(batch)
        return {a: actions[i] for i, a in enumerate(agents)}


def read_run(path: str | Path) -> dict[str, Any]:
    import yaml

    run_file = Path(path) / "run.yaml"
    if not run_file.exists():
        raise ValueError(f"{str(path)!r} is not a run folder (no run.yaml)")
    return yaml.safe_load(run_file.read_text(encoding="utf-8"))


def load_agent(path: str | Path, config: str | None = None):
    """Load a run folder as a policy (single-agent or multi-agent as recorded in run.yaml)."""
    from stable_baselines3 import PPO, SAC

    from agents.systems import get_system

    path = Path(path)
    run = read_run(path)
    if run.get("backend") == "rllib":  # exported RLlib policy: numpy forward pass, no Ray needed
        from agents.rllib_backend import load_rllib_agent

        return load_rllib_agent(path, config)
    algo = {"ppo": PPO, "sac": SAC}[run["algo"]]
    model = algo.load(path / "model.zip", device="cpu")
    norm = ObsNormaliser.load(path / "obs_norm.npz")
    name = run.get("name", path.name)
    system = get_system(run["system"])
    env_options = dict(run.get("env_options") or {})
    if run.get("multiagent"):
        par = make_parallel_env(system, config or run["config"], **env_options)
        return MultiAgentPolicy(model, par, norm, name)
    own_env = None
    if env_options:
        from agents.evaluation import make_env

        own_env = make_env(system, config or run["config"], **env_options)
    return AgentPolicy(model, norm, name, own_env=own_env)


def make_parallel_env(system, config: str | None = None, **kwargs):
    import importlib

    if system.parallel_module is None:
        raise ValueError(f"{system.name} has no multi-agent (PettingZoo) variant")
    module = importlib.import_module(system.parallel_module)
    if config is not None:
        kwargs["config"] = config
    return module.parallel_env(**kwargs)


def shipped_runs(system_name: str, config: str) -> list[Path]:
    """Shipped agents trained on this system and config (``agents/shipped/<system>/<name>/``)."""
    base = SHIPPED_DIR / system_name
    if not base.is_dir():
        return []
    out = []
    for d in sorted(base.iterdir()):
        if (d / "run.yaml").exists() and read_run(d).get("config") == config:
            out.append(d)
    return out


def agent_factories_for(system, config: str, paths: list[str] | None, shipped: bool = True) -> dict:
    """name -> factory(env) for the leaderboard: given run folders, else the shipped agents."""
    if paths:
        runs = [Path(p) for p in paths]
        for r in runs:
            run = read_run(r)
            if run["system"] != system.name:
                raise ValueError(f"agent {str(r)!r} was trained on {run['system']}, not {system.name}")
    elif shipped:
        runs = shipped_runs(system.name, config)
    else:
        runs = []
    factories = {}
    for r in runs:
        name = read_run(r).get("name", r.name)
        factories[name] = lambda env, r=r: load_agent(r, config)
    return factories
