"""device_free_localization model: Params validation, golden vector, sampling, mobility, evaluate."""

import dataclasses
import math

import numpy as np
import pytest

from isac_envs.core import load_config
from isac_envs.device_free_localization import model
from isac_envs.device_free_localization.model import (
    Decision,
    Params,
    advance_instance,
    evaluate,
    instance_from_state,
    sample_instance,
)
from isac_envs.physics.geometry import in_hexagon
from isac_envs.physics.units import SPEED_OF_LIGHT_MPS

P = Params()


def golden_instance(params=P):
    """Spec Sec. 5 golden vector: UEs 60 m in front of each BS, target (30, -20), unit fading."""
    bs, psi = params.bs_positions_m, params.bs_boresight_rad
    ue_xy = bs[:, :2] + 60.0 * np.stack([np.cos(psi), np.sin(psi)], axis=1)
    ue = np.column_stack([ue_xy, np.full(3, 1.5)])
    return instance_from_state(params, ue, [30.0, -20.0, 1.5], 0.0, np.ones((3, 3)), np.ones((3, 3)))


def db(x):
    return 10 * np.log10(x)


# ----------------------------------------------------------------------------- Params
def test_derived_constants_match_spec():
    assert P.bandwidth_hz == pytest.approx(98.28e6)
    assert db(P.noise_power_w * 1e3) == pytest.approx(-87.05, abs=0.005)
    assert P.max_power_w == pytest.approx(39.81, abs=0.005)
    assert db(P.processing_gain) == pytest.approx(46.6, abs=0.05)
    assert P.range_resolution_m == pytest.approx(1.525, abs=5e-4)
    assert P.wavelength_m == pytest.approx(SPEED_OF_LIGHT_MPS / 3.5e9)
    assert P.comm_threshold_lin == pytest.approx(10.0)
    # BSs on alternate hexagon vertices 90, 210, 330 deg; boresight towards the origin
    np.testing.assert_allclose(P.bs_positions_m[0], [0.0, 250.0, 25.0], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(P.bs_positions_m[0, :2] - P.bs_positions_m[1, :2]), 250 * math.sqrt(3))
    np.testing.assert_allclose(np.rad2deg(P.bs_boresight_rad), [270.0, 30.0, 150.0])


BAD_FIELDS = [
    ("num_bs", 4), ("num_bs", 3.0),
    ("hex_radius_m", 0.0), ("hex_radius_m", float("nan")),
    ("comm_radius_m", -1.0), ("comm_radius_m", 300.0),          # > R
    ("min_ue_distance_m", 0.0), ("min_ue_distance_m", 100.0),   # not < R_c
    ("min_link_distance_m", 0.0), ("bs_height_m", -25.0),
    ("ue_height_m", -1.0), ("target_height_m", float("inf")),
    ("sector_width_deg", 0.0), ("sector_width_deg", 121.0),
    ("bs_antenna_gain_dbi", float("nan")), ("ue_antenna_gain_dbi", float("inf")),
    ("carrier_frequency_hz", 0.0), ("subcarrier_spacing_hz", -30e3),
    ("num_subcarriers", 0), ("num_subcarriers", 12.5), ("num_symbols", 0),
    ("noise_figure_db", float("nan")), ("noise_temperature_k", 0.0),
    ("max_power_dbm", float("inf")), ("si_level_db", float("nan")),
    ("comm_sinr_threshold_db", float("nan")), ("rician_k_db", float("-inf")),
    ("comm_pathloss_exponent", 0.0), ("reference_distance_m", -1.0),
    ("target_rcs_dbsm", float("nan")), ("range_std_cap_m", 0.0),
    ("target_speed_mps", -1.0), ("target_heading_std_deg", -5.0),
    ("slot_duration_s", 0.0), ("episode_length", 0), ("episode_length", True),
    ("penalty", -2.0), ("power_dynamic_range_db", 0.0),
]


@pytest.mark.parametrize("name,value", BAD_FIELDS)
def test_invalid_params_raise_naming_field(name, value):
    with pytest.raises(ValueError, match=name):
        Params(**{name: value})


def test_every_field_has_a_bad_value_test():
    assert {n for n, _ in BAD_FIELDS} == set(Params.field_names())


def test_yaml_configs_and_unknown_key(tmp_path):
    assert load_config(Params, model.SYSTEM, "paper") == Params()
    assert load_config(Params, model.SYSTEM, "small") == Params(episode_length=8)
    bad = tmp_path / "bad.yaml"
    bad.write_text("episode_length: 8\nnum_bss: 3\n")
    with pytest.raises(ValueError, match="num_bss"):
        load_config(Params, model.SYSTEM, bad)


