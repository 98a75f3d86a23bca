"""isac-envs: Gymnasium / PettingZoo environments for ISAC and multi-UAV resource allocation.

Importing this package registers every Gymnasium id (``isac_envs/...``); it loads only
numpy and gymnasium (cvxpy, torch, matplotlib and pettingzoo are imported where used).
"""

from __future__ import annotations

import importlib.util

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

#: system package -> (Gymnasium id, "module:Class" entry point, PettingZoo module or None)
SYSTEMS: dict[str, tuple[str, str, str | None]] = {
    "device_free_localization": (
        "isac_envs/DeviceFreeLocalization-v0",
        "isac_envs.device_free_localization.env:DeviceFreeLocalizationEnv",
        "isac_envs.multiagent.device_free_localization_v0",
    ),
    "multi_uav_isac": (
        "isac_envs/MultiUAVISAC-v0",
        "isac_envs.multi_uav_isac.env:MultiUAVISACEnv",
        "isac_envs.multiagent.multi_uav_isac_v0",
    ),
    "cell_free_sat_uav": (
        "isac_envs/CellFreeSatUAV-v0",
        "isac_envs.cell_free_sat_uav.env:CellFreeSatUAVEnv",
        "isac_envs.multiagent.cell_free_sat_uav_v0",
    ),
    "uav_effective_capacity": (
        "isac_envs/UAVEffectiveCapacity-v0",
        "isac_envs.uav_effective_capacity.env:UAVEffectiveCapacityEnv",
        None,
    ),
}


def available_systems() -> list[str]:
    """Systems whose package is present in this installation (in the table's order)."""
    return [s for s in SYSTEMS if importlib.util.find_spec(f"isac_envs.{s}") is not None]


#: system -> "module:Class" of its native vector env (contract 5), for ``gym.make_vec``
VECTOR_ENTRY_POINTS: dict[str, str] = {
    "cell_free_sat_uav": "isac_envs.cell_free_sat_uav.vector:CellFreeSatUAVVectorEnv",
}


def _register_all() -> None:
    for system in available_systems():
        env_id, entry_point, _ = SYSTEMS[system]
        if env_id not in registry:
            register(id=env_id, entry_point=entry_point, vector_entry_point=VECTOR_ENTRY_POINTS.get(system))


_register_all()

__all__ = ["SYSTEMS", "available_systems", "__version__"]
