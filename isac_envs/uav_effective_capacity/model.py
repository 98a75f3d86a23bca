"""Statistical-QoS UAV ISAC over Rician fading: the model (spec ``uav_effective_capacity.md``).

A UAV at height H with a vertical M-element ULA serves K single-antenna users over Rician
fading with per-block beamformers w_k and a sensing covariance R_s, and illuminates one
ground target (beam-pattern gain >= Gamma). Objective: the weighted sum effective capacity
(EC) over the instance's L stored fading samples (common random numbers, deterministic).

Pure functions, no Gymnasium. Everything the env decoder and the solvers share lives here
(``split_power`` (S22), the channel and SINR helpers, the decoder (S20)-(S21b), the encoder).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from isac_envs.core import (
    FEASIBILITY_TOL,
    Evaluation,
    ParamsBase,
    check_action,
    require_in_range,
    require_int,
)
from isac_envs.physics.effective_capacity import effective_capacity_bps_hz
from isac_envs.physics.ula import rician_miso_channel, ula_steering_vector

LN2 = math.log(2.0)
UAV_START_MODES = ("random", "center", "target")

#: Documented bounds of every Params field (docs "Parameters"): sizes are capped so that every
#: per-instance / per-decision array stays small enough to hold in memory, continuous fields to
#: physically meaningful ranges so that every accepted value gives finite observations and rewards.
SIZE_BOUNDS = {"num_users": (1, 64), "num_antennas": (1, 256), "num_samples": (1, 100_000),
               "num_slots": (1, 100_000)}
#: num_samples * num_antennas * max(num_users, num_antennas) (the (L, M, M) / (L, K, M) arrays)
MAX_BLOCK_ELEMENTS = 20_000_000
#: field -> (low, high, low_open); high is always inclusive
FLOAT_BOUNDS = {
    "uav_height": (1.0, 1e4, False),  # m
    "antenna_spacing": (0.0, 10.0, True),  # wavelengths
    "ref_gain": (1e-20, 1.0, False),  # linear, -200 dB .. 0 dB
    "noise_power": (1e-20, 1.0, False),  # W, -170 dBm .. 30 dBm
    "p_max": (1e-6, 1e4, False),  # W, -30 dBm .. 70 dBm
    "rician_factor": (0.0, 1e4, False),
    "sensing_threshold": (0.0, 1e3, False),  # W/m^2
    "position_jitter": (0.0, 1e5, False),  # m
    "user_speed": (0.0, 1e3, False),  # m/s
    "slot_duration": (0.0, 1e4, True),  # s
    "penalty": (0.0, 1e6, False),  # bit/s/Hz per unit violation
    "action_share_temperature": (0.0, 100.0, True),
    "action_reg_decades": (0.0, 10.0, False),
}
THETA_RANGE = (1e-6, 100.0)  # 1/(bit/Hz)
#: link budget at 1 m, p_max * ref_gain / noise_power (paper: 1e10 = 100 dB); above ~1e14 the
#: regularised inverses of the decoders and solvers lose the identity term in float64
MAX_REF_SNR = 1e14
#: numerical guard on regularisation weights (the zero-forcing limit is reached long before)
MAX_REGULARISATION = 1e14
MAX_COORD_M = 1e6


# =========================================================================== Params
@dataclass(frozen=True)
class Params(ParamsBase):
    """Every constant of the system (SI units; defaults = the paper's Sec. IV setting, spec Sec. 2)."""

    num_users: int = 4
    num_antennas: int = 8
    uav_height: float = 30.0
    antenna_spacing: float = 0.5
    ref_gain: float = 0.01
    noise_power: float = 1e-11
    p_max: float = 10.0
    rician_factor: float = 2.0
    qos_exponent: Any = 1.0
    user_weights: tuple = (1.0, 1.0, 1.0, 1.0)
    sensing_threshold: float = 3e-3
    user_positions: tuple = ((280.0, 200.0), (300.0, 200.0), (320.0, 200.0), (340.0, 200.0))
    target_position: tuple = (10.0, 100.0)
    region_x: tuple = (0.0, 100.0)
    region_y: tuple = (0.0, 200.0)
    num_samples: int = 1000
    position_jitter: float = 0.0
    user_speed: float = 0.0
    num_slots: int = 20
    slot_duration: float = 1.0
    uav_speed_max: float = 15.0
    uav_start: str = "random"
    penalty: float = 50.0
    action_share_temperature: float = 3.0
    action_reg_decades: float = 3.0
    action_lean_max: float = 0.95

    def __post_init__(self) -> None:
        # YAML gives lists: store tuples (hashable, immutable)
        for name in ("user_weights", "user_positions", "target_position", "region_x", "region_y"):
            val = getattr(self, name)
            if isinstance(val, (list, np.ndarray)):
                object.__setattr__(self, name, _to_tuple(val))
        if isinstance(self.qos_exponent, (list, np.ndarray)):
            object.__setattr__(self, "qos_exponent", _to_tuple(self.qos_exponent))
        super().__post_init__()

    def validate(self) -> None:
        """Documented physical ranges (spec Sec. 2, docs "Parameters"); ValueError/TypeError names the field."""
        for name, (lo, hi) in SIZE_BOUNDS.items():
            require_int(name, getattr(self, name), lo)
            if getattr(self, name) > hi:
                raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {getattr(self, name)!r}")
        L, K, M = self.num_samples, self.num_users, self.num_antennas
        if L * M * max(K, M) > MAX_BLOCK_ELEMENTS:
            raise ValueError(f"num_samples * num_antennas * max(num_users, num_antennas) must be <= "
                             f"{MAX_BLOCK_ELEMENTS:.0e} (memory of the per-block arrays), got "
                             f"num_samples={L}, num_users={K}, num_antennas={M}")
        for name, (lo, hi, lo_open) in FLOAT_BOUNDS.items():
            require_in_range(name, getattr(self, name), lo, hi, lo_open=lo_open)
        ref_snr = self.p_max * self.ref_gain / self.noise_power
        if ref_snr > MAX_REF_SNR:
            raise ValueError(f"p_max * ref_gain / noise_power (link budget at 1 m) must be <= {MAX_REF_SNR:.0e}, got "
                             f"{ref_snr:.3g} (p_max={self.p_max!r}, ref_gain={self.ref_gain!r}, "
                             f"noise_power={self.noise_power!r})")
        if not (isinstance(self.uav_speed_max, numbers.Real) and self.uav_speed_max == math.inf):
            require_in_range("uav_speed_max", self.uav_speed_max, 0.0, 1e4, lo_open=True)
        require_in_range("action_lean_max", self.action_lean_max, 0.0, 1.0, hi_open=True)
        if not isinstance(self.uav_start, str) or self.uav_start not in UAV_START_MODES:
            raise ValueError(f"uav_start must be one of {UAV_START_MODES}, got {self.uav_start!r}")
        theta = _real_array("qos_exponent", self.qos_exponent)
        if theta.ndim > 1 or (theta.ndim == 1 and theta.shape[0] != K):
            raise ValueError(f"qos_exponent must be a number or a sequence of num_users = {K} numbers, got {self.qos_exponent!r}")
        if not np.all(np.isfinite(theta)) or np.any(theta < THETA_RANGE[0]) or np.any(theta > THETA_RANGE[1]):
            raise ValueError(f"qos_exponent must be in [{THETA_RANGE[0]}, {THETA_RANGE[1]}] 1/(bit/Hz), "
                             f"got {self.qos_exponent!r}")
        w = _real_array("user_weights", self.user_weights)
        if w.shape != (K,) or not np.all(np.isfinite(w)) or np.any(w <= 0) or np.any(w > 1e6):
            raise ValueError(f"user_weights must be num_users = {K} numbers in (0, 1e6], got {self.user_weights!r}")
        u = _real_array("user_positions", self.user_positions)
        if u.shape != (K, 2) or not np.all(np.isfinite(u)) or np.any(np.abs(u) > MAX_COORD_M):
            raise ValueError(f"user_positions must be num_users = {K} (x, y) pairs with |coordinate| <= {MAX_COORD_M:g} m, "
                             f"got {self.user_positions!r}")
        t = _real_array("target_position", self.target_position)
        if t.shape != (2,) or not np.all(np.isfinite(t)) or np.any(np.abs(t) > MAX_COORD_M):
            raise ValueError(f"target_position must be an (x, y) pair with |coordinate| <= {MAX_COORD_M:g} m, "
                             f"got {self.target_position!r}")
        for name in ("region_x", "region_y"):
            r = _real_array(name, getattr(self, name))
            if (r.shape != (2,) or not np.all(np.isfinite(r)) or np.any(np.abs(r) > MAX_COORD_M)
                    or not r[1] - r[0] >= 1e-3):
                raise ValueError(f"{name} must be a (low, high) pair with high - low >= 1e-3 m and "
                                 f"|bound| <= {MAX_COORD_M:g} m, got {getattr(self, name)!r}")

    # ----------------------------------------------------------------- derived
    @property
    def theta(self) -> np.ndarray:
        """QoS exponent per user, shape (K,)."""
        return np.broadcast_to(np.asarray(self.qos_exponent, float), (self.num_users,)).copy()

    @property
    def weights(self) -> np.ndarray:
        return np.asarray(self.user_weights, float)

    @property
    def lo(self) -> np.ndarray:
        return np.array([self.region_x[0], self.region_y[0]], float)

    @property
    def hi(self) -> np.ndarray:
        return np.array([self.region_x[1], self.region_y[1]], float)


def _to_tuple(x):
    if isinstance(x, (list, tuple, np.ndarray)):
        return tuple(_to_tuple(v) for v in x)
    return x


def _real_array(name: str, value) -> np.ndarray:
    """A float array from a number or a (nested) sequence of real numbers; bool/str/complex rejected."""
    flat = []

    def walk(x):
        if isinstance(x, (list, tuple, np.ndarray)):
            for y in (x.tolist() if isinstance(x, np.ndarray) else x):
                walk(y)
        else:
            flat.append(x)

    walk(value)
    for x in flat:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
            raise TypeError(f"{name} must be a real number or a sequence of real numbers, got {value!r}")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric with a regular shape, got {value!r}") from None


# =========================================================================== Instance / Decision
def _arrays_equal(a, b) -> bool:
    if type(a) is not type(b):
        return NotImplemented
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))


