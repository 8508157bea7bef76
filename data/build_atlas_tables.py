"""Build the bundled Schaefer region tables from the data that brainspace ships.

Run from the repository root::

    python data/build_atlas_tables.py

For each Schaefer resolution (100, 200, 400 parcels, 7 networks) it writes, into
``conn2rnn/datasets/atlas_tables/`` (package data, so that an installed package
finds them without a data directory):

* ``schaefer{N}_regions.csv``: one row per parcel, in Schaefer 7Networks order,
  left hemisphere first (see ``data/README.md`` for every column);
* ``schaefer{N}_fc.npz``: the HCP group functional connectivity matrix that
  brainspace ships for that resolution (key ``fc``, float32);
* ``schaefer{N}_geodesic.npz``: shortest paths (mm) along the conte69-32k
  midthickness surface between the parcels' central vertices (Dijkstra on the
  mesh edges, symmetrised), ``inf`` between hemispheres (key ``geodesic``, float32);
* ``provenance.json``: package versions and the sha256 of every output file.

Everything is derived from brainspace's files, except the parcel names, which
come from the CBIG centroid tables (``conn2rnn.datasets.fetch_cbig_centroids``). The
surface geometry, vertex maps and FC are HCP derivatives: see the data-use notice
in ``data/README.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import brainspace
from conn2rnn.datasets.fetchers import fetch_cbig_centroids
import numpy as np
import pandas as pd
from brainspace.datasets import (
    load_conte69,
    load_gradient,
    load_group_fc,
    load_marker,
    load_parcellation,
)

OUT = Path(__file__).resolve().parents[1] / "conn2rnn" / "datasets" / "atlas_tables"
RESOLUTIONS = (100, 200, 400)
# brainspace's Mesulam labels (0 = medial wall). The class names follow Mesulam
# (1998); the numbering was checked against the Yeo networks: class 4 falls in
# Vis/SomMot, class 1 in Limbic, class 2 in Default/Cont.
MESULAM_CLASSES = {1: "paralimbic", 2: "heteromodal", 3: "unimodal", 4: "idiotypic"}
NETWORKS = ("Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default")
# Parcel counts per network block (left hemisphere first, then right), from the
# Schaefer 2018 7Networks ordering.
BLOCKS = {
    100: ((9, 6, 8, 7, 3, 4, 13), (8, 8, 7, 5, 2, 9, 11)),
    200: ((14, 16, 13, 11, 6, 13, 27), (15, 19, 13, 11, 6, 17, 19)),
    400: ((31, 37, 23, 22, 13, 22, 52), (30, 40, 23, 25, 13, 30, 39)),
}


def _network_labels(n: int) -> tuple[list[str], list[str]]:
    """Hemisphere and network of each parcel from the block counts."""
    hemis, nets = [], []
    for hemi, counts in zip(("L", "R"), BLOCKS[n]):
        for net, count in zip(NETWORKS, counts):
            hemis += [hemi] * count
            nets += [net] * count
    if len(nets) != n:
        raise RuntimeError(f"block counts for {n} parcels sum to {len(nets)}")
    return hemis, nets


def _parcel_mean(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Mean of a vertex array within each label 1..n, shape (n, ...).

    Vertex maps are NaN on brainspace's medial-wall mask, which a few parcel
    borders overlap; those vertices are left out of the mean. A parcel with no
    finite vertex is an error.
    """
    out = np.empty((n,) + values.shape[1:])
    for k in range(1, n + 1):
        v = values[labels == k]
        finite = np.all(np.isfinite(v.reshape(len(v), -1)), axis=1)
        if not finite.any():
            raise RuntimeError(f"parcel {k} of {n} has no finite vertex value")
        out[k - 1] = v[finite].mean(axis=0)
    return out


def _parcel_mode(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n, dtype=int)
    for k in range(1, n + 1):
        v = values[labels == k].astype(int)
        v = v[v > 0]
        out[k - 1] = np.bincount(v).argmax() if v.size else 0
    return out


