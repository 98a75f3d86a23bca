"""How a system declares its baseline policies for the leaderboard and ``isac perf``.

Each ``baselines/<system>/__init__.py`` defines (importing no solver module, so that
listing policies stays cheap and cvxpy is only loaded when a solver runs)::

    POLICIES = {
        "sca": PolicySpec("baselines.device_free_localization.sca:solve", replan="step"),
        ...
    }
    PAPER_SOLVER = "sca"          # the row agents are normalised against
    BEST_KNOWN = "bisection_optimum"  # the strongest reference (a name, or names in order of
                                      # preference): the leaderboard's "gap to best known"
    KEY_METRICS = ("range_std_max_m", ...)   # metrics shown in the leaderboard
    # optional: def native_score(params, instance, decision) -> Evaluation  (the solver's own
    #           Decision scored natively; the leaderboard adds a 'native objective' column)
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class PolicySpec:
    """A registered solver: ``"module:function"`` plus how ``SolverPolicy`` calls it.

    replan: "step" (a call every step), "episode" (once per episode, the Decision cached and
        re-encoded each step) or the name of a predicate ``f(prev_instance, instance) -> bool``
        in the solver's module that says when to call again.
    options: keyword options passed to the solver.
    description: one line for the leaderboard legend.
    small_only: the solver refuses large instances (exhaustive references); the leaderboard
        skips it with a note where it raises ValueError.
    """

    target: str
    replan: str = "step"
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    small_only: bool = False

    def load(self) -> Callable:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr or "solve")

    def load_replan(self):
        if self.replan in ("step", "episode"):
            return self.replan
        module = self.target.partition(":")[0]
        return getattr(importlib.import_module(module), self.replan)


def system_baselines(system: str):
    """The ``baselines.<system>`` module (POLICIES, PAPER_SOLVER, BEST_KNOWN, KEY_METRICS)."""
    return importlib.import_module(f"baselines.{system}")