@dataclass(frozen=True, eq=False)
class Instance:
    """One problem snapshot (spec Sec. 3); equality compares the arrays."""

    user_pos: np.ndarray  # (K, 2) m
    target_pos: np.ndarray  # (2,) m
    uav_start: np.ndarray  # (2,) m, UAV position at the start of the current slot
    fading: np.ndarray  # (L, K, M) complex, CN(0, 1) scattered components g_k^l

    __eq__ = _arrays_equal
    __hash__ = None


@dataclass(frozen=True, eq=False)
class Decision:
    """Decision variables (spec Sec. 4); (M, K) / (M, M) arrays are broadcast to every block."""

    uav_pos: np.ndarray  # (2,) m
    beamformers: np.ndarray  # (L, M, K) complex, sqrt(W)
    sensing_cov: np.ndarray  # (L, M, M) complex, W

    __eq__ = _arrays_equal
    __hash__ = None


def sample_instance(params: Params, rng: np.random.Generator) -> Instance:
    """Draw an Instance; draw order: user jitter, target jitter, uav_start, fading re, fading im."""
    J = abs(params.position_jitter)  # -0.0 passes validation as 0 m but would flip uniform's bounds
    K, M, L = params.num_users, params.num_antennas, params.num_samples
    user_pos = np.asarray(params.user_positions, float) + rng.uniform(-J, J, (K, 2))
    target_pos = np.asarray(params.target_position, float) + rng.uniform(-J, J, 2)
    lo, hi = params.lo, params.hi
    if params.uav_start == "random":
        start = lo + rng.uniform(0.0, 1.0, 2) * (hi - lo)
    elif params.uav_start == "center":
        start = (lo + hi) / 2.0
    else:
        start = np.clip(target_pos, lo, hi)
    re = rng.standard_normal((L, K, M))
    im = rng.standard_normal((L, K, M))
    return Instance(user_pos, target_pos, start, (re + 1j * im) / np.sqrt(2.0))


