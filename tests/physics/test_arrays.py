"""Hand-checked values of the UPA array factor, MRT beam gain and CRB helpers (physics/arrays.py)."""

import math

import numpy as np
import pytest

from isac_envs.physics.arrays import (
    crb_direction_cosine_rad2,
    crb_range_m2,
    dirichlet_power,
    upa_mrt_beam_gain,
    upa_steering_vector,
)
from isac_envs.physics.units import SPEED_OF_LIGHT_MPS


def test_steering_vector_elements():
    u = np.array([0.3, -0.2, 0.9])
    a = upa_steering_vector(u, 3, 2)
    assert a.shape == (6,)
    # element (i, l) at flat index i*ny + l: exp(j pi (i ux + l uy))
    assert a[0] == pytest.approx(1.0)
    assert a[1] == pytest.approx(np.exp(1j * math.pi * -0.2))
    assert a[2 * 2 + 1] == pytest.approx(np.exp(1j * math.pi * (2 * 0.3 - 0.2)))
    assert np.allclose(np.abs(a), 1.0)


def test_dirichlet_limits_and_nulls():
    assert dirichlet_power(0.0, 4) == 1.0
    assert dirichlet_power(1e-15, 4) == 1.0
    # first null of an N-element half-wavelength array at du = 2/N
    assert dirichlet_power(2.0 / 4, 4) == pytest.approx(0.0, abs=1e-20)
    # hand value: N = 2, x = 0.5 -> (sin(pi/2) / (2 sin(pi/4)))^2 = 1/2
    assert dirichlet_power(0.5, 2) == pytest.approx(0.5)
    # periodic with period 2 (grating lobes of the half-wavelength array)
    assert dirichlet_power(2.0, 4) == pytest.approx(1.0)


def test_beam_gain_matches_steering_vectors_and_is_bounded():
    rng = np.random.default_rng(3)
    u = rng.normal(size=(20, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    v = u + 0.1 * rng.normal(size=(20, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    nx, ny = 4, 3
    direct = np.abs(np.sum(upa_steering_vector(u, nx, ny).conj() * upa_steering_vector(v, nx, ny), -1)) ** 2 / (nx * ny)
    g = upa_mrt_beam_gain(u, v, nx, ny)
    assert np.allclose(g, direct, rtol=1e-10)
    assert np.all(g <= nx * ny + 1e-12)
    assert upa_mrt_beam_gain(u[0], u[0], nx, ny) == pytest.approx(nx * ny)


def test_crb_hand_values():
    # range: c^2 / (32 pi^2 B_rms^2 SNR), B_rms^2 = B^2/12 -> 3 c^2 / (8 pi^2 B^2 SNR)
    expect = 3 * SPEED_OF_LIGHT_MPS**2 / (8 * math.pi**2 * 1e16 * 100)
    assert crb_range_m2(100.0, 100e6) == pytest.approx(expect)
    assert expect == pytest.approx(3.4149e-3, rel=1e-4)
    assert crb_direction_cosine_rad2(100.0, 4) == pytest.approx(6 / (math.pi**2 * 15 * 100))
    assert crb_direction_cosine_rad2(100.0, 4) == pytest.approx(4.0528e-4, rel=1e-4)
    assert np.isinf(crb_range_m2(0.0, 1e6)) and np.isinf(crb_direction_cosine_rad2(0.0, 4))
    # inverse-proportional in SNR and bandwidth^2
    assert crb_range_m2(200.0, 200e6) == pytest.approx(crb_range_m2(100.0, 100e6) / 8)
