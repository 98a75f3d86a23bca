"""Issue 9, generic part: strict actions, config errors naming the file/key, validator helpers."""

import warnings
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest

import isac_envs  # noqa: F401  (registers the ids)
from isac_envs.core import (
    ConfigError,
    ParamsBase,
    check_action,
    load_config,
    require_array_size,
    require_finite,
    require_int,
    require_int_in_range,
    require_real,
)


@dataclass(frozen=True)
class ToyParams(ParamsBase):
    power_w: float = 1.0
    num_users: int = 2

    def validate(self):
        require_finite("power_w", self.power_w)
        require_int("num_users", self.num_users)


# --------------------------------------------------------------------------- check_action
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int8, np.int16])
def test_check_action_accepts_real_dtypes_and_clips(dtype):
    a = check_action(np.array([[0, 2], [-3, 1]], dtype=dtype), (2, 2))
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, [[0.0, 1.0], [-1.0, 1.0]])
    np.testing.assert_array_equal(check_action([0.25, -0.5], (2,)), [0.25, -0.5])


@pytest.mark.parametrize("bad_shape", [(1, 4), (4, 1), (2, 2), (), (5,)])
def test_check_action_no_silent_reshape(bad_shape):
    action = np.zeros(bad_shape)
    with pytest.raises(ValueError) as ei:
        check_action(action, (4,), name="act")
    msg = str(ei.value)
    assert "act" in msg and "(4,)" in msg and str(tuple(bad_shape)) in msg


def test_check_action_rejects_complex_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning would fail here
        with pytest.raises(TypeError, match=r"act.*complex"):
            check_action(np.array([0.1 + 1j, 0.2]), (2,), name="act")
        with pytest.raises(TypeError, match="complex"):
            check_action([1j, 0.0], (2,))


@pytest.mark.parametrize("value, needle", [
    (None, "actions['bs_0'] is None"),
    ("0.5", "actions['bs_0']"),
    ([None, 0.5], "dtype object"),
    (["a", "b"], "actions['bs_0']"),
    ([[0.1], [0.2, 0.3]], "actions['bs_0']"),  # ragged
    (np.array([True, False]), "dtype bool"),
    (object(), "actions['bs_0']"),
])
def test_check_action_type_errors_name_the_action(value, needle):
    with pytest.raises(TypeError) as ei:
        check_action(value, (2,), name="actions['bs_0']")
    assert needle in str(ei.value)


def test_check_action_nonfinite():
    with pytest.raises(ValueError, match=r"act.*\[1\]"):
        check_action([0.0, np.nan], (2,), name="act")
    with pytest.raises(ValueError, match="non-finite"):
        check_action(np.array([np.inf, 0.0], np.float32), (2,))


# --------------------------------------------------------------------------- validators
def test_require_helpers():
    require_finite("x", 10**300)
    require_real("x", 2.5)
    require_real("x", float("inf"), allow_inf=True)
    for bad in (True, np.bool_(True), "1.0", None, float("nan")):
        with pytest.raises(ValueError, match="x"):
            require_real("x", bad)
    with pytest.raises(ValueError, match="x"):
        require_real("x", float("inf"))
    with pytest.raises(ValueError, match="x"):  # 10**400 overflows a float: not an OverflowError
        require_finite("x", 10**400)
    with pytest.raises(ValueError, match="x"):
        require_real("x", 10**400)
    require_real("x", 10**400, allow_inf=True)
    with pytest.raises(ValueError, match="over 1e300"):
        require_array_size("n", (10**200, 10**200))
    require_int_in_range("n", 5, 1, 10)
    for bad in (0, 11, 5.0, True, "5"):
        with pytest.raises(ValueError, match=r"n must be an integer in \[1, 10\]"):
            require_int_in_range("n", bad, 1, 10)
    require_array_size("num_bs x num_users", (10, 10))
    with pytest.raises(ValueError, match="num_bs x num_users.*shape"):
        require_array_size("num_bs x num_users", (10**6, 10**6))


def test_from_dict_non_string_keys():
    with pytest.raises(ValueError, match=r"strings.*\[1\]"):
        ToyParams.from_dict({1: 2, "power_w": 1.0})
    with pytest.raises(TypeError, match="mapping"):
        ToyParams.from_dict([("power_w", 1.0)])


# --------------------------------------------------------------------------- config errors
CASES = {
    "malformed": (b"power_w: [1, 2\n", "malformed YAML"),
    "scanner": (b"power_w: @oops\n", "malformed YAML"),
    "python_tag": (b"!!python/object/apply:os.system ['echo hacked']\n", "unsupported YAML"),
    "python_tag_value": (b"power_w: !!python/name:os.system\n", "unsupported YAML"),
    "binary": (b"\xff\xfe\x00\x81binary", "not UTF-8"),
    "nul": (b"power_w\x00: 1\n", "malformed YAML"),
    "list": (b"- 1\n- 2\n", "must be a mapping"),
    "scalar": (b"3\n", "must be a mapping"),
    "int_key": (b"1: 2\npower_w: 3.0\n", "key 1"),
    "unknown": (b"power_w: 2.0\nnum_userz: 3\n", "num_userz"),
    "bad_value": (b"power_w: .nan\n", "power_w"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_errors_name_the_file(tmp_path, case):
    content, needle = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as ei:
        load_config(ToyParams, "toy", path)
    msg = str(ei.value)
    assert needle in msg and str(path) in msg and "\n" not in msg
    assert ei.value.path == str(path)
    if case in ("int_key", "unknown", "bad_value"):
        assert ei.value.key == {"int_key": 1, "unknown": "num_userz", "bad_value": "power_w"}[case]


def test_config_paths(tmp_path):
    (tmp_path / "x.yaml").mkdir()
    for config, needle in [("", "got ''"), (tmp_path / "x.yaml", "directory"), (tmp_path, "directory"),
                           (tmp_path / "missing.yaml", "does not exist"), ("no_such_name", "unknown config")]:
        with pytest.raises(ConfigError, match=needle):
            load_config(ToyParams, "toy", config)
    with pytest.raises(TypeError, match="config"):
        load_config(ToyParams, "toy", 3)
    assert issubclass(ConfigError, ValueError)


def test_gym_make_config_errors(tmp_path):
    (tmp_path / "x.yaml").mkdir()
    tag = tmp_path / "tag.yaml"
    tag.write_text("!!python/object/apply:os.system ['echo hacked']\n")
    for config in ("", tmp_path / "x.yaml", tag):
        with pytest.raises(ConfigError):
            gym.make("isac_envs/DeviceFreeLocalization-v0", config=config)


def test_named_config_wins_over_a_directory_of_that_name(tmp_path, monkeypatch):
    """A folder called ``small`` in the working directory does not hide the built-in config."""
    from isac_envs.core import config_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "small").mkdir()
    assert config_path("device_free_localization", "small").name == "small.yaml"
    (tmp_path / "mine").mkdir()
    with pytest.raises(ConfigError, match="directory"):
        config_path("device_free_localization", "mine")