def validate_instance(params: Params, instance) -> None:
    """Raise ValueError unless ``instance`` fits ``params``: shapes (K, 2), (2,), (2,), (L, K, M), all finite."""
    if not isinstance(instance, Instance):
        raise TypeError(f"instance must be a uav_effective_capacity Instance, got {type(instance).__name__}")
    K, M, L = params.num_users, params.num_antennas, params.num_samples
    expected = {"user_pos": (K, 2), "target_pos": (2,), "uav_start": (2,), "fading": (L, K, M)}
    for name, shape in expected.items():
        arr = getattr(instance, name)
        actual = np.shape(arr)
        if actual != shape:
            raise ValueError(f"instance.{name} must have shape {shape} (num_samples={L}, num_users={K}, "
                             f"num_antennas={M}), got {actual}")
        arr = np.asarray(arr)
        if not (np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.bool_)):
            raise ValueError(f"instance.{name} must be numeric, got dtype {arr.dtype}")
        if name != "fading" and np.iscomplexobj(arr):
            raise ValueError(f"instance.{name} must be real, got dtype {arr.dtype}")
        bad = ~np.isfinite(arr)
        if np.any(bad):
            raise ValueError(f"instance.{name} contains {int(bad.sum())} non-finite entries "
                             f"(first at index {tuple(int(i) for i in np.argwhere(bad)[0])})")


def advance_instance(params: Params, instance: Instance, rng: np.random.Generator,
                     uav_pos: np.ndarray | None = None) -> Instance:
    """Between-slot update: uav_start <- uav_pos (if given); users random-walk if user_speed > 0."""
    changes = {}
    if uav_pos is not None:
        changes["uav_start"] = np.asarray(uav_pos, float).copy()
    if params.user_speed > 0:
        psi = rng.uniform(0.0, 2.0 * np.pi, params.num_users)
        step = params.user_speed * params.slot_duration
        changes["user_pos"] = instance.user_pos + step * np.stack([np.cos(psi), np.sin(psi)], axis=1)
    return dataclasses.replace(instance, **changes) if changes else instance


# =========================================================================== geometry / channels
def sq_distance_m2(params: Params, q, points) -> np.ndarray:
    """(S1) d^2 = H^2 + ||q - x||^2 for ground points x (shape (..., 2))."""
    diff = np.asarray(points, float) - np.asarray(q, float)
    return params.uav_height**2 + np.sum(diff**2, axis=-1)


def steering(params: Params, q, points) -> np.ndarray:
    """(S2) vertical-ULA steering vectors toward ground points: cos(eta) = H / d, shape (..., M)."""
    cos_eta = params.uav_height / np.sqrt(sq_distance_m2(params, q, points))
    return ula_steering_vector(cos_eta, params.num_antennas, params.antenna_spacing)


def user_gains(params: Params, instance: Instance, q) -> np.ndarray:
    """Large-scale power gains beta_0 / d_k^2, shape (K,)."""
    return params.ref_gain / sq_distance_m2(params, q, instance.user_pos)


def normalised_channels(params: Params, instance: Instance, q) -> np.ndarray:
    """(S3) without the path gain: sqrt(k/(k+1)) a(q,u_k) + sqrt(1/(k+1)) g_k^l, shape (L, K, M)."""
    a_users = steering(params, q, instance.user_pos)  # (K, M)
    return rician_miso_channel(np.ones(params.num_users), a_users[None], instance.fading, params.rician_factor)


def channels(params: Params, instance: Instance, q) -> np.ndarray:
    """(S3) h_k^l, shape (L, K, M)."""
    return normalised_channels(params, instance, q) * np.sqrt(user_gains(params, instance, q))[None, :, None]


def target_geometry(params: Params, instance: Instance, q) -> tuple[np.ndarray, float]:
    """a_t (M,) and d_t^2 (m^2) at UAV position q."""
    return steering(params, q, instance.target_pos), float(sq_distance_m2(params, q, instance.target_pos))


