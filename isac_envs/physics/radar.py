"""Radar equation and range accuracy."""

from __future__ import annotations

import numpy as np

from .units import SPEED_OF_LIGHT_MPS


def bistatic_radar_gain(tx_target_distance_m, target_rx_distance_m, wavelength_m: float,
                        rcs_m2: float, tx_gain_lin: float = 1.0, rx_gain_lin: float = 1.0):
    """Radar equation: G_t G_r lambda^2 sigma / ((4 pi)^3 d_t^2 d_r^2) (monostatic when d_t = d_r)."""
    dt = np.asarray(tx_target_distance_m, float)
    dr = np.asarray(target_rx_distance_m, float)
    return tx_gain_lin * rx_gain_lin * wavelength_m**2 * rcs_m2 / ((4.0 * np.pi) ** 3 * dt**2 * dr**2)


def range_resolution_m(bandwidth_hz: float) -> float:
    """Delta R = c / (2 W)."""
    return SPEED_OF_LIGHT_MPS / (2.0 * bandwidth_hz)


def curry_range_std_m(effective_snr_lin, bandwidth_hz: float, cap_m: float = np.inf):
    """Curry's range accuracy sigma_R = c / (2 W sqrt(2 SNR)), capped (cap when SNR = 0)."""
    snr = np.asarray(effective_snr_lin, float)
    with np.errstate(divide="ignore"):
        std = range_resolution_m(bandwidth_hz) / np.sqrt(2.0 * np.maximum(snr, 0.0))
    return np.minimum(std, cap_m)
