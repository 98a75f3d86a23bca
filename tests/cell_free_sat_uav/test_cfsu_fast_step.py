"""cell_free_sat_uav fast step (issue 12 item 3): rates once per step, DE metrics on the final step only, and
the step's numbers equal ``evaluate`` of the committed flight (1e-12)."""

import numpy as np
import pytest

from isac_envs.cell_free_sat_uav import model as m
from isac_envs.cell_free_sat_uav.env import CellFreeSatUAVEnv

DE_KEYS = {"efficiency_sum_de", "efficiency_min_de", "de_rel_error"}


@pytest.mark.parametrize("kw", [dict(config="small"), dict(), dict(config="small", num_rx_antennas=3),
                                dict(config="small", objective_mode="maxmin", enforce_interference=False),
                                dict(config="small", action_mode="hybrid")])
def test_step_numbers_equal_evaluate(kw):
    env = CellFreeSatUAVEnv(**kw)
    rng = np.random.default_rng(3)
    for seed in (0, 1):
        env.reset(seed=seed)
        done, ret = False, 0.0
        while not done:
            _, r, done, _, info = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
            ret += r
            ev = m.evaluate(env.params, env.instance, info["decision"])
            assert info["objective"] == pytest.approx(ev.objective, rel=1e-12, abs=1e-12)
            assert info["violations"] == pytest.approx(ev.violations, rel=1e-12, abs=1e-12)
            assert info["feasible"] == ev.feasible
            expected = {k: v for k, v in ev.metrics.items() if done or k not in DE_KEYS}
            assert set(info["metrics"]) == set(expected)             # DE metrics only on the final step
            assert info["metrics"] == pytest.approx(expected, rel=1e-12, abs=1e-12)
            eff = m.user_efficiency(env.params, env.instance, info["decision"])
            assert np.allclose(env._user_eff, eff, rtol=1e-12, atol=0)
        assert ret == pytest.approx(ev.penalised(env.params.penalty), rel=1e-12)


def test_slot_rates_are_rows_of_the_full_rates():
    p = m.Params()
    inst = m.sample_instance(p, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    a = rng.integers(-1, p.users_per_group, (p.num_groups, p.num_subchannels))
    pbar = np.where(a[:, None, :] >= 0, rng.uniform(0, 0.02, (p.num_groups, p.num_uavs, p.num_subchannels)), 0.0)
    full, _ = m.mc_rates_assigned(p, inst, a, pbar)
    for n in range(p.num_groups):
        assert np.array_equal(m.slot_mc_rates(p, inst, n, a[n], pbar[n]), full[n])
