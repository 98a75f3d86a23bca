"""multi_uav_isac model: parameters, draw order, hand-checked channel/CRB/rate values, evaluate,
violations, mobility, codec (A14), observation, determinism and bad input."""

import math

import numpy as np
import pytest

from isac_envs.core import load_config
from isac_envs.multi_uav_isac import model
from isac_envs.multi_uav_isac.model import Decision, Instance, Params
from isac_envs.physics.units import SPEED_OF_LIGHT_MPS

SMALL = load_config(Params, "multi_uav_isac", "small")
PAPER = Params()


# --------------------------------------------------------------------------- params
def test_defaults_and_derived_constants():
    p = PAPER
    assert (p.num_bs, p.num_uavs, p.upa_nx * p.upa_ny) == (6, 18, 16)
    assert 10 * math.log10(p.beta0) == pytest.approx(-61.99, abs=0.005)
    assert p.beta1 == pytest.approx(3.413e15, rel=1e-3)
    assert p.beta2 == pytest.approx(0.0405, rel=2e-3)
    assert p.wavelength_m == pytest.approx(9.99e-3, rel=1e-3)
    assert Params.from_dict(p.to_dict()) == p
    assert load_config(Params, "multi_uav_isac", "paper") == p


@pytest.mark.parametrize("field,value", [
    ("num_bs", 0), ("num_uavs", 1.5), ("num_slots", 0), ("num_hotspots", 0), ("upa_nx", 1), ("upa_ny", True),
    ("p_min_w", 0.0), ("p_max_w", 1e-4), ("p_total_w", 0.01), ("theta1", 1.5), ("theta2", -1.0),
    ("rate_min_bps", -1.0), ("rho_min", 2.0), ("rho_min", -0.1), ("uav_alt_min_m", 10.0),
    ("uav_alt_max_m", 120.0), ("bandwidth_hz", float("nan")), ("carrier_freq_hz", float("inf")),
    ("noise_psd_w_per_hz", 0.0), ("area_size_m", -1.0), ("sensing_time_s", 0.0), ("rcs_coop_m2", 0.0),
    ("varpi1_m2", 0.0), ("crb_floor_angle_rad2", 0.0), ("hotspot_std_m", 0.0), ("slot_duration_s", 0.0),
    ("uav_speed_mps", -1.0), ("pos_err_std_m", -1.0), ("penalty", -0.5), ("penalty", float("nan")),
])
def test_invalid_params_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        PAPER.replace(**{field: value})


def test_unknown_key_rejected():
    with pytest.raises(ValueError, match="bogus"):
        Params.from_dict({"bogus": 1})


def test_bs_layout_hand_values():
    xy = model.bs_layout(PAPER)[:, :2]
    assert np.allclose(xy, [[333.333, 500], [1000, 500], [1666.667, 500],
                            [333.333, 1500], [1000, 1500], [1666.667, 1500]], atol=1e-3)
    assert np.allclose(model.bs_layout(SMALL), [[200, 600, 25], [600, 600, 25], [1000, 600, 25]])
    # M = 5: rows = 2, cols = 3; last row of 2 centred
    assert np.allclose(model.bs_layout(PAPER.replace(num_bs=5))[3:, 0], [666.667, 1333.333], atol=1e-3)


