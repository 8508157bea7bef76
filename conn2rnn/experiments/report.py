"""Summary table and a Markdown report with figures, from a result store alone.

:func:`summarize` condenses the tidy results into one row per task x regime;
:func:`write_report` draws the figures (learning curves, accuracy and learning
speed by regime, INT similarity with the brain, the mean model INT map on the
cortex next to the empirical one, topology) and writes ``report.md`` beside
them. Everything is rebuilt from the stored tables and artifacts, so
``conn2rnn report DIR`` works after the fact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import plotting
from ..analysis.int_validation import recovery_self_test
from ..analysis.maps import compare_maps, compare_regimes
from .folders import open_experiment
from .int_tables import DRIVES, int_tables, wide_results
from .spec import ExperimentSpec
from .store import ResultStore, read_table

__all__ = ["recovery_line", "stored_tables", "summarize", "write_report"]

_SUMMARY_METRICS = {
    "accuracy": ("accuracy", "mean"),
    "accuracy_sd": ("accuracy", "std"),
    "trials_to_criterion": ("trials_to_criterion", "median"),
    "n_int_defined": ("int_rho", "count"),
    "int_rho": ("int_rho", "mean"),
    "int_rho_untrained": ("int_rho_untrained", "mean"),
    "n_int_diverged": ("int_diverged", "sum"),
    "n_int_excluded": ("int_excluded", "sum"),
    "int_silent_nodes": ("int_silent_nodes", "mean"),
    "modularity_q": ("modularity_q", "mean"),
    "sigma": ("sigma", "mean"),
}


def summarize(results: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """One row per task x regime: networks, accuracy, learning speed, INT match, topology.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table of a result store (task, regime, family, run_id, metric, value).
    alpha : float
        Significance level of the spatial-null test for ``frac_int_significant``.

    Returns
    -------
    pandas.DataFrame
        Columns: task, regime, family, n_networks, accuracy (mean), accuracy_sd,
        trials_to_criterion (median; NaN where no network reached it),
        n_int_defined (networks with a defined INT rho: the n of int_rho),
        int_rho (mean Spearman rho with the empirical map), int_rho_untrained
        (the same networks before training), n_int_diverged, n_int_excluded,
        int_silent_nodes (mean per network), frac_int_significant
        (fraction of networks with rho > 0 and p_null < alpha), modularity_q, sigma.
    """
    needed = {"task", "regime", "family", "run_id", "metric", "value"}
    missing = needed - set(results.columns)
    if missing:
        raise ValueError(f"results lacks columns {sorted(missing)}; pass ResultStore.results()")
    wide = results.pivot_table(index=["task", "regime", "family", "run_id"], columns="metric",
                               values="value", aggfunc="first").reset_index()
    rows = []
    for (task, regime, family), part in wide.groupby(["task", "regime", "family"], sort=False):
        row: dict[str, Any] = {"task": task, "regime": regime, "family": family, "n_networks": len(part)}
        for name, (metric, how) in _SUMMARY_METRICS.items():
            row[name] = getattr(part[metric], how)() if metric in part else np.nan
        if {"int_rho", "int_p_null"} <= set(part.columns):
            defined = part.dropna(subset=["int_rho"])
            sig = (defined["int_rho"] > 0) & (defined["int_p_null"] < alpha)
            row["frac_int_significant"] = float(sig.mean()) if len(defined) else np.nan
        else:
            row["frac_int_significant"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _figure(name: str, fn, *args: Any, **kwargs: Any) -> str | None:
    """Draw one figure; a figure that cannot be drawn from these results is skipped, not faked."""
    try:
        fn(*args, **kwargs)
    except ValueError as exc:
        return f"- {name}: not drawn ({exc})"
    return None


def recovery_line(spec: ExperimentSpec) -> str:
    """One sentence: does the spec's INT estimator and route recover known time constants?"""
    a, dt = spec.analysis, spec.model.dt
    result = recovery_self_test(estimator=a.int_estimator, route=a.int_route, dt_ms=dt,
                                tau_ms=np.linspace(2 * dt, 20 * dt, 20), n_steps=a.n_steps, washout=a.washout,
                                mean=a.drive_mean, sd=a.drive_sd, tr_s=a.tr_s, hrf=a.hrf,
                                min_bold_samples=a.min_bold_samples, seed=0)
    verdict = "passes" if result.passed else "**fails**"
    reason = f" ({result.reason})" if result.reason else ""
    return (f"Recovery self-test of the INT route ({a.int_estimator}, {a.int_route}, {a.n_steps} steps of {dt:g} ms): "
            f"20 uncoupled nodes with time constants from {2 * dt:g} to {20 * dt:g} ms come out with Spearman "
            f"rho = {result.rho:.2f} against the truth; the route {verdict} the 0.8 threshold{reason}.")


