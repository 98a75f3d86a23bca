"""``SolverPolicy``: any analytic solver behind the ``act(obs, info)`` interface of agents.

The solver reads the privileged snapshot ``info["instance"]`` (the one the next action
acts on), its ``Decision`` is encoded through ``env.unwrapped.encode_action`` so that the
solver acts through exactly the action space a learned agent uses.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


class SolverPolicy:
    """Wrap ``solve(params, instance, **options) -> Decision`` as a policy.

    Args:
        solver: the solver function.
        env: the (possibly wrapped) env the policy acts in; ``env.unwrapped`` must expose
            ``params``, ``instance`` and ``encode_action``.
        replan: ``"step"`` (call the solver at every step), ``"episode"`` (call it at the
            first step of an episode, cache the Decision and re-encode it every step), or a
            predicate ``f(prev_instance, instance) -> bool`` that asks for a new call.
        name: label for tables (default: the solver's module name).
        **options: keyword options for the solver.
    """

    def __init__(self, solver: Callable, env, replan: str | Callable = "step",
                 name: str | None = None, **options: Any) -> None:
        if not callable(solver):
            raise TypeError(f"solver must be callable, got {type(solver).__name__}")
        if not (replan in ("step", "episode") or callable(replan)):
            raise ValueError(f"replan must be 'step', 'episode' or a callable, got {replan!r}")
        self.solver = solver
        self.env = env
        self.replan = replan
        self.options = options
        self.name = name or getattr(solver, "__module__", "solver").rsplit(".", 1)[-1]
        self.solver_calls = 0
        self.reset()

    # ------------------------------------------------------------------ policy API
    def reset(self, seed: int | None = None) -> None:
        """Forget the cached decision (a new episode starts); ``seed`` is unused (solvers are deterministic)."""
        self.decision = None
        self._planned_on = None

    def decide(self, instance) -> Any:
        """The solver's Decision for ``instance`` (cached according to ``replan``)."""
        if self.decision is None or self._needs_new_plan(instance):
            self.decision = self.solver(self.env.unwrapped.params, instance, **self.options)
            self._planned_on = instance
            self.solver_calls += 1
        return self.decision

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        """Action for the snapshot ``info["instance"]``; a reset ``info`` starts a new episode."""
        if "instance" not in info:
            raise KeyError("SolverPolicy.act needs info['instance'] (returned by reset and step)")
        if "objective" not in info:  # reset info: {"slot": 0, "instance": ...}
            self.reset()
        decision = self.decide(info["instance"])
        return self.env.unwrapped.encode_action(decision)

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """SB3-style ``predict`` for a local, unvectorised env (reads ``env.unwrapped.instance``)."""
        if episode_start is not None and np.any(episode_start):
            self.reset()
        action = self.env.unwrapped.encode_action(self.decide(self.env.unwrapped.instance))
        return action, state

    # ------------------------------------------------------------------ helpers
    def _needs_new_plan(self, instance) -> bool:
        if self.replan == "step":
            return instance is not self._planned_on
        if self.replan == "episode":
            return False
        return bool(self.replan(self._planned_on, instance))


class RandomPolicy:
    """Uniform random actions from the env's action space, seeded for common random numbers.

    ``reset(seed=s)`` reseeds the generator from ``(s, stream)``: stream ``k`` of episode seed
    ``s`` is one fixed action sequence whatever ran before, and streams ``0..n-1`` are
    independent (``numpy.random.SeedSequence`` entropy ``[s, k]``). The leaderboard's random
    anchor averages ``n >= 16`` such streams per evaluation instance.
    """

    name = "random"

    def __init__(self, env, seed: int = 0, stream: int = 0) -> None:
        if isinstance(stream, bool) or not isinstance(stream, (int, np.integer)) or stream < 0:
            raise ValueError(f"stream must be an integer >= 0, got {stream!r}")
        self.env = env
        self.space = env.action_space
        self.stream = int(stream)
        self.rng = self._generator(seed)

    def _generator(self, seed: int) -> np.random.Generator:
        return np.random.default_rng([int(seed), self.stream])

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = self._generator(seed)

    def act(self, obs, info) -> np.ndarray:
        low, high = self.space.low, self.space.high
        return self.rng.uniform(low, high).astype(self.space.dtype)

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        return self.act(observation, {}), state
