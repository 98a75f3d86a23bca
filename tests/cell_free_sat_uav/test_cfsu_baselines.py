"""cell_free_sat_uav solvers: acceptance checks of spec Sec. 9 (reduced seed counts by default, full under slow)."""

from functools import lru_cache

import numpy as np
import pytest

from baselines.cell_free_sat_uav import _common as C
from baselines.cell_free_sat_uav import algorithm3, algorithm6, reference, scheme1, scheme2, scheme3
from isac_envs.cell_free_sat_uav import model as m
from isac_envs.core import load_config

SMALL = load_config(m.Params, "cell_free_sat_uav", "small")
SOLVERS = {"a3": algorithm3.solve, "a6": algorithm6.solve, "s1": scheme1.solve, "s2": scheme2.solve,
           "s3": scheme3.solve}
TRACED = ("a3", "a6")


@lru_cache(maxsize=None)
def _instance(overrides: tuple, seed: int):
    p = m.Params(**dict(overrides))
    return p, m.sample_instance(p, np.random.default_rng(seed))


_DEFAULTS = m.Params()


def run(name: str, seed: int, overrides: tuple = ()):
    """(Evaluation, Decision, trace or None) of a solver (cached per session; default-valued overrides dropped,
    so a sweep's default point reuses the default-point runs)."""
    return _run(name, seed, tuple((k, v) for k, v in overrides if getattr(_DEFAULTS, k) != v))


@lru_cache(maxsize=None)
def _run(name: str, seed: int, overrides: tuple):
    p, inst = _instance(overrides, seed)
    if name in TRACED:
        d, trace = SOLVERS[name](p, inst, return_trace=True)
    else:
        d, trace = SOLVERS[name](p, inst), None
    return m.evaluate(p, inst, d), d, trace


def _mean(name, key, seeds, overrides=()):
    return float(np.mean([run(name, s, overrides)[0].metrics[key] for s in seeds]))


def _monotone(trace):
    return all(b >= a - 1e-6 * abs(a) for a, b in zip(trace, trace[1:]))


FAST = range(3)
FULL = range(30)


# --------------------------------------------------------------------------- check 1: feasibility
EDGE = [dict(num_uavs=1), dict(num_sat_users=0), dict(num_subchannels=1), dict(users_per_group=1), dict(num_groups=1),
        dict(num_rx_antennas=1), dict(num_rx_antennas=4), dict(interference_threshold_dbm=-160.0)]


@pytest.mark.parametrize("edge", EDGE, ids=lambda e: "-".join(f"{k}={v}" for k, v in e.items()))
def test_check1_feasible_in_edge_cases(edge):
    p = SMALL.replace(**edge)
    inst = m.sample_instance(p, np.random.default_rng(0))
    for name, solve in list(SOLVERS.items()) + [("ref", reference.solve)]:
        ev = m.evaluate(p, inst, solve(p, inst))
        assert ev.feasible, (name, edge, ev.violations)
        assert np.isfinite(ev.objective) and ev.objective >= 0


def _check_default(seeds):
    # check 1 (default point), 2, 3, 4, 5, 11
    for name in SOLVERS:
        assert all(run(name, s)[0].feasible for s in seeds), name
        assert max(run(name, s)[0].metrics["de_rel_error"] for s in seeds) <= 0.05, name
    a3 = _mean("a3", "efficiency_sum", seeds)
    for sch in ("s1", "s2", "s3"):
        assert a3 >= 1.05 * _mean(sch, "efficiency_sum", seeds), sch
        wins = np.mean([run("a3", s)[0].objective >= run(sch, s)[0].objective for s in seeds])
        assert wins >= 0.9, sch
    it3 = [len(run("a3", s)[2]) - 1 for s in seeds]
    assert all(_monotone(run("a3", s)[2]) for s in seeds)
    assert max(it3) <= 4 and np.mean(it3) <= 3.5
    it6 = [len(run("a6", s)[2]) - 1 for s in seeds]
    assert all(_monotone(run("a6", s)[2]) for s in seeds) and max(it6) <= 6
    a6 = _mean("a6", "efficiency_min", seeds)
    for other in ("a3", "s1", "s2", "s3"):
        assert a6 > _mean(other, "efficiency_min", seeds), other
        wins = np.mean([run("a6", s)[0].metrics["efficiency_min"] >= run(other, s)[0].metrics["efficiency_min"]
                        for s in seeds])
        assert wins >= 0.9, other
    assert _mean("a6", "jain_fairness", seeds) >= 0.95
    assert _mean("a3", "users_served_frac", seeds) < 0.5 < _mean("a6", "users_served_frac", seeds)


