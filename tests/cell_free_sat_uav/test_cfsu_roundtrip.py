"""cell_free_sat_uav round-trip contract (issue 10 item 4): every registered solver's decision played through the
env in both action modes keeps its native score (exact in direct mode, <= 1 % loss in hybrid mode); the
through-env ranking of the paper's schemes equals the native one; uniform random is below every paper scheme."""

import numpy as np
import pytest

from baselines.cell_free_sat_uav import PAPER_SOLVER, POLICIES
from isac_envs.cell_free_sat_uav import model as m
from isac_envs.cell_free_sat_uav.env import CellFreeSatUAVEnv

PAPER_SCHEMES = ("algorithm3", "scheme1", "scheme2", "scheme3")       # paper Fig. 3 (overall efficiency)


def _through_env(mode, seed, decision=None, rng=None, **kw):
    env = CellFreeSatUAVEnv(config="small", action_mode=mode, **kw)
    env.reset(seed=seed)
    ret, done = 0.0, False
    while not done:
        act = env.encode_action(decision) if decision is not None else \
            rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        _, r, done, _, info = env.step(act)
        ret += r
    return ret, info


@pytest.mark.parametrize("mode", ["direct", "hybrid"])
@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_solver_round_trips(name, mode):
    env = CellFreeSatUAVEnv(config="small")
    _, info = env.reset(seed=1001)
    d = POLICIES[name].load()(env.params, info["instance"])
    native = m.evaluate(env.params, info["instance"], d).objective
    ret, info = _through_env(mode, 1001, d)
    assert info["feasible"]
    if mode == "direct":
        assert ret == pytest.approx(native, rel=1e-5)                  # exact up to float32 actions
    else:
        assert ret >= 0.99 * native                                    # the decoder re-solves the slot's powers


def test_algorithm6_round_trips_maxmin_direct():
    env = CellFreeSatUAVEnv(config="small", objective_mode="maxmin")
    _, info = env.reset(seed=1002)
    d = POLICIES["algorithm6"].load()(env.params, info["instance"])
    ret, _ = _through_env("direct", 1002, d, objective_mode="maxmin")
    assert ret == pytest.approx(m.evaluate(env.params, info["instance"], d).objective, rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["direct", "hybrid"])
def test_through_env_ranking_equals_native(mode):
    seeds = range(1000, 1008)
    native, env_score = {}, {}
    for seed in seeds:
        env = CellFreeSatUAVEnv(config="small")
        _, info = env.reset(seed=seed)
        for name in PAPER_SCHEMES:
            d = POLICIES[name].load()(env.params, info["instance"])
            native.setdefault(name, []).append(m.evaluate(env.params, info["instance"], d).objective)
            env_score.setdefault(name, []).append(_through_env(mode, seed, d)[0])
    order_native = sorted(PAPER_SCHEMES, key=lambda k: -np.mean(native[k]))
    order_env = sorted(PAPER_SCHEMES, key=lambda k: -np.mean(env_score[k]))
    assert order_native == order_env and order_native[0] == PAPER_SOLVER
    rng = np.random.default_rng(0)
    random_mean = np.mean([_through_env(mode, s, rng=rng)[0] for s in seeds for _ in range(4)])
    assert random_mean < min(np.mean(v) for v in env_score.values())
