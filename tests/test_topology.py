"""Graph topology measures against closed forms, bctpy and networkx."""

import bct
import networkx as nx
import numpy as np
from scipy.sparse.csgraph import connected_components
import pytest
from scipy.spatial.distance import cdist

from conn2rnn import load_atlas
from conn2rnn.analysis.topology import (
    characteristic_path_length,
    clustering,
    modularity,
    small_worldness,
    sparsity,
    threshold_proportional,
    topology_summary,
    weight_distance_correlation,
    wiring_cost,
)

def _cliques(n_cliques, size):
    block = np.ones((size, size)) - np.eye(size)
    return np.kron(np.eye(n_cliques), block)


@pytest.fixture(scope="module")
def random_weighted():
    rng = np.random.default_rng(0)
    w = rng.random((30, 30)) * (rng.random((30, 30)) < 0.3)
    w = np.triu(w, 1)
    return w + w.T


def _q_closed(adj, labels):
    """Newman's Q = sum_ij (A_ij - k_i k_j / 2m) delta(c_i, c_j) / 2m, written out."""
    k = adj.sum(axis=1)
    two_m = adj.sum()
    same = labels[:, None] == labels[None, :]
    return float(((adj - np.outer(k, k) / two_m) * same).sum() / two_m)


# ---------------------------------------------------------------- modularity


@pytest.mark.parametrize("method", ["louvain", "spectral"])
def test_modularity_of_disjoint_cliques_matches_closed_form(method):
    # c equal disconnected cliques: Q = 1 - 1/c
    for n_cliques in (2, 4):
        q, labels = modularity(_cliques(n_cliques, 6), method=method)
        assert q == pytest.approx(1 - 1 / n_cliques, abs=1e-12)
        np.testing.assert_array_equal(labels, np.repeat(np.arange(n_cliques), 6))
    q, labels = modularity(_cliques(2, 5), method=method, directed=True)
    assert q == pytest.approx(0.5, abs=1e-12)


def test_modularity_against_bct_and_formula(random_weighted):
    w = random_weighted
    ci, q_bct = bct.community_louvain(w, seed=1)
    assert _q_closed(w, ci) == pytest.approx(q_bct, abs=1e-10)  # the formula is BCT's Q
    for method in ("louvain", "spectral"):
        q, labels = modularity(w, method=method, seed=3)
        assert q == pytest.approx(_q_closed(w, labels), abs=1e-10)
        assert q > 0.9 * q_bct  # a heuristic partition as good as BCT's Louvain, roughly
    assert modularity(w, seed=3)[1].tolist() == modularity(w, seed=3)[1].tolist()


# ---------------------------------------------------------------- clustering and paths


def test_clustering_and_path_length_match_bct(random_weighted):
    w = random_weighted
    binary = (w > 0).astype(float)
    np.testing.assert_allclose(clustering(w), bct.clustering_coef_wu(w / w.max()), atol=1e-12)
    np.testing.assert_allclose(clustering(w, weighted=False), bct.clustering_coef_bu(binary), atol=1e-12)
    nx_c = nx.clustering(nx.from_numpy_array(w), weight="weight")
    np.testing.assert_allclose(clustering(w), [nx_c[i] for i in range(30)], atol=1e-12)
    assert characteristic_path_length(w) == pytest.approx(bct.charpath(bct.distance_bin(binary))[0])
    lengths = bct.distance_wei(bct.weight_conversion(w, "lengths"))[0]
    assert characteristic_path_length(w, weighted=True) == pytest.approx(bct.charpath(lengths)[0])