def build(n: int) -> pd.DataFrame:
    labels = load_parcellation("schaefer", scale=n, join=True).astype(int)
    mid_l, mid_r = load_conte69()
    sph_l, sph_r = load_conte69(as_sphere=True)
    mid = np.vstack([mid_l.points, mid_r.points])
    sph = np.vstack([sph_l.points, sph_r.points])
    n_left = mid_l.n_points

    centroid = _parcel_mean(mid, labels, n)
    sphere = _parcel_mean(sph, labels, n)
    radius = np.linalg.norm(sph_l.points, axis=1).mean()
    sphere = sphere / np.linalg.norm(sphere, axis=1, keepdims=True) * radius

    # Representative vertex: the parcel vertex closest to the parcel centroid,
    # used as the source of geodesic distances along the midthickness surface.
    center_vertex = np.empty(n, dtype=int)
    for k in range(1, n + 1):
        idx = np.flatnonzero(labels == k)
        center_vertex[k - 1] = idx[np.argmin(np.linalg.norm(mid[idx] - centroid[k - 1], axis=1))]

    hemis, nets = _network_labels(n)
    vertex_hemi = np.where(np.arange(labels.size) < n_left, "L", "R")
    for k in range(1, n + 1):
        found = set(vertex_hemi[labels == k])
        if found != {hemis[k - 1]}:
            raise RuntimeError(f"parcel {k} of {n}: vertices in {found}, expected {hemis[k - 1]}")

    grad = load_gradient("fc", idx=0, join=True)
    t1t2 = load_marker("t1wt2w", join=True)
    thick = load_marker("thickness", join=True)
    mesulam = np.loadtxt(
        Path(brainspace.__file__).parent / "datasets" / "parcellations" / "mesulam_conte69.csv"
    )
    g1 = _parcel_mean(grad, labels, n)
    nets_arr = np.array(nets)
    if g1[nets_arr == "Default"].mean() < g1[nets_arr == "SomMot"].mean():
        g1 = -g1  # orient: higher = more associative (Default above SomMot)

    table = pd.DataFrame(
        {
            "label": np.arange(1, n + 1),
            "hemisphere": hemis,
            "network": nets,
            "x": centroid[:, 0], "y": centroid[:, 1], "z": centroid[:, 2],
            "sphere_x": sphere[:, 0], "sphere_y": sphere[:, 1], "sphere_z": sphere[:, 2],
            "fc_gradient1": g1,
            "t1wt2w": _parcel_mean(t1t2, labels, n),
            "thickness": _parcel_mean(thick, labels, n),
            "mesulam": [MESULAM_CLASSES[c] for c in _parcel_mode(mesulam, labels, n)],
            "n_vertices": np.bincount(labels, minlength=n + 1)[1:],
            "center_vertex": center_vertex,
        }
    )
    return table


def _hemisphere_mesh(hemi: str):
    """Sparse edge-length graph of one conte69-32k midthickness hemisphere, and its vertex count."""
    from scipy import sparse

    surf = load_conte69()[0 if hemi == "L" else 1]
    points = np.asarray(surf.points, dtype=np.float64)
    cells = np.asarray(surf.polys2D, dtype=np.int64)
    edges = np.concatenate([cells[:, [0, 1]], cells[:, [1, 2]], cells[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    length = np.linalg.norm(points[edges[:, 0]] - points[edges[:, 1]], axis=1)
    n = points.shape[0]
    return sparse.coo_matrix((length, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr(), n


def geodesic(table: pd.DataFrame) -> np.ndarray:
    """(N, N) surface distances between parcel centre vertices; ``inf`` across hemispheres."""
    from scipy.sparse.csgraph import dijkstra

    n = len(table)
    out = np.full((n, n), np.inf)
    offset = 0
    for hemi in ("L", "R"):
        idx = np.flatnonzero(table["hemisphere"].to_numpy() == hemi)
        mesh, n_vertices = _hemisphere_mesh(hemi)
        src = table["center_vertex"].to_numpy()[idx] - offset
        d = dijkstra(mesh, directed=False, indices=src)[:, src]
        out[np.ix_(idx, idx)] = (d + d.T) / 2.0
        offset += n_vertices
    np.fill_diagonal(out, 0.0)
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    files = {}
    for n in RESOLUTIONS:
        table = build(n)
        # brainspace ships integer vertex labels only; the parcel names come from
        # the CBIG centroid table (fetched and checksum-verified).
        names = list(fetch_cbig_centroids(n)["name"])
        for name, hemi, net in zip(names, table.hemisphere, table.network):
            m = re.match(r"7Networks_([LR])H_([A-Za-z]+)_", name)
            if m is None or m.group(1) != hemi or m.group(2) != net:
                raise RuntimeError(f"name {name} disagrees with block structure ({hemi}, {net})")
        table.insert(1, "name", names)
        path = OUT / f"schaefer{n}_regions.csv"
        table.to_csv(path, index=False, float_format="%.6g")
        fc = np.asarray(load_group_fc("schaefer", scale=n), dtype=np.float32)
        fc_path = OUT / f"schaefer{n}_fc.npz"
        np.savez_compressed(fc_path, fc=fc)
        geo_path = OUT / f"schaefer{n}_geodesic.npz"
        np.savez_compressed(geo_path, geodesic=geodesic(table).astype(np.float32))
        for written in (path, fc_path, geo_path):
            files[written.name] = _sha256(written)
        print(f"schaefer{n}: {len(table)} parcels -> {path.name}, {fc_path.name}, {geo_path.name}")
    provenance = {
        "built_by": "data/build_atlas_tables.py",
        "brainspace_version": brainspace.__version__,
        "numpy_version": np.__version__,
        "sha256": files,
    }
    (OUT / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")


if __name__ == "__main__":
    main()
