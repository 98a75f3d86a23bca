"""Issue 9 item 10: same input -> same Decision, bit for bit, whatever ran before (in this
process or another one, in any order)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from baselines.registry import system_baselines
from isac_envs import SYSTEMS

from ._solver_hash import SEED_A, SEED_B, SLOW, run

ROOT = Path(__file__).resolve().parents[2]
#: > ~1 s per call on the small config (3 calls per test)
SLOW_CASES = SLOW | {("uav_effective_capacity", "ao"), ("uav_effective_capacity", "random_scheme")}

CASES = [pytest.param(s, n, marks=[pytest.mark.slow] if (s, n) in SLOW_CASES else [], id=f"{s}:{n}")
         for s in SYSTEMS for n in system_baselines(s).POLICIES]


@pytest.mark.parametrize("system, solver", CASES)
def test_same_instance_same_bits_after_another_instance(system, solver):
    try:
        first = run(system, solver, SEED_A)
    except ValueError as exc:
        if system_baselines(system).POLICIES[solver].small_only:
            pytest.skip(f"small_only solver refused: {exc}")
        raise
    run(system, solver, SEED_B)
    assert run(system, solver, SEED_A) == first


def test_decision_hash_sees_every_bit():
    from dataclasses import dataclass

    import numpy as np

    from ._solver_hash import decision_hash

    @dataclass
    class D:
        x: np.ndarray
        y: float

    base = decision_hash(D(np.array([1.0, 2.0]), 3.0))
    assert decision_hash(D(np.array([1.0, np.nextafter(2.0, 3.0)]), 3.0)) != base
    assert decision_hash(D(np.array([1.0, 2.0]), 3.0 + 1e-15)) != base
    assert decision_hash(D(np.array([[1.0, 2.0]]), 3.0)) != base


def _cvxpy_and_fast(system):
    return [n for n in system_baselines(system).POLICIES if (system, n) not in SLOW_CASES]


@pytest.mark.parametrize("system", list(SYSTEMS))
def test_solver_order_does_not_matter(system):
    """A, B, C, ... then the same in reverse order: every solver gives the same bits."""
    names = _cvxpy_and_fast(system)
    forward = {n: run(system, n) for n in names}
    backward = {n: run(system, n) for n in reversed(names)}
    assert forward == backward


@pytest.mark.slow
def test_uec_sdr_cvxpy_backend_deterministic():
    """The SDP cross-check backend (cached per (M, K, weights) problem) is stateless across calls too."""
    from baselines.uav_effective_capacity import sdr

    from ._solver_hash import decision_hash, instance

    p, a = instance("uav_effective_capacity", SEED_A)
    _, b = instance("uav_effective_capacity", SEED_B)
    h1 = decision_hash(sdr.solve(p, a, backend="cvxpy"))
    sdr.solve(p, b, backend="cvxpy")
    assert decision_hash(sdr.solve(p, a, backend="cvxpy")) == h1


@pytest.mark.slow
def test_cross_process_bits():
    """Another process, solvers in reverse order, each after a different instance: same hashes."""
    keys = [f"{s}:{n}" for s in SYSTEMS for n in system_baselines(s).POLICIES
            if (s, n) not in SLOW and not system_baselines(s).POLICIES[n].small_only]
    here = {k: run(*k.split(":")) for k in keys}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "tests.hardening._solver_hash", *keys, "--reverse", "--warmup"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=True).stdout
    there = dict(line.split() for line in out.strip().splitlines())
    assert there == here
