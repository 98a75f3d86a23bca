"""Params helpers, config loading, action checks, seed split, statistics."""

import math
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from isac_envs.core import (
    Evaluation,
    ParamsBase,
    check_action,
    load_config,
    require_int,
    require_positive,
    resolve_params,
)


@dataclass(frozen=True)
class ToyParams(ParamsBase):
    power_w: float = 1.0
    num_users: int = 2

    def validate(self):
        require_positive("power_w", self.power_w)
        require_int("num_users", self.num_users)


def test_validation_names_field_and_value():
    with pytest.raises(ValueError, match=r"power_w.*-1"):
        ToyParams(power_w=-1.0)
    with pytest.raises(ValueError, match="power_w"):
        ToyParams(power_w=float("nan"))
    with pytest.raises(ValueError, match=r"num_users.*0"):
        ToyParams(num_users=0)
    with pytest.raises(ValueError, match="num_users"):
        ToyParams(num_users=2.5)
    with pytest.raises(ValueError, match="num_users"):
        ToyParams(num_users=True)


def test_from_dict_rejects_unknown_key_and_round_trips():
    with pytest.raises(ValueError, match="bogus"):
        ToyParams.from_dict({"bogus": 1})
    p = ToyParams(power_w=2.0, num_users=3)
    assert ToyParams.from_dict(p.to_dict()) == p
    assert p.replace(num_users=5).num_users == 5
    with pytest.raises(ValueError, match="nope"):
        p.replace(nope=1)


def test_yaml_config_unknown_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("power_w: 2.0\nnum_userz: 3\n")
    with pytest.raises(ValueError, match="num_userz"):
        load_config(ToyParams, "toy", path)
    good = tmp_path / "good.yaml"
    good.write_text("power_w: 2.0\n")
    assert load_config(ToyParams, "toy", good).power_w == 2.0
    with pytest.raises(ValueError, match="does not exist"):
        load_config(ToyParams, "toy", tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="unknown config"):
        load_config(ToyParams, "toy", "no_such_config_name")


def test_resolve_params_rules(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("power_w: 2.0\n")
    assert resolve_params(ToyParams, "toy", config=good, num_users=4) == ToyParams(2.0, 4)
    with pytest.raises(ValueError, match="not both"):
        resolve_params(ToyParams, "toy", params=ToyParams(), config=good)
    with pytest.raises(TypeError, match="ToyParams"):
        resolve_params(ToyParams, "toy", params={"power_w": 1.0})


def test_check_action():
    a = check_action([0.5, 2.0, -3.0], (3,))
    np.testing.assert_array_equal(a, [0.5, 1.0, -1.0])
    with pytest.raises(ValueError, match="NaN"):
        check_action([0.0, np.nan, 0.0], (3,))
    with pytest.raises(ValueError, match="inf"):
        check_action([0.0, np.inf, 0.0], (3,))
    with pytest.raises(ValueError, match="shape"):
        check_action([0.0, 0.0], (3,))
    with pytest.raises(TypeError):
        check_action(object(), (3,))


def test_evaluation_penalised():
    ev = Evaluation(objective=-0.5, violations={"a": 0.1, "b": 0.2}, feasible=False)
    assert ev.penalised(2.0) == pytest.approx(-1.1)


def test_seed_ranges_disjoint():
    from agents import seeds

    tr, va, te = set(range(0, 10)), seeds.VALIDATION_SEEDS, seeds.TEST_SEEDS
    assert seeds.TRAIN_SEEDS.stop <= va.start and va.stop <= te.start
    assert not (set(seeds.eval_seeds(100)) & set(seeds.TRAIN_SEEDS[:1]))
    assert all(s in seeds.TEST_SEEDS for s in seeds.eval_seeds(50))
    assert all(s in seeds.TRAIN_SEEDS for s in (seeds.train_seed(i) for i in (0, 5, 10**7)))
    assert not tr & set(seeds.validation_seeds(10))
    with pytest.raises(ValueError):
        seeds.eval_seeds(0)


def test_bootstrap_statistics():
    from agents.evaluation import bootstrap_mean_ci, normalised_score, paired_bootstrap_diff_ci

    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 1.0, 400)
    lo, hi = bootstrap_mean_ci(x)
    assert lo < x.mean() < hi
    assert hi - lo == pytest.approx(2 * 1.96 / math.sqrt(400), rel=0.2)
    # paired: a constant shift has a zero-width CI however noisy the instances are
    d, dlo, dhi = paired_bootstrap_diff_ci(x + 0.3, x)
    assert d == pytest.approx(0.3) and dlo == pytest.approx(0.3) and dhi == pytest.approx(0.3)
    assert normalised_score(5.0, 0.0, 10.0) == 0.5
    assert normalised_score(10.0, 0.0, 10.0) == 1.0
    assert math.isnan(normalised_score(1.0, 2.0, 2.0))


def test_import_is_light():
    code = ("import sys, isac_envs; bad=[m for m in ('cvxpy','torch','matplotlib','pettingzoo') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_yaml_reads_exponent_floats(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("power_w: 2.0e9\n")
    assert load_config(ToyParams, "toy", path).power_w == 2.0e9
    path.write_text("power_w: 1e-3\nnum_users: 3\n")
    p = load_config(ToyParams, "toy", path)
    assert p.power_w == 1e-3 and p.num_users == 3 and isinstance(p.num_users, int)
