"""Analyses shared by trainable networks, reservoirs and brains.

Intrinsic timescales (:mod:`.timescales`), BOLD conversion (:mod:`.bold`), map
comparison under spatial nulls (:mod:`.maps`), network topology
(:mod:`.topology`), function (:mod:`.function`) and reservoir expressivity
(:mod:`.expressivity`: memory capacity, impulse recall, forecasting).
"""

from .bold import hrf_kernel, to_bold
from .expressivity import (
    forecast_score,
    impulse_recall,
    memory_capacity,
    per_network_readout,
    sweep_spectral_radius,
)
from .function import FixedPoints, energy, find_fixed_points, mixed_selectivity, participation_ratio
from .maps import MapComparison, compare_maps, compare_regimes, spin_nulls, surrogate_nulls
from .timescales import (
    acf,
    int_acf_sum,
    int_acw,
    int_exp_fit,
    intrinsic_timescales,
    timescales_from_acf,
)
from .topology import (
    characteristic_path_length,
    clustering,
    modularity,
    small_worldness,
    sparsity,
    threshold_proportional,
    topology_summary,
    weight_distance_correlation,
    wiring_cost,
)

__all__ = [
    "forecast_score", "impulse_recall", "memory_capacity", "per_network_readout",
    "sweep_spectral_radius",
    "FixedPoints", "MapComparison", "acf", "characteristic_path_length", "clustering",
    "compare_maps", "compare_regimes", "energy", "find_fixed_points", "hrf_kernel",
    "int_acf_sum", "int_acw", "int_exp_fit", "intrinsic_timescales", "mixed_selectivity",
    "modularity", "participation_ratio", "small_worldness", "sparsity", "spin_nulls",
    "surrogate_nulls", "threshold_proportional", "timescales_from_acf", "to_bold",
    "topology_summary", "weight_distance_correlation", "wiring_cost",
]
