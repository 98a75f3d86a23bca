"""Device-free localisation in a monostatic ISAC network: the model (single source of truth).

Three full-duplex ISAC base stations on alternate vertices of a hexagon each serve one UE
and range one passive target with their own downlink. The decision is the BS transmit
power vector; the objective is minus the worst BS's range STD (Curry), subject to a
downlink SINR threshold at every UE. Equation tags (S1)...(S11), (C1), (C2) number the model's
equations (the paper's lost equations, restated by the project); each function below states the
formula it implements, and docs/device_free_localization.md describes the model.

Pure functions, no Gymnasium. Randomness only through the ``rng`` argument.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from isac_envs.core import (
    FEASIBILITY_TOL,
    Evaluation,
    ParamsBase,
    require_in_range,
    require_int,
)
from isac_envs.physics.channels import log_distance_gain
from isac_envs.physics.geometry import hexagon_normals
from isac_envs.physics.radar import bistatic_radar_gain
from isac_envs.physics.units import (
    BOLTZMANN_J_PER_K,
    SPEED_OF_LIGHT_MPS,
    db_to_lin,
    dbm_to_w,
    wavelength_m,
)

__all__ = [
    "Params", "Instance", "Decision", "NormalisedGains", "SYSTEM",
    "sample_instance", "instance_from_state", "advance_instance", "evaluate",
    "normalised_gains", "comm_sinr", "sensing_sinr", "range_std_m",
    "decode_power_w", "encode_power", "observation", "local_observation",
    "OBS_DIM", "LOCAL_OBS_DIM", "PARAM_BOUNDS", "validate_instance",
]

SYSTEM = "device_free_localization"
NUM_BS = 3
OBS_DIM = 34
LOCAL_OBS_DIM = 25
OBS_BOUND = 10.0
_DB_FLOOR_LIN = 1e-30  # 10 log10(1e-30) = -300 dB: the floor of every dB / dBm value
_HEX_NORMALS = hexagon_normals()  # (3, 2): edge normals at 0, 60, 120 deg
_HEX_NORMALS_LIST = [tuple(n) for n in _HEX_NORMALS.tolist()]
_UPPER = np.triu(np.ones((NUM_BS, NUM_BS)), 1)  # strict upper triangle mask


# ============================================================================ parameters
#: Documented range of every numeric Params field: name -> (low, high, low excluded?, unit).
#: Physical and wide (sizes capped far above any use); within them every observation, reward and
#: solver decision is finite (tested at the corners). num_bs must be 3.
PARAM_BOUNDS: dict[str, tuple[float, float, bool, str]] = {
    "hex_radius_m": (1.0, 1e5, False, "m"),
    "comm_radius_m": (0.0, 1e5, True, "m"),
    "min_ue_distance_m": (0.0, 1e5, True, "m"),
    "min_link_distance_m": (0.01, 1e3, False, "m (far-field guard)"),
    "bs_height_m": (0.0, 1e4, True, "m"),
    "ue_height_m": (0.0, 1e4, False, "m"),
    "target_height_m": (0.0, 1e4, False, "m"),
    "sector_width_deg": (0.0, 120.0, True, "deg"),
    "bs_antenna_gain_dbi": (-30.0, 60.0, False, "dBi"),
    "ue_antenna_gain_dbi": (-30.0, 60.0, False, "dBi"),
    "carrier_frequency_hz": (1e8, 3e11, False, "Hz (100 MHz - 300 GHz)"),
    "subcarrier_spacing_hz": (1e3, 1e7, False, "Hz"),
    "num_subcarriers": (1, 100_000, False, "subcarriers"),
    "num_symbols": (1, 100_000, False, "OFDM symbols"),
    "noise_figure_db": (0.0, 30.0, False, "dB (a noise figure is >= 0 dB)"),
    "noise_temperature_k": (1.0, 1e4, False, "K"),
    "max_power_dbm": (-30.0, 80.0, False, "dBm"),
    "si_level_db": (-200.0, 0.0, False, "dB (residual SI gain; 0 dB = no cancellation)"),
    "comm_sinr_threshold_db": (-30.0, 40.0, False, "dB"),
    "rician_k_db": (-50.0, 50.0, False, "dB"),
    "comm_pathloss_exponent": (1.0, 8.0, False, "(dimensionless)"),
    "reference_distance_m": (0.01, 100.0, False, "m"),
    "target_rcs_dbsm": (-60.0, 60.0, False, "dBsm"),
    "range_std_cap_m": (0.0, 1e6, True, "m"),
    "target_speed_mps": (0.0, 1e4, False, "m/s"),
    "target_heading_std_deg": (0.0, 360.0, False, "deg"),
    "slot_duration_s": (0.0, 3600.0, True, "s"),
    "episode_length": (1, 1_000_000, False, "slots"),
    "penalty": (0.0, 1e6, False, "m per unit of violation"),
    "power_dynamic_range_db": (0.0, 200.0, True, "dB"),
}


@dataclass(frozen=True)
class Params(ParamsBase):
    """Every constant of the system (spec Sec. 2); SI units inside, dB fields carry the unit."""

    num_bs: int = 3
    hex_radius_m: float = 250.0
    comm_radius_m: float = 100.0
    min_ue_distance_m: float = 10.0
    min_link_distance_m: float = 10.0
    bs_height_m: float = 25.0
    ue_height_m: float = 1.5
    target_height_m: float = 1.5
    sector_width_deg: float = 120.0
    bs_antenna_gain_dbi: float = 4.771212547196624  # 10 log10(3): ideal 120 deg sector
    ue_antenna_gain_dbi: float = 0.0
    carrier_frequency_hz: float = 3.5e9
    subcarrier_spacing_hz: float = 30e3
    num_subcarriers: int = 3276
    num_symbols: int = 14
    noise_figure_db: float = 7.0
    noise_temperature_k: float = 290.0
    max_power_dbm: float = 46.0
    si_level_db: float = -110.0
    comm_sinr_threshold_db: float = 10.0
    rician_k_db: float = 9.0
    comm_pathloss_exponent: float = 2.5
    reference_distance_m: float = 1.0
    target_rcs_dbsm: float = 10.0
    range_std_cap_m: float = 100.0
    target_speed_mps: float = 10.0
    target_heading_std_deg: float = 10.0
    slot_duration_s: float = 0.5
    episode_length: int = 50
    penalty: float = 2.0
    power_dynamic_range_db: float = 80.0  # v1; DeviceFreeLocalization-v0 is registered with 40.0

    def validate(self) -> None:
        """Every field within its documented range (:data:`PARAM_BOUNDS`), plus the cross-field rules.

        The ranges are physical (FR1-FR3 radio, macro to small cells) and wide; they guarantee that
        every accepted value gives finite observations, rewards and solver decisions.
        """
        if isinstance(self.num_bs, bool) or not isinstance(self.num_bs, numbers.Integral) or self.num_bs != NUM_BS:
            raise ValueError(f"num_bs must be 3 (the hexagon layout is defined for 3 BSs), got {self.num_bs!r}")
        for name in ("num_subcarriers", "num_symbols", "episode_length"):
            require_int(name, getattr(self, name), 1)
        for name, (lo, hi, lo_open, unit) in PARAM_BOUNDS.items():
            value = getattr(self, name)
            try:
                require_in_range(name, value, lo, hi, lo_open=lo_open)
            except ValueError:
                lb = "(" if lo_open else "["
                raise ValueError(f"{name} must be a number in {lb}{lo:g}, {hi:g}] {unit}, got {value!r}") from None
        if not self.min_ue_distance_m < self.comm_radius_m:
            raise ValueError(f"min_ue_distance_m must be < comm_radius_m ({self.comm_radius_m!r}), "
                             f"got {self.min_ue_distance_m!r}")
        if not self.comm_radius_m <= self.hex_radius_m:
            raise ValueError(f"comm_radius_m must be <= hex_radius_m ({self.hex_radius_m!r}) so that every UE "
                             f"lies in the hexagon, got {self.comm_radius_m!r}")
        step_m = self.target_speed_mps * self.slot_duration_s
        if step_m > self.apothem_m:
            raise ValueError(f"target_speed_mps * slot_duration_s (one slot's move, {step_m!r} m) must be <= the "
                             f"hexagon apothem hex_radius_m*sqrt(3)/2 ({self.apothem_m!r} m), got "
                             f"target_speed_mps={self.target_speed_mps!r}")

    # ---------------------------------------------------------------- derived constants
    @cached_property
    def wavelength_m(self) -> float:
        return float(wavelength_m(self.carrier_frequency_hz))  # lambda = c / f_c

    @cached_property
    def bandwidth_hz(self) -> float:
        return float(self.num_subcarriers * self.subcarrier_spacing_hz)  # W = N_sc * Delta f

    @cached_property
    def noise_power_w(self) -> float:  # sigma^2 = k_B T_0 W 10^(F/10)
        return float(BOLTZMANN_J_PER_K * self.noise_temperature_k * self.bandwidth_hz
                     * db_to_lin(self.noise_figure_db))

    @cached_property
    def max_power_w(self) -> float:
        return float(dbm_to_w(self.max_power_dbm))

    @cached_property
    def processing_gain(self) -> float:
        return float(self.num_symbols * self.num_subcarriers)  # G_p = N_sym N_sc  (S9)

    @cached_property
    def range_resolution_m(self) -> float:
        return SPEED_OF_LIGHT_MPS / (2.0 * self.bandwidth_hz)  # Delta R = c / (2 W)

    @cached_property
    def comm_threshold_lin(self) -> float:
        return float(db_to_lin(self.comm_sinr_threshold_db))

    @cached_property
    def apothem_m(self) -> float:
        return self.hex_radius_m * math.sqrt(3.0) / 2.0  # a = R sqrt(3) / 2

    @cached_property
    def snr_scale(self) -> float:
        return self.max_power_w / self.noise_power_w  # k = P_max / sigma^2 (Sec. 8)

    @cached_property
    def gain_constants(self) -> dict[str, float]:
        """Linear antenna gains, RCS [m^2] and SI gain |beta|^2 (S5) from their dB fields."""
        return {"bs": float(db_to_lin(self.bs_antenna_gain_dbi)), "ue": float(db_to_lin(self.ue_antenna_gain_dbi)),
                "rcs_m2": float(db_to_lin(self.target_rcs_dbsm)), "si": float(db_to_lin(self.si_level_db)),
                "rician_k": float(db_to_lin(self.rician_k_db))}

    @cached_property
    def si_gain(self) -> np.ndarray:
        """(S5) |beta_b|^2 for every BS, (3,), read-only (shared by every Instance)."""
        out = np.full(NUM_BS, self.gain_constants["si"])
        out.setflags(write=False)
        return out

    @cached_property
    def bs_bs_path_gain(self) -> np.ndarray:
        """(S2) without the fading, (3, 3), read-only (the BS layout is fixed)."""
        out = bs_bs_path_gain(self)
        out.setflags(write=False)
        return out

    @cached_property
    def bs_positions_m(self) -> np.ndarray:
        theta = np.deg2rad(90.0 + 120.0 * np.arange(NUM_BS))  # alternate hexagon vertices
        pos = np.stack([self.hex_radius_m * np.cos(theta), self.hex_radius_m * np.sin(theta),
                        np.full(NUM_BS, self.bs_height_m)], axis=1)
        pos.setflags(write=False)
        return pos

    @cached_property
    def bs_boresight_rad(self) -> np.ndarray:
        psi = np.mod(np.deg2rad(90.0 + 120.0 * np.arange(NUM_BS)) + np.pi, 2.0 * np.pi)  # towards the origin
        psi.setflags(write=False)
        return psi


# ============================================================================ records
def _fields_equal(a, b):
    """Field-wise equality of two record dataclasses holding numpy arrays (bit-for-bit)."""
    if type(a) is not type(b):
        return NotImplemented
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)


@dataclass(frozen=True, eq=False)
class Instance:
    """One snapshot (spec Sec. 3). Matrices are [transmitter, receiver]; all float64."""

    bs_positions_m: np.ndarray      # (3, 3)
    bs_boresight_rad: np.ndarray    # (3,)
    ue_positions_m: np.ndarray      # (3, 3)
    target_position_m: np.ndarray   # (3,)
    target_heading_rad: float       # scalar in [0, 2 pi)
    comm_fading: np.ndarray         # (3, 3) |g_bj|^2
    bs_bs_fading: np.ndarray        # (3, 3) symmetric, zero diagonal
    comm_gain: np.ndarray           # (3, 3) |h_bj|^2              (S1)
    bs_bs_gain: np.ndarray          # (3, 3) |h_b'b|^2, zero diag  (S2)
    echo_gain: np.ndarray           # (3, 3) |alpha_b'b|^2         (S3)
    target_ue_gain: np.ndarray      # (3, 3) |alpha_bj|^2          (S4)
    si_gain: np.ndarray             # (3,)  |beta_b|^2             (S5)

    __eq__ = _fields_equal
    __hash__ = None  # arrays inside: not hashable


@dataclass(frozen=True, eq=False)
class Decision:
    """The BS transmit powers p_b in W (C2: 0 <= p_b <= P_max)."""

    tx_power_w: np.ndarray  # (3,)

    __eq__ = _fields_equal
    __hash__ = None


@dataclass(frozen=True, eq=False)
class NormalisedGains:
    """Gains in noise units at full power (spec Sec. 8): x_b = p_b / P_max, k = P_max / sigma^2."""

    echo: np.ndarray        # A_b = k |alpha_bb|^2
    cross: np.ndarray       # C_b'b = k (|alpha_b'b|^2 + |h_b'b|^2), zero diagonal
    si: np.ndarray          # S_b = k |beta_b|^2
    comm: np.ndarray        # H_bj = k G^c_bj
    comm_direct: np.ndarray  # g_j = H_jj


#: Instance field -> shape (fixed by the 3-BS layout); every entry must be finite.
INSTANCE_SHAPES: dict[str, tuple[int, ...]] = {
    "bs_positions_m": (NUM_BS, 3), "bs_boresight_rad": (NUM_BS,), "ue_positions_m": (NUM_BS, 3),
    "target_position_m": (3,), "target_heading_rad": (), "comm_fading": (NUM_BS, NUM_BS),
    "bs_bs_fading": (NUM_BS, NUM_BS), "comm_gain": (NUM_BS, NUM_BS), "bs_bs_gain": (NUM_BS, NUM_BS),
    "echo_gain": (NUM_BS, NUM_BS), "target_ue_gain": (NUM_BS, NUM_BS), "si_gain": (NUM_BS,),
}
_NONNEGATIVE_FIELDS = ("comm_fading", "bs_bs_fading", "comm_gain", "bs_bs_gain", "echo_gain", "target_ue_gain",
                       "si_gain")


def validate_instance(params: Params, instance: Instance) -> None:
    """Raise ValueError naming the Instance field if its shape, finiteness, sign or layout is wrong.

    Shapes are fixed by the 3-BS layout (:data:`INSTANCE_SHAPES`); every entry must be finite, fading
    samples and gains >= 0, and the BS layout must be the one of ``params`` (hex_radius_m, bs_height_m).
    """
    if not isinstance(instance, Instance):
        raise TypeError(f"instance must be a device_free_localization Instance, got {type(instance).__name__}")
    for name, shape in INSTANCE_SHAPES.items():
        try:
            value = np.asarray(getattr(instance, name), dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"Instance.{name} must be a real array of shape {shape}, "
                             f"got {type(getattr(instance, name)).__name__}") from None
        if value.shape != shape:
            raise ValueError(f"Instance.{name} must have shape {shape} (3 BSs), got {value.shape}")
        bad = ~np.isfinite(value)
        if bad.any():
            raise ValueError(f"Instance.{name} has non-finite entries at {np.argwhere(bad).tolist()}: "
                             f"{value[bad].tolist()}")
        if name in _NONNEGATIVE_FIELDS and (value < 0).any():
            raise ValueError(f"Instance.{name} must be >= 0, got negative entries at "
                             f"{np.argwhere(value < 0).tolist()}")
    if not np.allclose(instance.bs_positions_m, params.bs_positions_m, rtol=1e-9, atol=1e-9):
        raise ValueError("Instance.bs_positions_m does not match the layout of these Params (hex_radius_m="
                         f"{params.hex_radius_m!r}, bs_height_m={params.bs_height_m!r}): the instance was drawn "
                         "with other Params")


# ============================================================================ channels
def comm_channel_gain(distance_m: np.ndarray, fading: np.ndarray, antenna_gain_lin: float,
                      wavelength_m: float, exponent: float, reference_distance_m: float) -> np.ndarray:
    """(S1)/(S2) G_BS G_rx (lambda/(4 pi d0))^2 (d/d0)^-eta |g|^2."""
    return antenna_gain_lin * log_distance_gain(distance_m, wavelength_m, exponent, reference_distance_m) * fading


def radar_gain(tx_target_m: np.ndarray, target_rx_m: np.ndarray, wavelength_m: float, rcs_m2: float,
               tx_gain_lin: float, rx_gain_lin: float) -> np.ndarray:
    """(S3)/(S4) radar equation G_t G_r lambda^2 sigma_RCS / ((4 pi)^3 d_t^2 d_r^2), outer over (tx, rx)."""
    return bistatic_radar_gain(tx_target_m[:, None], target_rx_m[None, :], wavelength_m, rcs_m2,
                               tx_gain_lin, rx_gain_lin)


def _distance_m(a_m: np.ndarray, b_m: np.ndarray, floor_m: float) -> np.ndarray:
    """3-D distances |a - b| over the last axis (broadcast), floored at d_min."""
    diff = a_m - b_m
    return np.maximum(np.sqrt(np.einsum("...k,...k->...", diff, diff)), floor_m)


def comm_path_gain(params: Params, ue_positions_m: np.ndarray) -> np.ndarray:
    """(S1) without the fading: G_BS G_UE (lambda/(4 pi d0))^2 (d_bj/d0)^-eta, [..., b, j].

    Batched over leading axes of ``ue_positions_m`` (..., 3, 3); constant within an episode (fixed UEs).
    """
    g = params.gain_constants
    d = _distance_m(params.bs_positions_m[:, None, :], ue_positions_m[..., None, :, :], params.min_link_distance_m)
    return comm_channel_gain(d, 1.0, g["bs"] * g["ue"], params.wavelength_m, params.comm_pathloss_exponent,
                             params.reference_distance_m)


def bs_bs_path_gain(params: Params) -> np.ndarray:
    """(S2) without the fading: G_BS^2 (lambda/(4 pi d0))^2 (d_b'b/d0)^-eta, (3, 3) (the diagonal meets zero fading)."""
    g = params.gain_constants
    bs = params.bs_positions_m
    d = _distance_m(bs[:, None, :], bs[None, :, :], params.min_link_distance_m)
    return comm_channel_gain(d, 1.0, g["bs"] * g["bs"], params.wavelength_m, params.comm_pathloss_exponent,
                             params.reference_distance_m)


def target_gains(params: Params, target_position_m: np.ndarray, ue_positions_m: np.ndarray):
    """(S3) echo |alpha_b'b|^2 and (S4) target-to-UE |alpha_bj|^2, both (..., 3, 3), batched over leading axes."""
    g = params.gain_constants
    tgt = target_position_m[..., None, :]
    d_bs_t = _distance_m(params.bs_positions_m, tgt, params.min_link_distance_m)   # (..., 3)
    d_t_ue = _distance_m(ue_positions_m, tgt, params.min_link_distance_m)          # (..., 3)
    lam, rcs = params.wavelength_m, g["rcs_m2"]
    dt2, dr2 = d_bs_t ** 2, d_t_ue ** 2
    denominator = (4.0 * np.pi) ** 3 * dt2[..., :, None]  # the radar equation of physics.radar, op for op
    echo = g["bs"] * g["bs"] * lam ** 2 * rcs / (denominator * dt2[..., None, :])    # (S3)
    to_ue = g["bs"] * g["ue"] * lam ** 2 * rcs / (denominator * dr2[..., None, :])   # (S4)
    return echo, to_ue


def instance_at(params: Params, ue: np.ndarray, tgt: np.ndarray, heading: float, f_comm: np.ndarray,
                f_bb: np.ndarray, comm_pg: np.ndarray) -> Instance:
    """The Instance of a state, given the episode's cached comm path gain (S1 without fading)."""
    echo, to_ue = target_gains(params, tgt, ue)
    return Instance(
        bs_positions_m=params.bs_positions_m, bs_boresight_rad=params.bs_boresight_rad,
        ue_positions_m=ue, target_position_m=tgt, target_heading_rad=float(heading),
        comm_fading=f_comm, bs_bs_fading=f_bb,
        comm_gain=comm_pg * f_comm,                    # (S1)
        bs_bs_gain=params.bs_bs_path_gain * f_bb,      # (S2)
        echo_gain=echo, target_ue_gain=to_ue,          # (S3), (S4)
        si_gain=params.si_gain,                        # (S5)
    )


def instance_from_state(params: Params, ue_positions_m, target_position_m, target_heading_rad,
                        comm_fading, bs_bs_fading) -> Instance:
    """Deterministic: layout from params, gains (S1)-(S5) from positions and fading samples."""
    ue = np.array(ue_positions_m, dtype=np.float64).reshape(NUM_BS, 3)
    tgt = np.array(target_position_m, dtype=np.float64).reshape(3)
    f_comm = np.array(comm_fading, dtype=np.float64).reshape(NUM_BS, NUM_BS)
    f_bb = np.array(bs_bs_fading, dtype=np.float64).reshape(NUM_BS, NUM_BS)
    np.fill_diagonal(f_bb, 0.0)
    return instance_at(params, ue, tgt, target_heading_rad, f_comm, f_bb, comm_path_gain(params, ue))


# ============================================================================ sampling
_TWO_PI = 2.0 * np.pi


def rician_power(los_amplitude: float, nlos_scale: float, phase: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """|g|^2 of g = sqrt(K/(K+1)) e^{j phase} + sqrt(1/(K+1)) (re + j im)/sqrt(2); normals[..., 0/1, :, :] = re/im.

    The formula of ``physics.channels.rician_power_samples`` without complex arithmetic; batched.
    """
    re, im = normals[..., 0, :, :], normals[..., 1, :, :]
    return (los_amplitude * np.cos(phase) + nlos_scale * re) ** 2 + (los_amplitude * np.sin(phase) + nlos_scale * im) ** 2


def draw_fading(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw steps 5-6 of spec Sec. 3: phases (2, 3, 3) and normals (2, 2, 3, 3), [comm / BS-BS][re / im].

    ``2 pi rng.random`` is bit-identical to ``rng.uniform(0, 2 pi)``; one ``standard_normal`` call for re
    and im equals two consecutive calls.
    """
    phase, normals = np.empty((2, NUM_BS, NUM_BS)), np.empty((2, 2, NUM_BS, NUM_BS))
    for link in range(2):  # comm, then BS-BS: phase, re, im each
        rng.random(out=phase[link])
        rng.standard_normal(out=normals[link])
    phase *= _TWO_PI
    return phase, normals


def fading_from_draws(params: Params, phase: np.ndarray, normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Comm fading (..., 3, 3) and reciprocal BS-BS fading (upper triangle mirrored, zero diagonal)."""
    k = params.gain_constants["rician_k"]
    los, nlos = math.sqrt(k / (k + 1.0)), math.sqrt(1.0 / (2.0 * (k + 1.0)))
    power = rician_power(los, nlos, phase, normals)  # (..., 2, 3, 3)
    upper = power[..., 1, :, :] * _UPPER
    return power[..., 0, :, :], upper + np.swapaxes(upper, -1, -2)


def _sample_fading(params: Params, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw steps 5-6: comm fading (3, 3), then reciprocal BS-BS fading (upper triangle mirrored)."""
    return fading_from_draws(params, *draw_fading(rng))


def _sample_ues_m(params: Params, rng: np.random.Generator) -> np.ndarray:
    """Draw steps 1-2: area-uniform UEs in the 120 deg disc-sector of radius R_c in front of each BS."""
    r = np.sqrt(rng.uniform(params.min_ue_distance_m ** 2, params.comm_radius_m ** 2, size=NUM_BS))
    half = np.deg2rad(params.sector_width_deg) / 2.0
    phi = params.bs_boresight_rad + rng.uniform(-half, half, size=NUM_BS)
    xy = params.bs_positions_m[:, :2] + r[:, None] * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    return np.column_stack([xy, np.full(NUM_BS, params.ue_height_m)])


def _sample_target_xy_m(params: Params, rng: np.random.Generator) -> np.ndarray:
    """Draw step 3: uniform in the hexagon by rejection from its bounding box."""
    a, r = params.apothem_m, params.hex_radius_m
    while True:
        xy = rng.uniform([-a, -r], [a, r])
        x, y = float(xy[0]), float(xy[1])
        if all(abs(nx * x + ny * y) <= a for nx, ny in _HEX_NORMALS_LIST):  # xy in H
            return xy


def draw_episode_start(params: Params, rng: np.random.Generator):
    """Draw steps 1-6 of spec Sec. 3: (ue (3, 3), target (3,), heading, fading phases, fading normals)."""
    ue = _sample_ues_m(params, rng)
    xy = _sample_target_xy_m(params, rng)
    heading = rng.uniform(0.0, 2.0 * np.pi)
    phase, normals = draw_fading(rng)
    return ue, np.append(xy, params.target_height_m), heading, phase, normals


def sample_instance(params: Params, rng: np.random.Generator) -> Instance:
    """A fresh snapshot with the normative draw order of spec Sec. 3."""
    ue, tgt, heading, phase, normals = draw_episode_start(params, rng)
    comm, bb = fading_from_draws(params, phase, normals)
    return instance_at(params, ue, tgt, heading, comm, bb, comm_path_gain(params, ue))


def reflect_in_hexagon(xy_m: np.ndarray, velocity: np.ndarray, apothem_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Mirror position and velocity at the hexagon edges (two passes over the 3 edge pairs)."""
    (x, y), (vx, vy) = xy_m.tolist(), velocity.tolist()
    for _ in range(2):
        for nx, ny in _HEX_NORMALS_LIST:  # 3 edge pairs: a fixed, tiny loop on scalars
            s = nx * x + ny * y
            if abs(s) > apothem_m:
                shift = 2.0 * (s - math.copysign(apothem_m, s))
                x, y = x - shift * nx, y - shift * ny
                vn = 2.0 * (vx * nx + vy * ny)
                vx, vy = vx - vn * nx, vy - vn * ny
    return np.array([x, y]), np.array([vx, vy])


def reflect_in_hexagon_batch(xy_m: np.ndarray, velocity: np.ndarray, apothem_m: float):
    """:func:`reflect_in_hexagon` over a leading batch axis, (B, 2) each; the same operations, bit for bit."""
    x, y, vx, vy = xy_m[:, 0], xy_m[:, 1], velocity[:, 0], velocity[:, 1]
    for _ in range(2):
        for nx, ny in _HEX_NORMALS_LIST:
            s = nx * x + ny * y
            hit = np.abs(s) > apothem_m
            if not hit.any():
                continue
            shift = np.where(hit, 2.0 * (s - np.copysign(apothem_m, s)), 0.0)
            x, y = np.where(hit, x - shift * nx, x), np.where(hit, y - shift * ny, y)
            vn = 2.0 * (vx * nx + vy * ny)
            vx, vy = np.where(hit, vx - vn * nx, vx), np.where(hit, vy - vn * ny, vy)
    return np.stack([x, y], axis=1), np.stack([vx, vy], axis=1)


def move_target_batch(params: Params, xy_m: np.ndarray, heading_rad: np.ndarray, heading_noise: np.ndarray):
    """Advance steps 1-2 of spec Sec. 3 for a batch: random-walk heading, move at v, bounce. (B, 2), (B,), (B,)."""
    heading = heading_rad + math.radians(params.target_heading_std_deg) * heading_noise
    v = np.stack([np.cos(heading), np.sin(heading)], axis=1)
    xy, v = reflect_in_hexagon_batch(xy_m + params.target_speed_mps * params.slot_duration_s * v, v,
                                     params.apothem_m)
    return xy, np.arctan2(v[:, 1], v[:, 0]) % _TWO_PI


def advance_instance(params: Params, instance: Instance, rng: np.random.Generator,
                     comm_path_gain_cache: np.ndarray | None = None) -> Instance:
    """One slot: random-walk heading, move at v, bounce off the hexagon, fresh fading (spec Sec. 3).

    ``comm_path_gain_cache``: the episode's :func:`comm_path_gain` of the (fixed) UEs, to skip recomputing it.
    """
    heading = instance.target_heading_rad + math.radians(params.target_heading_std_deg) * rng.standard_normal()
    v = np.array([math.cos(heading), math.sin(heading)])
    xy = instance.target_position_m[:2] + params.target_speed_mps * params.slot_duration_s * v
    xy, v = reflect_in_hexagon(xy, v, params.apothem_m)
    heading = math.atan2(float(v[1]), float(v[0])) % (2.0 * math.pi)
    comm, bb = _sample_fading(params, rng)
    ue = instance.ue_positions_m
    pg = comm_path_gain(params, ue) if comm_path_gain_cache is None else comm_path_gain_cache
    return instance_at(params, ue, np.append(xy, params.target_height_m), heading, comm, bb, pg)


# ============================================================================ v1 random stream
#: v1 draws each env's randomness in blocks (two generator calls per episode start, one more per
#: V1_BLOCK_SLOTS slots), so that a batch of envs needs no per-step generator calls. The distributions
#: are those of spec Sec. 3; only the order of the draws differs (v0 keeps the spec's order).
V1_SLOT_NORMALS = 74      # per slot: heading pair (2) | comm phase pairs (18) | comm re, im (18) | BS-BS: same (36)
V1_BLOCK_SLOTS = 16       # slots per standard_normal call
V1_TARGET_CANDIDATES = 16  # target positions drawn at once (each inside the hexagon w.p. 3/4)
V1_START_UNIFORMS = 2 * NUM_BS + 2 * V1_TARGET_CANDIDATES


def _v1_fading_index() -> np.ndarray:
    """Positions in a slot's 74 normals of (x, y, re, im), each [link, b, j]: link 0 comm (2..37), 1 BS-BS (38..73)."""
    link = 2 + 36 * np.arange(2)[:, None, None]
    entry = np.arange(NUM_BS * NUM_BS).reshape(NUM_BS, NUM_BS)[None]
    return np.stack([link + 2 * entry, link + 2 * entry + 1, link + 18 + entry, link + 27 + entry])


_V1_FADING_INDEX = _v1_fading_index()  # (4, 2, 3, 3)


def v1_block_rows(params: Params, first_row: int) -> int:
    """Rows of the normal block drawn at slot row ``first_row`` (a multiple of V1_BLOCK_SLOTS): rows
    0..T are used (row 0 at reset, row t by the t-th advance)."""
    return min(params.episode_length + 1 - first_row, V1_BLOCK_SLOTS)


def v1_draw_start(params: Params, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """An episode start's draws: uniforms (V1_START_UNIFORMS,) and the first normal block (rows, 74)."""
    return rng.random(V1_START_UNIFORMS), rng.standard_normal((v1_block_rows(params, 0), V1_SLOT_NORMALS))


def v1_target_candidates_m(params: Params, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first of the candidate target positions (uniform in the hexagon's bounding box) that lies in
    the hexagon, batched: u (..., 2 K) -> (xy (..., 2), found (...))."""
    a, r = params.apothem_m, params.hex_radius_m
    xy = np.stack([-a + 2.0 * a * u[..., 0::2], -r + 2.0 * r * u[..., 1::2]], axis=-1)  # (..., K, 2)
    inside = np.ones(xy.shape[:-1], dtype=bool)
    for nx, ny in _HEX_NORMALS_LIST:
        inside &= np.abs(nx * xy[..., 0] + ny * xy[..., 1]) <= a
    first = inside.argmax(axis=-1)
    return np.take_along_axis(xy, first[..., None, None], axis=-2)[..., 0, :], inside.any(axis=-1)


def v1_target_fallback_m(params: Params, rng: np.random.Generator) -> np.ndarray:
    """Further candidate blocks when none of the first V1_TARGET_CANDIDATES was inside (p = 4^-16)."""
    while True:
        xy, found = v1_target_candidates_m(params, rng.random(2 * V1_TARGET_CANDIDATES))
        if found:
            return xy


def v1_ues_m(params: Params, u: np.ndarray) -> np.ndarray:
    """Steps 1-2 of spec Sec. 3 from uniforms u (..., 6): area-uniform UEs in each BS's disc-sector."""
    r2_lo, r2_hi = params.min_ue_distance_m ** 2, params.comm_radius_m ** 2
    r = np.sqrt(r2_lo + (r2_hi - r2_lo) * u[..., 0:3])
    half = math.radians(params.sector_width_deg) / 2.0
    phi = params.bs_boresight_rad + (-half + 2.0 * half * u[..., 3:6])
    ue = np.empty((*u.shape[:-1], NUM_BS, 3))
    ue[..., 0] = params.bs_positions_m[:, 0] + r * np.cos(phi)
    ue[..., 1] = params.bs_positions_m[:, 1] + r * np.sin(phi)
    ue[..., 2] = params.ue_height_m
    return ue


def v1_fading(params: Params, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Comm and reciprocal BS-BS Rician power fading (..., 3, 3) from a slot's normals z (..., 74).

    The LoS phase of each link is the angle of a pair of normals (uniform): cos = x / |(x, y)|.
    """
    k = params.gain_constants["rician_k"]
    los, nlos = math.sqrt(k / (k + 1.0)), math.sqrt(1.0 / (2.0 * (k + 1.0)))
    parts = z[..., _V1_FADING_INDEX]  # one gather: (..., 4, 2, 3, 3) = (x, y, re, im) x [comm / BS-BS]
    x, y, re, im = (parts[..., k, :, :, :] for k in range(4))
    norm = np.sqrt(x ** 2 + y ** 2)
    power = (los * x / norm + nlos * re) ** 2 + (los * y / norm + nlos * im) ** 2  # (..., 2, 3, 3)
    upper = power[..., 1, :, :] * _UPPER
    return power[..., 0, :, :], upper + np.swapaxes(upper, -1, -2)


def v1_sample_instance(params: Params, u: np.ndarray, block: np.ndarray, rng: np.random.Generator) -> Instance:
    """The v1 episode start from :func:`v1_draw_start`'s draws (``rng`` only for the rare target fallback)."""
    xy, found = v1_target_candidates_m(params, u[2 * NUM_BS:])
    if not found:
        xy = v1_target_fallback_m(params, rng)
    ue = v1_ues_m(params, u[:2 * NUM_BS])
    comm, bb = v1_fading(params, block[0])
    return instance_at(params, ue, np.append(xy, params.target_height_m), float(v1_initial_heading(block[0])),
                       comm, bb, comm_path_gain(params, ue))


def v1_advance_instance(params: Params, instance: Instance, z: np.ndarray, comm_path_gain_cache: np.ndarray) -> Instance:
    """One v1 slot from the slot's normals z (74,): spec Sec. 3 advance with heading noise z[0]."""
    heading = instance.target_heading_rad + math.radians(params.target_heading_std_deg) * float(z[0])
    v = np.array([math.cos(heading), math.sin(heading)])
    xy = instance.target_position_m[:2] + params.target_speed_mps * params.slot_duration_s * v
    xy, v = reflect_in_hexagon(xy, v, params.apothem_m)
    heading = math.atan2(float(v[1]), float(v[0])) % (2.0 * math.pi)
    comm, bb = v1_fading(params, z)
    return instance_at(params, instance.ue_positions_m, np.append(xy, params.target_height_m), heading, comm, bb,
                       comm_path_gain_cache)


def v1_initial_heading(z: np.ndarray) -> np.ndarray:
    """Step 4 of spec Sec. 3: uniform heading in [0, 2 pi), the angle of the slot's first normal pair."""
    return np.arctan2(z[..., 1], z[..., 0]) % _TWO_PI


# ============================================================================ SINRs and range STD
def effective_comm_gain(instance: Instance) -> np.ndarray:
    """(S6) G^c_bj = |h_bj|^2 + |alpha_bj|^2 (direct + target-reflected path)."""
    return instance.comm_gain + instance.target_ue_gain


def comm_sinr(power_w: np.ndarray, comm_gain_eff: np.ndarray, noise_power_w: float) -> np.ndarray:
    """(S7) SINR^c_j = p_j G_jj / (sum_{b != j} p_b G_bj + sigma^2); batched over leading axes."""
    rx = power_w[..., :, None] * comm_gain_eff          # [..., b, j] received power
    signal = np.diagonal(rx, axis1=-2, axis2=-1)
    return signal / (rx.sum(axis=-2) - signal + noise_power_w)


def _vec_mat(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """sum_b' p_b' m_b'b: p (..., 3) times m (..., 3, 3)."""
    if p.ndim == 1 and m.ndim == 2:
        return p @ m
    return np.matmul(p[..., None, :], m)[..., 0, :]


def sensing_sinr(power_w: np.ndarray, instance: Instance, noise_power_w: float) -> np.ndarray:
    """(S8) SINR^s_b = p_b |a_bb|^2 / (sum_{b'!=b} p_b'(|a_b'b|^2 + |h_b'b|^2) + p_b |beta_b|^2 + sigma^2)."""
    echo = power_w * np.diagonal(instance.echo_gain)
    cross = power_w @ (instance.echo_gain + instance.bs_bs_gain) - echo  # bs_bs diagonal is 0
    return echo / (cross + power_w * instance.si_gain + noise_power_w)


def range_std_m(effective_snr: np.ndarray, range_resolution_m: float, cap_m: float) -> np.ndarray:
    """(S10) Curry: sigma_R = min(Delta R / sqrt(2 Gamma), cap); cap where Gamma = 0."""
    safe = np.maximum(effective_snr, 1e-300)
    return np.where(effective_snr > 0, np.minimum(range_resolution_m / np.sqrt(2.0 * safe), cap_m), cap_m)


def _db(x) -> np.ndarray:
    """10 log10(x), floored at -300 dB (zero quantities)."""
    return 10.0 * np.log10(np.maximum(x, _DB_FLOOR_LIN))


# ============================================================================ evaluate
def _check_power(decision: Decision) -> np.ndarray:
    p = np.asarray(decision.tx_power_w, dtype=np.float64)
    if p.shape != (NUM_BS,):
        raise ValueError(f"Decision.tx_power_w must have shape ({NUM_BS},), got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError(f"Decision.tx_power_w must be finite, got {p.tolist()}")
    return p


def slot_terms(params: Params, comm_gain_eff, echo_gain, bs_bs_gain, si_gain, power_w):
    """(S7)-(S10) at powers p >= 0, batched over leading axes: the pieces of every score and metric.

    Returns (SINR^c (..., 3), echo_w, bistatic_w, bs_w, si_w, Gamma, sigma_R), the powers in W.
    """
    noise = params.noise_power_w
    sinr_c = comm_sinr(power_w, comm_gain_eff, noise)                                # (S7)
    echo_w = power_w * np.diagonal(echo_gain, axis1=-2, axis2=-1)
    bistatic_w = _vec_mat(power_w, echo_gain) - echo_w
    bs_w = _vec_mat(power_w, bs_bs_gain)
    si_w = power_w * si_gain
    gamma = params.processing_gain * echo_w / (bistatic_w + bs_w + si_w + noise)     # (S8)-(S9)
    std = range_std_m(gamma, params.range_resolution_m, params.range_std_cap_m)      # (S10)
    return sinr_c, echo_w, bistatic_w, bs_w, si_w, gamma, std


def constraint_violations(params: Params, sinr_c: np.ndarray, power_raw_w: np.ndarray):
    """(C1) sum_j max(0, 1 - SINR^c_j / gamma) and (C2) the relative power-box excess, over the last axis."""
    c1 = np.maximum(0.0, 1.0 - sinr_c / params.comm_threshold_lin).sum(axis=-1)
    c2 = (np.maximum(0.0, power_raw_w - params.max_power_w) + np.maximum(0.0, -power_raw_w)).sum(axis=-1) \
        / params.max_power_w
    return c1, c2


def evaluate(params: Params, instance: Instance, decision: Decision) -> Evaluation:
    """Objective J = -max_b sigma_R,b (S11), violations of (C1)/(C2), and every metric of spec Sec. 5."""
    return evaluate_power(params, instance, _check_power(decision))


def evaluate_power(params: Params, instance: Instance, power_w: np.ndarray) -> Evaluation:
    """:func:`evaluate` of a power vector already known to be a finite (3,) float64 array (no re-validation:
    the env's own decoder produced it)."""
    p = np.maximum(power_w, 0.0)
    sinr_c, echo_w, bistatic_w, bs_w, si_w, gamma, std = slot_terms(
        params, effective_comm_gain(instance), instance.echo_gain, instance.bs_bs_gain, instance.si_gain, p)
    std_max = float(std.max())
    c1, c2 = constraint_violations(params, sinr_c, power_w)
    c1, c2 = float(c1), float(c2)
    return Evaluation(
        objective=-std_max,                                                           # (S11)
        metrics=_metrics(std, std_max, gamma, sinr_c, p, echo_w, bs_w, bistatic_w, si_w),
        violations={"c1_comm_sinr": c1, "c2_power_box": c2},
        feasible=(c1 <= FEASIBILITY_TOL) and (c2 <= FEASIBILITY_TOL),
    )


def slot_scores_batch(params: Params, comm_gain_eff, echo_gain, bs_bs_gain, power_w):
    """Objective, reward, feasibility, C1 and C2 violations of a batch of slots, (B,) each (:func:`evaluate`
    and the env's reward rule without the metrics dict), plus sigma_R,b and SINR^c_j, (B, 3) each."""
    p = np.maximum(power_w, 0.0)
    sinr_c, *_, std = slot_terms(params, comm_gain_eff, echo_gain, bs_bs_gain, params.si_gain, p)
    objective = -std.max(axis=-1)
    c1, c2 = constraint_violations(params, sinr_c, power_w)
    reward = objective - params.penalty * (c1 + c2)
    return objective, reward, (c1 <= FEASIBILITY_TOL) & (c2 <= FEASIBILITY_TOL), c1, c2, std, sinr_c


_METRIC_GROUPS = ("range_std_m", "sensing_sinr_eff_db", "comm_sinr_db", "tx_power_dbm", "echo_power_dbm",
                  "sensing_int_bs_dbm", "sensing_int_bistatic_dbm", "sensing_int_si_dbm")
_METRIC_KEYS = [f"{g}_{b}" for g in _METRIC_GROUPS for b in range(NUM_BS)]


def _metrics(std, std_max, gamma, sinr_c, p, echo_w, bs_w, bistatic_w, si_w) -> dict[str, float]:
    """The metric table of spec Sec. 5 (one vectorised dB conversion, then plain floats)."""
    lin = np.concatenate([gamma, sinr_c, p, echo_w, bs_w, bistatic_w, si_w])
    lin[6:] *= 1e3  # W -> mW for the dBm values
    values = np.concatenate([std, _db(lin), [np.log2(1.0 + sinr_c).sum()]]).tolist()
    out = dict(zip(_METRIC_KEYS, values))
    out["range_std_max_m"] = std_max
    out["range_std_mean_m"] = sum(values[0:3]) / 3.0
    out["sensing_sinr_eff_min_db"] = min(values[3:6])
    out["comm_sinr_min_db"] = min(values[6:9])
    out["total_power_w"] = sum(p.tolist())
    out["comm_rate_sum_bps_hz"] = values[-1]
    return out


# ============================================================================ normalised gains (shared with solvers)
def normalised_gains(params: Params, instance: Instance) -> NormalisedGains:
    """Gains in units of noise at full power (spec Sec. 8): A, C, S, H, g."""
    k = params.snr_scale
    echo = k * np.diagonal(instance.echo_gain).copy()
    cross = k * (instance.echo_gain + instance.bs_bs_gain)
    np.fill_diagonal(cross, 0.0)
    comm = k * effective_comm_gain(instance)
    return NormalisedGains(echo=echo, cross=cross, si=k * instance.si_gain, comm=comm,
                           comm_direct=np.diagonal(comm).copy())


# ============================================================================ action codec
def decode_power_w(action: np.ndarray, params: Params) -> np.ndarray:
    """a in [-1, 1] -> p_b = P_max 10^(-D (1 - a_b) / 20) (dB-scaled, C2 by construction)."""
    a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
    return params.max_power_w * np.power(10.0, -params.power_dynamic_range_db * (1.0 - a) / 20.0)


def encode_power(power_w: np.ndarray, params: Params) -> np.ndarray:
    """Inverse of decode: a_b = clip(1 + 20 log10(p_b / P_max) / D, -1, 1); p_b <= 0 -> -1; float32."""
    p = np.asarray(power_w, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 1.0 + 20.0 * np.log10(np.where(p > 0, p, np.nan) / params.max_power_w) / params.power_dynamic_range_db
    return np.clip(np.nan_to_num(a, nan=-1.0), -1.0, 1.0).astype(np.float32)


# ============================================================================ observations (spec Sec. 6-7)
def _snr_db(norm_gain: np.ndarray) -> np.ndarray:
    """dB(x) = 10 log10(max(P_max x / sigma^2, 1e-30)) of an already normalised gain k x."""
    return 10.0 * np.log10(np.maximum(norm_gain, _DB_FLOOR_LIN))


_GAIN_OFFSET_DB = np.array([30.0] * 9 + [0.0] * 3 + [30.0] * 9 + [30.0] * 3)  # obs fields 0-23: dB offsets
_INR_DIAGONAL = np.array([12, 16, 20])  # sensing_inr[b, b] in the team observation


def gain_fields_arrays(params: Params, comm_gain_eff, echo_gain, bs_bs_gain, out=None) -> np.ndarray:
    """Team-observation fields 0-23 (comm_snr, echo_snr, sensing_inr, si_inr), float64, batched (..., 24)."""
    lead = comm_gain_eff.shape[:-2]
    gains = np.empty((*lead, 24)) if out is None else out
    gains[..., 0:9] = comm_gain_eff.reshape(*lead, 9)
    gains[..., 9:12] = np.diagonal(echo_gain, axis1=-2, axis2=-1)
    gains[..., 12:21] = (echo_gain + bs_bs_gain).reshape(*lead, 9)
    gains[..., 21:24] = params.si_gain
    gains *= params.snr_scale
    np.maximum(gains, _DB_FLOOR_LIN, out=gains)
    np.log10(gains, out=gains)
    gains *= 10.0  # dB(x) = 10 log10(max(P_max x / sigma^2, 1e-30))
    gains -= _GAIN_OFFSET_DB
    gains /= 20.0
    gains[..., _INR_DIAGONAL] = 0.0
    return gains


def gain_fields(params: Params, instance: Instance) -> np.ndarray:
    """Team-observation fields 0-23 of one instance, float64."""
    return gain_fields_arrays(params, effective_comm_gain(instance), instance.echo_gain, instance.bs_bs_gain)


def observation_arrays(params: Params, comm_gain_eff, echo_gain, bs_bs_gain, target_xy_m, ue_xy_m, slot):
    """The 34-dim team observation of spec Sec. 6, batched over leading axes: (..., 34) float32.

    ``ue_xy_m`` (..., 3, 2), ``target_xy_m`` (..., 2), ``slot`` scalar or (...,).
    """
    lead = comm_gain_eff.shape[:-2]
    r = params.hex_radius_m
    obs = np.empty((*lead, OBS_DIM))
    gain_fields_arrays(params, comm_gain_eff, echo_gain, bs_bs_gain, out=obs[..., 0:24])
    obs[..., 24] = params.comm_sinr_threshold_db / 10.0
    obs[..., 25:27] = target_xy_m / r
    obs[..., 27:33] = (ue_xy_m / r).reshape(*lead, 6)
    obs[..., 33] = np.asarray(slot, dtype=np.float64) / params.episode_length
    return np.clip(obs, -OBS_BOUND, OBS_BOUND, out=obs).astype(np.float32)


def observation(params: Params, instance: Instance, slot: int) -> np.ndarray:
    """The 34-dim team observation of spec Sec. 6, clipped to [-10, 10], float32."""
    return observation_arrays(params, effective_comm_gain(instance), instance.echo_gain, instance.bs_bs_gain,
                              instance.target_position_m[:2], instance.ue_positions_m[:, :2], slot)


def local_observation(params: Params, instance: Instance, slot: int, previous: np.ndarray) -> np.ndarray:
    """The (3, 25) per-BS local observations of spec Sec. 7; ``previous`` is (3, 4): fields 20-23."""
    g = gain_fields(params, instance)
    cs, inr = g[0:9].reshape(NUM_BS, NUM_BS), g[12:21].reshape(NUM_BS, NUM_BS)
    obs = np.concatenate([
        cs.T, cs, g[9:12, None], inr.T, inr, g[21:24, None],
        np.full((NUM_BS, 1), params.comm_sinr_threshold_db / 10.0),
        instance.ue_positions_m[:, :2] / params.hex_radius_m, np.eye(NUM_BS),
        previous, np.full((NUM_BS, 1), slot / params.episode_length),
    ], axis=1)
    return np.clip(obs, -OBS_BOUND, OBS_BOUND).astype(np.float32)


def local_feedback_arrays(params: Params, range_std_m, comm_sinr_db, action) -> np.ndarray:
    """Fields 20-23 of every BS's local observation after a slot, batched: (..., 3, 4) from (..., 3) inputs.

    [log10 sigma_R,b, (SINR^c_b,dB - gamma_dB) / 10 clipped, log10 max_b' sigma_R,b', own action].
    """
    std = np.asarray(range_std_m, dtype=np.float64)
    out = np.empty((*std.shape, 4))
    out[..., 0] = np.log10(std)
    out[..., 1] = np.clip((np.asarray(comm_sinr_db) - params.comm_sinr_threshold_db) / 10.0, -OBS_BOUND, OBS_BOUND)
    out[..., 2] = np.log10(std.max(axis=-1))[..., None]
    out[..., 3] = action
    return out


def local_feedback(evaluation: Evaluation, params: Params, action: np.ndarray) -> np.ndarray:
    """Fields 20-23 of every BS's local observation after a slot: (3, 4)."""
    m = evaluation.metrics
    std = np.array([m[f"range_std_m_{b}"] for b in range(NUM_BS)])
    sinr_db = np.array([m[f"comm_sinr_db_{b}"] for b in range(NUM_BS)])
    return local_feedback_arrays(params, std, sinr_db, np.asarray(action, float))
