"""What one run group does: build, train or fit, evaluate, analyse, return tidy rows.

:func:`execute_group` is the executor the runners call (in worker processes
too). A :class:`~conn2rnn.experiments.groups.TrainableGroup` is one BioRNN
ensemble trained with checkpoints in the group's work folder (an interrupted
group resumes from them); a :class:`~conn2rnn.experiments.groups.ReservoirGroup`
is one batched engine call over its seeds. Both then get the analyses the spec
names, from the :data:`~conn2rnn.experiments.analyses.ANALYSES` registry, each
reading its settings from the spec's ``[analysis]`` section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.int_validation import spun_geometry_graph
from ..fitting.evaluation import evaluate_reservoirs
from ..fitting.snapshots import save_snapshots
from ..fitting.training import train
from ..graph import BrainGraph
from ..models import BioRNN, ConnectomeReservoir, ReservoirEnsemble, save_biornn
from ..nulls import CONNECTOME_NULLS
from ..regimes import regime_tau, resolve_regime
from ..tasks import get_task
from .analyses import (  # noqa: F401  (re-exported: the analyses were defined here before)
    ANALYSES,
    Analysis,
    AnalysisContext,
    timescale_analysis,
    topology_analysis,
)
from .groups import ReservoirGroup, RunGroup, TrainableGroup, group_from_dict

__all__ = ["ANALYSES", "AnalysisContext", "execute_group"]


def _run_trainable(group: TrainableGroup, graph: BrainGraph, workdir: Path, device: str | None = None):
    m = group.model
    task = get_task(group.task, dt=m.dt, **group.task_options)
    tau = regime_tau(group.regime, graph, group.seeds)

    def build() -> BioRNN:
        model = BioRNN.from_graph(
            graph, task, group.regime, n_networks=len(group.seeds), seeds=list(group.seeds),
            strengths=list(group.strengths), tau=m.tau_arg() if tau is None else tau,
            tau_range=m.tau_range or (100.0, 1000.0), init=m.init, activation=m.activation, gain=m.gain,
            sigma_rec=m.noise, **m.biornn_kwargs())
        if group.regime.distance_null != "none":  # each network's spatial cost on its own spun geometry
            model.set_regime(list(model.regimes), [
                resolve_regime(group.regime, spun_geometry_graph(graph, method=group.regime.distance_null, seed=seed)[0])
                for seed in group.seeds])
        return model

    model, untrained = build(), build()  # construction is deterministic by seed: the twin is untrained
    result = train(model, task, **group.training.train_kwargs(), checkpoint_dir=str(workdir / "checkpoint"),
                   progress=False, device=device)
    rows = []
    for k, run_id in enumerate(group.run_ids):
        rows += [
            {"run_id": run_id, "metric": "accuracy", "value": float(result.final_accuracy[k])},
            {"run_id": run_id, "metric": "trials_to_criterion", "value": float(result.trials_to_criterion[k])},
            {"run_id": run_id, "metric": "diverged", "value": float(result.diverged[k])},
        ]
    artifacts = {"model": save_biornn(model, workdir / "model.pt").name}
    if result.snapshots is not None:  # weights over training, and their topology per run
        artifacts["snapshots"] = save_snapshots(result.snapshots, workdir / "snapshots.npz").name
        table = result.snapshots.table.copy()
        table.insert(0, "run_id", [group.run_ids[k] for k in table["network"]])
        table.to_csv(workdir / "snapshots.csv", index=False)
        artifacts["snapshot_metrics"] = "snapshots.csv"
    curves = result.curves.copy()
    curves["run_id"] = [group.run_ids[k] for k in curves["network"]]
    return model, untrained, model.w_rec.detach().double().numpy(), rows, curves.to_dict("records"), artifacts


def _run_reservoir(group: ReservoirGroup, graph: BrainGraph, workdir: Path, device: str | None = None):
    if graph.connectome is None:
        raise ValueError("reservoir runs need a structural connectome; set graph.connectome = "
                         "'enigma_hcp' in the spec or remove the reservoirs")
    m, regime = group.model, group.regime
    task = get_task(group.task, dt=m.dt, **group.task_options)
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
    return ensemble, None, np.stack([mem.W for mem in members]), rows, None, {}


_RUNNERS = {TrainableGroup: _run_trainable, ReservoirGroup: _run_reservoir}


def execute_group(group: dict[str, Any] | RunGroup, *, workdir: Path, device: str | None = None) -> dict[str, Any]:
    """Run one group: the executor of :func:`conn2rnn.experiments.run_groups`.

    Parameters
    ----------
    group : RunGroup or its dict (:meth:`RunGroup.to_dict`)
    workdir : Path
        The group's own folder for checkpoints and artifacts.
    device : str, optional
        Torch device trainable groups train on (default the CPU); reservoirs
        always run on the CPU.

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
    model, untrained, weights, rows, curves, artifacts = _RUNNERS[type(group)](group, graph, workdir, device)
    ctx = AnalysisContext(group, graph, model, weights, workdir, untrained)
    for name in group.analyses:
        more_rows, more_artifacts = ANALYSES.get(name, argument="analyses")(ctx)
        rows += more_rows
        artifacts.update(more_artifacts)
    labels = group.labels()
    return {"rows": [{**labels[row["run_id"]], **row} for row in rows],
            "curves": [{**labels[row["run_id"]], **row} for row in curves] if curves else None,
            "artifacts": artifacts}
