"""Large-scale path gain and small-scale fading models."""

from __future__ import annotations

import numpy as np

from .units import db_to_lin


def free_space_gain(distance_m, wavelength_m: float):
    """Friis free-space power gain (lambda / (4 pi d))^2 (isotropic antennas)."""
    return (wavelength_m / (4.0 * np.pi * np.asarray(distance_m, float))) ** 2


def log_distance_gain(distance_m, wavelength_m: float, exponent: float, reference_distance_m: float = 1.0):
    """Free space up to d0, then exponent eta: (lambda/(4 pi d0))^2 (d/d0)^-eta."""
    d = np.asarray(distance_m, float)
    return (wavelength_m / (4.0 * np.pi * reference_distance_m)) ** 2 * (d / reference_distance_m) ** (-exponent)


def rician_from_draws(phase_rad, re, im, k_factor_lin: float):
    """Complex Rician coefficient with E|g|^2 = 1 from given uniform phase and N(0,1) draws.

    g = sqrt(K/(K+1)) e^{j phase} + sqrt(1/(K+1)) (re + j im)/sqrt(2).
    """
    los = np.sqrt(k_factor_lin / (k_factor_lin + 1.0)) * np.exp(1j * np.asarray(phase_rad, float))
    nlos = np.sqrt(1.0 / (k_factor_lin + 1.0)) * (np.asarray(re, float) + 1j * np.asarray(im, float)) / np.sqrt(2.0)
    return los + nlos


def rician_power_samples(rng: np.random.Generator, shape, k_factor_db: float):
    """|g|^2 samples of unit-mean Rician fading; draw order: phase, re, im (each of ``shape``)."""
    phase = rng.uniform(0.0, 2.0 * np.pi, shape)
    re = rng.standard_normal(shape)
    im = rng.standard_normal(shape)
    return np.abs(rician_from_draws(phase, re, im, float(db_to_lin(k_factor_db)))) ** 2
