"""Fetchers of the reference data that no installed package ships.

Every fetcher takes ``n_parcels`` (Schaefer 2018 resolution, 7Networks order,
one of 100, 200, 400; parcel order 1..N, left hemisphere first), ``data_dir``
(see :func:`~conn2rnn.datasets._download.get_data_dir`) and ``base_url`` (a
mirror laid out like the data folder; default the ``CONN2RNN_DATA_URL``
environment variable, else the pinned public URLs). Files are cached under
``<data_dir>/<folder>/`` and verified against pinned sha256 checksums
(:mod:`conn2rnn.datasets.registry`); a verified cached file is used without
network access.
"""

from __future__ import annotations

import functools
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import hbn_int, registry
from ._download import (
    DataIntegrityError,
    DataNotFoundError,
    download,
    fetch_file,
    get_data_dir,
    resolve_url,
)

__all__ = [
    "fetch_cbig_centroids",
    "fetch_enigma_hcp",
    "fetch_sa_axis",
    "fetch_int_hbn",
    "schaefer_vertex_labels",
]

PathLike = str | os.PathLike
_N_VERTICES_HEMI = 32492  # conte69-32k = fsLR-32k, per hemisphere


def _check_n_parcels(n_parcels: int) -> int:
    if isinstance(n_parcels, bool) or not isinstance(n_parcels, (int, np.integer)):
        raise TypeError(
            f"n_parcels must be an int, one of {list(registry.N_PARCELS)}; got "
            f"{type(n_parcels).__name__}"
        )
    if int(n_parcels) not in registry.N_PARCELS:
        raise ValueError(
            f"n_parcels must be one of {list(registry.N_PARCELS)} (Schaefer 2018 "
            f"resolutions with pinned data); got {n_parcels}"
        )
    return int(n_parcels)


def _provenance(dataset: str) -> dict[str, str]:
    info = registry.DATASETS[dataset]
    return {"citation": info.citation, "license": info.license, "source": info.source}


@functools.lru_cache(maxsize=None)
def _vertex_labels(n_parcels: int) -> np.ndarray:
    from brainspace.datasets import load_parcellation  # heavy (VTK); only for surfaces and gradients

    labels = np.asarray(load_parcellation("schaefer", n_parcels, join=True), dtype=np.int64)
    labels.setflags(write=False)
    return labels


def schaefer_vertex_labels(n_parcels: int) -> np.ndarray:
    """Schaefer-``n_parcels`` (7Networks) labels of the conte69-32k vertices.

    From brainspace's bundled parcellations: left-hemisphere vertices first,
    then right; label 0 is the medial wall, 1..N/2 the left-hemisphere parcels
    and N/2+1..N the right-hemisphere parcels, in CBIG parcel order.

    Parameters
    ----------
    n_parcels : {100, 200, 400}

    Returns
    -------
    (64984,) int64 ndarray, read-only
    """
    n = _check_n_parcels(n_parcels)
    labels = _vertex_labels(n)
    half = labels.size // 2
    if (
        labels.size != 2 * _N_VERTICES_HEMI
        or labels.max() != n
        or labels[:half].max() > n // 2
        or labels[half:][labels[half:] > 0].min() <= n // 2
    ):
        raise RuntimeError(
            f"brainspace's schaefer_{n} vertex labels do not follow the expected "
            "layout (2 x 32492 conte69 vertices, left hemisphere first); check the "
            "installed brainspace version."
        )
    return labels


def fetch_cbig_centroids(
    n_parcels: int, data_dir: PathLike | None = None, *, base_url: str | None = None
) -> pd.DataFrame:
    """MNI152 centroids and names of the Schaefer 2018 parcels (CBIG).

    Parameters
    ----------
    n_parcels : {100, 200, 400}
    data_dir : str or path-like, optional
    base_url : str, optional

    Returns
    -------
    pandas.DataFrame, N rows, index 0..N-1 in parcel order
        Columns name (e.g. ``7Networks_LH_Vis_1``) and x, y, z (MNI152 RAS, mm).
        ``attrs`` holds citation, license, source and file.
    """
    n = _check_n_parcels(n_parcels)
    path = fetch_file(registry.centroids_file(n), data_dir, base_url=base_url)
    raw = pd.read_csv(path)
    expected = ["ROI Label", "ROI Name", "R", "A", "S"]
    if list(raw.columns) != expected or len(raw) != n:
        raise DataIntegrityError(
            f"{path} must have columns {expected} and {n} rows; got "
            f"{list(raw.columns)} and {len(raw)} rows."
        )
    if not np.array_equal(raw["ROI Label"].to_numpy(), np.arange(1, n + 1)):
        raise DataIntegrityError(f"{path}: ROI Label must run 1..{n} in order.")
    table = pd.DataFrame(
        {
            "name": raw["ROI Name"].astype(str).to_numpy(),
            "x": raw["R"].to_numpy(dtype=np.float64),
            "y": raw["A"].to_numpy(dtype=np.float64),
            "z": raw["S"].to_numpy(dtype=np.float64),
        }
    )
    table.attrs.update(_provenance("schaefer2018"), file=str(path))
    return table


