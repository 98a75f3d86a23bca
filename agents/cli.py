"""The ``isac`` command: leaderboard, figures, perf (and train/report, see agents.training)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from isac_envs import SYSTEMS, available_systems


# --------------------------------------------------------------------------- argument checks
def _int_at_least(minimum: int, what: str = ""):
    """argparse ``type=`` factory: an integer >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    parse.__doc__ = f"argparse ``type=``: an integer >= {minimum}{what}."
    return parse


positive_int = _int_at_least(1)
nonnegative_int = _int_at_least(0, " (seeds, seed offsets)")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line ``isac: error: ...`` (exit 2), sub-commands included."""

    def error(self, message: str):
        self.exit(2, f"isac: error: {_one_line(message)} (see '{self.prog} --help')\n")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _systems_arg(name: str | None) -> list[str]:
    if name is None:
        return available_systems()
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; choose from {list(SYSTEMS)}")
    if name not in available_systems():
        raise ValueError(f"system {name!r} is not built yet (available: {available_systems()})")
    return [name]


def _check_solver_names(system_arg: str | None, only: list[str] | None, option: str = "--only") -> None:
    """``--only`` / ``--skip``: every name must be a registered solver of a selected system (or ``random``)."""
    if not only:
        return
    from baselines.registry import system_baselines

    known = {name: list(system_baselines(name).POLICIES) for name in _systems_arg(system_arg)}
    valid = {"random"}.union(*known.values())
    unknown = [n for n in only if n not in valid]
    if unknown:
        listing = "; ".join(f"{s}: {', '.join(names)}" for s, names in known.items())
        raise ValueError(f"{option}: unknown solver(s) {unknown}; known solvers: {listing}")


def cmd_leaderboard(args) -> int:
    from agents.leaderboard import reference_status, run_leaderboard, write_results
    from agents.systems import get_system

    out = Path(args.out)
    for name in _systems_arg(args.system):
        system = get_system(name)
        agent_factories = _agent_factories(system, args)
        rows = run_leaderboard(system, args.config, args.episodes, args.seed, agent_factories,
                               only=args.only, progress=not args.no_progress, recompute=args.recompute)
        print(f"{system.name}: solver/random rows {reference_status(rows)}", file=sys.stderr)
        md, md_path, csv_path = write_results(system, args.config, args.episodes, rows, out, args.seed)
        print(md)
        print(f"\nwritten: {md_path}  {csv_path}  {md_path.with_suffix('.json')}\n")
    return 0


def cmd_reference_scores(args) -> int:
    import time

    from agents.reference_scores import generate
    from agents.systems import get_system

    for name in _systems_arg(args.system):
        t0 = time.perf_counter()
        path = generate(get_system(name), args.config, args.episodes, args.out, only=args.only,
                        progress=not args.no_progress)
        print(f"written: {path} ({args.episodes} episodes, {time.perf_counter() - t0:.1f} s)")
    return 0


def _agent_factories(system, args):
    """Trained agents for the table: --agents paths, else the shipped ones (if any)."""
    try:
        from agents.trained import agent_factories_for
    except ImportError:
        return {}
    return agent_factories_for(system, args.config, args.agents, shipped=not args.no_agents)


def cmd_figures(args) -> int:
    from agents.figures import make_figures

    paths = make_figures(args.system, Path(args.out), quick=args.quick, workers=args.workers)
    for p in paths:
        print(f"written: {p}")
    return 0


def cmd_perf(args) -> int:
    if args.training:  # PPO learn throughput, per-env envs vs the native vector env (agents.perf_training)
        from agents import perf_training

        systems = ["cartpole", *(_systems_arg(args.system) if args.system else ["device_free_localization"])]
        argv = ["--system", *systems, "--n-envs", *map(str, args.ns or [64]), "--timesteps", str(args.timesteps)]
        perf_training.main(argv)
        if not (args.vector or args.scale):
            return 0
    if args.vector or args.scale:
        return _cmd_perf_vector_scale(args)
    from agents.perf import perf_system, perf_table
    from agents.systems import get_system

    rows = []
    for name in _systems_arg(args.system):
        rows += perf_system(get_system(name), args.config, repeats=args.repeats, skip=args.skip)
    table = perf_table(rows)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "perf.md").write_text(table + "\n", encoding="utf-8")
    return 0


def _cmd_perf_vector_scale(args) -> int:
    """``isac perf --vector`` / ``--scale``: tables to stdout and results/perf_vector.md, perf_scale.md."""
    from agents import perf
    from agents.leaderboard import markdown_table

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    say = None if args.no_progress else (lambda msg: print(f"  {msg}", file=sys.stderr, flush=True))
    command = "isac perf " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["perf"] else "isac perf"
    if args.vector:
        ids = [SYSTEMS[name][0] for name in _systems_arg(args.system)]
        ns = tuple(args.ns or perf.VECTOR_NS)
        rows, notes = perf.perf_vector(ids, ns, args.config, repeats=args.repeats, budget_seconds=args.budget,
                                       clock=args.clock, progress=say)
        text = "\n\n".join([perf.vector_table(rows, ns), perf.speedup_table(rows),
                             *(["\n".join(f"- {n}" for n in notes)] if notes else [])])
        _print_and_write(text, out / "perf_vector.md", command)
    if args.scale:
        counts = tuple(args.agents or perf.SCALE_AGENTS)
        rows, notes = perf.perf_scale(counts, args.config, repeats=args.repeats, budget_seconds=4 * args.budget,
                                      clock=args.clock, progress=say)
        text = "\n\n".join([markdown_table(perf.SCALE_HEADER, rows),
                             *(["\n".join(f"- {n}" for n in notes)] if notes else [])])
        _print_and_write(text, out / "perf_scale.md", command)
    return 0


def _print_and_write(text: str, path: Path, command: str) -> None:
    print(text + "\n")
    path.write_text(f"`{command}`\n\n{text}\n", encoding="utf-8")
    print(f"written: {path}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="isac", description="isac-envs: ISAC RL environments and optimisation baselines")
    sub = p.add_subparsers(dest="command", required=True)

    lb = sub.add_parser("leaderboard", help="all policies of a system on the same seeded evaluation instances")
    lb.add_argument("--system", help="one system (default: every built system)")
    lb.add_argument("--config", default="small", help="small | paper | path to a YAML of Params fields")
    lb.add_argument("--episodes", type=positive_int, default=10, help="evaluation episodes (test seeds)")
    lb.add_argument("--seed", type=nonnegative_int, default=0, help="offset into the evaluation seed range")
    lb.add_argument("--only", nargs="+", help="only these solvers (random is always run)")
    lb.add_argument("--agents", nargs="*", default=None,
                    help="agents: `isac train` run folders and/or SB3 .zip files, each .zip optionally followed by "
                         "its VecNormalize .pkl (default: the shipped agents)")
    lb.add_argument("--no-agents", action="store_true", help="solvers only")
    lb.add_argument("--recompute", action="store_true",
                    help="re-run the solvers and random even where a matching reference-score file exists")
    lb.add_argument("--out", default="results", help="output folder")
    lb.add_argument("--no-progress", action="store_true")
    lb.set_defaults(func=cmd_leaderboard)

    rs = sub.add_parser("reference-scores", help="(re)generate agents/reference_scores/<system>_<config>.json")
    rs.add_argument("--system", help="one system (default: every built system)")
    rs.add_argument("--config", default="small", help="small | paper")
    rs.add_argument("--episodes", type=int, default=100, help="test episodes (the first N test seeds)")
    rs.add_argument("--only", nargs="+", help="only these solvers (random is always run)")
    rs.add_argument("--out", default=None, help="folder (default: agents/reference_scores/)")
    rs.add_argument("--no-progress", action="store_true")
    rs.set_defaults(func=cmd_reference_scores)

    fg = sub.add_parser("figures", help="regenerate a paper's figures as PNG files")
    fg.add_argument("system", choices=list(SYSTEMS))
    fg.add_argument("--out", default="results/figures")
    fg.add_argument("--quick", action="store_true", help="fewer seeds")
    fg.add_argument("--workers", type=positive_int, default=min(2, os.cpu_count() or 1), help="parallel processes")
    fg.set_defaults(func=cmd_figures)

    pf = sub.add_parser("perf", help="median timings of model functions, env steps and solvers")
    pf.add_argument("--system")
    pf.add_argument("--config", default="paper")
    pf.add_argument("--repeats", type=positive_int, default=7)
    pf.add_argument("--skip", nargs="*", default=None, help="solvers to skip")
    pf.add_argument("--out", default="results")
    pf.add_argument("--vector", action="store_true",
                    help="env-steps/s: single env, SyncVectorEnv, native vector env at each N, CartPole-v1 as calibration")
    pf.add_argument("--ns", type=int, nargs="+", default=None, help="batch sizes for --vector (default: 1 64 1024 4096)")
    pf.add_argument("--budget", type=float, default=20.0,
                    help="seconds per measurement: larger N (agent counts) estimated to cost more are skipped, with a note")
    pf.add_argument("--training", action="store_true",
                    help="PPO training env-steps/s (rollouts + updates) with per-env envs and with the native "
                         "vector env, CartPole-v1 as calibration (n_envs from --ns, default 64)")
    pf.add_argument("--timesteps", type=positive_int, default=16_384, help="PPO steps per --training measurement")
    pf.add_argument("--scale", action="store_true",
                    help="PettingZoo reset/step time against the number of agents (cell_free_sat_uav_v0, multi_uav_isac_v0)")
    pf.add_argument("--agents", type=int, nargs="+", default=None, help="agent counts for --scale (default: 8 16 32 64 128)")
    pf.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="--vector/--scale timer: wall time, or the process's CPU time (steadier on a loaded machine)")
    pf.add_argument("--no-progress", action="store_true")
    pf.set_defaults(func=cmd_perf)

    try:
        from agents.training import add_cli as add_training_cli
    except ImportError:
        pass
    else:
        add_training_cli(sub)
    from agents.fuzz import add_cli as add_fuzz_cli

    add_fuzz_cli(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input (arguments, config files, options) -> one line on stderr, exit 2.

    ``ISAC_DEBUG=1`` re-raises instead (full traceback). Errors that are not about the input
    (a bug) keep their traceback.
    """
    import yaml

    args = build_parser().parse_args(argv)  # argparse errors: _Parser.error, exit 2
    try:
        if args.command == "leaderboard":
            _check_solver_names(args.system, args.only)
        elif args.command == "perf":
            _check_solver_names(args.system, args.skip, "--skip")
        return int(args.func(args) or 0)
    except (ValueError, TypeError, OSError, yaml.YAMLError) as exc:
        if os.environ.get("ISAC_DEBUG"):
            raise
        print(f"isac: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
