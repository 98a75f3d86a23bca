"""Fuzzing the public surface (issue 9): Params overrides, YAML config files, actions and
PettingZoo agent dicts, each checked against one property:

    the input either works (construction + reset + one step give finite observations and
    rewards), or it raises ValueError/TypeError whose message names the offending field /
    file / action / agent (RuntimeError naming ``reset()`` for a PettingZoo step out of
    an episode).

Anything else is a **defect**: another exception type, an error that does not say what was
wrong, a non-finite output, an invalid action accepted, or a case running past its time limit.

The generators draw through a small ``Chooser`` interface, so the same code serves the
hypothesis property tests (``tests/fuzz/``, ``DrawChooser``) and the soak command
``isac fuzz --budget-s N`` (``RandomChooser`` seeded by (seed, case index): every case is
replayable with ``isac fuzz --system S --seed K --case I``).
"""

from __future__ import annotations

import math
import os
import signal
import tempfile
import time
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

KINDS = ("params", "yaml", "action", "agents")

#: values tried for any Params field (besides scaled defaults)
EXTREME_VALUES: tuple = (1e300, -1e300, 1e-300, -1e-300, 0, 0.0, -1, -1.5, float("nan"), float("inf"),
                         float("-inf"), True, False, "1.0", "abc", None, 10**12, 10**20, [1.0, 2.0], [])
#: YAML spellings of awkward scalars
YAML_SCALARS = ("1e300", "-1e300", "0", "-1", ".nan", ".inf", "-.inf", "true", "null", "'1.0'", "abc", "1e20",
                "100000000000000000000", "[1, 2]", "{a: 1}", "[]", "0x10", "1_000")
#: pieces of broken YAML (and worse)
YAML_FRAGMENTS = ("[", "]", "{", "}", ": :", "- ", "key: [1, 2", "!!python/object/apply:os.system ['true']",
                  "!!python/name:os.system", "&a [*a]", "*undefined", "\t", "\x00", "%YAML 9.9", "---", "...",
                  "? complex key", "1: 2", "[[[[[[[[[[", "'unterminated", "\"\\x\"", "!!binary AAAA", "~: 1")


