"""``isac perf``: medians over repeated runs of the model functions, env steps and solvers.

Benchmarks, not tests: numbers depend on the machine; nothing here asserts a time.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from agents.evaluation import make_env
from agents.leaderboard import markdown_table
from agents.seeds import eval_seeds
from agents.systems import SystemInfo


def _median_seconds(fn: Callable[[], object], repeats: int, number: int = 1) -> float:
    """Median over ``repeats`` of the mean time of ``number`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return float(np.median(times))


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def perf_system(system: SystemInfo, config: str = "paper", repeats: int = 7, solver_instances: int = 5,
                only: list[str] | None = None, skip: list[str] | None = None) -> list[list[str]]:
    """Rows (system, operation, median time, rate) for one system."""
    from isac_envs.core import require_int

    require_int("repeats", repeats, minimum=1)
    model = system.model
    env = make_env(system, config)
    params = env.unwrapped.params
    rng = np.random.default_rng(0)
    env.reset(seed=eval_seeds(1)[0])
    inst = env.unwrapped.instance
    action = env.action_space.sample()
    decision = env.unwrapped.decode_action(action)
    rows = []

    def add(op, sec, per_second=False):
        rows.append([system.name, config, op, _fmt(sec), f"{1 / sec:,.0f}/s" if per_second else ""])

    add("sample_instance", _median_seconds(lambda: model.sample_instance(params, rng), repeats, 20))
    if hasattr(model, "advance_instance"):
        try:
            sec = _median_seconds(lambda: model.advance_instance(params, inst, rng), repeats, 20)
            add("advance_instance", sec)
        except TypeError:
            pass
    add("evaluate", _median_seconds(lambda: model.evaluate(params, inst, decision), repeats, 20))
    add("decode_action", _median_seconds(lambda: env.unwrapped.decode_action(action), repeats, 20))

    def reset():
        env.reset(seed=int(rng.integers(1 << 30)))

    add("env.reset", _median_seconds(reset, repeats, 5))
    actions = [env.action_space.sample() for _ in range(64)]

    step_times = []
    for _ in range(repeats):
        env.reset(seed=int(rng.integers(1 << 30)))
        n, t, done = 0, 0.0, False
        while not done and n < 64:
            t0 = time.perf_counter()
            _, _, term, trunc, _ = env.step(actions[n])
            t += time.perf_counter() - t0
            n += 1
            done = term or trunc
        step_times.append(t / n)
    add("env.step (random actions)", float(np.median(step_times)), per_second=True)

    bl = system.baselines
    instances = []
    for s in eval_seeds(solver_instances):
        _, info = env.reset(seed=s)
        instances.append(info["instance"])
    for name, spec in bl.POLICIES.items():
        if (only and name not in only) or (skip and name in skip):
            continue
        solver = spec.load()
        try:
            solver(params, instances[0], **spec.options)  # warm-up (cvxpy compile, caches)
        except ValueError as exc:
            rows.append([system.name, config, f"solver {name}", f"skipped: {exc}", ""])
            continue
        per = [_median_seconds(lambda i=i: solver(params, i, **spec.options), max(1, repeats // 3)) for i in instances]
        add(f"solver {name}", float(np.mean(per)))
    env.close()
    return rows


PERF_HEADER = ["system", "config", "operation", "median time", "rate"]


def perf_table(rows: list[list[str]]) -> str:
    return markdown_table(PERF_HEADER, rows)
