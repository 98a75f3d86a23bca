"""The leaderboard's score: the env's own reward rule, the random anchor, IQM, flags, CSV/JSON."""

import csv
import json

import numpy as np
import pytest

from agents.evaluation import (
    EpisodeResult,
    episode_score,
    iqm,
    make_env,
    run_episode,
    run_policy,
    run_random,
    stratified_bootstrap_ci,
)
from agents.leaderboard import CSV_COLUMNS, FLAG, Row, summarise, write_results
from agents.seeds import eval_seeds
from agents.systems import get_system, score_rule_of
from baselines.policy import RandomPolicy, SolverPolicy


def test_episode_score_rules_by_hand():
    assert episode_score([1.0, 2.0, 6.0], "mean_reward") == 3.0
    assert episode_score([1.0, 2.0, 6.0], "return") == 9.0
    with pytest.raises(ValueError, match="score_rule"):
        episode_score([1.0], "last")


def test_score_rule_default_and_env_attribute(monkeypatch):
    dfl, cfsu = get_system("device_free_localization"), get_system("cell_free_sat_uav")
    cls = type(make_env(cfsu, "small").unwrapped)
    expected_cfsu = getattr(cls, "score_rule", "return")
    assert cfsu.score_rule == expected_cfsu == "return"
    assert dfl.score_rule == "mean_reward"
    dfl_cls = type(make_env(dfl, "small").unwrapped)
    monkeypatch.setattr(dfl_cls, "score_rule", "return", raising=False)
    assert score_rule_of(dfl.env_id, dfl.name) == "return"  # the env's attribute wins
    monkeypatch.setattr(dfl_cls, "score_rule", "median", raising=False)
    with pytest.raises(ValueError, match="score_rule"):
        dfl.score_rule


def _manual_rewards(env, policy, seed):
    obs, info = env.reset(seed=seed)
    policy.reset(seed=seed)
    rewards, infos, done = [], [], False
    while not done:
        obs, r, term, trunc, info = env.step(policy.act(obs, info))
        rewards.append(r)
        infos.append(info)
        done = term or trunc
    return rewards, infos


def test_dfl_score_is_mean_penalised_reward_and_feasible_a_fraction():
    system = get_system("device_free_localization")
    env = make_env(system, "small")
    seed = eval_seeds(1)[0]
    rewards, infos = _manual_rewards(env, RandomPolicy(env, stream=3), seed)
    ep = run_episode(env, RandomPolicy(env, stream=3), seed, score_rule="mean_reward")
    assert ep.score == pytest.approx(np.mean(rewards), rel=1e-12)
    assert ep.objective == pytest.approx(np.mean([i["objective"] for i in infos]), rel=1e-12)
    assert ep.feasible == pytest.approx(np.mean([i["feasible"] for i in infos]))
    assert ep.score < ep.objective  # random actions violate C1, the penalty bites


def test_cfsu_score_is_the_return_equal_to_the_whole_flight_objective():
    system = get_system("cell_free_sat_uav")
    env = make_env(system, "small")
    from baselines.cell_free_sat_uav import algorithm3

    seed = eval_seeds(1)[0]
    ep = run_episode(env, SolverPolicy(algorithm3.solve, env, replan="episode"), seed, system.episode_objective,
                     score_rule=system.score_rule)
    assert ep.score == pytest.approx(ep.reward, rel=1e-12)  # the return
    assert ep.score == pytest.approx(ep.objective, rel=1e-9)  # feasible flight: no penalty


def test_random_streams_are_deterministic_independent_and_averaged():
    system = get_system("device_free_localization")
    env = make_env(system, "small")
    seeds = eval_seeds(2)
    a = run_random(env, seeds, streams=4, score_rule="mean_reward")
    run_policy(env, RandomPolicy(env, stream=9), eval_seeds(3, 5))  # unrelated work in between
    b = run_random(env, seeds, streams=4, score_rule="mean_reward")
    assert [e.score for e in a] == [e.score for e in b]
    singles = [run_episode(env, RandomPolicy(env, stream=k), seeds[0]) for k in range(4)]
    assert len({e.score for e in singles}) == 4  # distinct streams
    assert a[0].score == pytest.approx(np.mean([e.score for e in singles]), rel=1e-12)
    assert a[0].feasible == pytest.approx(np.mean([e.feasible for e in singles]), rel=1e-12)
    assert a[0].streams == 4
    with pytest.raises(ValueError, match="streams"):
        run_random(env, seeds, streams=0)


