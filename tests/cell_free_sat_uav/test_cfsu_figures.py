"""Smoke test of the cell_free_sat_uav figures (tiny sweeps) and the sweep worker's numbers."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from agents.figures import cell_free_sat_uav as figs  # noqa: E402
from baselines.cell_free_sat_uav import algorithm3  # noqa: E402
from isac_envs.cell_free_sat_uav import model as m  # noqa: E402


def test_sweep_worker_matches_evaluate():
    out = figs._solve_point(((("num_subchannels", 4),), 0, ("algorithm3", "scheme3")))
    p = m.Params(num_subchannels=4)
    inst = m.sample_instance(p, np.random.default_rng(0))
    ev = m.evaluate(p, inst, algorithm3.solve(p, inst))
    assert out["algorithm3"][0] == ev.metrics["efficiency_sum"] and out["algorithm3"][2][0] > 0
    assert out["scheme3"][2] is None and out["scheme3"][0] < out["algorithm3"][0]


def test_figures_written(tmp_path):
    paths = [figs.fig2_convergence(tmp_path, range(1), 1),
             figs.fig3_threshold(tmp_path, range(1), 1, values=[-120.0, -100.0]),
             figs.fig5_coverage(tmp_path)]
    for p in paths:
        assert p.exists() and p.stat().st_size > 10_000
