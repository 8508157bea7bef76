"""The per-parcel derivatives shipped inside the package: integrity, provenance, the
builder's reproduction from the raw inputs, and the figures measured on them."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

import conn2rnn
from conn2rnn.datasets import bundled, registry, timescale_maps

REPO = Path(__file__).resolve().parents[1]


def _builder():
    spec = importlib.util.spec_from_file_location("build_bundled_data", REPO / "data" / "build_bundled_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ integrity, offline
@pytest.mark.parametrize("n", [100, 200, 400])
def test_each_archive_matches_its_recorded_checksum(n):
    record = bundled.bundled_manifest()["files"][bundled.bundle_filename(n)]
    path = Path(str(bundled._tables_dir() / bundled.bundle_filename(n)))
    blob = path.read_bytes()
    assert hashlib.sha256(blob).hexdigest() == record["sha256"]
    assert len(blob) == record["bytes"]


def test_every_array_records_provenance_and_licence():
    manifest = bundled.bundled_manifest()
    assert set(manifest["arrays"]) == set(bundled.BUNDLED_ARRAYS)
    for key, info in manifest["arrays"].items():
        assert info["description"] and info["units"] and info["citation"] and info["license"], key
        for n in (100, 200, 400):
            inputs = info["inputs"][f"schaefer{n}"]
            assert inputs and all(registry.FILES[rel].sha256 == sha for rel, sha in inputs.items()), key
    for key in ("enigma_sc", "enigma_fc", "int_hcp_ito2020", "meg_timescale"):  # HCP derivatives
        assert "Human Connectome Project" in manifest["arrays"][key]["license"], key
    assert "Human Connectome Project" in manifest["hcp_notice"]


def test_a_modified_archive_is_refused(tmp_path, monkeypatch):
    src = Path(str(bundled._tables_dir()))
    for name in (bundled.MANIFEST, bundled.bundle_filename(100)):
        shutil.copy(src / name, tmp_path / name)
    blob = bytearray((tmp_path / bundled.bundle_filename(100)).read_bytes())
    blob[-40] ^= 0xFF
    (tmp_path / bundled.bundle_filename(100)).write_bytes(bytes(blob))
    monkeypatch.setattr(bundled, "_tables_dir", lambda: tmp_path)
    bundled._verified_archive.cache_clear()
    try:
        with pytest.raises(bundled.BundledDataError, match="does not match its recorded sha256"):
            bundled.load_bundled(100, "sa_axis")
    finally:
        bundled._verified_archive.cache_clear()


def test_bad_keys_and_resolutions_are_named():
    with pytest.raises(ValueError, match="key must be one of"):
        bundled.load_bundled(100, "nope")
    with pytest.raises(ValueError, match="n_parcels must be one of"):
        bundled.load_bundled(300, "sa_axis")


def test_loaded_arrays_are_private_copies():
    a = bundled.load_bundled(100, "sa_axis")
    a[:] = 0
    assert bundled.load_bundled(100, "sa_axis").std() > 0


def test_every_map_and_the_connectome_load_with_no_data_folder_and_no_network(no_network, data_dir):
    g = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp", fc="enigma_hcp", gradient="sa_axis",
                            maps=["int_hcp_ito2020", "int_hcp_ito2020_half1", "int_hcp_ito2020_half2",
                                  "meg_timescale", "int_hbn"])
    assert g.connectome.shape == (100, 100) and np.allclose(g.connectome, g.connectome.T)
    assert np.count_nonzero(g.connectome) / (100 * 99) == pytest.approx(0.22, abs=0.01)
    assert all(np.all(np.isfinite(v)) for v in g.maps.values())
    assert not any(data_dir.iterdir())  # nothing was written to the data folder


# ------------------------------------------------------------------ measured figures
@pytest.mark.parametrize(("n", "rho_fmri", "rho_meg"), [(100, 0.745, 0.71), (200, 0.706, 0.69), (400, 0.70, 0.67)])
def test_timescale_maps_follow_the_sa_axis_as_measured(n, rho_fmri, rho_meg):
    sa = bundled.load_bundled(n, "sa_axis")
    ito = bundled.load_bundled(n, "int_hcp_ito2020")
    meg = bundled.load_bundled(n, "meg_timescale")
    assert spearmanr(ito, sa)[0] == pytest.approx(rho_fmri, abs=0.006)
    assert spearmanr(meg, sa)[0] == pytest.approx(rho_meg, abs=0.006)
    assert 0.13 <= ito.std() / ito.mean() <= 0.15  # 13-15 % across parcels
    assert 3.3 < ito.mean() < 3.4  # seconds
    for half in ("int_hcp_ito2020_half1", "int_hcp_ito2020_half2"):
        assert 0.66 <= spearmanr(bundled.load_bundled(n, half), sa)[0] <= 0.77


def test_left_hemisphere_of_schaefer200_as_measured():
    sa = bundled.load_bundled(200, "sa_axis")[:100]
    ito = bundled.load_bundled(200, "int_hcp_ito2020")[:100]
    assert spearmanr(ito, sa)[0] == pytest.approx(0.69, abs=0.005)
    g = conn2rnn.load_atlas("schaefer200", maps=["int_hcp_ito2020"]).subset(np.arange(100))
    assert all(h == "L" for h in g.hemispheres)
    np.testing.assert_array_equal(g.maps["int_hcp_ito2020"], ito)


@pytest.mark.parametrize("n", [100, 200, 400])
def test_bundled_centroids_follow_the_parcel_order(n):
    table = conn2rnn.datasets.atlas_table(f"schaefer{n}")
    mni = bundled.load_bundled(n, "cbig_centroids")
    gap = np.linalg.norm(mni - table[["x", "y", "z"]].to_numpy(), axis=1)
    assert np.all(gap < 12.0) and np.mean(gap) < 5.0  # volume vs midthickness centroids
    assert np.all((mni[:, 0] < 0) == (table["hemisphere"].to_numpy() == "L"))


# ------------------------------------------------------------------ carrying parcel maps
def test_carry_parcel_values_is_a_vertex_weighted_mean():
    source = np.array([0, 1, 1, 2, 2, 2, 3, 0])
    target = np.array([1, 1, 1, 1, 2, 2, 2, 0])
    values = np.array([10.0, 20.0, 40.0])
    out = timescale_maps.carry_parcel_values(values, source, target)
    np.testing.assert_allclose(out, [(10 + 10 + 20) / 3, (20 + 20 + 40) / 3])


def test_carry_parcel_values_names_its_errors():
    with pytest.raises(ValueError, match="of one length"):
        timescale_maps.carry_parcel_values([1.0], np.array([1, 1]), np.array([1]))
    with pytest.raises(ValueError, match="values has 1 entries"):
        timescale_maps.carry_parcel_values([1.0], np.array([2, 1]), np.array([1, 1]))
    with pytest.raises(ValueError, match=r"target parcels \[2\]"):
        timescale_maps.carry_parcel_values([1.0], np.array([1, 0]), np.array([1, 2]))


def test_ito_steps_drop_outliers_and_convert_to_seconds():
    taus = np.full((360, 3), 2.0)
    taus[0] = [1.0, 3.0, 80.0]  # 80 TR is a bad fit: dropped
    out = timescale_maps.ito_parcel_taus(taus)
    assert out[0] == pytest.approx(2.0 * 0.72) and out[1] == pytest.approx(2.0 * 0.72)
    with pytest.raises(ValueError, match="at least one tau table"):
        timescale_maps.ito_parcel_taus()


# ------------------------------------------------------------------ from the raw inputs
def test_ito_paper_difference_is_reproduced(reference_data):
    files = registry.ito_files()
    taus = timescale_maps.read_ito_taus(reference_data / files["discovery"].relpath)
    networks = np.loadtxt(reference_data / files["networks"].relpath)
    assert timescale_maps.ito_transmodal_minus_unimodal(taus, networks) == pytest.approx(0.9927, abs=5e-5)


def test_glasser_labels_put_the_left_hemisphere_first(reference_data):
    labels = timescale_maps.glasser_vertex_labels(reference_data / registry.ito_files()["dlabel"].relpath)
    half = labels.size // 2
    assert set(np.unique(labels[:half])) == set(range(0, 181))
    assert set(np.unique(labels[half:])) == {0} | set(range(181, 361))


def test_builder_reproduces_every_archive_byte_for_byte(reference_data, seeded_data_dir, tmp_path, no_network):
    builder = _builder()
    record = builder.build(reference_data, tmp_path)
    shipped = bundled.bundled_manifest()
    assert record["files"] == shipped["files"]
    assert {k: v["inputs"] for k, v in record["arrays"].items()} == {
        k: v["inputs"] for k, v in shipped["arrays"].items()}


def test_bundled_hbn_and_connectome_equal_the_fetched_files(reference_data, seeded_data_dir, no_network):
    from conn2rnn.datasets import fetchers

    for n in (100, 400):
        table = fetchers.fetch_int_hbn(n)
        np.testing.assert_array_equal(bundled.load_bundled(n, "int_hbn_median"), table["INT_acfsum_s_median"])
        np.testing.assert_array_equal(bundled.load_bundled(n, "enigma_sc"), fetchers.fetch_enigma_hcp(n)["sc"])
        np.testing.assert_array_equal(bundled.load_bundled(n, "sa_axis"), fetchers.fetch_sa_axis(n))
