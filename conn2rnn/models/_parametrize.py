"""Validation and per-network initialisation helpers for :class:`~conn2rnn.models.biornn.BioRNN`.

Every random draw for network ``k`` comes from a ``torch.Generator`` seeded with
that network's seed, in a fixed order (Dale signs, recurrent, input, readout
weights), in float64, so a network's initial weights depend only on its seed
and its own masks: member ``k`` of an ensemble equals a standalone network built
with the same seed.
"""

from __future__ import annotations

import numpy as np
import torch

from .._registry import Registry
from .._validation import to_numpy

#: Recurrent initialisers by name (``BioRNN(init=...)``, the spec's ``model.init``):
#: ``fn(n, generator, gain) -> (N, N) float64 ndarray``, the random draw that
#: :func:`init_recurrent` then masks and scales. "connectome" copies the connectome
#: instead of drawing. Add your own with ``INITS.register(name, fn)``.
INITS: Registry = Registry("initialiser")


# ----------------------------------------------------------------------------- validation
def check_positive_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int; got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int; got {value}")
    return int(value)


def check_nonneg_float(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a non-negative number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite non-negative number; got {value}")
    return value


def as_seeds(seeds, n_networks: int) -> list[int]:
    """Validate ``seeds``: None (-> 0 .. K-1), an int (K = 1 only) or K ints."""
    if seeds is None:
        return list(range(n_networks))
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, (bool, np.bool_)):
        if n_networks != 1:
            raise ValueError(
                f"seeds must be a sequence of n_networks={n_networks} ints; got the single int {seeds} "
                f"(pass e.g. seeds=range({seeds}, {seeds} + {n_networks}))"
            )
        seeds = [seeds]
    arr = np.asarray(list(seeds))
    if arr.ndim != 1 or arr.size != n_networks or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"seeds must be {n_networks} ints (one per network); got {list(seeds)!r}")
    if np.any(arr < 0):
        raise ValueError(f"seeds must be non-negative ints; got {arr.tolist()}")
    return [int(s) for s in arr]


def per_network(value, n_networks: int, shape: tuple[int, ...], name: str, dtype) -> np.ndarray:
    """Broadcast ``value`` of shape ``shape`` or ``(K, *shape)`` to a new ``(K, *shape)`` array."""
    arr = np.asarray(to_numpy(value))
    if arr.shape == shape:
        arr = np.broadcast_to(arr, (n_networks, *shape))
    elif arr.shape != (n_networks, *shape):
        raise ValueError(
            f"{name} must have shape {shape} (shared) or {(n_networks, *shape)} (one per network); "
            f"got {arr.shape}"
        )
    if dtype is bool:
        if arr.dtype != bool:
            raise TypeError(f"{name} must be a boolean mask; got dtype {arr.dtype}")
        return np.array(arr, dtype=bool)
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}")
    out = np.array(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite; it contains NaN or inf")
    return out


def dale_signs(dale, n_nodes: int, n_networks: int, generators: list[torch.Generator]) -> np.ndarray | None:
    """Per-network source-node signs (+1 excitatory, -1 inhibitory), or None without Dale's law.

    A float is the excitatory fraction: each network draws which nodes are
    inhibitory from its own generator. An array of +-1 of shape (N,) or (K, N)
    fixes the signs.
    """
    if dale is None:
        return None
    if isinstance(dale, (int, float, np.integer, np.floating)) and not isinstance(dale, (bool, np.bool_)):
        if not 0.0 <= dale <= 1.0:
            raise ValueError(f"dale as an excitatory fraction must be in [0, 1]; got {dale}")
        n_exc = int(round(dale * n_nodes))
        signs = np.ones((n_networks, n_nodes))
        for k, gen in enumerate(generators):
            perm = torch.randperm(n_nodes, generator=gen).numpy()
            signs[k, perm[n_exc:]] = -1.0
        return signs
    signs = per_network(dale, n_networks, (n_nodes,), "dale", float)
    if not np.all(np.abs(signs) == 1.0):
        raise ValueError(
            "dale must be an excitatory fraction in [0, 1] or an array of +1 (excitatory) / "
            "-1 (inhibitory) per source node"
        )
    return signs


def tau_from_map(values, tau_range) -> np.ndarray:
    """Time constants rising linearly with a node map, min-max scaled onto ``tau_range``.

    Parameters
    ----------
    values : (N,) array_like
        A node map, e.g. the hierarchy gradient (higher = more associative).
    tau_range : (float, float)
        ``(tau_min, tau_max)`` in ms; the node with the lowest value gets
        ``tau_min`` and the highest ``tau_max``.

    Returns
    -------
    tau : (N,) float64 ndarray, ms
    """
    lo, hi = (float(v) for v in tau_range)
    if not 0 < lo <= hi:
        raise ValueError(f"tau_range must be (tau_min, tau_max) with 0 < tau_min <= tau_max ms; got {tau_range}")
    return scale_onto(values, lo, hi, "tau")


def scale_onto(values, first: float, last: float, what: str) -> np.ndarray:
    """A node map min-max scaled linearly: its lowest node gets ``first``, its highest ``last``.

    Parameters
    ----------
    values : (N,) array_like
        Finite, not constant.
    first, last : float
        Values of the lowest and the highest node (``first > last`` reverses the order).
    what : str
        What is being set, for the error messages ("tau", "leak").

    Returns
    -------
    (N,) float64 ndarray
    """
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim != 1 or not np.all(np.isfinite(vals)):
        raise ValueError(f"the node map for {what} must be a finite 1-D array; got shape {vals.shape}")
    span = vals.max() - vals.min()
    if span == 0:
        raise ValueError(f"the node map for {what} is constant, so it cannot order the nodes")
    return first + (last - first) * (vals - vals.min()) / span


# ----------------------------------------------------------------------------- initialisation
def _spectral_radius(w: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(w)))) if w.size else 0.0


