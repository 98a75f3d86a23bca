"""SolverPolicy semantics on a toy env: replan rules, act/predict, episode detection."""

import gymnasium as gym
import numpy as np
import pytest

from baselines.policy import RandomPolicy, SolverPolicy


class ToyEnv(gym.Env):
    """Instance = an integer drawn per step; the ideal action encodes it."""

    def __init__(self):
        self.action_space = gym.spaces.Box(-1, 1, (1,), np.float32)
        self.observation_space = gym.spaces.Box(-1, 1, (1,), np.float32)
        self.params = {"scale": 10.0}

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.instance = int(self.np_random.integers(0, 10))
        self.t = 0
        return np.zeros(1, np.float32), {"slot": 0, "instance": self.instance}

    def encode_action(self, decision):
        return np.array([decision / 10.0], np.float32)

    def step(self, action):
        obj = -abs(float(action[0]) * 10.0 - self.instance)
        self.t += 1
        self.instance = int(self.np_random.integers(0, 10))
        info = {"objective": obj, "slot": self.t - 1, "instance": self.instance, "feasible": True, "metrics": {}}
        return np.zeros(1, np.float32), obj, False, self.t >= 4, info


def solver(params, instance, offset=0):
    return instance + offset


def play(policy, env, seed):
    obs, info = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, r, term, trunc, info = env.step(policy.act(obs, info))
        total += r
        done = term or trunc
    return total


def test_step_replan_is_optimal_and_calls_every_step():
    env = ToyEnv()
    pol = SolverPolicy(solver, env)
    assert play(pol, env, 0) == pytest.approx(0.0, abs=1e-5)
    assert pol.solver_calls == 4


def test_episode_replan_calls_once_per_episode():
    env = ToyEnv()
    pol = SolverPolicy(solver, env, replan="episode")
    play(pol, env, 0)
    play(pol, env, 1)
    assert pol.solver_calls == 2


def test_predicate_replan_and_options():
    env = ToyEnv()
    pol = SolverPolicy(solver, env, replan=lambda prev, new: new != prev, offset=0)
    assert play(pol, env, 3) == pytest.approx(0.0, abs=1e-5)
    worse = SolverPolicy(solver, env, offset=1)
    assert play(worse, env, 3) == pytest.approx(-4.0, abs=1e-5)


def test_predict_reads_env_instance():
    env = ToyEnv()
    env.reset(seed=5)
    pol = SolverPolicy(solver, env)
    action, state = pol.predict(np.zeros(1), episode_start=np.array([True]))
    assert state is None
    assert action[0] == pytest.approx(env.instance / 10.0)


def test_bad_arguments():
    with pytest.raises(TypeError):
        SolverPolicy(42, ToyEnv())
    with pytest.raises(ValueError, match="replan"):
        SolverPolicy(solver, ToyEnv(), replan="sometimes")
    with pytest.raises(KeyError):
        SolverPolicy(solver, ToyEnv()).act(np.zeros(1), {})


def test_random_policy_is_seeded():
    env = ToyEnv()
    a, b = RandomPolicy(env), RandomPolicy(env)
    a.reset(seed=7)
    b.reset(seed=7)
    np.testing.assert_array_equal(a.act(None, {}), b.act(None, {}))
    assert env.action_space.contains(a.act(None, {}))


def test_random_policy_streams_are_seeded_from_seed_and_stream():
    env = ToyEnv()
    space = gym.spaces.Box(-1, 1, (5,), np.float32)
    env.action_space = space

    def actions(stream, seed, n=3):
        pol = RandomPolicy(env, stream=stream)
        pol.reset(seed=seed)
        return np.array([pol.act(None, {}) for _ in range(n)])

    np.testing.assert_array_equal(actions(2, 11), actions(2, 11))
    assert not np.array_equal(actions(0, 11), actions(1, 11))  # streams differ
    assert not np.array_equal(actions(0, 11), actions(0, 12))  # seeds differ
    expected = np.random.default_rng([11, 2]).uniform(space.low, space.high).astype(np.float32)
    np.testing.assert_array_equal(actions(2, 11, 1)[0], expected)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="stream"):
            RandomPolicy(env, stream=bad)
