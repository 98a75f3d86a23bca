"""Deterministic equivalent (cell_free_sat_uav spec S9) against closed forms and Monte-Carlo rates."""

import numpy as np
import pytest
from scipy.special import exp1

from isac_envs.physics.deterministic_equivalent import (
    de_compensation_bits,
    de_rate_bits,
    de_rate_given_nu,
    de_slack_nu,
    mc_logdet_rate_bits,
)


def test_slack_closed_form_single_link():
    # M = 1, Nr = 1: alpha nu^2 + nu - 1 = 0 -> nu = (sqrt(1 + 4 alpha) - 1) / (2 alpha)
    alpha = np.array([0.5, 3.0, 100.0])
    nu = de_slack_nu(alpha[:, None], 1)
    assert np.allclose(nu, (np.sqrt(1 + 4 * alpha) - 1) / (2 * alpha), rtol=1e-12)


def test_slack_solves_fixed_point_and_zero_power():
    rng = np.random.default_rng(1)
    alpha = rng.exponential(20.0, size=(50, 6))
    for nr in (1, 2, 4):
        nu = de_slack_nu(alpha, nr)
        rhs = 1.0 / (1.0 + (alpha / (1.0 + nr * alpha * nu[:, None])).sum(axis=1))     # (17)
        assert np.allclose(nu, rhs, rtol=1e-11)
    assert de_slack_nu(np.zeros((1, 3)), 2)[0] == 1.0
    assert de_rate_bits(np.zeros((1, 3)), 2)[0] == pytest.approx(0.0, abs=1e-14)


def test_rate_is_min_over_nu():
    alpha = np.array([[4.0, 30.0, 0.2]])
    nu_star = de_slack_nu(alpha, 2)[0]
    r_star = de_rate_bits(alpha, 2)[0]
    grid = np.linspace(0.01, 1.0, 2000)
    vals = de_rate_given_nu(np.repeat(alpha, grid.size, axis=0), grid, 2)
    assert r_star <= vals.min() + 1e-9
    assert abs(grid[vals.argmin()] - nu_star) < 1e-3
    assert de_compensation_bits(1.0, 2) == 0.0


def test_mc_siso_matches_exact_ergodic_rate():
    # Nr = M = 1 Rayleigh: E log2(1 + a |w|^2) = e^{1/a} E1(1/a) / ln 2
    rng = np.random.default_rng(0)
    s = 200_000
    w = (rng.standard_normal((s, 1, 1)) + 1j * rng.standard_normal((s, 1, 1))) / np.sqrt(2)
    a = 10.0
    exact = np.exp(1 / a) * exp1(1 / a) / np.log(2)
    assert mc_logdet_rate_bits(w, np.array([a])) == pytest.approx(exact, rel=5e-3)


def test_mc_closed_form_nr2_equals_slogdet():
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((5, 16, 2, 4)) + 1j * rng.standard_normal((5, 16, 2, 4))) / np.sqrt(2)
    alpha = rng.exponential(10.0, size=(5, 4))
    g = w * np.sqrt(alpha)[:, None, None, :]
    ref = np.linalg.slogdet(np.eye(2) + g @ np.conj(np.swapaxes(g, -1, -2)))[1].mean(axis=1) / np.log(2)
    assert np.allclose(mc_logdet_rate_bits(w, alpha), ref, rtol=1e-12)


@pytest.mark.parametrize("nr,m", [(2, 6), (4, 3), (1, 4)])
def test_de_close_to_monte_carlo(nr, m):
    rng = np.random.default_rng(nr * 10 + m)
    alpha = rng.uniform(0.5, 200.0, size=(8, m))
    s = 4000
    w = (rng.standard_normal((8, s, nr, m)) + 1j * rng.standard_normal((8, s, nr, m))) / np.sqrt(2)
    mc = mc_logdet_rate_bits(w, alpha)
    de = de_rate_bits(alpha, nr)
    assert np.all(np.abs(de - mc) / mc < 0.05)
    assert np.mean(np.abs(de - mc) / mc) < 0.03
