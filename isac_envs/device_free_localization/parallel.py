"""PettingZoo ``ParallelEnv`` of device-free localisation: one agent per BS, shared team reward.

Spec Sec. 7. It runs the single-agent env underneath (same decoding, reward, ``info`` and
episode end), so both variants score exactly the same ``evaluate()``.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from isac_envs.base_parallel import TeamParallelEnv
from isac_envs.device_free_localization import model
from isac_envs.device_free_localization.env import DeviceFreeLocalizationEnv
from isac_envs.device_free_localization.model import LOCAL_OBS_DIM, NUM_BS, OBS_BOUND, OBS_DIM, Params

_EYE = np.eye(NUM_BS)


def batch_agent_observations(params: Params, vec_obs: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """Per-BS local observations (B, 3, 25) float32 from team observations ``vec_obs`` (B, 34).

    Fields 20-23 are the previous slot's feedback, which the team observation does not hold: pass
    ``previous`` (B, 3, 4) from :func:`batch_feedback` of the previous step (zeros at reset, the default).
    Equal to the parallel env's own :meth:`~DeviceFreeLocalizationParallelEnv.observations`.
    """
    o = np.asarray(vec_obs, dtype=np.float32)
    if o.ndim != 2 or o.shape[1] != OBS_DIM:
        raise ValueError(f"vec_obs must have shape (B, {OBS_DIM}), got {o.shape}")
    b = o.shape[0]
    cs, inr = o[:, 0:9].reshape(b, NUM_BS, NUM_BS), o[:, 12:21].reshape(b, NUM_BS, NUM_BS)
    out = np.empty((b, NUM_BS, LOCAL_OBS_DIM), dtype=np.float32)
    out[:, :, 0:3] = cs.transpose(0, 2, 1)      # column b: SNR at its own UE from BS 0..2
    out[:, :, 3:6] = cs                          # row b: its SNR at UE 0..2
    out[:, :, 6] = o[:, 9:12]
    out[:, :, 7:10] = inr.transpose(0, 2, 1)
    out[:, :, 10:13] = inr
    out[:, :, 13] = o[:, 21:24]
    out[:, :, 14] = o[:, 24:25]
    out[:, :, 15:17] = o[:, 27:33].reshape(b, NUM_BS, 2)
    out[:, :, 17:20] = _EYE
    out[:, :, 20:24] = 0.0 if previous is None else np.clip(previous, -OBS_BOUND, OBS_BOUND)
    out[:, :, 24] = o[:, 33:34]
    return out


def batch_joint_action(params: Params, agent_actions: np.ndarray) -> np.ndarray:
    """Per-BS actions (B, 3, 1) -> the single-agent joint action (B, 3) = [a_bs_0, a_bs_1, a_bs_2]."""
    a = np.asarray(agent_actions)
    if a.ndim != 3 or a.shape[1:] != (NUM_BS, 1):
        raise ValueError(f"agent_actions must have shape (B, {NUM_BS}, 1), got {a.shape}")
    return a[:, :, 0]


def batch_feedback(params: Params, range_std_m: np.ndarray, comm_sinr_db: np.ndarray,
                   joint_action: np.ndarray) -> np.ndarray:
    """Fields 20-23 for the next local observations, (B, 3, 4), from a native vector env step's
    ``infos["range_std_m"]``, ``infos["comm_sinr_db"]`` and the joint action played (zero them for
    envs that were reset in that step)."""
    return model.local_feedback_arrays(params, range_std_m, comm_sinr_db, np.clip(joint_action, -1.0, 1.0))


class DeviceFreeLocalizationParallelEnv(TeamParallelEnv):
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

    Version History: ``device_free_localization_v1`` decodes the joint action with the v1 span
    (80 dB, ``DeviceFreeLocalization-v1``); ``device_free_localization_v0`` is this class with
    ``power_dynamic_range_db=40`` (the v0 span), as built by the v0 module.
    """

    metadata = {"name": "device_free_localization_v1", "is_parallelizable": True,
                "render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_cls = DeviceFreeLocalizationEnv
    agent_prefix = "bs"

    def num_team_agents(self) -> int:
        return NUM_BS

    def agent_spaces(self) -> tuple[spaces.Box, spaces.Box]:
        return (spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(LOCAL_OBS_DIM,), dtype=np.float32),
                spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32))

    def joint_action(self, agent_actions: np.ndarray) -> np.ndarray:
        return batch_joint_action(self.params, agent_actions[None])[0]  # [a_bs_0, a_bs_1, a_bs_2]

    def observations(self) -> dict[str, np.ndarray]:
        local = batch_agent_observations(self.params, self._state[None], self._previous[None])[0]
        return {a: local[b] for b, a in enumerate(self.possible_agents)}

    def on_reset(self) -> None:
        self._previous = np.zeros((NUM_BS, 4))

    def on_step(self, joint: np.ndarray) -> None:
        self._previous = model.local_feedback(self._env.last_evaluation, self.params, joint)
