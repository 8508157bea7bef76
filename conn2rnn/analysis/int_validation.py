"""INT validation that can tell a hierarchy imposed by construction from one that emerges.

A positive correlation between model and empirical intrinsic timescales (INTs)
means little on its own: a per-node time-constant map that follows the cortical
hierarchy produces one before any training. This module gives the pieces an
experiment needs to say which it is:

- :func:`recovery_self_test`: uncoupled leaky linear nodes with known time
  constants (100-1000 ms) must come out in the right order (Spearman rho >= 0.8)
  from the estimator and route a spec chooses, through the same code as the
  models (:func:`conn2rnn.analysis.resting.ints_from_activity`).
- Controls, each returning an ensemble built with the original's arguments:
  :func:`untrained_baseline` (same architecture, seeds, time constants, masks;
  untrained), :func:`spun_tau_model` (each network's time-constant map spun on
  the sphere or shuffled; train it like the original) and
  :func:`spun_geometry_model` (coordinates spun, so the spatial cost's distance
  matrix is recomputed from spun geometry; train it like the original).
- :func:`int_network_table` and :func:`int_comparison_table`: per-network rho
  with the empirical map and its spin p, the rho of the ensemble-mean map and
  its spin p, each condition minus a baseline paired by seed (Wilcoxon
  signed-rank p, seeded bootstrap 95% CI of the mean difference, d_z), the
  silent / diverged / excluded counts, and the ceiling rho(gradient, empirical).
- :func:`check_empirical_map`: a user's (N,) map validated against a graph.

In every comparison the empirical map is the one permuted by the null
(``x`` of :func:`conn2rnn.analysis.maps.compare_maps`); the model map stays fixed.

Examples
--------
One regime, with the options of an analysis section passed through unchanged:

>>> opts = dict(estimator="acf_sum", route="raw", mean=0.5, sd=0.3, washout=100,
...             n_steps=1200)                                        # doctest: +SKIP
>>> check = recovery_self_test(**opts, dt_ms=model.dt_ms)            # doctest: +SKIP
>>> baseline = untrained_baseline(model)          # before or after training  # doctest: +SKIP
>>> spun, perms = spun_tau_model(model, seed=1)   # then train it like model   # doctest: +SKIP
>>> ints = {"trained": model_ints(model, **opts), "untrained": model_ints(baseline, **opts),
...         "spun_tau": model_ints(spun, **opts)}                    # doctest: +SKIP
>>> nulls = empirical_null_maps(graph.maps["int_hbn"], graph, n_perm=1000)  # doctest: +SKIP
>>> summary = int_comparison_table(ints, graph.maps["int_hbn"], graph, null_maps=nulls,
...                                ceiling="sa_axis")                # doctest: +SKIP
>>> per_network = int_network_table(ints, graph.maps["int_hbn"], graph, null_maps=nulls)  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.signal import lfilter

from .._validation import readonly
from ..graph import BrainGraph
from ..models.biornn import BioRNN
from ..regimes import resolve_regime
from .maps import compare_maps, spin_nulls, surrogate_nulls
from .resting import (
    MIN_BOLD_SAMPLES,
    ModelINTs,
    _check_bold_length,
    _check_route,
    ints_from_activity,
)

__all__ = [
    "RecoveryResult", "check_empirical_map", "empirical_null_maps", "int_comparison_table",
    "int_network_table", "node_permutations", "recovery_self_test", "spun_geometry_graph",
    "spun_geometry_model", "spun_tau_model", "untrained_baseline",
]

PERMUTATIONS = ("spin", "shuffle")
NULLS = ("spin", "surrogate", "shuffle")


# --------------------------------------------------------------------------- recovery self-test
@dataclass(frozen=True)
class RecoveryResult:
    """Result of :func:`recovery_self_test`.

    Attributes
    ----------
    rho : float
        Spearman rho between the true time constants and the recovered INTs
        (NaN when the route refused or fewer than 3 nodes have an INT).
    p : float
        Its parametric p value.
    passed : bool
        ``rho >= threshold``.
    threshold : float
    tau_ms : (N,) ndarray
        True time constants, ms.
    recovered_s : (N,) ndarray
        Recovered INTs, seconds.
    reason : str or None
        Why the test failed (refusal of the route, too few INTs, rho below the
        threshold); None when it passed.
    settings : mapping
        Estimator, route, dt_ms, drive and lengths used.
    """

    rho: float
    p: float
    passed: bool
    threshold: float
    tau_ms: np.ndarray
    recovered_s: np.ndarray
    reason: str | None
    settings: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """One flat row for a results table: rho, p, passed, threshold, n_nodes, n_valid, reason, settings."""
        return {"rho": self.rho, "p": self.p, "passed": self.passed, "threshold": self.threshold,
                "n_nodes": int(self.tau_ms.size), "n_valid": int(np.isfinite(self.recovered_s).sum()),
                "reason": self.reason, **dict(self.settings)}


def recovery_self_test(
    *,
    estimator: str = "acf_sum",
    route: str = "raw",
    tau_ms: Any = None,
    dt_ms: float = 50.0,
    n_steps: int = 1200,
    washout: int = 100,
    mean: float = 0.5,
    sd: float = 0.3,
    seed: int = 0,
    tr_s: float = 0.72,
    hrf: str = "spm",
    min_bold_samples: int = MIN_BOLD_SAMPLES,
    max_lag: int | None = None,
    threshold: float = 0.8,
) -> RecoveryResult:
    """Do nodes with known time constants come out in the right order?

    N uncoupled leaky linear nodes ``h_i[t] = (1 - a_i) h_i[t-1] + a_i x_i[t]``,
    ``a_i = dt / tau_i``, all driven by the resting drive ``x_i ~ N(mean, sd)``
    (i.i.d.; each node its own draw: with one shared draw the nodes' estimation
    errors would be the same and any route would keep their order), are
    recorded like a model and passed through
    :func:`~conn2rnn.analysis.resting.ints_from_activity` with the chosen
    estimator and route. Node ``i`` is an AR(1) process with coefficient
    ``1 - dt / tau_i``, so its true INT rises with ``tau_i``.

    Parameters
    ----------
    estimator, route, tr_s, hrf, min_bold_samples, max_lag
        As in :func:`~conn2rnn.analysis.resting.model_ints`.
    tau_ms : (N,) array_like, optional
        Time constants in ms, each >= ``dt_ms``; default 20 values evenly
        spaced from 100 to 1000 ms.
    dt_ms : float, default 50.0
    n_steps, washout : int, default 1200, 100
    mean, sd : float, default 0.5, 0.3
    seed : int, default 0
        Seed of the drive.
    threshold : float, default 0.8

    Returns
    -------
    RecoveryResult
        A route that refuses the length (too few BOLD samples) gives
        ``passed=False`` with the refusal as ``reason``.
    """
    _check_route(route, estimator)
    tau = np.linspace(100.0, 1000.0, 20) if tau_ms is None else np.array(tau_ms, dtype=np.float64)
    if tau.ndim != 1 or tau.size < 3 or not np.all(np.isfinite(tau)):
        raise ValueError(f"tau_ms must be a 1-D array of at least 3 finite time constants (ms); got {tau!r}")
    if not np.isfinite(dt_ms) or dt_ms <= 0 or np.any(tau < dt_ms):
        raise ValueError(f"tau_ms must all be >= dt_ms = {dt_ms!r} ms (a positive step); got min {tau.min():g}")
    for name, value in (("n_steps", n_steps), ("washout", washout)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1]; got {threshold!r}")
    settings = {"estimator": estimator, "route": route, "dt_ms": float(dt_ms), "n_steps": int(n_steps),
                "washout": int(washout), "drive_mean": float(mean), "drive_sd": float(sd),
                "seed": int(seed), "tr_s": tr_s if route == "bold" else None, "max_lag": max_lag}
    nan = np.full(tau.size, np.nan)
    if route == "bold":
        try:
            _check_bold_length(int(n_steps), float(dt_ms), float(tr_s), int(min_bold_samples))
        except ValueError as refusal:
            return RecoveryResult(np.nan, np.nan, False, float(threshold), readonly(tau), readonly(nan),
                                  f"route refused: {refusal}", MappingProxyType(settings))
    drive = np.random.default_rng(seed).normal(mean, sd, size=(washout + n_steps, tau.size))
    alpha = dt_ms / tau
    act = np.stack([lfilter([a], [1.0, -(1.0 - a)], drive[:, i]) for i, a in enumerate(alpha)],
                   axis=1)[washout:]
    ints = ints_from_activity(act[:, None, :], dt_ms, estimator=estimator, route=route, tr_s=tr_s,
                              hrf=hrf, min_bold_samples=min_bold_samples, max_lag=max_lag,
                              min_valid_fraction=0.0)
    rec = np.array(ints.ints_s[0])
    ok = np.isfinite(rec)
    settings["n_bold_samples"] = ints.settings["n_bold_samples"]
    if ok.sum() < 3 or np.ptp(rec[ok]) == 0:
        return RecoveryResult(np.nan, np.nan, False, float(threshold), readonly(tau), readonly(rec),
                              f"only {int(ok.sum())} of {tau.size} nodes have a distinct INT",
                              MappingProxyType(settings))
    res = stats.spearmanr(tau[ok], rec[ok])
    rho, p = float(res[0]), float(res[1])
    passed = rho >= threshold
    reason = None if passed else f"rho {rho:.3f} < threshold {threshold:g} ({estimator}, {route} route)"
    return RecoveryResult(rho, p, passed, float(threshold), readonly(tau), readonly(rec), reason,
                          MappingProxyType(settings))


# --------------------------------------------------------------------------- controls
def node_permutations(graph: BrainGraph, n: int, *, method: str = "spin", seed: int = 0) -> np.ndarray:
    """``n`` permutations of the graph's nodes, shape (n, N).

    Parameters
    ----------
    graph : BrainGraph
    n : int
    method : {'spin', 'shuffle'}, default 'spin'
        'spin': rotations of the sphere matched to regions by the Hungarian
        algorithm (needs ``graph.sphere_coords`` and L/R hemispheres; a node is
        only ever mapped within its hemisphere). 'shuffle': uniform random
        permutations.
    seed : int, default 0

    Returns
    -------
    (n, N) int ndarray
        Row ``r`` maps node ``i`` to node ``perms[r, i]``: a permuted map is
        ``values[perms[r]]``.
    """
    if method not in PERMUTATIONS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(map(repr, PERMUTATIONS))}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    size = graph.n_nodes
    if method == "shuffle":
        rng = np.random.default_rng(seed)
        return np.stack([rng.permutation(size) for _ in range(int(n))])
    if graph.sphere_coords is None:
        raise ValueError(f"method='spin' needs graph.sphere_coords (atlas {graph.atlas!r} has none); "
                         "use method='shuffle' or a surface atlas such as load_atlas('schaefer100')")
    perms = spin_nulls(np.arange(size, dtype=float), graph.sphere_coords, graph.hemispheres,
                       n_perm=int(n), seed=seed, method="hungarian")
    return np.rint(perms).astype(int)


class _TaskShape:
    """What :meth:`BioRNN.from_graph` reads from a task, restored from a model's provenance."""

    def __init__(self, model: Any) -> None:
        cfg = model.config
        self.n_inputs, self.n_outputs, self.dt = cfg["n_inputs"], cfg["n_outputs"], cfg["dt"]
        self._spec = dict(model.task_spec)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._spec)


