"""cell_free_sat_uav model: Params validation, sampling, evaluate by hand, back-off, bad input."""

import dataclasses

import numpy as np
import pytest

from isac_envs.cell_free_sat_uav import model as m
from isac_envs.cell_free_sat_uav.model import Decision, Params
from isac_envs.core import load_config
from isac_envs.physics.itu import fspl_p525_db

SMALL = load_config(Params, "cell_free_sat_uav", "small")


@pytest.mark.parametrize("field,value", [
    ("num_uavs", 0), ("num_groups", 0), ("users_per_group", 1.5), ("num_sat_users", -1), ("num_subchannels", True),
    ("fading_samples", 0), ("max_power_w", 0.0), ("max_power_w", float("nan")), ("total_hover_time_s", -1.0),
    ("comm_energy_total_j", float("inf")), ("noise_dbm", float("nan")), ("interference_threshold_dbm", float("inf")),
    ("group_radius_m", -1.0), ("penalty", -0.1), ("los_b", 0.0), ("objective_mode", "mean"),
    ("region_size_m", 3000.0), ("uav_altitude_m", 1.0), ("shadow_std_los_db", -3.0),
])
def test_params_reject_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        Params(**{field: value})


def test_params_unknown_key_and_roundtrip():
    with pytest.raises(ValueError, match="bogus"):
        Params.from_dict({"bogus": 1})
    p = Params(num_uavs=9, objective_mode="maxmin")
    assert Params.from_dict(p.to_dict()) == p
    assert p.energy_per_uav_j == pytest.approx(60.0 / 9)
    assert p.noise_w == pytest.approx(10 ** (-134 / 10))
    assert p.interference_threshold_w == pytest.approx(1e-14)


def test_small_config_values():
    assert (SMALL.num_groups, SMALL.users_per_group, SMALL.num_uavs, SMALL.num_subchannels) == (2, 2, 3, 4)
    assert m.observation_dim(SMALL) == 48 and m.action_dim(SMALL) == 21
    assert m.observation_dim(Params()) == 319 and m.action_dim(Params()) == 81


def test_sample_instance_shapes_determinism_and_geometry():
    p = Params()
    a = m.sample_instance(p, np.random.default_rng(7))
    b = m.sample_instance(p, np.random.default_rng(7))
    assert a == b
    assert a != m.sample_instance(p, np.random.default_rng(8))
    N, K, M, J, L = 4, 4, 6, 16, 8
    assert a.gain_user.shape == (N, K, M, L) and a.gain_sat.shape == (N, J, M, L)
    assert a.fading.shape == (N, K, L, 64, 2, M) and a.fading.dtype == np.complex128
    assert a.sat_subchannel.dtype == np.int64
    # balanced satellite scheduling: every subchannel carries J/L = 2 satellite users in every slot
    for n in range(N):
        assert np.all(np.bincount(a.sat_subchannel[n], minlength=L) == 2)
    # group separation, users in their disc, UAVs on the ring at altitude
    c = a.group_center
    dmin = min(np.hypot(*(c[i] - c[j])) for i in range(N) for j in range(i))
    assert dmin >= p.group_min_separation_m
    assert np.all(np.hypot(*(a.user_pos[..., :2] - c[:, None]).transpose(2, 0, 1)) <= p.group_radius_m + 1e-9)
    assert np.allclose(np.hypot(*(a.uav_pos[..., :2] - c[:, None]).transpose(2, 0, 1)), p.swarm_radius_m)
    assert np.all(a.uav_pos[..., 2] == p.uav_altitude_m)


def test_gain_matches_p525_plus_excess_and_proxy_jensen():
    p = Params()
    inst = m.sample_instance(p, np.random.default_rng(3))
    # PL - (FSPL + gas) = excess + shadowing of the link: common to every subchannel (S4)
    n, k, mm = 0, 0, 0
    d = np.linalg.norm(inst.uav_pos[n, mm] - inst.user_pos[n, k])
    f = m.subchannel_freqs_hz(p)
    pl = -10 * np.log10(inst.gain_user[n, k, mm])
    base = fspl_p525_db(d, f) + p.gas_atten_db_per_km * d / 1e3
    excess = pl - base                           # = eta + shadowing, the same on every subchannel
    assert np.allclose(excess, excess[0], atol=1e-9)
    # proxy: FSPL + gas + P_LoS eta_LoS + (1-P_LoS) eta_NLoS (no shadowing), between the two excess losses
    pl_proxy = -10 * np.log10(inst.gain_user_proxy[n, k, mm]) - base
    assert np.all(pl_proxy >= p.excess_los_db - 1e-9) and np.all(pl_proxy <= p.excess_nlos_db + 1e-9)
    # frequency dependence: higher subchannel -> more loss by 20 log10(f_l / f_0)
    assert pl[-1] - pl[0] == pytest.approx(20 * np.log10(f[-1] / f[0]))


def _single_link_params(**kw):
    base = dict(num_uavs=1, num_groups=1, users_per_group=1, num_sat_users=1, num_subchannels=1, fading_samples=8,
                num_rx_antennas=1)
    base.update(kw)
    return Params(**base)


