"""Figures: glass-brain nodes and edges, parcel maps on the surface, model-vs-brain scatter.

Every function renders headless (matplotlib's Agg backend) and returns the
matplotlib Figure; pass ``path`` to also save it (PNG or SVG by extension).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import as_float_array, check_choice

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .graph import BrainGraph

NETWORK_COLORS = {
    "Vis": "#781286", "SomMot": "#4682B4", "DorsAttn": "#00760E", "SalVentAttn": "#C43AFA",
    "Limbic": "#DCF8A4", "Cont": "#E69422", "Default": "#CD3E4E",
}


def _figure(**kwargs: Any) -> "Figure":
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _save(fig: "Figure", path: str | Path | None) -> "Figure":
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


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
    import matplotlib
    from nilearn import plotting

    fig = _figure(figsize=(9, 3.2))
    if isinstance(color, str) and color == "network":
        colors = [NETWORK_COLORS.get(n, "#808080") for n in graph.networks]
        values, cmap = None, None
    else:
        if isinstance(color, str):
            if color == "gradient":
                if graph.gradient is None:
                    raise ValueError("color='gradient' needs a graph with a gradient")
                values = graph.gradient
            else:
                check_choice(color, "color", ("network", "gradient") + tuple(graph.maps))
                values = graph.maps[color]
        else:
            values = as_float_array(color, "color", shape=(graph.n_nodes,))
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
        figure=fig, title=title or repr(graph), edge_kwargs={"linewidth": 0.6, "alpha": 0.5},
    )
    display.close = lambda: None
    if values is not None:
        sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(
            float(np.min(values)), float(np.max(values))))
        fig.colorbar(sm, ax=fig.axes, shrink=0.6, label=color if isinstance(color, str) else "value")
    return _save(fig, path)
