"""Functional analyses of network activity: selectivity, energy, dimensionality, fixed points.

Activity follows the project's sequence layout ``(T, B, N)`` (time, trials, units)
or ``(B, N)`` for one value per trial.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "mixed_selectivity",
    "energy",
    "participation_ratio",
    "FixedPoints",
    "find_fixed_points",
]


def _to_numpy(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
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


@dataclass(frozen=True)
class FixedPoints:
    """Fixed points of a discrete-time map ``h -> F(h)``.

    Attributes
    ----------
    points : (K, N) ndarray
        Distinct fixed points, ordered by ``q``.
    q : (K,) ndarray
        ``||F(h) - h||^2`` at each point.
    eigenvalues : (K, N) complex ndarray
        Eigenvalues of the Jacobian ``dF/dh`` at each point, by decreasing modulus.
    stability : tuple of str
        "stable" (all ``|lambda| < 1``), "unstable" (all ``> 1``), "saddle" (both)
        or "marginal" (some ``|lambda|`` within ``marginal_tol`` of 1).
    n_hits : (K,) ndarray of int
        Starts that converged to each point.
    n_starts : int
    n_converged : int
        Starts that reached ``q < tol``.
    """

    points: np.ndarray
    q: np.ndarray
    eigenvalues: np.ndarray
    stability: tuple[str, ...]
    n_hits: np.ndarray
    n_starts: int
    n_converged: int

    def to_frame(self) -> pd.DataFrame:
        """One row per fixed point: ``q, stability, n_hits, max_abs_eig``."""
        return pd.DataFrame(
            {
                "q": self.q,
                "stability": list(self.stability),
                "n_hits": self.n_hits,
                "max_abs_eig": np.abs(self.eigenvalues[:, 0]) if len(self.q) else [],
            }
        )


def _classify(eig: np.ndarray, marginal_tol: float) -> str:
    mag = np.abs(eig)
    if np.any(np.abs(mag - 1.0) <= marginal_tol):
        return "marginal"
    if np.all(mag < 1.0):
        return "stable"
    return "unstable" if np.all(mag > 1.0) else "saddle"


def find_fixed_points(
    step_fn: Callable[[Any], Any],
    n_nodes: int,
    *,
    n_starts: int = 64,
    seed: Any = 0,
    tol: float = 1e-10,
    max_iter: int = 1000,
    init: Any = None,
    init_scale: float = 1.0,
    dedup_tol: float = 1e-4,
    marginal_tol: float = 1e-6,
    dtype: Any = None,
) -> FixedPoints:
    """Fixed points of a recurrent step by minimising ``q(h) = ||F(h) - h||^2``.

    All starts are optimised together with L-BFGS (the objective is a sum of
    independent per-start terms); starts ending with ``q < tol`` are merged when
    closer than ``dedup_tol`` (Euclidean), and the Jacobian of ``F`` is taken at each
    distinct point by autograd.  For a discretised continuous-time network
    (``h + dt / tau * (-h + f(W h + b))``) the fixed points are those of the ODE and
    ``|lambda| < 1`` corresponds to a negative real part for small ``dt / tau``.

    Parameters
    ----------
    step_fn : callable
        Maps a ``(B, N)`` tensor to a ``(B, N)`` tensor, differentiably (e.g. one RNN
        step with zero input).  Parameter gradients are not touched.
    n_nodes : int
        N.
    n_starts : int, default 64
        Random starts ``N(0, init_scale^2)`` (ignored when ``init`` is given).
    seed : int or torch.Generator, default 0
        Seed (or generator) for the random starts.
    tol : float, default 1e-10
        Convergence threshold on ``q``.
    max_iter : int, default 1000
        L-BFGS iterations.
    init : (S, N) array_like or tensor, optional
        Starting states, e.g. states visited during a task.
    init_scale : float, default 1.0
    dedup_tol : float, default 1e-4
    marginal_tol : float, default 1e-6
    dtype : torch.dtype, optional
        Default ``torch.float64``; ``step_fn`` must accept it.

    Returns
    -------
    FixedPoints
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype
    if not isinstance(n_nodes, (int, np.integer)) or n_nodes < 1:
        raise ValueError(f"n_nodes must be a positive integer; got {n_nodes!r}")
    if init is not None:
        h0 = torch.as_tensor(_to_numpy(init, "init"), dtype=dtype)
        if h0.ndim != 2 or h0.shape[1] != n_nodes:
            raise ValueError(f"init must have shape (S, {n_nodes}); got {tuple(h0.shape)}")
    else:
        if not isinstance(n_starts, (int, np.integer)) or n_starts < 1:
            raise ValueError(f"n_starts must be a positive integer; got {n_starts!r}")
        gen = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
        h0 = init_scale * torch.randn(int(n_starts), n_nodes, generator=gen, dtype=dtype)
    with torch.no_grad():
        probe = step_fn(h0[:1].clone())
    if not isinstance(probe, torch.Tensor) or tuple(probe.shape) != (1, n_nodes):
        shape = tuple(probe.shape) if hasattr(probe, "shape") else type(probe).__name__
        raise ValueError(f"step_fn must map a (B, {n_nodes}) tensor to a (B, {n_nodes}) tensor; got {shape}")

    h = h0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS(
        [h], lr=1.0, max_iter=int(max_iter), tolerance_grad=1e-14, tolerance_change=1e-18,
        history_size=50, line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        loss = ((step_fn(h) - h) ** 2).sum()
        (h.grad,) = torch.autograd.grad(loss, h)
        return loss

    opt.step(closure)
    with torch.no_grad():
        q_all = ((step_fn(h) - h) ** 2).sum(dim=1).cpu().numpy()
        final = h.detach().cpu().numpy()
    converged = np.flatnonzero(q_all < tol)
    reps, hits = [], []
    for i in converged[np.argsort(q_all[converged], kind="stable")]:
        dists = np.array([np.linalg.norm(final[i] - final[j]) for j in reps])
        if dists.size and dists.min() < dedup_tol:
            hits[int(np.argmin(dists))] += 1
        else:
            reps.append(i)
            hits.append(1)
    eigs, labels = [], []
    for i in reps:
        jac = torch.autograd.functional.jacobian(
            lambda v: step_fn(v[None])[0], torch.as_tensor(final[i], dtype=dtype)
        )
        ev = torch.linalg.eigvals(jac).cpu().numpy()
        ev = ev[np.argsort(-np.abs(ev), kind="stable")]
        eigs.append(ev)
        labels.append(_classify(ev, marginal_tol))
    return FixedPoints(
        points=final[reps].reshape(-1, n_nodes),
        q=q_all[reps],
        eigenvalues=np.array(eigs, dtype=complex).reshape(-1, n_nodes),
        stability=tuple(labels),
        n_hits=np.array(hits, dtype=int),
        n_starts=int(h0.shape[0]),
        n_converged=int(converged.size),
    )
