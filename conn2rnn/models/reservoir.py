"""Connectome reservoirs: fixed recurrent weights from a brain graph, read out linearly.

The states follow reservoirpy 0.4's leaky echo-state update (see
:mod:`conn2rnn.models.engine`), so :meth:`ConnectomeReservoir.to_reservoirpy`
gives a reservoirpy node with identical states that can be composed further
(``node >> Ridge(...)``). Simulation here uses the batched engine and resets the
state at the start of every trial.

Two pitfalls are handled on purpose:

* reservoirpy ignores ``sr`` and ``input_scaling`` when ``W``/``Win`` are arrays, so the
  weights are scaled here before they are handed over;
* connectomes may be directed, so the spectral radius is the largest modulus of the
  eigenvalues of the general (non-symmetric) matrix, never a symmetric eigensolver's.
"""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components

from conn2rnn._validation import check_float, check_int, check_seed, square_matrix
from conn2rnn.models._parametrize import scale_onto
from conn2rnn.models.engine import ACTIVATIONS, simulate

__all__ = [
    "CONNECTOME_TRANSFORMS",
    "SIGN_RULES",
    "ConnectomeReservoir",
    "prepare_connectome",
    "scale_spectral_radius",
    "spectral_radius",
]

CONNECTOME_TRANSFORMS: tuple[str, ...] = ("none", "log1p", "binarize")
SIGN_RULES: tuple[str, ...] = ("keep", "abs", "random", "dale")
_RESERVOIRPY_ACTIVATION = {"tanh": "tanh", "linear": "identity"}


def _is_acyclic(support: sparse.spmatrix | np.ndarray) -> bool:
    """True when the directed graph of the nonzero pattern has no cycle (nilpotent matrix)."""
    graph = sparse.csr_matrix(support != 0)
    n_comp, _ = connected_components(graph, directed=True, connection="strong")
    return n_comp == graph.shape[0] and not np.any(graph.diagonal())


def spectral_radius(w: Any) -> float:
    """Largest eigenvalue modulus of a (possibly directed) weight matrix.

    Uses the general eigensolver (``scipy.linalg.eigvals``; ARPACK ``eigs`` for a
    sparse matrix), so it is correct for non-symmetric ``w``. A matrix whose
    directed graph has no cycle is nilpotent and returns exactly 0.

    Parameters
    ----------
    w : (N, N) array_like or scipy sparse matrix

    Returns
    -------
    float
    """
    if sparse.issparse(w):
        if w.shape[0] != w.shape[1]:
            raise ValueError(f"w must be a square (N, N) matrix; got shape {w.shape}")
        if _is_acyclic(w):
            return 0.0
        if w.shape[0] < 3:
            return spectral_radius(w.toarray())
        from scipy.sparse.linalg import eigs

        vals = eigs(w.astype(np.float64), k=1, which="LM", return_eigenvectors=False,
                    v0=np.ones(w.shape[0]), maxiter=20 * w.shape[0])
        return float(np.max(np.abs(vals)))
    arr = square_matrix(w, "w")
    if _is_acyclic(arr):
        return 0.0
    return float(np.max(np.abs(linalg.eigvals(arr))))


_radius = spectral_radius  # alias for code where an argument shadows the name


def scale_spectral_radius(w: Any, target: float) -> np.ndarray:
    """Return a copy of ``w`` multiplied so that its spectral radius equals ``target``.

    Parameters
    ----------
    w : (N, N) array_like
        Weights ``w[target, source]``, directed or not; never modified.
    target : float
        Wanted spectral radius (>= 0).

    Returns
    -------
    (N, N) ndarray

    Raises
    ------
    ValueError
        If ``w`` is all zero or nilpotent (spectral radius 0, e.g. a feed-forward
        graph without cycles): no factor can give it a nonzero spectral radius.
    """
    target = check_float(target, "target spectral radius", low=0.0)
    arr = square_matrix(w, "w")
    if not np.any(arr):
        raise ValueError("w is all zero: a matrix without edges has spectral radius 0 and cannot be "
                         "scaled; check that the connectome was loaded")
    rho = spectral_radius(arr)
    if rho <= 1e-12 * np.abs(arr).max():
        raise ValueError("w has spectral radius 0 (nilpotent: its directed graph has no cycle, e.g. a "
                         "feed-forward chain), so no scale factor can reach the target; add recurrent "
                         "(cyclic) edges or multiply w by a gain yourself")
    return arr * (float(target) / rho)


