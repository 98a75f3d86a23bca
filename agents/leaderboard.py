"""The leaderboard: every registered solver, the random policy and any trained agent of a
system on the same seeded evaluation instances, one table (Markdown + CSV under results/)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from agents.evaluation import (
    EpisodeResult,
    bootstrap_mean_ci,
    make_env,
    normalised_score,
    paired_bootstrap_diff_ci,
    run_policy,
)
from agents.seeds import eval_seeds, validation_seeds
from agents.systems import SystemInfo
from baselines.policy import RandomPolicy, SolverPolicy

#: factory(env) -> policy with act(obs, info) and reset(seed=None)
PolicyFactory = Callable[[Any], Any]


@dataclass
class Row:
    name: str
    kind: str  # "solver", "agent", "random"
    episodes: list[EpisodeResult] | None
    note: str = ""

    @property
    def objectives(self) -> np.ndarray:
        return np.array([e.objective for e in self.episodes])


def solver_factories(system: SystemInfo, only: list[str] | None = None) -> dict[str, tuple[PolicyFactory, Any]]:
    """name -> (factory, native scorer or None) for every registered baseline of the system."""
    bl = system.baselines
    native = getattr(bl, "native_score", None)
    out = {}
    for name, spec in bl.POLICIES.items():
        if only and name not in only:
            continue

        def factory(env, spec=spec, name=name):
            return SolverPolicy(spec.load(), env, replan=spec.load_replan(), name=name, **spec.options)

        out[name] = (factory, native)
    return out


def run_leaderboard(system: SystemInfo, config: str = "small", episodes: int = 10, seed_offset: int = 0,
                    agent_factories: dict[str, PolicyFactory] | None = None, only: list[str] | None = None,
                    progress: bool = True) -> list[Row]:
    """Run every policy on ``episodes`` evaluation seeds; returns one Row per policy."""
    seeds = eval_seeds(episodes, seed_offset)
    env = make_env(system, config)
    jobs: list[tuple[str, str, PolicyFactory, Any]] = [
        (n, "solver", f, nat) for n, (f, nat) in solver_factories(system, only).items()
    ]
    jobs.append(("random", "random", lambda e: RandomPolicy(e), None))
    for name, f in (agent_factories or {}).items():
        jobs.append((name, "agent", f, None))

    bar = _progress_bar(len(jobs) * len(seeds), f"{system.name} [{config}]", progress)
    rows = []
    for name, kind, factory, native in jobs:
        bar.set_postfix_str(name)
        policy = factory(env)
        try:
            _warm_up(env, policy)
            eps = run_policy(env, policy, seeds, system.episode_objective, native, progress=lambda: bar.update(1))
            rows.append(Row(name, kind, eps))
        except ValueError as exc:  # input guard of a small-only reference (e.g. exhaustive)
            rows.append(Row(name, kind, None, note=f"skipped: {exc}"))
            bar.update(len(seeds))
    bar.close()
    env.close()
    return rows


def _warm_up(env, policy) -> None:
    """One untimed decision on a validation instance (cvxpy compiles, caches, torch init)."""
    if getattr(policy, "multiagent", False):
        return
    obs, info = env.reset(seed=validation_seeds(1)[0])
    policy.act(obs, info)
    policy.reset()


def _progress_bar(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="ep", disable=not enabled, leave=False)


# --------------------------------------------------------------------------- table
def summarise(system: SystemInfo, rows: list[Row]) -> tuple[list[str], list[list[str]], list[dict]]:
    """Header, formatted cells and raw records of the leaderboard table."""
    bl = system.baselines
    paper = next((r for r in rows if r.name == bl.PAPER_SOLVER and r.episodes), None)
    rand = next((r for r in rows if r.kind == "random" and r.episodes), None)
    key_metrics = list(bl.KEY_METRICS)
    has_native = any(e.native_objective is not None for r in rows if r.episodes for e in r.episodes)
    header = ["policy", "kind", "objective (95% CI)", f"Δ vs {bl.PAPER_SOLVER} (paired 95% CI)",
              "normalised", *key_metrics, "feasible", "ms/decision"]
    if has_native:
        header.append("native objective")
    cells, records = [], []
    for r in rows:
        if not r.episodes:
            cells.append([r.name, r.kind, r.note] + [""] * (len(header) - 3))
            records.append({"policy": r.name, "kind": r.kind, "note": r.note})
            continue
        x = r.objectives
        mean = float(x.mean())
        lo, hi = bootstrap_mean_ci(x)
        rec: dict[str, Any] = {"policy": r.name, "kind": r.kind, "episodes": len(x), "objective_mean": mean,
                               "objective_ci_lo": lo, "objective_ci_hi": hi}
        diff_cell = "—"
        if paper is not None and r is not paper:
            d, dlo, dhi = paired_bootstrap_diff_ci(x, paper.objectives)
            rec.update(diff_vs_paper=d, diff_ci_lo=dlo, diff_ci_hi=dhi)
            diff_cell = f"{d:+.4g} [{dlo:+.3g}, {dhi:+.3g}]"
        norm = (normalised_score(mean, float(rand.objectives.mean()), float(paper.objectives.mean()))
                if paper is not None and rand is not None else math.nan)
        rec["normalised_score"] = norm
        mets = []
        for k in key_metrics:
            v = float(np.mean([e.metrics.get(k, np.nan) for e in r.episodes]))
            rec[k] = v
            mets.append(f"{v:.4g}")
        feas = float(np.mean([e.feasible for e in r.episodes]))
        ms = 1e3 * float(np.mean([e.seconds_per_decision for e in r.episodes]))
        rec.update(feasible_fraction=feas, ms_per_decision=ms)
        row = [r.name, r.kind, f"{mean:.4g} [{lo:.4g}, {hi:.4g}]", diff_cell, f"{norm:.3f}", *mets,
               f"{feas:.2f}", f"{ms:.3g}"]
        if has_native:
            nat = [e.native_objective for e in r.episodes if e.native_objective is not None]
            rec["native_objective_mean"] = float(np.mean(nat)) if nat else math.nan
            row.append(f"{np.mean(nat):.4g}" if nat else "")
        cells.append(row)
        records.append(rec)
    return header, cells, records


def markdown_table(header: list[str], cells: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c) + " |" for c in cells]
    return "\n".join(lines)


def write_results(system: SystemInfo, config: str, episodes: int, rows: list[Row],
                  out_dir: Path = Path("results")) -> tuple[str, Path, Path]:
    """Write ``results/leaderboard_<system>_<config>.{md,csv}``; returns (markdown, md path, csv path)."""
    header, cells, records = summarise(system, rows)
    cfg = Path(config).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path = out_dir / f"leaderboard_{system.name}_{cfg}.md"
    csv_path = out_dir / f"leaderboard_{system.name}_{cfg}.csv"
    seeds = eval_seeds(episodes)
    title = (f"### {system.name} — config `{cfg}`, {episodes} evaluation episodes "
             f"(test seeds {seeds[0]}…{seeds[-1]})\n\n")
    legend = _legend(system)
    md = title + markdown_table(header, cells) + "\n\n" + legend
    md_path.write_text(md + "\n", encoding="utf-8")
    keys: list[str] = []
    for rec in records:
        keys += [k for k in rec if k not in keys]
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(records)
    return md, md_path, csv_path


def _legend(system: SystemInfo) -> str:
    bl = system.baselines
    lines = [f"Objective: the episode's {'last-step' if system.episode_objective == 'last' else 'mean per-step'} "
             f"`evaluate()` objective (larger is better). Normalised: (policy − random)/({bl.PAPER_SOLVER} − random)."]
    for name, spec in bl.POLICIES.items():
        if spec.description:
            lines.append(f"- `{name}`: {spec.description}")
    note = getattr(bl, "LEADERBOARD_NOTE", "")
    if note:
        lines.append("")
        lines.append(note)
    return "\n".join(lines)
