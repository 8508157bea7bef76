"""Cell geometry, its two-compartment reduction, and single-cell experiments.

Reference geometry (the dendractor model): soma a 25 um x 25 um cylinder; one
300 um dendrite of three 100 um sections of diameter 2.5, 1.0 and 0.5 um; axial
resistivity ``Ra`` = 300 Ohm cm; ``Cm`` = 1 uF/cm2. The I cell is a 5 x 5 um soma.

Reduction to two compartments (what :func:`e_cell_geometry` computes):

- the **dendrite compartment** is the distal section (0.5 um x 100 um, 157 um2),
  where the distal synapses land; its small area gives it the high input
  impedance of a thin distal branch;
- the **soma compartment** is the soma plus the membrane of the two proximal
  sections (1963 + 785 + 314 um2), which mostly load the soma;
- the **coupling conductance** is the inverse axial resistance from the soma to
  the midpoint of the distal section, ``R = sum_i 4 Ra L_i / (pi d_i^2)`` over the
  2.5 and 1.0 um sections plus half the 0.5 um one (61 + 382 + 764 MOhm =
  1.21 GOhm at Ra = 300 Ohm cm, i.e. ``g_c`` = 0.83 nS; 24.9 nS at 10 Ohm cm).

With the default leak (0.1 mS/cm2) a steady current into the dendrite reaches the
soma attenuated to ``g_c / (g_c + g_L,soma)`` ~ 0.21 of the dendritic deflection,
while somatic deflections reach the dendrite at ``g_c / (g_c + g_L,dend)`` ~ 0.84.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .channels import CHANNELS, RECEPTORS, receptor
from .engine import Circuit, SimResult, SpikeSource, run

__all__ = ["DEFAULT_DENSITIES", "CellGeometry", "e_cell_geometry", "i_cell_area_cm2", "simulate_cell"]

UM2_TO_CM2 = 1e-8
SOMA_UM = (25.0, 25.0)
DEND_SECTIONS_UM = ((100.0, 2.5), (100.0, 1.0), (100.0, 0.5))
I_SOMA_UM = (5.0, 5.0)
COMPARTMENTS = ("soma", "dend")

#: Default channel densities, mS/cm2 (Pospischil 2008 Na/K, Jaxley-style defaults for the rest).
DEFAULT_DENSITIES = {"na": 50.0, "k": 5.0, "km": 0.1, "cal": 0.05, "cat": 0.05, "leak": 0.1}


@dataclass(frozen=True)
class CellGeometry:
    """The two-compartment E cell.

    Attributes
    ----------
    soma_area_cm2, dend_area_cm2 : float
    g_couple_ns : float
        Soma-dendrite coupling conductance, nS.
    ra_ohm_cm : float
    """

    soma_area_cm2: float
    dend_area_cm2: float
    g_couple_ns: float
    ra_ohm_cm: float


def _cyl_area_um2(length: float, diam: float) -> float:
    return float(np.pi * diam * length)


def _axial_mohm(length_um: float, diam_um: float, ra_ohm_cm: float) -> float:
    length, diam = length_um * 1e-4, diam_um * 1e-4  # cm
    return 4.0 * ra_ohm_cm * length / (np.pi * diam ** 2) * 1e-6


def e_cell_geometry(ra_ohm_cm: float = 300.0) -> CellGeometry:
    """The reduced E cell of the reference geometry (see the module docstring).

    Parameters
    ----------
    ra_ohm_cm : float > 0
        Axial resistivity, Ohm cm.
    """
    if isinstance(ra_ohm_cm, bool) or not isinstance(ra_ohm_cm, (int, float)) or not ra_ohm_cm > 0:
        raise ValueError(f"ra_ohm_cm must be a positive number (Ohm cm); got {ra_ohm_cm!r}")
    soma = _cyl_area_um2(*SOMA_UM) + sum(_cyl_area_um2(l, d) for l, d in DEND_SECTIONS_UM[:2])
    dend = _cyl_area_um2(*DEND_SECTIONS_UM[2])
    r_mohm = sum(_axial_mohm(l, d, ra_ohm_cm) for l, d in DEND_SECTIONS_UM[:2]) \
        + 0.5 * _axial_mohm(*DEND_SECTIONS_UM[2], ra_ohm_cm)
    return CellGeometry(soma * UM2_TO_CM2, dend * UM2_TO_CM2, 1e3 / r_mohm, float(ra_ohm_cm))


def i_cell_area_cm2() -> float:
    """Membrane area of the 5 x 5 um I cell, cm2."""
    return _cyl_area_um2(*I_SOMA_UM) * UM2_TO_CM2


def _densities(densities: Any, name: str) -> dict[str, float]:
    out = dict(DEFAULT_DENSITIES)
    for key, value in (densities or {}).items():
        if key not in CHANNELS:
            raise ValueError(f"unknown channel {key!r} in {name}; choose from {list(CHANNELS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name}[{key!r}] must be a density >= 0 in mS/cm2; got {value!r}")
        out[key] = float(value)
    return out


def simulate_cell(*, duration_ms: float = 200.0, dt: float = 0.025, cell: str = "E",
                  soma_densities: dict | None = None, dend_densities: dict | None = None,
                  ra_ohm_cm: float = 300.0, i_inj_na: Any = None, synapse: str | None = None,
                  compartment: str = "soma", g_ns: float = 1.0, spike_times_ms: tuple = (),
                  kinetics: str | None = None, record_dt: float | None = None,
                  dtype: torch.dtype = torch.float64) -> SimResult:
    """One cell (or a batch of injected currents) with optional synaptic input.

    Parameters
    ----------
    duration_ms, dt : float
        Duration and integration step, ms.
    cell : {'E', 'I'}
    soma_densities, dend_densities : dict, optional
        Channel densities (mS/cm2) overriding :data:`DEFAULT_DENSITIES`; ``{"na": 0,
        "k": 0, "km": 0, "cal": 0, "cat": 0}`` gives a passive cell.
    ra_ohm_cm : float
        Axial resistivity of the E cell, Ohm cm.
    i_inj_na : float, (B,) array_like or (B, M) array_like, optional
        Constant current (nA) into the soma, one value per trial, or per compartment.
    synapse : {'AMPA', 'NMDA', 'GABA_A'}, optional
        A synapse onto ``compartment`` activated at ``spike_times_ms``.
    compartment : {'soma', 'dend'}
    g_ns : float >= 0
        Its peak conductance, nS.
    kinetics : str, optional
        Another receptor's rates (see :func:`~conn2rnn.biophys.channels.receptor`).
    record_dt : float, optional
        Recording bin (default ``dt``).

    Returns
    -------
    SimResult
        ``v`` is ``(T, 1, B, M)`` with ``M`` = 2 (E: soma, dendrite) or 1 (I).
    """
    if cell not in ("E", "I"):
        raise ValueError(f"cell must be 'E' or 'I'; got {cell!r}")
    if compartment not in COMPARTMENTS:
        raise ValueError(f"compartment must be one of {COMPARTMENTS}; got {compartment!r}")
    if cell == "I" and compartment != "soma":
        raise ValueError("the I cell has only a soma; use compartment='soma'")
    if isinstance(g_ns, bool) or not isinstance(g_ns, (int, float)) or not g_ns >= 0:
        raise ValueError(f"g_ns must be a conductance >= 0 in nS; got {g_ns!r}")
    soma = _densities(soma_densities, "soma_densities")
    dend = _densities(dend_densities, "dend_densities")
    if cell == "E":
        geo = e_cell_geometry(ra_ohm_cm)
        area = np.array([geo.soma_area_cm2, geo.dend_area_cm2])
        dens = {c: torch.tensor([[soma[c], dend[c]]], dtype=dtype) for c in CHANNELS}
        circuit = Circuit(1, 0, torch.tensor(area, dtype=dtype), torch.tensor([[geo.g_couple_ns]], dtype=dtype),
                          dens)
    else:
        area = np.array([i_cell_area_cm2()])
        dens = {c: torch.tensor([[soma[c]]], dtype=dtype) for c in CHANNELS}
        circuit = Circuit(0, 1, torch.tensor(area, dtype=dtype), torch.zeros((1, 0), dtype=dtype), dens)
    m = area.size
    inj = np.zeros((1, 1, m)) if i_inj_na is None else np.asarray(i_inj_na, dtype=np.float64)
    if not np.all(np.isfinite(inj)):
        raise ValueError("i_inj_na contains NaN or infinite values")
    if inj.ndim <= 1:
        per = np.zeros((1, inj.size, m))
        per[0, :, 0] = inj.ravel()
        inj = per
    elif inj.ndim == 2:
        if inj.shape[1] != m:
            raise ValueError(f"i_inj_na as (B, M) needs M = {m} compartments; got {inj.shape}")
        inj = inj[None]
    n_trials = inj.shape[1]
    sources = ()
    if synapse is not None:
        if synapse not in RECEPTORS:
            raise ValueError(f"unknown synapse {synapse!r}; choose one of {sorted(RECEPTORS)}")
        w = torch.zeros((1, m), dtype=dtype)
        target = COMPARTMENTS.index(compartment)
        w[0, target] = g_ns * 1e-6 / area[target]
        sources = (SpikeSource(receptor(synapse, kinetics=kinetics), w,
                               spike_times_ms=tuple(float(t) for t in spike_times_ms)),)
    return run(circuit, n_trials=n_trials, duration_ms=duration_ms, dt=dt, sources=sources, i_inj_na=inj,
               record_dt=dt if record_dt is None else record_dt, record_v=True)
