"""The E/I network: named parameters, wiring from a graph, and the engine circuit.

Cells sit on the nodes of a graph (``w[target, source]`` adjacency, no self
connections): E cells on ``e_nodes``, I cells on ``i_nodes`` (by default every
second E position, as in the reference). The reference graph is a ring lattice of
neighbours within distance 2 with open ends (:func:`ring_lattice`); any
:class:`~conn2rnn.BrainGraph` (its connectome > 0) or networkx graph works.

Synapse groups (one peak conductance ``g_<group>`` in nS and one connection
probability ``p_<group>`` each; an existing graph edge is kept with that
probability, seeded):

======================  ========  ==========  ===========
group                   receptor  pre -> post compartment
======================  ========  ==========  ===========
``ee_ampa_soma``        AMPA      E -> E      soma
``ee_ampa_dend``        AMPA      E -> E      dendrite
``ee_nmda_soma``        NMDA      E -> E      soma
``ee_nmda_dend``        NMDA      E -> E      dendrite
``ie_gaba_soma``        GABA_A    I -> E      soma
``ie_gaba_dend``        GABA_A    I -> E      dendrite
``ei_ampa``             AMPA      E -> I      soma
``ii_gaba``             GABA_A    I -> I      soma
======================  ========  ==========  ===========

Channel densities are ``<channel>_<e_soma|e_dend|i>`` in mS/cm2; ``ra_ohm_cm`` is
the E cells' axial resistivity. External drive (``g_cue_e``, ``g_cue_i``,
``g_noise_e``, ``g_noise_i``) is wired in :mod:`~conn2rnn.biophys.model`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .cells import DEFAULT_DENSITIES, e_cell_geometry, i_cell_area_cm2
from .channels import CHANNELS, receptor
from .engine import Circuit

__all__ = ["GROUPS", "PARAMETERS", "Wiring", "build_circuit", "default_parameters", "ring_lattice",
           "stack_parameters", "wiring_from_graph"]

#: group -> (receptor, presynaptic population, postsynaptic population, compartment)
GROUPS = {
    "ee_ampa_soma": ("AMPA", "E", "E", "soma"),
    "ee_ampa_dend": ("AMPA", "E", "E", "dend"),
    "ee_nmda_soma": ("NMDA", "E", "E", "soma"),
    "ee_nmda_dend": ("NMDA", "E", "E", "dend"),
    "ie_gaba_soma": ("GABA_A", "I", "E", "soma"),
    "ie_gaba_dend": ("GABA_A", "I", "E", "dend"),
    "ei_ampa": ("AMPA", "E", "I", "soma"),
    "ii_gaba": ("GABA_A", "I", "I", "soma"),
}
_REGIONS = ("e_soma", "e_dend", "i")
_DRIVE = {"g_cue_e": 2.0, "g_cue_i": 0.5, "g_noise_e": 4.0, "g_noise_i": 0.3}


def default_parameters() -> dict[str, float]:
    """Every network parameter with its default (conductances nS, densities mS/cm2)."""
    params: dict[str, float] = {}
    for group in GROUPS:
        params[f"g_{group}"] = 0.5
        params[f"p_{group}"] = 0.5
    params.update(_DRIVE)
    for region in _REGIONS:
        for ch in CHANNELS:
            params[f"{ch}_{region}"] = DEFAULT_DENSITIES[ch]
    params["ra_ohm_cm"] = 300.0
    return params


PARAMETERS = tuple(default_parameters())


def stack_parameters(sets: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """K parameter sets -> one ``(K,)`` array per parameter (defaults filled in).

    Parameters
    ----------
    sets : dict or list of dict
        Parameter name -> value (one set) or a list of such dicts (K sets); a dict of
        ``(K,)`` arrays is also accepted.

    Raises
    ------
    ValueError
        Unknown names (listing the valid ones), negative conductances or densities,
        probabilities outside [0, 1], a non-positive ``ra_ohm_cm``.
    """
    if isinstance(sets, Mapping):
        lengths = {np.size(v) for v in sets.values()} or {1}
        n = max(lengths)
        rows = [{k: np.ravel(v)[i if np.size(v) > 1 else 0] for k, v in sets.items()} for i in range(n)]
    elif isinstance(sets, Sequence) and sets and all(isinstance(s, Mapping) for s in sets):
        rows = list(sets)
    else:
        raise TypeError(f"parameters must be a dict or a non-empty list of dicts; got {type(sets).__name__}")
    base = default_parameters()
    out = {name: np.empty(len(rows)) for name in base}
    for i, row in enumerate(rows):
        unknown = sorted(set(row) - set(base))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; valid names: {list(base)}")
        for name in base:
            value = row.get(name, base[name])
            if isinstance(value, (bool, np.bool_)) or not np.isscalar(value) or not np.isfinite(float(value)):
                raise ValueError(f"parameter {name} must be a finite number; got {value!r}")
            value = float(value)
            if value < 0:
                raise ValueError(f"parameter {name} must be >= 0 (conductances, densities and "
                                 f"probabilities are non-negative); got {value}")
            if name.startswith("p_") and value > 1:
                raise ValueError(f"parameter {name} is a probability and must lie in [0, 1]; got {value}")
            if name == "ra_ohm_cm" and value == 0:
                raise ValueError("parameter ra_ohm_cm must be > 0 (Ohm cm); got 0")
            out[name][i] = value
    return out


@dataclass(frozen=True)
class Wiring:
    """Where the cells sit on a graph.

    Attributes
    ----------
    adjacency : (P, P) bool ndarray
        ``adjacency[target, source]`` over graph nodes, no self loops.
    e_nodes : (n_e,) int ndarray
    i_nodes : (n_i,) int ndarray
    """

    adjacency: np.ndarray
    e_nodes: np.ndarray
    i_nodes: np.ndarray

    @property
    def n_e(self) -> int:
        return int(self.e_nodes.size)

    @property
    def n_i(self) -> int:
        return int(self.i_nodes.size)

    def block(self, post: str, pre: str) -> np.ndarray:
        """Candidate edges ``(n_post, n_pre)`` between two populations."""
        rows = self.e_nodes if post == "E" else self.i_nodes
        cols = self.e_nodes if pre == "E" else self.i_nodes
        return self.adjacency[np.ix_(rows, cols)]


def ring_lattice(n: int = 50, *, radius: int = 2) -> np.ndarray:
    """Chain of ``n`` nodes each linked to the nodes within ``radius`` (open ends, no self loops)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2; got {n!r}")
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 1:
        raise ValueError(f"radius must be an integer >= 1; got {radius!r}")
    idx = np.arange(n)
    dist = np.abs(idx[:, None] - idx[None, :])
    return (dist <= radius) & (dist > 0)


