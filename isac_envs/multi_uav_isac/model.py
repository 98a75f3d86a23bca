"""ISAC multi-UAV network (AIBOT paper): parameters, snapshots, decisions and the objective.

Pure functions, no Gymnasium. Equation numbers "(Sn)" refer to the system spec
``multi_uav_isac.md``, "(n)" to the paper (Zheng et al., Globecom 2024 workshop).
Index convention: UAV j in 0..K (j < K cooperative, j = K the non-cooperative UAV),
BS m in 0..M-1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from isac_envs.core import (
    FEASIBILITY_TOL,
    Evaluation,
    ParamsBase,
    check_action,
    require_in_range,
    require_int,
)
from isac_envs.physics.arrays import crb_direction_cosine_rad2, crb_range_m2, dirichlet_power
from isac_envs.physics.units import SPEED_OF_LIGHT_MPS

__all__ = [
    "Params", "Instance", "Decision", "sample_instance", "advance_instance", "evaluate",
    "decode_action", "encode_action", "observe", "obs_dim", "action_dim", "bs_layout",
    "clip_box", "compute_gains", "rho_from_snr", "loads", "bandwidths_hz", "validate_instance",
    "INT_BOUNDS", "FLOAT_BOUNDS", "MAX_UAV_BS_PAIRS", "power_from_score",
    # batched core (any leading env axes), shared by evaluate, the env and the vector env
    "draw_start", "pos_err_std", "estimates_from_noise", "move_uavs", "decode_scores", "slot_core",
    "penalised_reward", "per_bs_sum", "observe_arrays", "evaluate_decoded", "LazyMetrics", "VIOLATION_KEYS",
]


# --------------------------------------------------------------------------- parameters
#: Accepted range [lo, hi] of every integer field (sizes capped so that the model fits in memory).
INT_BOUNDS: dict[str, tuple[int, int]] = {
    "num_bs": (1, 1024), "num_uavs": (1, 4096), "num_slots": (1, 1_000_000), "num_hotspots": (1, 1024),
    "upa_nx": (2, 256), "upa_ny": (2, 256),
}
#: (num_uavs + 1) * num_bs cap: the largest per-instance array, the (K+1, M, 3) directions, stays <= 1.3e7 floats.
MAX_UAV_BS_PAIRS = 2**22
#: Minimum height of the lowest UAV above the BS arrays [m] (keeps every UAV-BS distance >= 1 m).
MIN_CLEARANCE_M = 1.0
#: Accepted range (lo, hi, lo_open) of every float field, in the field's unit (spec Sec. 2). Physical
#: reasoning: 100 MHz-1 THz carriers; noise PSD -220..-70 dBm/Hz; powers -60..90 dBm; a 10 m-1000 km
#: area; UAVs below 100 km and at most 1000 m/s; radar cross-sections -60..40 dBsm; slots up to an hour.
#: Inside these ranges every observation, reward and solver output is finite (tested).
FLOAT_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "slot_duration_s": (0.0, 3600.0, True),
    "carrier_freq_hz": (1e8, 1e12, False),
    "noise_psd_w_per_hz": (1e-25, 1e-10, False),
    "bandwidth_hz": (1e3, 1e11, False),
    "p_min_w": (1e-9, 1e6, False),
    "p_max_w": (1e-9, 1e6, False),
    "p_total_w": (1e-9, 1e6, False),
    "area_size_m": (10.0, 1e6, False),
    "bs_height_m": (0.0, 1e4, False),
    "uav_alt_min_m": (1.0, 1e5, False),
    "uav_alt_max_m": (1.0, 1e5, False),
    "rcs_coop_m2": (1e-6, 1e4, False),
    "rcs_noncoop_m2": (1e-6, 1e4, False),
    "sensing_time_s": (1e-9, 10.0, False),
    "theta1": (0.0, 1.0, False),
    "theta2": (0.0, 1e6, False),
    "rate_unit_bps": (1.0, 1e12, False),
    "varpi1_m2": (1e-12, 1e6, False),
    "varpi2_rad2": (1e-12, 1e3, False),
    "crb_floor_range_m2": (1e-12, 1e6, False),
    "crb_floor_angle_rad2": (1e-12, 1e3, False),
    "rho_min": (0.0, 1e18, False),          # and < varpi1/crb_floor_range + varpi2/crb_floor_angle
    "rate_min_bps": (0.0, 1e12, False),
    "hotspot_std_m": (1.0, 1e6, False),
    "hotspot_std_z_m": (0.1, 1e5, False),
    "uav_speed_mps": (0.0, 1000.0, False),
    "noncoop_speed_mps": (0.0, 1000.0, False),
    "pos_err_std_m": (0.0, 1e5, False),
    "noncoop_pos_err_std_m": (0.0, 1e5, False),
    "penalty": (0.0, 1e6, False),
}


@dataclass(frozen=True)
class Params(ParamsBase):
    """Every constant of the system (SI units; spec Sec. 2). Defaults = paper setting.

    Accepted values: each integer field in :data:`INT_BOUNDS` with ``(num_uavs+1)*num_bs <=``
    :data:`MAX_UAV_BS_PAIRS`; each float field in :data:`FLOAT_BOUNDS` (finite, bools rejected);
    ``p_min_w < p_max_w``; ``(2 num_uavs + 1) p_min_w < p_total_w``;
    ``rho_min < varpi1_m2/crb_floor_range_m2 + varpi2_rad2/crb_floor_angle_rad2``;
    ``uav_alt_min_m >= bs_height_m + 1``; ``uav_alt_max_m - uav_alt_min_m > 100``;
    ``noncoop_speed_mps * slot_duration_s <= area_size_m``. Anything else is a ``ValueError`` naming
    the field and the value.
    """

    num_bs: int = 6
    num_uavs: int = 18
    num_slots: int = 20
    slot_duration_s: float = 1.0
    carrier_freq_hz: float = 30e9
    noise_psd_w_per_hz: float = 1.2589254e-20
    bandwidth_hz: float = 400e6
    p_min_w: float = 1e-3
    p_max_w: float = 10.0
    p_total_w: float = 20.0
    area_size_m: float = 2000.0
    bs_height_m: float = 25.0
    uav_alt_min_m: float = 50.0
    uav_alt_max_m: float = 300.0
    upa_nx: int = 4
    upa_ny: int = 4
    rcs_coop_m2: float = 0.1
    rcs_noncoop_m2: float = 0.1
    sensing_time_s: float = 0.01
    theta1: float = 0.5
    theta2: float = 0.3
    rate_unit_bps: float = 1e9
    varpi1_m2: float = 0.01
    varpi2_rad2: float = 9e-4
    crb_floor_range_m2: float = 0.01
    crb_floor_angle_rad2: float = 9e-4
    rho_min: float = 0.2
    rate_min_bps: float = 350e6
    num_hotspots: int = 4
    hotspot_std_m: float = 350.0
    hotspot_std_z_m: float = 40.0
    uav_speed_mps: float = 10.0
    noncoop_speed_mps: float = 20.0
    pos_err_std_m: float = 10.0
    noncoop_pos_err_std_m: float = 20.0
    penalty: float = 2.0

    def validate(self) -> None:
        """Every field inside its documented range (:data:`INT_BOUNDS`, :data:`FLOAT_BOUNDS`), plus the
        cross-field rules of spec Sec. 2; ``ValueError`` naming the field and the value otherwise."""
        for name, (lo, hi) in INT_BOUNDS.items():
            require_int(name, getattr(self, name), lo)
            if getattr(self, name) > hi:
                raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {getattr(self, name)!r}")
        links = (self.num_uavs + 1) * self.num_bs
        if links > MAX_UAV_BS_PAIRS:
            raise ValueError(f"(num_uavs+1)*num_bs must be <= {MAX_UAV_BS_PAIRS} (per-instance arrays of that "
                             f"many UAV-BS pairs), got num_uavs={self.num_uavs!r}, num_bs={self.num_bs!r}: {links}")
        for name, (lo, hi, lo_open) in FLOAT_BOUNDS.items():
            require_in_range(name, getattr(self, name), lo, hi, lo_open=lo_open)
        if not self.p_min_w < self.p_max_w:
            raise ValueError(f"p_min_w must be < p_max_w, got p_min_w={self.p_min_w!r}, p_max_w={self.p_max_w!r}")
        if not (2 * self.num_uavs + 1) * self.p_min_w < self.p_total_w:
            raise ValueError(f"p_total_w must exceed (2*num_uavs+1)*p_min_w = "
                             f"{(2 * self.num_uavs + 1) * self.p_min_w!r}, got {self.p_total_w!r}")
        rho_cap = self.varpi1_m2 / self.crb_floor_range_m2 + self.varpi2_rad2 / self.crb_floor_angle_rad2
        require_in_range("rho_min", self.rho_min, 0.0, rho_cap, hi_open=True)
        if not self.uav_alt_min_m >= self.bs_height_m + MIN_CLEARANCE_M:
            raise ValueError(f"uav_alt_min_m must be >= bs_height_m + {MIN_CLEARANCE_M} m, got "
                             f"bs_height_m={self.bs_height_m!r}, uav_alt_min_m={self.uav_alt_min_m!r}")
        if not self.uav_alt_max_m - self.uav_alt_min_m > 100:
            raise ValueError(f"uav_alt_max_m - uav_alt_min_m must be > 100, got uav_alt_min_m={self.uav_alt_min_m!r}, "
                             f"uav_alt_max_m={self.uav_alt_max_m!r}")
        if not self.noncoop_speed_mps * self.slot_duration_s <= self.area_size_m:
            raise ValueError(f"noncoop_speed_mps * slot_duration_s must be <= area_size_m (one mirror per slot "
                             f"keeps the non-cooperative UAV inside the area), got noncoop_speed_mps="
                             f"{self.noncoop_speed_mps!r}, slot_duration_s={self.slot_duration_s!r}, "
                             f"area_size_m={self.area_size_m!r}")

    # ---- derived constants (Sec. 2)
    @property
    def wavelength_m(self) -> float:
        return SPEED_OF_LIGHT_MPS / self.carrier_freq_hz

    @property
    def beta0(self) -> float:
        """Free-space power gain at 1 m, (lambda / 4 pi)^2 (eq. 3)."""
        return (self.wavelength_m / (4.0 * math.pi)) ** 2

    @property
    def num_antennas(self) -> int:
        return self.upa_nx * self.upa_ny

    @property
    def beta1(self) -> float:
        """3 c^2 / (8 pi^2) [m^2 Hz^2]: CRB_d = beta1 / (b^2 SNR) (S8)."""
        return 3.0 * SPEED_OF_LIGHT_MPS**2 / (8.0 * math.pi**2)

    @property
    def beta2(self) -> float:
        """6 / (pi^2 (N_max^2 - 1)): CRB_theta = beta2 / SNR (S8)."""
        n = max(self.upa_nx, self.upa_ny)
        return 6.0 / (math.pi**2 * (n * n - 1))


# --------------------------------------------------------------------------- instance / decision
def _fields_equal(self, other) -> bool:
    """Field-wise equality with exact array comparison (dataclass eq would be ambiguous on arrays)."""
    if type(self) is not type(other):
        return NotImplemented
    return all(np.array_equal(getattr(self, f), getattr(other, f)) for f in self.__dataclass_fields__)


@dataclass(frozen=True, eq=False)
class Instance:
    """One slot's snapshot (spec Sec. 3). ``uav_pos`` is ground truth: solvers must not read it."""

    bs_pos: np.ndarray            # (M, 3) m
    hotspot_centers: np.ndarray   # (C, 3) m
    hotspot_weights: np.ndarray   # (C,)
    uav_cluster: np.ndarray       # (K,) int64
    uav_pos: np.ndarray           # (K+1, 3) m, true
    uav_pos_est: np.ndarray       # (K+1, 3) m, BS-side estimates
    pos_err_std: np.ndarray       # (K+1,) m
    noncoop_vel: np.ndarray       # (3,) m/s
    gain_comm: np.ndarray         # (K, M) effective comm power gain (S4)
    gain_sense: np.ndarray        # (K+1, M) sensing SNR per watt [1/W] (S5)
    slot: int = 0

    __eq__ = _fields_equal
    __hash__ = None  # arrays inside: not hashable


