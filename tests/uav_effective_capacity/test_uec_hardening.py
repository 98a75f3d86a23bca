"""Hardening (issue 9): documented Params bounds, Instance validation in reset and every solver."""

import dataclasses
import importlib
import math

import gymnasium as gym
import numpy as np
import pytest

import isac_envs  # noqa: F401
from isac_envs.core import load_config
from isac_envs.uav_effective_capacity import model as m
from isac_envs.uav_effective_capacity.model import Params

ENV_IDS = ("isac_envs/UAVEffectiveCapacity-v1", "isac_envs/UAVEffectiveCapacityPlacement-v0")
SOLVERS = ("ao", "sdr", "wmmse", "random_scheme", "random_deployment", "comm_only", "ergodic")


@pytest.fixture(scope="module")
def small():
    return load_config(Params, "uav_effective_capacity", "small")


@pytest.mark.parametrize("field,value", [
    ("uav_height", 1e300), ("uav_height", 0.5), ("p_max", 1e300), ("p_max", 0.0), ("noise_power", 1e-300),
    ("ref_gain", 2.0), ("rician_factor", 1e300), ("sensing_threshold", 1e300), ("antenna_spacing", 1e300),
    ("position_jitter", 1e300), ("user_speed", 1e300), ("slot_duration", 1e300), ("uav_speed_max", 1e300),
    ("penalty", 1e300), ("action_share_temperature", 1e300), ("action_reg_decades", 1e300),
    ("qos_exponent", 1e300), ("qos_exponent", 1e-300), ("region_x", (0.0, 1e300)),
    ("target_position", (1e300, 0.0)), ("num_users", 10**12), ("num_antennas", 10**12),
    ("num_samples", 10**12), ("num_slots", 10**12), ("num_antennas", 200), ("noise_power", 1e-20),
    ("action_reg_decades", 11.0),
])
def test_out_of_range_values_are_rejected_naming_the_field(field, value):
    kw = {field: value}
    if field == "num_users":
        kw.update(user_weights=(1.0,) * 4)  # the size check comes first
    with pytest.raises(ValueError, match=field):
        Params(**kw)


@pytest.mark.parametrize("value", ["1.0", True, np.bool_(True), (1.0, "2", 1.0, 1.0), 1 + 0j])
def test_qos_exponent_rejects_strings_bools_complex(value):
    with pytest.raises((TypeError, ValueError), match="qos_exponent"):
        Params(qos_exponent=value)


@pytest.mark.parametrize("field", ["uav_height", "p_max", "num_samples", "penalty", "rician_factor"])
def test_bool_and_string_rejected_for_numeric_fields(field):
    for bad in (True, "3"):
        with pytest.raises((TypeError, ValueError), match=field):
            Params(**{field: bad})


@pytest.mark.parametrize("overrides", [
    dict(uav_height=1e4), dict(uav_height=1.0), dict(p_max=1e4), dict(p_max=1e-6), dict(noise_power=1e-15),
    dict(noise_power=1e-20, p_max=1e-6), dict(ref_gain=1.0, noise_power=1e-13, uav_height=1.0, rician_factor=0.0,
                                              action_reg_decades=10.0),
    dict(noise_power=1.0), dict(ref_gain=1e-20), dict(rician_factor=1e4), dict(sensing_threshold=1e3),
    dict(qos_exponent=100.0), dict(qos_exponent=1e-6), dict(position_jitter=1e5),
])
def test_extreme_accepted_values_give_finite_rewards_in_both_envs(overrides):
    """Every accepted boundary value: reset/step finite (the 1e300 reproducers now fail in Params)."""
    for env_id in ENV_IDS:
        env = gym.make(env_id, config="small", num_samples=8, **overrides)
        obs, _ = env.reset(seed=0)
        assert np.all(np.isfinite(obs))
        rng = np.random.default_rng(0)
        for _ in range(3):
            obs, r, term, trunc, info = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
            assert np.all(np.isfinite(obs)) and math.isfinite(r) and math.isfinite(info["objective"])


def _bad_instances(p, inst):
    yield "fading", dataclasses.replace(inst, fading=inst.fading[:, :, :-1])
    yield "user_pos", dataclasses.replace(inst, user_pos=np.zeros((p.num_users + 1, 2)))
    yield "target_pos", dataclasses.replace(inst, target_pos=np.array([np.nan, 0.0]))
    fad = inst.fading.copy()
    fad[3, 0, 1] = np.inf
    yield "fading", dataclasses.replace(inst, fading=fad)


def test_validate_instance_in_reset(small):
    inst = m.sample_instance(small, np.random.default_rng(0))
    m.validate_instance(small, inst)
    other = m.sample_instance(small.replace(num_samples=50), np.random.default_rng(0))
    for env_id in ENV_IDS:
        env = gym.make(env_id, config="small")
        with pytest.raises(ValueError, match=r"instance\.fading must have shape \(200, 2, 4\).*got \(50, 2, 4\)"):
            env.reset(options={"instance": other})
        for field, bad in _bad_instances(small, inst):
            with pytest.raises(ValueError, match=f"instance.{field}"):
                env.reset(options={"instance": bad})


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_validates_its_instance(small, solver):
    solve = importlib.import_module(f"baselines.uav_effective_capacity.{solver}").solve
    other = m.sample_instance(small.replace(num_users=3, user_positions=((290, 200), (310, 200), (330, 200)),
                                            user_weights=(1, 1, 1)), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"instance\.user_pos must have shape \(2, 2\)"):
        solve(small, other)
    inst = m.sample_instance(small, np.random.default_rng(0))
    for field, bad in _bad_instances(small, inst):
        with pytest.raises(ValueError, match=f"instance.{field}"):
            solve(small, bad)


def test_negative_zero_jitter_is_zero_jitter():
    """-0.0 passes the >= 0 bound; it must draw like 0.0 (numpy's uniform refuses high < low)."""
    import gymnasium as gym
    import numpy as np

    import isac_envs  # noqa: F401

    obs = [gym.make("isac_envs/UAVEffectiveCapacity-v1", config="small", position_jitter=j).reset(seed=3)[0]
           for j in (0.0, -0.0)]
    np.testing.assert_array_equal(obs[0], obs[1])
