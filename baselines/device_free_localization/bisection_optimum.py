"""Global optimum of (P1) by bisection on the sensing level (beyond the paper, spec Sec. 8.3).

(P2) max_x min_b SINR^s_b(x) s.t. C1, 0 <= x <= 1 is quasi-concave: for a fixed level tau the
feasible set is polyhedral and the exact least-power oracle decides it. Bisection (geometric
midpoint) on tau therefore converges to the global optimum; the returned allocation is the
unique least-power one at the optimal level.
"""

from __future__ import annotations

import numpy as np

from isac_envs.device_free_localization.model import Instance, Params, validate_instance

from .common import comm_fallback, comm_feasible_point, least_power, make_problem, start_point


def solve(params: Params, instance: Instance, rtol: float = 1e-6, max_iter: int = 200,
          return_trace: bool = False):
    """Least-power allocation reaching the largest feasible min sensing SINR (within ``rtol``).

    With ``return_trace=True`` also returns the list of feasible levels ``lo`` (min sensing
    SINR, noise units), one per iteration.
    """
    validate_instance(params, instance)
    problem = make_problem(params, instance)
    x_comm = comm_feasible_point(problem)
    if x_comm is None:
        decision = comm_fallback(problem)
        return (decision, []) if return_trace else decision
    x0 = start_point(problem, x_comm)
    lo = float(problem.sensing_sinr(x0).min())
    x_lo = least_power(problem, lo)
    if x_lo is None:  # lo rejected through rounding: keep the start point
        x_lo = x0
    hi = float((problem.echo / (problem.si + 1.0)).min())
    trace = [lo]
    for _ in range(max_iter):
        if hi <= lo * (1.0 + rtol):
            break
        mid = float(np.sqrt(lo * hi))
        x = least_power(problem, mid)
        if x is None:
            hi = mid
        else:
            lo, x_lo = mid, x
        trace.append(lo)
    decision = problem.to_decision(x_lo)
    return (decision, trace) if return_trace else decision
