"""Native vector env of ``isac_envs/UAVEffectiveCapacity-v1`` (issue 12, contract 5).

Every env of the batch plays the same episode as ``gym.make(id).reset(seed=s + i)``: the
instances are drawn from one ``np.random.Generator`` per env (seeded exactly like the single env),
and the physics of a step (decode, SINR, beam gain, ``evaluate``'s aggregation) runs once over a
leading env axis with the same pure functions of :mod:`isac_envs.uav_effective_capacity.model`.
All envs have episodes of L + 1 steps, so the batch stays synchronised (same step index) and
autoresets (SAME_STEP) all at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from isac_envs.core import resolve_params
from isac_envs.physics.ula import rician_miso_channel
from isac_envs.uav_effective_capacity import model
from isac_envs.uav_effective_capacity.env import _TERMS, v1_observation, v1_observation_dim
from isac_envs.uav_effective_capacity.model import Params


class UAVEffectiveCapacityEnvVector(VectorEnv):
    """``num_envs`` copies of ``UAVEffectiveCapacityEnv`` (v1) stepped together in numpy.

    Same keywords as ``gym.make``: ``params=``, ``config=``, ``action_basis=`` and Params overrides.
    ``step`` returns obs (B, D) float32, rewards (B,) float64, terminations/truncations (B,) bool and
    infos with ``objective``, ``feasible``, ``slot``, ``block``, ``return`` (each (B,), with ``_key``
    masks); on the autoreset step (all envs at once) ``final_obs`` (object array of per-env
    observations), ``final_info`` (the last step's infos, incl. ``metrics``) and their masks, and
    the reset infos (``slot`` = 0), as ``SyncVectorEnv`` does in SAME_STEP mode.
    No ``info["instance"]`` (agents only).
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int, params=None, config=None, render_mode: str | None = None,
                 action_basis: str = "channel", **param_overrides: Any):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        if render_mode is not None:
            raise ValueError(f"the native vector env does not render (render_mode=None), got {render_mode!r}")
        if action_basis not in model.ACTION_BASES:
            raise ValueError(f"action_basis must be one of {model.ACTION_BASES}, got {action_basis!r}")
        self.params: Params = resolve_params(Params, "uav_effective_capacity", params, config, **param_overrides)
        p = self.params
        self.num_envs = int(num_envs)
        self.action_basis = action_basis
        self.render_mode = None
        self.single_action_space = spaces.Box(-1.0, 1.0, (model.v1_action_dim(p),), np.float32)
        self.single_observation_space = spaces.Box(-10.0, 10.0, (v1_observation_dim(p),), np.float32)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._rngs: list[np.random.Generator] | None = None
        self._t = 0

    # ------------------------------------------------------------------ reset
    def reset(self, *, seed: int | list | None = None, options: dict | None = None):
        if options:
            raise ValueError(f"unknown reset option(s) {sorted(options)}; the vector env takes none")
        B = self.num_envs
        if seed is None:
            seeds = [None] * B
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            seeds = [int(seed) + i for i in range(B)]
        else:
            seeds = list(seed)
            if len(seeds) != B:
                raise ValueError(f"seed must be an int, None or a list of {B} seeds, got {len(seeds)} seeds")
        self._rngs = [seeding.np_random(s)[0] for s in seeds]
        self._new_episodes()
        return self._observation(), {"slot": np.zeros(B, int), "_slot": np.ones(B, bool)}

    def _new_episodes(self) -> None:
        """Draw every env's next instance from its own generator (one call per env) and clear the state."""
        p = self.params
        insts = [model.sample_instance(p, rng) for rng in self._rngs]
        self._user_pos = np.stack([x.user_pos for x in insts])  # (B, K, 2)
        self._target_pos = np.stack([x.target_pos for x in insts])  # (B, 2)
        self._fading = np.stack([x.fading for x in insts])  # (B, L, K, M)
        B, L, K = self.num_envs, p.num_samples, p.num_users
        self._t = 0
        self._q = None
        self._paid = np.zeros(B)
        self._terms = {"sinr": np.zeros((B, L, K)), "gain": np.zeros((B, L)), "comm_power": np.zeros((B, L)),
                       "sens_power": np.zeros((B, L)), "min_eig": np.zeros((B, L))}
        self._ec_so_far, self._viol_so_far = np.zeros((B, K)), np.zeros(B)

    # ------------------------------------------------------------------ step
    def step(self, actions):
        if self._rngs is None:
            raise RuntimeError("call reset() before step()")
        a = self._check_actions(actions)
        p = self.params
        B, L = self.num_envs, p.num_samples
        slot = self._t
        if slot == 0:
            self._place(model.placement_from_action(p, a))
            rewards = np.zeros(B)
            obj, feas = np.zeros(B), np.ones(B, bool)
            mets = {}
        else:
            block = slot - 1
            W, v, p_s = model.decode_block(p, a, self._ht[:, block], self._gains, self._a_t, self._dt2,
                                           self.action_basis)
            R = model.rank_one_cov(v, p_s)
            terms = model.block_terms(p, self._h[:, block], self._a_t, self._dt2, W, R)
            for k in _TERMS:
                self._terms[k][:, block] = terms[k]
            n = block + 1
            obj, viol, mets, feas = model.aggregate_blocks(
                p, {k: x[:, :n] for k, x in self._terms.items()}, model.region_violation(p, self._q),
                np.sqrt(self._dt2), self._user_d, with_metrics=n == L)
            self._ec_so_far = np.stack([mets[f"ec_user_{k}"] for k in range(p.num_users)], axis=-1)
            v_sum = sum(viol.values())
            self._viol_so_far = v_sum
            rewards = n / L * (obj - p.penalty * v_sum) - self._paid
            if n < L:
                mets = {}
        self._paid = self._paid + rewards
        self._t += 1
        done = self._t > L
        infos = {"objective": np.asarray(obj, float), "feasible": np.asarray(feas, bool),
                 "slot": np.full(B, slot), "block": np.full(B, slot - 1), "return": self._paid.copy()}
        if mets:
            infos["metrics"] = {k: np.asarray(x, float) for k, x in mets.items()}
        infos = _with_masks(infos, B)
        terminated = np.full(B, done)
        obs = self._observation()
        if done:  # SAME_STEP autoreset of every env, from its own generator (no new seed)
            final_obs = np.empty(B, dtype=object)
            for i in range(B):
                final_obs[i] = obs[i]
            self._new_episodes()
            obs = self._observation()
            infos = {"final_obs": final_obs, "_final_obs": np.ones(B, bool), "final_info": infos,
                     "_final_info": np.ones(B, bool), "slot": np.zeros(B, int), "_slot": np.ones(B, bool)}
        return obs, rewards, terminated, np.zeros(B, bool), infos

    def _check_actions(self, actions) -> np.ndarray:
        shape = (self.num_envs,) + self.single_action_space.shape
        arr = np.asarray(actions)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) \
                or np.issubdtype(arr.dtype, np.bool_):
            raise TypeError(f"actions must be a real numeric array of shape {shape}, got dtype {arr.dtype}")
        if arr.shape != shape:
            raise ValueError(f"actions must have shape {shape}, got {arr.shape}")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise ValueError(f"actions contain non-finite values (first at env {bad[0]}, index {bad[1]})")
        return np.clip(arr, -1.0, 1.0)

    # ------------------------------------------------------------------ internals
    def _place(self, q: np.ndarray) -> None:
        """Per-env geometry at the placed positions q (B, 2): the batched form of ``UAVEffectiveCapacityEnv._place``."""
        p = self.params
        self._q = q
        a_users = model.steering(p, q[:, None, :], self._user_pos)  # (B, K, M)
        self._ht = rician_miso_channel(np.ones(p.num_users), a_users[:, None], self._fading, p.rician_factor)
        self._gains = p.ref_gain / model.sq_distance_m2(p, q[:, None, :], self._user_pos)  # (B, K)
        self._h = self._ht * np.sqrt(self._gains)[:, None, :, None]
        self._a_t = model.steering(p, q, self._target_pos)  # (B, M)
        self._dt2 = model.sq_distance_m2(p, q, self._target_pos)  # (B,)
        self._user_d = np.mean(np.sqrt(model.sq_distance_m2(p, q[:, None, :], self._user_pos)), axis=-1)

    def _observation(self) -> np.ndarray:
        p = self.params
        B, K, M, L = self.num_envs, p.num_users, p.num_antennas, p.num_samples
        placed = self._q is not None
        q = self._q if placed else np.broadcast_to((p.lo + p.hi) / 2.0, (B, 2))
        n = max(self._t - 1, 0)
        if placed and n < L:
            ht, a_t = self._ht[:, n], self._a_t
        else:
            ht, a_t = np.zeros((B, K, M), complex), np.zeros((B, M), complex)
        return v1_observation(p, np.full(B, placed), q, self._user_pos, self._target_pos, np.full(B, (L - n) / L),
                              ht, a_t, self._ec_so_far, self._viol_so_far)


def _with_masks(infos: dict, B: int) -> dict:
    out = {}
    for k, v in infos.items():
        out[k] = _with_masks(v, B) if isinstance(v, dict) else v
        out[f"_{k}"] = np.ones(B, bool)
    return out
