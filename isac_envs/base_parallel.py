"""``TeamParallelEnv``: the PettingZoo side every multi-agent variant shares.

Each parallel env runs its single-agent env underneath (same decoding, reward, ``info`` and
episode end), so both variants score exactly the same ``evaluate()``: every agent gets the team
reward and the single-agent ``info``; ``state()`` is the single-agent observation. A subclass
says how many agents there are, their spaces, and how per-agent actions join into the
single-agent action (ARCHITECTURE.md, env contract).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from isac_envs.core import check_action


class TeamParallelEnv(ParallelEnv):
    """Base class: ``ParallelEnv(params=None, config=None, render_mode=None, **env_kwargs)``."""

    #: the single-agent env class underneath
    env_cls: type = object
    #: agents are named ``<agent_prefix>_<i>``
    agent_prefix: str = "agent"

    def __init__(self, params=None, config=None, render_mode: str | None = None, **env_kwargs: Any) -> None:
        self._env = self.env_cls(params=params, config=config, render_mode=render_mode, **env_kwargs)
        self.params = self._env.params
        self.render_mode = render_mode
        self.possible_agents = [f"{self.agent_prefix}_{i}" for i in range(self.num_team_agents())]
        self.agents: list[str] = []
        obs_space, act_space = self.agent_spaces()
        self.observation_spaces = {a: obs_space for a in self.possible_agents}
        self.action_spaces = {a: act_space for a in self.possible_agents}
        self.state_space = self._env.observation_space
        self._state = None

    # ------------------------------------------------------------------ subclass hooks
    def num_team_agents(self) -> int:
        raise NotImplementedError

    def agent_spaces(self) -> tuple[spaces.Box, spaces.Box]:
        """(observation space, action space), the same for every agent."""
        raise NotImplementedError

    def joint_action(self, agent_actions: np.ndarray) -> np.ndarray:
        """(n_agents, per-agent dim) checked actions -> the single-agent action."""
        raise NotImplementedError

    def observations(self) -> dict[str, np.ndarray]:
        """Default: the single-agent observation followed by the agent's one-hot (parameter sharing)."""
        eye = np.eye(len(self.possible_agents), dtype=np.float32)
        return {a: np.concatenate([self._state, eye[i]]) for i, a in enumerate(self.possible_agents)}

    def on_reset(self) -> None:
        """Called after the single-agent reset (per-agent memory)."""

    def on_step(self, joint: np.ndarray) -> None:
        """Called after the single-agent step with the joint action that was played."""

    # ------------------------------------------------------------------ PettingZoo API
    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Box:
        return self.action_spaces[agent]

    @property
    def instance(self):
        return self._env.instance

    @property
    def unwrapped_env(self):
        """The single-agent env underneath (decode/encode, committed state)."""
        return self._env

    def state(self) -> np.ndarray:
        return self._state

    def reset(self, seed: int | None = None, options: dict | None = None):
        # only "instance" is meaningful; other keys are ignored (PettingZoo's API test passes arbitrary ones)
        opts = {"instance": options["instance"]} if options and options.get("instance") is not None else None
        self._state, self.agents = None, []  # a failed reset leaves no episode to step
        self._state, info = self._env.reset(seed=seed, options=opts)
        self.agents = list(self.possible_agents)
        self.on_reset()
        return self.observations(), {a: info for a in self.agents}

    def step(self, actions: dict[str, Any]):
        """One team step: ``actions`` maps every live agent to its action (exactly those keys).

        RuntimeError before ``reset()`` and once the episode has ended (every agent done): the env
        does not advance. ValueError for a missing or unknown agent key, and TypeError/ValueError
        (from ``check_action``) for an action that is None, complex, wrongly shaped or non-finite.
        """
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if not self.agents:
            raise RuntimeError("the episode has ended (every agent is done); call reset() before step()")
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict {{agent: action}}, got {type(actions).__name__}")
        unknown = [a for a in actions if a not in self.agents]
        if unknown:
            raise ValueError(f"actions for unknown agent(s) {unknown!r}; the agents are {self.agents}")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"actions missing for agent(s) {missing}")
        shape = self.action_spaces[self.possible_agents[0]].shape
        per_agent = np.stack([check_action(actions[a], shape, name=f"actions[{a!r}]") for a in self.possible_agents])
        joint = self.joint_action(per_agent)
        self._state, reward, terminated, truncated, info = self._env.step(joint)
        self.on_step(joint)
        agents = self.agents
        obs = self.observations()
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
