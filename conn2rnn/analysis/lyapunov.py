"""Lyapunov spectra by Jacobian QR iteration, for leaky rate networks and for flows.

For a map ``h[t+1] = F(h[t], x[t])`` the tangent vectors ``Q`` (N, m) are pushed
through the Jacobian and re-orthonormalised every step (``J Q = Q' R``); the
exponents are the time averages of ``log |diag R|`` (Benettin et al. 1980). For
a leaky rate network ``F(h) = (1 - a) h + a f(W h + W_in x + b)`` the Jacobian is
``diag(1 - a) + diag(a f'(pre)) W``, applied to all K networks at once.

Exponents of networks are per model step; divide by ``model.dt_ms`` for per ms
where the model has one. Exponents of flows are per time unit of the flow.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..models.protocol import LeakyParameters, LeakyRateModel
from ..models.reservoir_ensemble import as_recurrent_model
from .chaotic import _rk4

__all__ = ["lyapunov_spectrum", "lyapunov_spectrum_flow"]


# ----------------------------------------------------------------------------- numpy activations
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_ACTIVATIONS_NP: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(np.float64)),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1.0 - _sigmoid(x))),
    "softplus": (lambda x: np.logaddexp(0.0, x), _sigmoid),
    "retanh": (lambda x: np.maximum(np.tanh(x), 0.0), lambda x: np.where(x > 0, 1.0 - np.tanh(x) ** 2, 0.0)),
    "linear": (lambda x: x, np.ones_like),
}


def _activation(name: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """(f, f') as numpy functions for an activation of :data:`conn2rnn.models.ACTIVATIONS`."""
    if name not in _ACTIVATIONS_NP:
        raise ValueError(f"activation must be one of {list(_ACTIVATIONS_NP)}; got {name!r}")
    return _ACTIVATIONS_NP[name]


def _leaky_model(model: Any, name: str = "model") -> LeakyParameters:
    """The leaky parameters of a model, or a TypeError naming what is missing."""
    model = as_recurrent_model(model, name)
    if not isinstance(model, LeakyRateModel):
        raise TypeError(f"{name} must be a leaky rate model (implementing leaky_parameters(), e.g. a BioRNN, "
                        f"a ReservoirEnsemble or a frozen bioRNN); got a {model.family} model")
    return model.leaky_parameters()


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def _drive(p: LeakyParameters, inputs: Any, n_steps: int) -> np.ndarray:
    """(T, K, N): W_in x[t] + b of every network, from (T, I) shared or (T, K, I) own inputs."""
    k, n, n_in = p.w_in.shape
    if inputs is None:
        return np.broadcast_to(p.bias, (n_steps, k, n))
    u = np.asarray(inputs, dtype=np.float64)
    if u.ndim == 2 and u.shape[1] == n_in:
        return np.einsum("ti,kni->tkn", u, p.w_in) + p.bias
    if u.ndim == 3 and u.shape[1:] == (k, n_in):
        return np.einsum("tki,kni->tkn", u, p.w_in) + p.bias
    raise ValueError(f"inputs must be (T, I) = (T, {n_in}) shared by all networks or (T, K, I) = "
                     f"(T, {k}, {n_in}); got shape {u.shape}")


def _qr_exponents(p: LeakyParameters, drive: np.ndarray, h0: np.ndarray, n_exponents: int, washout: int,
                  rng: np.random.Generator) -> np.ndarray:
    """(K, m) exponents per step along the trajectory driven by ``drive`` (T, K, N)."""
    f, df = _activation(p.activation)
    keep, a = 1.0 - p.leak, p.leak
    k, n = p.leak.shape
    q = np.linalg.qr(rng.standard_normal((k, n, n_exponents)))[0]
    h = np.array(h0, dtype=np.float64)
    total = np.zeros((k, n_exponents))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for t in range(drive.shape[0]):
            pre = np.einsum("kij,kj->ki", p.w, h) + drive[t]
            jq = keep[:, :, None] * q + (a * df(pre))[:, :, None] * (p.w @ q)
            q, r = np.linalg.qr(jq)
            if t >= washout:
                total += np.log(np.abs(np.diagonal(r, axis1=1, axis2=2)))
            h = keep * h + a * f(pre)
    return total / (drive.shape[0] - washout)


def lyapunov_spectrum(model: Any, inputs: Any = None, *, n_exponents: int = 1, n_steps: int = 2000,
                      washout: int = 200, x0: Any = None, seed: int | None = 0) -> np.ndarray:
    """Leading Lyapunov exponents of every network of a leaky rate model, per model step.

    With ``inputs`` the exponents are conditional on that drive (the conditional
    Lyapunov exponents of generalized synchronization: negative means the
    network forgets its initial state); without, the network runs autonomously
    (zero input).

    Parameters
    ----------
    model : LeakyRateModel
        A BioRNN, a ReservoirEnsemble, a ConnectomeReservoir or a frozen bioRNN.
    inputs : (T, I) or (T, K, I) array_like, optional
        Drive, shared or per network; then ``n_steps`` is ignored and T is used.
    n_exponents : int
        m, the number of leading exponents (at most N).
    n_steps : int
        Steps of the autonomous run (without ``inputs``).
    washout : int
        First steps not averaged (the state and the tangent vectors settle);
        must be smaller than T.
    x0 : (K, N) or (N,) array_like, optional
        Initial states; by default normal with s.d. 0.5 (seeded), off any
        fixed point.
    seed : int, optional
        Seeds the initial state and the initial tangent vectors.

    Returns
    -------
    (K, m) ndarray
        Exponents per step, in decreasing order (``-inf`` where a direction is
        annihilated, e.g. by silent ReLU units).
    """
    p = _leaky_model(model)
    k, n = p.leak.shape
    m = _check_int(n_exponents, "n_exponents", 1)
    if m > n:
        raise ValueError(f"n_exponents must be at most N = {n}; got {m}")
    n_total = _check_int(n_steps, "n_steps", 1) if inputs is None else int(np.shape(inputs)[0])
    drive = _drive(p, inputs, n_total)
    washout = _check_int(washout, "washout", 0)
    if n_total - washout < 10:
        raise ValueError(f"washout ({washout}) leaves {n_total - washout} of {n_total} steps to average; "
                         "need >= 10 (use a longer run or a shorter washout)")
    rng = np.random.default_rng(seed)
    h0 = 0.5 * rng.standard_normal((k, n)) if x0 is None else np.broadcast_to(
        np.asarray(x0, dtype=np.float64), (k, n))
    out = _qr_exponents(p, drive, h0, m, washout, rng)
    bad = np.flatnonzero(~np.all(np.isfinite(out) | (out == -np.inf), axis=1))
    if bad.size:
        warnings.warn(f"networks {bad.tolist()[:10]} diverged (non-finite states); their exponents are NaN",
                      RuntimeWarning, stacklevel=2)
        out[bad] = np.nan
    return -np.sort(-out, axis=1)


def _finite_difference_jacobian(rhs: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """(E, D, D) central-difference Jacobian of ``rhs`` at states (E, D)."""
    d = x.shape[-1]
    eps = 1e-6 * np.maximum(1.0, np.abs(x))
    cols = []
    for i in range(d):
        e = np.zeros_like(x)
        e[:, i] = eps[:, i]
        cols.append((rhs(x + e) - rhs(x - e)) / (2.0 * eps[:, i:i + 1]))
    return np.stack(cols, axis=-1)


def lyapunov_spectrum_flow(rhs: Callable[[np.ndarray], np.ndarray], x0: Any, *, dt: float, n_steps: int,
                           jacobian: Callable[[np.ndarray], np.ndarray] | None = None,
                           n_exponents: int | None = None, transient: int = 1000,
                           seed: int | None = 0) -> np.ndarray:
    """Lyapunov spectrum of a flow ``dx/dt = rhs(x)``, e.g. Lorenz-63.

    State and tangent vectors are integrated together with RK4 at step ``dt``
    (variational equation ``dQ/dt = J(x) Q``) and re-orthonormalised by QR after
    every step. Several initial states run at once.

    Parameters
    ----------
    rhs : callable
        Vector field, mapping states ``(E, D)`` to ``(E, D)``.
    x0 : (D,) or (E, D) array_like
        Initial state(s).
    dt : float
        RK4 step (Lorenz: 0.01 is accurate to ~1e-3 in the exponents).
    n_steps : int
        Steps averaged, after ``transient`` steps that are not.
    jacobian : callable, optional
        ``(E, D) -> (E, D, D)``; central finite differences when omitted.
    n_exponents : int, optional
        Leading exponents to compute (all D by default).
    transient : int
    seed : int, optional
        Seeds the initial tangent vectors.

    Returns
    -------
    (D,) or (E, D) ndarray
        Exponents per time unit, decreasing; Lorenz-63 gives (0.906, 0, -14.57).
    """
    x = np.array(x0, dtype=np.float64)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be a finite (D,) or (E, D) array; got shape {np.shape(x0)}")
    if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not dt > 0:
        raise ValueError(f"dt must be a number > 0; got {dt!r}")
    n_avg, transient = _check_int(n_steps, "n_steps", 1), _check_int(transient, "transient", 0)
    e, d = x.shape
    m = d if n_exponents is None else _check_int(n_exponents, "n_exponents", 1)
    if m > d:
        raise ValueError(f"n_exponents must be at most D = {d}; got {m}")
    probe = np.asarray(rhs(x))
    if probe.shape != x.shape:
        raise ValueError(f"rhs must map states (E, D) = {x.shape} to the same shape; got {probe.shape}")
    jac = jacobian if jacobian is not None else (lambda s: _finite_difference_jacobian(rhs, s))
    q = np.linalg.qr(np.random.default_rng(seed).standard_normal((e, d, m)))[0]

    def joint(z: np.ndarray) -> np.ndarray:  # z = [x | Q] as (E, D, 1 + m)
        s = z[:, :, 0]
        return np.concatenate([rhs(s)[:, :, None], jac(s) @ z[:, :, 1:]], axis=2)

    z = np.concatenate([x[:, :, None], q], axis=2)
    total = np.zeros((e, m))
    for t in range(transient + n_avg):
        z = _rk4(joint, z, dt)
        q, r = np.linalg.qr(z[:, :, 1:])
        z[:, :, 1:] = q
        if t >= transient:
            total += np.log(np.abs(np.diagonal(r, axis1=1, axis2=2)))
    out = -np.sort(-total / (n_avg * dt), axis=1)
    return out[0] if single else out
