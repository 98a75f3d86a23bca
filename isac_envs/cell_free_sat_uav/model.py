"""Cell-free cognitive satellite-UAV swarm network (spec ``cell_free_sat_uav.md``): the model.

A swarm of M single-antenna UAVs jointly serves N groups of K_g multi-antenna UAV users, group n
in time slot n, on L subchannels shared with a satellite whose J ground users must be protected
by an interference-temperature threshold. ``evaluate`` scores a whole-flight ``Decision``
(subchannel assignment, powers, hovering times) with the Monte-Carlo ergodic rate (S8) from the
stored fading samples; the deterministic equivalent (S9) used by the solvers lives here too.
Pure functions, no Gymnasium; the single source of every score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isac_envs.core import (
    FEASIBILITY_TOL,
    Evaluation,
    ParamsBase,
    require_int,
    require_in_range,
)
from isac_envs.physics.deterministic_equivalent import de_rate_bits, mc_logdet_rate_bits
from isac_envs.physics.itu import elevation_deg, fspl_p525_db, gaseous_loss_db, los_probability
from isac_envs.physics.units import dbm_to_w

__all__ = [
    "Params", "Instance", "Decision", "sample_instance", "validate_instance", "instance_shapes",
    "PARAM_BOUNDS", "MAX_INSTANCE_ELEMENTS", "evaluate", "user_efficiency",
    "empty_decision", "subchannel_freqs_hz", "link_alpha", "de_rates_all", "mc_rates_assigned",
    "slot_mc_rates", "de_rates_assigned", "evaluate_rates",
    "interference_w", "backoff", "energy_used_j", "observation", "observation_static",
    "VIOLATION_KEYS", "METRIC_KEYS",
]

VIOLATION_KEYS = ("total_hover_time", "slot_hover_time", "energy", "max_power", "interference", "power_nonneg")
METRIC_KEYS = (
    "efficiency_sum", "efficiency_min", "efficiency_sum_de", "efficiency_min_de", "jain_fairness",
    "throughput_mbps", "total_hover_time_s", "energy_used_frac_mean", "energy_used_frac_max",
    "power_peak_frac", "interference_margin_db_max", "subchannels_used", "users_served_frac",
    "mean_link_snr_db", "de_rel_error",
)


#: Largest number of elements of any per-instance array (``fading`` is complex128: 16 bytes each).
MAX_INSTANCE_ELEMENTS = 50_000_000

#: Documented range [lo, hi] of every numeric Params field (spec Sec. 2; docs page "Parameters").
#: Sizes: the episode length N and the swarm are capped where the Python-level loops stay interactive;
#: dB/dBm fields keep every linear value in float64 range; lengths span one metre to a continent.
PARAM_BOUNDS: dict[str, tuple[float, float]] = {
    "num_uavs": (1, 1024), "num_groups": (1, 256), "users_per_group": (1, 256), "num_sat_users": (0, 10_000),
    "num_rx_antennas": (1, 16), "num_subchannels": (1, 256), "fading_samples": (1, 4096),
    "carrier_freq_hz": (1e8, 1e11),                 # 100 MHz .. 100 GHz (P.525 / P.676 validity)
    "subchannel_bandwidth_hz": (1e3, 1e9),          # 1 kHz .. 1 GHz
    "noise_dbm": (-200.0, 30.0),                    # below thermal noise of 1 Hz .. 1 W
    "interference_threshold_dbm": (-250.0, 30.0),
    "max_power_w": (1e-9, 1e3),
    "total_hover_time_s": (1e-3, 1e6), "max_slot_hover_time_s": (1e-3, 1e6),
    "comm_energy_total_j": (1e-6, 1e9),
    "region_size_m": (1.0, 1e7), "group_radius_m": (0.0, 1e6), "group_min_separation_m": (0.0, 1e7),
    "swarm_radius_m": (0.0, 1e6), "uav_altitude_m": (1.0, 1e5), "ground_height_m": (0.0, 1e4),
    "los_a": (1e-3, 90.0), "los_b": (1e-3, 5.0),    # S-curve: a in degrees, b in 1/deg (exp(b a) finite)
    "excess_los_db": (0.0, 100.0), "excess_nlos_db": (0.0, 100.0),
    "shadow_std_los_db": (0.0, 30.0), "shadow_std_nlos_db": (0.0, 30.0),
    "gas_atten_db_per_km": (0.0, 100.0), "sat_altitude_m": (1e3, 1e8), "penalty": (0.0, 1e6),
}
_INT_FIELDS = ("num_uavs", "num_groups", "users_per_group", "num_sat_users", "num_rx_antennas", "num_subchannels",
               "fading_samples")


# --------------------------------------------------------------------------- Params
@dataclass(frozen=True)
class Params(ParamsBase):
    """Every constant of the system (spec Sec. 2), SI units; dB fields carry the unit in the name."""

    num_uavs: int = 6
    num_groups: int = 4
    users_per_group: int = 4
    num_sat_users: int = 16
    num_rx_antennas: int = 2
    num_subchannels: int = 8
    carrier_freq_hz: float = 2.0e9
    subchannel_bandwidth_hz: float = 1.0e6
    noise_dbm: float = -104.0
    interference_threshold_dbm: float = -110.0
    max_power_w: float = 0.1
    total_hover_time_s: float = 300.0
    max_slot_hover_time_s: float = 120.0
    comm_energy_total_j: float = 60.0
    region_size_m: float = 20000.0
    group_radius_m: float = 2000.0
    group_min_separation_m: float = 5000.0
    swarm_radius_m: float = 1000.0
    uav_altitude_m: float = 300.0
    ground_height_m: float = 1.5
    los_a: float = 4.88
    los_b: float = 0.43
    excess_los_db: float = 0.1
    excess_nlos_db: float = 21.0
    shadow_std_los_db: float = 3.0
    shadow_std_nlos_db: float = 8.0
    gas_atten_db_per_km: float = 0.007
    fading_samples: int = 64
    sat_altitude_m: float = 600e3
    objective_mode: str = "sum"
    penalty: float = 20.0

    def validate(self) -> None:
        """Every field within its documented range (``PARAM_BOUNDS``, spec Sec. 2), sizes capped so that every
        per-instance array holds at most ``MAX_INSTANCE_ELEMENTS`` entries; ValueError naming field and value."""
        for name in _INT_FIELDS:
            lo, hi = PARAM_BOUNDS[name]
            require_int(name, getattr(self, name), lo)
            if getattr(self, name) > hi:
                raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {getattr(self, name)!r}")
        for name, (lo, hi) in PARAM_BOUNDS.items():
            if name not in _INT_FIELDS:
                require_in_range(name, getattr(self, name), lo, hi)
        self._validate_sizes()
        if not self.region_size_m > 2 * self.group_radius_m:
            raise ValueError(f"region_size_m must be > 2 * group_radius_m = {2 * self.group_radius_m}, "
                             f"got {self.region_size_m!r}")
        if not self.uav_altitude_m > self.ground_height_m:
            raise ValueError(f"uav_altitude_m must be > ground_height_m = {self.ground_height_m}, "
                             f"got {self.uav_altitude_m!r}")
        if not (self.num_subchannels - 1) * self.subchannel_bandwidth_hz < self.carrier_freq_hz:
            raise ValueError(f"subchannel_bandwidth_hz must keep every subchannel centre above 0 Hz "
                             f"((num_subchannels - 1) * B < carrier_freq_hz = {self.carrier_freq_hz}), "
                             f"got {self.subchannel_bandwidth_hz!r}")
        if not isinstance(self.objective_mode, str) or self.objective_mode not in ("sum", "maxmin"):
            raise ValueError(f"objective_mode must be 'sum' or 'maxmin', got {self.objective_mode!r}")

    def _validate_sizes(self) -> None:
        N, K, M, J = self.num_groups, self.users_per_group, self.num_uavs, self.num_sat_users
        L, S, R = self.num_subchannels, self.fading_samples, self.num_rx_antennas
        for what, count in (("fading (N*K_g*L*S*N_r*M)", N * K * L * S * R * M), ("gain_user (N*K_g*M*L)", N * K * M * L),
                            ("gain_sat (N*J*M*L)", N * J * M * L)):
            if count > MAX_INSTANCE_ELEMENTS:
                raise ValueError(f"the sizes num_groups={N}, users_per_group={K}, num_uavs={M}, num_sat_users={J}, "
                                 f"num_subchannels={L}, fading_samples={S}, num_rx_antennas={R} make the instance "
                                 f"array {what} hold {count} > {MAX_INSTANCE_ELEMENTS} elements; reduce them")

    # derived quantities
    @property
    def noise_w(self) -> float:
        """sigma^2 per subchannel, W."""
        return float(dbm_to_w(self.noise_dbm))

    @property
    def interference_threshold_w(self) -> float:
        """I_th, W."""
        return float(dbm_to_w(self.interference_threshold_dbm))

    @property
    def energy_per_uav_j(self) -> float:
        """E_m = E / M (equal split, (12))."""
        return self.comm_energy_total_j / self.num_uavs


# --------------------------------------------------------------------------- Instance / Decision
def _arrays_equal(a, b) -> bool:
    """Field-wise exact equality of two dataclasses of arrays (same type)."""
    if type(a) is not type(b):
        return NotImplemented
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)


@dataclass(frozen=True, eq=False)
class Instance:
    """One flight snapshot (spec Sec. 3); shapes with N groups, K_g users, M UAVs, J sat users, L subchannels."""

    group_center: np.ndarray      # (N, 2) m
    user_pos: np.ndarray          # (N, K_g, 3) m
    uav_pos: np.ndarray           # (N, M, 3) m
    sat_user_pos: np.ndarray      # (J, 3) m
    sat_subchannel: np.ndarray    # (N, J) int64
    los_user: np.ndarray          # (N, K_g, M) bool
    los_sat: np.ndarray           # (N, J, M) bool
    gain_user: np.ndarray         # (N, K_g, M, L) linear
    gain_sat: np.ndarray          # (N, J, M, L) linear
    gain_user_proxy: np.ndarray   # (N, K_g, M, L) linear (S5)
    gain_sat_proxy: np.ndarray    # (N, J, M, L) linear (S5)
    fading: np.ndarray            # (N, K_g, L, S, N_r, M) complex128

    __eq__ = _arrays_equal


def instance_shapes(params: Params) -> dict[str, tuple[int, ...]]:
    """Expected shape of every Instance field for ``params`` (spec Sec. 3)."""
    N, K, M, J, L = (params.num_groups, params.users_per_group, params.num_uavs, params.num_sat_users,
                     params.num_subchannels)
    return {"group_center": (N, 2), "user_pos": (N, K, 3), "uav_pos": (N, M, 3), "sat_user_pos": (J, 3),
            "sat_subchannel": (N, J), "los_user": (N, K, M), "los_sat": (N, J, M), "gain_user": (N, K, M, L),
            "gain_sat": (N, J, M, L), "gain_user_proxy": (N, K, M, L), "gain_sat_proxy": (N, J, M, L),
            "fading": (N, K, L, params.fading_samples, params.num_rx_antennas, M)}


def validate_instance(params: Params, instance: Instance) -> None:
    """Raise TypeError/ValueError unless ``instance`` fits ``params``: every field's shape (derived from
    ``params``), finite entries, gains >= 0, ``sat_subchannel`` integers in [0, L-1] (contract 1)."""
    if not isinstance(instance, Instance):
        raise TypeError(f"instance must be a cell_free_sat_uav Instance, got {type(instance).__name__}")
    for name, shape in instance_shapes(params).items():
        arr = np.asarray(getattr(instance, name))
        if arr.shape != shape:
            raise ValueError(f"Instance.{name} must have shape {shape} for these Params, got {arr.shape} "
                             f"(instance drawn with other sizes?)")
        if arr.dtype.kind not in "biufc":
            raise ValueError(f"Instance.{name} must be numeric, got dtype {arr.dtype}")
        finite = np.isfinite(arr)
        if not finite.all():
            bad = np.argwhere(~finite)[:5].tolist()
            raise ValueError(f"Instance.{name} contains non-finite entries at {bad}")
        if name.startswith("gain") and arr.size and arr.min() < 0:
            raise ValueError(f"Instance.{name} must be >= 0 (linear power gains), got min {arr.min()!r}")
    sc = np.asarray(instance.sat_subchannel)
    if sc.dtype.kind not in "iu":
        raise ValueError(f"Instance.sat_subchannel must have an integer dtype, got {sc.dtype}")
    if sc.size and (not np.all(sc == np.round(sc)) or sc.min() < 0 or sc.max() > params.num_subchannels - 1):
        raise ValueError(f"Instance.sat_subchannel must hold integers in [0, {params.num_subchannels - 1}], "
                         f"got values in [{sc.min()}, {sc.max()}]")


@dataclass(frozen=True, eq=False)
class Decision:
    """Whole-flight decision (spec Sec. 4): assignment (N, L) in {-1..K_g-1}, power (N, M, L) W, hover_time (N,) s."""

    assignment: np.ndarray
    power: np.ndarray
    hover_time: np.ndarray

    __eq__ = _arrays_equal


def empty_decision(params: Params) -> Decision:
    """Nothing decided: assignment -1, zero power, zero hovering time."""
    n, m, l = params.num_groups, params.num_uavs, params.num_subchannels
    return Decision(np.full((n, l), -1, dtype=np.int64), np.zeros((n, m, l)), np.zeros(n))


# --------------------------------------------------------------------------- sampling
def subchannel_freqs_hz(params: Params) -> np.ndarray:
    """Centre frequencies f_l = f_c + (l - (L-1)/2) B (S2)."""
    l = np.arange(params.num_subchannels)
    return params.carrier_freq_hz + (l - (params.num_subchannels - 1) / 2.0) * params.subchannel_bandwidth_hz


def _link_geometry(uav_pos, rx_pos):
    """3-D distance and elevation (deg) of every UAV -> receiver pair; uav (N, M, 3), rx (N, R, 3) -> (N, R, M) (S1)."""
    diff = uav_pos[..., None, :, :] - rx_pos[..., :, None, :]                     # any leading (env) axes
    d_h = np.hypot(diff[..., 0], diff[..., 1])
    dist = np.sqrt(d_h**2 + diff[..., 2] ** 2)
    return dist, elevation_deg(diff[..., 2], d_h)


def _gain_from_loss(dist, excess_db, freqs_hz, params: Params):
    """lambda = 10^(-PL/10), PL = FSPL(d, f_l) + gamma d/km + excess (S4, S5); (..., ) -> (..., L)."""
    loss_db = (fspl_p525_db(dist[..., None], freqs_hz) + gaseous_loss_db(dist, params.gas_atten_db_per_km)[..., None]
               + excess_db[..., None])
    return np.power(10.0, -loss_db / 10.0)


def _group_centres(params: Params, rng: np.random.Generator) -> np.ndarray:
    """Draw step 1: rejection sampling of group centres with minimum separation."""
    r_g, w = params.group_radius_m, params.region_size_m
    centres = np.zeros((params.num_groups, 2))
    for n in range(params.num_groups):
        for _ in range(1000):
            c = rng.uniform(r_g, w - r_g, size=2)
            if n == 0 or np.min(np.hypot(*(centres[:n] - c).T)) >= params.group_min_separation_m:
                break
        centres[n] = c
    return centres


def draw_instance_randoms(params: Params, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every random number of one flight, drawn from ``rng`` in the spec's order (Sec. 3, steps 1-9)."""
    N, K, M, J = params.num_groups, params.users_per_group, params.num_uavs, params.num_sat_users
    d = {"centres": _group_centres(params, rng)}                                                      # 1
    d["r_u"] = rng.uniform(size=(N, K))                                                               # 2
    d["ang_u"] = rng.uniform(0.0, 2 * np.pi, size=(N, K))
    d["rot"] = rng.uniform(0.0, 2 * np.pi, size=N)                                                    # 3
    d["sat_xy"] = rng.uniform(0.0, params.region_size_m, size=(J, 2))                                 # 4
    d["perm"] = np.stack([rng.permutation(J) for _ in range(N)]) if N else np.zeros((0, J), np.int64)  # 5
    d["u_los_user"] = rng.uniform(size=(N, K, M))                                                     # 6
    d["u_los_sat"] = rng.uniform(size=(N, J, M))
    d["z_sh_user"] = rng.standard_normal((N, K, M))                                                   # 7
    d["z_sh_sat"] = rng.standard_normal((N, J, M))
    shp = (N, K, params.num_subchannels, params.fading_samples, params.num_rx_antennas, M)            # 9
    d["fading_re"] = rng.standard_normal(shp)
    d["fading_im"] = rng.standard_normal(shp)
    return d


