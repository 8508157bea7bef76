"""Intrinsic neural timescales (INT) from time series.

The same estimators run on simulated activity and on empirical BOLD, so that a
model map and a brain map are computed by identical code.  Every estimator takes
a series ``x`` of shape ``(T, N)`` (or ``(T, B, N)``: ``B`` independent
realisations whose autocorrelation functions are averaged before estimation)
and returns one timescale per node, shape ``(N,)``.

Units: ``dt`` is the sampling interval and the result is in the units of ``dt``.
Pass the repetition time in seconds for BOLD (result in seconds), the model step
in ms for simulated activity (result in ms), or keep ``dt=1.0`` for a result in
samples (model steps).

Methods
-------
``"acf_sum"``
    Sum of the autocorrelation function (ACF) from lag 0 up to, not including,
    the first lag at which it is negative, times ``dt``.  This is the estimator
    of the Healthy Brain Network INT map (Shafiei et al.): z-scored series,
    biased ACF over all lags, lag 0 included.  ``include_lag0=False`` gives the
    variant that starts at lag 1 (smaller by exactly ``dt``).
``"aca50"``
    Area of the ACF from lag 0 up to, not including, the first lag at which it
    falls below 0.5, times ``dt`` (the "ACA-50" of the reference bioRNN analysis;
    its "ACA-0" is ``"acf_sum"``).
``"acw50"`` / ``"acw0"``
    Autocorrelation window: the first lag at which the ACF falls below 0.5
    (Honey et al. 2012) or below 0 (Golesorkhi et al. 2021), times ``dt``.
``"exp_fit"``
    ``tau`` of ``ACF(k) = A * (exp(-k dt / tau) + B)`` fitted by least squares
    (Murray et al. 2014).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from .._validation import to_numpy

__all__ = [
    "acf",
    "int_acf_sum",
    "int_acw",
    "int_exp_fit",
    "intrinsic_timescales",
    "timescales_from_acf",
    "MIN_SAMPLES",
]

#: Fewest time points accepted by the estimators.
MIN_SAMPLES = 10

_METHODS = ("acf_sum", "aca50", "acw50", "acw0", "exp_fit")
#: INT estimators by name (the ``method`` of :func:`intrinsic_timescales`).
METHODS = _METHODS


def _as_float_array(x: Any, name: str) -> np.ndarray:
    x = to_numpy(x)
    try:
        return np.array(x, dtype=np.float64)  # a copy: callers are never touched
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array; got {type(x).__name__}") from err


def _node_list(idx: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    more = f", ... ({idx.size} in all)" if idx.size > limit else ""
    return f"[{shown}{more}]"


def _check_dt(dt: float) -> float:
    if not np.isscalar(dt) or not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive finite number (the sampling interval); got {dt!r}")
    return float(dt)


def _prepare_series(x: Any) -> tuple[np.ndarray, int, int]:
    """Validate ``x`` and return it as ``(T, B * N)`` with ``B`` and ``N``."""
    arr = _as_float_array(x, "x")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3:
        raise ValueError(
            f"x must have shape (T,), (T, N) or (T, B, N) with time first; got shape {arr.shape}"
        )
    t, b, n = arr.shape
    if t < MIN_SAMPLES:
        raise ValueError(
            f"x has T={t} time points; at least {MIN_SAMPLES} are needed to estimate an "
            "autocorrelation. Pass a longer series (time is the first axis)."
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        nodes = np.flatnonzero(bad.any(axis=(0, 1)))
        raise ValueError(
            f"x contains {int(bad.sum())} NaN/inf values (nodes {_node_list(nodes)}); "
            "remove or interpolate them before estimating timescales."
        )
    return arr.reshape(t, b * n), b, n


def _acf_columns(x: np.ndarray, max_lag: int, unbiased: bool) -> tuple[np.ndarray, np.ndarray]:
    """ACF of each column of ``x`` (T, M) by FFT; also the mask of constant columns."""
    t = x.shape[0]
    xc = x - x.mean(axis=0)
    scale = np.abs(x).max(axis=0)
    constant = xc.std(axis=0) <= 1e-12 * np.where(scale > 0, scale, 1.0)
    nfft = 1 << int(np.ceil(np.log2(2 * t - 1)))
    spec = np.fft.rfft(xc, n=nfft, axis=0)
    acov = np.fft.irfft(spec * spec.conj(), n=nfft, axis=0)[: max_lag + 1]
    if unbiased:
        acov = acov * (t / (t - np.arange(max_lag + 1)))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = acov / acov[0]
    r[:, constant] = np.nan
    return r, constant


def acf(x: Any, max_lag: int | None = None, *, unbiased: bool = False) -> np.ndarray:
    """Autocorrelation function of each node.

    Parameters
    ----------
    x : (T,), (T, N) or (T, B, N) array_like
        Time series, time first.  With ``B`` the ACFs of the ``B`` independent
        series of a node are averaged.
    max_lag : int, optional
        Largest lag, in samples; default ``T - 1`` (all lags).
    unbiased : bool, default False
        ``False``: the biased estimator ``sum_t x_t x_{t+k} / sum_t x_t^2`` on the
        demeaned series (as ``statsmodels.tsa.stattools.acf`` by default; positive
        semi-definite, shrinks long lags).  ``True``: each lag's autocovariance is
        divided by ``T - k`` instead of ``T``.

    Returns
    -------
    r : (max_lag + 1, N) ndarray
        ``r[0] == 1``.  Columns of constant nodes are NaN (with a warning naming them).
    """
    cols, b, n = _prepare_series(x)
    t = cols.shape[0]
    if max_lag is None:
        max_lag = t - 1
    if not isinstance(max_lag, (int, np.integer)) or not 1 <= max_lag <= t - 1:
        raise ValueError(f"max_lag must be an integer in [1, T - 1 = {t - 1}]; got {max_lag!r}")
    r, constant = _acf_columns(cols, int(max_lag), unbiased)
    r = r.reshape(-1, b, n).mean(axis=1)
    const_nodes = np.flatnonzero(constant.reshape(b, n).any(axis=0))
    if const_nodes.size:
        warnings.warn(
            f"x is constant for nodes {_node_list(const_nodes)}; their autocorrelation and "
            "timescale are NaN.",
            RuntimeWarning,
            stacklevel=3,
        )
    return r


def _first_below(r: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first lag with ``r < level`` and whether there is one, per node."""
    below = r < level
    return below.argmax(axis=0), below.any(axis=0)


