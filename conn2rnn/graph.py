"""BrainGraph: the one object from which every conn2rnn model is built.

A :class:`BrainGraph` holds the regions of a brain atlas (or a synthetic grid):
names, hemispheres, networks, centroid coordinates in mm, a hierarchy gradient
oriented so that higher values are more associative, named brain maps, and an
optional structural connectome and functional connectivity matrix. Weight
matrices follow ``w[target, source]``: row ``i`` holds the inputs node ``i``
receives.

Graphs are immutable: constructors copy and validate their inputs, stored arrays
are read-only, and every transform (:meth:`BrainGraph.subset`,
:meth:`BrainGraph.with_connectome`, ...) returns a new graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ._validation import as_float_array, check_choice, readonly, square_matrix

YEO7_NETWORKS = ("Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default")
DISTANCE_KINDS = ("euclidean", "gradient", "geodesic")


def _names_array(values: Sequence[Any] | None, name: str, n: int, default: str) -> np.ndarray:
    if values is None:
        return readonly(np.full(n, default, dtype=object))
    arr = np.array([str(v) for v in values], dtype=object)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one entry per node ({n}); got {arr.shape[0]}")
    return readonly(arr)


def _distance_matrix(values: Any, name: str, n: int) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    if arr.shape != (n, n):
        raise ValueError(f"{name} must be (N, N) = ({n}, {n}); got shape {arr.shape}")
    if np.isnan(arr).any() or (arr < 0).any():
        raise ValueError(f"{name} must be non-negative distances without NaN (inf marks unreachable pairs)")
    if not np.array_equal(arr, arr.T) or np.any(np.diag(arr) != 0):
        raise ValueError(f"{name} must be symmetric with a zero diagonal")
    return readonly(arr)


@dataclass(frozen=True, eq=False)
class BrainGraph:
    """Regions of a brain atlas with coordinates, hierarchy, maps and connectivity.

    Build one with :meth:`from_arrays`, :meth:`from_grid` or
    :func:`conn2rnn.load_atlas`; the dataclass fields are read-only.

    Attributes
    ----------
    names : tuple of str, (N,)
        Unique region names.
    coords : (N, 3) ndarray
        Region centroids in mm.
    hemispheres : (N,) ndarray of str
        ``'L'``, ``'R'`` (or ``'-'`` for synthetic nodes).
    networks : (N,) ndarray of str
        Network label of each region (Yeo-7 for Schaefer atlases).
    gradient : (N,) ndarray or None
        Hierarchy gradient, higher = more associative.
    maps : mapping of str to (N,) ndarray
        Named brain maps (e.g. ``t1wt2w``, ``fc_gradient1``, ``sa_axis``).
    connectome : (N, N) ndarray or None
        Structural connectome, ``w[target, source]``.
    fc : (N, N) ndarray or None
        Functional connectivity.
    sphere_coords : (N, 3) ndarray or None
        Region centroids on the spherical surface, for spin nulls.
    distances : mapping of str to (N, N) ndarray
        Precomputed distances that coordinates alone cannot give, in mm
        (``'geodesic'``: along the cortical surface, ``inf`` between
        hemispheres; bundled with the Schaefer atlases).
    metadata : mapping
        Atlas name, space, provenance, citations and notes.
    """

    names: tuple[str, ...]
    coords: np.ndarray
    hemispheres: np.ndarray
    networks: np.ndarray
    gradient: np.ndarray | None = None
    maps: Mapping[str, np.ndarray] = field(default_factory=dict)
    connectome: np.ndarray | None = None
    fc: np.ndarray | None = None
    sphere_coords: np.ndarray | None = None
    distances: Mapping[str, np.ndarray] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_arrays(
        cls,
        names: Sequence[str],
        coords: Any,
        *,
        hemispheres: Sequence[str] | None = None,
        networks: Sequence[str] | None = None,
        gradient: Any = None,
        maps: Mapping[str, Any] | None = None,
        connectome: Any = None,
        fc: Any = None,
        sphere_coords: Any = None,
        distances: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        valid_networks: Iterable[str] | None = None,
    ) -> "BrainGraph":
        """Build a graph from arrays, copying and validating every input.

        Parameters
        ----------
        names : sequence of str, (N,)
            Unique region names.
        coords : (N, 3) array_like
            Centroids in mm.
        hemispheres : sequence of {'L', 'R'}, optional
            Hemisphere of each region; ``'-'`` for all if omitted.
        networks : sequence of str, optional
            Network label of each region; ``'none'`` for all if omitted.
        gradient : (N,) array_like, optional
            Hierarchy gradient (higher = more associative).
        maps : mapping of str to (N,) array_like, optional
            Named brain maps.
        connectome : (N, N) array_like, optional
            Structural connectome as ``w[target, source]``. Stored as given:
            log-transformed tractography weights may hold a few negative
            entries, and models decide how to treat signs.
        fc : (N, N) array_like, optional
            Functional connectivity.
        sphere_coords : (N, 3) array_like, optional
            Centroids on the sphere (for spin nulls).
        distances : mapping of str to (N, N) array_like, optional
            Named precomputed distances in mm (non-negative, symmetric, zero
            diagonal; ``inf`` allowed for unreachable pairs), e.g. ``'geodesic'``.
        metadata : mapping, optional
            Free-form metadata (atlas, space, provenance, citations).
        valid_networks : iterable of str, optional
            If given, every network label must be one of these.

        Returns
        -------
        BrainGraph
        """
        if isinstance(names, str) or not isinstance(names, Sequence | np.ndarray):
            raise TypeError(f"names must be a sequence of region names; got {type(names).__name__}")
        names_t = tuple(str(n) for n in names)
        n = len(names_t)
        if n == 0:
            raise ValueError("names is empty; a graph needs at least one region")
        if len(set(names_t)) != n:
            dup = sorted({x for x in names_t if names_t.count(x) > 1})
            raise ValueError(f"names must be unique; duplicated: {dup[:5]}")
        xyz = readonly(as_float_array(coords, "coords", shape=(n, 3)))
        hemi = _names_array(hemispheres, "hemispheres", n, "-")
        bad = sorted(set(hemi) - {"L", "R", "-"})
        if bad:
            raise ValueError(f"hemispheres must be 'L' or 'R'; got {bad}")
        nets = _names_array(networks, "networks", n, "none")
        if valid_networks is not None:
            valid = tuple(valid_networks)
            unknown = sorted(set(nets) - set(valid))
            if unknown:
                raise ValueError(f"unknown network name(s) {unknown}; valid networks: {list(valid)}")
        grad = None if gradient is None else readonly(as_float_array(gradient, "gradient", shape=(n,)))
        map_dict = {}
        for key, values in (maps or {}).items():
            map_dict[str(key)] = readonly(as_float_array(values, f"maps[{key!r}]", shape=(n,)))
        sc = None if connectome is None else readonly(square_matrix(connectome, "connectome", n))
        fcm = None if fc is None else readonly(square_matrix(fc, "fc", n))
        sph = None if sphere_coords is None else readonly(
            as_float_array(sphere_coords, "sphere_coords", shape=(n, 3)))
        dist = {str(key): _distance_matrix(values, f"distances[{key!r}]", n)
                for key, values in (distances or {}).items()}
        return cls(
            names=names_t, coords=xyz, hemispheres=hemi, networks=nets, gradient=grad,
            maps=MappingProxyType(map_dict), connectome=sc, fc=fcm, sphere_coords=sph,
            distances=MappingProxyType(dist), metadata=MappingProxyType(dict(metadata or {})),
        )

    @classmethod
    def from_grid(cls, shape: Sequence[int] = (5, 5, 4), spacing: float = 1.0) -> "BrainGraph":
        """A synthetic graph of nodes on a regular 3-D grid.

        The default 5 x 5 x 4 grid with unit spacing is the 100-node space of
        spatially embedded RNNs (Achterberg, Akarca et al. 2023). The graph is
        labelled synthetic in its metadata; it has no gradient and no connectome.

        Parameters
        ----------
        shape : sequence of 3 int
            Grid size along x, y, z.
        spacing : float
            Distance between neighbouring nodes in mm.

        Returns
        -------
        BrainGraph
        """
        shape = tuple(int(s) for s in shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"shape must be 3 positive integers (x, y, z); got {shape}")
        if not np.isfinite(spacing) or spacing <= 0:
            raise ValueError(f"spacing must be a positive number of mm; got {spacing}")
        grid = np.stack(np.meshgrid(*[np.arange(s) for s in shape], indexing="ij"), -1)
        coords = grid.reshape(-1, 3) * float(spacing)
        names = [f"node_{i}_{j}_{k}" for i, j, k in grid.reshape(-1, 3)]
        meta = {"atlas": f"grid{shape[0]}x{shape[1]}x{shape[2]}", "space": "synthetic",
                "synthetic": True, "spacing_mm": float(spacing)}
        return cls.from_arrays(names, coords, metadata=meta)

    # -------------------------------------------------------------- accessors
    @property
    def n_nodes(self) -> int:
        """Number of regions N."""
        return len(self.names)

    def __len__(self) -> int:
        return self.n_nodes

    @property
    def atlas(self) -> str:
        """Atlas name from the metadata ('custom' if none)."""
        return str(self.metadata.get("atlas", "custom"))

    def __repr__(self) -> str:
        parts = [f"atlas={self.atlas!r}", f"n_nodes={self.n_nodes}"]
        nets = pd.unique(self.networks)
        if not (len(nets) == 1 and nets[0] == "none"):
            parts.append(f"networks={len(nets)}")
        if self.gradient is not None:
            parts.append("gradient")
        if self.maps:
            parts.append(f"maps={sorted(self.maps)}")
        if self.connectome is not None:
            density = np.count_nonzero(self.connectome) / max(self.n_nodes * (self.n_nodes - 1), 1)
            parts.append(f"connectome(density={density:.2f})")
        if self.fc is not None:
            parts.append("fc")
        return f"BrainGraph({', '.join(parts)})"

    def summary(self) -> pd.DataFrame:
        """One row per region: name, hemisphere, network, coordinates, gradient, maps, degree.

        Returns
        -------
        pandas.DataFrame
            Indexed by region name.
        """
        df = pd.DataFrame({
            "hemisphere": self.hemispheres, "network": self.networks,
            "x": self.coords[:, 0], "y": self.coords[:, 1], "z": self.coords[:, 2],
        }, index=pd.Index(self.names, name="name"))
        if self.gradient is not None:
            df["gradient"] = self.gradient
        for key, values in self.maps.items():
            df[key] = values
        if self.connectome is not None:
            df["in_degree"] = np.count_nonzero(self.connectome, axis=1)
            df["out_degree"] = np.count_nonzero(self.connectome, axis=0)
            df["strength"] = self.connectome.sum(axis=1)
        return df

    # ------------------------------------------------------------- transforms
    def _replace(self, **changes: Any) -> "BrainGraph":
        return replace(self, **changes)

    def with_connectome(self, connectome: Any, *, name: str | None = None) -> "BrainGraph":
        """Return a new graph with ``connectome`` ((N, N), ``w[target, source]``, finite)."""
        sc = readonly(square_matrix(connectome, "connectome", self.n_nodes))
        meta = dict(self.metadata)
        if name is not None:
            meta["connectome"] = name
        return self._replace(connectome=sc, metadata=MappingProxyType(meta))

    def with_fc(self, fc: Any) -> "BrainGraph":
        """Return a new graph with functional connectivity ``fc`` ((N, N))."""
        return self._replace(fc=readonly(square_matrix(fc, "fc", self.n_nodes)))

    def with_map(self, name: str, values: Any) -> "BrainGraph":
        """Return a new graph with brain map ``name`` set to ``values`` ((N,))."""
        arr = readonly(as_float_array(values, f"maps[{name!r}]", shape=(self.n_nodes,)))
        maps = dict(self.maps)
        maps[str(name)] = arr
        return self._replace(maps=MappingProxyType(maps))

    def with_gradient(self, values: Any, *, source: str | None = None) -> "BrainGraph":
        """Return a new graph whose hierarchy gradient is ``values`` ((N,), higher = associative)."""
        grad = readonly(as_float_array(values, "gradient", shape=(self.n_nodes,)))
        meta = dict(self.metadata)
        if source is not None:
            meta["gradient_source"] = source
        return self._replace(gradient=grad, metadata=MappingProxyType(meta))

    def subset(self, nodes: Any) -> "BrainGraph":
        """Return the graph induced by ``nodes`` (int indices or an (N,) bool mask), in node order.

        The connectome and FC are restricted to the kept nodes; the dropped
        nodes are recorded in ``metadata['subset_of']``.
        """
        idx = self._as_indices(nodes, "nodes")
        if idx.size == 0:
            raise ValueError("nodes selects no region; a graph needs at least one")

        def take(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        def take2(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[np.ix_(idx, idx)]

        meta = dict(self.metadata)
        meta["subset_of"] = f"{self.atlas} ({self.n_nodes} nodes -> {idx.size})"
        return BrainGraph.from_arrays(
            [self.names[i] for i in idx], self.coords[idx],
            hemispheres=self.hemispheres[idx], networks=self.networks[idx],
            gradient=take(self.gradient), maps={k: v[idx] for k, v in self.maps.items()},
            connectome=take2(self.connectome), fc=take2(self.fc),
            sphere_coords=take(self.sphere_coords),
            distances={k: take2(v) for k, v in self.distances.items()}, metadata=meta,
        )

    def hemisphere(self, which: str) -> "BrainGraph":
        """Return the graph of one hemisphere (``'L'`` or ``'R'``)."""
        check_choice(which, "hemisphere", ("L", "R"))
        return self.subset(self.hemispheres == which)

    # -------------------------------------------------------------- selection
    def _as_indices(self, nodes: Any, name: str) -> np.ndarray:
        if isinstance(nodes, (str, bytes)):
            nodes = [nodes]  # one region name
        arr = np.asarray(nodes)
        if arr.size == 0 and arr.dtype != bool:
            raise ValueError(f"{name} is empty; pass the regions to keep as int indices, region names "
                             f"or an ({self.n_nodes},) bool mask, with at least one region")
        if arr.dtype == bool:
            if arr.shape != (self.n_nodes,):
                raise ValueError(f"{name} as a mask must have shape ({self.n_nodes},); got {arr.shape}")
            return np.flatnonzero(arr)
        if arr.dtype.kind in "US" or arr.dtype == object:
            lookup = {n: i for i, n in enumerate(self.names)}
            missing = [str(a) for a in arr.ravel() if a not in lookup]
            if missing:
                raise ValueError(f"{name}: unknown region name(s) {missing[:5]}")
            return np.array(sorted({lookup[a] for a in arr.ravel()}), dtype=int)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must be int indices, region names or a bool mask; got {arr.dtype}")
        idx = np.unique(arr.ravel())
        if idx.size and (idx[0] < 0 or idx[-1] >= self.n_nodes):
            raise ValueError(f"{name} has indices outside 0..{self.n_nodes - 1}")
        return idx.astype(int)

    def node_mask(self, networks: str | Iterable[str] | None = None, *,
                  hemisphere: str | None = None,
                  gradient_quantile: tuple[float, float] | None = None) -> np.ndarray:
        """Boolean (N,) mask of the nodes meeting every given criterion.

        Parameters
        ----------
        networks : str or iterable of str, optional
            Keep nodes in these networks (e.g. ``"Vis"`` or ``("Cont", "Default")``).
        hemisphere : {'L', 'R'}, optional
            Keep nodes of one hemisphere.
        gradient_quantile : (low, high), optional
            Keep nodes whose gradient lies between these quantiles (0..1, inclusive).

        Returns
        -------
        (N,) ndarray of bool
        """
        mask = np.ones(self.n_nodes, dtype=bool)
        if networks is not None:
            wanted = (networks,) if isinstance(networks, str) else tuple(networks)
            known = tuple(pd.unique(self.networks))
            unknown = [w for w in wanted if w not in known]
            if unknown:
                raise ValueError(f"unknown network(s) {unknown}; this graph has {list(known)}")
            mask &= np.isin(self.networks, wanted)
        if hemisphere is not None:
            check_choice(hemisphere, "hemisphere", ("L", "R"))
            mask &= self.hemispheres == hemisphere
        if gradient_quantile is not None:
            if self.gradient is None:
                raise ValueError("gradient_quantile needs a gradient; build the graph with one "
                                 "(load_atlas gives the FC gradient, or use with_gradient)")
            lo, hi = (float(q) for q in gradient_quantile)
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError(f"gradient_quantile must satisfy 0 <= low <= high <= 1; got {gradient_quantile}")
            qlo, qhi = np.quantile(self.gradient, [lo, hi])
            mask &= (self.gradient >= qlo) & (self.gradient <= qhi)
        return mask

    def select(self, networks: str | Iterable[str] | None = None, *,
               hemisphere: str | None = None,
               gradient_quantile: tuple[float, float] | None = None) -> np.ndarray:
        """Sorted int indices of the nodes meeting every criterion (see :meth:`node_mask`)."""
        return np.flatnonzero(self.node_mask(networks, hemisphere=hemisphere,
                                             gradient_quantile=gradient_quantile))

    # -------------------------------------------------------------- distances
    def distance(self, kind: str | Any = "euclidean", *, interhemispheric: str = "euclidean") -> np.ndarray:
        """Pairwise distances between regions.

        Parameters
        ----------
        kind : {'euclidean', 'gradient', 'geodesic'}, a key of :attr:`distances`, or (N, N) array_like
            ``'euclidean'``: straight-line distance between centroids (mm).
            ``'gradient'``: ``|g_i - g_j|`` along the hierarchy gradient (its units).
            ``'geodesic'``: shortest path along the conte69 midthickness surface
            between the parcels' central vertices (mm), within a hemisphere;
            precomputed in :attr:`distances` (bundled with the Schaefer
            atlases). Any other key of :attr:`distances` is returned as stored. A matrix (e.g. tract lengths) is
            validated (square, finite, non-negative) and returned as a copy.
        interhemispheric : {'euclidean', 'inf'}
            Precomputed distances only: pairs with no path (``inf``, e.g. across
            hemispheres on the surface) get their Euclidean distance (default)
            or stay ``inf``.

        Returns
        -------
        (N, N) ndarray
            Symmetric, zero diagonal, read-only.
        """
        if not isinstance(kind, str):
            return readonly(square_matrix(kind, "distance", self.n_nodes, nonnegative=True))
        check_choice(kind, "distance kind", tuple(dict.fromkeys(DISTANCE_KINDS + tuple(self.distances))))
        if kind == "euclidean":
            diff = self.coords[:, None, :] - self.coords[None, :, :]
            return readonly(np.sqrt((diff ** 2).sum(-1)))
        if kind == "gradient":
            if self.gradient is None:
                raise ValueError("distance('gradient') needs a gradient; build the graph with one "
                                 "(load_atlas gives the FC gradient, or use with_gradient)")
            return readonly(np.abs(self.gradient[:, None] - self.gradient[None, :]))
        check_choice(interhemispheric, "interhemispheric", ("euclidean", "inf"))
        if kind not in self.distances:
            raise ValueError(
                f"distance({kind!r}) needs precomputed {kind} distances, which this graph ({self.atlas}) "
                f"does not carry (it has: {sorted(self.distances) or 'none'}); graphs from "
                "load_atlas('schaefer100' / '200' / '400') carry geodesic distances. "
                "Pass a distance matrix instead, e.g. graph.distance(tract_lengths)")
        d = np.array(self.distances[kind], dtype=np.float64)
        if interhemispheric == "euclidean":
            apart = ~np.isfinite(d)
            d[apart] = self.distance("euclidean")[apart]
        return readonly(d)

    # ----------------------------------------------------------------- export
    def to_networkx(self, weight: str = "connectome"):
        """A ``networkx.DiGraph`` with one node per region and attributes.

        Parameters
        ----------
        weight : {'connectome', 'fc'}
            Which matrix defines the edges: an edge ``source -> target`` with
            ``weight = w[target, source]`` for each non-zero entry.

        Returns
        -------
        networkx.DiGraph
        """
        import networkx as nx

        check_choice(weight, "weight", ("connectome", "fc"))
        w = self.connectome if weight == "connectome" else self.fc
        if w is None:
            raise ValueError(f"this graph has no {weight}; attach one with "
                             f"{'with_connectome' if weight == 'connectome' else 'with_fc'}")
        g = nx.DiGraph(atlas=self.atlas)
        for i, name in enumerate(self.names):
            attrs = {"hemisphere": self.hemispheres[i], "network": self.networks[i],
                     "coords": tuple(self.coords[i])}
            if self.gradient is not None:
                attrs["gradient"] = float(self.gradient[i])
            g.add_node(name, **attrs)
        tgt, src = np.nonzero(w)
        g.add_weighted_edges_from(
            (self.names[s], self.names[t], float(w[t, s])) for t, s in zip(tgt, src) if s != t
        )
        return g