# ----------------------------------------------------------------------------- golden vector (Sec. 5)
def test_golden_gains():
    inst = golden_instance()
    np.testing.assert_allclose(inst.ue_positions_m[:, :2], [[0, 190], [-164.545, -95], [164.545, -95]], atol=1e-3)
    # comm diagonal: spec prints -83.790 dB; the formula (S1) gives -83.7865 (the J/SINR rows below match to 1e-6)
    np.testing.assert_allclose(db(np.diagonal(inst.comm_gain)), -83.79, atol=0.005)
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(db(inst.comm_gain[off]), -103.14, atol=0.005)
    np.testing.assert_allclose(db(inst.bs_bs_gain[off]), -99.70, atol=0.005)
    assert np.all(np.diagonal(inst.bs_bs_gain) == 0.0)
    np.testing.assert_allclose(db(np.diagonal(inst.echo_gain)), [-132.20, -131.97, -128.10], atol=0.005)
    assert db(inst.echo_gain[0, 1]) == pytest.approx(-132.09, abs=0.005)
    assert db(inst.echo_gain[0, 2]) == pytest.approx(-130.15, abs=0.005)
    np.testing.assert_allclose(inst.echo_gain, inst.echo_gain.T)  # bistatic legs are reciprocal


def test_golden_ic():
    ev = evaluate(P, golden_instance(), Decision(np.full(3, P.max_power_w)))
    m = ev.metrics
    assert ev.objective == pytest.approx(-0.307585, rel=1e-5)
    np.testing.assert_allclose([m[f"range_std_m_{b}"] for b in range(3)], [0.307585, 0.299274, 0.191809], rtol=1e-5)
    np.testing.assert_allclose([m[f"sensing_sinr_eff_db_{b}"] for b in range(3)], [10.8969, 11.1348, 14.9988],
                               atol=1e-4)
    np.testing.assert_allclose([m[f"comm_sinr_db_{b}"] for b in range(3)], [16.3337, 16.3336, 16.3320], atol=1e-4)
    assert ev.feasible and ev.violations == {"c1_comm_sinr": 0.0, "c2_power_box": 0.0}


def test_golden_unequal_powers():
    ev = evaluate(P, golden_instance(), Decision(P.max_power_w * np.array([0.5, 0.25, 1.0])))
    assert ev.objective == pytest.approx(-0.510638, rel=1e-5)
    np.testing.assert_allclose([ev.metrics[f"range_std_m_{b}"] for b in range(3)], [0.342395, 0.510638, 0.121759],
                               rtol=1e-5)


# ----------------------------------------------------------------------------- evaluate by hand
def test_evaluate_against_hand_formulas():
    inst = sample_instance(P, np.random.default_rng(3))
    p = np.array([20.0, 5.0, 39.0])
    n = P.noise_power_w
    gc = inst.comm_gain + inst.target_ue_gain
    ev = evaluate(P, inst, Decision(p))
    for j in range(3):
        sinr_c = p[j] * gc[j, j] / (sum(p[b] * gc[b, j] for b in range(3) if b != j) + n)
        assert ev.metrics[f"comm_sinr_db_{j}"] == pytest.approx(db(sinr_c), abs=1e-9)
    for b in range(3):
        interf = sum(p[k] * (inst.echo_gain[k, b] + inst.bs_bs_gain[k, b]) for k in range(3) if k != b)
        gamma = P.processing_gain * p[b] * inst.echo_gain[b, b] / (interf + p[b] * inst.si_gain[b] + n)
        std = P.range_resolution_m / math.sqrt(2 * gamma)
        assert ev.metrics[f"range_std_m_{b}"] == pytest.approx(std, rel=1e-12)
        assert ev.metrics[f"sensing_int_si_dbm_{b}"] == pytest.approx(db(p[b] * 1e3) + P.si_level_db)
    assert ev.objective == pytest.approx(-max(ev.metrics[f"range_std_m_{b}"] for b in range(3)))
    assert ev.metrics["range_std_mean_m"] == pytest.approx(np.mean([ev.metrics[f"range_std_m_{b}"] for b in range(3)]))
    assert ev.metrics["total_power_w"] == pytest.approx(p.sum())