# --------------------------------------------------------------------------- choosers
class Chooser:
    """Where the generators get their decisions from (numpy generator or hypothesis draws)."""

    def pick(self, options: Sequence) -> Any:
        raise NotImplementedError

    def integer(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def real(self, lo: float, hi: float) -> float:
        raise NotImplementedError

    def sample(self, options: Sequence, k_max: int) -> list:
        """Between 1 and ``k_max`` distinct elements of ``options``, in order."""
        k = self.integer(1, min(k_max, len(options)))
        pool, out = list(options), []
        for _ in range(k):
            out.append(pool.pop(self.integer(0, len(pool) - 1)))
        return out


class RandomChooser(Chooser):
    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def integer(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def real(self, lo, hi):
        return float(self.rng.uniform(lo, hi))


class DrawChooser(Chooser):
    """Draws from a hypothesis ``st.data()`` object (shrinkable)."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def pick(self, options):
        return self.data.draw(self.st.sampled_from(list(options)))

    def integer(self, lo, hi):
        return self.data.draw(self.st.integers(lo, hi))

    def real(self, lo, hi):
        return self.data.draw(self.st.floats(lo, hi, allow_nan=False))


# --------------------------------------------------------------------------- cases
@dataclass
class Case:
    """One generated input. ``spec`` holds everything needed to rebuild it (plain Python values)."""

    kind: str
    system: str
    spec: dict

    def describe(self) -> str:
        return f"{self.kind} case on {self.system}: {self.spec!r}"


@dataclass
class Outcome:
    status: str  # "ok" | "rejected" | "defect"
    error: str = ""  # exception type name
    message: str = ""
    warnings: list[str] = field(default_factory=list)


def _env_id(system: str) -> str:
    from isac_envs import SYSTEMS

    return SYSTEMS[system][0]


def _pz_module(system: str) -> str | None:
    from isac_envs import SYSTEMS

    return SYSTEMS[system][2]


def _default_params(system: str):
    """The system's default ``Params`` (class from the registered entry point)."""
    import importlib

    from isac_envs import SYSTEMS

    module, _, cls = SYSTEMS[system][1].partition(":")
    return getattr(importlib.import_module(module), cls).params_cls()


def _field_value(ch: Chooser, default: Any) -> Any:
    """An extreme value, or the field's default scaled / perturbed."""
    if ch.integer(0, 2) == 0 and isinstance(default, (int, float)) and not isinstance(default, bool):
        factor = ch.pick((-1.0, 1e-3, 0.5, 2.0, 1e3, 1e6))
        if isinstance(default, int):
            return int(default * factor) if factor in (-1.0, 2.0) else default + ch.pick((-1, 1))
        return default * factor
    return ch.pick(EXTREME_VALUES)


def gen_params(ch: Chooser, system: str) -> Case:
    params = _default_params(system)
    names = ch.sample(params.field_names(), 2)
    return Case("params", system, {"overrides": {n: _field_value(ch, getattr(params, n)) for n in names}})


def gen_yaml(ch: Chooser, system: str) -> Case:
    params = _default_params(system)
    style = ch.pick(("fields", "fields", "fragments", "binary"))
    if style == "fields":
        lines = []
        for n in ch.sample(params.field_names() + ["no_such_field"], 3):
            default = getattr(params, n, 1.0)
            value = ch.pick(YAML_SCALARS + (repr(default) if not isinstance(default, tuple) else str(list(default)),))
            lines.append(f"{n}: {value}")
        text = "\n".join(lines) + "\n"
    elif style == "fragments":
        text = "".join(ch.pick(YAML_FRAGMENTS) + ch.pick(("", " ", "\n")) for _ in range(ch.integer(1, 4)))
    else:
        return Case("yaml", system, {"bytes": bytes(ch.integer(0, 255) for _ in range(ch.integer(1, 12)))})
    return Case("yaml", system, {"text": text})


ACTION_DTYPES = ("float64", "float32", "int64", "int8", "bool", "complex128", "object", "str")
ACTION_FILLS = ("uniform", "zeros", "nan", "inf", "huge")


def gen_action(ch: Chooser, system: str, shape: tuple[int, ...]) -> Case:
    d = int(np.prod(shape))
    shapes = [shape, shape, (1, d), (d, 1), (), (d + 1,), (max(d - 1, 0),)]
    if d % 2 == 0:
        shapes.append((2, d // 2))
    spec = {"container": ch.pick(("array", "array", "list", "none", "string")),
            "shape": tuple(ch.pick(shapes)), "dtype": ch.pick(ACTION_DTYPES), "fill": ch.pick(ACTION_FILLS),
            "seed": ch.integer(0, 2**16)}
    return Case("action", system, spec)


def gen_agents(ch: Chooser, system: str, agents: Sequence[str]) -> Case:
    spec: dict[str, Any] = {"mode": ch.pick(("step", "step", "step", "before_reset", "after_end")),
                            "drop": [], "extra": [], "bad": {}}
    change = ch.pick(("none", "drop", "extra", "bad", "bad"))
    if change == "drop":
        spec["drop"] = ch.sample(list(agents), len(agents))
    elif change == "extra":
        spec["extra"] = [ch.pick(("intruder", f"{agents[0]}_x", "", 0, None))]
    elif change == "bad":
        agent = ch.pick(list(agents))
        spec["bad"] = {agent: ch.pick(("none", "complex", "nan", "wrong_shape", "string", "object", "huge"))}
    return Case("agents", system, spec)


@lru_cache(maxsize=None)
def action_shape(system: str) -> tuple[int, ...]:
    """The single env's action shape on the small config."""
    import gymnasium as gym

    import isac_envs  # noqa: F401

    return tuple(gym.make(_env_id(system), config="small").action_space.shape)


@lru_cache(maxsize=None)
def agent_names(system: str) -> tuple[str, ...]:
    """The PettingZoo env's agents on the small config."""
    return tuple(_parallel_env(system).possible_agents)


def generate(ch: Chooser, kind: str, system: str) -> Case:
    if kind == "params":
        return gen_params(ch, system)
    if kind == "yaml":
        return gen_yaml(ch, system)
    if kind == "action":
        return gen_action(ch, system, action_shape(system))
    if kind == "agents":
        return gen_agents(ch, system, agent_names(system))
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


# --------------------------------------------------------------------------- building inputs
def build_action(spec: dict, shape: tuple[int, ...]) -> Any:
    """The action of an ``action`` case spec (deterministic)."""
    if spec["container"] == "none":
        return None
    if spec["container"] == "string":
        return "0.5"
    rng = np.random.default_rng(spec["seed"])
    s = tuple(spec["shape"])
    values = {"uniform": rng.uniform(-1.5, 1.5, s), "zeros": np.zeros(s), "huge": np.full(s, 1e300)}
    base = values.get(spec["fill"], rng.uniform(-1, 1, s))
    if spec["fill"] in ("nan", "inf") and base.size:
        base.flat[rng.integers(base.size)] = np.nan if spec["fill"] == "nan" else -np.inf
    dtype = spec["dtype"]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fuzzer's own casts (1e300 -> float32 / int)
        arr = _cast(base, dtype)
    return arr.tolist() if spec["container"] == "list" else arr


def _cast(base: np.ndarray, dtype: str) -> np.ndarray:
    return base.astype(object) if dtype == "object" else base.astype(str) if dtype == "str" else \
        base.astype(dtype) if dtype in ("float64", "float32", "complex128", "bool") else \
        np.nan_to_num(base, posinf=0, neginf=0).astype(dtype)


def action_is_valid(spec: dict, shape: tuple[int, ...]) -> bool:
    """What ``check_action`` must accept: exact shape, real int/float numbers, all entries finite."""
    if spec["container"] not in ("array", "list") or tuple(spec["shape"]) != tuple(shape):
        return False
    real = ("float64", "float32", "int64", "int8") + (("object",) if spec["container"] == "list" else ())
    if spec["dtype"] not in real:  # bool, complex, str (and object arrays) are not real-number arrays
        return False
    if spec["dtype"] in ("int64", "int8"):
        return True  # build_action maps NaN/inf to 0 before the integer cast
    if spec["fill"] in ("nan", "inf"):
        return False
    return not (spec["fill"] == "huge" and spec["dtype"] == "float32")  # 1e300 -> inf in float32


def _bad_agent_action(kind: str, shape: tuple[int, ...]) -> Any:
    return {"none": None, "complex": np.zeros(shape) + 1j, "nan": np.full(shape, np.nan),
            "wrong_shape": np.zeros((1, *shape)), "string": "go", "object": object(),
            "huge": np.full(shape, 1e300)}[kind]


def _parallel_env(system: str, **kwargs):
    import importlib

    module = _pz_module(system)
    if module is None:
        raise ValueError(f"{system} has no PettingZoo env")
    return importlib.import_module(module).parallel_env(config="small", **kwargs)


# --------------------------------------------------------------------------- running a case
class CaseTimeout(Exception):
    """A case ran past its time limit."""


@contextmanager
def _time_limit(seconds: float | None):
    usable = seconds and hasattr(signal, "setitimer") and _in_main_thread()
    if not usable:
        yield
        return

    def handler(signum, frame):
        raise CaseTimeout(f"case ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _finite(x) -> bool:
    return bool(np.all(np.isfinite(np.asarray(x, dtype=np.float64))))


_SAMPLE = object()  # "a sampled action" (None is itself a generated action)


def _single_env_episode(system: str, action: Any = _SAMPLE, config: str = "small", **overrides):
    """make + reset(seed=0) + one step (``action``, default: one sampled with seed 0); (obs0, obs1, reward)."""
    import gymnasium as gym

    import isac_envs  # noqa: F401

    env = gym.make(_env_id(system), config=config, disable_env_checker=True, **overrides)
    try:
        obs0, _ = env.reset(seed=0)
        if action is _SAMPLE:
            env.action_space.seed(0)
            action = env.action_space.sample()
        obs1, reward, *_ = env.step(action)
    finally:
        env.close()
    return obs0, obs1, reward


def _check_finite(obs0, obs1, reward) -> str:
    bad = [n for n, v in (("reset observation", obs0), ("step observation", obs1), ("reward", reward)) if not _finite(v)]
    return f"non-finite {', '.join(bad)}" if bad else ""


def _run_params(case: Case) -> str:
    return _check_finite(*_single_env_episode(case.system, **case.spec["overrides"]))


def _run_yaml(case: Case) -> str:
    data = case.spec["bytes"] if "bytes" in case.spec else case.spec["text"].encode("utf-8")
    fd, path = tempfile.mkstemp(prefix="isac_fuzz_", suffix=".yaml")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return _check_finite(*_single_env_episode(case.system, config=path))
    finally:
        os.unlink(path)


def _run_action(case: Case) -> str:
    shape = action_shape(case.system)
    action = build_action(case.spec, shape)
    out = _check_finite(*_single_env_episode(case.system, action=action))
    if not out and not action_is_valid(case.spec, shape):
        out = "an invalid action was accepted"
    return out


def _run_agents(case: Case) -> str:
    spec = case.spec
    env = _parallel_env(case.system)
    agents = list(env.possible_agents)
    shape = env.action_space(agents[0]).shape
    if spec["mode"] != "before_reset":
        env.reset(seed=0)
    if spec["mode"] == "after_end":
        while env.agents:
            env.step({a: np.zeros(shape) for a in env.agents})
    acts: dict[Any, Any] = {a: np.zeros(shape) for a in agents if a not in spec["drop"]}
    acts.update({k: np.zeros(shape) for k in spec["extra"]})
    acts.update({a: _bad_agent_action(kind, shape) for a, kind in spec["bad"].items()})
    obs, rewards, *_ = env.step(acts)
    out = _check_finite(np.concatenate([np.ravel(o) for o in obs.values()]), 0.0, list(rewards.values()))
    invalid = spec["mode"] != "step" or spec["drop"] or spec["extra"] or \
        any(kind != "huge" for kind in spec["bad"].values())
    if not out and invalid:
        out = "an invalid agent action dict was accepted"
    return out


_RUNNERS = {"params": _run_params, "yaml": _run_yaml, "action": _run_action, "agents": _run_agents}
#: what the error message of a rejected case must mention (one of), by kind
_EXPECTED_NAMES = {
    "params": lambda case: list(case.spec["overrides"]),
    "yaml": lambda case: ["isac_fuzz_"],
    "action": lambda case: ["action"],
    "agents": lambda case: ["reset()"] if case.spec["mode"] != "step" else
    [repr(k) for k in case.spec["extra"]] + [repr(a) for a in case.spec["drop"]] + [repr(a) for a in case.spec["bad"]],
}


def run_case(case: Case, timeout_s: float | None = 30.0) -> Outcome:
    """Run one case and classify it (never raises for the case's own errors)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with _time_limit(timeout_s):
                problem = _RUNNERS[case.kind](case)
        except (ValueError, TypeError, RuntimeError) as exc:
            return _classify_error(case, exc, caught)
        except CaseTimeout as exc:
            return Outcome("defect", "Timeout", str(exc), _warning_keys(caught))
        except Exception as exc:  # noqa: BLE001  (every other exception is a finding)
            return Outcome("defect", type(exc).__name__, _one_line(exc), _warning_keys(caught))
    if problem:
        return Outcome("defect", "NonFinite" if problem.startswith("non-finite") else "Accepted", problem,
                       _warning_keys(caught))
    return Outcome("ok", warnings=_warning_keys(caught))


def _classify_error(case: Case, exc: Exception, caught) -> Outcome:
    msg = _one_line(exc)
    names = _EXPECTED_NAMES[case.kind](case)
    allowed = (RuntimeError,) if case.kind == "agents" and case.spec["mode"] != "step" else (ValueError, TypeError)
    if not isinstance(exc, allowed):
        return Outcome("defect", type(exc).__name__, f"unexpected {type(exc).__name__}: {msg}", _warning_keys(caught))
    if names and not any(str(n) in msg for n in names):
        return Outcome("defect", type(exc).__name__, f"the message names none of {names}: {msg}",
                       _warning_keys(caught))
    return Outcome("rejected", type(exc).__name__, msg, _warning_keys(caught))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500]


def _warning_keys(caught) -> list[str]:
    return sorted({f"{w.category.__name__}: {_one_line(w.message)[:80]}" for w in caught})


# --------------------------------------------------------------------------- soak
def systems_with(kind: str, systems: Sequence[str]) -> list[str]:
    return [s for s in systems if kind != "agents" or _pz_module(s) is not None]


def case_at(seed: int, index: int, systems: Sequence[str]) -> Case:
    """Case number ``index`` of the soak with ``seed`` (reproducible on its own)."""
    ch = RandomChooser(np.random.default_rng([seed, index]))
    kind = ch.pick(KINDS)
    return generate(ch, kind, ch.pick(systems_with(kind, systems)))


@dataclass
class SoakReport:
    cases: int = 0
    seconds: float = 0.0
    status: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # (kind, status, error type)
    warnings: Counter = field(default_factory=Counter)
    defects: list[tuple[int, Case, Outcome]] = field(default_factory=list)


def soak(budget_s: float, systems: Sequence[str], seed: int = 0, timeout_s: float = 30.0,
         max_cases: int | None = None, progress=None) -> SoakReport:
    """Run cases 0, 1, 2, ... of ``seed`` until ``budget_s`` seconds (or ``max_cases``) are used."""
    rep = SoakReport()
    t0 = time.perf_counter()
    index = 0
    while time.perf_counter() - t0 < budget_s and (max_cases is None or index < max_cases):
        case = case_at(seed, index, systems)
        out = run_case(case, timeout_s)
        rep.cases += 1
        rep.status[out.status] += 1
        rep.errors[(case.kind, out.status, out.error or "-")] += 1
        rep.warnings.update(out.warnings)
        if out.status == "defect":
            rep.defects.append((index, case, out))
        if progress is not None:
            progress(index, case, out)
        index += 1
    rep.seconds = time.perf_counter() - t0
    return rep


def format_report(rep: SoakReport, seed: int, systems: Sequence[str], max_defects: int = 50) -> str:
    lines = [f"isac fuzz: {rep.cases} cases in {rep.seconds:.1f} s (seed {seed}, systems {', '.join(systems)})",
             "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(rep.status.items())),
             "by kind / outcome / error type:"]
    lines += [f"  {k:<7} {s:<9} {e:<22} {n}" for (k, s, e), n in sorted(rep.errors.items())]
    if rep.warnings:
        lines.append("warnings seen (not defects):")
        lines += [f"  {n:>5} x {w}" for w, n in rep.warnings.most_common(15)]
    lines.append(f"defects: {len(rep.defects)}")
    for index, case, out in rep.defects[:max_defects]:
        lines.append(f"  [{out.error}] {out.message}")
        lines.append(f"      {case.describe()}")
        lines.append(f"      reproduce: isac fuzz --system {case.system} --seed {seed} --case {index}")
    if len(rep.defects) > max_defects:
        lines.append(f"  ... {len(rep.defects) - max_defects} more")
    return "\n".join(lines)


def replay(seed: int, index: int, systems: Sequence[str]) -> tuple[Case, Outcome]:
    """Case ``index`` of a soak, rerun (``--case``)."""
    case = case_at(seed, index, systems)
    return case, run_case(case, timeout_s=None)


def budget_seconds(text: str) -> float:
    """argparse ``type=`` for ``--budget-s``: a finite number of seconds > 0."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def cmd_fuzz(args) -> int:
    """``isac fuzz``: print the summary; exit status 1 if any defect was found."""
    from isac_envs import SYSTEMS, available_systems

    if args.system is not None and args.system not in SYSTEMS:
        raise ValueError(f"unknown system {args.system!r}; choose from {list(SYSTEMS)}")
    systems = [args.system] if args.system else available_systems()
    if args.case is not None:
        case, out = replay(args.seed, args.case, systems)
        print(case.describe())
        print(f"outcome: {out.status} {out.error} {out.message}".rstrip())
        return 1 if out.status == "defect" else 0
    rep = soak(args.budget_s, systems, args.seed, timeout_s=args.timeout_s)
    print(format_report(rep, args.seed, systems))
    return 1 if rep.defects else 0


def add_cli(sub) -> None:
    from agents.cli import nonnegative_int

    fz = sub.add_parser("fuzz", help="property-based soak of Params, YAML configs, actions and agent dicts")
    fz.add_argument("--budget-s", type=budget_seconds, default=60.0, help="seconds to run (default 60)")
    fz.add_argument("--system", default=None, help="one system (default: every built system)")
    fz.add_argument("--seed", type=nonnegative_int, default=0, help="case stream (case i is reproducible)")
    fz.add_argument("--case", type=nonnegative_int, default=None, help="rerun only case CASE of --seed")
    fz.add_argument("--timeout-s", type=budget_seconds, default=30.0, help="time limit per case (a defect)")
    fz.set_defaults(func=cmd_fuzz)
