"""Functional analyses of network activity: selectivity, energy, dimensionality.

Fixed points live in :mod:`conn2rnn.analysis.attractors` (:func:`~conn2rnn.analysis.fixed_points`).

Activity follows the project's sequence layout ``(T, B, N)`` (time, trials, units)
or ``(B, N)`` for one value per trial.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import to_numpy

__all__ = [
    "mixed_selectivity",
    "energy",
    "participation_ratio",
]


def _to_numpy(x: Any, name: str) -> np.ndarray:
    x = to_numpy(x)
    try:
        arr = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array or tensor; got {type(x).__name__}") from err
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains {int((~np.isfinite(arr)).sum())} NaN/inf values")
    return arr


def _r2(design: np.ndarray, y: np.ndarray, tss: np.ndarray) -> np.ndarray:
    """R^2 of the least-squares fit of every column of ``y`` (B, N) on ``design`` (B, p)."""
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    rss = ((y - design @ coef) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(1.0 - rss / tss, 0.0, 1.0)


def _dummies(codes: np.ndarray) -> np.ndarray:
    levels = np.unique(codes)
    return (codes[:, None] == levels[None, 1:]).astype(float)


def mixed_selectivity(
    activity: Any, task_variables: pd.DataFrame, *, categorical: Sequence[str] | None = None
) -> pd.DataFrame:
    """Variance of each unit explained by each task variable, alone and together.

    For every unit, the trial responses are regressed (ordinary least squares with
    an intercept) on each variable alone, on all variables additively, and, when
    every variable is categorical, on the full factorial (one mean per condition).
    For a categorical variable the single-variable R^2 is the one-way ANOVA eta^2.

    Parameters
    ----------
    activity : (B, N) or (T, B, N) array_like or tensor
        Responses of N units on B trials; with T, responses are averaged over time
        (slice the epoch of interest first, e.g. ``activity[t0:t1]``).
    task_variables : pandas.DataFrame
        One row per trial (B rows), one column per task variable.  Bool, string,
        object and category columns are categorical; numeric columns are linear
        regressors unless named in ``categorical``.
    categorical : sequence of str, optional
        Numeric columns to treat as categorical.

    Returns
    -------
    pandas.DataFrame
        Index ``unit`` (0 .. N-1); one R^2 column per variable, then ``additive``
        (all variables, no interactions), ``full`` (full factorial; NaN unless all
        variables are categorical) and ``nonlinear = full - additive`` (the
        nonlinear mixed selectivity of Rigotti et al. 2013).  R^2 is not adjusted
        for the number of levels; use many trials per condition.  Constant units
        are NaN (with a warning).
    """
    act = _to_numpy(activity, "activity")
    if act.ndim == 3:
        act = act.mean(axis=0)
    if act.ndim != 2:
        raise ValueError(f"activity must have shape (B, N) or (T, B, N); got {act.shape}")
    if not isinstance(task_variables, pd.DataFrame):
        raise TypeError(f"task_variables must be a pandas DataFrame; got {type(task_variables).__name__}")
    n_trials = act.shape[0]
    if len(task_variables) != n_trials or task_variables.shape[1] == 0:
        raise ValueError(
            f"task_variables must have one row per trial ({n_trials}) and at least one column; "
            f"got shape {task_variables.shape}"
        )
    categorical = list(categorical or [])
    unknown = sorted(set(categorical) - set(task_variables.columns))
    if unknown:
        raise ValueError(
            f"categorical names unknown columns {unknown}; columns: {list(task_variables.columns)}"
        )
    if task_variables.isna().any().any():
        raise ValueError("task_variables contains missing values; drop those trials first")
    y = act - act.mean(axis=0)
    tss = (y**2).sum(axis=0)
    const = np.flatnonzero(tss <= 1e-24 * max(1.0, float(np.abs(act).max())))
    if const.size:
        warnings.warn(
            f"units {const.tolist()[:10]} are constant across trials; their R^2 is NaN",
            RuntimeWarning,
            stacklevel=2,
        )
    ones = np.ones((n_trials, 1))
    blocks, all_categorical = {}, True
    for name in task_variables.columns:
        col = task_variables[name]
        is_cat = (
            name in categorical
            or not pd.api.types.is_numeric_dtype(col)
            or pd.api.types.is_bool_dtype(col)
        )
        all_categorical &= is_cat
        blocks[name] = _dummies(pd.factorize(col)[0]) if is_cat else col.to_numpy(float)[:, None]
    out = {name: _r2(np.hstack([ones, b]), y, tss) for name, b in blocks.items()}
    out["additive"] = _r2(np.hstack([ones, *blocks.values()]), y, tss)
    if all_categorical:
        cells = pd.factorize(pd.MultiIndex.from_frame(task_variables.astype(str)))[0]
        out["full"] = _r2(np.hstack([ones, _dummies(cells)]), y, tss)
    else:
        out["full"] = np.full(act.shape[1], np.nan)
    out["nonlinear"] = out["full"] - out["additive"]
    frame = pd.DataFrame(out)
    frame.loc[const] = np.nan
    frame.index.name = "unit"
    return frame


def energy(activity: Any, *, per_unit: bool = False) -> float | np.ndarray:
    """Mean absolute activity.

    Parameters
    ----------
    activity : (..., N) array_like or tensor
        E.g. ``(T, B, N)``.
    per_unit : bool, default False
        False: one number over everything.  True: one per unit (last axis).

    Returns
    -------
    float or (N,) ndarray
    """
    act = np.abs(_to_numpy(activity, "activity"))
    if act.size == 0:
        raise ValueError("activity is empty")
    if per_unit:
        return act.reshape(-1, act.shape[-1]).mean(axis=0)
    return float(act.mean())


def participation_ratio(activity: Any) -> float:
    """Dimensionality ``(sum lambda)^2 / sum lambda^2`` of the activity covariance.

    Parameters
    ----------
    activity : (..., N) array_like or tensor
        Samples along all leading axes (e.g. ``(T, B, N)`` pools time and trials).

    Returns
    -------
    float
        Between 1 (one dimension) and N (isotropic).
    """
    act = _to_numpy(activity, "activity")
    if act.ndim < 2:
        raise ValueError(f"activity must have shape (..., N) with samples first; got {act.shape}")
    x = act.reshape(-1, act.shape[-1])
    if x.shape[0] < 2:
        raise ValueError("participation_ratio needs at least 2 samples")
    lam = np.clip(np.linalg.eigvalsh(np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])), 0.0, None)
    if lam.sum() == 0:
        raise ValueError("activity is constant; its participation ratio is undefined")
    return float(lam.sum() ** 2 / (lam**2).sum())
