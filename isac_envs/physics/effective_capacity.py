"""Effective capacity (statistical delay-QoS) of a block-fading rate process."""

from __future__ import annotations

import numpy as np


def effective_capacity_bps_hz(rate_bps_hz, qos_exponent, axis: int = 0):
    """Sample-average effective capacity -(1/theta) ln mean_l exp(-theta r_l) along ``axis``.

    Rates in bit/s/Hz per block of unit time-bandwidth, theta in 1/(bit/Hz); computed with a
    log-sum-exp shift so that large theta * r does not underflow. ``qos_exponent`` broadcasts
    against the result (e.g. one theta per user). theta -> 0 gives the mean rate; the result
    always lies in [min_l r_l, mean_l r_l].
    """
    r = np.moveaxis(np.asarray(rate_bps_hz, float), axis, 0)
    theta = np.asarray(qos_exponent, float)
    x = -theta * r  # exponent of each block
    x_max = x.max(axis=0)
    log_mean = x_max + np.log(np.mean(np.exp(x - x_max), axis=0))
    return -log_mean / theta


def ec_log_moment(rate_bps_hz, qos_exponent, axis: int = 0):
    """ln E[exp(-theta r)] (the log moment-generating function at -theta), stably."""
    return -np.asarray(qos_exponent, float) * effective_capacity_bps_hz(rate_bps_hz, qos_exponent, axis)
