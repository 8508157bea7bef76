"""Shared pieces of the figures: a headless Figure, saving, node values, colours."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .._validation import as_float_array, check_choice

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..graph import BrainGraph

NETWORK_COLORS = {
    "Vis": "#781286", "SomMot": "#4682B4", "DorsAttn": "#00760E", "SalVentAttn": "#C43AFA",
    "Limbic": "#DCF8A4", "Cont": "#E69422", "Default": "#CD3E4E",
}


def _figure(**kwargs: Any) -> "Figure":
    import matplotlib  # heavy; only when drawing

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # heavy; only when drawing

    return Figure(**kwargs)


def _save(fig: "Figure", path: str | Path | None, *, tight: bool = True) -> "Figure":
    """Save ``fig`` to ``path`` (format from the extension) if given; ``tight`` crops the margins."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight" if tight else None)
    return fig


def _node_values(graph: "BrainGraph", values: Any, name: str, *, extra: tuple[str, ...] = (),
                 finite: bool = True) -> np.ndarray:
    """(N,) float values from an array_like, ``'gradient'`` or the name of a map of ``graph``."""
    if isinstance(values, str):
        check_choice(values, name, extra + ("gradient",) + tuple(graph.maps))
        if values == "gradient":
            if graph.gradient is None:
                raise ValueError(f"{name}='gradient' needs a graph with a gradient; "
                                 "attach one with graph.with_gradient(values)")
            return graph.gradient
        return graph.maps[values]
    arr = as_float_array(values, name, ndim=1, finite=finite)
    if arr.shape != (graph.n_nodes,):
        raise ValueError(f"{name} must have one value per region of the graph ({graph.n_nodes},); "
                         f"got shape {arr.shape}")
    return arr


def _category_colors(categories: Sequence[str]) -> dict[str, Any]:
    """Yeo-7 network colours where known, a qualitative palette for other labels."""
    import matplotlib  # heavy; only when drawing

    palette = matplotlib.colormaps["tab10"]
    present = set(categories)
    others = [c for c in dict.fromkeys(categories) if c not in NETWORK_COLORS]
    colors = {c: color for c, color in NETWORK_COLORS.items() if c in present}
    colors.update({c: palette(i % 10) for i, c in enumerate(others)})
    return colors


def _labels(values: Any, name: str, n: int) -> list[str]:
    if isinstance(values, str) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a sequence of {n} strings; got {type(values).__name__}")
    out = [str(v) for v in values]
    if len(out) != n:
        raise ValueError(f"{name} must have one entry per region ({n}); got {len(out)}")
    return out

