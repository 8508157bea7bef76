"""The biophysical network, its model protocol, the cued-memory task and its readout error."""

import networkx as nx
import numpy as np
import pytest
import torch

from conn2rnn.biophys import (
    BiophysicalReservoir,
    CuedMemory,
    DivergedError,
    attractor_separation,
    default_parameters,
    dimensionality,
    filter_spikes,
    memory_error,
    ring_lattice,
    synthetic_memory,
    wiring_from_graph,
)
from conn2rnn.biophys.engine import SimResult
from conn2rnn.biophys.network import build_circuit, stack_parameters
from conn2rnn.graph import BrainGraph
from conn2rnn.models.protocol import RecurrentModel
from conn2rnn.tasks import get_task


def test_ring_lattice():
    adj = ring_lattice(10, radius=2)
    assert not adj.diagonal().any()
    np.testing.assert_array_equal(adj.sum(axis=1), [2, 3, 4, 4, 4, 4, 4, 4, 3, 2])  # open ends
    assert (adj == adj.T).all()


def test_default_wiring_and_graph_inputs():
    w = wiring_from_graph()
    assert (w.n_e, w.n_i) == (50, 25)
    np.testing.assert_array_equal(w.i_nodes, np.arange(0, 50, 2))
    assert not w.block("I", "E")[np.arange(25), np.arange(0, 50, 2)].any()  # same position: no self edge
    g = nx.path_graph(6, create_using=nx.DiGraph)  # 0 -> 1 -> ... -> 5
    wn = wiring_from_graph(g)
    assert wn.adjacency[1, 0] and not wn.adjacency[0, 1]  # [target, source]
    conn = np.zeros((6, 6))
    conn[2, 1] = 0.5
    bg = BrainGraph.from_grid((6, 1, 1)).with_connectome(conn)
    wb = wiring_from_graph(bg)
    assert wb.adjacency.sum() == 1 and wb.adjacency[2, 1]


def test_circuit_masks_seeded_and_nested():
    low = stack_parameters([{"p_ee_ampa_soma": 0.3}, {"p_ee_ampa_soma": 0.8}, {"p_ee_ampa_soma": 0.0}])
    w = wiring_from_graph()
    c1, c2 = build_circuit(low, w, seed=3), build_circuit(low, w, seed=3)
    ampa = [s for s in c1.synapses if s[0].name == "AMPA" and s[1] == "E"][0][2].numpy()
    np.testing.assert_array_equal(ampa, [s for s in c2.synapses if s[0].name == "AMPA"][0][2].numpy())
    soma = ampa[:, :50, :] > 0  # E->E soma AMPA block
    assert soma[0].sum() < soma[1].sum() and soma[2].sum() == 0
    assert not (soma[0] & ~soma[1]).any()  # a larger p keeps a superset of edges
    assert not (soma[1] & ~w.block("E", "E")).any()  # only graph edges
    # peak conductance density = g (nS) / soma area
    dens = ampa[1, :50][soma[1]]
    np.testing.assert_allclose(dens, 0.5 * 1e-6 / c1.area_cm2[0].item())


def test_parameter_errors_name_the_parameter():
    with pytest.raises(ValueError, match="unknown parameter"):
        stack_parameters({"g_ee_gaba": 1.0})
    with pytest.raises(ValueError, match="parameter g_ei_ampa must be >= 0"):
        stack_parameters({"g_ei_ampa": -0.1})
    with pytest.raises(ValueError, match="parameter p_ii_gaba is a probability"):
        stack_parameters({"p_ii_gaba": 1.5})
    with pytest.raises(ValueError, match="unknown cue_synapse"):
        BiophysicalReservoir({}, cue_synapse="AMPA_axon")
    with pytest.raises(ValueError, match="dt must lie in"):
        BiophysicalReservoir({}, dt=0.5)
    with pytest.raises(ValueError, match="cue_p must be a probability"):
        BiophysicalReservoir({}, cue_p=2.0)


@pytest.fixture(scope="module")
def small_run():
    model = BiophysicalReservoir([default_parameters(), {**default_parameters(), "g_noise_e": 6.0}],
                                 dt=0.1, cue_synapse="NMDA_dend", seed=1)
    inputs = np.zeros((120, 2, 3))
    inputs[20:45, :, :2] = 2.0
    inputs[20:45, :, 2] = 1.0
    return model, inputs, model.simulate(inputs, seed=5)


def test_model_protocol_and_shapes(small_run):
    model, inputs, res = small_run
    assert isinstance(model, RecurrentModel)
    assert (model.n_networks, model.n_nodes, model.n_inputs, model.dt_ms) == (2, 75, 3, 1.0)
    assert res.spikes.shape == (120, 2, 2, 75) and not res.diverged.any()
    states = filter_spikes(res.spikes, 1.0, 10.0)
    assert states.dtype == np.float64
    np.testing.assert_array_equal(model.output_nodes()[0], np.arange(1, 50, 2))
    assert res.spikes[:, 1, :, :50].sum() > res.spikes[:, 0, :, :50].sum()  # stronger drive, more spikes


def test_same_seed_identical_spikes(small_run):
    model, inputs, res = small_run
    again = model.simulate(inputs, seed=5)
    np.testing.assert_array_equal(res.spikes, again.spikes)
    other = model.simulate(inputs, seed=6)
    assert not np.array_equal(res.spikes, other.spikes)