# =========================================================================== communication
def sinr_from_products(hw: np.ndarray, sensing_interference_w: np.ndarray, noise_power_w: float) -> np.ndarray:
    """(S4) SINR per block and user from hw[l,k,j] = h_k^H w_j and h_k^H R_s h_k, shape (L, K)."""
    p = hw.real**2 + hw.imag**2
    signal = np.diagonal(p, axis1=-2, axis2=-1)
    interference = p.sum(axis=-1) - signal
    return signal / (interference + sensing_interference_w + noise_power_w)


def rank_one_sinr(h: np.ndarray, W: np.ndarray, v: np.ndarray, p_s: np.ndarray, noise_power_w: float,
                  h_conj: np.ndarray | None = None) -> np.ndarray:
    """(S4) with R_s = p_s v v^H: h (L,K,M), W (L,M,K), v (L,M), p_s (L,) -> SINR (L, K)."""
    hc = h.conj() if h_conj is None else h_conj
    hv = (hc @ v[:, :, None])[:, :, 0]
    return sinr_from_products(hc @ W, p_s[:, None] * (hv.real**2 + hv.imag**2), noise_power_w)


def ec_surrogate_per_block(params: Params, sinr: np.ndarray) -> np.ndarray:
    """(S21b) u^l = sum_k alpha_k (1 + sinr)^(-theta_k / ln 2), shape (L,)."""
    return np.sum(params.weights * np.exp(-params.theta / LN2 * np.log1p(sinr)), axis=1)


# =========================================================================== power split (S22)
#: blocks per chunk in ``split_power``: beyond ~500 blocks the (L, M, K) temporaries leave the
#: cache and the step gets ~4x slower per block (issue 12); chunking is bit-identical.
SPLIT_CHUNK = 500


def split_power(V: np.ndarray, v: np.ndarray, a_t: np.ndarray, p_max: float, required_gain):
    """(S22) the paper's normalisation trick, per block.

    V (L, M, K) comm directions, v (L, M) sensing direction, a_t (M,) or per block (L, M),
    required_gain G = Gamma d_t^2 (scalar or (L,)). Returns (W, v, p_s): W = sqrt(P - p_s) V/||V||_F,
    R_s = p_s v v^H with unit v; total power = P exactly and the gain meets G with the least
    sensing power where possible. Processed in chunks of ``SPLIT_CHUNK`` blocks (bit-identical).
    """
    L = V.shape[0]
    if L <= SPLIT_CHUNK:
        return _split_power(V, v, a_t, p_max, required_gain)
    a_t = np.asarray(a_t)
    G = np.asarray(required_gain, float)
    parts = []
    for s in range(0, L, SPLIT_CHUNK):
        sl = slice(s, s + SPLIT_CHUNK)
        parts.append(_split_power(V[sl], v[sl], a_t[sl] if a_t.ndim == 2 else a_t, p_max,
                                  G[sl] if G.ndim == 1 else G))
    return tuple(np.concatenate(x, axis=0) for x in zip(*parts))


def _split_power(V, v, a_t, p_max, required_gain):
    M = a_t.shape[-1]
    a_t = np.asarray(a_t)
    V = V / np.maximum(np.sqrt(np.sum(V.real**2 + V.imag**2, axis=(1, 2))), 1e-300)[:, None, None]
    v = v / np.maximum(np.sqrt(np.sum(v.real**2 + v.imag**2, axis=1)), 1e-300)[:, None]
    if a_t.ndim == 1:
        atV = a_t.conj() @ V
        atv = v @ a_t.conj()
    else:
        atV = np.einsum("lm,lmk->lk", a_t.conj(), V)
        atv = np.einsum("lm,lm->l", v, a_t.conj())
    g_c = np.sum(atV.real**2 + atV.imag**2, axis=1)
    g_s = atv.real**2 + atv.imag**2
    G = required_gain
    comm_ok = p_max * g_c >= G
    own = ~comm_ok & (g_s > g_c) & (p_max * g_s >= G)
    fallback = ~comm_ok & ~own
    if np.any(fallback):
        v = np.where(fallback[:, None], (a_t if a_t.ndim == 2 else a_t[None]) / np.sqrt(M), v)
        g_s = np.where(fallback, float(M), g_s)
    gap = g_s - g_c
    ps = np.divide(G - p_max * g_c, gap, out=np.zeros_like(g_c), where=gap > 0)
    p_s = np.where(comm_ok | (gap <= 0), 0.0, np.minimum(p_max, ps))
    p_s = np.maximum(p_s, 0.0)
    W = np.sqrt(p_max - p_s)[:, None, None] * V
    return W, v, p_s


def rank_one_cov(v: np.ndarray, p_s: np.ndarray) -> np.ndarray:
    """R_s^l = p_s^l v^l v^l^H, shape (L, M, M)."""
    return p_s[:, None, None] * (v[:, :, None] * v[:, None, :].conj())


# =========================================================================== evaluate
def _blocks(x: np.ndarray, L: int, name: str, shape: tuple) -> np.ndarray:
    x = np.asarray(x)
    if x.shape == shape:
        return np.broadcast_to(x, (L,) + shape)
    if x.shape != (L,) + shape:
        raise ValueError(f"decision.{name} must have shape {(L,) + shape} or {shape}, got {x.shape}")
    return x


