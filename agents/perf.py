"""``isac perf``: medians over repeated runs of the model functions, env steps and solvers;
``--vector``: env-steps/s of the single env, SyncVectorEnv and the native vector env against N,
with CartPole-v1 as calibration; ``--scale``: PettingZoo reset/step cost against the number of
agents. Results and the commands: docs/performance.md.

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


# --------------------------------------------------------------------------- vector envs
#: ``isac perf --vector``: batch sizes, and the calibration id (its native vector env is numpy).
VECTOR_NS = (1, 64, 1024, 4096)
CALIBRATION_ID = "CartPole-v1"
#: Pre-generated action batches are reused cyclically beyond this many bytes.
_ACTION_POOL_BYTES = 64 << 20


def _check_counts(name: str, values) -> None:
    """ValueError naming the option unless every value is an integer >= 1."""
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1]
    if bad or not len(values):
        raise ValueError(f"{name} must be integers >= 1, got {list(values)}")


def _vector_modes(env_id: str) -> list[str]:
    """``sync`` always; ``vector_entry_point`` when the id registers a native vector env."""
    import gymnasium as gym

    modes = ["sync"]
    if gym.spec(env_id).vector_entry_point is not None:
        modes.append("vector_entry_point")
    return modes


def _make_vector(env_id: str, mode: str, n: int, kwargs: dict):
    """SyncVectorEnv (SAME_STEP autoreset, as the native envs) or the registered native env."""
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode

    if mode == "sync":
        return gym.make_vec(env_id, num_envs=n, vectorization_mode="sync", disable_env_checker=True,
                            vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **kwargs)
    return gym.make_vec(env_id, num_envs=n, vectorization_mode=mode, **kwargs)


#: ``--clock``: wall time (the default), or this process's CPU time (steadier on a loaded machine;
#: equal to wall time on an idle one, as everything here runs in one thread with OMP_NUM_THREADS=1).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _rate(step_block: Callable[[int], None], env_steps_per_call: int, repeats: int,
          target_seconds: float, clock: Callable[[], float] = time.perf_counter, max_calls: int = 100_000) -> float:
    """Median env-steps/s over ``repeats`` blocks of calls, each block ~``target_seconds`` long."""
    t0 = clock()
    step_block(2)  # warm-up (lazy caches, first reset paths)
    per_call = max((clock() - t0) / 2, 1e-7)
    calls = int(min(max_calls, max(1, np.ceil(target_seconds / per_call))))
    rates = []
    for _ in range(repeats):
        t0 = clock()
        step_block(calls)
        rates.append(calls * env_steps_per_call / max(clock() - t0, 1e-9))
    return float(np.median(rates))


def _single_env_rate(env_id: str, kwargs: dict, repeats: int, target_seconds: float, clock=time.perf_counter) -> float:
    """env.step throughput of one env with random actions (the auto-reset included, as in a vector env)."""
    import gymnasium as gym

    env = gym.make(env_id, disable_env_checker=True, **kwargs)
    env.action_space.seed(0)
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(256)]
    state = {"i": 0}

    def block(calls: int) -> None:
        i = state["i"]
        for _ in range(calls):
            _, _, term, trunc, _ = env.step(actions[i % len(actions)])
            i += 1
            if term or trunc:
                env.reset()
        state["i"] = i

    try:
        return _rate(block, 1, repeats, target_seconds, clock)
    finally:
        env.close()


def _vector_env_rate(env_id: str, mode: str, n: int, kwargs: dict, repeats: int, target_seconds: float,
                     clock=time.perf_counter) -> float:
    """env-steps/s of ``n`` envs stepped together with pre-generated random action batches."""
    venv = _make_vector(env_id, mode, n, kwargs)
    try:
        venv.action_space.seed(0)
        venv.reset(seed=0)
        first = venv.action_space.sample()
        pool = int(max(1, min(64, _ACTION_POOL_BYTES // max(1, np.asarray(first).nbytes))))
        actions = [first] + [venv.action_space.sample() for _ in range(pool - 1)]
        state = {"i": 0}

        def block(calls: int) -> None:
            i = state["i"]
            for _ in range(calls):
                venv.step(actions[i % len(actions)])
                i += 1
            state["i"] = i

        return _rate(block, n, repeats, target_seconds, clock)
    finally:
        venv.close()


def perf_vector(env_ids: list[str], ns: tuple[int, ...] = VECTOR_NS, config: str | None = None,
                repeats: int = 5, target_seconds: float = 0.3, budget_seconds: float = 20.0, clock: str = "wall",
                progress: Callable[[str], None] | None = None) -> tuple[list[dict], list[str]]:
    """Env-steps/s of the single env, SyncVectorEnv and the native vector env at each N.

    ``CartPole-v1`` (native numpy vector env) is measured first in the same run as the
    calibration. A cell whose estimated cost (per-env time of the previous N of the same mode
    times N, over the warm-up and the repeats) exceeds ``budget_seconds`` is skipped with a
    note, as are the larger N after it. Returns (rows, notes); a row is
    ``{"env", "mode", "rates": {N: env-steps/s}}``.
    """
    _check_counts("N (--ns)", ns)
    _check_counts("repeats", (repeats,))
    rows, notes, tick = [], [], CLOCKS[clock]
    for env_id in [CALIBRATION_ID, *[e for e in env_ids if e != CALIBRATION_ID]]:
        kwargs = {} if env_id == CALIBRATION_ID or config is None else {"config": config}
        if progress:
            progress(f"{env_id}: single env")
        rows.append({"env": env_id, "mode": "single env", "rates": {1: _single_env_rate(env_id, kwargs, repeats, target_seconds, tick)}})
        modes = _vector_modes(env_id)
        if "vector_entry_point" not in modes:
            notes.append(f"{env_id}: no native vector env registered (no vector_entry_point); SyncVectorEnv only")
        for mode in modes:
            rates: dict[int, float] = {}
            for n in ns:
                if rates:
                    last_n = max(rates)
                    estimate = (repeats * max(target_seconds, n / rates[last_n]) + 3 * n / rates[last_n])
                    if estimate > budget_seconds:
                        notes.append(f"{env_id} {_MODE_NAMES[mode]}: N >= {n} skipped (estimated {estimate:.0f} s "
                                     f"> budget {budget_seconds:.0f} s at {rates[last_n]:,.0f} env-steps/s for N={last_n})")
                        break
                if progress:
                    progress(f"{env_id}: {_MODE_NAMES[mode]} N={n}")
                rates[n] = _vector_env_rate(env_id, mode, n, kwargs, repeats, target_seconds, tick)
            rows.append({"env": env_id, "mode": _MODE_NAMES[mode], "rates": rates})
    return rows, notes


_MODE_NAMES = {"sync": "SyncVectorEnv", "vector_entry_point": "native vector env"}


def _rate_str(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:,.0f}"


def vector_table(rows: list[dict], ns: tuple[int, ...] = VECTOR_NS) -> str:
    """Markdown: env-steps/s per (env, mode) and N, and each env's best rate against CartPole's native one."""
    cal = [r for r in rows if r["env"] == CALIBRATION_ID and r["mode"] == _MODE_NAMES["vector_entry_point"]]
    cal_best = max(cal[0]["rates"].values()) if cal and cal[0]["rates"] else None
    header = ["env", "mode", *[f"N={n}" for n in ns], "best ÷ CartPole native best"]
    body = []
    for r in rows:
        best = max(r["rates"].values()) if r["rates"] else None
        ratio = f"{best / cal_best:.3g}" if best and cal_best else "—"
        body.append([r["env"], r["mode"], *[_rate_str(r["rates"].get(n)) for n in ns], ratio])
    return markdown_table(header, body)


def speedup_table(rows: list[dict]) -> str:
    """Per env: native vector env ÷ SyncVectorEnv at the largest N both measured, and ÷ single env."""
    body = []
    for env_id in dict.fromkeys(r["env"] for r in rows):
        by_mode = {r["mode"]: r["rates"] for r in rows if r["env"] == env_id}
        native, sync = by_mode.get(_MODE_NAMES["vector_entry_point"]), by_mode.get(_MODE_NAMES["sync"])
        single = by_mode["single env"][1]
        if not native:
            body.append([env_id, "—", "—", "—"])
            continue
        common = sorted(set(native) & set(sync or {}))
        n = common[-1] if common else None
        best_n = max(native, key=native.get)
        body.append([env_id, f"{native[best_n]:,.0f} (N={best_n})",
                     f"{native[n] / sync[n]:.1f}× (N={n})" if n else "—", f"{native[best_n] / single:.1f}×"])
    return markdown_table(["env", "native best env-steps/s", "native ÷ SyncVectorEnv", "native best ÷ single env"], body)


# --------------------------------------------------------------------------- swarm scale
#: ``isac perf --scale``: PettingZoo module -> the Params field that sets the number of agents.
SCALE_ENVS = {
    "isac_envs.multiagent.cell_free_sat_uav_v0": "num_uavs",
    "isac_envs.multiagent.multi_uav_isac_v0": "num_bs",
}
SCALE_AGENTS = (8, 16, 32, 64, 128)


def perf_scale(agent_counts: tuple[int, ...] = SCALE_AGENTS, config: str | None = None, repeats: int = 5,
               budget_seconds: float = 60.0, clock: str = "wall", progress: Callable[[str], None] | None = None
               ) -> tuple[list[list[str]], list[str]]:
    """Median reset and step time of the PettingZoo parallel envs against the number of agents.

    Random joint actions are drawn before the timed region; a step that ends the episode is
    followed by an untimed reset. Larger counts are skipped (with a note) once one count's
    measurement took longer than ``budget_seconds / 4``.
    """
    import importlib

    _check_counts("agent counts (--agents)", agent_counts)
    _check_counts("repeats", (repeats,))
    rows, notes = [], []
    for module_name, field_name in SCALE_ENVS.items():
        module = importlib.import_module(module_name)
        short = module_name.rsplit(".", 1)[-1]
        for n in agent_counts:
            if progress:
                progress(f"{short}: {field_name}={n}")
            t_start = time.perf_counter()
            kwargs = {field_name: n, **({"config": config} if config else {})}
            try:
                env = module.parallel_env(**kwargs)
                env.reset(seed=0)
            except (ValueError, MemoryError) as exc:
                notes.append(f"{short} {field_name}={n}: not run ({exc})")
                continue
            reset_s, step_s = _time_parallel(env, repeats, CLOCKS[clock])
            agents = len(env.possible_agents)
            env.close()
            rows.append([short, f"{field_name}={n}", str(agents), _fmt(reset_s), _fmt(step_s),
                         f"{1 / step_s:,.0f}", f"{agents / step_s:,.0f}"])
            if time.perf_counter() - t_start > budget_seconds / 4 and n != agent_counts[-1]:
                notes.append(f"{short}: counts above {n} skipped ({time.perf_counter() - t_start:.0f} s at {n} agents "
                             f"> budget {budget_seconds:.0f} s / 4)")
                break
    return rows, notes


def _time_parallel(env, repeats: int, clock: Callable[[], float] = time.perf_counter) -> tuple[float, float]:
    """(median reset seconds, median step seconds) of a PettingZoo parallel env."""
    resets, steps = [], []
    for i, a in enumerate(env.possible_agents):
        env.action_space(a).seed(i)
    for r in range(repeats):
        t0 = clock()
        env.reset(seed=1000 + r)
        resets.append(clock() - t0)
    for r in range(repeats):
        env.reset(seed=2000 + r)
        acts = [{a: env.action_space(a).sample() for a in env.agents} for _ in range(8)]
        t, k = 0.0, 0
        for actions in acts:
            if not env.agents:
                break
            t0 = clock()
            env.step(actions)
            t += clock() - t0
            k += 1
        steps.append(t / max(k, 1))
    return float(np.median(resets)), float(np.median(steps))


SCALE_HEADER = ["env", "agents set by", "agents", "reset (median)", "step (median)", "steps/s", "agent-steps/s"]
