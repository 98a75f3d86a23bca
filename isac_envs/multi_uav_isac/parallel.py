"""PettingZoo ``ParallelEnv`` of the ISAC multi-UAV network: the BSs are the agents (spec Sec. 7).

It runs the single-agent env underneath (same decoding, reward, ``info`` and episode end), so both
variants score exactly the same ``evaluate()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from isac_envs.core import check_action
from isac_envs.multi_uav_isac import model
from isac_envs.multi_uav_isac.env import MultiUAVISACEnv


def joint_action(params: model.Params, agent_actions: np.ndarray) -> np.ndarray:
    """(M, 3K+2) per-BS actions -> the single-agent action (spec Sec. 7 joint decoding).

    Association score of UAV j for BS m = bid of agent m; the power scores of UAV j are those of
    the agent that wins it.
    """
    k, m = params.num_uavs, params.num_bs
    a = np.clip(agent_actions, -1.0, 1.0)
    bids = a[:, : k + 1].T                                   # (K+1, M)
    assoc = np.argmax(bids, axis=1)
    comm = a[assoc[:k], k + 1 + np.arange(k)]
    sense = a[assoc, 2 * k + 1 + np.arange(k + 1)]
    return np.concatenate([bids.ravel(), comm, sense])


class MultiUAVISACParallelEnv(ParallelEnv):
    """
    Agents ``bs_0 .. bs_{M-1}`` (the ground BSs); all act every step and terminate together after
    ``num_slots`` steps.

    Per-agent action ``Box(-1, 1, (3K+2,), float32)`` (56 default, 14 ``small``):
    ``[bids for UAV 0..K (K+1) | comm power scores (K) | radar power scores (K+1)]``. UAV ``j`` is
    served by the highest bidder (ties: lowest BS index); its power scores are taken from that BS
    and decoded as in the single-agent env (affine in [p_min, p_max], per-BS budget scaling).

    Per-agent observation ``Box(-5, 5, (D_obs + M,), float32)``: the single-agent observation
    followed by the one-hot of the agent index (parameter sharing). ``state()`` returns the
    single-agent observation (centralised critics).

    Every agent receives the single-agent (team) reward ``G - penalty * violations`` and the
    single-agent ``info`` (whose ``instance`` is privileged: learned agents must not read it).

    Arguments as the single-agent env: ``params=``, ``config=``, ``render_mode=``, Params overrides.
    """

    metadata = {"name": "multi_uav_isac_v0", "is_parallelizable": True,
                "render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, params=None, config=None, render_mode: str | None = None, **param_overrides: Any) -> None:
        self._env = MultiUAVISACEnv(params=params, config=config, render_mode=render_mode, **param_overrides)
        self.params = p = self._env.params
        self.render_mode = render_mode
        self.possible_agents = [f"bs_{b}" for b in range(p.num_bs)]
        self.agents: list[str] = []
        d_obs = model.obs_dim(p)
        self._obs_space = spaces.Box(-5.0, 5.0, shape=(d_obs + p.num_bs,), dtype=np.float32)
        self._act_space = spaces.Box(-1.0, 1.0, shape=(3 * p.num_uavs + 2,), dtype=np.float32)
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

    def state(self) -> np.ndarray:
        return self._state

    def _observations(self) -> dict[str, np.ndarray]:
        eye = np.eye(self.params.num_bs, dtype=np.float32)
        return {a: np.concatenate([self._state, eye[b]]) for b, a in enumerate(self.possible_agents)}

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

    def render(self):
        return self._env.render()

    def close(self) -> None:
        self._env.close()
