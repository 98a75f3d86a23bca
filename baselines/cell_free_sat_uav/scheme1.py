"""Scheme 1 (paper Sec. V): Algorithm 3 ignoring the interference constraint, then the uniform back-off (S-BO)."""

from __future__ import annotations

from baselines.cell_free_sat_uav import algorithm3
from isac_envs.cell_free_sat_uav import model
from isac_envs.cell_free_sat_uav.model import Decision, Instance, Params


def solve(params: Params, instance: Instance, return_trace: bool = False):
    """Algorithm 3 with ``use_interference=False``; then per-subchannel back-off with the true gains (D9)."""
    model.validate_instance(params, instance)
    d, trace = algorithm3.solve(params, instance, return_trace=True, use_interference=False)
    power = model.backoff(params, instance.gain_sat, instance.sat_subchannel, d.assignment, d.power)
    out = Decision(d.assignment, power, d.hover_time)
    return (out, trace) if return_trace else out