def test_evaluate_single_link_by_hand():
    p = _single_link_params()
    inst = m.sample_instance(p, np.random.default_rng(0))
    pw, T = 0.05, 100.0
    d = Decision(np.array([[0]]), np.array([[[pw]]]), np.array([T]))
    ev = m.evaluate(p, inst, d)
    snr = inst.gain_user[0, 0, 0, 0] * pw / p.noise_w
    w = inst.fading[0, 0, 0, :, 0, 0]
    rate = np.mean(np.log2(1 + snr * np.abs(w) ** 2))
    assert ev.objective == pytest.approx(T / p.total_hover_time_s * rate, rel=1e-12)
    assert ev.metrics["efficiency_min"] == pytest.approx(ev.objective)
    interf = inst.gain_sat[0, 0, 0, 0] * pw
    expected_c5 = max(0.0, np.log10(interf / p.interference_threshold_w))
    assert ev.violations["interference"] == pytest.approx(expected_c5)
    assert ev.metrics["interference_margin_db_max"] == pytest.approx(10 * np.log10(interf / p.interference_threshold_w))
    assert ev.metrics["throughput_mbps"] == pytest.approx(ev.objective)
    assert ev.metrics["mean_link_snr_db"] == pytest.approx(10 * np.log10(snr))


def test_violations_amounts_by_hand():
    p = _single_link_params(num_sat_users=0, comm_energy_total_j=1.0)
    inst = m.sample_instance(p, np.random.default_rng(1))
    d = Decision(np.array([[0]]), np.array([[[0.2]]]), np.array([400.0]))
    v = m.evaluate(p, inst, d).violations
    assert v["total_hover_time"] == pytest.approx(100 / 300)
    assert v["slot_hover_time"] == pytest.approx(280 / 120)
    assert v["energy"] == pytest.approx((400 * 0.2 - 1.0) / 1.0)
    assert v["max_power"] == pytest.approx(1.0)
    assert v["interference"] == 0.0
    neg = Decision(np.array([[0]]), np.array([[[-0.05]]]), np.array([-10.0]))
    ev = m.evaluate(p, inst, neg)
    assert ev.violations["power_nonneg"] == pytest.approx(0.5)
    assert ev.violations["slot_hover_time"] == pytest.approx(10 / 120)
    assert not ev.feasible and ev.objective == 0.0


def test_unused_subchannel_power_is_ignored_and_objective_modes():
    p = Params()
    inst = m.sample_instance(p, np.random.default_rng(2))
    P = np.full((4, 6, 8), 1e-4)
    a = np.zeros((4, 8), np.int64)
    T = np.full(4, 60.0)
    a2 = a.copy()
    a2[:, 3] = -1
    P2 = P.copy()
    P2[:, :, 3] = 5.0                   # huge but ignored: subchannel unused
    ev1 = m.evaluate(p, inst, Decision(a2, P2, T))
    P3 = P.copy()
    P3[:, :, 3] = 0.0
    ev2 = m.evaluate(p, inst, Decision(a2, P3, T))
    assert ev1.objective == ev2.objective and ev1.violations == ev2.violations
    # only user 0 served -> min efficiency 0, sum > 0; maxmin mode objective = min
    ev = m.evaluate(p.replace(objective_mode="maxmin"), inst, Decision(a, P, T))
    assert ev.objective == 0.0 and ev.metrics["efficiency_sum"] > 0
    eff = m.user_efficiency(p, inst, Decision(a, P, T))
    assert eff.shape == (4, 4) and eff[:, 1:].sum() == 0 and eff.sum() == pytest.approx(ev.metrics["efficiency_sum"])


def test_backoff_meets_threshold_exactly_and_only_where_needed():
    p = Params()
    inst = m.sample_instance(p, np.random.default_rng(4))
    a = np.zeros((4, 8), np.int64)
    P = np.full((4, 6, 8), p.max_power_w / 8)
    Pb = m.backoff(p, inst.gain_sat, inst.sat_subchannel, a, P)
    interf = m.interference_w(p, inst.gain_sat, inst.sat_subchannel, Pb)
    assert np.all(interf <= p.interference_threshold_w * (1 + 1e-12))
    scale = Pb[:, 0, :] / P[:, 0, :]
    # each scaled (n, l) has a satellite user exactly at the threshold
    for n, l in zip(*np.nonzero(scale < 1)):
        on = inst.sat_subchannel[n] == l
        assert interf[n, on].max() == pytest.approx(p.interference_threshold_w, rel=1e-9)
    assert np.all(scale <= 1) and np.any(scale == 1) and np.any(scale < 1)


def test_evaluate_rejects_malformed_decisions():
    p = SMALL
    inst = m.sample_instance(p, np.random.default_rng(0))
    good = m.empty_decision(p)
    for bad in (dataclasses.replace(good, assignment=np.zeros((3, 4), np.int64)),
                dataclasses.replace(good, power=np.zeros((2, 3))),
                dataclasses.replace(good, hover_time=np.array([np.nan, 0.0])),
                dataclasses.replace(good, assignment=np.full((2, 4), 2)),
                dataclasses.replace(good, assignment=np.full((2, 4), -2))):
        with pytest.raises(ValueError, match="decision"):
            m.evaluate(p, inst, bad)
    with pytest.raises(TypeError):
        m.evaluate(p, inst, {"assignment": 0})


def test_evaluate_deterministic_and_fast_enough_shapes():
    p = Params()
    inst = m.sample_instance(p, np.random.default_rng(5))
    d = Decision(np.tile(np.arange(8) % 4, (4, 1)), np.full((4, 6, 8), 1e-3), np.full(4, 75.0))
    e1, e2 = m.evaluate(p, inst, d), m.evaluate(p, inst, d)
    assert e1 == e2
    assert set(e1.metrics) == set(m.METRIC_KEYS) and set(e1.violations) == set(m.VIOLATION_KEYS)
    assert 0.0 < e1.metrics["de_rel_error"] < 0.05
