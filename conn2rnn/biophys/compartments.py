"""Unbranched cable geometry and its implicit (backward-Euler) solver, batched in torch.

A cell is a chain of cylindrical compartments ``0 .. n-1`` (``0`` is the end that
takes somatic inputs; in the reference E cell, ``n - 1`` is the distal dendritic
tip). Compartment ``i`` has length ``l_i`` and radius ``r_i`` (um), membrane area
``A_i = 2 pi r_i l_i`` (um2, no end caps) and the half-cylinder axial resistance
``R_i = Ra (l_i / 2) / (pi r_i^2)``. Neighbours ``i`` and ``j`` are coupled through
``R_i + R_j``; in the voltage equation of compartment ``i`` this is the conductance
density (mS/cm2)

    g_ij = 1e7 / ((R_i + R_j) A_i)        (Ra in Ohm cm, lengths in um),

which is how Jaxley couples compartments, across branch points included (a branch
point between two compartments of an unbranched chain carries no capacitance, so
eliminating it leaves exactly the series resistance ``R_i + R_j``).

One backward-Euler step with every membrane current linearised at the start of the
step, ``I_i(V) ~ lin_i V - const_i`` (uA/cm2), solves the tridiagonal system

    (c_m / dt + lin_i + sum_j g_ij) V_i' - sum_j g_ij V_j' = c_m V_i / dt + const_i

exactly (Thomas algorithm over the compartment axis, batched over every other
axis). Units: mV, ms, uF/cm2, mS/cm2, uA/cm2, nA, um.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = [
    "Chain",
    "chain_dc_transfer",
    "e_cell_chain",
    "nA_to_density",
    "point_cell_chain",
    "solve_chain",
]

#: (nA / um2) -> (uA / cm2)
_NA_PER_UM2 = 1e5


@dataclass(frozen=True)
class Chain:
    """An unbranched chain of cylindrical compartments.

    Parameters
    ----------
    lengths_um : (n,) array_like
        Length of every compartment, um.
    radii_um : (n,) array_like
        Radius of every compartment, um.
    ra_ohm_cm : float
        Axial resistivity, Ohm cm.
    cm_uf_cm2 : float
        Specific membrane capacitance, uF/cm2.
    """

    lengths_um: Any
    radii_um: Any
    ra_ohm_cm: float
    cm_uf_cm2: float = 1.0

    def __post_init__(self) -> None:
        lengths = np.array(self.lengths_um, dtype=float).reshape(-1)
        radii = np.array(self.radii_um, dtype=float).reshape(-1)
        if lengths.shape != radii.shape or lengths.size == 0:
            raise ValueError(f"lengths_um and radii_um must be two (n,) arrays of one length n >= 1; "
                             f"got {lengths.shape} and {radii.shape}")
        for name, arr in (("lengths_um", lengths), ("radii_um", radii)):
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise ValueError(f"{name} must be finite and > 0 um; got {arr}")
        for name in ("ra_ohm_cm", "cm_uf_cm2"):
            value = getattr(self, name)
            if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
        lengths.setflags(write=False)
        radii.setflags(write=False)
        object.__setattr__(self, "lengths_um", lengths)
        object.__setattr__(self, "radii_um", radii)

    @property
    def n_comp(self) -> int:
        """Number of compartments ``n``."""
        return int(self.lengths_um.size)

    @property
    def areas_um2(self) -> np.ndarray:
        """(n,) membrane area of every compartment, um2."""
        return 2.0 * np.pi * self.radii_um * self.lengths_um

    @property
    def half_resistances(self) -> np.ndarray:
        """(n,) axial resistance of half a compartment, in Ohm cm / um (``Ra l / 2 / (pi r^2)``)."""
        return self.ra_ohm_cm * (self.lengths_um / 2.0) / (np.pi * self.radii_um ** 2)

    def coupling(self) -> tuple[np.ndarray, np.ndarray]:
        """Axial coupling of every compartment to its neighbours, mS/cm2 (already divided by ``c_m``).

        Returns
        -------
        g_prev, g_next : (n,) ndarray
            ``g_prev[i]`` couples ``i`` to ``i - 1`` (0 for ``i = 0``), ``g_next[i]`` to
            ``i + 1`` (0 for the last compartment).
        """
        half = self.half_resistances
        area = self.areas_um2
        g_prev = np.zeros(self.n_comp)
        g_next = np.zeros(self.n_comp)
        series = half[:-1] + half[1:]
        g_next[:-1] = 1e7 / series / area[:-1] / self.cm_uf_cm2
        g_prev[1:] = 1e7 / series / area[1:] / self.cm_uf_cm2
        return g_prev, g_next


def e_cell_chain(ra_ohm_cm: float = 300.0, n_per_section: int = 4) -> Chain:
    """The reference excitatory cell: a soma and three dendritic sections in a line.

    Soma: ``n_per_section`` compartments of 25 um, 25 um diameter; then three
    sections of ``n_per_section`` compartments of 100 um at 2.5, 1.0 and 0.5 um
    diameter (each compartment keeps the reference's length, so with the default 4
    the soma is 100 um and each dendritic section 400 um long). Compartment 0 is the
    soma's free end, the last compartment the distal tip.

    Returns
    -------
    Chain
        ``4 n_per_section`` compartments.
    """
    if isinstance(n_per_section, bool) or not isinstance(n_per_section, (int, np.integer)) or n_per_section < 1:
        raise ValueError(f"n_per_section must be an int >= 1; got {n_per_section!r}")
    k = int(n_per_section)
    lengths = [25.0] * k + [100.0] * (3 * k)
    radii = [12.5] * k + [1.25] * k + [0.5] * k + [0.25] * k
    return Chain(lengths, radii, ra_ohm_cm)


def point_cell_chain(n_comp: int = 4) -> Chain:
    """The reference's small cell (I, cue, noise and readout cells): ``n_comp`` x 5 um, 5 um diameter, Ra 5000."""
    return Chain([5.0] * n_comp, [2.5] * n_comp, 5000.0)


