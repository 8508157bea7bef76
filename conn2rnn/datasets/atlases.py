"""Atlases and brain maps by name: the :data:`ATLASES` and :data:`MAPS` registries.

Everything here ships inside the package (offline, no data directory): the
Schaefer-100/200/400 region tables, their HCP group FC and geodesic distances, the
ENIGMA HCP structural connectome and FC, and the maps of :data:`MAPS` (S-A axis;
empirical timescales of HCP fMRI, HCP MEG and HBN); the synthetic grid. The
checksummed fetchers (:mod:`conn2rnn.datasets.fetchers`) obtain the raw inputs
these were built from.
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
from .bundled import load_bundled
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


def _bundled_map(key: str, map_name: str) -> Callable[[str, "str | Path | None"], np.ndarray]:
    def load(atlas: str, data_dir: "str | Path | None") -> np.ndarray:
        return load_bundled(_schaefer_only(map_name, atlas), key)

    return load


#: Maps that can be attached by name (``load_atlas(maps=[...])``, specs). The Schaefer
#: maps registered here ship inside the package (:mod:`conn2rnn.datasets.bundled`).
MAPS: Registry[BrainMap] = Registry("brain map")
MAPS.register("sa_axis", BrainMap(
    _bundled_map("sa_axis", "sa_axis"),
    "Sydnor sensorimotor-association axis rank (higher = more associative)", CITATIONS["sa_axis"]))
MAPS.register("int_hcp_ito2020", BrainMap(
    _bundled_map("int_hcp_ito2020", "int_hcp_ito2020"),
    "empirical intrinsic timescale of HCP young-adult resting fMRI (Ito 2020: exponential decay "
    "constant of the BOLD autocorrelation, mean over 352 subjects; seconds)",
    CITATIONS["int_hcp_ito2020"] + " " + CITATIONS["hcp"]))
for _half, _which in (("half1", "discovery"), ("half2", "replication")):
    MAPS.register(f"int_hcp_ito2020_{_half}", BrainMap(
        _bundled_map(f"int_hcp_ito2020_{_half}", f"int_hcp_ito2020_{_half}"),
        f"the HCP resting fMRI timescale of Ito 2020, {_which} half only (176 subjects; seconds)",
        CITATIONS["int_hcp_ito2020"] + " " + CITATIONS["hcp"]))
MAPS.register("meg_timescale", BrainMap(
    _bundled_map("meg_timescale", "meg_timescale"),
    "HCP MEG intrinsic timescale (33 adults; ms)", CITATIONS["meg_timescale"] + " " + CITATIONS["hcp"]))
MAPS.register("int_hbn", BrainMap(
    _bundled_map("int_hbn_median", "int_hbn"),
    "empirical intrinsic neural timescale of resting fMRI in a developmental cohort, the Healthy Brain "
    "Network (ages 5-21; ACF sum to the first zero crossing x TR, median over 876 subjects; seconds)",
    CITATIONS["int_hbn"]))


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
    """Load a bundled atlas as a :class:`~conn2rnn.BrainGraph`, with its connectome and maps.

    Everything ships with the package (:mod:`conn2rnn.datasets.bundled`): nothing is
    read from the network or from a data directory for any option below.

    Parameters
    ----------
    name : {'schaefer100', 'schaefer200', 'schaefer400'}
        The atlas (Schaefer 2018, 7 networks, left hemisphere first).
    connectome : {'enigma_hcp'}, optional
        Attach a structural connectome: ``'enigma_hcp'`` is the ENIGMA HCP group
        connectome (log-transformed streamline weights, symmetric).
    maps : str or iterable of str
        Extra brain maps from :data:`MAPS` to attach, e.g. ``'sa_axis'`` (Sydnor S-A
        axis rank), ``'int_hcp_ito2020'`` (HCP resting fMRI timescale, s),
        ``'meg_timescale'`` (HCP MEG timescale, ms), ``'int_hbn'`` (Healthy Brain
        Network resting INT, ages 5-21, s). A single string is one map name. The
        maps ``fc_gradient1``, ``t1wt2w`` and ``thickness`` are always attached.
    fc : {'brainspace_hcp', 'enigma_hcp'} or None
        Functional connectivity to attach: the HCP group FC of brainspace, the
        ENIGMA HCP group FC, or none.
    gradient : str
        Map used as the hierarchy gradient (higher = more associative):
        ``'fc_gradient1'`` (default) or any map of :data:`MAPS` such as ``'sa_axis'``.
    data_dir : str or Path, optional
        Passed to the loaders of user-registered maps that read files (the
        package's own maps ignore it).

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
    if connectome == "enigma_hcp" or fc == "enigma_hcp":
        citations.append(CITATIONS["enigma_hcp"])
    for key in extra:
        entry = MAPS.get(key, argument="maps")
        map_values[key] = entry.load(name, data_dir)
        citations.append(entry.citation)

    fc_matrix = None
    if fc == "brainspace_hcp":
        fc_matrix = _bundled_matrix(n, "fc")
    elif fc == "enigma_hcp":
        fc_matrix = load_bundled(n, "enigma_fc")
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
        connectome=None if connectome is None else load_bundled(n, "enigma_sc"),
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
