"""Gymnasium env ``isac_envs/UAVEffectiveCapacity-v1``: the paper's problem, one fading block per step."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from isac_envs.base_env import ISACEnv
from isac_envs.core import check_action
from isac_envs.uav_effective_capacity import model
from isac_envs.uav_effective_capacity.model import Decision, Instance, Params
from isac_envs.uav_effective_capacity.placement_env import render_scene

_TERMS = ("sinr", "gain", "comm_power", "sens_power", "min_eig")


def v1_observation_dim(params: Params) -> int:
    K, M = params.num_users, params.num_antennas
    return 11 + 4 * K + 2 * K * M + 2 * M


def static_features(params: Params) -> np.ndarray:
    """Observation entries that depend on Params only: log10 Gamma, log10 mean theta, Rician factor."""
    return np.array([(math.log10(max(params.sensing_threshold, 1e-8)) + 2.5) / 1.5,
                     (math.log10(float(np.mean(params.theta))) + 1.5) / 1.5,
                     math.log10(params.rician_factor + 0.01) / 2.0])


def v1_observation(params: Params, placed, q, user_pos, target_pos, blocks_left_frac, ht, a_t,
                   ec_so_far, viol_so_far) -> np.ndarray:
    """(O1) the v1 observation for any leading (batch) axes (see the env docstring's table)."""
    M = params.num_antennas
    lo, hi = params.lo, params.hi
    c, S = (lo + hi) / 2.0, float(np.max(hi - lo))
    q = np.asarray(q, float)
    d2 = params.uav_height**2 + np.sum((user_pos - q[..., None, :]) ** 2, axis=-1)
    dt2 = params.uav_height**2 + np.sum((target_pos - q) ** 2, axis=-1)
    lead = q.shape[:-1]
    cols = [
        (1.0 - np.asarray(placed, float))[..., None] + np.zeros(lead + (1,)),
        np.asarray(blocks_left_frac, float)[..., None] + np.zeros(lead + (1,)),
        2.0 * (q - lo) / (hi - lo) - 1.0,
        ((user_pos - c) / S).reshape(lead + (-1,)),
        (target_pos - c) / S,
        (10.0 * np.log10(params.ref_gain / d2) + 65.0) / 10.0,
        np.clip(params.sensing_threshold * dt2 / (M * params.p_max), 0.0, 5.0)[..., None],
        np.broadcast_to(static_features(params), lead + (3,)),
        ht.real.reshape(lead + (-1,)), ht.imag.reshape(lead + (-1,)),
        a_t.real, a_t.imag,
        np.asarray(ec_so_far, float) / 20.0,
        np.asarray(viol_so_far, float)[..., None],
    ]
    return np.clip(np.concatenate(cols, axis=-1), -10.0, 10.0).astype(np.float32)


class UAVEffectiveCapacityEnv(ISACEnv):
    """The paper's statistical-QoS UAV ISAC problem, played one fading block per step.

    ## Description
    A UAV at height ``uav_height`` with a vertical ``num_antennas``-element ULA serves ``num_users``
    ground users over Rician fading and illuminates one ground target. The paper's problem: choose
    the UAV position ``q`` once and, for each of the instance's ``num_samples`` = L fading blocks
    (perfect CSI per block), the beamformers ``w_k`` and the sensing covariance ``R_s``, to maximise
    the weighted sum **effective capacity** (EC) over the L blocks, subject to the beam-pattern gain
    >= ``sensing_threshold`` in every block (C1), total power <= ``p_max`` (C2), ``q`` in the region
    (C3), ``R_s`` PSD (C4). An episode is exactly that problem: step 0 places the UAV (static
    protocol: no flight, every scheme starts from the same state), steps 1..L play the blocks
    0..L-1; the action of a block step *is* the block's design (coordinates of the beams and the
    power split), so every solver's ``Decision`` is an action sequence (``encode_action``) and keeps
    its native score (decode(encode(d)) = d up to float32 rounding, R_s rank one).

    ## Action space
    ``Box(-1, 1, (2 + 2MK + 2M + K + 1,), float32)`` (small K=2, M=4: 29; paper K=4, M=8: 87),
    validated strictly (shape, real dtype, finite) then clipped to [-1, 1]:

    | index                 | name                 | meaning |
    |-----------------------|----------------------|---------|
    | 0:2                   | placement            | step 0 only: q = lo + (a+1)/2 (hi-lo) [m]; ignored afterwards |
    | 2:2+2MK               | comm beam coords     | block steps: user k's beam direction offsets c_k = a^3 in C^M, (Re, Im) pairs, k-major |
    | 2+2MK:2+2MK+2M        | sensing beam coords  | block steps: sensing direction offsets c_s = a^3 in C^M (Re, Im) |
    | 2+2MK+2M:             | power fractions      | block steps: f = (a+1)/2 in [0,1]^(K+1): p_k = f_k p_max, p_s = f_K p_max |

    Decoding of a block (docs (V2)-(V4), ``model.decode_block``): direction
    d_j = Q_j (e_0 + c_j) / ||e_0 + c_j|| (c_j = entrywise cube of the action entries: fine resolution
    near the anchor, where interference nulls need it) where Q_j is a unitary basis fixed by the block's CSI: with
    ``action_basis="channel"`` (default) its first column is user j's MMSE direction
    X^-1 h~_j (X = I + sum_k P beta_0/(d_k^2 K sigma^2) h~_k h~_k^H; for the sensing beam X^-1 a_t)
    completed by a Householder reflection, so c_j = 0 means "the MMSE direction" and every
    direction is reachable (``encode_action``); ``action_basis="antenna"`` uses the identity (raw
    antenna-domain coordinates). The basis is a change of coordinates, not an optimisation: it
    does not depend on the objective, and decode(encode(d)) = d. Beams: w_k = sqrt(p_k) d_k, R_s = p_s d_s d_s^H. **Feasibility projection**
    (applied only when the action misses a constraint): if sum f > 1 the fractions are scaled to
    sum 1 (C2); if the block's beam gain is below Gamma, the paper's power split (S22) is applied
    to the block (keeps the directions and the relative comm powers, total power p_max, minimal
    sensing power meeting C1 where C1 is satisfiable at q). C3 and C4 hold by construction.

    ## Observation space
    ``Box(-10, 10, (11 + 4K + 2KM + 2M,), float32)`` (small: 43, paper: 107), clipped to [-10, 10];
    c = region centre, S = max region side; before placement the UAV position is the region centre:

    | index               | content                                                    | normalisation |
    |---------------------|------------------------------------------------------------|---------------|
    | 0                   | 1 at the placement step, 0 at block steps                  | - |
    | 1                   | fraction of blocks still to play                           | (L - n)/L |
    | 2:4                 | UAV position                                               | 2(q-lo)/(hi-lo) - 1 |
    | 4:4+2K              | user positions (x0, y0, x1, ...)                           | (u - c)/S |
    | 4+2K:6+2K           | target position                                            | (m - c)/S |
    | 6+2K:6+3K           | user large-scale gain beta_0/d_k^2 [dB]                    | (dB + 65)/10 |
    | 6+3K                | sensing difficulty Gamma d_t^2/(M p_max)                   | clipped to [0, 5] |
    | 7+3K:10+3K          | log10 Gamma, log10 mean theta, Rician factor               | as in the placement variant |
    | 10+3K:10+3K+2KM     | this block's normalised channels h~_k (Re then Im, k-major) | none (0 at the placement step) |
    | ..+2M               | target steering vector a_t (Re then Im)                    | none (0 at the placement step) |
    | ..+K                | EC per user of the blocks played so far [bit/s/Hz]         | /20 (0 before the first block) |
    | last                | summed normalised violations of the blocks played so far   | none |

    ## Rewards
    Let Psi_n = (n/L) * evaluate(blocks 0..n-1).penalised(``penalty``), i.e. ``evaluate`` (EC
    objective minus ``penalty`` x the summed normalised violations) of the first n blocks of the
    episode's decision, weighted by the fraction played (Psi_0 = 0, Psi_L = the paper's penalised
    objective of the whole decision). The placement step's reward is 0; block step n's reward is
    Psi_n minus the rewards already paid, so the **undiscounted return equals the penalised EC
    objective of the episode** exactly (``evaluate`` of the decision the episode played). A block
    that drags the running EC down is penalised at once (EC is a soft minimum over blocks).

    ## Starting state
    ``reset`` draws an instance (user/target jitter, the L fading samples) with ``sample_instance``
    from ``self.np_random``; ``reset(options={"instance": inst})`` replays a stored one (validated).

    ## Episode end
    ``terminated`` after the placement step and the L block steps (L + 1 steps; the objective is
    complete), ``truncated`` never. ``num_slots``, ``slot_duration``, ``uav_speed_max``,
    ``uav_start``, ``user_speed`` and the ``action_*`` shaping fields are not used by this env.

    ## Info
    ``objective`` (EC of the blocks played so far, unpenalised; after the last block the paper's
    objective), ``violations`` and ``feasible`` (of the blocks so far), ``metrics`` (``evaluate``'s
    metrics of the whole decision at the last step; empty before, to keep the steps cheap), ``slot`` (0-based step index),
    ``block`` (block just played, -1 at the placement step), ``uav_pos``, ``return`` (Psi_n) and
    ``instance`` (privileged: the fading samples; for solvers only).

    ## Arguments
    ``gym.make("isac_envs/UAVEffectiveCapacity-v1", params=None, config=None, render_mode=None,
    action_basis="channel", **param_overrides)``; ``config="small"``/``"paper"``/a YAML path;
    ``render_mode`` in ``"ansi"``, ``"rgb_array"``. ``gym.make_vec(id, num_envs=N)`` returns the
    native ``UAVEffectiveCapacityEnvVector``.

    ## Leaderboard score
    ``score_rule = "return"``: an episode scores its undiscounted return, i.e. the penalised EC
    objective of the whole decision (``info["objective"]`` of the last step is the unpenalised EC).

    ## Version History
    * v1: the faithful env (this class): one block per step, direct beam parameterisation, exact
      solver round trip, placement at step 0 (static protocol).
    * v0: placement and beam shaping over ``num_slots`` slots with a built-in structured beamformer;
      still registered as ``UAVEffectiveCapacity-v0`` and ``UAVEffectiveCapacityPlacement-v0``
      (``UAVEffectiveCapacityPlacementEnv``).
    """

    system = "uav_effective_capacity"
    params_cls = Params
    instance_cls = Instance
    score_rule = "return"

    def __init__(self, params=None, config=None, render_mode: str | None = None, action_basis: str = "channel",
                 **param_overrides: Any):
        super().__init__(params, config, render_mode, **param_overrides)
        if action_basis not in model.ACTION_BASES:
            raise ValueError(f"action_basis must be one of {model.ACTION_BASES}, got {action_basis!r}")
        self.action_basis = action_basis
        p = self.params
        self.action_space = spaces.Box(-1.0, 1.0, (model.v1_action_dim(p),), np.float32)
        self.observation_space = spaces.Box(-10.0, 10.0, (v1_observation_dim(p),), np.float32)
        self._t = 0
        self._q = None

    # ------------------------------------------------------------------ API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        inst = self._start_episode(seed, options, model.sample_instance)
        model.validate_instance(self.params, inst)
        p = self.params
        L, K, M = p.num_samples, p.num_users, p.num_antennas
        self._t = 0
        self._q = None
        self._paid = 0.0
        self._terms = {"sinr": np.zeros((L, K)), "gain": np.zeros(L), "comm_power": np.zeros(L),
                       "sens_power": np.zeros(L), "min_eig": np.zeros(L)}
        self._W = np.zeros((L, M, K), complex)
        self._R = np.zeros((L, M, M), complex)
        self._last = None
        self._ec_so_far, self._viol_so_far = np.zeros(K), 0.0
        return self._observation(), {"slot": 0, "instance": inst}

    def step(self, action):
        if self.instance is None:
            raise RuntimeError("call reset() before step()")
        p = self.params
        L = p.num_samples
        if self._t > L:
            raise RuntimeError("the episode has ended (terminated=True): call reset()")
        a = check_action(action, self.action_space.shape)
        slot = self._t
        if slot == 0:
            self._place(model.placement_from_action(p, a))
            reward, block = 0.0, -1
            obj, mets, feas = 0.0, {}, True
            viol = {"sensing": 0.0, "power": 0.0, "region": 0.0, "psd": 0.0}
        else:
            block = slot - 1
            W, v, p_s = model.decode_block(p, a, self._ht[block], self._gains, self._a_t, self._dt2, self.action_basis)
            R = model.rank_one_cov(v[None], np.asarray(p_s)[None])[0]
            terms = model.block_terms(p, self._h[block], self._a_t, self._dt2, W, R)
            for k in _TERMS:
                self._terms[k][block] = terms[k]
            self._W[block], self._R[block] = W, R
            obj, viol, mets, feas = self._score(block + 1, with_metrics=block + 1 == L)
            self._ec_so_far = np.array([mets[f"ec_user_{k}"] for k in range(p.num_users)])
            if block + 1 < L:
                mets = {}
            self._viol_so_far = sum(viol.values())
            psi = (block + 1) / L * (obj - p.penalty * sum(viol.values()))
            reward = psi - self._paid
        self._paid += reward
        self._t += 1
        terminated = self._t > L
        self._last = (obj, feas)
        info = {"objective": float(obj), "metrics": mets, "violations": viol, "feasible": bool(feas),
                "slot": slot, "block": block, "uav_pos": self._q.copy(), "return": self._paid,
                "instance": self.instance}
        return self._observation(), float(reward), terminated, False, info

    # ------------------------------------------------------------------ internals
    def _place(self, q: np.ndarray) -> None:
        p, inst = self.params, self.instance
        self._q = np.asarray(q, float)
        self._ht = model.normalised_channels(p, inst, self._q)
        self._gains = model.user_gains(p, inst, self._q)
        self._h = self._ht * np.sqrt(self._gains)[None, :, None]
        self._a_t, self._dt2 = model.target_geometry(p, inst, self._q)
        self._user_d = float(np.mean(np.sqrt(model.sq_distance_m2(p, self._q, inst.user_pos))))

    def _score(self, n: int, with_metrics: bool = True):
        """``evaluate``'s aggregation (``model.aggregate_blocks``) of the first n blocks played."""
        terms = {k: v[:n] for k, v in self._terms.items()}
        obj, viol, mets, feas = model.aggregate_blocks(self.params, terms, model.region_violation(self.params, self._q),
                                                       math.sqrt(self._dt2), self._user_d, with_metrics)
        return (float(obj), {k: float(x) for k, x in viol.items()}, {k: float(x) for k, x in mets.items()},
                bool(feas))

    def _observation(self) -> np.ndarray:
        p, inst = self.params, self.instance
        K, M, L = p.num_users, p.num_antennas, p.num_samples
        placed = self._q is not None
        q = self._q if placed else (p.lo + p.hi) / 2.0
        n = max(self._t - 1, 0)  # blocks played
        if placed and n < L:
            ht, a_t = self._ht[n], self._a_t
        else:
            ht, a_t = np.zeros((K, M), complex), np.zeros(M, complex)
        return v1_observation(p, placed, q, inst.user_pos, inst.target_pos, (L - n) / L, ht, a_t,
                              self._ec_so_far, self._viol_so_far)

    # ------------------------------------------------------------------ codec
    def encode_action(self, decision: Decision, step: int | None = None) -> np.ndarray:
        """The action that plays ``decision`` at env step ``step`` (default: the current step).

        Step 0: its placement (other entries 0). Step 1 + l: block l of its beamformers and sensing
        covariance (a (M, K)/(M, M) statistical design is used in every block), encoded in the
        basis at the position the env actually placed the UAV. Exact up to float32 rounding.
        """
        p = self.params
        t = self._t if step is None else int(step)
        a = np.zeros(self.action_space.shape, np.float64)
        a[0:2] = model.placement_to_action(p, decision.uav_pos)
        if t == 0:
            return a.astype(np.float32)
        if self._q is None or not 1 <= t <= p.num_samples:
            raise RuntimeError(f"no block to encode at step {t} (place the UAV first; steps 1..{p.num_samples})")
        block = t - 1
        W = np.asarray(decision.beamformers)
        R = np.asarray(decision.sensing_cov)
        W = W[block] if W.ndim == 3 else W
        R = R[block] if R.ndim == 3 else R
        a[2:] = model.encode_block(p, W, R, self._ht[block], self._gains, self._a_t, self.action_basis)
        return a.astype(np.float32)

    def decode_action(self, action) -> Decision:
        """The Decision of playing ``action`` at every step of the current episode: placement from
        entries 0:2 (or the position already placed) and every block decoded from entries 2: (V4)."""
        if self.instance is None:
            raise RuntimeError("call reset() before decode_action()")
        p, inst = self.params, self.instance
        a = check_action(action, self.action_space.shape)
        q = self._q if self._q is not None else model.placement_from_action(p, a)
        ht = model.normalised_channels(p, inst, q)
        gains = model.user_gains(p, inst, q)
        a_t, dt2 = model.target_geometry(p, inst, q)
        W, v, p_s = model.decode_block(p, np.broadcast_to(a, (ht.shape[0],) + a.shape), ht, gains, a_t, dt2,
                                       self.action_basis)
        return Decision(np.asarray(q, float).copy(), W, model.rank_one_cov(v, p_s))

    def episode_decision(self) -> Decision:
        """The Decision played so far (blocks not yet played are zero)."""
        if self._q is None:
            raise RuntimeError("the UAV is not placed yet")
        return Decision(self._q.copy(), self._W.copy(), self._R.copy())

    # ------------------------------------------------------------------ render
    def render(self):
        if self.render_mode is None:
            return None
        p = self.params
        if self.render_mode == "rgb_array":
            q = self._q if self._q is not None else (p.lo + p.hi) / 2.0
            return render_scene(p, self.instance, [q])
        if self._q is None:
            return f"block 0/{p.num_samples} (UAV not placed yet)"
        obj, feas = self._last
        return (f"block {max(self._t - 1, 0)}/{p.num_samples} q=({self._q[0]:.1f},{self._q[1]:.1f}) "
                f"EC so far={obj:.2f} return={self._paid:.2f} {'feasible' if feas else 'INFEASIBLE'}")
