"""device_free_localization envs: Gymnasium/SB3 checkers, PettingZoo tests, episode contract, bad input."""

import gymnasium as gym
import numpy as np
import pytest

import isac_envs  # noqa: F401
from isac_envs.device_free_localization import model
from isac_envs.device_free_localization.env import DeviceFreeLocalizationEnv
from isac_envs.device_free_localization.model import Decision, Params, evaluate, sample_instance

ENV_ID = "isac_envs/DeviceFreeLocalization-v1"
V0_ID = "isac_envs/DeviceFreeLocalization-v0"


def play(env, seed, actions):
    obs, info = env.reset(seed=seed)
    out = [(obs, None, info["instance"])]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out.append((obs, r, info["instance"]))
    return out


# ----------------------------------------------------------------------------- checkers
def test_gymnasium_check_env():
    from gymnasium.utils.env_checker import check_env

    check_env(gym.make(ENV_ID, config="small").unwrapped)


def test_sb3_check_env():
    from stable_baselines3.common.env_checker import check_env

    check_env(DeviceFreeLocalizationEnv(config="small"), warn=True)


def test_parallel_api_and_seed_tests():
    from pettingzoo.test import parallel_api_test, parallel_seed_test

    from isac_envs.multiagent import device_free_localization_v1 as m

    parallel_api_test(m.parallel_env(config="small"), num_cycles=30)
    parallel_seed_test(lambda: m.parallel_env(config="small"), num_cycles=30)
    aec = m.env(config="small")
    aec.reset(seed=0)
    assert aec.agents == ["bs_0", "bs_1", "bs_2"]


def test_import_stays_light():
    import subprocess
    import sys

    code = ("import sys, gymnasium as gym, isac_envs; gym.make('isac_envs/DeviceFreeLocalization-v1').reset(seed=0);"
            "bad=[m for m in ('cvxpy','torch','matplotlib','pettingzoo') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- episode contract
def test_episode_structure_reward_and_info():
    env = DeviceFreeLocalizationEnv(episode_length=4)
    obs, info = env.reset(seed=3)
    assert info["slot"] == 0 and env.observation_space.contains(obs)
    for t in range(4):
        inst = info["instance"]
        a = np.array([1.0, 0.2, -0.5], dtype=np.float32)
        obs, reward, term, trunc, info = env.step(a)
        ev = evaluate(env.params, inst, Decision(model.decode_power_w(a, env.params)))
        assert reward == pytest.approx(ev.objective - 2.0 * sum(ev.violations.values()), rel=1e-12)
        assert info["objective"] == ev.objective and info["violations"] == ev.violations
        assert info["slot"] == t and not term and trunc == (t == 3)
        assert info["instance"] is env.unwrapped.instance and info["instance"] is not inst
        np.testing.assert_array_equal(info["instance"].ue_positions_m, inst.ue_positions_m)  # UEs fixed
        assert obs[33] == pytest.approx((t + 1) / 4)
        np.testing.assert_allclose(info["tx_power_w"], model.decode_power_w(a, env.params))


def test_same_seed_same_episode():
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (12, 3)).astype(np.float32)
    a = play(DeviceFreeLocalizationEnv(), 42, actions)
    b = play(DeviceFreeLocalizationEnv(), 42, actions)
    for (o1, r1, i1), (o2, r2, i2) in zip(a, b):
        np.testing.assert_array_equal(o1, o2)
        assert r1 == r2 and i1 == i2
    c = play(DeviceFreeLocalizationEnv(), 43, actions)
    assert not np.array_equal(a[0][0], c[0][0])


def test_reset_replays_given_instance():
    inst = sample_instance(Params(), np.random.default_rng(7))
    env = DeviceFreeLocalizationEnv()
    obs, info = env.reset(seed=1, options={"instance": inst})
    assert info["instance"] is inst
    np.testing.assert_array_equal(obs, model.observation(env.params, inst, 0))
    with pytest.raises(TypeError, match="instance"):
        env.reset(options={"instance": "nope"})