def _interference_binding(p, inst, d) -> list[bool]:
    """Per used (n, l) of a decision: is some satellite user on it within 1e-3 of the threshold?"""
    pbar = m.effective_power(d)
    ratio = m.interference_w(p, inst.gain_sat, inst.sat_subchannel, pbar) / p.interference_threshold_w
    worst = np.zeros((p.num_groups, p.num_subchannels))
    np.maximum.at(worst, (np.repeat(np.arange(p.num_groups), p.num_sat_users), inst.sat_subchannel.ravel()),
                  ratio.ravel())
    used = (d.assignment >= 0) & (pbar.sum(axis=1) > 0)
    return list(worst[used] >= 1 - 1e-3)


def _check_binding(seeds):
    """Check 10: energy, total time, interference and peak power bind on Algorithm 3's solution."""
    p = m.Params()
    e_bind, t_bind, i_bind, pmax = [], [], [], []
    for s in seeds:
        _, inst = _instance((), s)
        _, d, _ = run("a3", s)
        e_bind += list(m.energy_used_j(p, d) >= 0.999 * p.energy_per_uav_j)
        t_bind.append(d.hover_time.sum() >= 0.999 * p.total_hover_time_s)
        pbar = m.effective_power(d)
        i_bind += _interference_binding(p, inst, d)
        pmax += list((pbar.sum(axis=2) >= 0.999 * p.max_power_w).any(axis=1))
    assert np.mean(e_bind) >= 0.9 and np.mean(t_bind) >= 0.9
    assert 0.2 <= np.mean(i_bind) <= 0.7
    assert 0.1 <= np.mean(pmax) <= 0.5


def test_checks_default_point_reduced():
    _check_default(FAST)
    _check_binding(FAST)


@pytest.mark.slow
def test_checks_default_point_full():
    _check_default(FULL)
    _check_binding(FULL)


# --------------------------------------------------------------------------- checks 6-9: sweeps
def _sweep(field, values, names, seeds):
    out = {}
    for v in values:
        ov = ((field, v),)
        for name in names:
            out[(name, v)] = [run(name, s, ov)[0] for s in seeds]
            assert all(e.feasible for e in out[(name, v)]), (name, field, v)
            assert max(e.metrics["de_rel_error"] for e in out[(name, v)]) <= 0.05
    return out


def _avg(evals, key):
    return float(np.mean([e.metrics[key] for e in evals]))


def _check_threshold_sweep(seeds, values=(-130.0, -120.0, -110.0, -100.0, -90.0)):
    res = _sweep("interference_threshold_dbm", values, ("a3", "a6", "s1", "s2", "s3"), seeds)
    ratio = [_avg(res[("s1", v)], "efficiency_sum") / _avg(res[("a3", v)], "efficiency_sum") for v in values]
    assert all(b > a for a, b in zip(ratio, ratio[1:]))
    assert ratio[0] < 0.6 and ratio[-1] > 0.97
    for v in values:
        for sch in ("s1", "s2", "s3"):
            assert _avg(res[("a3", v)], "efficiency_sum") > _avg(res[(sch, v)], "efficiency_sum"), (sch, v)
        for other in ("a3", "s1", "s2", "s3"):
            wins = np.mean([a.metrics["efficiency_min"] >= o.metrics["efficiency_min"]
                            for a, o in zip(res[("a6", v)], res[(other, v)])])
            assert wins >= 0.9
    a3 = [_avg(res[("a3", v)], "efficiency_sum") for v in values]
    assert all(b > a for a, b in zip(a3, a3[1:]))          # a looser threshold never hurts Alg. 3


