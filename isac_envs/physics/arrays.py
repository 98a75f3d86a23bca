"""Antenna arrays and estimation bounds: UPA steering vectors, array-factor beam gains, CRBs.

Paper-independent pure functions (half-wavelength spacing, isotropic elements, SI units).
"""

from __future__ import annotations

import numpy as np

from .units import SPEED_OF_LIGHT_MPS


def upa_steering_vector(direction, nx: int, ny: int):
    """Horizontal UPA steering vector a(u)_(i,l) = exp(j pi (i u_x + l u_y)), i < nx, l < ny.

    ``direction``: (..., >=2) unit vectors (only u_x, u_y are used); returns (..., nx*ny)
    complex, element (i, l) at flat index i*ny + l.
    """
    u = np.asarray(direction, float)
    i = np.arange(nx)[:, None]
    l = np.arange(ny)[None, :]
    phase = np.pi * (i * u[..., 0, None, None] + l * u[..., 1, None, None])
    return np.exp(1j * phase).reshape(*u.shape[:-1], nx * ny)


def dirichlet_power(x, n: int, tol: float = 1e-12):
    """Normalised ULA array factor D_N(x) = (sin(N pi x/2) / (N sin(pi x/2)))^2, D_N(0) = 1."""
    x = np.asarray(x, float)
    den = n * np.sin(np.pi * x / 2.0)
    small = np.abs(np.sin(np.pi * x / 2.0)) < tol
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (np.sin(n * np.pi * x / 2.0) / np.where(small, 1.0, den)) ** 2
    return np.where(small, 1.0, d)


def upa_mrt_beam_gain(direction_true, direction_est, nx: int, ny: int):
    """|a(u)^H a(u_hat)|^2 / N_t = N_t D_Nx(du_x) D_Ny(du_y): MRT beam steered at u_hat, target at u."""
    du = np.asarray(direction_true, float) - np.asarray(direction_est, float)
    return nx * ny * dirichlet_power(du[..., 0], nx) * dirichlet_power(du[..., 1], ny)


def crb_range_m2(snr_lin, bandwidth_hz):
    """Range CRB c^2 / (32 pi^2 B_rms^2 SNR) with a flat spectrum, B_rms = B / sqrt(12) (inf at SNR 0)."""
    snr = np.asarray(snr_lin, float)
    b_rms2 = np.asarray(bandwidth_hz, float) ** 2 / 12.0
    with np.errstate(divide="ignore"):
        return SPEED_OF_LIGHT_MPS**2 / (32.0 * np.pi**2 * b_rms2 * snr)


def crb_direction_cosine_rad2(snr_lin, num_elements: int):
    """Per-axis direction-cosine CRB of a half-wavelength array of N elements: 6 / (pi^2 (N^2-1) SNR)."""
    snr = np.asarray(snr_lin, float)
    with np.errstate(divide="ignore"):
        return 6.0 / (np.pi**2 * (num_elements**2 - 1) * snr)
