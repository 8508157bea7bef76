"""Every model family implements the RecurrentModel protocol, and the leaky
parameters a model reports reproduce its own states."""

from __future__ import annotations

import numpy as np
import pytest

from conn2rnn import BrainGraph, get_task
from conn2rnn.models import (
    BioRNN,
    ConnectomeReservoir,
    LeakyRateModel,
    RecurrentModel,
    ReservoirEnsemble,
    as_recurrent_model,
    build_model,
    freeze,
    simulate,
)


@pytest.fixture(scope="module")
def graph() -> BrainGraph:
    rng = np.random.default_rng(0)
    g = BrainGraph.from_grid((3, 3, 2))
    w = np.abs(rng.normal(size=(g.n_nodes, g.n_nodes))) * (rng.random((g.n_nodes, g.n_nodes)) < 0.3)
    np.fill_diagonal(w, 0.0)
    return g.with_connectome(w)


def _models(graph):
    task = get_task("gonogo", dt=20.0)
    rnn = build_model(graph, task, "vanilla", n_networks=3, tau=np.linspace(40.0, 200.0, graph.n_nodes))
    res = build_model(graph, task, "vanilla", trainable=False, n_networks=2, leak=0.5)
    return {"biornn": rnn, "reservoir": res, "frozen": freeze(rnn)}


def test_every_family_is_a_leaky_recurrent_model(graph):
    for name, model in _models(graph).items():
        assert isinstance(model, RecurrentModel), name
        assert isinstance(model, LeakyRateModel), name
        assert len(model.seeds) == model.n_networks
        assert len(model.output_nodes()) == model.n_networks


def test_leaky_parameters_reproduce_states(graph):
    rng = np.random.default_rng(1)
    for name, model in _models(graph).items():
        inputs = rng.normal(size=(25, 4, model.n_inputs))
        states = model.states(inputs)
        assert states.shape == (25, model.n_networks, 4, model.n_nodes) and states.dtype == np.float64
        p = model.leaky_parameters()
        again = simulate(p.w, p.w_in, inputs, p.leak, p.bias, activation=p.activation)
        tol = 1e-5 if name == "biornn" else 1e-12  # the bioRNN steps in float32
        np.testing.assert_allclose(again, states, atol=tol, err_msg=name)


def test_states_start_from_x0(graph):
    model = _models(graph)["reservoir"]
    x0 = np.full((model.n_networks, 2, model.n_nodes), 0.3)
    inputs = np.zeros((1, 2, model.n_inputs))
    p = model.leaky_parameters()
    expected = (1 - p.leak[:, None]) * 0.3 + p.leak[:, None] * np.tanh(
        np.einsum("kij,kbj->kbi", p.w, x0) + p.bias[:, None])
    np.testing.assert_allclose(model.states(inputs, x0=x0)[0], expected, atol=1e-12)


def test_bioRNN_states_are_noise_free_and_deterministic(graph):
    task = get_task("gonogo", dt=20.0)
    model = BioRNN.from_graph(graph, task, n_networks=2, sigma_rec=0.5)
    model.train()
    inputs = np.random.default_rng(2).normal(size=(10, 3, model.n_inputs))
    assert np.array_equal(model.states(inputs), model.states(inputs))


def test_single_reservoir_becomes_an_ensemble(graph):
    res = ConnectomeReservoir.from_graph(graph, n_inputs=2, seed=0)
    model = as_recurrent_model(res)
    assert isinstance(model, ReservoirEnsemble) and model.n_networks == 1
    u = np.ones((5, 1, 2))
    np.testing.assert_array_equal(model.states(u)[:, 0], res.run(u))


def test_bad_models_and_inputs_are_named(graph):
    with pytest.raises(TypeError, match="model must be a model"):
        as_recurrent_model(np.zeros(3))
    model = _models(graph)["reservoir"]
    with pytest.raises(ValueError, match=r"inputs must be \(T, B, I\) with I = 3"):
        model.states(np.zeros((4, 2, 5)))
    with pytest.raises(ValueError, match="NaN"):
        model.states(np.full((4, 2, 3), np.nan))


def test_readout_only_means_reservoirs(graph):
    from conn2rnn.regimes import get_regime

    regime = get_regime("vanilla", trainable=False)
    assert isinstance(build_model(graph, "gonogo", regime), ReservoirEnsemble)
    with pytest.raises(ValueError, match=r"readout-only \(trainable=False\), which means connectome reservoirs"):
        BioRNN.from_graph(graph, "gonogo", regime)
