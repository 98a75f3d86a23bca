"""PettingZoo ``ParallelEnv`` of the cell-free satellite-UAV swarm: the UAVs are the agents (spec Sec. 7).

It runs the single-agent env underneath (same decoding, reward, ``info`` and episode end), so both
variants score exactly the same ``evaluate()``. Works for any swarm size the Params allow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from isac_envs.core import check_action
from isac_envs.cell_free_sat_uav import model
from isac_envs.cell_free_sat_uav.env import CellFreeSatUAVEnv
from isac_envs.cell_free_sat_uav.model import Decision


def agent_action_dim(params: model.Params) -> int:
    """L K_g + L + 1: subchannel-user scores, the agent's own powers, its time proposal."""
    return params.num_subchannels * params.users_per_group + params.num_subchannels + 1


def joint_action(params: model.Params, agent_actions: np.ndarray) -> np.ndarray:
    """(M, L K_g + L + 1) per-UAV actions -> the single-agent action (spec Sec. 7 joint decoding).

    Scores are summed over agents (here averaged: same argmax, stays in [-1, 1]); UAV m's power row
    comes from agent m; the time fraction is the mean of the agents' proposals (tau affine in x).
    """
    L, K = params.num_subchannels, params.users_per_group
    a = np.clip(agent_actions, -1.0, 1.0)
    scores = a[:, : L * K].mean(axis=0)
    powers = a[:, L * K: L * K + L]                          # (M, L): row m = agent m
    x_time = a[:, -1].mean()
    return np.concatenate([scores, powers.ravel(), [x_time]])


class CellFreeSatUAVParallelEnv(ParallelEnv):
    """
    Agents ``uav_0 .. uav_{M-1}`` (the UAVs of the swarm, any ``num_uavs``); all act at every step
    (one step = one slot of the flight) and terminate together after ``num_groups`` steps.

    Per-agent action ``Box(-1, 1, (L K_g + L + 1,), float32)`` (41 default, 13 ``small``):
    ``[subchannel-user scores (L, K_g) | own powers on the L subchannels | time proposal]``. The
    scores are summed over the agents and argmax'ed (user of each subchannel), UAV m's power row is
    agent m's, the slot's time fraction is the mean of the proposals; then the single-agent decoding
    (peak-power normalisation, interference back-off, energy scaling) applies.

    Per-agent observation ``Box(-5, 5, (D_obs + M,), float32)``: the single-agent observation
    followed by the one-hot agent index (parameter sharing). ``state()`` returns the single-agent
    observation (centralised critics).

    Every agent receives the single-agent (team) reward and the single-agent ``info`` (whose
    ``instance`` is privileged: learned agents must not read it).

    Arguments as the single-agent env: ``params=``, ``config=``, ``render_mode=``,
    ``enforce_interference=``, ``observation=``, Params overrides (e.g. ``num_uavs=12``).
    """

    metadata = {"name": "cell_free_sat_uav_v0", "is_parallelizable": True,
                "render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, params=None, config=None, render_mode: str | None = None, **kwargs: Any) -> None:
        self._env = CellFreeSatUAVEnv(params=params, config=config, render_mode=render_mode, **kwargs)
        self.params = p = self._env.params
        self.render_mode = render_mode
        self.possible_agents = [f"uav_{m}" for m in range(p.num_uavs)]
        self.agents: list[str] = []
        d_obs = self._env.obs_dim
        self._obs_space = spaces.Box(-5.0, 5.0, shape=(d_obs + p.num_uavs,), dtype=np.float32)
        self._act_space = spaces.Box(-1.0, 1.0, shape=(agent_action_dim(p),), dtype=np.float32)
        self.observation_spaces = {a: self._obs_space for a in self.possible_agents}
        self.action_spaces = {a: self._act_space for a in self.possible_agents}
        self.state_space = spaces.Box(-5.0, 5.0, shape=(d_obs,), dtype=np.float32)
        self._state = None

    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Box:
        return self.action_spaces[agent]

    @property
    def instance(self):
        return self._env.instance

    @property
    def unwrapped_env(self) -> CellFreeSatUAVEnv:
        """The single-agent env underneath (decode/encode, committed decision)."""
        return self._env

    def state(self) -> np.ndarray:
        return self._state

    def _observations(self) -> dict[str, np.ndarray]:
        eye = np.eye(self.params.num_uavs, dtype=np.float32)
        return {a: np.concatenate([self._state, eye[m]]) for m, a in enumerate(self.possible_agents)}

    def reset(self, seed: int | None = None, options: dict | None = None):
        # only "instance" is meaningful; other keys are ignored (PettingZoo's API test passes arbitrary ones)
        opts = {"instance": options["instance"]} if options and options.get("instance") is not None else None
        self._state, info = self._env.reset(seed=seed, options=opts)
        self.agents = list(self.possible_agents)
        return self._observations(), {a: info for a in self.agents}

    def step(self, actions: dict[str, Any]):
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"actions missing for agent(s) {missing}")
        shape = self._act_space.shape
        per_agent = np.stack([check_action(actions[a], shape, name=f"actions[{a!r}]") for a in self.possible_agents])
        self._state, reward, terminated, truncated, info = self._env.step(joint_action(self.params, per_agent))
        agents = self.agents
        obs = self._observations()
        rewards = {a: float(reward) for a in agents}
        terms = {a: bool(terminated) for a in agents}
        truncs = {a: bool(truncated) for a in agents}
        infos = {a: info for a in agents}
        if terminated or truncated:
            self.agents = []
        return obs, rewards, terms, truncs, infos

    def encode_actions(self, decision: Decision) -> dict[str, np.ndarray]:
        """Per-agent actions of slot n of a whole-flight decision: same scores and time, agent m gets power row m."""
        p = self.params
        L, K, M = p.num_subchannels, p.users_per_group, p.num_uavs
        single = self._env.encode_action(decision)
        scores, powers, x_time = single[: L * K], single[L * K: L * K + M * L].reshape(M, L), single[-1:]
        return {a: np.concatenate([scores, powers[m], x_time]).astype(np.float32)
                for m, a in enumerate(self.possible_agents)}

    def render(self):
        return self._env.render()

    def close(self) -> None:
        self._env.close()
