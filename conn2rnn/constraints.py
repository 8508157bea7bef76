"""Biological constraints on recurrent weights: I/O masks, distance kernels, spatial costs.

All weights follow the project orientation ``w[target, source]`` (rows receive).

Public API
----------
input_mask(n_nodes, input_nodes, n_inputs) -> (N, I) bool ndarray
    Which input channel may project to which node.
output_mask(n_nodes, output_nodes, n_outputs) -> (O, N) bool ndarray
    Which node the readout may read from.
distance_kernel(d, normalize="none") -> (N, N) float64 ndarray
    A validated copy of a distance matrix, optionally divided by its off-diagonal
    mean or maximum.
distance_l1_cost(w, d) / distance_l2_cost(w, d)
    ``sum |W| * D`` and ``sum W**2 * D``.
communicability_cost(w, d, *, detach=False, node_strength="total")
    ``sum |W| * D * C`` with ``C`` the normalised weighted communicability
    (spatially embedded RNN cost, Achterberg, Akarca et al. 2023, Nat Mach Intell);
    ``node_strength="out"`` normalises by each source unit's out-strength, as the
    authors' published Keras regulariser does.
kernel_correlation_cost(w, similarity)
    ``1 - pearson(|W|, similarity)`` over off-diagonal entries.

The cost functions are pure torch functions. ``w`` is a ``(N, N)`` tensor (one
network; the cost is a 0-d tensor) or a ``(K, N, N)`` tensor (an ensemble; the
cost is a ``(K,)`` tensor, one per network, so each network can carry its own
strength). ``d`` / ``similarity`` may be numpy arrays or tensors of shape
``(N, N)`` (shared by the ensemble) or ``(K, N, N)`` (one per network); they are
converted to ``w``'s dtype and device. Values of ``d`` are not re-validated on
every call (that would synchronise the device each step); validate them once with
:func:`distance_kernel`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

__all__ = [
    "NORMALIZATIONS",
    "NODE_STRENGTHS",
    "input_mask",
    "output_mask",
    "distance_kernel",
    "distance_l1_cost",
    "distance_l2_cost",
    "communicability_cost",
    "kernel_correlation_cost",
]

#: How :func:`distance_kernel` rescales distances (``regime.distance_normalize``).
NORMALIZATIONS = ("none", "mean", "max")
#: Node strengths that normalise the communicability (:func:`communicability_cost`).
NODE_STRENGTHS = ("total", "out")

# Node strengths below this value are raised to it before ``S**-1/2`` is taken.
# A node with zero strength has an all-zero row and column in |W|, so the value
# only has to be finite: the normalised matrix is zero there either way.
_STRENGTH_EPS = 1e-12


# ----------------------------------------------------------------------------- masks
def _check_count(value: int, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int; got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int; got {value}")
    return int(value)


def _check_node_set(nodes, n_nodes: int, name: str) -> np.ndarray:
    """Validate a set of node indices: 1-D, integer, non-empty, in range, unique."""
    arr = np.asarray(nodes)
    if arr.dtype == bool:
        raise TypeError(
            f"{name} must be integer node indices; got a boolean array "
            f"(pass numpy.flatnonzero(mask) instead)"
        )
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of node indices; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; give at least one node index in [0, {n_nodes})")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer node indices; got dtype {arr.dtype}")
    bad = arr[(arr < 0) | (arr >= n_nodes)]
    if bad.size:
        raise ValueError(
            f"{name} has indices out of range [0, {n_nodes}): {bad[:10].tolist()} "
            f"(negative indices are not accepted)"
        )
    uniq, counts = np.unique(arr, return_counts=True)
    if uniq.size != arr.size:
        raise ValueError(f"{name} has duplicate indices: {uniq[counts > 1][:10].tolist()}")
    return arr.astype(np.intp)


def input_mask(n_nodes: int, input_nodes, n_inputs: int) -> np.ndarray:
    """Input connectivity mask: which node may receive which input channel.

    Parameters
    ----------
    n_nodes : int
        Number of recurrent nodes N.
    input_nodes : (N_in,) array of int
        Indices of the nodes that receive input. Every input channel may project
        to every one of these nodes.
    n_inputs : int
        Number of input channels I.

    Returns
    -------
    mask : (N, I) bool ndarray
        ``mask[target_node, input_channel]``; True where a weight is allowed.
    """
    n_nodes = _check_count(n_nodes, "n_nodes")
    n_inputs = _check_count(n_inputs, "n_inputs")
    idx = _check_node_set(input_nodes, n_nodes, "input_nodes")
    mask = np.zeros((n_nodes, n_inputs), dtype=bool)
    mask[idx, :] = True
    return mask


def output_mask(n_nodes: int, output_nodes, n_outputs: int) -> np.ndarray:
    """Readout connectivity mask: which node each output may read from.

    Parameters
    ----------
    n_nodes : int
        Number of recurrent nodes N.
    output_nodes : (N_out,) array of int
        Indices of the nodes the readout sees.
    n_outputs : int
        Number of outputs O.

    Returns
    -------
    mask : (O, N) bool ndarray
        ``mask[output, source_node]``; True where a weight is allowed.
    """
    n_nodes = _check_count(n_nodes, "n_nodes")
    n_outputs = _check_count(n_outputs, "n_outputs")
    idx = _check_node_set(output_nodes, n_nodes, "output_nodes")
    mask = np.zeros((n_outputs, n_nodes), dtype=bool)
    mask[:, idx] = True
    return mask


# ----------------------------------------------------------------------------- kernel
def distance_kernel(
    d, normalize: Literal["none", "mean", "max"] = "none"
) -> np.ndarray:
    """Validated, optionally normalised copy of a distance matrix.

    Parameters
    ----------
    d : (N, N) array_like
        Non-negative finite distances (mm for euclidean / geodesic distances).
    normalize : {"none", "mean", "max"}
        Divide by the mean or the maximum of the off-diagonal entries, making the
        kernel unit-free with off-diagonal mean (or maximum) 1. A cost strength then
        means the same thing across atlases and distance kinds.

    Returns
    -------
    kernel : (N, N) float64 ndarray
        A new array; ``d`` is never modified.
    """
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {list(NORMALIZATIONS)}; got {normalize!r}")
    arr = np.array(d, dtype=np.float64, copy=True)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"d must be a square (N, N) matrix; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("d must be finite; it contains NaN or inf (check the distance source)")
    if np.any(arr < 0):
        raise ValueError(f"d must be non-negative; its minimum is {arr.min():g}")
    if normalize == "none":
        return arr
    n = arr.shape[0]
    off = arr[~np.eye(n, dtype=bool)]
    if off.size == 0:
        raise ValueError(f"normalize={normalize!r} needs at least 2 nodes; d has shape {arr.shape}")
    scale = off.mean() if normalize == "mean" else off.max()
    if scale == 0:
        raise ValueError(
            f"d is zero off the diagonal, so normalize={normalize!r} is undefined; "
            f"use normalize='none' or a non-degenerate distance"
        )
    arr /= scale
    return arr


# ----------------------------------------------------------------------------- costs
def _check_weights(w) -> torch.Tensor:
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"w must be a torch.Tensor of shape (N, N) or (K, N, N); got {type(w).__name__}")
    if not torch.is_floating_point(w):
        raise TypeError(f"w must be a floating-point tensor; got dtype {w.dtype}")
    if w.ndim not in (2, 3) or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"w must have shape (N, N) or (K, N, N); got {tuple(w.shape)}")
    return w


def _like(x, w: torch.Tensor, name: str) -> torch.Tensor:
    """Convert ``x`` to ``w``'s dtype/device and check it is (N, N) or w's shape."""
    if isinstance(x, torch.Tensor):
        t = x.to(dtype=w.dtype, device=w.device)
    else:
        # torch.tensor copies, so read-only numpy arrays are safe to pass.
        t = torch.tensor(np.asarray(x), dtype=w.dtype, device=w.device)
    n = w.shape[-1]
    if tuple(t.shape) != (n, n) and tuple(t.shape) != tuple(w.shape):
        expected = f"({n}, {n})" + (f" or {tuple(w.shape)}" if w.ndim == 3 else "")
        raise ValueError(f"{name} must have shape {expected} to match w; got {tuple(t.shape)}")
    return t


def distance_l1_cost(w: torch.Tensor, d) -> torch.Tensor:
    """Distance-weighted L1 cost ``sum_ij |W_ij| * D_ij``.

    Parameters
    ----------
    w : (N, N) or (K, N, N) tensor
        Recurrent weights ``w[target, source]``.
    d : (N, N) or (K, N, N) ndarray or tensor
        Distance kernel (e.g. from :func:`distance_kernel`).

    Returns
    -------
    cost : 0-d tensor, or (K,) tensor for an ensemble
    """
    w = _check_weights(w)
    return (w.abs() * _like(d, w, "d")).sum(dim=(-2, -1))


def distance_l2_cost(w: torch.Tensor, d) -> torch.Tensor:
    """Distance-weighted L2 cost ``sum_ij W_ij**2 * D_ij``.

    Parameters
    ----------
    w : (N, N) or (K, N, N) tensor
        Recurrent weights ``w[target, source]``.
    d : (N, N) or (K, N, N) ndarray or tensor
        Distance kernel.

    Returns
    -------
    cost : 0-d tensor, or (K,) tensor for an ensemble
    """
    w = _check_weights(w)
    return (w.square() * _like(d, w, "d")).sum(dim=(-2, -1))


def _communicability(a: torch.Tensor, node_strength: str = "total") -> torch.Tensor:
    """Normalised communicability of non-negative weights ``a`` (diagonal zeroed)."""
    if node_strength == "out":
        strength = a.sum(dim=-2)  # column sums of a[target, source]: out-strength of each unit
    else:
        strength = 0.5 * (a.sum(dim=-1) + a.sum(dim=-2))  # (in + out) / 2
    r = strength.clamp_min(_STRENGTH_EPS).rsqrt()
    c = torch.linalg.matrix_exp(r.unsqueeze(-1) * a * r.unsqueeze(-2))
    eye = torch.eye(a.shape[-1], dtype=torch.bool, device=a.device)
    return c.masked_fill(eye, 0.0)


def communicability_cost(w: torch.Tensor, d, *, detach: bool = False,
                         node_strength: str = "total") -> torch.Tensor:
    """Communicability-weighted distance cost ``sum_ij |W_ij| * D_ij * C_ij``.

    ``C = expm(S^-1/2 |W| S^-1/2)`` with its diagonal set to zero, the weighted
    communicability of the spatially embedded RNN (Achterberg, Akarca et al.
    2023, Nat Mach Intell). A connection is penalised more when it is long and
    when its two ends are already well connected through indirect paths.

    ``S = diag(s)`` holds the *total* node strength
    ``s_i = (sum_j |W_ij| + sum_j |W_ji|) / 2``, the mean of in-strength (row
    sum under ``w[target, source]``) and out-strength (column sum). For a
    symmetric ``W`` this is the usual strength; for a directed ``W`` it makes the
    cost independent of the orientation convention: with a symmetric ``D``,
    ``cost(W.T) == cost(W)``, because ``C(W.T) == C(W).T``. Strengths are
    clamped below at 1e-12 so isolated nodes (zero row and column) stay finite.

    ``node_strength="out"`` is the authors' published regulariser (the
    ``SE1_sWc`` Keras class of the seRNN demonstration code): Keras stores the
    recurrent kernel as ``U[source, target]`` (``U = W.T``) and normalises by its
    row sums, i.e. by each unit's *out*-strength ``s_j = sum_i |W_ij|`` (column
    sums here). Then ``C = expm(S^-1/2 |W| S^-1/2)`` with that ``S``, which is
    ``C_keras.T``, so ``sum |W| * D * C`` equals the Keras cost term for term.
    This form is not orientation-free.

    Parameters
    ----------
    w : (N, N) or (K, N, N) tensor
        Recurrent weights ``w[target, source]``.
    d : (N, N) or (K, N, N) ndarray or tensor
        Distance kernel.
    detach : bool
        If True, ``C`` is computed without gradient and treated as a constant
        weighting (``grad = sign(W) * D * C``). If False, gradients flow through
        ``torch.linalg.matrix_exp``.
    node_strength : {"total", "out"}
        Which node strength normalises ``|W|`` (see above).

    Returns
    -------
    cost : 0-d tensor, or (K,) tensor for an ensemble
    """
    w = _check_weights(w)
    if not isinstance(detach, bool):
        raise TypeError(f"detach must be a bool; got {type(detach).__name__}")
    if node_strength not in NODE_STRENGTHS:
        raise ValueError(f"node_strength must be one of {list(NODE_STRENGTHS)}; got {node_strength!r}")
    dist = _like(d, w, "d")
    a = w.abs()
    if detach:
        with torch.no_grad():
            c = _communicability(a.detach(), node_strength)
    else:
        c = _communicability(a, node_strength)
    return (a * dist * c).sum(dim=(-2, -1))


def kernel_correlation_cost(w: torch.Tensor, similarity) -> torch.Tensor:
    """One minus the Pearson correlation of ``|W|`` with a similarity kernel.

    Only off-diagonal entries enter (self-connections carry no spatial meaning).
    The cost lies in [0, 2]: 0 when ``|W|`` is an increasing affine function of
    the similarity, 1 when uncorrelated, 2 when perfectly anti-correlated. If
    ``|W|`` is constant off the diagonal (e.g. all zeros) the correlation is
    undefined and taken as 0 (cost 1). Pearson correlation is affine-invariant,
    so a similarity of ``-D`` or ``max(D) - D`` gives the same cost.

    Parameters
    ----------
    w : (N, N) or (K, N, N) tensor, N >= 2
        Recurrent weights ``w[target, source]``.
    similarity : (N, N) or (K, N, N) ndarray or tensor
        Similarity kernel; must vary off the diagonal.

    Returns
    -------
    cost : 0-d tensor, or (K,) tensor for an ensemble
    """
    w = _check_weights(w)
    n = w.shape[-1]
    if n < 2:
        raise ValueError(f"kernel_correlation_cost needs N >= 2 nodes; w has shape {tuple(w.shape)}")
    sim = _like(similarity, w, "similarity")
    off = ~torch.eye(n, dtype=torch.bool, device=w.device)
    a = w.abs()[..., off]
    s = sim[..., off]
    a = a - a.mean(dim=-1, keepdim=True)
    s = s - s.mean(dim=-1, keepdim=True)
    var_s = s.square().sum(dim=-1)
    if bool((var_s == 0).any()):
        raise ValueError(
            "similarity is constant off the diagonal, so its correlation with |W| is "
            "undefined; pass a kernel that varies between node pairs"
        )
    cov = (a * s).sum(dim=-1)
    var_a = a.square().sum(dim=-1)
    tiny = torch.finfo(w.dtype).eps ** 2
    return 1.0 - cov / torch.sqrt(var_a * var_s + tiny)
