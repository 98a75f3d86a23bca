"""PettingZoo ``ParallelEnv`` of the ISAC multi-UAV network: the BSs are the agents (spec Sec. 7).

It runs the single-agent env underneath (same decoding, reward, ``info`` and episode end), so both
variants score exactly the same ``evaluate()``.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from isac_envs.base_parallel import TeamParallelEnv
from isac_envs.multi_uav_isac import model
from isac_envs.multi_uav_isac.env import MultiUAVISACEnv


def batch_joint_action(params: model.Params, agent_actions: np.ndarray) -> np.ndarray:
    """(B, M, 3K+2) per-BS actions of B envs -> (B, D_act) single-agent actions (spec Sec. 7 joint decoding).

    Association score of UAV j for BS m = bid of agent m; the power scores of UAV j are those of
    the agent that wins it (highest bid, ties: lowest BS index).
    """
    k = params.num_uavs
    a = np.minimum(np.maximum(np.asarray(agent_actions, float), -1.0), 1.0)
    bids = np.swapaxes(a[..., : k + 1], -1, -2)                            # (B, K+1, M)
    assoc = np.argmax(bids, axis=-1)                                        # (B, K+1)
    comm = np.take_along_axis(a[..., k + 1: 2 * k + 1], assoc[:, None, :k], axis=-2)[:, 0]
    sense = np.take_along_axis(a[..., 2 * k + 1:], assoc[:, None, :], axis=-2)[:, 0]
    return np.concatenate([bids.reshape(len(a), -1), comm, sense], axis=-1)


def joint_action(params: model.Params, agent_actions: np.ndarray) -> np.ndarray:
    """(M, 3K+2) per-BS actions -> the single-agent action (:func:`batch_joint_action` with B = 1)."""
    return batch_joint_action(params, np.asarray(agent_actions)[None])[0]


def batch_agent_observations(params: model.Params, vec_obs: np.ndarray) -> np.ndarray:
    """(B, D_obs) single-agent observations -> (B, M, D_obs + M) per-agent observations: the global
    observation followed by the agent's one-hot (what the parallel env's ``observations()`` returns;
    the BS agents keep no state of their own)."""
    vec_obs = np.asarray(vec_obs, np.float32)
    b, m = len(vec_obs), params.num_bs
    eye = np.broadcast_to(np.eye(m, dtype=np.float32), (b, m, m))
    return np.concatenate([np.broadcast_to(vec_obs[:, None, :], (b, m, vec_obs.shape[-1])), eye], axis=-1)


class MultiUAVISACParallelEnv(TeamParallelEnv):
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
    env_cls = MultiUAVISACEnv
    agent_prefix = "bs"

    def num_team_agents(self) -> int:
        return self.params.num_bs

    def agent_spaces(self) -> tuple[spaces.Box, spaces.Box]:
        p = self.params
        return (spaces.Box(-5.0, 5.0, shape=(model.obs_dim(p) + p.num_bs,), dtype=np.float32),
                spaces.Box(-1.0, 1.0, shape=(3 * p.num_uavs + 2,), dtype=np.float32))

    def joint_action(self, agent_actions: np.ndarray) -> np.ndarray:
        return joint_action(self.params, agent_actions)
