"""Bundled Schaefer atlases against the real reference files."""

import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from conn2rnn.datasets import atlas_table, load_atlas
from conn2rnn.graph import YEO7_NETWORKS

BLOCKS = {
    100: ((9, 6, 8, 7, 3, 4, 13), (8, 8, 7, 5, 2, 9, 11)),
    200: ((14, 16, 13, 11, 6, 13, 27), (15, 19, 13, 11, 6, 17, 19)),
    400: ((31, 37, 23, 22, 13, 22, 52), (30, 40, 23, 25, 13, 30, 39)),
}


@pytest.mark.parametrize("n", [100, 200, 400])
def test_table_matches_cbig_names_blocks_and_centroids(n, reference_data):
    g = load_atlas(f"schaefer{n}")
    ref = pd.read_csv(reference_data / "schaefer2018" /
                      f"Schaefer2018_{n}Parcels_7Networks_order_FSLMNI152_1mm.Centroid_RAS.csv")
    assert list(g.names) == list(ref["ROI Name"])
    expected = []
    for hemi, counts in zip("LR", BLOCKS[n]):
        for net, count in zip(YEO7_NETWORKS, counts):
            expected += [(hemi, net)] * count
    assert list(zip(g.hemispheres, g.networks)) == expected
    dist = np.linalg.norm(g.coords - ref[["R", "A", "S"]].to_numpy(), axis=1)
    assert dist.max() < 12.0 and np.median(dist) < 5.0
    assert np.all(g.coords[g.hemispheres == "L", 0] < 0)
    assert np.all(g.coords[g.hemispheres == "R", 0] > 0)


def test_bundled_load_is_offline_and_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("CONN2RNN_DATA", str(tmp_path / "empty"))
    import urllib.request

    def no_network(*a, **k):
        raise AssertionError("bundled atlases must not touch the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    from conn2rnn.datasets.atlases import _cached_table

    _cached_table.cache_clear()
    start = time.perf_counter()
    g = load_atlas("schaefer200")
    assert time.perf_counter() - start < 2.0
    assert g.connectome is None and g.fc.shape == (200, 200)
    np.testing.assert_allclose(g.fc, g.fc.T)
    assert g.sphere_coords.shape == (200, 3)
    assert "Human Connectome Project" in g.metadata["data_use_notice"]


def test_gradient_is_oriented_association_high():
    g = load_atlas("schaefer100")
    by_net = pd.Series(g.gradient).groupby(np.asarray(g.networks)).mean()
    assert by_net["Default"] > by_net["SomMot"]
    assert by_net["Default"] > by_net["Vis"]


def test_bundled_maps_and_connectome_attach_offline():
    g = load_atlas("schaefer100", connectome="enigma_hcp", maps=["sa_axis", "int_hbn"])
    assert g.connectome.shape == (100, 100)
    density = np.count_nonzero(g.connectome) / (100 * 99)
    assert density == pytest.approx(0.22, abs=0.01)
    # facts measured on the reference files (shared data README)
    rho_sa = spearmanr(g.maps["int_hbn"], g.maps["sa_axis"])[0]
    rho_t1 = spearmanr(g.maps["int_hbn"], g.maps["t1wt2w"])[0]
    assert rho_sa == pytest.approx(0.34, abs=0.03)
    assert rho_t1 == pytest.approx(-0.36, abs=0.03)
    edges = g.connectome > 0
    rho_sc = spearmanr(g.connectome[edges], g.distance()[edges])[0]
    assert rho_sc == pytest.approx(-0.51, abs=0.05)
    g_sa = load_atlas("schaefer100", gradient="sa_axis")
    assert g_sa.metadata["gradient_source"] == "sa_axis"


def test_geodesic_distance_within_hemisphere():
    g = load_atlas("schaefer100")
    geo = g.distance("geodesic")
    euc = g.distance("euclidean")
    same = g.hemispheres[:, None] == g.hemispheres[None, :]
    off = same & ~np.eye(100, dtype=bool)
    # a surface path is longer than the straight line between centroids; the
    # slack covers centroids (vertex means) lying off the surface
    ratio = geo[off] / euc[off]
    assert ratio.min() > 0.85 and np.median(ratio) > 1.3
    np.testing.assert_allclose(geo[~same], euc[~same])
    assert np.isinf(g.distance("geodesic", interhemispheric="inf")[~same]).all()
    right = g.hemisphere("R").distance("geodesic")
    np.testing.assert_allclose(right, geo[np.ix_(g.hemispheres == "R", g.hemispheres == "R")])


def test_unknown_names_list_choices():
    with pytest.raises(ValueError, match="schaefer100"):
        load_atlas("schaefer1000")
    with pytest.raises(ValueError, match="sa_axis"):
        load_atlas("schaefer100", maps=["myelin"])
    with pytest.raises(ValueError, match="enigma_hcp"):
        load_atlas("schaefer100", connectome="hcp_dti")