def prepare_connectome(w: Any, *, transform: str = "none", sign: str = "keep",
                       inhibitory_fraction: float = 0.2, seed: int | np.random.Generator | None = None
                       ) -> np.ndarray:
    """Turn a connectome into reservoir weights, keeping every non-edge at zero.

    Parameters
    ----------
    w : (N, N) array_like
        Connectome ``w[target, source]``; never modified.
    transform : {'none', 'log1p', 'binarize'}
        ``'log1p'``: ``sign(w) * log(1 + |w|)`` compresses heavy-tailed weights;
        ``'binarize'``: ``sign(w)`` (1 on every edge). No min-max scaling is ever
        applied, as it would turn non-edges into edges.
    sign : {'keep', 'abs', 'random', 'dale'}
        ``'keep'``: signs as given; ``'abs'``: all weights made positive;
        ``'random'``: each edge made negative with probability ``inhibitory_fraction``;
        ``'dale'``: a random ``inhibitory_fraction`` of the nodes become inhibitory,
        i.e. all their outgoing weights (columns) are made negative.
    inhibitory_fraction : float
        In [0, 1]; used by ``'random'`` and ``'dale'``.
    seed : int or numpy.random.Generator, optional
        Seed for ``'random'`` and ``'dale'``.

    Returns
    -------
    (N, N) ndarray
        New weights with the same zero pattern as ``w``.
    """
    arr = square_matrix(w, "w")
    if transform not in CONNECTOME_TRANSFORMS:
        raise ValueError(f"unknown transform {transform!r}; choose one of {list(CONNECTOME_TRANSFORMS)}")
    if sign not in SIGN_RULES:
        raise ValueError(f"unknown sign rule {sign!r}; choose one of {list(SIGN_RULES)}")
    if not 0.0 <= float(inhibitory_fraction) <= 1.0:
        raise ValueError(f"inhibitory_fraction must lie in [0, 1]; got {inhibitory_fraction!r}")
    if transform == "log1p":
        arr = np.sign(arr) * np.log1p(np.abs(arr))
    elif transform == "binarize":
        arr = np.sign(arr)
    rng = np.random.default_rng(seed if isinstance(seed, np.random.Generator) or seed is None
                                else check_seed(seed))
    if sign == "abs":
        arr = np.abs(arr)
    elif sign == "random":
        arr = np.abs(arr) * np.where(rng.random(arr.shape) < inhibitory_fraction, -1.0, 1.0)
    elif sign == "dale":
        n_inh = int(round(inhibitory_fraction * arr.shape[0]))
        col_sign = np.ones(arr.shape[0])
        col_sign[rng.choice(arr.shape[0], size=n_inh, replace=False)] = -1.0
        arr = np.abs(arr) * col_sign[None, :]
    return arr + 0.0  # no negative zeros


def _node_index(spec: Any, graph: Any, name: str) -> np.ndarray:
    """Node indices from None (all), network name(s), int indices or a bool mask."""
    n = graph.n_nodes
    if spec is None:
        return np.arange(n)
    if isinstance(spec, str) or (isinstance(spec, (tuple, list)) and spec and all(isinstance(s, str) for s in spec)):
        idx = np.asarray(graph.select(networks=spec), dtype=int)
    else:
        arr = np.asarray(spec)
        if arr.size == 0:
            raise ValueError(f"{name} selects no node; pick at least one node or network")
        if arr.dtype == bool:
            if arr.shape != (n,):
                raise ValueError(f"{name} as a mask must have shape ({n},); got {arr.shape}")
            idx = np.flatnonzero(arr)
        elif arr.dtype.kind in "iu":
            idx = np.unique(arr.ravel()).astype(int)
            if idx.size and (idx[0] < 0 or idx[-1] >= n):
                raise ValueError(f"{name} has indices outside 0..{n - 1}")
        else:
            raise TypeError(f"{name} must be None, network name(s), int indices or a bool mask; got {arr.dtype}")
    if idx.size == 0:
        raise ValueError(f"{name} selects no node; pick at least one node or network")
    return idx


