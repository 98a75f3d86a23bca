"""The wheel ships every package, the configs and the shipped agents (pyproject.toml).

The end-to-end check (build, non-editable install in a fresh venv, run from outside the
checkout) is ``.ci/wheel_smoke.sh``; these tests catch a drifted pyproject in the fast suite.
"""

from fnmatch import fnmatch
from pathlib import Path

import pytest

import isac_envs
from isac_envs.core import CONFIG_DIR, _config_dir

ROOT = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib")


def _setuptools():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_directory_is_in_the_wheel():
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for top in ("isac_envs", "baselines", "agents") for p in (ROOT / top).rglob("__init__.py")}
    listed = set(_setuptools()["packages"])
    assert on_disk - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == {"isac_envs.configs"}


def test_configs_and_shipped_agents_are_package_data():
    st = _setuptools()
    assert st["package-dir"] == {"isac_envs.configs": "configs"}
    for system in isac_envs.SYSTEMS:
        for name in ("small", "paper"):
            rel = f"{system}/{name}.yaml"
            assert (ROOT / "configs" / rel).is_file()
            assert any(fnmatch(rel, pat) for pat in st["package-data"]["isac_envs.configs"]), rel
    run_dirs = [p.parent for p in (ROOT / "agents" / "shipped").glob("*/*/run.yaml")]
    assert run_dirs
    for run_dir in run_dirs:  # everything load_agent, the leaderboard and the replay test read
        for name in ("model.zip", "obs_norm.npz", "run.yaml", "eval_check.json", "curve.csv"):
            rel = (run_dir / name).relative_to(ROOT / "agents").as_posix()
            assert (run_dir / name).is_file(), rel
            assert any(fnmatch(rel, pat) for pat in st["package-data"]["agents"]), rel


def test_config_dir_prefers_the_installed_package(tmp_path):
    package = tmp_path / "site-packages" / "isac_envs"
    (package / "configs").mkdir(parents=True)
    assert _config_dir(package) == package / "configs"  # wheel: package data
    checkout = tmp_path / "checkout" / "isac_envs"
    checkout.mkdir(parents=True)
    assert _config_dir(checkout) == tmp_path / "checkout" / "configs"  # source tree / editable
    assert (CONFIG_DIR / "device_free_localization" / "small.yaml").is_file()
