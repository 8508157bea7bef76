"""Named constraint regimes: a declarative spec resolved against a BrainGraph.

A :class:`Regime` says *which* biological constraints a network carries (I/O
masking, a spatial cost on the recurrent weights, weight decay, an activity
penalty, a connectome sparsity mask, Dale's law) and how strong they are. It
holds names and numbers only, so it round-trips through dicts and TOML and can
be swept over. :func:`resolve_regime` turns it into arrays for one graph and
:func:`regime_cost` gives the total weight regularisation a trainer adds to
its loss.

Public API
----------
Regime(name, io_masking=False, ..., trainable=True)
    Frozen dataclass; ``to_dict`` / ``from_dict``, ``to_toml`` / ``from_toml``,
    ``replace(**changes)``.
REGIMES : Mapping[str, Regime]
    'vanilla', 'l1', 'masked', 'embedded', 'bio', 'sernn'.
get_regime(name, **overrides) -> Regime
resolve_regime(regime, graph) -> RegimeArrays
regime_cost(regime, w, arrays) -> 0-d or (K,) tensor

Scale of the default strengths
------------------------------
Costs are sums over the N**2 recurrent weights, and distances are divided by
their off-diagonal mean by default, so ``sum |W| * D`` is close to ``sum |W|``.
For N = 100 and dense weights of standard deviation ``g / sqrt(N)``, ``g = 1.5``
(random coordinates, mean-normalised euclidean distance): ``sum |W|`` ~ 1.2e3,
``sum |W| * D`` ~ 1.2e3, ``sum W**2`` ~ 2.2e2 and the communicability cost
~ 27 (``C`` is of order 1/N off the diagonal). The defaults (1e-3 for the L1,
L2 and distance-L1 terms, 1e-2 for 'sernn') thus give initial penalties of
order 0.2-1, comparable to a task loss. With that initialisation the L1 terms
grow as N**1.5, the L2 term as N and the communicability cost as N**0.5:
lower the strengths accordingly for larger networks.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np
import torch

from . import _toml
from ._registry import Registry
from .constraints import (
    NORMALIZATIONS,
    communicability_cost,
    distance_kernel,
    distance_l1_cost,
    distance_l2_cost,
    input_mask,
    kernel_correlation_cost,
    output_mask,
)

__all__ = ["SPATIAL_COSTS", "Regime", "RegimeArrays", "REGIMES", "get_regime", "resolve_regime", "regime_cost",
           "regime_tau"]

#: Spatial costs by name: ``SPATIAL_COSTS.get(name)(w, d, regime) -> (K,) or 0-d tensor``
#: for weights ``w`` ((N, N) or (K, N, N)) and the regime's distance kernel ``d``.
SPATIAL_COSTS: Registry = Registry("spatial cost")
SPATIAL_COSTS.register("l1", lambda w, d, regime: distance_l1_cost(w, d))
SPATIAL_COSTS.register("l2", lambda w, d, regime: distance_l2_cost(w, d))
SPATIAL_COSTS.register("communicability", lambda w, d, regime: communicability_cost(
    w, d, detach=regime.communicability_detach))
SPATIAL_COSTS.register("kernel_correlation", lambda w, d, regime: kernel_correlation_cost(w, -d))
# The authors' published form: |W| normalised by each unit's out-strength (their Keras
# kernel is U[source, target] and its row sums are taken); see communicability_cost.
SPATIAL_COSTS.register("communicability_out", lambda w, d, regime: communicability_cost(
    w, d, detach=regime.communicability_detach, node_strength="out"))
DISTANCES = ("euclidean", "gradient", "geodesic", "uniform")
#: Permutations of a map or a geometry used as controls (``tau_null``, ``distance_null``).
TAU_NULLS = ("none", "spin", "shuffle")
SPARSITY_MASKS = ("none", "connectome")

_BOOL_FIELDS = ("io_masking", "communicability_detach", "dale", "trainable")
_STRENGTH_FIELDS = ("strength", "l1", "l2", "activity")


def _choice(value, valid: tuple, name: str, allow_none: bool = False) -> None:
    if allow_none and value is None:
        return
    if value not in valid:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be one of {list(valid)}{extra}; got {value!r}")


def _networks(value, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    try:
        out = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of network names; got {type(value).__name__}") from None
    if not out or not all(isinstance(v, str) and v for v in out):
        raise ValueError(f"{name} must be a non-empty sequence of non-empty strings; got {value!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} has duplicate network names: {list(out)}")
    return out


@dataclasses.dataclass(frozen=True)
class Regime:
    """Declarative set of constraints for one network family.

    Parameters
    ----------
    name : str
        Label carried into results tables.
    io_masking : bool
        Restrict input weights to nodes of ``input_networks`` and the readout to
        nodes of ``output_networks``; otherwise every node is used.
    input_networks, output_networks : tuple of str
        Network labels (Yeo-7 for Schaefer atlases) selected with
        ``graph.select(networks=...)``.
    spatial_cost : {None, "l1", "l2", "communicability", "communicability_out", "kernel_correlation"}
        Spatial cost on the recurrent weights (see :mod:`conn2rnn.constraints`).
        "communicability_out" normalises the communicability by out-strength,
        as the seRNN authors' published regulariser does; "communicability" by
        the mean of in- and out-strength.
        "kernel_correlation" correlates ``|W|`` with ``-D``, so the cost falls
        when strong weights are short.
    distance : {"euclidean", "gradient", "geodesic", "uniform"}
        Which ``graph.distance(kind)`` the spatial cost uses; ``"uniform"`` puts
        every pair at distance 1 (self-connections at 0), which turns the
        "l1" spatial cost into a plain L1 penalty whose strength can be swept
        per network like any spatial cost.
    distance_normalize : {"none", "mean", "max"}
        Normalisation of the distance (:func:`conn2rnn.constraints.distance_kernel`).
    strength : float >= 0
        Multiplier of the spatial cost; > 0 requires a ``spatial_cost``.
    l1, l2 : float >= 0
        Plain ``sum |W|`` and ``sum W**2`` penalties on the recurrent weights.
    activity : float >= 0
        Multiplier of the energy penalty ``mean |h|`` on hidden activity; applied
        by the trainer, not by :func:`regime_cost` (which sees weights only).
    communicability_detach : bool
        Treat the communicability matrix as a constant in the gradient.
    sparsity_mask : {"none", "connectome"}
        "connectome" keeps recurrent weights only where the graph's connectome is
        non-zero.
    dale : bool
        Sign-constrain each node as excitatory or inhibitory.
    excitatory_fraction : float in [0, 1]
        Fraction of excitatory nodes when ``dale`` is True.
    trainable : bool
        False builds a reservoir (recurrent weights fixed, readout only).
    tau_map : str, optional
        Heterogeneous time constants: ``"gradient"`` or the name of a graph map
        along which each node's time constant rises linearly onto ``tau_range``.
        None keeps the model's own ``tau``.
    tau_range : (float, float)
        ``(tau_min, tau_max)`` in ms for ``tau_map``.
    tau_null : {"none", "spin", "shuffle"}
        Control for an imposed hierarchy: the ``tau_map`` values are permuted
        across nodes per network seed, by a spin of the sphere (keeping spatial
        autocorrelation) or uniformly at random; the set of time constants is
        unchanged, only its alignment with the brain is broken.
    distance_null : {"none", "spin", "shuffle"}
        Control for the spatial cost: each network's distances are computed on
        a geometry whose node positions (coordinates, sphere coordinates and
        gradient together) are permuted per network seed, by a spin or at
        random; masks and everything else stay. Not for ``geodesic`` distances.
    """

    name: str
    io_masking: bool = False
    input_networks: tuple[str, ...] = ("Vis",)
    output_networks: tuple[str, ...] = ("Default",)
    spatial_cost: str | None = None
    distance: str = "euclidean"
    distance_normalize: str = "mean"
    strength: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    activity: float = 0.0
    communicability_detach: bool = False
    sparsity_mask: str = "none"
    dale: bool = False
    excitatory_fraction: float = 0.8
    trainable: bool = True
    tau_map: str | None = None
    tau_range: tuple[float, float] = (100.0, 1000.0)
    tau_null: str = "none"
    distance_null: str = "none"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string; got {self.name!r}")
        for field in _BOOL_FIELDS:
            value = getattr(self, field)
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{field} must be a bool; got {type(value).__name__} {value!r}")
            object.__setattr__(self, field, bool(value))
        for field in ("input_networks", "output_networks"):
            object.__setattr__(self, field, _networks(getattr(self, field), field))
        _choice(self.spatial_cost, SPATIAL_COSTS, "spatial_cost", allow_none=True)
        _choice(self.distance, DISTANCES, "distance")
        _choice(self.distance_normalize, NORMALIZATIONS, "distance_normalize")
        _choice(self.sparsity_mask, SPARSITY_MASKS, "sparsity_mask")
        for field in (*_STRENGTH_FIELDS, "excitatory_fraction"):
            value = getattr(self, field)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"{field} must be a real number; got {type(value).__name__} {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{field} must be finite; got {value}")
            if value < 0:
                raise ValueError(f"{field} must be >= 0; got {value} (use 0 to switch it off)")
            object.__setattr__(self, field, value)
        if self.excitatory_fraction > 1:
            raise ValueError(f"excitatory_fraction must lie in [0, 1]; got {self.excitatory_fraction}")
        self._check_tau()
        if self.strength > 0 and self.spatial_cost is None:
            raise ValueError(
                f"strength={self.strength} has no effect without a spatial_cost; set spatial_cost "
                f"to one of {list(SPATIAL_COSTS)} or strength to 0"
            )

    def _check_tau(self) -> None:
        if self.tau_map is not None and (not isinstance(self.tau_map, str) or not self.tau_map):
            raise TypeError(f"tau_map must be None, 'gradient' or a map name; got {self.tau_map!r}")
        tr = self.tau_range
        if isinstance(tr, str) or not hasattr(tr, "__len__") or len(tr) != 2 or not all(
                isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v) for v in tr):
            raise ValueError(f"tau_range must be two numbers (tau_min, tau_max) in ms; got {tr!r}")
        if not 0 < tr[0] <= tr[1]:
            raise ValueError(f"tau_range must satisfy 0 < tau_min <= tau_max; got {tuple(tr)}")
        object.__setattr__(self, "tau_range", (float(tr[0]), float(tr[1])))
        _choice(self.tau_null, TAU_NULLS, "tau_null")
        _choice(self.distance_null, TAU_NULLS, "distance_null")
        if self.distance_null != "none" and (self.spatial_cost is None or self.distance == "geodesic"):
            raise ValueError(f"distance_null={self.distance_null!r} permutes the geometry of a spatial cost on "
                             "euclidean, gradient or uniform distances; this regime has spatial_cost="
                             f"{self.spatial_cost!r}, distance={self.distance!r}")
        if self.tau_null != "none" and self.tau_map is None:
            raise ValueError(f"tau_null={self.tau_null!r} permutes a tau_map; set tau_map (e.g. 'gradient')")

    # ------------------------------------------------------------------ (de)serialisation
    @classmethod
    def _field_names(cls) -> tuple[str, ...]:
        """Names of all fields, in declaration order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (network tuples become lists); inverse of :meth:`from_dict`."""
        out = dataclasses.asdict(self)
        out["input_networks"] = list(self.input_networks)
        out["output_networks"] = list(self.output_networks)
        out["tau_range"] = list(self.tau_range)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Regime":
        """Build a regime from a mapping; missing keys take their defaults except ``name``."""
        if not isinstance(d, Mapping):
            raise TypeError(f"d must be a mapping of field names to values; got {type(d).__name__}")
        valid = cls._field_names()
        unknown = sorted(set(d) - set(valid))
        if unknown:
            raise ValueError(f"unknown regime keys {unknown}; valid keys are {list(valid)}")
        if "name" not in d:
            raise ValueError("a regime needs a 'name' key")
        return cls(**dict(d))

    def to_toml(self) -> str:
        """TOML text with one top-level key per field (``spatial_cost = None`` is omitted)."""
        return _toml.dumps({k: v for k, v in self.to_dict().items() if v is not None})

    @classmethod
    def from_toml(cls, text: str) -> "Regime":
        """Parse TOML text written by :meth:`to_toml` (or by hand, same keys)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a TOML string; got {type(text).__name__}")
        return cls.from_dict(_toml.loads(text, what="the regime"))

    def replace(self, **changes) -> "Regime":
        """Copy with some fields changed (re-validated)."""
        unknown = sorted(set(changes) - set(self._field_names()))
        if unknown:
            raise ValueError(f"unknown regime keys {unknown}; valid keys are {list(self._field_names())}")
        return dataclasses.replace(self, **changes)


