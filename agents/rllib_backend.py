"""``isac train --backend rllib``: PPO on Ray RLlib's new API stack (``pip install -e ".[rllib]"``).

* Single-agent: the system's Gymnasium env; multi-agent: its PettingZoo parallel env through
  RLlib's ``ParallelPettingZooEnv``, with one shared policy (parameter sharing, the agents' one-hot
  in their observations lets it specialise) or one policy per agent (``--policies per-agent``).
* The envs are registered with ``ray.tune.register_env`` under ``isac_rllib/<system>[-ma]`` by a
  creator that imports ``isac_envs`` itself, so the Ray workers (local or on other nodes) resolve
  them with no user action. Every episode of every worker starts from the next seed of its own
  training-seed stream (``agents.seeds.TRAIN_SEEDS``), as in ``isac train``'s SB3 path.
* The run folder has the SB3 runs' contract: ``run.yaml`` (``backend: rllib``), ``curve.csv`` and
  ``learning_curve.png`` (validation objective of the deterministic policy), ``checkpoints/``
  (RLlib ``Algorithm.save_to_path`` checkpoints, to resume or inspect with RLlib) and
  ``policy.npz``: the exported policy, i.e. each RLModule's actor MLP (encoder + pi head weights).
  :func:`load_rllib_agent` rebuilds it as a numpy forward pass, **without Ray or torch**, behind
  the usual ``act(obs, info)`` interface, so ``isac leaderboard --agents RUN`` and
  ``agents.trained.load_agent`` score RLlib agents like any other (deterministic action = the
  Gaussian's mean, clipped to the action bounds as RLlib's ``normalize_actions`` does).

Only this module's training functions import Ray; loading an exported policy needs numpy only.
"""

from __future__ import annotations

import itertools
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

POLICY_FILE = "policy.npz"
_ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu", "SiLU": "silu", "Identity": None}


# --------------------------------------------------------------------------- envs inside the workers
_created = itertools.count()  # envs created in this process (the stream of each one)


def make_rllib_env(settings: dict, env_context=None):
    """The env of one RLlib env slot (runs inside the Ray workers): imports the package itself."""
    import isac_envs  # noqa: F401  (registers the ids in this worker)
    from agents.systems import get_system

    system = get_system(settings["system"])
    worker = int(getattr(env_context, "worker_index", 0) or 0)
    per_worker = int(settings["envs_per_worker"])
    stream = worker * per_worker + next(_created) % per_worker
    n_streams = (int(settings["num_env_runners"]) + 1) * per_worker
    base = int(settings["seed"]) * 100_003
    opts = dict(settings.get("env_options") or {})
    if settings["multiagent"]:
        from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

        from agents.trained import make_parallel_env

        par = make_parallel_env(system, settings["config"], **opts)
        _seed_resets(par, stream, n_streams, base)
        return ParallelPettingZooEnv(par)
    from agents.evaluation import make_env
    from agents.training import TrainSeedWrapper

    return TrainSeedWrapper(make_env(system, settings["config"], **opts), stream, n_streams, base)


def _seed_resets(par, stream: int, n_streams: int, base: int) -> None:
    """Every reset of the parallel env draws the next seed of its training stream (RLlib's seed ignored)."""
    from agents.seeds import TRAIN_SEEDS, train_seed

    reset, count = par.reset, itertools.count()

    def seeded_reset(seed=None, options=None):
        s = train_seed(base + next(count) * n_streams + stream)
        assert s in TRAIN_SEEDS
        return reset(seed=s, options=options)

    par.reset = seeded_reset


def shared_policy(agent_id, *args, **kwargs) -> str:
    return "shared"


def own_policy(agent_id, *args, **kwargs) -> str:
    return str(agent_id)


def register_isac_env(settings: dict) -> str:
    """Register the creator with Ray (the workers fetch it from the cluster) and return its name."""
    from functools import partial

    from ray.tune.registry import register_env

    name = f"isac_rllib/{settings['system']}{'-ma' if settings['multiagent'] else ''}"
    register_env(name, partial(make_rllib_env, settings))
    return name


