"""Communication metrics."""

from __future__ import annotations

import numpy as np


def shannon_rate_bps_hz(sinr_lin):
    """Spectral efficiency log2(1 + SINR) in bit/s/Hz (SINR clipped at 0)."""
    return np.log2(1.0 + np.maximum(np.asarray(sinr_lin, float), 0.0))


def sinr(signal_w, interference_w, noise_w):
    """S / (I + N)."""
    return np.asarray(signal_w, float) / (np.asarray(interference_w, float) + noise_w)
