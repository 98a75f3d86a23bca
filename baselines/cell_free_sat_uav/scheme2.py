"""Scheme 2 (paper Sec. V, CoMP of [27]): Algorithm 3 on path-loss-only CSI (S5), then (S-BO) with the true gains."""

from __future__ import annotations

from baselines.cell_free_sat_uav import algorithm3
from isac_envs.cell_free_sat_uav import model
from isac_envs.cell_free_sat_uav.model import Decision, Instance, Params


def solve(params: Params, instance: Instance, return_trace: bool = False, apply_backoff: bool = True):
    """Algorithm 3 with ``gain_user_proxy``/``gain_sat_proxy`` everywhere; ``apply_backoff=False`` returns the
    decision before the final true-CSI back-off (it underestimates interference, acceptance check 14)."""
    model.validate_instance(params, instance)
    d, trace = algorithm3.solve(params, instance, return_trace=True, gain_user=instance.gain_user_proxy,
                                gain_sat=instance.gain_sat_proxy)
    power = d.power
    if apply_backoff:
        power = model.backoff(params, instance.gain_sat, instance.sat_subchannel, d.assignment, d.power)
    out = Decision(d.assignment, power, d.hover_time)
    return (out, trace) if return_trace else out
