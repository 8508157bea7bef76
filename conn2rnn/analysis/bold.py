"""Simulated BOLD: convolve model activity with a canonical HRF and sample at the TR.

Units: the model step ``dt_ms`` is in milliseconds (the project's time unit) and the
repetition time ``tr_s`` in seconds (the fMRI convention).  The HRF kernel is
normalised to unit sum, so the BOLD signal is in the units of the activity
(arbitrary units): a constant input ``c`` gives a BOLD signal ``c`` once the kernel
length (32 s by default) has passed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import fftconvolve

from .._validation import to_numpy

__all__ = ["to_bold", "hrf_kernel"]

_HRF_MODELS = ("spm", "glover")


def hrf_kernel(dt_ms: float, hrf_model: str = "spm", time_length_s: float = 32.0) -> np.ndarray:
    """Canonical HRF sampled at the model step.

    Parameters
    ----------
    dt_ms : float
        Sampling interval of the kernel, in ms.
    hrf_model : {"spm", "glover"}
        nilearn's ``spm_hrf`` or ``glover_hrf``.
    time_length_s : float, default 32.0
        Kernel length, in s.

    Returns
    -------
    h : (K,) ndarray
        Unit-sum kernel, ``h[k]`` the response ``k * dt_ms`` ms after an impulse.
    """
    from nilearn.glm.first_level.hemodynamic_models import glover_hrf, spm_hrf  # heavy; only for the HRF models

    if hrf_model not in _HRF_MODELS:
        raise ValueError(f"unknown hrf_model {hrf_model!r}; valid models: {', '.join(_HRF_MODELS)}")
    dt_s = _positive(dt_ms, "dt_ms") / 1000.0
    if not np.isfinite(time_length_s) or time_length_s <= 2 * dt_s:
        raise ValueError(
            f"time_length_s must exceed two model steps ({2 * dt_s:g} s); got {time_length_s!r}"
        )
    fn = spm_hrf if hrf_model == "spm" else glover_hrf
    return np.asarray(fn(t_r=dt_s, oversampling=1, time_length=float(time_length_s)), dtype=float)


def _positive(value: Any, name: str) -> float:
    if not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return float(value)


def to_bold(
    activity: Any,
    dt_ms: float,
    tr_s: float,
    hrf_model: str = "spm",
    *,
    time_length_s: float = 32.0,
) -> np.ndarray:
    """BOLD signal from model activity: HRF convolution, then sampling at the TR.

    Parameters
    ----------
    activity : (T, N) or (T, B, N) array_like
        Activity (e.g. firing rates) sampled every ``dt_ms`` ms, time first.
    dt_ms : float
        Model step, in ms.
    tr_s : float
        Repetition time of the simulated scan, in s (must be >= the model step).
    hrf_model : {"spm", "glover"}, default "spm"
        Canonical HRF from nilearn.
    time_length_s : float, default 32.0
        HRF kernel length, in s.

    Returns
    -------
    bold : (T_bold, ...) ndarray
        ``bold[k]`` is the convolved signal at time ``k * tr_s`` s (linear
        interpolation between model steps), ``k = 0 .. floor((T - 1) dt / TR)``.
        The convolution is causal and starts from zero activity before ``t = 0``,
        so the first ``time_length_s`` seconds carry an onset transient; discard
        them before estimating timescales or FC.
    """
    activity = to_numpy(activity)
    x = np.array(activity, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise ValueError(
            f"activity must have shape (T, N) or (T, B, N) with time first; got shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise ValueError(
            f"activity contains {int((~np.isfinite(x)).sum())} NaN/inf values; "
            "the simulation diverged or the input is incomplete."
        )
    dt_ms = _positive(dt_ms, "dt_ms")
    tr_s = _positive(tr_s, "tr_s")
    if tr_s > 60.0:
        raise ValueError(f"tr_s is in seconds and must be <= 60; got {tr_s!r} (milliseconds?)")
    dt_s = dt_ms / 1000.0
    if tr_s < dt_s:
        raise ValueError(f"tr_s ({tr_s} s) must be >= the model step dt_ms ({dt_ms} ms)")
    duration = (x.shape[0] - 1) * dt_s
    if duration < tr_s:
        raise ValueError(
            f"activity spans {duration:g} s, shorter than one TR ({tr_s} s); simulate longer"
        )
    h = hrf_kernel(dt_ms, hrf_model, time_length_s)
    conv = fftconvolve(x, h.reshape((-1,) + (1,) * (x.ndim - 1)), mode="full", axes=0)
    conv = conv[: x.shape[0]]
    pos = np.arange(int(np.floor(duration / tr_s + 1e-9)) + 1) * (tr_s / dt_s)
    lo = np.minimum(np.floor(pos).astype(int), x.shape[0] - 2)
    frac = (pos - lo).reshape((-1,) + (1,) * (x.ndim - 1))
    return (1.0 - frac) * conv[lo] + frac * conv[lo + 1]