def build_instances(params: Params, d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The Instance fields from the draws of ``draw_instance_randoms``, for any leading (env) axes of the
    draws: geometry (S1), LoS states (S3), gains (S4) and proxies (S5), scheduling, fading (Sec. 3)."""
    K, M, J, L = params.users_per_group, params.num_uavs, params.num_sat_users, params.num_subchannels
    centres = d["centres"]
    lead = centres.shape[:-2]
    r = params.group_radius_m * np.sqrt(d["r_u"])
    user_pos = np.empty(d["r_u"].shape + (3,))
    user_pos[..., 0] = centres[..., None, 0] + r * np.cos(d["ang_u"])
    user_pos[..., 1] = centres[..., None, 1] + r * np.sin(d["ang_u"])
    user_pos[..., 2] = params.ground_height_m
    r_s = params.swarm_radius_m if M > 1 else 0.0
    phi = d["rot"][..., None] + 2 * np.pi * np.arange(M) / M
    uav_pos = np.empty(phi.shape + (3,))
    uav_pos[..., 0] = centres[..., None, 0] + r_s * np.cos(phi)
    uav_pos[..., 1] = centres[..., None, 1] + r_s * np.sin(phi)
    uav_pos[..., 2] = params.uav_altitude_m
    sat_user_pos = np.concatenate([d["sat_xy"], np.full(d["sat_xy"].shape[:-1] + (1,), params.ground_height_m)], axis=-1)
    sat_subchannel = np.zeros(d["perm"].shape, dtype=np.int64)
    np.put_along_axis(sat_subchannel, d["perm"], np.broadcast_to(np.arange(J) % L, d["perm"].shape), axis=-1)
    N = centres.shape[-2]
    d_u, th_u = _link_geometry(uav_pos, user_pos)
    d_s, th_s = _link_geometry(uav_pos, np.broadcast_to(sat_user_pos[..., None, :, :], lead + (N, J, 3)))
    p_u = los_probability(th_u, params.los_a, params.los_b)
    p_s = los_probability(th_s, params.los_a, params.los_b)
    los_user = d["u_los_user"] < p_u
    los_sat = d["u_los_sat"] < p_s
    sh_u = d["z_sh_user"] * np.where(los_user, params.shadow_std_los_db, params.shadow_std_nlos_db)
    sh_s = d["z_sh_sat"] * np.where(los_sat, params.shadow_std_los_db, params.shadow_std_nlos_db)
    f = subchannel_freqs_hz(params)
    eta_l, eta_n = params.excess_los_db, params.excess_nlos_db
    fading = np.empty(d["fading_re"].shape, dtype=np.complex128)                 # (re + 1j im) / sqrt(2), bit for bit
    fading.real = d["fading_re"]
    fading.imag = d["fading_im"]
    fading /= np.sqrt(2.0)
    return {"group_center": centres, "user_pos": user_pos, "uav_pos": uav_pos, "sat_user_pos": sat_user_pos,
            "sat_subchannel": sat_subchannel, "los_user": los_user, "los_sat": los_sat,
            "gain_user": _gain_from_loss(d_u, np.where(los_user, eta_l, eta_n) + sh_u, f, params),
            "gain_sat": _gain_from_loss(d_s, np.where(los_sat, eta_l, eta_n) + sh_s, f, params),
            "gain_user_proxy": _gain_from_loss(d_u, p_u * eta_l + (1 - p_u) * eta_n, f, params),
            "gain_sat_proxy": _gain_from_loss(d_s, p_s * eta_l + (1 - p_s) * eta_n, f, params),
            "fading": fading}


def sample_instance(params: Params, rng: np.random.Generator) -> Instance:
    """Draw one flight instance in the spec's order (Sec. 3, steps 1-9)."""
    return Instance(**build_instances(params, draw_instance_randoms(params, rng)))


# --------------------------------------------------------------------------- shared helpers
def effective_power(decision: Decision) -> np.ndarray:
    """p_bar = u p (S7): power on unused subchannels counts as 0; (N, M, L)."""
    used = (np.asarray(decision.assignment) >= 0)[:, None, :]
    return np.where(used, decision.power, 0.0)


def link_alpha(params: Params, gain_user: np.ndarray, power: np.ndarray) -> np.ndarray:
    """alpha_{n,k,l,m} = lambda_{n,k,m,l} p_{n,m,l} / sigma^2 for every (n, k, l); (N, K, L, M)."""
    return np.transpose(gain_user * np.maximum(power, 0.0)[:, None, :, :], (0, 1, 3, 2)) / params.noise_w


def de_rates_all(params: Params, instance: Instance, power: np.ndarray, gain_user: np.ndarray | None = None):
    """R_hat_{n,k,l}(P) of (S9) for every (n, k, l) with the per-subchannel power vector P[n, :, l]; (N, K, L)."""
    g = instance.gain_user if gain_user is None else gain_user
    return de_rate_bits(link_alpha(params, g, power), params.num_rx_antennas)


def mc_rates_assigned(params: Params, instance: Instance, assignment: np.ndarray, pbar: np.ndarray, mc: bool = True):
    """R^MC (S8) of the assigned user on every used (n, l) (0 on unused); also returns the DE rate; (N, L) each
    (``mc=False``: the MC part is skipped and left 0)."""
    n_idx, l_idx = np.nonzero(assignment >= 0)
    rate_mc = np.zeros(assignment.shape)
    rate_de = np.zeros(assignment.shape)
    if n_idx.size:
        k_idx = assignment[n_idx, l_idx]
        gain = instance.gain_user[n_idx, k_idx, :, l_idx]                  # (U, M)
        alpha = gain * np.maximum(pbar[n_idx, :, l_idx], 0.0) / params.noise_w
        if mc:
            rate_mc[n_idx, l_idx] = mc_logdet_rate_bits(instance.fading[n_idx, k_idx, l_idx], alpha)
        rate_de[n_idx, l_idx] = de_rate_bits(alpha, params.num_rx_antennas)
    return rate_mc, rate_de


def sat_mask(params: Params, sat_subchannel: np.ndarray) -> np.ndarray:
    """phi_{n,j,l} = 1[l = l_{n,j}]; (N, J, L) bool."""
    return sat_subchannel[..., None] == np.arange(params.num_subchannels)


def interference_w(params: Params, gain_sat: np.ndarray, sat_subchannel: np.ndarray, pbar: np.ndarray):
    """Expected interference I_{n,j} = sum_m lambda^s_{n,j,m,l_nj} p_{n,m,l_nj} (S13); (N, J) W."""
    N, J = sat_subchannel.shape
    if J == 0:
        return np.zeros((N, 0))
    l = sat_subchannel
    g = np.take_along_axis(gain_sat, l[:, :, None, None], axis=3)[..., 0]          # (N, J, M)
    p = np.take_along_axis(pbar, np.broadcast_to(l[:, None, :], (N, pbar.shape[1], J)), axis=2)  # (N, M, J)
    return np.einsum("njm,nmj->nj", g, p)


def backoff(params: Params, gain_sat: np.ndarray, sat_subchannel: np.ndarray, assignment: np.ndarray,
            power: np.ndarray) -> np.ndarray:
    """(S-BO): scale the powers of every used (n, l) by min(1, min_{j on l} I_th / I_{n,j}); returns new power."""
    used = assignment >= 0
    pbar = np.where(used[:, None, :], power, 0.0)
    interf = interference_w(params, gain_sat, sat_subchannel, pbar)                 # (N, J)
    if interf.shape[1] == 0:
        return np.array(power, dtype=float, copy=True)
    with np.errstate(divide="ignore"):
        ratio = np.where(interf > 0, params.interference_threshold_w / np.where(interf > 0, interf, 1.0), np.inf)
    s = np.min(np.where(sat_mask(params, sat_subchannel), ratio[:, :, None], np.inf), axis=1)   # (N, L)
    s = np.where(used, np.minimum(1.0, s), 1.0)
    return power * s[:, None, :]


def energy_used_j(params: Params, decision: Decision) -> np.ndarray:
    """E^used_m = sum_n T_n^+ sum_l p_bar_{n,m,l} (C3); (M,) J."""
    t = np.maximum(np.asarray(decision.hover_time, float), 0.0)
    return np.einsum("n,nm->m", t, effective_power(decision).sum(axis=2))


# --------------------------------------------------------------------------- evaluate
def _check_decision(params: Params, decision: Decision) -> None:
    if not isinstance(decision, Decision):
        raise TypeError(f"decision must be a cell_free_sat_uav Decision, got {type(decision).__name__}")
    N, M, L, K = params.num_groups, params.num_uavs, params.num_subchannels, params.users_per_group
    for name, shape in (("assignment", (N, L)), ("power", (N, M, L)), ("hover_time", (N,))):
        arr = np.asarray(getattr(decision, name))
        if arr.shape != shape:
            raise ValueError(f"decision.{name} must have shape {shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"decision.{name} contains non-finite values")
    a = np.asarray(decision.assignment)
    if not np.all(a == np.round(a)) or a.min() < -1 or a.max() > K - 1:
        raise ValueError(f"decision.assignment must hold integers in [-1, {K - 1}], got values "
                         f"{sorted(set(np.unique(a).tolist()))[:10]}")


def _violations(params: Params, instance: Instance, decision: Decision, pbar, interf, e_used) -> dict[str, float]:
    T = np.asarray(decision.hover_time, float)
    t_slot, p_max = params.max_slot_hover_time_s, params.max_power_w
    e_m = params.energy_per_uav_j
    i_th = params.interference_threshold_w
    return {
        "total_hover_time": max(0.0, T.sum() - params.total_hover_time_s) / params.total_hover_time_s,
        "slot_hover_time": float((np.maximum(0.0, T - t_slot) + np.maximum(0.0, -T)).sum() / t_slot),
        "energy": float(np.maximum(0.0, e_used - e_m).sum() / e_m),
        "max_power": float(np.maximum(0.0, pbar.sum(axis=2) - p_max).sum() / p_max),
        "interference": float(np.log10(np.maximum(1.0, interf / i_th)).sum()) if interf.size else 0.0,
        "power_nonneg": float(np.maximum(0.0, -np.asarray(decision.power, float)).sum() / p_max),
    }


def _metrics(params, decision, eff, eff_de, rate_mc, rate_de, pbar, interf, e_used, gain_assigned) -> dict:
    N, K = eff.shape
    total = float(eff.sum())
    sq = float((eff**2).sum())
    used = (np.asarray(decision.assignment) >= 0) & (pbar.sum(axis=1) > 0)
    snr_lin = gain_assigned[used].sum(axis=-1) / params.noise_w if used.any() else np.zeros(0)
    imax = float(interf.max()) if interf.size else 0.0
    mets = {
        "efficiency_sum": total,
        "efficiency_min": float(eff.min()),
        "efficiency_sum_de": None,
        "efficiency_min_de": None,
        "jain_fairness": total**2 / (N * K * sq) if sq > 0 else 0.0,
        "throughput_mbps": total * params.subchannel_bandwidth_hz / 1e6,
        "total_hover_time_s": float(np.asarray(decision.hover_time, float).sum()),
        "energy_used_frac_mean": float(e_used.mean() / params.energy_per_uav_j),
        "energy_used_frac_max": float(e_used.max() / params.energy_per_uav_j),
        "power_peak_frac": float(pbar.sum(axis=2).max() / params.max_power_w),
        "interference_margin_db_max": float(10 * np.log10(max(imax, 1e-30) / params.interference_threshold_w)),
        "subchannels_used": float(used.sum()),
        "users_served_frac": float((eff > 0).mean()),
        "mean_link_snr_db": float(np.mean(10 * np.log10(np.maximum(snr_lin, 1e-300)))) if snr_lin.size else -300.0,
        "de_rel_error": None,
    }
    if eff_de is None:                                   # the env's non-final steps: no DE metrics (issue 12)
        return {k: v for k, v in mets.items() if v is not None}
    rel = np.abs(rate_de[used] - rate_mc[used]) / np.maximum(rate_mc[used], 1e-300) if used.any() else np.zeros(0)
    mets["efficiency_sum_de"] = float(eff_de.sum())
    mets["efficiency_min_de"] = float(eff_de.min())
    mets["de_rel_error"] = float(rel.mean()) if rel.size else 0.0
    return mets


def _efficiencies(params, decision, rate):
    """eta_{n,k} = T_n^+ / T_tot sum_l rho_{n,k,l} R_{n,k,l} (S10); rate (N, L) of the assigned users."""
    a = np.asarray(decision.assignment)
    rho = a[:, None, :] == np.arange(params.users_per_group)[None, :, None]          # (N, K, L)
    t = np.maximum(np.asarray(decision.hover_time, float), 0.0)
    return (t / params.total_hover_time_s)[:, None] * (rho * rate[:, None, :]).sum(axis=2)


def user_efficiency(params: Params, instance: Instance, decision: Decision) -> np.ndarray:
    """Per-user data transmission efficiency eta_{n,k} (S10, MC rates), bit/s/Hz; (N, K_g)."""
    _check_decision(params, decision)
    pbar = effective_power(decision)
    rate_mc, _ = mc_rates_assigned(params, instance, np.asarray(decision.assignment), pbar)
    return _efficiencies(params, decision, rate_mc)


def slot_mc_rates(params: Params, instance: Instance, n: int, assign_row: np.ndarray, pbar_row: np.ndarray):
    """R^MC (S8) of slot n's used links, (L,) (0 on unused): row n of ``mc_rates_assigned``, bit for bit."""
    l_idx = np.flatnonzero(assign_row >= 0)
    rate = np.zeros(assign_row.shape)
    if l_idx.size:
        k_idx = assign_row[l_idx]
        gain = instance.gain_user[n, k_idx, :, l_idx]                                  # (U, M)
        alpha = gain * np.maximum(pbar_row[:, l_idx].T, 0.0) / params.noise_w
        rate[l_idx] = mc_logdet_rate_bits(instance.fading[n, k_idx, l_idx], alpha)
    return rate


def de_rates_assigned(params: Params, instance: Instance, assignment: np.ndarray, pbar: np.ndarray):
    """R_hat (S9) of the assigned user on every used (n, l) (0 on unused); (N, L), as ``mc_rates_assigned``."""
    return mc_rates_assigned(params, instance, assignment, pbar, mc=False)[1]


def evaluate(params: Params, instance: Instance, decision: Decision) -> Evaluation:
    """Objective (S11) eta_sum or (S12) eta_min (``objective_mode``), metrics and violations (C1-C6)."""
    _check_decision(params, decision)
    a = np.asarray(decision.assignment).astype(np.int64)
    rate_mc, rate_de = mc_rates_assigned(params, instance, a, effective_power(decision))
    return evaluate_rates(params, instance, decision, rate_mc, rate_de)[0]


def evaluate_rates(params: Params, instance: Instance, decision: Decision, rate_mc: np.ndarray,
                   rate_de: np.ndarray | None = None) -> tuple[Evaluation, np.ndarray]:
    """``evaluate`` from precomputed (N, L) rates of the assigned users (no decision check), and the per-user
    efficiencies (S10) (N, K_g). With ``rate_de=None`` the metrics omit the three deterministic-equivalent
    keys (``efficiency_sum_de``, ``efficiency_min_de``, ``de_rel_error``); every other number is ``evaluate``'s."""
    a = np.asarray(decision.assignment).astype(np.int64)
    pbar = effective_power(decision)
    eff = _efficiencies(params, decision, rate_mc)
    eff_de = None if rate_de is None else _efficiencies(params, decision, rate_de)
    interf = interference_w(params, instance.gain_sat, instance.sat_subchannel, pbar)
    e_used = energy_used_j(params, decision)
    n_idx, l_idx = np.nonzero(a >= 0)
    gain_assigned = np.zeros(a.shape + (params.num_uavs,))
    gain_assigned[n_idx, l_idx] = instance.gain_user[n_idx, a[n_idx, l_idx], :, l_idx] * pbar[n_idx, :, l_idx]
    viol = _violations(params, instance, decision, pbar, interf, e_used)
    mets = _metrics(params, decision, eff, eff_de, rate_mc, rate_de, pbar, interf, e_used, gain_assigned)
    objective = mets["efficiency_sum"] if params.objective_mode == "sum" else mets["efficiency_min"]
    feasible = all(v <= FEASIBILITY_TOL for v in viol.values())
    return Evaluation(float(objective), mets, viol, bool(feasible)), eff


# --------------------------------------------------------------------------- observation
def observation_static(params: Params, instance: Instance, full: bool = False) -> tuple[np.ndarray, ...]:
    """Instance-dependent observation blocks: snr (N,K,M), cap (N,M,L) and (full) per-subchannel snr (Sec. 6).
    ``instance`` may be any object with batched fields (leading env axes), e.g. a ``SimpleNamespace``."""
    p_max, noise = params.max_power_w, params.noise_w
    tiny = 1e-300                                                                      # underflowed gain: no link
    snr = 10 * np.log10(np.maximum(instance.gain_user.mean(axis=-1) * p_max / noise, tiny)) / 20
    mask = sat_mask(params, instance.sat_subchannel)                                   # (..., N, J, L)
    worst = np.max(np.where(mask[..., None, :], instance.gain_sat, 0.0), axis=-3, initial=0.0)   # (..., N, M, L)
    with np.errstate(divide="ignore"):
        cap_db = np.where(worst > 0, 10 * np.log10(params.interference_threshold_w / (p_max * np.where(worst > 0, worst, 1.0))), 60.0)
    blocks = [np.clip(snr, -5, 5), np.clip(cap_db / 20, -5, 5)]
    if full:
        blocks.append(np.clip(10 * np.log10(np.maximum(instance.gain_user * p_max / noise, tiny)) / 20, -5, 5))
    return tuple(blocks)


def observation(params: Params, static: tuple[np.ndarray, ...], decision: Decision, slot: int,
                user_eff: np.ndarray) -> np.ndarray:
    """Observation vector (Sec. 6): snr, cap, slot one-hot, time_left, energy_left, time_used, user_eff[, full snr]."""
    N = params.num_groups
    T = np.asarray(decision.hover_time, float)
    past = np.arange(N) < slot
    one_hot = np.zeros(N)
    if slot < N:
        one_hot[slot] = 1.0
    t_rem = max(0.0, params.total_hover_time_s - T[past].sum())
    e_rem = np.maximum(0.0, params.energy_per_uav_j - energy_used_j(params, decision))
    parts = [static[0].ravel(), static[1].ravel(), one_hot, [t_rem / params.total_hover_time_s],
             e_rem / params.energy_per_uav_j, np.where(past, T / params.max_slot_hover_time_s, 0.0),
             np.where(past[:, None], user_eff, 0.0).ravel() / 10.0]
    parts += [s.ravel() for s in static[2:]]
    return np.clip(np.concatenate(parts), -5.0, 5.0).astype(np.float32)


def observation_dim(params: Params, full: bool = False) -> int:
    """N K M + N M L + 2N + 1 + M + N K (+ N K M L with full CSI)."""
    N, K, M, L = params.num_groups, params.users_per_group, params.num_uavs, params.num_subchannels
    return N * K * M + N * M * L + 2 * N + 1 + M + N * K + (N * K * M * L if full else 0)


ACTION_MODES = ("direct", "hybrid")


def action_dim(params: Params, action_mode: str = "direct") -> int:
    """direct: L K_g + M L + 1 (scores, powers, time); hybrid: L (K_g + 1) + M + 1 (scores with an idle
    column, energy shares, time)."""
    L, K, M = params.num_subchannels, params.users_per_group, params.num_uavs
    if action_mode == "hybrid":
        return L * (K + 1) + M + 1
    return L * K + M * L + 1


def energy_scale_slot(energy_left_j: np.ndarray, hover_time_s: float, power_slot: np.ndarray) -> np.ndarray:
    """Energy scaling (Sec. 6): UAV m's slot powers x E^rem_m / (T_n sum_l p) where that exceeds 1; (M, L)."""
    need = hover_time_s * power_slot.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(need > energy_left_j, energy_left_j / np.where(need > 0, need, 1.0), 1.0)
    return power_slot * scale[:, None]


# --------------------------------------------------------------------------- batched (native vector env)
def batch_empty_state(params: Params, num_envs: int) -> dict[str, np.ndarray]:
    """Committed flights of B envs, nothing decided yet: assignment (B,N,L) -1, power (B,N,M,L), hover (B,N),
    the assigned links' MC rates (B,N,L), per-slot interference (B,N,J) W, user efficiencies (B,N,K), last J (B,)."""
    B, N, K, M, J, L = (num_envs, params.num_groups, params.users_per_group, params.num_uavs, params.num_sat_users,
                        params.num_subchannels)
    return {"assignment": np.full((B, N, L), -1, np.int64), "power": np.zeros((B, N, M, L)), "hover": np.zeros((B, N)),
            "rate_mc": np.zeros((B, N, L)), "interf": np.zeros((B, N, J)), "user_eff": np.zeros((B, N, K)),
            "last_j": np.zeros(B)}


def batch_energy_used_j(params: Params, state: dict) -> np.ndarray:
    """E^used_m of every env (C3), (B, M) J; ``energy_used_j`` over a leading env axis."""
    pbar = np.where(state["assignment"][:, :, None, :] >= 0, state["power"], 0.0)
    return np.einsum("bn,bnm->bm", np.maximum(state["hover"], 0.0), pbar.sum(axis=3))


def batch_decode_direct(params: Params, inst: dict, state: dict, n: int, actions: np.ndarray, enforce: bool):
    """Direct-mode decode of slot n for B envs (env Sec. 6): (assignment row (B,L), powers (B,M,L) W, T_n (B,))."""
    B = actions.shape[0]
    L, K, M = params.num_subchannels, params.users_per_group, params.num_uavs
    a_row = actions[:, : L * K].reshape(B, L, K).argmax(axis=2)
    w = (actions[:, L * K: L * K + M * L].reshape(B, M, L) + 1.0) / 2.0
    tau = (actions[:, -1] + 1.0) / 2.0
    power = params.max_power_w * w / np.maximum(1.0, w.sum(axis=2, keepdims=True))
    t_rem = np.maximum(0.0, params.total_hover_time_s - state["hover"][:, :n].sum(axis=1))
    t_n = tau * np.maximum(0.0, np.minimum(params.max_slot_hover_time_s, t_rem))
    if enforce:                                   # (S-BO) with the env axis in place of the slot axis
        power = backoff(params, inst["gain_sat"][:, n], inst["sat_subchannel"][:, n], a_row, power)
    e_left = np.maximum(0.0, params.energy_per_uav_j - batch_energy_used_j(params, state))
    need = t_n[:, None] * power.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(need > e_left, e_left / np.where(need > 0, need, 1.0), 1.0)
    return a_row, power * scale[:, :, None], t_n


def batch_step(params: Params, inst: dict, state: dict, n: int, actions: np.ndarray, enforce: bool):
    """Decode and commit slot n of B flights (actions clipped, (B, A)); returns (objective, penalised J,
    feasible), each (B,): ``evaluate`` of every env's committed flight (S8-S13, C1-C6) to 1e-12."""
    p = params
    a_row, power_row, t_n = batch_decode_direct(p, inst, state, n, actions, enforce)
    B, L = a_row.shape
    state["assignment"][:, n], state["power"][:, n], state["hover"][:, n] = a_row, power_row, t_n
    pbar_row = np.where(a_row[:, None, :] >= 0, power_row, 0.0)
    bi, li = np.arange(B)[:, None], np.arange(L)[None, :]
    k_row = np.maximum(a_row, 0)
    alpha = inst["gain_user"][bi, n, k_row, :, li] * np.maximum(np.transpose(pbar_row, (0, 2, 1)), 0.0) / p.noise_w
    rate = mc_logdet_rate_bits(inst["fading"][bi, n, k_row, li], alpha)                         # (B, L) (S8)
    state["rate_mc"][:, n] = np.where(a_row >= 0, rate, 0.0)
    state["interf"][:, n] = interference_w(p, inst["gain_sat"][:, n], inst["sat_subchannel"][:, n], pbar_row)
    a, T, P = state["assignment"], state["hover"], state["power"]
    rho = a[:, :, None, :] == np.arange(p.users_per_group)[None, None, :, None]
    eff = (np.maximum(T, 0.0) / p.total_hover_time_s)[:, :, None] * (rho * state["rate_mc"][:, :, None, :]).sum(axis=3)
    state["user_eff"] = eff
    objective = eff.reshape(B, -1).sum(axis=1) if p.objective_mode == "sum" else eff.reshape(B, -1).min(axis=1)
    pbar = np.where(a[:, :, None, :] >= 0, P, 0.0)
    e_used = batch_energy_used_j(p, state)
    viol = np.stack([
        np.maximum(0.0, T.sum(axis=1) - p.total_hover_time_s) / p.total_hover_time_s,
        (np.maximum(0.0, T - p.max_slot_hover_time_s) + np.maximum(0.0, -T)).sum(axis=1) / p.max_slot_hover_time_s,
        np.maximum(0.0, e_used - p.energy_per_uav_j).sum(axis=1) / p.energy_per_uav_j,
        np.maximum(0.0, pbar.sum(axis=3) - p.max_power_w).reshape(B, -1).sum(axis=1) / p.max_power_w,
        np.log10(np.maximum(1.0, state["interf"] / p.interference_threshold_w)).reshape(B, -1).sum(axis=1),
        np.maximum(0.0, -P).reshape(B, -1).sum(axis=1) / p.max_power_w,
    ])                                                                                        # C1..C6 (6, B)
    total = viol[0] + viol[1] + viol[2] + viol[3] + viol[4] + viol[5]
    return objective, objective - p.penalty * total, (viol <= FEASIBILITY_TOL).all(axis=0)


def batch_observation(params: Params, static: list[np.ndarray], state: dict, slot: int) -> np.ndarray:
    """``observation`` of B envs at the same slot, (B, D) float32; static = the stacked ``observation_static``."""
    N = params.num_groups
    T = state["hover"]
    B = T.shape[0]
    past = np.arange(N) < slot
    one_hot = np.zeros((B, N))
    if slot < N:
        one_hot[:, slot] = 1.0
    t_rem = np.maximum(0.0, params.total_hover_time_s - np.where(past, T, 0.0).sum(axis=1))
    e_rem = np.maximum(0.0, params.energy_per_uav_j - batch_energy_used_j(params, state))
    parts = [static[0].reshape(B, -1), static[1].reshape(B, -1), one_hot, (t_rem / params.total_hover_time_s)[:, None],
             e_rem / params.energy_per_uav_j, np.where(past, T / params.max_slot_hover_time_s, 0.0),
             np.where(past[None, :, None], state["user_eff"], 0.0).reshape(B, -1) / 10.0]
    parts += [s.reshape(B, -1) for s in static[2:]]
    return np.clip(np.concatenate(parts, axis=1), -5.0, 5.0).astype(np.float32)
