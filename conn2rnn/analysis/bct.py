"""Binary graph measures as the Brain Connectivity Toolbox (BCT) computes them.

The spatially embedded RNN paper (Achterberg, Akarca et al. 2023, Nat Mach
Intell 5:1369) measured its networks with BCT. This module re-implements the
few BCT routines that analysis needs, on numpy only, so that the numbers can be
compared with the paper's and do not depend on ``bctpy`` (whose
``modularity_und`` fails with numpy >= 1.24, and whose fine-tuning step differs
from BCT's MATLAB original, see :func:`modularity_und`).

Orientation: BCT's matrices are ``A[source, target]`` (an edge runs from row to
column), the transpose of the project's ``w[target, source]``. The undirected
routines do not care; :func:`binarize_top` and :func:`reference_sigma` say
where it matters.

Public API
----------
binarize_top(w, density=0.1) -> (N, N) bool
    The seRNN demonstration's rule: keep ``|w| > quantile(|w|, 1 - density)``.
undirected(a) -> (N, N) float
    ``a OR a.T`` with an empty diagonal (the demonstration's own symmetrisation).
modularity_und(a, gamma=1, *, fine_tune="matlab") -> (ci, q)
    Newman's spectral community detection, BCT's ``modularity_und``.
modularity_q(a, ci, gamma=1) -> float
clustering_coef_bu(a) -> (N,)
efficiency_bin(a) -> float
randmio_und_connected(a, itr, seed) -> (a_rand, n_rewired)
    Degree-preserving rewiring that keeps the graph connected (Maslov-Sneppen).
random_gnm(n, m, seed) -> (N, N)
    A random undirected graph with the same numbers of nodes and edges.
small_world_sigma(a, *, null, n_null, seed, itr) -> dict
    ``(C / C_null) * (E / E_null)`` (path length taken as 1 / global efficiency).
demo_null_constants(n, n_perm, seed) -> (C_null, E_null)
reference_sigma(w, ...) -> float
    The demonstration's small-worldness, exactly as its notebook computes it.
paper_measures(w, *, density, seed, n_null, itr) -> dict
    Everything above for one weight matrix, labelled.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, shortest_path

from .._validation import to_numpy

__all__ = [
    "NULLS",
    "binarize_top",
    "clustering_coef_bu",
    "demo_null_constants",
    "efficiency_bin",
    "modularity_q",
    "modularity_und",
    "paper_measures",
    "random_gnm",
    "randmio_und_connected",
    "reference_sigma",
    "small_world_sigma",
    "undirected",
]

#: Null models of :func:`small_world_sigma`: degree-preserving rewiring (BCT's
#: ``randmio_und_connected``) or random graphs with the same numbers of nodes and edges.
NULLS = ("degree_preserving", "gnm")
_FINE_TUNE = ("matlab", "bctpy")


def _square(a: Any, name: str = "a") -> np.ndarray:
    arr = np.array(to_numpy(a), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square (N, N) matrix; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _binary_undirected(a: Any, name: str = "a") -> np.ndarray:
    arr = _square(a, name)
    if not np.array_equal(arr, arr.T):
        raise ValueError(f"{name} must be symmetric (an undirected graph); symmetrise it first, "
                         "e.g. with undirected(a)")
    if np.any(np.diag(arr) != 0):
        raise ValueError(f"{name} must have an empty diagonal (no self-loops); got "
                         f"{int(np.count_nonzero(np.diag(arr)))} self-loops")
    return (arr != 0).astype(np.float64)


# ----------------------------------------------------------------------------- thresholding
def binarize_top(w: Any, density: float = 0.1) -> np.ndarray:
    """Binary graph of the strongest weights, by the seRNN demonstration's rule.

    ``thresh = numpy.quantile(|w|, 1 - density)`` over all ``N**2`` entries
    (diagonal included), then ``|w| > thresh``; the matrix keeps its direction
    and its diagonal. With distinct magnitudes about ``density * N**2`` entries
    survive.

    Parameters
    ----------
    w : (N, N) array_like
        Weights, either orientation (the rule is elementwise).
    density : float in (0, 1)

    Returns
    -------
    (N, N) bool ndarray
    """
    a = np.abs(_square(w, "w"))
    if not np.isscalar(density) or not 0.0 < float(density) < 1.0:
        raise ValueError(f"density must be a number in (0, 1); got {density!r}")
    return a > np.quantile(a, 1.0 - float(density))


def undirected(a: Any) -> np.ndarray:
    """``a OR a.T`` as a float 0/1 matrix with an empty diagonal.

    The demonstration's modularity function symmetrises this way
    (``(A + A.T) / 2 > 0``); self-loops are dropped here (BCT's undirected
    routines assume none).

    Parameters
    ----------
    a : (N, N) array_like

    Returns
    -------
    (N, N) float64 ndarray
    """
    arr = _square(a) != 0
    out = (arr | arr.T).astype(np.float64)
    np.fill_diagonal(out, 0.0)
    return out


# ----------------------------------------------------------------------------- modularity
def modularity_q(a: Any, ci: Any, gamma: float = 1.0) -> float:
    """Newman modularity of a partition: ``sum_ij [c_i == c_j] B_ij / m``.

    ``B = A - gamma k k^T / m`` with ``k`` the column sums and ``m = sum k``
    (BCT's definition, with ``kci`` given).

    Parameters
    ----------
    a : (N, N) array_like
        Undirected (symmetric) graph, binary or weighted.
    ci : (N,) array_like of int
        Community of each node.
    gamma : float

    Returns
    -------
    float
    """
    arr = _square(a)
    labels = np.asarray(ci).ravel()
    if labels.shape != (arr.shape[0],):
        raise ValueError(f"ci must have one label per node ({arr.shape[0]}); got shape {labels.shape}")
    k = arr.sum(axis=0)
    m = k.sum()
    if m == 0:
        raise ValueError("a has no edges; modularity is undefined")
    b = arr - gamma * np.outer(k, k) / m
    return float(np.sum((labels[:, None] == labels[None, :]) * b) / m)


def _tune(bg: np.ndarray, s: np.ndarray, q: float, fine_tune: str) -> np.ndarray:
    """BCT's node-flip fine tuning of one bisection ``s`` (modified in no caller's array)."""
    bg = bg.copy()
    np.fill_diagonal(bg, 0.0)
    free = np.ones(s.size, dtype=bool)
    s_it = s.copy()
    best = s.copy()
    qmax = q
    while free.any():
        q_it = qmax - 4.0 * s_it * (bg @ s_it)
        if fine_tune == "matlab":
            qmax = float(np.max(q_it[free]))
            flip = free & (q_it == qmax)  # MATLAB flips every tied maximum
        else:
            masked = np.where(free, q_it, -np.inf)  # numpy.ma: flipped nodes are masked out
            qmax = float(np.max(masked))
            flip = np.zeros(s.size, dtype=bool)
            flip[int(np.argmax(masked))] = True
        s_it[flip] *= -1
        free &= ~flip
        if qmax > q:
            q = qmax
            # MATLAB copies the state (S = Sit); bctpy 0.6 aliases it (mod_asgn = mod_asgn_iter),
            # so later flips overwrite it and its result is the state after every node flipped
            best = s_it.copy() if fine_tune == "matlab" else s_it
    return best.copy()


def modularity_und(a: Any, gamma: float = 1.0, *, fine_tune: str = "matlab",
                   tol: float = 1e-10) -> tuple[np.ndarray, float]:
    """Newman's (2006) spectral community detection, as BCT's ``modularity_und``.

    Recursive bisection by the leading eigenvector of the (generalised)
    modularity matrix, each split refined by BCT's node-flip fine tuning; a
    group is indivisible when its best split does not raise Q by more than
    ``tol`` (BCT 2019: 1e-10). Deterministic.

    Parameters
    ----------
    a : (N, N) array_like
        Undirected graph (symmetric), binary or weighted.
    gamma : float
        Resolution.
    fine_tune : {"matlab", "bctpy"}
        ``"matlab"``: BCT's MATLAB code (the tuned split with the highest q is
        kept; tied maxima flip together). ``"bctpy"``: bctpy 0.6.1, which keeps
        an alias of the iterated split (so, in effect, the untuned split when
        tuning found an improvement) and flips one node at a time; for
        cross-checks with bctpy.
    tol : float

    Returns
    -------
    ci : (N,) int ndarray
        Communities numbered 1.. in BCT's order (by first member).
    q : float
        Modularity of ``ci`` (:func:`modularity_q`).
    """
    if fine_tune not in _FINE_TUNE:
        raise ValueError(f"fine_tune must be one of {list(_FINE_TUNE)}; got {fine_tune!r}")
    arr = _square(a)
    if not np.allclose(arr, arr.T):
        raise ValueError("a must be symmetric (undirected); symmetrise it first, e.g. with undirected(a)")
    n = arr.shape[0]
    k = arr.sum(axis=0)
    m = k.sum()
    if m == 0:
        raise ValueError("a has no edges; modularity is undefined")
    b = arr - gamma * np.outer(k, k) / m
    modules: list[np.ndarray] = []
    stack = [np.arange(n)]
    while stack:
        ind = stack.pop()
        bg = b[np.ix_(ind, ind)]
        bg = bg - np.diag(bg.sum(axis=0))
        vals, vecs = np.linalg.eigh((bg + bg.T) / 2)
        v1 = vecs[:, int(np.argmax(vals))]
        s = np.where(v1 >= 0, 1.0, -1.0)
        q = float(s @ bg @ s)
        if q > tol:
            s = _tune(bg, s, q, fine_tune)
            if abs(s.sum()) != ind.size:
                stack += [ind[s == -1], ind[s == 1]]  # the +1 side is examined first
                continue
        modules.append(ind)
    ci = np.zeros(n, dtype=np.int64)
    for label, members in enumerate(sorted(modules, key=lambda x: int(x.min())), start=1):
        ci[members] = label
    return ci, modularity_q(arr, ci, gamma)


# ----------------------------------------------------------------------------- clustering, efficiency
def clustering_coef_bu(a: Any) -> np.ndarray:
    """BCT's binary clustering coefficient of every node.

    ``C_u = sum(A[V, V]) / (k (k - 1))`` over the neighbours ``V`` of ``u``
    (non-zero entries of row ``u``, ``k = |V|``), 0 when ``k < 2``. On a directed
    matrix it is BCT's formula applied as given (rows = sources).

    Parameters
    ----------
    a : (N, N) array_like

    Returns
    -------
    (N,) float64 ndarray
    """
    g = (_square(a) != 0).astype(np.float64)
    deg = g.sum(axis=1)
    tri = np.einsum("uv,vw,uw->u", g, g, g)  # sum over neighbour pairs (v, w) of G[v, w]
    denom = deg * (deg - 1)
    return np.divide(tri, denom, out=np.zeros_like(tri), where=deg >= 2)


def efficiency_bin(a: Any) -> float:
    """BCT's binary global efficiency: mean inverse shortest-path length.

    Over the ``N (N - 1)`` ordered pairs; unreachable pairs count 0 (BCT's
    ``distance_inv``). Self-loops are ignored.

    Parameters
    ----------
    a : (N, N) array_like
        Binary graph; a directed one is walked along its edges (row -> column).

    Returns
    -------
    float
    """
    g = (_square(a) != 0).astype(np.float64)
    n = g.shape[0]
    if n < 2:
        raise ValueError(f"efficiency needs at least 2 nodes; got {n}")
    np.fill_diagonal(g, 0.0)
    dist = shortest_path(sparse.csr_matrix(g), directed=True, unweighted=True)
    with np.errstate(divide="ignore"):
        inv = 1.0 / dist
    np.fill_diagonal(inv, 0.0)
    return float(inv.sum() / (n * n - n))


# ----------------------------------------------------------------------------- nulls
def _connected(g: np.ndarray) -> bool:
    return connected_components(sparse.csr_matrix(g), directed=False)[0] == 1


def randmio_und_connected(a: Any, itr: int = 10, seed: int | np.random.Generator = 0
                          ) -> tuple[np.ndarray, int]:
    """Degree-preserving rewiring that keeps the graph connected (BCT's ``randmio_und_connected``).

    Maslov & Sneppen (2002) double-edge swaps: edges ``a-b`` and ``c-d`` become
    ``a-d`` and ``c-b`` when neither exists yet; a swap that would disconnect
    the graph (BCT's reachability test) is rejected. Each edge is rewired about
    ``itr`` times. A port of BCT's (and bctpy's) algorithm with a numpy Generator.

    Parameters
    ----------
    a : (N, N) array_like
        Connected undirected graph (symmetric, empty diagonal); binary, or
        weighted (weights travel with their edges, strengths are not kept).
    itr : int
        Rewiring parameter.
    seed : int or numpy.random.Generator

    Returns
    -------
    r : (N, N) float64 ndarray
        The rewired graph: every node keeps its degree.
    n_rewired : int
        Successful swaps.
    """
    r = _square(a).copy()
    if not np.array_equal(r, r.T):
        raise ValueError("a must be symmetric (undirected); symmetrise it first, e.g. with undirected(a)")
    if np.any(np.diag(r) != 0):
        raise ValueError("a must have an empty diagonal (no self-loops)")
    if isinstance(itr, bool) or not isinstance(itr, (int, np.integer)) or itr < 1:
        raise ValueError(f"itr must be a positive int; got {itr!r}")
    if not _connected(r != 0):
        raise ValueError("a is not connected; randmio_und_connected needs a connected graph "
                         "(take its largest component first)")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = r.shape[0]
    i, j = np.nonzero(np.tril(r))
    k = i.size
    if k < 2:
        return r, 0
    adj = r != 0
    max_attempts = round(n * k / (n * (n - 1)))
    n_rewired = 0
    for _ in range(int(itr) * k):
        att = 0
        while att <= max_attempts:
            while True:
                e1, e2 = rng.integers(k), rng.integers(k)
                while e1 == e2:
                    e2 = rng.integers(k)
                na, nb, nc, nd = i[e1], j[e1], i[e2], j[e2]
                if na != nc and na != nd and nb != nc and nb != nd:
                    break
            if rng.random() > 0.5:
                i[e2], j[e2] = nd, nc
                nc, nd = nd, nc
            rewire = True
            if not (adj[na, nd] or adj[nc, nb]):
                if not (adj[na, nc] or adj[nb, nd]):
                    # BCT's connectedness test: grow the sets reachable from a and from d
                    # (without the edges a-b and d-c) until one reaches b or c, or stalls
                    p = adj[[na, nd], :].copy()
                    p[0, nb] = False
                    p[1, nc] = False
                    pn = p.copy()
                    pn[:, nd] = True
                    pn[:, na] = True
                    while True:
                        p[0] = adj[p[0]].any(axis=0)
                        p[1] = adj[p[1]].any(axis=0)
                        p &= ~pn
                        if not p.any(axis=1).all():
                            rewire = False
                            break
                        if p[:, [nb, nc]].any():
                            break
                        pn |= p
                if rewire:
                    r[na, nd], r[na, nb] = r[na, nb], 0.0
                    r[nd, na], r[nb, na] = r[nb, na], 0.0
                    r[nc, nb], r[nc, nd] = r[nc, nd], 0.0
                    r[nb, nc], r[nd, nc] = r[nd, nc], 0.0
                    adj[na, nd] = adj[nd, na] = adj[nc, nb] = adj[nb, nc] = True
                    adj[na, nb] = adj[nb, na] = adj[nc, nd] = adj[nd, nc] = False
                    j[e1], j[e2] = nd, nb
                    n_rewired += 1
                    break
            att += 1
    return r, n_rewired


def random_gnm(n: int, m: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """A uniformly random undirected graph with ``n`` nodes and ``m`` edges.

    Degrees are not kept (only their mean), which is why this null inflates
    small-worldness for hub-dominated graphs.

    Returns
    -------
    (n, n) float64 ndarray, symmetric, empty diagonal
    """
    rows, cols = np.triu_indices(n, 1)
    if not 0 <= m <= rows.size:
        raise ValueError(f"m must lie in [0, {rows.size}] for n = {n}; got {m}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pick = rng.choice(rows.size, size=m, replace=False)
    out = np.zeros((n, n))
    out[rows[pick], cols[pick]] = 1.0
    return out + out.T


def small_world_sigma(a: Any, *, null: str = "degree_preserving", n_null: int = 20,
                      seed: int = 0, itr: int = 10) -> dict[str, float]:
    """Small-worldness ``sigma = (C / C_null) / (L / L_null)`` of an undirected binary graph.

    ``C`` is the mean of :func:`clustering_coef_bu` and ``L = 1 / E`` with ``E``
    the global efficiency (:func:`efficiency_bin`), as in the seRNN
    demonstration (defined on disconnected graphs too); null values are means
    over ``n_null`` null graphs.

    Parameters
    ----------
    a : (N, N) array_like
        Symmetric, empty diagonal.
    null : {"degree_preserving", "gnm"}
        ``"degree_preserving"``: :func:`randmio_und_connected` (every node
        keeps its degree; the graph must be connected). ``"gnm"``: random graphs
        with the same numbers of nodes and edges only.
    n_null : int
    seed : int
    itr : int
        Rewiring parameter of the degree-preserving null.

    Returns
    -------
    dict
        ``sigma, clustering, efficiency, clustering_null, efficiency_null``.
    """
    g = _binary_undirected(a)
    if null not in NULLS:
        raise ValueError(f"null must be one of {list(NULLS)}; got {null!r}")
    if isinstance(n_null, bool) or not isinstance(n_null, (int, np.integer)) or n_null < 1:
        raise ValueError(f"n_null must be a positive int; got {n_null!r}")
    rng = np.random.default_rng(seed)
    c, e = float(clustering_coef_bu(g).mean()), efficiency_bin(g)
    n, m = g.shape[0], int(g.sum() // 2)
    cs, es = [], []
    for _ in range(n_null):
        z = randmio_und_connected(g, itr, rng)[0] if null == "degree_preserving" else random_gnm(n, m, rng)
        cs.append(clustering_coef_bu(z).mean())
        es.append(efficiency_bin(z))
    c0, e0 = float(np.mean(cs)), float(np.mean(es))
    sigma = (c / c0) * (e / e0) if c0 > 0 and e0 > 0 else float("nan")
    return {"sigma": float(sigma), "clustering": c, "efficiency": e, "clustering_null": c0, "efficiency_null": e0}


@lru_cache(maxsize=8)
def demo_null_constants(n: int = 100, n_perm: int = 1000, seed: int = 0) -> tuple[float, float]:
    """The seRNN demonstration's small-world null, which does not depend on the network.

    Its notebook draws ``W = (U + U.T) / 2`` with ``U`` uniform on [0, 1]
    (``n x n``), keeps ``W > 0.7`` (about 18% of entries, diagonal included)
    and averages BCT's clustering and global efficiency over ``n_perm`` draws.

    Returns
    -------
    (clustering_null, efficiency_null) : (float, float)
    """
    rng = np.random.default_rng(seed)
    cs, es = [], []
    for _ in range(n_perm):
        u = rng.random((n, n))
        g = ((u + u.T) / 2 > 0.7).astype(np.float64)
        cs.append(clustering_coef_bu(g).mean())
        es.append(efficiency_bin(g))
    return float(np.mean(cs)), float(np.mean(es))


def reference_sigma(w: Any, density: float = 0.1, *, n_perm: int = 1000) -> float:
    """Small-worldness exactly as the seRNN demonstration notebook computes it.

    BCT's clustering and efficiency on the directed binary matrix of
    :func:`binarize_top` in Keras orientation (``A[source, target] = w.T``,
    self-loops kept), against :func:`demo_null_constants` (a fixed null of
    density ~0.18 that ignores the network's size, density and degrees).

    Parameters
    ----------
    w : (N, N) array_like
        ``w[target, source]``.
    density : float
    n_perm : int

    Returns
    -------
    float
    """
    g = binarize_top(w, density).T.astype(np.float64)
    c0, e0 = demo_null_constants(g.shape[0], n_perm)
    c, e = float(clustering_coef_bu(g).mean()), efficiency_bin(g)
    return float((c / c0) * (e / e0))


def paper_measures(w: Any, *, density: float = 0.1, seed: int = 0, n_null: int = 10,
                   itr: int = 5, n_perm: int = 1000) -> dict[str, Any]:
    """The seRNN paper's topology of one weight matrix, labelled.

    :func:`binarize_top` (the demonstration's rule) then :func:`undirected`;
    modularity by :func:`modularity_und` (MATLAB BCT); small-worldness against
    degree-preserving nulls (on the largest component when the graph is not
    connected) and against N/E-matched random graphs; the demonstration's own
    sigma (:func:`reference_sigma`); total weight.

    Parameters
    ----------
    w : (N, N) array_like
        ``w[target, source]``.
    density : float
    seed : int
    n_null : int
        Null graphs per null model.
    itr : int
        Rewiring parameter of the degree-preserving null.
    n_perm : int
        Draws of the demonstration's null.

    Returns
    -------
    dict
        ``total_abs_w, n_edges, max_degree, connected_nodes, modularity_q,
        n_modules, clustering, efficiency, sigma_degree_preserving, sigma_gnm,
        sigma_demo``.
    """
    arr = _square(w, "w")
    g = undirected(binarize_top(arr, density))
    out: dict[str, Any] = {"total_abs_w": float(np.abs(arr).sum()), "n_edges": int(g.sum() // 2),
                           "max_degree": int(g.sum(axis=0).max())}
    ci, q = modularity_und(g)
    out.update(modularity_q=q, n_modules=int(ci.max()))
    _, labels = connected_components(sparse.csr_matrix(g), directed=False)
    giant = np.flatnonzero(labels == np.bincount(labels).argmax())
    out["connected_nodes"] = int(giant.size)
    core = g[np.ix_(giant, giant)]
    deg = small_world_sigma(core, null="degree_preserving", n_null=n_null, seed=seed, itr=itr)
    gnm = small_world_sigma(core, null="gnm", n_null=n_null, seed=seed)
    out.update(clustering=deg["clustering"], efficiency=deg["efficiency"],
               sigma_degree_preserving=deg["sigma"], sigma_gnm=gnm["sigma"],
               sigma_demo=reference_sigma(arr, density, n_perm=n_perm))
    return out
