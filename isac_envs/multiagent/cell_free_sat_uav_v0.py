"""PettingZoo entry points of the cell-free satellite-UAV swarm (agents: the UAVs ``uav_0..uav_{M-1}``).

    from isac_envs.multiagent import cell_free_sat_uav_v0
    env = cell_free_sat_uav_v0.parallel_env(config="small", num_uavs=8)
"""

from __future__ import annotations

from typing import Any

from isac_envs.cell_free_sat_uav.parallel import CellFreeSatUAVParallelEnv


def parallel_env(**kwargs: Any) -> CellFreeSatUAVParallelEnv:
    """The ``ParallelEnv`` (keywords as the single-agent env: params=, config=, render_mode=,
    enforce_interference=, observation=, action_mode=, Params overrides such as num_uavs=)."""
    return CellFreeSatUAVParallelEnv(**kwargs)


def env(**kwargs: Any):
    """The AEC version (PettingZoo's ``parallel_to_aec`` conversion of :func:`parallel_env`)."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(parallel_env(**kwargs))


__all__ = ["env", "parallel_env", "CellFreeSatUAVParallelEnv"]