def _check_decision(params: Params, instance: Instance, decision: Decision):
    if not isinstance(decision, Decision):
        raise TypeError(f"decision must be a Decision, got {type(decision).__name__}")
    L, K, M = instance.fading.shape
    q = np.asarray(decision.uav_pos, float)
    if q.shape != (2,):
        raise ValueError(f"decision.uav_pos must have shape (2,), got {q.shape}")
    W = _blocks(decision.beamformers, L, "beamformers", (M, K))
    R = np.asarray(decision.sensing_cov)
    R = (R + np.conj(np.swapaxes(R, -1, -2))) / 2.0  # symmetrise
    R = _blocks(R, L, "sensing_cov", (M, M))
    for name, arr in (("uav_pos", q), ("beamformers", W), ("sensing_cov", R)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"decision.{name} contains non-finite values")
    return q, W, R


def _min_eigenvalues(R: np.ndarray) -> np.ndarray:
    if R.ndim == 3 and R.strides[0] == 0:  # broadcast statistical design: one decomposition
        return np.full(R.shape[0], np.linalg.eigvalsh(R[0])[0])
    return np.linalg.eigvalsh(R)[..., 0]


def block_terms(params: Params, h: np.ndarray, a_t: np.ndarray, dt2, W: np.ndarray, R: np.ndarray) -> dict:
    """Per-block SINR (S4), beam gain (S8), powers (C2) and min eigenvalue (C4), any leading axes.

    h (..., K, M) channels, a_t (M,) or (..., M), dt2 scalar or (...), W (..., M, K), R (..., M, M).
    ``evaluate`` calls it with the L blocks as the leading axis, the v1 envs with one block per env.
    """
    hc = h.conj()
    sens_interf = np.einsum("...km,...km->...k", hc @ R, h).real
    sinr = np.maximum(sinr_from_products(hc @ W, sens_interf, params.noise_power), 0.0)
    atc = np.asarray(a_t).conj()
    atW = np.einsum("...m,...mk->...k", atc, W)
    atRa = np.einsum("...m,...mn,...n->...", atc, R, atc.conj()).real
    gain = (np.sum(atW.real**2 + atW.imag**2, axis=-1) + atRa) / dt2
    return {"sinr": sinr, "gain": gain, "comm_power": np.sum(W.real**2 + W.imag**2, axis=(-2, -1)),
            "sens_power": np.trace(R, axis1=-2, axis2=-1).real, "min_eig": _min_eigenvalues(R)}


def region_violation(params: Params, q) -> np.ndarray:
    """C3 violation of UAV position(s) q (..., 2), normalised by the region's sides."""
    lo, hi = params.lo, params.hi
    q = np.asarray(q, float)
    return np.sum((np.maximum(0.0, lo - q) + np.maximum(0.0, q - hi)) / (hi - lo), axis=-1)


def aggregate_blocks(params: Params, terms: dict, region: np.ndarray, target_distance_m, user_distance_mean_m,
                     with_metrics: bool = True):
    """Objective (S7), violations and metrics of the blocks in ``terms`` (block axis -2 of sinr, -1 of the rest).

    Any leading (batch) axes; returns (objective (...), violations dict, metrics dict, feasible (...)).
    ``evaluate`` = this over all L blocks; the v1 env scores the blocks played so far with it
    (``with_metrics=False``: only ``ec_user_k`` in the metrics, for the steps before the last).
    """
    sinr, gain = terms["sinr"], terms["gain"]
    rate = np.log2(1.0 + sinr)  # (S5), (..., n, K)
    ec = effective_capacity_bps_hz(rate, params.theta, axis=-2)  # (S6), (..., K)
    objective = np.sum(params.weights * ec, axis=-1)  # (S7)
    comm_power, sens_power = terms["comm_power"], terms["sens_power"]
    total = comm_power + sens_power
    Gam, P = params.sensing_threshold, params.p_max
    zeros = np.zeros(np.shape(objective))
    violations = {
        "sensing": np.mean(np.maximum(0.0, Gam - gain) / Gam, axis=-1) if Gam > 0 else zeros,
        "power": np.mean(np.maximum(0.0, total - P) / P, axis=-1),
        "region": np.asarray(region, float) + zeros,
        "psd": np.mean(np.maximum(0.0, -terms["min_eig"]), axis=-1) / P,
    }
    feasible = np.all([v <= FEASIBILITY_TOL for v in violations.values()], axis=0)
    if not with_metrics:
        return objective, violations, {f"ec_user_{k}": ec[..., k] for k in range(ec.shape[-1])}, feasible
    sinr_db = 10.0 * np.log10(np.maximum(sinr, 1e-30))
    flat_db = sinr_db.reshape(sinr_db.shape[:-2] + (-1,))
    metrics = {"ec_sum": np.sum(ec, axis=-1), "ec_min": np.min(ec, axis=-1)}
    metrics.update({f"ec_user_{k}": ec[..., k] for k in range(ec.shape[-1])})
    metrics.update({
        "ergodic_rate_sum": np.sum(np.mean(rate, axis=-2), axis=-1),
        "sinr_db_mean": np.mean(flat_db, axis=-1),
        "sinr_db_p05": np.percentile(flat_db, 5, axis=-1),
        "beam_gain_min": np.min(gain, axis=-1),
        "beam_gain_ratio_min": np.min(gain, axis=-1) / Gam if Gam > 0 else zeros + math.inf,
        "sensing_power_mean": np.mean(sens_power, axis=-1),
        "comm_power_mean": np.mean(comm_power, axis=-1),
        "total_power_max": np.max(total, axis=-1),
        "target_distance": np.asarray(target_distance_m, float) + zeros,
        "user_distance_mean": np.asarray(user_distance_mean_m, float) + zeros,
    })
    return objective, violations, metrics, feasible


