"""ConnectomeReservoir: scaling of directed graphs, construction from a graph, reservoirpy parity."""

import numpy as np
import pytest
from scipy import sparse

from conn2rnn.graph import BrainGraph
from conn2rnn.models.reservoir import (
    ConnectomeReservoir,
    prepare_connectome,
    scale_spectral_radius,
    spectral_radius,
)



def _directed(n=30, seed=0):
    rng = np.random.default_rng(seed)
    w = (rng.random((n, n)) < 0.2) * rng.lognormal(size=(n, n))
    np.fill_diagonal(w, 0)
    return w


@pytest.fixture
def graph():
    """Synthetic 30-node graph: 10 Vis, 10 Default, 10 Cont nodes, directed connectome."""
    rng = np.random.default_rng(3)
    nets = ["Vis"] * 10 + ["Default"] * 10 + ["Cont"] * 10
    gradient = np.concatenate([rng.uniform(-2, -1, 10), rng.uniform(1, 2, 10), rng.uniform(-1, 1, 10)])
    return BrainGraph.from_arrays([f"n{i}" for i in range(30)], rng.normal(size=(30, 3)), networks=nets,
                                  gradient=gradient, connectome=_directed(), metadata={"synthetic": True})


def test_spectral_radius_of_directed_graph_uses_general_eigenvalues():
    w = _directed()
    assert spectral_radius(w) == pytest.approx(np.max(np.abs(np.linalg.eigvals(w))), rel=1e-12)
    # a symmetric eigensolver reads only one triangle and gets another number
    assert abs(np.max(np.abs(np.linalg.eigvalsh(w))) - spectral_radius(w)) > 0.1
    assert spectral_radius(sparse.csr_matrix(w)) == pytest.approx(spectral_radius(w), rel=1e-8)


def test_scaling_reaches_target_on_directed_graph_without_mutating_input():
    w = _directed()
    before = w.copy()
    scaled = scale_spectral_radius(w, 0.9)
    assert np.max(np.abs(np.linalg.eigvals(scaled))) == pytest.approx(0.9, abs=1e-10)
    assert np.array_equal(w, before)
    assert np.array_equal(scaled != 0, w != 0)


def test_all_zero_and_nilpotent_matrices_cannot_be_scaled():
    with pytest.raises(ValueError, match="all zero"):
        scale_spectral_radius(np.zeros((4, 4)), 0.9)
    chain = np.eye(6, k=-1) * 2.0  # feed-forward chain: nilpotent
    perm = np.random.default_rng(0).permutation(6)
    dag = chain[np.ix_(perm, perm)]
    assert spectral_radius(dag) == 0.0
    with pytest.raises(ValueError, match="nilpotent"):
        scale_spectral_radius(dag, 0.9)
    with pytest.raises(ValueError, match="NaN"):
        scale_spectral_radius(np.full((3, 3), np.nan), 0.9)
    with pytest.raises(ValueError, match="square"):
        spectral_radius(np.ones((3, 4)))


def test_prepare_connectome_keeps_zeros_and_never_mutates():
    w = _directed()
    before = w.copy()
    logged = prepare_connectome(w, transform="log1p")
    assert np.array_equal(logged != 0, w != 0)
    assert np.allclose(logged, np.log1p(w))
    binary = prepare_connectome(w, transform="binarize")
    assert set(np.unique(binary)) == {0.0, 1.0} and np.array_equal(binary != 0, w != 0)
    dale = prepare_connectome(w, sign="dale", inhibitory_fraction=0.3, seed=1)
    assert np.array_equal(np.abs(np.sign(dale).sum(axis=0)), (w != 0).sum(axis=0))  # one sign per source
    full = prepare_connectome(1.0 - np.eye(30), sign="dale", inhibitory_fraction=0.3, seed=1)
    assert np.sum(full.sum(axis=0) < 0) == 9  # 30% of the nodes are inhibitory
    rand = prepare_connectome(w, sign="random", inhibitory_fraction=0.5, seed=1)
    assert np.array_equal(np.abs(rand), w)
    assert 0.35 < np.mean(rand[w != 0] < 0) < 0.65
    assert np.array_equal(rand, prepare_connectome(w, sign="random", inhibitory_fraction=0.5, seed=1))
    assert np.array_equal(w, before)
    with pytest.raises(ValueError, match="choose one of.*'log1p'"):
        prepare_connectome(w, transform="minmax")
    with pytest.raises(ValueError, match="choose one of.*'dale'"):
        prepare_connectome(w, sign="flip")