# --------------------------------------------------------------------------- the RLlib config
def ppo_config(system, settings: dict, hp: dict, agents: list[str] | None, policies: str,
               num_env_runners: int, num_envs_per_env_runner: int, timesteps: int):
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    batch = int(min(hp["train_batch_size"], max(timesteps, 2)))
    cfg = (PPOConfig()
           .environment(register_isac_env(settings), disable_env_checking=True)
           .env_runners(num_env_runners=num_env_runners, num_envs_per_env_runner=num_envs_per_env_runner)
           .training(gamma=float(hp["gamma"]), lr=float(hp["learning_rate"]), train_batch_size_per_learner=batch,
                     minibatch_size=min(int(hp["batch_size"]), batch), num_epochs=int(hp["n_epochs"]))
           .rl_module(model_config=DefaultModelConfig(fcnet_hiddens=list(hp["net_arch"]), fcnet_activation="tanh"))
           .debugging(seed=int(settings["seed"])))
    if agents is not None:
        ids = ["shared"] if policies == "shared" else list(agents)
        cfg = cfg.multi_agent(policies=set(ids), policy_mapping_fn=shared_policy if policies == "shared" else own_policy)
        cfg = cfg.rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={i: RLModuleSpec() for i in ids}))
    return cfg


def rllib_hyperparameters(system_name: str, overrides: dict) -> dict:
    from agents.training import TRAIN_DEFAULTS

    hp = dict(gamma=0.99, n_steps=256, batch_size=256, learning_rate=3e-4, net_arch=[64, 64])
    hp.update(TRAIN_DEFAULTS.get(system_name, {}))
    hp.setdefault("n_epochs", 10)
    hp.setdefault("train_batch_size", 4 * int(hp["n_steps"]))  # SB3's rollout with its default 4 envs
    hp.update(overrides)
    return hp


# --------------------------------------------------------------------------- export / load without Ray
def _mlp_layers(module) -> list:
    """The actor's (encoder + pi head) torch layers of an RLlib default PPO RLModule, in order."""
    encoder = module.encoder
    actor = getattr(encoder, "actor_encoder", None) or getattr(encoder, "encoder")
    return list(actor.net.mlp) + list(module.pi.net.mlp)


def export_policy(algo, module_ids: list[str], path: Path) -> None:
    """policy.npz: per module ``<id>/W<k>``, ``<id>/b<k>`` and ``<id>/act<k>`` (activation after layer k)."""
    arrays: dict[str, np.ndarray] = {"module_ids": np.array(module_ids)}
    for mid in module_ids:
        k, acts = -1, []
        for layer in _mlp_layers(algo.get_module(mid)):
            name = type(layer).__name__
            if name == "Linear":
                k += 1
                arrays[f"{mid}/W{k}"] = layer.weight.detach().cpu().numpy().astype(np.float32)
                arrays[f"{mid}/b{k}"] = layer.bias.detach().cpu().numpy().astype(np.float32)
                acts.append("")
            elif name in _ACTIVATIONS:
                if _ACTIVATIONS[name]:
                    acts[k] = _ACTIVATIONS[name]
            else:
                raise ValueError(f"cannot export RLModule layer {name!r} of module {mid!r}")
        arrays[f"{mid}/activations"] = np.array(acts)
    np.savez(path, **arrays)


class RLlibActor:
    """The deterministic action of an exported RLlib PPO module: the Gaussian mean, clipped to the bounds."""

    _FN = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0), "silu": lambda x: x / (1.0 + np.exp(-x)), "": None}

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray, str]], low: np.ndarray, high: np.ndarray):
        self.weights, self.low, self.high = weights, low.astype(np.float32), high.astype(np.float32)
        self.action_dim = int(np.prod(low.shape))
        if weights[-1][0].shape[0] != 2 * self.action_dim:
            raise ValueError(f"exported policy outputs {weights[-1][0].shape[0]} values, expected 2 x action dim "
                             f"{self.action_dim} (Gaussian mean and log-std)")

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, np.float32)
        for w, b, act in self.weights:
            x = x @ w.T + b
            if act:
                x = self._FN[act](x)
        mean = np.clip(x[..., : self.action_dim], -1.0, 1.0)  # RLlib normalize_actions: [-1, 1] -> bounds
        return (self.low + (mean + 1.0) * 0.5 * (self.high - self.low)).reshape(*x.shape[:-1], *self.low.shape)

    @classmethod
    def load(cls, path: Path, module_id: str, action_space) -> "RLlibActor":
        z = np.load(path)
        acts = list(z[f"{module_id}/activations"])
        weights = [(z[f"{module_id}/W{k}"], z[f"{module_id}/b{k}"], str(a)) for k, a in enumerate(acts)]
        return cls(weights, np.asarray(action_space.low), np.asarray(action_space.high))


class RLlibAgentPolicy:
    """An exported single-agent RLlib policy behind ``act(obs, info)``."""

    multiagent = False

    def __init__(self, actor: RLlibActor, name: str = "rllib_ppo", own_env=None):
        self.actor, self.name, self.own_env, self.decision = actor, name, own_env, None

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        return self.actor(obs)


