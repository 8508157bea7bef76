"""Hodgkin-Huxley channels (Pospischil et al. 2008) and kinetic synapses (Destexhe et al. 1998).

Units: membrane potential in mV, time in ms, conductance densities in mS/cm2,
current densities in uA/cm2, transmitter concentration in mM.

Channels (``I = g * gates * (V - E)``):

- ``na``: ``m^3 h`` with threshold ``VT`` (default -60 mV), ``E_Na`` = 50 mV;
- ``k``: delayed rectifier ``n^4``, ``E_K`` = -90 mV;
- ``km``: slow (M-type) potassium ``p`` (``tau_max`` = 1000 ms), ``E_K``;
- ``cal``: high-threshold calcium ``q^2 r`` (Reuveni 1993), ``E_Ca`` = 120 mV fixed;
- ``cat``: low-threshold calcium ``s_inf(V)^2 u`` (``V_x`` = 2 mV), ``E_Ca``;
- ``leak``: ``E_L`` = -70 mV.

Gates advance by exponential Euler, exact for a voltage held constant over the
step: ``x' = x_inf + (x - x_inf) exp(-dt / tau_x)``.

Receptors: ``dR/dt = alpha C (1 - R) - beta R`` with ``C`` = 1 mM for 1 ms after
each presynaptic spike, again advanced exactly for ``C`` constant over the step;
``I = g R B(V) (V - E)`` where ``B`` is the NMDA magnesium block
``1 / (1 + exp(-0.062 V) [Mg] / 3.57)`` and 1 for the other receptors.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "CHANNELS",
    "E_CA",
    "E_K",
    "E_L",
    "E_NA",
    "MG_MM",
    "RECEPTORS",
    "VT",
    "Receptor",
    "gate_steady_state",
    "mg_block",
    "receptor",
]

CHANNELS = ("na", "k", "km", "cal", "cat", "leak")
E_NA, E_K, E_L, E_CA = 50.0, -90.0, -70.0, 120.0
VT = -60.0
TAU_MAX_KM = 1000.0
V_X_CAT = 2.0
MG_MM = 1.0
PULSE_MS = 1.0
PULSE_MM = 1.0
GATES = ("m", "h", "n", "p", "q", "r", "u")


@dataclass(frozen=True)
class Receptor:
    """Kinetics of one receptor type (Destexhe, Mainen & Sejnowski 1998).

    Attributes
    ----------
    name : str
    alpha : float
        Binding rate, /ms/mM.
    beta : float
        Unbinding rate, /ms; the conductance decays with time constant ``1 / beta`` ms.
    e_rev : float
        Reversal potential, mV.
    mg_block : bool
        Whether the magnesium block ``B(V)`` multiplies the conductance.
    """

    name: str
    alpha: float
    beta: float
    e_rev: float
    mg_block: bool


RECEPTORS = {
    "AMPA": Receptor("AMPA", 1.1, 0.19, 0.0, False),
    "NMDA": Receptor("NMDA", 0.072, 0.0066, 0.0, True),
    "GABA_A": Receptor("GABA_A", 5.0, 0.18, -80.0, False),
}


def receptor(name: str, *, kinetics: str | None = None) -> Receptor:
    """A receptor by name, optionally with another receptor's ``alpha`` and ``beta``.

    Parameters
    ----------
    name : {'AMPA', 'NMDA', 'GABA_A'}
        Sets the reversal potential and the magnesium block.
    kinetics : {'AMPA', 'NMDA', 'GABA_A'}, optional
        Whose binding/unbinding rates to use (default: ``name``'s own). ``receptor('NMDA',
        kinetics='AMPA')`` is a magnesium-blocked receptor with AMPA time course.
    """
    for label, value in (("receptor", name), ("kinetics", kinetics)):
        if value is not None and value not in RECEPTORS:
            raise ValueError(f"unknown {label} {value!r}; choose one of {sorted(RECEPTORS)}")
    base = RECEPTORS[name]
    if kinetics is None or kinetics == name:
        return base
    other = RECEPTORS[kinetics]
    return Receptor(f"{name}({kinetics} kinetics)", other.alpha, other.beta, base.e_rev, base.mg_block)


def mg_block(v: torch.Tensor, mg_mm: float = MG_MM) -> torch.Tensor:
    """NMDA magnesium block ``B(V) = 1 / (1 + exp(-0.062 V) [Mg] / 3.57)`` (Jahr & Stevens 1990)."""
    return 1.0 / (1.0 + torch.exp(-0.062 * v) * (mg_mm / 3.57))


def _vtrap(x: torch.Tensor, k: float) -> torch.Tensor:
    """``x / (exp(x / k) - 1)``, continuous at ``x = 0`` (limit ``k``)."""
    small = x.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(x), x)
    return torch.where(small, k - x / 2.0, safe / torch.expm1(safe / k))


def _rates(v: torch.Tensor, vt: float) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``(x_inf, tau)`` of every gate at membrane potential ``v``."""
    u = v - vt
    out = {}
    pairs = {
        "m": (0.32 * _vtrap(13.0 - u, 4.0), 0.28 * _vtrap(u - 40.0, 5.0)),
        "h": (0.128 * torch.exp((17.0 - u) / 18.0), 4.0 / (1.0 + torch.exp((40.0 - u) / 5.0))),
        "n": (0.032 * _vtrap(15.0 - u, 5.0), 0.5 * torch.exp((10.0 - u) / 40.0)),
        "q": (0.055 * _vtrap(-27.0 - v, 3.8), 0.94 * torch.exp((-75.0 - v) / 17.0)),
        "r": (0.000457 * torch.exp((-13.0 - v) / 50.0), 0.0065 / (torch.exp((-15.0 - v) / 28.0) + 1.0)),
    }
    for gate, (a, b) in pairs.items():
        s = a + b
        out[gate] = (a / s, 1.0 / s)
    out["p"] = (torch.sigmoid((v + 35.0) / 10.0),
                TAU_MAX_KM / (3.3 * torch.exp((v + 35.0) / 20.0) + torch.exp(-(v + 35.0) / 20.0)))
    w = v + V_X_CAT
    out["u"] = (torch.sigmoid(-(w + 81.0) / 4.0),
                (30.8 + (211.4 + torch.exp((w + 113.2) / 5.0)) / (1.0 + torch.exp((w + 84.0) / 3.2))) / 3.7)
    return out


