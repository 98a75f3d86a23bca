"""What the CLI knows about each system: ids, modules, how an episode is scored."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

from isac_envs import SYSTEMS, available_systems

#: The two episode score rules of the leaderboard (contract 4, docs/benchmark.md):
#: "mean_reward" = mean of the episode's step rewards (per-slot systems),
#: "return" = sum of the step rewards (whole-episode objectives rewarded as differences).
SCORE_RULES = ("mean_reward", "return")

#: Used only when an env class has no ``score_rule`` attribute.
_DEFAULT_SCORE_RULE = {"cell_free_sat_uav": "return"}


@dataclass(frozen=True)
class SystemInfo:
    name: str
    env_id: str
    parallel_module: str | None
    #: "mean": episode objective = mean of the steps' info["objective"] (per-slot systems);
    #: "last": the last step's (whole-episode objectives: the envs whose score_rule is "return").
    episode_objective: str = "mean"

    @property
    def model(self):
        return importlib.import_module(f"isac_envs.{self.name}.model")

    @property
    def baselines(self):
        return importlib.import_module(f"baselines.{self.name}")

    @property
    def score_rule(self) -> str:
        """The env's ``score_rule`` class attribute (contract 4), else the system default."""
        return score_rule_of(self.env_id, self.name)

    @property
    def v0_id(self) -> str:
        """The system's first Gymnasium id (``...-v0``): what an agent without a recorded env id used."""
        return re.sub(r"-v\d+$", "-v0", self.env_id)

    def with_env_id(self, env_id: str) -> "SystemInfo":
        """The same system played on another registered id (e.g. an older version)."""
        if env_id == self.env_id:
            return self
        from gymnasium.envs.registration import registry

        if env_id not in registry:
            raise ValueError(f"env_id {env_id!r} is not a registered Gymnasium id")
        return SystemInfo(self.name, env_id, self.parallel_module, _episode_objective(env_id, self.name))


def score_rule_of(env_id: str, system: str) -> str:
    """``score_rule`` of the env class registered under ``env_id`` (default per system)."""
    from gymnasium.envs.registration import load_env_creator, registry

    default = _DEFAULT_SCORE_RULE.get(system, "mean_reward")
    spec = registry.get(env_id)
    rule = default
    if spec is not None and isinstance(spec.entry_point, str):
        rule = getattr(load_env_creator(spec.entry_point), "score_rule", default)
    if rule not in SCORE_RULES:
        raise ValueError(f"{env_id}: score_rule must be one of {SCORE_RULES}, got {rule!r}")
    return rule


def _episode_objective(env_id: str, system: str) -> str:
    """How the unpenalised ``objective`` column aggregates an episode: it follows the score rule."""
    return "last" if score_rule_of(env_id, system) == "return" else "mean"


def get_system(name: str) -> SystemInfo:
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; known: {list(SYSTEMS)}")
    if name not in available_systems():
        raise ValueError(f"system {name!r} is not built in this installation (available: {available_systems()})")
    env_id, _, par = SYSTEMS[name]
    return SystemInfo(name, env_id, par, _episode_objective(env_id, name))


def system_of(name_or_env_id: str) -> SystemInfo:
    """A system by package name (``"device_free_localization"``) or by any Gymnasium id of it."""
    if name_or_env_id in SYSTEMS:
        return get_system(name_or_env_id)
    from gymnasium.envs.registration import registry

    spec = registry.get(name_or_env_id)
    if spec is not None and isinstance(spec.entry_point, str):
        parts = spec.entry_point.split(":")[0].split(".")
        if len(parts) > 1 and parts[0] == "isac_envs" and parts[1] in SYSTEMS:
            return get_system(parts[1]).with_env_id(name_or_env_id)
    raise ValueError(f"unknown system or env id {name_or_env_id!r}; systems: {list(SYSTEMS)}")


def all_systems() -> list[SystemInfo]:
    return [get_system(s) for s in available_systems()]