def test_zero_power_hits_cap_and_violations():
    inst = golden_instance()
    ev = evaluate(P, inst, Decision(np.array([0.0, P.max_power_w, P.max_power_w])))
    assert ev.metrics["range_std_m_0"] == P.range_std_cap_m and ev.objective == -P.range_std_cap_m
    assert ev.metrics["tx_power_dbm_0"] == -300.0
    assert ev.violations["c1_comm_sinr"] == pytest.approx(1.0)  # UE 0 gets nothing: shortfall 1
    assert not ev.feasible
    ev2 = evaluate(P, inst, Decision(np.array([2 * P.max_power_w, -P.max_power_w, P.max_power_w])))
    assert ev2.violations["c2_power_box"] == pytest.approx(2.0)  # 1 over + 1 under, in units of P_max


def test_si_raises_range_std_monotonically():
    inst = sample_instance(P, np.random.default_rng(0))
    d = Decision(np.full(3, P.max_power_w))
    stds = [-evaluate(P, dataclasses.replace(inst, si_gain=np.full(3, 10 ** (si / 10))), d).objective
            for si in (-130, -110, -90, -70)]
    assert np.all(np.diff(stds) > 0)


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan, 1.0]), np.array([1.0, np.inf, 1.0]), np.ones(4)])
def test_evaluate_rejects_bad_decisions(bad):
    with pytest.raises(ValueError, match="tx_power_w"):
        evaluate(P, golden_instance(), Decision(bad))


# ----------------------------------------------------------------------------- sampling and mobility
def test_sample_follows_normative_draw_order():
    rng = np.random.default_rng(11)
    inst = sample_instance(P, rng)
    r2 = np.random.default_rng(11)
    r = np.sqrt(r2.uniform(P.min_ue_distance_m ** 2, P.comm_radius_m ** 2, size=3))
    phi = P.bs_boresight_rad + r2.uniform(-np.pi / 3, np.pi / 3, size=3)
    a = P.hex_radius_m * math.sqrt(3) / 2
    while True:
        xy = r2.uniform([-a, -P.hex_radius_m], [a, P.hex_radius_m])
        if in_hexagon(xy, a, 0.0):
            break
    heading = r2.uniform(0, 2 * np.pi)
    k = 10 ** 0.9
    fad = []
    for _ in range(2):
        ph, re, im = r2.uniform(0, 2 * np.pi, (3, 3)), r2.standard_normal((3, 3)), r2.standard_normal((3, 3))
        fad.append(np.abs(np.sqrt(k / (k + 1)) * np.exp(1j * ph) + np.sqrt(1 / (k + 1)) * (re + 1j * im) / np.sqrt(2)) ** 2)
    np.testing.assert_allclose(inst.ue_positions_m[:, :2],
                               P.bs_positions_m[:, :2] + r[:, None] * np.stack([np.cos(phi), np.sin(phi)], 1))
    np.testing.assert_allclose(inst.target_position_m, [*xy, 1.5])
    assert inst.target_heading_rad == heading
    np.testing.assert_allclose(inst.comm_fading, fad[0])
    upper = np.triu(fad[1], 1)
    np.testing.assert_allclose(inst.bs_bs_fading, upper + upper.T)
    assert rng.random() == r2.random()  # both generators consumed exactly the same draws


def test_ues_in_sector_and_hexagon():
    a = P.apothem_m
    for s in range(200):
        inst = sample_instance(P, np.random.default_rng(s))
        assert in_hexagon(inst.ue_positions_m[:, :2], a).all()
        rel = inst.ue_positions_m[:, :2] - P.bs_positions_m[:, :2]
        dist = np.linalg.norm(rel, axis=1)
        assert np.all((dist >= P.min_ue_distance_m - 1e-9) & (dist <= P.comm_radius_m + 1e-9))
        off = np.angle(np.exp(1j * (np.arctan2(rel[:, 1], rel[:, 0]) - P.bs_boresight_rad)))
        assert np.all(np.abs(off) <= np.pi / 3 + 1e-9)


def test_fading_unit_mean_and_reciprocal():
    rng = np.random.default_rng(5)
    insts = [sample_instance(P, rng) for _ in range(400)]
    comm = np.array([i.comm_fading for i in insts])
    assert comm.mean() == pytest.approx(1.0, abs=0.03)
    for i in insts[:20]:
        np.testing.assert_array_equal(i.bs_bs_fading, i.bs_bs_fading.T)
        assert np.all(np.diagonal(i.bs_bs_fading) == 0)


def test_advance_moves_target_and_keeps_ues():
    inst = golden_instance(P.replace(target_heading_std_deg=0.0))
    params = P.replace(target_heading_std_deg=0.0)
    nxt = advance_instance(params, inst, np.random.default_rng(0))
    np.testing.assert_allclose(nxt.target_position_m, [35.0, -20.0, 1.5])  # heading 0, 10 m/s * 0.5 s
    np.testing.assert_array_equal(nxt.ue_positions_m, inst.ue_positions_m)
    assert not np.array_equal(nxt.comm_fading, inst.comm_fading)