def _gradient_leak(gradient: Any, leak_range: Sequence[float]) -> np.ndarray:
    if gradient is None:
        raise ValueError("leak='gradient' needs a hierarchy gradient; build the graph with one "
                         "(load_atlas provides it, or graph.with_gradient(values))")
    lo, hi = (float(v) for v in leak_range)
    if not 0.0 < lo <= hi <= 1.0:
        raise ValueError(f"leak_range must satisfy 0 < low <= high <= 1; got {tuple(leak_range)}")
    return scale_onto(gradient, hi, lo, "leak")  # association nodes leak least: the longest memory


class ConnectomeReservoir:
    """A leaky echo-state reservoir with fixed weights, read out from a set of nodes.

    Parameters
    ----------
    w : (N, N) array_like
        Recurrent weights ``w[target, source]`` (used as given).
    w_in : (N, I) array_like
        Input weights; rows are nonzero only on the input nodes.
    bias : float or (N,) array_like
        Bias inside the activation.
    leak : float or (N,) array_like
        Leak rate(s) in (0, 1].
    activation : {'tanh', 'linear'}
    noise : float
        Standard deviation of Gaussian state noise (>= 0).
    input_nodes : int array_like, optional
        Nodes receiving input; inferred from the nonzero rows of ``w_in`` if omitted.
    output_nodes : int array_like, optional
        Nodes a readout may see; all nodes if omitted.
    node_names : sequence of str, optional
    metadata : mapping, optional
        Provenance (target spectral radius, connectome transform, ...).

    Attributes
    ----------
    W, W_in, bias, leak, input_nodes, output_nodes
        Read-only arrays; ``leak`` is a float or an (N,) array.
    """

    def __init__(self, w: Any, w_in: Any, *, bias: Any = 0.0, leak: Any = 1.0, activation: str = "tanh",
                 noise: float = 0.0, input_nodes: Any = None, output_nodes: Any = None,
                 node_names: Sequence[str] | None = None, metadata: Mapping[str, Any] | None = None):
        w_arr = square_matrix(w, "w")
        n = w_arr.shape[0]
        w_in_arr = np.array(w_in, dtype=np.float64)
        if w_in_arr.ndim != 2 or w_in_arr.shape[0] != n or w_in_arr.shape[1] == 0:
            raise ValueError(f"w_in must be (N, I) = ({n}, I>=1); got shape {w_in_arr.shape}")
        if not np.all(np.isfinite(w_in_arr)):
            raise ValueError("w_in contains NaN or infinite values")
        driven = np.flatnonzero(np.any(w_in_arr != 0, axis=1))
        if input_nodes is None:
            inp = driven
        else:
            inp = np.unique(np.asarray(input_nodes, dtype=int))
            stray = np.setdiff1d(driven, inp)
            if stray.size:
                raise ValueError(f"w_in has nonzero rows outside input_nodes: {stray[:5].tolist()}; "
                                 "zero them or add them to input_nodes")
        if inp.size == 0:
            raise ValueError("the input node set is empty (w_in is all zero); give at least one input node")
        out = np.arange(n) if output_nodes is None else np.unique(np.asarray(output_nodes, dtype=int))
        for label, idx in (("input_nodes", inp), ("output_nodes", out)):
            if idx.size == 0:
                raise ValueError(f"{label} is empty; give at least one node")
            if idx[0] < 0 or idx[-1] >= n:
                raise ValueError(f"{label} has indices outside 0..{n - 1}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}")
        noise = check_float(noise, "noise (a standard deviation)", low=0.0)
        leak_arr = np.array(leak, dtype=np.float64)
        if leak_arr.shape not in ((), (n,)) or not np.all((leak_arr > 0) & (leak_arr <= 1)):
            raise ValueError(f"leak must be a number or an ({n},) array in (0, 1]; got {leak!r}")
        try:
            bias_arr = np.array(bias, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"bias must be a number or an ({n},) array; got {type(bias).__name__}") from None
        if bias_arr.shape not in ((), (n,)):
            raise ValueError(f"bias must be a number or an ({n},) array (one value per node); got "
                             f"shape {bias_arr.shape}")
        bias_arr = np.broadcast_to(bias_arr, (n,)).copy()
        if not np.all(np.isfinite(bias_arr)):
            raise ValueError("bias contains NaN or infinite values")
        if node_names is not None and len(node_names) != n:
            raise ValueError(f"node_names must have {n} entries; got {len(node_names)}")
        for arr in (w_arr, w_in_arr, bias_arr, inp, out, leak_arr):
            arr.setflags(write=False)
        self.W, self.W_in, self.bias = w_arr, w_in_arr, bias_arr
        self.leak = float(leak_arr) if leak_arr.ndim == 0 else leak_arr
        self.activation, self.noise = activation, float(noise)
        self.input_nodes, self.output_nodes = inp, out
        self.node_names = None if node_names is None else tuple(str(s) for s in node_names)
        self.metadata = MappingProxyType(dict(metadata or {}))

    # ------------------------------------------------------------------ build
    @classmethod
    def from_arrays(cls, w: Any, w_in: Any, *, spectral_radius: float | None = None, **kwargs: Any
                    ) -> "ConnectomeReservoir":
        """Build from weight arrays, optionally rescaling ``w`` to a spectral radius.

        Parameters
        ----------
        w : (N, N) array_like
        w_in : (N, I) array_like
        spectral_radius : float, optional
            If given, ``w`` is rescaled (on a copy) to this spectral radius.
        **kwargs
            ``bias``, ``leak``, ``activation``, ``noise``, ``input_nodes``,
            ``output_nodes``, ``node_names``, ``metadata`` as in the constructor.

        Returns
        -------
        ConnectomeReservoir
        """
        if spectral_radius is not None:
            w = scale_spectral_radius(w, spectral_radius)
            meta = dict(kwargs.pop("metadata", None) or {}, spectral_radius=float(spectral_radius))
            kwargs["metadata"] = meta
        return cls(w, w_in, **kwargs)

    @classmethod
    def from_graph(cls, graph: Any, *, n_inputs: int, input_nodes: Any = None, output_nodes: Any = None,
                   spectral_radius: float | None = 0.9, input_scaling: Any = 1.0, leak: Any = 0.3,
                   leak_range: tuple[float, float] = (0.1, 0.9), bias_scaling: float = 0.0,
                   noise: float = 0.0, activation: str = "tanh", connectome_transform: str = "none",
                   sign: str = "keep", inhibitory_fraction: float = 0.2, seed: int | None = None
                   ) -> "ConnectomeReservoir":
        """Build a reservoir whose recurrent weights are the graph's connectome.

        Parameters
        ----------
        graph : BrainGraph
            Needs ``connectome``; ``networks`` to select nodes by network and
            ``gradient`` for ``leak='gradient'``.
        n_inputs : int
            Number of input channels I.
        input_nodes, output_nodes : None, str, sequence of str, int indices or bool mask
            ``None``: all nodes; network names (e.g. ``("Vis",)`` in, ``("Default",)``
            out) select every node of those networks.
        spectral_radius : float or None
            Target spectral radius of the (prepared) connectome; ``None`` keeps its scale.
        input_scaling : float or (I,) array_like
            ``W_in`` entries on input nodes are uniform in [-1, 1] times this (per channel).
        leak : float, (N,) array_like or 'gradient'
            ``'gradient'`` maps the hierarchy gradient linearly onto ``leak_range``:
            ``leak_i = high - (high - low) * (g_i - min g) / (max g - min g)``, so the
            most sensory node gets ``high`` (fast, own time constant ~ 1/high steps) and
            the most associative node ``low`` (slow, ~ 1/low steps).
        leak_range : (low, high)
            Leak range used by ``leak='gradient'``; ``0 < low <= high <= 1``.
        bias_scaling : float
            Bias entries uniform in [-1, 1] times this (0: no bias).
        noise : float
            State-noise standard deviation.
        activation : {'tanh', 'linear'}
        connectome_transform : {'none', 'log1p', 'binarize'}
            See :func:`prepare_connectome`.
        sign : {'keep', 'abs', 'random', 'dale'}
            See :func:`prepare_connectome`.
        inhibitory_fraction : float
            See :func:`prepare_connectome`.
        seed : int, optional
            Seeds the input weights, bias and sign draws (separate streams).

        Returns
        -------
        ConnectomeReservoir
        """
        if getattr(graph, "connectome", None) is None:
            raise ValueError("graph has no connectome; load one (load_atlas(..., connectome='enigma_hcp')) "
                             "or attach one with graph.with_connectome(w)")
        n_inputs = check_int(n_inputs, "n_inputs", low=1)
        n = graph.n_nodes
        seed = None if seed is None else check_seed(seed)
        sign_ss, in_ss, bias_ss = np.random.SeedSequence(seed).spawn(3)
        w = prepare_connectome(graph.connectome, transform=connectome_transform, sign=sign,
                               inhibitory_fraction=inhibitory_fraction, seed=np.random.default_rng(sign_ss))
        raw_rho = target = None
        if spectral_radius is not None:
            raw_rho = _radius(w)
            w = scale_spectral_radius(w, spectral_radius)
            target = float(spectral_radius)
        inp = _node_index(input_nodes, graph, "input_nodes")
        out = _node_index(output_nodes, graph, "output_nodes")
        scaling = np.asarray(input_scaling, dtype=np.float64)
        if scaling.ndim > 1 or scaling.size not in (1, n_inputs) or not np.all(np.isfinite(scaling)):
            raise ValueError(f"input_scaling must be a finite number or ({n_inputs},) array; got {input_scaling!r}")
        w_in = np.zeros((n, n_inputs))
        w_in[inp] = np.random.default_rng(in_ss).uniform(-1.0, 1.0, (inp.size, n_inputs)) * scaling
        bias = np.random.default_rng(bias_ss).uniform(-1.0, 1.0, n) * float(bias_scaling)
        if isinstance(leak, str):
            if leak != "gradient":
                raise ValueError(f"leak must be a number, an (N,) array or 'gradient'; got {leak!r}")
            leak_val: Any = _gradient_leak(graph.gradient, leak_range)
        else:
            leak_val = leak
        meta = {
            "spectral_radius": target, "raw_spectral_radius": raw_rho,
            "connectome_transform": connectome_transform, "sign": sign,
            "leak": "gradient" if isinstance(leak, str) else "given", "seed": seed,
            "atlas": dict(getattr(graph, "metadata", {}) or {}).get("atlas"),
        }
        return cls(w, w_in, bias=bias, leak=leak_val, activation=activation, noise=noise,
                   input_nodes=inp, output_nodes=out, node_names=getattr(graph, "names", None), metadata=meta)

    def with_spectral_radius(self, radius: float) -> "ConnectomeReservoir":
        """A copy with ``W`` rescaled to ``radius`` (0 gives an all-zero ``W``)."""
        w = np.zeros_like(self.W) if radius == 0 else scale_spectral_radius(self.W, radius)
        return ConnectomeReservoir(w, self.W_in, bias=self.bias, leak=self.leak, activation=self.activation,
                                   noise=self.noise, input_nodes=self.input_nodes, output_nodes=self.output_nodes,
                                   node_names=self.node_names,
                                   metadata=dict(self.metadata, spectral_radius=float(radius)))

    # ------------------------------------------------------------------ use
    @property
    def n_nodes(self) -> int:
        """Number of units N."""
        return int(self.W.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of input channels I."""
        return int(self.W_in.shape[1])

    def __repr__(self) -> str:
        leak = f"{self.leak:g}" if isinstance(self.leak, float) else f"[{self.leak.min():.3g}..{self.leak.max():.3g}]"
        return (f"ConnectomeReservoir(N={self.n_nodes}, I={self.n_inputs}, inputs on {self.input_nodes.size} "
                f"nodes, outputs from {self.output_nodes.size}, leak={leak}, activation={self.activation!r}, "
                f"noise={self.noise:g})")

    def run(self, inputs: Any, *, seed: int | None = None, return_all: bool = True, x0: Any = None,
            backend: str = "numpy", dtype: Any = np.float64, device: Any = None):
        """Simulate a batch of trials; every trial starts from ``x0`` (zero by default).

        Parameters
        ----------
        inputs : (T, B, I) array_like
        seed : int, optional
            Seed of the state noise (ignored when ``noise`` is 0).
        return_all : bool
            All states (T, B, N) or the last one (B, N).
        x0, backend, dtype, device
            As in :func:`conn2rnn.models.engine.simulate`.

        Returns
        -------
        states : (T, B, N) ndarray (a tensor with ``backend='torch'``)
        """
        shape = tuple(np.shape(inputs))
        if len(shape) != 3 or shape[2] != self.n_inputs:
            raise ValueError(f"inputs must be (T, B, I) with I = {self.n_inputs} channels; got shape {shape}")
        if seed is not None:
            check_seed(seed)
        return simulate(self.W, self.W_in, inputs, self.leak, self.bias, activation=self.activation,
                        noise=self.noise, seed=seed, x0=x0, backend=backend, dtype=dtype, device=device,
                        return_all=return_all)

    def output_states(self, states: Any):
        """Select the output nodes: (..., N) -> (..., n_outputs)."""
        if np.shape(states)[-1] != self.n_nodes:
            raise ValueError(f"states must end with N = {self.n_nodes} units; got shape {tuple(np.shape(states))}")
        return states[..., self.output_nodes]

    def to_reservoirpy(self, *, seed: int | None = None, name: str | None = None):
        """A reservoirpy ``Reservoir`` node with this reservoir's W, Win, bias, leak and activation.

        The node's states equal :meth:`run`'s. reservoirpy 0.4 has no noise
        parameter; when ``noise > 0`` (or the leak is per node, which reservoirpy's
        own ``repr`` cannot print) the node is a ``Reservoir`` subclass that adds
        Gaussian state noise (sd ``noise``) after each step, exactly where the engine
        adds it, from its own generator seeded by ``seed`` (a different random
        stream from :meth:`run`'s).

        Parameters
        ----------
        seed : int, optional
            Noise seed (only used when ``noise > 0``).
        name : str, optional
            reservoirpy node name.

        Returns
        -------
        reservoirpy.nodes.Reservoir
        """
        kwargs = dict(W=np.array(self.W), Win=np.array(self.W_in), bias=np.array(self.bias),
                      lr=np.array(self.leak) if isinstance(self.leak, np.ndarray) else self.leak,
                      activation=_RESERVOIRPY_ACTIVATION[self.activation], name=name)
        if self.noise == 0 and isinstance(self.leak, float):
            from reservoirpy.nodes import Reservoir  # heavy; only for reservoirpy's own nodes

            return Reservoir(**kwargs)
        if seed is not None:
            check_seed(seed)
        return _reservoir_node_class()(noise=self.noise, noise_seed=seed, **kwargs)


@functools.lru_cache(maxsize=1)
def _reservoir_node_class() -> type:
    from reservoirpy.nodes import Reservoir  # heavy; only for reservoirpy's own nodes

    class ConnectomeReservoirNode(Reservoir):
        """reservoirpy Reservoir with optional Gaussian state noise after each update.

        Also prints per-node leak rates, which reservoirpy 0.4's own ``repr`` cannot.
        """

        def __init__(self, *, noise: float = 0.0, noise_seed: int | None = None, **kwargs: Any):
            super().__init__(**kwargs)
            self.noise = noise
            self.noise_rng = np.random.default_rng(noise_seed)

        def _step(self, state, x):
            out = super()._step(state, x)["out"]
            if self.noise > 0:
                out = out + self.noise * self.noise_rng.standard_normal(out.shape)
            return {"out": out}

        def __str__(self) -> str:
            lr = np.asarray(self.lr)
            lr_txt = f"{float(lr):g}" if lr.ndim == 0 else f"per-node [{lr.min():.3g}..{lr.max():.3g}]"
            return f"Reservoir(units={self.units}, lr={lr_txt}, noise={self.noise:g})"

    return ConnectomeReservoirNode
