"""Model resting state: drive a network with noise, record every node, estimate INTs.

The bioRNN study drove trained networks through their input channels with
inputs drawn i.i.d. from N(0.5, 0.3) for 1200 steps and computed each node's
intrinsic timescale from the recorded activity; :func:`resting_state` does the
same for bioRNN ensembles and reservoirs, and :func:`model_timescales` turns the
activity into INTs in seconds, optionally after conversion to BOLD so that
model and fMRI timescales are compared in the same units.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..models.protocol import as_recurrent_model
from .bold import to_bold
from .timescales import intrinsic_timescales

__all__ = ["model_timescales", "resting_state"]


def _validate(n_steps: int, washout: int, sd: float) -> None:
    for name, value in (("n_steps", n_steps), ("washout", washout)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    if n_steps < 10:
        raise ValueError(f"n_steps must be >= 10 to estimate timescales; got {n_steps}")
    if not np.isfinite(sd) or sd < 0:
        raise ValueError(f"sd must be a finite number >= 0; got {sd}")


def resting_state(model: Any, *, n_steps: int = 1200, mean: float = 0.5, sd: float = 0.3,
                  washout: int = 100, seed: int = 0) -> np.ndarray:
    """Activity of every node under noise input, shape (T, K, N).

    Parameters
    ----------
    model : BioRNN, ReservoirEnsemble or ConnectomeReservoir
    n_steps : int
        Recorded steps T (after the washout).
    mean, sd : float
        Each input channel receives i.i.d. N(mean, sd) values at every step.
    washout : int
        Initial steps discarded (the transient from the zero state).
    seed : int
        Seed of the input noise (the same drive for every network).

    Returns
    -------
    (T, K, N) ndarray, float64
        K = 1 for a single reservoir.
    """
    _validate(n_steps, washout, sd)
    n_inputs = model.n_inputs
    rng = np.random.default_rng(seed)
    drive = rng.normal(mean, sd, size=(washout + n_steps, 1, n_inputs))
    states = as_recurrent_model(model).states(drive, seed=seed)[:, :, 0]
    return states[washout:]


def model_timescales(model: Any, *, dt_ms: float, method: str = "acf_sum", bold: bool = False,
                     tr_s: float = 0.72, hrf_model: str = "spm", **resting: Any) -> np.ndarray:
    """Intrinsic timescale of every node of every network, in seconds, shape (K, N).

    Parameters
    ----------
    model : BioRNN, ReservoirEnsemble or ConnectomeReservoir
    dt_ms : float
        Duration of one model step in ms (``model.config['dt']`` for a bioRNN).
    method : {'acf_sum', 'acw50', 'acw0', 'exp_fit'}
        Estimator (:func:`conn2rnn.analysis.timescales.intrinsic_timescales`).
    bold : bool
        Convolve the activity with the canonical HRF and resample to ``tr_s``
        before estimating, like fMRI.
    tr_s : float
        Repetition time of the simulated BOLD in seconds.
    hrf_model : {'spm', 'glover'}
    **resting
        Options of :func:`resting_state` (n_steps, mean, sd, washout, seed).

    Returns
    -------
    (K, N) ndarray
        Seconds. NaN (with a warning) where a node's timescale is undefined or
        a network's activity diverges under the drive.
    """
    if not np.isfinite(dt_ms) or dt_ms <= 0:
        raise ValueError(f"dt_ms must be a positive number of ms; got {dt_ms}")
    activity = resting_state(model, **resting)
    n_networks, n_nodes = activity.shape[1:]
    out = np.full((n_networks, n_nodes), np.nan)
    diverged = []
    for k in range(n_networks):
        act = activity[:, k]
        if not np.all(np.isfinite(act)):
            diverged.append(k)
            continue
        if bold:
            act = to_bold(act, dt_ms, tr_s, hrf_model=hrf_model)
        out[k] = intrinsic_timescales(act, tr_s if bold else dt_ms / 1000.0, method=method)
    if diverged:
        warnings.warn(f"network(s) {diverged} diverged under the resting drive (non-finite activity); "
                      "their timescales are NaN", RuntimeWarning, stacklevel=2)
    return out