def test_states_refuses_diverged_runs(small_run, monkeypatch):
    model, inputs, res = small_run
    flags = np.zeros((2, 2), dtype=bool)
    flags[1, 0] = True
    monkeypatch.setattr(model, "simulate", lambda *a, **k: SimResult(res.spikes, None, flags, 1.0))
    with pytest.raises(DivergedError, match=r"1 simulation\(s\) diverged .* parameter set\(s\) \[1\]"):
        model.states(inputs)
    with pytest.raises(ValueError, match="x0 must be None"):
        model.states(inputs, x0=np.zeros(75))


def test_cue_encoder_closed_form():
    model = BiophysicalReservoir({}, seed=2, cue_width=0.3, cue_rate_hz=100.0)
    x = np.zeros((1, 1, 3))
    x[0, 0] = (2.0, -2.0, 1.0)
    rates = model.cue_rates(x)[0, 0]
    pref = model.cue_preferred
    expected = 100.0 * (np.exp(-((2.0 - pref[:, 0]) / 0.3) ** 2) + np.exp(-((-2.0 - pref[:, 1]) / 0.3) ** 2)) / 2
    np.testing.assert_allclose(rates, expected)
    assert not model.cue_e_mask[1::2].any()  # odd E cells never receive the cue
    with pytest.raises(ValueError, match="inputs must be"):
        model.cue_rates(np.zeros((5, 1, 2)))


def test_cued_memory_task():
    task = get_task("cued_memory")
    batch = task.batch(8, seed=0)
    assert batch.inputs.shape == (1000, 8, 3) and batch.targets.shape == (1000, 8, 2)
    np.testing.assert_array_equal(batch.info["repeat"], [0, 0, 0, 0, 1, 1, 1, 1])
    assert np.all(batch.targets[:250] == 0)
    np.testing.assert_array_equal(batch.targets[250:, 1], np.broadcast_to([-2.0, 2.0], (750, 2)))
    assert batch.decision_mask[250:].all() and not batch.decision_mask[:250].any()
    assert batch.loss_mask.all()
    assert CuedMemory.from_dict(task.to_dict()) == task


def test_memory_error_closed_forms():
    task = CuedMemory()
    batch = task.batch(8, seed=0)
    silent = np.zeros((1000, 8, 5))
    assert memory_error(silent, batch) == pytest.approx(4.0)  # chance: predicting 0
    perfect = np.concatenate([batch.targets, np.ones((1000, 8, 1))], axis=2)
    assert memory_error(perfect, batch, alpha=1e-9) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="at least 2 repeats"):
        memory_error(np.zeros((1000, 4, 5)), task.batch(4, seed=0))


def test_memory_error_ceiling_of_noisy_persistent_memory():
    # the scoring pipeline can report a low error for a network that holds the cue at the
    # model's rate scale, and stays at (or just above) chance when the spikes carry no cue
    strong, batch = synthetic_memory(50.0)
    assert memory_error(strong, batch) < 1.5
    moderate, batch = synthetic_memory(20.0)
    assert 1.5 < memory_error(moderate, batch) < 3.5
    null, batch = synthetic_memory(0.0)
    assert memory_error(null, batch) > 3.9


def test_analyses_closed_forms():
    rng = np.random.default_rng(0)
    cond = np.repeat(np.arange(4), 3)
    centers = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], dtype=float)
    states = centers[cond][None] + rng.normal(0, 0.1, (600, 12, 3))
    sep = attractor_separation(states, cond)
    assert 0 < sep < 0.05
    assert attractor_separation(rng.normal(0, 1, (600, 12, 3)), cond) > 1.0
    assert dimensionality(states) == 3
    line = np.arange(50.0)[:, None, None] * np.array([1.0, 2.0, 0.0])
    assert dimensionality(line) == 1


def test_float32_option_runs():
    model = BiophysicalReservoir({}, dt=0.1, dtype=torch.float32)
    res = model.simulate(np.zeros((20, 1, 3)), seed=0)
    assert res.spikes.shape == (20, 1, 1, 75) and not res.diverged.any()


def test_filter_spikes_closed_form():
    counts = np.ones((400, 1))  # one spike per 1 ms bin: 1000 Hz
    x = filter_spikes(counts, 1.0, 10.0)
    steady = 1.0 / (1.0 - np.exp(-0.1))
    assert x[-1, 0] == pytest.approx(steady)
    np.testing.assert_allclose(x[:3, 0], [1.0, 1.0 + np.exp(-0.1), 1.0 + np.exp(-0.1) + np.exp(-0.2)])
    with pytest.raises(ValueError, match="tau_ms must be > 0"):
        filter_spikes(counts, 1.0, 0.0)


def test_project_evaluation_table():
    """The project's evaluate() scores every parameter set with a held-out ridge readout."""
    from conn2rnn.fitting.evaluation import evaluate

    model = BiophysicalReservoir([default_parameters(), {**default_parameters(), "g_noise_e": 6.0}], dt=0.1)
    task = CuedMemory(timing={"fixation": 30, "cue": 25, "delay": 45})
    table = evaluate(model, task, n_trials=8, test_size=0.25, seed=0)
    assert list(table["network"]) == [0, 1] and (table["metric"] == "r2").all()
    assert np.isfinite(table["score"]).all() and (table["train_score"] <= 1.0).all()