def stored_tables(store: ResultStore, artifact: str, groups: Any = None, **read_csv: Any) -> list[pd.DataFrame]:
    """Every completed group's CSV artifact ``artifact`` (of ``groups`` if given), checked against its hash."""
    frames = []
    for gid in sorted(store.completed() if groups is None else store.completed() & set(groups)):
        if artifact in store.entry(gid)["artifacts"]:
            frames.append(read_table(store.artifact_path(gid, artifact), **read_csv))
    return frames


def stored_int_maps(store: ResultStore, groups: Any) -> pd.DataFrame:
    """The ``int_maps.csv`` of ``groups`` side by side (regions x runs), integrity-checked; empty if none."""
    frames = stored_tables(store, "int_maps", set(groups), index_col="region")
    return pd.concat(frames, axis=1) if frames else pd.DataFrame()


def _mean_int_map(store: ResultStore, results: pd.DataFrame, regime: str, task: str) -> pd.Series | None:
    part = results.loc[(results.regime == regime) & (results.task == task)]
    runs = set(part.run_id)
    maps = [frame[[c for c in frame.columns if c in runs]]
            for frame in stored_tables(store, "int_maps", set(part.group_id), index_col="region")]
    maps = [m for m in maps if m.shape[1]]
    if not maps:
        return None
    return pd.concat(maps, axis=1).mean(axis=1)


def _int_by_regime(results: pd.DataFrame) -> pd.DataFrame | None:
    """Per task, the rho distribution of each regime tested against vanilla (None if no INT rows)."""
    rho = results[results.metric == "int_rho"]
    if rho.empty:
        return None
    frames = []
    for task, part in rho.groupby("task", sort=False):
        pvals = results[(results.metric == "int_p_null") & (results.task == task)].set_index("run_id").value
        per_regime = {}
        for regime, rows in part.groupby("regime", sort=False):
            per_regime[regime] = [(r, pvals.get(run, np.nan)) for run, r in zip(rows.run_id, rows.value)]
        reference = "vanilla" if "vanilla" in per_regime else None
        table = compare_regimes(per_regime, reference=reference)
        table.insert(0, "task", task)
        frames.append(table)
    cols = ["task", "regime", "n_networks", "r_mean", "r_sd", "frac_significant", "mwu_p"]
    out = pd.concat(frames, ignore_index=True)
    return out[[c for c in cols if c in out.columns]]