def nA_to_density(current_na: torch.Tensor, area_um2: Any) -> torch.Tensor:
    """A point current (nA) as a current density (uA/cm2) over ``area_um2``."""
    return current_na / torch.as_tensor(area_um2, dtype=current_na.dtype, device=current_na.device) * _NA_PER_UM2


def solve_chain(v: torch.Tensor, lin: torch.Tensor, const: torch.Tensor, g_prev: torch.Tensor,
                g_next: torch.Tensor, dt: float, cm: float = 1.0) -> torch.Tensor:
    """One backward-Euler step of a batch of chains (Thomas algorithm on the last axis).

    Parameters
    ----------
    v : (..., n) tensor
        Voltages at the start of the step, mV.
    lin, const : (..., n) tensor
        Linearised membrane current ``I = lin V - const`` (mS/cm2, uA/cm2), external
        and synaptic currents included.
    g_prev, g_next : (n,) tensor
        Axial coupling of :meth:`Chain.coupling` (mS/cm2, divided by ``cm``).
    dt : float
        Step, ms.
    cm : float
        Specific capacitance, uF/cm2.

    Returns
    -------
    (..., n) tensor
        Voltages at the end of the step.
    """
    n = v.shape[-1]
    # compartment axis first, so every step of the recursion reads contiguous memory
    diag = (1.0 + dt * (lin / cm + g_prev + g_next)).movedim(-1, 0).contiguous()
    rhs = (v + dt * const / cm).movedim(-1, 0).contiguous()
    if n == 1:
        return (rhs / diag).movedim(0, -1)
    lower = (-dt * g_prev).tolist()  # coefficient of V_{i-1} in row i
    upper = (-dt * g_next).tolist()  # coefficient of V_{i+1} in row i
    cp = [None] * n
    dp = [None] * n
    cp[0] = upper[0] / diag[0]
    dp[0] = rhs[0] / diag[0]
    for i in range(1, n):
        denom = diag[i] - lower[i] * cp[i - 1]
        cp[i] = upper[i] / denom
        dp[i] = (rhs[i] - lower[i] * dp[i - 1]) / denom
    out = [None] * n
    out[n - 1] = dp[n - 1]
    for i in range(n - 2, -1, -1):
        out[i] = dp[i] - cp[i] * out[i + 1]
    return torch.stack(out, dim=-1)


def chain_dc_transfer(chain: Chain, g_leak_s_cm2: Any, *, inject: int = -1, record: int = 0) -> float:
    """Steady-state voltage transfer ``dV_record / dV_inject`` of a passive chain.

    A DC current into compartment ``inject`` changes every voltage by the solution
    of ``(diag(g_leak A) + G_axial) dV = e_inject``; the transfer ratio is
    ``dV[record] / dV[inject]``.

    Parameters
    ----------
    chain : Chain
    g_leak_s_cm2 : float or (n,) array_like
        Leak conductance density of every compartment, S/cm2.
    inject, record : int
        Compartment indices (default: tip to compartment 0).

    Returns
    -------
    float
        The transfer ratio in [0, 1].
    """
    n = chain.n_comp
    g_leak = np.broadcast_to(np.asarray(g_leak_s_cm2, dtype=float), (n,))
    if np.any(g_leak <= 0) or not np.all(np.isfinite(g_leak)):
        raise ValueError(f"g_leak_s_cm2 must be finite and > 0 S/cm2; got {g_leak_s_cm2!r}")
    # conductances in uS: g [S/cm2] * A [um2] * 1e-8 cm2/um2 * 1e6 uS/S
    g_mem = g_leak * chain.areas_um2 * 1e-2
    half = chain.half_resistances  # Ohm cm / um -> Ohm: * 1e4 um/cm
    g_ax = 1e6 / ((half[:-1] + half[1:]) * 1e4)  # uS
    mat = np.diag(g_mem)
    for i, g in enumerate(g_ax):
        mat[i, i] += g
        mat[i + 1, i + 1] += g
        mat[i, i + 1] -= g
        mat[i + 1, i] -= g
    rhs = np.zeros(n)
    rhs[inject] = 1.0
    dv = np.linalg.solve(mat, rhs)
    return float(dv[record] / dv[inject])