def _warn_no_crossing(nodes: np.ndarray, level: float, n_lags: int) -> None:
    if nodes.size:
        warnings.warn(
            f"the autocorrelation of nodes {_node_list(nodes)} never falls below {level:g} "
            f"within {n_lags - 1} lags; their timescale is NaN. Use a longer series or a "
            "larger max_lag.",
            RuntimeWarning,
            stacklevel=4,
        )


def _acf_sum(r: np.ndarray, dt: float, include_lag0: bool = True, level: float = 0.0) -> np.ndarray:
    first, found = _first_below(r, level)
    lags = np.arange(r.shape[0])[:, None]
    keep = (lags < first[None, :]) & (lags >= (0 if include_lag0 else 1))
    out = np.where(keep, r, 0.0).sum(axis=0) * dt
    valid = ~np.isnan(r).any(axis=0)
    _warn_no_crossing(np.flatnonzero(valid & ~found), level, r.shape[0])
    out[~found | ~valid] = np.nan
    return out


def _acw(r: np.ndarray, dt: float, level: float = 0.5, interpolate: bool = False) -> np.ndarray:
    if not 0.0 <= level < 1.0:
        raise ValueError(f"level must be in [0, 1) (0.5 for ACW-50, 0 for ACW-0); got {level!r}")
    first, found = _first_below(r, level)
    out = first.astype(np.float64)
    if interpolate:
        k = np.maximum(first, 1)
        cols = np.arange(r.shape[1])
        before, after = r[k - 1, cols], r[k, cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (k - 1) + (before - level) / (before - after)
    valid = ~np.isnan(r).any(axis=0)
    _warn_no_crossing(np.flatnonzero(valid & ~found), level, r.shape[0])
    out[~found | ~valid] = np.nan
    return out * dt


def _exp_model(lag_time: np.ndarray, amp: float, tau: float, offset: float) -> np.ndarray:
    return amp * (np.exp(-lag_time / tau) + offset)


def _exp_fit(
    r: np.ndarray, dt: float, max_lag: int | None = None, min_lag: int = 1
) -> np.ndarray:
    n_lags = r.shape[0]
    if not isinstance(min_lag, (int, np.integer)) or min_lag < 0:
        raise ValueError(f"min_lag must be a non-negative integer; got {min_lag!r}")
    if max_lag is not None and (
        not isinstance(max_lag, (int, np.integer)) or not min_lag + 3 <= max_lag < n_lags
    ):
        raise ValueError(
            f"max_lag must be an integer in [min_lag + 3 = {min_lag + 3}, {n_lags - 1}] "
            f"(three parameters are fitted); got {max_lag!r}"
        )
    first, found = _first_below(r, 0.0)
    out = np.full(r.shape[1], np.nan)
    failed = []
    for j in range(r.shape[1]):
        if np.isnan(r[:, j]).any():
            continue
        stop = max_lag + 1 if max_lag is not None else (first[j] if found[j] else n_lags)
        lags = np.arange(min_lag, stop)
        if lags.size < 3:
            failed.append(j)
            continue
        y = r[lags, j]
        r1 = r[1, j]
        tau0 = -dt / np.log(r1) if 0.0 < r1 < 1.0 else dt
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                popt, _ = curve_fit(
                    _exp_model,
                    lags * dt,
                    y,
                    p0=(1.0, tau0, 0.0),
                    bounds=([0.0, 1e-6 * dt, -1.0], [np.inf, np.inf, 1.0]),
                    maxfev=10_000,
                )
        except (RuntimeError, ValueError):
            failed.append(j)
            continue
        out[j] = popt[1]
    if failed:
        warnings.warn(
            f"the exponential fit failed for nodes {_node_list(np.asarray(failed))} (too few "
            "positive lags or no convergence); their timescale is NaN.",
            RuntimeWarning,
            stacklevel=3,
        )
    return out


_ESTIMATORS = {
    "acf_sum": _acf_sum,
    "aca50": lambda r, dt, **kw: _acf_sum(r, dt, level=0.5, **kw),
    "acw50": lambda r, dt, **kw: _acw(r, dt, level=0.5, **kw),
    "acw0": lambda r, dt, **kw: _acw(r, dt, level=0.0, **kw),
    "exp_fit": _exp_fit,
}


def timescales_from_acf(
    r: Any, dt: float = 1.0, method: str = "acf_sum", **options: Any
) -> np.ndarray:
    """Timescale of each node from a precomputed autocorrelation function.

    Parameters
    ----------
    r : (L,) or (L, N) array_like
        ACF at lags ``0 .. L-1`` (``r[0] == 1``), e.g. from :func:`acf` or an exact
        closed form.
    dt : float, default 1.0
        Lag spacing; the result is in its units (see the module notes).
    method : {"acf_sum", "aca50", "acw50", "acw0", "exp_fit"}
    **options
        ``acf_sum``/``aca50``: ``include_lag0`` (default True); ``acw50``/``acw0``:
        ``interpolate`` (default False: the first lag below the level; True: linear
        interpolation between that lag and the one before); ``exp_fit``:
        ``max_lag`` (default: the last lag before the first negative ACF value) and
        ``min_lag`` (default 1: lag 0 is left out of the fit).

    Returns
    -------
    tau : (N,) ndarray
        In the units of ``dt``; NaN where undefined (with a warning naming the nodes).
    """
    if method not in _ESTIMATORS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(_METHODS)}")
    arr = _as_float_array(r, "r")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ValueError(f"r must have shape (L, N) with L >= 2 lags; got shape {arr.shape}")
    if np.isinf(arr).any():
        raise ValueError("r contains infinite values; an autocorrelation lies in [-1, 1]")
    nan_nodes = np.flatnonzero(np.isnan(arr).any(axis=0))
    lag0 = arr[0]
    off = np.flatnonzero(~np.isnan(lag0) & ~np.isclose(lag0, 1.0, rtol=0.0, atol=1e-6))
    if off.size:
        raise ValueError(
            f"r[0] must be 1 (the autocorrelation at lag 0); got {lag0[off[0]]:.6g} for nodes "
            f"{_node_list(off)}. Pass an ACF normalised by the variance (e.g. from acf()), not "
            "an autocovariance")
    if nan_nodes.size:
        warnings.warn(
            f"the ACF of nodes {_node_list(nan_nodes)} contains NaN values; their timescale is NaN.",
            RuntimeWarning,
            stacklevel=2,
        )
    return _ESTIMATORS[method](arr, _check_dt(dt), **options)


