"""Fetchers on the data folder seeded from the reference data (conftest), offline.

Tests that delete or modify cached files use a private writable copy.

The intrinsic-timescale archive path runs on a small synthetic archive (labelled
synthetic: fake subjects, values chosen for closed-form answers) served from
127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import io
import os
import shutil
import socket
import stat
import threading
import urllib.request
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import spearmanr

from conn2rnn.datasets import _download as dl
from conn2rnn.datasets import fetchers, hbn_int, registry

pytestmark = pytest.mark.usefixtures("seeded_data_dir")

_MAPPER_MEMBER = (
    "data/SchaeferParcellation/schaefer_ordering_mapper/Schaefer_400-17_mappedto_400-7.csv"
)


@pytest.fixture
def writable_data_dir(reference_data, tmp_path, monkeypatch):
    """Private, writable copy of the reference data (same folder layout), for tests
    that delete or modify cached files."""
    dst = tmp_path / "data"
    shutil.copytree(reference_data, dst)
    for root, dirs, files in os.walk(dst):
        for name in dirs + files:
            path = Path(root, name)
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    dst.chmod(dst.stat().st_mode | stat.S_IWUSR)
    monkeypatch.setenv(dl.DATA_ENV, str(dst))
    monkeypatch.delenv(dl.URL_ENV, raising=False)
    return dst


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path):
    """Static HTTP server on 127.0.0.1 over a folder laid out like the data folder."""
    root = tmp_path / "mirror"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


# --------------------------------------------------------------------- registry


def test_registry_matches_reference_files(reference_data):
    for relpath, entry in registry.FILES.items():
        data = (reference_data / relpath).read_bytes()
        assert len(data) == entry.size, relpath
        assert hashlib.sha256(data).hexdigest() == entry.sha256, relpath
        if entry.url is not None:
            assert entry.url.startswith("https://raw.githubusercontent.com/")
            assert entry.url.endswith("/" + Path(relpath).name)
        assert entry.dataset in registry.DATASETS
    assert registry.SHAFIEI_ARCHIVE.url.endswith(f"/archive/{registry.SHAFIEI_ARCHIVE.commit}.zip")
    with pytest.raises(ValueError, match="Valid choices"):
        registry.get_file("nope.csv")


# ------------------------------------------------------------ argument checking


@pytest.mark.parametrize(
    "fetch",
    [
        fetchers.fetch_cbig_centroids,
        fetchers.fetch_enigma_hcp,
        fetchers.fetch_sa_axis,
        fetchers.fetch_int_hbn,
    ],
)
def test_bad_n_parcels(fetch):
    with pytest.raises(ValueError, match=r"one of \[100, 200, 400\].*got 300"):
        fetch(300)
    with pytest.raises(TypeError, match="n_parcels must be an int"):
        fetch("100")
    with pytest.raises(TypeError, match="n_parcels must be an int"):
        fetch(True)


# --------------------------------------------------------------- cached fetches


@pytest.mark.parametrize("n", registry.N_PARCELS)
def test_cached_fetchers_shapes(n, reference_data, no_network):
    cen = fetchers.fetch_cbig_centroids(n)
    assert list(cen.columns) == ["name", "x", "y", "z"]
    assert cen.index.equals(pd.RangeIndex(n))
    assert cen["name"].str.startswith("7Networks_LH_").sum() == n // 2
    assert cen["name"][: n // 2].str.startswith("7Networks_LH_").all()
    assert (cen.loc[: n // 2 - 1, "x"] < 0).all() and (cen.loc[n // 2 :, "x"] > 0).all()
    assert "MIT" in cen.attrs["license"] and "Schaefer" in cen.attrs["citation"]

    hcp = fetchers.fetch_enigma_hcp(n)
    assert hcp["sc"].shape == hcp["fc"].shape == (n, n)
    assert hcp["labels"] == list(cen["name"])
    assert "HCP Open Access Data Use Terms" in hcp["license"]
    assert all(Path(p).is_file() for p in hcp["files"].values())

    sa = fetchers.fetch_sa_axis(n)
    assert sa.shape == (n,) and np.all(np.isfinite(sa)) and np.all(sa > 0)

    intmap = fetchers.fetch_int_hbn(n)
    shared = pd.read_csv(reference_data / registry.int_hbn_file(n).relpath)
    pd.testing.assert_frame_equal(intmap, shared)


def test_enigma_sc_properties(reference_data, no_network):
    hcp = fetchers.fetch_enigma_hcp(100)
    sc = hcp["sc"]
    np.testing.assert_array_equal(sc, sc.T)
    assert np.all(np.diag(sc) == 0)
    assert np.count_nonzero(sc < 0) == 2  # one edge with a log-weight below 0, kept as is
    density = np.count_nonzero(sc) / (100 * 99)
    assert density == pytest.approx(0.22, abs=0.01)
    cen = fetchers.fetch_cbig_centroids(100)
    dist = cdist(cen[["x", "y", "z"]], cen[["x", "y", "z"]])
    iu = np.triu_indices(100, 1)
    edges = sc[iu] > 0
    rho = spearmanr(sc[iu][edges], dist[iu][edges])[0]
    assert rho == pytest.approx(-0.51, abs=0.02)


def _refused_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port any more
    return f"http://127.0.0.1:{port}"


def test_modified_cached_file_is_not_trusted(writable_data_dir):
    labels = writable_data_dir / registry.enigma_files(100)["sc_labels"].relpath
    text = labels.read_text()
    assert "LH_Vis_1," in text
    labels.write_text(text.replace("LH_Vis_1,", "LH_Vis_01,"))
    with pytest.warns(RuntimeWarning, match="corrupt"), pytest.raises(
        dl.DataNotFoundError, match="strucLabels_ctx_schaefer_100.csv"
    ):
        fetchers.fetch_enigma_hcp(100, base_url=_refused_url())


def test_enigma_label_mismatch_is_reported(writable_data_dir, no_network, monkeypatch):
    labels = writable_data_dir / registry.enigma_files(100)["sc_labels"].relpath
    text = labels.read_text()
    swapped = text.replace("LH_Vis_1,7Networks_LH_Vis_2,", "LH_Vis_2,7Networks_LH_Vis_1,")
    assert swapped != text
    labels.write_text(swapped)
    pinned = registry.enigma_files

    def _accept_swapped(n):  # pin the modified file so that only the name check can fail
        files = pinned(n)
        files["sc_labels"] = dataclasses.replace(files["sc_labels"], sha256=dl.sha256sum(labels))
        return files

    monkeypatch.setattr(registry, "enigma_files", _accept_swapped)
    with pytest.raises(dl.DataIntegrityError, match="must list the 100 CBIG Schaefer names"):
        fetchers.fetch_enigma_hcp(100)


def test_sa_axis_matches_published_schaefer400_ranks(reference_data, no_network):
    sa = fetchers.fetch_sa_axis(400)
    ranks = pd.read_csv(dl.fetch_file(registry.sa_rank_file()))
    assert list(ranks["region"]) == list(fetchers.fetch_cbig_centroids(400)["name"])
    rho = spearmanr(sa, ranks["SArank"])[0]
    assert rho > 0.99  # measured 0.9991; swapping the hemispheres gives 0.982
    # coarser resolutions agree with the 400 map painted through the vertex labels
    lab400 = fetchers.schaefer_vertex_labels(400)
    lab100 = fetchers.schaefer_vertex_labels(100)
    keep = (lab400 > 0) & (lab100 > 0)
    painted = pd.Series(sa[lab400[keep] - 1]).groupby(lab100[keep]).mean().to_numpy()
    assert spearmanr(painted, fetchers.fetch_sa_axis(100))[0] > 0.95


def test_sa_axis_checks_hemisphere(reference_data):
    rh = reference_data / registry.sa_axis_files()["R"].relpath
    with pytest.raises(dl.DataIntegrityError, match="CortexLeft; got CortexRight"):
        fetchers._read_hemisphere(rh, "CortexLeft")


def test_vertex_labels_layout():
    labels = fetchers.schaefer_vertex_labels(100)
    assert labels.shape == (64984,) and not labels.flags.writeable
    assert set(np.unique(labels[:32492])) == set(range(51))
    assert set(np.unique(labels[32492:])) == {0} | set(range(51, 101))


def test_offline_missing_file_error(tmp_path):
    with pytest.raises(dl.DataNotFoundError) as info:
        fetchers.fetch_cbig_centroids(100, tmp_path, base_url=_refused_url())
    msg = str(info.value)
    entry = registry.centroids_file(100)
    assert str(tmp_path / entry.relpath) in msg and "CONN2RNN_DATA" in msg


# ------------------------------------------------------- INT carry-over (real)


@pytest.mark.parametrize("n", [100, 200])
def test_int_carry_reproduces_reference_tables(n, reference_data, writable_data_dir, no_network):
    table400 = pd.read_csv(reference_data / registry.int_hbn_file(400).relpath)
    carried = hbn_int.carry_int_table(
        table400, fetchers.schaefer_vertex_labels(400), fetchers.schaefer_vertex_labels(n)
    )
    reference = pd.read_csv(reference_data / registry.int_hbn_file(n).relpath)
    for col in hbn_int.VALUE_COLUMNS:
        # unrounded values differ from the 5-digit reference by rounding only
        assert np.max(np.abs(carried[col] - reference[col])) <= 5.01e-5
    np.testing.assert_array_equal(carried["n_children_400"], reference["n_children_400"])
    # rebuilt through the fetcher, the written table is byte-identical to the reference
    target = writable_data_dir / registry.int_hbn_file(n).relpath
    target.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = fetchers.fetch_int_hbn(n)
    assert dl.sha256sum(target) == registry.int_hbn_file(n).sha256
    assert not target.with_name(target.name + ".sha256").exists()
    pd.testing.assert_frame_equal(table, reference)


def test_int_carry_closed_form():
    # 8 synthetic vertices; fine parcels 1..4 (0 = medial wall), coarse parcels 1..2
    fine = np.array([0, 1, 1, 2, 3, 3, 3, 4])
    coarse = np.array([0, 1, 1, 1, 2, 2, 0, 2])
    table = pd.DataFrame(
        {"INT_acfsum_s_median": [1.0, 4.0, 10.0, 20.0], "INT_acfsum_s_mean": [2.0] * 4}
    )
    out = hbn_int.carry_int_table(table, fine, coarse)
    np.testing.assert_allclose(out["INT_acfsum_s_median"], [(1 + 1 + 4) / 3, (10 + 10 + 20) / 3])
    np.testing.assert_allclose(out["INT_acfsum_s_mean"], [2.0, 2.0])
    np.testing.assert_array_equal(out["n_children_400"], [2, 2])
    np.testing.assert_array_equal(out["label"], [1, 2])
    with pytest.raises(ValueError, match="no vertex inside"):
        hbn_int.carry_int_table(table, fine, np.array([0, 1, 1, 1, 3, 3, 0, 3]))
    with pytest.raises(ValueError, match="same length"):
        hbn_int.carry_int_table(table, fine, coarse[:-1])


def test_corrupt_int_table_is_rebuilt(writable_data_dir, no_network):
    target = writable_data_dir / registry.int_hbn_file(100).relpath
    target.write_text("label,INT_acfsum_s_median\n1,0\n")
    with pytest.warns(RuntimeWarning, match="corrupt"):
        fetchers.fetch_int_hbn(100)
    assert dl.sha256sum(target) == registry.int_hbn_file(100).sha256


# ----------------------------------------------- INT archive path (synthetic)

_ROOT = f"shafiei_timescale-{registry.SHAFIEI_ARCHIVE.commit}"
_RUNS_DIR = f"{_ROOT}/data/timescale/HBN_acf/TRorig"
_SUFFIX = "space-fsLR_atlas-Schaefer417_den-91k_timescale_acfsum_TRorig.npy"
# synthetic subjects: run scale factors; subject means 2, 4, 6
_SYNTHETIC = {
    "sub-SYNTHA": ("ses-HBNsiteRU", {"task-rest_run-1": 1.0, "task-rest_run-2": 3.0}),
    "sub-SYNTHB": ("ses-HBNsiteSI", {"task-rest": 4.0}),
    "sub-SYNTHC": ("ses-HBNsiteCBIC", {"task-rest_run-1": 5.0, "task-rest_run-2": 7.0}),
}


def _npy(values) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(values, dtype=np.float64))
    return buf.getvalue()


def _write_archive(path: Path, mapper: bytes, *, bad_run: np.ndarray | None = None) -> Path:
    """Synthetic repository archive: run j-th entry = (j + 1) * scale."""
    ramp = np.arange(1, 401, dtype=np.float64)
    with zipfile.ZipFile(path, "w") as zf:
        for sub, (ses, runs) in _SYNTHETIC.items():
            for task, scale in runs.items():
                zf.writestr(f"{_RUNS_DIR}/{sub}_{ses}_{task}_{_SUFFIX}", _npy(ramp * scale))
            # other tasks and the png folder must be ignored
            zf.writestr(f"{_RUNS_DIR}/{sub}_{ses}_task-movieDM_{_SUFFIX}", _npy([1.0]))
            png = f"{_RUNS_DIR}/png/{sub}_{ses}_task-rest_run-1_timescale_acf_TRorig.png"
            zf.writestr(png, b"")
        if bad_run is not None:
            zf.writestr(f"{_RUNS_DIR}/sub-SYNTHD_ses-HBNsiteRU_task-rest_{_SUFFIX}", _npy(bad_run))
        zf.writestr(f"{_ROOT}/{_MAPPER_MEMBER}", mapper)
    return path


def _mapper_bytes(reference_data: Path) -> bytes:
    return (reference_data / registry.schaefer_mapper_file().relpath).read_bytes()


def _serve_archive(mirror, reference_data: Path, **kwargs) -> str:
    root, url = mirror
    dest = root / registry.SHAFIEI_ARCHIVE.relpath
    dest.parent.mkdir(parents=True, exist_ok=True)
    _write_archive(dest, _mapper_bytes(reference_data), **kwargs)
    return url


@pytest.fixture
def synthetic_counts(monkeypatch):
    monkeypatch.setattr(hbn_int, "EXPECTED_RUNS", 5)
    monkeypatch.setattr(hbn_int, "EXPECTED_SUBJECTS", 3)


def _drop_int_tables(root: Path) -> Path:
    folder = root / "int_hbn"
    for n in registry.N_PARCELS:
        (root / registry.int_hbn_file(n).relpath).unlink()
    return folder


def _int_folder_content(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "LICENSE")


def test_int_archive_end_to_end(
    reference_data, writable_data_dir, mirror, synthetic_counts, monkeypatch
):
    url = _serve_archive(mirror, reference_data)
    folder = _drop_int_tables(writable_data_dir)
    with pytest.warns(UserWarning, match="differs from the reference build"):
        table200 = fetchers.fetch_int_hbn(200, base_url=url)
    table400 = pd.read_csv(folder / Path(registry.int_hbn_file(400).relpath).name)
    mapper = pd.read_csv(reference_data / registry.schaefer_mapper_file().relpath)
    k = mapper["mapped_indices"].to_numpy() + 1  # 17Networks parcel (1-based) of each row
    np.testing.assert_allclose(table400["INT_acfsum_s_median"], 4.0 * k)  # median(2, 4, 6)
    np.testing.assert_allclose(table400["INT_acfsum_s_mean"], 4.0 * k)
    np.testing.assert_allclose(table400["INT_acfsum_s_sd"], 2.0 * k)  # sd(2, 4, 6), ddof=1
    assert (table400["n_subjects"] == 3).all()
    assert list(table400["name"]) == list(fetchers.fetch_cbig_centroids(400)["name"])
    assert list(table400["name_17net_source"]) == list(mapper["input_roi"])
    assert table400.loc[2, "name_17net_source"] == "17Networks_LH_VisCent_ExStr_1"
    assert table400.loc[2, "INT_acfsum_s_median"] == 4.0  # 17Networks parcel 1
    assert list(table200.columns) == ["label", *hbn_int.VALUE_COLUMNS, "n_children_400"]
    assert len(table200) == 200
    expected = hbn_int.carry_int_table(
        table400, fetchers.schaefer_vertex_labels(400), fetchers.schaefer_vertex_labels(200)
    )
    for col in hbn_int.VALUE_COLUMNS:  # 5 significant digits on disk
        np.testing.assert_allclose(table200[col], expected[col], rtol=1e-4)
    assert _int_folder_content(folder) == sorted(
        Path(registry.int_hbn_file(n).relpath).name + suffix
        for n in (200, 400)
        for suffix in ("", ".sha256")
    )
    # local builds are verified through their recorded checksum: no rebuild, no network
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("network"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = fetchers.fetch_int_hbn(200, base_url=url)
    pd.testing.assert_frame_equal(again, table200)


@pytest.mark.parametrize(
    ("kwargs", "counts", "match"),
    [
        ({}, (6, 3), "holds 5 resting-state runs of 3 subjects; expected 6 runs of 3"),
        ({}, (5, 4), "expected 5 runs of 4 subjects"),
        ({"bad_run": np.ones(399)}, (6, 4), "must hold a 400-vector"),
        ({"bad_run": np.r_[np.nan, np.ones(399)]}, (6, 4), "non-finite"),
    ],
)
def test_int_archive_rejects_unexpected_content(
    reference_data, writable_data_dir, mirror, monkeypatch, kwargs, counts, match
):
    monkeypatch.setattr(hbn_int, "EXPECTED_RUNS", counts[0])
    monkeypatch.setattr(hbn_int, "EXPECTED_SUBJECTS", counts[1])
    url = _serve_archive(mirror, reference_data, **kwargs)
    folder = _drop_int_tables(writable_data_dir)
    with pytest.raises(dl.DataIntegrityError, match=match):
        fetchers.fetch_int_hbn(400, base_url=url)
    assert _int_folder_content(folder) == []  # no table, no temporary file or folder


def test_int_archive_rejects_wrong_order_map(reference_data, tmp_path):
    mapper = _mapper_bytes(reference_data)
    archive = _write_archive(tmp_path / "a.zip", mapper)
    names = list(pd.read_csv(io.BytesIO(mapper))["output_roi"])
    table = hbn_int.int_table_from_archive(archive, names, n_runs=5, n_subjects=3)
    assert table.shape == (400, 7)
    with pytest.raises(dl.DataIntegrityError, match="output_roi"):
        hbn_int.int_table_from_archive(archive, names[::-1], n_runs=5, n_subjects=3)
    altered = mapper.replace(b",60\n", b",61\n", 1)
    assert altered != mapper
    with pytest.raises(dl.DataIntegrityError, match="has sha256"):
        hbn_int.int_table_from_archive(
            _write_archive(tmp_path / "b.zip", altered), names, n_runs=5, n_subjects=3
        )


def test_int_archive_offline_error(writable_data_dir):
    folder = _drop_int_tables(writable_data_dir)
    with pytest.raises(dl.DataNotFoundError, match="INT_HBN_rest_acfsum_schaefer400") as info:
        fetchers.fetch_int_hbn(100, base_url=_refused_url())
    assert str(folder / Path(registry.int_hbn_file(400).relpath).name) in str(info.value)
    assert _int_folder_content(folder) == []  # no table, no temporary file or folder
