"""``isac train``: SB3 PPO/SAC on a Gymnasium id, or parameter-sharing PPO on a PettingZoo env.

SB3 steps the id's native vector env when it registers one (``agents.vec``; ``--vector``), and
multi-agent PPO batches envs x agents over it with the system's batched hooks; ``--backend rllib``
trains with Ray RLlib instead (``agents.rllib_backend``). See docs/scaling.md.

Training draws every instance from the training seed range (``agents.seeds.TRAIN_SEEDS``);
periodic evaluation uses the validation range; the leaderboard uses the test range.
A run folder gets ``model.zip``, ``obs_norm.npz``, ``run.yaml``, ``curve.csv``,
``learning_curve.png``, ``checkpoints/`` and TensorBoard logs under ``tb/``.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.seeds import TRAIN_SEEDS, train_seed, validation_seeds
from agents.systems import SystemInfo, get_system

#: Per-system defaults: gamma reflects whether a decision changes future states
#: (DFL and multi_uav_isac: no -> contextual bandit, gamma 0; UEC: the UAV position carries
#: over; cell_free_sat_uav: the flight budgets couple the slots, undiscounted return = objective).
TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "device_free_localization": dict(gamma=0.0, n_steps=256, batch_size=256, learning_rate=1e-3, net_arch=[64, 64]),
    "multi_uav_isac": dict(gamma=0.0, n_steps=256, batch_size=256, learning_rate=3e-4, net_arch=[128, 128]),
    # v1 (one fading block per step, return = penalised EC objective); small initial noise: the beams' interference nulls need precise directions at 60 dB SNR;
    # gamma 0.9 (shorter credit horizon over the blocks) beat gamma 1 on validation (30.97 vs 30.59)
    "uav_effective_capacity": dict(gamma=0.9, n_steps=1024, batch_size=256, learning_rate=1e-4, n_epochs=5,
                                   net_arch=[128, 128], log_std_init=-2.0),
    "cell_free_sat_uav": dict(gamma=1.0, n_steps=256, batch_size=256, learning_rate=3e-4, net_arch=[128, 128]),
}


class TrainSeedWrapper(gym.Wrapper):
    """Every reset draws the next seed of this env's stream inside the training range."""

    def __init__(self, env: gym.Env, stream: int, n_streams: int, base_seed: int):
        super().__init__(env)
        self.stream, self.n_streams, self.base_seed, self.k = stream, n_streams, base_seed, 0

    def reset(self, *, seed=None, options=None):
        s = train_seed(self.base_seed + self.k * self.n_streams + self.stream)
        assert s in TRAIN_SEEDS
        self.k += 1
        return self.env.reset(seed=s, options=options)


def _ma_seed(base_seed: int, n_copies: int):
    def seed_fn(copy: int, episode: int) -> int:
        s = train_seed(base_seed + episode * n_copies + copy)
        assert s in TRAIN_SEEDS
        return s

    return seed_fn


def make_train_vec_env(system: SystemInfo, config: str, n_envs: int, seed: int, multiagent: bool,
                       env_options: dict | None = None):
    """The SB3 VecEnv ``isac train`` steps (see :func:`build_train_vec_env`)."""
    return build_train_vec_env(system, config, n_envs, seed, multiagent, env_options)[0]


VECTOR_MODES = ("auto", "native", "per-env")


def build_train_vec_env(system: SystemInfo, config: str, n_envs: int, seed: int, multiagent: bool,
                        env_options: dict | None = None, vector: str = "auto"):
    """(SB3 VecEnv, kind): the native vector env when the id registers one, else one env per slot.

    vector: "auto" (native when available), "native" (required: error otherwise) or "per-env"
    (today's DummyVecEnv / PettingZoo copies). kind is "native", "native-agents" (multi-agent over
    the native vector env and the system's batched hooks), "per-env" or "pettingzoo".
    Env ``i``'s first episode uses the same training seed on every path.
    """
    if vector not in VECTOR_MODES:
        raise ValueError(f"vector must be one of {VECTOR_MODES}, got {vector!r}")
    base = seed * 100_003  # distinct seed streams per training seed
    opts = dict(env_options or {})
    if vector != "per-env":
        built = (_native_multiagent_vec(system, config, n_envs, base, opts) if multiagent
                 else _native_single_vec(system, config, n_envs, base, opts))
        if built is not None:
            return built
        if vector == "native":
            raise ValueError(f"vector='native': {system.env_id} has no SAME_STEP native vector env"
                             + (" and batched multi-agent hooks" if multiagent else ""))
    return _per_env_vec(system, config, n_envs, base, multiagent, opts)


