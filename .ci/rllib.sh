#!/usr/bin/env bash
# CI: the Ray RLlib extra in its own venv (RLlib pins its own gymnasium), then tests/rllib:
# one RLlib PPO iteration for a single-agent and a multi-agent env on a local Ray instance.
# Usage: bash .ci/rllib.sh   (RLLIB_VENV=DIR keeps/reuses the venv; default: a temporary one)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MPLBACKEND=Agg RAY_USAGE_STATS_ENABLED=0
start=$(date +%s)
venv="${RLLIB_VENV:-}"
if [ -z "$venv" ]; then
    venv="$(mktemp -d)/rllib-venv"
    trap 'rm -rf "$(dirname "$venv")"' EXIT
fi
[ -x "$venv/bin/python" ] || python -m venv "$venv"
# the CPU build of PyTorch first (an unpinned torch would pull a multi-GB CUDA build)
"$venv/bin/pip" install -q torch==2.13.0
"$venv/bin/pip" install -q -e ".[rllib,test]"
"$venv/bin/python" -c "import ray.rllib, gymnasium; print('ray', ray.__version__, 'gymnasium', gymnasium.__version__)"
"$venv/bin/python" -m pytest -p no:cacheprovider tests/rllib
echo "rllib CI step: $(( $(date +%s) - start )) s"
