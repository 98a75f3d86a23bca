"""Run registered solvers on seeded small-config instances and hash their Decision arrays.

Used in-process by test_solver_determinism.py and as a script in a subprocess::

    python -m tests.hardening._solver_hash SYSTEM:SOLVER ... [--reverse] [--warmup]

prints one ``SYSTEM:SOLVER <sha256>`` line per solver.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys

import numpy as np

SEED_A, SEED_B = 11, 12

#: solvers left out of the cross-process check (slow grid search, no cvxpy)
SLOW = {("uav_effective_capacity", "ergodic")}


def instance(system: str, seed: int):
    import gymnasium as gym

    from isac_envs import SYSTEMS

    env = gym.make(SYSTEMS[system][0], config="small").unwrapped
    env.reset(seed=seed)
    return env.params, env.instance


def decision_hash(decision) -> str:
    """sha256 over every field of a Decision dataclass (shape, dtype and raw bytes of arrays)."""
    h = hashlib.sha256()
    for f in dataclasses.fields(decision):
        v = np.asarray(getattr(decision, f.name))
        h.update(f"{f.name}|{v.shape}|{v.dtype}|".encode())
        h.update(np.ascontiguousarray(v).tobytes())
    return h.hexdigest()


def run(system: str, solver: str, seed: int = SEED_A) -> str:
    from baselines.registry import system_baselines

    spec = system_baselines(system).POLICIES[solver]
    params, inst = instance(system, seed)
    return decision_hash(spec.load()(params, inst, **spec.options))


def main(argv: list[str]) -> int:
    keys = [a for a in argv if not a.startswith("--")]
    if "--reverse" in argv:
        keys = keys[::-1]
    for key in keys:
        system, solver = key.split(":")
        if "--warmup" in argv:  # another instance first: any carried state would show
            run(system, solver, SEED_B)
        print(key, run(system, solver), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
