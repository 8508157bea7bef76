"""Bundled atlases: Schaefer-100/200/400 region tables, offline, plus fetched extras."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .._validation import check_choice
from ..graph import YEO7_NETWORKS, BrainGraph

ATLASES = {"schaefer100": 100, "schaefer200": 200, "schaefer400": 400}
BUNDLED_MAPS = ("fc_gradient1", "t1wt2w", "thickness")
FETCHED_MAPS = ("sa_axis", "int_hbn")
CONNECTOMES = ("enigma_hcp",)
FC_SOURCES = ("brainspace_hcp", "enigma_hcp")

_CITATIONS = {
    "schaefer": "Schaefer A et al. (2018) Local-global parcellation of the human cerebral cortex "
                "from intrinsic functional connectivity MRI. Cereb Cortex 28:3095-3114.",
    "yeo": "Yeo BTT et al. (2011) J Neurophysiol 106:1125-1165.",
    "brainspace": "Vos de Wael R et al. (2020) BrainSpace: a toolbox for the analysis of "
                  "macroscale gradients in neuroimaging and connectomics datasets. Commun Biol 3:103.",
    "hcp": "Van Essen DC et al. (2013) The WU-Minn Human Connectome Project: an overview. "
           "NeuroImage 80:62-79.",
    "enigma_hcp": "Lariviere S et al. (2021) The ENIGMA Toolbox. Nat Methods 18:698-700.",
    "sa_axis": "Sydnor VJ et al. (2021) Neurodevelopment of the association cortices: patterns, "
               "mechanisms, and implications for psychopathology. Neuron 109:2820-2846.",
    "int_hbn": "Alexander LM et al. (2017) An open resource for transdiagnostic research in "
               "pediatric mental health and learning disorders. Sci Data 4:170181; map from "
               "Shafiei G et al. (2023) PennLINC/shafiei_timescale.",
}
HCP_NOTICE = ("Data were provided in part by the Human Connectome Project, WU-Minn Consortium "
              "(Principal Investigators: David Van Essen and Kamil Ugurbil; 1U54MH091657). "
              "Derived data are redistributed under the HCP Open Access Data Use Terms.")


def _check_atlas(name: str) -> int:
    return ATLASES[check_choice(name, "atlas", ATLASES)]


@lru_cache(maxsize=8)
def atlas_table(name: str) -> pd.DataFrame:
    """The bundled region table of atlas ``name`` (one row per parcel).

    Parameters
    ----------
    name : {'schaefer100', 'schaefer200', 'schaefer400'}

    Returns
    -------
    pandas.DataFrame
        Columns: label, name, hemisphere, network, x, y, z (midthickness centroid,
        mm), sphere_x/y/z, fc_gradient1, t1wt2w, thickness, mesulam, n_vertices,
        center_vertex. Returned as a copy-safe cached frame: do not modify it.
    """
    n = _check_atlas(name)
    path = resources.files("conn2rnn.datasets") / "atlas_tables" / f"schaefer{n}_regions.csv"
    return pd.read_csv(Path(str(path)))


def _bundled_fc(n: int) -> np.ndarray:
    path = resources.files("conn2rnn.datasets") / "atlas_tables" / f"schaefer{n}_fc.npz"
    with np.load(Path(str(path))) as f:
        return f["fc"].astype(np.float64)


def load_atlas(
    name: str = "schaefer100",
    *,
    connectome: str | None = None,
    maps: Iterable[str] = (),
    fc: str | None = "brainspace_hcp",
    gradient: str = "fc_gradient1",
    data_dir: str | Path | None = None,
) -> BrainGraph:
    """Load a bundled atlas as a :class:`~conn2rnn.BrainGraph`, with optional fetched data.

    The region table (names, hemispheres, Yeo-7 networks, midthickness
    centroids, sphere centroids, T1w/T2w, FC gradient, thickness) and the HCP
    group FC ship with the package: with the defaults nothing is read from the
    network or from a data directory.

    Parameters
    ----------
    name : {'schaefer100', 'schaefer200', 'schaefer400'}
        The atlas (Schaefer 2018, 7 networks, left hemisphere first).
    connectome : {'enigma_hcp'}, optional
        Attach a structural connectome: ``'enigma_hcp'`` is the ENIGMA HCP group
        connectome (log-transformed streamline weights, symmetric), fetched and
        checksum-verified on first use.
    maps : iterable of {'sa_axis', 'int_hbn'}
        Extra brain maps to fetch and attach: the Sydnor S-A axis rank, and the
        empirical HBN intrinsic neural timescale (median over subjects, seconds).
        The bundled maps ``fc_gradient1``, ``t1wt2w`` and ``thickness`` are always
        attached.
    fc : {'brainspace_hcp', 'enigma_hcp'} or None
        Functional connectivity to attach: the bundled HCP group FC (brainspace),
        the ENIGMA HCP group FC (fetched), or none.
    gradient : str
        Map used as the hierarchy gradient (higher = more associative):
        ``'fc_gradient1'`` (bundled, default) or ``'sa_axis'`` (fetched).
    data_dir : str or Path, optional
        Where fetched files are cached (default: ``$CONN2RNN_DATA`` or
        ``~/conn2rnn_data``).

    Returns
    -------
    BrainGraph
    """
    n = _check_atlas(name)
    maps = tuple(maps)
    for m in maps:
        check_choice(m, "map", FETCHED_MAPS)
    if connectome is not None:
        check_choice(connectome, "connectome", CONNECTOMES)
    if fc is not None:
        check_choice(fc, "fc", FC_SOURCES)
    check_choice(gradient, "gradient", BUNDLED_MAPS[:1] + ("sa_axis",))

    table = atlas_table(name)
    map_values = {key: table[key].to_numpy() for key in BUNDLED_MAPS}
    citations = [_CITATIONS["schaefer"], _CITATIONS["yeo"], _CITATIONS["brainspace"], _CITATIONS["hcp"]]
    extra = set(maps) | ({"sa_axis"} if gradient == "sa_axis" else set())
    enigma = None
    if connectome == "enigma_hcp" or fc == "enigma_hcp":
        from .fetchers import fetch_enigma_hcp

        enigma = fetch_enigma_hcp(n, data_dir=data_dir)
        if list(enigma["labels"]) != list(table["name"]):
            raise ValueError("ENIGMA labels do not match the Schaefer parcel order; "
                             "the cached files may be corrupt: delete them to re-fetch")
        citations.append(_CITATIONS["enigma_hcp"])
    if "sa_axis" in extra:
        from .fetchers import fetch_sa_axis

        map_values["sa_axis"] = np.asarray(fetch_sa_axis(n, data_dir=data_dir), dtype=float)
        citations.append(_CITATIONS["sa_axis"])
    if "int_hbn" in extra:
        from .fetchers import fetch_int_hbn

        int_table = fetch_int_hbn(n, data_dir=data_dir)
        map_values["int_hbn"] = int_table["INT_acfsum_s_median"].to_numpy(dtype=float)
        citations.append(_CITATIONS["int_hbn"])

    fc_matrix = None
    if fc == "brainspace_hcp":
        fc_matrix = _bundled_fc(n)
    elif fc == "enigma_hcp":
        fc_matrix = np.asarray(enigma["fc"], dtype=float)
    metadata = {
        "atlas": name, "space": "fsLR-32k (conte69 midthickness centroids, mm)",
        "n_networks": 7, "gradient_source": gradient,
        "connectome": connectome, "fc_source": fc,
        "citations": tuple(citations), "data_use_notice": HCP_NOTICE,
        "provenance": "region table built by data/build_atlas_tables.py from brainspace's "
                      "conte69-32k surfaces, Schaefer vertex labels and vertex maps",
    }
    return BrainGraph.from_arrays(
        table["name"].tolist(), table[["x", "y", "z"]].to_numpy(),
        hemispheres=table["hemisphere"].tolist(), networks=table["network"].tolist(),
        gradient=map_values[gradient], maps=map_values,
        connectome=None if connectome is None else enigma["sc"],
        fc=fc_matrix, sphere_coords=table[["sphere_x", "sphere_y", "sphere_z"]].to_numpy(),
        metadata=metadata, valid_networks=YEO7_NETWORKS,
    )
