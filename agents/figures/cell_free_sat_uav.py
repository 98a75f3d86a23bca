"""Figures of the cell-free satellite-UAV network (paper Figs. 2-9); every point from ``evaluate()``.

- ``fig2_convergence``: surrogate objective per outer iteration of Algorithms 3 and 6 (paper Fig. 2).
- ``fig3_threshold``: overall efficiency vs interference-temperature threshold, all solvers (Fig. 3).
- ``fig4_min_efficiency``: minimum (and overall) efficiency per solver at the default point (Fig. 4).
- ``fig5_coverage``: where users are served, per subchannel, by Algorithms 3 and 6 (Fig. 5).
- ``fig6_9_<field>``: both objectives vs swarm size, energy and number of subchannels (Figs. 6-9).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agents.figures import parallel_map

SOLVERS = ("algorithm3", "algorithm6", "scheme1", "scheme2", "scheme3")
LABELS = {"algorithm3": "Alg. 3", "algorithm6": "Alg. 6", "scheme1": "Scheme 1", "scheme2": "Scheme 2",
          "scheme3": "Scheme 3", "reference": "reference"}
#: one (marker, line style, marker size) per solver, drawn in this order: large hollow markers first, so that
#: a line lying on another one (e.g. Scheme 1 and Scheme 2 at high thresholds) stays visible
STYLE = {"algorithm3": ("o", "-", 10), "algorithm6": ("s", "--", 8.5), "scheme1": ("^", "-.", 7.5),
         "scheme2": ("v", ":", 6.5), "scheme3": ("D", (0, (6, 1.5, 1, 1.5, 1, 1.5)), 5), "reference": ("P", "-", 5)}
SWEEPS = {
    "interference_threshold_dbm": ([-130.0, -120.0, -110.0, -100.0, -90.0], "interference threshold $I_{th}$ [dBm]"),
    "num_uavs": ([2, 4, 6, 8], "number of UAVs $M$ [count]"),
    "comm_energy_total_j": ([30.0, 60.0, 120.0, 240.0], "communication energy $E$ [J]"),
    "num_subchannels": ([4, 8, 12, 16], "number of subchannels $L$ [count]"),
}


def _line(ax, x, y, name, **kw):
    """One solver's line: its own marker, dash pattern and hollow marker size (no line hidden under another)."""
    marker, ls, size = STYLE[name]
    ax.plot(x, y, marker=marker, linestyle=ls, markersize=size, markerfacecolor="none", markeredgewidth=1.3,
            label=LABELS[name], **kw)


