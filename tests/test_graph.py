"""BrainGraph: construction, validation, immutability, selection, distances, export."""

import numpy as np
import pytest

from conn2rnn.graph import BrainGraph


def _tiny(connectome=True):
    names = ["a", "b", "c", "d"]
    coords = np.array([[0.0, 0, 0], [3, 4, 0], [0, 0, 12], [1, 0, 0]])
    w = np.array([[0, 1, 0, 0], [2, 0, 3, 0], [0, 0, 0, 4], [5, 0, 0, 0]], dtype=float)
    return BrainGraph.from_arrays(
        names, coords, hemispheres=["L", "L", "R", "R"], networks=["Vis", "Default", "Vis", "Default"],
        gradient=[0.0, 1.0, 2.0, 4.0], maps={"m": [1, 2, 3, 4]},
        connectome=w if connectome else None, metadata={"atlas": "tiny", "synthetic": True},
    )


def test_from_arrays_copies_and_is_read_only():
    coords = np.zeros((2, 3))
    w = np.array([[0.0, 1.0], [2.0, 0.0]])
    g = BrainGraph.from_arrays(["x", "y"], coords, connectome=w)
    coords[0, 0] = 99.0
    w[0, 1] = 99.0
    assert g.coords[0, 0] == 0.0 and g.connectome[0, 1] == 1.0
    with pytest.raises(ValueError):
        g.connectome[0, 1] = 5.0
    with pytest.raises(ValueError):
        g.coords[0, 0] = 5.0


def test_euclidean_and_gradient_distance():
    g = _tiny()
    d = g.distance("euclidean")
    assert d[0, 1] == pytest.approx(5.0)
    assert d[0, 2] == pytest.approx(12.0)
    np.testing.assert_allclose(d, d.T)
    np.testing.assert_array_equal(np.diag(d), 0.0)
    dg = g.distance("gradient")
    assert dg[1, 3] == pytest.approx(3.0)


def test_user_distance_matrix_validated():
    g = _tiny()
    m = np.ones((4, 4))
    out = g.distance(m)
    m[0, 0] = 7
    assert out[0, 0] == 1.0
    with pytest.raises(ValueError, match="non-negative"):
        g.distance(-np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"\(4, 4\)"):
        g.distance(np.ones((3, 3)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"coords": np.zeros((3, 3))}, "coords must have shape"),
        ({"connectome": np.zeros((4, 3))}, "square"),
        ({"connectome": np.full((4, 4), np.nan)}, "NaN"),
        ({"hemispheres": ["L", "X", "R", "R"]}, "hemispheres"),
        ({"networks": ["Vis", "Nope", "Vis", "Vis"], "valid_networks": ["Vis"]}, "unknown network"),
        ({"gradient": [0, 1, np.inf, 2]}, "gradient contains"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    base = dict(coords=np.zeros((4, 3)))
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        BrainGraph.from_arrays(["a", "b", "c", "d"], **base)


def test_duplicate_names_rejected():
    with pytest.raises(ValueError, match="unique"):
        BrainGraph.from_arrays(["a", "a"], np.zeros((2, 3)))


def test_select_and_masks():
    g = _tiny()
    np.testing.assert_array_equal(g.select("Vis"), [0, 2])
    np.testing.assert_array_equal(g.select(["Vis", "Default"], hemisphere="R"), [2, 3])
    np.testing.assert_array_equal(g.select(gradient_quantile=(0.5, 1.0)), [2, 3])
    with pytest.raises(ValueError, match="unknown network"):
        g.select("Cont")
    with pytest.raises(ValueError, match="gradient_quantile"):
        g.select(gradient_quantile=(0.8, 0.2))


def test_subset_and_hemisphere_return_new_graphs():
    g = _tiny()
    right = g.hemisphere("R")
    assert right.names == ("c", "d")
    np.testing.assert_array_equal(right.connectome, [[0, 4], [0, 0]])
    assert g.n_nodes == 4  # original unchanged
    sub = g.subset(["d", "a"])
    assert sub.names == ("a", "d")
    np.testing.assert_array_equal(sub.connectome, [[0, 0], [5, 0]])
    assert "subset_of" in sub.metadata
    with pytest.raises(ValueError, match="selects no region"):
        g.subset(np.zeros(4, dtype=bool))


def test_with_transforms_do_not_mutate():
    g = _tiny(connectome=False)
    g2 = g.with_connectome(np.eye(4)[::-1] * 2, name="flip").with_map("new", np.arange(4))
    assert g.connectome is None and "new" not in g.maps
    assert g2.metadata["connectome"] == "flip"
    assert g2.maps["new"][3] == 3
    with pytest.raises(ValueError, match="shape"):
        g.with_map("bad", np.arange(3))


def test_from_grid_is_the_5x5x4_space():
    g = BrainGraph.from_grid()
    assert g.n_nodes == 100 and g.metadata["synthetic"] is True
    d = g.distance()
    assert d.max() == pytest.approx(np.sqrt(4**2 + 4**2 + 3**2))
    assert np.sort(d[0])[1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="distance\\('gradient'\\) needs a gradient"):
        g.distance("gradient")
    with pytest.raises(ValueError, match="spacing"):
        BrainGraph.from_grid(spacing=0)


def test_to_networkx_orientation_and_summary():
    g = _tiny()
    nxg = g.to_networkx()
    # w[target=1, source=0] = 2 -> edge a -> b with weight 2
    assert nxg["a"]["b"]["weight"] == 2.0
    assert nxg["b"]["a"]["weight"] == 1.0
    assert nxg.number_of_edges() == 5
    table = g.summary()
    assert list(table.index) == ["a", "b", "c", "d"]
    assert table.loc["b", "in_degree"] == 2 and table.loc["a", "out_degree"] == 2
    assert "n_nodes=4" in repr(g)


def test_geodesic_requires_precomputed_distances():
    with pytest.raises(ValueError, match=r"needs precomputed geodesic distances.*load_atlas\('schaefer100'"):
        _tiny().distance("geodesic")


def test_precomputed_distances_are_validated_subset_and_filled():
    g = _tiny()
    geo = np.array([[0, 1, np.inf, np.inf], [1, 0, np.inf, np.inf], [np.inf, np.inf, 0, 2],
                    [np.inf, np.inf, 2, 0]], dtype=float)
    g2 = BrainGraph.from_arrays(g.names, g.coords, distances={"geodesic": geo})
    np.testing.assert_array_equal(g2.distance("geodesic", interhemispheric="inf"), geo)
    filled = g2.distance("geodesic")
    np.testing.assert_array_equal(filled[0, 2], g2.distance("euclidean")[0, 2])
    assert g2.subset([2, 3]).distance("geodesic")[0, 1] == 2
    with pytest.raises(ValueError, match=r"distances\['geodesic'\] must be symmetric"):
        BrainGraph.from_arrays(g.names, g.coords, distances={"geodesic": np.triu(np.ones((4, 4)), 1)})
    with pytest.raises(ValueError, match=r"must be \(N, N\) = \(4, 4\)"):
        BrainGraph.from_arrays(g.names, g.coords, distances={"geodesic": np.zeros((3, 3))})
