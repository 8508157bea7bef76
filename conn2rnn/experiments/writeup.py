"""A reproduction write-up from a result store: summary tables, statistics and figures.

:func:`write_reproduction` reads an experiment folder (its spec, ``results.csv``
and the INT maps of every group) and writes into an output folder, typically
``docs/reproductions/<name>/``:

* ``results.md``: the tables below with n, spread and p-values, and the figures;
* ``accuracy.csv``: per task and regime, networks, accuracy and how many reached criterion;
* ``int.csv``: per map (the spec's empirical maps, or any chosen with ``maps=``:
  :mod:`conn2rnn.experiments.int_tables`), drive (through the inputs, into every
  node, task trials), task, regime and condition (trained, untrained twin, and the
  trained spun-map control where the spec has one), the rho of the stored model INT
  maps with that map (:func:`conn2rnn.analysis.int_validation.int_comparison_table`):
  the n of networks with a defined rho, diverged and excluded counts, rho
  spread, the fraction significant under spin nulls, the rho of the
  ensemble-mean map, the paired difference from the baseline condition with a
  bootstrap 95% CI and a Wilcoxon p, and the ceiling rho(gradient, empirical map);
* ``topology.csv``: topology of the networks at or above the training criterion,
  per regime, with a Mann-Whitney test against the first regime;
* ``figures/*.png``.

Only stored numbers are used, so the write-up is regenerated exactly by
``conn2rnn writeup DIR OUT``; the hand-written document around it (what the
paper reports, the differences of protocol, the conclusion) links to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .. import plotting
from ..plotting._common import _figure, _save
from .report import markdown_table, recovery_line, stored_int_maps, stored_tables
from .folders import open_experiment
from .int_tables import int_tables, resolve_maps, wide_results
from .store import ResultStore

__all__ = ["write_reproduction"]

_TOPOLOGY = ("modularity_q", "sigma", "weight_distance_rho", "wiring_cost")


def _accuracy_table(wide: pd.DataFrame, curves: pd.DataFrame, criterion: float) -> pd.DataFrame:
    """Per task and regime: final accuracy, networks at criterion, and learning speed.

    Learning speed two ways: trials to criterion (networks that never reach it are
    left out and counted), and the mean of the held-out accuracy over every
    evaluation of the learning curve (the area under it, normalised: the
    reference bioRNN analysis's "learning speed").
    """
    auc = (curves.groupby("run_id").accuracy.mean() if not curves.empty and "accuracy" in curves
           else pd.Series(dtype=float))
    rows = []
    for (task, regime), part in wide.groupby(["task", "regime"], sort=False):
        acc = part["accuracy"]
        row = {"task": task, "regime": regime, "n_networks": len(part), "accuracy_mean": acc.mean(),
               "accuracy_sd": acc.std(ddof=1), "n_at_criterion": int((acc >= criterion).sum()),
               "n_diverged_training": int(part.get("diverged", pd.Series(0, index=part.index)).sum())}
        if "trials_to_criterion" in part:
            ttc = part["trials_to_criterion"].dropna()
            row.update(trials_to_criterion_median=ttc.median() if len(ttc) else np.nan,
                       n_reaching_criterion=len(ttc))
        speed = auc.reindex(part.run_id).dropna()
        if len(speed):
            row.update(learning_auc_mean=speed.mean(), learning_auc_sd=speed.std(ddof=1))
        rows.append(row)
    return pd.DataFrame(rows)


def _topology_table(wide: pd.DataFrame, criterion: float, order: list[str]) -> pd.DataFrame:
    rows = []
    metrics = [m for m in _TOPOLOGY if m in wide.columns]
    for task, part in wide.groupby("task", sort=False):
        good = part[part["accuracy"] >= criterion] if "accuracy" in part else part
        regimes = [r for r in order if r in set(good.regime)]
        for regime in regimes:
            sub = good[good.regime == regime]
            row: dict[str, Any] = {"task": task, "regime": regime, "n_at_criterion": len(sub)}
            for m in metrics:
                vals = sub[m].dropna()
                row[f"{m}_mean"], row[f"{m}_sd"] = vals.mean(), vals.std(ddof=1)
                ref = good[good.regime == regimes[0]][m].dropna()
                if regime != regimes[0] and len(vals) and len(ref):
                    row[f"{m}_mwu_p_vs_{regimes[0]}"] = stats.mannwhitneyu(vals, ref).pvalue
            rows.append(row)
    return pd.DataFrame(rows)


def _snapshots(store: ResultStore, wide: pd.DataFrame, groups: set[str]) -> pd.DataFrame:
    """Snapshot metrics of every run with its task and regime (empty without snapshots)."""
    frames = stored_tables(store, "snapshot_metrics", groups)
    if not frames:
        return pd.DataFrame()
    labels = wide[["run_id", "task", "regime"]].drop_duplicates("run_id")
    return pd.concat(frames, ignore_index=True).merge(labels, on="run_id")


def _topology_by_strength(wide: pd.DataFrame, criterion: float) -> pd.DataFrame:
    metrics = [m for m in _TOPOLOGY if m in wide.columns]
    rows = []
    for (task, regime, strength), part in wide.groupby(["task", "regime", "strength"], sort=True):
        good = part[part["accuracy"] >= criterion]
        row = {"task": task, "regime": regime, "strength": strength, "n_at_criterion": len(good),
               "n_networks": len(part)}
        row.update({f"{m}_mean": good[m].mean() for m in metrics})
        rows.append(row)
    return pd.DataFrame(rows)


def _rho_figure(wide: pd.DataFrame, task: str, regimes: list[str], path: Path) -> None:
    """Per regime, every network's INT rho trained (filled) and untrained (open), paired by seed."""
    fig = _figure(figsize=(1.3 * len(regimes) + 1.5, 3.6))
    ax = fig.add_subplot()
    part = wide[wide.task == task]
    for i, regime in enumerate(regimes):
        sub = part[part.regime == regime].sort_values("seed")
        trained = sub["int_rho"].to_numpy(dtype=float) if "int_rho" in sub else np.array([])
        twin = sub["int_rho_untrained"].to_numpy(dtype=float) if "int_rho_untrained" in sub else np.full_like(trained, np.nan)
        for a, b in zip(twin, trained):
            ax.plot([i - 0.15, i + 0.15], [a, b], color="0.8", lw=0.6, zorder=1)
        ax.scatter(np.full(twin.size, i - 0.15), twin, facecolors="none", edgecolors="C0", s=14, zorder=2,
                   label="untrained" if i == 0 else None)
        ax.scatter(np.full(trained.size, i + 0.15), trained, color="C1", s=14, zorder=2,
                   label="trained" if i == 0 else None)
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_xticks(range(len(regimes)), regimes, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("Spearman rho with the empirical map")
    ax.set_title(f"{task}: INT rho per network, untrained -> trained")
    ax.legend(fontsize=8, frameon=False)
    _save(fig, path)


def write_reproduction(root: str | Path, out_dir: str | Path, *, title: str | None = None,
                       maps: list[str] | None = None) -> Path:
    """Write ``results.md``, the summary CSVs and figures of an experiment into ``out_dir``.

    Parameters
    ----------
    root : str or Path
        An experiment folder (:func:`conn2rnn.experiments.run_experiment`).
    out_dir : str or Path
        Created if needed; its previous ``results.md``, CSVs and figures are replaced.
    title : str, optional
    maps : list of str, optional
        Brain maps to compare the stored INT maps with, each a registered map
        name or a ``.csv``/``.npy`` file (one value per region, or
        ``region,value`` rows): nothing is trained or simulated again. Default:
        the spec's ``analysis.empirical_maps``.

    Returns
    -------
    Path
        ``out_dir / 'results.md'``.

    Raises
    ------
    FileNotFoundError
        When ``root`` does not exist or holds no ``spec.toml`` (nothing is created).
    IncompleteGroupError
        When a group's stored files (rows, curves, artifacts) were changed since
        they were recorded: the same checks as :func:`~conn2rnn.experiments.write_report`.

    Notes
    -----
    Only the groups of the folder's current spec are written up; a partial sweep
    is written up as such (its title says "incomplete", with the count of
    complete groups), and a warning says so.
    """
    if not isinstance(out_dir, (str, Path)):
        raise TypeError(f"out_dir must be a folder path (str or Path); got {type(out_dir).__name__}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"out_dir {out_dir} is a file; expected a folder for results.md and its figures")
    # the groups of the folder's current spec only, checked like every reader's
    experiment = open_experiment(root, command="write up")
    root, store, spec = experiment.root, experiment.store, experiment.spec
    results = experiment.results
    ids = set(experiment.completed)
    figures = out_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    wide = wide_results(results)
    criterion = spec.training.criterion
    n_groups, n_done = len(experiment.group_ids), len(experiment.completed)
    heading = f"# {title or spec.name}: results" + ("" if experiment.is_complete else " (incomplete)")
    lines = [heading, ""]
    for note in experiment.notes():
        lines += [note, ""]
    lines += [f"Generated by `conn2rnn writeup` from the stored results ({n_done} of {n_groups} run groups "
              "complete). n is always the number of networks that enter a statistic.", "",
              "## Spec", "", "```toml", spec.to_toml().strip(), "```", ""]

    accuracy = _accuracy_table(wide, experiment.curves, criterion)
    accuracy.to_csv(out_dir / "accuracy.csv", index=False)
    lines += ["## Task accuracy and learning speed", "",
              f"Held-out accuracy after training; criterion {criterion:g}. Learning speed: the median "
              "trials to criterion of the networks that reach it, and `learning_auc`, the mean held-out "
              f"accuracy over every evaluation of the learning curve (every {spec.training.eval_every} steps).",
              "",
              markdown_table(accuracy), ""]
    for task in [t for t in spec.tasks if t in set(results.task)]:  # a partial sweep may lack a task
        path = figures / f"{task}_accuracy.png"
        plotting.plot_metric_by_regime(results[results.task == task], metric="accuracy",
                                       title=f"{task}: held-out accuracy", path=path)
        lines.append(f"![{task} accuracy](figures/{path.name})")
    lines.append("")

    graph, map_values = resolve_maps(spec, maps)
    stored = stored_int_maps(store, ids)
    ints = int_tables(spec, wide, stored, graph, map_values) if not stored.empty else pd.DataFrame()
    if not ints.empty:
        ints.to_csv(out_dir / "int.csv", index=False)
        shown = ["drive", "task", "regime", "condition", "n_defined", "n_excluded", "n_diverged", "n_silent_nodes",
                 "rho_mean", "rho_sd", "frac_significant", "rho_mean_map", "p_mean_map", "diff_mean",
                 "diff_ci_low", "diff_ci_high", "wilcoxon_p"]
        a = spec.analysis
        lines += ["## Intrinsic timescales vs the empirical maps", "",
                  f"Each network's stored INT map ({a.int_estimator}, {a.int_route} route; resting drive "
                  f"N({a.drive_mean:g}, {a.drive_sd:g}) for {a.n_steps} steps after {a.washout}"
                  + (f", ACF lags 0-{a.max_lag}" if a.max_lag else "")
                  + (", 0 for a node without a crossing" if a.no_crossing == "zero" else "")
                  + f") against each map below: Spearman rho per network (`rho_mean`, `rho_sd`, "
                  f"`frac_significant` under {a.n_nulls} {ints.null.iloc[0]} nulls) and the rho of the "
                  "ensemble-mean map (`rho_mean_map`, `p_mean_map`): the mean map of n networks averages out "
                  "network-to-network noise, so its rho is not the average per-network rho, and a published "
                  "single-map figure compares with `rho_mean_map`. `diff_*`: trained minus the untrained twin, "
                  "paired by seed, bootstrap 95% CI and Wilcoxon signed-rank p. Drives: through the inputs (the "
                  "resting drive), noise into every node (where the drive enters, removed), task trials.", "",
                  recovery_line(spec), ""]
        for name, part in ints.groupby("map", sort=False):
            ceiling = part[["ceiling_rho", "ceiling_p"]].iloc[0]
            lines += [f"### `{name}`", "", f"Ceiling: rho(gradient, {name}) = {ceiling.ceiling_rho:.3f} "
                      f"(p = {ceiling.ceiling_p:.3g}).", "",
                      markdown_table(part[[c for c in shown if c in part.columns]]), ""]
        headline = next(iter(map_values))
        if maps is None:
            for task in spec.tasks:
                if task in set(ints.task):
                    path = figures / f"{task}_int_rho.png"
                    _rho_figure(wide, task, [r for r in spec.regimes if r in set(wide.regime)], path)
                    lines.append(f"![{task} INT rho vs {headline}](figures/{path.name})")
            lines.append("")

    if any(m in wide.columns for m in _TOPOLOGY):
        topo = _topology_table(wide, criterion, list(spec.regimes) + sorted(set(wide.regime) - set(spec.regimes)))
        topo.to_csv(out_dir / "topology.csv", index=False)
        lines += ["## Topology of the networks at criterion", "",
                  f"Top {spec.analysis.topology_density:.0%} of |W| (matched density); Mann-Whitney U "
                  "against the spec's first regime with networks at criterion.", "", markdown_table(topo), ""]
        if spec.strengths:
            by_strength = _topology_by_strength(wide, criterion)
            by_strength.to_csv(out_dir / "topology_by_strength.csv", index=False)
            lines += ["Per strength (networks at criterion / all networks of the cell):", "",
                      markdown_table(by_strength), ""]
    snapshots = _snapshots(store, wide, ids)
    if not snapshots.empty:
        snapshots.to_csv(out_dir / "snapshots.csv", index=False)
        lines += ["## Over training", "", "Topology, wiring and accuracy at the snapshot steps "
                  "(mean and sd over networks).", ""]
        for task, part in snapshots.groupby("task", sort=False):
            path = figures / f"{task}_over_training.png"
            plotting.plot_snapshot_curves(part, group="regime", title=f"{task}: over training", path=path)
            lines.append(f"![{task} over training](figures/{path.name})")
        lines.append("")
    notice = graph.metadata.get("data_use_notice")
    if notice:
        lines += ["---", "", f"*{notice}*", ""]
    report = out_dir / "results.md"
    report.write_text("\n".join(lines))
    return report