#: Named regimes; add your own with ``REGIMES.register(name, Regime(name, ...))``.
REGIMES: Registry[Regime] = Registry("regime")
for _regime in (
    Regime("vanilla", l2=1e-3),
    Regime("l1", l1=1e-3),
    Regime("masked", io_masking=True, l2=1e-3),
    Regime("embedded", spatial_cost="l1", distance="euclidean", strength=1e-3),
    Regime("bio", io_masking=True, spatial_cost="l1", distance="euclidean", strength=1e-3),
    Regime("sernn", spatial_cost="communicability", distance="euclidean", strength=1e-2),
):
    REGIMES.register(_regime.name, _regime)


def get_regime(name: str, **overrides) -> Regime:
    """A registered regime, optionally with some fields overridden.

    Parameters
    ----------
    name : str
        One of ``REGIMES`` ('vanilla', 'l1', 'masked', 'embedded', 'bio', 'sernn').
    **overrides
        Field changes, e.g. ``strength=3e-3``.
    """
    regime = REGIMES.get(name, argument="regime")
    return regime.replace(**overrides) if overrides else regime


# ----------------------------------------------------------------------------- resolution
def _readonly(a: np.ndarray | None) -> np.ndarray | None:
    if a is not None:
        a.setflags(write=False)
    return a


