"""Model tests: validation, sampling, evaluate against closed forms (E1-E4), the codec."""

import math

import numpy as np
import pytest

from isac_envs.core import load_config
from isac_envs.uav_effective_capacity import model as m
from isac_envs.uav_effective_capacity.model import Decision, Params


@pytest.fixture(scope="module")
def small():
    return load_config(Params, "uav_effective_capacity", "small")


@pytest.fixture(scope="module")
def paper_inst():
    p = Params()
    return p, m.sample_instance(p, np.random.default_rng(0))


def static(p):
    return p.replace(num_slots=1, uav_speed_max=math.inf)


def decode_at(p, inst, q, a=None):
    a = np.zeros(m.action_dim(p)) if a is None else np.array(a, float)
    a[0:2] = 2 * (np.asarray(q, float) - p.lo) / (p.hi - p.lo) - 1
    inst = m.advance_instance(p, inst, None, np.asarray(q, float))
    return inst, m.decode_action(static(p), inst, a)[0]


# --------------------------------------------------------------------------- Params
@pytest.mark.parametrize("field,value", [
    ("num_users", 0), ("num_antennas", 1.5), ("uav_height", 0.0), ("antenna_spacing", -1.0),
    ("ref_gain", math.nan), ("noise_power", 0.0), ("p_max", -1.0), ("rician_factor", -0.1),
    ("qos_exponent", 0.0), ("qos_exponent", math.inf), ("qos_exponent", (1.0, 2.0)),
    ("user_weights", (1.0, 1.0)), ("user_weights", (1.0, 1.0, -1.0, 1.0)), ("sensing_threshold", math.nan),
    ("user_positions", ((0.0, 0.0),)), ("region_x", (100.0, 0.0)), ("region_y", (0.0, math.nan)),
    ("num_samples", 0), ("position_jitter", -1.0), ("user_speed", -1.0), ("num_slots", 0),
    ("slot_duration", 0.0), ("uav_speed_max", 0.0), ("uav_start", "corner"), ("penalty", -1.0),
    ("action_share_temperature", 0.0), ("action_reg_decades", -1.0), ("action_lean_max", 1.0),
    ("target_position", (1.0, 2.0, 3.0)),
])
def test_params_reject_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        Params().replace(**{field: value})


def test_params_from_dict_and_configs(small):
    with pytest.raises(ValueError, match="bogus"):
        Params.from_dict({"bogus": 1})
    assert small.num_users == 2 and small.user_positions == ((290.0, 200.0), (330.0, 200.0))
    assert Params.from_dict(small.to_dict()) == small
    assert load_config(Params, "uav_effective_capacity", "paper") == Params()
    assert load_config(Params, "uav_effective_capacity", "paper_fig1").qos_exponent == 0.01
    assert Params(uav_speed_max=math.inf).uav_speed_max == math.inf
    np.testing.assert_array_equal(Params(qos_exponent=(1, 2, 3, 4)).theta, [1, 2, 3, 4])