_PASSED_ON = ("activation", "init", "gain", "spectral_radius", "sigma_rec", "sigma_in", "learn_tau", "tau_max",
              "learn_gain", "gain_channel")


def _initial(model: Any, given: Any, name: str, learned: bool) -> np.ndarray | None:
    """The initial per-node values of ``name`` ('tau' or 'node_gain'): given, or read off the model."""
    if given is not None:
        return np.array(given, dtype=np.float64)
    if learned:
        raise ValueError(f"this model learns its {name}, so model.{name} holds learned values; pass the "
                         f"initial ones as {name}=(N,) or (K, N) array (what the original was built with)")
    value = getattr(model, name, None)
    return None if value is None else value.detach().double().numpy()


def _rebuild(model: Any, *, graph: BrainGraph | None = None, tau: Any = None, node_gain: Any = None) -> Any:
    """A fresh (untrained) ensemble with ``model``'s arguments; ``graph``/``tau`` replace them."""
    import torch

    if not isinstance(model, BioRNN):
        raise TypeError(f"model must be a BioRNN ensemble; got {type(model).__name__}")
    if model.graph is None or model.regimes is None or model.task_spec is None:
        raise ValueError("model carries no graph/regime/task provenance; controls rebuild it with "
                         "BioRNN.from_graph, so build the original with BioRNN.from_graph too")
    cfg = model.config
    options = {key: cfg[key] for key in _PASSED_ON if key in cfg}
    if cfg.get("node_gain"):
        options["node_gain"] = _initial(model, node_gain, "node_gain", bool(cfg.get("learn_gain")))
    return BioRNN.from_graph(
        model.graph if graph is None else graph, _TaskShape(model), list(model.regimes),
        n_networks=cfg["n_networks"], seeds=list(cfg["seeds"]),
        strengths=model.strengths.detach().double().numpy(),
        tau=_initial(model, tau, "tau", bool(cfg.get("learn_tau"))), dt=cfg["dt"],
        dtype=getattr(torch, cfg["dtype"]), **options,
    )