@dataclass(frozen=True, eq=False)
class Decision:
    """Association and powers (spec Sec. 4)."""

    assoc: np.ndarray    # (K+1,) int64, serving BS of every UAV
    p_comm: np.ndarray   # (K,) W, comm stream to cooperative UAV k
    p_sense: np.ndarray  # (K+1,) W, radar stream towards UAV j

    __eq__ = _fields_equal
    __hash__ = None

    def as_dict(self) -> dict[str, np.ndarray]:
        return {"assoc": self.assoc.copy(), "p_comm": self.p_comm.copy(), "p_sense": self.p_sense.copy()}


def instance_shapes(params: Params) -> dict[str, tuple[int, ...]]:
    """Expected shape of every array field of an :class:`Instance` for ``params`` (spec Sec. 3)."""
    k, m, c = params.num_uavs, params.num_bs, params.num_hotspots
    return {"bs_pos": (m, 3), "hotspot_centers": (c, 3), "hotspot_weights": (c,), "uav_cluster": (k,),
            "uav_pos": (k + 1, 3), "uav_pos_est": (k + 1, 3), "pos_err_std": (k + 1,), "noncoop_vel": (3,),
            "gain_comm": (k, m), "gain_sense": (k + 1, m)}


def validate_instance(params: Params, instance: Instance) -> None:
    """Raise unless ``instance`` fits ``params``: ``TypeError`` for a non-Instance, ``ValueError`` naming the
    field for a wrong shape (expected shape from ``params``), non-finite or negative entries, a hotspot
    index outside [0, num_hotspots) or a slot outside [0, num_slots)."""
    if not isinstance(instance, Instance):
        raise TypeError(f"instance must be a multi_uav_isac Instance, got {type(instance).__name__}")
    for name, shape in instance_shapes(params).items():
        arr = getattr(instance, name)
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iuf":
            raise ValueError(f"Instance.{name} must be a real numpy array of shape {shape}, got {type(arr).__name__}"
                             f"{'' if not isinstance(arr, np.ndarray) else ' of dtype ' + str(arr.dtype)}")
        if arr.shape != shape:
            raise ValueError(f"Instance.{name} must have shape {shape} for these Params (num_bs={params.num_bs}, "
                             f"num_uavs={params.num_uavs}, num_hotspots={params.num_hotspots}), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            bad = np.flatnonzero(~np.isfinite(arr.ravel()))
            raise ValueError(f"Instance.{name} has non-finite entries at flat indices {bad[:10].tolist()}")
    for name in ("gain_comm", "gain_sense", "pos_err_std", "hotspot_weights"):
        if np.any(getattr(instance, name) < 0):
            raise ValueError(f"Instance.{name} must be >= 0, got min {float(getattr(instance, name).min())!r}")
    cl = instance.uav_cluster
    if cl.dtype.kind not in "iu" or (cl.size and (cl.min() < 0 or cl.max() >= params.num_hotspots)):
        raise ValueError(f"Instance.uav_cluster must hold integers in [0, {params.num_hotspots}), got {cl.tolist()}")
    slot = instance.slot
    if isinstance(slot, bool) or not isinstance(slot, (int, np.integer)) or not 0 <= slot < params.num_slots:
        raise ValueError(f"Instance.slot must be an integer in [0, {params.num_slots}), got {slot!r}")


# --------------------------------------------------------------------------- geometry and gains
def bs_layout(params: Params) -> np.ndarray:
    """Deterministic BS grid (S2): rows = floor(sqrt M), cols = ceil(M/rows), last row centred."""
    m_count, side = params.num_bs, params.area_size_m
    rows = int(math.floor(math.sqrt(m_count)))
    cols = int(math.ceil(m_count / rows))
    m = np.arange(m_count)
    r, c = m // cols, m % cols
    n_in_row = np.minimum(cols, m_count - r * cols)
    x = (c + 0.5 + (cols - n_in_row) / 2.0) * side / cols
    y = (r + 0.5) * side / rows
    return np.stack([x, y, np.full(m_count, params.bs_height_m)], axis=1).astype(float)


def clip_box(params: Params, q: np.ndarray) -> np.ndarray:
    """x, y into [0, L], z into [z_min, z_max] (Sec. 3)."""
    lo = np.array([0.0, 0.0, params.uav_alt_min_m])
    hi = np.array([params.area_size_m, params.area_size_m, params.uav_alt_max_m])
    return np.minimum(np.maximum(q, lo), hi)


def _geometry(pos: np.ndarray, bs_pos: np.ndarray):
    """Distances (..., J, M) [m] and the x, y direction cosines (..., J, M) from every BS to every point (S1)."""
    dx = pos[..., :, None, 0] - bs_pos[:, 0]
    dy = pos[..., :, None, 1] - bs_pos[:, 1]
    dz = pos[..., :, None, 2] - bs_pos[:, 2]
    dist = np.sqrt(dx * dx + dy * dy + dz * dz)
    return dist, dx / dist, dy / dist


def compute_gains(params: Params, bs_pos, uav_pos, uav_pos_est):
    """``gain_comm`` (..., K, M) (S4) and ``gain_sense`` (..., K+1, M) [1/W] (S5) for MRT beams at the
    estimates; positions (..., K+1, 3) with any leading (env) axes."""
    k, nx, ny = params.num_uavs, params.upa_nx, params.upa_ny
    d, ux, uy = _geometry(uav_pos, bs_pos)
    _, ux_hat, uy_hat = _geometry(uav_pos_est, bs_pos)
    g_bf = nx * ny * dirichlet_power(ux - ux_hat, nx) * dirichlet_power(uy - uy_hat, ny)   # (S3)
    gain_comm = params.beta0 * g_bf[..., :k, :] / d[..., :k, :] ** 2        # (S4)
    rcs = np.full(k + 1, params.rcs_coop_m2)
    rcs[k] = params.rcs_noncoop_m2
    gain_sense = (params.beta0 * rcs[:, None] / (4.0 * math.pi * d**4) * g_bf * params.num_antennas
                  * params.sensing_time_s / params.noise_psd_w_per_hz)      # (S5)
    return gain_comm, gain_sense


def estimates_from_noise(params: Params, uav_pos, pos_err_std, noise):
    """Position estimates: truth + noise * std per axis, clipped (Sec. 3 step 6); noise ~ N(0, 1) (..., K+1, 3)."""
    return clip_box(params, uav_pos + noise * pos_err_std[:, None])


def _estimates(params: Params, uav_pos, pos_err_std, rng):
    """Position estimates from one ``standard_normal((K+1, 3))`` draw (Sec. 3 step 6)."""
    return estimates_from_noise(params, uav_pos, pos_err_std, rng.standard_normal((params.num_uavs + 1, 3)))


def draw_start(params: Params, rng: np.random.Generator):
    """Every random draw of a slot-0 snapshot, in the spec's order (Sec. 3, steps 1-6): hotspot centres
    (C, 3) and weights (C,), clusters (K,), true positions (K+1, 3), non-coop velocity (3,) and the
    estimate noise ~ N(0, 1) (K+1, 3)."""
    k, c, side = params.num_uavs, params.num_hotspots, params.area_size_m
    cx = rng.uniform(0.15 * side, 0.85 * side, size=(c, 2))
    cz = rng.uniform(params.uav_alt_min_m + 50.0, params.uav_alt_max_m - 50.0, size=(c, 1))
    centers = np.concatenate([cx, cz], axis=1)
    weights = rng.dirichlet(np.full(c, 2.0))
    cluster = rng.choice(c, size=k, p=weights).astype(np.int64)
    spread = np.array([params.hotspot_std_m, params.hotspot_std_m, params.hotspot_std_z_m])
    coop = clip_box(params, centers[cluster] + rng.standard_normal((k, 3)) * spread)
    nc = np.array([rng.uniform(0.0, side), rng.uniform(0.0, side),
                   rng.uniform(params.uav_alt_min_m, params.uav_alt_max_m)])
    phi = rng.uniform(0.0, 2.0 * math.pi)
    vel = params.noncoop_speed_mps * np.array([math.cos(phi), math.sin(phi), 0.0])
    noise = rng.standard_normal((k + 1, 3))
    return centers, weights, cluster, np.vstack([coop, nc]), vel, noise


def pos_err_std(params: Params) -> np.ndarray:
    """Per-axis std of every UAV's position estimate (K+1,) [m]."""
    return np.array([params.pos_err_std_m] * params.num_uavs + [params.noncoop_pos_err_std_m], dtype=float)


def sample_instance(params: Params, rng: np.random.Generator) -> Instance:
    """Slot-0 snapshot; draws in the spec's order (Sec. 3, steps 1-7)."""
    centers, weights, cluster, pos, vel, noise = draw_start(params, rng)
    err_std = pos_err_std(params)
    return _with_positions(params, bs_layout(params), centers, weights, cluster, pos, err_std, vel, 0,
                           estimates_from_noise(params, pos, err_std, noise))


def _with_positions(params, bs_pos, centers, weights, cluster, pos, err_std, vel, slot, est) -> Instance:
    gain_comm, gain_sense = compute_gains(params, bs_pos, pos, est)
    return Instance(bs_pos=bs_pos, hotspot_centers=centers, hotspot_weights=weights, uav_cluster=cluster,
                    uav_pos=pos, uav_pos_est=est, pos_err_std=err_std, noncoop_vel=vel,
                    gain_comm=gain_comm, gain_sense=gain_sense, slot=int(slot))


def move_uavs(params: Params, centers, cluster, uav_pos, noncoop_vel, xi):
    """Mobility n -> n+1 (Sec. 3) of positions (..., K+1, 3) with any leading (env) axes: Gauss-Markov of
    the cooperative UAVs towards their hotspot centre (xi ~ N(0, 1) (..., K, 3)); the non-cooperative UAV
    straight on, mirrored at the borders. Returns (positions, non-coop velocity)."""
    k, side = params.num_uavs, params.area_size_m
    a = max(0.0, 1.0 - (params.uav_speed_mps * params.slot_duration_s) ** 2 / (4.0 * params.hotspot_std_m**2))
    mu = centers[cluster] if centers.ndim == 2 else np.take_along_axis(centers, cluster[..., None], axis=-2)
    spread = np.array([params.hotspot_std_m, params.hotspot_std_m, params.hotspot_std_z_m])
    coop = clip_box(params, mu + a * (uav_pos[..., :k, :] - mu) + math.sqrt(1.0 - a * a) * spread * xi)
    q = uav_pos[..., k, :] + noncoop_vel * params.slot_duration_s
    v = noncoop_vel.copy()
    low, high = q[..., :2] < 0.0, q[..., :2] > side
    q[..., :2] = np.where(low, -q[..., :2], np.where(high, 2.0 * side - q[..., :2], q[..., :2]))
    v[..., :2] = np.where(low | high, -v[..., :2], v[..., :2])
    return np.concatenate([coop, q[..., None, :]], axis=-2), v


def advance_instance(params: Params, instance: Instance, rng: np.random.Generator) -> Instance:
    """Mobility n -> n+1 (Sec. 3): Gauss-Markov to the hotspot centre; non-coop straight, mirrored."""
    xi = rng.standard_normal((params.num_uavs, 3))
    pos, v = move_uavs(params, instance.hotspot_centers, instance.uav_cluster, instance.uav_pos,
                       instance.noncoop_vel, xi)
    return _with_positions(params, instance.bs_pos, instance.hotspot_centers, instance.hotspot_weights,
                           instance.uav_cluster, pos, instance.pos_err_std, v, instance.slot + 1,
                           _estimates(params, pos, instance.pos_err_std, rng))


# --------------------------------------------------------------------------- objective
def loads(params: Params, assoc: np.ndarray) -> np.ndarray:
    """N_m: UAVs (non-coop included) served by each BS (S6)."""
    return np.bincount(assoc, minlength=params.num_bs)


def bandwidths_hz(params: Params, assoc: np.ndarray) -> np.ndarray:
    """b_j = B / N_{a_j} for every UAV (S6)."""
    return params.bandwidth_hz / loads(params, assoc)[assoc]


def rho_from_snr(params: Params, snr_sense, bandwidth_hz):
    """Localisation QoS (S9) from the integrated echo SNR and the UAV's sub-band."""
    crb_d = crb_range_m2(snr_sense, bandwidth_hz)                            # (S8)
    crb_t = crb_direction_cosine_rad2(snr_sense, max(params.upa_nx, params.upa_ny))
    return (params.varpi1_m2 / (crb_d + params.crb_floor_range_m2)
            + params.varpi2_rad2 / (crb_t + params.crb_floor_angle_rad2))


def _check_decision(params: Params, decision: Decision):
    k, m = params.num_uavs, params.num_bs
    if not isinstance(decision, Decision):
        raise TypeError(f"decision must be a Decision, got {type(decision).__name__}")
    assoc = np.asarray(decision.assoc)
    p_c = np.asarray(decision.p_comm, float)
    p_s = np.asarray(decision.p_sense, float)
    for name, arr, shape in (("assoc", assoc, (k + 1,)), ("p_comm", p_c, (k,)), ("p_sense", p_s, (k + 1,))):
        if arr.shape != shape:
            raise ValueError(f"decision.{name} must have shape {shape}, got {arr.shape}")
    if not np.issubdtype(assoc.dtype, np.integer) or assoc.min() < 0 or assoc.max() >= m:
        raise ValueError(f"decision.assoc must hold integers in [0, {m}), got {assoc.tolist()}")
    for name, arr in (("p_comm", p_c), ("p_sense", p_s)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"decision.{name} must be finite, got {arr.tolist()}")
    return assoc.astype(np.int64), p_c, p_s


def per_bs_sum(params: Params, bs_of_item: np.ndarray, values=None) -> np.ndarray:
    """Per-BS sums (..., M) of ``values`` (..., L) (counts if None) over items served by ``bs_of_item``
    (..., L), any leading (env) axes; accumulates items in order, exactly like ``np.bincount``."""
    m = params.num_bs
    if bs_of_item.ndim == 1:
        return np.bincount(bs_of_item, values, m)
    lead = bs_of_item.shape[:-1]
    n = math.prod(lead)
    idx = bs_of_item + (np.arange(n) * m).reshape(*lead, 1)
    w = None if values is None else np.broadcast_to(values, bs_of_item.shape).ravel()
    return np.bincount(idx.ravel(), w, n * m).reshape(*lead, m)


def _take_last(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """arr[..., idx[..., l]] along the last axis (``take_along_axis``; plain indexing when unbatched)."""
    return arr[idx] if arr.ndim == 1 else np.take_along_axis(arr, idx, axis=-1)


def _gain_of(gain: np.ndarray, assoc: np.ndarray) -> np.ndarray:
    """gain[..., j, assoc[..., j]]: each UAV's gain towards its serving BS."""
    if gain.ndim == 2:
        return gain[np.arange(gain.shape[0]), assoc]
    return np.take_along_axis(gain, assoc[..., None], axis=-1)[..., 0]


def slot_core(params: Params, gain_comm, gain_sense, assoc, p_c, p_s) -> dict[str, np.ndarray]:
    """Objective (S10), its terms and the normalised violations (S12) of already-checked decisions, with
    any leading (env) axes: gains (..., K, M) / (..., K+1, M), assoc (..., K+1) int, powers (..., K) /
    (..., K+1) [W]. Also returns the intermediate arrays the metrics need. Shared by :func:`evaluate`,
    the env step and the vector env (one source of truth)."""
    k = params.num_uavs
    n_m = per_bs_sum(params, assoc)                                          # (S6)
    b = params.bandwidth_hz / _take_last(n_m, assoc)
    g_c = _gain_of(gain_comm, assoc[..., :k])
    snr_c = p_c * g_c / (params.noise_psd_w_per_hz * b[..., :k])            # (S7)
    rates = b[..., :k] * np.log2(1.0 + np.maximum(snr_c, 0.0))
    snr_s = np.maximum(p_s, 0.0) * _gain_of(gain_sense, assoc)
    rho = rho_from_snr(params, snr_s, b)                                     # (S9)
    rate_term = params.theta1 * rates.sum(axis=-1) / (k * params.rate_unit_bps)   # (S10)
    sensing_term = (1.0 - params.theta1) * params.theta2 * rho.sum(axis=-1) / (k + 1)
    p_all = np.concatenate([p_c, p_s], axis=-1)                              # (S12)
    c3 = np.sum(np.maximum(0.0, p_all / params.p_max_w - 1.0) + np.maximum(0.0, 1.0 - p_all / params.p_min_w),
                axis=-1)
    p_bs = per_bs_sum(params, assoc[..., :k], p_c) + per_bs_sum(params, assoc, p_s)
    c4 = np.sum(np.maximum(0.0, p_bs / params.p_total_w - 1.0), axis=-1)
    zero = np.zeros_like(c3)
    c5 = np.mean(np.maximum(0.0, 1.0 - rho / params.rho_min), axis=-1) if params.rho_min > 0 else zero
    c6 = np.mean(np.maximum(0.0, 1.0 - rates / params.rate_min_bps), axis=-1) if params.rate_min_bps > 0 else zero
    return {"objective": rate_term + sensing_term, "rate_term": rate_term, "sensing_term": sensing_term,
            "C3": c3, "C4": c4, "C5": c5, "C6": c6, "n_m": n_m, "b": b, "snr_c": snr_c, "snr_s": snr_s,
            "rates": rates, "rho": rho, "p_bs": p_bs}


VIOLATION_KEYS = ("C3", "C4", "C5", "C6")


def penalised_reward(params: Params, core: dict) -> np.ndarray:
    """Env reward G - penalty (C3 + C4 + C5 + C6) (Sec. 6), from :func:`slot_core`'s output."""
    return core["objective"] - params.penalty * (((core["C3"] + core["C4"]) + core["C5"]) + core["C6"])


def _evaluation_from_core(params: Params, instance: Instance, assoc, p_c, p_s, core, lazy: bool) -> Evaluation:
    viol = {key: float(core[key]) for key in VIOLATION_KEYS}
    objective = float(core["objective"])

    def metrics() -> dict[str, float]:
        out = _metrics(params, instance, assoc, p_c, p_s, core)
        out.update(objective=objective, rate_term=float(core["rate_term"]), sensing_term=float(core["sensing_term"]))
        return out

    feasible = all(v <= FEASIBILITY_TOL for v in viol.values())
    return Evaluation(objective=objective, metrics=LazyMetrics(metrics) if lazy else metrics(),
                      violations=viol, feasible=feasible)


def evaluate(params: Params, instance: Instance, decision: Decision) -> Evaluation:
    """Objective G (S10), its components (S13) and normalised violations (S12)."""
    assoc, p_c, p_s = _check_decision(params, decision)
    core = slot_core(params, instance.gain_comm, instance.gain_sense, assoc, p_c, p_s)
    return _evaluation_from_core(params, instance, assoc, p_c, p_s, core, lazy=False)


def evaluate_decoded(params: Params, instance: Instance, decision: Decision) -> Evaluation:
    """:func:`evaluate` for a decision produced by :func:`decode_action` (valid by construction: not
    checked again), with ``metrics`` a :class:`LazyMetrics` computed on first access (env step path)."""
    core = slot_core(params, instance.gain_comm, instance.gain_sense, decision.assoc, decision.p_comm,
                     decision.p_sense)
    return _evaluation_from_core(params, instance, decision.assoc, decision.p_comm, decision.p_sense, core,
                                 lazy=True)


class LazyMetrics(Mapping):
    """Read-only mapping of the (S13) metrics, computed on first access (``dict(m)`` copies it)."""

    def __init__(self, compute) -> None:
        self._compute, self._data = compute, None

    def _get(self) -> dict[str, float]:
        if self._data is None:
            self._data, self._compute = self._compute(), None
        return self._data

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return f"LazyMetrics({self._get()!r})"


def _db(x):
    return 10.0 * np.log10(np.maximum(x, 1e-30))


def _metrics(params, instance, assoc, p_c, p_s, core) -> dict[str, float]:
    """The metrics dict of (S13) (objective and terms added by ``evaluate``)."""
    k = params.num_uavs
    b, snr_c, snr_s, rates, rho, n_m = (core[key] for key in ("b", "snr_c", "snr_s", "rates", "rho", "n_m"))
    crb_d = crb_range_m2(snr_s[k], b[k])
    crb_t = crb_direction_cosine_rad2(snr_s[k], max(params.upa_nx, params.upa_ny))
    d_hat = np.linalg.norm(instance.uav_pos_est[k] - instance.bs_pos[assoc[k]])
    p_bs = core["p_bs"]
    total = p_c.sum() + p_s.sum()
    return {
        "sum_rate_bps": float(rates.sum()), "mean_rate_bps": float(rates.mean()),
        "min_rate_bps": float(rates.min()), "rho_sum": float(rho.sum()), "rho_mean": float(rho.mean()),
        "rho_min_achieved": float(rho.min()), "rho_noncoop": float(rho[k]),
        "crb_noncoop_range_m2": float(crb_d), "crb_noncoop_angle_rad2": float(crb_t),
        "crb_noncoop_pos_m2": float(crb_d + 2.0 * d_hat**2 * crb_t),
        "snr_comm_db_mean": float(np.mean(_db(snr_c))), "snr_comm_db_min": float(np.min(_db(snr_c))),
        "snr_sense_noncoop_db": float(_db(snr_s[k])),
        "sense_power_frac": float(p_s.sum() / total) if total > 0 else 0.0,
        "bs_power_use": float(p_bs.sum() / (params.num_bs * params.p_total_w)),
        "max_load": float(n_m.max()), "idle_bs": float(np.sum(n_m == 0)),
    }


# --------------------------------------------------------------------------- codec and observation
def action_dim(params: Params) -> int:
    """(K+1) M association scores + K comm + (K+1) sensing power scores (Sec. 6)."""
    k, m = params.num_uavs, params.num_bs
    return (k + 1) * m + k + (k + 1)


def obs_dim(params: Params) -> int:
    """3(K+1) + KM + (K+1)M + (K+1) + 4C + 2M + 1 (Sec. 6)."""
    k, m, c = params.num_uavs, params.num_bs, params.num_hotspots
    return 3 * (k + 1) + k * m + (k + 1) * m + (k + 1) + 4 * c + 2 * m + 1


def link_bs(params: Params, assoc: np.ndarray) -> np.ndarray:
    """Serving BS of each of the 2K+1 links: [comm links k < K | sensing links j <= K] (any leading axes)."""
    return np.concatenate([assoc[..., : params.num_uavs], assoc], axis=-1)


def scale_to_budget(params: Params, p: np.ndarray, bs_of_link: np.ndarray) -> np.ndarray:
    """Per BS: shrink p_l - p_min proportionally where the BS's sum exceeds P_total (Sec. 6 step 3);
    any leading (env) axes."""
    n = per_bs_sum(params, bs_of_link)
    s = per_bs_sum(params, bs_of_link, p)
    over = s > params.p_total_w
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(over, (params.p_total_w - n * params.p_min_w) / (s - n * params.p_min_w), 1.0)
    return params.p_min_w + (p - params.p_min_w) * _take_last(f, bs_of_link)


def power_from_score(params: Params, score: np.ndarray) -> np.ndarray:
    """Affine power decoding p = p_min + (a + 1)/2 (p_max - p_min) [W] of scores a in [-1, 1] (Sec. 6 step 2)."""
    y = (score + 1.0) / 2.0
    return params.p_min_w + y * (params.p_max_w - params.p_min_w)


def decode_scores(params: Params, a: np.ndarray):
    """Checked, clipped actions (..., D_act) -> (assoc (..., K+1), powers (..., 2K+1) [W]): argmax
    association, affine powers, per-BS budget scaling (Sec. 6 steps 1-3); any leading (env) axes."""
    k, m = params.num_uavs, params.num_bs
    assoc = np.argmax(a[..., : (k + 1) * m].reshape(*a.shape[:-1], k + 1, m), axis=-1).astype(np.int64)
    p = power_from_score(params, a[..., (k + 1) * m:])
    return assoc, scale_to_budget(params, p, link_bs(params, assoc))


def decode_action(params: Params, action) -> Decision:
    """Action in [-1, 1]^D_act -> Decision: argmax association, affine powers, per-BS budget scaling."""
    k = params.num_uavs
    assoc, p = decode_scores(params, check_action(action, (action_dim(params),)))
    return Decision(assoc=assoc, p_comm=p[:k], p_sense=p[k:])


def _power_scores(params: Params, p: np.ndarray, bs_of_link: np.ndarray) -> np.ndarray:
    """float32 power scores decoding to p up to one float32 step, rounded so that no constraint flips:
    every decoded power >= p (C5/C6 only grow with the own power); where that rounding would push a BS
    that met its budget above P_total, the BS's largest link gives the excess back (rounded down)."""
    span = params.p_max_w - params.p_min_w
    a = np.clip(2.0 * (p - params.p_min_w) / span - 1.0, -1.0, 1.0).astype(np.float32)
    low = power_from_score(params, a.astype(np.float64)) < p
    a = np.where(low & (a < 1.0), np.nextafter(a, np.float32(1.0)), a)
    dec = power_from_score(params, a.astype(np.float64))
    s_dec = np.bincount(bs_of_link, dec, params.num_bs)
    over = (s_dec > params.p_total_w) & (np.bincount(bs_of_link, p, params.num_bs) <= params.p_total_w)
    if over.any():
        order = np.lexsort((-dec, bs_of_link))                      # per BS, largest link first
        first = order[np.r_[True, bs_of_link[order][1:] != bs_of_link[order][:-1]]]
        big = first[over[bs_of_link[first]]]
        target = dec[big] - (s_dec[bs_of_link[big]] - params.p_total_w)
        b = np.clip(2.0 * (target - params.p_min_w) / span - 1.0, -1.0, 1.0).astype(np.float32)
        high = power_from_score(params, b.astype(np.float64)) > target
        a[big] = np.where(high & (b > -1.0), np.nextafter(b, np.float32(-1.0)), b)
    return a


def encode_action(params: Params, decision: Decision) -> np.ndarray:
    """Decision -> action (float32): +1 at the serving BS's score, -1 elsewhere; powers affine, rounded to
    float32 towards feasibility (:func:`_power_scores`), so that a decision meeting C3-C6 stays feasible."""
    k, m = params.num_uavs, params.num_bs
    assoc, p_c, p_s = _check_decision(params, decision)
    scores = -np.ones((k + 1, m), np.float32)
    scores[np.arange(k + 1), assoc] = 1.0
    p = np.concatenate([p_c, p_s])
    return np.concatenate([scores.ravel(), _power_scores(params, p, link_bs(params, assoc))])


def _norm_pos(params: Params, q: np.ndarray) -> np.ndarray:
    z_span = params.uav_alt_max_m - params.uav_alt_min_m
    return np.stack([q[..., 0] / params.area_size_m, q[..., 1] / params.area_size_m,
                     (q[..., 2] - params.uav_alt_min_m) / z_span], axis=-1)


def observe_arrays(params: Params, uav_pos_est, gain_comm, gain_sense, pos_err_std, hotspot_centers,
                   hotspot_weights, bs_pos, slot) -> np.ndarray:
    """Observation (Sec. 6 table) from the snapshot's arrays, any leading (env) axes on the per-env ones
    (``slot`` of shape (...)); ``pos_err_std`` and ``bs_pos`` are shared. Clipped to [-5, 5], float32."""
    lead = np.shape(slot)
    slot = np.asarray(slot, float)
    flat = lambda x: x.reshape(*lead, -1)  # noqa: E731
    shared = lambda x: np.broadcast_to(x.ravel(), (*lead, x.size))  # noqa: E731
    parts = [
        flat(_norm_pos(params, uav_pos_est)),
        (flat(_db(gain_comm)) + 110.0) / 10.0,
        (flat(_db(gain_sense)) - 5.0) / 15.0,
        shared(pos_err_std / 50.0),
        flat(_norm_pos(params, hotspot_centers)),
        flat(hotspot_weights),
        shared(bs_pos[:, :2] / params.area_size_m),
        (slot / params.num_slots)[..., None],
    ]
    return np.minimum(np.maximum(np.concatenate(parts, axis=-1), -5.0), 5.0).astype(np.float32)


def observe(params: Params, instance: Instance) -> np.ndarray:
    """Normalised observation vector (Sec. 6 table), clipped to [-5, 5], float32."""
    return observe_arrays(params, instance.uav_pos_est, instance.gain_comm, instance.gain_sense,
                          instance.pos_err_std, instance.hotspot_centers, instance.hotspot_weights,
                          instance.bs_pos, instance.slot)
