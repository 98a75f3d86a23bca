"""SB3 through native vector envs (agents.vec): the adapter hands SB3 exactly what DummyVecEnv would."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

import isac_envs  # noqa: F401  (registers the ids)
from agents.perf_training import CartPoleSameStepVectorEnv
from agents.vec import VectorEnvAdapter, native_vector_env, unbatch_info

HORIZON, LIMIT = 6, 1.5


class Walk(gym.Env):
    """A 1-D random walk pushed by the action; terminates past |x| > LIMIT, truncated after HORIZON steps.

    reward = -(a - target)^2 with target = -x (a contextual bandit PPO learns in a few rollouts).
    """

    observation_space = spaces.Box(-10.0, 10.0, (2,), np.float32)
    action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.t = float(self.np_random.uniform(-1, 1)), 0
        return self._obs(), {"x": self.x}

    def _obs(self):
        return np.array([self.x, self.t / HORIZON], np.float32)

    def step(self, action):
        a = float(np.clip(action, -1, 1)[0])
        reward = -(a + self.x) ** 2
        self.x += 0.5 * a + float(self.np_random.normal(0, 0.6))
        self.t += 1
        terminated = abs(self.x) > LIMIT
        truncated = self.t >= HORIZON and not terminated
        return self._obs(), reward, terminated, truncated, {"x": self.x, "objective": -reward}


class WalkVector(VectorEnv):
    """The batched Walk, SAME_STEP autoreset, env i drawing from its own generator (contract 5 shape)."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int):
        self.num_envs = num_envs
        self.single_observation_space, self.single_action_space = Walk.observation_space, Walk.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

    def reset(self, *, seed=None, options=None):
        seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else (seed or [None] * self.num_envs)
        # the generator gym.Env.reset(seed=s) builds
        self.rngs = [gym.utils.seeding.np_random(s)[0] for s in seeds]
        self.x = np.array([r.uniform(-1, 1) for r in self.rngs])
        self.t = np.zeros(self.num_envs, int)
        return self._obs(), {"x": self.x.copy(), "_x": np.ones(self.num_envs, bool)}

    def _obs(self):
        return np.stack([self.x, self.t / HORIZON], axis=1).astype(np.float32)

    def step(self, actions):
        a = np.clip(np.asarray(actions, np.float64), -1, 1)[:, 0]
        reward = -(a + self.x) ** 2
        self.x = self.x + 0.5 * a + np.array([r.normal(0, 0.6) for r in self.rngs])
        self.t += 1
        terminated = np.abs(self.x) > LIMIT
        truncated = (self.t >= HORIZON) & ~terminated
        all_true = np.ones(self.num_envs, bool)
        infos = {"x": self.x.copy(), "_x": all_true, "objective": -reward, "_objective": all_true}
        done = terminated | truncated
        if done.any():
            infos.update(final_obs=self._obs(), _final_obs=done, _final_info=done,
                         final_info={"x": self.x.copy(), "_x": done, "objective": -reward, "_objective": done})
            for i in np.flatnonzero(done):
                self.x[i], self.t[i] = self.rngs[i].uniform(-1, 1), 0
            infos["x"] = self.x.copy()
            infos["_objective"] = ~done  # the reset info of a finished env has no objective
        return self._obs(), reward, terminated, truncated, infos


def _dummy(n):
    return DummyVecEnv([lambda: Walk()] * n)


def _rollout(vec, steps, seed):
    rng = np.random.default_rng(123)
    vec.seed(seed)
    out = [vec.reset()]
    for _ in range(steps):
        actions = rng.uniform(-1, 1, size=(vec.num_envs, *vec.action_space.shape)).astype(np.float32)
        out.append(vec.step(actions))
    return out


def test_adapter_hands_sb3_what_dummyvecenv_does():
    n, steps = 5, 40
    ref, got = _rollout(_dummy(n), steps, seed=7), _rollout(VectorEnvAdapter(WalkVector(n)), steps, seed=7)
    np.testing.assert_array_equal(ref[0], got[0])
    n_term = n_trunc = 0
    for (o1, r1, d1, i1), (o2, r2, d2, i2) in zip(ref[1:], got[1:]):
        np.testing.assert_allclose(o2, o1, rtol=0, atol=1e-7)
        np.testing.assert_allclose(r2, r1, rtol=1e-7)
        np.testing.assert_array_equal(d2, d1)
        for a, b in zip(i1, i2):
            assert set(a) == set(b)
            if "terminal_observation" in a:
                np.testing.assert_allclose(b["terminal_observation"], a["terminal_observation"], atol=1e-7)
                assert b["TimeLimit.truncated"] == a["TimeLimit.truncated"]
                assert abs(b["terminal_observation"][0]) > LIMIT or b["TimeLimit.truncated"]
                n_term += not a["TimeLimit.truncated"]
                n_trunc += a["TimeLimit.truncated"]
            assert b["objective"] == pytest.approx(a["objective"], rel=1e-12)  # the terminal step's info
    assert n_term > 0 and n_trunc > 0  # both episode ends were exercised


