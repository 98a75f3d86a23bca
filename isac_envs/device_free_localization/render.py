"""``rgb_array`` rendering of the device-free localisation scene (matplotlib, Agg backend).

Imported only from ``render()``, so ``import isac_envs`` never loads matplotlib.
"""

from __future__ import annotations

import numpy as np

from isac_envs.core import Evaluation
from isac_envs.device_free_localization.model import NUM_BS, Instance, Params

_COLOURS = ("tab:blue", "tab:orange", "tab:green")
_SIZE_PX = 480


def _hexagon_xy(params: Params) -> np.ndarray:
    ang = np.deg2rad(90.0 + 60.0 * np.arange(7))
    return params.hex_radius_m * np.stack([np.cos(ang), np.sin(ang)], axis=1)


def render_rgb(params: Params, instance: Instance, evaluation: Evaluation | None, trail_xy: np.ndarray,
               slot: int) -> np.ndarray:
    """(480, 480, 3) uint8: hexagon, BSs with sector edges, UEs, target with trail, per-BS range STD."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.8, 4.8), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.04, 0.04, 0.92, 0.88))
    hexa = _hexagon_xy(params)
    ax.plot(hexa[:, 0], hexa[:, 1], color="0.4", lw=1)
    half = np.deg2rad(params.sector_width_deg) / 2.0
    reach = 1.15 * params.hex_radius_m * np.sqrt(3.0)
    for b in range(NUM_BS):
        bx, by = instance.bs_positions_m[b, :2]
        for side in (-half, half):
            ang = instance.bs_boresight_rad[b] + side
            ax.plot([bx, bx + reach * np.cos(ang)], [by, by + reach * np.sin(ang)], color=_COLOURS[b], lw=0.6, ls=":")
        ux, uy = instance.ue_positions_m[b, :2]
        ax.plot([bx, ux], [by, uy], color=_COLOURS[b], lw=1)
        ax.plot(bx, by, marker="^", ms=11, color=_COLOURS[b])
        ax.plot(ux, uy, marker="o", ms=6, color=_COLOURS[b])
        if evaluation is not None:
            ax.annotate(f"σR={evaluation.metrics[f'range_std_m_{b}']:.2f} m", (bx, by), textcoords="offset points",
                        xytext=(0, 9), ha="center", fontsize=8, color=_COLOURS[b])
    if len(trail_xy) > 1:
        ax.plot(trail_xy[:, 0], trail_xy[:, 1], color="crimson", lw=0.8, alpha=0.6)
    tx, ty = instance.target_position_m[:2]
    ax.plot(tx, ty, marker="*", ms=13, color="crimson")
    lim = 1.12 * params.hex_radius_m
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    obj = "n/a" if evaluation is None else f"{evaluation.objective:.3f} m"
    fig.suptitle(f"t={slot}/{params.episode_length}  J={obj}", fontsize=11)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[:, :, :3]
    if img.shape[:2] != (_SIZE_PX, _SIZE_PX):  # pragma: no cover - DPI rounding guard
        img = np.ascontiguousarray(img[:_SIZE_PX, :_SIZE_PX])
    return np.ascontiguousarray(img, dtype=np.uint8)
