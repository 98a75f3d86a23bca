"""Issue 9 items 2 and 13: every bad argument -> one line ``isac: error: ...`` on stderr, exit 2."""

import argparse

import pytest

from agents.cli import main, nonnegative_int, positive_int


def _run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit from parse_args
        code = exc.code
    err = capsys.readouterr().err
    return code, err


def _assert_one_line(code, err, *needles):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("isac: error: "), err
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture
def bad_configs(tmp_path):
    (tmp_path / "dir.yaml").mkdir()
    files = {"malformed.yaml": b"num_bs: [1, 2\n", "tag.yaml": b"!!python/object/apply:os.system ['echo hi']\n",
             "binary.yaml": b"\xff\xfe\x00\x01", "intkey.yaml": b"1: 2\n", "list.yaml": b"- 1\n"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return tmp_path


@pytest.mark.parametrize("name, needle", [("malformed.yaml", "malformed YAML"), ("tag.yaml", "unsupported YAML"),
                                          ("binary.yaml", "not UTF-8"), ("intkey.yaml", "key 1"),
                                          ("list.yaml", "mapping"), ("dir.yaml", "directory"),
                                          ("missing.yaml", "does not exist")])
def test_leaderboard_bad_config(bad_configs, capsys, name, needle):
    path = str(bad_configs / name)
    code, err = _run(["leaderboard", "--system", "device_free_localization", "--config", path,
                      "--episodes", "1", "--no-progress", "--no-agents", "--out", str(bad_configs / "out")], capsys)
    _assert_one_line(code, err, needle, path)


@pytest.mark.parametrize("argv, needles", [
    (["train", "--system", "device_free_localization", "--n-envs", "0"], ["--n-envs", "0"]),
    (["train", "--system", "device_free_localization", "--eval-episodes", "0"], ["--eval-episodes"]),
    (["train", "--system", "device_free_localization", "--timesteps", "-5"], ["--timesteps"]),
    (["train", "--system", "device_free_localization", "--eval-every", "0"], ["--eval-every"]),
    (["train", "--system", "device_free_localization", "--seed", "-1"], ["--seed", ">= 0"]),
    (["perf", "--repeats", "0"], ["--repeats"]),
    (["perf", "--repeats", "two"], ["--repeats", "'two'"]),
    (["leaderboard", "--episodes", "0"], ["--episodes"]),
    (["figures", "device_free_localization", "--workers", "0"], ["--workers"]),
    (["report", "--episodes", "0"], ["--episodes"]),
    (["perf", "--system", "device_free_localization", "--skip", "sca", "nope"], ["--skip", "['nope']"]),
    (["nosuchcommand"], ["invalid choice"]),
    (["leaderboard", "--system", "nope"], ["unknown system 'nope'"]),
    (["leaderboard", "--system", "device_free_localization", "--only", "nonexistent_solver"],
     ["nonexistent_solver", "sca", "comm_min_power"]),
    (["leaderboard", "--only", "sca", "nonexistent_solver"], ["['nonexistent_solver']", "ao", "algorithm3"]),
    (["train", "--system", "device_free_localization", "--env", "a=[1"], ["--env", "not valid YAML"]),
    (["train", "--system", "device_free_localization", "--env", "novalue"], ["KEY=VALUE"]),
])
def test_bad_arguments_exit_2(capsys, argv, needles):
    _assert_one_line(*_run(argv, capsys), *needles)


def test_debug_reraises(monkeypatch, capsys):
    monkeypatch.setenv("ISAC_DEBUG", "1")
    with pytest.raises(ValueError, match="unknown system"):
        main(["leaderboard", "--system", "nope"])


def test_type_helpers():
    assert positive_int("3") == 3 and nonnegative_int("0") == 0
    for f, bad in ((positive_int, "0"), (positive_int, "1.5"), (nonnegative_int, "-1"), (nonnegative_int, "")):
        with pytest.raises(argparse.ArgumentTypeError):
            f(bad)


def test_library_guards():
    from agents.perf import perf_system
    from agents.systems import get_system
    from agents.training import train

    with pytest.raises(ValueError, match="repeats"):
        perf_system(get_system("device_free_localization"), "small", repeats=0)
    with pytest.raises(ValueError, match="eval_episodes"):
        train("device_free_localization", eval_episodes=0)
    with pytest.raises(ValueError, match="n_envs"):
        train("device_free_localization", n_envs=0)


def test_train_bad_config_makes_no_folder(tmp_path, capsys):
    out = tmp_path / "run"
    code, err = _run(["train", "--system", "device_free_localization", "--config", str(tmp_path / "nope.yaml"),
                      "--out", str(out), "--no-progress"], capsys)
    _assert_one_line(code, err, "nope.yaml", "does not exist")
    code, err = _run(["train", "--system", "device_free_localization", "--env", "no_such_field=1",
                      "--out", str(out), "--no-progress"], capsys)
    _assert_one_line(code, err, "no_such_field")
    assert not out.exists()
