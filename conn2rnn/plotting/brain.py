"""Brain figures: glass brain and parcel maps on the conte69 surface."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .._validation import as_float_array, check_choice, readonly
from ..datasets.atlases import SCHAEFER_PARCELS, atlas_table
from ..datasets.fetchers import schaefer_vertex_labels
from ..graph import BrainGraph

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from ._common import NETWORK_COLORS, _figure, _node_values, _save


def plot_glass_brain(graph: "BrainGraph", *, color: str | Any = "network", edges: bool = False,
                     edge_threshold: str = "95%", title: str | None = None,
                     path: str | Path | None = None) -> "Figure":
    """Regions as dots on a glass brain, coloured by network, gradient or any (N,) map.

    Parameters
    ----------
    graph : BrainGraph
    color : 'network', 'gradient', a map name, or (N,) array_like
        What colours the nodes.
    edges : bool
        Draw the strongest connectome edges (needs ``graph.connectome``).
    edge_threshold : str
        Percentile of edge weights to draw, as nilearn takes it (e.g. ``'95%'``).
    title : str, optional
    path : str or Path, optional
        Save the figure here.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib  # heavy; only when drawing
    from nilearn import plotting  # heavy; only when drawing

    fig = _figure(figsize=(9, 3.2))
    if isinstance(color, str) and color == "network":
        colors = [NETWORK_COLORS.get(n, "#808080") for n in graph.networks]
        values, cmap = None, None
    else:
        values = _node_values(graph, color, "color", extra=("network",))
        cmap = matplotlib.colormaps["viridis"]
        lo, hi = float(np.min(values)), float(np.max(values))
        colors = [cmap((v - lo) / (hi - lo + 1e-12)) for v in values]
    if edges:
        if graph.connectome is None:
            raise ValueError("edges=True needs a connectome; use load_atlas(..., connectome='enigma_hcp')")
        adjacency = (graph.connectome + graph.connectome.T) / 2.0
    else:
        adjacency = np.zeros((graph.n_nodes, graph.n_nodes))
    display = plotting.plot_connectome(
        adjacency, graph.coords, node_color=colors, node_size=18,
        edge_threshold=edge_threshold if edges else None, display_mode="lzr",
        figure=fig, edge_kwargs={"linewidth": 0.6, "alpha": 0.5}, colorbar=False,
        title=title or f"{graph.atlas}: {graph.n_nodes} regions"
                       + (" and the strongest connectome edges" if edges else ""),
    )
    display.close = lambda: None
    if values is not None:
        sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(
            float(np.min(values)), float(np.max(values))))
        cax = fig.add_axes((1.0, 0.15, 0.012, 0.6), label="colorbar")  # saved with a tight bbox
        fig.colorbar(sm, cax=cax, label=color if isinstance(color, str) else "value")
    return _save(fig, path)


# --------------------------------------------------------------------- surface
SURFACE_VIEWS = ("lateral", "medial", "dorsal", "ventral", "anterior", "posterior")


@lru_cache(maxsize=1)
def _conte69() -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """Left and right conte69-32k midthickness meshes as (coords, faces, shading), read-only.

    The shading is two grey levels by the sign of brainspace's curvature map
    (values in [0, 1], so nilearn draws it as an opaque background).
    """
    import warnings

    from brainspace.datasets import load_conte69, load_marker  # heavy (VTK); only for surfaces and gradients

    meshes = []
    with warnings.catch_warnings():  # brainspace calls VTK methods that VTK 9.6 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        for surf, curv in zip(load_conte69(), load_marker("curvature", join=False)):
            shading = np.where(np.nan_to_num(curv) > 0, 0.55, 0.35)
            meshes.append((readonly(np.array(surf.points, dtype=float)),
                           readonly(np.array(surf.polys2D, dtype=np.int64)), readonly(shading)))
    return tuple(meshes)


def _surface_values(graph_or_atlas: "BrainGraph | str", values: Any) -> np.ndarray:
    """Parcel values painted on the vertices of both hemispheres ((64984,), NaN elsewhere)."""
    if isinstance(graph_or_atlas, str):
        atlas = check_choice(graph_or_atlas, "atlas", SCHAEFER_PARCELS)
        labels = np.arange(1, SCHAEFER_PARCELS[atlas] + 1)
        arr = as_float_array(values, "values", ndim=1, finite=False)
        if arr.shape != labels.shape:
            raise ValueError(f"values must have one value per parcel of {atlas} ({labels.size},); "
                             f"got shape {arr.shape}")
    elif isinstance(graph_or_atlas, BrainGraph):
        atlas = graph_or_atlas.atlas
        if atlas not in SCHAEFER_PARCELS:
            raise ValueError(
                f"plot_surface_map paints the parcels of a bundled Schaefer atlas ({', '.join(SCHAEFER_PARCELS)}); "
                f"this graph's atlas is {atlas!r}. Use a graph from load_atlas (or a subset of one), "
                "or plot_glass_brain for other graphs")
        lookup = dict(zip(atlas_table(atlas)["name"], atlas_table(atlas)["label"]))
        missing = [name for name in graph_or_atlas.names if name not in lookup]
        if missing:
            raise ValueError(f"{len(missing)} region name(s) of the graph are not parcels of {atlas}, "
                             f"e.g. {missing[:3]}; surface maps need the atlas's own region names")
        labels = np.array([lookup[name] for name in graph_or_atlas.names], dtype=int)
        arr = _node_values(graph_or_atlas, values, "values", finite=False)
    else:
        raise TypeError("graph_or_atlas must be a BrainGraph or an atlas name "
                        f"({', '.join(map(repr, SCHAEFER_PARCELS))}); got {type(graph_or_atlas).__name__}")
    if np.any(np.isinf(arr)):
        raise ValueError("values contains infinite entries; use NaN for regions without a value")
    if not np.any(np.isfinite(arr)):
        raise ValueError("values are all NaN; there is nothing to paint")
    parcel_values = np.full(SCHAEFER_PARCELS[atlas] + 1, np.nan)
    parcel_values[labels] = arr
    return parcel_values[schaefer_vertex_labels(SCHAEFER_PARCELS[atlas])]


