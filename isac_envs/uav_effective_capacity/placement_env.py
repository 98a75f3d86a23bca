"""The placement variant ``isac_envs/UAVEffectiveCapacityPlacement-v0`` (also registered under the old
id ``isac_envs/UAVEffectiveCapacity-v0``): placement and beam *shaping* with a built-in beamformer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from isac_envs.base_env import ISACEnv
from isac_envs.uav_effective_capacity import model
from isac_envs.uav_effective_capacity.model import Decision, Instance, Params


class UAVEffectiveCapacityPlacementEnv(ISACEnv):
    """Placement variant: a UAV ISAC base station flying to a waypoint, beams by a built-in decoder.

    This is a second, legitimate task (learn placement and beam shaping with a structured
    beamformer); it is **not** the paper's problem: the decoder substitutes its own per-block
    beamformer for any solver's, so it cannot rank the paper's schemes (use
    ``isac_envs/UAVEffectiveCapacity-v1`` for that).

    ## Description
    A UAV at height ``uav_height`` with a vertical ``num_antennas``-element ULA serves
    ``num_users`` ground users over Rician fading (per-block beamformers, perfect CSI per block)
    and illuminates one ground target (beam-pattern gain >= ``sensing_threshold``). Each episode
    is a mission of ``num_slots`` slots; in every slot the UAV flies at most
    ``uav_speed_max * slot_duration`` toward a waypoint and serves the users. The slot's score is
    the weighted sum **effective capacity** (EC) over the episode's ``num_samples`` stored fading
    samples (Wu et al., statistical QoS exponent ``qos_exponent``). The per-block beamformers are
    produced by a structured, CSI-adaptive decoder (spec (S20)-(S22), (S21b)) from the action.
    ``num_slots=1, uav_speed_max=inf`` is the paper's static problem.

    ## Action space
    ``Box(-1, 1, (4 + 2K,), float32)`` (K = 4: 12), clipped to [-1, 1]:

    | index       | name                   | decoding |
    |-------------|------------------------|----------|
    | 0:2         | waypoint               | lo + (a+1)/2 (hi-lo) [m]; the UAV flies toward it (max ``uav_speed_max``) |
    | 2:2+K       | power-share logits     | shares = softmax(``action_share_temperature`` a) |
    | 2+K:2+2K    | regularisation offsets | lambda_k = P beta_0/(d_k^2 K sigma^2) 10^(``action_reg_decades`` a) |
    | 2+2K        | target lean            | eps = ``action_lean_max`` max(0, a) |
    | 3+2K        | power adaptation       | b = (a+1)/2: 0 fixed shares, 1 full effective-gain inversion |

    The total power ``p_max`` (C2), the region (C3) and PSD (C4) hold by construction; the sensing
    gain (C1) holds wherever it is satisfiable (Gamma d_t^2 <= M p_max).

    ## Observation space
    ``Box(-10, 10, (12 + 4K,), float32)`` (K = 4: 28), all entries clipped to [-10, 10];
    c = region centre, S = max region side:

    | index        | content                                              | normalisation |
    |--------------|------------------------------------------------------|---------------|
    | 0:2          | UAV position at the start of the slot                | 2(q-lo)/(hi-lo) - 1 |
    | 2:2+2K       | user positions (x0, y0, x1, ...)                     | (u - c)/S |
    | 2+2K:4+2K    | target position                                      | (m - c)/S |
    | 4+2K:4+3K    | user large-scale gain at the UAV position [dB]       | (10 log10(beta_0/d_k^2) + 65)/10 |
    | 4+3K         | sensing difficulty Gamma d_t^2 / (M p_max)           | clipped to [0, 5] (> 1: infeasible) |
    | 5+3K         | log10 Gamma                                          | (log10 max(Gamma, 1e-8) + 2.5)/1.5 |
    | 6+3K         | log10 mean QoS exponent                              | (log10 theta + 1.5)/1.5 |
    | 7+3K         | Rician factor                                        | log10(kappa + 0.01)/2 |
    | 8+3K:8+4K    | previous slot's EC per user [bit/s/Hz] (0 at reset)  | /20 |
    | 8+4K         | previous slot's mean sensing power (0 at reset)      | /p_max |
    | 9+4K         | previous slot's summed normalised violations         | none |
    | 10+4K        | slots remaining                                      | (T - t)/T |
    | 11+4K        | UAV step per slot                                    | min(v_max dt / S, 1) |

    ## Rewards
    ``evaluate(...).objective - penalty * (sensing + power + region + psd)`` violations
    (``penalty`` = 50 by default), i.e. the slot's weighted sum EC [bit/s/Hz] minus the penalty.

    ## Starting state
    ``reset`` draws an instance (user/target jitter, UAV start per ``uav_start``, the fading
    samples) from ``self.np_random``; ``reset(options={"instance": inst})`` replays a stored one.

    ## Episode end
    ``terminated`` is always False; ``truncated`` after ``num_slots`` slots (a time limit: the UAV
    could keep serving).

    ## Info
    ``objective``, ``metrics``, ``violations``, ``feasible``, ``uav_pos``, ``waypoint``, ``slot``
    (0-based index of the slot just played) and ``instance``: the snapshot the next action acts on.
    ``info["instance"]`` is privileged information (the fading samples, i.e. the transmitter's
    CSI) for analytic solvers; agents must not read it.

    ## Arguments
    ``gym.make("isac_envs/UAVEffectiveCapacityPlacement-v0", params=None, config=None, render_mode=None,
    **param_overrides)``: ``config="small"``/``"paper"``/a YAML path, keyword overrides of any
    ``Params`` field (e.g. ``num_samples=200``); ``render_mode`` in ``"ansi"``, ``"rgb_array"``.

    ## Leaderboard score
    ``score_rule = "mean_reward"``: an episode scores the mean over its slots of the penalised slot
    reward above (each slot is a complete EC evaluation at the slot's position).

    ## Version History
    * Placement-v0 / UAVEffectiveCapacity-v0: the env as first released (``UAVEffectiveCapacity-v0``
      stays registered with exactly this behaviour, for agents trained on it; since the faithful
      ``UAVEffectiveCapacity-v1`` exists this class is also registered as ``UAVEffectiveCapacityPlacement-v0``).
    """

    score_rule = "mean_reward"

    system = "uav_effective_capacity"
    params_cls = Params
    instance_cls = Instance

    def __init__(self, params=None, config=None, render_mode: str | None = None, **param_overrides: Any):
        super().__init__(params, config, render_mode, **param_overrides)
        K = self.params.num_users
        self.action_space = spaces.Box(-1.0, 1.0, (model.action_dim(self.params),), np.float32)
        self.observation_space = spaces.Box(-10.0, 10.0, (12 + 4 * K,), np.float32)
        self._t = 0
        self._trajectory: list[np.ndarray] = []
        self._last = None

    # ------------------------------------------------------------------ codec
    def decode_action(self, action) -> Decision:
        """The Decision an action means at the current instance (UAV starts at ``instance.uav_start``)."""
        if self.instance is None:
            raise RuntimeError("call reset() before decode_action()")
        return model.decode_action(self.params, self.instance, action)[0]

    def encode_action(self, decision: Decision) -> np.ndarray:
        """Projection of a solver's Decision to an action (exact waypoint, mean power shares)."""
        return model.encode_action(self.params, decision)

    # ------------------------------------------------------------------ API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        inst = self._start_episode(seed, options, model.sample_instance)
        model.validate_instance(self.params, inst)
        self._t = 0
        self._prev_ec = np.zeros(self.params.num_users)
        self._prev_ps = 0.0
        self._prev_viol = 0.0
        self._trajectory = [np.asarray(inst.uav_start, float).copy()]
        self._last = None
        return self._observation(), {"slot": 0, "instance": inst}

    def step(self, action):
        if self.instance is None:
            raise RuntimeError("call reset() before step()")
        p = self.params
        decision, waypoint = model.decode_action(p, self.instance, action)
        ev = model.evaluate(p, self.instance, decision)
        reward = ev.penalised(p.penalty)
        slot = self._t
        self._t += 1
        K = p.num_users
        self._prev_ec = np.array([ev.metrics[f"ec_user_{k}"] for k in range(K)])
        self._prev_ps = ev.metrics["sensing_power_mean"]
        self._prev_viol = float(sum(ev.violations.values()))
        self.instance = model.advance_instance(p, self.instance, self.np_random, decision.uav_pos)
        self._trajectory.append(decision.uav_pos.copy())
        self._last = (ev, decision)
        info = {"objective": ev.objective, "metrics": ev.metrics, "violations": ev.violations,
                "feasible": ev.feasible, "uav_pos": decision.uav_pos.copy(), "waypoint": waypoint,
                "slot": slot, "instance": self.instance}
        truncated = self._t >= p.num_slots
        return self._observation(), float(reward), False, truncated, info

    # ------------------------------------------------------------------ observation
    def _observation(self) -> np.ndarray:
        p, inst = self.params, self.instance
        M = p.num_antennas
        lo, hi = p.lo, p.hi
        c, S = (lo + hi) / 2.0, float(np.max(hi - lo))
        q = inst.uav_start
        gain_db = 10.0 * np.log10(model.user_gains(p, inst, q))
        dt2 = model.sq_distance_m2(p, q, inst.target_pos)
        step = p.uav_speed_max * p.slot_duration
        obs = np.concatenate([
            2.0 * (q - lo) / (hi - lo) - 1.0,
            ((inst.user_pos - c) / S).ravel(),
            (inst.target_pos - c) / S,
            (gain_db + 65.0) / 10.0,
            [np.clip(p.sensing_threshold * dt2 / (M * p.p_max), 0.0, 5.0),
             (math.log10(max(p.sensing_threshold, 1e-8)) + 2.5) / 1.5,
             (math.log10(float(np.mean(p.theta))) + 1.5) / 1.5,
             math.log10(p.rician_factor + 0.01) / 2.0],
            self._prev_ec / 20.0,
            [self._prev_ps / p.p_max, self._prev_viol, (p.num_slots - self._t) / p.num_slots,
             min(step / S, 1.0)],
        ])
        return np.clip(obs, -10.0, 10.0).astype(np.float32)

    # ------------------------------------------------------------------ render
    def render(self):
        if self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            return self._render_text()
        return self._render_rgb()

    def _render_text(self) -> str:
        if self._last is None:
            q = self.instance.uav_start
            return f"slot 0/{self.params.num_slots} q=({q[0]:.1f},{q[1]:.1f}) (no slot played yet)"
        ev, d = self._last
        K = self.params.num_users
        ec = " ".join(f"{ev.metrics[f'ec_user_{k}']:.1f}" for k in range(K))
        ratio = ev.metrics["beam_gain_ratio_min"]
        return (f"slot {self._t}/{self.params.num_slots} q=({d.uav_pos[0]:.1f},{d.uav_pos[1]:.1f}) "
                f"J={ev.objective:.2f} EC=[{ec}] gain/Γ={ratio:.2f} p_s={ev.metrics['sensing_power_mean']:.2f}W "
                f"{'feasible' if ev.feasible else 'INFEASIBLE'}")

    def _render_rgb(self, size: int = 400) -> np.ndarray:
        return render_scene(self.params, self.instance, self._trajectory, size)


def render_scene(p: Params, inst: Instance, trajectory: list, size: int = 400) -> np.ndarray:
    """400x400 RGB: region (grey), users (blue squares), target (red cross), UAV path (green), UAV (disc)."""
    pts = np.vstack([p.lo, p.hi, inst.user_pos, inst.target_pos[None], *trajectory])
    bmin, bmax = pts.min(axis=0), pts.max(axis=0)
    span = float(np.max(bmax - bmin)) * 1.1 + 1e-9
    centre = (bmin + bmax) / 2.0
    img = np.full((size, size, 3), 255, np.uint8)

    def px(xy):
        uv = (np.asarray(xy, float) - centre) / span * (size - 1) + (size - 1) / 2.0
        return int(round(uv[0])), int(round(size - 1 - uv[1]))

    def box(x0, y0, x1, y1, color, fill=False):
        x0, x1 = sorted((max(0, min(size - 1, x0)), max(0, min(size - 1, x1))))
        y0, y1 = sorted((max(0, min(size - 1, y0)), max(0, min(size - 1, y1))))
        if fill:
            img[y0:y1 + 1, x0:x1 + 1] = color
        else:
            img[y0:y1 + 1, [x0, x1]] = color
            img[[y0, y1], x0:x1 + 1] = color

    def line(a, b, color):
        (x0, y0), (x1, y1) = px(a), px(b)
        n = max(abs(x1 - x0), abs(y1 - y0), 1)
        xs = np.clip(np.round(np.linspace(x0, x1, n + 1)).astype(int), 0, size - 1)
        ys = np.clip(np.round(np.linspace(y0, y1, n + 1)).astype(int), 0, size - 1)
        img[ys, xs] = color

    (x0, y0), (x1, y1) = px(p.lo), px(p.hi)
    box(x0, y0, x1, y1, (150, 150, 150))
    for u in inst.user_pos:
        cx, cy = px(u)
        box(cx - 4, cy - 4, cx + 4, cy + 4, (30, 60, 220), fill=True)
    cx, cy = px(inst.target_pos)
    for d in range(-6, 7):
        for dx, dy in ((d, d), (d, -d)):
            img[np.clip(cy + dy, 0, size - 1), np.clip(cx + dx, 0, size - 1)] = (220, 30, 30)
    for a, b in zip(trajectory[:-1], trajectory[1:]):
        line(a, b, (20, 160, 40))
    cx, cy = px(trajectory[-1])
    yy, xx = np.ogrid[:size, :size]
    img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 36] = (20, 160, 40)
    return img