def test_iqm_matches_trimmed_mean_and_hand_value():
    from scipy.stats import trim_mean

    assert iqm([1, 2, 3, 4, 5, 6, 7, 8]) == 4.5
    assert iqm([5.0, -100.0, 6.0, 7.0, 1e6]) == pytest.approx(6.0)  # outliers trimmed
    x = np.random.default_rng(0).normal(size=(7, 37))
    np.testing.assert_allclose(iqm(x, axis=-1), trim_mean(x, 0.25, axis=-1), rtol=1e-12)


def test_stratified_bootstrap_keeps_stratum_sizes():
    x = np.array([0.0] * 3 + [10.0] * 7)
    strata = np.array([0] * 3 + [1] * 7)
    lo, hi = stratified_bootstrap_ci(x, np.mean, strata=strata)
    assert lo == hi == pytest.approx(7.0)  # every resample has 3 zeros and 7 tens
    lo, hi = stratified_bootstrap_ci(x, np.mean)
    assert lo < 6.0 and hi > 8.0  # without strata the mix varies
    with pytest.raises(ValueError, match="strata"):
        stratified_bootstrap_ci(x, np.mean, strata=[0, 1])


def _ep(seed, score, objective, feasible, metric=1.0):
    return EpisodeResult(seed, objective, score, feasible, {"range_std_max_m": metric}, 1e-3, 1, score=score)


def _rows():
    seeds = [1, 2, 3, 4]
    paper = Row("sca", "solver", [_ep(s, -1.0 - 0.1 * s, -1.0 - 0.1 * s, 1.0) for s in seeds])
    best = Row("bisection_optimum", "solver", [_ep(s, -0.9 - 0.1 * s, -0.9 - 0.1 * s, 1.0) for s in seeds])
    rand = Row("random", "random", [_ep(s, -5.0, -4.0, 0.1) for s in seeds])
    cheat = Row("cheat", "agent", [_ep(s, -2.0, -0.5, 0.5) for s in seeds])  # best objective, infeasible
    return [paper, best, rand, cheat]


def test_summary_ranks_by_score_normalises_flags_and_gaps():
    system = get_system("device_free_localization")
    header, cells, records = summarise(system, _rows())
    assert [r["policy"] for r in records] == ["bisection_optimum", "sca", "cheat", "random"]
    by = {r["policy"]: r for r in records}
    assert by["sca"]["normalised"] == 1.0 and by["random"]["normalised"] == 0.0
    assert by["cheat"]["normalised"] == pytest.approx((-2.0 + 5.0) / (-1.25 + 5.0))
    assert by["cheat"]["objective"] > by["sca"]["objective"] and by["cheat"]["score"] < by["sca"]["score"]
    assert by["cheat"]["feasible_below_paper"] and not by["bisection_optimum"]["feasible_below_paper"]
    assert by["bisection_optimum"]["gap_to_best"] == 0.0
    assert by["sca"]["gap_to_best"] == pytest.approx(0.1)
    feas_col = header.index("feasible")
    cheat_cells = next(c for c in cells if c[0] == "cheat")
    assert cheat_cells[feas_col].endswith(FLAG)
    assert not next(c for c in cells if c[0] == "sca")[feas_col].endswith(FLAG)
    assert "gap to bisection_optimum" in header


def test_csv_columns_and_raw_json(tmp_path):
    system = get_system("device_free_localization")
    rows = _rows()
    write_results(system, "small", 4, rows, tmp_path)
    with open(tmp_path / "leaderboard_device_free_localization_small.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert tuple(header[:len(CSV_COLUMNS)]) == CSV_COLUMNS
    assert set(system.baselines.KEY_METRICS) <= set(header)
    raw = json.loads((tmp_path / "leaderboard_device_free_localization_small.json").read_text())
    assert raw["config"] == "small" and raw["code_version"]["env_id"] == system.env_id
    assert len(raw["code_version"]["source_hash"]) == 64
    assert len(raw["records"]) == 16
    rec = next(r for r in raw["records"] if r["policy"] == "cheat" and r["seed"] == 2)
    assert rec["score"] == -2.0 and rec["objective"] == -0.5 and rec["feasible"] == 0.5
    assert set(rec) >= {"policy", "seed", "score", "objective", "feasible", "metrics", "seconds_per_decision"}