class RLlibMultiAgentPolicy:
    """Exported RLlib policies acting for every agent of a PettingZoo parallel env (shared or per agent)."""

    multiagent = True

    def __init__(self, actors: dict[str, RLlibActor], parallel_env, name: str = "rllib_mappo"):
        self.actors, self.parallel_env, self.name, self.decision = actors, parallel_env, name, None

    def reset(self, seed: int | None = None) -> None:
        pass

    def act_all(self, observations: dict[str, np.ndarray], infos: dict) -> dict[str, np.ndarray]:
        if len({id(self.actors[a]) for a in observations}) == 1:  # shared: one batched forward pass
            agents = list(observations)
            actions = self.actors[agents[0]](np.stack([observations[a] for a in agents]))
            return {a: actions[i] for i, a in enumerate(agents)}
        return {a: self.actors[a](o) for a, o in observations.items()}


def load_rllib_agent(path: str | Path, config: str | None = None):
    """A ``backend: rllib`` run folder as a policy (numpy only: no Ray needed)."""
    from agents.evaluation import make_env
    from agents.systems import get_system
    from agents.trained import make_parallel_env, read_run

    path = Path(path)
    run = read_run(path)
    system = get_system(run["system"])
    opts = dict(run.get("env_options") or {})
    name = run.get("name", path.name)
    if run.get("multiagent"):
        par = make_parallel_env(system, config or run["config"], **opts)
        mapping = run["rllib"]["agent_to_module"]
        loaded: dict[str, RLlibActor] = {}
        actors = {}
        for agent in par.possible_agents:
            mid = mapping[agent]
            if mid not in loaded:
                loaded[mid] = RLlibActor.load(path / POLICY_FILE, mid, par.action_space(agent))
            actors[agent] = loaded[mid]
        return RLlibMultiAgentPolicy(actors, par, name)
    env = make_env(system, config or run["config"], **opts)
    actor = RLlibActor.load(path / POLICY_FILE, run["rllib"]["agent_to_module"]["default_agent"], env.action_space)
    return RLlibAgentPolicy(actor, name, own_env=env if opts else None)


# --------------------------------------------------------------------------- training
def _sampled(result: dict) -> int:
    runners = result.get("env_runners", {})
    return int(result.get("num_env_steps_sampled_lifetime", runners.get("num_env_steps_sampled_lifetime", 0)))


