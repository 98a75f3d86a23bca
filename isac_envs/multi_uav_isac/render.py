"""Top-view drawing of one slot (``rgb_array`` render and the cells figure); matplotlib, Agg.

Imported only from ``render()`` and the figures, so ``import isac_envs`` never loads matplotlib.
"""

from __future__ import annotations

import numpy as np

from isac_envs.core import Evaluation
from isac_envs.multi_uav_isac.model import Decision, Instance, Params

_SIZE_PX = 480


def bs_colours(num_bs: int):
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(num_bs)]


def draw_top_view(ax, params: Params, instance: Instance, decision: Decision | None, legend: bool = False) -> None:
    """BSs (triangles), hotspots (circles of radius sigma_h), cooperative UAVs coloured by serving BS
    with a line to it, the non-cooperative UAV as a red cross with its velocity arrow."""
    from matplotlib.patches import Circle

    k, side = params.num_uavs, params.area_size_m
    colours = bs_colours(params.num_bs)
    for c in instance.hotspot_centers:
        ax.add_patch(Circle((c[0], c[1]), params.hotspot_std_m, fill=False, ls="--", color="0.6", lw=0.8))
    pos = instance.uav_pos
    for j in range(k + 1):
        colour = colours[decision.assoc[j]] if decision is not None else "0.3"
        if decision is not None:
            b = instance.bs_pos[decision.assoc[j]]
            ax.plot([b[0], pos[j, 0]], [b[1], pos[j, 1]], color=colour, lw=0.7, alpha=0.7,
                    ls=":" if j == k else "-")
        if j < k:
            ax.plot(pos[j, 0], pos[j, 1], "o", ms=5, color=colour)
    ax.plot(pos[k, 0], pos[k, 1], "x", ms=10, mew=2.5, color="red", label="non-coop UAV")
    v = instance.noncoop_vel
    ax.arrow(pos[k, 0], pos[k, 1], 5 * v[0], 5 * v[1], color="red", width=side / 400, length_includes_head=True)
    for b in range(params.num_bs):
        ax.plot(*instance.bs_pos[b, :2], "^", ms=12, color=colours[b], mec="k", label=f"BS {b}" if legend else None)
    ax.set_xlim(0, side)
    ax.set_ylim(0, side)
    ax.set_aspect("equal")


def render_rgb(params: Params, instance: Instance, decision: Decision | None,
               evaluation: Evaluation | None) -> np.ndarray:
    """(480, 480, 3) uint8 top view of the slot just played (or the current one before any step)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.8, 4.8), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.08, 0.06, 0.88, 0.84))
    draw_top_view(ax, params, instance, decision)
    ax.tick_params(labelsize=7)
    g = "n/a" if evaluation is None else f"{evaluation.objective:.3f}"
    fig.suptitle(f"slot {instance.slot}/{params.num_slots}  G={g}", fontsize=11)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[:, :, :3]
    img = img[:_SIZE_PX, :_SIZE_PX]
    return np.ascontiguousarray(img, dtype=np.uint8)