@INITS.register("orthogonal")
def orthogonal_init(n: int, gen: torch.Generator, gain: float) -> np.ndarray:
    """A random orthogonal matrix times ``gain`` (QR of a normal draw, signs fixed)."""
    q, r = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    return gain * q.numpy()


@INITS.register("uniform")
def uniform_init(n: int, gen: torch.Generator, gain: float) -> np.ndarray:
    """``U(-a, a)`` with ``a = gain / sqrt(N)``."""
    return (gain / np.sqrt(n)) * (2.0 * torch.rand(n, n, generator=gen, dtype=torch.float64).numpy() - 1.0)


@INITS.register("normal")
def normal_init(n: int, gen: torch.Generator, gain: float) -> np.ndarray:
    """Normal with std ``gain / sqrt(N)``."""
    return (gain / np.sqrt(n)) * torch.randn(n, n, generator=gen, dtype=torch.float64).numpy()


@INITS.register("connectome")
def connectome_init(n: int, gen: torch.Generator, gain: float) -> np.ndarray:
    """Placeholder of the "connectome" init, which copies the connectome and draws nothing."""
    raise ValueError("init='connectome' copies the connectome (init_recurrent handles it); it draws nothing")


def init_recurrent(
    init: str,
    gen: torch.Generator,
    mask: np.ndarray,
    signs: np.ndarray | None,
    *,
    gain: float,
    connectome: np.ndarray | None,
    spectral_radius: float,
) -> np.ndarray:
    """Raw recurrent weights of one network; masked entries are exactly zero.

    With Dale's law the raw weights are non-negative magnitudes (the effective
    weight is ``|raw| * sign[source]``); inhibitory columns are scaled by
    ``n_exc / n_inh`` to balance mean excitation and inhibition, and the signed
    matrix is rescaled to spectral radius ``gain`` (random inits) or
    ``spectral_radius`` (connectome init). Random inits under a sparsity mask are
    scaled by ``1 / sqrt(density)`` to keep the weight variance per row.
    """
    n = mask.shape[0]
    if init == "connectome":
        w = np.abs(connectome) if signs is not None else np.array(connectome, dtype=np.float64)
        w = w * mask
        target = spectral_radius
    else:
        w = INITS.get(init, argument="init")(n, gen, gain) * mask
        density = mask.mean()
        if 0 < density < 1:
            w = w / np.sqrt(density)
        target = gain
        if signs is not None:
            w = np.abs(w)
            n_inh = int(np.sum(signs < 0))
            if 0 < n_inh < n:
                w[:, signs < 0] *= (n - n_inh) / n_inh
    if init == "connectome" or signs is not None:
        signed = w * signs[None, :] if signs is not None else w
        rho = _spectral_radius(signed)
        if rho == 0:
            raise ValueError(
                f"the masked {'connectome' if init == 'connectome' else 'recurrent'} matrix has spectral "
                f"radius 0 and cannot be scaled to {target}; check recurrent_mask / connectome"
            )
        w = w * (target / rho)
    return w


