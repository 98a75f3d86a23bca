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
        "isac_envs/DeviceFreeLocalization-v1",
        "isac_envs.device_free_localization.env:DeviceFreeLocalizationEnv",
        "isac_envs.multiagent.device_free_localization_v1",
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

#: Older versions and variants, registered next to the current ids of SYSTEMS:
#: system -> list of ``register()`` keyword dicts (id, entry_point, optional kwargs).
EXTRA_IDS: dict[str, list[dict]] = {
    # v0: the 40 dB action power span (v1: 80 dB) and the spec's per-slot random draws (v1: blocks)
    "device_free_localization": [
        dict(id="isac_envs/DeviceFreeLocalization-v0",
             entry_point="isac_envs.device_free_localization.env:DeviceFreeLocalizationEnvV0",
             kwargs={"power_dynamic_range_db": 40.0}),
    ],
    # the placement variant (built-in per-block beamformer), and its old id kept for agents trained on v0
    "uav_effective_capacity": [
        dict(id="isac_envs/UAVEffectiveCapacityPlacement-v0",
             entry_point="isac_envs.uav_effective_capacity.placement_env:UAVEffectiveCapacityPlacementEnv"),
        dict(id="isac_envs/UAVEffectiveCapacity-v0",
             entry_point="isac_envs.uav_effective_capacity.placement_env:UAVEffectiveCapacityPlacementEnv"),
    ],
}

#: Native vector envs (``gym.make_vec(id, num_envs=N)``, issue 12): Gymnasium id -> "module:Class".
VECTOR_ENTRY_POINTS: dict[str, str] = {
    "isac_envs/DeviceFreeLocalization-v1": "isac_envs.device_free_localization.vector:DeviceFreeLocalizationVectorEnv",
    "isac_envs/MultiUAVISAC-v0": "isac_envs.multi_uav_isac.vector:MultiUAVISACVectorEnv",
    "isac_envs/CellFreeSatUAV-v0": "isac_envs.cell_free_sat_uav.vector:CellFreeSatUAVVectorEnv",
    "isac_envs/UAVEffectiveCapacity-v1": "isac_envs.uav_effective_capacity.vector:UAVEffectiveCapacityEnvVector",
}


def available_systems() -> list[str]:
    """Systems whose package is present in this installation (in the table's order)."""
    return [s for s in SYSTEMS if importlib.util.find_spec(f"isac_envs.{s}") is not None]


def _register_all() -> None:
    for system in available_systems():
        env_id, entry_point, _ = SYSTEMS[system]
        for spec in [dict(id=env_id, entry_point=entry_point), *EXTRA_IDS.get(system, [])]:
            if spec["id"] not in registry:
                vector = VECTOR_ENTRY_POINTS.get(spec["id"])
                register(**spec, **({"vector_entry_point": vector} if vector else {}))


_register_all()

__all__ = ["SYSTEMS", "EXTRA_IDS", "VECTOR_ENTRY_POINTS", "available_systems", "__version__"]
