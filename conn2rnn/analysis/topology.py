"""Graph topology of weight matrices (connectomes and trained recurrent weights).

Conventions
-----------
- Weights are ``w[target, source]``; an edge runs from column to row.
- Measures use the magnitude ``|w|`` (inhibitory weights count as connections);
  the diagonal (self-connections) is ignored.
- Undirected measures (clustering, modularity, small-worldness) need a symmetric
  matrix.  A directed matrix is never symmetrised silently: pass
  ``symmetrize="mean"`` (``(|W| + |W|.T) / 2``), ``"max"`` or ``"min"``, otherwise a
  ``ValueError`` is raised.  :func:`topology_summary` records the choice in its
  output.
- Distances ``d`` are in mm.
"""

from __future__ import annotations

import warnings
from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components, shortest_path

from .._validation import to_numpy
from . import bct

__all__ = [
    "threshold_proportional",
    "sparsity",
    "clustering",
    "characteristic_path_length",
    "modularity",
    "small_worldness",
    "weight_distance_correlation",
    "wiring_cost",
    "topology_summary",
]

_SYMMETRIZE = ("mean", "max", "min")
_MODULARITY_METHODS = ("louvain", "spectral", "bct")
_SW_KINDS = ("sigma", "omega")


def _as_matrix(w: Any, name: str = "w") -> np.ndarray:
    w = to_numpy(w)
    arr = np.array(w, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square (N, N) matrix; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains {int((~np.isfinite(arr)).sum())} NaN/inf values")
    return arr


def _is_symmetric(a: np.ndarray) -> bool:
    return bool(np.allclose(a, a.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(a).max(initial=0.0))))


def _undirected(w: Any, symmetrize: str | None) -> np.ndarray:
    """``|w|`` with zero diagonal, made symmetric only when asked."""
    a = np.abs(_as_matrix(w))
    np.fill_diagonal(a, 0.0)
    if _is_symmetric(a):
        return (a + a.T) / 2
    if symmetrize is None:
        raise ValueError(
            "w is not symmetric (a directed graph) but this measure is undirected; pass "
            "symmetrize='mean' ((|W| + |W|.T) / 2), 'max' or 'min'"
        )
    if symmetrize not in _SYMMETRIZE:
        raise ValueError(f"unknown symmetrize {symmetrize!r}; valid choices: {', '.join(_SYMMETRIZE)}")
    if symmetrize == "mean":
        return (a + a.T) / 2
    return np.maximum(a, a.T) if symmetrize == "max" else np.minimum(a, a.T)


def threshold_proportional(w: Any, density: float) -> np.ndarray:
    """Keep the strongest ``density`` fraction of off-diagonal connections.

    Parameters
    ----------
    w : (N, N) array_like
        Weights ``w[target, source]``.
    density : float
        Fraction in (0, 1] of the ``N (N - 1)`` directed entries (or of the
        ``N (N - 1) / 2`` pairs when ``w`` is symmetric) to keep, ranked by ``|w|``;
        the count is ``round(density * possible)``.

    Returns
    -------
    (N, N) ndarray
        A copy with the kept entries' original (signed) values, zeros elsewhere and
        on the diagonal.  Ties in ``|w|`` are broken in row-major order (lower row,
        then lower column, first); zero weights are never kept, so a sparse ``w``
        may end up below ``density``.
    """
    a = _as_matrix(w)
    if not np.isscalar(density) or not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1]; got {density!r}")
    n = a.shape[0]
    sym = _is_symmetric(a)
    rows, cols = np.triu_indices(n, 1) if sym else np.nonzero(~np.eye(n, dtype=bool))
    mag = np.abs(a[rows, cols])
    n_keep = min(int(round(density * rows.size)), int(np.count_nonzero(mag)))
    order = np.argsort(-mag, kind="stable")[:n_keep]
    out = np.zeros_like(a)
    out[rows[order], cols[order]] = a[rows[order], cols[order]]
    if sym:
        out[cols[order], rows[order]] = a[cols[order], rows[order]]
    return out


def sparsity(w: Any, *, tol: float = 0.0) -> float:
    """Fraction of off-diagonal entries with ``|w| <= tol`` (1 - density).

    Parameters
    ----------
    w : (N, N) array_like
    tol : float, default 0.0

    Returns
    -------
    float
    """
    a = _as_matrix(w)
    off = ~np.eye(a.shape[0], dtype=bool)
    return float(np.mean(np.abs(a[off]) <= tol))


