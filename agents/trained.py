"""Trained agents behind the same ``act(obs, info)`` interface as the solvers.

A run folder (``isac train --out runs/NAME``, or a shipped agent under ``agents/shipped/``)
holds ``model.zip`` (SB3), ``obs_norm.npz`` (observation normalisation, if used) and
``run.yaml`` (how it was trained, including the Gymnasium ``env_id``; a run.yaml without one
was trained on the system's ``-v0`` id). A plain SB3 ``.zip`` (+ optional ``VecNormalize``
pickle) loads as well (:func:`load_sb3_model`). Agents never read ``info["instance"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

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


def make_normaliser(obs_normalizer) -> "Callable | None":
    """``obs_normalizer`` as ``obs -> obs``: None, an :class:`ObsNormaliser`, an SB3 ``VecNormalize``,
    a path to its pickle (``.pkl``) or to an ``obs_norm.npz``, or any callable."""
    if obs_normalizer is None or isinstance(obs_normalizer, ObsNormaliser):
        return obs_normalizer
    if isinstance(obs_normalizer, (str, Path)):
        path = Path(obs_normalizer)
        if not path.is_file():
            raise ValueError(f"obs_normalizer file {str(path)!r} does not exist")
        if path.suffix == ".npz":
            return ObsNormaliser.load(path)
        return ObsNormaliser.from_vecnormalize(load_vecnormalize(path))
    if hasattr(obs_normalizer, "obs_rms"):
        return ObsNormaliser.from_vecnormalize(obs_normalizer)
    if callable(obs_normalizer):
        return obs_normalizer
    raise TypeError(f"obs_normalizer must be a VecNormalize, its pickle path, an obs_norm.npz path or a callable, "
                    f"got {type(obs_normalizer).__name__}")


def load_vecnormalize(path: str | Path):
    """An SB3 ``VecNormalize`` saved with ``vec_normalize.save(path)`` (no venv needed to read its statistics)."""
    import pickle

    with open(path, "rb") as fh:
        vn = pickle.load(fh)
    if not hasattr(vn, "obs_rms"):
        raise ValueError(f"{str(path)!r} is not a pickled SB3 VecNormalize (got {type(vn).__name__})")
    return vn


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

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        raise TypeError(f"{self.name!r} is a multi-agent (PettingZoo) policy: it acts through "
                        "act_all(observations, infos) on its parallel env (policy.parallel_env, "
                        "isac_envs.multiagent.<system>_v0.parallel_env), not act(obs, info) on the Gymnasium env; "
                        "agents.evaluate / the leaderboard play it on the parallel env with the same seeds")

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


def run_env_id(run: dict[str, Any], system) -> str:
    """The Gymnasium id an agent was trained on: run.yaml's ``env_id``, else the system's ``-v0``."""
    return str(run.get("env_id") or system.v0_id)


def load_agent(path: str | Path, config: str | None = None):
    """Load a run folder as a policy (single-agent or multi-agent as recorded in run.yaml).

    A single-agent policy plays the env id it was trained on (``own_env``) when that differs
    from the system's current id or when it was trained with env-only options.
    """
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
    env_id = run_env_id(run, system)
    if env_options or env_id != system.env_id:
        from agents.evaluation import make_env

        own_env = make_env(system.with_env_id(env_id), config or run["config"], **env_options)
    return AgentPolicy(model, norm, name, own_env=own_env)


def load_sb3_model(zip_path: str | Path, vecnormalize: str | Path | None = None, name: str | None = None,
                   system=None, config: str | None = None):
    """A plain SB3 ``.zip`` (PPO/A2C/SAC/TD3/DDPG, read from the file) as a deterministic policy.

    vecnormalize: the ``VecNormalize`` pickle saved with it (observation normalisation).
    system/config: when given, the model's spaces are checked against the system's env.
    """
    zip_path = Path(zip_path)
    if not zip_path.is_file() or zip_path.suffix != ".zip":
        raise ValueError(f"{str(zip_path)!r} is not an SB3 model .zip file")
    model = _sb3_class(zip_path).load(zip_path, device="cpu")
    if system is not None:
        from agents.evaluation import check_model_spaces, make_env

        env = make_env(system, config)
        check_model_spaces(model, env, system, config)
        env.close()
    norm = make_normaliser(vecnormalize)
    return AgentPolicy(model, norm, name or (zip_path.parent.name if zip_path.stem == "model" else zip_path.stem))


def _sb3_class(zip_path: Path):
    """The SB3 algorithm class that saved ``zip_path`` (from its policy class's module)."""
    import json
    import zipfile

    import stable_baselines3 as sb3

    with zipfile.ZipFile(zip_path) as zf:
        data = json.loads(zf.read("data").decode("utf-8"))
    module = str(data.get("policy_class", {}).get("__module__", ""))
    for algo in ("sac", "td3", "ddpg", "dqn"):
        if f".{algo}." in module + ".":
            if algo == "dqn":
                raise ValueError(f"{str(zip_path)!r} is a DQN model: the envs have continuous (Box) actions")
            return getattr(sb3, algo.upper())
    return sb3.PPO  # ActorCriticPolicy (PPO, A2C): deterministic predict is the same network


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
    """name -> factory(env) for the leaderboard: given agents, else the shipped ones.

    ``paths`` items are ``isac train`` run folders or SB3 ``.zip`` files, a ``.zip`` optionally
    followed by its ``VecNormalize`` pickle (``.pkl``).
    """
    factories: dict[str, Any] = {}

    def add(name: str, factory) -> None:
        base, k = name, 2
        while name in factories:
            name, k = f"{base}_{k}", k + 1
        factories[name] = factory

    if paths:
        for item in _group_agent_paths(paths):
            if isinstance(item, tuple):
                zip_path, pkl = item
                name = zip_path.parent.name if zip_path.stem == "model" else zip_path.stem
                load_sb3_model(zip_path, pkl, name, system, config)  # fail early: bad file or wrong spaces
                add(name, lambda env, z=zip_path, p=pkl, n=name: load_sb3_model(z, p, n))
                continue
            run = read_run(item)
            if run["system"] != system.name:
                raise ValueError(f"agent {str(item)!r} was trained on {run['system']}, not {system.name}")
            add(run.get("name", item.name), lambda env, r=item: load_agent(r, config))
    elif shipped:
        for r in shipped_runs(system.name, config):
            add(read_run(r).get("name", r.name), lambda env, r=r: load_agent(r, config))
    return factories


def _group_agent_paths(paths: list[str]) -> list:
    """Run folders as Paths; ``model.zip [vecnormalize.pkl]`` as (zip, pkl or None) tuples."""
    out: list = []
    for raw in paths:
        p = Path(raw)
        if p.suffix == ".pkl":
            if not out or not isinstance(out[-1], tuple) or out[-1][1] is not None:
                raise ValueError(f"{raw!r}: a VecNormalize .pkl must follow the SB3 .zip it belongs to")
            out[-1] = (out[-1][0], p)
        elif p.suffix == ".zip":
            out.append((p, None))
        elif p.is_dir():
            out.append(p)
        else:
            raise ValueError(f"agent {raw!r} is neither a run folder (with run.yaml) nor an SB3 .zip")
    return out