def evaluate(params: Params, instance: Instance, decision: Decision) -> Evaluation:
    """Weighted sum EC (S7), the constraint violations C1-C4 and the metrics of spec Sec. 5."""
    q, W, R = _check_decision(params, instance, decision)
    h = channels(params, instance, q)
    a_t, dt2 = target_geometry(params, instance, q)
    terms = block_terms(params, h, a_t, dt2, W, R)
    user_d = float(np.mean(np.sqrt(sq_distance_m2(params, q, instance.user_pos))))
    obj, viol, mets, feas = aggregate_blocks(params, terms, region_violation(params, q), math.sqrt(dt2), user_d)
    return Evaluation(float(obj), {k: float(v) for k, v in mets.items()},
                      {k: float(v) for k, v in viol.items()}, bool(feas))


def rates_per_block(params: Params, instance: Instance, decision: Decision) -> np.ndarray:
    """(S5) r_k^l of a decision, shape (L, K) (tests and figures; same formulas as evaluate)."""
    q, W, R = _check_decision(params, instance, decision)
    h = channels(params, instance, q)
    hc = h.conj()
    sens_interf = np.einsum("lkm,lkm->lk", hc @ R, h).real
    return np.log2(1.0 + np.maximum(sinr_from_products(hc @ W, sens_interf, params.noise_power), 0.0))


# =========================================================================== action codec
def action_dim(params: Params) -> int:
    return 4 + 2 * params.num_users


def motion(params: Params, q_prev, waypoint) -> np.ndarray:
    """(S20) fly from q_prev toward the waypoint at most v_max * dt, then clip to the region."""
    q_prev = np.asarray(q_prev, float)
    delta = np.asarray(waypoint, float) - q_prev
    step = params.uav_speed_max * params.slot_duration
    dist = float(np.linalg.norm(delta))
    q = q_prev + delta if (math.isinf(step) or dist <= step) else q_prev + delta * (step / dist)
    return np.clip(q, params.lo, params.hi)


def decode_action(params: Params, instance: Instance, action) -> tuple[Decision, np.ndarray]:
    """(S20)-(S22), (S21b): action in [-1, 1]^(4+2K) -> (Decision, waypoint)."""
    K = params.num_users
    a = check_action(action, (action_dim(params),))
    lo, hi = params.lo, params.hi
    waypoint = lo + (a[0:2] + 1.0) / 2.0 * (hi - lo)
    q = motion(params, instance.uav_start, waypoint)
    logits = params.action_share_temperature * a[2:2 + K]
    shares = np.exp(logits - logits.max())
    shares /= shares.sum()
    gains = user_gains(params, instance, q)
    lam = np.minimum(params.p_max * gains / (K * params.noise_power)
                     * 10.0 ** (params.action_reg_decades * a[2 + K:2 + 2 * K]), MAX_REGULARISATION)
    lean = params.action_lean_max * max(0.0, a[2 + 2 * K])
    b = (a[3 + 2 * K] + 1.0) / 2.0
    W, R = structured_design(params, instance, q, shares, lam, lean, b)
    return Decision(q, W, R), waypoint


def structured_design(params: Params, instance: Instance, q, shares, lam, lean: float, b: float):
    """(S21)-(S22) with the per-block lean selection (S21b); returns W (L,M,K), R_s (L,M,M)."""
    ht = normalised_channels(params, instance, q)  # (L, K, M)
    L, K, M = ht.shape
    a_t, dt2 = target_geometry(params, instance, q)
    G = params.sensing_threshold * dt2
    htc = ht.conj()
    cols = np.swapaxes(ht, 1, 2)  # (L, M, K)
    X = (cols * lam) @ htc + np.eye(M)
    rhs = np.concatenate([cols, np.broadcast_to(a_t[None, :, None], (L, M, 1))], axis=2)
    sol = np.linalg.solve(X, rhs)
    U, v = sol[:, :, :K], sol[:, :, K]
    atU = a_t.conj() @ U  # (L, K)
    atv = v @ a_t.conj()  # (L,)
    gain_sqrt = np.sqrt(user_gains(params, instance, q))[None, :, None]
    h, hc = ht * gain_sqrt, htc * gain_sqrt
    lean_dir = v[:, :, None] * (atU / atv[:, None])[:, None, :]
    best_u = best_W = best_v = best_p = None
    for c in (0.0, 0.25, 0.5):
        e = min(params.action_lean_max, lean + c * (1.0 - lean))
        w_hat = U + (e / (1.0 - e)) * lean_dir
        w_hat = w_hat / np.sqrt(np.sum(w_hat.real**2 + w_hat.imag**2, axis=1, keepdims=True))
        eff = np.diagonal(htc @ w_hat, axis1=1, axis2=2)
        s = shares[None, :] * np.maximum(eff.real**2 + eff.imag**2, 1e-30) ** (-b)
        s = s / s.sum(axis=1, keepdims=True)
        W, vv, p_s = split_power(w_hat * np.sqrt(s)[:, None, :], v, a_t, params.p_max, G)
        u = ec_surrogate_per_block(params, rank_one_sinr(h, W, vv, p_s, params.noise_power, h_conj=hc))
        if best_u is None:
            best_u, best_W, best_v, best_p = u, W, vv, p_s
        else:
            better = u < best_u
            best_u = np.where(better, u, best_u)
            best_W = np.where(better[:, None, None], W, best_W)
            best_v = np.where(better[:, None], vv, best_v)
            best_p = np.where(better, p_s, best_p)
    return best_W, rank_one_cov(best_v, best_p)