def clustering(w: Any, *, weighted: bool = True, symmetrize: str | None = None) -> np.ndarray:
    """Local clustering coefficient of each node (undirected).

    Binary: triangles through ``i`` over ``k_i (k_i - 1) / 2``.  Weighted: Onnela
    et al. (2005), the geometric mean of triangle weights with weights divided by
    the largest one.  Nodes with fewer than two neighbours get 0.

    Parameters
    ----------
    w : (N, N) array_like
    weighted : bool, default True
    symmetrize : {"mean", "max", "min"}, optional
        Needed when ``w`` is not symmetric (see the module notes).

    Returns
    -------
    (N,) ndarray
    """
    a = _undirected(w, symmetrize)
    deg = np.count_nonzero(a, axis=1).astype(float)
    if weighted:
        top = a.max()
        m = np.cbrt(a / top) if top > 0 else a
    else:
        m = (a > 0).astype(float)
    cycles = ((m @ m) * m.T).sum(axis=1)  # diag(M^3)
    denom = deg * (deg - 1)
    return np.divide(cycles, denom, out=np.zeros_like(cycles), where=denom > 0)


def _path_lengths(a: np.ndarray, weighted: bool) -> np.ndarray:
    """All-pairs shortest paths on ``a`` (``a[target, source]``); ``D[i, j]`` from i to j."""
    graph = a.T.copy()
    if weighted:
        nz = graph > 0
        graph[nz] = 1.0 / graph[nz]
    else:
        graph = (graph > 0).astype(float)
    return shortest_path(sparse.csr_matrix(graph), method="D", directed=True, unweighted=not weighted)


def characteristic_path_length(
    w: Any, *, weighted: bool = False, directed: bool = False, symmetrize: str | None = None
) -> float:
    """Mean shortest-path length over ordered node pairs.

    Parameters
    ----------
    w : (N, N) array_like
    weighted : bool, default False
        False: hop counts.  True: the length of an edge is ``1 / |w|``.
    directed : bool, default False
        True: paths follow edge direction (source -> target); no symmetrisation.
    symmetrize : {"mean", "max", "min"}, optional
        For an undirected measure on a non-symmetric ``w``.

    Returns
    -------
    float
        Averaged over the connected pairs only; a warning gives the number of
        unreachable pairs when there are any (BCT's ``charpath`` would return inf).
    """
    if directed:
        a = np.abs(_as_matrix(w))
        np.fill_diagonal(a, 0.0)
    else:
        a = _undirected(w, symmetrize)
    dist = _path_lengths(a, weighted)
    off = dist[~np.eye(a.shape[0], dtype=bool)]
    finite = np.isfinite(off)
    if not finite.any():
        raise ValueError("w has no paths between distinct nodes (empty graph)")
    if not finite.all():
        warnings.warn(
            f"{int((~finite).sum())} of {off.size} ordered node pairs are not connected; the "
            "path length averages the connected pairs only",
            RuntimeWarning,
            stacklevel=2,
        )
    return float(off[finite].mean())


def _labels_from_communities(communities: list, n: int) -> np.ndarray:
    labels = np.empty(n, dtype=int)
    for k, comm in enumerate(sorted(communities, key=min)):
        labels[list(comm)] = k
    return labels