def test_from_graph_places_inputs_outputs_and_scales(graph):
    before = np.array(graph.connectome)
    res = ConnectomeReservoir.from_graph(graph, n_inputs=2, input_nodes=("Vis",), output_nodes=("Default",),
                                         spectral_radius=0.9, input_scaling=0.5, seed=0)
    assert np.max(np.abs(np.linalg.eigvals(res.W))) == pytest.approx(0.9, abs=1e-10)
    vis, default = np.arange(10), np.arange(10, 20)
    assert np.array_equal(res.input_nodes, vis) and np.array_equal(res.output_nodes, default)
    assert np.all(res.W_in[10:] == 0) and np.all(res.W_in[vis] != 0)
    assert np.abs(res.W_in).max() <= 0.5
    assert np.array_equal(graph.connectome, before)
    assert not res.W.flags.writeable and not res.W_in.flags.writeable
    again = ConnectomeReservoir.from_graph(graph, n_inputs=2, input_nodes=("Vis",), input_scaling=0.5, seed=0)
    assert np.array_equal(again.W_in, res.W_in)
    other = ConnectomeReservoir.from_graph(graph, n_inputs=2, input_nodes=("Vis",), input_scaling=0.5, seed=1)
    assert not np.array_equal(other.W_in, res.W_in)


def test_gradient_leak_is_slow_in_association_and_fast_in_sensory_nodes(graph):
    res = ConnectomeReservoir.from_graph(graph, n_inputs=1, leak="gradient", leak_range=(0.1, 0.8), seed=0)
    g = np.asarray(graph.gradient)
    expected = 0.8 - 0.7 * (g - g.min()) / (g.max() - g.min())
    assert np.allclose(res.leak, expected)
    assert res.leak[np.argmax(g)] == pytest.approx(0.1) and res.leak[np.argmin(g)] == pytest.approx(0.8)
    no_grad = BrainGraph.from_arrays(graph.names, graph.coords, connectome=graph.connectome)
    with pytest.raises(ValueError, match="needs a hierarchy gradient"):
        ConnectomeReservoir.from_graph(no_grad, n_inputs=1, leak="gradient")


def test_from_graph_errors(graph):
    with pytest.raises(ValueError, match="no connectome"):
        ConnectomeReservoir.from_graph(BrainGraph.from_grid((2, 2, 2)), n_inputs=1)
    with pytest.raises(ValueError, match="selects no node"):
        ConnectomeReservoir.from_graph(graph, n_inputs=1, input_nodes=np.array([], dtype=int))
    with pytest.raises(ValueError, match="unknown network"):
        ConnectomeReservoir.from_graph(graph, n_inputs=1, input_nodes=("Visual",))
    with pytest.raises(ValueError, match="n_inputs"):
        ConnectomeReservoir.from_graph(graph, n_inputs=0)
    empty = graph.with_connectome(np.zeros((30, 30)))
    with pytest.raises(ValueError, match="all zero"):
        ConnectomeReservoir.from_graph(empty, n_inputs=1)


def test_constructor_errors():
    w = scale_spectral_radius(_directed(), 0.9)
    with pytest.raises(ValueError, match="input node set is empty"):
        ConnectomeReservoir(w, np.zeros((30, 1)))
    w_in = np.zeros((30, 1))
    w_in[:3] = 1.0
    with pytest.raises(ValueError, match="outside input_nodes"):
        ConnectomeReservoir(w, w_in, input_nodes=[0, 1])
    with pytest.raises(ValueError, match="w_in must be"):
        ConnectomeReservoir(w, np.ones((29, 1)))
    with pytest.raises(ValueError, match="leak"):
        ConnectomeReservoir(w, w_in, leak=0.0)