def train_rllib(system_name: str, multiagent: bool = False, policies: str = "shared", config: str = "small",
                timesteps: int = 50_000, seed: int = 0, out: str | Path | None = None, num_env_runners: int = 1,
                num_envs_per_env_runner: int = 1, address: str | None = None, eval_every: int | None = None,
                eval_episodes: int = 5, env_options: dict | None = None, progress: bool = True,
                command: str | None = None, ray_init: dict | None = None, **overrides: Any) -> Path:
    """Train RLlib PPO and write an SB3-compatible run folder; returns the folder.

    address: ``None`` starts a local Ray instance (``ray_init`` keywords, e.g. ``num_cpus``),
    ``"auto"`` joins the cluster of this node (``ray start --head``), ``"ray://HOST:PORT"`` a remote one.
    """
    import ray

    from agents.systems import get_system
    from agents.training import _versions, _write_curve, _write_eval_check, _write_run_yaml, reference_levels
    from agents.training import validation_score
    from agents.seeds import TRAIN_SEEDS

    system = get_system(system_name)
    if policies not in ("shared", "per-agent"):
        raise ValueError(f"policies must be 'shared' or 'per-agent', got {policies!r}")
    if timesteps < 1:
        raise ValueError(f"timesteps must be >= 1, got {timesteps}")
    if num_env_runners < 0 or num_envs_per_env_runner < 1:
        raise ValueError(f"num_env_runners must be >= 0 and num_envs_per_env_runner >= 1, got "
                         f"{num_env_runners} and {num_envs_per_env_runner}")
    env_options = dict(env_options or {})
    name = overrides.pop("name", None)
    hp = rllib_hyperparameters(system.name, overrides)
    kind = ("rllib_mappo" if policies == "shared" else "rllib_ippo") if multiagent else "rllib_ppo"
    out = Path(out or f"runs/{system.name}_{kind}_{Path(config).stem}_s{seed}")
    out.mkdir(parents=True, exist_ok=True)

    agents = None
    if multiagent:
        from agents.trained import make_parallel_env

        agents = list(make_parallel_env(system, config, **env_options).possible_agents)
    module_of = ({a: ("shared" if policies == "shared" else a) for a in agents} if multiagent
                 else {"default_agent": "default_policy"})
    module_ids = sorted(set(module_of.values()))
    settings = dict(system=system.name, config=config, env_options=env_options, multiagent=multiagent,
                    seed=seed, num_env_runners=num_env_runners, envs_per_worker=num_envs_per_env_runner)

    started_ray = False
    if not ray.is_initialized():
        local = {} if address else {"include_dashboard": False}  # joining a cluster: its own settings
        # no --address: always a new local instance ("local"), even if a stale /tmp/ray/ray_current_cluster
        # or RAY_ADDRESS points at a cluster that is gone
        ray.init(address=address or "local", **(local | dict(ray_init or {})))
        started_ray = True
    try:
        algo = ppo_config(system, settings, hp, agents, policies, num_env_runners, num_envs_per_env_runner,
                          timesteps).build_algo()
        points, sampled, iteration, train_seconds = [], 0, 0, 0.0
        every = eval_every or max(timesteps // 10, 1)
        next_eval = every

        def evaluate(n: int) -> float:
            export_policy(algo, module_ids, out / POLICY_FILE)
            _write_run_yaml(out, _run_data())  # load_rllib_agent reads the mapping from run.yaml
            score = validation_score(system, config, lambda env: load_rllib_agent(out, config), eval_episodes,
                                     env_options)
            points.append((n, score))
            return score

        def _run_data(**extra):
            return dict(name=name or kind, system=system.name, backend="rllib", multiagent=multiagent,
                        algo="ppo", config=config, timesteps=timesteps, seed=seed, env_options=env_options,
                        hyperparameters=hp, **extra,
                        rllib=dict(policies=policies if multiagent else "single", agent_to_module=module_of,
                                   num_env_runners=num_env_runners, num_envs_per_env_runner=num_envs_per_env_runner,
                                   address=address or "local", export=POLICY_FILE,
                                   export_format="actor MLP weights (numpy); deterministic action = Gaussian mean"),
                        seed_ranges=dict(train=[TRAIN_SEEDS.start, TRAIN_SEEDS.stop]),
                        command=command or "isac " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
                        versions=_versions() | _ray_version())

        while sampled < timesteps:
            t0 = time.perf_counter()
            result = algo.train()
            train_seconds += time.perf_counter() - t0
            sampled, iteration = _sampled(result), iteration + 1
            if progress:
                ret = result.get("env_runners", {}).get("episode_return_mean", float("nan"))
                print(f"rllib iteration {iteration}: {sampled} env-steps, episode return {ret:.4g}, "
                      f"{sampled / train_seconds:,.0f} env-steps/s", flush=True)
            if sampled >= next_eval and sampled < timesteps:
                next_eval = sampled + every
                evaluate(sampled)
                algo.save_to_path(str((out / "checkpoints" / f"iter_{iteration:04d}").resolve()))
        final = evaluate(sampled)
        algo.save_to_path(str((out / "checkpoints" / "final").resolve()))
        algo.stop()
    finally:
        if started_ray:
            ray.shutdown()
    levels = reference_levels(system, config, eval_episodes, env_options)
    _write_curve(out, points, levels, system, kind)
    _write_run_yaml(out, _run_data(trained_timesteps=sampled, iterations=iteration, train_seconds=round(train_seconds, 1),
                                   env_steps_per_second=round(sampled / train_seconds, 1),
                                   final_validation_objective=final, reference_levels=levels))
    _write_eval_check(out, system, config)
    return out


def _ray_version() -> dict[str, str]:
    import ray

    return {"ray": ray.__version__}


def cmd_train_rllib(args) -> int:
    from agents.training import _parse_env_options

    try:
        import ray  # noqa: F401
    except ImportError:
        raise ValueError("--backend rllib needs Ray RLlib: pip install 'isac-envs[rllib]' "
                         "(in its own venv: RLlib pins its own gymnasium)") from None
    if args.algo != "ppo":
        raise ValueError("--backend rllib trains PPO (--algo ppo)")
    out = train_rllib(args.system, multiagent=args.multiagent, policies=args.policies, config=args.config,
                      timesteps=args.timesteps, seed=args.seed, out=args.out, num_env_runners=args.num_env_runners,
                      num_envs_per_env_runner=args.num_envs_per_env_runner, address=args.address,
                      eval_every=args.eval_every, eval_episodes=args.eval_episodes,
                      env_options=_parse_env_options(args.env), progress=not args.no_progress)
    print(f"run written to {out}")
    print((out / "run.yaml").read_text())
    return 0