def _check_increasing(field, values, seeds):
    res = _sweep(field, values, ("a3", "a6"), seeds)
    s = [_avg(res[("a3", v)], "efficiency_sum") for v in values]
    mn = [_avg(res[("a6", v)], "efficiency_min") for v in values]
    assert all(b > a for a, b in zip(s, s[1:])), (field, s)
    assert all(b > a for a, b in zip(mn, mn[1:])), (field, mn)
    iters = [len(run("a3", sd, ((field, v),))[2]) - 1 for v in values for sd in seeds]
    assert max(iters) <= 5


def test_sweeps_reduced():
    _check_threshold_sweep(range(2), values=(-130.0, -110.0, -90.0))
    _check_increasing("num_subchannels", (4, 8), range(2))


@pytest.mark.slow
def test_check6_threshold_sweep():
    _check_threshold_sweep(range(4))
    # check 10, threshold part: interference binds on most used subchannels at -130 dBm, on few at -90 dBm
    frac = {}
    for v in (-130.0, -90.0):
        ov = (("interference_threshold_dbm", v),)
        binds = []
        for s in range(4):
            p, inst = _instance(ov, s)
            binds += _interference_binding(p, inst, run("a3", s, ov)[1])
        frac[v] = np.mean(binds)
    assert frac[-130.0] >= 0.8 and frac[-90.0] <= 0.15, frac


@pytest.mark.slow
@pytest.mark.parametrize("field,values,n_seeds", [
    ("num_uavs", (2, 4, 6, 8), 12),     # spec's 12 seeds: M = 6 -> 8 gains only ~6 % in eta_min (4.73 -> 5.04)
    ("comm_energy_total_j", (30.0, 60.0, 120.0, 240.0), 3),
    ("num_subchannels", (4, 8, 12, 16), 3)])
def test_checks7_9_more_resources_help(field, values, n_seeds):
    _check_increasing(field, values, range(n_seeds))


# --------------------------------------------------------------------------- check 12: stronger reference
def _de_sum(p, inst, d):
    return C.de_eta_sum(p, C.make_csi(inst), d.assignment, d.power, d.hover_time)


def _check_reference(seeds):
    p = m.Params()
    gains = []
    for s in seeds:
        _, inst = _instance((), s)
        a3 = _de_sum(p, inst, run("a3", s)[1])
        ref = reference.solve(p, inst)
        assert m.evaluate(p, inst, ref).feasible
        gains.append(_de_sum(p, inst, ref) / a3 - 1)
    assert min(gains) >= 0 and np.mean(gains) >= 0.01


def _check_exhaustive(seeds, params):
    for s in seeds:
        inst = m.sample_instance(params, np.random.default_rng(s))
        best = _de_sum(params, inst, reference.exhaustive(params, inst))
        ref = _de_sum(params, inst, reference.solve(params, inst))
        a3 = _de_sum(params, inst, algorithm3.solve(params, inst))
        assert ref >= best * (1 - 0.005)
        assert a3 >= best * 0.9 and a3 <= best * (1 + 1e-3)
        yield best, a3


def test_check12_reference_reduced():
    _check_reference(range(2))
    list(_check_exhaustive(range(1), SMALL.replace(num_subchannels=3)))


