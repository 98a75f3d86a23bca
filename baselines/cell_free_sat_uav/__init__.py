"""Baselines of ``cell_free_sat_uav`` (spec Sec. 8): the paper's Algorithm 3 (max overall efficiency) and
Algorithm 6 (max-min efficiency), its comparison Schemes 1-3, and a stronger reference (joint power and
time step). Every solver plans the whole flight offline, so ``SolverPolicy`` calls it once per episode
(``replan="episode"``) and re-encodes slot n of the cached Decision at every step. Solver modules are
named as strings only (nothing imported here). ``reference:exhaustive`` (tiny instances only) is a
function of ``baselines.cell_free_sat_uav.reference`` used by the tests, not a leaderboard row.
"""

from baselines.registry import PolicySpec

_P = "baselines.cell_free_sat_uav"

POLICIES = {
    "algorithm3": PolicySpec(f"{_P}.algorithm3:solve", replan="episode",
                             description="paper Alg. 3: subchannels (Alg. 1) + DE power (Alg. 2) + time LP (21), max overall efficiency"),
    "algorithm6": PolicySpec(f"{_P}.algorithm6:solve", replan="episode",
                             description="paper Alg. 6: greedy max-min subchannels (Alg. 4) + max-min power (Alg. 5) + LP (49)"),
    "scheme1": PolicySpec(f"{_P}.scheme1:solve", replan="episode",
                          description="paper Scheme 1: Alg. 3 ignoring the interference constraint, then uniform back-off"),
    "scheme2": PolicySpec(f"{_P}.scheme2:solve", replan="episode",
                          description="paper Scheme 2 (CoMP [27]): Alg. 3 on path-loss-only CSI, then back-off"),
    "scheme3": PolicySpec(f"{_P}.scheme3:solve", replan="episode",
                          description="paper Scheme 3 ([41]): path-loss subchannel allocation, equal power and times, back-off"),
    "reference": PolicySpec(f"{_P}.reference:solve", replan="episode",
                            description="reference: Alg. 3 then joint (power, time) convex steps alternated with Alg. 1"),
}

PAPER_SOLVER = "algorithm3"
BEST_KNOWN = "reference"  # joint power-time reference (leaderboard "gap to best known")

KEY_METRICS = ("efficiency_sum", "efficiency_min", "jain_fairness", "users_served_frac", "energy_used_frac_mean",
               "interference_margin_db_max", "de_rel_error")

LEADERBOARD_NOTE = ("Objective: overall data transmission efficiency (8), bit/s/Hz over the whole flight "
                    "(objective_mode='sum', the paper's main objective). Score rule 'return': an episode scores its "
                    "undiscounted return = the penalised whole-flight objective (the last step's info['objective'] "
                    "when feasible). efficiency_min is the max-min objective (10) that Algorithm 6 maximises: "
                    "rank by it with the Params override objective_mode='maxmin' (e.g. a config with "
                    "'objective_mode: maxmin'). The env's default 'summary' observation is a lossy CSI summary "
                    "(solvers read the full gains via info['instance']).")