def write_report(root: str | Path, *, title: str | None = None) -> Path:
    """Write ``report.md`` and ``figures/*.png`` into an experiment folder.

    Parameters
    ----------
    root : str or Path
        A folder written by :func:`conn2rnn.experiments.run_experiment`.
    title : str, optional

    Returns
    -------
    Path
        The report file.

    Raises
    ------
    FileNotFoundError
        When ``root`` does not exist or holds no ``spec.toml`` (nothing is created).
    IncompleteGroupError
        When a group's stored files were changed since they were recorded.

    Notes
    -----
    Only the groups of the folder's current spec are read (see
    :func:`~conn2rnn.experiments.folders.open_experiment`); a partial sweep is
    reported as such, at the top of the report and as a warning.
    """
    experiment = open_experiment(root, command="report")
    root, store, spec = experiment.root, experiment.store, experiment.spec
    results, curves = experiment.results, experiment.curves
    figures = root / "figures"
    figures.mkdir(exist_ok=True)
    summary = summarize(results)
    summary.to_csv(root / "summary.csv", index=False)
    notes: list[str | None] = []
    lines = [f"# {title or spec.name}", ""]
    for note in experiment.notes():
        lines += [note, ""]
    lines += [f"Every number below is computed from the stored results of the {len(experiment.completed)} "
              "complete run group(s) of this folder's spec; figures are in `figures/`.", "",
              "## Summary", "", markdown_table(summary), ""]

    for task in spec.tasks:
        sub = results[results.task == task]
        if sub.empty:
            continue
        lines += [f"## {task}", ""]
        if not curves.empty and task in set(curves.get("task", [])):
            path = figures / f"{task}_learning_curves.png"
            notes.append(_figure("learning curves", plotting.plot_learning_curves,
                                 curves[curves.task == task], x="trials", y="accuracy",
                                 title=f"{task}: held-out accuracy", path=path))
            lines.append(f"![learning curves]({path.relative_to(root)})")
        long = sub[["regime", "run_id", "strength", "metric", "value"]]
        for metric in ("accuracy", "trials_to_criterion", "int_rho", "modularity_q"):
            if metric in set(long.metric):
                path = figures / f"{task}_{metric}.png"
                notes.append(_figure(metric, plotting.plot_metric_by_regime, long, metric=metric,
                                     order=list(pd.unique(long.regime[long.metric == metric])),
                                     title=f"{task}: {metric}", path=path))
                lines.append(f"![{metric}]({path.relative_to(root)})")
        if long.strength.notna().any() and long.groupby("regime").strength.nunique().max() > 1:
            path = figures / f"{task}_modularity_vs_strength.png"
            notes.append(_figure("topology vs strength", plotting.plot_topology_vs_strength,
                                 long.dropna(subset=["strength"]), metric="modularity_q", path=path))
            lines.append(f"![topology vs strength]({path.relative_to(root)})")
        lines.append("")

    graph = spec.graph.build()
    maps = [m for m in spec.analysis.empirical_maps if m in graph.maps]
    headline = maps[0] if maps else None
    int_table = _int_by_regime(results)
    if int_table is not None:
        lines += ["## INT similarity with the brain, by regime", "",
                  f"Spearman rho between each network's INT map and the empirical map `{headline}`; "
                  "`frac_significant`: p < 0.05 under the spatial nulls; `mwu_p`: two-sided Mann-Whitney U "
                  "test of the rho distribution against vanilla's.", "",
                  markdown_table(int_table), "", recovery_line(spec), ""]
    stored = stored_int_maps(store, experiment.completed) \
        if headline is not None and "int_rho" in set(results.metric) else pd.DataFrame()
    if not stored.empty:
        per_regime = int_tables(spec, wide_results(results), stored, graph, {headline: graph.maps[headline]})
        per_regime = per_regime[per_regime.drive == DRIVES[""]]
        if not per_regime.empty:
            shown = ["task", "regime", "condition", "n_defined", "n_diverged", "n_silent_nodes", "rho_mean",
                     "rho_sd", "frac_significant", "rho_mean_map", "p_mean_map", "diff_mean", "wilcoxon_p"]
            ceiling = per_regime[["ceiling_rho", "ceiling_p"]].iloc[0]
            lines += [f"## Intrinsic timescales vs `{headline}`: each network, the ensemble-mean map, the "
                      "untrained twins", "",
                      "Per regime: Spearman rho of each network's INT map (`rho_mean` +- `rho_sd`, "
                      "`frac_significant` under the spatial nulls), the rho of the regime's ensemble-mean "
                      "map (`rho_mean_map`, `p_mean_map`), and for trainable regimes the untrained twins "
                      "(`condition` untrained: what the constraints impose before any training) with the "
                      f"paired difference (`diff_mean`, Wilcoxon p). Ceiling: the hierarchy gradient itself "
                      f"correlates {ceiling.ceiling_rho:.3f} with `{headline}` (p = {ceiling.ceiling_p:.3g}).",
                      "", markdown_table(per_regime[[c for c in shown if c in per_regime.columns]]), ""]
    if "int_rho" in set(results.metric) and headline is not None:
        n_nulls = spec.analysis.n_nulls
        empirical = graph.maps[headline]
        best = (results[results.metric == "int_rho"].groupby(["task", "regime"]).value.mean()
                .sort_values(ascending=False))
        task, regime = best.index[0]
        mean_map = _mean_int_map(store, results, regime, task)
        if mean_map is not None:
            values = mean_map.reindex(list(graph.names)).to_numpy()
            kind = spec.analysis.nulls
            null_options = ({"sphere_coords": graph.sphere_coords, "hemispheres": graph.hemispheres}
                            if kind == "spin" else {"distance": graph.distance("euclidean")})
            cmp = compare_maps(empirical, values, nulls=None if kind == "none" else kind, n_perm=n_nulls,
                               seed=0, **null_options)
            lines += ["## Intrinsic timescales vs the brain", "",
                      f"Regime with the most brain-like INT map: **{regime}** on {task} "
                      f"(mean map over its networks: Spearman rho = {cmp.r:.2f}, p = {cmp.p_null:.3g} "
                      f"from {n_nulls} {kind} nulls).", ""]
            for name, vals, label in (("model", values, f"model INT (s), {regime}"),
                                      ("empirical", empirical, f"{headline} (s)")):
                path = figures / f"int_map_{name}.png"
                notes.append(_figure(f"{name} INT map", plotting.plot_surface_map, graph, vals,
                                     title=label, path=path))
                lines.append(f"![{name} INT map]({path.relative_to(root)})")
            path = figures / "int_scatter.png"
            notes.append(_figure("INT scatter", plotting.plot_map_scatter, values, empirical,
                                 comparison=cmp, networks=list(graph.networks), path=path))
            lines += [f"![INT scatter]({path.relative_to(root)})", ""]
    skipped = [n for n in notes if n]
    if skipped:
        lines += ["## Figures not drawn", ""] + skipped + [""]
    notice = graph.metadata.get("data_use_notice")
    if notice:
        lines += ["---", "", f"*{notice}*", ""]
    report = root / "report.md"
    report.write_text("\n".join(lines))
    return report


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub Markdown table (numbers to 3 significant digits)."""
    def cell(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return "n/a" if np.isnan(v) else f"{v:.3g}"
        return str(v)

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
