"""Baselines of ``multi_uav_isac`` (spec Sec. 8): AIBOT (paper), the paper's comparison scheme
(weighted Voronoi + iterative water-filling, two sensing variants), a naive scheme and two
stronger references. Solver modules are named as strings only (nothing imported here).
"""

from baselines.registry import PolicySpec

POLICIES = {
    "aibot": PolicySpec("baselines.multi_uav_isac.aibot:solve", replan="step",
                        description="AIBOT: OT cell association (Alg. 1) + projected gradient power (Alg. 2), alternated (Alg. 3)"),
    "aibot_kkt": PolicySpec("baselines.multi_uav_isac.aibot:solve", replan="step", options={"power": "kkt"},
                            description="AIBOT with the exact KKT water-filling instead of Alg. 2"),
    "voronoi_iwf": PolicySpec("baselines.multi_uav_isac.voronoi_iwf:solve", replan="step",
                              description="paper's comparison: weighted Voronoi + water-filling, sensing pool (1-theta1) P_total"),
    "voronoi_iwf_min": PolicySpec("baselines.multi_uav_isac.voronoi_iwf:solve", replan="step",
                                  options={"sensing": "min"},
                                  description="comparison, communication-centric: radar streams at their C5 minimum"),
    "nearest_equal": PolicySpec("baselines.multi_uav_isac.nearest_equal:solve", replan="step",
                                description="nearest BS, equal power per link (ignores C5/C6)"),
    "local_search": PolicySpec("baselines.multi_uav_isac.reference:local_search", replan="step",
                               description="reference: single-UAV moves from AIBOT's association, exact KKT powers"),
    "exhaustive": PolicySpec("baselines.multi_uav_isac.reference:exhaustive", replan="step", small_only=True,
                             description="reference: all M^(K+1) associations x exact KKT powers (small only)"),
}

PAPER_SOLVER = "aibot"
BEST_KNOWN = ("exhaustive", "local_search")  # leaderboard "gap to best known": first that ran

KEY_METRICS = ("sum_rate_bps", "rate_term", "sensing_term", "rho_min_achieved", "crb_noncoop_range_m2",
               "sense_power_frac", "idle_bs")

LEADERBOARD_NOTE = ("Objective G = theta1 R_sum/(K R_u) + (1-theta1) theta2 rho_sum/(K+1) (spec S10); "
                    "exhaustive runs on the small config only.")
