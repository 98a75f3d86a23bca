"""Hand-computed values for the shared physics helpers."""

import math

import numpy as np
import pytest

from isac_envs.physics import channels, geometry, metrics, radar, units


def test_db_conversions_hand_values():
    assert units.db_to_lin(10.0) == pytest.approx(10.0)
    assert units.db_to_lin(-3.0) == pytest.approx(0.501187, rel=1e-6)
    assert units.lin_to_db(100.0) == pytest.approx(20.0)
    assert units.dbm_to_w(30.0) == pytest.approx(1.0)
    assert units.dbm_to_w(46.0) == pytest.approx(39.810717, rel=1e-6)
    assert units.w_to_dbm(1e-3) == pytest.approx(0.0, abs=1e-12)
    # zero and negative powers are floored, never -inf / nan
    assert units.lin_to_db(0.0) == units.DB_FLOOR
    assert units.w_to_dbm(np.array([0.0, -1.0])).tolist() == [units.DB_FLOOR, units.DB_FLOOR]


def test_round_trip_db_lin():
    x = np.logspace(-12, 6, 50)
    np.testing.assert_allclose(units.db_to_lin(units.lin_to_db(x)), x, rtol=1e-12)


def test_thermal_noise_hand_value():
    # k T W at 290 K over 1 Hz = -173.98 dBm; with 98.28 MHz and NF 7 dB: -87.05 dBm (DFL spec Sec. 2)
    assert units.w_to_dbm(units.thermal_noise_power_w(1.0)) == pytest.approx(-173.975, abs=1e-3)
    n_w = units.thermal_noise_power_w(3276 * 30e3, 7.0, 290.0)
    assert units.w_to_dbm(n_w) == pytest.approx(-87.05, abs=0.01)
    assert units.noise_psd_dbm_per_hz_to_w(-174.0, 1e6) == pytest.approx(1e-3 * 10 ** (-17.4) * 1e6)


def test_wavelength():
    assert units.wavelength_m(3.5e9) == pytest.approx(0.0856550, rel=1e-6)


def test_free_space_gain_hand_value():
    # FSPL at 1 km, 2.4 GHz is 100.05 dB
    lam = units.wavelength_m(2.4e9)
    assert -units.lin_to_db(channels.free_space_gain(1000.0, lam)) == pytest.approx(100.05, abs=0.01)
    # inverse square law
    assert channels.free_space_gain(20.0, lam) / channels.free_space_gain(10.0, lam) == pytest.approx(0.25)


def test_log_distance_gain_matches_free_space_at_d0_and_slope():
    lam = 0.1
    g0 = channels.log_distance_gain(1.0, lam, 2.5, 1.0)
    assert g0 == pytest.approx(channels.free_space_gain(1.0, lam))
    ratio_db = units.lin_to_db(channels.log_distance_gain(100.0, lam, 2.5) / channels.log_distance_gain(10.0, lam, 2.5))
    assert ratio_db == pytest.approx(-25.0)


def test_rician_unit_mean_and_k_limit():
    rng = np.random.default_rng(0)
    p = channels.rician_power_samples(rng, (200_000,), 9.0)
    assert p.mean() == pytest.approx(1.0, abs=0.01)
    # K -> inf: deterministic unit power
    g = channels.rician_from_draws(np.array([0.3]), np.array([1.0]), np.array([-2.0]), 1e12)
    assert abs(g[0]) ** 2 == pytest.approx(1.0, abs=1e-5)
    # K = 0: Rayleigh, E|g|^2 = 1 and |g|^2 exponential (variance 1)
    q = channels.rician_power_samples(np.random.default_rng(1), (200_000,), -300.0)
    assert q.var() == pytest.approx(1.0, abs=0.03)


def test_geometry():
    a = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    d = geometry.pairwise_distance_m(a, a, min_distance_m=1.0)
    np.testing.assert_allclose(d, [[1.0, 5.0], [5.0, 1.0]])
    assert geometry.distance_m([0, 0], [6, 8]) == pytest.approx(10.0)
    apothem = 250 * math.sqrt(3) / 2
    assert geometry.in_hexagon(np.array([0.0, 0.0]), apothem)
    assert geometry.in_hexagon(np.array([apothem - 1e-6, 0.0]), apothem)
    assert not geometry.in_hexagon(np.array([apothem + 1.0, 0.0]), apothem)
    assert not geometry.in_hexagon(np.array([0.0, 250.0 + 1.0]), apothem)  # beyond the top vertex
    assert geometry.wrap_angle_rad(-0.5) == pytest.approx(2 * math.pi - 0.5)


def test_radar_equation_and_curry():
    lam, rcs = 0.1, 10.0
    mono = radar.bistatic_radar_gain(100.0, 100.0, lam, rcs)
    assert mono == pytest.approx(lam**2 * rcs / ((4 * math.pi) ** 3 * 100.0**4))
    # fourth-power law of the monostatic echo
    assert radar.bistatic_radar_gain(200.0, 200.0, lam, rcs) / mono == pytest.approx(1 / 16)
    assert radar.range_resolution_m(100e6) == pytest.approx(1.49896229, rel=1e-8)
    # sigma_R = dR / sqrt(2 SNR): SNR = 50 -> dR / 10
    assert radar.curry_range_std_m(50.0, 100e6) == pytest.approx(0.149896229, rel=1e-8)
    assert radar.curry_range_std_m(0.0, 100e6, cap_m=100.0) == 100.0


def test_shannon_rate():
    assert metrics.shannon_rate_bps_hz(1.0) == pytest.approx(1.0)
    assert metrics.shannon_rate_bps_hz(15.0) == pytest.approx(4.0)
    assert metrics.shannon_rate_bps_hz(-1.0) == 0.0
    assert metrics.sinr(2.0, 0.5, 0.5) == pytest.approx(2.0)
