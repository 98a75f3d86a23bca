"""Uniform linear array (ULA) steering vectors and Rician MIMO (MISO) channels."""

from __future__ import annotations

import numpy as np


def ula_steering_vector(cos_angle, num_antennas: int, spacing_wavelengths: float):
    """ULA response [a]_n = exp(j 2 pi (d/lambda) n cos(angle)), n = 0..M-1.

    ``cos_angle`` is the cosine of the angle between the array axis and the direction (any
    shape S); returns complex128 of shape S + (M,). |a_n| = 1, so ||a||^2 = M.
    """
    c = np.asarray(cos_angle, float)[..., None]
    n = np.arange(num_antennas)
    return np.exp(1j * 2.0 * np.pi * spacing_wavelengths * n * c)


def vertical_ula_cos_elevation(height_m: float, horizontal_distance_m):
    """cos of the angle between a vertical array axis and the line of sight: H / sqrt(H^2 + r^2)."""
    r = np.asarray(horizontal_distance_m, float)
    return height_m / np.sqrt(height_m**2 + r**2)


def rician_miso_channel(path_gain_lin, los_vector, scattered, k_factor_lin: float):
    """h = sqrt(beta) (sqrt(K/(K+1)) a + sqrt(1/(K+1)) g): Rician channel with E||h||^2 = beta M.

    ``path_gain_lin`` broadcasts against the leading axes of ``los_vector`` / ``scattered``
    (antenna axis last); ``scattered`` holds unit-variance CN(0,1) entries.
    """
    los = np.sqrt(k_factor_lin / (k_factor_lin + 1.0)) * np.asarray(los_vector)
    nlos = np.sqrt(1.0 / (k_factor_lin + 1.0)) * np.asarray(scattered)
    return np.sqrt(np.asarray(path_gain_lin, float))[..., None] * (los + nlos)
