"""The analyses a spec can name: the :data:`ANALYSES` registry and what each gets.

An analysis is ``fn(context) -> (rows, {artifact name: file name})``: it reads
one run group's networks from an :class:`AnalysisContext` and its settings from
the spec's ``[analysis]`` section. The built-in ones ("timescales", "topology")
register here; register your own with ``ANALYSES.register(name, fn)``. Spec
validation (:mod:`conn2rnn.experiments.spec`) and the executor
(:mod:`conn2rnn.experiments.execute`) both read this registry.
"""

from __future__ import annotations

import dataclasses
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .._registry import Registry
from ..analysis.int_controls import node_drive_model, task_trial_ints
from ..analysis.maps import compare_maps, spin_nulls, surrogate_nulls
from ..analysis.resting import ModelINTs, model_ints
from ..analysis.topology import topology_summary
from ..graph import BrainGraph
from ..models import RecurrentModel
from ..tasks import get_task
from .groups import RunGroup
from .sections import AnalysisSpec, GraphSpec

__all__ = ["ANALYSES", "Analysis", "AnalysisContext", "timescale_analysis", "topology_analysis"]

_TASK_TRIALS = 50  # task trials per network of the "task_trials" control (as the reference bioRNN analysis)


@dataclasses.dataclass(frozen=True)
class AnalysisContext:
    """What an analysis of one group gets.

    Attributes
    ----------
    group : RunGroup
    graph : BrainGraph
    model : RecurrentModel
        The trained ensemble or the reservoirs (K networks, one per run id).
    weights : (K, N, N) ndarray
        Recurrent weights ``w[k, target, source]``.
    workdir : Path
        The group's folder, for artifacts.
    untrained : RecurrentModel, optional
        Trainable groups: the same networks before training (the imposed-structure control).
    """

    group: RunGroup
    graph: BrainGraph
    model: RecurrentModel
    weights: np.ndarray
    workdir: Path
    untrained: RecurrentModel | None = None


#: Rows and artifacts of one analysis: ``fn(context) -> (rows, {artifact name: file name})``.
Analysis = Callable[[AnalysisContext], tuple[list[dict[str, Any]], dict[str, str]]]

#: Analyses by name (the spec's ``analyses = [...]``); register your own with
#: ``ANALYSES.register(name, fn)``.
ANALYSES: Registry[Analysis] = Registry("analysis")


@lru_cache(maxsize=8)
def _null_maps(graph_spec: GraphSpec, map_name: str, kind: str, n_nulls: int) -> np.ndarray | None:
    """Null maps of an empirical map ('spin' or 'surrogate'), made once per process."""
    graph = graph_spec.build()
    if kind == "spin":
        return spin_nulls(graph.maps[map_name], graph.sphere_coords, graph.hemispheres, n_perm=n_nulls, seed=0)
    if kind == "surrogate":
        return surrogate_nulls(graph.maps[map_name], graph.distance("euclidean"), n_perm=n_nulls, seed=0)
    return None


def _metric_names(index: int, map_name: str) -> tuple[str, str]:
    """``int_rho``/``int_p_null`` for the headline map, ``int_rho_<map>``/``int_p_null_<map>`` after it."""
    return ("int_rho", "int_p_null") if index == 0 else (f"int_rho_{map_name}", f"int_p_null_{map_name}")


def _model_ints(ctx: AnalysisContext, model: RecurrentModel, drive: str) -> ModelINTs:
    """INTs of ``model`` under the spec's resting drive ('inputs' or 'nodes') or during task trials ('task')."""
    a: AnalysisSpec = ctx.group.analysis
    max_lag = a.max_lag or None
    if drive == "task":
        task = get_task(ctx.group.task, dt=ctx.group.model.dt, **dict(ctx.group.task_options))
        return task_trial_ints(model, task, n_trials=_TASK_TRIALS, seed=0, estimator=a.int_estimator,
                               max_lag=max_lag, no_crossing=a.no_crossing)
    return model_ints(model if drive == "inputs" else node_drive_model(model), estimator=a.int_estimator,
                      route=a.int_route, mean=a.drive_mean, sd=a.drive_sd, washout=a.washout, n_steps=a.n_steps,
                      seed=0, dt_ms=ctx.group.model.dt, tr_s=a.tr_s, hrf=a.hrf,
                      min_bold_samples=a.min_bold_samples, max_lag=max_lag, no_crossing=a.no_crossing)