def wiring_from_graph(graph: Any = None, *, n_e: int | None = None, e_nodes: Any = None,
                      i_nodes: Any = None) -> Wiring:
    """Place E and I cells on a graph.

    Parameters
    ----------
    graph : BrainGraph, networkx.Graph, (P, P) array_like or None
        ``None``: the reference ring lattice of 50 nodes (radius 2, open ends).
        A BrainGraph uses its connectome (> 0); a matrix is read as ``[target, source]``.
    n_e : int, optional
        E cells on nodes ``0..n_e-1`` (default: every node).
    e_nodes, i_nodes : int arrays, optional
        Explicit placements; by default I cells sit on every second E node
        (``n_i = n_e // 2``), as in the reference.
    """
    if graph is None:
        adj = ring_lattice(50)
    elif hasattr(graph, "connectome") and hasattr(graph, "n_nodes"):
        if graph.connectome is None:
            raise ValueError("graph is a BrainGraph without a connectome; use graph.with_connectome(...)")
        adj = np.asarray(graph.connectome) > 0
    elif hasattr(graph, "nodes") and hasattr(graph, "edges"):
        import networkx as nx

        adj = nx.to_numpy_array(graph, nodelist=list(graph.nodes), weight=None).T > 0
    else:
        adj = np.asarray(graph)
        if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
            raise ValueError(f"graph as a matrix must be square (P, P); got shape {adj.shape}")
        adj = adj != 0
    adj = adj.copy()
    np.fill_diagonal(adj, False)
    n_nodes = adj.shape[0]
    if e_nodes is None:
        n_e = n_nodes if n_e is None else int(n_e)
        e_nodes = np.arange(n_e)
    if i_nodes is None:
        i_nodes = np.asarray(e_nodes)[::2][: len(e_nodes) // 2]
    e_nodes, i_nodes = np.asarray(e_nodes, dtype=int).ravel(), np.asarray(i_nodes, dtype=int).ravel()
    for name, nodes in (("e_nodes", e_nodes), ("i_nodes", i_nodes)):
        if nodes.size and (nodes.min() < 0 or nodes.max() >= n_nodes):
            raise ValueError(f"{name} must index the graph's {n_nodes} nodes; got range "
                             f"[{nodes.min()}, {nodes.max()}]")
    if e_nodes.size == 0:
        raise ValueError("the network needs at least one E cell (e_nodes is empty)")
    adj.setflags(write=False)
    return Wiring(adj, e_nodes, i_nodes)


def build_circuit(params: Mapping[str, np.ndarray], wiring: Wiring, *, seed: int = 0,
                  dtype: torch.dtype = torch.float64, device: Any = "cpu") -> Circuit:
    """The engine circuit of K parameter sets (output of :func:`stack_parameters`).

    Edges are kept where ``U < p_<group>`` for uniform numbers ``U`` drawn once from
    ``seed`` per group, so every parameter set sees the same draws (a larger ``p``
    keeps a superset of edges) and the same seed gives the same network.
    """
    k = next(iter(params.values())).shape[0]
    n_e, n_i = wiring.n_e, wiring.n_i
    geo = e_cell_geometry()
    area = np.concatenate([np.full(n_e, geo.soma_area_cm2), np.full(n_e, geo.dend_area_cm2),
                           np.full(n_i, i_cell_area_cm2())])
    m = area.size
    dens = {}
    for ch in CHANNELS:
        d = np.empty((k, m))
        d[:, :n_e] = params[f"{ch}_e_soma"][:, None]
        d[:, n_e:2 * n_e] = params[f"{ch}_e_dend"][:, None]
        d[:, 2 * n_e:] = params[f"{ch}_i"][:, None]
        dens[ch] = torch.tensor(d, dtype=dtype, device=device)
    g_c = np.array([e_cell_geometry(float(ra)).g_couple_ns for ra in params["ra_ohm_cm"]])
    rng = np.random.default_rng(seed)
    by_receptor: dict[tuple[str, str], np.ndarray] = {}
    for group, (rec, pre, post, comp) in GROUPS.items():
        cand = wiring.block(post, pre)
        u = rng.random(cand.shape)
        keep = cand[None] & (u[None] < params[f"p_{group}"][:, None, None])
        offset = 0 if post == "E" and comp == "soma" else n_e if post == "E" else 2 * n_e
        rows = np.arange(cand.shape[0]) + offset
        dens_g = params[f"g_{group}"][:, None, None] * 1e-6 / area[rows][None, :, None]
        key = (rec, pre)
        if key not in by_receptor:
            by_receptor[key] = np.zeros((k, m, n_e if pre == "E" else n_i))
        by_receptor[key][:, rows, :] += keep * dens_g
    synapses = tuple((receptor(rec), pre, torch.tensor(w, dtype=dtype, device=device))
                     for (rec, pre), w in by_receptor.items() if (pre == "E" or n_i))
    return Circuit(n_e, n_i, torch.tensor(area, dtype=dtype, device=device),
                   torch.tensor(np.broadcast_to(g_c[:, None], (k, n_e)).copy(), dtype=dtype, device=device),
                   dens, synapses)
