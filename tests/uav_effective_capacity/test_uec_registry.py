"""Registry of baselines: loadable targets and predicates, metrics keys, native score, import cost."""

import subprocess
import sys

import numpy as np

import baselines.uav_effective_capacity as bl
from isac_envs.core import load_config
from isac_envs.uav_effective_capacity import model as m


def test_policies_load_and_metrics_exist():
    assert bl.PAPER_SOLVER in bl.POLICIES
    for name, spec in bl.POLICIES.items():
        assert callable(spec.load()), name
        pred = spec.load_replan()
        assert callable(pred) and pred(None, None) is True  # first call always plans
    p = load_config(m.Params, "uav_effective_capacity", "small")
    inst = m.sample_instance(p, np.random.default_rng(0))
    d = m.decode_action(p, inst, np.zeros(8))[0]
    ev = bl.native_score(p, inst, d)
    assert ev == m.evaluate(p, inst, d)
    assert set(bl.KEY_METRICS) <= set(ev.metrics)
    moved = m.advance_instance(p.replace(user_speed=1.0), inst, np.random.default_rng(0))
    pred = bl.POLICIES["ao"].load_replan()
    assert pred(inst, moved) and not pred(inst, m.advance_instance(p, inst, None, np.zeros(2)))


def test_import_isac_envs_stays_light():
    code = ("import sys, gymnasium as gym, isac_envs; "
            "e = gym.make('isac_envs/UAVEffectiveCapacity-v1', config='small'); e.reset(seed=0); v = gym.make_vec('isac_envs/UAVEffectiveCapacity-v1', num_envs=2, config='small'); v.reset(seed=0); "
            "import baselines.uav_effective_capacity; "
            "print([x for x in ('cvxpy', 'matplotlib', 'torch', 'pettingzoo') if x in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