def _read_labels(path: Path) -> list[str]:
    text = path.read_text().replace("\n", ",")
    return [name.strip() for name in text.split(",") if name.strip()]


def _read_matrix(path: Path, n: int) -> np.ndarray:
    mat = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    if mat.shape != (n, n) or not np.all(np.isfinite(mat)):
        raise DataIntegrityError(f"{path} must hold a finite ({n}, {n}) matrix; got {mat.shape}.")
    return mat


def fetch_enigma_hcp(
    n_parcels: int, data_dir: PathLike | None = None, *, base_url: str | None = None
) -> dict:
    """HCP group structural and functional connectomes from the ENIGMA Toolbox.

    Structural: HCP unrelated adults, MRtrix3 ACT + SIFT2 tractography,
    distance-dependent consensus, log-transformed streamline weights; symmetric
    with a zero diagonal (density 0.22 at N=100); a few edges have log-weights
    below 0 (1 edge at N=100, 8 at N=200, 14 at N=400), returned as they are.
    Functional: HCP resting-state
    fMRI, Fisher z, negative values set to 0. Derived from HCP data: any file or
    figure made from them must carry the HCP notice in ``license``.

    Parameters
    ----------
    n_parcels : {100, 200, 400}
    data_dir : str or path-like, optional
    base_url : str, optional

    Returns
    -------
    dict
        ``sc`` : (N, N) float64 ndarray, ``sc[target, source]`` (symmetric, so
        both orientations agree); ``fc`` : (N, N) float64 ndarray; ``labels`` :
        list of N parcel names (checked equal to the CBIG names); ``citation``,
        ``license``, ``source`` : str; ``files`` : dict of Path.

    Raises
    ------
    DataIntegrityError
        The labels differ from the CBIG names, or a matrix has the wrong shape.
    """
    n = _check_n_parcels(n_parcels)
    files = {
        key: fetch_file(entry, data_dir, base_url=base_url)
        for key, entry in registry.enigma_files(n).items()
    }
    centroids = fetch_cbig_centroids(n, data_dir, base_url=base_url)
    files["centroids"] = Path(centroids.attrs["file"])
    names = list(centroids["name"])
    for key in ("sc_labels", "fc_labels"):
        labels = _read_labels(files[key])
        if labels != names:
            raise DataIntegrityError(
                f"{files[key]} must list the {n} CBIG Schaefer names in parcel order "
                f"({names[0]}, ...); got {len(labels)} names ({labels[:1]}, ...)."
            )
    return {
        "sc": _read_matrix(files["sc"], n),
        "fc": _read_matrix(files["fc"], n),
        "labels": names,
        **_provenance("enigma_hcp"),
        "files": files,
    }


def _read_hemisphere(path: Path, structure: str) -> np.ndarray:
    import nibabel as nib  # heavy; only to read image files

    img = nib.load(path)
    found = img.meta.get("AnatomicalStructurePrimary")
    if found != structure or len(img.darrays) != 1:
        raise DataIntegrityError(
            f"{path} must be a one-map GIFTI of {structure}; got {found} with "
            f"{len(img.darrays)} maps."
        )
    data = np.asarray(img.darrays[0].data, dtype=np.float64)
    if data.shape != (_N_VERTICES_HEMI,):
        raise DataIntegrityError(
            f"{path} must hold {_N_VERTICES_HEMI} fsLR-32k vertices; got {data.shape}."
        )
    return data


