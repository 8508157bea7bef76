"""Virtual lesions: silenced nodes are exactly silent and without influence, cut edges
are exactly zero, the original is untouched, effects tables and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn.analysis.lesions import lesion, lesion_effects
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.tasks import get_task


def _graph() -> BrainGraph:
    g = BrainGraph.from_grid((3, 2, 2))
    n = g.n_nodes
    nets = np.where(np.arange(n) < n // 2, "Vis", "Default")
    hemi = np.where(g.coords[:, 0] < np.median(g.coords[:, 0]), "L", "R")
    return BrainGraph.from_arrays(g.names, g.coords, networks=nets, hemispheres=hemi,
                                  gradient=g.coords[:, 0] + 0.1 * g.coords[:, 1], metadata={"synthetic": True})


def _model(k=2):
    task = get_task("gonogo")
    model = BioRNN.from_graph(_graph(), task, n_networks=k, seeds=range(k), dtype=torch.float64)
    with torch.no_grad():
        model.b_rec.normal_(0.0, 0.5, generator=torch.Generator().manual_seed(0))
    return model, task


def test_silenced_nodes_are_silent_and_do_not_influence_the_rest():
    model, task = _model()
    x = torch.from_numpy(task.batch(8, seed=0).inputs)
    silenced = np.array([0, 5])
    cut = lesion(model, nodes=silenced)
    _, states = cut(x)
    assert torch.count_nonzero(states[..., silenced]) == 0
    assert torch.count_nonzero(cut.w_out[..., silenced]) == 0
    # the spared nodes evolve exactly as in a model whose silenced nodes' outputs are removed by hand
    manual = lesion(model, nodes=silenced)
    with torch.no_grad():
        manual.recurrent_mask.copy_(model.recurrent_mask)
        manual.recurrent_mask[:, :, silenced] = False
    spared = np.setdiff1d(np.arange(model.n_nodes), silenced)
    torch.testing.assert_close(manual(x)[1][..., spared], states[..., spared], rtol=0, atol=0)
    # the original is untouched
    assert bool(model.recurrent_mask.all()) and torch.count_nonzero(model.b_rec[:, silenced]) > 0


def test_node_selection_by_criteria_and_edges():
    model, _ = _model()
    graph = model.graph
    vis = lesion(model, nodes={"networks": "Vis"})
    idx = graph.select("Vis")
    assert not vis.recurrent_mask[:, :, idx].any() and not vis.recurrent_mask[:, idx, :].any()
    top = lesion(model, nodes={"gradient_quantile": (0.75, 1.0)})
    assert not top.input_mask[:, graph.select(gradient_quantile=(0.75, 1.0))].any()
    left = lesion(model, nodes={"hemisphere": "L"})
    assert not left.output_mask[:, :, graph.select(hemisphere="L")].any()
    edges = lesion(model, edges=[[1, 2], [3, 4]])
    assert torch.count_nonzero(edges.w_rec[:, [1, 3], [2, 4]]) == 0
    assert int((~edges.recurrent_mask).sum()) == 2 * model.n_networks


def test_lesion_effects_table():
    model, task = _model()
    table = lesion_effects(model, task, {"vis": {"nodes": {"networks": "Vis"}}, "edge": {"edges": [[0, 1]]}},
                           n_trials=32, n_steps=300, washout=50)
    assert list(table["lesion"]) == ["vis", "vis", "edge", "edge"]
    assert table["n_nodes_lesioned"].tolist() == [6, 6, 0, 0] and table["n_edges_cut"].tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose(table["score_change"], table["score"] - table["score_intact"])
    np.testing.assert_allclose(table["int_change_s"], table["int_lesioned_s"] - table["int_intact_s"])
    assert np.isfinite(table["int_intact_s"]).all()
    again = lesion_effects(model, task, {"vis": {"nodes": {"networks": "Vis"}}, "edge": {"edges": [[0, 1]]}},
                           n_trials=32, n_steps=300, washout=50)
    assert again.equals(table)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({}, ValueError, "needs nodes and/or edges"),
        ({"nodes": [0, 99]}, ValueError, "nodes must be indices in \\[0, 12\\)"),
        ({"nodes": np.ones(5, bool)}, ValueError, "boolean mask must have shape \\(12,\\)"),
        ({"nodes": [0.5]}, TypeError, "nodes must be node indices"),
        ({"edges": [[0, 1, 2]]}, ValueError, "edges must be \\(E, 2\\) int pairs"),
        ({"nodes": {"networks": "Cont"}}, ValueError, "unknown network"),
    ],
)
def test_lesion_errors(kwargs, error, match):
    model, _ = _model()
    with pytest.raises(error, match=match):
        lesion(model, **kwargs)


def test_lesion_needs_a_biornn_and_well_formed_specs():
    model, task = _model()
    with pytest.raises(TypeError, match="model must be a BioRNN"):
        lesion("not a model", nodes=[0])
    with pytest.raises(ValueError, match="lesions\\['x'\\] must be a dict with 'nodes' and/or 'edges'"):
        lesion_effects(model, task, {"x": {"node": [0]}}, timescales=False)
