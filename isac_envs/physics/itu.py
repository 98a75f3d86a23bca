"""ITU-R air-to-ground propagation pieces (paper-independent, pure functions).

- ITU-R P.525 free-space basic transmission loss,
- the elevation-dependent LoS probability S-curve (Al-Hourani et al. / ITU-R P.1410 fit),
- elevation angle of an air-to-ground link.
"""

from __future__ import annotations

import numpy as np


def fspl_p525_db(distance_m, frequency_hz):
    """ITU-R P.525 free-space loss: 32.45 + 20 log10(f/MHz) + 20 log10(d/km) dB (spec S2)."""
    d_km = np.asarray(distance_m, dtype=float) / 1e3
    f_mhz = np.asarray(frequency_hz, dtype=float) / 1e6
    return 32.45 + 20.0 * np.log10(f_mhz) + 20.0 * np.log10(d_km)


def elevation_deg(height_diff_m, horizontal_distance_m):
    """Elevation angle atan2(|dz|, d_h) in degrees (spec S1)."""
    return np.degrees(np.arctan2(np.abs(np.asarray(height_diff_m, float)),
                                 np.asarray(horizontal_distance_m, float)))


def los_probability(elevation_deg_, a: float, b: float):
    """LoS probability 1 / (1 + a exp(-b (theta - a))), theta in degrees (spec S3)."""
    theta = np.asarray(elevation_deg_, dtype=float)
    return 1.0 / (1.0 + a * np.exp(-b * (theta - a)))


def gaseous_loss_db(distance_m, atten_db_per_km: float):
    """Gaseous attenuation along the path, gamma * d/km dB (ITU-R P.676 specific attenuation; spec S4)."""
    return atten_db_per_km * np.asarray(distance_m, dtype=float) / 1e3
