"""Issue 9 items 4 and 17: the UEC solvers at a stressed QoS exponent (theta = 100): no
LinAlgError, finite decisions, and no solver warnings leaking."""

import warnings

import gymnasium as gym
import numpy as np
import pytest

import isac_envs  # noqa: F401
from baselines.uav_effective_capacity import ao, sdr, wmmse
from baselines.uav_effective_capacity._common import LN2, ec_terms
from isac_envs.uav_effective_capacity.model import evaluate

#: seeds on which ao.solve raised "LinAlgError: Singular matrix" before the fix
FAILING_SEEDS = (1000, 1007, 1009, 1010, 1011, 1014)


def _instances(seeds, **overrides):
    env = gym.make("isac_envs/UAVEffectiveCapacity-v0", config="small", **overrides).unwrapped
    for s in seeds:
        env.reset(seed=s)
        yield env.params, env.instance


def _check(solver, params, inst):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # RuntimeWarning (overflow) and cvxpy UserWarnings fail the test
        dec = solver(params, inst)
        ev = evaluate(params, inst, dec)
    for name in ("uav_pos", "beamformers", "sensing_cov"):
        assert np.all(np.isfinite(np.asarray(getattr(dec, name)))), name
    assert np.isfinite(ev.objective)
    return ev


@pytest.mark.parametrize("solver", [ao.solve, wmmse.solve, sdr.solve], ids=["ao", "wmmse", "sdr"])
def test_high_qos_exponent_two_seeds(solver):
    for params, inst in _instances(FAILING_SEEDS[:2], qos_exponent=100.0):
        _check(solver, params, inst)


@pytest.mark.slow
def test_high_qos_exponent_all_reported_seeds():
    objs = [_check(ao.solve, p, i).objective for p, i in _instances(range(1000, 1016), qos_exponent=100.0)]
    assert len(objs) == 16


def test_faint_block_rescaling_is_exact_where_not_needed():
    rng = np.random.default_rng(0)
    L, K = 6, 3
    alpha = np.array([1.0, 2.0, 0.5])
    theta = np.full(K, 100.0)
    r = rng.uniform(0.5, 1.0, (L, K))
    r[2] += 20.0  # block 2 far better than the others: weights e^(-2000) underflow to 0
    ln_phi, _, wnorm = ec_terms(r, theta, alpha)
    c = alpha / LN2 * wnorm
    assert np.all(c[2] == 0.0)  # the degenerate block of the reproducer
    out = ao._rescale_faint_blocks(c, r, theta, ln_phi, alpha)
    keep = np.arange(L) != 2
    assert np.array_equal(out[keep], c[keep])  # untouched bit for bit
    assert out[2].max() == pytest.approx((alpha / LN2)[np.argmax(-theta * r[2] - ln_phi)])
    # proportional to the exact (underflowed) weights: log ratios match
    log_w = -theta * r[2] - ln_phi
    np.testing.assert_allclose(np.log(out[2] / (alpha / LN2)), log_w - log_w.max(), rtol=1e-12, atol=1e-9)


def test_solve_blocks_falls_back_to_pseudo_inverse():
    B = np.stack([np.eye(2) * 2.0, np.zeros((2, 2))]).astype(complex)
    rhs = np.ones((2, 2, 1), complex)
    out = ao._solve_blocks(B, rhs)
    np.testing.assert_allclose(out[0], 0.5)
    np.testing.assert_array_equal(out[1], 0.0)
