"""The paper's comparison scheme "IC": every BS at full power P_max (spec Sec. 8.1).

Also known as max power / equal power. Ignores C1: it violates it in about 30 % of default
instances (then ``evaluate`` reports ``feasible=False``).
"""

from __future__ import annotations

import numpy as np

from isac_envs.device_free_localization.model import NUM_BS, Decision, Instance, Params, validate_instance


def solve(params: Params, instance: Instance) -> Decision:
    """p_b = P_max for every BS."""
    validate_instance(params, instance)
    return Decision(tx_power_w=np.full(NUM_BS, params.max_power_w))