def _fine_tune(bg: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Kernighan-Lin style sweeps moving single nodes between the two halves (Newman 2006)."""
    while True:
        cur, best_s, best_gain, gain = s.copy(), s.copy(), 0.0, 0.0
        free = np.ones(s.size, dtype=bool)
        off = bg - np.diag(np.diag(bg))
        for _ in range(s.size):
            delta = np.where(free, -4.0 * cur * (off @ cur), -np.inf)
            i = int(np.argmax(delta))
            gain += delta[i]
            cur[i] *= -1
            free[i] = False
            if gain > best_gain + 1e-12:
                best_gain, best_s = gain, cur.copy()
        if best_gain <= 1e-12:
            return s
        s = best_s


def _spectral_partition(bsym: np.ndarray) -> np.ndarray:
    """Recursive leading-eigenvector bisection of a symmetric modularity matrix."""
    n = bsym.shape[0]
    labels = np.zeros(n, dtype=int)
    queue, next_label = [np.arange(n)], 1
    while queue:
        group = queue.pop()
        bg = bsym[np.ix_(group, group)]
        bg = bg - np.diag(bg.sum(axis=1))
        vals, vecs = np.linalg.eigh(bg)
        if vals[-1] <= 1e-10:
            continue
        s = np.where(vecs[:, -1] >= 0, 1.0, -1.0)
        s = _fine_tune(bg, s)
        if s @ bg @ s <= 1e-10 or abs(s.sum()) == s.size:
            continue
        part = group[s < 0]
        labels[part] = next_label
        next_label += 1
        queue += [group[s > 0], part]
    return _labels_from_communities([set(np.flatnonzero(labels == k)) for k in np.unique(labels)], n)


def modularity(
    w: Any,
    *,
    method: str = "louvain",
    seed: int | np.random.Generator = 0,
    directed: bool = False,
    symmetrize: str | None = None,
    resolution: float = 1.0,
) -> tuple[float, np.ndarray]:
    """Community structure and its modularity Q (weighted, on ``|w|``).

    Parameters
    ----------
    w : (N, N) array_like
    method : {"louvain", "spectral", "bct"}, default "louvain"
        ``networkx.community.louvain_communities`` with ``seed``, or Newman's (2006)
        leading-eigenvector method with recursive bisection and node-move fine
        tuning (Leicht & Newman 2008 for directed graphs; ``resolution`` must be 1),
        or the Brain Connectivity Toolbox's ``modularity_und`` exactly
        (:func:`conn2rnn.analysis.bct.modularity_und`; undirected only).
    seed : int or numpy.random.Generator, default 0
        Seed of the Louvain node order (the spectral method is deterministic).
    directed : bool, default False
        True: directed modularity on ``w`` as given (edge source -> target).
    symmetrize : {"mean", "max", "min"}, optional
        For the undirected measure on a non-symmetric ``w``.
    resolution : float, default 1.0

    Returns
    -------
    q : float
        Modularity of the partition (``networkx.community.modularity``).
    labels : (N,) ndarray of int
        Community of each node, numbered by first member.
    """
    if method not in _MODULARITY_METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(_MODULARITY_METHODS)}")
    if directed:
        a = np.abs(_as_matrix(w))
        np.fill_diagonal(a, 0.0)
        graph = nx.from_numpy_array(a.T, create_using=nx.DiGraph)
    else:
        a = _undirected(w, symmetrize)
        graph = nx.from_numpy_array(a)
    if a.sum() == 0:
        raise ValueError("w has no connections; modularity is undefined")
    n = a.shape[0]
    if method == "bct":
        if directed:
            raise ValueError("method='bct' is BCT's undirected modularity_und; pass directed=False")
        labels = bct.modularity_und(a, resolution)[0] - 1
    elif method == "louvain":
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**31 - 1))
        comms = nx.community.louvain_communities(graph, weight="weight", resolution=resolution, seed=seed)
        labels = _labels_from_communities(comms, n)
    else:
        if resolution != 1.0:
            raise ValueError("the spectral method supports resolution=1.0 only; use method='louvain'")
        adj = a.T  # adj[i, j]: edge i -> j
        k_out, k_in, m = adj.sum(axis=1), adj.sum(axis=0), adj.sum()
        b = adj - np.outer(k_out, k_in) / m
        labels = _spectral_partition((b + b.T) / 2)
    comms = [set(np.flatnonzero(labels == k)) for k in range(labels.max() + 1)]
    q = nx.community.modularity(graph, comms, weight="weight", resolution=resolution)
    return float(q), labels


def _binary_c_l(adj: np.ndarray) -> tuple[float, float]:
    c = float(clustering(adj, weighted=False).mean())
    d = _path_lengths(adj, weighted=False)
    return c, float(d[~np.eye(adj.shape[0], dtype=bool)].mean())


def _random_connected(n: int, m: int, rng: np.random.Generator, attempts: int = 100) -> np.ndarray:
    rows, cols = np.triu_indices(n, 1)
    for _ in range(attempts):
        pick = rng.choice(rows.size, size=m, replace=False)
        adj = np.zeros((n, n))
        adj[rows[pick], cols[pick]] = 1.0
        adj += adj.T
        if connected_components(sparse.csr_matrix(adj), directed=False)[0] == 1:
            return adj
    raise ValueError(
        f"no connected random graph with {n} nodes and {m} edges in {attempts} draws; "
        "use a denser graph (raise the threshold density)"
    )


def _ring_lattice(n: int, m: int) -> np.ndarray:
    rows, cols = np.triu_indices(n, 1)
    ring = np.minimum(cols - rows, n - (cols - rows))
    pick = np.lexsort((rows, ring))[:m]
    adj = np.zeros((n, n))
    adj[rows[pick], cols[pick]] = 1.0
    return adj + adj.T


def small_worldness(
    w: Any,
    *,
    kind: str = "sigma",
    n_rand: int = 20,
    seed: int | np.random.Generator = 0,
    symmetrize: str | None = None,
    null: str = "gnm",
) -> float:
    """Small-world index of the binary undirected graph of ``w``.

    ``sigma = (C / C_rand) / (L / L_rand)`` (Humphries et al. 2008) and
    ``omega = L_rand / L - C / C_latt`` (Telesford et al. 2011), with ``C`` the mean
    binary clustering and ``L`` the characteristic path length.  Random nulls
    (averaged over ``n_rand``) are, with ``null="gnm"``, connected Erdos-Renyi
    graphs with the same numbers of nodes and edges only (so a graph whose
    clustering comes from a few hubs looks small-world against them) or, with
    ``null="degree_preserving"``, the graph itself rewired with every node's
    degree kept (BCT's ``randmio_und_connected``, 10 swaps per edge,
    :func:`conn2rnn.analysis.bct.randmio_und_connected`); the lattice null is the
    ring lattice with the same number of edges (nearest ring neighbours first).

    Parameters
    ----------
    w : (N, N) array_like
        Any non-zero entry is an edge; threshold first (:func:`threshold_proportional`).
    kind : {"sigma", "omega"}, default "sigma"
    n_rand : int, default 20
    seed : int or numpy.random.Generator, default 0
    symmetrize : {"mean", "max", "min"}, optional
        For a non-symmetric ``w``.
    null : {"gnm", "degree_preserving"}, default "gnm"

    Returns
    -------
    float
        sigma > 1 small world, ~1 random; omega near 0 small world, near -1 lattice,
        near 1 random.
    """
    if kind not in _SW_KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid kinds: {', '.join(_SW_KINDS)}")
    if not isinstance(n_rand, (int, np.integer)) or n_rand < 1:
        raise ValueError(f"n_rand must be a positive integer; got {n_rand!r}")
    if null not in bct.NULLS:
        raise ValueError(f"unknown null {null!r}; valid nulls: {', '.join(bct.NULLS)}")
    adj = (_undirected(w, symmetrize) > 0).astype(float)
    n, m = adj.shape[0], int(adj.sum() // 2)
    if connected_components(sparse.csr_matrix(adj), directed=False)[0] != 1:
        raise ValueError("the graph of w is disconnected; small-worldness needs a connected graph")
    c, length = _binary_c_l(adj)
    rng = np.random.default_rng(seed)
    if null == "gnm":
        nulls = [_random_connected(n, m, rng) for _ in range(n_rand)]
    else:
        nulls = [bct.randmio_und_connected(adj, 10, rng)[0] for _ in range(n_rand)]
    c_rand, l_rand = np.mean([_binary_c_l(z) for z in nulls], axis=0)
    if kind == "sigma":
        return float((c / c_rand) / (length / l_rand))
    c_latt = float(clustering(_ring_lattice(n, m), weighted=False).mean())
    return float(l_rand / length - c / c_latt)


def _edge_pairs(a: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = a.shape[0]
    mask = ~np.eye(n, dtype=bool)
    if _is_symmetric(a) and _is_symmetric(d):
        mask = np.triu(mask)
    mask &= a != 0
    return a[mask], d[mask]


def _check_distance(d: Any, n: int) -> np.ndarray:
    dist = _as_matrix(d, "d")
    if dist.shape != (n, n):
        raise ValueError(f"d must have the shape of w ({n}, {n}); got {dist.shape}")
    if (dist < 0).any():
        raise ValueError("d must be non-negative (distances in mm)")
    return dist


def weight_distance_correlation(w: Any, d: Any, *, method: str = "spearman") -> float:
    """Correlation between connection strength ``|w|`` and length ``d`` over existing edges.

    Parameters
    ----------
    w : (N, N) array_like
    d : (N, N) array_like
        Distances, mm.
    method : {"spearman", "pearson"}, default "spearman"

    Returns
    -------
    float
        Over non-zero off-diagonal entries (each pair once when ``w`` and ``d`` are
        symmetric).  Wiring-economical networks give negative values.
    """
    a = np.abs(_as_matrix(w))
    dist = _check_distance(d, a.shape[0])
    if method not in ("spearman", "pearson"):
        raise ValueError(f"unknown method {method!r}; valid methods: spearman, pearson")
    wv, dv = _edge_pairs(a, dist)
    if wv.size < 3:
        raise ValueError(f"w has {wv.size} edges; at least 3 are needed for a correlation")
    fn = stats.spearmanr if method == "spearman" else stats.pearsonr
    return float(fn(wv, dv)[0])


def wiring_cost(w: Any, d: Any, *, weighted: bool = True) -> float:
    """Total wiring cost ``sum_ij |w_ij| d_ij`` (weight x mm), or ``sum d_ij`` over edges.

    Every entry ``w[target, source]`` counts, so a symmetric matrix counts each
    reciprocal pair twice; the diagonal is ignored.

    Parameters
    ----------
    w : (N, N) array_like
    d : (N, N) array_like
        Distances, mm.
    weighted : bool, default True

    Returns
    -------
    float
    """
    a = np.abs(_as_matrix(w))
    dist = _check_distance(d, a.shape[0])
    np.fill_diagonal(a, 0.0)
    return float(np.sum((a if weighted else (a > 0)) * dist))


def _largest_component(w: np.ndarray) -> np.ndarray:
    """Sorted node indices of the largest connected component of an undirected graph."""
    _, labels = connected_components(sparse.csr_matrix(w != 0), directed=False)
    return np.flatnonzero(labels == np.bincount(labels).argmax())


def topology_summary(
    w: Any,
    d: Any = None,
    density: float = 0.1,
    seed: int = 0,
    *,
    symmetrize: str = "mean",
    n_rand: int = 10,
    null: str = "gnm",
) -> dict[str, Any]:
    """Main topology measures of one weight matrix in a flat dict.

    ``|w|`` is symmetrised (when needed, as ``symmetrize`` says) and thresholded to
    ``density`` (:func:`threshold_proportional`); modularity (Louvain) and weighted
    clustering use the thresholded weights, path length and small-worldness its
    binary graph.  Sparsity, weight-distance correlation and wiring cost use ``w``
    itself.

    Parameters
    ----------
    w : (N, N) array_like
    d : (N, N) array_like, optional
        Distances, mm.
    density : float, default 0.1
    seed : int, default 0
    symmetrize : {"mean", "max", "min"}, default "mean"
    n_rand : int, default 10
        Random nulls for sigma and omega.
    null : {"gnm", "degree_preserving"}, default "gnm"
        The random null of sigma and omega (:func:`small_worldness`), recorded
        as ``small_world_null``.

    Returns
    -------
    dict
        Keys ``n_nodes, sparsity, weights, symmetrization, threshold_density,
        modularity_q, n_modules, clustering_weighted, clustering_binary,
        path_length, small_world_nodes, small_world_null, sigma, omega`` and, with ``d``,
        ``weight_distance_rho, wiring_cost``.  ``sigma``/``omega`` are computed on
        the largest connected component of the thresholded graph (its size is
        ``small_world_nodes``), and are NaN (with a warning) when that component
        is too small for them.
    """
    a = _as_matrix(w)
    directed = not _is_symmetric(np.abs(a) * ~np.eye(a.shape[0], dtype=bool))
    und = _undirected(a, symmetrize if directed else None)
    thr = threshold_proportional(und, density)
    q, labels = modularity(thr, seed=seed)
    out: dict[str, Any] = {
        "n_nodes": a.shape[0],
        "sparsity": sparsity(a),
        "weights": "absolute",
        "symmetrization": f"{symmetrize} of |W| and |W|.T" if directed else "none (symmetric input)",
        "threshold_density": float(density),
        "modularity_q": q,
        "n_modules": int(labels.max() + 1),
        "clustering_weighted": float(clustering(thr).mean()),
        "clustering_binary": float(clustering(thr, weighted=False).mean()),
        "path_length": characteristic_path_length(thr),
    }
    giant = _largest_component(thr)
    out["small_world_nodes"] = int(giant.size)
    out["small_world_null"] = ("same degrees (connected rewiring)" if null == "degree_preserving"
                               else "same numbers of nodes and edges")
    try:
        core = thr[np.ix_(giant, giant)]
        out["sigma"] = small_worldness(core, kind="sigma", n_rand=n_rand, seed=seed, null=null)
        out["omega"] = small_worldness(core, kind="omega", n_rand=n_rand, seed=seed, null=null)
    except ValueError as err:
        warnings.warn(f"small-worldness not computed: {err}", RuntimeWarning, stacklevel=2)
        out["sigma"] = out["omega"] = float("nan")
    if d is not None:
        out["weight_distance_rho"] = weight_distance_correlation(a, d)
        out["wiring_cost"] = wiring_cost(a, d)
    return out
