"""Batched integrator of the reference network: K parameter sets x B trials, in torch.

Populations and their tensors (``(K, B, cells, compartments)``):

- ``E``: multi-compartment excitatory cells (:func:`~.compartments.e_cell_chain`);
- ``S``: every small cell (:func:`~.compartments.point_cell_chain`) in one tensor,
  laid out ``[I (n_i), noise (n_e + n_i), readout (n_readout)]``: I cells carry the
  full channel set, noise cells Na, K and leak, readout cells a leak reversing at 0 mV
  (they start at 0 mV). Cue cells are deterministic and simulated beforehand
  (:func:`cue_release`).

One step of ``dt`` ms, in Jaxley's order:

1. gates advance at the voltages of the start of the step, channel currents are
   linearised (:mod:`~.reference_channels`);
2. every presynaptic release state advances with the presynaptic voltage of the
   start of the step; conductances ``w[target, source] @ R`` (uS) are summed per
   postsynaptic site and receptor and linearised (NMDA by a 1e-3 mV difference);
3. external currents (noise, nA) and synaptic currents become densities over the
   compartment's area, and one backward-Euler tridiagonal solve per chain gives the
   new voltages (:func:`~.compartments.solve_chain`);
4. a spike is an upward crossing of 0 mV by compartment 0.

Non-finite voltages mark the simulation ``diverged``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .compartments import Chain, solve_chain
from .reference_channels import KINETICS, ReleaseState, advance_gates, channel_current, init_gates, mg_block_ref

__all__ = ["Group", "RefCircuit", "RefResult", "cue_release", "run_reference", "simulate_cell"]

_DIFF = 1e-3
_RECEPTOR_E = {"AMPA": 0.0, "GABA_A": -80.0, "NMDA": 0.0, "READOUT": 10.0}


@dataclass(frozen=True)
class Group:
    """One synapse group: ``w[target, source]`` peak conductances (uS) per parameter set.

    Parameters
    ----------
    post : {'E_soma', 'E_tip', 'S'}
        Postsynaptic site: compartment 0 or the last compartment of E cells, or
        compartment 0 of small cells.
    post_cells : (P,) int array
        Postsynaptic cell indices within the site's population.
    pre : {'E', 'I', 'noise', 'cue'}
    receptor : {'AMPA', 'GABA_A', 'NMDA', 'READOUT'}
        ``READOUT`` is AMPA kinetics reversing at +10 mV (the reference's readout synapse).
    weight : (K, P, Q) tensor
        Peak conductance, uS.
    """

    post: str
    post_cells: Any
    pre: str
    receptor: str
    weight: torch.Tensor


@dataclass
class RefCircuit:
    """Everything the integrator needs (see :func:`~.reference_network.build_reference_circuit`).

    Densities are S/cm2, tensors ``(K, 1, 1, n)`` broadcastable to the state.
    """

    e_chain: Chain
    s_chain: Chain
    n_e: int
    n_i: int
    n_readout: int
    readout_pre: Any
    e_dens: dict[str, torch.Tensor]
    s_dens: dict[str, torch.Tensor]
    s_eleak: torch.Tensor
    groups: list[Group] = field(default_factory=list)

    @property
    def n_noise(self) -> int:
        return self.n_e + self.n_i

    @property
    def n_small(self) -> int:
        return self.n_i + self.n_noise + self.n_readout


@dataclass
class RefResult:
    """Output of :func:`run_reference`.

    Attributes
    ----------
    readout : (K, B, T_rec, n_readout) ndarray
        Readout-cell voltage (compartment 0), mV, at the recorded steps.
    record_steps : (T_rec,) ndarray
        Step index of every recorded sample (sample ``n`` is the state after ``n`` steps).
    e_spikes : (K, B, n_bins, n_e) ndarray
        E spikes per bin of ``bin_ms``.
    i_spikes, noise_spikes : (K, B, n_i) / (K, B, n_noise) ndarray
        Spike counts over the whole run.
    v_trace : dict of ndarray, optional
        Recorded voltages ``(K, B, n_steps + 1, ...)`` when asked for.
    diverged : (K, B) bool ndarray
    """

    readout: np.ndarray
    record_steps: np.ndarray
    e_spikes: np.ndarray
    i_spikes: np.ndarray
    noise_spikes: np.ndarray
    bin_ms: float
    v_trace: dict[str, np.ndarray]
    diverged: np.ndarray


def _small_hh(n: int) -> dict[str, float]:
    return {"na": 0.05, "k": 0.005, "leak": 1e-4}


def cue_release(amplitudes_na: np.ndarray, on_steps: tuple[int, int], n_steps: int, dt: float, chain: Chain,
                *, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """Simulate the deterministic cue cells and return their release states.

    Parameters
    ----------
    amplitudes_na : (C, n_cue) ndarray
        Step-current amplitude of every cue cell for each of ``C`` cue conditions, nA,
        injected into compartment 0 during steps ``on_steps[0] <= k < on_steps[1]``.
    on_steps : (int, int)
    n_steps : int
    dt : float
    chain : Chain
        The cue cells' geometry (Na, K, leak as the reference's cue cells).

    Returns
    -------
    dict
        ``'AMPA'`` and ``'NMDA'``: ``(n_steps, C, n_cue)`` tensors, ``R`` during each step
        (after the release update of that step), and ``'spikes'``: ``(C, n_cue)`` counts.
    """
    amp = torch.as_tensor(np.asarray(amplitudes_na, dtype=float), dtype=dtype)
    c, n = amp.shape
    m = chain.n_comp
    v = torch.full((c, n, m), -70.0, dtype=dtype)
    gates = init_gates((c, n, m), "hh", dtype=dtype)
    dens = {k: torch.tensor(val, dtype=dtype) for k, val in _small_hh(n).items()}
    g_prev, g_next = (torch.as_tensor(g, dtype=dtype) for g in chain.coupling())
    area0 = float(chain.areas_um2[0])
    rel = {r: ReleaseState.zeros((c, n), dtype=dtype) for r in ("AMPA", "NMDA")}
    out = {r: torch.empty((n_steps, c, n), dtype=dtype) for r in rel}
    spikes = torch.zeros((c, n), dtype=dtype)
    for k in range(n_steps):
        gates = advance_gates(gates, v, dt)
        lin, const = channel_current(gates, v, dens)
        for r in rel:
            alpha, beta, _ = KINETICS[r]
            rel[r] = rel[r].step(v[..., 0], dt, alpha, beta)
            out[r][k] = rel[r].R
        if on_steps[0] <= k < on_steps[1]:
            const = const.clone()
            const[..., 0] += amp / area0 * 1e5
        v_new = solve_chain(v, lin, const, g_prev, g_next, dt, chain.cm_uf_cm2)
        spikes += ((v[..., 0] <= 0.0) & (v_new[..., 0] > 0.0)).to(dtype)
        v = v_new
    out["spikes"] = spikes
    return out


def _site_terms(g: dict[str, torch.Tensor], v: torch.Tensor, area: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Linearised synaptic current density (uA/cm2) at one site from per-receptor conductances (uS)."""
    lin = torch.zeros_like(v)
    const = torch.zeros_like(v)
    for rec, gr in g.items():
        e = _RECEPTOR_E[rec]
        if rec == "NMDA":
            i0 = gr * mg_block_ref(v) * (v - e)
            slope = (gr * mg_block_ref(v + _DIFF) * (v + _DIFF - e) - i0) / _DIFF
            lin = lin + slope
            const = const + slope * v - i0
        else:
            lin = lin + gr
            const = const + gr * e
    scale = 1e5 / area
    return lin * scale, const * scale


