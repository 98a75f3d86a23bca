"""What the CLI knows about each system: ids, modules, how an episode is scored."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from isac_envs import SYSTEMS, available_systems


@dataclass(frozen=True)
class SystemInfo:
    name: str
    env_id: str
    parallel_module: str | None
    #: "mean": episode objective = mean of the steps' info["objective"] (per-slot systems);
    #: "last": the last step's (whole-flight objective, cell_free_sat_uav).
    episode_objective: str = "mean"

    @property
    def model(self):
        return importlib.import_module(f"isac_envs.{self.name}.model")

    @property
    def baselines(self):
        return importlib.import_module(f"baselines.{self.name}")


_EPISODE_OBJECTIVE = {"cell_free_sat_uav": "last", "uav_effective_capacity": "last"}


def get_system(name: str) -> SystemInfo:
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; known: {list(SYSTEMS)}")
    if name not in available_systems():
        raise ValueError(f"system {name!r} is not built in this installation (available: {available_systems()})")
    env_id, _, par = SYSTEMS[name]
    return SystemInfo(name, env_id, par, _EPISODE_OBJECTIVE.get(name, "mean"))


def all_systems() -> list[SystemInfo]:
    return [get_system(s) for s in available_systems()]
