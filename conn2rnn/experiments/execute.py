"""What one run group does: build, train or fit, evaluate, analyse, return tidy rows.

:func:`execute_group` is the executor the runners call (in worker processes
too): a trainable group is one :class:`~conn2rnn.models.BioRNN` ensemble
trained with checkpoints in the group's work folder (an interrupted group
resumes from them); a reservoir group is one batched engine call over its
seeds. Both then get the same analyses: task score, intrinsic timescales of the
resting state compared with the empirical map under spin nulls, and topology of
the recurrent weights.
"""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["build_graph", "execute_group"]

#: spin permutations used for every model-vs-empirical INT comparison
N_SPINS = 1000
#: proportional threshold of the topology measures
TOPOLOGY_DENSITY = 0.1


@lru_cache(maxsize=4)
def _graph_cached(spec_json: str):
    from ..datasets import load_atlas
    from ..graph import BrainGraph

    spec = json.loads(spec_json)
    if spec["atlas"] == "grid":
        return BrainGraph.from_grid((5, 5, 4))
    connectome = None if spec["connectome"] == "none" else spec["connectome"]
    return load_atlas(spec["atlas"], connectome=connectome, maps=tuple(spec["maps"]),
                      gradient=spec["gradient"])


def build_graph(graph_spec: dict[str, Any]):
    """The BrainGraph of a group's ``graph`` section (cached per process)."""
    return _graph_cached(json.dumps(graph_spec, sort_keys=True))


@lru_cache(maxsize=4)
def _empirical_nulls(spec_json: str) -> np.ndarray | None:
    from ..analysis.maps import spin_nulls

    graph = build_graph(json.loads(spec_json))
    if "int_hbn" not in graph.maps or graph.sphere_coords is None:
        return None
    return spin_nulls(graph.maps["int_hbn"], graph.sphere_coords, graph.hemispheres,
                      n_perm=N_SPINS, seed=0)


def _task(name: str, model_spec: dict[str, Any]):
    from ..tasks import get_task

    return get_task(name, dt=model_spec["dt"])


def _tau(model_spec: dict[str, Any]):
    return "gradient" if model_spec.get("tau_range") else model_spec["tau"]


def _timescale_rows(graph, group, run_ids, model, dt_ms: float) -> tuple[list[dict], np.ndarray]:
    from ..analysis.maps import compare_maps
    from ..analysis.resting import model_timescales

    # Nodes without a timescale (silent ReLU units, diverging networks) are not warned
    # about one by one here: their count is a metric of its own, int_undefined_nodes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ints = model_timescales(model, dt_ms=dt_ms, bold=True, tr_s=0.72, n_steps=1200, seed=0)
    rows = []
    nulls = _empirical_nulls(json.dumps(group["graph"], sort_keys=True))
    for k, run_id in enumerate(run_ids):
        undefined = int(np.isnan(ints[k]).sum())
        rows.append({"run_id": run_id, "metric": "int_undefined_nodes", "value": float(undefined)})
        median = float(np.nanmedian(ints[k])) if undefined < ints.shape[1] else np.nan
        rows.append({"run_id": run_id, "metric": "int_median_s", "value": median})
        if nulls is None:
            continue
        finite = np.isfinite(ints[k])
        if finite.sum() < 10 or np.nanstd(ints[k]) == 0:
            rows.append({"run_id": run_id, "metric": "int_rho", "value": np.nan})
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the dropped nodes are counted above
            cmp = compare_maps(ints[k], graph.maps["int_hbn"], method="spearman", nulls=nulls)
        rows.append({"run_id": run_id, "metric": "int_rho", "value": float(cmp.r)})
        rows.append({"run_id": run_id, "metric": "int_p_spin", "value": float(cmp.p_null)})
    return rows, ints


def _topology_rows(graph, run_ids, weights: np.ndarray) -> list[dict]:
    from ..analysis.topology import topology_summary

    d = graph.distance("euclidean")
    rows = []
    keys = ("modularity_q", "sigma", "clustering_weighted", "path_length", "weight_distance_rho",
            "wiring_cost", "sparsity")
    for k, run_id in enumerate(run_ids):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            summary = topology_summary(weights[k], d, density=TOPOLOGY_DENSITY, seed=k)
        rows += [{"run_id": run_id, "metric": key, "value": float(summary[key])} for key in keys]
    return rows


def _save_maps(workdir: Path, run_ids, ints: np.ndarray, names) -> str:
    frame = pd.DataFrame(ints.T, index=pd.Index(names, name="region"), columns=run_ids)
    path = workdir / "int_maps.csv"
    frame.to_csv(path)
    return path.name


