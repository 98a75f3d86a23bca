"""multi_uav_isac hardening (issue 9): documented Params bounds with finite outputs everywhere inside
them, Instance validation in every solver and in reset, no warnings from the power solvers at
theta1 = 0 or 1."""

import dataclasses
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baselines.multi_uav_isac import POLICIES, aibot, nearest_equal, power, reference, voronoi_iwf
from isac_envs.core import load_config
from isac_envs.multi_uav_isac import model
from isac_envs.multi_uav_isac.env import MultiUAVISACEnv
from isac_envs.multi_uav_isac.model import FLOAT_BOUNDS, INT_BOUNDS, Params

SMALL = load_config(Params, "multi_uav_isac", "small")


# --------------------------------------------------------------------------- Params bounds
def test_every_field_has_a_documented_range():
    assert set(FLOAT_BOUNDS) | set(INT_BOUNDS) == set(Params.field_names())
    assert not set(FLOAT_BOUNDS) & set(INT_BOUNDS)
    for name, (lo, hi, _) in FLOAT_BOUNDS.items():
        assert lo < hi and math.isfinite(hi), name
        assert name in (Params.__doc__ or "") or "FLOAT_BOUNDS" in Params.__doc__


@pytest.mark.parametrize("field", ["slot_duration_s", "hotspot_std_m", "uav_speed_mps"])
def test_issue9_overflow_reproducers_are_clear_errors(field):
    """Issue 9 item 5: these passed validation and then raised OverflowError in reset/step."""
    with pytest.raises(ValueError, match=field):
        MultiUAVISACEnv(config="small", **{field: 1e300})


@pytest.mark.parametrize("field,value", [("num_bs", 10**12), ("num_uavs", 10**12), ("num_slots", 10**12),
                                         ("num_hotspots", 10**12), ("upa_nx", 10**6), ("upa_ny", 10**6),
                                         ("num_uavs", 1e20), ("num_bs", "3"), ("num_uavs", True)])
def test_size_fields_capped(field, value):
    """Issue 9 item 7: huge sizes are refused before anything is allocated."""
    with pytest.raises(ValueError, match=field):
        SMALL.replace(**{field: value})


def test_uav_bs_pair_cap():
    SMALL.replace(num_bs=1024, num_uavs=4095)            # 2**22 pairs: accepted
    with pytest.raises(ValueError, match="num_uavs"):
        SMALL.replace(num_bs=1024, num_uavs=4096)


@pytest.mark.parametrize("field", sorted(FLOAT_BOUNDS))
def test_float_bounds_enforced_and_named(field):
    lo, hi, lo_open = FLOAT_BOUNDS[field]
    for bad in (hi * 1.001 + 1e-9, float("nan"), float("inf"), True, "1.0"):
        with pytest.raises(ValueError, match=field):
            SMALL.replace(**{field: bad})
    below = lo if lo_open else (lo - max(abs(lo) * 1e-3, 1e-3))
    with pytest.raises(ValueError, match=field):
        SMALL.replace(**{field: below})


#: where a range end cannot be reached alone (a cross-field rule ties it to other fields): the
#: smallest change of those fields that reaches it (or comes as close as the rule allows)
_TIED = {
    ("p_min_w", "hi"): {"p_min_w": 1e6 / 10, "p_max_w": 1e6, "p_total_w": 1e6},
    ("p_max_w", "lo"): {"p_min_w": 1e-9, "p_max_w": 2e-9},
    ("p_total_w", "lo"): {"p_min_w": 1e-9, "p_total_w": 1e-8},
    ("uav_alt_min_m", "lo"): {"bs_height_m": 0.0, "uav_alt_min_m": 1.0},
    ("uav_alt_min_m", "hi"): {"uav_alt_min_m": 1e5 - 101, "uav_alt_max_m": 1e5},
    ("uav_alt_max_m", "lo"): {"bs_height_m": 0.0, "uav_alt_min_m": 1.0, "uav_alt_max_m": 102.0},
    ("bs_height_m", "hi"): {"bs_height_m": 1e4, "uav_alt_min_m": 1e4 + 1, "uav_alt_max_m": 1e4 + 200},
    ("area_size_m", "lo"): {"area_size_m": 10.0, "noncoop_speed_mps": 10.0},
    ("noncoop_speed_mps", "hi"): {"noncoop_speed_mps": 1000.0, "area_size_m": 1200.0},
    ("slot_duration_s", "hi"): {"slot_duration_s": 3600.0, "noncoop_speed_mps": 0.1},
    ("rho_min", "hi"): {"rho_min": 1e17, "varpi1_m2": 1e6, "crb_floor_range_m2": 1e-12},
    ("crb_floor_range_m2", "hi"): {"crb_floor_range_m2": 1e6, "rho_min": 0.0},
    ("crb_floor_angle_rad2", "hi"): {"crb_floor_angle_rad2": 1e3, "rho_min": 0.0},
    ("varpi1_m2", "lo"): {"varpi1_m2": 1e-12, "rho_min": 0.0},
    ("varpi2_rad2", "lo"): {"varpi2_rad2": 1e-12, "rho_min": 0.0},
}


