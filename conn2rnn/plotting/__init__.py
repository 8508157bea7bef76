"""Figures: brains (glass brain, parcel maps on the surface), model-vs-brain maps, results.

Every function renders headless (matplotlib's Agg backend, no pyplot state) and
returns the matplotlib Figure; pass ``path`` to also save it (PNG or SVG by
extension).

- :mod:`~conn2rnn.plotting.brain`: :func:`plot_glass_brain`, :func:`plot_surface_map`.
- :mod:`~conn2rnn.plotting.results`: :func:`plot_map_scatter`,
  :func:`plot_learning_curves`, :func:`plot_metric_by_regime`,
  :func:`plot_topology_vs_strength`, :func:`plot_weight_vs_distance`,
  :func:`plot_snapshot_curves` (metrics over training).
- :mod:`~conn2rnn.plotting.dynamics`: :func:`plot_state_space`, :func:`plot_attractors`,
  :func:`plot_dynamics_comparison`, :func:`plot_impulse_recall`.
"""

from ._common import NETWORK_COLORS
from .brain import SURFACE_VIEWS, plot_glass_brain, plot_surface_map
from .dynamics import plot_attractors, plot_dynamics_comparison, plot_impulse_recall, plot_state_space
from .results import (
    plot_learning_curves,
    plot_map_scatter,
    plot_metric_by_regime,
    plot_snapshot_curves,
    plot_topology_vs_strength,
    plot_weight_vs_distance,
)

__all__ = ["NETWORK_COLORS", "SURFACE_VIEWS", "plot_attractors", "plot_dynamics_comparison", "plot_glass_brain",
           "plot_impulse_recall", "plot_state_space", "plot_learning_curves", "plot_map_scatter",
           "plot_metric_by_regime", "plot_snapshot_curves", "plot_surface_map", "plot_topology_vs_strength", "plot_weight_vs_distance"]