def untrained_baseline(model: Any, *, tau: Any = None, node_gain: Any = None) -> Any:
    """The same architecture untrained: the 'imposed' baseline of an INT comparison.

    Rebuilt with :meth:`BioRNN.from_graph` from ``model``'s graph, regimes,
    seeds, time constants (``model.tau``), strengths and hyperparameters;
    ``from_graph`` is deterministic by seed, so each network has exactly the
    initial weights and masks the original started from.

    Parameters
    ----------
    model : BioRNN
        Built with :meth:`BioRNN.from_graph` (trained or not; never modified).
    tau, node_gain : (N,) or (K, N) array_like, optional
        The initial time constants (ms) and node gains; default read off
        ``model``. Required for a model that learns them (``learn_tau``,
        ``learn_gain``), whose attributes hold the learned values.

    Returns
    -------
    BioRNN
    """
    return _rebuild(model, tau=tau, node_gain=node_gain)


def spun_tau_model(model: Any, *, method: str = "spin", seed: int = 0, tau: Any = None,
                   node_gain: Any = None) -> tuple[Any, np.ndarray]:
    """The same ensemble with each network's time-constant map spun or shuffled (untrained).

    Train it with the original's settings: if the trained INTs still follow
    the empirical map with a spun time-constant map, the time constants were
    not what made them follow it.

    Parameters
    ----------
    model : BioRNN
        Built with :meth:`BioRNN.from_graph`.
    method : {'spin', 'shuffle'}, default 'spin'
        See :func:`node_permutations`; network ``k`` gets permutation ``k``.
    seed : int, default 0
    tau, node_gain : array_like, optional
        Initial values, as in :func:`untrained_baseline` (node gains are not spun).

    Returns
    -------
    model : BioRNN
        ``tau[k] == tau0[k][perms[k]]``.
    perms : (K, N) int ndarray
    """
    _rebuild_check(model)
    perms = node_permutations(model.graph, model.n_networks, method=method, seed=seed)
    tau0 = _initial(model, tau, "tau", bool(model.config.get("learn_tau")))
    tau0 = np.broadcast_to(tau0, (model.n_networks, model.n_nodes))
    spun = np.stack([tau0[k][perms[k]] for k in range(model.n_networks)])
    return _rebuild(model, tau=spun, node_gain=node_gain), perms


