"""Package layout (metadata and dependencies are in pyproject.toml).

Every package under isac_envs/, baselines/ and agents/ is found automatically; the repository's
top-level configs/ folder ships inside the wheel as isac_envs/configs/ (package-dir below), and
the shipped agents as data of the agents package, so that an installed isac-envs (wheel, git URL
or editable) finds both through the package (isac_envs.core.CONFIG_DIR, agents.trained.SHIPPED_DIR).
"""

from setuptools import find_packages, setup

SHIPPED_FILES = ("model.zip", "obs_norm.npz", "run.yaml", "eval_check.json", "curve.csv", "learning_curve.png")

setup(
    packages=find_packages(include=["isac_envs", "isac_envs.*", "baselines", "baselines.*", "agents", "agents.*"])
    + ["isac_envs.configs"],
    package_dir={"isac_envs.configs": "configs"},
    package_data={
        "isac_envs.configs": ["*/*.yaml"],
        "agents": ["shipped/README.md", *(f"shipped/*/*/{name}" for name in SHIPPED_FILES)],
        "agents.reference_scores": ["*.json"],
    },
)
