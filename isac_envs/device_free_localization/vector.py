"""Native batched vector env of device-free localisation: ``gym.make_vec("isac_envs/DeviceFreeLocalization-v1", N)``.

Every env of the batch plays exactly the single env's episode for its seed: the same random draws from
its own generator (one ``reset(seed=s + i)`` per env, as ``SyncVectorEnv`` seeds them; v1 draws in blocks,
two generator calls per episode start and one per 16 slots, so no per-step loop over envs), and the same
pure functions of :mod:`.model` applied over a leading env axis (:func:`~.model.slot_scores_batch`,
:func:`~.model.move_target_batch`, :func:`~.model.v1_fading`, :func:`~.model.target_gains`,
:func:`~.model.observation_arrays`). Tested equal to the single env to 1e-12 relative, across autoresets.
v1 only (``DeviceFreeLocalization-v0`` keeps the spec's per-slot draws: use ``SyncVectorEnv`` there).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from isac_envs.core import check_action, resolve_params
from isac_envs.device_free_localization import model
from isac_envs.device_free_localization.model import NUM_BS, OBS_BOUND, OBS_DIM, Params

#: largest batch: the per-env blocks of slot draws (<= 16 x 74 float64 per env) stay below 1e8 elements
MAX_NUM_ENVS = 65_536


class DeviceFreeLocalizationVectorEnv(VectorEnv):
    """
    ``num_envs`` independent copies of ``isac_envs/DeviceFreeLocalization-v1`` stepped together in numpy.

    ## Spaces

    ``single_observation_space`` ``Box(-10, 10, (34,), float32)`` and ``single_action_space``
    ``Box(-1, 1, (3,), float32)``, identical to the single env's (see its docstring for every field);
    ``observation_space`` / ``action_space`` are their ``batch_space`` over ``num_envs``.

    ## Step

    ``step(actions)`` takes ``(num_envs, 3)`` actions (validated once for the batch: exact shape, real
    numbers, finite; clipped to [-1, 1]) and returns observations ``(num_envs, 34)`` float32, rewards
    ``(num_envs,)`` float64 (the single env's penalised reward), terminations (always False) and
    truncations ``(num_envs,)`` bool, and ``infos``: ``objective``, ``feasible``, ``slot`` (the slot just
    played), ``c1_comm_sinr``, ``c2_power_box`` ``(num_envs,)``, and ``tx_power_w`` [W], ``range_std_m``
    (sigma_R,b [m]) and ``comm_sinr_db`` (SINR^c_j [dB], floored at -300) ``(num_envs, 3)``, each
    with its ``_key`` mask (all True): they describe the step just played in **every** env, including the
    ones reset in this step. No ``instance`` and no ``metrics`` (agents only; use the single env for the
    solvers' privileged ``info["instance"]``).

    ## Autoreset

    ``metadata["autoreset_mode"] = AutoresetMode.SAME_STEP``: an env whose episode ends is reset in the
    same step from its own generator (no new seed), as ``SyncVectorEnv`` does; the returned observation
    is the new episode's first one and, following ``SyncVectorEnv``, ``infos["final_obs"]`` (object array,
    the last observation of the finished episode where ``infos["_final_obs"]``) and ``infos["final_info"]``
    (the finished step's ``objective``, ``feasible``, ``slot``, ... with their masks) are added.

    ## Arguments

    ``DeviceFreeLocalizationVectorEnv(num_envs, params=None, config=None, render_mode=None,
    **param_overrides)``: the same keywords as ``gym.make`` (``params=`` or ``config=``, Params overrides).
    ``reset(seed=s)`` seeds env ``i`` with ``s + i`` (a list gives one seed per env; ``None`` draws fresh
    entropy on the first reset and keeps the generators afterwards).
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int, params: Params | None = None, config=None, render_mode: str | None = None,
                 **param_overrides: Any) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, numbers.Integral) or not 1 <= num_envs <= MAX_NUM_ENVS:
            raise ValueError(f"num_envs must be an integer in [1, {MAX_NUM_ENVS}], got {num_envs!r}")
        if render_mode is not None:
            raise ValueError(f"the native vector env does not render (render_mode must be None), got {render_mode!r}")
        self.params = resolve_params(Params, model.SYSTEM, params, config, **param_overrides)
        self.num_envs = int(num_envs)
        self.render_mode = None
        self.single_observation_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(OBS_DIM,), dtype=np.float32)
        self.single_action_space = spaces.Box(-1.0, 1.0, shape=(NUM_BS,), dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        b = self.num_envs
        self._rngs: list[np.random.Generator | None] = [None] * b
        self._ue = np.zeros((b, NUM_BS, 3))           # UE positions, fixed per episode
        self._comm_pg = np.zeros((b, NUM_BS, NUM_BS))  # (S1) without fading, per episode
        self._target = np.zeros((b, 3))
        self._heading = np.zeros(b)
        self._comm_f = np.zeros((b, NUM_BS, NUM_BS))
        self._bb_f = np.zeros((b, NUM_BS, NUM_BS))
        self._echo = np.zeros((b, NUM_BS, NUM_BS))
        self._to_ue = np.zeros((b, NUM_BS, NUM_BS))
        self._slot = np.zeros(b, dtype=np.int64)
        self._block = np.zeros((b, model.v1_block_rows(self.params, 0), model.V1_SLOT_NORMALS))  # slot normals
        self._block_start = np.zeros(b, dtype=np.int64)
        self._env_index = np.arange(b)
        self._started = False

    # ------------------------------------------------------------------ episode starts and slots
    def _start(self, envs: np.ndarray) -> None:
        """A fresh episode for ``envs``: the single env's v1 start draws from each env's own generator."""
        p = self.params
        rows = model.v1_block_rows(p, 0)
        u = np.empty((len(envs), model.V1_START_UNIFORMS))
        for k, i in enumerate(envs.tolist()):  # per-env generator calls only: 2 per episode start
            self._rngs[i].random(out=u[k])
            self._rngs[i].standard_normal(out=self._block[i, :rows])
        xy, found = model.v1_target_candidates_m(p, u[:, 2 * NUM_BS:])
        for k in np.flatnonzero(~found).tolist():  # p = 4^-16 per episode
            xy[k] = model.v1_target_fallback_m(p, self._rngs[envs[k]])
        self._block_start[envs] = 0
        self._ue[envs] = ue = model.v1_ues_m(p, u[:, :2 * NUM_BS])
        self._target[envs, :2], self._target[envs, 2] = xy, p.target_height_m
        z = self._block[envs, 0]
        self._heading[envs] = model.v1_initial_heading(z)
        self._comm_pg[envs] = model.comm_path_gain(p, ue)
        self._comm_f[envs], self._bb_f[envs] = model.v1_fading(p, z)
        self._echo[envs], self._to_ue[envs] = model.target_gains(p, self._target[envs], ue)
        self._slot[envs] = 0

    def _advance(self) -> None:
        """One slot for every env (row ``slot`` of its normal blocks): target motion, fresh fading."""
        p = self.params
        row = self._slot - self._block_start
        for i in np.flatnonzero(row >= model.V1_BLOCK_SLOTS).tolist():  # next block: 1 call per 16 slots
            t = int(self._slot[i])
            self._rngs[i].standard_normal(out=self._block[i, :model.v1_block_rows(p, t)])
            self._block_start[i], row[i] = t, 0
        z = self._block[self._env_index, row]
        xy, self._heading = model.move_target_batch(p, self._target[:, :2], self._heading, z[:, 0])
        self._target[:, :2] = xy
        self._comm_f, self._bb_f = model.v1_fading(p, z)
        self._echo, self._to_ue = model.target_gains(p, self._target, self._ue)

    def _gains(self, envs=slice(None)):
        """(S6) effective comm gain and (S2) BS-BS gain of the current slot."""
        comm_eff = self._comm_pg[envs] * self._comm_f[envs] + self._to_ue[envs]
        return comm_eff, self.params.bs_bs_path_gain * self._bb_f[envs]

    def _observe(self, envs=slice(None)) -> np.ndarray:
        comm_eff, bb = self._gains(envs)
        return model.observation_arrays(self.params, comm_eff, self._echo[envs], bb, self._target[envs, :2],
                                        self._ue[envs, :, :2], self._slot[envs])

    # ------------------------------------------------------------------ VectorEnv API
    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        if options:
            raise ValueError(f"unknown reset option(s) {sorted(options)}; the native vector env takes none "
                             "(use the single env for options={'instance': ...})")
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed list must have num_envs={self.num_envs} entries, got {len(seeds)}")
        for i, s in enumerate(seeds):
            if s is not None or self._rngs[i] is None:
                self._rngs[i], _ = seeding.np_random(s)  # what gymnasium.Env.reset(seed=s) does
        self._start(np.arange(self.num_envs))
        self._started = True
        slot = np.zeros(self.num_envs, dtype=np.int64)
        return self._observe(), {"slot": slot, "_slot": np.ones(self.num_envs, dtype=bool)}

    def step(self, actions):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        a = check_action(actions, (self.num_envs, NUM_BS), name="actions")
        power_w = model.decode_power_w(a, self.params)
        comm_eff, bb = self._gains()
        objective, reward, feasible, c1, c2, std, sinr_c = model.slot_scores_batch(
            self.params, comm_eff, self._echo, bb, power_w)
        played = self._slot.copy()
        self._slot += 1
        truncated = self._slot >= self.params.episode_length
        terminated = np.zeros(self.num_envs, dtype=bool)
        self._advance()
        obs = self._observe()
        ones = np.ones(self.num_envs, dtype=bool)
        infos: dict[str, Any] = {"objective": objective, "feasible": feasible, "slot": played,
                                 "c1_comm_sinr": c1, "c2_power_box": c2, "tx_power_w": power_w,
                                 "range_std_m": std, "comm_sinr_db": model._db(sinr_c)}
        infos.update({f"_{k}": ones for k in list(infos)})
        done = np.flatnonzero(truncated)
        if len(done):
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in done.tolist():
                final_obs[i] = obs[i].copy()
            final_info = {k: v for k, v in infos.items() if not k.startswith("_")}
            final_info.update({f"_{k}": truncated for k in list(final_info)})
            self._start(done)
            obs[done] = self._observe(done)
            infos.update(final_obs=final_obs, _final_obs=truncated, final_info=final_info, _final_info=truncated)
        return obs, reward, terminated, truncated, infos
