"""Model resting state: drive a network with noise, record every node, estimate INTs.

The bioRNN study drove trained networks through their input channels with
inputs drawn i.i.d. from N(0.5, 0.3) and computed each node's intrinsic
timescale from the recorded unit activity; :func:`resting_state` does the same
for bioRNN ensembles and reservoirs.

:func:`model_ints` is the audited entry point: raw activity by default (the
reference's statsmodels-style ACF, summed up to its first negative value, is
the ``acf_sum`` estimator), the BOLD route only with enough simulated time for
the TR (at least :data:`MIN_BOLD_SAMPLES` samples, else a ValueError that says
how many steps are needed), and silent and diverging nodes counted per network
in a :class:`ModelINTs` instead of being dropped. Why raw by default: nodes with
time constants of 100-1000 ms keep their order in raw-activity INTs, while the
HRF (several seconds of smoothing) dominates the ACF of a simulated BOLD signal
and erases it (see :func:`conn2rnn.analysis.int_validation.recovery_self_test`).

:func:`model_timescales` is the older, unaudited form (a plain (K, N) array)
kept for existing callers.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .._validation import readonly, to_numpy
from ..models.reservoir_ensemble import as_recurrent_model
from .bold import to_bold
from .timescales import METHODS, MIN_SAMPLES, acf, timescales_from_acf

__all__ = ["MIN_BOLD_SAMPLES", "ModelINTs", "ROUTES", "bold_sample_count", "ints_from_activity",
           "model_ints", "model_timescales", "resting_state"]


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

    The INT map of :func:`model_ints` (the same audit, the same refusal of a
    BOLD route with too few samples), with a warning naming the networks that
    were left out; use :func:`model_ints` for the counts themselves.

    Parameters
    ----------
    model : BioRNN, ReservoirEnsemble, ConnectomeReservoir or RecurrentModel
    dt_ms : float
        Duration of one model step in ms (``model.dt_ms`` for a bioRNN).
    method : {'acf_sum', 'acw50', 'acw0', 'exp_fit'}
        Estimator (:func:`conn2rnn.analysis.timescales.intrinsic_timescales`).
    bold : bool
        Estimate on simulated BOLD (canonical HRF, resampled to ``tr_s``), like fMRI.
    tr_s : float
        Repetition time of the simulated BOLD in seconds.
    hrf_model : {'spm', 'glover'}
    **resting
        Options of :func:`model_ints` (n_steps, mean, sd, washout, seed, min_bold_samples, ...).

    Returns
    -------
    (K, N) ndarray
        Seconds. NaN where a node has no timescale and for every node of an
        excluded network (diverged, or too few nodes with a timescale).
    """
    ints = model_ints(model, estimator=method, route="bold" if bold else "raw", dt_ms=dt_ms, tr_s=tr_s,
                      hrf=hrf_model, **resting)
    diverged = [k for k in range(ints.n_networks) if ints.diverged[k]]
    if diverged:
        warnings.warn(f"network(s) {diverged} diverged under the resting drive; their timescales are NaN",
                      RuntimeWarning, stacklevel=2)
    others = {k: r for k, r in enumerate(ints.excluded) if r is not None and k not in diverged}
    if others:
        warnings.warn(f"network(s) {sorted(others)} excluded: {'; '.join(others.values())}",
                      RuntimeWarning, stacklevel=2)
    return ints.ints_s


# --------------------------------------------------------------------------- model INTs, audited
#: Fewest BOLD samples accepted by the BOLD route (after the HRF onset is discarded).
MIN_BOLD_SAMPLES = 300
#: Where model INTs are estimated: on the unit activity, or on simulated BOLD.
ROUTES = ("raw", "bold")
_ESTIMATOR_NAMES = METHODS
_HRF_MODELS = ("spm", "glover")
# Length of the HRF kernel; BOLD samples in the first _HRF_LENGTH_S seconds are the onset transient.
_HRF_LENGTH_S = 32.0


