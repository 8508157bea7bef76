"""Virtual lesions of trained bioRNNs: silence nodes or cut edges, and measure what
the task and the intrinsic timescales lose.

A silenced node is disconnected: its incoming recurrent and input weights, its
outgoing recurrent weights and its readout weights are masked out and its bias
is zeroed, so (from the zero state) its activity is ``f(0)`` -- 0 for tanh and
relu -- and it influences nothing either way. A cut edge masks one recurrent
weight ``w[target, source]``. Lesioned models are copies; the original is untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..fitting.evaluation import evaluate
from ..models.biornn import BioRNN
from .resting import model_timescales

__all__ = ["lesion", "lesion_effects"]


def _check_model(model: Any):
    if not isinstance(model, BioRNN):
        raise TypeError(f"model must be a BioRNN (lesions edit its masks); got {type(model).__name__}")
    return model


def _node_mask(model, nodes: Any) -> np.ndarray:
    """(N,) bool from indices, a boolean mask, or a dict of ``graph.node_mask`` criteria."""
    n = model.n_nodes
    if isinstance(nodes, Mapping):
        if model.graph is None:
            raise ValueError("selecting nodes by criteria (networks, hemisphere, gradient_quantile) needs "
                             "model.graph; build the model with BioRNN.from_graph or pass node indices")
        return np.asarray(model.graph.node_mask(**dict(nodes)), dtype=bool)
    arr = np.asarray(nodes)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"nodes as a boolean mask must have shape ({n},); got {arr.shape}")
        return arr.copy()
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"nodes must be node indices, an (N,) boolean mask or a dict of graph.node_mask "
                        f"criteria; got {nodes!r:.80}")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"nodes must be indices in [0, {n}); got values in [{arr.min()}, {arr.max()}]")
    mask = np.zeros(n, dtype=bool)
    mask[arr] = True
    return mask


def _edge_mask(model, edges: Any) -> np.ndarray:
    """(N, N) bool of cut edges from (E, 2) ``(target, source)`` pairs or an (N, N) boolean mask."""
    n = model.n_nodes
    arr = np.asarray(edges)
    if arr.dtype == bool:
        if arr.shape != (n, n):
            raise ValueError(f"edges as a boolean mask must have shape ({n}, {n}); got {arr.shape}")
        return arr.copy()
    if arr.ndim != 2 or arr.shape[1] != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"edges must be (E, 2) int pairs (target, source) or an ({n}, {n}) boolean mask; "
                         f"got shape {arr.shape} dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"edges must hold node indices in [0, {n}); got values in [{arr.min()}, {arr.max()}]")
    mask = np.zeros((n, n), dtype=bool)
    mask[arr[:, 0], arr[:, 1]] = True
    return mask


def lesion(model: Any, *, nodes: Any = None, edges: Any = None):
    """A copy of a BioRNN with nodes silenced and / or edges cut, in every network.

    Parameters
    ----------
    model : BioRNN
    nodes : (M,) int array_like, (N,) bool array_like or dict, optional
        Nodes to silence: indices, a mask, or ``graph.node_mask`` criteria, e.g.
        ``{"networks": "Vis"}``, ``{"hemisphere": "L"}``,
        ``{"gradient_quantile": (0.8, 1.0)}``.
    edges : (E, 2) int array_like or (N, N) bool array_like, optional
        Recurrent weights ``w[target, source]`` to cut.

    Returns
    -------
    BioRNN
        An independent copy (same config, provenance and noise state).
    """
    model = _check_model(model)
    if nodes is None and edges is None:
        raise ValueError("lesion needs nodes and/or edges to remove")
    node = _node_mask(model, nodes) if nodes is not None else np.zeros(model.n_nodes, dtype=bool)
    cut = _edge_mask(model, edges) if edges is not None else np.zeros((model.n_nodes,) * 2, dtype=bool)
    state = {name: t.detach().clone() for name, t in model.state_dict().items()}
    node_t, cut_t = torch.from_numpy(node), torch.from_numpy(cut)
    state["recurrent_mask"] &= ~(cut_t | node_t[:, None] | node_t[None, :])
    state["input_mask"] &= ~node_t[:, None]
    state["output_mask"] &= ~node_t[None, :]
    state["b_rec"][:, node_t] = 0.0
    out = type(model)._from_state(model.config, state)
    out.set_noise_state(model.noise_state())
    out.train(model.training)
    out.graph, out.task_spec = model.graph, model.task_spec
    if model.regimes is not None:
        out.regimes, out.regime_arrays = model.regimes, model.regime_arrays
    return out


def lesion_effects(model: Any, task: Any, lesions: Mapping[str, Any], *, n_trials: int = 256, seed: int = 0,
                   timescales: bool = True, int_method: str = "acf_sum", **resting: Any) -> pd.DataFrame:
    """Task score and intrinsic-timescale change of each lesion, per network.

    Parameters
    ----------
    model : BioRNN
    task : Task
    lesions : mapping of str to dict
        ``{label: {"nodes": ..., "edges": ...}}`` (arguments of :func:`lesion`).
    n_trials, seed : int
        Evaluation batch (:func:`conn2rnn.fitting.evaluation.evaluate`), the same for every lesion.
    timescales : bool
        Also estimate INTs (:func:`conn2rnn.analysis.resting.model_timescales`).
    int_method : str
        INT estimator.
    **resting
        Options of the resting-state run (n_steps, washout, mean, sd, seed).

    Returns
    -------
    pandas.DataFrame
        One row per lesion and network: ``lesion``, ``network``, ``seed``,
        ``n_nodes_lesioned``, ``n_edges_cut``, ``score_intact``, ``score``,
        ``score_change`` and, with ``timescales``, ``int_intact_s`` /
        ``int_lesioned_s`` (median INT in seconds over the spared nodes) and
        ``int_change_s``.
    """
    model = _check_model(model)
    if not isinstance(lesions, Mapping) or not lesions:
        raise ValueError("lesions must be a non-empty mapping {label: {'nodes': ..., 'edges': ...}}")
    intact = evaluate(model, task, n_trials=n_trials, seed=seed)["score"].to_numpy()
    dt = model.dt_ms
    ints0 = model_timescales(model, dt_ms=dt, method=int_method, **resting) if timescales else None
    rows = []
    for label, spec in lesions.items():
        if not isinstance(spec, Mapping) or not set(spec) <= {"nodes", "edges"}:
            raise ValueError(f"lesions[{label!r}] must be a dict with 'nodes' and/or 'edges'; got {spec!r:.80}")
        lesioned = lesion(model, **spec)
        node = _node_mask(model, spec["nodes"]) if spec.get("nodes") is not None else np.zeros(model.n_nodes, bool)
        n_cut = int(_edge_mask(model, spec["edges"]).sum()) if spec.get("edges") is not None else 0
        score = evaluate(lesioned, task, n_trials=n_trials, seed=seed)["score"].to_numpy()
        ints = model_timescales(lesioned, dt_ms=dt, method=int_method, **resting) if timescales else None
        for k in range(model.n_networks):
            row = {"lesion": label, "network": k, "seed": model.seeds[k], "n_nodes_lesioned": int(node.sum()),
                   "n_edges_cut": n_cut, "score_intact": float(intact[k]), "score": float(score[k]),
                   "score_change": float(score[k] - intact[k])}
            if timescales:
                spared = ~node
                a = float(np.nanmedian(ints0[k, spared])) if spared.any() else float("nan")
                b = float(np.nanmedian(ints[k, spared])) if spared.any() else float("nan")
                row.update({"int_intact_s": a, "int_lesioned_s": b, "int_change_s": b - a})
            rows.append(row)
    return pd.DataFrame(rows)