def spun_geometry_graph(graph: BrainGraph, *, method: str = "spin", seed: int = 0) -> tuple[BrainGraph, np.ndarray]:
    """A graph whose geometry is spun: node ``i`` takes the position of node ``perm[i]``.

    Coordinates, sphere coordinates and the hierarchy gradient are permuted
    together, so ``distance('euclidean')`` and ``distance('gradient')`` of the
    new graph are the original's with rows and columns permuted. Names,
    hemispheres, networks (hence I/O masks), maps, connectome and FC stay.

    Parameters
    ----------
    graph : BrainGraph
    method : {'spin', 'shuffle'}, default 'spin'
    seed : int, default 0

    Returns
    -------
    graph : BrainGraph
        ``metadata['geometry_null']`` records the method and seed.
    perm : (N,) int ndarray
    """
    perm = node_permutations(graph, 1, method=method, seed=seed)[0]
    return _permuted_geometry(graph, perm, method, seed)


def _permuted_geometry(graph: BrainGraph, perm: np.ndarray, method: str, seed: int) -> tuple[BrainGraph, np.ndarray]:
    meta = dict(graph.metadata)
    meta["geometry_null"] = {"method": method, "seed": int(seed)}
    new = BrainGraph.from_arrays(
        graph.names, graph.coords[perm], hemispheres=graph.hemispheres, networks=graph.networks,
        gradient=None if graph.gradient is None else graph.gradient[perm], maps=dict(graph.maps),
        connectome=graph.connectome, fc=graph.fc,
        sphere_coords=None if graph.sphere_coords is None else graph.sphere_coords[perm], metadata=meta,
    )
    return new, perm