def _per_env_vec(system, config, n_envs, base, multiagent, opts):
    from stable_baselines3.common.vec_env import DummyVecEnv

    from agents.evaluation import make_env
    from agents.trained import make_parallel_env

    if multiagent:
        from agents.multiagent import ParallelEnvVec

        fns = [lambda: make_parallel_env(system, config, **opts)] * n_envs
        return ParallelEnvVec(fns, _ma_seed(base, n_envs)), "pettingzoo"
    fns = [lambda i=i: TrainSeedWrapper(make_env(system, config, **opts), i, n_envs, base) for i in range(n_envs)]
    return DummyVecEnv(fns), "per-env"


def _native_single_vec(system, config, n_envs, base, opts):
    from agents.vec import VectorEnvAdapter, native_vector_env

    venv = native_vector_env(system.env_id, n_envs, config=config, **opts)
    if venv is None:
        return None
    # training stream i, k-th explicit reset: the seed TrainSeedWrapper would draw
    return VectorEnvAdapter(venv, _ma_seed(base, n_envs), keep_info=False), "native"


def _native_multiagent_vec(system, config, n_envs, base, opts):
    import importlib

    from agents.trained import make_parallel_env
    from agents.vec import AgentBatchVecEnv, has_vector_entry_point, native_vector_env

    par = make_parallel_env(system, config, **opts)
    hooks = importlib.import_module(type(par).__module__)
    batch_obs = getattr(hooks, "batch_agent_observations", None)
    batch_action = getattr(hooks, "batch_joint_action", None)
    if batch_obs is None or batch_action is None or not has_vector_entry_point(system.env_id):
        par.close()
        return None
    venv = native_vector_env(system.env_id, n_envs, config=config, **opts)
    if venv is None:
        par.close()
        return None
    agent = par.possible_agents[0]
    vec = AgentBatchVecEnv(venv, par.params, len(par.possible_agents), par.observation_space(agent),
                           par.action_space(agent), batch_obs, batch_action, _ma_seed(base, n_envs),
                           feedback=getattr(hooks, "batch_feedback", None))
    par.close()
    return vec, "native-agents"


class CurveCallback:
    """Periodic validation: mean episode objective of the current (deterministic) policy."""

    def __init__(self, system, config, policy_factory, every: int, episodes: int, bar=None):
        self.system, self.config, self.factory = system, config, policy_factory
        self.every, self.episodes, self.bar = every, episodes, bar
        self.points: list[tuple[int, float]] = []
        self._next = 0

    def sb3(self):
        from stable_baselines3.common.callbacks import BaseCallback

        outer = self

        class _CB(BaseCallback):
            def _on_step(self) -> bool:
                n = self.num_timesteps
                if outer.bar is not None:
                    outer.bar.n = min(n, outer.bar.total)
                    outer.bar.refresh()
                if n >= outer._next:
                    outer._next = n + outer.every
                    outer.evaluate(n, self.model, self.training_env)
                return True

        return _CB()

    def evaluate(self, n: int, model, venv) -> float:
        score = validation_score(self.system, self.config, lambda env: self.factory(model, venv), self.episodes)
        self.points.append((n, score))
        if self.bar is not None:
            self.bar.set_postfix_str(f"val objective {score:.4g}")
        return score


def validation_score(system, config, make_policy, episodes: int, env_options: dict | None = None) -> float:
    """Mean objective of ``make_policy(env)`` on the validation seeds (the policy acts in ``env``)."""
    from agents.evaluation import make_env, run_policy

    env = make_env(system, config, **(env_options or {}))
    res = run_policy(env, make_policy(env), validation_seeds(episodes), system.episode_objective)
    env.close()
    return float(np.mean([r.objective for r in res]))


