"""What one run group does: build, train or fit, evaluate, analyse, return tidy rows.

:func:`execute_group` is the executor the runners call (in worker processes
too). A :class:`~conn2rnn.experiments.groups.TrainableGroup` is one BioRNN
ensemble trained with checkpoints in the group's work folder (an interrupted
group resumes from them); a :class:`~conn2rnn.experiments.groups.ReservoirGroup`
is one batched engine call over its seeds. Both then get the analyses the spec
names, from the :data:`ANALYSES` registry, each reading its settings from the
spec's ``[analysis]`` section.
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
from ..analysis.maps import compare_maps, spin_nulls
from ..analysis.resting import model_timescales
from ..analysis.topology import topology_summary
from ..fitting.evaluation import evaluate_reservoirs
from ..fitting.training import train
from ..graph import BrainGraph
from ..models import (
    BioRNN,
    ConnectomeReservoir,
    RecurrentModel,
    ReservoirEnsemble,
    save_biornn,
)
from ..nulls import CONNECTOME_NULLS
from ..tasks import get_task
from .groups import ReservoirGroup, RunGroup, TrainableGroup, group_from_dict
from .spec import AnalysisSpec, GraphSpec

__all__ = ["ANALYSES", "AnalysisContext", "execute_group"]


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
    """

    group: RunGroup
    graph: BrainGraph
    model: RecurrentModel
    weights: np.ndarray
    workdir: Path


#: Rows and artifacts of one analysis: ``fn(context) -> (rows, {artifact name: file name})``.
Analysis = Callable[[AnalysisContext], tuple[list[dict[str, Any]], dict[str, str]]]

#: Analyses by name (the spec's ``analyses = [...]``); register your own with
#: ``ANALYSES.register(name, fn)``.
ANALYSES: Registry[Analysis] = Registry("analysis")


@lru_cache(maxsize=8)
def _null_maps(graph_spec: GraphSpec, map_name: str, n_nulls: int) -> np.ndarray | None:
    graph = graph_spec.build()
    if graph.sphere_coords is None:
        return None
    return spin_nulls(graph.maps[map_name], graph.sphere_coords, graph.hemispheres, n_perm=n_nulls, seed=0)


def _metric_names(index: int, map_name: str) -> tuple[str, str]:
    """``int_rho``/``int_p_spin`` for the headline map, ``int_rho_<map>``/``int_p_spin_<map>`` after it."""
    return ("int_rho", "int_p_spin") if index == 0 else (f"int_rho_{map_name}", f"int_p_spin_{map_name}")