def gate_steady_state(v: torch.Tensor, vt: float = VT) -> dict[str, torch.Tensor]:
    """Steady-state value of every gate at ``v`` (the resting initial condition)."""
    return {g: x_inf for g, (x_inf, _) in _rates(v, vt).items()}


def advance_gates(gates: dict[str, torch.Tensor], v: torch.Tensor, dt: float, vt: float = VT) -> None:
    """Exponential-Euler step of every gate in place (``gates`` is the engine's own state)."""
    for g, (x_inf, tau) in _rates(v, vt).items():
        gates[g] = x_inf + (gates[g] - x_inf) * torch.exp(-dt / tau)


def channel_conductances(gates: dict[str, torch.Tensor], v: torch.Tensor,
                         dens: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Total membrane conductance ``G`` and ``sum g E`` of the channels (mS/cm2, uA/cm2).

    The ionic current is ``G V - GE``; the voltage solver treats it implicitly.
    """
    s_inf = torch.sigmoid((v + V_X_CAT + 57.0) / 6.2)
    g_na = dens["na"] * gates["m"] ** 3 * gates["h"]
    g_k = dens["k"] * gates["n"] ** 4 + dens["km"] * gates["p"]
    g_ca = dens["cal"] * gates["q"] ** 2 * gates["r"] + dens["cat"] * s_inf ** 2 * gates["u"]
    g = g_na + g_k + g_ca + dens["leak"]
    ge = g_na * E_NA + g_k * E_K + g_ca * E_CA + dens["leak"] * E_L
    return g, ge