def int_acf_sum(
    x: Any, dt: float = 1.0, *, include_lag0: bool = True, unbiased: bool = False
) -> np.ndarray:
    """INT as the sum of the ACF up to its first negative value, times ``dt``.

    Matches the HBN resting-state INT map: biased ACF over all lags, summed from
    lag 0 (``include_lag0=True``) up to, not including, the first lag with a
    negative value.

    Parameters
    ----------
    x : (T, N) or (T, B, N) array_like
        Time series, time first.
    dt : float, default 1.0
        Sampling interval; the result is in its units (TR in s -> seconds).
    include_lag0 : bool, default True
        Start the sum at lag 0 (value 1) as in the HBN map, or at lag 1.
    unbiased : bool, default False
        ACF estimator, see :func:`acf`.

    Returns
    -------
    tau : (N,) ndarray
        NaN for constant nodes and for nodes whose ACF never turns negative.
    """
    return _acf_sum(acf(x, unbiased=unbiased), _check_dt(dt), include_lag0=include_lag0)


def int_acw(
    x: Any, dt: float = 1.0, level: float = 0.5, *, interpolate: bool = False
) -> np.ndarray:
    """Autocorrelation window: first lag at which the ACF falls below ``level``.

    Parameters
    ----------
    x : (T, N) or (T, B, N) array_like
        Time series, time first.
    dt : float, default 1.0
        Sampling interval; the result is in its units.
    level : float, default 0.5
        0.5 gives ACW-50, 0 gives ACW-0.
    interpolate : bool, default False
        False: the first lag ``k`` with ``ACF(k) < level``, times ``dt``.  True: the
        crossing linearly interpolated between lags ``k - 1`` and ``k``.

    Returns
    -------
    tau : (N,) ndarray
    """
    return _acw(acf(x), _check_dt(dt), level=level, interpolate=interpolate)