@dataclasses.dataclass(frozen=True)
class RegimeArrays:
    """A regime resolved on one graph (read-only arrays).

    Attributes
    ----------
    n_nodes : int
    input_nodes, output_nodes : (N_in,), (N_out,) int ndarray or None
        Sorted node indices; None when the regime does not mask I/O (all nodes).
    distance : (N, N) float64 ndarray or None
        Normalised distance kernel; None when the regime has no spatial cost.
    recurrent_mask : (N, N) bool ndarray or None
        ``w[target, source]`` allowed where True; None when unconstrained.
    """

    n_nodes: int
    input_nodes: np.ndarray | None
    output_nodes: np.ndarray | None
    distance: np.ndarray | None
    recurrent_mask: np.ndarray | None

    def input_mask(self, n_inputs: int) -> np.ndarray | None:
        """(N, I) bool input mask, or None when every node receives input."""
        if self.input_nodes is None:
            return None
        return input_mask(self.n_nodes, self.input_nodes, n_inputs)

    def output_mask(self, n_outputs: int) -> np.ndarray | None:
        """(O, N) bool readout mask, or None when every node is read out."""
        if self.output_nodes is None:
            return None
        return output_mask(self.n_nodes, self.output_nodes, n_outputs)


def _select(graph, networks: tuple[str, ...], field: str) -> np.ndarray:
    try:
        idx = graph.select(networks=list(networks))
    except ValueError as exc:
        raise ValueError(f"{field}={list(networks)}: {exc} (change {field} or set io_masking=False)") from exc
    return np.array(idx, dtype=np.intp)


