"""Analyses shared by trainable networks, reservoirs and brains.

Intrinsic timescales (:mod:`.timescales`), BOLD conversion (:mod:`.bold`), map
comparison under spatial nulls (:mod:`.maps`), network topology
(:mod:`.topology`), function (:mod:`.function`) and reservoir expressivity
(:mod:`.expressivity`: memory capacity, impulse recall, forecasting), dynamics
(:mod:`.closed_loop`, :mod:`.chaotic`, :mod:`.lyapunov`, :mod:`.capacity`,
:mod:`.attractors`: closed-loop generation, synchronization, Lyapunov spectra,
information processing capacity, fixed points).
"""

from .attractors import FixedPoints, basin_analysis, fixed_points
from .bold import hrf_kernel, to_bold
from .capacity import (
    Capacity,
    generalization_rank,
    information_processing_capacity,
    kernel_rank,
    narma10,
    narma_nrmse,
)
from .chaotic import (
    chaotic_series,
    correlation_dimension,
    invariant_density_distance,
    power_spectrum_distance,
    return_map_distance,
    valid_prediction_time,
)
from .closed_loop import (
    ClosedLoopResult,
    closed_loop,
    closed_loop_scores,
    dynamics_comparison,
    generalized_synchronization,
    summarize_comparison,
)
from .expressivity import (
    forecast_score,
    impulse_recall,
    memory_capacity,
    per_network_readout,
    sweep_spectral_radius,
)
from .function import energy, mixed_selectivity, participation_ratio
from .int_validation import (
    RecoveryResult,
    int_comparison_table,
    int_network_table,
    recovery_self_test,
    spun_geometry_model,
    spun_tau_model,
    untrained_baseline,
)
from .lyapunov import lyapunov_spectrum, lyapunov_spectrum_flow
from .maps import MapComparison, compare_maps, compare_regimes, spin_nulls, surrogate_nulls
from .resting import ModelINTs, model_ints
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
    "ModelINTs", "RecoveryResult", "int_comparison_table", "int_network_table", "model_ints",
    "recovery_self_test", "spun_geometry_model", "spun_tau_model", "untrained_baseline",
    "forecast_score", "impulse_recall", "memory_capacity", "per_network_readout",
    "sweep_spectral_radius",
    "FixedPoints", "MapComparison", "acf", "characteristic_path_length", "clustering",
    "compare_maps", "compare_regimes", "energy", "hrf_kernel",
    "int_acf_sum", "int_acw", "int_exp_fit", "intrinsic_timescales", "mixed_selectivity",
    "modularity", "participation_ratio", "small_worldness", "sparsity", "spin_nulls",
    "surrogate_nulls", "threshold_proportional", "timescales_from_acf", "to_bold",
    "topology_summary", "weight_distance_correlation", "wiring_cost",
    "Capacity", "ClosedLoopResult", "basin_analysis", "chaotic_series", "closed_loop", "closed_loop_scores",
    "correlation_dimension", "dynamics_comparison", "fixed_points", "generalization_rank",
    "generalized_synchronization", "information_processing_capacity", "invariant_density_distance",
    "kernel_rank", "lyapunov_spectrum", "lyapunov_spectrum_flow", "narma10", "narma_nrmse",
    "power_spectrum_distance", "return_map_distance", "summarize_comparison", "valid_prediction_time",
]
