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
        "isac_envs/UAVEffectiveCapacity-v1",
        "isac_envs.uav_effective_capacity.env:UAVEffectiveCapacityEnv",
        None,
    ),
}

#: Extra ids (old versions, variants): id -> (system package, "module:Class" entry point)
EXTRA_IDS: dict[str, tuple[str, str]] = {
    # uav_effective_capacity: the placement variant, and its old id kept for agents trained on v0
    "isac_envs/UAVEffectiveCapacityPlacement-v0": (
        "uav_effective_capacity",
        "isac_envs.uav_effective_capacity.placement_env:UAVEffectiveCapacityPlacementEnv",
    ),
    "isac_envs/UAVEffectiveCapacity-v0": (
        "uav_effective_capacity",
        "isac_envs.uav_effective_capacity.placement_env:UAVEffectiveCapacityPlacementEnv",
    ),
}

#: Native vector envs (issue 12): Gymnasium id -> "module:Class"
VECTOR_ENTRY_POINTS: dict[str, str] = {
    "isac_envs/UAVEffectiveCapacity-v1": "isac_envs.uav_effective_capacity.vector:UAVEffectiveCapacityEnvVector",
}


def available_systems() -> list[str]:
    """Systems whose package is present in this installation (in the table's order)."""
    return [s for s in SYSTEMS if importlib.util.find_spec(f"isac_envs.{s}") is not None]


def _register_all() -> None:
    systems = available_systems()
    ids = [(env_id, entry) for s, (env_id, entry, _) in SYSTEMS.items() if s in systems]
    ids += [(env_id, entry) for env_id, (s, entry) in EXTRA_IDS.items() if s in systems]
    for env_id, entry_point in ids:
        if env_id not in registry:
            register(id=env_id, entry_point=entry_point, vector_entry_point=VECTOR_ENTRY_POINTS.get(env_id))


_register_all()

__all__ = ["SYSTEMS", "EXTRA_IDS", "VECTOR_ENTRY_POINTS", "available_systems", "__version__"]