def resolve_regime(regime: Regime | str, graph) -> RegimeArrays:
    """Resolve a regime against a graph.

    Parameters
    ----------
    regime : Regime or str
        A regime or a registered name.
    graph : BrainGraph
        Provides ``n_nodes``, ``networks``, ``select``, ``distance`` and ``connectome``.

    Returns
    -------
    RegimeArrays
    """
    if isinstance(regime, str):
        regime = get_regime(regime)
    if not isinstance(regime, Regime):
        raise TypeError(f"regime must be a Regime or a registered name; got {type(regime).__name__}")
    n = int(graph.n_nodes)
    inputs = outputs = dist = mask = None
    if regime.io_masking:
        inputs = _select(graph, regime.input_networks, "input_networks")
        outputs = _select(graph, regime.output_networks, "output_networks")
    if regime.spatial_cost is not None:
        raw = (np.ones((n, n)) - np.eye(n)) if regime.distance == "uniform" else graph.distance(regime.distance)
        dist = distance_kernel(raw, regime.distance_normalize)
        if dist.shape != (n, n):
            raise ValueError(f"graph.distance({regime.distance!r}) has shape {dist.shape}; expected {(n, n)}")
    if regime.sparsity_mask == "connectome":
        conn = graph.connectome
        if conn is None:
            raise ValueError(
                "sparsity_mask='connectome' needs a graph with a connectome; load one "
                "(e.g. load_atlas(..., connectome=...)) or use graph.with_connectome(w)"
            )
        mask = np.asarray(conn) != 0
        if mask.shape != (n, n):
            raise ValueError(f"graph.connectome has shape {mask.shape}; expected {(n, n)}")
    return RegimeArrays(n, _readonly(inputs), _readonly(outputs), _readonly(dist), _readonly(mask))


