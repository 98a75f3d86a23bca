"""Deterministic equivalent of the ergodic MIMO rate E log2 det(I + H Q H^H / sigma^2).

Channel H = W diag(sqrt(lambda)) in C^{Nr x M} with W i.i.d. CN(0, 1) (co-located receive
antennas, independent transmitters), diagonal Q = diag(p). With alpha_m = lambda_m p_m / sigma^2
and c_m = Nr alpha_m (Feng et al., JSAC 2013; cell_free_sat_uav spec S9):

    nu = 1 / (1 + sum_m alpha_m / (1 + c_m nu))                                   (17)
    f(p, nu) = sum_m log2(1 + c_m nu) - Nr log2 nu + Nr (nu - 1) log2 e            (16)

R_hat = f(p, nu*) = min_{nu in (0, 1]} f(p, nu). All functions broadcast over leading axes;
the transmitter axis is the last one.
"""

from __future__ import annotations

import numpy as np

LOG2E = 1.0 / np.log(2.0)


def de_slack_nu(alpha, num_rx: int, iterations: int = 15):
    """Root nu* in (0, 1] of (17), by Newton from the lower bound 1/(1 + sum alpha) (spec S9)."""
    a = np.maximum(np.asarray(alpha, dtype=float), 0.0)
    c = num_rx * a
    nu = 1.0 / (1.0 + a.sum(axis=-1))
    for _ in range(iterations):
        cn = 1.0 + c * nu[..., None]
        g = (c * nu[..., None] / cn).sum(axis=-1) + num_rx * nu - num_rx
        dg = (c / cn**2).sum(axis=-1) + num_rx
        step = g / dg
        nu = nu - step
        if np.all(np.abs(step) <= 1e-13 * np.maximum(nu, 1e-300)):
            break
    return np.clip(nu, 1e-300, 1.0)


def de_compensation_bits(nu, num_rx: int):
    """C(nu) = -Nr log2 nu + Nr (nu - 1) log2 e, the compensation term of (16)."""
    nu = np.asarray(nu, dtype=float)
    return num_rx * (-np.log2(nu) + (nu - 1.0) * LOG2E)


def de_rate_given_nu(alpha, nu, num_rx: int):
    """f(p, nu) of (16) in bit/s/Hz for a given slack nu."""
    c = num_rx * np.maximum(np.asarray(alpha, dtype=float), 0.0)
    nu = np.asarray(nu, dtype=float)
    return np.log2(1.0 + c * nu[..., None]).sum(axis=-1) + de_compensation_bits(nu, num_rx)


def de_rate_bits(alpha, num_rx: int):
    """Deterministic-equivalent ergodic rate R_hat = f(p, nu*) (16)-(17), bit/s/Hz."""
    nu = de_slack_nu(alpha, num_rx)
    return de_rate_given_nu(alpha, nu, num_rx)


def mc_logdet_rate_bits(fading, alpha):
    """Monte-Carlo ergodic rate mean_s log2 det(I + G_s G_s^H), G_s = W_s diag(sqrt(alpha)) (spec S8).

    fading: (..., S, Nr, M) complex CN(0,1) samples; alpha: (..., M) per-transmitter SNRs.
    Returns (...,). Nr = 2 uses the closed form (1 + A11)(1 + A22) - |A12|^2.
    """
    amp = np.sqrt(np.maximum(np.asarray(alpha, dtype=float), 0.0))[..., None, None, :]
    g = fading * amp
    nr = g.shape[-2]
    if nr == 1:
        det = 1.0 + (g.real**2 + g.imag**2).sum(axis=(-1, -2))
    elif nr == 2:
        g0, g1 = g[..., 0, :], g[..., 1, :]
        a11 = (g0.real**2 + g0.imag**2).sum(axis=-1)
        a22 = (g1.real**2 + g1.imag**2).sum(axis=-1)
        a12 = (g0 * g1.conj()).sum(axis=-1)
        det = (1.0 + a11) * (1.0 + a22) - (a12.real**2 + a12.imag**2)
    else:
        gram = g @ np.conj(np.swapaxes(g, -1, -2))
        gram = gram + np.eye(nr)
        sign, logdet = np.linalg.slogdet(gram)
        return (logdet * LOG2E).mean(axis=-1)
    return np.log2(det).mean(axis=-1)