@dataclass(frozen=True)
class ModelINTs:
    """Intrinsic timescales of an ensemble under the resting drive, with an audit of every node.

    Attributes
    ----------
    ints_s : (K, N) ndarray
        Seconds. NaN for silent nodes, nodes without a timescale and every node
        of an excluded network.
    n_silent : (K,) ndarray of int
        Nodes whose activity is constant over the recording (e.g. ReLU units
        below threshold); not counted (0) in a diverged network.
    n_undefined : (K,) ndarray of int
        Non-silent nodes of non-diverged networks for which the estimator gave
        no value (the ACF never crosses its level, or a failed fit).
    n_diverged_nodes : (K,) ndarray of int
        Nodes whose activity became non-finite or larger in magnitude than
        ``settings['divergence_threshold']``.
    diverged : (K,) ndarray of bool
        A network with any diverged node; its timescales are all NaN.
    excluded : tuple of K (str or None)
        Why network ``k`` is left out of comparisons (diverged, or too few
        nodes with a timescale); None when it is included.
    seeds : tuple of K int
        The networks' seeds (to pair networks across conditions).
    settings : mapping
        Everything the numbers depend on: estimator, route, drive mean and sd,
        washout, n_steps, seed, dt_ms, tr_s, hrf, min_bold_samples,
        n_bold_samples (None for the raw route), max_lag,
        divergence_threshold, min_valid_fraction, units.
    """

    ints_s: np.ndarray
    n_silent: np.ndarray
    n_undefined: np.ndarray
    n_diverged_nodes: np.ndarray
    diverged: np.ndarray
    excluded: tuple[str | None, ...]
    seeds: tuple[int, ...]
    settings: Mapping[str, Any]

    @property
    def n_networks(self) -> int:
        """K."""
        return int(self.ints_s.shape[0])

    @property
    def n_valid(self) -> np.ndarray:
        """(K,) int: nodes with a finite timescale."""
        return np.isfinite(self.ints_s).sum(axis=1)

    @property
    def included(self) -> np.ndarray:
        """(K,) bool: networks that enter comparisons."""
        return np.array([reason is None for reason in self.excluded])

    def mean_map(self) -> np.ndarray:
        """(N,) ensemble-mean INT map in seconds over the included networks.

        A node is NaN where no included network has a timescale for it; all
        NaN when every network is excluded.
        """
        kept = self.ints_s[self.included]
        out = np.full(self.ints_s.shape[1], np.nan)
        if kept.size:
            have = np.isfinite(kept).any(axis=0)
            out[have] = np.nanmean(kept[:, have], axis=0)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per network: its audit and the median INT.

        Columns: ``network, seed, n_nodes, n_valid, n_silent, n_undefined,
        n_diverged_nodes, diverged, included, excluded_reason, int_median_s,
        estimator, route``.
        """
        rows = []
        valid = self.n_valid
        for k in range(self.n_networks):
            row_ints = self.ints_s[k]
            rows.append({
                "network": k, "seed": self.seeds[k], "n_nodes": int(row_ints.size),
                "n_valid": int(valid[k]), "n_silent": int(self.n_silent[k]),
                "n_undefined": int(self.n_undefined[k]),
                "n_diverged_nodes": int(self.n_diverged_nodes[k]), "diverged": bool(self.diverged[k]),
                "included": self.excluded[k] is None, "excluded_reason": self.excluded[k],
                "int_median_s": float(np.nanmedian(row_ints)) if valid[k] else np.nan,
                "estimator": self.settings["estimator"], "route": self.settings["route"],
            })
        return pd.DataFrame(rows)


def _check_number(value: Any, name: str, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0) or (nonneg and value < 0):
        what = "a positive" if positive else "a non-negative" if nonneg else "a finite"
        raise ValueError(f"{name} must be {what} finite number; got {value!r}")
    return value


def bold_sample_count(n_steps: int, dt_ms: float, tr_s: float, *, discard_s: float = 32.0) -> int:
    """Number of BOLD samples the BOLD route estimates from, for ``n_steps`` model steps.

    :func:`~conn2rnn.analysis.bold.to_bold` samples at ``0, TR, 2 TR, ...`` up to
    the last model step; the samples in the first ``discard_s`` seconds carry
    the onset transient of the causal HRF convolution and are dropped.

    Parameters
    ----------
    n_steps : int
    dt_ms : float
        Model step in ms.
    tr_s : float
        Repetition time in s.
    discard_s : float, default 32.0
        The HRF kernel length in s.

    Returns
    -------
    int
        ``floor((n_steps - 1) dt / TR) + 1 - ceil(discard_s / TR)``, at least 0.
    """
    dt_s = _check_number(dt_ms, "dt_ms", positive=True) / 1000.0
    tr = _check_number(tr_s, "tr_s", positive=True)
    total = int(np.floor((n_steps - 1) * dt_s / tr + 1e-9)) + 1
    return max(0, total - _n_discard(tr, discard_s))


def _n_discard(tr_s: float, discard_s: float) -> int:
    return int(np.ceil(discard_s / tr_s - 1e-9))


def _min_steps_for_bold(n_samples: int, dt_ms: float, tr_s: float, discard_s: float) -> int:
    """Fewest model steps that give ``n_samples`` BOLD samples."""
    needed = n_samples + _n_discard(tr_s, discard_s) - 1  # floor((T - 1) dt / TR) >= needed
    steps = int(np.ceil(needed * tr_s * 1000.0 / dt_ms - 1e-9)) + 1
    while bold_sample_count(steps, dt_ms, tr_s, discard_s=discard_s) < n_samples:
        steps += 1
    return steps


def _check_route(route: str, estimator: str) -> None:
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; choose one of {', '.join(map(repr, ROUTES))}")
    if estimator not in _ESTIMATOR_NAMES:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of "
                         f"{', '.join(map(repr, _ESTIMATOR_NAMES))}")


def _check_bold_length(n_steps: int, dt_ms: float, tr_s: float, min_bold_samples: int) -> int:
    if tr_s * 1000.0 < dt_ms:
        raise ValueError(f"tr_s ({tr_s:g} s) must be at least one model step (dt_ms = {dt_ms:g} ms)")
    n_bold = bold_sample_count(n_steps, dt_ms, tr_s, discard_s=_HRF_LENGTH_S)
    floor = max(int(min_bold_samples), MIN_SAMPLES)  # the estimators' own minimum
    if n_bold < floor:
        need = _min_steps_for_bold(floor, dt_ms, tr_s, _HRF_LENGTH_S)
        raise ValueError(
            f"the BOLD route needs at least min_bold_samples={floor} BOLD samples; "
            f"n_steps={n_steps} at dt_ms={dt_ms:g} ms gives {(n_steps - 1) * dt_ms / 1000.0:g} s, "
            f"that is {n_bold} samples at tr_s={tr_s:g} s after the first {_HRF_LENGTH_S:g} s "
            f"(HRF onset) are dropped. Use n_steps >= {need}, or route='raw'"
        )
    return n_bold


def _check_options(min_bold_samples: Any, max_lag: Any, divergence_threshold: Any,
                   min_valid_fraction: Any, hrf: Any) -> None:
    if hrf not in _HRF_MODELS:
        raise ValueError(f"unknown hrf {hrf!r}; choose one of {', '.join(map(repr, _HRF_MODELS))}")
    if isinstance(min_bold_samples, bool) or not isinstance(min_bold_samples, (int, np.integer)) \
            or min_bold_samples < 0:
        raise ValueError(f"min_bold_samples must be a non-negative integer; got {min_bold_samples!r}")
    if max_lag is not None and (isinstance(max_lag, bool) or not isinstance(max_lag, (int, np.integer))
                                or max_lag < 1):
        raise ValueError(f"max_lag must be None (all lags) or a positive integer; got {max_lag!r}")
    _check_number(divergence_threshold, "divergence_threshold", positive=True)
    frac = _check_number(min_valid_fraction, "min_valid_fraction", nonneg=True)
    if frac > 1:
        raise ValueError(f"min_valid_fraction must be in [0, 1]; got {frac!r}")


def ints_from_activity(
    activity: Any,
    dt_ms: float,
    *,
    estimator: str = "acf_sum",
    route: str = "raw",
    tr_s: float = 0.72,
    hrf: str = "spm",
    min_bold_samples: int = MIN_BOLD_SAMPLES,
    max_lag: int | None = None,
    no_crossing: str = "nan",
    divergence_threshold: float = 1e6,
    min_valid_fraction: float = 0.5,
    seeds: Sequence[int] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> ModelINTs:
    """Audited intrinsic timescales from recorded activity, shape ``(T, K, N)`` or ``(T, K, B, N)``.

    The estimation half of :func:`model_ints`, for activity recorded elsewhere
    (the recovery self-test of :mod:`conn2rnn.analysis.int_validation` uses it
    so that a self-test and a model go through the same code).

    Parameters
    ----------
    activity : (T, K, N) or (T, K, B, N) array_like
        Activity of K networks of N nodes, one row per model step; with B, each
        network's B recordings (e.g. task trials) are realisations whose ACFs
        are averaged before the estimator (raw route only). A node is silent
        when it is constant over every realisation.
    dt_ms : float
        Model step in ms.
    estimator : {'acf_sum', 'aca50', 'acw50', 'acw0', 'exp_fit'}, default 'acf_sum'
        See :func:`conn2rnn.analysis.timescales.intrinsic_timescales`.
    route : {'raw', 'bold'}, default 'raw'
        'raw': estimate on the activity (lag spacing ``dt_ms``). 'bold':
        convolve with the canonical HRF, sample at ``tr_s``, drop the first
        32 s (HRF onset) and estimate on that (lag spacing ``tr_s``).
    tr_s : float, default 0.72
        Repetition time in s (BOLD route only).
    hrf : {'spm', 'glover'}, default 'spm'
    min_bold_samples : int, default 300
        The BOLD route refuses (ValueError naming n_steps, dt_ms, tr_s and
        the steps needed) when fewer BOLD samples would result.
    max_lag : int, optional
        Truncate the ACF at this lag, in samples (None: all lags). The
        reference bioRNN analysis uses statsmodels' ``acf(ts, nlags=50)`` and
        keeps lags 0-49: ``max_lag=49`` reproduces that window (a node whose
        ACF does not cross zero within it is counted in ``n_undefined``, where
        the reference code writes 0).
    no_crossing : {'nan', 'zero'}, default 'nan'
        What a node of a non-diverged network gets when it has no timescale
        (silent, or an ACF that does not cross the estimator's level within
        ``max_lag``): NaN (left out of comparisons) or 0, as the reference bioRNN
        analysis writes. Either way the nodes are counted in ``n_silent`` and
        ``n_undefined``.
    divergence_threshold : float, default 1e6
        A node diverges when its activity is non-finite or exceeds this in
        magnitude at any recorded step.
    min_valid_fraction : float, default 0.5
        A network with fewer than ``max(min(3, N), ceil(min_valid_fraction * N))``
        nodes with a timescale is excluded (with the reason).
    seeds : sequence of K int, optional
        Seeds of the networks (default 0 .. K-1).
    settings : mapping, optional
        Extra entries for :attr:`ModelINTs.settings` (the drive, for example).

    Returns
    -------
    ModelINTs
    """
    _check_route(route, estimator)
    _check_options(min_bold_samples, max_lag, divergence_threshold, min_valid_fraction, hrf)
    if no_crossing not in ("nan", "zero"):
        raise ValueError(f"no_crossing must be 'nan' or 'zero'; got {no_crossing!r}")
    dt_ms = _check_number(dt_ms, "dt_ms", positive=True)
    tr_s = _check_number(tr_s, "tr_s", positive=True)
    activity = to_numpy(activity)
    act = np.array(activity, dtype=np.float64)
    if act.ndim not in (3, 4):
        raise ValueError(f"activity must have shape (T, K, N) or (T, K, B, N) with time first; "
                         f"got shape {act.shape}")
    if act.ndim == 4 and route == "bold":
        raise ValueError("route='bold' needs one continuous recording per network, (T, K, N); "
                         f"got {act.shape[2]} realisations per network")
    t, k, n = act.shape[0], act.shape[1], act.shape[-1]
    n_bold = None
    if route == "bold":
        n_bold = _check_bold_length(t, dt_ms, tr_s, int(min_bold_samples))
    elif t < 10:
        raise ValueError(f"activity has T={t} steps; at least 10 are needed to estimate timescales")
    seeds_t = tuple(range(k)) if seeds is None else tuple(int(s) for s in seeds)
    if len(seeds_t) != k:
        raise ValueError(f"seeds must have one entry per network ({k}); got {len(seeds_t)}")
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isfinite(act) | (np.abs(act) > divergence_threshold)
    bad_nodes = bad.any(axis=0)  # (K, N), or (K, B, N) with realisations
    n_div_nodes = (bad_nodes.any(axis=1) if act.ndim == 4 else bad_nodes).sum(axis=1)
    diverged = n_div_nodes > 0
    ints = np.full((k, n), np.nan)
    n_silent = np.zeros(k, dtype=int)
    n_undefined = np.zeros(k, dtype=int)
    need = max(min(3, n), int(np.ceil(min_valid_fraction * n - 1e-9)))
    excluded: list[str | None] = []
    dt_est = tr_s if route == "bold" else dt_ms / 1000.0
    for j in range(k):
        if diverged[j]:
            excluded.append(f"diverged: {int(n_div_nodes[j])} of {n} nodes non-finite or beyond "
                            f"{divergence_threshold:g} in the recorded activity")
            continue
        x = act[:, j]
        flat = x.reshape(-1, n)
        scale = np.abs(flat).max(axis=0)
        silent = np.ptp(flat, axis=0) <= 1e-12 * np.where(scale > 0, scale, 1.0)
        n_silent[j] = int(silent.sum())
        if route == "bold":
            x = to_bold(x, dt_ms, tr_s, hrf_model=hrf, time_length_s=_HRF_LENGTH_S)
            x = x[_n_discard(tr_s, _HRF_LENGTH_S):]
        tau = np.full(n, np.nan)
        active = ~silent
        if active.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # counted in n_undefined instead
                r = acf(x[..., active], max_lag=None if max_lag is None else min(int(max_lag), x.shape[0] - 1))
                tau[active] = timescales_from_acf(r, dt_est, method=estimator)
        n_undefined[j] = int((active & ~np.isfinite(tau)).sum())
        if no_crossing == "zero":
            tau[~np.isfinite(tau)] = 0.0
        ints[j] = tau
        n_ok = int(np.isfinite(tau).sum())
        if n_ok < need:
            excluded.append(f"too few nodes with a timescale: {n_ok} of {n} (silent {n_silent[j]}, "
                            f"undefined {n_undefined[j]}); at least {need} needed "
                            f"(min_valid_fraction={min_valid_fraction:g})")
            ints[j] = np.nan
        else:
            excluded.append(None)
    used = {
        "estimator": estimator, "route": route, "dt_ms": dt_ms,
        "tr_s": tr_s if route == "bold" else None, "hrf": hrf if route == "bold" else None,
        "min_bold_samples": int(min_bold_samples), "n_bold_samples": n_bold,
        "bold_discard_s": _HRF_LENGTH_S if route == "bold" else None, "max_lag": max_lag,
        "no_crossing": no_crossing,
        "divergence_threshold": float(divergence_threshold),
        "min_valid_fraction": float(min_valid_fraction), "min_valid_nodes": need,
        "n_recorded_steps": t, "units": "s",
    }
    used.update(settings or {})
    return ModelINTs(
        ints_s=readonly(ints), n_silent=readonly(n_silent), n_undefined=readonly(n_undefined),
        n_diverged_nodes=readonly(n_div_nodes.astype(int)), diverged=readonly(diverged),
        excluded=tuple(excluded), seeds=seeds_t, settings=MappingProxyType(used),
    )


def model_ints(
    model: Any,
    *,
    estimator: str = "acf_sum",
    route: str = "raw",
    mean: float = 0.5,
    sd: float = 0.3,
    washout: int = 100,
    n_steps: int = 1200,
    seed: int = 0,
    dt_ms: float | None = None,
    tr_s: float = 0.72,
    hrf: str = "spm",
    min_bold_samples: int = MIN_BOLD_SAMPLES,
    max_lag: int | None = None,
    no_crossing: str = "nan",
    divergence_threshold: float = 1e6,
    min_valid_fraction: float = 0.5,
) -> ModelINTs:
    """Intrinsic timescales of every node of every network, from raw activity by default.

    The network is driven through its input channels by i.i.d. N(``mean``,
    ``sd``) inputs (the same drive for every network), the first ``washout``
    steps are discarded and each node's INT is estimated on the next
    ``n_steps`` steps. With the defaults this is the reference bioRNN analysis:
    the ``acf_sum`` estimator is the sum of the biased (statsmodels-style,
    demeaned, divided by ``T``) ACF from lag 0 up to, not including, its first
    negative value, i.e. the reference's ``aca_0`` area, here times the step
    in seconds. Silent and diverging nodes are counted, not dropped silently;
    a network with too few nodes with a timescale is excluded with the reason.

    Parameters
    ----------
    model : BioRNN, ReservoirEnsemble, ConnectomeReservoir or RecurrentModel
    estimator : {'acf_sum', 'aca50', 'acw50', 'acw0', 'exp_fit'}, default 'acf_sum'
    route : {'raw', 'bold'}, default 'raw'
        See :func:`ints_from_activity`. The BOLD route refuses before
        simulating when ``n_steps`` gives fewer than ``min_bold_samples``.
    mean, sd : float, default 0.5, 0.3
        The resting drive N(mean, sd) on every input channel.
    washout : int, default 100
        Steps discarded before recording.
    n_steps : int, default 1200
        Steps recorded.
    seed : int, default 0
        Seed of the drive (and of a model's own state noise).
    dt_ms : float, optional
        Model step in ms; default ``model.dt_ms``.
    tr_s, hrf, min_bold_samples, max_lag, no_crossing, divergence_threshold, min_valid_fraction
        See :func:`ints_from_activity`.

    Returns
    -------
    ModelINTs
        ``ints_s`` is (K, N) in seconds.
    """
    _check_route(route, estimator)
    _check_options(min_bold_samples, max_lag, divergence_threshold, min_valid_fraction, hrf)
    _validate(n_steps, washout, sd)
    mean = _check_number(mean, "mean")
    rm = as_recurrent_model(model)
    if dt_ms is None:
        dt_ms = rm.dt_ms
        if dt_ms is None:
            raise ValueError(f"this {rm.family} model has no physical time step; pass dt_ms (ms)")
    dt_ms = _check_number(dt_ms, "dt_ms", positive=True)
    if route == "bold":
        _check_bold_length(n_steps, dt_ms, _check_number(tr_s, "tr_s", positive=True), int(min_bold_samples))
    with np.errstate(over="ignore", invalid="ignore"):
        activity = resting_state(rm, n_steps=n_steps, mean=mean, sd=sd, washout=washout, seed=seed)
    drive = {"drive_mean": mean, "drive_sd": float(sd), "washout": int(washout), "n_steps": int(n_steps),
             "seed": int(seed), "family": getattr(rm, "family", type(model).__name__)}
    return ints_from_activity(
        activity, dt_ms, estimator=estimator, route=route, tr_s=tr_s, hrf=hrf,
        min_bold_samples=min_bold_samples, max_lag=max_lag, no_crossing=no_crossing,
        divergence_threshold=divergence_threshold, min_valid_fraction=min_valid_fraction, seeds=rm.seeds,
        settings=drive,
    )
