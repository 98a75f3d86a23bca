"""Hand-checked values of the ITU-R pieces in isac_envs.physics.itu."""

import numpy as np
import pytest

from isac_envs.physics.channels import free_space_gain
from isac_envs.physics.itu import elevation_deg, fspl_p525_db, gaseous_loss_db, los_probability
from isac_envs.physics.units import wavelength_m


def test_p525_hand_value_1km_2ghz():
    # 32.45 + 20 log10(2000 MHz) + 20 log10(1 km) = 32.45 + 66.0206 = 98.4706 dB
    assert fspl_p525_db(1000.0, 2.0e9) == pytest.approx(98.4706, abs=1e-4)


def test_p525_scaling_and_friis():
    # +20 dB per decade of distance and of frequency
    assert fspl_p525_db(10e3, 2e9) - fspl_p525_db(1e3, 2e9) == pytest.approx(20.0)
    assert fspl_p525_db(1e3, 20e9) - fspl_p525_db(1e3, 2e9) == pytest.approx(20.0)
    # agrees with Friis (lambda / 4 pi d)^2 within the rounding of the 32.45 constant
    d = np.array([300.0, 2.5e3, 40e3])
    friis_db = -10 * np.log10(free_space_gain(d, wavelength_m(2.0e9)))
    assert np.allclose(fspl_p525_db(d, 2.0e9), friis_db, atol=0.01)


def test_los_probability_hand_values():
    a, b = 4.88, 0.43
    assert los_probability(a, a, b) == pytest.approx(1.0 / (1.0 + a))          # theta = a -> 1/(1+a) = 0.170068
    assert los_probability(a, a, b) == pytest.approx(0.170068, abs=1e-6)
    assert los_probability(90.0, a, b) == pytest.approx(1.0, abs=1e-12)
    assert los_probability(0.0, a, b) == pytest.approx(1.0 / (1.0 + a * np.exp(b * a)))
    th = np.linspace(0, 90, 50)
    assert np.all(np.diff(los_probability(th, a, b)) > 0)


def test_elevation_and_gas():
    assert elevation_deg(100.0, 100.0) == pytest.approx(45.0)
    assert elevation_deg(-300.0, 0.0) == pytest.approx(90.0)
    assert gaseous_loss_db(20e3, 0.007) == pytest.approx(0.14)