def spun_geometry_model(model: Any, *, method: str = "spin", seed: int = 0, tau: Any = None,
                        node_gain: Any = None) -> tuple[Any, np.ndarray]:
    """The same ensemble on spun geometry (untrained): each network's spatial cost sees spun distances.

    Network ``k`` gets its own spin (the reference bioRNN geometry null gives
    every network its own): its regime's distance kernel is resolved on
    :func:`spun_geometry_graph` with permutation ``perms[k]``. Masks, initial
    weights and time constants (``model.tau``) are the original's, so only the
    geometry of the spatial cost changes.

    Parameters
    ----------
    model : BioRNN
        Built with :meth:`BioRNN.from_graph`, regimes with a euclidean,
        gradient or uniform distance.
    method : {'spin', 'shuffle'}, default 'spin'
    seed : int, default 0
    tau, node_gain : array_like, optional
        Initial values, as in :func:`untrained_baseline` (not spun).

    Returns
    -------
    model : BioRNN
        ``regime_arrays[k].distance`` is the original's with rows and columns
        permuted by ``perms[k]``.
    perms : (K, N) int ndarray
    """
    _rebuild_check(model)
    kinds = sorted({r.distance for r in model.regimes})
    if "geodesic" in kinds:
        raise ValueError("spun geometry permutes coordinates and the gradient; a 'geodesic' distance is "
                         f"computed from the atlas surface and cannot be spun this way (regime distances: {kinds})")
    perms = node_permutations(model.graph, model.n_networks, method=method, seed=seed)
    new = _rebuild(model, tau=tau, node_gain=node_gain)
    arrays = []
    for k, regime in enumerate(new.regimes):
        graph_k, _ = _permuted_geometry(model.graph, perms[k], method, seed)
        arrays.append(resolve_regime(regime, graph_k))
    new.set_regime(list(new.regimes), arrays)
    return new, perms


def _rebuild_check(model: Any) -> None:
    if getattr(model, "graph", None) is None or getattr(model, "regimes", None) is None:
        raise ValueError("model carries no graph/regime provenance; build it with BioRNN.from_graph")


