"""The biophysical reservoir as a :class:`~conn2rnn.models.protocol.RecurrentModel`.

:class:`BiophysicalReservoir` holds K parameter sets of one network layout and
simulates them all, for a batch of trials, in one engine call. Its inputs are
``(T, B, 3)`` at ``dt_ms`` = ``record_dt`` (1 ms): a 2-D cue value and a cue-on
channel. The cue encoder turns them into the Poisson rates of ``n_cue`` tuned
units (preferred values uniform in [-3, 3]^2, seeded)::

    rate_j(t) = cue_rate_hz * cue_on(t) * sum_d exp(-((x_d(t) - pref_jd) / width)^2) / 2

which drive the even-indexed E cells (probability ``cue_p``) through the chosen
cue synapse and every I cell (probability ``cue_p``) through AMPA at the soma.
Each cell also gets private background Poisson spikes (``noise_rate_hz``) through
an AMPA synapse at the soma. ``states`` returns the somatic spike trains filtered
by ``exp(-t / tau_filter_ms)`` (each spike adds 1, so a cell firing at rate ``r``
sits near ``r * tau``, of order 1, like the reference's synaptic rate traces; this
scale is what makes the ridge penalty ``alpha = 2`` meaningful), the nodes being the
cells ``[E, I]``;
readouts see the odd-indexed E cells (no cue input).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..models.protocol import check_inputs
from .channels import receptor
from .engine import SimResult, SpikeSource, check_dt, run
from .network import Wiring, build_circuit, stack_parameters, wiring_from_graph

__all__ = ["CUE_SYNAPSES", "BiophysicalReservoir", "DivergedError", "filter_spikes"]

CUE_SYNAPSES = ("AMPA_soma", "NMDA_soma", "AMPA_dend", "NMDA_dend")


class DivergedError(RuntimeError):
    """Some simulations produced non-finite voltages.

    Attributes
    ----------
    diverged : (K, B) bool ndarray
    """

    def __init__(self, diverged: np.ndarray) -> None:
        self.diverged = diverged
        sets = np.flatnonzero(diverged.any(axis=1)).tolist()
        super().__init__(f"{int(diverged.sum())} simulation(s) diverged (non-finite voltage) in parameter "
                         f"set(s) {sets[:10]}; lower dt or the conductances of those sets. Use "
                         "simulate() to get the per-simulation 'diverged' flags")


def filter_spikes(spikes: np.ndarray, record_dt: float, tau_ms: float) -> np.ndarray:
    """Exponentially filtered spike trains: ``x[t] = x[t-1] e^(-dt/tau) + n[t]`` (dimensionless).

    Each spike adds 1 and decays with ``tau_ms``; a steady rate ``r`` (Hz) gives a
    mean of about ``r * tau_ms / 1000`` (for ``tau_ms`` much longer than a bin).

    Parameters
    ----------
    spikes : (T, ...) array_like
        Spike counts per bin of ``record_dt`` ms.
    """
    if not tau_ms > 0:
        raise ValueError(f"tau_ms must be > 0; got {tau_ms!r}")
    counts = np.asarray(spikes, dtype=np.float64)
    decay = np.exp(-record_dt / tau_ms)
    out = np.empty_like(counts)
    acc = np.zeros(counts.shape[1:])
    for t in range(counts.shape[0]):
        acc = acc * decay + counts[t]
        out[t] = acc
    return out


class BiophysicalReservoir:
    """K parameter sets of an E/I network of two-compartment cells, readout only.

    Parameters
    ----------
    params : dict or list of dict
        Network parameters (see :mod:`~conn2rnn.biophys.network`); a list gives K sets.
    wiring : Wiring, BrainGraph, networkx graph or matrix, optional
        Default: the reference ring lattice with 50 E and 25 I cells.
    cue_synapse : {'AMPA_soma', 'NMDA_soma', 'AMPA_dend', 'NMDA_dend'}
        Receptor and compartment of the cue input onto E cells.
    cue_kinetics : {'AMPA', 'NMDA'}, optional
        Give the cue receptor another receptor's kinetics (e.g. NMDA block, AMPA timing).
    n_cue, cue_width, cue_rate_hz, cue_p
        Cue encoder (units, tuning width, peak rate in Hz, connection probability).
    noise_rate_hz : float
        Background Poisson rate per cell.
    dt : float
        Integration step, ms.
    record_dt : float
        Model step (``dt_ms``) of inputs and states, ms.
    tau_filter_ms : float
        Spike-train filter of :meth:`states`.
    seed : int
        Wiring, cue encoder and cue wiring (the same for every parameter set).
    dtype : torch.float64 or torch.float32
    device : str or torch.device
    """

    family = "biophysical"

    def __init__(self, params: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, wiring: Any = None,
                 cue_synapse: str = "NMDA_soma", cue_kinetics: str | None = None, n_cue: int = 25,
                 cue_width: float = 0.3, cue_rate_hz: float = 200.0, cue_p: float = 0.1,
                 noise_rate_hz: float = 47.0, dt: float = 0.025, record_dt: float = 1.0,
                 tau_filter_ms: float = 10.0, seed: int = 0, dtype: torch.dtype = torch.float64,
                 device: Any = "cpu") -> None:
        if cue_synapse not in CUE_SYNAPSES:
            raise ValueError(f"unknown cue_synapse {cue_synapse!r}; choose one of {list(CUE_SYNAPSES)}")
        if dtype not in (torch.float64, torch.float32):
            raise TypeError(f"dtype must be torch.float64 or torch.float32; got {dtype!r}")
        for name, value in (("cue_width", cue_width), ("tau_filter_ms", tau_filter_ms),
                            ("record_dt", record_dt)):
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{name} must be > 0; got {value!r}")
        for name, value in (("cue_rate_hz", cue_rate_hz), ("noise_rate_hz", noise_rate_hz)):
            if not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(f"{name} must be a rate >= 0 in Hz; got {value!r}")
        if not (isinstance(cue_p, (int, float)) and 0 <= cue_p <= 1):
            raise ValueError(f"cue_p must be a probability in [0, 1]; got {cue_p!r}")
        if isinstance(n_cue, bool) or not isinstance(n_cue, int) or n_cue < 1:
            raise ValueError(f"n_cue must be a positive integer; got {n_cue!r}")
        self.params = stack_parameters(params)
        self.wiring = wiring if isinstance(wiring, Wiring) else wiring_from_graph(wiring)
        rec, comp = cue_synapse.split("_")
        self.cue_synapse, self.cue_compartment = cue_synapse, comp
        self.cue_receptor = receptor(rec, kinetics=cue_kinetics)
        self.n_cue, self.cue_width, self.cue_rate_hz, self.cue_p = n_cue, float(cue_width), float(cue_rate_hz), cue_p
        self.noise_rate_hz = float(noise_rate_hz)
        self.dt = check_dt(dt)
        self.record_dt, self.tau_filter_ms = float(record_dt), float(tau_filter_ms)
        self.seed, self.dtype, self.device = int(seed), dtype, torch.device(device)
        rng = np.random.default_rng([self.seed, 1])
        self.cue_preferred = rng.uniform(-3.0, 3.0, (n_cue, 2))
        n_e, n_i = self.wiring.n_e, self.wiring.n_i
        self.cue_e_mask = np.zeros((n_e, n_cue), dtype=bool)
        self.cue_e_mask[::2] = rng.random((len(range(0, n_e, 2)), n_cue)) < cue_p
        self.cue_i_mask = rng.random((n_i, n_cue)) < cue_p
        self.circuit = build_circuit(self.params, self.wiring, seed=self.seed, dtype=dtype, device=self.device)

    # -- protocol ---------------------------------------------------------------------
    @property
    def n_networks(self) -> int:
        """K, the number of parameter sets."""
        return int(next(iter(self.params.values())).shape[0])

    @property
    def n_nodes(self) -> int:
        """Cells, E then I."""
        return self.wiring.n_e + self.wiring.n_i

    @property
    def n_inputs(self) -> int:
        return 3

    @property
    def dt_ms(self) -> float:
        return self.record_dt

    @property
    def seeds(self) -> list[int]:
        return [self.seed] * self.n_networks

    def output_nodes(self) -> list[np.ndarray]:
        """The odd-indexed E cells (none of them receives the cue), for every set."""
        return [np.arange(1, self.wiring.n_e, 2) for _ in range(self.n_networks)]

    # -- simulation -------------------------------------------------------------------
    def cue_rates(self, inputs: Any) -> np.ndarray:
        """Cue-unit Poisson rates (Hz) for ``(T, B, 3)`` inputs: ``(T, B, n_cue)``."""
        x = check_inputs(self, inputs)
        diff = (x[..., None, :2] - self.cue_preferred) / self.cue_width
        tuning = np.exp(-diff ** 2).sum(axis=-1) / 2.0
        return self.cue_rate_hz * np.clip(x[..., 2:3], 0.0, None) * tuning

    def _sources(self, rates: np.ndarray) -> tuple[SpikeSource, ...]:
        n_e = self.wiring.n_e
        k, m, area = self.n_networks, self.circuit.n_comp, self.circuit.area_cm2.cpu().numpy()
        p = self.params
        to_t = lambda a: torch.tensor(a, dtype=self.dtype, device=self.device)
        off = 0 if self.cue_compartment == "soma" else n_e
        w_cue = np.zeros((k, m, self.n_cue))
        w_cue[:, off:off + n_e] = self.cue_e_mask[None] * (p["g_cue_e"][:, None, None] * 1e-6
                                                           / area[off:off + n_e][None, :, None])
        w_cue_i = np.zeros((k, m, self.n_cue))
        w_cue_i[:, 2 * n_e:] = self.cue_i_mask[None] * (p["g_cue_i"][:, None, None] * 1e-6
                                                        / area[2 * n_e:][None, :, None])
        noise = np.zeros((k, m))
        noise[:, :n_e] = p["g_noise_e"][:, None] * 1e-6 / area[:n_e]
        noise[:, 2 * n_e:] = p["g_noise_i"][:, None] * 1e-6 / area[2 * n_e:]
        rate_t = to_t(rates)
        return (SpikeSource(self.cue_receptor, to_t(w_cue), rate_t),
                SpikeSource(receptor("AMPA"), to_t(w_cue_i), rate_t),
                SpikeSource(receptor("AMPA"), to_t(noise), self.noise_rate_hz))

    def simulate(self, inputs: Any, *, seed: int = 0, record_v: bool = False) -> SimResult:
        """Raw simulation of every parameter set on ``(T, B, 3)`` inputs.

        ``seed`` draws the background and cue spikes (fresh per trial); the result
        carries spike counts per ``record_dt`` bin and the per-simulation ``diverged`` flags.
        """
        rates = self.cue_rates(inputs)
        n_t, n_b = rates.shape[:2]
        return run(self.circuit, n_trials=n_b, duration_ms=n_t * self.record_dt, dt=self.dt,
                   sources=self._sources(rates), record_dt=self.record_dt, record_v=record_v,
                   seed=0 if seed is None else int(seed))

    def states(self, inputs: Any, *, seed: int | None = None, x0: Any = None) -> np.ndarray:
        """Filtered spike trains ``(T, K, B, N)`` of every cell (see :func:`filter_spikes`).

        Raises
        ------
        DivergedError
            When any simulation diverged (never averaged in silently).
        """
        if x0 is not None:
            raise ValueError("x0 must be None: biophysical networks start at rest (-70 mV, gates at "
                             "steady state)")
        result = self.simulate(inputs, seed=0 if seed is None else seed)
        if result.diverged.any():
            raise DivergedError(result.diverged)
        return filter_spikes(result.spikes, self.record_dt, self.tau_filter_ms)
