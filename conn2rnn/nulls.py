"""Null models of a connectome: what survives when topology, weights or geometry are randomised.

Every function takes ``w[target, source]``, never modifies it, and returns a new
matrix drawn with an explicit ``seed``. The diagonal (self-connections) is left
in place by every null; only off-diagonal edges move. Every null keeps the
multiset of edge weights. Beyond that:

* :func:`rewire_degree_preserving`: exact in/out degrees; topology and geometry random.
* :func:`shuffle_weights`: exact topology (hence degrees and edge lengths); weights permuted.
* :func:`random_density_matched`: only the number of edges; everything else random.
* :func:`spatial_null` ``"exponential_distance_rule"``: edge count and mean edge length;
  weights handed out by length rank.
* :func:`spatial_null` ``"length_preserving"``: exact degrees and the binned edge-length
  histogram; each weight stays in its length bin.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._registry import Registry
from ._validation import as_rng, check_float, check_int, square_matrix

__all__ = [
    "CONNECTOME_NULLS",
    "SPATIAL_METHODS",
    "random_density_matched",
    "rewire_degree_preserving",
    "shuffle_weights",
    "spatial_null",
]

SPATIAL_METHODS: tuple[str, ...] = ("exponential_distance_rule", "length_preserving")


def _check_w(w: Any, symmetric: bool) -> np.ndarray:
    arr = square_matrix(w, "w")
    if symmetric and not np.array_equal(arr, arr.T):
        raise ValueError("w is not symmetric but a symmetric null was asked for; pass a symmetric "
                         "connectome or use the directed variant (directed=True / symmetric=False)")
    return arr


def _edges(w: np.ndarray, directed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Off-diagonal edges as (target, source) index arrays; one entry per pair if undirected."""
    nz = w != 0
    np.fill_diagonal(nz, False)
    return np.nonzero(nz if directed else np.triu(nz, 1))


def _assemble(w: np.ndarray, tgt: np.ndarray, src: np.ndarray, wt: np.ndarray, directed: bool) -> np.ndarray:
    out = np.diag(np.diag(w)).astype(np.float64)
    out[tgt, src] = wt
    if not directed:
        out[src, tgt] = wt
    return out


def _swap(w: np.ndarray, *, directed: bool, n_swaps_per_edge: float, rng: np.random.Generator,
          bins: np.ndarray | None = None) -> np.ndarray:
    """Maslov-Sneppen double-edge swaps; each edge keeps its weight and (with ``bins``) its length bin.

    A swap replaces ``a->b, c->d`` by ``a->d, c->b`` (weights move with the sources
    ``a`` and ``c``), so every in- and out-degree is kept. With ``bins`` a swap is
    accepted only if each new edge lies in the length bin of the edge it replaces.
    """
    tgt, src = _edges(w, directed)
    n_edges = tgt.size
    if n_edges < 2:
        raise ValueError(f"w has {n_edges} off-diagonal edge(s); rewiring needs at least 2")
    wt = w[tgt, src].copy()
    tgt, src = tgt.copy(), src.copy()
    adj = w != 0
    edge_bin = None if bins is None else bins[tgt, src]
    n_target = int(round(n_swaps_per_edge * n_edges))
    n_cand = 16 if bins is None else 512  # partner edges screened at once per attempt
    done = attempts = 0
    max_attempts = 20 * n_target + 1000
    chunk = 256  # random numbers are drawn for this many attempts at a time
    while done < n_target and attempts < max_attempts:
        if attempts % chunk == 0:
            first = rng.integers(n_edges, size=chunk)
            partners = rng.integers(n_edges, size=(chunk, n_cand))
            flips = rng.random((chunk, n_cand)) < 0.5
        e1, cand = int(first[attempts % chunk]), partners[attempts % chunk]
        flip = flips[attempts % chunk]
        attempts += 1
        b, a = tgt[e1], src[e1]
        d, c = tgt[cand], src[cand]
        if not directed:  # an undirected edge can be swapped in either orientation
            c, d = np.where(flip, d, c), np.where(flip, c, d)
        ok = (c != a) & (d != b) & (d != a) & (c != b) & ~adj[d, a] & ~adj[b, c]
        if bins is not None:
            ok &= (bins[d, a] == edge_bin[e1]) & (bins[b, c] == edge_bin[cand])
        hits = np.flatnonzero(ok)
        if hits.size == 0:
            continue
        j = hits[0]
        e2, cj, dj = cand[j], c[j], d[j]
        adj[b, a] = adj[dj, cj] = False
        adj[dj, a] = adj[b, cj] = True
        if not directed:
            adj[a, b] = adj[cj, dj] = False
            adj[a, dj] = adj[cj, b] = True
        tgt[e1], src[e1] = dj, a
        tgt[e2], src[e2] = b, cj
        done += 1
    if done < n_target:
        warnings.warn(f"only {done} of {n_target} edge swaps succeeded after {attempts} attempts; the graph is "
                      "too dense (or the length bins too narrow) to randomise fully", RuntimeWarning, stacklevel=3)
    return _assemble(w, tgt, src, wt, directed)


