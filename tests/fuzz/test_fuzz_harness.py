"""The fuzz harness itself: its verdicts are right (a defect is reported as one), cases
replay identically, and ``isac fuzz`` summarises and sets its exit status."""

import numpy as np
import pytest

from agents import fuzz
from agents.cli import main

DFL = "device_free_localization"


def _action_case(**spec):
    base = {"container": "array", "shape": fuzz.action_shape(DFL), "dtype": "float64", "fill": "uniform", "seed": 1}
    return fuzz.Case("action", DFL, {**base, **spec})


def test_valid_and_invalid_actions_are_classified():
    assert fuzz.run_case(_action_case()).status == "ok"
    for spec in ({"shape": (1, 3)}, {"dtype": "complex128"}, {"fill": "nan"}, {"container": "none"},
                 {"dtype": "bool"}, {"fill": "huge", "dtype": "float32"}):
        out = fuzz.run_case(_action_case(**spec))
        assert out.status == "rejected" and "action" in out.message, (spec, out)


def test_accepting_a_reshaped_action_is_a_defect(monkeypatch):
    """If check_action went back to reshaping, the harness must call it a defect."""
    import isac_envs.device_free_localization.env as dfl_env

    def lax(action, shape, name="action"):
        return np.clip(np.asarray(action, float).reshape(shape), -1, 1)

    monkeypatch.setattr(dfl_env, "check_action", lax)
    out = fuzz.run_case(_action_case(shape=(1, 3)))
    assert out.status == "defect" and out.error == "Accepted"


def test_error_not_naming_the_field_is_a_defect():
    case = fuzz.Case("params", DFL, {"overrides": {"penalty": 1.0}})
    assert fuzz._classify_error(case, ValueError("penalty must be > 0"), []).status == "rejected"
    assert fuzz._classify_error(case, ValueError("shape mismatch"), []).status == "defect"
    assert fuzz._classify_error(case, KeyError("penalty"), []).status == "defect"
    ended = fuzz.Case("agents", DFL, {"mode": "after_end", "drop": [], "extra": [], "bad": {}})
    assert fuzz._classify_error(ended, RuntimeError("call reset() before step()"), []).status == "rejected"
    assert fuzz._classify_error(ended, KeyError("bs_0"), []).status == "defect"


def test_nonfinite_output_is_a_defect(monkeypatch):
    monkeypatch.setattr(fuzz, "_single_env_episode", lambda *a, **k: (np.zeros(2), np.array([np.nan, 0.0]), 0.0))
    out = fuzz.run_case(fuzz.Case("params", DFL, {"overrides": {"penalty": 1.0}}))
    assert out.status == "defect" and out.error == "NonFinite" and "step observation" in out.message


def test_time_limit_is_a_defect(monkeypatch):
    import time

    monkeypatch.setattr(fuzz, "_single_env_episode", lambda *a, **k: time.sleep(5))
    out = fuzz.run_case(fuzz.Case("params", DFL, {"overrides": {}}), timeout_s=0.2)
    assert out.status == "defect" and out.error == "Timeout"


def test_cases_replay_identically():
    systems = [DFL]
    assert [fuzz.case_at(3, i, systems) for i in range(20)] == [fuzz.case_at(3, i, systems) for i in range(20)]
    assert fuzz.case_at(3, 0, systems) != fuzz.case_at(4, 0, systems) or fuzz.case_at(3, 1, systems) != \
        fuzz.case_at(4, 1, systems)


def test_soak_counts_add_up():
    rep = fuzz.soak(budget_s=60.0, systems=[DFL], seed=0, max_cases=25)
    assert rep.cases == 25 == sum(rep.status.values()) == sum(rep.errors.values())
    text = fuzz.format_report(rep, 0, [DFL])
    assert text.startswith("isac fuzz: 25 cases") and f"defects: {len(rep.defects)}" in text


def test_cli_fuzz(capsys):
    code = main(["fuzz", "--budget-s", "1", "--system", DFL, "--seed", "5"])
    out = capsys.readouterr().out
    assert out.startswith("isac fuzz: ") and "outcomes:" in out
    n_defects = int(out.split("defects: ")[1].split()[0])
    assert code == (1 if n_defects else 0)
    code = main(["fuzz", "--system", DFL, "--seed", "5", "--case", "0"])
    out = capsys.readouterr().out
    assert out.startswith(f"{fuzz.case_at(5, 0, [DFL]).kind} case on {DFL}") and "outcome:" in out
    for argv in (["fuzz", "--budget-s", "0"], ["fuzz", "--budget-s", "nan"], ["fuzz", "--system", "nope"]):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        assert code == 2
        assert capsys.readouterr().err.startswith("isac: error: ")
