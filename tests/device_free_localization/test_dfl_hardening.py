"""device_free_localization hardening (issue 9): documented Params bounds, instance validation, finite outputs."""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baselines.device_free_localization import bisection_optimum, comm_min_power, initial_condition, sca
from isac_envs.device_free_localization import model
from isac_envs.device_free_localization.env import DeviceFreeLocalizationEnv
from isac_envs.device_free_localization.model import PARAM_BOUNDS, Params, evaluate, sample_instance, validate_instance

SOLVERS = {"sca": sca.solve, "bisection_optimum": bisection_optimum.solve,
           "initial_condition": initial_condition.solve, "comm_min_power": comm_min_power.solve}


# ----------------------------------------------------------------------------- the reproducers
@pytest.mark.parametrize("name,value", [
    ("rician_k_db", 3100.0), ("bs_antenna_gain_dbi", 1e300), ("ue_antenna_gain_dbi", 1e300),
    ("target_rcs_dbsm", 1e300), ("max_power_dbm", 1e300), ("max_power_dbm", -1e300),
    ("reference_distance_m", 1e300), ("noise_figure_db", -1e300),
    ("num_subcarriers", 10 ** 12), ("num_symbols", 10 ** 12), ("episode_length", 10 ** 12),
    ("hex_radius_m", 1e300), ("noise_temperature_k", 1e-300), ("min_link_distance_m", 1e-300),
    ("si_level_db", 1e300), ("power_dynamic_range_db", 1e300), ("noise_figure_db", True),
    ("max_power_dbm", "46"),
])
def test_reproducer_is_a_clear_error_naming_the_field(name, value):
    with pytest.raises(ValueError, match=name):
        Params(**{name: value})
    with pytest.raises(ValueError, match=name):  # gym.make path: the same error, not one about Decision
        DeviceFreeLocalizationEnv(**{name: value})


def test_every_numeric_field_has_documented_bounds():
    assert set(PARAM_BOUNDS) == set(Params.field_names()) - {"num_bs"}
    for name, (lo, hi, _, unit) in PARAM_BOUNDS.items():
        assert lo < hi and unit
        if name.endswith(("_db", "_dbm", "_dbi", "_dbsm")):
            assert -300 <= lo and hi <= 300


def test_bounds_are_inclusive_where_documented():
    p = Params(max_power_dbm=80.0, noise_figure_db=0.0, rician_k_db=-50.0, episode_length=1_000_000)
    assert p.max_power_dbm == 80.0
    with pytest.raises(ValueError, match="max_power_dbm"):
        Params(max_power_dbm=80.0 + 1e-9)


def test_target_step_must_fit_in_the_hexagon():
    a = Params().apothem_m
    Params(target_speed_mps=a / 0.5, slot_duration_s=0.5)  # exactly one apothem per slot: accepted
    with pytest.raises(ValueError, match="target_speed_mps"):
        Params(target_speed_mps=1.01 * a / 0.5, slot_duration_s=0.5)


# ----------------------------------------------------------------------------- finite everywhere in the box
def _corner(draw_lo: dict) -> dict:
    """Params overrides with each named field at its low (True) or high (False) bound."""
    out = {}
    for name, lo_side in draw_lo.items():
        lo, hi, lo_open, _ = PARAM_BOUNDS[name]
        v = (lo * (1 + 1e-9) + (1e-12 if lo == 0 else 0) if lo_open else lo) if lo_side else hi
        out[name] = int(v) if isinstance(getattr(Params(), name), int) else float(v)
    return out


_PHYSICS = [n for n in PARAM_BOUNDS if n not in ("episode_length", "num_symbols", "num_subcarriers",
                                                 "hex_radius_m", "comm_radius_m", "min_ue_distance_m")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_PHYSICS), st.booleans(), min_size=1, max_size=12),
       st.integers(0, 2 ** 31 - 1))
def test_params_corners_give_finite_env_and_solver_outputs(fields, seed):
    try:
        params = Params(**_corner(fields))
    except ValueError as exc:  # only the documented cross-field rule may reject a corner
        assert "target_speed_mps" in str(exc)
        return
    env = DeviceFreeLocalizationEnv(params=params, episode_length=3)
    obs, info = env.reset(seed=seed)
    assert np.isfinite(obs).all()
    for a in (np.ones(3), -np.ones(3), np.array([1.0, -1.0, 0.3])):
        obs, reward, _, _, info = env.step(a.astype(np.float32))
        assert np.isfinite(obs).all() and np.isfinite(reward) and np.isfinite(info["objective"])
        assert all(np.isfinite(v) for v in info["metrics"].values())
    inst = sample_instance(env.params, np.random.default_rng(seed))
    for name in ("bisection_optimum", "comm_min_power", "initial_condition"):
        d = SOLVERS[name](env.params, inst)
        ev = evaluate(env.params, inst, d)
        assert np.isfinite(d.tx_power_w).all() and np.isfinite(ev.objective), name


def test_size_extremes_run():
    env = DeviceFreeLocalizationEnv(num_subcarriers=100_000, num_symbols=100_000, hex_radius_m=1e5,
                                    comm_radius_m=1e5, min_ue_distance_m=1e-3, episode_length=2)
    obs, _ = env.reset(seed=0)
    obs, r, *_ = env.step(np.zeros(3, np.float32))
    assert np.isfinite(obs).all() and np.isfinite(r)


# ----------------------------------------------------------------------------- validate_instance
def _bad_instances():
    inst = sample_instance(Params(), np.random.default_rng(0))
    nan_gain = inst.echo_gain.copy()
    nan_gain[1, 2] = np.nan
    return [
        ("comm_gain", dataclasses.replace(inst, comm_gain=np.ones((4, 4))), r"shape \(3, 3\).*\(4, 4\)"),
        ("ue_positions_m", dataclasses.replace(inst, ue_positions_m=np.ones(9)), r"shape \(3, 3\).*\(9,\)"),
        ("echo_gain", dataclasses.replace(inst, echo_gain=nan_gain), r"non-finite.*\[\[1, 2\]\]"),
        ("target_heading_rad", dataclasses.replace(inst, target_heading_rad=float("inf")), "non-finite"),
        ("si_gain", dataclasses.replace(inst, si_gain=-inst.si_gain), ">= 0"),
        ("bs_positions_m", dataclasses.replace(inst, bs_positions_m=2 * inst.bs_positions_m), "other Params"),
    ]


@pytest.mark.parametrize("field,bad,match", _bad_instances(), ids=lambda x: x if isinstance(x, str) else "")
def test_validate_instance_names_the_field(field, bad, match):
    with pytest.raises(ValueError, match=f"Instance.{field}.*{match}"):
        validate_instance(Params(), bad)
    for name, solve in SOLVERS.items():
        with pytest.raises(ValueError, match=f"Instance.{field}"):
            solve(Params(), bad)
    env = DeviceFreeLocalizationEnv()
    with pytest.raises(ValueError, match=f"Instance.{field}"):
        env.reset(seed=0, options={"instance": bad})


def test_instance_of_other_params_is_rejected():
    inst = sample_instance(Params(hex_radius_m=300.0), np.random.default_rng(1))
    with pytest.raises(ValueError, match="bs_positions_m.*hex_radius_m"):
        DeviceFreeLocalizationEnv().reset(seed=0, options={"instance": inst})
    validate_instance(Params(hex_radius_m=300.0), inst)  # its own params: fine


def test_valid_instances_pass():
    for seed in range(5):
        validate_instance(model.Params(), sample_instance(model.Params(), np.random.default_rng(seed)))
    with pytest.raises(TypeError, match="Instance"):
        validate_instance(Params(), "nope")
