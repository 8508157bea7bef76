"""The reference E/I network (Tolley & Jones), its 26 searched parameters and its circuit.

Cells: ``n_e`` = 50 multi-compartment E cells (:func:`~.compartments.e_cell_chain`),
``n_i`` = 25 I cells, one noise cell per E and I cell, 25 cue cells, and one readout
cell per odd E cell (the small cells are :func:`~.compartments.point_cell_chain`).

Wiring: node ``j`` of a ring lattice of 600 nodes (neighbours within 2, so the 50 E
cells on nodes 0..49 form a chain with open ends); I cell ``m`` sits on node ``2 m``.
E->E, E->I, I->E and I->I edges are the lattice edges between those nodes (no self
edges). Each edge of a group is kept when a fixed uniform draw (``default_rng(123)``,
one per edge, drawn group after group in the reference's order) falls below the
group's ``p``, so a larger ``p`` keeps a superset of the edges (as in the reference,
where the draws are the same for every proposal). Cue cells project to the even E
cells (and to every I cell through 1 nS AMPA) by the reference's sparse scheme:
``Binomial(25 x 25, 0.1)`` synapses between uniformly drawn pairs (a pair may get
several), here from ``default_rng(cue_seed)``. Synapses sit at compartment 0 (soma)
or the last compartment (distal tip) of the E cell.

Parameters (physical units; the search moves in the unit cube, see
:data:`REFERENCE_SPACE`): peak conductances ``<group>_gS`` in uS and probabilities
``<group>_pconn``; channel densities ``<region>_g<channel>`` in S/cm2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from .compartments import e_cell_chain, point_cell_chain
from .reference_engine import Group, RefCircuit

__all__ = ["CONDITIONS", "RECURRENT_GROUPS", "REFERENCE_SPACE", "build_reference_circuit", "from_unit",
           "lattice_edges", "reference_space"]

#: recurrent groups: name -> (receptor, pre, post site)
RECURRENT_GROUPS = {
    "IE_gaba": ("GABA_A", "I", "E_soma"),
    "IE_dend_gaba": ("GABA_A", "I", "E_tip"),
    "II_gaba": ("GABA_A", "I", "S"),
    "EI_ampa": ("AMPA", "E", "S"),
    "EE_ampa": ("AMPA", "E", "E_soma"),
    "EE_dend_ampa": ("AMPA", "E", "E_tip"),
}
#: the 2 x 2 conditions: name -> (cue group, receptor, E site)
CONDITIONS = {
    "NMDA_soma": ("cue_Esoma_nmda", "NMDA", "E_soma"),
    "AMPA_soma": ("cue_Esoma_ampa", "AMPA", "E_soma"),
    "NMDA_dend": ("cue_Edend_nmda", "NMDA", "E_tip"),
    "AMPA_dend": ("cue_Edend_ampa", "AMPA", "E_tip"),
}
_DENSITIES = ("E_Leak_gLeak", "E_dend_Leak_gLeak", "I_Leak_gLeak", "E_Km_gKm", "E_CaL_gCaL", "E_CaT_gCaT",
              "I_Km_gKm", "I_CaL_gCaL", "I_CaT_gCaT", "E_dend_Km_gKm", "E_dend_CaL_gCaL", "E_dend_CaT_gCaT")
#: the reference's order of connection groups (it fixes the mask draws)
_MASK_ORDER = ("cue_Esoma_ampa", "cue_Esoma_nmda", "cue_Edend_ampa", "cue_Edend_nmda", "noise_Esoma_ampa",
               "cue_I_ampa", "noise_I_ampa", "IE_gaba", "II_gaba", "EI_ampa", "EI_nmda", "EE_ampa", "EE_nmda",
               "IE_dend_gaba", "EE_dend_ampa", "EE_dend_nmda")
NOISE_G_US = 0.01
CUE_I_G_US = 0.001
READOUT_G_US = 1e-4


def reference_space(condition: str) -> list[tuple[str, float, float, str]]:
    """The 26 searched parameters of one condition: ``(name, low, high, scale)``.

    ``scale`` is ``'log10'`` (the value is ``10 ** u`` for ``u`` in ``[low, high]``) or
    ``'linear'``. Recurrent conductances: log10(uS) in [-2, 1], ``p`` in [0, 0.6]; the
    cue group: log10(uS) in [-3, 1], ``p`` in [0, 1]; densities: log10(S/cm2) in [-9, -2].
    """
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; choose one of {sorted(CONDITIONS)}")
    space = []
    for name in RECURRENT_GROUPS:
        space += [(f"{name}_gS", -2.0, 1.0, "log10"), (f"{name}_pconn", 0.0, 0.6, "linear")]
    cue = CONDITIONS[condition][0]
    space += [(f"{cue}_gS", -3.0, 1.0, "log10"), (f"{cue}_pconn", 0.0, 1.0, "linear")]
    space += [(name, -9.0, -2.0, "log10") for name in _DENSITIES]
    return space


REFERENCE_SPACE = {cond: reference_space(cond) for cond in CONDITIONS}


def from_unit(theta: Any, condition: str) -> dict[str, np.ndarray]:
    """Physical parameters from points of the unit cube.

    Parameters
    ----------
    theta : (K, 26) array_like
        Coordinates in [0, 1], in the order of :func:`reference_space`.
    condition : str

    Returns
    -------
    dict
        name -> (K,) ndarray (uS, probabilities, S/cm2).
    """
    space = reference_space(condition)
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    if theta.ndim != 2 or theta.shape[1] != len(space):
        raise ValueError(f"theta must be (K, {len(space)}); got {theta.shape}")
    if np.any(theta < 0) or np.any(theta > 1) or not np.all(np.isfinite(theta)):
        raise ValueError("theta must lie in the unit cube [0, 1]")
    out = {}
    for j, (name, lo, hi, scale) in enumerate(space):
        u = lo + theta[:, j] * (hi - lo)
        out[name] = 10.0 ** u if scale == "log10" else u
    return out


def lattice_edges(pre_nodes: Any, post_nodes: Any, *, n_nodes: int = 600, radius: int = 2) -> np.ndarray:
    """(P, Q) bool adjacency ``[post, pre]`` of a ring lattice (neighbours within ``radius``, no self edges)."""
    pre = np.asarray(pre_nodes)[None, :]
    post = np.asarray(post_nodes)[:, None]
    d = np.abs(post - pre)
    d = np.minimum(d, n_nodes - d)
    return (d >= 1) & (d <= radius)


def _sparse_counts(rng: np.random.Generator, n_pre: int, n_post: int, p: float) -> np.ndarray:
    """(n_post, n_pre) synapse counts of the reference's sparse scheme (pairs drawn with replacement)."""
    n_syn = rng.binomial(n_pre * n_post, p)
    pre = rng.integers(0, n_pre, n_syn)
    post = rng.integers(0, n_post, n_syn)
    counts = np.zeros((n_post, n_pre))
    np.add.at(counts, (post, pre), 1.0)
    return counts


