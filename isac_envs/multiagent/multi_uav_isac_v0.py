"""PettingZoo entry points of the ISAC multi-UAV network (agents: the ground BSs ``bs_0..bs_{M-1}``).

    from isac_envs.multiagent import multi_uav_isac_v0
    env = multi_uav_isac_v0.parallel_env(config="small")
"""

from __future__ import annotations

from typing import Any

from isac_envs.multi_uav_isac.parallel import MultiUAVISACParallelEnv


def parallel_env(**kwargs: Any) -> MultiUAVISACParallelEnv:
    """The ``ParallelEnv`` (keywords as the single-agent env: params=, config=, render_mode=, overrides)."""
    return MultiUAVISACParallelEnv(**kwargs)


def env(**kwargs: Any):
    """The AEC version (PettingZoo's ``parallel_to_aec`` conversion of :func:`parallel_env`)."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(parallel_env(**kwargs))


__all__ = ["env", "parallel_env", "MultiUAVISACParallelEnv"]