def regime_cost(regime: Regime, w: torch.Tensor, arrays: RegimeArrays) -> torch.Tensor:
    """Total weight regularisation of a regime.

    ``strength * spatial_cost(W, D) + l1 * sum |W| + l2 * sum W**2``; the activity
    penalty depends on hidden states and is left to the trainer.

    Parameters
    ----------
    regime : Regime
    w : (N, N) or (K, N, N) tensor
        Recurrent weights ``w[target, source]``.
    arrays : RegimeArrays
        From ``resolve_regime(regime, graph)``.

    Returns
    -------
    cost : 0-d tensor, or (K,) tensor for an ensemble
    """
    if not isinstance(regime, Regime):
        raise TypeError(f"regime must be a Regime; got {type(regime).__name__}")
    if not isinstance(w, torch.Tensor) or w.ndim not in (2, 3):
        raise TypeError("w must be a torch.Tensor of shape (N, N) or (K, N, N)")
    if w.shape[-2:] != (arrays.n_nodes, arrays.n_nodes):
        raise ValueError(
            f"w has shape {tuple(w.shape)} but arrays were resolved for {arrays.n_nodes} nodes"
        )
    total = w.new_zeros(w.shape[:-2])
    if regime.spatial_cost is not None and regime.strength > 0:
        if arrays.distance is None:
            raise ValueError("arrays has no distance; resolve it with resolve_regime(regime, graph)")
        spatial = SPATIAL_COSTS.get(regime.spatial_cost, argument="spatial_cost")(w, arrays.distance, regime)
        total = total + regime.strength * spatial
    if regime.l1 > 0:
        total = total + regime.l1 * w.abs().sum(dim=(-2, -1))
    if regime.l2 > 0:
        total = total + regime.l2 * w.square().sum(dim=(-2, -1))
    return total


def regime_tau(regime: Regime, graph, seeds) -> np.ndarray | None:
    """Per-node time constants of a regime with a ``tau_map``, one row per network.

    Parameters
    ----------
    regime : Regime
    graph : BrainGraph
        Provides the map (``graph.gradient`` or ``graph.maps[tau_map]``) and, for
        ``tau_null='spin'``, ``sphere_coords`` and ``hemispheres``.
    seeds : sequence of int
        Network seeds; with a ``tau_null``, network ``k``'s permutation is drawn
        from ``seeds[k]``, so a network and its untrained twin share it.

    Returns
    -------
    (K, N) ndarray of ms, or None when the regime has no ``tau_map``.
    """
    from .analysis.maps import spin_nulls
    from .models._parametrize import tau_from_map

    if regime.tau_map is None:
        return None
    values = graph.gradient if regime.tau_map == "gradient" else graph.maps.get(regime.tau_map)
    if values is None:
        raise ValueError(f"regime {regime.name!r}: tau_map={regime.tau_map!r} is not on the graph "
                         f"(gradient: {'yes' if graph.gradient is not None else 'no'}, maps: {sorted(graph.maps)})")
    tau = tau_from_map(values, regime.tau_range)
    rows = []
    for seed in seeds:
        if regime.tau_null == "spin":
            if graph.sphere_coords is None:
                raise ValueError(f"regime {regime.name!r}: tau_null='spin' needs a graph with sphere_coords")
            rows.append(spin_nulls(tau, graph.sphere_coords, graph.hemispheres, n_perm=1, seed=int(seed))[0])
        elif regime.tau_null == "shuffle":
            rows.append(np.random.default_rng(int(seed)).permutation(tau))
        else:
            rows.append(tau)
    return np.stack(rows)
