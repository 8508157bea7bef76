"""Atlases and brain maps by name: the :data:`ATLASES` and :data:`MAPS` registries.

Bundled: Schaefer-100/200/400 region tables (offline), their HCP group FC and
geodesic distances; the synthetic grid. Fetched on demand: the maps of
:data:`MAPS` (S-A axis, HBN intrinsic timescales) and the ENIGMA connectome.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from .._registry import Registry
from .._validation import check_choice
from ..graph import YEO7_NETWORKS, BrainGraph
from .registry import CITATIONS, HCP_NOTICE

#: The bundled Schaefer region tables and their parcel counts.
SCHAEFER_PARCELS = {"schaefer100": 100, "schaefer200": 200, "schaefer400": 400}
BUNDLED_MAPS = ("fc_gradient1", "t1wt2w", "thickness")
CONNECTOMES = ("enigma_hcp",)
FC_SOURCES = ("brainspace_hcp", "enigma_hcp")


@dataclass(frozen=True)
class BrainMap:
    """A named brain map that :func:`load_atlas` (and experiment specs) can attach.

    Attributes
    ----------
    load : callable
        ``load(atlas, data_dir) -> (N,) array``: the map's values for the regions
        of atlas ``atlas`` (a registered atlas name) in that atlas's order; raise
        ``ValueError`` for an atlas the map does not cover.
    description : str
        What the values are, with units.
    citation : str
        What to cite (added to the graph's ``metadata['citations']``).
    """

    load: Callable[[str, "str | Path | None"], np.ndarray]
    description: str
    citation: str


def _schaefer_only(map_name: str, atlas: str) -> int:
    if atlas not in SCHAEFER_PARCELS:
        raise ValueError(f"map {map_name!r} covers the Schaefer atlases ({', '.join(SCHAEFER_PARCELS)}); "
                         f"got atlas {atlas!r}")
    return SCHAEFER_PARCELS[atlas]


def _load_sa_axis(atlas: str, data_dir: "str | Path | None") -> np.ndarray:
    from .fetchers import fetch_sa_axis

    return np.asarray(fetch_sa_axis(_schaefer_only("sa_axis", atlas), data_dir=data_dir), dtype=float)


def _load_int_hbn(atlas: str, data_dir: "str | Path | None") -> np.ndarray:
    from .fetchers import fetch_int_hbn

    table = fetch_int_hbn(_schaefer_only("int_hbn", atlas), data_dir=data_dir)
    return table["INT_acfsum_s_median"].to_numpy(dtype=float)


#: Maps that can be fetched and attached by name (``load_atlas(maps=[...])``, specs).
MAPS: Registry[BrainMap] = Registry("brain map")
MAPS.register("sa_axis", BrainMap(
    _load_sa_axis, "Sydnor sensorimotor-association axis rank (higher = more associative)",
    CITATIONS["sa_axis"]))
MAPS.register("int_hbn", BrainMap(
    _load_int_hbn, "empirical intrinsic neural timescale of resting fMRI, Healthy Brain Network "
    "(ACF sum to the first zero crossing x TR, median over 876 subjects; seconds)", CITATIONS["int_hbn"]))


def _check_atlas(name: str) -> int:
    return SCHAEFER_PARCELS[check_choice(name, "atlas", SCHAEFER_PARCELS)]


@lru_cache(maxsize=8)
def _cached_table(n: int) -> pd.DataFrame:
    path = resources.files("conn2rnn.datasets") / "atlas_tables" / f"schaefer{n}_regions.csv"
    return pd.read_csv(Path(str(path)))


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
        center_vertex. A new copy on every call (the file is read once and
        cached): editing it changes nothing else, later calls included.
    """
    return _cached_table(_check_atlas(name)).copy(deep=True)


def _bundled_matrix(n: int, key: str) -> np.ndarray:
    """A bundled (N, N) matrix of Schaefer-N: ``'fc'`` or ``'geodesic'``, float64."""
    path = resources.files("conn2rnn.datasets") / "atlas_tables" / f"schaefer{n}_{key}.npz"
    with np.load(Path(str(path))) as f:
        return f[key].astype(np.float64)


def _load_schaefer(
    name: str,
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
    maps : str or iterable of {'sa_axis', 'int_hbn'}
        Extra brain maps to fetch and attach: the Sydnor S-A axis rank, and the
        empirical HBN intrinsic neural timescale (median over subjects, seconds).
        A single string is one map name (``maps="int_hbn"`` = ``maps=["int_hbn"]``).
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
    maps = _map_names(maps)
    if connectome is not None:
        check_choice(connectome, "connectome", CONNECTOMES)
    if fc is not None:
        check_choice(fc, "fc", FC_SOURCES)
    check_choice(gradient, "gradient", BUNDLED_MAPS + tuple(MAPS))

    table = atlas_table(name)
    map_values = {key: table[key].to_numpy() for key in BUNDLED_MAPS}
    citations = [CITATIONS["schaefer"], CITATIONS["yeo"], CITATIONS["brainspace"], CITATIONS["hcp"]]
    extra = tuple(dict.fromkeys(maps + ((gradient,) if gradient not in BUNDLED_MAPS else ())))
    enigma = None
    if connectome == "enigma_hcp" or fc == "enigma_hcp":
        from .fetchers import fetch_enigma_hcp

        enigma = fetch_enigma_hcp(n, data_dir=data_dir)
        if list(enigma["labels"]) != list(table["name"]):
            raise ValueError("ENIGMA labels do not match the Schaefer parcel order; "
                             "the cached files may be corrupt: delete them to re-fetch")
        citations.append(CITATIONS["enigma_hcp"])
    for key in extra:
        entry = MAPS.get(key, argument="maps")
        map_values[key] = entry.load(name, data_dir)
        citations.append(entry.citation)

    fc_matrix = None
    if fc == "brainspace_hcp":
        fc_matrix = _bundled_matrix(n, "fc")
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
        distances={"geodesic": _bundled_matrix(n, "geodesic")},
        metadata=metadata, valid_networks=YEO7_NETWORKS,
    )


def _map_names(maps: Any) -> tuple[str, ...]:
    """Map names from one name or an iterable of names."""
    if isinstance(maps, str):
        return (maps,)
    try:
        names = tuple(maps)
    except TypeError:
        raise TypeError(f"maps must be a map name or a list of names; got {type(maps).__name__}") from None
    for m in names:
        MAPS.get(m, argument="maps")
    return names


def _load_grid(*, connectome: str | None = None, maps: Any = (), fc: str | None = None,
               gradient: str | None = None, data_dir: str | Path | None = None) -> BrainGraph:
    """The synthetic 5 x 5 x 4 grid of spatially embedded RNNs (no maps, no connectome)."""
    for arg, value in (("connectome", connectome), ("fc", fc), ("gradient", gradient)):
        if value is not None:
            raise ValueError(f"the synthetic 'grid' atlas has no {arg}; got {arg}={value!r} (pass None)")
    if _map_names(maps):
        raise ValueError(f"the synthetic 'grid' atlas has no brain maps; got maps={list(_map_names(maps))} "
                         "(use a Schaefer atlas, or attach your own with graph.with_map)")
    return BrainGraph.from_grid((5, 5, 4))


#: Atlas loaders by name: ``ATLASES.get(name)(**options) -> BrainGraph``.
ATLASES: Registry[Callable[..., BrainGraph]] = Registry("atlas")
for _name in SCHAEFER_PARCELS:
    ATLASES.register(_name, partial(_load_schaefer, _name))
ATLASES.register("grid", _load_grid)


def load_atlas(name: str = "schaefer100", **options: Any) -> BrainGraph:
    """Load a registered atlas as a :class:`~conn2rnn.BrainGraph`.

    Parameters
    ----------
    name : str
        A name in :data:`ATLASES`: ``'schaefer100'``, ``'schaefer200'``,
        ``'schaefer400'`` (bundled, see :func:`_load_schaefer` for the options
        ``connectome``, ``maps``, ``fc``, ``gradient``, ``data_dir``) or
        ``'grid'`` (synthetic); register your own loader with
        ``ATLASES.register(name, loader)``.
    **options
        Passed to the atlas loader.

    Returns
    -------
    BrainGraph
    """
    return ATLASES.get(name, argument="atlas")(**options)
