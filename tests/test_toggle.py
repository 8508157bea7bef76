"""The trainable <-> readout-only toggle, shared evaluation, and model resting state."""

import numpy as np
import pytest
import torch

from conn2rnn.analysis.resting import model_timescales, resting_state
from conn2rnn.fitting.evaluation import evaluate
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.models.reservoir import ConnectomeReservoir, spectral_radius
from conn2rnn.models.toggle import ReservoirEnsemble, build_model, freeze, make_trainable
from conn2rnn.tasks import get_task


@pytest.fixture(scope="module")
def graph():
    rng = np.random.default_rng(0)
    base = BrainGraph.from_grid((4, 4, 2), spacing=10.0)
    nets = np.array(["Vis"] * 8 + ["SomMot"] * 8 + ["Cont"] * 8 + ["Default"] * 8)
    w = rng.random((32, 32)) * (rng.random((32, 32)) < 0.3)
    np.fill_diagonal(w, 0)
    return BrainGraph.from_arrays(base.names, base.coords, networks=nets, connectome=w,
                                  gradient=np.linspace(0, 1, 32), metadata={"synthetic": True})


def test_one_argument_switches_family(graph):
    task = get_task("gonogo")
    trainable = build_model(graph, task, "masked", trainable=True, n_networks=2)
    readout_only = build_model(graph, task, "masked", trainable=False, n_networks=2, spectral_radius=0.8)
    assert isinstance(trainable, BioRNN) and trainable.n_networks == 2
    assert isinstance(readout_only, ReservoirEnsemble) and readout_only.n_networks == 2
    member = readout_only.members[0]
    assert spectral_radius(member.W) == pytest.approx(0.8)
    np.testing.assert_array_equal(member.input_nodes, graph.select("Vis"))
    np.testing.assert_array_equal(member.output_nodes, graph.select("Default"))
    # the regime's own flag decides when trainable is not given
    from conn2rnn.regimes import get_regime

    assert isinstance(build_model(graph, task, get_regime("masked", trainable=False)), ReservoirEnsemble)


def test_readout_only_needs_a_connectome(graph):
    bare = BrainGraph.from_grid((2, 2, 2))
    with pytest.raises(ValueError, match="connectome"):
        build_model(bare, "gonogo", "vanilla", trainable=False)
    with pytest.raises(ValueError, match="n_networks"):
        build_model(graph, "gonogo", "vanilla", trainable=False, n_networks=0)


def test_make_trainable_reproduces_reservoir_states(graph):
    task = get_task("gonogo")
    res = ConnectomeReservoir.from_graph(graph, n_inputs=task.n_inputs, input_nodes=("Vis",),
                                         output_nodes=("Default",), leak="gradient", bias_scaling=0.1,
                                         seed=3)
    model = make_trainable(res, task, dtype=torch.float64).eval()
    batch = task.batch(8, seed=1)
    _, states = model(torch.tensor(batch.inputs, dtype=torch.float64))
    np.testing.assert_allclose(states[:, 0].detach().numpy(), res.run(batch.inputs), atol=1e-12)
    # only the input and output nodes are wired to the outside
    assert not model.w_in[0, graph.select("Default")].any()
    assert not model.w_out[0][:, graph.select("Vis")].any()


def test_freeze_reproduces_trained_states(graph):
    task = get_task("gonogo")
    model = build_model(graph, task, "bio", n_networks=3, activation="tanh", dtype=torch.float64).eval()
    frozen = freeze(model)
    batch = task.batch(8, seed=2)
    _, states = model(torch.tensor(batch.inputs, dtype=torch.float64))
    np.testing.assert_allclose(frozen.states(batch.inputs), states.detach().numpy(), atol=1e-12)
    np.testing.assert_array_equal(frozen.members[0].output_nodes, graph.select("Default"))
    relu = build_model(graph, task, "vanilla", activation="relu")
    with pytest.raises(ValueError, match="activation='tanh'"):
        freeze(relu)


def test_same_metrics_for_both_families(graph):
    task = get_task("gonogo")
    rnn = build_model(graph, task, "vanilla", n_networks=2)
    res = build_model(graph, task, "vanilla", trainable=False, n_networks=2, spectral_radius=0.9)
    a = evaluate(rnn, task, n_trials=64, seed=0)
    b = evaluate(res, task, n_trials=128, seed=0)
    assert list(a.columns[:4]) == list(b.columns[:4]) == ["network", "seed", "score", "metric"]
    assert (a.metric == "accuracy").all() and (b.metric == "accuracy").all()
    # Go/No-Go is linearly separable from the input nodes: a reservoir readout solves it
    assert (b.score > 0.9).all()
    with pytest.raises(ValueError, match="inputs"):
        evaluate(res, get_task("one_choice_inference"))


def test_resting_state_timescale_of_a_leaky_unit_is_closed_form():
    # uncoupled linear leaky units: h[t] = (1 - a) h[t-1] + a x[t], an AR(1) with coefficient 1 - a
    leak = np.array([0.1, 0.3, 0.6])
    res = ConnectomeReservoir(np.zeros((3, 3)), np.eye(3), leak=leak, activation="linear")
    dt_ms = 100.0
    tau = model_timescales(res, dt_ms=dt_ms, method="exp_fit", n_steps=60000, washout=200, seed=1)
    expected = -dt_ms / 1000.0 / np.log(1 - leak)
    np.testing.assert_allclose(tau[0], expected, rtol=0.1)
    acts = resting_state(res, n_steps=50, washout=5, seed=1)
    assert acts.shape == (50, 1, 3)
    with pytest.raises(ValueError, match="n_steps"):
        resting_state(res, n_steps=3)


def test_diverging_network_gets_nan_timescales_with_a_warning():
    stable = np.zeros((2, 2))
    exploding = np.array([[0.0, 3.0], [3.0, 0.0]])
    members = (ConnectomeReservoir(stable, np.ones((2, 1)), leak=1.0, activation="linear"),
               ConnectomeReservoir(exploding, np.ones((2, 1)), leak=1.0, activation="linear"))
    ens = ReservoirEnsemble(members, (0, 1))
    with pytest.warns(RuntimeWarning, match=r"network\(s\) \[1\] diverged"):
        tau = model_timescales(ens, dt_ms=10.0, n_steps=1000, washout=0)
    assert np.isfinite(tau[0]).all() and np.isnan(tau[1]).all()


def test_resting_state_bioRNN_and_bold(graph):
    model = build_model(graph, "gonogo", "vanilla", n_networks=2, tau="gradient", tau_range=(100, 1000))
    acts = resting_state(model, n_steps=300, seed=0)
    assert acts.shape == (300, 2, graph.n_nodes)
    ints = model_timescales(model, dt_ms=model.config["dt"], n_steps=3000, bold=True, tr_s=0.72)
    assert ints.shape == (2, graph.n_nodes) and np.isfinite(ints).mean() > 0.5
