"""The paper's Algorithm 1: SCA on the difference-of-convex surrogate of (P3) (spec Sec. 8.2).

Paper chain: (P1) min max range STD  <=>  (P2) max min sensing SINR  ->  (P3) slack t with
SINR^s_b >= t  ->  slack u_b >= I_b (13) and the bilinear t u_b <= A_b x_b (14)  ->  DC form
t u = (t+u)^2/4 - (t-u)^2/4 with the concave part linearised at the previous iterate (15)  ->
the convex (P4), iterated until t converges.

Implemented in the normalised variables tau = t / t0, u~_b = u_b / u0_b (an exact change of
variables that keeps the DC surrogate well conditioned). The cvxpy problem is built once per
process with DPP ``Parameter``s and re-solved cheaply; every Parameter is set before each solve
and the solver starts from scratch (``warm_start=False``), so the output depends only on the input.
"""

from __future__ import annotations

import warnings

import numpy as np

from isac_envs.device_free_localization.model import NUM_BS, Instance, Params, validate_instance

from .common import Problem, comm_fallback, comm_feasible_point, make_problem, start_point

_CACHE: dict[str, tuple] = {}


def _surrogate_problem():
    """(P4^(k)) as a cached DPP cvxpy problem: (problem, variables, parameters)."""
    if "p4" in _CACHE:
        return _CACHE["p4"]
    import cvxpy as cp

    x = cp.Variable(NUM_BS, name="x")
    tau = cp.Variable(name="tau")
    u = cp.Variable(NUM_BS, name="u")
    par = {
        "interference": cp.Parameter((NUM_BS, NUM_BS), name="interference"),  # [b, b'] (C_b'b + S_b d_bb') / u0_b
        "inv_u0": cp.Parameter(NUM_BS, nonneg=True, name="inv_u0"),
        "c1_mat": cp.Parameter((NUM_BS, NUM_BS), name="c1_mat"),              # rows of C1 scaled by 1 / f^c_j
        "echo": cp.Parameter(NUM_BS, nonneg=True, name="echo"),               # A~_b
        "half_d": cp.Parameter(NUM_BS, name="half_d"),                        # d_b^(k) / 2
        "e": cp.Parameter(NUM_BS, nonneg=True, name="e"),                     # (d_b^(k))^2 / 4
    }
    constraints = [
        u >= par["interference"] @ x + par["inv_u0"],                                      # (13)
        cp.square(tau + u) / 4 - cp.multiply(par["half_d"], tau - u) + par["e"]
        <= cp.multiply(par["echo"], x),                                                     # (15)
        par["c1_mat"] @ x >= 1.0,                                                           # (C1)
        x >= 0, x <= 1, tau >= 0,                                                           # (C2)
    ]
    problem = cp.Problem(cp.Maximize(tau), constraints)
    assert problem.is_dcp(dpp=True)
    _CACHE["p4"] = (problem, x, par)
    return _CACHE["p4"]


def _set_instance_parameters(par: dict, problem: Problem, t0: float, u0: np.ndarray) -> None:
    par["interference"].value = (problem.cross.T + np.diag(problem.si)) / u0[:, None]
    par["inv_u0"].value = 1.0 / u0
    # C1 row j, x_j - sum_b F^c_jb x_b >= f^c_j, divided by f^c_j so that the right side is 1
    par["c1_mat"].value = (np.eye(NUM_BS) - problem.comm_f_mat) / problem.comm_f_vec[:, None]
    par["echo"].value = problem.echo / (t0 * u0)


def solve(params: Params, instance: Instance, eps: float = 1e-4, max_iter: int = 100, solver: str = "CLARABEL",
          return_trace: bool = False):
    """Algorithm 1 from x^(0); returns the last accepted iterate (and the trace of t^(0) tau^(k))."""
    validate_instance(params, instance)
    problem = make_problem(params, instance)
    x_comm = comm_feasible_point(problem)
    if x_comm is None:
        decision = comm_fallback(problem)
        return (decision, []) if return_trace else decision
    x = start_point(problem, x_comm)
    t0 = float(problem.sensing_sinr(x).min())
    u0 = problem.sensing_interference(x)
    tau_k, u_k = 1.0, np.ones(NUM_BS)
    trace = [t0 * tau_k]
    p4, x_var, par = _surrogate_problem()
    _set_instance_parameters(par, problem, t0, u0)
    for _ in range(max_iter):
        d = tau_k - u_k
        par["half_d"].value = d / 2.0
        par["e"].value = d * d / 4.0
        try:
            with warnings.catch_warnings():  # "optimal_inaccurate": the accept/reject rules below check x
                warnings.simplefilter("ignore", UserWarning)
                p4.solve(solver=solver, warm_start=False)  # fresh: no state from an earlier instance
        except Exception:  # cvxpy.error.SolverError and numerical failures: stop with the last iterate
            break
        if x_var.value is None:
            break
        x_hat = np.clip(x_var.value, 0.0, 1.0)
        if (problem.comm_sinr(x_hat) < problem.gamma * (1.0 - 1e-7)).any():
            break  # reject: the solver's point violates C1
        tau_hat = float(problem.sensing_sinr(x_hat).min()) / t0
        if tau_hat < tau_k * (1.0 - 1e-9):
            break  # reject: no improvement
        x, u_k = x_hat, problem.sensing_interference(x_hat) / u0  # accept; refresh the slacks from x
        tau_prev, tau_k = tau_k, tau_hat
        trace.append(t0 * tau_k)
        if tau_k - tau_prev <= eps * tau_prev:
            break
    decision = problem.to_decision(x)
    return (decision, trace) if return_trace else decision