def _run_trainable(group: dict[str, Any], workdir: Path) -> dict[str, Any]:
    from ..models.biornn import BioRNN
    from ..models.io import save_biornn
    from ..regimes import Regime
    from ..fitting.training import train

    graph = build_graph(group["graph"])
    m, t = group["model"], group["training"]
    task = _task(group["task"], m)
    regime = Regime.from_dict(group["regime"])
    model = BioRNN.from_graph(
        graph, task, regime, n_networks=len(group["seeds"]), seeds=group["seeds"],
        strengths=group["strengths"], tau=_tau(m), tau_range=tuple(m["tau_range"] or (100.0, 1000.0)),
        init=m["init"], activation=m["activation"], sigma_rec=m["noise"],
    )
    result = train(model, task, n_steps=t["n_steps"], batch_size=t["batch_size"], lr=t["lr"],
                   grad_clip=t["grad_clip"], eval_every=t["eval_every"],
                   eval_batch_size=t["eval_batch_size"], criterion=t["criterion"],
                   checkpoint_dir=str(workdir / "checkpoint"), checkpoint_every=t["checkpoint_every"],
                   seed=0, progress=False)
    run_ids = group["run_ids"]
    rows = []
    for k, run_id in enumerate(run_ids):
        rows += [
            {"run_id": run_id, "metric": "accuracy", "value": float(result.final_accuracy[k])},
            {"run_id": run_id, "metric": "trials_to_criterion", "value": float(result.trials_to_criterion[k])},
            {"run_id": run_id, "metric": "diverged", "value": float(result.diverged[k])},
        ]
    artifacts = {"model": save_biornn(model, workdir / "model.pt").name}
    if "timescales" in group["analyses"]:
        int_rows, ints = _timescale_rows(graph, group, run_ids, model, m["dt"])
        rows += int_rows
        artifacts["int_maps"] = _save_maps(workdir, run_ids, ints, graph.names)
    if "topology" in group["analyses"]:
        rows += _topology_rows(graph, run_ids, model.w_rec.detach().double().numpy())
    curves = result.curves.copy()
    curves["run_id"] = [run_ids[k] for k in curves["network"]]
    return {"rows": rows, "curves": curves.to_dict("records"), "artifacts": artifacts}


def _null_graph(graph, variant: str, seed: int):
    from .. import nulls

    if variant == "connectome":
        return graph
    w = np.asarray(graph.connectome)
    symmetric = bool(np.allclose(w, w.T))
    if variant == "rewired":
        w = nulls.rewire_degree_preserving(w, directed=not symmetric, seed=seed)
    elif variant == "weight_shuffle":
        w = nulls.shuffle_weights(w, symmetric=symmetric, seed=seed)
    elif variant == "random":
        w = nulls.random_density_matched(w, symmetric=symmetric, seed=seed)
    else:
        w = nulls.spatial_null(w, graph.distance("euclidean"), symmetric=symmetric, seed=seed)
    return graph.with_connectome(w, name=f"{variant} null (seed {seed})")


def _run_reservoir(group: dict[str, Any], workdir: Path) -> dict[str, Any]:
    from ..fitting.evaluation import evaluate_reservoirs
    from ..models.reservoir import ConnectomeReservoir
    from ..models.toggle import ReservoirEnsemble

    graph = build_graph(group["graph"])
    if graph.connectome is None:
        raise ValueError("reservoir runs need a structural connectome; set graph.connectome = "
                         "'enigma_hcp' in the spec or remove the reservoirs")
    m = group["model"]
    task = _task(group["task"], m)
    members = []
    for seed in group["seeds"]:
        g = _null_graph(graph, group["variant"], seed)
        members.append(ConnectomeReservoir.from_graph(
            g, n_inputs=task.n_inputs, input_nodes=("Vis",), output_nodes=("Default",),
            spectral_radius=m["spectral_radius"], leak=m["leak"], input_scaling=m["input_scaling"],
            seed=seed))
    ensemble = ReservoirEnsemble(tuple(members), tuple(group["seeds"]))
    scores = evaluate_reservoirs(ensemble, task, n_trials=m["reservoir_train_trials"] + m["reservoir_test_trials"],
                                 test_size=m["reservoir_test_trials"] / (m["reservoir_train_trials"]
                                                                         + m["reservoir_test_trials"]), seed=0)
    run_ids = group["run_ids"]
    rows = [{"run_id": run_ids[k], "metric": "accuracy", "value": float(s)} for k, s in enumerate(scores.score)]
    artifacts = {}
    if "timescales" in group["analyses"]:
        int_rows, ints = _timescale_rows(graph, group, run_ids, ensemble, m["dt"])
        rows += int_rows
        artifacts["int_maps"] = _save_maps(workdir, run_ids, ints, graph.names)
    if "topology" in group["analyses"]:
        rows += _topology_rows(graph, run_ids, np.stack([mem.W for mem in members]))
    return {"rows": rows, "curves": None, "artifacts": artifacts}


def _labels(group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-run label columns (task, regime, family, strength, seed)."""
    labels = {}
    for k, run_id in enumerate(group["run_ids"]):
        if group["kind"] == "trainable":
            labels[run_id] = {"task": group["task"], "regime": group["regime"]["name"], "family": "trainable",
                              "strength": group["strengths"][k], "seed": group["seeds"][k]}
        else:
            labels[run_id] = {"task": group["task"], "regime": f"reservoir-{group['variant']}",
                              "family": "readout-only", "strength": np.nan, "seed": group["seeds"][k]}
    return labels


def execute_group(group: dict[str, Any], *, workdir: Path) -> dict[str, Any]:
    """Run one group (see :meth:`conn2rnn.experiments.spec.ExperimentSpec.groups`).

    Parameters
    ----------
    group : dict
        A run group.
    workdir : Path
        The group's own folder for checkpoints and artifacts.

    Returns
    -------
    dict
        ``rows`` (tidy: run_id, task, regime, family, strength, seed, metric, value),
        ``curves`` (learning curves rows, trainable groups), ``artifacts``
        (files written under ``workdir``).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if group["kind"] == "trainable":
        out = _run_trainable(group, workdir)
    elif group["kind"] == "reservoir":
        out = _run_reservoir(group, workdir)
    else:
        raise ValueError(f"unknown group kind {group['kind']!r}; expected 'trainable' or 'reservoir'")
    labels = _labels(group)
    out["rows"] = [{**labels[row["run_id"]], **row} for row in out["rows"]]
    if out["curves"]:
        out["curves"] = [{**labels[row["run_id"]], **row} for row in out["curves"]]
    return out
