"""Gymnasium env ``isac_envs/CellFreeSatUAV-v0``: the satellite-UAV swarm flight, one slot per step."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from isac_envs.base_env import ISACEnv
from isac_envs.core import check_action
from isac_envs.cell_free_sat_uav import model
from isac_envs.cell_free_sat_uav.power import slot_power
from isac_envs.cell_free_sat_uav.model import Decision, Instance, Params


class CellFreeSatUAVEnv(ISACEnv):
    """Cell-free cognitive satellite-UAV swarm network (Liu et al., JSAC 2021; spec ``cell_free_sat_uav``).

    A swarm of ``num_uavs`` (M) single-antenna UAVs flies over ``num_groups`` (N) groups of
    ``users_per_group`` (K_g) multi-antenna UAV users and serves group n in time slot n, on
    ``num_subchannels`` (L) subchannels shared with a satellite whose ``num_sat_users`` (J) ground
    users must see an expected interference below ``interference_threshold_dbm``. One episode is
    one flight; one step decides one slot: which user gets each subchannel, every UAV's power on
    every subchannel, and the hovering time of the slot.

    ## Action space
    ``Box(-1, 1, (L*K_g + M*L + 1,), float32)`` for the current slot n:

    | slice | shape | decoding |
    |---|---|---|
    | scores | (L, K_g) | a_{n,l} = argmax_k scores[l, k] (ties -> lowest k); every subchannel gets a user |
    | power | (M, L) | w = (x+1)/2; p_{n,m,l} = P_max w_{m,l} / max(1, sum_l' w_{m,l'}) W (peak power by construction) |
    | time | (1,) | tau = (x+1)/2; T_n = tau * max(0, min(T_slot, T_remaining)) s (time budgets by construction) |

    Then (if ``enforce_interference``) every used subchannel's powers are backed off so that every
    satellite user stays at or below I_th (S-BO), and UAV m's slot powers are scaled down if the slot
    would use more than its remaining energy. NaN/inf or a wrong shape raise ``ValueError``.

    ``action_mode="hybrid"``: ``Box(-1, 1, (L*(K_g + 1) + M + 1,), float32)``; the agent chooses the
    assignment, the energy shares and the time, and the decoder computes the powers with the paper's
    Algorithm 2 for the slot:

    | slice | shape | decoding |
    |---|---|---|
    | scores | (L, K_g + 1) | a_{n,l} = argmax over [users 0..K_g-1, idle] of scores[l]; the idle column K_g -> a_{n,l} = -1 (unused) |
    | energy | (M,) | share_m = (x+1)/2: UAV m may spend share_m * E^rem_m (J) in this slot |
    | time | (1,) | T_n = tau * max(0, min(T_slot, T_remaining)) s, tau = (x+1)/2 (as in the direct mode) |

    Powers (W): the maximiser of the slot's deterministic-equivalent rate sum over the used subchannels
    (problem (34) restricted to slot n) s.t. sum_l p_{n,m,l} <= min(P_max, share_m E^rem_m / T_n) and, if
    ``enforce_interference``, every satellite user on a used subchannel at most I_th, computed by Algorithm
    2's damped nu / (34) alternation (``isac_envs.cell_free_sat_uav.power.slot_power``, the same loop the
    solvers run, with an exact numpy interior-point solver of (34)); unused subchannels get no power. Every
    constraint holds by construction. A step costs a few ms (about 10x the direct mode).

    ## Observation space
    ``Box(-5, 5, (N K_g M + N M L + 2N + 1 + M + N K_g [+ N K_g M L],), float32)``, in order:

    | block | shape | value |
    |---|---|---|
    | snr | (N, K_g, M) | 10 log10(mean_l lambda_{n,k,m,l} P_max / sigma^2) / 20 |
    | cap | (N, M, L) | 10 log10(I_th / (P_max max_{j on l} lambda^s_{n,j,m,l})) / 20; 3.0 if no satellite user on (n, l) |
    | slot | (N,) | one-hot of the current slot |
    | time_left | (1,) | remaining hovering time / T_tot |
    | energy_left | (M,) | remaining energy of each UAV / E_m |
    | time_used | (N,) | T_n' / T_slot of committed slots n' < n, 0 otherwise |
    | user_eff | (N, K_g) | efficiency eta_{n',k} (bit/s/Hz) of committed slots / 10, 0 otherwise |
    | full snr (``observation="full"`` only) | (N, K_g, M, L) | 10 log10(lambda_{n,k,m,l} P_max / sigma^2) / 20 |

    Every block is clipped to [-5, 5]. The default ``"summary"`` observation is a lossy summary of the
    large-scale CSI (gains averaged over subchannels, one worst-case interference cap per slot, UAV
    and subchannel) while the solvers read the full gains: the one deliberate exception to "agents
    and solvers see the same information". ``observation="full"`` adds the per-subchannel user SNRs.

    ## Reward
    With J(D) = evaluate(D).objective - penalty * sum(violations(D)) of the committed partial flight
    D, the reward of step n is J(D_<=n) - J(D_<=n-1) (J(empty) = 0): the undiscounted return equals
    the whole-flight objective (overall efficiency (8), bit/s/Hz, in ``"sum"`` mode; the minimum
    user efficiency (10) in ``"maxmin"`` mode, where rewards are 0 until the last step). With
    ``enforce_interference=True`` every constraint holds by construction and the penalty never fires.

    ## Leaderboard score
    ``score_rule = "return"``: the episode's undiscounted return, i.e. the penalised whole-flight
    objective J(D) of the final decision (the paper's objective (8) or (10) minus ``penalty`` times the
    summed violations; with ``enforce_interference=True`` the penalty never fires). ``info["objective"]``
    of the last step is the unpenalised objective and ``info["feasible"]`` its feasibility.

    ## Starting state
    ``reset`` draws a new flight (geometry, LoS states, shadowing, satellite scheduling, fading
    samples) from ``self.np_random``, or replays ``options={"instance": inst}``; slot 0, nothing committed.

    ## Episode end
    ``terminated=True`` after the N-th step (the flight with its time and energy budgets ends: a true
    terminal state); ``truncated`` is always False.

    ## info
    ``objective``, ``metrics``, ``violations``, ``feasible`` (``evaluate`` of the committed flight),
    ``slot`` (the slot just decided; 0 at reset), ``hover_time`` (T_n, s), ``energy_left`` ((M,) J),
    ``decision`` (committed Decision) and ``instance``. ``info["instance"]`` is privileged (the full
    large-scale CSI and the fading samples used for scoring): solvers read it, agents must not.

    ## Arguments
    ``CellFreeSatUAVEnv(params=None, config=None, render_mode=None, enforce_interference=True,
    observation="summary", action_mode="direct", **param_overrides)``; ``param_overrides`` are ``Params``
    fields (e.g. ``num_uavs=8``, ``objective_mode="maxmin"``, ``penalty=20.0``) within the documented
    ranges of ``model.PARAM_BOUNDS``. ``observation``, ``enforce_interference`` and ``action_mode``
    (``"direct"`` | ``"hybrid"``) are env-only options (also accepted by the PettingZoo env and ``gym.make``).
    ``options={"instance": inst}`` in ``reset`` is checked against the Params by ``model.validate_instance``.

    ## Version History
    * v0: initial release (direct action). Later additions that keep the default episode, spaces and
      reward unchanged: the opt-in ``action_mode="hybrid"`` (new action space only when asked for),
      ``observation="full"``, documented Params bounds, instance validation, ``score_rule``.
    """

    system = "cell_free_sat_uav"
    params_cls = Params
    instance_cls = Instance

    #: leaderboard rule (contract 4): the episode's undiscounted return (= penalised whole-flight objective)
    score_rule = "return"

    def __init__(self, params=None, config=None, render_mode: str | None = None, enforce_interference: bool = True,
                 observation: str = "summary", action_mode: str = "direct", **param_overrides: Any):
        super().__init__(params=params, config=config, render_mode=render_mode, **param_overrides)
        if not isinstance(enforce_interference, (bool, np.bool_)):
            raise TypeError(f"enforce_interference must be a bool, got {enforce_interference!r}")
        if observation not in ("summary", "full"):
            raise ValueError(f"observation must be 'summary' or 'full', got {observation!r}")
        if action_mode not in model.ACTION_MODES:
            raise ValueError(f"action_mode must be one of {model.ACTION_MODES}, got {action_mode!r}")
        self.enforce_interference = bool(enforce_interference)
        self.observation_mode = observation
        self.action_mode = action_mode
        p = self.params
        self.obs_dim = model.observation_dim(p, observation == "full")
        self.act_dim = model.action_dim(p, action_mode)
        self.observation_space = spaces.Box(-5.0, 5.0, (self.obs_dim,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (self.act_dim,), np.float32)
        self.slot = 0
        self.committed = model.empty_decision(p)
        self._static = None
        self._user_eff = np.zeros((p.num_groups, p.users_per_group))
        self._last_j = 0.0
        self._last_reward = 0.0
        self._last_eval = None

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        inst = self._start_episode(seed, options, model.sample_instance)
        if options and options.get("instance") is not None:
            model.validate_instance(self.params, inst)          # contract 1 (sampled instances fit by construction)
        self._static = model.observation_static(self.params, inst, self.observation_mode == "full")
        self.slot = 0
        self.committed = model.empty_decision(self.params)
        self._user_eff = np.zeros((self.params.num_groups, self.params.users_per_group))
        self._rate_mc = np.zeros((self.params.num_groups, self.params.num_subchannels))
        self._last_j, self._last_reward, self._last_eval = 0.0, 0.0, None
        return self._obs(), {"slot": 0, "instance": inst}

    def step(self, action):
        if self.instance is None:
            raise RuntimeError("call reset() before step()")
        if self.slot >= self.params.num_groups:
            raise RuntimeError("the flight has ended (terminated); call reset()")
        decision = self.decode_action(action)
        n = self.slot
        p, inst = self.params, self.instance
        terminated = n + 1 >= p.num_groups
        # rates once per step: only slot n's links are new (issue 12); DE metrics on the final step only
        self._rate_mc[n] = model.slot_mc_rates(p, inst, n, decision.assignment[n], model.effective_power(decision)[n])
        rate_de = model.de_rates_assigned(p, inst, decision.assignment, model.effective_power(decision)) \
            if terminated else None
        ev, eff = model.evaluate_rates(p, inst, decision, self._rate_mc, rate_de)
        j = ev.penalised(p.penalty)
        reward = j - self._last_j
        self.committed = decision
        self._user_eff = eff
        self._last_j, self._last_reward, self._last_eval = j, reward, ev
        self.slot += 1
        info = {
            "objective": ev.objective, "metrics": ev.metrics, "violations": ev.violations, "feasible": ev.feasible,
            "slot": n, "hover_time": float(decision.hover_time[n]), "energy_left": self._energy_left(),
            "decision": decision, "instance": self.instance,
        }
        return self._obs(), float(reward), terminated, False, info

    # ------------------------------------------------------------------ codec
    def _split(self, a: np.ndarray):
        p = self.params
        L, K, M = p.num_subchannels, p.users_per_group, p.num_uavs
        return a[: L * K].reshape(L, K), a[L * K: L * K + M * L].reshape(M, L), float(a[-1])

    def _time_cap(self) -> float:
        t_used = float(self.committed.hover_time[: self.slot].sum())
        t_rem = max(0.0, self.params.total_hover_time_s - t_used)
        return max(0.0, min(self.params.max_slot_hover_time_s, t_rem))

    def _energy_left(self) -> np.ndarray:
        return np.maximum(0.0, self.params.energy_per_uav_j - model.energy_used_j(self.params, self.committed))

    def decode_action(self, action) -> Decision:
        """Full-flight Decision: committed slots < n, slot n decoded from ``action``, later slots empty (pure)."""
        if self.instance is None:
            raise RuntimeError("call reset() before decode_action()")
        if self.slot >= self.params.num_groups:
            raise RuntimeError("the flight has ended; no slot left to decode")
        a = check_action(action, (self.act_dim,))
        if self.action_mode == "hybrid":
            scores, x_energy, x_time = self._split_hybrid(a)
            return self._decode_hybrid(self._hybrid_assignment(scores), (x_energy + 1.0) / 2.0, (x_time + 1.0) / 2.0)
        scores, x_pow, x_time = self._split(a)
        return self._decode_parts(scores.argmax(axis=1), (x_pow + 1.0) / 2.0, (x_time + 1.0) / 2.0)

    # ------------------------------------------------------------------ hybrid codec
    def _split_hybrid(self, a: np.ndarray):
        p = self.params
        L, K, M = p.num_subchannels, p.users_per_group, p.num_uavs
        return a[: L * (K + 1)].reshape(L, K + 1), a[L * (K + 1): L * (K + 1) + M], float(a[-1])

    def _hybrid_assignment(self, scores: np.ndarray) -> np.ndarray:
        """a_{n,l} = argmax over (users, idle) of scores[l]; the idle column K_g maps to -1 (unused)."""
        k = scores.argmax(axis=1)
        return np.where(k == self.params.users_per_group, -1, k).astype(np.int64)

    def _decode_hybrid(self, assign_row: np.ndarray, share: np.ndarray, tau: float) -> Decision:
        """Hybrid slot decode: T_n = tau * cap; UAV m may spend share_m of its remaining energy in the slot, i.e.
        sum_l p_{n,m,l} <= min(P_max, share_m E^rem_m / T_n); powers from Algorithm 2's power step for the slot."""
        p, n, inst = self.params, self.slot, self.instance
        t_n = tau * self._time_cap()
        e_left = self._energy_left()
        with np.errstate(divide="ignore", invalid="ignore"):
            cap_w = np.where(t_n > 0, np.minimum(p.max_power_w, share * e_left / max(t_n, 1e-300)), 0.0)
        power_row = slot_power(p, inst.gain_user[n], inst.gain_sat[n], inst.sat_subchannel[n], assign_row, t_n,
                               cap_w, self.enforce_interference)
        a = self.committed.assignment.copy()
        power = self.committed.power.copy()
        hover = self.committed.hover_time.copy()
        a[n], hover[n] = assign_row, t_n
        power[n] = model.energy_scale_slot(e_left, t_n, power_row)
        return Decision(a, power, hover)

    def _decode_parts(self, assign_row: np.ndarray, w: np.ndarray, tau: float) -> Decision:
        """Slot decode from assignment row (L,), power weights w (M, L) in [0, 1], time fraction tau (Sec. 6)."""
        p, n = self.params, self.slot
        power_row = p.max_power_w * w / np.maximum(1.0, w.sum(axis=1, keepdims=True))
        t_n = tau * self._time_cap()
        a = self.committed.assignment.copy()
        power = self.committed.power.copy()
        hover = self.committed.hover_time.copy()
        a[n] = assign_row
        power[n] = power_row
        hover[n] = t_n
        if self.enforce_interference:
            power[n] = model.backoff(p, self.instance.gain_sat[n:n + 1], self.instance.sat_subchannel[n:n + 1],
                                     a[n:n + 1], power[n:n + 1])[0]
        power[n] = model.energy_scale_slot(self._energy_left(), t_n, power[n])
        return Decision(a, power, hover)

    def encode_action(self, decision: Decision) -> np.ndarray:
        """Action that decodes slot n of ``decision`` (exact up to float32 rounding for a feasible decision)."""
        p, n = self.params, self.slot
        if n >= p.num_groups:
            raise RuntimeError("the flight has ended; no slot left to encode")
        L, K = p.num_subchannels, p.users_per_group
        a_row = np.asarray(decision.assignment)[n]
        if self.action_mode == "hybrid":
            return self._encode_hybrid(decision, a_row)
        scores = -np.ones((L, K))
        scores[np.arange(L), np.maximum(a_row, 0)] = 1.0
        pbar = np.where(a_row[None, :] >= 0, np.asarray(decision.power, float)[n], 0.0)
        x_pow = 2.0 * pbar / p.max_power_w - 1.0
        cap = self._time_cap()
        x_time = 2.0 * float(decision.hover_time[n]) / cap - 1.0 if cap > 0 else -1.0
        act = np.concatenate([scores.ravel(), x_pow.ravel(), [x_time]])
        return np.clip(act, -1.0, 1.0).astype(np.float32)

    def _encode_hybrid(self, decision: Decision, a_row: np.ndarray) -> np.ndarray:
        """scores +1 on the assigned user (idle column for -1), energy share = T_n sum_l p_bar / E^rem, time."""
        p, n = self.params, self.slot
        L, K = p.num_subchannels, p.users_per_group
        scores = -np.ones((L, K + 1))
        scores[np.arange(L), np.where(a_row >= 0, a_row, K)] = 1.0
        t_n = float(decision.hover_time[n])
        spent = max(t_n, 0.0) * np.where(a_row[None, :] >= 0, np.asarray(decision.power, float)[n], 0.0).sum(axis=1)
        e_left = self._energy_left()
        share = np.where(e_left > 0, spent / np.where(e_left > 0, e_left, 1.0), 0.0)
        cap = self._time_cap()
        x_time = 2.0 * t_n / cap - 1.0 if cap > 0 else -1.0
        act = np.concatenate([scores.ravel(), 2.0 * share - 1.0, [x_time]])
        return np.clip(act, -1.0, 1.0).astype(np.float32)

    # ------------------------------------------------------------------ observation / render
    def _obs(self) -> np.ndarray:
        return model.observation(self.params, self._static, self.committed, self.slot, self._user_eff)

    def render(self):
        if self.render_mode is None or self.instance is None:
            return None
        from isac_envs.cell_free_sat_uav import render as _render

        if self.render_mode == "ansi":
            return _render.ansi(self)
        return _render.rgb_array(self)