def encode_action(params: Params, decision: Decision) -> np.ndarray:
    """Documented projection (spec Sec. 6): exact waypoint, mean power shares, canonical shaping."""
    K = params.num_users
    lo, hi = params.lo, params.hi
    a = np.zeros(action_dim(params))
    a[0:2] = np.clip(2.0 * (np.asarray(decision.uav_pos, float) - lo) / (hi - lo) - 1.0, -1.0, 1.0)
    W = np.asarray(decision.beamformers)
    power = np.sum(np.abs(W) ** 2, axis=-2)  # (..., K)
    p_bar = power.reshape(-1, K).mean(axis=0)
    if p_bar.sum() > 0:
        log_s = np.log(np.maximum(p_bar / p_bar.sum(), 1e-300))
        a[2:2 + K] = np.clip((log_s - log_s.mean()) / params.action_share_temperature, -1.0, 1.0)
    return a.astype(np.float32)


# =========================================================================== v1: per-block action codec
# UAVEffectiveCapacity-v1 (docs "The faithful env"): step 0 places the UAV, step 1 + l plays fading
# block l with a directly parameterised design. All functions take any leading (batch) axes, so
# the single env (one block) and the vector env (one block per env) share them.
ACTION_BASES = ("channel", "antenna")


def v1_action_dim(params: Params) -> int:
    """2 (placement) + 2MK (comm beam coordinates) + 2M (sensing beam coordinates) + K + 1 (power fractions)."""
    K, M = params.num_users, params.num_antennas
    return 2 + 2 * M * K + 2 * M + K + 1


def v1_action_slices(params: Params) -> dict:
    K, M = params.num_users, params.num_antennas
    c = 2 + 2 * M * K
    return {"placement": slice(0, 2), "comm": slice(2, c), "sensing": slice(c, c + 2 * M),
            "power": slice(c + 2 * M, c + 2 * M + K + 1)}


def placement_from_action(params: Params, a) -> np.ndarray:
    """(V1) UAV position lo + (a + 1)/2 (hi - lo) from entries 0:2 (C3 holds by construction)."""
    a = np.asarray(a, float)
    return params.lo + (a[..., 0:2] + 1.0) / 2.0 * (params.hi - params.lo)


def placement_to_action(params: Params, q) -> np.ndarray:
    return np.clip(2.0 * (np.asarray(q, float) - params.lo) / (params.hi - params.lo) - 1.0, -1.0, 1.0)


def block_anchors(params: Params, ht: np.ndarray, gains: np.ndarray, a_t: np.ndarray) -> np.ndarray:
    """(V2) unit anchor directions of the channel basis, (..., K+1, M).

    Rows 0..K-1: MMSE directions X^-1 h~_k, row K: X^-1 a_t, with X = I + sum_k lambda_k h~_k h~_k^H
    and lambda_k = P beta_0 / (d_k^2 K sigma^2) (ht (..., K, M) normalised channels, gains (..., K)).
    """
    K, M = ht.shape[-2], ht.shape[-1]
    lam = np.minimum(params.p_max * gains / (K * params.noise_power), MAX_REGULARISATION)
    cols = np.swapaxes(ht, -1, -2)  # (..., M, K)
    X = (cols * lam[..., None, :]) @ ht.conj() + np.eye(M)
    rhs = np.concatenate([cols, np.broadcast_to(a_t[..., :, None], cols.shape[:-1] + (1,))], axis=-1)
    U = np.swapaxes(np.linalg.solve(X, rhs), -1, -2)  # (..., K+1, M)
    return U / np.sqrt(np.sum(U.real**2 + U.imag**2, axis=-1, keepdims=True))


def _householder(u: np.ndarray):
    """(V3) Q = -beta (I - 2 y y^H / y^H y) with y = conj(beta) u + e_0, beta = u_0/|u_0|: unitary, Q e_0 = u."""
    u0 = u[..., 0]
    beta = np.where(np.abs(u0) > 0, u0 / np.where(np.abs(u0) > 0, np.abs(u0), 1.0), 1.0)
    y = np.conj(beta)[..., None] * u
    y[..., 0] += 1.0
    yy = np.sum(y.real**2 + y.imag**2, axis=-1)  # >= 2 (stable)
    return beta, y, yy