def test_gym_make_overrides_and_config_exclusion():
    env = gym.make(ENV_ID, si_level_db=-90.0, config="small")
    assert env.unwrapped.params.si_level_db == -90.0 and env.unwrapped.params.episode_length == 8
    with pytest.raises(ValueError, match="either params= or config="):
        DeviceFreeLocalizationEnv(params=Params(), config="small")
    with pytest.raises(ValueError, match="num_bss"):
        DeviceFreeLocalizationEnv(num_bss=3)
    with pytest.raises(ValueError, match="penalty"):
        DeviceFreeLocalizationEnv(penalty=-1.0)


# ----------------------------------------------------------------------------- bad actions
@pytest.mark.parametrize("action,exc,match", [
    (np.array([0.0, np.nan, 0.0]), ValueError, "non-finite"),
    (np.array([np.inf, 0.0, 0.0]), ValueError, "non-finite"),
    (np.zeros(4), ValueError, "shape"),
    (np.zeros((2, 2)), ValueError, "shape"),
    ("abc", TypeError, "action"),
])
def test_bad_actions_raise(action, exc, match):
    env = DeviceFreeLocalizationEnv()
    env.reset(seed=0)
    with pytest.raises(exc, match=match):
        env.step(action)


def test_out_of_range_action_is_clipped():
    env = DeviceFreeLocalizationEnv()
    env.reset(seed=0)
    d = env.decode_action(np.array([5.0, -7.0, 1.0]))
    np.testing.assert_allclose(d.tx_power_w, env.params.max_power_w * np.array([1.0, 1e-8, 1.0]))  # 80 dB span