def test_reflection_at_edge():
    a = P.apothem_m
    x, v = model.reflect_in_hexagon(np.array([a + 2.0, 0.0]), np.array([1.0, 0.0]), a)
    np.testing.assert_allclose(x, [a - 2.0, 0.0])
    np.testing.assert_allclose(v, [-1.0, 0.0])


def test_target_stays_in_hexagon_long_run():
    rng = np.random.default_rng(1)
    inst = sample_instance(P, rng)
    xs = []
    for _ in range(20_000):
        inst = advance_instance(P, inst, rng)
        xs.append(inst.target_position_m[:2])
        assert 0.0 <= inst.target_heading_rad < 2 * np.pi
    assert in_hexagon(np.array(xs), P.apothem_m).all()
    steps = np.linalg.norm(np.diff(np.array(xs), axis=0), axis=1)
    assert steps.max() <= 5.0 + 1e-9  # a reflected step is never longer than v * dt


def test_instance_from_state_zeroes_bs_bs_diagonal():
    inst = golden_instance()
    again = instance_from_state(P, inst.ue_positions_m, inst.target_position_m, 0.0, inst.comm_fading,
                                np.full((3, 3), 2.0))
    assert np.all(np.diagonal(again.bs_bs_fading) == 0) and np.all(np.diagonal(again.bs_bs_gain) == 0)
    np.testing.assert_allclose(again.bs_bs_gain, 2 * inst.bs_bs_gain)


# ----------------------------------------------------------------------------- codec and observation
def test_codec_round_trip_and_ends():
    a = np.random.default_rng(0).uniform(-1, 1, (500, 3))
    back = np.array([model.encode_power(model.decode_power_w(x, P), P) for x in a])
    np.testing.assert_allclose(back, a, atol=1e-6)
    np.testing.assert_allclose(model.decode_power_w(np.ones(3), P), P.max_power_w)
    np.testing.assert_allclose(model.decode_power_w(-np.ones(3), P), 1e-8 * P.max_power_w)  # v1: 80 dB span
    np.testing.assert_allclose(model.decode_power_w(-np.ones(3), P.replace(power_dynamic_range_db=40.0)),
                               1e-4 * P.max_power_w)  # v0: 40 dB span
    np.testing.assert_array_equal(model.encode_power(np.array([0.0, -1.0, 1e-12]), P), [-1, -1, -1])


def test_observation_is_lossless_snr():
    inst = golden_instance()
    obs = model.observation(P, inst, 5)
    k = P.max_power_w / P.noise_power_w
    gc = inst.comm_gain + inst.target_ue_gain
    np.testing.assert_allclose(obs[0:9], ((db(k * gc) - 30) / 20).ravel(), atol=1e-6)
    np.testing.assert_allclose(obs[9:12], db(k * np.diagonal(inst.echo_gain)) / 20, atol=1e-6)
    inr = obs[12:21].reshape(3, 3)
    assert np.all(np.diagonal(inr) == 0)
    assert inr[0, 1] == pytest.approx((db(k * (inst.echo_gain[0, 1] + inst.bs_bs_gain[0, 1])) - 30) / 20, abs=1e-6)
    np.testing.assert_allclose(obs[21:24], (db(k * 1e-11) - 30) / 20, atol=1e-6)
    assert obs[24] == pytest.approx(1.0)
    np.testing.assert_allclose(obs[25:27], [30 / 250, -20 / 250], atol=1e-7)
    np.testing.assert_allclose(obs[27:33], (inst.ue_positions_m[:, :2] / 250).ravel(), atol=1e-6)
    assert obs[33] == pytest.approx(0.1)
    assert obs.dtype == np.float32 and obs.shape == (34,)


def test_fast_rician_matches_physics_module():
    from isac_envs.physics.channels import rician_power_samples

    k = 10 ** 0.9
    phase, normals = model.draw_fading(np.random.default_rng(3))
    mine = model.rician_power(math.sqrt(k / (k + 1)), math.sqrt(1 / (2 * (k + 1))), phase, normals)
    ref_rng = np.random.default_rng(3)
    ref = [rician_power_samples(ref_rng, (3, 3), 9.0) for _ in range(2)]  # comm, then BS-BS draws
    np.testing.assert_allclose(mine, ref, rtol=1e-12)
