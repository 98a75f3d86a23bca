"""The leaderboard: every registered solver, the random anchor and any trained agent of a
system on the same seeded evaluation instances, one table ranked by **score** (Markdown + CSV +
raw per-seed JSON under results/). docs/benchmark.md defines every column.

Solver and random rows come from the shipped reference-score file when it matches the
installed code (:mod:`agents.reference_scores`), else they are run on the same seeds.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from agents.evaluation import (
    RANDOM_STREAMS,
    EpisodeResult,
    bootstrap_mean_ci,
    iqm,
    make_env,
    normalised_score,
    paired_bootstrap_diff_ci,
    run_policy,
    run_random,
    stratified_bootstrap_ci,
)
from agents.seeds import eval_seeds, validation_seeds
from agents.systems import SystemInfo
from baselines.policy import SolverPolicy

#: factory(env) -> policy with act(obs, info) and reset(seed=None)
PolicyFactory = Callable[[Any], Any]

#: The columns every leaderboard CSV starts with (then extras, then the system's metrics).
CSV_COLUMNS = ("policy", "kind", "score", "score_ci_low", "score_ci_high", "normalised", "objective", "feasible",
               "ms_per_decision")

FLAG = "⚠"


@dataclass
class Row:
    name: str
    kind: str  # "solver", "agent", "random"
    episodes: list[EpisodeResult] | None
    note: str = ""
    #: "run" or "reference file <name>"
    source: str = "run"
    #: the Gymnasium id the row was played on when it is not the system's (an agent's own id)
    env_id: str | None = None

    @property
    def objectives(self) -> np.ndarray:
        return np.array([e.objective for e in self.episodes])

    @property
    def scores(self) -> np.ndarray:
        return np.array([e.score for e in self.episodes])


class Rows(list):
    """The rows of one leaderboard run; ``reference`` says where the solver/random rows came from."""

    reference: str = ""


def best_known_names(system: SystemInfo) -> tuple[str, ...]:
    """``BEST_KNOWN`` of the system's baselines (a name or names in order of preference)."""
    best = getattr(system.baselines, "BEST_KNOWN", ())
    return (best,) if isinstance(best, str) else tuple(best)


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


def _run_solver(system, env, name, factory, native, seeds, bar) -> Row:
    policy = factory(env)
    try:
        _warm_up(env, policy)
        eps = run_policy(env, policy, seeds, system.episode_objective, native, progress=lambda: bar.update(1),
                         score_rule=system.score_rule)
        return Row(name, "solver", eps)
    except ValueError as exc:  # input guard of a small-only reference (e.g. exhaustive)
        bar.update(len(seeds))
        return Row(name, "solver", None, note=f"skipped: {exc}")


def reference_rows(system: SystemInfo, config: str, seeds: list[int], only: list[str] | None = None,
                   recompute: bool = False, reference_dir=None, random_streams: int = RANDOM_STREAMS,
                   progress: bool = False) -> tuple[list[Row], str]:
    """Solver rows (all, or ``only``) and the random anchor on ``seeds``: from the reference file
    when usable, else run. Returns (rows, a one-line statement of where they came from)."""
    from agents import reference_scores

    names = [n for n in system.baselines.POLICIES if not only or n in only]
    ref, why = (None, "--recompute") if recompute else reference_scores.lookup(system, config, seeds, random_streams,
                                                                               reference_dir)
    from_file = ref.rows(names + ["random"], seeds) if ref is not None else {}
    todo = [n for n in names if n not in from_file]
    need_random = "random" not in from_file
    env = make_env(system, config)
    factories = solver_factories(system, todo)
    bar = _progress_bar(len(seeds) * (len(todo) + need_random), f"{system.name} [{config}]", progress)
    rows = []
    for name in names:
        if name in from_file:
            rows.append(from_file[name])
        else:
            bar.set_postfix_str(name)
            rows.append(_run_solver(system, env, name, *factories[name], seeds, bar))
    if need_random:
        bar.set_postfix_str("random")
        eps = run_random(env, seeds, random_streams, system.episode_objective, system.score_rule,
                         progress=lambda: bar.update(1))
        rows.append(Row("random", "random", eps, note=f"mean of {random_streams} action streams"))
    else:
        rows.append(from_file["random"])
    bar.close()
    env.close()
    if ref is None:
        source = f"re-run ({why})"
    elif todo or need_random:
        source = f"{why}; re-run (not in the file): {', '.join(todo + ['random'] * need_random)}"
    else:
        source = why
    return rows, source


