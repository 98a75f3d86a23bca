"""PettingZoo entry points of device-free localisation, v0 (kept for agents trained on it).

    from isac_envs.multiagent import device_free_localization_v0
    env = device_free_localization_v0.parallel_env(si_level_db=-90)

v0 decodes each BS's action over the 40 dB power span of ``isac_envs/DeviceFreeLocalization-v0``
(the keyword override ``power_dynamic_range_db=40``, unless given) and v0's random stream. New work: use
:mod:`isac_envs.multiagent.device_free_localization_v1` (80 dB span).
"""

from __future__ import annotations

from typing import Any

from isac_envs.device_free_localization.env import DeviceFreeLocalizationEnvV0
from isac_envs.device_free_localization.parallel import DeviceFreeLocalizationParallelEnv

V0_OVERRIDES = {"power_dynamic_range_db": 40.0}


class DeviceFreeLocalizationParallelEnvV0(DeviceFreeLocalizationParallelEnv):
    """v0: the single-agent v0 env underneath (40 dB span, the spec's per-slot random draws)."""

    metadata = {**DeviceFreeLocalizationParallelEnv.metadata, "name": "device_free_localization_v0"}
    env_cls = DeviceFreeLocalizationEnvV0


def parallel_env(**kwargs: Any) -> DeviceFreeLocalizationParallelEnvV0:
    """The v0 ``ParallelEnv`` (keywords as the single-agent env: params=, config=, render_mode=, overrides)."""
    return DeviceFreeLocalizationParallelEnvV0(**{**V0_OVERRIDES, **kwargs})


def env(**kwargs: Any):
    """The AEC version (PettingZoo's ``parallel_to_aec`` conversion of :func:`parallel_env`)."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(parallel_env(**kwargs))


__all__ = ["env", "parallel_env", "DeviceFreeLocalizationParallelEnvV0"]
