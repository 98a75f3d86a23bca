"""Gymnasium env ``isac_envs/MultiUAVISAC-v0`` over :mod:`.model`."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from isac_envs.base_env import ISACEnv
from isac_envs.multi_uav_isac import model
from isac_envs.multi_uav_isac.model import Decision, Instance, Params


class MultiUAVISACEnv(ISACEnv):
    """
    ## Description

    ISAC multi-UAV network of Zheng et al., *Resource Allocation Based on Optimal Transport Theory
    in ISAC-Enabled Multi-UAV Networks* (Globecom 2024 workshop). ``M`` ground dual-function base
    stations (BSs, 4x4 UPA, 30 GHz) serve ``K`` cooperative UAVs in the downlink and localise all
    ``K+1`` UAVs by radar echoes (UAV ``K`` is non-cooperative: sensed only). Each slot the agent
    chooses the cell association of every UAV (each BS splits its bandwidth ``B`` equally among its
    UAVs) and the power of every communication stream ``p^c_k`` and radar stream ``p^s_j``. Beams
    are MRT beams steered at position *estimates*; the objective (paper eq. 12) is

    ``G = theta1 R_sum / (K R_u) + (1 - theta1) theta2 rho_sum / (K + 1)``

    with ``rho_j`` the localisation QoS (weighted inverse range/angle Cramér-Rao bounds with
    accuracy floors). Constraints: per-stream power box (C3), per-BS budget ``P_total`` (C4),
    minimum QoS ``rho_min`` per UAV (C5), minimum rate ``R_min`` per cooperative UAV (C6).

    One step = one slot. Cooperative UAVs move inside 3-D hotspots (Gauss-Markov), the
    non-cooperative UAV flies straight (mirrored at the borders), estimates are redrawn every slot.
    The decision does not affect the next state.

    ## Action Space

    ``Box(-1, 1, ((K+1) M + K + (K+1),), float32)`` (151 default, 24 ``small``), clipped to [-1, 1];
    NaN/inf or a wrong shape raise ``ValueError``.

    | Index                      | Action                                | Decoding |
    |----------------------------|---------------------------------------|----------|
    | 0 .. (K+1)M - 1            | association score of UAV j for BS m, row-major (j, m) | ``assoc[j] = argmax_m`` (ties: lowest m) |
    | (K+1)M .. (K+1)M + K - 1   | comm power score of cooperative UAV k | ``p = p_min + (a+1)/2 (p_max - p_min)`` W |
    | then K+1 entries           | radar power score of UAV j            | as above |

    Then per BS, if its link powers sum above ``P_total`` they are shrunk towards ``p_min``
    proportionally, so C3 and C4 hold by construction.

    ## Observation Space

    ``Box(-5, 5, (D_obs,), float32)``, ``D_obs = 3(K+1) + KM + (K+1)M + (K+1) + 4C + 2M + 1``
    (327 default, 62 ``small``), clipped to [-5, 5]; ``np(q) = (x/L, y/L, (z - z_min)/(z_max - z_min))``.

    | Block            | Size     | Content |
    |------------------|----------|---------|
    | UAV estimates    | 3(K+1)   | ``np(uav_pos_est)`` row-major (non-coop last) |
    | comm gains       | K M      | ``(10 log10 g^c_{k,m} + 110) / 10`` (effective power gain, dB) |
    | sensing gains    | (K+1) M  | ``(10 log10 g^s_{j,m} - 5) / 15`` (echo SNR per watt, dB(1/W)) |
    | estimate errors  | K+1      | per-axis position-estimate std / 50 m |
    | hotspot centres  | 3C       | ``np(hotspot_centers)`` |
    | hotspot weights  | C        | mixture weights |
    | BS positions     | 2M       | ``x/L, y/L`` |
    | time             | 1        | ``slot / N`` |

    ## Rewards

    ``r = G - penalty (C3 + C4 + C5 + C6)`` with the normalised violations of spec (S12)
    (``penalty = 2``; C3 = C4 = 0 for decoded actions). AIBOT reaches G ≈ 0.66 in the paper
    setting, the Voronoi + water-filling comparison ≈ 0.60.

    ## Leaderboard score

    ``score_rule = "mean_reward"``: an episode's score is the mean over its ``num_slots`` steps of the
    penalised reward above (slots are independent per-slot problems). ``info["objective"]`` (G,
    unpenalised) and ``info["feasible"]`` are reported beside it. Every registered solver scores the
    same through the action space as natively (round trip exact to 1e-8; 1e-6 for ``voronoi_iwf_min``,
    whose milliwatt radar streams sit below the float32 resolution of the power code).

    ## Starting State

    ``sample_instance``: hotspot centres and weights, cooperative UAVs around their hotspot, the
    non-cooperative UAV uniform in the volume with a uniform heading, fresh estimates.
    ``reset(options={"instance": inst})`` replays a given :class:`~.model.Instance`.

    ## Episode End

    ``terminated`` after ``num_slots`` (N = 20) steps: the flight time ``T = N delta_t`` ends and
    the slot index is observed, so this is a true terminal state. Never truncated.

    ## Info

    ``objective``, ``metrics`` (rate/sensing terms, sum rate, CRBs, SNRs, loads, ...; a read-only
    mapping computed on first access, ``dict(info["metrics"])`` copies it),
    ``violations`` (C3-C6), ``feasible``, ``slot`` (0-based index of the slot just played; 0 after
    reset), ``decision`` (``assoc``, ``p_comm``, ``p_sense`` as played) and ``instance``: the
    snapshot the *next* action acts on (after the terminal step: the last one).
    ``info["instance"]`` is **privileged** (it holds the true UAV positions) and exists for analytic
    solvers (``SolverPolicy``); learned agents must not read it.

    ## Arguments

    ``gym.make("isac_envs/MultiUAVISAC-v0", params=None, config=None, render_mode=None,
    **param_overrides)``: ``params`` a :class:`~.model.Params`, or ``config`` a YAML of Params
    fields (``"small"``, ``"paper"`` or a path), not both; keyword overrides of any Params field
    (``num_uavs=10``, ``rho_min=0.4``, ...) apply on top. ``render_mode``: ``"ansi"`` (text) or
    ``"rgb_array"`` (480x480 top view). Every Params field has a documented range
    (``model.INT_BOUNDS``/``model.FLOAT_BOUNDS``); a replayed ``options["instance"]`` is checked by
    ``model.validate_instance`` (shapes against the Params, finite entries).

    ## Vectorized environment

    ``gym.make_vec("isac_envs/MultiUAVISAC-v0", num_envs=N)`` returns the native
    :class:`~isac_envs.multi_uav_isac.vector.MultiUAVISACVectorEnv` (batched numpy physics, same
    episodes as ``N`` single envs seeded ``seed + i``, same-step autoreset).

    ## Version History

    * v0: initial version (spec version 1). Later changes kept v0's episodes, rewards and codec:
      validated Params ranges and replayed instances, ``score_rule``, a native vector env, lazily
      computed ``info["metrics"]``; ``encode_action`` rounds power scores to float32 towards
      feasibility (decoding unchanged).
    """

    #: the leaderboard's episode score: mean of the per-step penalised reward (contract 4)
    score_rule = "mean_reward"

    system = "multi_uav_isac"
    params_cls = Params
    instance_cls = Instance

    def __init__(self, params: Params | None = None, config=None, render_mode: str | None = None,
                 **param_overrides: Any) -> None:
        super().__init__(params=params, config=config, render_mode=render_mode, **param_overrides)
        p = self.params
        self.action_space = spaces.Box(-1.0, 1.0, shape=(model.action_dim(p),), dtype=np.float32)
        self.observation_space = spaces.Box(-5.0, 5.0, shape=(model.obs_dim(p),), dtype=np.float32)
        self.slot = 0
        self.last_evaluation = None
        self.last_decision: Decision | None = None
        self._evaluated_instance: Instance | None = None

    # ------------------------------------------------------------------ codec
    def decode_action(self, action) -> Decision:
        """Action -> Decision (argmax association, affine powers, per-BS budget scaling)."""
        return model.decode_action(self.params, action)

    def encode_action(self, decision: Decision) -> np.ndarray:
        """Decision -> action (float32); exact inverse for decisions meeting C3 and C4."""
        return model.encode_action(self.params, decision)

    # ------------------------------------------------------------------ API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        inst = self._start_episode(seed, options, model.sample_instance)
        if options and options.get("instance") is not None:
            model.validate_instance(self.params, inst)
        self.slot = 0
        self.last_evaluation = None
        self.last_decision = None
        self._evaluated_instance = None
        return model.observe(self.params, inst), {"slot": 0, "instance": inst}

    def step(self, action):
        if self.instance is None:
            raise RuntimeError("call reset() before step()")
        decision = self.decode_action(action)
        ev = model.evaluate_decoded(self.params, self.instance, decision)
        reward = ev.penalised(self.params.penalty)
        played = self.slot
        self.last_evaluation, self.last_decision, self._evaluated_instance = ev, decision, self.instance
        terminated = played >= self.params.num_slots - 1
        if not terminated:
            self.instance = model.advance_instance(self.params, self.instance, self.np_random)
            self.slot += 1
        info = {"objective": ev.objective, "metrics": ev.metrics, "violations": ev.violations,
                "feasible": ev.feasible, "slot": played, "decision": decision.as_dict(),
                "instance": self.instance}
        return model.observe(self.params, self.instance), reward, terminated, False, info

    # ------------------------------------------------------------------ render
    def render(self):
        if self.render_mode is None:
            return None
        if self.instance is None:
            raise RuntimeError("call reset() before render()")
        inst = self._evaluated_instance or self.instance
        if self.render_mode == "ansi":
            return self._render_ansi(inst)
        from isac_envs.multi_uav_isac.render import render_rgb

        return render_rgb(self.params, inst, self.last_decision, self.last_evaluation)

    def _render_ansi(self, inst: Instance) -> str:
        p, ev, dec = self.params, self.last_evaluation, self.last_decision
        k = p.num_uavs
        nc = inst.uav_pos[k]
        head = (f"slot {inst.slot}/{p.num_slots}  M={p.num_bs} BSs, K={k}+1 UAVs, "
                f"non-coop at ({nc[0]:.0f}, {nc[1]:.0f}, {nc[2]:.0f}) m")
        if ev is None or dec is None:
            return head + "  (no decision yet)\n"
        m = ev.metrics
        lines = [head,
                 f"G={ev.objective:.4f} (rate {m['rate_term']:.4f} + sensing {m['sensing_term']:.4f})  "
                 f"R_sum={m['sum_rate_bps'] / 1e9:.2f} Gbit/s  CRB_nc,range={m['crb_noncoop_range_m2']:.3g} m^2  "
                 f"feasible={ev.feasible}"]
        n_m = model.loads(p, dec.assoc)
        p_bs = (np.bincount(dec.assoc[:k], dec.p_comm, p.num_bs) + np.bincount(dec.assoc, dec.p_sense, p.num_bs))
        for b in range(p.num_bs):
            lines.append(f"  BS{b}: load {n_m[b]:2d}  power {p_bs[b]:6.2f} / {p.p_total_w:.1f} W")
        lines.append("  violations: " + "  ".join(f"{key}={val:.3g}" for key, val in ev.violations.items()))
        return "\n".join(lines) + "\n"
