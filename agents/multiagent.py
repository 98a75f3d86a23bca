"""Parameter-sharing multi-agent PPO: a PettingZoo ParallelEnv seen as an SB3 VecEnv.

Every (env copy, agent) pair is one slot of the VecEnv, so one SB3 policy network is shared
by all agents (the agent's one-hot, which every parallel env of this suite appends to the
local observation, lets the shared network specialise). This is the recipe of SuperSuit's
``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1`` in ~80 lines, without adding
SuperSuit as a dependency. Agents all act every step and share the team reward (the envs'
contract), so the adapter needs no agent masking.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv


class ParallelEnvVec(VecEnv):
    """``num_envs = n_copies * n_agents``; slot ``c * n_agents + i`` is agent i of copy c.

    reset_seed: ``f(copy_index, episode_index) -> seed`` for every reset (training seeds).
    """

    def __init__(self, env_fns: list[Callable], reset_seed: Callable[[int, int], int]):
        self.envs = [fn() for fn in env_fns]
        first = self.envs[0]
        self.agents = list(first.possible_agents)
        self.n_agents = len(self.agents)
        self.reset_seed = reset_seed
        self._episode = [0] * len(self.envs)
        super().__init__(len(self.envs) * self.n_agents, first.observation_space(self.agents[0]),
                         first.action_space(self.agents[0]))
        self._actions = None

    # --------------------------------------------------------------- VecEnv API
    def reset(self):
        obs = []
        for c, env in enumerate(self.envs):
            o, _ = env.reset(seed=self._next_seed(c))
            obs += [o[a] for a in self.agents]
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return np.stack(obs).astype(np.float32)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        obs, rews, dones, infos = [], [], [], []
        for c, env in enumerate(self.envs):
            acts = {a: self._actions[c * self.n_agents + i] for i, a in enumerate(self.agents)}
            o, r, term, trunc, info = env.step(acts)
            done = all(term[a] or trunc[a] for a in self.agents)
            slot_infos = [{} for _ in self.agents]
            if done:
                for i, a in enumerate(self.agents):
                    slot_infos[i]["terminal_observation"] = o[a]
                    slot_infos[i]["TimeLimit.truncated"] = bool(trunc[a] and not term[a])
                o, _ = env.reset(seed=self._next_seed(c))
            obs += [o[a] for a in self.agents]
            rews += [float(r[a]) if a in r else 0.0 for a in self.agents]
            dones += [done] * self.n_agents
            infos += slot_infos
        return (np.stack(obs).astype(np.float32), np.asarray(rews, np.float32),
                np.asarray(dones, bool), infos)

    def close(self) -> None:
        for env in self.envs:
            env.close()

    def get_attr(self, attr_name, indices=None):
        return [getattr(self.envs[i // self.n_agents], attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name, value, indices=None):
        for i in self._get_indices(indices):
            setattr(self.envs[i // self.n_agents], attr_name, value)

    def env_method(self, method_name, *args, indices=None, **kwargs):
        return [getattr(self.envs[i // self.n_agents], method_name)(*args, **kwargs) for i in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False for _ in self._get_indices(indices)]

    def seed(self, seed=None):
        return [None] * self.num_envs

    def _next_seed(self, c: int) -> int:
        s = self.reset_seed(c, self._episode[c])
        self._episode[c] += 1
        return s
