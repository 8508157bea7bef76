"""Geodesic distances along the conte69 midthickness surface for bundled atlases."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..graph import BrainGraph


@lru_cache(maxsize=2)
def _hemisphere_mesh(hemi: str):
    """Sparse edge-length graph of one conte69-32k midthickness hemisphere."""
    from brainspace.datasets import load_conte69
    from scipy import sparse

    surf = load_conte69()[0 if hemi == "L" else 1]
    points = np.asarray(surf.points, dtype=np.float64)
    cells = np.asarray(surf.polys2D, dtype=np.int64)
    edges = np.concatenate([cells[:, [0, 1]], cells[:, [1, 2]], cells[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    length = np.linalg.norm(points[edges[:, 0]] - points[edges[:, 1]], axis=1)
    n = points.shape[0]
    mesh = sparse.coo_matrix((length, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    return mesh, n


def geodesic_distance(graph: "BrainGraph", *, interhemispheric: str = "euclidean") -> np.ndarray:
    """Shortest surface paths (mm) between parcels' central vertices, per hemisphere.

    Parameters
    ----------
    graph : BrainGraph
        A graph from a bundled Schaefer atlas (or a subset of one).
    interhemispheric : {'euclidean', 'inf'}
        Value for pairs in different hemispheres: their Euclidean centroid
        distance, or ``inf``.

    Returns
    -------
    (N, N) ndarray
    """
    from scipy.sparse.csgraph import dijkstra

    from .atlases import atlas_table

    atlas = graph.metadata.get("atlas")
    try:
        table = atlas_table(str(atlas))
    except ValueError as exc:
        raise ValueError(
            "distance('geodesic') needs a graph from a bundled surface atlas "
            f"(load_atlas('schaefer100'), ...); this graph's atlas is {atlas!r}. "
            "Pass a distance matrix instead, e.g. graph.distance(tract_lengths)"
        ) from exc
    vertex = dict(zip(table["name"], table["center_vertex"]))
    missing = [n for n in graph.names if n not in vertex]
    if missing:
        raise ValueError(f"regions {missing[:3]} are not in the {atlas} surface table")
    n = graph.n_nodes
    if interhemispheric == "euclidean":
        out = np.array(graph.distance("euclidean"), dtype=np.float64)
    else:
        out = np.full((n, n), np.inf)
    for hemi in ("L", "R"):
        idx = np.flatnonzero(graph.hemispheres == hemi)
        if idx.size == 0:
            continue
        mesh, n_left = _hemisphere_mesh(hemi)
        offset = 0 if hemi == "L" else n_left
        src = np.array([vertex[graph.names[i]] for i in idx]) - offset
        d = dijkstra(mesh, directed=False, indices=src)[:, src]
        out[np.ix_(idx, idx)] = (d + d.T) / 2.0
    np.fill_diagonal(out, 0.0)
    return out
