"""What plasticity and neuromodulation change: learned timescale maps, and
expressivity (memory capacity, Lyapunov exponent) against gain and timescale.

* :func:`tau_map_correlation`: how each network's (learned) time constants
  correlate with the hierarchy gradient and an empirical map (e.g. the INT map),
  optionally against spatial nulls (:func:`conn2rnn.analysis.maps.compare_maps`).
* :func:`expressivity_sweep`: memory capacity and the largest Lyapunov exponent
  of every network of any leaky rate model (a BioRNN, a connectome reservoir, a
  reservoir ensemble) when a global gain ``g`` multiplies every node's input
  (``f(g (W h + W_in x + b))``, on top of the model's own node gains) and the
  time constants are scaled by ``s`` (leak ``a / s``, capped at 1).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from conn2rnn.models.protocol import LeakyParameters, LeakyRateModel
from conn2rnn.models.reservoir_ensemble import as_recurrent_model

from .expressivity import memory_capacity
from .lyapunov import _ACTIVATIONS_NP, lyapunov_spectrum
from .maps import compare_maps, spin_nulls, surrogate_nulls

__all__ = ["expressivity_sweep", "scaled_leaky_model", "tau_map_correlation"]


def _node_map(values: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be one value per node, shape ({n},); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or inf")
    return arr


def tau_map_correlation(model: Any, empirical: Any = None, *, graph: Any = None, method: str = "spearman",
                        nulls: str | None = None, n_perm: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Correlation of each network's time constants with the gradient and an empirical map.

    Parameters
    ----------
    model : BioRNN
        Its (learned) time constants ``model.tau`` (K, N), ms.
    empirical : (N,) array_like or str, optional
        An empirical map (e.g. INTs) or the name of one in ``graph.maps``.
    graph : BrainGraph, optional
        Default ``model.graph``; gives the gradient, maps, and the sphere
        coordinates / distances of spatial nulls.
    method : {"spearman", "pearson"}
    nulls : {None, "spin", "surrogate"}
        Spatial null of the p value (:func:`~conn2rnn.analysis.maps.compare_maps`).
    n_perm : int
        Null maps when ``nulls`` is set.
    seed : int

    Returns
    -------
    pandas.DataFrame
        One row per network and map: ``network``, ``seed``, ``map`` ("gradient"
        or the empirical map's name), ``r``, ``p_parametric``, ``p_null``,
        ``tau_min_ms``, ``tau_max_ms``.
    """
    tau = getattr(model, "tau", None)
    if tau is None or not hasattr(model, "time_constants"):
        raise TypeError(f"model must be a BioRNN (with time constants); got {type(model).__name__}")
    tau = tau.detach().double().numpy()
    graph = model.graph if graph is None else graph
    n = tau.shape[1]
    maps: dict[str, np.ndarray] = {}
    if graph is not None and graph.gradient is not None:
        maps["gradient"] = _node_map(graph.gradient, n, "graph.gradient")
    if isinstance(empirical, str):
        if graph is None or empirical not in graph.maps:
            raise ValueError(f"empirical={empirical!r} is not a map of the graph; it has "
                             f"{[] if graph is None else sorted(graph.maps)}")
        maps[empirical] = _node_map(graph.maps[empirical], n, f"graph.maps[{empirical!r}]")
    elif empirical is not None:
        maps["empirical"] = _node_map(empirical, n, "empirical")
    if not maps:
        raise ValueError("nothing to correlate with: the graph has no gradient and no empirical map was given")
    if nulls not in (None, "spin", "surrogate"):
        raise ValueError(f"nulls must be None, 'spin' or 'surrogate'; got {nulls!r}")
    if nulls is not None and graph is None:
        raise ValueError(f"nulls={nulls!r} needs a graph (sphere coordinates or distances)")
    rows = []
    for name, values in maps.items():
        null_maps = None  # nulls of the fixed map, made once and reused for every network
        if nulls == "spin":
            null_maps = spin_nulls(values, graph.sphere_coords, graph.hemispheres, n_perm=n_perm, seed=seed)
        elif nulls == "surrogate":
            null_maps = surrogate_nulls(values, graph.distance("euclidean"), n_perm=n_perm, seed=seed)
        for k in range(tau.shape[0]):
            if np.ptp(tau[k]) == 0:
                r = p_par = p_null = float("nan")
            else:
                res = compare_maps(values, tau[k], method=method, nulls=null_maps)
                r, p_par, p_null = res.r, res.p_parametric, res.p_null
            rows.append({"network": k, "seed": model.seeds[k], "map": name, "r": r, "p_parametric": p_par,
                         "p_null": p_null, "tau_min_ms": float(tau[k].min()), "tau_max_ms": float(tau[k].max())})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- expressivity sweeps
@dataclass(frozen=True)
class _ScaledLeaky:
    """A leaky rate model given by its parameters (a :class:`LeakyRateModel`)."""

    params: LeakyParameters
    nodes: tuple
    dt_ms: float | None
    seeds: list
    family: str = "leaky"

    @property
    def n_networks(self) -> int:
        return self.params.n_networks

    @property
    def n_nodes(self) -> int:
        return int(self.params.w.shape[1])

    @property
    def n_inputs(self) -> int:
        return int(self.params.w_in.shape[2])

    def leaky_parameters(self) -> LeakyParameters:
        return self.params

    def output_nodes(self) -> list[np.ndarray]:
        return [np.asarray(v) for v in self.nodes]

    def states(self, inputs: Any, *, seed: int | None = None, x0: Any = None) -> np.ndarray:
        """Noise-free states (T, K, B, N) of ``h' = h + a (f(W h + W_in x + b) - h)``."""
        p = self.params
        f = _ACTIVATIONS_NP[p.activation][0]
        u = np.asarray(inputs, dtype=np.float64)
        k, n = p.leak.shape
        h = np.zeros((k, u.shape[1], n)) if x0 is None else np.array(x0, dtype=np.float64)
        drive = np.einsum("tbi,kni->tkbn", u, p.w_in) + p.bias[None, :, None, :]
        out = np.empty((u.shape[0], k, u.shape[1], n))
        leak = p.leak[:, None, :]
        for t in range(u.shape[0]):
            h = h + leak * (f(drive[t] + np.einsum("knm,kbm->kbn", p.w, h)) - h)
            out[t] = h
        return out


