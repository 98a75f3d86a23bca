"""PettingZoo ``ParallelEnv`` of device-free localisation: one agent per BS, shared team reward.

Spec Sec. 7. It runs the single-agent env underneath (same decoding, reward, ``info`` and
episode end), so both variants score exactly the same ``evaluate()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from isac_envs.device_free_localization import model
from isac_envs.device_free_localization.env import DeviceFreeLocalizationEnv
from isac_envs.device_free_localization.model import LOCAL_OBS_DIM, NUM_BS, OBS_BOUND, OBS_DIM


class DeviceFreeLocalizationParallelEnv(ParallelEnv):
    """
    Agents ``bs_0``, ``bs_1``, ``bs_2``; agent ``b`` sets its own power with
    ``Box(-1, 1, (1,), float32)`` (decoded as in the single-agent env). Every agent receives the
    team reward ``J - penalty * violations`` and the same ``info`` (with the privileged
    ``instance``, which learned agents must not read). ``state()`` is the 34-dim single-agent
    observation. Truncated for all agents after ``episode_length`` slots.

    Local observation ``Box(-10, 10, (25,), float32)`` of agent ``b``:

    | idx   | field                                                                        |
    |-------|------------------------------------------------------------------------------|
    | 0-2   | `comm_snr` column b: SNR at its own UE from BS 0..2, (dB(G^c) - 30) / 20     |
    | 3-5   | `comm_snr` row b: its SNR at UE 0..2 (the interference it causes)            |
    | 6     | its echo SNR dB(\\|alpha_bb\\|^2) / 20                                         |
    | 7-9   | incoming sensing INR, column b of `sensing_inr` (own entry 0)                |
    | 10-12 | outgoing sensing INR, row b of `sensing_inr` (own entry 0)                   |
    | 13    | its SI INR                                                                   |
    | 14    | gamma_dB / 10                                                                |
    | 15-16 | own UE (x, y) / R                                                            |
    | 17-19 | one-hot of b                                                                 |
    | 20    | previous slot's own log10(sigma_R,b / 1 m) (0 at reset)                      |
    | 21    | previous slot's own-UE margin (SINR^c_b,dB - gamma_dB) / 10, clipped (0 at reset) |
    | 22    | previous slot's log10(max_b' sigma_R,b' / 1 m) (0 at reset; CPU broadcast)   |
    | 23    | own previous action (0 at reset)                                             |
    | 24    | t / T                                                                        |

    Arguments as the single-agent env: ``params=``, ``config=``, ``render_mode=``, Params overrides.
    """

    metadata = {"name": "device_free_localization_v0", "is_parallelizable": True,
                "render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, params=None, config=None, render_mode: str | None = None, **param_overrides: Any) -> None:
        self._env = DeviceFreeLocalizationEnv(params=params, config=config, render_mode=render_mode,
                                              **param_overrides)
        self.params = self._env.params
        self.render_mode = render_mode
        self.possible_agents = [f"bs_{b}" for b in range(NUM_BS)]
        self.agents: list[str] = []
        self._obs_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(LOCAL_OBS_DIM,), dtype=np.float32)
        self._act_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.observation_spaces = {a: self._obs_space for a in self.possible_agents}
        self.action_spaces = {a: self._act_space for a in self.possible_agents}
        self.state_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(OBS_DIM,), dtype=np.float32)
        self._previous = np.zeros((NUM_BS, 4))
        self._state = None

    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Box:
        return self.action_spaces[agent]

    @property
    def instance(self):
        return self._env.instance

    def state(self) -> np.ndarray:
        return self._state

    def _local_obs(self) -> dict[str, np.ndarray]:
        local = model.local_observation(self.params, self._env.instance, self._env.slot, self._previous)
        return {a: local[b] for b, a in enumerate(self.possible_agents)}

    def reset(self, seed: int | None = None, options: dict | None = None):
        # only "instance" is meaningful; other keys are ignored (PettingZoo's API test passes arbitrary ones)
        opts = {"instance": options["instance"]} if options and options.get("instance") is not None else None
        self._state, info = self._env.reset(seed=seed, options=opts)
        self.agents = list(self.possible_agents)
        self._previous = np.zeros((NUM_BS, 4))
        return self._local_obs(), {a: info for a in self.agents}

    def step(self, actions: dict[str, Any]):
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"actions missing for agent(s) {missing}")
        joint = np.concatenate([np.asarray(actions[a], dtype=np.float64).reshape(-1) for a in self.possible_agents])
        self._state, reward, terminated, truncated, info = self._env.step(joint)
        self._previous = model.local_feedback(self._env.last_evaluation, self.params, np.clip(joint, -1.0, 1.0))
        obs = self._local_obs()
        agents = self.agents
        rewards = {a: float(reward) for a in agents}
        terms = {a: bool(terminated) for a in agents}
        truncs = {a: bool(truncated) for a in agents}
        infos = {a: info for a in agents}
        if terminated or truncated:
            self.agents = []
        return obs, rewards, terms, truncs, infos

    def render(self):
        return self._env.render()

    def close(self) -> None:
        self._env.close()