@pytest.mark.slow
def test_check12_reference_full():
    _check_reference(range(8))
    list(_check_exhaustive(range(1, 4), SMALL.replace(num_subchannels=3)))    # seeds 0..3 with the reduced run
    # time and energy not binding on the same tiny sizes: Algorithm 3 is exactly optimal
    loose = SMALL.replace(num_subchannels=3, total_hover_time_s=300.0, comm_energy_total_j=60.0)
    for best, a3 in _check_exhaustive(range(2), loose):
        assert a3 >= best * (1 - 1e-3)


def test_exhaustive_refuses_large_instances_at_once():
    p = m.Params()
    _, inst = _instance((), 0)
    with pytest.raises(ValueError, match="assignments"):
        reference.exhaustive(p, inst)


# --------------------------------------------------------------------------- check 14 and solver details
def test_check14_scheme2_underestimates_interference():
    p = m.Params()
    frac = []
    for s in FAST:
        _, inst = _instance((), s)
        d = scheme2.solve(p, inst, apply_backoff=False)
        pbar = m.effective_power(d)
        ratio = m.interference_w(p, inst.gain_sat, inst.sat_subchannel, pbar) / p.interference_threshold_w
        frac.append(np.mean(ratio > 1 + 1e-6))
        assert m.evaluate(p, inst, scheme2.solve(p, inst)).feasible
    assert np.mean(frac) >= 0.10


def test_solvers_deterministic():
    p, inst = _instance((), 5)
    for name, solve in SOLVERS.items():
        d1, d2 = solve(p, inst), solve(p, inst)
        assert d1 == d2, name


def test_algorithm1_returns_best_user_at_first_iteration_for_feasible_power():
    p, inst = _instance((), 1)
    csi = C.make_csi(inst)
    T, P = C.initial_point(p, inst, csi)
    a = algorithm3.subchannel_allocation(p, inst, P, T, csi)
    R = C.de_rates(p, inst, csi, P)
    assert np.array_equal(a, R.argmax(axis=1))


def test_algorithm1_dual_recovery_with_infeasible_power():
    p, inst = _instance((), 2)
    csi = C.make_csi(inst)
    T = np.full(4, 75.0)
    P = np.full((4, 6, 8), p.max_power_w / 4)          # twice the peak power per UAV and above I_th
    a = algorithm3.subchannel_allocation(p, inst, P, T, csi)
    u = a >= 0
    assert u.any() and not u.all()
    assert np.all((u[:, None, :] * P).sum(axis=2) <= p.max_power_w * (1 + 1e-6))
    interf = m.interference_w(p, inst.gain_sat, inst.sat_subchannel, np.where(u[:, None, :], P, 0.0))
    assert np.all(interf <= p.interference_threshold_w * (1 + 1e-6))


def test_hover_time_lp_solves_small_lp_by_hand():
    # one UAV, budgets: energy binds -> the best slot gets all it can, then the next
    p = m.Params(num_uavs=1, num_groups=2, users_per_group=1, num_sat_users=0, num_subchannels=1,
                 total_hover_time_s=100.0, max_slot_hover_time_s=80.0, comm_energy_total_j=5.0)
    inst = m.sample_instance(p, np.random.default_rng(0))
    a = np.zeros((2, 1), np.int64)
    P = np.full((2, 1, 1), 0.1)
    T = algorithm3.hover_time_lp(p, inst, a, P, np.zeros(2))
    R = C.assigned(a, C.de_rates(p, inst, C.make_csi(inst), P))[:, 0]
    best = int(np.argmax(R))
    assert T[best] == pytest.approx(50.0) and T[1 - best] == pytest.approx(0.0, abs=1e-9)   # 5 J / 0.1 W = 50 s


def test_scheme3_equal_power_equal_time():
    p, inst = _instance((), 3)
    d = scheme3.solve(p, inst)
    assert np.allclose(d.hover_time, 75.0)
    assert np.isclose(d.power.max(), min(0.1, 10.0 / 300.0) / 8)       # min(P_max, E_m / sum T) / L, then back-off
    for n in range(4):
        assert set(d.assignment[n]) == set(range(4))                      # phase 1 gives every user a subchannel
