import math

import numpy as np
import pytest

from isac_envs.physics.effective_capacity import ec_log_moment, effective_capacity_bps_hz


def test_two_block_closed_form():
    # theta = 1: EC = -ln((e^-1 + e^-3)/2)
    r = np.array([1.0, 3.0])
    assert effective_capacity_bps_hz(r, 1.0) == pytest.approx(-math.log((math.exp(-1) + math.exp(-3)) / 2), rel=1e-14)


def test_limits_and_bounds():
    rng = np.random.default_rng(0)
    r = rng.uniform(0, 20, (500, 3))
    # theta -> 0: ergodic rate; theta -> inf: min rate
    np.testing.assert_allclose(effective_capacity_bps_hz(r, 1e-8), r.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(effective_capacity_bps_hz(r, 1e4), r.min(axis=0), atol=1e-3)
    for theta in (0.01, 0.1, 1.0, 10.0):
        ec = effective_capacity_bps_hz(r, theta)
        assert np.all(ec <= r.mean(axis=0) + 1e-12) and np.all(ec >= r.min(axis=0) - 1e-12)
    # decreasing in theta
    ecs = [effective_capacity_bps_hz(r, t) for t in (0.01, 0.1, 1.0, 10.0)]
    assert np.all(np.diff(np.array(ecs), axis=0) < 0)


def test_no_underflow_and_per_user_theta():
    r = np.array([[800.0, 1.0], [900.0, 2.0]])
    ec = effective_capacity_bps_hz(r, np.array([5.0, 1.0]))  # exp(-4000) underflows without the shift
    assert np.all(np.isfinite(ec))
    assert ec[0] == pytest.approx(800.0 + math.log(2) / 5.0 - math.log1p(math.exp(-500)) / 5.0, rel=1e-12)
    assert ec_log_moment(r, np.array([5.0, 1.0]))[1] == pytest.approx(math.log((math.exp(-1) + math.exp(-2)) / 2))
