"""The wheel ships every package, the configs and the shipped agents (setup.py's layout).

The end-to-end check (build, non-editable install in a fresh venv with gymnasium 1.2.2, run from
outside the checkout) is ``.ci/wheel_smoke.sh``; these tests catch a layout that would leave a
file out, in the fast suite.
"""

import glob
import os
import runpy
from pathlib import Path

import pytest

import isac_envs
from isac_envs.core import CONFIG_DIR, _config_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def layout():
    """The keyword arguments setup.py passes to setuptools.setup (nothing is built)."""
    import setuptools

    captured, original, cwd = {}, setuptools.setup, os.getcwd()
    setuptools.setup = lambda **kwargs: captured.update(kwargs)
    try:
        os.chdir(ROOT)  # as pip runs it
        runpy.run_path(str(ROOT / "setup.py"))
    finally:
        setuptools.setup = original
        os.chdir(cwd)
    return captured


def _shipped_files(layout, package: str) -> set[str]:
    """Files of ``package``'s source folder that its package_data patterns select (setuptools' glob)."""
    source = ROOT / layout.get("package_dir", {}).get(package, package.replace(".", "/"))
    return {f for pat in layout["package_data"].get(package, []) for f in glob.glob(pat, root_dir=source)}


def test_every_package_directory_is_in_the_wheel(layout):
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for top in ("isac_envs", "baselines", "agents") for p in (ROOT / top).rglob("__init__.py")}
    assert set(layout["packages"]) == on_disk | {"isac_envs.configs"}
    assert layout["package_dir"] == {"isac_envs.configs": "configs"}


def test_configs_are_package_data(layout):
    shipped = _shipped_files(layout, "isac_envs.configs")
    on_disk = {p.relative_to(ROOT / "configs").as_posix() for p in (ROOT / "configs").rglob("*.yaml")}
    assert on_disk and on_disk <= shipped
    for system in isac_envs.SYSTEMS:
        assert {f"{system}/small.yaml", f"{system}/paper.yaml"} <= shipped


def test_shipped_agents_are_package_data(layout):
    shipped = _shipped_files(layout, "agents")
    runs = [p.parent for p in (ROOT / "agents" / "shipped").glob("*/*/run.yaml")]
    assert runs
    for run_dir in runs:  # everything load_agent, the leaderboard and the replay test read
        for name in ("model.zip", "obs_norm.npz", "run.yaml", "eval_check.json", "curve.csv"):
            rel = (run_dir / name).relative_to(ROOT / "agents").as_posix()
            assert (run_dir / name).is_file() and rel in shipped, rel
    assert not any("checkpoints" in f or "/tb/" in f for f in shipped)


def test_config_dir_prefers_the_installed_package(tmp_path):
    package = tmp_path / "site-packages" / "isac_envs"
    (package / "configs").mkdir(parents=True)
    assert _config_dir(package) == package / "configs"  # wheel: package data
    checkout = tmp_path / "checkout" / "isac_envs"
    checkout.mkdir(parents=True)
    assert _config_dir(checkout) == tmp_path / "checkout" / "configs"  # source tree / editable
    assert (CONFIG_DIR / "device_free_localization" / "small.yaml").is_file()
