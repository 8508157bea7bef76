"""The batched integrator: K parameter sets x B trials of one network layout, in torch.

Compartments are laid out ``[E somata (n_e), E dendrites (n_e), I somata (n_i)]``
(``M = 2 n_e + n_i``); cells are ``[E (n_e), I (n_i)]``. State tensors are
``(K, B, M)``. One step of ``dt`` ms:

1. gates advance by exponential Euler at the current voltage;
2. transmitter: ``C`` = 1 mM for 1 ms after each presynaptic spike (recurrent cells
   and external Poisson sources), receptor states advance exactly for that ``C``;
3. voltage: linearly implicit (backward) Euler with every conductance frozen at
   its new value, the soma-dendrite coupling included, solved in closed form per
   cell (a 2 x 2 system for E cells). The linear part is unconditionally stable;
   :data:`MAX_DT_MS` bounds ``dt`` because the explicit gate/voltage splitting and
   the 1 ms transmitter pulse are not resolved beyond it;
4. a spike is an upward crossing of 0 mV by a soma.

Non-finite voltages mark that simulation ``diverged`` (its voltages are reset to
rest so the others are unaffected); callers must not average diverged runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .channels import (
    CHANNELS,
    E_L,
    PULSE_MM,
    PULSE_MS,
    VT,
    Receptor,
    advance_gates,
    channel_conductances,
    gate_steady_state,
    mg_block,
)

__all__ = ["MAX_DT_MS", "Circuit", "SimResult", "SpikeSource", "check_dt", "run"]

MAX_DT_MS = 0.1
C_M = 1.0  # uF/cm2
_CHECK_EVERY = 200


def check_dt(dt: Any) -> float:
    """Validate an integration step in ms (``0 < dt <= MAX_DT_MS``)."""
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)) or not np.isfinite(dt):
        raise TypeError(f"dt must be a number of ms; got {dt!r}")
    if not 0 < dt <= MAX_DT_MS:
        raise ValueError(f"dt must lie in (0, {MAX_DT_MS}] ms; got {dt} ms. Larger steps do not resolve "
                         "the sodium activation (tau ~ 0.1 ms) and the 1 ms transmitter pulse, and the "
                         "split gate/voltage update loses stability; use dt <= 0.1 (0.025 is the default)")
    return float(dt)


@dataclass(frozen=True)
class SpikeSource:
    """External presynaptic spike sources driving one receptor type.

    Parameters
    ----------
    receptor : Receptor
    weight : (K, M, S) or (K, M) tensor
        Peak conductance density (mS/cm2) of each source onto each compartment;
        ``(K, M)`` means one private source per compartment (``S = M``).
    rate_hz : (T_bins, B, S) tensor or float, optional
        Poisson rate of every source in each recording bin (a float: constant).
    spike_times_ms : tuple of float
        Deterministic spikes of every source (in addition to the Poisson ones).
    """

    receptor: Receptor
    weight: torch.Tensor
    rate_hz: Any = 0.0
    spike_times_ms: tuple[float, ...] = ()


@dataclass(frozen=True)
class Circuit:
    """K parameter sets of one network, as engine arrays (see the module docstring).

    Attributes
    ----------
    n_e, n_i : int
    area_cm2 : (M,) tensor
        Membrane area of each compartment.
    g_couple : (K, n_e) tensor
        Soma-dendrite coupling conductance, nS (absolute).
    dens : dict of str to (K, M) tensor
        Channel densities (mS/cm2), keys :data:`~conn2rnn.biophys.channels.CHANNELS`.
    synapses : tuple of (Receptor, str, (K, M, n_pre) tensor)
        Recurrent synapse groups: receptor, presynaptic population ('E' or 'I'), peak
        conductance densities ``w[k, target compartment, source cell]``.
    """

    n_e: int
    n_i: int
    area_cm2: torch.Tensor
    g_couple: torch.Tensor
    dens: dict[str, torch.Tensor]
    synapses: tuple[tuple[Receptor, str, torch.Tensor], ...] = field(default=())

    @property
    def n_comp(self) -> int:
        return 2 * self.n_e + self.n_i

    @property
    def n_sets(self) -> int:
        return int(self.g_couple.shape[0]) if self.n_e else int(next(iter(self.dens.values())).shape[0])


@dataclass(frozen=True)
class SimResult:
    """Output of :func:`run`.

    Attributes
    ----------
    spikes : (T_bins, K, B, n_cells) uint8 ndarray
        Somatic spike counts per recording bin (cells ``[E, I]``).
    v : (T_bins, K, B, M) ndarray or None
        Voltages at the end of each bin (when recorded).
    diverged : (K, B) bool ndarray
        Simulations whose voltage became non-finite.
    record_dt : float
        Bin width, ms.
    """

    spikes: np.ndarray
    v: np.ndarray | None
    diverged: np.ndarray
    record_dt: float


def _source_state(src: SpikeSource, k: int, b: int, m: int, dtype, device) -> dict[str, Any]:
    w = src.weight.to(dtype=dtype, device=device)
    n_src = m if w.ndim == 2 else int(w.shape[2])
    rate = src.rate_hz
    if torch.is_tensor(rate):
        rate = rate.to(dtype=dtype, device=device)
        active = (rate > 0).reshape(rate.shape[0], -1).any(dim=1).cpu().numpy()
    else:
        rate = float(rate)
        active = None
    return {"src": src, "wT": w if w.ndim == 2 else w.transpose(1, 2).contiguous(), "rate": rate,
            "active": active, "last": torch.full((k, b, n_src), -1e9, dtype=dtype, device=device),
            "r": torch.zeros((k, b, n_src), dtype=dtype, device=device), "times": sorted(src.spike_times_ms)}


def _advance_receptor(r: torch.Tensor, c: torch.Tensor, rec: Receptor, dt: float) -> torch.Tensor:
    """Exact step of ``dR/dt = alpha C (1 - R) - beta R`` for ``C`` constant over ``dt``."""
    rate = rec.alpha * c + rec.beta
    r_inf = rec.alpha * c / rate
    return r_inf + (r - r_inf) * torch.exp(-dt * rate)


def run(circuit: Circuit, *, n_trials: int, duration_ms: float, dt: float = 0.025,
        sources: tuple[SpikeSource, ...] = (), i_inj_na: Any = None, record_dt: float = 1.0,
        record_v: bool = False, seed: int = 0, v0: float = E_L) -> SimResult:
    """Simulate ``K`` parameter sets x ``n_trials`` trials for ``duration_ms``.

    Parameters
    ----------
    circuit : Circuit
    n_trials : int
        B, trials per parameter set (their noise differs).
    duration_ms : float
    dt : float
        Integration step, ms (at most :data:`MAX_DT_MS`).
    sources : tuple of SpikeSource
        External drive (background, cue, test inputs).
    i_inj_na : (M,), (K, B, M) or (T_bins, K, B, M) array_like, optional
        Injected current in nA per compartment (constant, or per recording bin).
    record_dt : float
        Recording bin, ms (a multiple of ``dt``).
    record_v : bool
        Also return the voltage of every compartment at the end of each bin.
    seed : int
        Seed of the Poisson sources (``torch.Generator`` on the circuit's device).
    v0 : float
        Initial voltage, mV; gates start at their steady state there.

    Returns
    -------
    SimResult
    """
    dt = check_dt(dt)
    per_bin = int(round(record_dt / dt))
    if per_bin < 1 or abs(per_bin * dt - record_dt) > 1e-9 * record_dt:
        raise ValueError(f"record_dt must be a multiple of dt = {dt} ms; got {record_dt}")
    n_bins = int(round(duration_ms / record_dt))
    if n_bins < 1:
        raise ValueError(f"duration_ms must be at least record_dt = {record_dt} ms; got {duration_ms}")
    ref = circuit.area_cm2
    dtype, device = ref.dtype, ref.device
    k, b, m, n_e, n_i = circuit.n_sets, int(n_trials), circuit.n_comp, circuit.n_e, circuit.n_i
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    area = circuit.area_cm2
    gcs = circuit.g_couple / area[:n_e] * 1e-6 if n_e else None  # nS -> mS/cm2
    gcd = circuit.g_couple / area[n_e:2 * n_e] * 1e-6 if n_e else None
    dens = {c: circuit.dens[c][:, None, :] for c in CHANNELS}
    inj = None
    if i_inj_na is not None:
        inj = torch.as_tensor(np.asarray(i_inj_na, dtype=np.float64), dtype=dtype, device=device) * 1e-3 / area
    syn = [(rec, pre, w.transpose(1, 2).contiguous(), torch.zeros((k, b, n_e if pre == "E" else n_i),
                                                                   dtype=dtype, device=device))
           for rec, pre, w in circuit.synapses]
    srcs = [_source_state(s, k, b, m, dtype, device) for s in sources]

    v = torch.full((k, b, m), float(v0), dtype=dtype, device=device)
    gates = {g: x.clone() for g, x in gate_steady_state(v, VT).items()}
    last_spike = torch.full((k, b, n_e + n_i), -1e9, dtype=dtype, device=device)
    soma = torch.cat([torch.arange(n_e), torch.arange(2 * n_e, m)]).to(device)
    diverged = torch.zeros((k, b), dtype=torch.bool, device=device)
    spikes = torch.zeros((n_bins, k, b, n_e + n_i), dtype=torch.uint8, device=device)
    v_rec = torch.zeros((n_bins, k, b, m), dtype=dtype, device=device) if record_v else None
    a_cap = C_M / dt

    with torch.inference_mode():
        for step in range(n_bins * per_bin):
            t = step * dt
            bin_ = step // per_bin
            advance_gates(gates, v, dt, VT)
            g_tot, ge_tot = channel_conductances(gates, v, dens)
            c_cells = ((t - last_spike) < PULSE_MS).to(dtype) * PULSE_MM
            c_e, c_i = c_cells[..., :n_e], c_cells[..., n_e:]
            for idx, (rec, pre, w_t, r) in enumerate(syn):
                r = _advance_receptor(r, c_e if pre == "E" else c_i, rec, dt)
                syn[idx] = (rec, pre, w_t, r)
                g = torch.matmul(r, w_t)
                if rec.mg_block:
                    g = g * mg_block(v)
                g_tot = g_tot + g
                ge_tot = ge_tot + g * rec.e_rev
            for s in srcs:
                rate = s["rate"]
                if torch.is_tensor(rate):
                    if s["active"][bin_]:
                        fire = torch.rand(s["last"].shape, generator=gen, dtype=dtype, device=device) \
                            < rate[bin_] * (dt * 1e-3)
                        s["last"] = torch.where(fire, t, s["last"])
                elif rate > 0:
                    fire = torch.rand(s["last"].shape, generator=gen, dtype=dtype, device=device) \
                        < rate * (dt * 1e-3)
                    s["last"] = torch.where(fire, t, s["last"])
                while s["times"] and s["times"][0] <= t:
                    s["last"].fill_(s["times"].pop(0))
                c = ((t - s["last"]) < PULSE_MS).to(dtype) * PULSE_MM
                s["r"] = _advance_receptor(s["r"], c, s["src"].receptor, dt)
                g = s["r"] * s["wT"][:, None, :] if s["wT"].ndim == 2 else torch.matmul(s["r"], s["wT"])
                if s["src"].receptor.mg_block:
                    g = g * mg_block(v)
                g_tot = g_tot + g
                ge_tot = ge_tot + g * s["src"].receptor.e_rev
            rhs = a_cap * v + ge_tot
            if inj is not None:
                rhs = rhs + (inj[bin_] if inj.ndim == 4 else inj)
            v_prev = v
            v = _solve(rhs, a_cap + g_tot, gcs, gcd, n_e)
            if (step + 1) % _CHECK_EVERY == 0 or step == n_bins * per_bin - 1:
                bad = ~torch.isfinite(v)
                if bad.any():
                    diverged |= bad.any(dim=-1)
                    v = torch.where(bad, torch.as_tensor(E_L, dtype=dtype, device=device), v)
                    for g_name in gates:
                        gates[g_name] = torch.where(bad, torch.nan_to_num(gates[g_name], nan=0.0), gates[g_name])
            crossed = (v_prev[..., soma] < 0.0) & (v[..., soma] >= 0.0)
            last_spike = torch.where(crossed, t + dt, last_spike)
            spikes[bin_] += crossed.to(torch.uint8)
            if v_rec is not None and (step + 1) % per_bin == 0:
                v_rec[bin_] = v
    return SimResult(spikes.cpu().numpy(), None if v_rec is None else v_rec.cpu().numpy(),
                     diverged.cpu().numpy(), float(record_dt))


def _solve(rhs: torch.Tensor, diag: torch.Tensor, gcs: torch.Tensor | None, gcd: torch.Tensor | None,
           n_e: int) -> torch.Tensor:
    """Backward-Euler voltages: ``diag V - coupling = rhs`` per compartment, 2 x 2 per E cell."""
    if n_e == 0:
        return rhs / diag
    gs, gd = gcs[:, None, :], gcd[:, None, :]
    a_s, a_d = diag[..., :n_e] + gs, diag[..., n_e:2 * n_e] + gd
    b_s, b_d = rhs[..., :n_e], rhs[..., n_e:2 * n_e]
    det = a_s * a_d - gs * gd
    v_s = (b_s * a_d + gs * b_d) / det
    v_d = (a_s * b_d + gd * b_s) / det
    return torch.cat([v_s, v_d, rhs[..., 2 * n_e:] / diag[..., 2 * n_e:]], dim=-1)