def _check_params(params: Mapping[str, Any], condition: str) -> tuple[dict[str, np.ndarray], int]:
    names = [name for name, *_ in reference_space(condition)]
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"params lacks {missing}; give every name of reference_space({condition!r})")
    arrs = {n: np.atleast_1d(np.asarray(params[n], dtype=float)) for n in names}
    k = max(a.size for a in arrs.values())
    for n, a in arrs.items():
        if a.ndim != 1 or a.size not in (1, k) or not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ValueError(f"params[{n!r}] must be a finite value >= 0 or a (K,) array; got {params[n]!r}")
    return {n: np.broadcast_to(a, (k,)).copy() for n, a in arrs.items()}, k


def build_reference_circuit(params: Mapping[str, Any], condition: str, *, n_e: int = 50, cue_seed: int = 0,
                            n_cue: int = 25, dtype: torch.dtype = torch.float64) -> tuple[RefCircuit, dict]:
    """The circuit of K parameter sets of one condition.

    Parameters
    ----------
    params : mapping
        Every name of :func:`reference_space` -> float or (K,) array (physical units).
    condition : str
        One of :data:`CONDITIONS`.
    n_e : int
        Number of E cells (even; ``n_e / 2`` I cells).
    cue_seed : int
        Seed of the cue-to-cell synapse draws.
    n_cue : int

    Returns
    -------
    circuit : RefCircuit
    wiring : dict
        The edge masks and cue counts (``[post, pre]`` arrays) for inspection.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; choose one of {sorted(CONDITIONS)}")
    if isinstance(n_e, bool) or not isinstance(n_e, (int, np.integer)) or n_e < 4 or n_e % 2:
        raise ValueError(f"n_e must be an even int >= 4; got {n_e!r}")
    p, k = _check_params(params, condition)
    n_i = n_e // 2
    e_nodes, i_nodes = np.arange(n_e), 2 * np.arange(n_i)
    adj = {
        "IE_gaba": lattice_edges(i_nodes, e_nodes), "IE_dend_gaba": lattice_edges(i_nodes, e_nodes),
        "II_gaba": lattice_edges(i_nodes, i_nodes), "EI_ampa": lattice_edges(e_nodes, i_nodes),
        "EE_ampa": lattice_edges(e_nodes, e_nodes), "EE_dend_ampa": lattice_edges(e_nodes, e_nodes),
    }
    cue_rng = np.random.default_rng(cue_seed)
    even = np.arange(0, n_e, 2)
    cue_counts = {name: _sparse_counts(cue_rng, n_cue, even.size, 0.1) for name in CONDITIONS_CUE_ORDER}
    cue_counts["cue_I_ampa"] = _sparse_counts(cue_rng, n_cue, n_i, 0.1)
    # Fixed draws, one per edge, group after group in the reference's order.
    mask_rng = np.random.default_rng(123)
    draws = {}
    for name in _MASK_ORDER:
        if name in adj:
            rows, cols = np.nonzero(adj[name].T)  # pre-major order
            u = mask_rng.uniform(size=rows.size)
            d = np.full(adj[name].shape, np.inf)
            d[cols, rows] = u
            draws[name] = d
        elif name in cue_counts:
            draws[name] = mask_rng.uniform(size=int(cue_counts[name].sum()))
        else:  # groups switched off here still consume their draws in the reference
            twin = {"EI_nmda": "EI_ampa", "EE_nmda": "EE_ampa", "EE_dend_nmda": "EE_dend_ampa"}.get(name)
            size = int(adj[twin].sum()) if twin else (n_e if name == "noise_Esoma_ampa" else n_i)
            mask_rng.uniform(size=size)

    def t(x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.array(x, dtype=float), dtype=dtype)

    groups = []
    wiring = {}
    for name, (rec, pre, post) in RECURRENT_GROUPS.items():
        keep = draws[name][None] < p[f"{name}_pconn"][:, None, None]  # (K, P, Q)
        w = keep * p[f"{name}_gS"][:, None, None]
        wiring[name] = keep
        post_cells = np.arange(n_i) if post == "S" else np.arange(n_e)
        groups.append(Group(post, post_cells, pre, rec, t(w)))
    cue_name, cue_rec, cue_site = CONDITIONS[condition]
    counts = cue_counts[cue_name]
    # per-synapse masks on the multi-synapse counts: keep each synapse with its fixed draw
    syn_post, syn_pre = np.nonzero(counts)
    w = np.zeros((k, n_e, n_cue))
    u = draws[cue_name]
    pos = 0
    for post_j, pre_j in zip(syn_post, syn_pre):
        for _ in range(int(counts[post_j, pre_j])):
            w[:, even[post_j], pre_j] += (u[pos] < p[f"{cue_name}_pconn"]) * p[f"{cue_name}_gS"]
            pos += 1
    wiring[cue_name] = counts
    groups.append(Group(cue_site, np.arange(n_e), "cue", cue_rec, t(w)))
    w_ci = np.broadcast_to(cue_counts["cue_I_ampa"] * CUE_I_G_US, (k, n_i, n_cue))
    groups.append(Group("S", np.arange(n_i), "cue", "AMPA", t(w_ci)))
    n_noise = n_e + n_i
    w_ne = np.zeros((k, n_e, n_noise))
    w_ne[:, np.arange(n_e), np.arange(n_e)] = NOISE_G_US
    groups.append(Group("E_soma", np.arange(n_e), "noise", "AMPA", t(w_ne)))
    w_ni = np.zeros((k, n_i, n_noise))
    w_ni[:, np.arange(n_i), n_e + np.arange(n_i)] = NOISE_G_US
    groups.append(Group("S", np.arange(n_i), "noise", "AMPA", t(w_ni)))
    odd = np.arange(1, n_e, 2)
    n_readout = odd.size
    w_ro = np.zeros((k, n_readout, n_e))
    w_ro[:, np.arange(n_readout), odd] = READOUT_G_US
    groups.append(Group("S", n_i + n_noise + np.arange(n_readout), "E", "READOUT", t(w_ro)))

    e_chain, s_chain = e_cell_chain(), point_cell_chain()
    soma = np.arange(e_chain.n_comp) < e_chain.n_comp // 4

    def region(soma_val: np.ndarray, dend_val: np.ndarray) -> torch.Tensor:
        return t(np.where(soma[None], soma_val[:, None], dend_val[:, None])[:, None, None, :])

    one = np.ones(k)
    e_dens = {"na": region(0.05 * one, 0.05 * one), "k": region(0.005 * one, 0.005 * one),
              "leak": region(p["E_Leak_gLeak"], p["E_dend_Leak_gLeak"]),
              "km": region(p["E_Km_gKm"], p["E_dend_Km_gKm"]), "cal": region(p["E_CaL_gCaL"], p["E_dend_CaL_gCaL"]),
              "cat": region(p["E_CaT_gCaT"], p["E_dend_CaT_gCaT"])}
    n_small = n_i + n_noise + n_readout
    kinds = np.array(["I"] * n_i + ["noise"] * n_noise + ["readout"] * n_readout)

    def small(i_val: np.ndarray, noise_val: float, readout_val: float) -> torch.Tensor:
        arr = np.where(kinds[None] == "I", i_val[:, None], np.where(kinds[None] == "noise", noise_val, readout_val))
        return t(arr[:, None, :, None])

    s_dens = {"na": small(0.05 * one, 0.05, 0.0), "k": small(0.005 * one, 0.005, 0.0),
              "leak": small(p["I_Leak_gLeak"], 1e-4, 1e-4), "km": small(p["I_Km_gKm"], 0.0, 0.0),
              "cal": small(p["I_CaL_gCaL"], 0.0, 0.0), "cat": small(p["I_CaT_gCaT"], 0.0, 0.0)}
    s_eleak = t(np.where(kinds == "readout", 0.0, -70.0)[None, None, :, None])
    circuit = RefCircuit(e_chain=e_chain, s_chain=s_chain, n_e=n_e, n_i=n_i, n_readout=n_readout, readout_pre=odd,
                         e_dens=e_dens, s_dens=s_dens, s_eleak=s_eleak, groups=groups)
    return circuit, wiring


CONDITIONS_CUE_ORDER = ("cue_Esoma_ampa", "cue_Esoma_nmda", "cue_Edend_ampa", "cue_Edend_nmda")
