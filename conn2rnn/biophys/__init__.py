"""Biophysical reservoirs: E/I networks of conductance-based cells.

The default model is the reference model of Tolley & Jones (multi-compartment E
cells, Jaxley's Pospischil channels and the Destexhe release scheme, noise, cue and
readout cells, the reference's objective):

- :mod:`.compartments`: the unbranched cable (geometry, backward-Euler tridiagonal
  solve, DC transfer); :mod:`.reference_channels`: channels and synapses as Jaxley
  steps them; :mod:`.reference_engine`: the batched integrator;
- :mod:`.reference_network`: the 26 searched parameters, the 2 x 2 conditions and the
  wiring; :mod:`.reference_task`: cue cells, noise, readout and the objective
  (:class:`ReferenceNetwork`).

The reduced option stays available (and is what the experiments, report and CLI
below still run): conductance-based
excitatory cells (soma + distal dendrite) and inhibitory cells with Pospischil
2008 channels, coupled by Destexhe 1998 kinetic synapses (AMPA, NMDA, GABA_A),
simulated in torch for many trials and parameter sets at once. Only a linear
readout is fit; the network's parameters are searched
(:func:`conn2rnn.fitting.search.run_search`).

- :mod:`.channels`, :mod:`.cells`, :mod:`.engine`: channels, receptors, the
  reduced cell geometry and the batched integrator;
- :mod:`.network`: named parameters and wiring from a graph;
- :mod:`.model`: :class:`BiophysicalReservoir`, a
  :class:`~conn2rnn.models.protocol.RecurrentModel`;
- :mod:`.task`: the cued working-memory task (registered as ``"cued_memory"``)
  and its cross-validated readout error;
- :mod:`.analysis`, :mod:`.experiment`, :mod:`.report`, :mod:`.cli`: the
  "NMDA cues work, dendritic AMPA cues fail" reproduction;
- :mod:`.diagnostics`: the readout's ceiling on synthetic memories and the cue
  encoder's expected drive.
"""

from .analysis import attractor_separation, cued_cluster_activity, dimensionality, pca_trajectories
from .cells import DEFAULT_DENSITIES, CellGeometry, e_cell_geometry, i_cell_area_cm2, simulate_cell
from .channels import RECEPTORS, Receptor, mg_block, receptor
from .diagnostics import CueEncoding, cue_encoding, readout_ceiling, synthetic_memory
from .engine import MAX_DT_MS, SimResult
from .model import CUE_SYNAPSES, BiophysicalReservoir, DivergedError, filter_spikes
from .compartments import Chain, chain_dc_transfer, e_cell_chain, point_cell_chain, solve_chain
from .network import GROUPS, PARAMETERS, Wiring, default_parameters, ring_lattice, wiring_from_graph
from .reference_network import CONDITIONS, build_reference_circuit, from_unit, reference_space
from .reference_task import ReferenceNetwork, cue_amplitudes, cv_ridge_error, trial_cues
from .task import CuedMemory, memory_error

__all__ = [
    "CONDITIONS", "Chain", "ReferenceNetwork", "build_reference_circuit", "chain_dc_transfer", "cue_amplitudes",
    "cv_ridge_error", "e_cell_chain", "from_unit", "point_cell_chain", "reference_space", "solve_chain", "trial_cues",
    "CUE_SYNAPSES", "DEFAULT_DENSITIES", "GROUPS", "MAX_DT_MS", "PARAMETERS", "RECEPTORS",
    "BiophysicalReservoir", "CellGeometry", "CueEncoding", "CuedMemory", "DivergedError", "Receptor",
    "SimResult", "Wiring", "attractor_separation", "cue_encoding", "cued_cluster_activity",
    "default_parameters", "dimensionality", "e_cell_geometry", "filter_spikes", "i_cell_area_cm2",
    "memory_error", "mg_block", "pca_trajectories", "readout_ceiling", "receptor", "ring_lattice",
    "simulate_cell", "synthetic_memory", "wiring_from_graph",
]