def _int_rows(ctx: AnalysisContext, model: RecurrentModel, suffix: str = "",
              drive: str = "inputs") -> tuple[list[dict], pd.DataFrame]:
    """Audited INT rows of ``model`` (one network per run id), metric names ending in ``suffix``."""
    a: AnalysisSpec = ctx.group.analysis
    ints = _model_ints(ctx, model, drive)
    maps = [m for m in a.empirical_maps if m in ctx.graph.maps]
    rows = []

    def add(run_id: str, metric: str, value: float) -> None:
        rows.append({"run_id": run_id, "metric": metric + suffix, "value": float(value)})

    for k, run_id in enumerate(ctx.group.run_ids):
        n_valid = int(ints.n_valid[k])
        add(run_id, "int_undefined_nodes", ints.ints_s.shape[1] - n_valid)
        add(run_id, "int_silent_nodes", ints.n_silent[k])
        add(run_id, "int_diverged", ints.diverged[k])
        add(run_id, "int_excluded", ints.excluded[k] is not None)
        add(run_id, "int_median_s", np.nanmedian(ints.ints_s[k]) if n_valid else np.nan)
        for i, name in enumerate(maps):
            rho_name, p_name = _metric_names(i, name)
            if ints.excluded[k] is not None or np.nanstd(ints.ints_s[k]) == 0:
                add(run_id, rho_name, np.nan)
                continue
            nulls = _null_maps(ctx.group.graph, name, a.nulls, a.n_nulls)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # dropped nodes are counted above
                # the null maps are spins of the empirical map, so it is the map compare_maps permutes
                cmp = compare_maps(ctx.graph.maps[name], ints.ints_s[k], method="spearman", nulls=nulls)
            add(run_id, rho_name, cmp.r)
            if nulls is not None:
                add(run_id, p_name, cmp.p_null)
    frame = pd.DataFrame(ints.ints_s.T, index=pd.Index(ctx.graph.names, name="region"),
                         columns=[r + suffix for r in ctx.group.run_ids])
    return rows, frame


@ANALYSES.register("timescales")
def timescale_analysis(ctx: AnalysisContext) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Resting-state INTs of every network, audited, compared with the spec's empirical maps.

    Rows per run: ``int_undefined_nodes`` (nodes without a timescale),
    ``int_silent_nodes``, ``int_diverged`` and ``int_excluded`` (0/1: a network
    with too few nodes with a timescale, or diverged, is left out of the
    comparison), ``int_median_s``, and per empirical map the Spearman rho and
    (with spin nulls) its p-value (:func:`_metric_names`). With the
    ``"untrained"`` control, the same rows for each network's untrained twin
    (same seed, masks and time constants) end in ``_untrained``; with the
    ``"node_drive"`` control, the rows under noise into every node end in
    ``_node_drive`` (``_node_drive_untrained`` for the twins); with
    ``"task_trials"``, those of task-trial activity end in ``_task``. Artifact:
    ``int_maps.csv`` (regions x runs, seconds; columns carry the same suffixes).
    """
    controls = ctx.group.analysis.controls
    models = {"": ctx.model}
    if "untrained" in controls and ctx.untrained is not None:
        models["_untrained"] = ctx.untrained
    drives = {"": "inputs"}
    if "node_drive" in controls:
        drives["_node_drive"] = "nodes"
    if "task_trials" in controls:
        drives["_task"] = "task"
    rows, frames = [], []
    for drive_suffix, drive in drives.items():
        for model_suffix, model in models.items():
            more, frame = _int_rows(ctx, model, drive_suffix + model_suffix, drive)
            rows += more
            frames.append(frame)
    pd.concat(frames, axis=1).to_csv(ctx.workdir / "int_maps.csv")
    return rows, {"int_maps": "int_maps.csv"}


@ANALYSES.register("topology")
def topology_analysis(ctx: AnalysisContext) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Modularity, small-worldness, clustering, path length, weight-distance rho,
    wiring cost and sparsity of each network's recurrent weights (top
    ``analysis.topology_density`` of |W|, Euclidean distances)."""
    d = ctx.graph.distance("euclidean")
    keys = ("modularity_q", "sigma", "clustering_weighted", "path_length", "weight_distance_rho",
            "wiring_cost", "sparsity")
    rows = []
    for k, run_id in enumerate(ctx.group.run_ids):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            summary = topology_summary(ctx.weights[k], d, density=ctx.group.analysis.topology_density, seed=k)
        rows += [{"run_id": run_id, "metric": key, "value": float(summary[key])} for key in keys]
    return rows, {}
