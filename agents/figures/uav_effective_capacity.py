"""Figures of uav_effective_capacity (paper Sec. IV, spec Sec. 9): every point is ``evaluate()``
of a solver's own Decision (native score, static protocol) on ``sample_instance(params,
default_rng(seed))``, averaged over seeds.

- Fig. 1: sum EC vs sensing threshold Gamma at theta = 0.01, all schemes incl. the ergodic grid.
- Fig. 2: the same at theta = 1 (the paper omits the ergodic grid from here on).
- Fig. 3: sum EC vs QoS exponent theta at Gamma = 3e-3.
- Fig. 4: sum EC vs Rician factor at theta = 1 and theta = 0.01.
- Map: sum EC of Algorithm 3' over UAV positions (theta = 1), with the AO's accepted placements.

``quick``: one seed, L = 200 fading samples, the ergodic grid at three thresholds, a 20 m map grid.
Full: three seeds (the ergodic grid two), L = 1000, a 10 m map grid.

Sweeps run as independent jobs (setting, scheme, seed) through ``agents.figures.parallel_map``;
identical jobs shared between figures run once.
"""

from __future__ import annotations

import csv
import importlib
import json
from pathlib import Path

import numpy as np

from agents.figures import parallel_map

GAMMAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
THETAS = (0.001, 0.01, 0.1, 1.0)
KAPPAS = (0.5, 2.0, 10.0, 50.0)
SCHEMES = ("ao", "sdr", "wmmse", "random_scheme", "random_deployment", "comm_only")
LABELS = {"ao": "proposed AO", "ergodic": "ergodic grid", "sdr": "SDR (sum rate)", "wmmse": "WMMSE scheme",
          "random_scheme": "random scheme", "random_deployment": "random deployment", "comm_only": "comm. only"}
MARKERS = {"ao": "o", "ergodic": "*", "sdr": "s", "wmmse": "^", "random_scheme": "v",
           "random_deployment": "d", "comm_only": "x"}
#: rough single-core seconds per solve at L = 1000 (largest first for load balance)
COST = {"ergodic": 60.0, "random_scheme": 5.0, "ao": 4.5, "wmmse": 4.0, "sdr": 3.0, "comm_only": 1.0,
        "random_deployment": 0.5}


def _params(overrides: tuple):
    from isac_envs.uav_effective_capacity.model import Params

    return Params(**dict(overrides))


def run_job(job):
    """(overrides, scheme, seed) -> (objective, feasible, uav_pos) of the scheme's own Decision."""
    from isac_envs.uav_effective_capacity import model

    overrides, scheme, seed = job
    p = _params(overrides)
    inst = model.sample_instance(p, np.random.default_rng(seed))
    solve = importlib.import_module(f"baselines.uav_effective_capacity.{scheme}").solve
    dec = solve(p, inst)
    ev = model.evaluate(p, inst, dec)
    return float(ev.objective), bool(ev.feasible), [float(x) for x in dec.uav_pos]


def map_job(job):
    """(overrides, seed, x, y) -> objective of Algorithm 3' (cold) at the fixed position (x, y)."""
    from baselines.uav_effective_capacity.ao import beamforming
    from isac_envs.uav_effective_capacity import model

    overrides, seed, x, y = job
    p = _params(overrides)
    inst = model.sample_instance(p, np.random.default_rng(seed))
    ev = model.evaluate(p, inst, beamforming(p, inst, (x, y)))
    return float(ev.objective) if ev.feasible else float("nan")


def ao_path_job(job):
    from baselines.uav_effective_capacity import ao
    from isac_envs.uav_effective_capacity import model

    overrides, seed = job
    p = _params(overrides)
    inst = model.sample_instance(p, np.random.default_rng(seed))
    path: list = []
    dec, trace = ao.solve(p, inst, return_trace=True, path=path)
    return [list(map(float, q)) for q in path], [float(t) for t in trace], inst.user_pos.tolist(), inst.target_pos.tolist()


#: ``--quick``: 1 seed and L = 200 fading samples (5x cheaper; EC bias ~ +0.05 bit/s/Hz, spec Sec. 6)
QUICK_SAMPLES = 200
_QUICK = False


def _key(**kw) -> tuple:
    if _QUICK:
        kw["num_samples"] = QUICK_SAMPLES
    return tuple(sorted(kw.items()))