def scaled_leaky_model(model: Any, *, gain: float = 1.0, tau_scale: float = 1.0) -> _ScaledLeaky:
    """A copy of a leaky rate model's update with a global gain and scaled time constants.

    Parameters
    ----------
    model : LeakyRateModel
        A BioRNN, ReservoirEnsemble or ConnectomeReservoir.
    gain : float >= 0
        Multiplies ``W``, ``W_in`` and the bias (the activation's input).
    tau_scale : float > 0
        Time constants times ``tau_scale``: leak ``min(1, a / tau_scale)``.

    Returns
    -------
    LeakyRateModel
        With ``leaky_parameters()``, ``states()`` (noise-free) and the model's output nodes.
    """
    m = as_recurrent_model(model)
    if not isinstance(m, LeakyRateModel):
        raise TypeError(f"model must be a leaky rate model (BioRNN, ReservoirEnsemble, ConnectomeReservoir); "
                        f"got a {m.family} model")
    gain = _check_number(gain, "gain", allow_zero=True)
    tau_scale = _check_number(tau_scale, "tau_scale", allow_zero=False)
    p = m.leaky_parameters()
    scaled = LeakyParameters(p.w * gain, p.w_in * gain, p.bias * gain, np.minimum(1.0, p.leak / tau_scale),
                             p.activation)
    return _ScaledLeaky(scaled, tuple(m.output_nodes()), m.dt_ms, list(m.seeds))


def _check_number(value: Any, name: str, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
            or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0; got {value!r}")
    return float(value)


def expressivity_sweep(model: Any, *, gains: Any = (1.0,), tau_scales: Any = (1.0,), max_delay: int = 20,
                       n_steps: int = 1000, channel: int = 0, lyapunov: bool = True,
                       lyapunov_steps: int = 500, seed: int = 0) -> pd.DataFrame:
    """Memory capacity and largest Lyapunov exponent over a grid of gains and timescales.

    Parameters
    ----------
    model : LeakyRateModel
        A BioRNN (static node gains folded in), ReservoirEnsemble or ConnectomeReservoir.
    gains : sequence of float >= 0
        Global gains (multiplying the activation's input).
    tau_scales : sequence of float > 0
        Factors on the time constants.
    max_delay : int
        Largest delay of the memory capacity (:func:`~conn2rnn.analysis.memory_capacity`).
    n_steps : int
        Length of the i.i.d. input stream (uniform in [-0.8, 0.8]) fed to ``channel``.
    channel : int
        Input channel that carries the stream (the others get 0).
    lyapunov : bool
        Also compute the largest Lyapunov exponent per step (driven by the same
        kind of stream; :func:`~conn2rnn.analysis.lyapunov_spectrum`).
    lyapunov_steps : int
        Steps of the Lyapunov run (a fifth of them washout).
    seed : int
        Seeds the input streams (the same for every gain and scale).

    Returns
    -------
    pandas.DataFrame
        One row per (gain, tau_scale, network): ``gain``, ``tau_scale``,
        ``network``, ``seed``, ``memory_capacity``, ``lyapunov`` (NaN when off).
        Memory capacity reads out each network's output nodes.
    """
    gains = [_check_number(g, "gains", allow_zero=True) for g in np.atleast_1d(np.asarray(gains, dtype=float))]
    scales = [_check_number(s, "tau_scales", allow_zero=False)
              for s in np.atleast_1d(np.asarray(tau_scales, dtype=float))]
    base = as_recurrent_model(model)
    if isinstance(channel, bool) or not isinstance(channel, numbers.Integral) or not 0 <= channel < base.n_inputs:
        raise ValueError(f"channel must be an input index in [0, {base.n_inputs}); got {channel!r}")
    rng = np.random.default_rng(seed)
    drive = np.zeros((lyapunov_steps, base.n_inputs))
    drive[:, channel] = rng.uniform(-0.8, 0.8, lyapunov_steps)
    rows = []
    for g in gains:
        for s in scales:
            scaled = scaled_leaky_model(model, gain=g, tau_scale=s)
            lyap = (lyapunov_spectrum(scaled, drive, washout=lyapunov_steps // 5, seed=seed)[:, 0]
                    if lyapunov else np.full(scaled.n_networks, np.nan))
            for k in range(scaled.n_networks):
                nodes = scaled.output_nodes()[k]

                def run(u, k=k, nodes=nodes, scaled=scaled):
                    x = np.zeros((u.shape[0], 1, scaled.n_inputs))
                    x[:, :, channel] = u[:, :, 0]
                    single = _ScaledLeaky(scaled.params.network(k), (nodes,), scaled.dt_ms, [scaled.seeds[k]])
                    return single.states(x)[:, 0][..., nodes]

                mc = memory_capacity(run, max_delay=max_delay, n_steps=n_steps, seed=seed)["total"]
                rows.append({"gain": g, "tau_scale": s, "network": k, "seed": scaled.seeds[k],
                             "memory_capacity": mc, "lyapunov": float(lyap[k])})
    return pd.DataFrame(rows)
