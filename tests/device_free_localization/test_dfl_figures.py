"""agents.figures.device_free_localization: the sweep points come from evaluate() and the PNGs are written."""

import numpy as np

from agents.figures import device_free_localization as figs
from baselines.device_free_localization import bisection_optimum
from isac_envs.device_free_localization.model import Params, evaluate, sample_instance


def test_run_point_is_evaluate():
    point = figs._run_point(("si_level_db", -90.0, 3))
    params = Params(si_level_db=-90.0)
    inst = sample_instance(params, np.random.default_rng(3))
    ev = evaluate(params, inst, bisection_optimum.solve(params, inst))
    assert point["bisection_optimum"]["range_std_max_m"] == ev.metrics["range_std_max_m"]
    assert point["bisection_optimum"]["feasible"] == float(ev.feasible)
    assert point["initial_condition"]["tx_power_dbm_0"] == 46.0


def test_figures_written(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    si_runs = figs._sweep("si_level_db", sorted(set(figs.SI_SWEEP_DB) | set(figs.SI_CDF_DB)), 2, 1, "si")
    gamma_runs = figs._sweep("comm_sinr_threshold_db", figs.GAMMA_SWEEP_DB, 2, 1, "gamma")
    paths = [figs._fig3(si_runs, tmp_path, 2), figs._fig4(si_runs, tmp_path, 2), figs._fig5(gamma_runs, tmp_path, 2)]
    for p in paths:
        assert p.exists() and p.stat().st_size > 10_000 and p.suffix == ".png"