def run_leaderboard(system: SystemInfo, config: str = "small", episodes: int = 10, seed_offset: int = 0,
                    agent_factories: dict[str, PolicyFactory] | None = None, only: list[str] | None = None,
                    progress: bool = True, recompute: bool = False, reference_dir=None,
                    random_streams: int = RANDOM_STREAMS) -> Rows:
    """Every solver (or ``only``), the random anchor and the agents on ``episodes`` test seeds.

    The rows' ``source`` says whether they were read from the reference file or run;
    :func:`reference_status` turns that into one line for the output.
    """
    seeds = eval_seeds(episodes, seed_offset)
    rows = Rows()
    ref, rows.reference = reference_rows(system, config, seeds, only, recompute, reference_dir, random_streams,
                                         progress)
    rows += ref
    env = make_env(system, config)
    bar = _progress_bar(len(agent_factories or {}) * len(seeds), f"{system.name} agents", progress)
    for name, factory in (agent_factories or {}).items():
        bar.set_postfix_str(name)
        try:
            policy = factory(env)
        except (gym.error.Error, ValueError, TypeError, OSError) as exc:  # e.g. its env id was retired
            rows.append(Row(name, "agent", None, note=f"skipped: {type(exc).__name__}: {exc}"))
            bar.update(len(seeds))
            continue
        own = getattr(policy, "own_env", None)
        own_id = own.spec.id if own is not None and own.spec is not None else None
        _warm_up(own or env, policy)
        eps = run_policy(env, policy, seeds, system.episode_objective, progress=lambda: bar.update(1),
                         score_rule=system.score_rule)
        rows.append(Row(name, "agent", eps, env_id=own_id if own_id != system.env_id else None))
    bar.close()
    env.close()
    return rows


def reference_status(rows: list[Row]) -> str:
    """One line: where the solver/random rows came from (reference file or a run, and why)."""
    return getattr(rows, "reference", "") or ("read from reference file" if any(
        r.source != "run" for r in rows) else "run on these seeds")


def _warm_up(env, policy) -> None:
    """One untimed decision on a validation instance (cvxpy compiles, caches, torch init)."""
    if getattr(policy, "multiagent", False):
        return
    obs, info = env.reset(seed=validation_seeds(1)[0])
    policy.act(obs, info)
    policy.reset()


def _progress_bar(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="ep", disable=not enabled or total == 0, leave=False)


# --------------------------------------------------------------------------- table
def _find(rows: list[Row], names) -> Row | None:
    for n in names:
        r = next((r for r in rows if r.name == n and r.kind == "solver" and r.episodes), None)
        if r is not None:
            return r
    return None