# --------------------------------------------------------------------------- sampling
def test_sample_instance_draw_order(small):
    inst = m.sample_instance(small, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    J = small.position_jitter
    u = np.asarray(small.user_positions) + rng.uniform(-J, J, (2, 2))
    t = np.asarray(small.target_position) + rng.uniform(-J, J, 2)
    s = small.lo + rng.uniform(0, 1, 2) * (small.hi - small.lo)
    re, im = rng.standard_normal((200, 2, 4)), rng.standard_normal((200, 2, 4))
    np.testing.assert_array_equal(inst.user_pos, u)
    np.testing.assert_array_equal(inst.target_pos, t)
    np.testing.assert_array_equal(inst.uav_start, s)
    np.testing.assert_array_equal(inst.fading, (re + 1j * im) / np.sqrt(2))
    assert m.sample_instance(small, np.random.default_rng(7)) == inst
    c = m.sample_instance(small.replace(uav_start="target"), np.random.default_rng(7))
    np.testing.assert_array_equal(c.uav_start, np.clip(t, small.lo, small.hi))
    np.testing.assert_array_equal(c.fading, inst.fading[:, :, :] * 0 + c.fading)  # same shape


def test_advance_instance_moves_users(small):
    p = small.replace(user_speed=3.0, slot_duration=2.0)
    inst = m.sample_instance(p, np.random.default_rng(0))
    nxt = m.advance_instance(p, inst, np.random.default_rng(1), np.array([5.0, 6.0]))
    np.testing.assert_allclose(np.linalg.norm(nxt.user_pos - inst.user_pos, axis=1), 6.0)
    np.testing.assert_array_equal(nxt.uav_start, [5.0, 6.0])
    assert nxt.fading is inst.fading and nxt.target_pos is inst.target_pos


# --------------------------------------------------------------------------- evaluate
def test_evaluate_hand_checked_single_user():
    """K = M = 1, kappa = 0: SINR = P beta0 |g|^2/(d^2 sigma^2); EC from the closed form."""
    p = Params(num_users=1, num_antennas=1, user_weights=(2.0,), user_positions=((40.0, 0.0),),
               target_position=(0.0, 0.0), rician_factor=0.0, qos_exponent=math.log(2), num_samples=3,
               sensing_threshold=1e-3)
    g = np.array([1.0, 0.5j, 2.0 + 0j]).reshape(3, 1, 1)
    inst = m.Instance(np.array([[40.0, 0.0]]), np.array([0.0, 0.0]), np.zeros(2), g)
    W = np.full((1, 1), math.sqrt(p.p_max), complex)
    d = Decision(np.zeros(2), W, np.zeros((1, 1)))
    ev = m.evaluate(p, inst, d)
    snr = p.p_max * 0.01 * np.abs(g.ravel()) ** 2 / (2500.0 * 1e-11)
    ec = -np.log(np.mean(1.0 / (1.0 + snr))) / math.log(2)  # theta = ln 2: (1+snr)^(-1)
    assert ev.metrics["ec_user_0"] == pytest.approx(ec, rel=1e-12)
    assert ev.objective == pytest.approx(2.0 * ec, rel=1e-12)
    assert ev.metrics["ergodic_rate_sum"] == pytest.approx(np.mean(np.log2(1 + snr)), rel=1e-12)
    # beam gain P |a|^2 / d_t^2 with d_t = H: 10/900 W/m^2 >= 1e-3
    assert ev.metrics["beam_gain_min"] == pytest.approx(10.0 / 900.0)
    assert ev.feasible and ev.violations["sensing"] == 0.0
    # double the power: violates C2 by exactly 1 (normalised)
    ev2 = m.evaluate(p, inst, Decision(np.zeros(2), W * math.sqrt(2), np.zeros((1, 1))))
    assert ev2.violations["power"] == pytest.approx(1.0) and not ev2.feasible
    # outside the region by 50 m in x (width 100): 0.5; negative-definite R_s: psd violation
    ev3 = m.evaluate(p, inst, Decision(np.array([-50.0, 0.0]), W, -np.eye(1)))
    assert ev3.violations["region"] == pytest.approx(0.5)
    assert ev3.violations["psd"] == pytest.approx(1.0 / p.p_max)


def test_interference_and_sensing_interference_enter_sinr():
    p = Params(num_users=2, num_antennas=1, user_weights=(1.0, 1.0), user_positions=((0.0, 0.0), (0.0, 0.0)),
               rician_factor=0.0, num_samples=1, sensing_threshold=0.0)
    inst = m.Instance(np.zeros((2, 2)), np.zeros(2), np.zeros(2), np.ones((1, 2, 1), complex))
    W = np.array([[2.0, 1.0]], complex)
    R = np.array([[3.0]], complex)
    beta = 0.01 / 900.0
    sinr = m.rates_per_block(p, inst, Decision(np.zeros(2), W, R))
    expect0 = np.log2(1 + 4 * beta / (1 * beta + 3 * beta + 1e-11))
    expect1 = np.log2(1 + 1 * beta / (4 * beta + 3 * beta + 1e-11))
    np.testing.assert_allclose(sinr[0], [expect0, expect1], rtol=1e-12)


def test_e1_zero_decision_and_determinism(paper_inst):
    p, inst = paper_inst
    L, K, M = inst.fading.shape
    zero = Decision(np.array([50.0, 100.0]), np.zeros((L, M, K), complex), np.zeros((L, M, M), complex))
    ev = m.evaluate(p, inst, zero)
    assert ev.objective == 0.0 and ev.violations["sensing"] == 1.0 and not ev.feasible
    _, d = decode_at(p, inst, (67.0, 119.0))
    a, b = m.evaluate(p, inst, d), m.evaluate(p, inst, d)
    assert a.objective == b.objective and a.metrics == b.metrics
    # (M, K) / (M, M) statistical designs broadcast to every block
    evb = m.evaluate(p, inst, Decision(d.uav_pos, d.beamformers[0], d.sensing_cov[0]))
    evf = m.evaluate(p, inst, Decision(d.uav_pos, np.broadcast_to(d.beamformers[0], d.beamformers.shape),
                                       np.broadcast_to(d.sensing_cov[0], d.sensing_cov.shape).copy()))
    assert evb.objective == pytest.approx(evf.objective, rel=1e-12)


def test_e2_small_theta_gives_ergodic_rate(paper_inst):
    p, inst = paper_inst
    p = p.replace(qos_exponent=1e-6)
    _, d = decode_at(p, inst, (67.0, 119.0))
    ev = m.evaluate(p, inst, d)
    assert -1e-4 <= ev.metrics["ec_sum"] - ev.metrics["ergodic_rate_sum"] <= 0.0


@pytest.mark.parametrize("theta", [0.01, 1.0, 5.0])
def test_e3_ec_between_min_and_mean_rate(paper_inst, theta):
    p, inst = paper_inst
    p = p.replace(qos_exponent=theta)
    rng = np.random.default_rng(3)
    for _ in range(3):
        inst2, d = decode_at(p, inst, rng.uniform(p.lo, p.hi), rng.uniform(-1, 1, m.action_dim(p)))
        ev = m.evaluate(p, inst2, d)
        r = m.rates_per_block(p, inst2, d)
        ec = np.array([ev.metrics[f"ec_user_{k}"] for k in range(p.num_users)])
        assert np.all(ec >= r.min(axis=0) - 1e-12) and np.all(ec <= r.mean(axis=0) + 1e-12)


def test_e4_split_power_satisfiability_rule(paper_inst):
    p, inst = paper_inst
    rng = np.random.default_rng(0)
    L, K, M = 50, p.num_users, p.num_antennas
    V = rng.standard_normal((L, M, K)) + 1j * rng.standard_normal((L, M, K))
    v = rng.standard_normal((L, M)) + 1j * rng.standard_normal((L, M))
    for q in ([10.0, 100.0], [67.0, 119.0], [100.0, 200.0]):
        a_t, dt2 = m.target_geometry(p, inst, q)
        for gamma in (1e-4, 3e-3, 1e-2):
            G = gamma * dt2
            W, vv, ps = m.split_power(V, v, a_t, p.p_max, G)
            total = np.sum(np.abs(W) ** 2, axis=(1, 2)) + ps
            np.testing.assert_allclose(total, p.p_max, rtol=1e-12)  # C2 with equality
            gain = np.sum(np.abs(a_t.conj() @ W) ** 2, axis=1) + ps * np.abs(vv @ a_t.conj()) ** 2
            assert np.all(ps >= 0) and np.allclose(np.linalg.norm(vv, axis=1), 1.0)
            if G <= M * p.p_max:
                assert np.all(gain >= G * (1 - 1e-9))  # C1 in every block
                # least sensing power: active with equality wherever p_s > 0
                np.testing.assert_allclose(gain[ps > 0], G, rtol=1e-9)
            else:
                assert np.all(gain < G)
    # infeasible setting: comm-only position at Gamma = 1e-2 -> sensing violated, infeasible
    p2 = p.replace(sensing_threshold=1e-2)
    inst2, d = decode_at(p2, inst, (100.0, 200.0))
    ev = m.evaluate(p2, inst2, d)
    assert ev.violations["sensing"] > 0 and not ev.feasible
    assert ev.violations["power"] <= 1e-12


def test_decoded_design_is_feasible_and_good(paper_inst):
    """V3 (one instance): the canonical design at the AO's position is feasible, J ~ 63.7."""
    p, inst = paper_inst
    inst2, d = decode_at(p, inst, (67.0, 119.0))
    ev = m.evaluate(p, inst2, d)
    assert ev.feasible
    assert ev.metrics["beam_gain_ratio_min"] == pytest.approx(1.0, abs=1e-6)
    assert 62.5 < ev.objective < 65.0


def test_lean_selection_never_worse_than_single_level(paper_inst):
    """(S21b): the per-block selection minimises the EC surrogate, so the objective beats c = 0 alone."""
    p, inst = paper_inst
    inst2, d = decode_at(p, inst, (67.0, 119.0))
    J_sel = m.evaluate(p, inst2, d).objective
    # lean_max = 0 disables the lean levels (all three candidates identical)
    _, d0 = decode_at(p.replace(action_lean_max=0.0), inst, (67.0, 119.0))
    assert J_sel >= m.evaluate(p, inst2, d0).objective


def test_motion_and_encode(small):
    p = small.replace(uav_speed_max=10.0)
    q = m.motion(p, [0.0, 0.0], [30.0, 40.0])
    np.testing.assert_allclose(q, [6.0, 8.0])
    np.testing.assert_allclose(m.motion(p, [95.0, 0.0], [97.0, 0.0]), [97.0, 0.0])
    np.testing.assert_allclose(m.motion(p.replace(uav_speed_max=math.inf), [0.0, 0.0], [130.0, 40.0]), [100.0, 40.0])
    inst = m.sample_instance(small, np.random.default_rng(0))
    inst2, d = decode_at(small, inst, (40.0, 120.0), [0, 0, 0.3, -0.2, 0, 0, 0, 0])
    a = m.encode_action(small, d)
    np.testing.assert_allclose(a[0:2], 2 * (np.array([40.0, 120.0]) - small.lo) / (small.hi - small.lo) - 1, atol=1e-6)
    assert np.all(a[4:] == 0)
    P = np.mean(np.sum(np.abs(d.beamformers) ** 2, axis=1), axis=0)
    s = np.exp(small.action_share_temperature * a[2:4])
    np.testing.assert_allclose(s / s.sum(), P / P.sum(), rtol=1e-5)
    zero = Decision(np.array([0.0, 0.0]), np.zeros((4, 2)), np.zeros((4, 4)))
    assert np.all(m.encode_action(small, zero)[2:] == 0)


def test_bad_decisions_and_actions(small):
    inst = m.sample_instance(small, np.random.default_rng(0))
    with pytest.raises(ValueError, match="beamformers"):
        m.evaluate(small, inst, Decision(np.zeros(2), np.zeros((3, 2)), np.zeros((4, 4))))
    with pytest.raises(ValueError, match="uav_pos"):
        m.evaluate(small, inst, Decision(np.zeros(3), np.zeros((4, 2)), np.zeros((4, 4))))
    with pytest.raises(ValueError, match="non-finite"):
        m.evaluate(small, inst, Decision(np.zeros(2), np.full((4, 2), np.nan), np.zeros((4, 4))))
    with pytest.raises(TypeError):
        m.evaluate(small, inst, "decision")
    with pytest.raises(ValueError, match="shape"):
        m.decode_action(small, inst, np.zeros(5))
    with pytest.raises(ValueError, match="non-finite"):
        m.decode_action(small, inst, np.full(8, np.nan))


def test_split_power_chunks_are_bit_identical_and_per_block_geometry_agrees():
    """Issue 12: split_power processes > SPLIT_CHUNK blocks in chunks; same bits as one pass."""
    rng = np.random.default_rng(0)
    L, M, K = m.SPLIT_CHUNK * 2 + 37, 8, 4
    a_t = np.exp(1j * rng.uniform(0, 6, M))
    V = rng.standard_normal((L, M, K)) + 1j * rng.standard_normal((L, M, K))
    v = rng.standard_normal((L, M)) + 1j * rng.standard_normal((L, M))
    for G in (15.0, 60.0, 200.0):  # comm beams suffice / own sensing beam / fallback to a_t
        chunked = m.split_power(V, v, a_t, 10.0, G)
        whole = m._split_power(V, v, a_t, 10.0, G)
        assert all(np.array_equal(x, y) for x, y in zip(chunked, whole))
        per_block = m.split_power(V, v, np.broadcast_to(a_t, (L, M)).copy(), 10.0, np.full(L, G))
        for x, y in zip(per_block, whole):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
