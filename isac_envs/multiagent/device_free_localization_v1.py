"""PettingZoo entry points of device-free localisation, v1 (agents: the BSs ``bs_0..bs_2``).

    from isac_envs.multiagent import device_free_localization_v1
    env = device_free_localization_v1.parallel_env(si_level_db=-90)

v1 decodes each BS's action over the 80 dB power span of ``isac_envs/DeviceFreeLocalization-v1``
(``device_free_localization_v0``: the 40 dB span of v0).
"""

from __future__ import annotations

from typing import Any

from isac_envs.device_free_localization.parallel import DeviceFreeLocalizationParallelEnv


def parallel_env(**kwargs: Any) -> DeviceFreeLocalizationParallelEnv:
    """The ``ParallelEnv`` (keywords as the single-agent env: params=, config=, render_mode=, overrides)."""
    return DeviceFreeLocalizationParallelEnv(**kwargs)


def env(**kwargs: Any):
    """The AEC version (PettingZoo's ``parallel_to_aec`` conversion of :func:`parallel_env`)."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(parallel_env(**kwargs))


__all__ = ["env", "parallel_env", "DeviceFreeLocalizationParallelEnv"]
