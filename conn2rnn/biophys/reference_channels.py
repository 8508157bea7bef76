"""The reference model's channels and synapses, step for step as Jaxley integrates them.

Channels (Pospischil et al. 2008, as shipped in ``jaxley.channels``): conductance
densities in S/cm2, currents in mA/cm2 (x 1000 -> uA/cm2 for the voltage solver).

- ``Na``: ``g m^3 h (V - 50)``, threshold ``vt = -60`` mV; ``K``: ``g n^4 (V + 90)``;
- ``Km``: ``g p (V + 90)`` with ``tau_max = 4000`` ms;
- ``CaL``: ``g q^2 r (V - 120)``; ``CaT``: ``g s_inf(V)^2 u (V - 120)`` with
  ``V_x = 2`` mV and Jaxley's ``tau_u`` (the whole numerator over ``3.7 (1 + exp)``);
- ``Leak``: ``g (V - E_L)``.

Every gate starts at 0.2 (the reference never calls ``init_states``) and advances by
exponential Euler at the voltage of the start of the step (``exp`` clipped at
``exp(20)`` as Jaxley's ``save_exp``). The current is then linearised in ``V`` by a
finite difference of 1e-3 mV, as Jaxley does, and handed to the implicit solver.

Synapses (Destexhe, Mainen & Sejnowski 1998, the NEURON-style release scheme of the
reference's ``jaxley_synapses.py``): a presynaptic compartment above 0 mV releases a
1 ms, 1 mM transmitter pulse, at most once every 2 ms (1 ms pulse + 1 ms dead time);
``R`` relaxes towards ``alpha / (alpha + beta)`` during a pulse and decays with rate
``beta`` after it, both in closed form; NEURON's ``exptable`` returns 0 outside
(-10, 10). The state depends only on the presynaptic voltage, so every synapse of one
kinetics from one presynaptic cell shares it: :class:`ReleaseState` holds one state
per presynaptic cell, and a weight matrix ``w[target, source]`` (uS) sums them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["KINETICS", "ReleaseState", "advance_gates", "channel_current", "init_gates", "mg_block_ref"]

E_NA, E_K, E_CA = 50.0, -90.0, 120.0
VT = -60.0
TAU_MAX_KM = 4000.0
V_X = 2.0
DIFF_MV = 1e-3

#: name -> (alpha /ms/mM, beta /ms, reversal mV)
KINETICS = {"AMPA": (1.1, 0.19, 0.0), "NMDA": (0.072, 0.0066, 0.0), "GABA_A": (5.0, 0.18, -80.0)}
_GATES = {"hh": ("m", "h", "n"), "full": ("m", "h", "n", "p", "q", "r", "u")}


def _sexp(x: torch.Tensor) -> torch.Tensor:
    """``exp(min(x, 20))`` (Jaxley's ``save_exp``)."""
    return torch.exp(torch.clamp(x, max=20.0))


def _efun(x: torch.Tensor) -> torch.Tensor:
    return x / (_sexp(x) - 1.0)


def init_gates(shape: tuple[int, ...], kind: str, *, dtype: torch.dtype = torch.float64,
               device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """Every gate of a cell kind at 0.2 (``kind``: ``'hh'`` = Na, K; ``'full'`` = Na, K, Km, CaL, CaT)."""
    if kind not in _GATES:
        raise ValueError(f"kind must be one of {sorted(_GATES)}; got {kind!r}")
    return {g: torch.full(shape, 0.2, dtype=dtype, device=device) for g in _GATES[kind]}


def _exp_euler(x: torch.Tensor, dt: float, x_inf: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    e = _sexp(-dt / tau)
    return x * e + x_inf * (1.0 - e)


def _ab(x: torch.Tensor, dt: float, alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    tau = 1.0 / (alpha + beta)
    return _exp_euler(x, dt, alpha * tau, tau)


def advance_gates(gates: dict[str, torch.Tensor], v: torch.Tensor, dt: float) -> dict[str, torch.Tensor]:
    """One exponential-Euler step of every gate in ``gates`` at voltage ``v`` (a new dict)."""
    out = {}
    u = v - VT
    out["m"] = _ab(gates["m"], dt, 0.32 * _efun(-0.25 * (u - 13.0)) / 0.25, 0.28 * _efun(0.2 * (u - 40.0)) / 0.2)
    out["h"] = _ab(gates["h"], dt, 0.128 * _sexp(-(u - 17.0) / 18.0), 4.0 / (_sexp(-(u - 40.0) / 5.0) + 1.0))
    out["n"] = _ab(gates["n"], dt, 0.032 * _efun(-0.2 * (u - 15.0)) / 0.2, 0.5 * _sexp(-(u - 10.0) / 40.0))
    if "p" in gates:
        vp = v + 35.0
        out["p"] = _exp_euler(gates["p"], dt, 1.0 / (1.0 + _sexp(-0.1 * vp)),
                              TAU_MAX_KM / (3.3 * _sexp(0.05 * vp) + _sexp(-0.05 * vp)))
        out["q"] = _ab(gates["q"], dt, 0.055 * _efun((-v - 27.0) / 3.8) * 3.8, 0.94 * _sexp((-v - 75.0) / 17.0))
        out["r"] = _ab(gates["r"], dt, 0.000457 * _sexp((-v - 13.0) / 50.0),
                       0.0065 / (_sexp((-v - 15.0) / 28.0) + 1.0))
        w = v + V_X
        u_inf = 1.0 / (1.0 + _sexp((w + 81.0) / 4.0))
        tau_u = (30.8 + (211.4 + _sexp((w + 113.2) / 5.0))) / (3.7 * (1.0 + _sexp((w + 84.0) / 3.2)))
        out["u"] = _exp_euler(gates["u"], dt, u_inf, tau_u)
    return out


def _cat_current(v: torch.Tensor, g_u: torch.Tensor) -> torch.Tensor:
    s_inf = 1.0 / (1.0 + _sexp(-(v + V_X + 57.0) / 6.2))
    return g_u * s_inf ** 2 * (v - E_CA)


def channel_current(gates: dict[str, torch.Tensor], v: torch.Tensor, dens: dict[str, torch.Tensor],
                    e_leak: float = -70.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Linearised channel current ``I = lin V - const`` in uA/cm2 (mS/cm2 and uA/cm2).

    Parameters
    ----------
    gates : dict of (..., n) tensor
        Gates after :func:`advance_gates`.
    v : (..., n) tensor
        Voltage, mV.
    dens : dict of tensor
        Densities in S/cm2, broadcastable to ``v``: ``na``, ``k``, ``leak`` and, when
        ``gates`` has them, ``km``, ``cal``, ``cat``.
    e_leak : float
        Leak reversal, mV.
    """
    g_na = dens["na"] * gates["m"] ** 3 * gates["h"]
    g_k = dens["k"] * gates["n"] ** 4
    g_lin = g_na + g_k + dens["leak"]
    ge = g_na * E_NA + g_k * E_K + dens["leak"] * e_leak
    if "p" in gates:
        g_km = dens["km"] * gates["p"]
        g_cal = dens["cal"] * gates["q"] ** 2 * gates["r"]
        g_lin = g_lin + g_km + g_cal
        ge = ge + g_km * E_K + g_cal * E_CA
        g_u = dens["cat"] * gates["u"]
        i0 = _cat_current(v, g_u)
        slope = (_cat_current(v + DIFF_MV, g_u) - i0) / DIFF_MV
        lin = g_lin + slope
        const = ge - i0 + slope * v
    else:
        lin, const = g_lin, ge
    return 1000.0 * lin, 1000.0 * const


def mg_block_ref(v: torch.Tensor) -> torch.Tensor:
    """NMDA magnesium block at 1 mM, ``1 / (1 + exp(-0.062 V) / 3.57)`` (``exp`` clipped as Jaxley's)."""
    return 1.0 / (1.0 + _sexp(0.062 * (-v)) * (1.0 / 3.57))


def _exptable(x: torch.Tensor) -> torch.Tensor:
    return torch.where((x > -10.0) & (x < 10.0), _sexp(x), torch.zeros_like(x))


@dataclass
class ReleaseState:
    """Transmitter release and receptor state of a set of presynaptic cells, one kinetics.

    Attributes are tensors of one shape ``(..., n_pre)``: ``R`` (open fraction), ``C``
    (transmitter, mM), ``last`` (ms since the last release), ``timecount`` (ms left of
    the pulse, negative in the dead time), ``R0``, ``R1`` (``R`` at the last release
    and at the end of the last pulse).
    """

    R: torch.Tensor
    C: torch.Tensor
    last: torch.Tensor
    timecount: torch.Tensor
    R0: torch.Tensor
    R1: torch.Tensor

    @classmethod
    def zeros(cls, shape: tuple[int, ...], *, dtype: torch.dtype = torch.float64,
              device: torch.device | str | None = None) -> "ReleaseState":
        """The reference's initial state: nothing released, ``last = -1000``, ``timecount = -1``."""
        z = torch.zeros(shape, dtype=dtype, device=device)
        return cls(z, z.clone(), torch.full_like(z, -1000.0), torch.full_like(z, -1.0), z.clone(), z.clone())

    def step(self, pre_v: torch.Tensor, dt: float, alpha: float, beta: float) -> "ReleaseState":
        """The state after one step of ``dt`` ms given the presynaptic voltage at its start."""
        tc = torch.where(self.timecount == -1.0, torch.ones_like(self.timecount), self.timecount - dt)
        rel = (pre_v > 0.0) & (tc <= -1.0)
        zero = torch.zeros_like(self.C)
        new_c = torch.where(rel, torch.ones_like(self.C), torch.where(tc > 0.0, self.C, zero))
        new_last = torch.where(rel, zero, self.last + dt)
        r_inf = alpha / (alpha + beta)
        r_tau = 1.0 / (alpha + beta)
        new_r0 = torch.where(rel, self.R, self.R0)
        new_r1 = torch.where(self.C > 0.0, self.R, self.R1)
        new_r = torch.where(new_c > 0.0, r_inf + (new_r0 - r_inf) * _exptable(-new_last / r_tau),
                            new_r1 * _exptable(-(new_last - 1.0) * beta))
        tc = torch.where(rel, torch.ones_like(tc), tc)
        return ReleaseState(new_r, new_c, new_last, tc, new_r0, new_r1)
