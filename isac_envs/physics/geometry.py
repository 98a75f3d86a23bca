"""Geometry helpers (positions in metres, angles in radians)."""

from __future__ import annotations

import numpy as np


def pairwise_distance_m(a_m, b_m, min_distance_m: float = 0.0):
    """Euclidean distances between rows of a (n, d) and b (k, d) -> (n, k), floored."""
    a = np.asarray(a_m, dtype=float)
    b = np.asarray(b_m, dtype=float)
    d = np.sqrt(np.sum((a[..., :, None, :] - b[..., None, :, :]) ** 2, axis=-1))
    return np.maximum(d, min_distance_m)


def distance_m(a_m, b_m, min_distance_m: float = 0.0):
    """Euclidean distance along the last axis (broadcasting), floored."""
    d = np.sqrt(np.sum((np.asarray(a_m, float) - np.asarray(b_m, float)) ** 2, axis=-1))
    return np.maximum(d, min_distance_m)


def hexagon_normals(num_sides: int = 3, first_angle_rad: float = 0.0):
    """Unit normals of a centred hexagon's three pairs of parallel edges, angles 0, 60, 120 deg."""
    phi = first_angle_rad + np.arange(num_sides) * np.pi / 3.0
    return np.stack([np.cos(phi), np.sin(phi)], axis=-1)


def in_hexagon(xy_m, apothem_m: float, tol_m: float = 1e-9):
    """True where |x cos(phi_k) + y sin(phi_k)| <= a for phi_k in {0, 60, 120} deg (pointy-top hexagon)."""
    xy = np.asarray(xy_m, dtype=float)
    s = xy @ hexagon_normals().T
    return np.all(np.abs(s) <= apothem_m + tol_m, axis=-1)


def wrap_angle_rad(angle_rad):
    """Angle modulo 2 pi into [0, 2 pi)."""
    return np.mod(angle_rad, 2.0 * np.pi)
