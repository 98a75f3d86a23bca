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


def _layout(params: model.Params, action_mode: str = "direct") -> tuple[int, int]:
    """(score entries, own entries) of a per-agent action: direct (L K_g, L powers), hybrid (L (K_g + 1), 1 share)."""
    L, K = params.num_subchannels, params.users_per_group
    return (L * (K + 1), 1) if action_mode == "hybrid" else (L * K, L)


def agent_action_dim(params: model.Params, action_mode: str = "direct") -> int:
    """Scores, the agent's own entries and its time proposal: L K_g + L + 1 (direct), L (K_g + 1) + 2 (hybrid)."""
    n_scores, n_own = _layout(params, action_mode)
    return n_scores + n_own + 1


def joint_action(params: model.Params, agent_actions: np.ndarray, action_mode: str = "direct") -> np.ndarray:
    """(M, a_agent) per-UAV actions -> the single-agent action (spec Sec. 7 joint decoding).

    Scores are summed over agents (here averaged: same argmax, stays in [-1, 1]); UAV m's own entries
    (direct: its power row; hybrid: its energy share) come from agent m; the time fraction is the mean of
    the agents' proposals (tau affine in x). ``batch_joint_action`` is the same map over a leading batch axis.
    """
    return batch_joint_action(params, np.asarray(agent_actions)[None], action_mode)[0]


def batch_joint_action(params: model.Params, agent_actions: np.ndarray, action_mode: str = "direct") -> np.ndarray:
    """(B, M, a_agent) -> (B, A) single-agent actions (contract 6): ``joint_action`` for every batch row."""
    n_scores, n_own = _layout(params, action_mode)
    a = np.clip(np.asarray(agent_actions, dtype=float), -1.0, 1.0)
    B = a.shape[0]
    scores = a[:, :, :n_scores].mean(axis=1)
    own = a[:, :, n_scores: n_scores + n_own].reshape(B, -1)                 # row m = agent m
    x_time = a[:, :, -1].mean(axis=1, keepdims=True)
    return np.concatenate([scores, own, x_time], axis=1)


def batch_agent_observations(params: model.Params, vec_obs: np.ndarray) -> np.ndarray:
    """(B, D) single-agent observations -> (B, M, D + M) per-agent observations (contract 6): the observation
    followed by the one-hot agent index, as ``CellFreeSatUAVParallelEnv.observations()``."""
    obs = np.asarray(vec_obs, dtype=np.float32)
    B, M = obs.shape[0], params.num_uavs
    eye = np.broadcast_to(np.eye(M, dtype=np.float32), (B, M, M))
    return np.concatenate([np.broadcast_to(obs[:, None, :], (B, M, obs.shape[1])), eye], axis=2)


class CellFreeSatUAVParallelEnv(TeamParallelEnv):
    """
    Agents ``uav_0 .. uav_{M-1}`` (the UAVs of the swarm, any ``num_uavs``); all act at every step
    (one step = one slot of the flight) and terminate together after ``num_groups`` steps.

    Per-agent action ``Box(-1, 1, (L K_g + L + 1,), float32)`` (41 default, 13 ``small``):
    ``[subchannel-user scores (L, K_g) | own powers on the L subchannels | time proposal]``. The
    scores are summed over the agents and argmax'ed (user of each subchannel), UAV m's power row is
    agent m's, the slot's time fraction is the mean of the proposals; then the single-agent decoding
    (peak-power normalisation, interference back-off, energy scaling) applies.

    With ``action_mode="hybrid"`` the per-agent action is ``Box(-1, 1, (L (K_g + 1) + 2,))``:
    ``[scores over (users, idle) (L, K_g + 1) | own energy share | time proposal]``; scores are summed,
    UAV m's energy share is agent m's, the time is the mean; then the single-agent hybrid decoding
    (Algorithm 2's power step for the slot).

    Per-agent observation ``Box(-5, 5, (D_obs + M,), float32)``: the single-agent observation
    followed by the one-hot agent index (parameter sharing). ``state()`` returns the single-agent
    observation (centralised critics).

    Every agent receives the single-agent (team) reward and the single-agent ``info`` (whose
    ``instance`` is privileged: learned agents must not read it).

    Arguments as the single-agent env: ``params=``, ``config=``, ``render_mode=``,
    ``enforce_interference=``, ``observation=``, ``action_mode=``, Params overrides (e.g. ``num_uavs=12``).
    """

    metadata = {"name": "cell_free_sat_uav_v0", "is_parallelizable": True,
                "render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_cls = CellFreeSatUAVEnv
    agent_prefix = "uav"
    #: leaderboard rule (contract 4), as the single-agent env: the episode's return (shared team reward)
    score_rule = CellFreeSatUAVEnv.score_rule

    def num_team_agents(self) -> int:
        return self.params.num_uavs

    def agent_spaces(self) -> tuple[spaces.Box, spaces.Box]:
        p = self.params
        return (spaces.Box(-5.0, 5.0, shape=(self._env.obs_dim + p.num_uavs,), dtype=np.float32),
                spaces.Box(-1.0, 1.0, shape=(agent_action_dim(p, self._env.action_mode),), dtype=np.float32))

    def joint_action(self, agent_actions: np.ndarray) -> np.ndarray:
        return joint_action(self.params, agent_actions, self._env.action_mode)

    def encode_actions(self, decision: Decision) -> dict[str, np.ndarray]:
        """Per-agent actions of slot n of a whole-flight decision: same scores and time, agent m gets power row m."""
        n_scores, n_own = _layout(self.params, self._env.action_mode)
        single = self._env.encode_action(decision)
        scores, own, x_time = single[:n_scores], single[n_scores:-1].reshape(self.params.num_uavs, n_own), single[-1:]
        return {a: np.concatenate([scores, own[m], x_time]).astype(np.float32)
                for m, a in enumerate(self.possible_agents)}
