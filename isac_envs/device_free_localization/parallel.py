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
from isac_envs.device_free_localization.model import LOCAL_OBS_DIM, NUM_BS, OBS_BOUND


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
        return agent_actions.reshape(-1)  # [a_bs_0, a_bs_1, a_bs_2], decoded as in Sec. 6

    def observations(self) -> dict[str, np.ndarray]:
        local = model.local_observation(self.params, self._env.instance, self._env.slot, self._previous)
        return {a: local[b] for b, a in enumerate(self.possible_agents)}

    def on_reset(self) -> None:
        self._previous = np.zeros((NUM_BS, 4))

    def on_step(self, joint: np.ndarray) -> None:
        self._previous = model.local_feedback(self._env.last_evaluation, self.params, joint)