def rewire_degree_preserving(w: Any, *, directed: bool = True, n_swaps_per_edge: float = 10,
                             seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Degree-preserving randomisation by double-edge swaps (Maslov & Sneppen 2002).

    Parameters
    ----------
    w : (N, N) array_like
        Connectome ``w[target, source]``.
    directed : bool
        ``True``: in- and out-degrees are kept and each weight moves with its source
        node (so out-strengths are kept too). ``False``: ``w`` must be symmetric;
        degrees are kept and the result is symmetric.
    n_swaps_per_edge : float
        Successful swaps per edge (10 mixes thoroughly).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    (N, N) ndarray
        Same degrees, same weight multiset, same diagonal.
    """
    arr = _check_w(w, symmetric=not directed)
    swaps = check_float(n_swaps_per_edge, "n_swaps_per_edge", low=0.0, low_open=True)
    return _swap(arr, directed=directed, n_swaps_per_edge=swaps, rng=as_rng(seed))


def shuffle_weights(w: Any, *, symmetric: bool = False, seed: int | np.random.Generator | None = None
                    ) -> np.ndarray:
    """Keep the topology, permute the weights among the existing off-diagonal edges.

    Parameters
    ----------
    w : (N, N) array_like
    symmetric : bool
        Permute the weights of undirected edges (upper triangle) and mirror them;
        ``w`` must be symmetric.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    (N, N) ndarray
    """
    arr = _check_w(w, symmetric)
    tgt, src = _edges(arr, directed=not symmetric)
    wt = as_rng(seed).permutation(arr[tgt, src])
    return _assemble(arr, tgt, src, wt, directed=not symmetric)


def random_density_matched(w: Any, *, symmetric: bool = False, seed: int | np.random.Generator | None = None
                           ) -> np.ndarray:
    """A random graph with the same number of edges, carrying the original weights.

    Edges are placed uniformly at random among off-diagonal pairs (Erdős-Rényi
    G(N, m)); the original weights are assigned to them in random order.

    Parameters
    ----------
    w : (N, N) array_like
    symmetric : bool
        Place undirected edges and mirror them; ``w`` must be symmetric.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    (N, N) ndarray
    """
    arr = _check_w(w, symmetric)
    rng = as_rng(seed)
    tgt, src = _edges(arr, directed=not symmetric)
    pool_t, pool_s = _edges(np.ones_like(arr), directed=not symmetric)
    pick = rng.choice(pool_t.size, size=tgt.size, replace=False)
    return _assemble(arr, pool_t[pick], pool_s[pick], rng.permutation(arr[tgt, src]), directed=not symmetric)


def _edr_positions(lengths: np.ndarray, n_edges: int, target_mean: float, rng: np.random.Generator
                   ) -> np.ndarray:
    """Pick ``n_edges`` pair indices with probability proportional to exp(-eta * length), without
    replacement (Gumbel top-k); eta is set by bisection so that the mean picked length matches."""
    scale = lengths.mean()
    if not scale > 0:
        raise ValueError("distance is zero between every pair; a spatial null needs distinct positions")
    dn = lengths / scale
    gumbel = rng.gumbel(size=lengths.size)  # fixed across eta: the fit is deterministic given the seed

    def pick(eta: float) -> np.ndarray:
        return np.argpartition(gumbel - eta * dn, lengths.size - n_edges)[lengths.size - n_edges:]

    lo, hi = -50.0, 50.0  # in units of the mean pair distance
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if lengths[pick(mid)].mean() > target_mean:
            lo = mid
        else:
            hi = mid
    return pick(0.5 * (lo + hi))


def spatial_null(w: Any, distance: Any, *, method: str = "exponential_distance_rule", symmetric: bool = False,
                 n_bins: int = 10, n_swaps_per_edge: float = 10,
                 seed: int | np.random.Generator | None = None) -> np.ndarray:
    """A random graph that keeps the connectome's dependence on distance.

    Parameters
    ----------
    w : (N, N) array_like
        Connectome ``w[target, source]``.
    distance : (N, N) array_like
        Pairwise distances (mm), e.g. ``graph.distance()``.
    method : {'exponential_distance_rule', 'length_preserving'}
        ``'exponential_distance_rule'``: as many edges as ``w``, drawn without
        replacement with probability proportional to ``exp(-eta d)`` (Ercsey-Ravasz
        et al. 2013), ``eta`` fit so that the mean edge length equals the original's;
        weights are handed out by length rank (the k-th shortest new edge gets the
        weight of the k-th shortest original edge), which keeps the weight-length
        relation. ``'length_preserving'``: degree-preserving swaps accepted only when
        each new edge falls in the same length bin (``n_bins`` quantile bins of the
        original edge lengths) as the edge it replaces, whose weight it takes: degrees,
        the binned length histogram and the weight-length relation are all kept.
    symmetric : bool
        Undirected null (``w`` and ``distance`` must be symmetric); the result is symmetric.
    n_bins : int
        Length bins of ``'length_preserving'``.
    n_swaps_per_edge : float
        Successful swaps per edge of ``'length_preserving'``.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    (N, N) ndarray
    """
    if method not in SPATIAL_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(SPATIAL_METHODS)}")
    arr = _check_w(w, symmetric)
    dist = square_matrix(distance, "distance", arr.shape[0], nonnegative=True)
    if symmetric and not np.allclose(dist, dist.T):
        raise ValueError("distance must be symmetric for a symmetric null")
    rng = as_rng(seed)
    tgt, src = _edges(arr, directed=not symmetric)
    if tgt.size < 2:
        raise ValueError(f"w has {tgt.size} off-diagonal edge(s); a spatial null needs at least 2")
    edge_len = dist[tgt, src]
    if method == "length_preserving":
        n_bins = check_int(n_bins, "n_bins", low=1)
        swaps = check_float(n_swaps_per_edge, "n_swaps_per_edge", low=0.0, low_open=True)
        inner = np.quantile(edge_len, np.linspace(0, 1, n_bins + 1)[1:-1])
        return _swap(arr, directed=not symmetric, n_swaps_per_edge=swaps, rng=rng,
                     bins=np.digitize(dist, inner))
    pool_t, pool_s = _edges(np.ones_like(arr), directed=not symmetric)
    pool_len = dist[pool_t, pool_s]
    pick = _edr_positions(pool_len, tgt.size, float(edge_len.mean()), rng)
    new_t, new_s = pool_t[pick], pool_s[pick]
    order_new = np.argsort(pool_len[pick], kind="stable")
    weights_by_length = arr[tgt, src][np.argsort(edge_len, kind="stable")]
    wt = np.empty(tgt.size)
    wt[order_new] = weights_by_length
    return _assemble(arr, new_t, new_s, wt, directed=not symmetric)


# --------------------------------------------------------------------- registry
def _connectome(graph: Any) -> tuple[np.ndarray, bool]:
    if getattr(graph, "connectome", None) is None:
        raise ValueError("connectome nulls need a graph with a connectome; load one with "
                         "load_atlas(..., connectome='enigma_hcp') or graph.with_connectome(w)")
    w = np.asarray(graph.connectome)
    return w, bool(np.allclose(w, w.T))


def _original(graph: Any, seed: int) -> np.ndarray:
    return _connectome(graph)[0]


def _rewired(graph: Any, seed: int) -> np.ndarray:
    w, symmetric = _connectome(graph)
    return rewire_degree_preserving(w, directed=not symmetric, seed=seed)


def _weight_shuffle(graph: Any, seed: int) -> np.ndarray:
    w, symmetric = _connectome(graph)
    return shuffle_weights(w, symmetric=symmetric, seed=seed)


def _random(graph: Any, seed: int) -> np.ndarray:
    w, symmetric = _connectome(graph)
    return random_density_matched(w, symmetric=symmetric, seed=seed)


def _spatial(graph: Any, seed: int) -> np.ndarray:
    w, symmetric = _connectome(graph)
    return spatial_null(w, graph.distance("euclidean"), symmetric=symmetric, seed=seed)


#: Connectome variants by name, ``CONNECTOME_NULLS.get(name)(graph, seed) -> (N, N) array``:
#: the readout-only reservoir variants of experiment specs (``reservoirs = [...]``).
#: ``"connectome"`` is the graph's own connectome (the seed is unused); the others are
#: the nulls above. Register your own with ``CONNECTOME_NULLS.register(name, fn)``.
CONNECTOME_NULLS: Registry = Registry("connectome null")
for _name, _fn in (("connectome", _original), ("rewired", _rewired), ("weight_shuffle", _weight_shuffle),
                   ("random", _random), ("spatial_null", _spatial)):
    CONNECTOME_NULLS.register(_name, _fn)
