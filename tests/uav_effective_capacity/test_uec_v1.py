"""UAVEffectiveCapacity-v1 (the faithful env): checkers, reward = difference of evaluate(), codec,
feasibility projection, and the round-trip contract of issue 10 (native vs through-env scores,
ranking of the paper's schemes, uniform random actions below every feasible scheme)."""

import dataclasses
import importlib

import gymnasium as gym
import numpy as np
import pytest

import isac_envs  # noqa: F401
from baselines.policy import SolverPolicy
from isac_envs.core import load_config
from isac_envs.uav_effective_capacity import model as m
from isac_envs.uav_effective_capacity.env import UAVEffectiveCapacityEnv

ENV_ID = "isac_envs/UAVEffectiveCapacity-v1"
#: the paper's schemes in their native order on ``small`` (comm-only: infeasible there)
PAPER_ORDER = ("ao", "sdr", "wmmse", "random_deployment", "random_scheme", "comm_only")


def make(**kw):
    kw.setdefault("config", "small")
    return gym.make(ENV_ID, **kw)


def play(env, seed, policy):
    """One episode; returns (return, last info, rewards)."""
    obs, info = env.reset(seed=seed)
    rewards, done = [], False
    while not done:
        obs, r, term, trunc, info = env.step(policy(obs, info))
        rewards.append(r)
        done = term or trunc
    return float(np.sum(rewards)), info, np.array(rewards)


def random_policy(env, seed):
    rng = np.random.default_rng(seed)
    return lambda obs, info: rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)


# --------------------------------------------------------------------------- env contract
def test_checkers_spaces_and_registration():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check

    env = make()
    check_env(env.unwrapped)
    sb3_check(env.unwrapped)
    assert env.action_space.shape == (29,) and env.observation_space.shape == (43,)
    big = gym.make(ENV_ID)
    assert big.action_space.shape == (87,) and big.observation_space.shape == (107,)
    assert isac_envs.SYSTEMS["uav_effective_capacity"][0] == ENV_ID
    assert UAVEffectiveCapacityEnv.score_rule == "return"
    for old in ("isac_envs/UAVEffectiveCapacity-v0", "isac_envs/UAVEffectiveCapacityPlacement-v0"):
        e = gym.make(old, config="small")
        assert type(e.unwrapped).__name__ == "UAVEffectiveCapacityPlacementEnv"
        assert e.unwrapped.score_rule == "mean_reward" and e.action_space.shape == (8,)
    with pytest.raises(ValueError, match="action_basis"):
        make(action_basis="fourier")


def test_return_equals_evaluate_of_the_played_decision_and_psi_structure():
    env = make()
    ret, info, rewards = play(env, 7, random_policy(env, 0))
    p = env.unwrapped.params
    L = p.num_samples
    assert len(rewards) == L + 1 and rewards[0] == 0.0
    dec = env.unwrapped.episode_decision()
    ev = m.evaluate(p, info["instance"], dec)
    assert ret == pytest.approx(ev.penalised(p.penalty), rel=1e-12, abs=1e-12)
    assert info["objective"] == pytest.approx(ev.objective, rel=1e-12)
    assert info["feasible"] == ev.feasible and info["block"] == L - 1 and info["slot"] == L
    assert set(info["metrics"]) == set(ev.metrics)
    # partial sums: Psi_n = (n/L) evaluate(first n blocks).penalised
    for n in (1, 17, 120):
        inst_n = dataclasses.replace(info["instance"], fading=info["instance"].fading[:n])
        dec_n = m.Decision(dec.uav_pos, dec.beamformers[:n], dec.sensing_cov[:n])
        psi = n / L * m.evaluate(p, inst_n, dec_n).penalised(p.penalty)
        assert np.sum(rewards[:n + 1]) == pytest.approx(psi, rel=1e-10, abs=1e-10)
    with pytest.raises(RuntimeError, match="ended"):
        env.step(env.action_space.sample())


def test_decode_action_is_the_constant_action_episode():
    env = make()
    env.reset(seed=4)
    a = np.random.default_rng(5).uniform(-1, 1, 29).astype(np.float32)
    dec = env.unwrapped.decode_action(a)
    ret, info, _ = play(env, 4, lambda obs, info: a)
    ev = m.evaluate(env.unwrapped.params, info["instance"], dec)
    assert ret == pytest.approx(ev.penalised(env.unwrapped.params.penalty), rel=1e-12)
    np.testing.assert_allclose(env.unwrapped.episode_decision().beamformers, dec.beamformers, atol=1e-14)


