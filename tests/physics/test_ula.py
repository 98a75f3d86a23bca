import numpy as np
import pytest

from isac_envs.physics.ula import rician_miso_channel, ula_steering_vector, vertical_ula_cos_elevation


def test_steering_vector_values():
    a = ula_steering_vector(0.5, 4, 0.5)  # phase step pi * 0.5
    np.testing.assert_allclose(a, np.exp(1j * np.pi * 0.5 * np.arange(4)))
    assert np.allclose(np.abs(a), 1.0)
    # broadside (cos = 0): all ones; batch shape preserved
    b = ula_steering_vector(np.zeros((2, 3)), 5, 0.5)
    assert b.shape == (2, 3, 5) and np.allclose(b, 1.0)


def test_vertical_cos_and_rician_power():
    assert vertical_ula_cos_elevation(30.0, 40.0) == pytest.approx(0.6)
    rng = np.random.default_rng(1)
    g = (rng.standard_normal((20000, 8)) + 1j * rng.standard_normal((20000, 8))) / np.sqrt(2)
    a = ula_steering_vector(0.3, 8, 0.5)
    h = rician_miso_channel(2.0, a, g, 3.0)
    # E||h||^2 = beta M; LoS part = sqrt(beta K/(K+1)) a
    assert np.mean(np.sum(np.abs(h) ** 2, axis=1)) == pytest.approx(16.0, rel=0.02)
    np.testing.assert_allclose(h.mean(axis=0), np.sqrt(2.0 * 0.75) * a, atol=0.02)
    # K = 0: pure Rayleigh
    assert np.allclose(rician_miso_channel(1.0, a, g, 0.0), g)
