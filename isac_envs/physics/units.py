"""Units and physical constants (SI inside; dB quantities carry the unit in the name)."""

from __future__ import annotations

import numpy as np

SPEED_OF_LIGHT_MPS = 299_792_458.0
BOLTZMANN_J_PER_K = 1.380649e-23
#: dB / dBm values of zero (or negative) linear quantities are floored here.
DB_FLOOR = -300.0


def db_to_lin(x_db):
    """Power ratio in dB -> linear: 10^(x/10)."""
    return np.power(10.0, np.asarray(x_db, dtype=float) / 10.0)


def lin_to_db(x_lin, floor_db: float = DB_FLOOR):
    """Linear power ratio -> dB, with zero/negative values floored at ``floor_db``."""
    x = np.asarray(x_lin, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 10.0 * np.log10(np.where(x > 0, x, np.nan))
    return np.where(np.isnan(out), floor_db, np.maximum(out, floor_db))


def dbm_to_w(p_dbm):
    """Power in dBm -> W: 1e-3 * 10^(P/10)."""
    return 1e-3 * db_to_lin(p_dbm)


def w_to_dbm(p_w, floor_dbm: float = DB_FLOOR):
    """Power in W -> dBm (zero power floored at ``floor_dbm``)."""
    return lin_to_db(np.asarray(p_w, dtype=float) * 1e3, floor_dbm)


def wavelength_m(carrier_frequency_hz: float) -> float:
    """lambda = c / f_c."""
    return SPEED_OF_LIGHT_MPS / carrier_frequency_hz


def thermal_noise_power_w(bandwidth_hz, noise_figure_db=0.0, noise_temperature_k=290.0):
    """sigma^2 = k_B T_0 W 10^(F/10)."""
    return BOLTZMANN_J_PER_K * noise_temperature_k * np.asarray(bandwidth_hz, float) * db_to_lin(noise_figure_db)


def noise_psd_dbm_per_hz_to_w(noise_psd_dbm_per_hz, bandwidth_hz):
    """Noise power of a band from a PSD in dBm/Hz: 1e-3 10^(N0/10) W."""
    return dbm_to_w(noise_psd_dbm_per_hz) * np.asarray(bandwidth_hz, float)
