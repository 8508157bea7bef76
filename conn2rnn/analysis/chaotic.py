"""Chaotic drivers (Lorenz-63, Rossler, Mackey-Glass) and attractor "climate" measures.

Series are integrated with the classical fourth-order Runge-Kutta scheme at an
internal step that is a fixed fraction of the sampling interval (see
:data:`SYSTEMS`), started from a seeded point near the attractor and sampled
after a transient, so the same seed gives the same numbers.

Climate measures compare a generated trajectory with the true one, batched over K
generated trajectories ``(T, K, D)``:

- :func:`valid_prediction_time`: time until the normalised error first exceeds a
  threshold, in Lyapunov times;
- :func:`correlation_dimension`: Grassberger-Procaccia estimate;
- :func:`power_spectrum_distance`: Hellinger distance between normalised spectra;
- :func:`invariant_density_distance` and :func:`return_map_distance`: Hellinger
  distances between occupation histograms (of the states, and of successive
  maxima of one coordinate).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_float_array, check_choice

__all__ = [
    "SYSTEMS", "chaotic_series", "correlation_dimension", "invariant_density_distance",
    "lorenz_jacobian", "lorenz_rhs", "power_spectrum_distance", "return_map_distance",
    "rossler_jacobian", "rossler_rhs", "valid_prediction_time",
]


# ----------------------------------------------------------------------------- flows
def lorenz_rhs(x: np.ndarray, sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0) -> np.ndarray:
    """Lorenz-63 vector field ``dx/dt`` for states ``(..., 3)``."""
    a, b, c = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([sigma * (b - a), a * (rho - c) - b, a * b - beta * c], axis=-1)


def lorenz_jacobian(x: np.ndarray, sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0) -> np.ndarray:
    """Jacobian ``(..., 3, 3)`` of :func:`lorenz_rhs` (rows: d f_i)."""
    a, b, c = x[..., 0], x[..., 1], x[..., 2]
    jac = np.zeros(x.shape[:-1] + (3, 3))
    jac[..., 0, 0], jac[..., 0, 1] = -sigma, sigma
    jac[..., 1, 0], jac[..., 1, 1], jac[..., 1, 2] = rho - c, -1.0, -a
    jac[..., 2, 0], jac[..., 2, 1], jac[..., 2, 2] = b, a, -beta
    return jac


def rossler_rhs(x: np.ndarray, a: float = 0.2, b: float = 0.2, c: float = 5.7) -> np.ndarray:
    """Rossler vector field for states ``(..., 3)``."""
    p, q, r = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([-q - r, p + a * q, b + r * (p - c)], axis=-1)


def rossler_jacobian(x: np.ndarray, a: float = 0.2, b: float = 0.2, c: float = 5.7) -> np.ndarray:
    """Jacobian ``(..., 3, 3)`` of :func:`rossler_rhs`."""
    p, r = x[..., 0], x[..., 2]
    jac = np.zeros(x.shape[:-1] + (3, 3))
    jac[..., 0, 1], jac[..., 0, 2] = -1.0, -1.0
    jac[..., 1, 0], jac[..., 1, 1] = 1.0, a
    jac[..., 2, 0], jac[..., 2, 2] = r, p - c
    return jac


@dataclass(frozen=True)
class _System:
    dim: int
    dt: float            # sampling interval of the returned series (model time units)
    substeps: int        # RK4 steps per sample: internal step dt / substeps
    start: tuple[float, ...]
    transient: float     # time discarded before sampling
    lyapunov: float | None  # largest Lyapunov exponent (per time unit), literature value


SYSTEMS: dict[str, _System] = {
    # Lorenz-63 (sigma 10, rho 28, beta 8/3): sampled every 0.02, RK4 step 0.005; lambda_1 = 0.906
    "lorenz": _System(3, 0.02, 4, (1.0, 1.0, 20.0), 50.0, 0.906),
    # Rossler (a = b = 0.2, c = 5.7): sampled every 0.1, RK4 step 0.025; lambda_1 = 0.0714
    "rossler": _System(3, 0.1, 4, (1.0, 1.0, 0.0), 200.0, 0.0714),
    # Mackey-Glass (beta 0.2, gamma 0.1, n 10, tau 17): sampled every 1, RK4 step 0.1
    "mackey_glass": _System(1, 1.0, 10, (1.2,), 500.0, None),
}


def _rk4(rhs: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float) -> np.ndarray:
    k1 = rhs(x)
    k2 = rhs(x + 0.5 * h * k1)
    k3 = rhs(x + 0.5 * h * k2)
    k4 = rhs(x + h * k3)
    return x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def _mackey_glass(n_steps: int, sys: _System, x_start: float, tau: float = 17.0, beta: float = 0.2,
                  gamma: float = 0.1, power: float = 10.0) -> np.ndarray:
    """RK4 for the delay equation; the delayed value at half steps is the mean of its neighbours."""
    h = sys.dt / sys.substeps
    lag = round(tau / h)
    n_burn = round(sys.transient / h)
    n_total = n_burn + n_steps * sys.substeps
    hist = np.empty(lag + n_total + 1)
    hist[: lag + 1] = x_start

    def f(x: float, xd: float) -> float:
        return beta * xd / (1.0 + xd ** power) - gamma * x

    for i in range(lag, lag + n_total):
        x, d0, d1 = hist[i], hist[i - lag], hist[i - lag + 1]
        dm = 0.5 * (d0 + d1)
        k1 = f(x, d0)
        k2 = f(x + 0.5 * h * k1, dm)
        k3 = f(x + 0.5 * h * k2, dm)
        k4 = f(x + h * k3, d1)
        hist[i + 1] = x + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
    return hist[lag + n_burn + sys.substeps:: sys.substeps][:n_steps, None]


def chaotic_series(system: str = "lorenz", n_steps: int = 5000, *, seed: int | None = 0) -> np.ndarray:
    """A trajectory of a chaotic system, sampled on its attractor.

    Parameters
    ----------
    system : {'lorenz', 'rossler', 'mackey_glass'}
        Lorenz-63 (sigma 10, rho 28, beta 8/3; sampled every 0.02 time units),
        Rossler (a = b = 0.2, c = 5.7; every 0.1) or Mackey-Glass (tau 17; every
        1 time unit). ``SYSTEMS[system].dt`` is the sampling interval and
        ``SYSTEMS[system].dt / SYSTEMS[system].substeps`` the RK4 step.
    n_steps : int
        Number of samples T.
    seed : int, optional
        Perturbs the starting point (normal, s.d. 0.1 around a point near the
        attractor) before a transient of ``SYSTEMS[system].transient`` time units.

    Returns
    -------
    (T, D) ndarray
        D = 3 for Lorenz and Rossler, 1 for Mackey-Glass.
    """
    check_choice(system, "system", SYSTEMS)
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1; got {n_steps!r}")
    sys = SYSTEMS[system]
    start = np.asarray(sys.start) + 0.1 * np.random.default_rng(seed).standard_normal(sys.dim)
    if system == "mackey_glass":
        return _mackey_glass(int(n_steps), sys, float(start[0]))
    f = _lorenz_scalar if system == "lorenz" else _rossler_scalar
    h = sys.dt / sys.substeps
    x = tuple(float(v) for v in start)
    for _ in range(round(sys.transient / h)):
        x = _rk4_scalar(f, x, h)
    out = np.empty((int(n_steps), sys.dim))
    for t in range(int(n_steps)):
        for _ in range(sys.substeps):
            x = _rk4_scalar(f, x, h)
        out[t] = x
    return out


# plain-float versions of the flows: for 3 numbers, Python arithmetic is ~10x faster than numpy
def _lorenz_scalar(x: tuple[float, ...]) -> tuple[float, ...]:
    a, b, c = x
    return 10.0 * (b - a), a * (28.0 - c) - b, a * b - (8.0 / 3.0) * c


def _rossler_scalar(x: tuple[float, ...]) -> tuple[float, ...]:
    p, q, r = x
    return -q - r, p + 0.2 * q, 0.2 + r * (p - 5.7)


def _rk4_scalar(f: Callable, x: tuple[float, ...], h: float) -> tuple[float, ...]:
    k1 = f(x)
    k2 = f(tuple(xi + 0.5 * h * ki for xi, ki in zip(x, k1)))
    k3 = f(tuple(xi + 0.5 * h * ki for xi, ki in zip(x, k2)))
    k4 = f(tuple(xi + h * ki for xi, ki in zip(x, k3)))
    return tuple(xi + (h / 6.0) * (a + 2.0 * b + 2.0 * c + d) for xi, a, b, c, d in zip(x, k1, k2, k3, k4))


# ----------------------------------------------------------------------------- climate
def _pair(generated: Any, truth: Any) -> tuple[np.ndarray, np.ndarray]:
    """(T, K, D) generated (NaN allowed) and (T', D) truth."""
    gen = as_float_array(generated, "generated", finite=False)
    if gen.ndim == 2:
        gen = gen[:, None, :]
    if gen.ndim != 3:
        raise ValueError(f"generated must be (T, K, D) or (T, D); got shape {gen.shape}")
    tru = as_float_array(truth, "truth")
    if tru.ndim == 1:
        tru = tru[:, None]
    if tru.ndim != 2 or tru.shape[1] != gen.shape[2]:
        raise ValueError(f"truth must be (T, D) with D = {gen.shape[2]} like generated; got shape {tru.shape}")
    return gen, tru


def valid_prediction_time(generated: Any, truth: Any, *, dt: float, lyapunov_exponent: float,
                          threshold: float = 0.4) -> np.ndarray:
    """Time until a prediction first departs from the truth, in Lyapunov times.

    The normalised error is ``e(t) = |y_hat(t) - y(t)| / sqrt(<|y - <y>|^2>)``
    (Euclidean norms; the average over the true segment); the valid prediction
    time is the number of steps before ``e`` first exceeds ``threshold`` (0.4, as
    in Pathak et al. 2018), times ``dt * lyapunov_exponent``. A prediction that
    never departs gets the segment length (a lower bound); NaN counts as departed.

    Parameters
    ----------
    generated : (T, K, D) or (T, D) array_like
    truth : (T, D) array_like
    dt : float
        Sampling interval of the series (time units of the exponent).
    lyapunov_exponent : float
        Largest exponent of the true system per time unit (Lorenz: 0.906).
    threshold : float

    Returns
    -------
    (K,) ndarray
    """
    gen, tru = _pair(generated, truth)
    if gen.shape[0] != tru.shape[0]:
        raise ValueError(f"generated and truth must have the same length; got {gen.shape[0]} and {tru.shape[0]}")
    for name, val in (("dt", dt), ("lyapunov_exponent", lyapunov_exponent), ("threshold", threshold)):
        if isinstance(val, bool) or not isinstance(val, numbers.Real) or not np.isfinite(val) or val <= 0:
            raise ValueError(f"{name} must be a finite number > 0; got {val!r}")
    scale = np.sqrt(((tru - tru.mean(axis=0)) ** 2).sum(axis=1).mean())
    err = np.sqrt(((gen - tru[:, None, :]) ** 2).sum(axis=2)) / scale
    bad = ~(err <= threshold)  # NaN counts as departed
    steps = np.where(bad.any(axis=0), bad.argmax(axis=0), gen.shape[0])
    return steps * dt * lyapunov_exponent


def _sq_dists(x: np.ndarray) -> np.ndarray:
    """(K, M, M) squared Euclidean distances of (K, M, D) points."""
    sq = (x ** 2).sum(axis=-1)
    d2 = sq[:, :, None] + sq[:, None, :] - 2.0 * np.einsum("kmd,knd->kmn", x, x)
    return np.maximum(d2, 0.0)


def correlation_dimension(trajectories: Any, *, n_points: int = 1000, fit_range: tuple[float, float] = (1e-3, 3e-2),
                          theiler: int = 10) -> np.ndarray:
    """Grassberger-Procaccia correlation dimension of K trajectories.

    ``n_points`` states are taken at evenly spaced times; the correlation sum
    ``C(r)`` (fraction of pairs closer than ``r``, pairs fewer than ``theiler``
    samples apart in time excluded) is evaluated on 24 log-spaced radii and the
    dimension is the least-squares slope of ``log C`` against ``log r`` over the
    radii where ``C`` lies in ``fit_range``. Lorenz-63 gives 2.05 in the limit;
    a few thousand points give 2.0 +- 0.1.

    Parameters
    ----------
    trajectories : (T, K, D) or (T, D) array_like
    n_points : int
    fit_range : (low, high)
        Scaling region in units of C.
    theiler : int
        Theiler window in subsampled points.

    Returns
    -------
    (K,) ndarray
        NaN for a trajectory with non-finite values or too few radii in the range.
    """
    x = as_float_array(trajectories, "trajectories", finite=False)
    x = x[:, None, :] if x.ndim == 2 else x
    if x.ndim != 3:
        raise ValueError(f"trajectories must be (T, K, D) or (T, D); got shape {x.shape}")
    if x.shape[0] < 50:
        raise ValueError(f"trajectories have {x.shape[0]} steps; the correlation dimension needs >= 50")
    idx = np.unique(np.linspace(0, x.shape[0] - 1, min(int(n_points), x.shape[0])).astype(int))
    pts = np.moveaxis(x[idx], 1, 0)  # (K, M, D)
    m = idx.size
    keep = np.abs(np.arange(m)[:, None] - np.arange(m)[None, :]) >= max(int(theiler), 1)
    n_pairs = keep.sum()
    out = np.full(pts.shape[0], np.nan)
    finite = np.all(np.isfinite(pts), axis=(1, 2))
    for start in range(0, pts.shape[0], 16):  # chunks bound the (16, M, M) distance block
        sel = np.flatnonzero(finite[start:start + 16]) + start
        if sel.size == 0:
            continue
        d = np.sqrt(_sq_dists(pts[sel]))[:, keep]  # (k, P)
        d.sort(axis=1)
        for j, k in enumerate(sel):
            dk = d[j][d[j] > 0]
            if dk.size < 10:
                continue
            radii = np.geomspace(dk[0], dk[-1], 24)
            c = np.searchsorted(dk, radii) / n_pairs
            ok = (c >= fit_range[0]) & (c <= fit_range[1])
            if ok.sum() >= 3:
                out[k] = np.polyfit(np.log(radii[ok]), np.log(c[ok]), 1)[0]
    return out


def _hellinger(p: np.ndarray, q: np.ndarray, axis: int = -1) -> np.ndarray:
    """Hellinger distance in [0, 1] between (sub)probability vectors along ``axis``."""
    bc = np.sqrt(p * q).sum(axis=axis)
    return np.sqrt(np.clip(1.0 - bc, 0.0, 1.0))


def power_spectrum_distance(generated: Any, truth: Any, *, nperseg: int = 256) -> np.ndarray:
    """Hellinger distance between normalised power spectra, averaged over coordinates.

    Welch spectra (``nperseg`` samples, Hann window) of each coordinate are
    normalised to sum to one; 0 means identical spectra, 1 disjoint ones.

    Parameters
    ----------
    generated : (T, K, D) or (T, D) array_like
    truth : (T', D) array_like
    nperseg : int

    Returns
    -------
    (K,) ndarray
        NaN where the generated trajectory has non-finite values.
    """
    from scipy.signal import welch

    gen, tru = _pair(generated, truth)
    seg = int(min(nperseg, gen.shape[0], tru.shape[0]))
    if seg < 16:
        raise ValueError(f"power spectra need series of >= 16 steps; got {min(gen.shape[0], tru.shape[0])}")
    finite = np.all(np.isfinite(gen), axis=(0, 2))
    _, p_gen = welch(np.where(finite[None, :, None], gen, 0.0), nperseg=seg, axis=0)  # (F, K, D)
    _, p_tru = welch(tru, nperseg=seg, axis=0)  # (F, D)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_gen = p_gen / p_gen.sum(axis=0, keepdims=True)
        p_tru = p_tru / p_tru.sum(axis=0, keepdims=True)
    dist = _hellinger(p_gen, p_tru[:, None, :], axis=0).mean(axis=-1)
    return np.where(finite, dist, np.nan)


def _histogram_distance(gen_pts: list[np.ndarray], tru_pts: np.ndarray, bins: int) -> np.ndarray:
    """Hellinger distance of occupation histograms on a grid spanning the truth (+-10 %)."""
    lo, hi = tru_pts.min(axis=0), tru_pts.max(axis=0)
    pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
    edges = [np.linspace(a - p, b + p, bins + 1) for a, b, p in zip(lo, hi, pad)]
    p_tru = np.histogramdd(tru_pts, bins=edges)[0].ravel()
    p_tru /= p_tru.sum()
    out = np.full(len(gen_pts), np.nan)
    for k, pts in enumerate(gen_pts):
        if not np.all(np.isfinite(pts)):
            continue
        if pts.shape[0] == 0:  # e.g. no maxima at all: nothing in common with the truth
            out[k] = 1.0
            continue
        # points outside the grid are mass the generated density puts off the attractor
        q = np.histogramdd(pts, bins=edges)[0].ravel() / pts.shape[0]
        out[k] = _hellinger(p_tru, q)
    return out


def invariant_density_distance(generated: Any, truth: Any, *, bins: int = 12) -> np.ndarray:
    """Hellinger distance between the state-space occupation of generated and true trajectories.

    Both are binned on a ``bins``-per-axis grid spanning the true range (+-10 %);
    generated mass outside the grid counts as mismatch.

    Returns
    -------
    (K,) ndarray
        In [0, 1]; NaN for non-finite trajectories.
    """
    gen, tru = _pair(generated, truth)
    return _histogram_distance([gen[:, k] for k in range(gen.shape[1])], tru, int(bins))


def _maxima(x: np.ndarray) -> np.ndarray:
    """Successive local maxima (m_i, m_{i+1}) of a 1-D series, as (P, 2)."""
    peak = np.flatnonzero((x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:])) + 1
    m = x[peak]
    return np.stack([m[:-1], m[1:]], axis=1)


def return_map_distance(generated: Any, truth: Any, *, coordinate: int = -1, bins: int = 20) -> np.ndarray:
    """Hellinger distance between return maps of successive maxima of one coordinate.

    For Lorenz-63 the map ``z_max(i) -> z_max(i + 1)`` (the last coordinate, the
    default) is Lorenz's own cusp map.

    Returns
    -------
    (K,) ndarray
        In [0, 1]; NaN for non-finite trajectories or fewer than 2 true maxima.
    """
    gen, tru = _pair(generated, truth)
    tru_map = _maxima(tru[:, coordinate])
    if tru_map.shape[0] < 2:
        raise ValueError("truth has fewer than 3 local maxima in that coordinate; use a longer series")
    gen_maps = [_maxima(gen[:, k, coordinate]) if np.all(np.isfinite(gen[:, k])) else np.full((1, 2), np.nan)
                for k in range(gen.shape[1])]
    return _histogram_distance(gen_maps, tru_map, int(bins))
