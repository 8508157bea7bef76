"""Result figures: model vs brain maps, learning curves, metrics by regime, topology."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .._validation import as_float_array, check_choice, square_matrix

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


from ._common import _category_colors, _figure, _labels, _save


def _comparison_text(x: np.ndarray, y: np.ndarray, comparison: Any) -> str:
    """'rho = 0.43, p_spin = 0.012 (spearman, 1000 null maps)' from a comparison, or a plain Spearman."""
    if comparison is None:
        from scipy.stats import spearmanr

        rho, p = spearmanr(x, y)
        return f"Spearman rho = {rho:.2f}, p = {p:.2g} (parametric, no spatial null)"
    p_names = ("p_spin", "p_null", "p_parametric")
    if not hasattr(comparison, "r") or not any(hasattr(comparison, a) for a in p_names):
        raise TypeError("comparison must have attributes r, p_spin (or p_null) and method, such as "
                        f"conn2rnn.analysis.maps.MapComparison; got {type(comparison).__name__}")
    method = str(getattr(comparison, "method", "") or "")
    text = f"{'rho' if method.lower() == 'spearman' else 'r'} = {float(comparison.r):.2f}"
    null = getattr(comparison, "null", None)
    shown = next((a for a in p_names if getattr(comparison, a, None) is not None
                  and np.isfinite(getattr(comparison, a))), None)
    if shown is not None:
        label = {"p_spin": "p_spin", "p_null": f"p_{null or 'null'}", "p_parametric": "p"}[shown]
        text += f", {label} = {float(getattr(comparison, shown)):.2g}"
    details = [method] if method else []
    if shown == "p_parametric":
        details.append("parametric, no spatial null")
    elif getattr(comparison, "n_perm", 0):
        details.append(f"{comparison.n_perm} {null or 'null'} maps")
    return text + (f" ({', '.join(details)})" if details else "")


def plot_map_scatter(model_values: Any, empirical_values: Any, *, comparison: Any = None,
                     labels: Sequence[str] | None = None, networks: Sequence[str] | None = None,
                     xlabel: str = "model INT", ylabel: str = "empirical INT",
                     title: str | None = None, path: str | Path | None = None) -> "Figure":
    """Model against empirical regional values (e.g. intrinsic timescales), one dot per region.

    Parameters
    ----------
    model_values, empirical_values : (N,) array_like
        Values per region; regions where either is NaN are left out and counted
        in the annotation.
    comparison : object, optional
        A map-comparison result with attributes ``r``, ``p_spin`` (or
        ``p_null``) and ``method``; its numbers go in the annotation. Without
        it, a Spearman rho with a parametric p (no spatial null) is shown.
    labels : sequence of str, (N,), optional
        Region names written next to the dots.
    networks : sequence of str, (N,), optional
        Network of each region: colours the dots (Yeo-7 colours) with a legend.
    xlabel, ylabel, title : str
    path : str or Path, optional
        Save the figure here.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = as_float_array(model_values, "model_values", ndim=1, finite=False)
    y = as_float_array(empirical_values, "empirical_values", ndim=1, finite=False)
    if x.shape != y.shape:
        raise ValueError("model_values and empirical_values must have one value per region each; "
                         f"got {x.size} and {y.size}")
    names = None if labels is None else _labels(labels, "labels", x.size)
    nets = None if networks is None else _labels(networks, "networks", x.size)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        raise ValueError(f"need at least 3 regions with finite model and empirical values; got {keep.sum()}")
    text = _comparison_text(x[keep], y[keep], comparison)
    if not keep.all():
        text += f"\nn = {keep.sum()} of {x.size} regions (NaN left out)"

    fig = _figure(figsize=(4.6, 4.2))
    ax = fig.add_subplot()
    if nets is None:
        ax.scatter(x[keep], y[keep], s=18, color="0.3", alpha=0.8, linewidths=0)
    else:
        colors = _category_colors(nets)
        for net, color in colors.items():
            sel = keep & (np.asarray(nets) == net)
            ax.scatter(x[sel], y[sel], s=18, color=color, alpha=0.85, linewidths=0, label=net)
        ax.legend(fontsize=7, frameon=False, loc="best", markerscale=1.2)
    if np.ptp(x[keep]) > 0:
        slope, intercept = np.polyfit(x[keep], y[keep], 1)
        grid = np.linspace(x[keep].min(), x[keep].max(), 2)
        ax.plot(grid, slope * grid + intercept, ls="--", color="0.2", lw=1)
    if names is not None:
        for i in np.flatnonzero(keep):
            ax.annotate(names[i], (x[i], y[i]), fontsize=5, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\n{text}" if title else text, fontsize=9)
    return _save(fig, path)


# ------------------------------------------------------------------ results
def _check_frame(table: Any, name: str, columns: Sequence[str]) -> "pd.DataFrame":
    """``table`` as a non-empty DataFrame holding ``columns``; numeric checks are per use."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; its columns are {list(table.columns)}")
    if table.empty:
        raise ValueError(f"{name} has no rows")
    return table


def _numeric(table: "pd.DataFrame", column: str, name: str) -> np.ndarray:
    import pandas as pd

    try:
        return pd.to_numeric(table[column], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}[{column!r}] must be numeric; got dtype {table[column].dtype}") from exc


def _select_metric(table: Any, name: str, metric: str, columns: Sequence[str]) -> "pd.DataFrame":
    """Rows of the tidy ``table`` whose ``metric`` column equals ``metric``, with a numeric value."""
    df = _check_frame(table, name, columns)
    rows = df[df["metric"] == metric]
    if rows.empty:
        raise ValueError(f"{name} has no rows with metric {metric!r}; "
                         f"metrics present: {sorted(map(str, df['metric'].unique()))}")
    return rows.assign(value=_numeric(rows, "value", name))


def _mean_sd(table: "pd.DataFrame", x: str, y: str) -> "pd.DataFrame":
    """Mean, sd (ddof=1; 0 for a single row) and count of ``y`` at each ``x``, sorted by ``x``."""
    stats = table.groupby(x, sort=True)[y].agg(["mean", "std", "count"])
    stats["std"] = stats["std"].fillna(0.0)
    return stats


def plot_learning_curves(curves: Any, *, x: str = "trials", y: str = "accuracy", group: str = "regime",
                         title: str | None = None, path: str | Path | None = None) -> "Figure":
    """Learning curves: mean ± sd across the networks of each regime.

    Parameters
    ----------
    curves : pandas.DataFrame
        Long table with columns ``x``, ``y`` and ``network`` (the ensemble
        member), and optionally ``group``. Repeated rows of one network at one
        ``x`` are averaged first.
    x : str
        Progress column, e.g. ``'trials'`` or ``'step'``.
    y : str
        Performance column, e.g. ``'accuracy'`` or ``'loss'``.
    group : str
        Column with one curve per value (default ``'regime'``); if absent, all
        networks form one curve.
    title : str, optional
    path : str or Path, optional
        Save the figure here.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import pandas as pd

    df = _check_frame(curves, "curves", [x, y, "network"])
    df = pd.DataFrame({"x": _numeric(df, x, "curves"), "y": _numeric(df, y, "curves"),
                       "network": df["network"].to_numpy(),
                       "group": df[group].astype(str).to_numpy() if group in df else "all"})
    fig = _figure(figsize=(5.2, 3.6))
    ax = fig.add_subplot()
    for name, rows in df.groupby("group", sort=False):
        per_net = rows.groupby(["network", "x"], as_index=False)["y"].mean()
        stats = _mean_sd(per_net, "x", "y")
        xs, mean, sd = stats.index.to_numpy(float), stats["mean"].to_numpy(), stats["std"].to_numpy()
        line, = ax.plot(xs, mean, lw=1.5, label=f"{name} (n={per_net['network'].nunique()})")
        ax.fill_between(xs, mean - sd, mean + sd, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean ± sd across networks)")
    ax.legend(fontsize=7, frameon=False)
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_metric_by_regime(table: Any, *, metric: str, order: Sequence[str] | None = None,
                          title: str | None = None, path: str | Path | None = None) -> "Figure":
    """One metric per regime: a box per regime with every network as a dot.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy results with columns ``regime``, ``metric`` and ``value``.
    metric : str
        Which metric to show.
    order : sequence of str, optional
        Regimes to show, in this order (default: order of appearance).
    title : str, optional
    path : str or Path, optional
        Save the figure here.

    Returns
    -------
    matplotlib.figure.Figure
        NaN values are left out; each tick label gives the count kept.
    """
    rows = _select_metric(table, "table", metric, ["regime", "metric", "value"])
    present = [str(r) for r in rows["regime"].unique()]
    regimes = present if order is None else [str(r) for r in order]
    for regime in regimes:
        check_choice(regime, "regime in order", present)
    data = [rows.loc[rows["regime"].astype(str) == r, "value"].to_numpy() for r in regimes]
    data = [v[np.isfinite(v)] for v in data]
    fig = _figure(figsize=(1.1 * len(regimes) + 1.6, 3.6))
    ax = fig.add_subplot()
    ax.boxplot(data, positions=np.arange(len(regimes)), widths=0.5, showfliers=False,
               medianprops={"color": "k", "gid": "median"})
    for i, values in enumerate(data):
        offsets = np.linspace(-0.12, 0.12, values.size) if values.size > 1 else np.zeros(values.size)
        ax.scatter(i + offsets, values, s=14, alpha=0.7, zorder=3, linewidths=0)
    ax.set_xticks(np.arange(len(regimes)), [f"{r}\n(n={v.size})" for r, v in zip(regimes, data)],
                  fontsize=8)
    ax.set_ylabel(metric)
    ax.set_title(title or metric)
    return _save(fig, path)


def plot_topology_vs_strength(table: Any, *, metric: str, logx: bool | None = None,
                              title: str | None = None, path: str | Path | None = None) -> "Figure":
    """A metric against constraint strength, one line (mean ± sd across networks) per regime.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy results with columns ``strength``, ``regime``, ``metric`` and ``value``.
    metric : str
        Which metric to show (e.g. ``'modularity'``, ``'small_worldness'``).
    logx : bool, optional
        Logarithmic strength axis (symmetric-log when a strength is 0). Default:
        on when the positive strengths span at least a factor of 100.
    title : str, optional
    path : str or Path, optional
        Save the figure here.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rows = _select_metric(table, "table", metric, ["strength", "regime", "metric", "value"])
    rows = rows.assign(strength=_numeric(rows, "strength", "table"))
    rows = rows[np.isfinite(rows["value"].to_numpy())]
    if rows.empty:
        raise ValueError(f"every value of metric {metric!r} is NaN; nothing to plot")
    strength = rows["strength"].to_numpy()
    positive = strength[strength > 0]
    if logx is None:
        logx = bool(strength.min() >= 0 and positive.size and positive.max() / positive.min() >= 100)
    fig = _figure(figsize=(5.2, 3.6))
    ax = fig.add_subplot()
    for regime, sub in rows.groupby(rows["regime"].astype(str), sort=False):
        stats = _mean_sd(sub, "strength", "value")
        ax.errorbar(stats.index.to_numpy(float), stats["mean"].to_numpy(), yerr=stats["std"].to_numpy(),
                    marker="o", ms=4, capsize=2, lw=1.2, label=regime)
    if logx:
        if strength.min() < 0:
            raise ValueError("logx=True needs non-negative strengths; got a minimum of "
                             f"{strength.min():g}")
        if strength.min() == 0:
            ax.set_xscale("symlog", linthresh=float(positive.min()) if positive.size else 1.0)
        else:
            ax.set_xscale("log")
    ax.set_xlabel("constraint strength")
    ax.set_ylabel(f"{metric} (mean ± sd)")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(title or metric)
    return _save(fig, path)


def plot_weight_vs_distance(w: Any, d: Any, *, bins: int = 12, xlabel: str = "distance (mm)",
                            title: str | None = None, path: str | Path | None = None) -> "Figure":
    """|W| of every connection against the distance it spans, with binned means.

    Off-diagonal entries only; an ensemble's networks are pooled. Many points
    (over 5000) are drawn as a log-count hexbin, fewer as a scatter.

    Parameters
    ----------
    w : (N, N) or (K, N, N) array_like
        Recurrent weights ``w[target, source]`` (or K networks of them).
    d : (N, N) array_like
        Distances between nodes (non-negative), e.g. ``graph.distance()``.
    bins : int
        Number of equal-width distance bins for the mean ± sem line.
    xlabel, title : str
    path : str or Path, optional
        Save the figure here.

    Returns
    -------
    matplotlib.figure.Figure
        The title reports the Spearman rho between |W| and distance.
    """
    from scipy.stats import spearmanr

    weights = as_float_array(w, "w")
    if weights.ndim not in (2, 3) or weights.shape[-1] != weights.shape[-2]:
        raise ValueError(f"w must be (N, N) or (K, N, N); got shape {weights.shape}")
    n = weights.shape[-1]
    dist = square_matrix(d, "d", n, nonnegative=True)
    if n < 2:
        raise ValueError("w needs at least 2 nodes to have connections")
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer; got {bins!r}")
    weights = weights.reshape(-1, n, n)
    off = ~np.eye(n, dtype=bool)
    x = np.broadcast_to(dist[off], (weights.shape[0], off.sum())).ravel()
    y = np.abs(weights[:, off]).ravel()

    fig = _figure(figsize=(5.0, 3.8))
    ax = fig.add_subplot()
    if x.size > 5000:
        hb = ax.hexbin(x, y, gridsize=40, bins="log", cmap="Greys", mincnt=1, linewidths=0)
        fig.colorbar(hb, ax=ax, label="connections (log count)")
    else:
        ax.scatter(x, y, s=6, color="0.4", alpha=0.4, linewidths=0)
    edges = np.linspace(x.min(), x.max(), bins + 1)
    which = np.clip(np.digitize(x, edges[1:-1]), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    filled = count > 0
    mean = np.bincount(which, weights=y, minlength=bins)[filled] / count[filled]
    sq = np.bincount(which, weights=y ** 2, minlength=bins)[filled] / count[filled]
    sem = np.sqrt(np.maximum(sq - mean ** 2, 0.0) / np.maximum(count[filled] - 1, 1))
    centers = 0.5 * (edges[:-1] + edges[1:])[filled]
    ax.errorbar(centers, mean, yerr=sem, color="C3", marker="o", ms=4, lw=1.5, capsize=2,
                label=f"binned mean ± sem ({weights.shape[0]} network{'s' * (weights.shape[0] > 1)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("|W|")
    ax.legend(fontsize=7, frameon=False)
    text = "|W| vs distance"
    if np.ptp(x) > 0 and np.ptp(y) > 0:
        text += f": Spearman rho = {spearmanr(x, y)[0]:.2f}"
    ax.set_title(f"{title}\n{text}" if title else text, fontsize=9)
    return _save(fig, path)


def plot_snapshot_curves(table: Any, *, metrics: Sequence[str] = ("modularity", "small_worldness",
                                                                  "wiring_cost", "total_abs_w", "accuracy"),
                         x: str = "step", group: str = "regime", title: str | None = None,
                         path: str | Path | None = None) -> "Figure":
    """Metrics over training from snapshots: one panel per metric, one line (mean ± sd
    across networks) per group -- the seRNN figure of topology over epochs.

    Parameters
    ----------
    table : pandas.DataFrame
        ``TrainResult.snapshots.table`` (tidy, one row per step and network),
        optionally concatenated across runs with a ``group`` column (e.g. the regime);
        without that column every row belongs to one group.
    metrics : sequence of str
        Columns to plot, one panel each.
    x : str
        Column on the x axis (``"step"`` or ``"trials"``).
    group : str
        Column whose values get one line each.
    title : str, optional
    path : str or Path, optional
        Save the figure here.

    Returns
    -------
    matplotlib.figure.Figure
    """
    df = _check_frame(table, "table", [x, *metrics])
    if isinstance(metrics, str) or not len(metrics):
        raise ValueError(f"metrics must be a non-empty sequence of column names; got {metrics!r}")
    if group not in df.columns:
        df = df.assign(**{group: "all"})
    fig = _figure(figsize=(3.0 * len(metrics), 2.8))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        values = df.assign(**{metric: _numeric(df, metric, "table"), x: _numeric(df, x, "table")})
        for label, sub in values.groupby(values[group].astype(str), sort=False):
            sub = sub[np.isfinite(sub[metric].to_numpy())]
            if sub.empty:
                continue
            stats = _mean_sd(sub, x, metric)
            xs, mean, sd = stats.index.to_numpy(float), stats["mean"].to_numpy(), stats["std"].to_numpy()
            ax.plot(xs, mean, marker="o", ms=3, lw=1.2, label=label)
            ax.fill_between(xs, mean - sd, mean + sd, alpha=0.2)
        ax.set_xlabel(x)
        ax.set_title(metric, fontsize=9)
    axes[0].legend(fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)