def fetch_sa_axis(
    n_parcels: int, data_dir: PathLike | None = None, *, base_url: str | None = None
) -> np.ndarray:
    """Sensorimotor-association (S-A) axis of Sydnor et al. (2021) per parcel.

    The vertex ranks on fsLR-32k (0 on the medial wall) are averaged over each
    parcel's vertices (brainspace's conte69-32k Schaefer labels, which share the
    fsLR-32k mesh), excluding medial-wall label 0 and 0-valued vertices. The left
    GIFTI pairs with the first 32492 labels, checked against its
    ``AnatomicalStructurePrimary``.

    Parameters
    ----------
    n_parcels : {100, 200, 400}
    data_dir : str or path-like, optional
    base_url : str, optional

    Returns
    -------
    (N,) float64 ndarray
        Mean vertex rank per parcel in parcel order; higher = more associative.
        Citation and license: ``registry.DATASETS["sa_axis"]``.
    """
    n = _check_n_parcels(n_parcels)
    entries = registry.sa_axis_files()
    structure = {"L": "CortexLeft", "R": "CortexRight"}
    ranks = np.concatenate(
        [
            _read_hemisphere(fetch_file(entries[h], data_dir, base_url=base_url), structure[h])
            for h in ("L", "R")
        ]
    )
    labels = schaefer_vertex_labels(n)
    keep = (labels > 0) & (ranks != 0)
    counts = np.bincount(labels[keep], minlength=n + 1)[1:]
    if np.any(counts == 0):
        raise DataIntegrityError(
            f"parcels {np.flatnonzero(counts == 0) + 1} have no S-A axis vertex."
        )
    sums = np.bincount(labels[keep], weights=ranks[keep], minlength=n + 1)[1:]
    return sums / counts


def _build_int_400(names: list[str], dest: Path, *, base_url: str | None) -> Path:
    archive = registry.SHAFIEI_ARCHIVE
    url = resolve_url(archive.relpath, archive.url, base_url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".archive-") as tmp:
        try:
            path = download(url, Path(tmp) / Path(archive.relpath).name, timeout=120.0)
        except DataNotFoundError as exc:
            raise DataNotFoundError(
                f"{dest.name} is not in {dest.parent} and is built from the source "
                f"archive {url}, which could not be downloaded ({exc.__cause__ or exc}). "
                f"To supply it, put the table at {dest} (sha256 "
                f"{registry.int_hbn_file(400).sha256}), or pass data_dir= (or set "
                f"CONN2RNN_DATA) to a folder holding int_hbn/{dest.name}, or set "
                "base_url= (or CONN2RNN_DATA_URL) to a mirror holding "
                f"{archive.relpath}."
            ) from exc
        table = hbn_int.int_table_from_archive(path, names)
    return hbn_int.save_int_table(table, dest, registry.int_hbn_file(400).sha256)


def fetch_int_hbn(
    n_parcels: int, data_dir: PathLike | None = None, *, base_url: str | None = None
) -> pd.DataFrame:
    """Empirical intrinsic neural timescale (INT) of the Healthy Brain Network.

    Resting-state fMRI of 876 children and adolescents (1551 runs): per run, the
    sum of the BOLD autocorrelation function up to its first zero crossing,
    times TR (seconds); runs averaged within subject, then median / mean / sd
    over subjects (:mod:`conn2rnn.datasets.hbn_int`). A cached table whose
    checksum matches is used as is; otherwise the Schaefer-400 table is built
    from the source repository archive at the pinned commit (a large download)
    and the 100/200 tables are carried over from it by vertex overlap.

    Parameters
    ----------
    n_parcels : {100, 200, 400}
    data_dir : str or path-like, optional
    base_url : str, optional
        Mirror laid out like the data folder; the archive is then read from
        ``<base_url>/int_hbn/shafiei_timescale-<commit>.zip``.

    Returns
    -------
    pandas.DataFrame, N rows, index 0..N-1 in parcel order
        N=400: label, name, name_17net_source, INT_acfsum_s_median,
        INT_acfsum_s_mean, INT_acfsum_s_sd, n_subjects. N=100/200: label,
        INT_acfsum_s_median, INT_acfsum_s_mean, n_children_400. INT in seconds.
        ``attrs`` holds citation, license, source and file.
    """
    n = _check_n_parcels(n_parcels)
    entry = registry.int_hbn_file(n)
    path = get_data_dir(data_dir) / entry.relpath
    if not hbn_int.is_cached_table(path, entry.sha256):
        if path.exists():
            warnings.warn(
                f"Cached {path} does not match its recorded checksum (corrupt or "
                "modified); building it again.",
                RuntimeWarning,
                stacklevel=2,
            )
        if n == 400:
            names = list(fetch_cbig_centroids(400, data_dir, base_url=base_url)["name"])
            _build_int_400(names, path, base_url=base_url)
        else:
            table400 = fetch_int_hbn(400, data_dir, base_url=base_url)
            table = hbn_int.carry_int_table(
                table400, schaefer_vertex_labels(400), schaefer_vertex_labels(n)
            )
            hbn_int.save_int_table(table, path, entry.sha256)
    table = pd.read_csv(path)
    table.attrs.update(_provenance("int_hbn"), file=str(path))
    return table