def _edge_params(field: str, which: str) -> Params:
    """SMALL with one field at an end of its range (the fields tied to it moved to fit)."""
    lo, hi, lo_open = FLOAT_BOUNDS[field]
    value = hi if which == "hi" else (max(lo, 1e-300) if lo_open else lo)
    return SMALL.replace(**_TIED.get((field, which), {field: value}))


def _assert_env_finite(params: Params, steps: int = 2, seed: int = 0):
    env = MultiUAVISACEnv(params=params)
    env.action_space.seed(seed)
    obs, info = env.reset(seed=seed)
    assert np.all(np.isfinite(obs))
    for _ in range(min(steps, params.num_slots)):
        obs, r, term, _, info = env.step(env.action_space.sample())
        assert np.all(np.isfinite(obs)) and math.isfinite(r) and math.isfinite(info["objective"])
        if term:
            break
    return info["instance"]


def _assert_solvers_finite(params: Params, inst):
    for dec in (voronoi_iwf.solve(params, inst), voronoi_iwf.solve(params, inst, sensing="min"),
                nearest_equal.solve(params, inst), aibot.solve(params, inst, n_samples=100, T1=5, T3=2),
                aibot.solve(params, inst, n_samples=100, T1=5, T3=2, power="kkt")):
        ev = model.evaluate(params, inst, dec)
        assert math.isfinite(ev.penalised(params.penalty))
        assert np.all(np.isfinite(model.encode_action(params, dec)))


@pytest.mark.parametrize("which", ["lo", "hi"])
@pytest.mark.parametrize("field", sorted(FLOAT_BOUNDS))
def test_every_float_edge_gives_finite_env_and_solvers(field, which):
    params = _edge_params(field, which)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no overflow/divide RuntimeWarning either
        inst = _assert_env_finite(params)
        _assert_solvers_finite(params, inst)


@pytest.mark.parametrize("changes", [
    # strongest channel the bounds allow: low carrier, tiny noise, huge RCS / dwell / array, UAVs 1 m above
    dict(carrier_freq_hz=1e8, noise_psd_w_per_hz=1e-25, rcs_coop_m2=1e4, rcs_noncoop_m2=1e4, sensing_time_s=10.0,
         upa_nx=256, upa_ny=256, bs_height_m=0.0, uav_alt_min_m=1.0, uav_alt_max_m=102.0, area_size_m=10.0,
         hotspot_std_m=1.0, hotspot_std_z_m=0.1, p_max_w=1e6, p_total_w=1e6, p_min_w=1e-9, bandwidth_hz=1e3,
         noncoop_speed_mps=10.0, rate_min_bps=1e12, rho_min=1.99),
    # weakest: 1 THz, loud noise, tiny targets far away, nanowatts, unreachable QoS
    dict(carrier_freq_hz=1e12, noise_psd_w_per_hz=1e-10, rcs_coop_m2=1e-6, rcs_noncoop_m2=1e-6, sensing_time_s=1e-9,
         bs_height_m=0.0, uav_alt_min_m=9e4, uav_alt_max_m=1e5, area_size_m=1e6, hotspot_std_m=1e6,
         hotspot_std_z_m=1e5, p_max_w=1e-8, p_total_w=1e-6, p_min_w=1e-9, bandwidth_hz=1e11, rate_min_bps=1e12,
         rho_min=1.9, theta1=0.0),
])
def test_extreme_corners_finite(changes):
    params = SMALL.replace(**changes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _assert_solvers_finite(params, _assert_env_finite(params, steps=3))


def _field_value(name: str):
    if name in INT_BOUNDS:
        lo, _ = INT_BOUNDS[name]
        return st.integers(lo, {"num_bs": 6, "num_uavs": 8, "num_slots": 6, "num_hotspots": 5}.get(name, 16))
    lo, hi, lo_open = FLOAT_BOUNDS[name]
    if lo > 0:
        return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: min(max(10.0**e, lo), hi))
    return st.one_of(st.just(0.0 if not lo_open else 1e-300), st.floats(0.0, hi, exclude_min=lo_open),
                     st.floats(-12, math.log10(hi)).map(lambda e: 10.0**e))


@st.composite
def _overrides(draw):
    names = draw(st.lists(st.sampled_from(Params.field_names()), min_size=1, max_size=6, unique=True))
    return {n: draw(_field_value(n)) for n in names}


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_overrides())
def test_property_params_overrides_finite_or_named_error(changes):
    """Generated overrides inside the documented ranges either build a Params whose env and solvers give
    finite numbers, or fail a cross-field rule with a ValueError naming one of the fields involved."""
    try:
        params = SMALL.replace(**changes)
    except ValueError as exc:
        assert any(name in str(exc) for name in Params.field_names())
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _assert_solvers_finite(params, _assert_env_finite(params))