def run_reference(circuit: RefCircuit, *, cue_r: dict[str, torch.Tensor], cue_index: Any, n_steps: int,
                  dt: float, v0_e: torch.Tensor, v0_i: torch.Tensor, noise: Any, record_from: int,
                  record_every: int, bin_ms: float = 10.0, record_v: bool = False,
                  compile: bool = False) -> RefResult:
    """Integrate the reference network (see the module docstring).

    Parameters
    ----------
    circuit : RefCircuit
    cue_r : dict
        Output of :func:`cue_release` (``'AMPA'``, ``'NMDA'``: ``(n_steps, C, n_cue)``).
    cue_index : (B,) int array
        Cue condition of every trial (an index into ``C``).
    n_steps : int
    dt : float
    v0_e : (B, n_e, n_comp_e) tensor
        Initial E voltages (shared by the K parameter sets).
    v0_i : (B, n_i, n_comp_s) tensor
        Initial I voltages.
    noise : callable
        ``noise(k) -> (B, n_noise)`` tensor: the noise cells' input current at step ``k``, nA.
    record_from, record_every : int
        The readout is sampled at steps ``record_from, record_from + record_every, ...``.
    bin_ms : float
        Bin width of the E spike counts.
    compile : bool
        Compile the step with ``torch.compile`` (needs a C compiler; pays off for runs of
        many steps).
    record_v : bool
        Keep E compartment-0 and last-compartment voltages and I compartment-0 voltages
        at every step (memory ``~ K B n_steps (2 n_e + n_i)`` floats).
    """
    c = circuit
    k_sets = c.e_dens["leak"].shape[0]
    b = v0_e.shape[0]
    dtype = v0_e.dtype
    ne, ni, nn = c.n_e, c.n_i, c.n_noise
    me, ms = c.e_chain.n_comp, c.s_chain.n_comp
    v_e = v0_e.unsqueeze(0).expand(k_sets, -1, -1, -1).clone()
    v_s = torch.zeros((k_sets, b, c.n_small, ms), dtype=dtype)
    v_s[:, :, :ni] = v0_i
    v_s[:, :, ni:ni + nn] = -70.0
    g_e = init_gates(tuple(v_e.shape), "full", dtype=dtype)
    g_s = init_gates(tuple(v_s.shape), "full", dtype=dtype)
    ge_prev, ge_next = (torch.as_tensor(g, dtype=dtype) for g in c.e_chain.coupling())
    gs_prev, gs_next = (torch.as_tensor(g, dtype=dtype) for g in c.s_chain.coupling())
    area_e0, area_et = float(c.e_chain.areas_um2[0]), float(c.e_chain.areas_um2[-1])
    area_s0 = float(c.s_chain.areas_um2[0])
    cue_index = torch.as_tensor(np.asarray(cue_index), dtype=torch.long)
    needs = {(g.pre, "NMDA" if g.receptor == "NMDA" else ("GABA_A" if g.receptor == "GABA_A" else "AMPA"))
             for g in c.groups}
    pre_sizes = {"E": ne, "I": ni, "noise": nn}
    rel = {key: ReleaseState.zeros((k_sets, b, pre_sizes[key[0]]), dtype=dtype) for key in needs if key[0] != "cue"}
    readout_pre = torch.as_tensor(np.asarray(c.readout_pre), dtype=torch.long)
    rec_steps = np.arange(record_from, n_steps + 1, record_every)
    readout = torch.empty((len(rec_steps), k_sets, b, c.n_readout), dtype=dtype)
    steps_per_bin = max(1, int(round(bin_ms / dt)))
    n_bins = int(np.ceil(n_steps / steps_per_bin))
    e_spk = torch.zeros((n_bins, k_sets, b, ne), dtype=dtype)
    s_spk = torch.zeros((k_sets, b, ni + nn), dtype=dtype)
    traces = {"E_soma": [], "E_tip": [], "I": []} if record_v else {}
    diverged = torch.zeros((k_sets, b), dtype=torch.bool)
    rec_i = 0
    readout_slice = slice(ni + nn, c.n_small)

    def record(vs: torch.Tensor, ve: torch.Tensor) -> None:
        if record_v:
            traces["E_soma"].append(ve[..., 0].clone())
            traces["E_tip"].append(ve[..., -1].clone())
            traces["I"].append(vs[:, :, :ni, 0].clone())

    if rec_steps.size and rec_steps[0] == 0:
        readout[0] = v_s[:, :, readout_slice, 0]
        rec_i = 1
    record(v_s, v_e)
    group_kin = [("NMDA" if grp.receptor == "NMDA" else ("GABA_A" if grp.receptor == "GABA_A" else "AMPA"))
                 for grp in c.groups]
    rel_keys = sorted(rel)
    post_idx = {i: torch.as_tensor(np.asarray(grp.post_cells), dtype=torch.long)
                for i, grp in enumerate(c.groups) if grp.post == "S"}

    def step(v_e, v_s, g_e, g_s, rel_t, cue_a, cue_n, noise_k):
        g_e = advance_gates(g_e, v_e, dt)
        g_s = advance_gates(g_s, v_s, dt)
        lin_e, const_e = channel_current(g_e, v_e, c.e_dens)
        lin_s, const_s = channel_current(g_s, v_s, c.s_dens, e_leak=c.s_eleak)
        pre_v = {"E": v_e[..., 0], "I": v_s[:, :, :ni, 0], "noise": v_s[:, :, ni:ni + nn, 0]}
        new_rel = []
        r_now = {}
        for key, st in zip(rel_keys, rel_t):
            alpha, beta, _ = KINETICS[key[1]]
            st = ReleaseState(*st).step(pre_v[key[0]], dt, alpha, beta)
            new_rel.append((st.R, st.C, st.last, st.timecount, st.R0, st.R1))
            r_now[key] = st.R
        cue_now = {"AMPA": cue_a.unsqueeze(0).expand(k_sets, -1, -1), "NMDA": cue_n.unsqueeze(0).expand(k_sets, -1, -1)}
        site_g: dict[str, dict[str, torch.Tensor]] = {"E_soma": {}, "E_tip": {}, "S": {}}
        for i, (grp, kin) in enumerate(zip(c.groups, group_kin)):
            r_pre = cue_now[kin] if grp.pre == "cue" else r_now[(grp.pre, kin)]
            g = torch.einsum("kpq,kbq->kbp", grp.weight, r_pre)
            if grp.post == "S":
                g = torch.zeros((k_sets, b, c.n_small), dtype=dtype).index_copy(2, post_idx[i], g)
            acc = site_g[grp.post]
            acc[grp.receptor] = acc[grp.receptor] + g if grp.receptor in acc else g
        for site, col, area in (("E_soma", 0, area_e0), ("E_tip", me - 1, area_et)):
            if site_g[site]:
                dl, dc = _site_terms(site_g[site], v_e[..., col], area)
                onehot = torch.zeros(me, dtype=dtype)
                onehot[col] = 1.0
                lin_e = lin_e + dl.unsqueeze(-1) * onehot
                const_e = const_e + dc.unsqueeze(-1) * onehot
        s_onehot = torch.zeros(ms, dtype=dtype)
        s_onehot[0] = 1.0
        if site_g["S"]:
            dl, dc = _site_terms(site_g["S"], v_s[..., 0], area_s0)
            lin_s = lin_s + dl.unsqueeze(-1) * s_onehot
            const_s = const_s + dc.unsqueeze(-1) * s_onehot
        ext = torch.zeros((b, c.n_small), dtype=dtype)
        ext[:, ni:ni + nn] = noise_k * (1e5 / area_s0)
        const_s = const_s + ext.unsqueeze(-1) * s_onehot
        v_e_new = solve_chain(v_e, lin_e, const_e, ge_prev, ge_next, dt, c.e_chain.cm_uf_cm2)
        v_s_new = solve_chain(v_s, lin_s, const_s, gs_prev, gs_next, dt, c.s_chain.cm_uf_cm2)
        return v_e_new, v_s_new, g_e, g_s, tuple(new_rel)

    step_fn = torch.compile(step, dynamic=False) if compile else step
    rel_t = tuple((rel[key].R, rel[key].C, rel[key].last, rel[key].timecount, rel[key].R0, rel[key].R1)
                  for key in rel_keys)
    for k in range(n_steps):
        v_e_new, v_s_new, g_e, g_s, rel_t = step_fn(v_e, v_s, g_e, g_s, rel_t, cue_r["AMPA"][k][cue_index],
                                                    cue_r["NMDA"][k][cue_index], noise(k))
        e_spk[k // steps_per_bin] += ((v_e[..., 0] <= 0.0) & (v_e_new[..., 0] > 0.0)).to(dtype)
        s_spk += ((v_s[:, :, :ni + nn, 0] <= 0.0) & (v_s_new[:, :, :ni + nn, 0] > 0.0)).to(dtype)
        v_e, v_s = v_e_new, v_s_new
        if (k + 1) % 400 == 0:
            bad = ~(torch.isfinite(v_e).flatten(2).all(-1) & torch.isfinite(v_s).flatten(2).all(-1))
            if bad.any():
                diverged |= bad
                v_e = torch.where(bad[..., None, None], torch.full_like(v_e, -70.0), v_e)
                v_s = torch.where(bad[..., None, None], torch.full_like(v_s, -70.0), v_s)
        if rec_i < len(rec_steps) and rec_steps[rec_i] == k + 1:
            readout[rec_i] = v_s[:, :, readout_slice, 0]
            rec_i += 1
        record(v_s, v_e)
    v_trace = {key: torch.stack(val, dim=2).numpy() for key, val in traces.items()}
    return RefResult(readout=readout.permute(1, 2, 0, 3).numpy(), record_steps=rec_steps,
                     e_spikes=e_spk.permute(1, 2, 0, 3).numpy(), i_spikes=s_spk[..., :ni].numpy(),
                     noise_spikes=s_spk[..., ni:].numpy(), bin_ms=steps_per_bin * dt, v_trace=v_trace,
                     diverged=diverged.numpy())


def simulate_cell(chain: Chain, dens: dict[str, Any], current_na: Any, *, inject: int = 0, dt: float = 0.025,
                  v0: Any = -70.0, e_leak: float = -70.0, dtype: torch.dtype = torch.float64) -> np.ndarray:
    """One multi-compartment cell with the full channel set under injected currents.

    Parameters
    ----------
    chain : Chain
    dens : dict
        Densities in S/cm2 (``na``, ``k``, ``leak``, ``km``, ``cal``, ``cat``): floats,
        ``(n_comp,)`` arrays or ``(B, n_comp)`` arrays (one cell per column of ``current_na``).
    current_na : (n_steps, B) array_like
        Current into compartment ``inject`` during every step, nA (``B`` cells at once).
    inject : int
    dt : float
    v0 : float or (n_comp,) array_like
        Initial voltage; gates start at 0.2 as in the reference.

    Returns
    -------
    (B, n_steps + 1, n_comp) ndarray
        Voltages, the initial state first.
    """
    cur = torch.as_tensor(np.asarray(current_na, dtype=float), dtype=dtype)
    if cur.ndim != 2:
        raise ValueError(f"current_na must be (n_steps, B); got shape {tuple(cur.shape)}")
    n_steps, b = cur.shape
    m = chain.n_comp
    d = {key: torch.as_tensor(np.broadcast_to(np.asarray(val, dtype=float), (b, m)).copy(), dtype=dtype)
         for key, val in dens.items()}
    v = torch.as_tensor(np.broadcast_to(np.asarray(v0, dtype=float), (b, m)).copy(), dtype=dtype)
    gates = init_gates((b, m), "full", dtype=dtype)
    g_prev, g_next = (torch.as_tensor(g, dtype=dtype) for g in chain.coupling())
    scale = 1e5 / float(chain.areas_um2[inject])
    onehot = torch.zeros(m, dtype=dtype)
    onehot[inject] = 1.0
    out = [v]
    for k in range(n_steps):
        gates = advance_gates(gates, v, dt)
        lin, const = channel_current(gates, v, d, e_leak=e_leak)
        const = const + (cur[k] * scale)[:, None] * onehot
        v = solve_chain(v, lin, const, g_prev, g_next, dt, chain.cm_uf_cm2)
        out.append(v)
    return torch.stack(out, dim=1).numpy()