def _legend_outside(ax, **kw):
    """Legend to the right of the axes, never over the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


def _overlap_note(ax, curves: dict[str, list[float]]) -> None:
    """Name the solvers whose curves coincide (drawn on top of each other), below the legend."""
    groups: dict[tuple, list[str]] = {}
    for name, ys in curves.items():
        groups.setdefault(tuple(np.round(ys, 6)), []).append(LABELS[name])
    lines = [" = ".join(g) + " (same values)" for g in groups.values() if len(g) > 1]
    if lines:
        ax.text(1.02, 0.0, "overlapping:\n" + "\n".join(lines), transform=ax.transAxes, fontsize=7, va="bottom")


def _solve_point(job):
    """(overrides, seed, solvers) -> {solver: (eta_sum, eta_min, trace or None)} (top-level: picklable)."""
    import importlib

    from isac_envs.cell_free_sat_uav import model

    overrides, seed, solvers = job
    params = model.Params(**dict(overrides))
    inst = model.sample_instance(params, np.random.default_rng(seed))
    out = {}
    for name in solvers:
        solve = importlib.import_module(f"baselines.cell_free_sat_uav.{name}").solve
        if name in ("algorithm3", "algorithm6"):
            d, trace = solve(params, inst, return_trace=True)
        else:
            d, trace = solve(params, inst), None
        ev = model.evaluate(params, inst, d)
        out[name] = (ev.metrics["efficiency_sum"], ev.metrics["efficiency_min"], trace)
    return out


def _sweep(field, values, seeds, solvers, workers):
    jobs = [(((field, v),), s, solvers) for v in values for s in seeds]
    res = parallel_map(_solve_point, jobs, workers, desc=f"cell_free_sat_uav {field}")
    table = {}
    for (ov, _, _), r in zip(jobs, res):
        v = ov[0][1]
        for name, (s_, m_, _) in r.items():
            table.setdefault((name, v), []).append((s_, m_))
    return table


def fig2_convergence(out_dir: Path, seeds, workers) -> Path:
    import matplotlib.pyplot as plt

    res = parallel_map(_solve_point, [((), s, ("algorithm3", "algorithm6")) for s in seeds], workers, desc="fig2")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    markers = "osD^vPX*"
    for i, r in enumerate(res):
        for ax, name in zip(axes, ("algorithm3", "algorithm6")):
            tr = r[name][2]
            ax.plot(range(len(tr)), tr, marker=markers[i % len(markers)], markerfacecolor="none",
                    linestyle=("-", "--", "-.", ":")[i % 4], alpha=0.8, label=f"instance {seeds[i]}")
    axes[0].set(title="Alg. 3: DE overall efficiency per iteration", xlabel="outer iteration [count]",
                ylabel=r"$\hat\eta_{sum}$ [bit/s/Hz]")
    axes[1].set(title="Alg. 6: DE minimum efficiency per iteration", xlabel="outer iteration [count]",
                ylabel=r"$\hat\eta_{min}$ [bit/s/Hz]")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    _legend_outside(axes[1], fontsize=7)
    return _save(fig, out_dir / "cell_free_sat_uav_fig2_convergence.png")


def fig3_threshold(out_dir: Path, seeds, workers, values=None) -> Path:
    import matplotlib.pyplot as plt

    field = "interference_threshold_dbm"
    values = values or SWEEPS[field][0]
    table = _sweep(field, values, seeds, SOLVERS, workers)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    curves = {name: [np.mean([x[0] for x in table[(name, v)]]) for v in values] for name in SOLVERS}
    for name, ys in curves.items():
        _line(ax, values, ys, name)
    _overlap_note(ax, curves)
    ax.set(xlabel=SWEEPS[field][1], ylabel=r"overall efficiency $\eta_{sum}$ [bit/s/Hz]",
           title=f"Overall efficiency vs threshold ({len(seeds)} instances)")
    ax.set_xticks(values)                          # only the evaluated points
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    return _save(fig, out_dir / "cell_free_sat_uav_fig3_threshold.png")


def fig4_min_efficiency(out_dir: Path, seeds, workers) -> Path:
    import matplotlib.pyplot as plt

    res = parallel_map(_solve_point, [((), s, SOLVERS) for s in seeds], workers, desc="fig4")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, idx, lab in ((axes[0], 1, r"minimum efficiency $\eta_{min}$"), (axes[1], 0, r"overall efficiency $\eta_{sum}$")):
        vals = [[r[n][idx] for r in res] for n in SOLVERS]
        bars = ax.bar([LABELS[n] for n in SOLVERS], [np.mean(v) for v in vals],
                      yerr=[1.96 * np.std(v) / np.sqrt(len(v)) for v in vals], capsize=4)
        ax.bar_label(bars, fmt="%.2f", padding=2, fontsize=8)          # zero bars stay readable
        ax.set(ylabel=lab + " [bit/s/Hz]")
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_title("Fairness: Alg. 6 maximises the minimum")
    axes[1].set_title("Overall efficiency of the same decisions")
    return _save(fig, out_dir / "cell_free_sat_uav_fig4_min_efficiency.png")


def fig5_coverage(out_dir: Path, seed: int = 0) -> Path:
    import matplotlib.pyplot as plt

    from baselines.cell_free_sat_uav import algorithm3, algorithm6
    from isac_envs.cell_free_sat_uav import model

    p = model.Params()
    inst = model.sample_instance(p, np.random.default_rng(seed))
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.8))
    cmap = plt.get_cmap("tab10")
    for ax, (name, solve) in zip(axes, (("Alg. 3", algorithm3.solve), ("Alg. 6", algorithm6.solve))):
        d = solve(p, inst)
        eff = model.user_efficiency(p, inst, d)
        ax.scatter(*inst.sat_user_pos[:, :2].T / 1e3, marker="^", c="green", s=30, label="satellite users")
        for n in range(p.num_groups):
            ax.scatter(*inst.uav_pos[n, :, :2].T / 1e3, marker="x", c="red", s=25, label="UAV hover" if n == 0 else None)
            for k in range(p.users_per_group):
                subs = np.flatnonzero(d.assignment[n] == k)
                x, y = inst.user_pos[n, k, :2] / 1e3
                if subs.size == 0:
                    ax.scatter(x, y, facecolors="none", edgecolors="grey", s=40)
                    continue
                for i, l in enumerate(subs):          # one ring per subchannel, coloured by subchannel
                    ax.scatter(x, y, facecolors="none", edgecolors=[cmap(l % 10)], s=40 + 45 * i, linewidths=1.2)
                ax.annotate(f"{eff[n, k]:.1f}", (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
        ev = model.evaluate(p, inst, d)
        ax.set(title=f"{name}: served users ({ev.metrics['users_served_frac']:.0%}), "
                     f"$\\eta_{{sum}}$={ev.metrics['efficiency_sum']:.1f}, $\\eta_{{min}}$={ev.metrics['efficiency_min']:.2f}",
               xlabel="x [km]", ylabel="y [km]", xlim=(0, p.region_size_m / 1e3), ylim=(0, p.region_size_m / 1e3))
        ax.set_aspect("equal")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7)
    fig.suptitle("Cell-free coverage: rings = subchannels held by a user (colour = subchannel index), "
                 "label = user efficiency [bit/s/Hz]; grey = unserved", fontsize=9)
    return _save(fig, out_dir / "cell_free_sat_uav_fig5_coverage.png")


def fig6_9_resource(out_dir: Path, field: str, seeds, workers, values=None) -> Path:
    import matplotlib.pyplot as plt

    values = values or SWEEPS[field][0]
    table = _sweep(field, values, seeds, SOLVERS, workers)
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4))
    for ax, idx in zip(axes, (0, 1)):
        curves = {name: [np.mean([x[idx] for x in table[(name, v)]]) for v in values] for name in SOLVERS}
        for name, ys in curves.items():
            _line(ax, values, ys, name)
        if idx == 1:
            _overlap_note(ax, curves)
    axes[0].set(xlabel=SWEEPS[field][1], ylabel=r"overall efficiency $\eta_{sum}$ [bit/s/Hz]")
    axes[1].set(xlabel=SWEEPS[field][1], ylabel=r"minimum efficiency $\eta_{min}$ [bit/s/Hz]")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.set_xticks(values)                      # only the evaluated points
    _legend_outside(axes[1], fontsize=8)
    fig.suptitle(f"Both objectives vs {SWEEPS[field][1]} ({len(seeds)} instances)")
    return _save(fig, out_dir / f"cell_free_sat_uav_fig6_9_{field}.png")


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def main(out_dir: Path, quick: bool = False, workers: int = 1) -> list[Path]:
    """All figures; ``quick`` uses 2 instances per point and fewer sweep points (<= 5 min)."""
    out_dir = Path(out_dir)
    seeds = range(2) if quick else range(12)
    paths = [fig2_convergence(out_dir, range(3) if quick else range(8), workers),
             fig3_threshold(out_dir, seeds, workers, [-130.0, -110.0, -90.0] if quick else None),
             fig4_min_efficiency(out_dir, range(4) if quick else range(30), workers),
             fig5_coverage(out_dir)]
    for field in ("num_uavs", "comm_energy_total_j", "num_subchannels"):
        vals = [SWEEPS[field][0][0], SWEEPS[field][0][2]] if quick else None
        paths.append(fig6_9_resource(out_dir, field, seeds, workers, vals))
    return paths