# --------------------------------------------------------------------------- Instance validation
def _other_size_instance():
    other = SMALL.replace(num_uavs=20, num_bs=5)
    return model.sample_instance(other, np.random.default_rng(0))


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_registered_solver_rejects_instance_of_other_size(name):
    """Issue 9 item 6: ``aibot`` died with 'index 15 is out of bounds'; now a ValueError naming the field."""
    spec = POLICIES[name]
    solve = spec.load()
    with pytest.raises(ValueError, match=r"Instance\.\w+ must have shape"):
        solve(SMALL, _other_size_instance(), **spec.options)


@pytest.mark.parametrize("fn", [power.power_kkt, power.power_pga])
def test_power_solvers_reject_instance_of_other_size(fn):
    with pytest.raises(ValueError, match="Instance.bs_pos"):
        fn(SMALL, _other_size_instance(), np.zeros(5, np.int64))
    with pytest.raises(ValueError, match="Instance"):
        power.solve(SMALL, _other_size_instance())
    with pytest.raises(ValueError, match="Instance"):
        reference.solve(SMALL, _other_size_instance())


def test_reset_rejects_instance_of_other_size_nan_and_wrong_type():
    env = MultiUAVISACEnv(config="small")
    with pytest.raises(ValueError, match=r"Instance\.bs_pos must have shape \(3, 3\).*got \(5, 3\)"):
        env.reset(options={"instance": _other_size_instance()})
    good = model.sample_instance(SMALL, np.random.default_rng(1))
    bad = dataclasses.replace(good, gain_sense=np.where(np.eye(5, 3) > 0, np.nan, good.gain_sense))
    with pytest.raises(ValueError, match="Instance.gain_sense has non-finite"):
        env.reset(options={"instance": bad})
    with pytest.raises(ValueError, match="Instance.gain_comm must be >= 0"):
        env.reset(options={"instance": dataclasses.replace(good, gain_comm=-good.gain_comm)})
    with pytest.raises(ValueError, match="uav_cluster"):
        env.reset(options={"instance": dataclasses.replace(good, uav_cluster=good.uav_cluster + 7)})
    with pytest.raises(ValueError, match="slot"):
        env.reset(options={"instance": dataclasses.replace(good, slot=5)})
    with pytest.raises(TypeError, match="Instance"):
        model.validate_instance(SMALL, {"bs_pos": good.bs_pos})
    obs, _ = env.reset(options={"instance": good})     # a valid instance still replays
    assert np.array_equal(obs, model.observe(SMALL, good))


def test_validate_instance_accepts_every_sampled_and_advanced_instance():
    rng = np.random.default_rng(3)
    for params in (SMALL, Params()):
        inst = model.sample_instance(params, rng)
        for _ in range(params.num_slots - 1):
            model.validate_instance(params, inst)
            inst = model.advance_instance(params, inst, rng)
        model.validate_instance(params, inst)


# --------------------------------------------------------------------------- power solvers at theta1 = 0, 1
@pytest.mark.parametrize("theta1", [0.0, 1.0])
def test_power_solvers_warning_free_at_theta1_edges(theta1):
    """Issue 9 item 17: divide-by-zero / invalid warnings from power.py at theta1 0 or 1."""
    params = SMALL.replace(theta1=theta1)
    inst = model.sample_instance(params, np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decs = {"kkt": aibot.solve(params, inst, power="kkt"), "pga": aibot.solve(params, inst),
                "exhaustive": reference.exhaustive(params, inst), "local": reference.local_search(params, inst)}
    scores = {k: model.evaluate(params, inst, d).penalised(params.penalty) for k, d in decs.items()}
    assert scores["exhaustive"] >= max(scores.values()) - 1e-9
    if theta1 == 1.0:
        # sensing has zero weight: on every BS whose budget binds, exact KKT keeps the radar streams at
        # their (C5) lower bounds and gives the rest of the budget to the comm links
        lm = power.link_model(params, inst, decs["kkt"].assoc)
        p = power.solve_kkt(lm)
        binding = ~lm.is_comm & (lm.group_sum(lm.ub) > params.p_total_w)[lm.group]
        assert binding.any() and np.allclose(p[binding], lm.lb[binding])


def test_subnormal_sensing_weight_raises_no_warning():
    """theta2 = 2.2e-309 (found by hypothesis 6.170 in CI) made the KKT Newton slope of the radar
    links vanish: an overflow warning in power.py; now finite powers and no warning."""
    params = SMALL.replace(theta2=2.225073858507203e-309)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _assert_solvers_finite(params, _assert_env_finite(params))
