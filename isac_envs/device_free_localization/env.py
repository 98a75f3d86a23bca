"""Gymnasium env ``isac_envs/DeviceFreeLocalization-v1`` (and ``-v0``) over :mod:`.model`."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from isac_envs.base_env import ISACEnv
from isac_envs.core import check_action
from isac_envs.device_free_localization import model
from isac_envs.device_free_localization.model import NUM_BS, OBS_BOUND, OBS_DIM, Decision, Instance, Params


class DeviceFreeLocalizationEnv(ISACEnv):
    """
    ## Description

    Power allocation for device-free localisation in a monostatic ISAC network (Rivera Figueroa,
    Bishoyi, Petrova, arXiv 2402.10660). Three full-duplex ISAC base stations (BSs) sit on
    alternate vertices of a hexagon (circumradius 250 m), each 120° sector pointing inwards. BS
    ``b`` serves one UE with an OFDM downlink and uses the same waveform as a monostatic radar to
    measure its range to one passive target; the CPU trilaterates the target from the three ranges.
    The BS powers couple both services through interference: the other BSs' downlinks and target
    echoes at every UE, the direct BS-BS signals, the bistatic echoes and the residual
    self-interference at every sensing receiver. The reward is the paper's objective (P1): minus
    the largest range standard deviation (Curry's formula) over the BSs, subject to a downlink
    SINR threshold at every UE (C1, penalised).

    One step is one allocation slot of 0.5 s. The UEs are drawn once per episode; the target
    moves at 10 m/s with a random-walk heading and bounces off the hexagon edges; the Rician
    fading is redrawn every slot. The action does not change future states.

    ## Action Space

    ``Box(-1, 1, (3,), float32)``: one value per BS, decoded in dB so that the power box (C2)
    holds by construction: ``p_b = P_max * 10^(-D (1 - a_b) / 20)`` with ``P_max = 46 dBm`` and
    ``D = power_dynamic_range_db = 80`` dB (``a = +1`` is full power, ``a = -1`` is
    ``1e-8 P_max``, i.e. -34 dBm; 1 dB is 0.025 action units). The 80 dB span holds every
    registered solver's decision: the least powers meeting C1 (``comm_min_power``) reach
    ``P_max - 50.5`` dB at the defaults and ``P_max - 72`` dB at a threshold of -10 dB (1000 seeds
    each); the optimum stays within 18 dB of ``P_max``. Actions outside [-1, 1] are clipped;
    NaN/inf, a wrong shape or a non-numeric dtype raise. :meth:`encode_action` is the exact inverse
    up to float32 rounding (relative power error <= 3e-7).

    | Num | Action | Min | Max |
    |-----|--------|-----|-----|
    | 0-2 | power of BS 0..2, dB-scaled | -1 (P_max - 80 dB) | +1 (P_max) |

    ## Observation Space

    ``Box(-10, 10, (34,), float32)``. Linear gains enter as SNR at full power,
    ``dB(x) = 10 log10(max(P_max x / sigma^2, 1e-30))``; the whole vector is clipped to [-10, 10]
    (seen at the defaults: [-0.9, 1.9]). It is lossless up to float32 rounding, so agents see what
    the solvers see.

    | Num   | Observation    | Formula / unit                                                             |
    |-------|----------------|----------------------------------------------------------------------------|
    | 0-8   | `comm_snr`     | (dB(G^c_bj) - 30) / 20, BS b -> UE j, row-major (direct + target path)     |
    | 9-11  | `echo_snr`     | dB(\\|alpha_bb\\|^2) / 20, monostatic echo of BS b                          |
    | 12-20 | `sensing_inr`  | (dB(\\|alpha_b'b\\|^2 + \\|h_b'b\\|^2) - 30) / 20, BS b' -> BS b; diagonal 0.0 |
    | 21-23 | `si_inr`       | (dB(\\|beta_b\\|^2) - 30) / 20, self-interference                           |
    | 24    | `comm_threshold` | gamma_dB / 10                                                            |
    | 25-26 | `target_xy`    | target (x, y) / R (the CPU's current estimate, assumed exact)              |
    | 27-32 | `ue_xy`        | UE j (x, y) / R, j-major                                                   |
    | 33    | `time`         | t / T                                                                      |

    ## Rewards

    ``r = J - penalty * (c1_comm_sinr + c2_power_box)`` with ``J = -max_b sigma_R,b`` in metres
    (Curry's range STD after OFDM processing gain, capped at 100 m) and ``penalty = 2`` m per unit
    of violation; ``c1_comm_sinr = sum_j max(0, 1 - SINR^c_j / gamma)`` (in [0, 3]);
    ``c2_power_box`` is 0 by construction. Typical mean rewards (defaults): optimum -0.47, all
    BSs at full power -0.86, uniform random actions -48.7 (v0's 40 dB span: -7.7): most
    random powers are far below the useful range, so the sensing STD hits its cap.

    ## Leaderboard score

    ``score_rule = "mean_reward"``: an episode's score is the mean over its steps of the reward
    above (penalised). Every slot is an independent snapshot (the action does not change future
    states), so the mean is the per-slot average of the paper's objective minus the penalty.
    ``info["objective"]`` (unpenalised J) and ``info["feasible"]`` (C1 and C2 hold) are reported
    beside it.

    ## Starting State

    UEs uniform (by area) in the 120° disc-sector of radius ``comm_radius_m`` in front of each
    BS; the target uniform in the hexagon with a uniform heading; fresh Rician fading.
    ``reset(options={"instance": inst})`` replays a given :class:`~.model.Instance` instead.

    ## Episode End

    The episode is truncated after ``episode_length`` (50) slots: a time window of an ongoing
    process (the target keeps moving, the network keeps serving), never terminated.

    ## Info

    ``objective``, ``metrics``, ``violations``, ``feasible``, ``tx_power_w`` of the step just
    evaluated; ``slot`` (0-based index of the slot just played; 0 after reset); ``instance``:
    the snapshot the *next* action acts on. ``info["instance"]`` is **privileged** information
    (exact positions, fading and gains) for analytic solvers (``SolverPolicy``); learned
    agents must not read it.

    ## Arguments

    ``gym.make("isac_envs/DeviceFreeLocalization-v1", params=None, config=None, render_mode=None,
    **param_overrides)``: ``params`` a :class:`~.model.Params`, or ``config`` a YAML of Params
    fields (``"small"``, ``"paper"`` or a path), not both; keyword overrides of any Params field
    (``si_level_db=-90``, ``comm_sinr_threshold_db=5``, ...) apply on top. ``render_mode`` is
    ``"ansi"`` (text) or ``"rgb_array"`` (480x480 image). Params outside their documented ranges
    (``model.PARAM_BOUNDS``) and an ``options["instance"]`` of the wrong shape, with non-finite
    entries or drawn with another BS layout raise ``ValueError`` naming the field.
    ``gym.make_vec(id, num_envs=N)`` returns the native batched
    :class:`~isac_envs.device_free_localization.vector.DeviceFreeLocalizationVectorEnv`.

    ## Version History

    * v1: the action's power span widened from 40 dB to 80 dB (``power_dynamic_range_db``
      default 80), so that every registered solver's decision is an action (at 40 dB, 34 % of
      ``comm_min_power``'s decisions were clipped and its feasibility fell from 0.95 to 0.61).
      The random draws come in blocks (two generator calls per episode start, one per 16 slots:
      ``model.v1_draw_start``, ``model.v1_fading``), which lets the native vector env step without a
      per-env loop; the distributions (UEs, target, heading, Rician fading) are those of v0, the
      UEs and the target of a seed are v0's, the fading samples differ. Params get documented
      bounds; given instances are validated. Same physics, observation and reward.
    * v0: initial version (40 dB span, the spec's per-slot draw order). Still registered:
      ``DeviceFreeLocalization-v0`` is :class:`DeviceFreeLocalizationEnvV0` (v0's random stream)
      with the registration kwarg ``power_dynamic_range_db=40`` (a keyword override, so it also
      overrides ``params=``/``config=`` unless passed explicitly).
    """

    system = model.SYSTEM
    score_rule = "mean_reward"  # leaderboard: mean over the episode's steps of the (penalised) reward
    params_cls = Params
    instance_cls = Instance

    def __init__(self, params: Params | None = None, config=None, render_mode: str | None = None,
                 **param_overrides: Any) -> None:
        super().__init__(params=params, config=config, render_mode=render_mode, **param_overrides)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(NUM_BS,), dtype=np.float32)
        self.observation_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(OBS_DIM,), dtype=np.float32)
        self.slot = 0
        self.last_evaluation = None
        self.last_decision: Decision | None = None
        self._evaluated_instance: Instance | None = None
        self._trail: list[np.ndarray] = []

    # ------------------------------------------------------------------ codec
    def decode_action(self, action) -> Decision:
        """Action in [-1, 1]^3 -> BS powers in W (dB-scaled decoding of spec Sec. 6)."""
        a = check_action(action, (NUM_BS,))
        return Decision(tx_power_w=model.decode_power_w(a, self.params))

    def encode_action(self, decision: Decision) -> np.ndarray:
        """BS powers in W -> action (float32), the inverse of :meth:`decode_action`."""
        return model.encode_power(decision.tx_power_w, self.params)

    # ------------------------------------------------------------------ API
    # ------------------------------------------------------------------ random stream (v1: blocks of draws)
    def _sample(self, params: Params, rng: np.random.Generator) -> Instance:
        u, self._block = model.v1_draw_start(params, rng)
        self._block_start = 0
        return model.v1_sample_instance(params, u, self._block, rng)

    def _draw_for_given_instance(self) -> None:
        """A given instance still draws a start's uniforms and normal block (its row 0 unused)."""
        _, self._block = model.v1_draw_start(self.params, self.np_random)
        self._block_start = 0

    def _advance(self) -> Instance:
        row = self.slot - self._block_start
        if row >= len(self._block):  # next block of slot draws (one generator call per V1_BLOCK_SLOTS slots)
            self._block_start, row = self.slot, 0
            self._block = self.np_random.standard_normal((model.v1_block_rows(self.params, self.slot),
                                                          model.V1_SLOT_NORMALS))
        return model.v1_advance_instance(self.params, self.instance, self._block[row], self._comm_path_gain)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        inst = self._start_episode(seed, options, self._sample)
        if options and options.get("instance") is not None:
            model.validate_instance(self.params, inst)  # shapes, finiteness, layout of a given instance
            self._draw_for_given_instance()
        self.slot = 0
        self.last_evaluation = None
        self.last_decision = None
        self._evaluated_instance = None
        self._trail = [inst.target_position_m[:2].copy()]
        self._comm_path_gain = model.comm_path_gain(self.params, inst.ue_positions_m)  # UEs fixed per episode
        return model.observation(self.params, inst, 0), {"slot": 0, "instance": inst}

    def step(self, action):
        if self.instance is None:
            raise RuntimeError("call reset() before step()")
        decision = self.decode_action(action)
        ev = model.evaluate_power(self.params, self.instance, decision.tx_power_w)  # decoded: finite, (3,)
        reward = ev.penalised(self.params.penalty)
        played = self.slot
        self.slot += 1
        truncated = self.slot >= self.params.episode_length
        self.last_evaluation, self.last_decision, self._evaluated_instance = ev, decision, self.instance
        self.instance = self._advance()
        self._trail.append(self.instance.target_position_m[:2].copy())
        info = {"objective": ev.objective, "metrics": ev.metrics, "violations": ev.violations,
                "feasible": ev.feasible, "tx_power_w": decision.tx_power_w.copy(), "slot": played,
                "instance": self.instance}
        return model.observation(self.params, self.instance, self.slot), reward, False, truncated, info

    # ------------------------------------------------------------------ render
    def render(self):
        if self.render_mode is None:
            return None
        if self.instance is None:
            raise RuntimeError("call reset() before render()")
        if self.render_mode == "ansi":
            return self._render_ansi()
        from isac_envs.device_free_localization.render import render_rgb

        return render_rgb(self.params, self._evaluated_instance or self.instance, self.last_evaluation,
                          np.array(self._trail), self.slot)

    def _render_ansi(self) -> str:
        inst, ev = self._evaluated_instance or self.instance, self.last_evaluation
        x, y = inst.target_position_m[:2]
        head = f"t={self.slot}/{self.params.episode_length} target=({x:+.1f},{y:+.1f}) m"
        if ev is None:
            return head + " obj=n/a (no decision yet)\n"
        lines = [head + f" obj={ev.objective:.3f} m feasible={ev.feasible}"]
        m, thr = ev.metrics, self.params.comm_sinr_threshold_db
        for b in range(NUM_BS):
            lines.append(f"BS{b} P={m[f'tx_power_dbm_{b}']:.1f} dBm Gamma={m[f'sensing_sinr_eff_db_{b}']:.1f} dB "
                         f"rstd={m[f'range_std_m_{b}']:.2f} m | UE{b} SINR={m[f'comm_sinr_db_{b}']:.1f} dB "
                         f"(thr {thr:.1f})")
        return "\n".join(lines) + "\n"


class DeviceFreeLocalizationEnvV0(DeviceFreeLocalizationEnv):
    """``isac_envs/DeviceFreeLocalization-v0``: the v1 env with v0's random stream (the spec's normative
    per-slot draw order: :func:`~.model.sample_instance`, :func:`~.model.advance_instance`), so that a
    seed gives v0's episode; registered with ``power_dynamic_range_db=40`` (v0's action span)."""

    def _sample(self, params: Params, rng: np.random.Generator) -> Instance:
        return model.sample_instance(params, rng)

    def _draw_for_given_instance(self) -> None:
        pass

    def _advance(self) -> Instance:
        return model.advance_instance(self.params, self.instance, self.np_random, self._comm_path_gain)