# --------------------------------------------------------------------------- sampling
def test_sample_instance_draw_order():
    """Re-draw the spec's sequence (Sec. 3 steps 1-6) with numpy directly: bit-identical."""
    p = SMALL
    inst = model.sample_instance(p, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    k, c, side = p.num_uavs, p.num_hotspots, p.area_size_m
    cx = rng.uniform(0.15 * side, 0.85 * side, size=(c, 2))
    cz = rng.uniform(p.uav_alt_min_m + 50, p.uav_alt_max_m - 50, size=(c, 1))
    centers = np.concatenate([cx, cz], axis=1)
    w = rng.dirichlet(np.full(c, 2.0))
    cl = rng.choice(c, size=k, p=w)
    coop = centers[cl] + rng.standard_normal((k, 3)) * [p.hotspot_std_m, p.hotspot_std_m, p.hotspot_std_z_m]
    coop = np.clip(coop, [0, 0, p.uav_alt_min_m], [side, side, p.uav_alt_max_m])
    nc = [rng.uniform(0, side), rng.uniform(0, side), rng.uniform(p.uav_alt_min_m, p.uav_alt_max_m)]
    phi = rng.uniform(0, 2 * np.pi)
    std = np.array([p.pos_err_std_m] * k + [p.noncoop_pos_err_std_m])
    pos = np.vstack([coop, nc])
    est = np.clip(pos + rng.standard_normal((k + 1, 3)) * std[:, None], [0, 0, p.uav_alt_min_m],
                  [side, side, p.uav_alt_max_m])
    assert np.array_equal(inst.hotspot_centers, centers) and np.array_equal(inst.hotspot_weights, w)
    assert np.array_equal(inst.uav_cluster, cl) and np.array_equal(inst.uav_pos, pos)
    assert np.array_equal(inst.uav_pos_est, est)
    assert np.allclose(inst.noncoop_vel, p.noncoop_speed_mps * np.array([np.cos(phi), np.sin(phi), 0]))
    assert inst.slot == 0 and inst.gain_comm.shape == (k, 3) and inst.gain_sense.shape == (k + 1, 3)


def test_gain_magnitudes_paper_setting():
    inst = model.sample_instance(PAPER, np.random.default_rng(0))
    gc, gs = 10 * np.log10(inst.gain_comm), 10 * np.log10(inst.gain_sense)
    assert -120 < gc.min() and gc.max() < -95       # spec: -117 .. -99 dB
    assert -20 < gs.min() and gs.max() < 25          # spec: -13 .. +21 dB(1/W)


def _instance(p: Params, pos, est=None, bs=None) -> Instance:
    pos = np.asarray(pos, float)
    est = pos if est is None else np.asarray(est, float)
    bs = model.bs_layout(p) if bs is None else np.asarray(bs, float)
    gc, gs = model.compute_gains(p, bs, pos, est)
    k = p.num_uavs
    return Instance(bs_pos=bs, hotspot_centers=np.array([[600.0, 600.0, 150.0]] * p.num_hotspots),
                    hotspot_weights=np.full(p.num_hotspots, 1.0 / p.num_hotspots),
                    uav_cluster=np.zeros(k, np.int64), uav_pos=pos, uav_pos_est=est,
                    pos_err_std=np.full(k + 1, 10.0), noncoop_vel=np.array([20.0, 0.0, 0.0]),
                    gain_comm=gc, gain_sense=gs)


def test_channel_hand_values():
    """UAV 100 m above BS 1 with a perfect estimate: G_bf = 16 (S3), g_c = beta0 16 / d^2 (S4), (S5)."""
    p = SMALL.replace(num_uavs=1, num_hotspots=1)
    pos = [[600.0, 600.0, 125.0], [1000.0, 600.0, 225.0]]
    inst = _instance(p, pos)
    lam = SPEED_OF_LIGHT_MPS / 30e9
    beta0 = (lam / (4 * math.pi)) ** 2
    assert inst.gain_comm[0, 1] == pytest.approx(beta0 * 16 / 100.0**2, rel=1e-12)
    assert 10 * math.log10(inst.gain_comm[0, 1]) == pytest.approx(-89.95, abs=0.01)
    g_s = beta0 * 0.1 / (4 * math.pi * 100.0**4) * 16 * 16 * 0.01 / 1.2589254e-20
    assert inst.gain_sense[0, 1] == pytest.approx(g_s, rel=1e-12)
    assert inst.gain_sense[1, 2] == pytest.approx(g_s / 2**4, rel=1e-12)  # d = 200 m: d^-4


def test_beam_pointing_loss_reduces_gain():
    p = SMALL.replace(num_uavs=1, num_hotspots=1)
    pos = [[600.0, 600.0, 125.0], [1000.0, 600.0, 225.0]]
    exact = _instance(p, pos)
    off = _instance(p, pos, est=[[630.0, 600.0, 125.0], [1000.0, 600.0, 225.0]])
    # direction cosines: u_x = 0 (true) vs 30 / sqrt(30^2 + 100^2) (estimate) -> N_t D_4(du_x)
    du = 30.0 / math.hypot(30.0, 100.0)
    d4 = (math.sin(4 * math.pi * du / 2) / (4 * math.sin(math.pi * du / 2))) ** 2
    assert off.gain_comm[0, 1] / exact.gain_comm[0, 1] == pytest.approx(d4, rel=1e-9)
    assert off.gain_comm[0, 1] < exact.gain_comm[0, 1]


# --------------------------------------------------------------------------- evaluate
def test_evaluate_hand_values_rate_crb_rho():
    p = SMALL.replace(num_uavs=1, num_hotspots=1)
    inst = _instance(p, [[600.0, 600.0, 125.0], [1000.0, 600.0, 225.0]])
    dec = Decision(assoc=np.array([1, 1]), p_comm=np.array([2.0]), p_sense=np.array([1.0, 3.0]))
    ev = model.evaluate(p, inst, dec)
    b = 400e6 / 2                                               # BS 1 serves both UAVs (S6)
    snr_c = 2.0 * inst.gain_comm[0, 1] / (p.noise_psd_w_per_hz * b)
    rate = b * math.log2(1 + snr_c)
    assert ev.metrics["sum_rate_bps"] == pytest.approx(rate, rel=1e-12)
    snr_s = 3.0 * inst.gain_sense[1, 1]
    crb_d = 3 * SPEED_OF_LIGHT_MPS**2 / (8 * math.pi**2 * b**2 * snr_s)
    crb_t = 6 / (math.pi**2 * 15 * snr_s)
    assert ev.metrics["crb_noncoop_range_m2"] == pytest.approx(crb_d, rel=1e-12)
    assert ev.metrics["crb_noncoop_angle_rad2"] == pytest.approx(crb_t, rel=1e-12)
    rho_nc = 0.01 / (crb_d + 0.01) + 9e-4 / (crb_t + 9e-4)
    assert ev.metrics["rho_noncoop"] == pytest.approx(rho_nc, rel=1e-12)
    snr_s0 = 1.0 * inst.gain_sense[0, 1]
    rho0 = 0.01 / (3 * SPEED_OF_LIGHT_MPS**2 / (8 * math.pi**2 * b**2 * snr_s0) + 0.01) + 9e-4 / (
        6 / (math.pi**2 * 15 * snr_s0) + 9e-4)
    g = 0.5 * rate / 1e9 + 0.5 * 0.3 * (rho0 + rho_nc) / 2
    assert ev.objective == pytest.approx(g, rel=1e-12)
    assert ev.metrics["rate_term"] + ev.metrics["sensing_term"] == pytest.approx(ev.objective)
    d_hat = math.dist([1000, 600, 225], [600, 600, 25])
    assert ev.metrics["crb_noncoop_pos_m2"] == pytest.approx(crb_d + 2 * d_hat**2 * crb_t)
    assert ev.metrics["sense_power_frac"] == pytest.approx(4 / 6)
    assert ev.metrics["idle_bs"] == 2 and ev.metrics["max_load"] == 2
    assert ev.metrics["bs_power_use"] == pytest.approx(6 / 60)


def test_rho_bounded_and_saturating():
    p = PAPER
    snr = np.logspace(-3, 12, 50)
    rho = model.rho_from_snr(p, snr, 50e6)
    assert np.all(np.diff(rho) > 0) and rho[-1] < 2.0 and rho[-1] > 1.99
    assert model.rho_from_snr(p, 0.0, 50e6) == 0.0


def test_violations_normalised():
    p = SMALL.replace(num_uavs=1, num_hotspots=1, rate_min_bps=1e12, rho_min=1.5)
    inst = _instance(p, [[600.0, 600.0, 125.0], [1000.0, 600.0, 225.0]])
    # p_comm 20 W: C3 above p_max (20/10 - 1 = 1); p_sense 1e-4 below p_min (1 - 0.1 = 0.9); BS1 sum
    dec = Decision(assoc=np.array([1, 1]), p_comm=np.array([20.0]), p_sense=np.array([1e-4, 5.0]))
    ev = model.evaluate(p, inst, dec)
    assert ev.violations["C3"] == pytest.approx(1.0 + 0.9)
    assert ev.violations["C4"] == pytest.approx((20 + 1e-4 + 5) / 20 - 1)
    rate = ev.metrics["sum_rate_bps"]
    assert ev.violations["C6"] == pytest.approx(1 - rate / 1e12)
    assert ev.violations["C5"] > 0 and not ev.feasible
    ok = model.evaluate(p.replace(rate_min_bps=0.0, rho_min=0.0), inst,
                        Decision(assoc=np.array([1, 1]), p_comm=np.array([5.0]), p_sense=np.array([5.0, 5.0])))
    assert ok.feasible and all(v == 0.0 for v in ok.violations.values())


@pytest.mark.parametrize("bad", [
    dict(assoc=np.array([0, 0, 0, 0, 3])), dict(assoc=np.array([0, 0, 0, 0, -1])), dict(assoc=np.zeros(4, int)),
    dict(p_comm=np.array([1.0, np.nan, 1.0, 1.0])), dict(p_sense=np.full(5, np.inf)), dict(p_comm=np.ones(5)),
])
def test_evaluate_bad_decision_raises(bad):
    base = dict(assoc=np.zeros(5, np.int64), p_comm=np.ones(4), p_sense=np.ones(5))
    base.update(bad)
    inst = model.sample_instance(SMALL, np.random.default_rng(0))
    with pytest.raises(ValueError):
        model.evaluate(SMALL, inst, Decision(**base))


# --------------------------------------------------------------------------- mobility
def test_advance_instance_mobility_and_mirror():
    p = SMALL
    inst = model.sample_instance(p, np.random.default_rng(1))
    k = p.num_uavs
    # put the non-coop UAV 10 m from the x = 0 border flying at -20 m/s in x: mirrored to x = 10
    pos = inst.uav_pos.copy()
    pos[k, :2] = [10.0, 600.0]
    inst = Instance(**{**inst.__dict__, "uav_pos": pos, "noncoop_vel": np.array([-20.0, 0.0, 0.0])})
    nxt = model.advance_instance(p, inst, np.random.default_rng(2))
    assert nxt.slot == 1
    assert nxt.uav_pos[k, 0] == pytest.approx(10.0) and nxt.noncoop_vel[0] == pytest.approx(20.0)
    assert np.array_equal(nxt.bs_pos, inst.bs_pos) and np.array_equal(nxt.uav_cluster, inst.uav_cluster)
    # Gauss-Markov: a = 1 - (v dt)^2 / (4 sigma_h^2), one standard_normal((K,3)) draw
    a = 1 - 10.0**2 / (4 * 350.0**2)
    xi = np.random.default_rng(2).standard_normal((k, 3))
    mu = inst.hotspot_centers[inst.uav_cluster]
    expect = np.clip(mu + a * (inst.uav_pos[:k] - mu) + math.sqrt(1 - a * a) * np.array([350, 350, 40.0]) * xi,
                     [0, 0, 50], [1200, 1200, 300])
    assert np.allclose(nxt.uav_pos[:k], expect)


def test_mobility_stationary_law_matches_hotspots():
    """Without clipping the Gauss-Markov walk keeps the hotspot std (stationary law = f)."""
    p = PAPER.replace(area_size_m=1e6, uav_alt_max_m=1e5, hotspot_std_z_m=40.0)
    rng = np.random.default_rng(0)
    inst = model.sample_instance(p, rng)
    devs = []
    for _ in range(300):
        inst = model.advance_instance(p, inst, rng)
        devs.append(inst.uav_pos[:-1] - inst.hotspot_centers[inst.uav_cluster])
    std = np.std(np.concatenate(devs), axis=0)
    assert std[0] == pytest.approx(350, rel=0.2) and std[2] == pytest.approx(40, rel=0.2)


def test_determinism():
    a = model.sample_instance(PAPER, np.random.default_rng(5))
    b = model.sample_instance(PAPER, np.random.default_rng(5))
    assert a == b
    assert model.advance_instance(PAPER, a, np.random.default_rng(1)) == model.advance_instance(
        PAPER, b, np.random.default_rng(1))


# --------------------------------------------------------------------------- codec and observation
def test_decode_meets_c3_c4_for_random_actions():
    """A14 second half: 200 uniform random actions decode with C3 and C4 <= 1e-9."""
    rng = np.random.default_rng(0)
    inst = model.sample_instance(PAPER, rng)
    for _ in range(200):
        a = rng.uniform(-1, 1, model.action_dim(PAPER))
        ev = model.evaluate(PAPER, inst, model.decode_action(PAPER, a))
        assert ev.violations["C3"] <= 1e-9 and ev.violations["C4"] <= 1e-9


def test_decode_hand_values():
    p = SMALL
    k, m = p.num_uavs, p.num_bs
    a = -np.ones(model.action_dim(p))
    scores = a[: (k + 1) * m].reshape(k + 1, m)
    scores[:, 2] = 0.5      # everyone to BS 2 (9 links): all at p_max = 10 W -> scaled
    scores[0, 0] = 0.9      # UAV 0 to BS 0 (2 links)
    a[(k + 1) * m:] = 1.0
    dec = model.decode_action(p, a)
    assert dec.assoc.tolist() == [0, 2, 2, 2, 2]
    assert dec.p_comm[0] == pytest.approx(10.0) and dec.p_sense[0] == pytest.approx(10.0)
    # BS 2: 7 links at 10 W = 70 W > 20 W -> p_min + (10 - p_min) (20 - 7 p_min) / (70 - 7 p_min)
    expect = 1e-3 + (10 - 1e-3) * (20 - 7e-3) / (70 - 7e-3)
    assert dec.p_sense[1:] == pytest.approx(expect) and dec.p_comm[1:] == pytest.approx(expect)
    # ties -> lowest index
    assert model.decode_action(p, np.zeros(model.action_dim(p))).assoc.tolist() == [0] * 5


def test_codec_round_trip_a14():
    p = PAPER
    rng = np.random.default_rng(1)
    inst = model.sample_instance(p, rng)
    for _ in range(20):
        d = model.decode_action(p, rng.uniform(-1, 1, model.action_dim(p)))
        d2 = model.decode_action(p, model.encode_action(p, d))
        assert np.array_equal(d.assoc, d2.assoc)
        e1, e2 = model.evaluate(p, inst, d).objective, model.evaluate(p, inst, d2).objective
        assert e2 == pytest.approx(e1, rel=1e-6)
    assert model.encode_action(p, d).dtype == np.float32


def test_encode_rounds_towards_feasibility():
    """Decisions whose radar streams sit exactly at their C5 bound (communication-centric scheme) stay
    feasible through the float32 codec: every decoded power >= the decision's, except one link per BS
    that gives back what the rounding added where the budget binds; no BS above P_total."""
    from baselines.multi_uav_isac import voronoi_iwf

    flipped_before = 0
    for seed in range(6):
        inst = model.sample_instance(PAPER, np.random.default_rng(seed))
        d = voronoi_iwf.solve(PAPER, inst, sensing="min")
        if not model.evaluate(PAPER, inst, d).feasible:
            continue
        a = model.encode_action(PAPER, d)
        d2 = model.decode_action(PAPER, a)
        assert model.evaluate(PAPER, inst, d2).feasible
        p, p2 = np.concatenate([d.p_comm, d.p_sense]), np.concatenate([d2.p_comm, d2.p_sense])
        bs = model.link_bs(PAPER, d.assoc)
        lowered = np.bincount(bs[p2 < p], minlength=PAPER.num_bs)
        assert lowered.max() <= 1
        assert np.all(np.bincount(bs, p2, PAPER.num_bs) <= PAPER.p_total_w)
        assert np.all(np.abs(p2 - p) <= 2 * 2.0**-24 * (PAPER.p_max_w - PAPER.p_min_w) * PAPER.num_uavs)
        # nearest rounding (the old encoder) loses C5 on some of these
        near = np.clip(2 * (p - PAPER.p_min_w) / (PAPER.p_max_w - PAPER.p_min_w) - 1, -1, 1).astype(np.float32)
        old = model.decode_action(PAPER, np.concatenate([a[: (PAPER.num_uavs + 1) * PAPER.num_bs], near]))
        flipped_before += not model.evaluate(PAPER, inst, old).feasible
    assert flipped_before >= 1


@pytest.mark.parametrize("action", [np.zeros(10), np.full(24, np.nan), np.array(["a"] * 24)])
def test_decode_bad_action(action):
    with pytest.raises((ValueError, TypeError)):
        model.decode_action(SMALL, action)


def test_observation_layout():
    p = PAPER
    inst = model.sample_instance(p, np.random.default_rng(0))
    obs = model.observe(p, inst)
    assert obs.shape == (327,) and obs.dtype == np.float32 and model.obs_dim(SMALL) == 62
    assert model.action_dim(p) == 151 and model.action_dim(SMALL) == 24
    k, m = p.num_uavs, p.num_bs
    assert obs[0] == pytest.approx(inst.uav_pos_est[0, 0] / 2000)
    assert obs[2] == pytest.approx((inst.uav_pos_est[0, 2] - 50) / 250)
    off = 3 * (k + 1)
    assert obs[off] == pytest.approx((10 * np.log10(inst.gain_comm[0, 0]) + 110) / 10, rel=1e-5)
    off += k * m
    assert obs[off + 1] == pytest.approx((10 * np.log10(inst.gain_sense[0, 1]) - 5) / 15, rel=1e-5)
    assert obs[-1] == 0.0 and np.all(np.abs(obs) <= 5)