def basis_apply(u: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Q c for the Householder basis with first column u (both (..., M))."""
    beta, y, yy = _householder(u)
    yc = np.sum(y.conj() * c, axis=-1)
    return -beta[..., None] * (c - (2.0 * yc / yy)[..., None] * y)


def basis_coords(u: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Q^H d: coordinates of d in the basis with first column u (inverse of ``basis_apply``)."""
    beta, y, yy = _householder(u)
    yd = np.sum(y.conj() * d, axis=-1)
    return -np.conj(beta)[..., None] * (d - (2.0 * yd / yy)[..., None] * y)


def _complex_pairs(x: np.ndarray, n: int, M: int) -> np.ndarray:
    x = x.reshape(x.shape[:-1] + (n, M, 2))
    return x[..., 0] + 1j * x[..., 1]


def decode_block(params: Params, a: np.ndarray, ht: np.ndarray, gains: np.ndarray, a_t: np.ndarray, dt2,
                 basis: str = "channel"):
    """(V4) one block's design from the (clipped) action a (..., A): returns W (..., M, K), v (..., M), p_s (...).

    Directions: d_j = Q_j (e_0 + c_j) / ||e_0 + c_j|| with offsets c_j = a^3 (entrywise cube: fine
    resolution near the anchor, full range at +-1; the zero vector -> Q_j e_0), Q_j the channel
    basis (V2)-(V3) (so c_j = 0 plays the anchor, user j's MMSE direction) or the identity
    (``basis="antenna"``). Powers: f = (a + 1)/2 in [0, 1]^(K+1) scaled down to sum 1 when above
    (C2), W = [sqrt(P f_k) d_k], R_s = P f_s d_s d_s^H. Feasibility projection (only when C1
    misses): blocks whose beam gain is below Gamma get (S22) applied to (W, d_s).
    """
    K, M = params.num_users, params.num_antennas
    sl = v1_action_slices(params)
    e0 = np.zeros(M)
    e0[0] = 1.0
    coords = e0 + np.concatenate([_complex_pairs(a[..., sl["comm"]] ** 3, K, M),
                                  _complex_pairs(a[..., sl["sensing"]] ** 3, 1, M)], axis=-2)  # (..., K+1, M)
    norm = np.sqrt(np.sum(coords.real**2 + coords.imag**2, axis=-1, keepdims=True))
    coords = np.where(norm > 1e-12, coords / np.maximum(norm, 1e-300), e0)
    if basis == "channel":
        d = basis_apply(block_anchors(params, ht, gains, a_t), coords)
    else:
        d = coords
    f = (a[..., sl["power"]] + 1.0) / 2.0
    total = np.sum(f, axis=-1, keepdims=True)
    f = np.where(total > 1.0, f / np.maximum(total, 1e-300), f)
    P = params.p_max
    W = np.swapaxes(d[..., :K, :], -1, -2) * np.sqrt(P * f[..., None, :K])
    v, p_s = d[..., K, :], P * f[..., K]
    atc = a_t.conj()
    atW = np.einsum("...m,...mk->...k", atc, W)
    atv = np.einsum("...m,...m->...", atc, v)
    gain = (np.sum(atW.real**2 + atW.imag**2, axis=-1) + p_s * (atv.real**2 + atv.imag**2)) / dt2
    miss = gain < params.sensing_threshold
    if np.any(miss):
        lead = W.shape[:-2]
        G = np.broadcast_to(params.sensing_threshold * np.asarray(dt2, float), lead).reshape(-1)
        Wf, vf = W.reshape((-1, M, K)), v.reshape((-1, M))
        Wp, vp, pp = split_power(Wf, vf, np.broadcast_to(a_t, lead + (M,)).reshape((-1, M)), P, G)
        mf = miss.reshape(-1)
        W = np.where(mf[:, None, None], Wp, Wf).reshape(W.shape)
        v = np.where(mf[:, None], vp, vf).reshape(v.shape)
        p_s = np.where(mf, pp, p_s.reshape(-1)).reshape(p_s.shape)
    return W, v, p_s


def encode_block(params: Params, W: np.ndarray, R: np.ndarray, ht: np.ndarray, gains: np.ndarray,
                 a_t: np.ndarray, basis: str = "channel") -> np.ndarray:
    """Inverse of ``decode_block`` for one block's (W (..., M, K), R_s (..., M, M)): action entries 2: (float64).

    Exact for rank-one R_s (every registered solver); a higher-rank R_s keeps its trace and its
    principal eigenvector (documented projection). A direction with basis coordinates z (phase
    turned so that z_0 >= 0; a beam's phase does not matter) is written c = t z - e_0 with the
    t > 0 that keeps every entry in [-1, 1] (t = 1/z_0 when possible: then c_0 = 0); the action
    entries are the cube roots of c. Zero-power beams get c = 0.
    """
    K, M = params.num_users, params.num_antennas
    P = params.p_max
    p_k = np.sum(W.real**2 + W.imag**2, axis=-2)  # (..., K)
    d_k = np.swapaxes(W, -1, -2) / np.maximum(np.sqrt(p_k), 1e-300)[..., None]
    R = (R + np.conj(np.swapaxes(R, -1, -2))) / 2.0
    p_s = np.maximum(np.trace(R, axis1=-2, axis2=-1).real, 0.0)
    d_s = np.linalg.eigh(R)[1][..., :, -1]
    d = np.concatenate([d_k, d_s[..., None, :]], axis=-2)  # (..., K+1, M)
    z = basis_coords(block_anchors(params, ht, gains, a_t), d) if basis == "channel" else d
    z0 = np.abs(z[..., :1])
    z = z * np.where(z0 > 0, np.conj(z[..., :1]) / np.maximum(z0, 1e-300), 1.0)  # z_0 = |z_0| >= 0
    rest = np.max(np.maximum(np.abs(z[..., 1:].real), np.abs(z[..., 1:].imag)), axis=-1, initial=0.0)
    z0 = z0[..., 0]
    t = np.minimum(np.where(z0 > 0, 1.0 / np.maximum(z0, 1e-300), np.inf), np.where(rest > 0, 1.0 / np.maximum(rest, 1e-300), np.inf))
    t = np.where(np.isfinite(t), t, 1.0)
    e0 = np.zeros(M)
    e0[0] = 1.0
    c = t[..., None] * z - e0
    p = np.concatenate([p_k, p_s[..., None]], axis=-1)
    c = np.where((p > 0)[..., None], c, 0.0)
    pairs = np.stack([c.real, c.imag], axis=-1).reshape(c.shape[:-2] + (2 * M * (K + 1),))
    f = np.clip(p / P, 0.0, 1.0)
    return np.concatenate([np.cbrt(np.clip(pairs, -1.0, 1.0)), 2.0 * f - 1.0], axis=-1)