def test_run_matches_reservoirpy_node_and_composes_with_ridge(graph):
    from reservoirpy.nodes import Reservoir, Ridge

    res = ConnectomeReservoir.from_graph(graph, n_inputs=2, input_nodes="Vis", leak="gradient",
                                         bias_scaling=0.2, seed=4)
    u = np.random.default_rng(0).normal(size=(30, 5, 2))
    states = res.run(u)
    node = res.to_reservoirpy()
    assert isinstance(node, Reservoir)
    ref = node.run(np.ascontiguousarray(u.transpose(1, 0, 2)))  # every sequence from the zero state
    assert np.abs(states - ref.transpose(1, 0, 2)).max() < 1e-10
    model = res.to_reservoirpy() >> Ridge(ridge=1e-6)
    model.fit(u[:, 0], u[:, 0, :1])
    assert model.run(u[:, 1]).shape == (30, 1)
    assert "Reservoir" in repr(model)
    with pytest.raises(ValueError, match="I = 2 channels"):
        res.run(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        res.run(np.full((5, 2, 2), np.nan))


def test_noise_in_reservoirpy_node_and_engine(graph):
    from reservoirpy.nodes import Reservoir

    noisy = ConnectomeReservoir.from_graph(graph, n_inputs=1, noise=0.05, leak=1.0, seed=0)
    quiet = ConnectomeReservoir.from_graph(graph, n_inputs=1, noise=0.0, leak=1.0, seed=0)
    u = np.random.default_rng(1).normal(size=(50, 1))
    node = noisy.to_reservoirpy(seed=3)
    assert isinstance(node, Reservoir)
    a = node.run(u)
    assert np.array_equal(a, noisy.to_reservoirpy(seed=3).run(u))
    diff = a - quiet.to_reservoirpy().run(u)
    assert 0.02 < diff.std() < 0.2
    s1 = noisy.run(u[:, None], seed=2)
    assert np.array_equal(s1, noisy.run(u[:, None], seed=2))
    assert 0.02 < (s1 - quiet.run(u[:, None]))[:, 0].std() < 0.2


def test_output_states_and_rescaled_copy(graph):
    res = ConnectomeReservoir.from_graph(graph, n_inputs=1, output_nodes=("Default", "Cont"), seed=0)
    states = res.run(np.ones((4, 2, 1)))
    assert np.array_equal(res.output_states(states), states[..., 10:])
    slow = res.with_spectral_radius(0.5)
    assert spectral_radius(slow.W) == pytest.approx(0.5)
    assert np.array_equal(slow.W_in, res.W_in) and spectral_radius(res.W) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="N = 30"):
        res.output_states(np.zeros((4, 2, 7)))


def test_from_arrays_rescales_copy():
    w = _directed()
    w_in = np.zeros((30, 1))
    w_in[0] = 1.0
    res = ConnectomeReservoir.from_arrays(w, w_in, spectral_radius=1.1, leak=0.5)
    assert spectral_radius(res.W) == pytest.approx(1.1)
    assert res.metadata["spectral_radius"] == 1.1
    assert np.array_equal(res.input_nodes, [0])


def test_enigma_connectome_reservoir():
    from conn2rnn.datasets import load_atlas

    graph = load_atlas("schaefer100", connectome="enigma_hcp")
    res = ConnectomeReservoir.from_graph(graph, n_inputs=1, input_nodes=("Vis",), output_nodes=("Default",),
                                         leak="gradient", seed=0)
    assert np.max(np.abs(np.linalg.eigvals(res.W))) == pytest.approx(0.9, abs=1e-10)
    assert np.array_equal(res.W != 0, graph.connectome != 0)  # no edge created or lost
    assert np.array_equal(res.input_nodes, graph.select("Vis"))
    assert np.array_equal(res.output_nodes, graph.select("Default"))
    u = np.random.default_rng(0).normal(size=(20, 3, 1))
    ref = res.to_reservoirpy().run(np.ascontiguousarray(u.transpose(1, 0, 2)))
    assert np.abs(res.run(u) - ref.transpose(1, 0, 2)).max() < 1e-10
