"""Native vector env of ``isac_envs/CellFreeSatUAV-v0`` (issue 12, contract 5): B flights stepped at once.

Every env of the batch is at the same slot (the episode length is the fixed N), so a step decodes slot n
of all B flights with the batched pure functions of ``model`` (``batch_*``), which reuse the single env's
functions (``backoff``, ``interference_w``, ``mc_logdet_rate_bits``) with the env axis in place of the
slot axis. Randomness: env i owns ``np.random.Generator`` ``rngs[i]`` seeded as ``SyncVectorEnv`` seeds
it, and draws its flight's random numbers with ``model.draw_instance_randoms`` (the one Python loop over
envs, at the simultaneous autoreset every N steps); ``model.build_instances`` then computes every
flight (geometry, gains, fading) and ``model.observation_static`` its observation blocks, batched.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from isac_envs.cell_free_sat_uav import model
from isac_envs.cell_free_sat_uav.env import CellFreeSatUAVEnv
from isac_envs.core import resolve_params

_INSTANCE_FIELDS = ("gain_user", "gain_sat", "sat_subchannel", "fading")


class CellFreeSatUAVVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`CellFreeSatUAVEnv` (direct action mode) batched in numpy.

    Same keywords as ``gym.make("isac_envs/CellFreeSatUAV-v0", ...)``: ``params=``, ``config=``, Params
    overrides, ``enforce_interference=``, ``observation=``; ``action_mode="hybrid"`` raises ValueError (its
    power step is an iterative interior-point solve per env; use ``vectorization_mode="sync"``).
    Env i's episode equals the single env's with seed s + i (``reset(seed=s)``) to 1e-12, also after the
    SAME_STEP autoreset. ``step`` returns obs (B, D) float32, rewards (B,) float64, terminations and
    truncations (B,) bool and infos ``objective``, ``feasible``, ``slot`` (B,) of the step just played; on the
    autoreset step (every N-th) also ``final_obs`` (object array of (D,) observations), ``final_info``
    (``objective``, ``feasible``, ``slot``) and their masks ``_final_obs``, ``_final_info``; the returned
    observations are then the new flights' first ones. No ``info["instance"]`` (agents only).
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int, params=None, config=None, render_mode: str | None = None,
                 enforce_interference: bool = True, observation: str = "summary", action_mode: str = "direct",
                 **param_overrides: Any):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        if action_mode == "hybrid":
            raise ValueError("action_mode='hybrid' is not available in the native vector env (its per-slot power "
                             "step is an iterative interior-point solve per env); use gym.make_vec(..., "
                             "vectorization_mode='sync') or the single env")
        if render_mode is not None:
            raise ValueError(f"the native vector env does not render, got render_mode={render_mode!r}")
        self._single = CellFreeSatUAVEnv(params=params, config=config, enforce_interference=enforce_interference,
                                         observation=observation, action_mode=action_mode, **param_overrides)
        self.params = p = self._single.params
        self.enforce_interference, self.full_obs = self._single.enforce_interference, observation == "full"
        self.num_envs = int(num_envs)
        self.render_mode = None
        self.single_observation_space = self._single.observation_space
        self.single_action_space = self._single.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.rngs: list[np.random.Generator] = [seeding.np_random(None)[0] for _ in range(self.num_envs)]
        B, N, M, L = self.num_envs, p.num_groups, p.num_uavs, p.num_subchannels
        self.state = model.batch_empty_state(p, B)
        self.inst: dict[str, np.ndarray] = {}
        self.static: list[np.ndarray] = []
        self.slot = 0
        self._needs_reset = True

    # ------------------------------------------------------------------ episodes
    def _seeds(self, seed):
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"seed must be an int, None or a list of {self.num_envs} seeds, got {len(seeds)}")
        return seeds

    def _new_flights(self) -> None:
        """Draw every env's flight from its own generator (the one loop over envs) and batch it."""
        draws = [model.draw_instance_randoms(self.params, rng) for rng in self.rngs]
        batched = model.build_instances(self.params, {k: np.stack([d[k] for d in draws]) for k in draws[0]})
        self.inst = {f: batched[f] for f in _INSTANCE_FIELDS}
        self.static = list(model.observation_static(self.params, SimpleNamespace(**batched), self.full_obs))
        self.state = model.batch_empty_state(self.params, self.num_envs)
        self.slot = 0
        self._needs_reset = False

    def reset(self, *, seed=None, options: dict | None = None):
        if options:
            raise ValueError(f"the native vector env takes no reset options, got {sorted(options)}")
        seeds = self._seeds(seed)
        for i, s in enumerate(seeds):
            if s is not None or seed is None:
                self.rngs[i] = seeding.np_random(s)[0]
        self._new_flights()
        return self._obs(), {"slot": np.zeros(self.num_envs, dtype=np.int64)}

    def step(self, actions):
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        a = np.asarray(actions)
        shape = (self.num_envs, *self.single_action_space.shape)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"actions must be a real numeric array of shape {shape}, got dtype {a.dtype}")
        if a.shape != shape:
            raise ValueError(f"actions must have shape {shape}, got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"actions contain non-finite values at env(s) {np.flatnonzero(~np.isfinite(a).all(1)).tolist()}")
        n = self.slot
        obj, j, feasible = model.batch_step(self.params, self.inst, self.state, n,
                                            np.clip(a.astype(np.float64), -1.0, 1.0), self.enforce_interference)
        reward = j - self.state["last_j"]
        self.state["last_j"] = j
        self.slot = n + 1
        B = self.num_envs
        done = self.slot >= self.params.num_groups
        terminated = np.full(B, done)
        infos: dict[str, Any] = {"objective": obj, "feasible": feasible, "slot": np.full(B, n, dtype=np.int64)}
        obs = self._obs()
        if done:
            final_obs = np.empty(B, dtype=object)
            final_obs[:] = list(obs)
            infos["final_obs"], infos["_final_obs"] = final_obs, np.ones(B, bool)
            infos["final_info"] = {"objective": obj, "feasible": feasible, "slot": infos["slot"],
                                   "_objective": np.ones(B, bool), "_feasible": np.ones(B, bool),
                                   "_slot": np.ones(B, bool)}
            infos["_final_info"] = np.ones(B, bool)
            self._new_flights()                                   # SAME_STEP autoreset, no new seed
            obs = self._obs()
        return obs, reward, terminated, np.zeros(B, bool), infos

    def _obs(self) -> np.ndarray:
        return model.batch_observation(self.params, self.static, self.state, self.slot)

    def close_extras(self, **kwargs):
        single = getattr(self, "_single", None)  # absent when __init__ raised (close() runs from __del__)
        if single is not None:
            single.close()
