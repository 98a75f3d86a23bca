"""Reference-score files: versioned, equal to a fresh run, stale files re-run."""

import json
import shutil

import pytest

from agents import reference_scores
from agents.leaderboard import reference_status, run_leaderboard
from agents.seeds import eval_seeds
from agents.systems import all_systems, get_system

DFL = "device_free_localization"
ONLY = ["sca", "initial_condition"]


def _copy_sources(dst, system):
    root = reference_scores._repo_root()
    for rel in (f"isac_envs/{system}", f"baselines/{system}", *reference_scores._SHARED_SOURCES):
        src = root / rel
        if src.is_dir():
            shutil.copytree(src, dst / rel)
        elif src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst / rel)


def test_source_hash_ignores_location_and_pycache_but_sees_edits(tmp_path):
    h = reference_scores.source_hash(DFL)
    _copy_sources(tmp_path / "a", DFL)
    assert reference_scores.source_hash(DFL, tmp_path / "a") == h
    cache = tmp_path / "a" / "isac_envs" / DFL / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "env.cpython-311.pyc").write_bytes(b"junk")
    assert reference_scores.source_hash(DFL, tmp_path / "a") == h
    env_py = tmp_path / "a" / "isac_envs" / DFL / "env.py"
    env_py.write_text(env_py.read_text() + "\n# edit\n")
    assert reference_scores.source_hash(DFL, tmp_path / "a") != h
    assert reference_scores.source_hash("multi_uav_isac") != h


def _same_rows(a, b):
    for ra, rb in zip(a, b):
        assert (ra.name, ra.kind) == (rb.name, rb.kind)
        for ea, eb in zip(ra.episodes, rb.episodes):
            assert (ea.seed, ea.score, ea.objective, ea.feasible, ea.reward, ea.steps) == \
                   (eb.seed, eb.score, eb.objective, eb.feasible, eb.reward, eb.steps)
            assert ea.metrics == eb.metrics


def test_generated_file_equals_a_fresh_run_and_is_read_back(tmp_path):
    system = get_system(DFL)
    path = reference_scores.generate(system, "small", 3, tmp_path, only=ONLY, random_streams=16, progress=False)
    data = json.loads(path.read_text())
    assert data["code_version"] == reference_scores.code_version(system)
    assert data["seeds"] == eval_seeds(3) and set(data["policies"]) == {*ONLY, "random"}
    assert set(data["policies"]["sca"]["records"][0]) >= {"seed", "score", "objective", "feasible"}
    fresh = run_leaderboard(system, "small", 2, agent_factories={}, only=ONLY, progress=False, recompute=True)
    read = run_leaderboard(system, "small", 2, agent_factories={}, only=ONLY, progress=False, reference_dir=tmp_path)
    assert all(r.source == f"reference file {path.name}" for r in read)
    assert "read from" in reference_status(read) and "--recompute" in reference_status(fresh)
    _same_rows(fresh, read)


def test_stale_or_short_file_triggers_a_rerun(tmp_path):
    system = get_system(DFL)
    path = reference_scores.generate(system, "small", 2, tmp_path, only=["initial_condition"], progress=False)
    data = json.loads(path.read_text())
    data["code_version"]["source_hash"] = "0" * 64
    path.write_text(json.dumps(data))
    rows = run_leaderboard(system, "small", 2, agent_factories={}, only=["initial_condition"], progress=False,
                           reference_dir=tmp_path)
    assert all(r.source == "run" for r in rows)
    assert "stale" in reference_status(rows) and "source_hash" in reference_status(rows)
    reference_scores.generate(system, "small", 2, tmp_path, only=["initial_condition"], progress=False)
    rows = run_leaderboard(system, "small", 3, agent_factories={}, only=["initial_condition"], progress=False,
                           reference_dir=tmp_path)  # one seed more than the file holds
    assert all(r.source == "run" for r in rows) and "covers 2 seeds" in reference_status(rows)
    rows = run_leaderboard(system, "small", 2, agent_factories={}, only=["initial_condition", "sca"],
                           progress=False, reference_dir=tmp_path)  # sca is not in the file: run it only
    assert {r.name: r.source for r in rows} == {"initial_condition": f"reference file {path.name}",
                                                "sca": "run", "random": f"reference file {path.name}"}


def test_config_paths_and_other_params_are_not_read(tmp_path):
    system = get_system(DFL)
    assert reference_scores.reference_path(DFL, "configs/x.yaml") is None
    path = reference_scores.generate(system, "small", 2, tmp_path, only=["initial_condition"], progress=False)
    data = json.loads(path.read_text())
    data["params"]["episode_length"] += 1
    path.write_text(json.dumps(data))
    ref, why = reference_scores.lookup(system, "small", eval_seeds(2), 16, tmp_path)
    assert ref is None and "params" in why


SHIPPED = [(s, p) for s in all_systems() for p in sorted(reference_scores.REFERENCE_DIR.glob(f"{s.name}_*.json"))]


@pytest.mark.slow
@pytest.mark.parametrize("system,path", SHIPPED, ids=[p.name for _, p in SHIPPED])
def test_shipped_file_matches_a_fresh_run(system, path):
    """A shipped file that matches the installed code equals a fresh run on its first 2 seeds."""
    config = path.stem[len(system.name) + 1:]
    seeds = eval_seeds(2)
    ref, why = reference_scores.lookup(system, config, seeds, 16)
    if ref is None:
        pytest.skip(f"shipped file not for this code version: {why} (regenerate with isac reference-scores)")
    only = [system.baselines.PAPER_SOLVER]
    fresh = run_leaderboard(system, config, 2, agent_factories={}, only=only, progress=False, recompute=True)
    read = run_leaderboard(system, config, 2, agent_factories={}, only=only, progress=False)
    assert all(r.source != "run" for r in read)
    _same_rows(fresh, read)


def test_cli_reference_scores_and_recompute(tmp_path, capsys, monkeypatch):
    from agents.cli import main

    assert main(["reference-scores", "--system", DFL, "--episodes", "2", "--only", "initial_condition",
                 "--out", str(tmp_path / "refs"), "--no-progress"]) == 0
    assert (tmp_path / "refs" / f"{DFL}_small.json").is_file()
    monkeypatch.setattr(reference_scores, "REFERENCE_DIR", tmp_path / "refs")
    args = ["leaderboard", "--system", DFL, "--episodes", "2", "--only", "initial_condition", "--no-agents",
            "--no-progress", "--out", str(tmp_path / "res")]
    assert main(args) == 0
    assert "read from" in capsys.readouterr().err
    assert main(args + ["--recompute"]) == 0
    assert "--recompute" in capsys.readouterr().err
    raw = json.loads((tmp_path / "res" / f"leaderboard_{DFL}_small.json").read_text())
    assert {r["source"] for r in raw["records"]} == {"run"}
