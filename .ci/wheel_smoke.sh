#!/usr/bin/env bash
# Installs like a library: build the wheel from the tracked files (what `pip install git+URL`
# builds), install it NON-editable in a fresh venv with the oldest gymnasium we support (1.2.2,
# Ray RLlib's pin), then, from a folder outside the checkout, make every registered id (single
# and vector), every PettingZoo env, run the README's leaderboard command with the shipped
# agents, then the fast test suite against the installed package. Configs and shipped agents
# must come from the installed package.
#
#   bash .ci/wheel_smoke.sh     # GYMNASIUM_VERSION=1.4.0 (another pin), WHEEL_SMOKE_TESTS=0 (no suite)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
gymnasium_version="${GYMNASIUM_VERSION:-1.2.2}"
python="${PYTHON:-python}"
work="$(mktemp -d "${TMPDIR:-/tmp}/isac-wheel-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MPLBACKEND=Agg PIP_DISABLE_PIP_VERSION_CHECK=1
unset PYTHONPATH
step() { echo "wheel_smoke: [${SECONDS}s] $*"; }

# 1. the tracked files only (as a git clone has them), so a file missing from git fails here
mkdir -p "$work/src"
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$repo" && git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$work/src"
else
    cp -a "$repo/." "$work/src/" && rm -rf "$work/src/build" "$work/src/"*.egg-info
fi

# 2. a fresh venv: the CPU build of PyTorch first (README), then the wheel and its dependencies
step "venv"
"$python" -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q torch==2.13.0
step "build the wheel"
"$py" -m pip wheel -q --no-deps -w "$work/dist" "$work/src"
wheel="$(ls "$work/dist"/isac_envs-*.whl)"
"$py" - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
need = ["isac_envs/configs/device_free_localization/small.yaml",
        "agents/shipped/device_free_localization/ppo/model.zip",
        "agents/shipped/device_free_localization/ppo/obs_norm.npz",
        "agents/shipped/device_free_localization/ppo/run.yaml",
        "agents/shipped/device_free_localization/ppo/eval_check.json",
        "agents/shipped/device_free_localization/ppo/curve.csv"]
missing = [n for n in need if n not in names]
assert not missing, f"wheel lacks {missing}"
assert not any(n.startswith(("tests/", "configs/")) for n in names), "wheel ships tests/ or a top-level configs/"
print(f"wheel_smoke: {sys.argv[1].rsplit('/', 1)[-1]}: {len(names)} files, configs and shipped agents inside")
EOF
step "install the wheel with gymnasium==$gymnasium_version"
"$py" -m pip install -q "${wheel}[test]" "gymnasium==$gymnasium_version"

# 3. from outside the checkout
mkdir -p "$work/outside" && cd "$work/outside"
step "smoke test"
"$py" - "$repo" <<'EOF'
import importlib, sys, time
from pathlib import Path

import gymnasium as gym
import numpy as np

import isac_envs
from isac_envs.core import CONFIG_DIR
from agents.trained import SHIPPED_DIR, shipped_runs

repo = Path(sys.argv[1]).resolve()
for what, path in [("isac_envs", Path(isac_envs.__file__)), ("configs", CONFIG_DIR), ("shipped agents", SHIPPED_DIR)]:
    path = path.resolve()
    assert "site-packages" in path.parts and repo not in path.parents, f"{what} found at {path}, not in the installed package"
print(f"gymnasium {gym.__version__}, isac_envs from {Path(isac_envs.__file__).parent}")

ids = sorted(i for i in gym.registry if i.startswith("isac_envs/"))
assert len(ids) >= len(isac_envs.SYSTEMS), ids
for env_id in ids:
    t0 = time.perf_counter()
    try:
        env = gym.make(env_id, config="small")
    except gym.error.DeprecatedEnv as exc:  # an old version kept registered only to name its successor
        print(f"  {env_id}: deprecated ({exc})")
        continue
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs), env_id
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs) and np.isfinite(reward) and "objective" in info, env_id
    env.close()
    venv = gym.make_vec(env_id, num_envs=4)
    obs, _ = venv.reset(seed=0)
    obs, rewards, terms, truncs, _ = venv.step(venv.action_space.sample())
    assert obs.shape[0] == 4 and rewards.shape == (4,) and np.all(np.isfinite(rewards)), env_id
    kind = type(venv).__name__
    venv.close()
    print(f"  {env_id}: make/reset/step ok, make_vec(num_envs=4) -> {kind} ok ({time.perf_counter() - t0:.1f} s)")

for system, (_, _, module) in isac_envs.SYSTEMS.items():
    if module is None:
        continue
    par = importlib.import_module(module).parallel_env(config="small")
    observations, _ = par.reset(seed=0)
    par.step({a: par.action_space(a).sample() for a in par.agents})
    print(f"  {module}: {len(observations)} agents, reset/step ok")
    assert shipped_runs(system, "small"), f"no shipped agent found for {system}"
EOF
step "isac leaderboard --system device_free_localization --episodes 2"
"$work/venv/bin/isac" leaderboard --system device_free_localization --episodes 2 --no-progress --out "$work/results" \
    | tee "$work/leaderboard.txt"
for row in "| sca |" "| random |" "| ppo |" "| mappo |"; do
    grep -qF "$row" "$work/leaderboard.txt" || { echo "wheel_smoke: leaderboard lacks the row $row" >&2; exit 1; }
done
if [ "${WHEEL_SMOKE_TESTS:-1}" = 1 ]; then
    step "the fast test suite against the installed wheel (tests/ of the checkout, run from outside it)"
    "$py" -m pytest -q -p no:cacheprovider "$repo/tests"
fi
step "done: the non-editable wheel works with gymnasium $gymnasium_version"