# --------------------------------------------------------------------------- empirical maps
def check_empirical_map(values: Any, graph: BrainGraph, *, name: str = "empirical map") -> np.ndarray:
    """Validate a user map against a graph and return it in the graph's node order.

    Parameters
    ----------
    values : (N,) array_like or pandas.Series
        One value per region, in ``graph.names`` order, or a Series indexed by
        region name (any order; reindexed to the graph).
    graph : BrainGraph
    name : str
        Used in error messages.

    Returns
    -------
    (N,) float64 ndarray, read-only
    """
    if isinstance(values, pd.Series):
        index = [str(i) for i in values.index]
        if len(set(index)) != len(index):
            raise ValueError(f"{name} is indexed by region name with duplicates; each region once")
        missing = [r for r in graph.names if r not in set(index)]
        extra = [r for r in index if r not in set(graph.names)]
        if missing or extra:
            raise ValueError(f"{name} must be indexed by the graph's {graph.n_nodes} region names; "
                             f"missing {missing[:5]} ({len(missing)}), unknown {extra[:5]} ({len(extra)})")
        values = pd.Series(values.to_numpy(), index=index).reindex(list(graph.names)).to_numpy()
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numeric, one value per region; got {type(values).__name__}") from err
    if arr.shape != (graph.n_nodes,):
        raise ValueError(f"{name} must have shape ({graph.n_nodes},), one value per region of "
                         f"{graph.atlas!r}; got {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} has {bad.size} NaN/inf values (regions {[graph.names[i] for i in bad[:5]]}); "
                         "fill them or subset the graph to the regions it covers")
    if np.ptp(arr) == 0:
        raise ValueError(f"{name} is constant; a constant map cannot be correlated")
    return readonly(arr)


def empirical_null_maps(empirical: Any, graph: BrainGraph, *, nulls: str = "spin",
                        n_perm: int = 1000, seed: int = 0) -> np.ndarray:
    """Null maps of the empirical map, made once and reused for every model map.

    Parameters
    ----------
    empirical : (N,) array_like or pandas.Series
    graph : BrainGraph
    nulls : {'spin', 'surrogate', 'shuffle'}, default 'spin'
        'spin' needs ``graph.sphere_coords``; 'surrogate' (Burt et al. 2018)
        uses the Euclidean distance of the centroids (any atlas, e.g. AAL2).
    n_perm : int, default 1000
    seed : int, default 0

    Returns
    -------
    (n_perm, N) ndarray
    """
    emp = check_empirical_map(empirical, graph)
    if nulls not in NULLS:
        raise ValueError(f"unknown nulls {nulls!r}; choose one of {', '.join(map(repr, NULLS))}")
    if nulls == "surrogate":
        return surrogate_nulls(emp, graph.distance("euclidean"), n_perm, seed)
    perms = node_permutations(graph, n_perm, method=nulls, seed=seed)
    return emp[perms]


# --------------------------------------------------------------------------- comparison tables
def _as_model_ints(value: Any, condition: str) -> ModelINTs:
    if isinstance(value, ModelINTs):
        return value
    arr = np.array(value, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"condition {condition!r} must be ModelINTs or a (K, N) array; got shape {arr.shape}")
    k = arr.shape[0]
    zeros = np.zeros(k, dtype=int)
    return ModelINTs(arr, zeros, zeros, zeros, np.zeros(k, bool), (None,) * k, tuple(range(k)),
                     MappingProxyType({"estimator": None, "route": None}))


