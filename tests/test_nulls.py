"""Null models: what each one keeps (degrees, weights, symmetry, geometry) and what it destroys."""

import numpy as np
import pytest

from conn2rnn.nulls import (
    random_density_matched,
    rewire_degree_preserving,
    shuffle_weights,
    spatial_null,
)


def _spatial_graph(n=40, symmetric=True, seed=0):
    """Synthetic embedded graph: edge probability and weight fall with distance."""
    rng = np.random.default_rng(seed)
    xyz = rng.uniform(0, 50, (n, 3))
    dist = np.sqrt(((xyz[:, None] - xyz[None]) ** 2).sum(-1))
    edges = rng.random((n, n)) < 0.9 * np.exp(-dist / 15)
    weights = np.exp(-dist / 30) * rng.lognormal(0, 0.3, (n, n))
    if symmetric:
        edges = np.triu(edges, 1)
        edges = edges | edges.T
        weights = np.triu(weights, 1) + np.triu(weights, 1).T
    w = edges * weights
    np.fill_diagonal(w, 0)
    return w, dist


def _corr_edges_distance(w, dist):
    off = ~np.eye(len(w), dtype=bool)
    return np.corrcoef((w != 0)[off], dist[off])[0, 1]


def _same_weights(a, b):
    return np.allclose(np.sort(a[a != 0]), np.sort(b[b != 0]))


def test_directed_rewiring_keeps_in_and_out_degrees_exactly():
    w, _ = _spatial_graph(symmetric=False)
    before = w.copy()
    null = rewire_degree_preserving(w, seed=1)
    assert np.array_equal(w, before)
    assert np.array_equal((null != 0).sum(0), (w != 0).sum(0))
    assert np.array_equal((null != 0).sum(1), (w != 0).sum(1))
    assert np.allclose(null.sum(0), w.sum(0))  # weights travel with their source: out-strength kept
    assert _same_weights(null, w) and np.all(np.diag(null) == 0)
    assert np.mean((null != 0) == (w != 0)) < 0.95
    assert np.array_equal(null, rewire_degree_preserving(w, seed=1))
    assert not np.array_equal(null, rewire_degree_preserving(w, seed=2))


def test_undirected_rewiring_keeps_symmetry_and_degrees():
    w, _ = _spatial_graph()
    null = rewire_degree_preserving(w, directed=False, seed=0)
    assert np.array_equal(null, null.T)
    assert np.array_equal((null != 0).sum(0), (w != 0).sum(0))
    assert _same_weights(null, w)
    with pytest.raises(ValueError, match="not symmetric"):
        rewire_degree_preserving(_spatial_graph(symmetric=False)[0], directed=False)


def test_shuffle_weights_keeps_topology():
    w, _ = _spatial_graph()
    for symmetric in (False, True):
        null = shuffle_weights(w, symmetric=symmetric, seed=0)
        assert np.array_equal(null != 0, w != 0) and _same_weights(null, w)
        assert not np.array_equal(null, w)
    assert np.array_equal(shuffle_weights(w, symmetric=True, seed=0), shuffle_weights(w, symmetric=True, seed=0).T)


def test_random_null_keeps_density_and_weights_but_not_geometry():
    w, dist = _spatial_graph()
    null = random_density_matched(w, symmetric=True, seed=0)
    assert np.count_nonzero(null) == np.count_nonzero(w) and _same_weights(null, w)
    assert np.array_equal(null, null.T)
    assert _corr_edges_distance(w, dist) < -0.3
    assert abs(_corr_edges_distance(null, dist)) < 0.1
    assert np.array_equal(null, random_density_matched(w, symmetric=True, seed=0))


@pytest.mark.parametrize("method", ["exponential_distance_rule", "length_preserving"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_spatial_nulls_keep_distance_dependence(method, symmetric):
    w, dist = _spatial_graph(symmetric=symmetric)
    before = w.copy()
    null = spatial_null(w, dist, method=method, symmetric=symmetric, seed=0)
    assert np.array_equal(w, before)
    assert np.count_nonzero(null) == np.count_nonzero(w) and _same_weights(null, w)
    assert np.mean((null != 0) == (w != 0)) < 0.97  # actually randomised
    assert abs(_corr_edges_distance(null, dist) - _corr_edges_distance(w, dist)) < 0.1
    edges, null_edges = w != 0, null != 0
    assert dist[null_edges].mean() == pytest.approx(dist[edges].mean(), rel=0.1)
    # weights still fall with length
    assert np.corrcoef(null[null_edges], dist[null_edges])[0, 1] < -0.3
    if symmetric:
        assert np.array_equal(null, null.T)
    if method == "length_preserving":
        assert np.array_equal((null != 0).sum(0), (w != 0).sum(0))
        assert np.array_equal((null != 0).sum(1), (w != 0).sum(1))
    assert np.array_equal(null, spatial_null(w, dist, method=method, symmetric=symmetric, seed=0))


def test_errors_and_warnings():
    w, dist = _spatial_graph()
    with pytest.raises(ValueError, match="choose one of.*length_preserving"):
        spatial_null(w, dist, method="spin")
    with pytest.raises(ValueError, match="distance must be"):
        spatial_null(w, dist[:5, :5])
    with pytest.raises(ValueError, match="square"):
        shuffle_weights(np.ones((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        random_density_matched(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="at least 2"):
        rewire_degree_preserving(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="n_swaps_per_edge"):
        rewire_degree_preserving(w, n_swaps_per_edge=0)
    complete = 1.0 - np.eye(6)
    with pytest.warns(RuntimeWarning, match="swaps succeeded"):
        assert np.array_equal(rewire_degree_preserving(complete, n_swaps_per_edge=1, seed=0), complete)


def test_enigma_spatial_null_keeps_weight_distance_relation():
    from scipy.stats import spearmanr

    from conn2rnn.datasets import load_atlas

    graph = load_atlas("schaefer100", connectome="enigma_hcp")
    w, dist = graph.connectome, graph.distance()
    edges = w != 0

    def rho(x):
        e = x != 0
        return spearmanr(x[e], dist[e])[0]

    assert rho(w) < -0.4
    spatial = spatial_null(w, dist, symmetric=True, seed=0)
    random = random_density_matched(w, symmetric=True, seed=0)
    assert abs(rho(spatial) - rho(w)) < 0.1 and abs(rho(random)) < 0.1
    assert dist[spatial != 0].mean() == pytest.approx(dist[edges].mean(), rel=0.05)
    assert np.array_equal(spatial, spatial.T) and not graph.connectome.flags.writeable
