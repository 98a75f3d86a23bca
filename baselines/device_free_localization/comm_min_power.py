"""Communication-only power control (beyond the paper, spec Sec. 8.5).

The least powers meeting C1 (Foschini-Miljanic / Yates fixed point, computed exactly by the
shared oracle with sensing level 0); ``comm_fallback`` when C1 is infeasible. It ignores
sensing and shows what a comm-only design costs the localisation.
"""

from __future__ import annotations

from isac_envs.device_free_localization.model import Decision, Instance, Params, validate_instance

from .common import comm_fallback, comm_feasible_point, make_problem


def solve(params: Params, instance: Instance) -> Decision:
    """p = P_max x_c, the least C1-feasible powers."""
    validate_instance(params, instance)
    problem = make_problem(params, instance)
    x_comm = comm_feasible_point(problem)
    if x_comm is None:
        return comm_fallback(problem)
    return problem.to_decision(x_comm)