def _correlate(emp: np.ndarray, model_map: np.ndarray, null_maps: np.ndarray) -> tuple[float, float, int]:
    ok = np.isfinite(model_map)
    if ok.sum() < 3 or np.ptp(model_map[ok]) == 0:
        return np.nan, np.nan, int(ok.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # regions without an INT are counted elsewhere
        cmp = compare_maps(emp, model_map, method="spearman", nulls=null_maps)
    return cmp.r, cmp.p_null, cmp.n


def int_network_table(ints_by_condition: Mapping[str, Any], empirical: Any, graph: BrainGraph, *,
                      null_maps: Any = None, nulls: str = "spin", n_perm: int = 1000,
                      seed: int = 0) -> pd.DataFrame:
    """Per network and condition: rho with the empirical map, its null p and the node audit.

    Parameters
    ----------
    ints_by_condition : mapping of str to ModelINTs or (K, N) array
        E.g. ``{'trained': ..., 'untrained': ..., 'spun_tau': ...}`` (seconds).
    empirical : (N,) array_like or pandas.Series
        The empirical INT map (see :func:`check_empirical_map`).
    graph : BrainGraph
    null_maps : (n_perm, N) array_like, optional
        Precomputed null maps of ``empirical``; default
        :func:`empirical_null_maps` with ``nulls``, ``n_perm``, ``seed``.
    nulls, n_perm, seed
        See :func:`empirical_null_maps`.

    Returns
    -------
    pandas.DataFrame
        Columns ``condition, network, seed, rho, p_null, n_regions, n_valid,
        n_silent, n_undefined, n_diverged_nodes, diverged, included,
        excluded_reason``; ``rho`` is NaN for excluded networks.
    """
    emp = check_empirical_map(empirical, graph)
    nulls_arr = (empirical_null_maps(emp, graph, nulls=nulls, n_perm=n_perm, seed=seed)
                 if null_maps is None else np.array(null_maps, dtype=np.float64))
    frames = []
    for condition, value in ints_by_condition.items():
        ints = _as_model_ints(value, condition)
        if ints.ints_s.shape[1] != graph.n_nodes:
            raise ValueError(f"condition {condition!r} has {ints.ints_s.shape[1]} nodes; the graph has "
                             f"{graph.n_nodes}")
        table = ints.to_frame()
        rhos = [_correlate(emp, ints.ints_s[k], nulls_arr) if ints.excluded[k] is None else (np.nan, np.nan, 0)
                for k in range(ints.n_networks)]
        table.insert(0, "condition", condition)
        table.insert(3, "rho", [r[0] for r in rhos])
        table.insert(4, "p_null", [r[1] for r in rhos])
        table.insert(5, "n_regions", [r[2] for r in rhos])
        frames.append(table.drop(columns=["n_nodes", "int_median_s", "estimator", "route"]))
    return pd.concat(frames, ignore_index=True)


def _paired(a: pd.DataFrame, b: pd.DataFrame, n_boot: int, seed: int) -> dict[str, float]:
    for side in (a, b):
        if side["seed"].duplicated().any():
            raise ValueError(f"condition {side['condition'].iloc[0]!r} has two networks with one seed; "
                             "pairing by seed needs one network per seed")
    left = a.dropna(subset=["rho"]).set_index("seed")["rho"]
    right = b.dropna(subset=["rho"]).set_index("seed")["rho"]
    common = left.index.intersection(right.index)
    d = (left.loc[common] - right.loc[common]).to_numpy()
    out = {"n_pairs": int(d.size), "diff_mean": np.nan, "diff_ci_low": np.nan, "diff_ci_high": np.nan,
           "diff_d_z": np.nan, "wilcoxon_stat": np.nan, "wilcoxon_p": np.nan}
    if d.size == 0:
        return out
    out["diff_mean"] = float(d.mean())
    if d.size >= 2:
        boot = d[np.random.default_rng(seed).integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
        out["diff_ci_low"], out["diff_ci_high"] = (float(q) for q in np.percentile(boot, [2.5, 97.5]))
        sd = d.std(ddof=1)
        out["diff_d_z"] = float(d.mean() / sd) if sd > 0 else np.nan
        if np.any(d != 0):
            res = stats.wilcoxon(d)
            out["wilcoxon_stat"], out["wilcoxon_p"] = float(res.statistic), float(res.pvalue)
    return out


def int_comparison_table(
    ints_by_condition: Mapping[str, Any],
    empirical: Any,
    graph: BrainGraph,
    *,
    baseline: str | None = "untrained",
    ceiling: Any = "gradient",
    null_maps: Any = None,
    nulls: str = "spin",
    n_perm: int = 1000,
    seed: int = 0,
    n_boot: int = 10_000,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per condition: how well model INTs follow the empirical map, against a baseline.

    Parameters
    ----------
    ints_by_condition : mapping of str to ModelINTs or (K, N) array
        Conditions of one regime, e.g. ``trained``, ``untrained``,
        ``spun_tau``, ``spun_geometry``; networks are paired by seed.
    empirical : (N,) array_like or pandas.Series
    graph : BrainGraph
    baseline : str or None, default 'untrained'
        Condition subtracted from every other one, paired by seed; None skips.
    ceiling : 'gradient', a name in ``graph.maps``, (N,) array_like or None
        The reference map (e.g. the S-A axis) whose rho with the empirical map
        is the ceiling for a model ordered along it; None skips.
    null_maps, nulls, n_perm, seed
        See :func:`int_network_table`; ``seed`` also seeds the bootstrap.
    n_boot : int, default 10000
        Bootstrap resamples of the paired differences.
    alpha : float, default 0.05

    Returns
    -------
    pandas.DataFrame
        Columns ``condition, n_networks, n_defined`` (networks with a defined
        rho: the n of every statistic), ``n_excluded, n_diverged,
        n_silent_nodes, n_undefined_nodes, rho_mean, rho_sd, rho_median,
        rho_q25, rho_q75, frac_significant, rho_mean_map, p_mean_map,
        baseline, n_pairs, diff_mean, diff_ci_low, diff_ci_high, diff_d_z,
        wilcoxon_stat, wilcoxon_p, ceiling_rho, ceiling_p, null, n_perm``.
    """
    if not ints_by_condition:
        raise ValueError("ints_by_condition is empty; pass {condition: ModelINTs or (K, N) array}")
    if baseline is not None and baseline not in ints_by_condition:
        raise ValueError(f"baseline {baseline!r} is not a condition; have {list(ints_by_condition)} "
                         "(or pass baseline=None)")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer; got {n_boot!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}")
    emp = check_empirical_map(empirical, graph)
    nulls_arr = (empirical_null_maps(emp, graph, nulls=nulls, n_perm=n_perm, seed=seed)
                 if null_maps is None else np.array(null_maps, dtype=np.float64))
    null_name = nulls if null_maps is None else "precomputed"
    per_net = int_network_table(ints_by_condition, emp, graph, null_maps=nulls_arr)
    ceil_rho = ceil_p = np.nan
    if ceiling is not None:
        ref = graph.gradient if isinstance(ceiling, str) and ceiling == "gradient" else (
            graph.maps.get(ceiling) if isinstance(ceiling, str) else ceiling)
        if ref is None:
            raise ValueError(f"ceiling={ceiling!r} is not available: gradient "
                             f"{'present' if graph.gradient is not None else 'absent'}, maps {sorted(graph.maps)}")
        ceil_rho, ceil_p, _ = _correlate(emp, check_empirical_map(ref, graph, name="ceiling"), nulls_arr)
    rows = []
    for condition, value in ints_by_condition.items():
        ints = _as_model_ints(value, condition)
        sub = per_net[per_net["condition"] == condition]
        rho = sub["rho"].dropna().to_numpy()
        sig = sub.dropna(subset=["rho"])["p_null"].to_numpy() < alpha
        mean_rho, mean_p, _ = _correlate(emp, ints.mean_map(), nulls_arr)
        row = {
            "condition": condition, "n_networks": ints.n_networks, "n_defined": int(rho.size),
            "n_excluded": int((~ints.included).sum()), "n_diverged": int(np.sum(ints.diverged)),
            "n_silent_nodes": int(np.sum(ints.n_silent)), "n_undefined_nodes": int(np.sum(ints.n_undefined)),
            "rho_mean": float(rho.mean()) if rho.size else np.nan,
            "rho_sd": float(rho.std(ddof=1)) if rho.size > 1 else np.nan,
            "rho_median": float(np.median(rho)) if rho.size else np.nan,
            "rho_q25": float(np.quantile(rho, 0.25)) if rho.size else np.nan,
            "rho_q75": float(np.quantile(rho, 0.75)) if rho.size else np.nan,
            "frac_significant": float(sig.mean()) if sig.size else np.nan,
            "rho_mean_map": mean_rho, "p_mean_map": mean_p, "baseline": baseline,
        }
        if baseline is not None and condition != baseline:
            row.update(_paired(sub, per_net[per_net["condition"] == baseline], int(n_boot), seed))
        else:
            row.update({"n_pairs": 0, "diff_mean": np.nan, "diff_ci_low": np.nan, "diff_ci_high": np.nan,
                        "diff_d_z": np.nan, "wilcoxon_stat": np.nan, "wilcoxon_p": np.nan})
        row.update({"ceiling_rho": ceil_rho, "ceiling_p": ceil_p, "null": null_name,
                    "n_perm": int(nulls_arr.shape[0])})
        rows.append(row)
    return pd.DataFrame(rows)
