"""Per-parcel derivatives of public data that ship inside the package (no network, no data folder).

One compressed archive per Schaefer atlas, ``atlas_tables/schaefer{N}_data.npz``,
built by ``data/build_bundled_data.py`` from the pinned inputs of
:mod:`conn2rnn.datasets.registry`; ``atlas_tables/bundled_data.json`` records,
for every archive, its sha256 and size, and for every array what it is, its
units, the pinned input files (with their sha256) it was computed from, their
licence and what to cite. An archive whose checksum differs from the record is
refused (reinstall the package, or rebuild with the script).

The arrays (N = 100, 200 or 400; parcel order of the Schaefer 2018 7Networks
tables, left hemisphere first):

==========================  ===========  ============================================
key                         shape        what
==========================  ===========  ============================================
``enigma_sc``               (N, N)       ENIGMA HCP structural connectome (log weights)
``enigma_fc``               (N, N)       ENIGMA HCP functional connectivity (Fisher z)
``cbig_centroids``          (N, 3)       CBIG MNI152 volume centroids (RAS, mm)
``sa_axis``                 (N,)         Sydnor S-A axis, mean vertex rank
``int_hbn_median``          (N,)         HBN resting INT, median over subjects (s)
``int_hbn_mean``            (N,)         HBN resting INT, mean over subjects (s)
``int_hcp_ito2020``         (N,)         HCP resting fMRI timescale, 352 subjects (s)
``int_hcp_ito2020_half1``   (N,)         the same, discovery half (176 subjects)
``int_hcp_ito2020_half2``   (N,)         the same, replication half (176 subjects)
``meg_timescale``           (N,)         HCP MEG intrinsic timescale (ms)
==========================  ===========  ============================================
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = [
    "BUNDLED_ARRAYS",
    "BundledDataError",
    "bundle_filename",
    "bundled_manifest",
    "load_bundled",
    "write_bundle",
]

#: Keys of every bundled archive, in the order they are written.
BUNDLED_ARRAYS: tuple[str, ...] = (
    "enigma_sc", "enigma_fc", "cbig_centroids", "sa_axis", "int_hbn_median", "int_hbn_mean",
    "int_hcp_ito2020", "int_hcp_ito2020_half1", "int_hcp_ito2020_half2", "meg_timescale",
)
MANIFEST = "bundled_data.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so that a rebuild is byte-identical


class BundledDataError(RuntimeError):
    """A bundled archive is missing, modified or incomplete."""


def bundle_filename(n_parcels: int) -> str:
    """File name of the archive of Schaefer-``n_parcels``."""
    return f"schaefer{n_parcels}_data.npz"


def _tables_dir() -> Path:
    return Path(str(resources.files("conn2rnn.datasets") / "atlas_tables"))


def bundled_manifest() -> dict[str, Any]:
    """The provenance record of the bundled archives (``bundled_data.json``).

    Returns
    -------
    dict
        ``files``: ``{file name: {"sha256", "bytes"}}``; ``arrays``: ``{key:
        {"description", "units", "inputs", "license", "citation"}}``;
        ``built_with``: package versions; ``hcp_notice``.
    """
    path = _tables_dir() / MANIFEST
    if not path.is_file():
        raise BundledDataError(f"{path} is missing: the package is incomplete; reinstall conn2rnn "
                               "or rebuild with data/build_bundled_data.py")
    return json.loads(path.read_text())


@lru_cache(maxsize=4)
def _verified_archive(n_parcels: int) -> Mapping[str, np.ndarray]:
    name = bundle_filename(n_parcels)
    path = _tables_dir() / name
    record = bundled_manifest()["files"].get(name)
    if record is None or not path.is_file():
        raise BundledDataError(f"no bundled data for Schaefer-{n_parcels} ({path}); reinstall conn2rnn "
                               "or rebuild with data/build_bundled_data.py")
    blob = path.read_bytes()
    found = hashlib.sha256(blob).hexdigest()
    if found != record["sha256"]:
        raise BundledDataError(f"{path} does not match its recorded sha256 ({found} != {record['sha256']}): "
                               "the file was modified; reinstall conn2rnn or rebuild with "
                               "data/build_bundled_data.py")
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    missing = [k for k in BUNDLED_ARRAYS if k not in arrays]
    if missing:
        raise BundledDataError(f"{path} lacks arrays {missing}; rebuild with data/build_bundled_data.py")
    for value in arrays.values():
        value.setflags(write=False)
    return arrays


def load_bundled(n_parcels: int, key: str) -> np.ndarray:
    """One bundled array of Schaefer-``n_parcels``, checksum-verified.

    Parameters
    ----------
    n_parcels : {100, 200, 400}
    key : str
        One of :data:`BUNDLED_ARRAYS`.

    Returns
    -------
    ndarray
        A new writable float64 copy (shapes in the module docstring).
    """
    if key not in BUNDLED_ARRAYS:
        raise ValueError(f"key must be one of {list(BUNDLED_ARRAYS)}; got {key!r}")
    if n_parcels not in (100, 200, 400):
        raise ValueError(f"n_parcels must be one of [100, 200, 400]; got {n_parcels!r}")
    return np.array(_verified_archive(int(n_parcels))[key], dtype=np.float64)


def write_bundle(arrays: Mapping[str, np.ndarray], path: str | Path) -> str:
    """Write an archive of ``arrays`` (``.npy`` members, deflated, fixed timestamps).

    The same arrays give the same bytes, so a rebuild can be compared by checksum.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        Exactly the keys of :data:`BUNDLED_ARRAYS`.
    path : str or Path

    Returns
    -------
    str
        sha256 of the written file.
    """
    if set(arrays) != set(BUNDLED_ARRAYS):
        raise ValueError(f"arrays must have the keys {list(BUNDLED_ARRAYS)}; got {sorted(arrays)}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for key in BUNDLED_ARRAYS:
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    blob = buffer.getvalue()
    Path(path).write_bytes(blob)
    return hashlib.sha256(blob).hexdigest()
