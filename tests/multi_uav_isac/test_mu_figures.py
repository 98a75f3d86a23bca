"""agents.figures.multi_uav_isac: points from evaluate(), Fig. 3 captioned as the documented
non-reproduction, overlapping levels named, only evaluated sweep points drawn, units on every axis."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from agents.figures import multi_uav_isac as figs  # noqa: E402
from baselines.multi_uav_isac import voronoi_iwf  # noqa: E402
from isac_envs.multi_uav_isac.model import Params, evaluate, sample_instance  # noqa: E402


def test_sweep_point_is_evaluate():
    point = figs._sweep_point(("rho_min", 0.4, 2))
    params = Params(rho_min=0.4)
    inst = sample_instance(params, np.random.default_rng(2))
    ev = evaluate(params, inst, voronoi_iwf.solve(params, inst))
    assert point["voronoi_iwf"]["sum_rate_bps"] == ev.metrics["sum_rate_bps"]
    assert point["voronoi_iwf"]["feasible"] == float(ev.feasible)


def test_levels_note_names_only_overlapping_lines():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0.4, 0.7])
    note = figs._levels(ax, {"voronoi_iwf": 0.5951, "nearest_equal": 0.5950, "voronoi_iwf_min": 0.46}, ".4f")
    assert "Voronoi + IWF (sensing pool)" in note and "nearest BS" in note and "C5 min" not in note
    assert figs._levels(ax, {"voronoi_iwf": 0.65, "voronoi_iwf_min": 0.45}, ".4f") is None
    styles = {line.get_linestyle() for line in ax.get_lines()[1:]}
    assert len(styles) == 3              # distinct dash patterns
    plt.close(fig)


def _synthetic_runs():
    # medians of the CRB rise with the iterations, as measured on the paper setting
    return [{"objective": [0.60, 0.64, 0.64][:n], "crb": [3e-3, 5e-3, 5e-3][:n],
             "levels": {"voronoi_iwf": (0.595, 4e-3), "nearest_equal": (0.595, 9e-3), "voronoi_iwf_min": (0.46, 8e-2)}}
            for n in (2, 3, 3)]


def _texts(fig):
    out = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return " ".join(out)


def test_convergence_figures_caption_units_and_legend_outside(tmp_path, monkeypatch):
    captured = []
    monkeypatch.setattr(plt, "close", lambda fig: captured.append(fig))
    paths = figs._fig_convergence(_synthetic_runs(), tmp_path)
    assert [p.exists() and p.stat().st_size > 10_000 for p in paths] == [True, True]
    fig2, fig3 = captured
    text3 = _texts(fig3)
    assert "not reproduced" in text3 and "median CRB rises" in text3 and "Documented non-reproduction" in text3
    assert "overlapping levels" in _texts(fig2)
    for fig in (fig2, fig3):
        ax = fig.axes[0]
        assert "[" in ax.get_ylabel() and "count" in ax.get_xlabel()
        legend = ax.get_legend()
        fig.canvas.draw()
        box = legend.get_window_extent()
        assert box.y1 <= ax.get_window_extent().y0          # legend entirely below the axes
        # the x ticks say how many instances still run at each iteration (2 stop after one iteration)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0\n(3 running)", "1\n(3 running)", "2\n(2 running)"]
    monkeypatch.undo()
    plt.close("all")


def test_sweeps_draw_only_evaluated_points(tmp_path, monkeypatch):
    captured = []
    monkeypatch.setattr(plt, "close", lambda fig: captured.append(fig))
    rate = figs._sweep("rate_min_bps", (0.0, 0.4e9), 1, 1, "rate")
    rho = figs._sweep("rho_min", (0.0, 0.5), 1, 1, "rho")
    figs._fig_crb_vs_rate(rate, tmp_path)
    figs._fig_sum_rate(rho, rate, tmp_path)
    fig4, fig_sr = captured
    for line in fig4.axes[0].get_lines():
        assert list(line.get_xdata()) == [0.0, 400.0] and line.get_marker() not in (None, "None", "")
    assert [list(line.get_xdata()) for line in fig_sr.axes[0].get_lines()] == [[0.0, 0.5]] * 4
    assert all("[" in ax.get_xlabel() for ax in fig_sr.axes) and "[Gbit/s]" in fig_sr.axes[0].get_ylabel()
    monkeypatch.undo()
    plt.close("all")
