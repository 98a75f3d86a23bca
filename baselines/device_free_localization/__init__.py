"""Baselines of device-free localisation (spec Sec. 8); registry only, no solver imported here."""

from baselines.registry import PolicySpec

_PKG = "baselines.device_free_localization"

POLICIES = {
    "sca": PolicySpec(f"{_PKG}.sca:solve", replan="step",
                      description="paper's Algorithm 1: SCA on the DC surrogate (cvxpy/Clarabel)"),
    # rtol 1e-9 (solver default 1e-6): the reference is then tighter than SCA's own convergence
    "bisection_optimum": PolicySpec(f"{_PKG}.bisection_optimum:solve", replan="step", options={"rtol": 1e-9},
                                    description="global optimum: bisection on the sensing level, exact oracle"),
    "initial_condition": PolicySpec(f"{_PKG}.initial_condition:solve", replan="step",
                                    description="paper's comparison scheme IC: every BS at P_max"),
    "comm_min_power": PolicySpec(f"{_PKG}.comm_min_power:solve", replan="step",
                                 description="communication-only least powers meeting C1"),
}
PAPER_SOLVER = "sca"
BEST_KNOWN = "bisection_optimum"  # global optimum (leaderboard "gap to best known")
KEY_METRICS = ("range_std_max_m", "range_std_mean_m", "comm_sinr_min_db", "total_power_w")
LEADERBOARD_NOTE = ("objective = -max_b range STD [m] (larger is better); infeasible = a UE below the "
                    "downlink SINR threshold.")