def test_ring_lattice_closed_forms():
    n, k = 60, 6
    ring = nx.to_numpy_array(nx.watts_strogatz_graph(n, k, 0.0, seed=0))
    np.testing.assert_allclose(clustering(ring, weighted=False), 3 * (k - 2) / (4 * (k - 1)))
    hops = np.ceil(np.minimum(np.arange(1, n), n - np.arange(1, n)) / (k // 2))
    assert characteristic_path_length(ring) == pytest.approx(hops.mean())


def test_directed_path_length_follows_target_source_orientation():
    w = np.zeros((3, 3))
    w[1, 0] = 1.0  # 0 -> 1
    w[2, 1] = 1.0  # 1 -> 2
    with pytest.warns(RuntimeWarning, match="3 of 6 ordered node pairs are not connected"):
        assert characteristic_path_length(w, directed=True) == pytest.approx((1 + 2 + 1) / 3)


# ---------------------------------------------------------------- small-worldness


def test_small_worldness_ring_small_world_random():
    def graph(p, seed):
        return nx.to_numpy_array(nx.watts_strogatz_graph(100, 10, p, seed=seed))

    ring, sw = graph(0.0, 1), graph(0.1, 1)
    sig_ring, om_ring = small_worldness(ring, seed=0), small_worldness(ring, kind="omega", seed=0)
    # the ring is its own lattice null (C = C_latt), so omega = L_rand / L - 1 and
    # sigma = (C / C_rand) (omega + 1); C_rand of a density-matched random graph ~ p
    c_rand = clustering(ring, weighted=False).mean() * (om_ring + 1) / sig_ring
    assert c_rand == pytest.approx(500 / 4950, rel=0.1)
    l_rand = (om_ring + 1) * characteristic_path_length(ring)
    nx_l = np.mean(
        [nx.average_shortest_path_length(nx.gnm_random_graph(100, 500, seed=s)) for s in range(10)]
    )
    assert l_rand == pytest.approx(nx_l, rel=0.03)
    assert om_ring < -0.5
    assert small_worldness(sw, seed=0) > 3 and abs(small_worldness(sw, kind="omega", seed=0)) < 0.2
    sig_random = [
        small_worldness(nx.to_numpy_array(nx.gnm_random_graph(100, 500, seed=s)), seed=s) for s in range(5)
    ]
    assert np.mean(sig_random) == pytest.approx(1.0, abs=0.1)
    assert small_worldness(sw, seed=4) == small_worldness(sw, seed=4)


# ---------------------------------------------------------------- thresholding and costs


def test_threshold_proportional_matches_bct_and_breaks_ties_row_major(random_weighted):
    w = random_weighted
    for density in (0.05, 0.1, 0.2):
        ours, theirs = threshold_proportional(w, density), bct.threshold_proportional(w, density)
        np.testing.assert_array_equal(ours, theirs)
    flat = np.ones((4, 4))
    kept = threshold_proportional(flat, 2 / 6)  # 2 of the 6 pairs, all tied
    expect = np.zeros((4, 4))
    expect[0, 1] = expect[1, 0] = expect[0, 2] = expect[2, 0] = 1.0
    np.testing.assert_array_equal(kept, expect)
    directed = -np.arange(16.0).reshape(4, 4)
    kept = threshold_proportional(directed, 3 / 12)  # largest |w| off the diagonal, sign kept
    assert sorted(kept[kept != 0].tolist()) == [-14.0, -13.0, -12.0]
    assert sparsity(kept) == pytest.approx(9 / 12)


def test_wiring_cost_and_weight_distance_closed_forms():
    w = np.array([[0.0, 2.0, 0.0], [0.5, 0.0, -1.0], [0.0, 0.0, 3.0]])
    d = np.array([[0.0, 10.0, 20.0], [10.0, 0.0, 5.0], [20.0, 5.0, 0.0]])
    assert wiring_cost(w, d) == pytest.approx(2 * 10 + 0.5 * 10 + 1 * 5)
    assert wiring_cost(w, d, weighted=False) == pytest.approx(10 + 10 + 5)
    ramp = np.triu(np.arange(1.0, 37.0).reshape(6, 6), 1)
    ramp = ramp + ramp.T
    assert weight_distance_correlation(ramp, 100 - ramp) == pytest.approx(-1.0)


def test_enigma_weight_distance_correlation(reference_data):
    graph = load_atlas("schaefer100", connectome="enigma_hcp")
    # documented for these files: SC weight vs Euclidean centroid distance rho = -0.51
    rho = weight_distance_correlation(graph.connectome, graph.distance("euclidean"))
    assert rho == pytest.approx(-0.51, abs=0.01)


# ---------------------------------------------------------------- summary and errors


def test_topology_summary_reports_symmetrisation_and_leaves_input(random_weighted):
    rng = np.random.default_rng(2)
    w = random_weighted * np.where(rng.random((30, 30)) < 0.5, -1.0, 1.0)  # asymmetric signs only
    w[0, 1] = 3 * w[0, 1] + 0.5
    before = w.copy()
    xyz = rng.random((30, 3)) * 100
    d = cdist(xyz, xyz)
    out = topology_summary(w, d, density=0.3, seed=1)
    np.testing.assert_array_equal(w, before)
    assert out["symmetrization"] == "mean of |W| and |W|.T" and out["weights"] == "absolute"
    sym = (np.abs(w) + np.abs(w).T) / 2
    assert out["modularity_q"] == modularity(threshold_proportional(sym, 0.3), seed=1)[0]
    assert out["sparsity"] == pytest.approx(sparsity(w))
    assert out["wiring_cost"] == pytest.approx(wiring_cost(w, d))
    assert set(out) >= {"sigma", "omega", "path_length", "clustering_binary", "weight_distance_rho"}
    with pytest.warns(RuntimeWarning, match="ordered node pairs are not connected"):
        sparse_out = topology_summary(random_weighted, density=0.1)
    assert sparse_out["symmetrization"] == "none (symmetric input)"
    # a disconnected thresholded graph: small-worldness of its largest component
    thr = threshold_proportional(random_weighted, 0.1)
    n_comp, labels = connected_components(thr != 0, directed=False)
    assert n_comp > 1 and sparse_out["small_world_nodes"] == np.bincount(labels).max()
    giant = np.flatnonzero(labels == np.bincount(labels).argmax())
    expected = small_worldness(thr[np.ix_(giant, giant)], kind="sigma", n_rand=10, seed=0)
    assert sparse_out["sigma"] == pytest.approx(expected)


def test_errors():
    asym = np.triu(np.ones((5, 5)), 1)
    with pytest.raises(ValueError, match="symmetrize='mean'"):
        clustering(asym)
    with pytest.raises(ValueError, match="valid choices: mean, max, min"):
        clustering(asym, symmetrize="avg")
    with pytest.raises(ValueError, match="valid methods: louvain, spectral"):
        modularity(asym + asym.T, method="infomap")
    with pytest.raises(ValueError, match="valid kinds: sigma, omega"):
        small_worldness(asym + asym.T, kind="delta")
    with pytest.raises(ValueError, match=r"density must be in \(0, 1\]"):
        threshold_proportional(asym, 0.0)
    with pytest.raises(ValueError, match="square"):
        sparsity(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="disconnected"):
        small_worldness(_cliques(2, 5))
    with pytest.raises(ValueError, match=r"d must have the shape of w \(5, 5\)"):
        wiring_cost(asym, np.ones((4, 4)))


# ----------------------------------------------------------------------------- BCT routes
def test_modularity_bct_method_is_bcts_modularity_und():
    from conn2rnn.analysis import bct as c2b

    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(3), 8)
    p = np.where(labels[:, None] == labels[None, :], 0.7, 0.05)
    a = np.triu((rng.random(p.shape) < p).astype(float), 1)
    a = a + a.T
    q, found = modularity(a, method="bct")
    ci, q_bct = c2b.modularity_und(a)
    assert q == pytest.approx(q_bct, abs=1e-12)
    np.testing.assert_array_equal(found, ci - 1)
    with pytest.raises(ValueError, match="undirected modularity_und"):
        modularity(a, method="bct", directed=True)


def test_small_worldness_degree_preserving_null_and_summary_label():
    # hubs joined to everyone: clustered against an N/E null, not against its own degrees
    rng = np.random.default_rng(0)
    n, hubs = 50, 5
    a = np.zeros((n, n))
    a[:hubs, :] = a[:, :hubs] = 1.0
    np.fill_diagonal(a, 0.0)
    extra = np.triu((rng.random((n, n)) < 0.03).astype(float), 1)
    a = np.maximum(a, extra + extra.T)
    s_gnm = small_worldness(a, n_rand=4, seed=0)
    s_deg = small_worldness(a, n_rand=4, seed=0, null="degree_preserving")
    assert s_gnm > 1.5 and s_deg < 1.2
    with pytest.raises(ValueError, match="unknown null 'lattice'; valid nulls: degree_preserving, gnm"):
        small_worldness(a, null="lattice")
    out = topology_summary(a, density=0.5, n_rand=2, null="degree_preserving")
    assert out["small_world_null"] == "same degrees (connected rewiring)"
    assert topology_summary(a, density=0.5, n_rand=2)["small_world_null"] == "same numbers of nodes and edges"