def int_exp_fit(
    x: Any, dt: float = 1.0, max_lag: int | None = None, *, min_lag: int = 1
) -> np.ndarray:
    """Decay time of an exponential fitted to the ACF (Murray et al. 2014).

    Fits ``ACF(k) = A * (exp(-k dt / tau) + B)`` with
    :func:`scipy.optimize.curve_fit` (``A >= 0``, ``tau > 0``, ``-1 <= B <= 1``).

    Parameters
    ----------
    x : (T, N) or (T, B, N) array_like
        Time series, time first.
    dt : float, default 1.0
        Sampling interval; ``tau`` is in its units.
    max_lag : int, optional
        Last lag used, in samples.  Default: per node, the last lag before the ACF
        first turns negative.
    min_lag : int, default 1
        First lag used; lag 0 is left out by default because measurement noise adds
        to it only.

    Returns
    -------
    tau : (N,) ndarray
        NaN where the fit fails (with a warning naming the nodes).
    """
    return _exp_fit(acf(x), _check_dt(dt), max_lag=max_lag, min_lag=min_lag)


def intrinsic_timescales(
    x: Any, dt: float = 1.0, method: str = "acf_sum", **options: Any
) -> np.ndarray:
    """Intrinsic timescale of each node by a named method.

    Parameters
    ----------
    x : (T, N) or (T, B, N) array_like
        Time series (simulated activity or BOLD), time first.
    dt : float, default 1.0
        Sampling interval; the result is in its units (TR in s for BOLD -> seconds;
        1.0 -> model steps).
    method : {"acf_sum", "acw50", "acw0", "exp_fit"}
    **options
        Passed to the estimator, see :func:`timescales_from_acf`.

    Returns
    -------
    tau : (N,) ndarray
    """
    if method not in _ESTIMATORS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(_METHODS)}")
    return _ESTIMATORS[method](acf(x), _check_dt(dt), **options)