def _plan(quick: bool):
    """Every (overrides, scheme, seed) job of Figs. 1-4, deduplicated."""
    seeds = range(1) if quick else range(3)
    erg_seeds = range(1) if quick else range(2)
    series = {}  # (figure, curve key, x) -> list of jobs

    def add(fig, label, x, overrides, scheme, seed_range):
        series.setdefault((fig, label, x), []).extend((overrides, scheme, s) for s in seed_range)

    for g in GAMMAS:
        for sch in SCHEMES:
            add("fig1", sch, g, _key(qos_exponent=0.01, sensing_threshold=g), sch, seeds)
            add("fig2", sch, g, _key(qos_exponent=1.0, sensing_threshold=g), sch, seeds)
        if not quick or g in (1e-4, 3e-3, 1e-2):
            add("fig1", "ergodic", g, _key(qos_exponent=0.01, sensing_threshold=g), "ergodic", erg_seeds)
    for t in THETAS:
        for sch in SCHEMES:
            add("fig3", sch, t, _key(qos_exponent=t, sensing_threshold=3e-3), sch, seeds)
    for k in KAPPAS:
        for th in (1.0, 0.01):
            for sch in ("ao", "sdr", "wmmse"):
                add("fig4", f"{sch}@{th:g}", k, _key(qos_exponent=th, rician_factor=k, sensing_threshold=3e-3)
                    if k != 2.0 else _key(qos_exponent=th, sensing_threshold=3e-3), sch, seeds)
    return series