# ----------------------------------------------------------------------------- versions
def test_v0_keeps_the_40_db_span_and_the_same_episode():
    v0, v1 = gym.make(V0_ID, config="small").unwrapped, gym.make(ENV_ID, config="small").unwrapped
    assert v0.params.power_dynamic_range_db == 40.0 and v1.params.power_dynamic_range_db == 80.0
    a = np.array([-1.0, 0.0, 1.0], dtype=np.float32)
    np.testing.assert_allclose(v0.decode_action(a).tx_power_w, v0.params.max_power_w * np.array([1e-4, 1e-2, 1.0]))
    np.testing.assert_allclose(v1.decode_action(a).tx_power_w, v1.params.max_power_w * np.array([1e-8, 1e-4, 1.0]))
    # v0 keeps the spec's per-slot draws: its episode is sample_instance/advance_instance of the seed
    _, info0 = v0.reset(seed=5)
    assert info0["instance"] == sample_instance(v0.params, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    first = sample_instance(v0.params, rng)
    _, _, _, _, info0 = v0.step(a)
    assert info0["instance"] == model.advance_instance(v0.params, first, rng)
    _, info1 = v1.reset(seed=5)  # v1 draws in blocks: the same UEs and target (the same uniforms), other fading
    np.testing.assert_allclose(info1["instance"].target_position_m, first.target_position_m, rtol=1e-12)
    assert not np.allclose(info1["instance"].comm_fading, first.comm_fading)
    # the same powers on the same instance are the same decision in both versions: the same reward
    inst = sample_instance(v1.params, np.random.default_rng(8))
    v0.reset(seed=1, options={"instance": inst})
    v1.reset(seed=1, options={"instance": inst})
    p = np.array([30.0, 3.0, 39.0])
    _, r0, *_ = v0.step(v0.encode_action(Decision(p)))
    _, r1, *_ = v1.step(v1.encode_action(Decision(p)))
    assert r0 == pytest.approx(r1, rel=1e-5)
    assert gym.make(V0_ID, power_dynamic_range_db=60.0).unwrapped.params.power_dynamic_range_db == 60.0
    assert gym.spec(V0_ID).entry_point == gym.spec(ENV_ID).entry_point + "V0"  # v1 with v0's random stream


def test_pettingzoo_versions():
    from isac_envs.multiagent import device_free_localization_v0 as m0
    from isac_envs.multiagent import device_free_localization_v1 as m1

    e0, e1 = m0.parallel_env(config="small"), m1.parallel_env(config="small")
    assert e0.metadata["name"] == "device_free_localization_v0" and e0.params.power_dynamic_range_db == 40.0
    assert e1.metadata["name"] == "device_free_localization_v1" and e1.params.power_dynamic_range_db == 80.0
    assert m0.parallel_env(power_dynamic_range_db=50.0).params.power_dynamic_range_db == 50.0


def test_leaderboard_score_rule_documented():
    assert DeviceFreeLocalizationEnv.score_rule == "mean_reward"
    doc = DeviceFreeLocalizationEnv.__doc__
    assert "## Leaderboard score" in doc and "## Version History" in doc and "* v1:" in doc


def test_encode_decode_through_env():
    env = DeviceFreeLocalizationEnv()
    a = np.array([-0.3, 0.9, 1.0], dtype=np.float32)
    np.testing.assert_allclose(env.encode_action(env.decode_action(a)), a, atol=1e-6)
    assert env.encode_action(env.decode_action(a)).dtype == np.float32


# ----------------------------------------------------------------------------- render
def test_render_modes():
    env = DeviceFreeLocalizationEnv(render_mode="ansi")
    env.reset(seed=0)
    assert "no decision" in env.render()
    env.step(np.ones(3, dtype=np.float32))
    text = env.render()
    first, *bs_lines = text.strip().splitlines()
    assert first.startswith("t=1/50 target=(") and "feasible=" in first
    assert len(bs_lines) == 3 and bs_lines[0].startswith("BS0 P=46.0 dBm Gamma=") and "(thr 10.0)" in bs_lines[0]
    env2 = DeviceFreeLocalizationEnv(render_mode="rgb_array")
    env2.reset(seed=0)
    env2.step(np.ones(3, dtype=np.float32))
    img = env2.render()
    assert img.shape == (480, 480, 3) and img.dtype == np.uint8 and img.std() > 0
    with pytest.raises(ValueError, match="render_mode"):
        DeviceFreeLocalizationEnv(render_mode="human")


# ----------------------------------------------------------------------------- multi-agent variant
def test_parallel_matches_single_agent():
    from isac_envs.multiagent import device_free_localization_v1 as m

    par = m.parallel_env(episode_length=5)
    single = DeviceFreeLocalizationEnv(episode_length=5)
    obs, infos = par.reset(seed=9)
    s_obs, _ = single.reset(seed=9)
    np.testing.assert_array_equal(par.state(), s_obs)
    rng = np.random.default_rng(1)
    for t in range(5):
        joint = rng.uniform(-1, 1, 3).astype(np.float32)
        obs, rew, terms, truncs, infos = par.step({f"bs_{b}": joint[b:b + 1] for b in range(3)})
        s_obs, s_r, _, s_tr, s_info = single.step(joint)
        assert all(r == s_r for r in rew.values())
        np.testing.assert_array_equal(par.state(), s_obs)
        assert all(v == s_tr for v in truncs.values()) and not any(terms.values())
        m0 = s_info["metrics"]
        np.testing.assert_allclose(obs["bs_1"][20], np.log10(m0["range_std_m_1"]), rtol=1e-6)
        np.testing.assert_allclose(obs["bs_1"][22], np.log10(m0["range_std_max_m"]), rtol=1e-6)
        np.testing.assert_allclose(obs["bs_2"][23], joint[2], rtol=1e-6)
        np.testing.assert_allclose(obs["bs_0"][21], np.clip((m0["comm_sinr_db_0"] - 10) / 10, -10, 10), rtol=1e-5)
    assert par.agents == []


def test_local_observation_fields():
    from isac_envs.multiagent import device_free_localization_v1 as m

    par = m.parallel_env()
    obs, _ = par.reset(seed=4)
    team = par.state()
    cs, inr = team[0:9].reshape(3, 3), team[12:21].reshape(3, 3)
    for b in range(3):
        o = obs[f"bs_{b}"]
        np.testing.assert_array_equal(o[0:3], cs[:, b])
        np.testing.assert_array_equal(o[3:6], cs[b, :])
        assert o[6] == team[9 + b] and o[13] == team[21 + b] and o[14] == team[24]
        np.testing.assert_array_equal(o[7:10], inr[:, b])
        np.testing.assert_array_equal(o[10:13], inr[b, :])
        np.testing.assert_array_equal(o[15:17], team[27 + 2 * b:29 + 2 * b])
        np.testing.assert_array_equal(o[17:20], np.eye(3)[b])
        np.testing.assert_array_equal(o[20:24], 0.0)