def init_readin(gen: torch.Generator, mask: np.ndarray) -> np.ndarray:
    """Input weights (N, I): normal with std 1 / sqrt(I), masked."""
    n, n_in = mask.shape
    return torch.randn(n, n_in, generator=gen, dtype=torch.float64).numpy() / np.sqrt(n_in) * mask


def init_readout(gen: torch.Generator, mask: np.ndarray) -> np.ndarray:
    """Readout weights (O, N): normal with std 1 / sqrt(allowed sources per output), masked."""
    n_out, n = mask.shape
    fan_in = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    return torch.randn(n_out, n, generator=gen, dtype=torch.float64).numpy() / np.sqrt(fan_in) * mask


def noise_generator(seed: int) -> torch.Generator:
    """The noise stream of the network with this seed (independent of its init stream)."""
    state = np.random.SeedSequence([seed, 1]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


# ----------------------------------------------------------------------------- timescales and gain
def tau_to_raw(tau: np.ndarray, dt: float, tau_max: float) -> np.ndarray:
    """Inverse of :func:`raw_to_tau`: ``logit((tau - dt) / (tau_max - dt))``.

    Raises a ValueError naming ``tau`` unless every value lies strictly inside
    ``(dt, tau_max)`` (the sigmoid reaches its ends only at infinity).
    """
    if not tau_max > dt:
        raise ValueError(f"tau_max must be > dt = {dt:g} ms; got {tau_max:g} ms")
    if np.any(tau <= dt) or np.any(tau >= tau_max):
        raise ValueError(
            f"learnable tau must lie strictly inside (dt, tau_max) = ({dt:g}, {tau_max:g}) ms; got values in "
            f"[{tau.min():g}, {tau.max():g}] ms (raise tau_max or move tau off the bounds)"
        )
    frac = (tau - dt) / (tau_max - dt)
    return np.log(frac) - np.log1p(-frac)


def raw_to_tau(raw: torch.Tensor, dt: float, tau_max: float) -> torch.Tensor:
    """Time constants ``dt + (tau_max - dt) * sigmoid(raw)``, always within ``[dt, tau_max]`` ms.

    A parametrisation, not a clamp: the gradient is smooth everywhere and no
    optimiser step can leave the interval.
    """
    return dt + (tau_max - dt) * torch.sigmoid(raw)


def scale_map(values, value_range, name: str) -> np.ndarray:
    """A node map min-max scaled linearly onto ``value_range = (low, high)``.

    Parameters
    ----------
    values : (N,) array_like
        Finite node values (e.g. the hierarchy gradient).
    value_range : (float, float)
        The node with the lowest value gets ``low``, the highest ``high``.
    name : str
        Argument name used in error messages.

    Returns
    -------
    (N,) float64 ndarray
    """
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim != 1 or not np.all(np.isfinite(vals)):
        raise ValueError(f"the node map for {name} must be a finite 1-D array; got shape {vals.shape}"
                         f"{'' if vals.ndim != 1 else ' with NaN or inf'}")
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"{name}_range must be a pair (low, high); got {value_range!r}") from None
    span = vals.max() - vals.min()
    if span == 0:
        raise ValueError(f"the node map for {name} is constant, so it cannot order the nodes")
    return lo + (hi - lo) * (vals - vals.min()) / span


def node_map(graph, spec, name: str) -> np.ndarray:
    """Look up ``"gradient"`` or a map name on ``graph`` (clear error listing the choices)."""
    values = graph.gradient if spec == "gradient" else graph.maps.get(spec)
    if values is None:
        raise ValueError(
            f"{name}={spec!r} needs graph.gradient or a map of that name; the graph has "
            f"gradient={'yes' if graph.gradient is not None else 'no'}, maps={sorted(graph.maps)}"
        )
    return np.asarray(values, dtype=np.float64)