def main(out_dir: Path, quick: bool = False, workers: int = 1) -> list[Path]:
    global _QUICK
    _QUICK = bool(quick)
    out_dir = Path(out_dir)
    series = _plan(quick)
    jobs = sorted({j for js in series.values() for j in js}, key=lambda j: -COST[j[1]])
    results = dict(zip(jobs, parallel_map(run_job, jobs, workers, desc="uav_effective_capacity sweeps")))

    # map of the sum EC over positions, and the AO's accepted placements (seed 0, theta = 1)
    step = 20.0 if quick else 10.0
    xs, ys = np.arange(0.0, 100.0 + 1e-9, step), np.arange(0.0, 200.0 + 1e-9, step)
    base = _key(qos_exponent=1.0, sensing_threshold=3e-3)
    grid_jobs = [(base, 0, float(x), float(y)) for x in xs for y in ys]
    grid = np.array(parallel_map(map_job, grid_jobs, workers, desc="EC map")).reshape(len(xs), len(ys))
    path, trace, users, target = ao_path_job((base, 0))

    table = []
    for (fig, label, x), js in sorted(series.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        vals = np.array([results[j][0] for j in js])
        feas = np.mean([results[j][1] for j in js])
        table.append({"figure": fig, "curve": label, "x": x, "mean": float(vals.mean()),
                      "std": float(vals.std()), "n": len(vals), "feasible_fraction": float(feas)})
    csv_path = out_dir / "uav_effective_capacity_figures.csv"
    with open(csv_path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    (out_dir / "uav_effective_capacity_map.json").write_text(json.dumps(
        {"x": xs.tolist(), "y": ys.tolist(), "sum_ec": np.where(np.isnan(grid), None, grid).tolist(),
         "ao_path": path, "ao_trace": trace, "users": users, "target": target}))

    return [csv_path, *plot_all(out_dir, quick)]


COLORS = {"ao": "tab:blue", "ergodic": "black", "sdr": "tab:purple", "wmmse": "tab:brown",
          "random_scheme": "tab:red", "random_deployment": "tab:green", "comm_only": "tab:orange"}


def _read_table(out_dir: Path) -> list[dict]:
    with open(out_dir / "uav_effective_capacity_figures.csv", newline="") as fh:
        return [{**r, "x": float(r["x"]), "mean": float(r["mean"]), "std": float(r["std"])} for r in csv.DictReader(fh)]


def _curves(table, fig):
    out = {}
    for r in table:
        if r["figure"] == fig:
            out.setdefault(r["curve"], []).append((r["x"], r["mean"], r["std"]))
    return {k: sorted(v) for k, v in out.items()}


#: dash pattern per scheme, so that curves lying on top of each other stay distinguishable
DASHES = {"ao": "-", "ergodic": (0, (1, 1)), "sdr": (0, (5, 2)), "wmmse": (0, (3, 1, 1, 1)),
          "random_scheme": (0, (6, 2, 1, 2)), "random_deployment": (0, (2, 2)), "comm_only": (0, (8, 3))}


def _plot_curves(ax, curves, only=None, full_length: int | None = None):
    """One errorbar curve per scheme; markers are offset horizontally (log axis) so that coinciding
    curves stay visible. A curve evaluated at fewer points than the sweep (quick mode) is drawn as
    markers only: no line through points that were not evaluated."""
    labels = [lb for lb in curves if not only or lb.partition("@")[0] in only]
    n = len(labels)
    for i, label in enumerate(labels):
        sch, _, th = label.partition("@")
        pts = curves[label]
        x, mu, sd = map(np.array, zip(*pts))
        x_off = x * 10 ** (0.025 * (i - (n - 1) / 2))  # visual offset only (see the axis note)
        dotted = th not in ("", "1")
        partial = full_length is not None and len(x) < full_length
        ax.errorbar(x_off, mu, yerr=sd, fmt=MARKERS[sch], ls="none" if partial else DASHES[sch],
                    color=COLORS[sch], capsize=3, markersize=6 if sch != "ergodic" else 9, lw=1.4,
                    mfc="none" if dotted else COLORS[sch], alpha=0.9,
                    label=LABELS[sch] + (f" (θ={th})" if th else "") + (" [evaluated points only]" if partial else ""))


def plot_all(out_dir: Path, quick: bool = False) -> list[Path]:
    """Draw Figs. 1-4 and the map from the CSV / JSON written by ``main``."""
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    table = _read_table(out_dir)
    n = max(int(r["n"]) for r in table)
    tag = f"N={n} seed{'s' if n > 1 else ''}" + (f", L={QUICK_SAMPLES}" if quick else "")
    paths = []
    specs = [("fig1", "Fig. 1: θ = 0.01", "sensing threshold Γ [W/m²]"),
             ("fig2", "Fig. 2: θ = 1", "sensing threshold Γ [W/m²]"),
             ("fig3", "Fig. 3: Γ = 3e-3 W/m²", "QoS exponent θ [1/(bit/Hz)]"),
             ("fig4", "Fig. 4: Γ = 3e-3 W/m²", "Rician factor κ [linear]")]
    for fig, title, xlabel in specs:
        curves = _curves(table, fig)
        full = max(len(v) for v in curves.values())
        for zoom in ((False, True) if fig in ("fig1", "fig2", "fig3") else (False,)):
            f, ax = plt.subplots(figsize=(8.6, 4.6))
            top = ("ao", "ergodic", "sdr", "wmmse") + (("random_deployment",) if fig == "fig3" else ())
            _plot_curves(ax, curves, top if zoom else None, full)
            ax.set_xscale("log")
            ax.set_xlabel(xlabel + "  (markers offset horizontally for visibility)")
            ax.set_ylabel("weighted sum EC [bit/s/Hz]")
            ax.set_title(f"{title}{': top schemes' if zoom else ''} ({tag}, native scores)", fontsize=10)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
            path = out_dir / f"uav_effective_capacity_{fig}{'_zoom' if zoom else ''}.png"
            f.tight_layout()
            f.savefig(path, dpi=120)
            plt.close(f)
            paths.append(path)
    paths.append(_plot_map(out_dir))
    return paths


def _plot_map(out_dir: Path) -> Path:
    import matplotlib.pyplot as plt

    data = json.loads((out_dir / "uav_effective_capacity_map.json").read_text())
    xs, ys = np.array(data["x"]), np.array(data["y"])
    grid = np.array([[np.nan if v is None else v for v in row] for row in data["sum_ec"]], float)
    step = float(xs[1] - xs[0])
    f, ax = plt.subplots(figsize=(5.2, 7.6))
    im = ax.pcolormesh(xs, ys, grid.T, shading="nearest", cmap="viridis")
    f.colorbar(im, ax=ax, label="sum EC of Alg. 3' [bit/s/Hz] (blank: infeasible)")
    pq = np.array(data["ao_path"])
    ax.plot(pq[:, 0], pq[:, 1], "w.-", lw=1.5, mec="k", mew=0.5, label="AO accepted placements")
    ax.plot(pq[-1, 0], pq[-1, 1], "r*", ms=12, label=f"AO final, J={data['ao_trace'][-1]:.2f}")
    ax.plot(*data["target"], "rx", ms=10, mew=2, label="target")
    ax.set_xlim(xs[0] - step / 2, xs[-1] + step / 2)
    ax.set_ylim(ys[0] - step / 2, ys[-1] + step / 2)
    ax.set_xlabel("UAV x [m]")
    ax.set_ylabel("UAV y [m]")
    ax.set_title("sum EC over UAV positions (θ=1, Γ=3e-3, seed 0)\nusers at y≈200 m, x=280-340 m")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, facecolor="0.75")
    path = out_dir / "uav_effective_capacity_map.png"
    f.tight_layout()
    f.savefig(path, dpi=120)
    plt.close(f)
    return path