def test_adapter_over_syncvectorenv_of_a_real_env_matches_dummyvecenv():
    env_id, n = "isac_envs/DeviceFreeLocalization-v0", 3
    sync = gym.make_vec(env_id, num_envs=n, vectorization_mode="sync", config="small",
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
    dummy = DummyVecEnv([lambda: gym.make(env_id, config="small")] * n)
    a, b = _rollout(dummy, 10, seed=3), _rollout(VectorEnvAdapter(sync), 10, seed=3)
    ends = 0
    for (o1, r1, d1, i1), (o2, r2, d2, i2) in zip(a[1:], b[1:]):
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
        for x, y in zip(i1, i2):
            if "terminal_observation" in x:
                ends += 1
                np.testing.assert_array_equal(x["terminal_observation"], y["terminal_observation"])
                assert x["TimeLimit.truncated"] == y["TimeLimit.truncated"]
                assert x["objective"] == y["objective"]
    assert ends == n  # every env finished its 8-slot episode once


def test_seed_semantics():
    vec = VectorEnvAdapter(WalkVector(3))
    vec.seed(11)
    first = vec.reset()
    assert vec.reset().tolist() != first.tolist()  # a seed is used once, as in SB3
    vec.seed(11)
    np.testing.assert_array_equal(vec.reset(), first)
    single = Walk()
    assert single.reset(seed=12)[0][0] == first[1, 0]  # env i starts from seed + i
    streams = VectorEnvAdapter(WalkVector(3), reset_seed=lambda i, k: 1000 * k + i)
    np.testing.assert_array_equal(streams.reset()[:, 0], [Walk().reset(seed=s)[0][0] for s in (0, 1, 2)])
    np.testing.assert_array_equal(streams.reset()[:, 0], [Walk().reset(seed=s)[0][0] for s in (1000, 1001, 1002)])


def test_unbatch_info_respects_masks_and_nesting():
    infos = {"a": np.array([1, 2]), "_a": np.array([True, False]), "d": {"b": np.array([3, 4]), "_b": np.array([0, 1], bool)},
             "_d": np.array([True, True])}
    assert unbatch_info(infos, 0) == {"a": 1, "d": {}}
    assert unbatch_info(infos, 1) == {"d": {"b": 4}}


def test_next_step_autoreset_is_refused_with_a_clear_error():
    from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

    with pytest.raises(ValueError, match="SAME_STEP"):
        VectorEnvAdapter(CartPoleVectorEnv(num_envs=2))


def test_cartpole_native_terminal_observations():
    """Gymnasium's native CartPole vector env (SAME_STEP): terminal obs past the limits, next obs a fresh start."""
    vec = VectorEnvAdapter(CartPoleSameStepVectorEnv(num_envs=8))
    vec.seed(0)
    vec.reset()
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(200):
        obs, rew, dones, infos = vec.step(rng.integers(0, 2, size=8))
        assert (rew == 1.0).all()
        for i in np.flatnonzero(dones):
            term = infos[i]["terminal_observation"]
            assert abs(term[0]) > 2.4 or abs(term[2]) > 12 * 2 * np.pi / 360
            assert not infos[i]["TimeLimit.truncated"]
            assert np.all(np.abs(obs[i]) <= 0.05)  # the new episode's first observation
            ended += 1
    assert ended > 20


def _train(vec, seed=0, steps=1024):
    model = PPO("MlpPolicy", VecNormalize(vec, gamma=0.0), seed=seed, n_steps=64, batch_size=64, gamma=0.0,
                learning_rate=3e-3, n_epochs=5, device="cpu")
    model.learn(steps)
    return model


def test_ppo_through_the_adapter_equals_ppo_through_dummyvecenv_and_is_deterministic():
    ref = _train(_dummy(4), steps=512)
    got = _train(VectorEnvAdapter(WalkVector(4)), steps=512)
    again = _train(VectorEnvAdapter(WalkVector(4)), steps=512)
    for p_ref, p_got, p_again in zip(ref.policy.parameters(), got.policy.parameters(), again.policy.parameters()):
        np.testing.assert_array_equal(p_got.detach().numpy(), p_ref.detach().numpy())
        np.testing.assert_array_equal(p_got.detach().numpy(), p_again.detach().numpy())


def test_ppo_learns_through_the_adapter():
    def mean_reward(model):
        env, total = Walk(), 0.0
        for s in range(30):
            obs, _ = env.reset(seed=10_000 + s)
            obs_n = model.get_env().normalize_obs(obs)
            total += -(float(model.predict(obs_n, deterministic=True)[0][0]) + obs[0]) ** 2
        return total / 30

    untrained = PPO("MlpPolicy", VecNormalize(VectorEnvAdapter(WalkVector(4)), gamma=0.0), seed=0, device="cpu")
    untrained.get_env().reset()
    trained = _train(VectorEnvAdapter(WalkVector(8)), steps=4096)
    assert mean_reward(trained) > 0.5 * mean_reward(untrained)  # rewards <= 0: error at least halved
    assert mean_reward(trained) > -0.1


def test_native_vector_env_lookup():
    assert native_vector_env("CartPole-v1", 2) is None  # native, but NEXT_STEP autoreset: not SB3-usable
    from agents.vec import has_vector_entry_point

    assert has_vector_entry_point("CartPole-v1")
    assert not has_vector_entry_point("Pendulum-v1")
    assert native_vector_env("Pendulum-v1", 2) is None