def plot_surface_map(graph_or_atlas: "BrainGraph | str", values: Any, *, cmap: Any = "viridis",
                     vmin: float | None = None, vmax: float | None = None, title: str | None = None,
                     label: str | None = None, views: Sequence[str] = ("lateral", "medial"),
                     path: str | Path | None = None) -> "Figure":
    """Parcel values painted on the conte69-32k (fsLR-32k) midthickness surface.

    Each parcel's vertices (brainspace's Schaefer labels) take the parcel's
    value; the medial wall, parcels the graph lacks and NaN values are drawn as
    the grey, curvature-shaded background. Panels run left hemisphere, then
    right (views mirrored, so ``('lateral', 'medial')`` gives L lateral,
    L medial, R medial, R lateral). Works offline.

    Parameters
    ----------
    graph_or_atlas : BrainGraph or {'schaefer100', 'schaefer200', 'schaefer400'}
        A graph from :func:`conn2rnn.load_atlas` (or a subset of one: region
        names are matched to the atlas table), or an atlas name.
    values : (N,) array_like or str
        One value per region (NaN = no value); with a graph also ``'gradient'``
        or the name of one of its maps.
    cmap : str or matplotlib Colormap
    vmin, vmax : float, optional
        Colour limits (default: the range of the finite values).
    title : str, optional
    label : str, optional
        Colour-bar label.
    views : sequence of {'lateral', 'medial', 'dorsal', 'ventral', 'anterior', 'posterior'}
        Views per hemisphere; with more than two, each hemisphere gets a row
        (same view order in both).
    path : str or Path, optional
        Save the figure here (PNG or SVG; the meshes are rasterised inside SVG).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib  # heavy; only when drawing
    from nilearn import plotting  # heavy; only when drawing

    views = (views,) if isinstance(views, str) else tuple(views)
    if not views:
        raise ValueError(f"views is empty; give at least one of {SURFACE_VIEWS}")
    for view in views:
        check_choice(view, "view", SURFACE_VIEWS)
    if isinstance(cmap, str):
        if cmap not in matplotlib.colormaps:
            raise ValueError(f"unknown cmap {cmap!r}; use a matplotlib colormap name such as "
                             "'viridis', 'magma' or 'RdBu_r' (see list(matplotlib.colormaps))")
        cmap = matplotlib.colormaps[cmap]
    vertex_values = _surface_values(graph_or_atlas, values)
    lo = float(np.nanmin(vertex_values)) if vmin is None else float(vmin)
    hi = float(np.nanmax(vertex_values)) if vmax is None else float(vmax)
    if lo > hi:
        raise ValueError(f"vmin must not exceed vmax; got vmin={lo:g}, vmax={hi:g}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5

    n_rows = 1 if len(views) <= 2 else 2
    panels = [("left", view) for view in views] + [
        ("right", view) for view in (reversed(views) if n_rows == 1 else views)]
    n_cols = len(panels) // n_rows
    top = 0.88 if title else 1.0
    fig = _figure(figsize=(2.4 * n_cols + 0.8, 1.9 * n_rows / top))
    width, height = 0.9 / n_cols, top / n_rows
    n_left = _conte69()[0][0].shape[0]
    for i, (hemi, view) in enumerate(panels):
        row, col = divmod(i, n_cols)
        ax = fig.add_axes((col * width, top - (row + 1) * height, width, height), projection="3d")
        coords, faces, shading = _conte69()[0 if hemi == "left" else 1]
        data = vertex_values[:n_left] if hemi == "left" else vertex_values[n_left:]
        plotting.plot_surf(
            (coords.copy(), faces.copy()), surf_map=data, bg_map=shading, hemi=hemi, view=view,
            engine="matplotlib", cmap=cmap, vmin=lo, vmax=hi, colorbar=False, axes=ax, figure=fig,
        )
        for collection in ax.collections:
            collection.set_linewidth(0)
            collection.set_edgecolor("none")
            collection.set_rasterized(True)
        ax.text2D(0.5, 0.08, f"{hemi[0].upper()} {view}", transform=ax.transAxes,
                  ha="center", fontsize=8)
    cax = fig.add_axes((0.91, top * 0.2, 0.015, top * 0.6), label="colorbar")
    scalar = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(lo, hi), cmap=cmap)
    fig.colorbar(scalar, cax=cax, label=label or "")
    if title:
        fig.suptitle(title)
    return _save(fig, path, tight=False)


# ----------------------------------------------------------- model vs brain