@ANALYSES.register("timescales")
def timescale_analysis(ctx: AnalysisContext) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Resting-state INTs of every network, compared with the spec's empirical maps.

    Rows per run: ``int_undefined_nodes`` (nodes without a timescale: silent or
    diverged), ``int_median_s``, and per empirical map the Spearman rho and (with
    spin nulls) its p-value. Artifact: ``int_maps.csv`` (regions x runs, seconds).
    """
    a: AnalysisSpec = ctx.group.analysis
    # Nodes without a timescale are counted in int_undefined_nodes, not warned about one by one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ints = model_timescales(ctx.model, dt_ms=ctx.group.model.dt, method=a.int_estimator,
                                bold=a.int_route == "bold", tr_s=a.tr_s, hrf_model=a.hrf, n_steps=a.n_steps,
                                mean=a.drive_mean, sd=a.drive_sd, washout=a.washout, seed=0)
    maps = [m for m in a.empirical_maps if m in ctx.graph.maps]
    rows = []
    for k, run_id in enumerate(ctx.group.run_ids):
        undefined = int(np.isnan(ints[k]).sum())
        rows.append({"run_id": run_id, "metric": "int_undefined_nodes", "value": float(undefined)})
        median = float(np.nanmedian(ints[k])) if undefined < ints.shape[1] else np.nan
        rows.append({"run_id": run_id, "metric": "int_median_s", "value": median})
        for i, name in enumerate(maps):
            rho_name, p_name = _metric_names(i, name)
            nulls = _null_maps(ctx.group.graph, name, a.n_nulls) if a.nulls == "spin" else None
            if np.isfinite(ints[k]).sum() < 10 or np.nanstd(ints[k]) == 0:
                rows.append({"run_id": run_id, "metric": rho_name, "value": np.nan})
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # the dropped nodes are counted above
                cmp = compare_maps(ints[k], ctx.graph.maps[name], method="spearman", nulls=nulls)
            rows.append({"run_id": run_id, "metric": rho_name, "value": float(cmp.r)})
            if nulls is not None:
                rows.append({"run_id": run_id, "metric": p_name, "value": float(cmp.p_null)})
    frame = pd.DataFrame(ints.T, index=pd.Index(ctx.graph.names, name="region"), columns=list(ctx.group.run_ids))
    frame.to_csv(ctx.workdir / "int_maps.csv")
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


def _run_trainable(group: TrainableGroup, graph: BrainGraph, workdir: Path):
    m = group.model
    task = get_task(group.task, dt=m.dt)
    model = BioRNN.from_graph(
        graph, task, group.regime, n_networks=len(group.seeds), seeds=list(group.seeds),
        strengths=list(group.strengths), tau=m.tau_arg(), tau_range=m.tau_range or (100.0, 1000.0),
        init=m.init, activation=m.activation, gain=m.gain, sigma_rec=m.noise,
    )
    result = train(model, task, **group.training.train_kwargs(), checkpoint_dir=str(workdir / "checkpoint"),
                   progress=False)
    rows = []
    for k, run_id in enumerate(group.run_ids):
        rows += [
            {"run_id": run_id, "metric": "accuracy", "value": float(result.final_accuracy[k])},
            {"run_id": run_id, "metric": "trials_to_criterion", "value": float(result.trials_to_criterion[k])},
            {"run_id": run_id, "metric": "diverged", "value": float(result.diverged[k])},
        ]
    artifacts = {"model": save_biornn(model, workdir / "model.pt").name}
    curves = result.curves.copy()
    curves["run_id"] = [group.run_ids[k] for k in curves["network"]]
    return model, model.w_rec.detach().double().numpy(), rows, curves.to_dict("records"), artifacts


def _run_reservoir(group: ReservoirGroup, graph: BrainGraph, workdir: Path):
    if graph.connectome is None:
        raise ValueError("reservoir runs need a structural connectome; set graph.connectome = "
                         "'enigma_hcp' in the spec or remove the reservoirs")
    m, regime = group.model, group.regime
    task = get_task(group.task, dt=m.dt)
    null = CONNECTOME_NULLS.get(group.variant, argument="reservoirs")
    members = tuple(
        ConnectomeReservoir.from_graph(
            graph.with_connectome(null(graph, seed), name=f"{group.variant} (seed {seed})"),
            n_inputs=task.n_inputs, input_nodes=regime.input_networks if regime.io_masking else None,
            output_nodes=regime.output_networks if regime.io_masking else None,
            spectral_radius=m.spectral_radius, leak=m.leak, input_scaling=m.input_scaling, seed=seed)
        for seed in group.seeds)
    ensemble = ReservoirEnsemble(members, tuple(group.seeds))
    n_trials = m.reservoir_train_trials + m.reservoir_test_trials
    scores = evaluate_reservoirs(ensemble, task, n_trials=n_trials,
                                 test_size=m.reservoir_test_trials / n_trials, seed=0)
    rows = [{"run_id": group.run_ids[k], "metric": "accuracy", "value": float(s)}
            for k, s in enumerate(scores.score)]
    return ensemble, np.stack([mem.W for mem in members]), rows, None, {}


_RUNNERS = {TrainableGroup: _run_trainable, ReservoirGroup: _run_reservoir}


def execute_group(group: dict[str, Any] | RunGroup, *, workdir: Path) -> dict[str, Any]:
    """Run one group: the executor of :func:`conn2rnn.experiments.run_groups`.

    Parameters
    ----------
    group : RunGroup or its dict (:meth:`RunGroup.to_dict`)
    workdir : Path
        The group's own folder for checkpoints and artifacts.

    Returns
    -------
    dict
        ``rows`` (tidy: run_id, task, regime, family, strength, seed, metric, value),
        ``curves`` (learning-curve rows of trainable groups, else None), ``artifacts``
        (files written under ``workdir``).
    """
    if not isinstance(group, RunGroup):
        group = group_from_dict(group)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    graph = group.graph.build()
    model, weights, rows, curves, artifacts = _RUNNERS[type(group)](group, graph, workdir)
    ctx = AnalysisContext(group, graph, model, weights, workdir)
    for name in group.analyses:
        more_rows, more_artifacts = ANALYSES.get(name, argument="analyses")(ctx)
        rows += more_rows
        artifacts.update(more_artifacts)
    labels = group.labels()
    return {"rows": [{**labels[row["run_id"]], **row} for row in rows],
            "curves": [{**labels[row["run_id"]], **row} for row in curves] if curves else None,
            "artifacts": artifacts}
