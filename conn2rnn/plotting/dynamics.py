"""Figures of network dynamics: state-space trajectories with fixed points, attractors, comparisons."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import as_float_array
from ._common import _figure, _save

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_attractors", "plot_dynamics_comparison", "plot_impulse_recall", "plot_state_space"]

_STABILITY_STYLE = {"stable": ("o", "black"), "saddle": ("X", "tab:red"), "unstable": ("^", "tab:orange"),
                    "marginal": ("s", "tab:blue")}


def _pca(samples: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, (n, N) principal axes and explained-variance fractions of (S, N) samples."""
    mean = samples.mean(axis=0)
    _, s, vt = np.linalg.svd(samples - mean, full_matrices=False)
    var = s ** 2
    return mean, vt[:n], var[:n] / var.sum()


def _axes(fig: Figure, dims: int, pos: int = 111):
    return fig.add_subplot(pos, projection="3d") if dims == 3 else fig.add_subplot(pos)


def plot_state_space(states: Any, *, fixed_points: Any = None, network: int = 0, dims: int = 2,
                     title: str | None = None, path: str | Path | None = None) -> Figure:
    """Trajectories in the plane (or space) of their first principal components.

    Parameters
    ----------
    states : (T, N) or (T, B, N) array_like
        One network's states (e.g. ``model.states(x)[:, k]``); each trial is a line.
    fixed_points : FixedPoints, optional
        From :func:`conn2rnn.analysis.fixed_points`; network ``network``'s points
        are projected on the same axes, marked by stability (slow points hollow).
    network : int
        Which network of ``fixed_points`` to draw.
    dims : {2, 3}
    title : str, optional
    path : str or Path, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = as_float_array(states, "states")
    x = x[:, None, :] if x.ndim == 2 else x
    if x.ndim != 3:
        raise ValueError(f"states must be (T, N) or (T, B, N) for one network; got shape {x.shape}")
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3; got {dims!r}")
    if x.shape[2] < dims:
        raise ValueError(f"states have N = {x.shape[2]} nodes; a {dims}-D projection needs N >= {dims}")
    mean, axes, frac = _pca(x.reshape(-1, x.shape[2]), dims)
    proj = (x - mean) @ axes.T  # (T, B, dims)
    fig = _figure(figsize=(5.5, 4.8))
    ax = _axes(fig, dims)
    for b in range(proj.shape[1]):
        ax.plot(*proj[:, b].T, lw=0.8, alpha=0.7)
        ax.scatter(*proj[:1, b].T, s=8, color="grey")
    if fixed_points is not None:
        table = fixed_points.table
        rows = table[table["network"] == network]
        pts = fixed_points.points[network]
        if pts.shape[1] != x.shape[2]:
            raise ValueError(f"fixed points have N = {pts.shape[1]} but states have {x.shape[2]} nodes")
        fp = (pts - mean) @ axes.T
        for (_, row), coords in zip(rows.iterrows(), fp):
            marker, color = _STABILITY_STYLE.get(row["stability"], ("o", "grey"))
            face = color if row["kind"] == "fixed" else "none"
            ax.scatter(*coords, marker=marker, s=70, facecolors=face, edgecolors=color, zorder=5)
        for name, (marker, color) in _STABILITY_STYLE.items():
            if (rows["stability"] == name).any():
                ax.scatter([], [], marker=marker, color=color, label=name)
        if len(rows):
            ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel(f"PC1 ({100 * frac[0]:.0f} %)")
    ax.set_ylabel(f"PC2 ({100 * frac[1]:.0f} %)")
    if dims == 3:
        ax.set_zlabel(f"PC3 ({100 * frac[2]:.0f} %)")
    ax.set_title(title or "state space")
    return _save(fig, path)


def plot_attractors(truth: Any, generated: Any, *, labels: Any = None, title: str | None = None,
                    path: str | Path | None = None) -> Figure:
    """True and generated attractors side by side (3-D for three coordinates, else time series).

    Parameters
    ----------
    truth : (T, D) array_like
    generated : (T, D) or (T, K, D) array_like
        One panel per generated trajectory (NaN after divergence is skipped).
    labels : sequence of str, optional
        One per generated trajectory.
    title : str, optional
    path : str or Path, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    tru = as_float_array(truth, "truth")
    gen = as_float_array(generated, "generated", finite=False)
    gen = gen[:, None, :] if gen.ndim == 2 else gen
    if tru.ndim != 2 or gen.ndim != 3 or gen.shape[2] != tru.shape[1]:
        raise ValueError(f"truth must be (T, D) and generated (T, K, D) with the same D; got {tru.shape} and "
                         f"{gen.shape}")
    k = gen.shape[1]
    names = [f"network {i}" for i in range(k)] if labels is None else [str(s) for s in labels]
    if len(names) != k:
        raise ValueError(f"labels must have one entry per generated trajectory ({k}); got {len(names)}")
    dims = 3 if tru.shape[1] >= 3 else 1
    fig = _figure(figsize=(3.6 * (k + 1), 3.4))
    for i, (series, name) in enumerate([(tru, "true"), *[(gen[:, j], names[j]) for j in range(k)]]):
        ax = _axes(fig, dims, pos=100 + 10 * (k + 1) + i + 1) if dims == 3 else fig.add_subplot(1, k + 1, i + 1)
        ok = np.all(np.isfinite(series), axis=1)
        if dims == 3:
            ax.plot(*series[ok, :3].T, lw=0.4, color="black" if i == 0 else "tab:blue")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_zticks([])
        else:
            ax.plot(np.flatnonzero(ok), series[ok, 0], lw=0.6, color="black" if i == 0 else "tab:blue")
            ax.set_xlabel("step")
        ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_dynamics_comparison(table: Any, *, reference_exponent: float = 0.906, title: str | None = None,
                             path: str | Path | None = None) -> Figure:
    """Synchronization and regeneration by variant across spectral radii.

    Three panels against the spectral radius, one line per variant (mean, with
    a band of +- 1 s.d. across seeds): fraction of networks in generalized
    synchronization, valid prediction time of the closed loop (Lyapunov times),
    and the closed loop's largest Lyapunov exponent (dashed: the true one).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`conn2rnn.analysis.dynamics_comparison` (or its CSV).
    reference_exponent : float
    title : str, optional
    path : str or Path, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame from dynamics_comparison; got {type(table).__name__}")
    need = ["variant", "spectral_radius", "synchronized", "valid_time", "lyapunov_closed_loop"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; pass the output of dynamics_comparison")
    fig = _figure(figsize=(13, 3.8), layout="constrained")
    panels = [("synchronized", "fraction synchronized (GS)"), ("valid_time", "valid prediction time (Lyapunov times)"),
              ("lyapunov_closed_loop", "closed-loop largest exponent")]
    for i, (col, label) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1)
        for variant, sub in table.groupby("variant", sort=False):
            stats = sub.groupby("spectral_radius")[col].agg(lambda v: v.astype(float).mean()).to_frame("mean")
            stats["sd"] = sub.groupby("spectral_radius")[col].agg(lambda v: v.astype(float).std())
            ax.plot(stats.index, stats["mean"], marker="o", ms=3, label=str(variant))
            if col != "synchronized":
                ax.fill_between(stats.index, stats["mean"] - stats["sd"], stats["mean"] + stats["sd"], alpha=0.12)
        if col == "lyapunov_closed_loop":
            ax.axhline(reference_exponent, color="black", ls="--", lw=0.8)
        ax.set_xlabel("spectral radius")
        ax.set_ylabel(label)
    fig.axes[0].legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_impulse_recall(table: Any, *, hue: str = "variant", title: str | None = None,
                        path: str | Path | None = None) -> Figure:
    """How long an input pulse stays decodable: recall against lag, one line per group.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`conn2rnn.analysis.impulse_recall` (``lag``, ``recall``) with a
        ``hue`` column naming the network (e.g. connectome vs nulls) and
        optionally ``scale`` (one panel per scale).
    hue : str
    title : str, optional
    path : str or Path, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame; got {type(table).__name__}")
    missing = [c for c in ("lag", "recall", hue) if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; give impulse_recall rows with a {hue!r} column")
    scales = sorted(table["scale"].unique()) if "scale" in table.columns else [None]
    fig = _figure(figsize=(4.2 * len(scales), 3.6), layout="constrained")
    for i, scale in enumerate(scales):
        ax = fig.add_subplot(1, len(scales), i + 1)
        sub = table if scale is None else table[table["scale"] == scale]
        for name, rows in sub.groupby(hue, sort=False):
            mean = rows.groupby("lag")["recall"].mean()
            ax.plot(mean.index, mean.to_numpy(), marker="o", ms=2, label=str(name))
        ax.set_xlabel("lag (steps after the pulse)")
        ax.set_ylabel("recall (r^2)")
        ax.set_ylim(-0.02, 1.02)
        if scale is not None:
            ax.set_title(f"spectral radius {scale:g}", fontsize=9)
    fig.axes[0].legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
