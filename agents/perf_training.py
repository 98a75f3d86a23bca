"""SB3 PPO training throughput (env-steps/s, policy updates included), native vector env vs one env per slot.

    python -m agents.perf_training --system device_free_localization cartpole --n-envs 64 --timesteps 16384

``training_throughput(system, n_envs, timesteps, native)`` is what ``isac perf`` calls: it trains
PPO for ``timesteps`` env-steps (rollout + update, the shipped hyperparameters of the system) and
returns env-steps per wall-clock second of ``model.learn``. ``system="cartpole"`` is the
calibration: Gymnasium's ``CartPole-v1`` through its own native vector env (run in SAME_STEP
autoreset, see :class:`CartPoleSameStepVectorEnv`) or a ``DummyVecEnv`` of single envs.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv
from gymnasium.vector import AutoresetMode

CARTPOLE = "cartpole"


class CartPoleSameStepVectorEnv(CartPoleVectorEnv):
    """Gymnasium's native ``CartPoleVectorEnv`` (NEXT_STEP autoreset) resetting finished envs in the same step.

    Same physics, termination and reset distribution; a finished env's last observation is
    returned in ``infos["final_obs"]`` (with the ``_final_obs`` mask) and its next episode's first
    observation in ``obs``, SyncVectorEnv's SAME_STEP convention, which SB3 needs.
    """

    metadata = {**CartPoleVectorEnv.metadata, "autoreset_mode": AutoresetMode.SAME_STEP}

    def step(self, action):
        obs, reward, terminated, truncated, _ = super().step(action)
        done = np.logical_or(terminated, truncated)
        if not done.any():
            return obs, reward, terminated, truncated, {}
        self.state[:, done] = self.np_random.uniform(low=self.low, high=self.high, size=(4, int(done.sum())))
        self.steps[done] = 0
        self.prev_done[:] = False  # already reset: the parent's next step must not reset again
        infos = {"final_obs": obs, "_final_obs": done, "final_info": {}, "_final_info": done}
        return self.state.T.astype(np.float32), reward, terminated, truncated, infos


def _cartpole_vec(n_envs: int, seed: int, native: bool):
    from stable_baselines3.common.vec_env import DummyVecEnv

    from agents.vec import VectorEnvAdapter

    if native:
        return VectorEnvAdapter(CartPoleSameStepVectorEnv(num_envs=n_envs), keep_info=False)
    vec = DummyVecEnv([lambda: gym.make("CartPole-v1")] * n_envs)
    vec.seed(seed)
    return vec


def _ppo_kwargs(system: str, n_envs: int) -> dict:
    """``isac train``'s hyperparameters of the system (n_steps per env: a rollout is n_steps * n_envs)."""
    from agents.training import TRAIN_DEFAULTS

    hp = dict(TRAIN_DEFAULTS.get(system, dict(gamma=0.99, n_steps=256, batch_size=256, learning_rate=3e-4,
                                             net_arch=[64, 64])))
    return dict(gamma=hp["gamma"], n_steps=int(hp["n_steps"]), batch_size=int(hp["batch_size"]),
                learning_rate=hp["learning_rate"], policy_kwargs=dict(net_arch=list(hp["net_arch"])))


def training_throughput(system: str, n_envs: int, timesteps: int, native: bool, seed: int = 0,
                        config: str = "small") -> float:
    """SB3 PPO env-steps/s of ``model.learn(timesteps)`` (rollouts + policy updates), with VecNormalize.

    system: an isac system name (its Gymnasium id on ``config``) or ``"cartpole"``.
    native: step the native vector env (``ValueError`` if the id has none) or one env per slot.
    """
    m = measure_training(system, n_envs, timesteps, native, seed, config)
    return m["steps"] / m["wall_s"]


def measure_training(system: str, n_envs: int, timesteps: int, native: bool, seed: int = 0,
                     config: str = "small") -> dict:
    """``{"steps", "wall_s", "cpu_s"}`` of one PPO ``learn``; cpu_s (this process, torch on 1 thread)
    is the load-robust measure on a shared machine."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecNormalize

    if n_envs < 1 or timesteps < 1:
        raise ValueError(f"n_envs and timesteps must be >= 1, got n_envs={n_envs}, timesteps={timesteps}")
    torch.set_num_threads(1)
    if system == CARTPOLE:
        venv = _cartpole_vec(n_envs, seed, native)
    else:
        from agents.systems import get_system
        from agents.training import build_train_vec_env

        venv, _ = build_train_vec_env(get_system(system), config, n_envs, seed, multiagent=False,
                                      vector="native" if native else "per-env")
    kw = _ppo_kwargs(system, n_envs)
    venv = VecNormalize(venv, gamma=kw["gamma"], clip_obs=10.0)
    model = PPO("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **kw)
    t0, c0 = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=timesteps)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    venv.close()
    return {"steps": int(model.num_timesteps), "wall_s": wall, "cpu_s": cpu}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", nargs="+", default=[CARTPOLE, "device_free_localization"])
    ap.add_argument("--n-envs", type=int, nargs="+", default=[64])
    ap.add_argument("--timesteps", type=int, default=16_384)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args(argv)
    print("env-steps/s of PPO learn (rollouts + updates): wall clock, and per CPU-second of this process")
    print("| system | n_envs | per-env (wall) | native (wall) | per-env (CPU) | native (CPU) | native / per-env (CPU) |")
    print("|---|---|---|---|---|---|---|")
    for system in args.system:
        for n in args.n_envs:
            wall, cpu = {}, {}
            for native in (False, True):
                try:
                    ms = [measure_training(system, n, args.timesteps, native) for _ in range(args.repeats)]
                    wall[native] = float(np.median([m["steps"] / m["wall_s"] for m in ms]))
                    cpu[native] = float(np.median([m["steps"] / m["cpu_s"] for m in ms]))
                except ValueError as exc:  # no native vector env registered (yet)
                    wall[native] = cpu[native] = float("nan")
                    print(f"  ({system}: {exc})")
            print(f"| {system} | {n} | {wall[False]:,.0f} | {wall[True]:,.0f} | {cpu[False]:,.0f} | {cpu[True]:,.0f} "
                  f"| {cpu[True] / cpu[False]:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
