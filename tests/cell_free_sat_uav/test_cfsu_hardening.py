"""cell_free_sat_uav hardening (issue 9): Params bounds, instance validation in every solver and in reset."""

import warnings

import numpy as np
import pytest

from baselines.cell_free_sat_uav import algorithm3, algorithm6, reference, scheme1, scheme2, scheme3
from isac_envs.cell_free_sat_uav import model as m
from isac_envs.cell_free_sat_uav.env import CellFreeSatUAVEnv
from isac_envs.core import load_config

SMALL = load_config(m.Params, "cell_free_sat_uav", "small")
SOLVERS = [algorithm3.solve, algorithm6.solve, scheme1.solve, scheme2.solve, scheme3.solve, reference.solve,
           reference.exhaustive]


@pytest.mark.parametrize("field,value", [("interference_threshold_dbm", -1e300), ("noise_dbm", -1e300),
                                         ("subchannel_bandwidth_hz", 1e300), ("noise_dbm", 1e300),
                                         ("max_power_w", 1e300), ("carrier_freq_hz", 1e300), ("los_b", 1e300)])
def test_issue9_reproducers_rejected_naming_field(field, value):
    # were: ZeroDivisionError (I_th), NaN rewards (noise, bandwidth) on landed main
    with pytest.raises(ValueError, match=field):
        CellFreeSatUAVEnv(config="small", **{field: value})


@pytest.mark.parametrize("field", ["num_uavs", "num_groups", "users_per_group", "num_sat_users", "num_subchannels",
                                   "fading_samples", "num_rx_antennas"])
def test_size_fields_capped(field):
    with pytest.raises(ValueError, match=field):
        m.Params(**{field: 10**12})
    with pytest.raises(ValueError, match=field):
        m.Params(**{field: 1e20})               # a YAML 1e20 is a float: rejected as not an integer
    with pytest.raises(ValueError, match=field):
        m.Params(**{field: True})


def test_size_product_capped_below_memory():
    lo_hi = m.PARAM_BOUNDS
    with pytest.raises(ValueError, match="fading"):        # each field within its own range, the product too big
        m.Params(num_uavs=lo_hi["num_uavs"][1], num_subchannels=256, fading_samples=4096)
    p = m.Params(num_uavs=128)                              # the swarm sizes of the scale benchmark stay accepted
    assert p.num_uavs == 128


@pytest.mark.parametrize("field", sorted(m.PARAM_BOUNDS))
def test_bounds_give_finite_episodes(field):
    """Every field at both ends of its documented range (others at `small`): finite obs, rewards, metrics,
    no RuntimeWarning; values just outside are rejected with the field's name."""
    lo, hi = m.PARAM_BOUNDS[field]
    if field in ("num_uavs", "num_groups", "users_per_group", "num_subchannels", "fading_samples", "num_sat_users",
                 "num_rx_antennas"):
        hi = min(hi, 6)
    for v in (lo, hi):
        try:
            p = SMALL.replace(**{field: v})
        except ValueError as exc:                             # a cross-field rule (e.g. altitude > ground height)
            assert "must" in str(exc) and field in str(exc) or "ground_height_m" in str(exc) or "group_radius_m" in str(exc)
            continue
        env = CellFreeSatUAVEnv(params=p, observation="full")
        rng = np.random.default_rng(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            obs, _ = env.reset(seed=0)
            done = False
            while not done:
                obs, r, done, _, info = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
                assert np.isfinite(obs).all() and np.isfinite(r)
                assert all(np.isfinite(x) for x in info["metrics"].values())
    if isinstance(lo, int):
        outside = (lo - 1, m.PARAM_BOUNDS[field][1] + 1)
    else:
        outside = (lo - max(1.0, abs(lo)), m.PARAM_BOUNDS[field][1] * 10 + 1)
    for v in outside:
        with pytest.raises(ValueError, match=field):
            SMALL.replace(**{field: v})


def _other_size_instance():
    return m.sample_instance(SMALL.replace(num_subchannels=3), np.random.default_rng(0))


@pytest.mark.parametrize("solve", SOLVERS, ids=lambda f: f"{f.__module__.rsplit('.', 1)[-1]}.{f.__name__}")
def test_every_solver_validates_instance(solve):
    # was: IndexError "shape mismatch" deep inside algorithm3/6, scheme2, reference
    with pytest.raises(ValueError, match=r"Instance\.gain_user must have shape \(2, 2, 3, 4\).*\(2, 2, 3, 3\)"):
        solve(SMALL, _other_size_instance())


def test_validate_instance_rejects_nan_and_bad_values():
    inst = m.sample_instance(SMALL, np.random.default_rng(1))
    m.validate_instance(SMALL, inst)
    g = inst.gain_sat.copy()
    g[0, 1, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"gain_sat contains non-finite entries at \[\[0, 1, 2, 3\]\]"):
        m.validate_instance(SMALL, m.Instance(**{**inst.__dict__, "gain_sat": g}))
    with pytest.raises(ValueError, match="gain_user must be >= 0"):
        m.validate_instance(SMALL, m.Instance(**{**inst.__dict__, "gain_user": -inst.gain_user}))
    with pytest.raises(ValueError, match=r"sat_subchannel must hold integers in \[0, 3\]"):
        m.validate_instance(SMALL, m.Instance(**{**inst.__dict__, "sat_subchannel": inst.sat_subchannel + 4}))
    with pytest.raises(TypeError, match="Instance"):
        m.validate_instance(SMALL, "nope")


def test_reset_validates_instance():
    env = CellFreeSatUAVEnv(config="small")
    with pytest.raises(ValueError, match=r"Instance\.gain_user must have shape"):
        env.reset(options={"instance": _other_size_instance()})
    inst = m.sample_instance(SMALL, np.random.default_rng(2))
    f = inst.fading.copy()
    f[0, 0, 0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="fading contains non-finite"):
        env.reset(options={"instance": m.Instance(**{**inst.__dict__, "fading": f})})
