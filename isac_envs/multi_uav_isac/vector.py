"""Native vector env of ``isac_envs/MultiUAVISAC-v0``: ``num_envs`` independent copies stepped as one
batch through the same pure functions of :mod:`.model` as the single env (leading env axis).

``gym.make_vec("isac_envs/MultiUAVISAC-v0", num_envs=N, config="small")`` returns it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from isac_envs.core import FEASIBILITY_TOL, resolve_params
from isac_envs.multi_uav_isac import model
from isac_envs.multi_uav_isac.model import Params


#: cap on the pre-drawn mobility noise of all envs together (floats; 32 MB)
NOISE_BUFFER_FLOATS = 4_000_000


class MultiUAVISACVectorEnv(VectorEnv):
    """
    ``num_envs`` copies of :class:`~isac_envs.multi_uav_isac.env.MultiUAVISACEnv`, batched in numpy.

    Spaces: ``single_observation_space`` / ``single_action_space`` are the single env's;
    ``observation_space`` ``Box(-5, 5, (N, D_obs), float32)``, ``action_space`` ``Box(-1, 1, (N, D_act),
    float32)``. ``step(actions)`` takes ``(N, D_act)`` actions (checked once for the whole batch: exact
    shape, real numbers, finite; then clipped to [-1, 1]) and returns observations ``(N, D_obs)`` float32,
    rewards ``(N,)`` float64 (``G - penalty * violations``, as the single env), terminations ``(N,)``
    (after ``num_slots`` steps), truncations ``(N,)`` (always False) and infos of arrays: ``objective``,
    ``feasible``, ``slot`` (the slot just played), ``rate_term``, ``sensing_term`` and ``violations``
    (``C3``..``C6``), each with its ``_key`` mask (all True). The per-step ``metrics`` dict and the
    privileged ``instance`` of the single env are not produced (agents only).

    Seeding: ``reset(seed=s)`` seeds env ``i`` with ``s + i`` (a list: ``seeds[i]``; None: fresh
    entropy), exactly as ``SyncVectorEnv`` does, so env ``i``'s episode equals
    ``gym.make(id).reset(seed=s + i)``'s. Autoreset ``SAME_STEP``: on the step an episode ends, the
    returned observation is the next episode's first one, drawn from env ``i``'s own generator (no new
    seed), and ``infos["final_obs"]`` (object array), ``infos["final_info"]`` (the ended step's info
    arrays) with masks ``_final_obs`` / ``_final_info`` hold the ended step, as in ``SyncVectorEnv``;
    the top-level info keys keep the ended step's values for every env.

    Arguments: ``MultiUAVISACVectorEnv(num_envs, params=None, config=None, render_mode=None,
    **param_overrides)`` as ``gym.make``. No rendering.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int, params: Params | None = None, config=None, render_mode: str | None = None,
                 **param_overrides: Any) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        if render_mode is not None:
            raise ValueError(f"render_mode must be None for the vector env (no rendering), got {render_mode!r}")
        self.params = p = resolve_params(Params, "multi_uav_isac", params, config, **param_overrides)
        self.num_envs = int(num_envs)
        self.render_mode = None
        self.single_observation_space = spaces.Box(-5.0, 5.0, shape=(model.obs_dim(p),), dtype=np.float32)
        self.single_action_space = spaces.Box(-1.0, 1.0, shape=(model.action_dim(p),), dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.bs_pos = model.bs_layout(p)
        self.pos_err_std = model.pos_err_std(p)
        b, k, m, c = self.num_envs, p.num_uavs, p.num_bs, p.num_hotspots
        self.centers = np.zeros((b, c, 3))
        self.weights = np.zeros((b, c))
        self.cluster = np.zeros((b, k), np.int64)
        self.uav_pos = np.zeros((b, k + 1, 3))
        self.uav_pos_est = np.zeros((b, k + 1, 3))
        self.noncoop_vel = np.zeros((b, 3))
        self.gain_comm = np.zeros((b, k, m))
        self.gain_sense = np.zeros((b, k + 1, m))
        self.slot = np.zeros(b, np.int64)
        self._rngs: list[np.random.Generator] | None = None
        # mobility noise drawn ahead, a block of `_block` slots per env and call (same stream as per slot)
        per_slot = (2 * k + 1) * 3
        self._block = int(max(1, min(64, p.num_slots - 1, NOISE_BUFFER_FLOATS // (b * per_slot))))
        self._noise = np.zeros((b, self._block, 2 * k + 1, 3))
        self._noise_next = np.zeros(b, np.int64)     # next unused row of each env's block
        self._noise_rows = np.zeros(b, np.int64)     # rows drawn in each env's block

    # ------------------------------------------------------------------ episodes
    def _start(self, idx: np.ndarray) -> None:
        """New episodes for envs ``idx``: each env's draws from its own generator, the rest batched."""
        draws = [model.draw_start(self.params, self._rngs[i]) for i in idx]
        for arr, part in zip((self.centers, self.weights, self.cluster, self.uav_pos, self.noncoop_vel),
                             zip(*draws)):
            arr[idx] = np.stack(part)
        noise = np.stack([d[5] for d in draws])
        self.slot[idx] = 0
        self._noise_next[idx] = self._noise_rows[idx] = 0
        self._refresh(idx, noise)

    def _refresh(self, idx: np.ndarray, noise: np.ndarray) -> None:
        """New estimates (from N(0, 1) noise) and gains of envs ``idx`` at their current positions."""
        pos = self.uav_pos[idx]
        est = model.estimates_from_noise(self.params, pos, self.pos_err_std, noise)
        self.uav_pos_est[idx] = est
        self.gain_comm[idx], self.gain_sense[idx] = model.compute_gains(self.params, self.bs_pos, pos, est)

    def _draw_noise(self, idx: np.ndarray) -> None:
        """Refill the noise blocks of envs ``idx``: one ``standard_normal((n, 2K+1, 3))`` call per env for
        its next n slots (n <= block, never past the episode's last move), the same numbers the single env
        draws slot by slot (``(K, 3)`` then ``(K+1, 3)``)."""
        k, last = self.params.num_uavs, self.params.num_slots - 1
        for i in idx:
            n = int(min(self._block, last - self.slot[i]))
            self._noise[i, :n] = self._rngs[i].standard_normal((n, 2 * k + 1, 3))
            self._noise_rows[i], self._noise_next[i] = n, 0

    def _advance(self, idx: np.ndarray) -> None:
        """Mobility of envs ``idx`` (Sec. 3) with their next noise row."""
        k = self.params.num_uavs
        empty = idx[self._noise_next[idx] >= self._noise_rows[idx]]
        if empty.size:
            self._draw_noise(empty)
        z = self._noise[idx, self._noise_next[idx]]
        self._noise_next[idx] += 1
        pos, vel = model.move_uavs(self.params, self.centers[idx], self.cluster[idx], self.uav_pos[idx],
                                   self.noncoop_vel[idx], z[:, :k])
        self.uav_pos[idx], self.noncoop_vel[idx] = pos, vel
        self.slot[idx] += 1
        self._refresh(idx, z[:, k:])

    def _observe(self) -> np.ndarray:
        return model.observe_arrays(self.params, self.uav_pos_est, self.gain_comm, self.gain_sense,
                                    self.pos_err_std, self.centers, self.weights, self.bs_pos, self.slot)

    # ------------------------------------------------------------------ API
    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        if options:
            raise ValueError(f"unknown reset option(s) {sorted(options)}; the vector env takes none")
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed list must have num_envs={self.num_envs} entries, got {len(seeds)}")
        self._rngs = [seeding.np_random(s)[0] for s in seeds]
        self._start(np.arange(self.num_envs))
        return self._observe(), {"slot": self.slot.copy(), "_slot": np.ones(self.num_envs, bool)}

    def _check_actions(self, actions) -> np.ndarray:
        shape = (self.num_envs, *self.single_action_space.shape)
        a = np.asarray(actions)
        if a.dtype.kind not in "iuf":
            raise TypeError(f"actions must be real numbers of shape {shape}, got dtype {a.dtype}")
        if a.shape != shape:
            raise ValueError(f"actions must have shape {shape}, got {a.shape}")
        a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            rows = np.flatnonzero(~np.all(np.isfinite(a), axis=1))
            raise ValueError(f"actions contain non-finite values (NaN/inf) in env(s) {rows[:10].tolist()}")
        return np.minimum(np.maximum(a, -1.0), 1.0)

    def step(self, actions):
        if self._rngs is None:
            raise RuntimeError("call reset() before step()")
        p, k = self.params, self.params.num_uavs
        assoc, power = model.decode_scores(p, self._check_actions(actions))
        core = model.slot_core(p, self.gain_comm, self.gain_sense, assoc, power[:, :k], power[:, k:])
        rewards = model.penalised_reward(p, core)
        viol = {key: core[key] for key in model.VIOLATION_KEYS}
        feasible = np.all(np.stack(list(viol.values())) <= FEASIBILITY_TOL, axis=0)
        played = self.slot.copy()
        terminated = played >= p.num_slots - 1
        running = np.flatnonzero(~terminated)
        if running.size:
            self._advance(running)
        obs = self._observe()
        every = np.ones(self.num_envs, bool)
        infos = {"objective": core["objective"], "_objective": every, "feasible": feasible, "_feasible": every,
                 "slot": played, "_slot": every, "rate_term": core["rate_term"], "_rate_term": every,
                 "sensing_term": core["sensing_term"], "_sensing_term": every,
                 "violations": {**viol, **{f"_{key}": every for key in viol}}, "_violations": every}
        ended = np.flatnonzero(terminated)
        if ended.size:
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in ended:
                final_obs[i] = obs[i].copy()
            mask = terminated.copy()
            infos["final_info"] = _masked(infos, mask)
            infos.update(final_obs=final_obs, _final_obs=mask, _final_info=mask.copy())
            self._start(ended)
            obs[ended] = self._observe()[ended]
        truncated = np.zeros(self.num_envs, bool)
        return obs, rewards, terminated, truncated, infos

    def close_extras(self, **kwargs: Any) -> None:
        self._rngs = None


def _masked(info: dict, mask: np.ndarray) -> dict:
    """Copy of an info dict of arrays whose ``_key`` masks are ``mask`` (the envs that ended)."""
    out = {}
    for key, value in info.items():
        if key.startswith("_"):
            out[key] = mask.copy()
        elif isinstance(value, dict):
            out[key] = _masked(value, mask)
        else:
            out[key] = np.where(mask, value, np.zeros_like(value))
    return out
