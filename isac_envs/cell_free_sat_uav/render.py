"""Renderers of the cell-free satellite-UAV env: ``ansi`` text and a numpy ``rgb_array`` raster."""

from __future__ import annotations

import numpy as np

from isac_envs.cell_free_sat_uav import model

_SIZE = 480


def _shown_slot(env) -> int:
    """The slot to show: the one just decided (or 0 before any step)."""
    return max(0, min(env.slot - 1, env.params.num_groups - 1))


def ansi(env) -> str:
    p, inst, n = env.params, env.instance, _shown_slot(env)
    d = env.committed
    t_rem = max(0.0, p.total_hover_time_s - float(d.hover_time.sum()))
    e_left = 100.0 * env._energy_left() / p.energy_per_uav_j
    obj = env._last_eval.objective if env._last_eval is not None else 0.0
    lines = [f"slot {n} (step {env.slot}/{p.num_groups})  T_n={d.hover_time[n]:.1f}s  T_rem={t_rem:.1f}s  "
             f"energy left [%]={np.array2string(e_left, precision=0)}  reward={env._last_reward:.3f}  objective={obj:.3f}"]
    pbar = model.effective_power(d)
    interf = model.interference_w(p, inst.gain_sat, inst.sat_subchannel, pbar)[n]
    for l in range(p.num_subchannels):
        on_l = inst.sat_subchannel[n] == l
        ratio = 10 * np.log10(max(interf[on_l].max(), 1e-30) / p.interference_threshold_w) if on_l.any() else float("nan")
        lines.append(f"  subch {l}: user {d.assignment[n, l]:>2d}  power[mW]={np.array2string(1e3 * pbar[n, :, l], precision=2)}"
                     f"  max I/I_th={ratio:.1f} dB")
    return "\n".join(lines)


def _dots(img, xy, colour, radius, scale):
    ij = np.clip((np.asarray(xy) * scale).astype(int), 0, _SIZE - 1)
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    disk = xx**2 + yy**2 <= radius**2
    for x, y in ij.reshape(-1, 2):
        rows = np.clip(_SIZE - 1 - (y + yy[disk]), 0, _SIZE - 1)
        cols = np.clip(x + xx[disk], 0, _SIZE - 1)
        img[rows, cols] = colour


def rgb_array(env) -> np.ndarray:
    p, inst, n = env.params, env.instance, _shown_slot(env)
    img = np.full((_SIZE, _SIZE, 3), 255, dtype=np.uint8)
    scale = (_SIZE - 1) / p.region_size_m
    others = np.arange(p.num_groups) != n
    _dots(img, inst.user_pos[others, :, :2], (160, 160, 160), 3, scale)
    _dots(img, inst.user_pos[n, :, :2], (30, 80, 230), 4, scale)
    _dots(img, inst.uav_pos[n, :, :2], (220, 30, 30), 5, scale)
    interf = model.interference_w(p, inst.gain_sat, inst.sat_subchannel, model.effective_power(env.committed))[n]
    binding = interf >= p.interference_threshold_w * 10 ** (-0.01)
    if inst.sat_user_pos.shape[0]:
        _dots(img, inst.sat_user_pos[~binding, :2], (30, 170, 60), 4, scale)
        _dots(img, inst.sat_user_pos[binding, :2], (200, 0, 200), 4, scale)
    frac = np.clip(env._energy_left() / p.energy_per_uav_j, 0.0, 1.0)
    width = max(1, (_SIZE - 10) // p.num_uavs)
    for m, f in enumerate(frac):
        x0 = 5 + m * width
        img[2:12, x0:x0 + width - 2] = (220, 220, 220)
        img[2:12, x0:x0 + int((width - 2) * f)] = (240, 160, 0)
    return img