def test_determinism_and_replay():
    acts = np.random.default_rng(3).uniform(-1, 1, (201, 29)).astype(np.float32)

    def run(env, seed, **opts):
        obs, info = env.reset(seed=seed, **opts)
        out, rew = [obs], []
        for a in acts:
            obs, r, term, _, info = env.step(a)
            out.append(obs)
            rew.append(r)
        assert term
        return np.array(out), np.array(rew), info

    o1, r1, info = run(make(), 5)
    o2, r2, _ = run(make(), 5)
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(r1, r2)
    o3, r3, _ = run(make(), 99, options={"instance": info["instance"]})
    np.testing.assert_array_equal(r1, r3)
    o4, _, _ = run(make(), 6)
    assert not np.array_equal(o1[0], o4[0])


def test_observation_fields():
    env = make()
    p = env.unwrapped.params
    obs, info = env.reset(seed=2)
    inst = info["instance"]
    assert obs[0] == 1.0 and obs[1] == 1.0 and np.all(obs[2:4] == 0.0)  # placement step, centre
    np.testing.assert_allclose(obs[4:8], ((inst.user_pos - [50, 100]) / 200).ravel(), rtol=1e-6)
    assert np.all(obs[16:40] == 0.0)  # no CSI before placement
    a = np.zeros(29, np.float32)
    a[0:2] = [0.2, 0.4]
    obs, *_ = env.step(a)
    q = p.lo + (np.array([0.2, 0.4], np.float32).astype(float) + 1) / 2 * (p.hi - p.lo)
    np.testing.assert_allclose(env.unwrapped._q, q)
    ht = m.normalised_channels(p, inst, q)[0]
    a_t, dt2 = m.target_geometry(p, inst, q)
    assert obs[0] == 0.0 and obs[1] == 1.0
    np.testing.assert_allclose(obs[16:24], ht.real.ravel(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(obs[24:32], ht.imag.ravel(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(obs[32:36], a_t.real, rtol=1e-6, atol=1e-6)
    assert obs[12] == pytest.approx(min(p.sensing_threshold * dt2 / (4 * p.p_max), 5.0), rel=1e-6)


# --------------------------------------------------------------------------- codec
@pytest.fixture(scope="module")
def small():
    return load_config(m.Params, "uav_effective_capacity", "small")


def _block_geometry(p, seed=0, q=(60.0, 120.0)):
    inst = m.sample_instance(p, np.random.default_rng(seed))
    q = np.array(q)
    ht = m.normalised_channels(p, inst, q)
    return inst, q, ht, m.user_gains(p, inst, q), *m.target_geometry(p, inst, q)


def test_householder_basis_is_unitary_with_anchor_first(small):
    rng = np.random.default_rng(0)
    u = rng.standard_normal((5, 4)) + 1j * rng.standard_normal((5, 4))
    u[0] = [1, 0, 0, 0]  # anchor = e_0 exactly
    u[1] = [-1j, 0, 0, 0]
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    Q = np.stack([m.basis_apply(u, np.broadcast_to(e, (5, 4))) for e in np.eye(4)], axis=-1)  # (5, M, M)
    np.testing.assert_allclose(np.swapaxes(Q.conj(), 1, 2) @ Q, np.broadcast_to(np.eye(4), (5, 4, 4)), atol=1e-14)
    np.testing.assert_allclose(Q[:, :, 0], u, atol=1e-15)
    d = rng.standard_normal((5, 4)) + 1j * rng.standard_normal((5, 4))
    np.testing.assert_allclose(m.basis_apply(u, m.basis_coords(u, d)), d, atol=1e-14)


def test_decode_block_hand_values(small):
    p = small
    inst, q, ht, g, a_t, dt2 = _block_geometry(p)
    K, M, P = 2, 4, p.p_max
    sl = m.v1_action_slices(p)
    a = np.zeros(29)
    c = np.zeros((K + 1, M, 2))
    c[0, 0, 0], c[0, 1, 0], c[1, 0, 0], c[1, 2, 1] = -1.0, 0.5, -1.0, -1.0  # e_0 + c^3: e_1, -j e_2; sensing e_0
    a[sl["comm"]] = c[:K].ravel()
    a[sl["sensing"]] = c[K].ravel()
    a[sl["power"]] = [0.0, -0.5, -0.8]  # f = (0.5, 0.25, 0.1): sum < 1, kept
    W, v, ps = m.decode_block(p, a, ht[0], g, a_t, dt2, basis="antenna")
    s0, s1 = np.linalg.norm(W[:, 0]), np.linalg.norm(W[:, 1])
    np.testing.assert_allclose(W[:, 0], s0 * np.eye(4)[1], atol=1e-15)
    np.testing.assert_allclose(W[:, 1], s1 * -1j * np.eye(4)[2], atol=1e-15)
    assert s0**2 / s1**2 == pytest.approx(2.0, rel=1e-12)  # relative comm powers always kept
    gain = (np.sum(np.abs(a_t.conj() @ W) ** 2) + ps * np.abs(v @ a_t.conj()) ** 2) / dt2
    unprojected_gain = (5.0 * abs(a_t[1]) ** 2 + 2.5 * abs(a_t[2]) ** 2 + 1.0 * abs(a_t[0]) ** 2) / dt2
    if unprojected_gain >= p.sensing_threshold:  # C1 met: the action is played as is
        assert (s0**2, s1**2, ps) == pytest.approx((5.0, 2.5, 1.0), rel=1e-12)
    else:  # C1 missed: (S22) with total P, C1 met with the least sensing power
        assert unprojected_gain < p.sensing_threshold
        assert s0**2 + s1**2 + ps == pytest.approx(P, rel=1e-12) and gain >= p.sensing_threshold * (1 - 1e-12)
        assert ps == 0.0 or gain == pytest.approx(p.sensing_threshold, rel=1e-12)
    W, v, ps = m.decode_block(p, a, ht[0], g, a_t, 1e-3, basis="antenna")  # tiny distance: C1 easy
    assert (np.sum(np.abs(W[:, 0]) ** 2), np.sum(np.abs(W[:, 1]) ** 2), ps) == pytest.approx((5.0, 2.5, 1.0))
    # channel basis: c = e_0 for every beam is the MMSE direction of each user and X^-1 a_t
    a0 = np.zeros(29)
    a0[sl["power"]] = [1.0, 1.0, -1.0]  # f = (1, 1, 0) -> scaled to (0.5, 0.5, 0): C2
    W, v, ps = m.decode_block(p, a0, ht[0], g, a_t, dt2, basis="channel")
    X = np.eye(M) + sum(P * g[k] / (K * p.noise_power) * np.outer(ht[0, k], ht[0, k].conj()) for k in range(K))
    for k in range(K):
        u = np.linalg.solve(X, ht[0, k])
        u /= np.linalg.norm(u)
        assert abs(np.vdot(u, W[:, k])) ** 2 == pytest.approx(np.sum(np.abs(W[:, k]) ** 2), rel=1e-12)
    assert np.sum(np.abs(W) ** 2) + ps == pytest.approx(P, rel=1e-12)


def test_feasibility_projection_only_when_needed(small):
    p = small
    inst, q, ht, g, a_t, dt2 = _block_geometry(p, q=(10.0, 100.0))  # above the target: C1 easy
    sl = m.v1_action_slices(p)
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, 29)
    a[sl["power"]] = [-0.9, -0.9, 0.6]  # f = (0.05, 0.05, 0.8): 9 W, strong target beam
    a[sl["sensing"]] = 0.0  # the anchor X^-1 a_t
    W, v, ps = m.decode_block(p, a, ht[0], g, a_t, dt2)
    assert np.sum(np.abs(W) ** 2) + ps == pytest.approx(0.9 * p.p_max)  # not projected: power kept below P
    inst, q, ht, g, a_t, dt2 = _block_geometry(p, q=(100.0, 200.0))  # far from the target
    for _ in range(20):
        a = rng.uniform(-1, 1, 29)
        W, v, ps = m.decode_block(p, a, ht[0], g, a_t, dt2)
        gain = (np.sum(np.abs(a_t.conj() @ W) ** 2) + ps * np.abs(v @ a_t.conj()) ** 2) / dt2
        total = np.sum(np.abs(W) ** 2) + ps
        assert total <= p.p_max * (1 + 1e-12)
        if p.sensing_threshold * dt2 <= 4 * p.p_max:
            assert gain >= p.sensing_threshold * (1 - 1e-12)


def test_encode_decode_identity_for_rank_one_designs(small):
    p = small
    inst, q, ht, g, a_t, dt2 = _block_geometry(p)
    rng = np.random.default_rng(2)
    L = 6
    for basis in ("channel", "antenna"):
        V = rng.standard_normal((L, 4, 2)) + 1j * rng.standard_normal((L, 4, 2))
        v = rng.standard_normal((L, 4)) + 1j * rng.standard_normal((L, 4))
        W, v, ps = m.split_power(V, v, a_t, p.p_max, p.sensing_threshold * dt2)
        R = m.rank_one_cov(v, ps)
        act = m.encode_block(p, W, R, ht[:L], g, a_t, basis)
        a = np.concatenate([np.zeros((L, 2)), act], axis=1)
        W2, v2, ps2 = m.decode_block(p, a, ht[:L], g, a_t, dt2, basis)
        outer = lambda X: np.einsum("lmk,lnk->lkmn", X, X.conj())  # noqa: E731  (per-beam, phase-free)
        np.testing.assert_allclose(outer(W2), outer(W), atol=1e-12)
        np.testing.assert_allclose(m.rank_one_cov(v2, ps2), R, atol=1e-12)
        assert np.all(np.abs(act) <= 1.0)


# --------------------------------------------------------------------------- round trip (issue 10 item 4)
def through_env(env, solver_name, seed):
    """(through-env return, through-env objective, feasible, native Evaluation) of a registered solver."""
    import baselines.uav_effective_capacity as bl

    spec = bl.POLICIES[solver_name]
    policy = SolverPolicy(spec.load(), env, replan=spec.load_replan(), **spec.options)
    ret, info, _ = play(env, seed, policy.act)
    assert policy.solver_calls == 1
    native = bl.native_score(env.unwrapped.params, info["instance"], policy.decision)
    return ret, info["objective"], info["feasible"], native


@pytest.mark.parametrize("solver", ["ao", "sdr", "wmmse", "random_scheme", "random_deployment", "comm_only",
                                    pytest.param("ergodic", marks=pytest.mark.slow)])
def test_round_trip_every_registered_solver(solver):
    env = make()
    p = env.unwrapped.params
    ret, obj, feas, native = through_env(env, solver, 2_000_000)
    assert feas == native.feasible
    assert ret == pytest.approx(native.penalised(p.penalty), rel=1e-6, abs=1e-6)
    assert obj == pytest.approx(native.objective, rel=1e-6, abs=1e-9)


def test_every_registered_solver_is_covered():
    import baselines.uav_effective_capacity as bl

    assert set(bl.POLICIES) == set(PAPER_ORDER) | {"ergodic"}
    assert bl.PAPER_SOLVER == "ao"


@pytest.mark.slow
def test_through_env_ranking_equals_native_ranking_and_random_is_below():
    """8 test seeds: the through-env ranking of the paper's schemes is the native one; uniform random
    actions (one stream per seed) score below every feasible scheme."""
    from agents.seeds import eval_seeds

    env = make()
    p = env.unwrapped.params
    seeds = eval_seeds(8)
    env_scores, native_scores = {}, {}
    for name in PAPER_ORDER:
        rows = [through_env(env, name, s) for s in seeds]
        env_scores[name] = np.mean([r[0] for r in rows])
        native_scores[name] = np.mean([r[3].penalised(p.penalty) for r in rows])
        for ret, _, _, native in rows:
            assert ret == pytest.approx(native.penalised(p.penalty), rel=1e-6, abs=1e-6)
    assert sorted(PAPER_ORDER, key=lambda n: -native_scores[n]) == list(PAPER_ORDER)
    assert sorted(PAPER_ORDER, key=lambda n: -env_scores[n]) == list(PAPER_ORDER)
    rand = np.mean([play(env, s, random_policy(env, 1000 + i))[0] for i, s in enumerate(seeds)])
    assert rand < min(env_scores[n] for n in PAPER_ORDER if n != "comm_only")


def test_solver_policy_encodes_step_by_step_and_statistical_designs():
    from baselines.uav_effective_capacity import ao

    env = make()
    obs, info = env.reset(seed=1)
    inst = info["instance"]
    dec = ao.beamforming(env.unwrapped.params, inst, (60.0, 120.0))
    stat = m.Decision(dec.uav_pos, dec.beamformers[0], dec.sensing_cov[0])  # (M, K) / (M, M): every block
    a0 = env.unwrapped.encode_action(stat)
    assert np.all(a0[2:] == 0)
    with pytest.raises(RuntimeError, match="place the UAV"):
        env.unwrapped.encode_action(stat, step=1)
    env.step(a0)
    actions = [env.unwrapped.encode_action(stat)]
    env.step(actions[0])
    actions.append(env.unwrapped.encode_action(stat))
    assert not np.array_equal(actions[0][2:], actions[1][2:])  # the channel basis follows the block's CSI
    mod = importlib.import_module("baselines.uav_effective_capacity")
    assert mod.POLICIES["ao"].replan == "users_moved"


def test_render_modes():
    import re

    env = make(render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == "block 0/200 (UAV not placed yet)"
    env.step(np.zeros(29, np.float32))
    env.step(np.zeros(29, np.float32))
    assert re.fullmatch(r"block 1/200 q=\(50\.0,100\.0\) EC so far=\d+\.\d\d return=-?\d+\.\d\d feasible", env.render())
    env = make(render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img.shape == (400, 400, 3) and img.dtype == np.uint8
    assert np.any(np.all(img == (30, 60, 220), axis=2)) and np.any(np.all(img == (20, 160, 40), axis=2))
