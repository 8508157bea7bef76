"""Saving and loading BioRNN models: bitwise round trips with provenance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn.fitting.training import train
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.models.io import load_biornn, save_biornn
from conn2rnn.regimes import get_regime
from conn2rnn.tasks import Task, get_task


def _graph() -> BrainGraph:
    rng = np.random.default_rng(0)
    g = BrainGraph.from_grid((3, 2, 2))
    n = g.n_nodes
    conn = rng.random((n, n)) * (rng.random((n, n)) < 0.5)
    return BrainGraph.from_arrays(
        g.names, g.coords, hemispheres=["L"] * 6 + ["R"] * 6, networks=["Vis"] * 6 + ["Default"] * 6,
        gradient=np.linspace(0.0, 1.0, n), maps={"myelin": rng.random(n)}, connectome=conn,
        fc=rng.random((n, n)), metadata={"synthetic": True, "atlas": "grid"},
    )


def _trained_ensemble():
    g = _graph()
    task = get_task("gonogo", sigma=0.2)
    regimes = [get_regime("bio", sparsity_mask="connectome"), get_regime("sernn"), get_regime("sernn")]
    model = BioRNN.from_graph(g, task, regimes, n_networks=3, seeds=[4, 5, 6], strengths=[1e-3, 1e-2, 1e-1],
                              tau="myelin", tau_range=(100.0, 300.0), sigma_rec=0.1, sigma_in=0.05)
    train(model, task, n_steps=2, eval_every=2, eval_batch_size=8, progress=False)
    return model, task


def test_round_trip_reproduces_outputs_bitwise(tmp_path):
    model, task = _trained_ensemble()
    path = save_biornn(model, tmp_path / "sub" / "model.pt")
    loaded = load_biornn(path)
    x = torch.from_numpy(np.array(task.batch(4, seed=3).inputs))
    model.eval()
    assert not loaded.training
    for a, b in zip(model(x), loaded(x)):
        assert torch.equal(a, b)
    # the noise streams continue where they were
    model.train()
    loaded.train()
    for a, b in zip(model(x), loaded(x)):
        assert torch.equal(a, b)
    assert loaded.config == model.config
    sd1, sd2 = model.state_dict(), loaded.state_dict()
    assert sd1.keys() == sd2.keys() and all(torch.equal(sd1[k], sd2[k]) for k in sd1)
    assert torch.equal(model.weight_cost(), loaded.weight_cost())


def test_round_trip_restores_provenance(tmp_path):
    model, task = _trained_ensemble()
    loaded = load_biornn(save_biornn(model, tmp_path / "m.pt"))
    assert loaded.regimes == model.regimes
    assert Task.from_dict(loaded.task_spec) == task
    g1, g2 = model.graph, loaded.graph
    assert g2.names == g1.names and list(g2.networks) == list(g1.networks)
    assert list(g2.hemispheres) == list(g1.hemispheres) and dict(g2.metadata) == dict(g1.metadata)
    for name in ("coords", "gradient", "connectome", "fc"):
        assert np.array_equal(getattr(g2, name), getattr(g1, name)), name
    assert np.array_equal(g2.maps["myelin"], g1.maps["myelin"])
    # networks 1 and 2 share one resolved regime; the sharing survives the round trip
    assert loaded.regime_arrays[1] is loaded.regime_arrays[2]
    for a, b in zip(model.regime_arrays, loaded.regime_arrays):
        for name in ("input_nodes", "output_nodes", "distance", "recurrent_mask"):
            va, vb = getattr(a, name), getattr(b, name)
            assert (va is None and vb is None) or np.array_equal(va, vb), name


def test_single_network_and_member_round_trip(tmp_path):
    plain = BioRNN(2, 5, 3, seeds=[9], activation="relu", tau=np.linspace(20.0, 80.0, 5), dt=10.0,
                   dale=0.6, dtype=torch.float64)
    loaded = load_biornn(save_biornn(plain, tmp_path / "plain.pt"))
    assert loaded.graph is None and loaded.regimes is None and loaded.task_spec is None
    x = torch.randn(6, 3, 2, dtype=torch.float64)
    plain.eval()
    assert torch.equal(plain(x)[0], loaded(x)[0])
    model, _ = _trained_ensemble()
    member = load_biornn(save_biornn(model.network(2), tmp_path / "member.pt"))
    assert member.n_networks == 1 and member.seeds == [6] and member.regimes == (model.regimes[2],)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved model"):
        load_biornn(tmp_path / "missing.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="is not a conn2rnn BioRNN file"):
        load_biornn(tmp_path / "other.pt")
    with pytest.raises(TypeError, match="model must be a BioRNN"):
        save_biornn(torch.nn.Linear(2, 2), tmp_path / "x.pt")
