"""``isac perf --vector`` / ``--scale``: what is measured, the budget cap, the tables (not the speed)."""

import re

import pytest

from agents import perf
from agents.cli import main as isac
from isac_envs import SYSTEMS

DFL = SYSTEMS["device_free_localization"][0]  # the current id (the one `isac perf --system` times)


def _cell(table: str, env: str, mode: str) -> list[str]:
    line = next(l for l in table.splitlines() if l.startswith(f"| {env} | {mode} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_vector_rows_modes_and_calibration_first():
    rows, notes = perf.perf_vector([DFL], ns=(1, 4), config="small", repeats=1, target_seconds=0.005)
    assert rows[0]["env"] == perf.CALIBRATION_ID  # calibration measured first, in the same run
    modes = {(r["env"], r["mode"]) for r in rows}
    assert {(perf.CALIBRATION_ID, "native vector env"), (perf.CALIBRATION_ID, "SyncVectorEnv"),
            (DFL, "single env"), (DFL, "SyncVectorEnv")} <= modes
    for r in rows:
        expected = {1} if r["mode"] == "single env" else {1, 4}
        assert set(r["rates"]) == expected and all(v > 0 for v in r["rates"].values())
    has_native = (DFL, "native vector env") in modes
    assert has_native or any(DFL in n and "no native vector env" in n for n in notes)
    table = perf.vector_table(rows, (1, 4))
    assert _cell(table, perf.CALIBRATION_ID, "native vector env")[-1] == "1"
    assert _cell(table, DFL, "single env")[3] == "—"  # a single env has no N=4 column


def test_budget_skips_larger_n_with_a_note():
    rows, notes = perf.perf_vector([DFL], ns=(1, 8), config="small", repeats=1, target_seconds=0.005,
                                   budget_seconds=0.0)
    assert all(set(r["rates"]) == {1} for r in rows)
    assert any(re.search(r"SyncVectorEnv: N >= 8 skipped \(estimated .* > budget 0 s", n) for n in notes)


def test_rate_sizes_blocks_from_the_warm_up_and_takes_the_median():
    ticks = iter([0.0, 1.0, 2.0, 3.0, 3.0, 7.0, 7.0, 8.0])  # warm-up, then 3 timed blocks
    rate = perf._rate(lambda calls: None, env_steps_per_call=10, repeats=3, target_seconds=1.0,
                      clock=lambda: next(ticks))
    # warm-up: 2 calls in 1 s -> blocks of 2 calls; blocks of 1 s, 4 s, 1 s -> 20, 5, 20 env-steps/s
    assert rate == pytest.approx(20.0)


def test_scale_rows_report_the_agent_count():
    rows, notes = perf.perf_scale((2, 3), config="small", repeats=1)
    assert notes == []
    by_env = {}
    for r in rows:
        by_env.setdefault(r[0], []).append(int(r[2]))
        assert float(r[5].replace(",", "")) > 0
    assert by_env == {"cell_free_sat_uav_v0": [2, 3], "multi_uav_isac_v0": [2, 3]}


def test_cli_writes_the_tables(tmp_path):
    assert isac(["perf", "--vector", "--system", "device_free_localization", "--config", "small", "--ns", "1", "2",
                 "--repeats", "1", "--clock", "cpu", "--no-progress", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "perf_vector.md").read_text()
    assert text.startswith("`isac perf") and "| CartPole-v1 | native vector env |" in text and f"| {DFL} |" in text


@pytest.mark.parametrize("call", [lambda: perf.perf_vector([DFL], ns=(1, 0)),
                                  lambda: perf.perf_vector([DFL], repeats=0),
                                  lambda: perf.perf_scale((8, -1))])
def test_bad_counts_are_a_clear_error(call):
    with pytest.raises(ValueError, match=r"(--ns|repeats|--agents).* must be integers >= 1"):
        call()