def reference_levels(system, config, episodes: int, env_options: dict | None = None) -> dict[str, float]:
    """The paper solver's and the random policy's validation levels (for the curve), on the trained env."""
    from baselines.policy import RandomPolicy, SolverPolicy

    spec = system.baselines.POLICIES[system.baselines.PAPER_SOLVER]

    def solver(env):  # encode_action may depend on the env's state: the policy must act in `env`
        return SolverPolicy(spec.load(), env, replan=spec.load_replan(), **spec.options)

    return {system.baselines.PAPER_SOLVER: validation_score(system, config, solver, episodes, env_options),
            "random": validation_score(system, config, RandomPolicy, episodes, env_options)}


def _policy_factory(system, config, multiagent, env_options):
    from agents.evaluation import make_env
    from agents.trained import AgentPolicy, MultiAgentPolicy, ObsNormaliser, make_parallel_env

    def factory(model, venv):
        norm = ObsNormaliser.from_vecnormalize(venv) if hasattr(venv, "obs_rms") else None
        if multiagent:
            return MultiAgentPolicy(model, make_parallel_env(system, config, **env_options), norm)
        return AgentPolicy(model, norm, own_env=make_env(system, config, **env_options) if env_options else None)

    return factory


def train(system_name: str, multiagent: bool = False, algo: str = "ppo", config: str = "small",
          timesteps: int = 50_000, seed: int = 0, out: str | Path | None = None, n_envs: int = 4,
          eval_every: int | None = None, eval_episodes: int = 5, norm_obs: bool = True,
          norm_reward: bool = True, progress: bool = True, command: str | None = None,
          env_options: dict[str, Any] | None = None, vector: str = "auto",
          **overrides: Any) -> Path:
    """Train one agent and write its run folder; returns the folder.

    vector: "auto" steps SB3 through the id's native vector env when it registers one (else one
    env per slot), "native" requires it, "per-env" forces the one-env-per-slot path.
    """
    import torch
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback
    from stable_baselines3.common.vec_env import VecNormalize

    from agents.trained import ObsNormaliser

    system = get_system(system_name)
    if algo not in ("ppo", "sac"):
        raise ValueError(f"algo must be 'ppo' or 'sac', got {algo!r}")
    if multiagent and algo != "ppo":
        raise ValueError("multi-agent training is parameter-sharing PPO (--algo ppo)")
    from isac_envs.core import require_int

    for name, value in (("timesteps", timesteps), ("n_envs", n_envs), ("eval_episodes", eval_episodes)):
        require_int(name, value, minimum=1)
    if eval_every is not None:
        require_int("eval_every", eval_every, minimum=1)
    from agents.evaluation import make_env

    make_env(system, config, **dict(env_options or {})).close()  # config and --env errors before any folder is made
    torch.set_num_threads(1)
    name = overrides.pop("name", None)
    hp = {**TRAIN_DEFAULTS.get(system.name, {}), **overrides}
    kind = "mappo" if multiagent else algo
    out = Path(out or f"runs/{system.name}_{kind}_{Path(config).stem}_s{seed}")
    out.mkdir(parents=True, exist_ok=True)

    env_options = dict(env_options or {})
    venv, vec_kind = build_train_vec_env(system, config, n_envs, seed, multiagent, env_options, vector)
    gamma = float(hp.get("gamma", 0.99))
    venv = VecNormalize(venv, norm_obs=norm_obs, norm_reward=norm_reward, gamma=gamma, clip_obs=10.0)
    policy_kwargs = dict(net_arch=list(hp.get("net_arch", [64, 64])))
    if algo == "ppo":  # a rollout never exceeds the run (64 agents x 4 copies x 256 steps = 65,536 agent-steps)
        hp["n_steps"] = min(int(hp.get("n_steps", 256)), -(-timesteps // venv.num_envs))
        hp["batch_size"] = min(int(hp.get("batch_size", 256)), hp["n_steps"] * venv.num_envs)
    if "log_std_init" in hp and algo == "ppo":  # initial exploration noise (wide action spaces)
        policy_kwargs["log_std_init"] = float(hp["log_std_init"])
    if algo == "ppo":
        model = PPO("MlpPolicy", venv, seed=seed, verbose=0, device="cpu", tensorboard_log=str(out / "tb"),
                    gamma=gamma, n_steps=int(hp.get("n_steps", 256)), batch_size=int(hp.get("batch_size", 256)),
                    learning_rate=float(hp.get("learning_rate", 3e-4)), ent_coef=float(hp.get("ent_coef", 0.0)),
                    n_epochs=int(hp.get("n_epochs", 10)), policy_kwargs=policy_kwargs)
    else:
        model = SAC("MlpPolicy", venv, seed=seed, verbose=0, device="cpu", tensorboard_log=str(out / "tb"),
                    gamma=max(gamma, 0.0), learning_rate=float(hp.get("learning_rate", 3e-4)),
                    policy_kwargs=policy_kwargs)

    from tqdm.auto import tqdm

    bar = tqdm(total=timesteps, desc=f"train {system.name} {kind}", unit="step", disable=not progress)
    every = eval_every or max(timesteps // 10, 1)
    curve = CurveCallback(system, config, _policy_factory(system, config, multiagent, env_options), every, eval_episodes, bar)
    ckpt = CheckpointCallback(save_freq=max(timesteps // (5 * venv.num_envs), 1), save_path=str(out / "checkpoints"),
                              name_prefix="model")
    t0 = time.perf_counter()
    model.learn(total_timesteps=timesteps, callback=CallbackList([curve.sb3(), ckpt]), tb_log_name=kind)
    train_seconds = time.perf_counter() - t0
    final = curve.evaluate(model.num_timesteps, model, venv)
    bar.close()

    model.save(out / "model.zip", exclude=["tensorboard_log"])
    norm = ObsNormaliser.from_vecnormalize(venv)
    if norm is not None:
        norm.save(out / "obs_norm.npz")
    levels = reference_levels(system, config, eval_episodes, env_options)
    _write_curve(out, curve.points, levels, system, kind)
    _write_run_yaml(out, dict(
        name=name or kind, env_id=system.env_id,
        system=system.name, multiagent=multiagent, algo=algo, config=config, timesteps=timesteps,
        trained_timesteps=int(model.num_timesteps), seed=seed, n_envs=n_envs, norm_obs=norm_obs,
        norm_reward=norm_reward, env_options=env_options, hyperparameters=hp,
        train_seconds=round(train_seconds, 1), final_validation_objective=final, reference_levels=levels,
        vector_env=vec_kind,
        seed_ranges=dict(train=[TRAIN_SEEDS.start, TRAIN_SEEDS.stop]),
        command=command or "isac " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        versions=_versions()))
    venv.close()
    _write_eval_check(out, system, config)
    return out


def _write_eval_check(out: Path, system, config: str, episodes: int = 5) -> None:
    """Objectives of the saved (reloaded) agent on the first test seeds: a reproducibility record."""
    import json

    from agents.evaluation import make_env, run_policy
    from agents.seeds import eval_seeds
    from agents.trained import load_agent

    env = make_env(system, config)
    seeds = eval_seeds(episodes)
    res = run_policy(env, load_agent(out, config), seeds, system.episode_objective)
    env.close()
    (out / "eval_check.json").write_text(json.dumps(
        {"system": system.name, "config": config, "seeds": seeds, "objectives": [r.objective for r in res]},
        indent=1), encoding="utf-8")


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("isac-envs", "stable-baselines3", "torch", "gymnasium", "pettingzoo", "numpy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    out["python"] = sys.version.split()[0]
    return out


def _write_run_yaml(out: Path, data: dict) -> None:
    import yaml

    (out / "run.yaml").write_text(yaml.safe_dump(_plain(data), sort_keys=False), encoding="utf-8")


def _plain(x):
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    return x


def _write_curve(out: Path, points, levels: dict[str, float], system, kind: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(out / "curve.csv", "w", encoding="utf-8") as fh:
        fh.write("timesteps,validation_objective\n")
        fh.writelines(f"{n},{v}\n" for n, v in points)
    fig, ax = plt.subplots(figsize=(6, 4))
    if points:
        ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=kind)
    styles = {"random": ":"}
    for name, v in levels.items():
        ax.axhline(v, ls=styles.get(name, "--"), color="k" if name != "random" else "grey", label=f"{name} ({v:.4g})")
    ax.set_xlabel("training timesteps")
    ax.set_ylabel("mean validation objective")
    ax.set_title(f"{system.name}: {kind} learning curve")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "learning_curve.png", dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------- CLI
def _parse_env_options(items: list[str] | None) -> dict[str, Any]:
    """``["observation=full", "num_uavs=6"]`` -> {"observation": "full", "num_uavs": 6} (YAML scalars)."""
    import yaml

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--env takes KEY=VALUE, got {item!r}")
        try:
            out[key] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
            raise ValueError(f"--env {item!r}: the value is not valid YAML ({problem})") from None
    return out


def cmd_train(args) -> int:
    if args.backend == "rllib":
        from agents.rllib_backend import cmd_train_rllib

        return cmd_train_rllib(args)
    out = train(args.system, multiagent=args.multiagent, algo=args.algo, config=args.config,
                timesteps=args.timesteps, seed=args.seed, out=args.out, n_envs=args.n_envs,
                eval_every=args.eval_every, eval_episodes=args.eval_episodes,
                norm_obs=not args.no_norm_obs, norm_reward=not args.no_norm_reward, progress=not args.no_progress,
                env_options=_parse_env_options(args.env), vector=args.vector)
    print(f"run written to {out}")
    print((out / "run.yaml").read_text())
    return 0


def cmd_report(args) -> int:
    from agents.report import write_report

    path = write_report(Path(args.out), episodes=args.episodes, config=args.config, systems=args.system)
    print(f"written: {path}")
    return 0


def add_cli(sub) -> None:
    from agents.cli import nonnegative_int, positive_int

    tr = sub.add_parser("train", help="train PPO/SAC (or multi-agent PPO) on a system")
    tr.add_argument("--system", required=True)
    tr.add_argument("--multiagent", action="store_true", help="parameter-sharing PPO on the PettingZoo env")
    tr.add_argument("--algo", default="ppo", choices=["ppo", "sac"])
    tr.add_argument("--config", default="small")
    tr.add_argument("--timesteps", type=positive_int, default=50_000)
    tr.add_argument("--seed", type=nonnegative_int, default=0)
    tr.add_argument("--out", default=None, help="run folder (default runs/<system>_<algo>_<config>_s<seed>)")
    tr.add_argument("--n-envs", type=positive_int, default=4)
    tr.add_argument("--eval-every", type=positive_int, default=None, help="timesteps between validation evaluations")
    tr.add_argument("--eval-episodes", type=positive_int, default=5)
    tr.add_argument("--no-norm-obs", action="store_true")
    tr.add_argument("--no-norm-reward", action="store_true")
    tr.add_argument("--no-progress", action="store_true")
    tr.add_argument("--env", nargs="*", metavar="KEY=VALUE", default=None,
                    help="env keywords (env-only options such as observation=full, or Params overrides)")
    # scaling (docs/scaling.md): native vector envs (SB3) and Ray RLlib
    tr.add_argument("--vector", default="auto", choices=list(VECTOR_MODES),
                    help="SB3: step the id's native vector env (auto: when registered) or one env per slot")
    tr.add_argument("--backend", default="sb3", choices=["sb3", "rllib"],
                    help="sb3 (default) or rllib: Ray RLlib PPO, pip install 'isac-envs[rllib]'")
    tr.add_argument("--policies", default="shared", choices=["shared", "per-agent"],
                    help="rllib --multiagent: one shared policy (parameter sharing) or one per agent")
    tr.add_argument("--num-env-runners", type=int, default=1, help="rllib: env-runner actors (0: sample in the driver)")
    tr.add_argument("--num-envs-per-env-runner", type=int, default=1, help="rllib: envs per env runner")
    tr.add_argument("--address", default=None,
                    help="rllib: Ray cluster to join (auto | ray://HOST:PORT); default: a local Ray instance")
    tr.set_defaults(func=cmd_train)

    rp = sub.add_parser("report", help="write docs/results.md: leaderboards, learning curves, decision times")
    rp.add_argument("--out", default="docs/results.md")
    rp.add_argument("--episodes", type=positive_int, default=10)
    rp.add_argument("--config", default="small")
    rp.add_argument("--system", nargs="*", default=None)
    rp.set_defaults(func=cmd_report)