def _record(r: Row, paper: Row | None, rand: Row | None, best: Row | None, key_metrics, has_native) -> dict:
    """The CSV record of one row (CSV_COLUMNS first, then extras, then the metrics)."""
    x = r.scores
    lo, hi = bootstrap_mean_ci(x)
    ilo, ihi = stratified_bootstrap_ci(x, iqm)
    feas = float(np.mean([e.feasible for e in r.episodes]))
    norm = (normalised_score(float(x.mean()), float(rand.scores.mean()), float(paper.scores.mean()))
            if paper is not None and rand is not None else math.nan)
    rec: dict[str, Any] = {
        "policy": r.name, "kind": r.kind, "score": float(x.mean()), "score_ci_low": lo, "score_ci_high": hi,
        "normalised": norm, "objective": float(r.objectives.mean()), "feasible": feas,
        "ms_per_decision": 1e3 * float(np.mean([e.seconds_per_decision for e in r.episodes])),
        "score_iqm": iqm(x), "score_iqm_ci_low": ilo, "score_iqm_ci_high": ihi}
    if paper is not None:
        d, dlo, dhi = paired_bootstrap_diff_ci(x, paper.scores)
        rec.update(score_diff_vs_paper=d, score_diff_ci_low=dlo, score_diff_ci_high=dhi)
        rec["feasible_below_paper"] = bool(feas < float(np.mean([e.feasible for e in paper.episodes])) - 1e-12)
    if best is not None:
        rec["gap_to_best"] = float(np.mean(best.scores - x))
    rec.update(episodes=len(x), source=r.source, env_id=r.env_id or "")
    if has_native:
        nat = [e.native_objective for e in r.episodes if e.native_objective is not None]
        rec["native_objective"] = float(np.mean(nat)) if nat else math.nan
    for k in key_metrics:
        rec[k] = float(np.mean([e.metrics.get(k, np.nan) for e in r.episodes]))
    return rec


def summarise(system: SystemInfo, rows: list[Row]) -> tuple[list[str], list[list[str]], list[dict]]:
    """Header, formatted cells and records of the leaderboard table, ranked by mean score."""
    bl = system.baselines
    paper = _find(rows, [bl.PAPER_SOLVER])
    rand = next((r for r in rows if r.kind == "random" and r.episodes), None)
    best = _find(rows, best_known_names(system))
    key_metrics = list(bl.KEY_METRICS)
    has_native = any(e.native_objective is not None for r in rows if r.episodes for e in r.episodes)
    header = ["policy", "kind", "score (95% CI)", "IQM (95% CI)", f"Δ score vs {bl.PAPER_SOLVER} (paired 95% CI)",
              "normalised"]
    if best is not None:
        header.append(f"gap to {best.name}")
    header += ["objective", "feasible", *key_metrics, "ms/decision"]
    if has_native:
        header.append("native objective")
    done = [r for r in rows if r.episodes]
    done.sort(key=lambda r: -float(r.scores.mean()))
    cells, records = [], []
    for r in done:
        rec = _record(r, paper, rand, best, key_metrics, has_native)
        records.append(rec)
        cells.append(_cells(r, rec, paper, best, key_metrics, has_native))
    for r in rows:
        if not r.episodes:
            cells.append([r.name, r.kind, r.note] + [""] * (len(header) - 3))
            records.append({"policy": r.name, "kind": r.kind, "note": r.note, "source": r.source})
    return header, cells, records


def _cells(r: Row, rec: dict, paper, best, key_metrics, has_native) -> list[str]:
    diff = "—"
    if paper is not None and r is not paper:
        diff = f"{rec['score_diff_vs_paper']:+.4g} [{rec['score_diff_ci_low']:+.3g}, {rec['score_diff_ci_high']:+.3g}]"
    name = r.name if not r.env_id else f"{r.name} (on `{r.env_id}`)"
    feas = f"{rec['feasible']:.2f}" + (f" {FLAG}" if rec.get("feasible_below_paper") else "")
    row = [name, r.kind, f"{rec['score']:.4g} [{rec['score_ci_low']:.4g}, {rec['score_ci_high']:.4g}]",
           f"{rec['score_iqm']:.4g} [{rec['score_iqm_ci_low']:.4g}, {rec['score_iqm_ci_high']:.4g}]", diff,
           f"{rec['normalised']:.3f}"]
    if best is not None:
        row.append(f"{rec['gap_to_best']:.4g}")
    row += [f"{rec['objective']:.4g}", feas, *(f"{rec[k]:.4g}" for k in key_metrics), f"{rec['ms_per_decision']:.3g}"]
    if has_native:
        row.append(f"{rec['native_objective']:.4g}" if np.isfinite(rec["native_objective"]) else "")
    return row


def markdown_table(header: list[str], cells: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c) + " |" for c in cells]
    return "\n".join(lines)


