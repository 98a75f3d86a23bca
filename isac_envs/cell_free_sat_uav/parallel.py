"""PettingZoo ``ParallelEnv`` of the cell-free satellite-UAV swarm: the UAVs are the agents (spec Sec. 7).

It runs the single-agent env underneath (same decoding, reward, ``info`` and episode end), so both
variants score exactly the same ``evaluate()``. Works for any swarm size the Params allow.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from isac_envs.base_parallel import TeamParallelEnv
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


class CellFreeSatUAVParallelEnv(TeamParallelEnv):
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
    env_cls = CellFreeSatUAVEnv
    agent_prefix = "uav"

    def num_team_agents(self) -> int:
        return self.params.num_uavs

    def agent_spaces(self) -> tuple[spaces.Box, spaces.Box]:
        p = self.params
        return (spaces.Box(-5.0, 5.0, shape=(self._env.obs_dim + p.num_uavs,), dtype=np.float32),
                spaces.Box(-1.0, 1.0, shape=(agent_action_dim(p),), dtype=np.float32))

    def joint_action(self, agent_actions: np.ndarray) -> np.ndarray:
        return joint_action(self.params, agent_actions)

    def encode_actions(self, decision: Decision) -> dict[str, np.ndarray]:
        """Per-agent actions of slot n of a whole-flight decision: same scores and time, agent m gets power row m."""
        p = self.params
        L, K, M = p.num_subchannels, p.users_per_group, p.num_uavs
        single = self._env.encode_action(decision)
        scores, powers, x_time = single[: L * K], single[L * K: L * K + M * L].reshape(M, L), single[-1:]
        return {a: np.concatenate([scores, powers[m], x_time]).astype(np.float32)
                for m, a in enumerate(self.possible_agents)}