def csv_fieldnames(records: list[dict], system: SystemInfo) -> list[str]:
    """CSV_COLUMNS, then the other record keys, the system's key metrics last."""
    metrics = list(system.baselines.KEY_METRICS)
    keys = list(CSV_COLUMNS)
    for rec in records:
        keys += [k for k in rec if k not in keys and k not in metrics]
    return keys + metrics


def raw_results(system: SystemInfo, config: str, episodes: int, rows: list[Row], seed_offset: int = 0) -> dict:
    """Per-seed, per-policy records with the code version and config (results/*.json)."""
    from agents import reference_scores

    try:
        params = reference_scores._params_dict(system, config)
    except (ValueError, TypeError):
        params = None
    records = []
    for r in rows:
        for e in r.episodes or []:
            records.append({"policy": r.name, "kind": r.kind, "source": r.source, "env_id": r.env_id or system.env_id,
                            **e.record()})
    return {"system": system.name, "config": str(config), "env_id": system.env_id,
            "code_version": reference_scores.code_version(system), "params": params,
            "score_rule": system.score_rule, "episodes": episodes, "seeds": eval_seeds(episodes, seed_offset),
            "random_streams": next((r.episodes[0].streams for r in rows if r.kind == "random" and r.episodes), None),
            "skipped": {r.name: r.note for r in rows if not r.episodes}, "records": records}


def write_results(system: SystemInfo, config: str, episodes: int, rows: list[Row],
                  out_dir: Path = Path("results"), seed_offset: int = 0) -> tuple[str, Path, Path]:
    """Write ``results/leaderboard_<system>_<config>.{md,csv,json}``; returns (markdown, md path, csv path)."""
    header, cells, records = summarise(system, rows)
    cfg = Path(config).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"leaderboard_{system.name}_{cfg}"
    md_path, csv_path, json_path = stem.with_suffix(".md"), stem.with_suffix(".csv"), stem.with_suffix(".json")
    seeds = eval_seeds(episodes, seed_offset)
    title = (f"### {system.name} — `{system.env_id}`, config `{cfg}`, {episodes} evaluation episodes "
             f"(test seeds {seeds[0]}…{seeds[-1]})\n\n")
    status = reference_status(rows)
    md = title + markdown_table(header, cells) + "\n\n" + _legend(system) + f"\n\nSolver and random rows: {status}."
    md_path.write_text(md + "\n", encoding="utf-8")
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=csv_fieldnames(records, system))
        w.writeheader()
        w.writerows(records)
    json_path.write_text(json.dumps(raw_results(system, config, episodes, rows, seed_offset), indent=1) + "\n",
                         encoding="utf-8")
    return md, md_path, csv_path


def score_rule_text(system: SystemInfo) -> str:
    if system.score_rule == "return":
        return "the episode's undiscounted return (sum of the env's penalised step rewards = the penalised objective)"
    return "the mean over the episode's steps of the env's penalised reward (objective − penalty · violations)"


def _legend(system: SystemInfo) -> str:
    bl = system.baselines
    obj = "last-step" if system.episode_objective == "last" else "mean per-step"
    best = best_known_names(system)
    lines = [f"Ranked by score = {score_rule_text(system)}; larger is better. IQM = interquartile mean "
             f"(stratified bootstrap CI). Normalised = (score − random)/({bl.PAPER_SOLVER} − random), random = "
             f"per-instance mean of {RANDOM_STREAMS} uniform-random action streams."
             + (f" Gap to best = best-known reference ({' / '.join(best)}) score − row score." if best else "")
             + f" Objective: the episode's {obj} unpenalised `evaluate()` objective; feasible: fraction of feasible "
             f"steps ({FLAG} = below {bl.PAPER_SOLVER}'s). See docs/benchmark.md."]
    for name, spec in bl.POLICIES.items():
        if spec.description:
            lines.append(f"- `{name}`: {spec.description}")
    note = getattr(bl, "LEADERBOARD_NOTE", "")
    if note:
        lines.append("")
        lines.append(note)
    return "\n".join(lines)
