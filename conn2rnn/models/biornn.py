"""BioRNN: an ensemble of K trainable leaky rate networks constrained by a brain graph.

For each network ``k`` (``a = dt / tau``, a scalar or one value per node)::

    h[t+1] = (1 - a) * h[t] + a * f(W h[t] + W_in x[t] + b + noise_rec)
    y[t]   = W_out h[t] + b_out

Weights follow ``w[target, source]``; an ensemble stacks them as ``(K, N, N)``,
``(K, N, I)`` and ``(K, O, N)``. Constraints act in the forward pass: the
effective weights are ``mask * raw`` (and, with Dale's law,
``mask * |raw| * sign[source]``), so masked weights get exactly zero gradient
and stay zero without any clamping after the optimiser step.
"""

from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from . import _parametrize as P
from ._recurrence import ACTIVATIONS, check_activation, leaky_recurrence
from .protocol import LeakyParameters, check_inputs

__all__ = ["BioRNN", "ACTIVATIONS", "INITS"]

INITS = P.INITS

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class BioRNN(nn.Module):
    """K independent leaky rate RNNs in one module, trained together by BPTT.

    Parameters
    ----------
    n_inputs, n_nodes, n_outputs : int
        I, N and O.
    n_networks : int
        K, the ensemble size.
    seeds : None, int or sequence of K int
        Seed of each network's initialisation and noise (None: 0 .. K-1). Member
        ``k`` equals a standalone network built with ``seeds[k]``.
    dt : float
        Step in ms.
    tau : float or (N,) or (K, N) array_like
        Time constants in ms, each >= ``dt``.
    activation : str
        One of :data:`ACTIVATIONS` ("tanh", "relu", "sigmoid", "softplus",
        "retanh" = max(0, tanh), "linear"). tanh is computed as
        ``2 sigmoid(2x) - 1`` (within 2e-7 of ``torch.tanh`` in float32).
    init : {"orthogonal", "uniform", "normal", "connectome"}
        Recurrent initialisation: orthogonal times ``gain``; ``U(-a, a)`` with
        ``a = gain / sqrt(N)``; normal with std ``gain / sqrt(N)``; or
        ``connectome`` scaled to ``spectral_radius``.
    gain : float
        Scale of the random initialisations.
    spectral_radius : float
        Spectral radius of the initial recurrent matrix for ``init="connectome"``.
    connectome : (N, N) array_like, optional
        Required for ``init="connectome"`` (``w[target, source]``).
    input_mask : (N, I) or (K, N, I) bool array_like, optional
    output_mask : (O, N) or (K, O, N) bool array_like, optional
    recurrent_mask : (N, N) or (K, N, N) bool array_like, optional
        Allowed weights (True); default all allowed.
    dale : None, float or (N,) / (K, N) array of +-1
        Dale's law: an excitatory fraction (each network draws its inhibitory
        nodes from its seed) or explicit source-node signs.
    sigma_rec : float
        Recurrent noise: ``sqrt(2 / a) * sigma_rec * xi`` is added to the
        pre-activation, so the noise in ``h`` does not depend on ``dt``.
    sigma_in : float
        Std of white noise added to every input channel at every step.
    strengths : None, float or (K,) array_like
        Per-network strength of the regime's spatial cost (>= 0).
    trainable : bool
        False freezes the recurrent and input weights (readout-only training).
    dtype : torch.dtype
        ``torch.float32`` or ``torch.float64``.

    Attributes
    ----------
    w_rec_raw, w_in_raw, w_out_raw : (K, N, N), (K, N, I), (K, O, N) parameters
        Raw weights; :attr:`w_rec`, :attr:`w_in`, :attr:`w_out` give the
        effective (masked, sign-constrained) ones.
    b_rec, b_out : (K, N), (K, O) parameters
    input_mask, output_mask, recurrent_mask : bool buffers, (K, N, I), (K, O, N), (K, N, N)
    tau : (K, N) buffer, ms
    strengths : (K,) buffer
    dale_sign : (K, N) buffer of +-1, only with Dale's law
    config : dict
        JSON-safe hyperparameters.
    graph, regimes, regime_arrays, task_spec
        Provenance set by :meth:`from_graph` (None otherwise).
    """

    def __init__(
        self,
        n_inputs: int,
        n_nodes: int,
        n_outputs: int,
        *,
        n_networks: int = 1,
        seeds: int | Sequence[int] | None = None,
        dt: float = 10.0,
        tau: Any = 100.0,
        activation: str = "tanh",
        init: str = "orthogonal",
        gain: float = 1.0,
        spectral_radius: float = 0.9,
        connectome: Any = None,
        input_mask: Any = None,
        output_mask: Any = None,
        recurrent_mask: Any = None,
        dale: Any = None,
        sigma_rec: float = 0.0,
        sigma_in: float = 0.0,
        strengths: Any = None,
        trainable: bool = True,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        n_in = P.check_positive_int(n_inputs, "n_inputs")
        n = P.check_positive_int(n_nodes, "n_nodes")
        n_out = P.check_positive_int(n_outputs, "n_outputs")
        k = P.check_positive_int(n_networks, "n_networks")
        if init not in INITS:
            raise ValueError(f"init must be one of {list(INITS)}; got {init!r}")
        if dtype not in _DTYPES.values():
            raise TypeError(f"dtype must be torch.float32 or torch.float64; got {dtype}")
        seeds = P.as_seeds(seeds, k)
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        masks = {
            "input_mask": P.per_network(np.ones((n, n_in), bool) if input_mask is None else input_mask,
                                        k, (n, n_in), "input_mask", bool),
            "output_mask": P.per_network(np.ones((n_out, n), bool) if output_mask is None else output_mask,
                                         k, (n_out, n), "output_mask", bool),
            "recurrent_mask": P.per_network(np.ones((n, n), bool) if recurrent_mask is None else recurrent_mask,
                                            k, (n, n), "recurrent_mask", bool),
        }
        strengths = P.per_network(0.0 if strengths is None else strengths, k, (), "strengths", float)
        if np.any(strengths < 0):
            raise ValueError(f"strengths must be >= 0 (one per network); got {strengths.tolist()}")
        conn = None
        if init == "connectome":
            if connectome is None:
                raise ValueError("init='connectome' needs connectome=(N, N) array (w[target, source])")
            conn = P.per_network(connectome, 1, (n, n), "connectome", float)[0]
        signs = P.dale_signs(dale, n, k, gens)
        config = {
            "n_inputs": n_in, "n_nodes": n, "n_outputs": n_out, "n_networks": k, "seeds": seeds,
            "dt": _positive(dt, "dt"), "activation": check_activation(activation), "init": init,
            "gain": P.check_nonneg_float(gain, "gain"),
            "spectral_radius": P.check_nonneg_float(spectral_radius, "spectral_radius"),
            "sigma_rec": P.check_nonneg_float(sigma_rec, "sigma_rec"),
            "sigma_in": P.check_nonneg_float(sigma_in, "sigma_in"),
            "dale": signs is not None, "trainable": bool(trainable),
            "dtype": str(dtype).removeprefix("torch."),
        }
        tau_arr = P.per_network(tau, k, (n,), "tau", float) if np.ndim(tau) else np.full((k, n), _positive(tau, "tau"))
        if np.any(tau_arr < config["dt"]):
            raise ValueError(
                f"tau must be >= dt = {config['dt']:g} ms everywhere (a = dt / tau <= 1); "
                f"got min tau {tau_arr.min():g} ms (lower dt or raise tau)"
            )
        buffers = {**masks, "tau": tau_arr, "strengths": strengths}
        if signs is not None:
            buffers["dale_sign"] = signs
        self._setup(config, {name: torch.as_tensor(v) for name, v in buffers.items()})
        self._initialise(gens, conn)

    # ------------------------------------------------------------------ construction
    def _setup(self, config: dict, buffers: dict[str, torch.Tensor]) -> None:
        """Register empty parameters and the given buffers; shared by ``__init__`` and loading."""
        self.config = copy.deepcopy(config)
        dtype = _DTYPES[config["dtype"]]
        k, n, n_in, n_out = (config[key] for key in ("n_networks", "n_nodes", "n_inputs", "n_outputs"))
        shapes = {"w_rec_raw": (k, n, n), "w_in_raw": (k, n, n_in), "w_out_raw": (k, n_out, n),
                  "b_rec": (k, n), "b_out": (k, n_out)}
        for name, shape in shapes.items():
            frozen = not config["trainable"] and name in ("w_rec_raw", "w_in_raw", "b_rec")
            self.register_parameter(name, nn.Parameter(torch.zeros(shape, dtype=dtype), requires_grad=not frozen))
        for name, value in buffers.items():
            value = value.to(torch.bool) if name.endswith("_mask") else value.to(dtype)
            self.register_buffer(name, value.clone())
        # a = dt / tau from the stored (model-dtype) tau, so a rebuilt model steps identically
        tau0 = float(self.tau.flatten()[0])
        self._alpha_scalar = config["dt"] / tau0 if bool((self.tau == tau0).all()) else None
        self.register_buffer("_alpha", (config["dt"] / self.tau).unsqueeze(1), persistent=False)
        self._noise_gens = [P.noise_generator(s) for s in config["seeds"]]
        self.graph = None
        self.regimes = None
        self.regime_arrays = None
        self.task_spec = None

    @torch.no_grad()
    def _initialise(self, gens: list[torch.Generator], connectome: np.ndarray | None) -> None:
        cfg = self.config
        signs = self.dale_sign.double().numpy() if cfg["dale"] else None
        for k, gen in enumerate(gens):
            w = P.init_recurrent(
                cfg["init"], gen, self.recurrent_mask[k].numpy(), None if signs is None else signs[k],
                gain=cfg["gain"], connectome=connectome, spectral_radius=cfg["spectral_radius"],
            )
            self.w_rec_raw[k] = torch.from_numpy(w)
            self.w_in_raw[k] = torch.from_numpy(P.init_readin(gen, self.input_mask[k].numpy()))
            self.w_out_raw[k] = torch.from_numpy(P.init_readout(gen, self.output_mask[k].numpy()))

    @classmethod
    def _from_state(cls, config: dict, state: dict[str, torch.Tensor]) -> "BioRNN":
        """Rebuild a model from its config and full state dict, skipping initialisation."""
        model = cls.__new__(cls)
        nn.Module.__init__(model)
        buffers = {name: state[name] for name in ("input_mask", "output_mask", "recurrent_mask", "tau",
                                                  "strengths", "dale_sign") if name in state}
        model._setup(config, buffers)
        model.load_state_dict(state, strict=True)
        return model

    @classmethod
    def from_graph(
        cls,
        graph,
        task,
        regime: Any = "vanilla",
        *,
        n_networks: int = 1,
        seeds: int | Sequence[int] | None = None,
        strengths: Any = None,
        tau: Any = 100.0,
        tau_range: tuple[float, float] = (100.0, 1000.0),
        init: str = "orthogonal",
        dt: float | None = None,
        **kwargs: Any,
    ) -> "BioRNN":
        """Build an ensemble whose nodes are the graph's regions, sized for a task.

        Parameters
        ----------
        graph : BrainGraph
        task : Task or str
            Gives I, O and ``dt`` (a name is built with ``get_task(name)``).
        regime : Regime, str, or sequence of K of them
            Constraints, resolved with :func:`conn2rnn.regimes.resolve_regime`.
            Regimes of one ensemble must agree on ``dale`` and ``trainable``.
        n_networks, seeds : see :class:`BioRNN`
        strengths : None, float or (K,) array_like
            Spatial-cost strengths; default each regime's ``strength``.
        tau : float, array_like, "gradient" or a name in ``graph.maps``
            A map name gives time constants rising linearly along it onto ``tau_range``.
        tau_range : (float, float)
            ``(tau_min, tau_max)`` in ms for a map-based ``tau``.
        init : str
            ``"connectome"`` uses ``graph.connectome``.
        dt : float, optional
            Step in ms; default ``task.dt``.
        **kwargs
            Other :class:`BioRNN` arguments (activation, gain, sigma_rec, ...).
        """
        from conn2rnn.regimes import Regime, get_regime, resolve_regime
        from conn2rnn.tasks import get_task

        task = get_task(task) if isinstance(task, str) else task
        k = P.check_positive_int(n_networks, "n_networks")
        regs = [regime] * k if isinstance(regime, (str, Regime)) else list(regime)
        if len(regs) != k:
            raise ValueError(f"regime must be one regime or {k} (one per network); got {len(regs)}")
        regs = [get_regime(r) if isinstance(r, str) else r for r in regs]
        if len({r.dale for r in regs}) > 1 or len({r.trainable for r in regs}) > 1:
            raise ValueError("the regimes of one ensemble must agree on dale and trainable; build separate models")
        resolved: dict = {}  # one RegimeArrays per distinct regime (strength aside)
        for r in regs:
            key = r.replace(strength=0.0)
            if key not in resolved:
                resolved[key] = resolve_regime(r, graph)
        arrays = [resolved[r.replace(strength=0.0)] for r in regs]
        if isinstance(tau, str):
            values = graph.gradient if tau == "gradient" else graph.maps.get(tau)
            if values is None:
                raise ValueError(
                    f"tau={tau!r} needs graph.gradient or a map of that name; the graph has "
                    f"gradient={'yes' if graph.gradient is not None else 'no'}, maps={sorted(graph.maps)}"
                )
            tau = P.tau_from_map(values, tau_range)
        if strengths is None:
            strengths = [r.strength for r in regs]
        strengths = P.per_network(strengths, k, (), "strengths", float)
        if np.any(strengths < 0):
            raise ValueError(f"strengths must be >= 0 (one per network); got {strengths.tolist()}")
        regs = [r.replace(strength=float(s)) for r, s in zip(regs, strengths)]

        def stack(get):  # (K, ...) masks, all-True where a network's regime sets none
            masks = [get(a) for a in arrays]
            present = [m for m in masks if m is not None]
            if not present:
                return None
            return np.stack([np.ones_like(present[0]) if m is None else m for m in masks])

        model = cls(
            task.n_inputs, graph.n_nodes, task.n_outputs, n_networks=k, seeds=seeds,
            dt=task.dt if dt is None else dt, tau=tau, init=init,
            connectome=graph.connectome if init == "connectome" else None,
            input_mask=stack(lambda a: a.input_mask(task.n_inputs)),
            output_mask=stack(lambda a: a.output_mask(task.n_outputs)),
            recurrent_mask=stack(lambda a: a.recurrent_mask),
            dale=regs[0].excitatory_fraction if regs[0].dale else None,
            strengths=strengths, trainable=regs[0].trainable, **kwargs,
        )
        model.graph = graph
        model.regimes = tuple(regs)
        model.regime_arrays = tuple(arrays)
        model.task_spec = task.to_dict()
        return model

    # ------------------------------------------------------------------ views
    @property
    def n_networks(self) -> int:
        return self.config["n_networks"]

    @property
    def n_nodes(self) -> int:
        return self.config["n_nodes"]

    @property
    def n_inputs(self) -> int:
        return self.config["n_inputs"]

    @property
    def n_outputs(self) -> int:
        return self.config["n_outputs"]

    @property
    def seeds(self) -> list[int]:
        return list(self.config["seeds"])

    @property
    def w_rec(self) -> torch.Tensor:
        """(K, N, N) effective recurrent weights ``w[k, target, source]`` (differentiable)."""
        w = self.w_rec_raw.abs() * self.dale_sign.unsqueeze(1) if self.config["dale"] else self.w_rec_raw
        return w * self.recurrent_mask

    @property
    def w_in(self) -> torch.Tensor:
        """(K, N, I) effective input weights."""
        return self.w_in_raw * self.input_mask

    @property
    def w_out(self) -> torch.Tensor:
        """(K, O, N) effective readout weights."""
        return self.w_out_raw * self.output_mask

    def extra_repr(self) -> str:
        c = self.config
        return (f"K={c['n_networks']}, I={c['n_inputs']}, N={c['n_nodes']}, O={c['n_outputs']}, "
                f"activation={c['activation']!r}, init={c['init']!r}, dale={c['dale']}")

    # ------------------------------------------------------------------ forward
    def forward(
        self, x: torch.Tensor, *, h0: torch.Tensor | None = None, noise: bool | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run all K networks.

        Parameters
        ----------
        x : (T, B, I) tensor shared by all networks, or (T, K, B, I)
        h0 : (K, B, N) tensor, optional
            Initial state (default zeros).
        noise : bool, optional
            Add the configured noise; default: only in training mode.

        Returns
        -------
        outputs : (T, K, B, O) tensor
        states : (T, K, B, N) tensor
            Both are views of network-major ``(K, T, B, ...)`` buffers
            (``.transpose(0, 1)`` gives those back without a copy).
        """
        x = self._check_input(x)
        k, n, n_in = self.n_networks, self.n_nodes, self.n_inputs
        n_t, n_b = x.shape[0], x.shape[-2]
        use_noise = self.training if noise is None else bool(noise)
        # network-major inputs: (T*B, I) shared, or (K, T*B, I)
        x = x.reshape(n_t * n_b, n_in) if x.ndim == 3 else x.transpose(0, 1).reshape(k, n_t * n_b, n_in)
        if use_noise and self.config["sigma_in"] > 0:
            x = x + self.config["sigma_in"] * self._noise((n_t * n_b, n_in), x.dtype)
        rec_noise = None
        if use_noise and self.config["sigma_rec"] > 0:
            scale = self.config["sigma_rec"] * torch.sqrt(2.0 / self._alpha).unsqueeze(1)  # (K, 1, 1, N)
            rec_noise = scale * self._noise((n_t, n_b, n), x.dtype)
        if h0 is None:
            h0 = x.new_zeros((k, n_b, n))
        elif tuple(h0.shape) != (k, n_b, n):
            raise ValueError(f"h0 must have shape (K, B, N) = {(k, n_b, n)}; got {tuple(h0.shape)}")
        alpha = self._alpha_scalar if self._alpha_scalar is not None else self._alpha
        states, outputs = leaky_recurrence(
            x, self.w_in, self.b_rec, self.w_rec, h0.to(x.dtype), self.w_out, self.b_out, alpha,
            self.config["activation"], n_steps=n_t, noise=rec_noise,
        )
        return outputs.transpose(0, 1), states.transpose(0, 1)

    def _check_input(self, x) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor (T, B, I) or (T, K, B, I); got {type(x).__name__}")
        k, n_in = self.n_networks, self.n_inputs
        if x.ndim not in (3, 4) or x.shape[-1] != n_in or (x.ndim == 4 and x.shape[1] != k):
            raise ValueError(
                f"x must have shape (T, B, I={n_in}) or (T, K={k}, B, I={n_in}); got {tuple(x.shape)} "
                f"(does the task's input size match the model's n_inputs?)"
            )
        if not torch.is_floating_point(x):
            raise TypeError(f"x must be a floating-point tensor; got dtype {x.dtype}")
        if not bool(torch.isfinite(x).all()):
            raise ValueError("x contains NaN or inf")
        return x.to(self.w_rec_raw.dtype)

    def _noise(self, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        """(K, *shape) white noise, network k drawn from its own generator."""
        return torch.stack([torch.randn(shape, generator=g, dtype=dtype) for g in self._noise_gens])

    # ------------------------------------------------------------------ RecurrentModel protocol
    family = "biornn"

    @property
    def dt_ms(self) -> float:
        """Duration of one step in ms."""
        return float(self.config["dt"])

    @torch.no_grad()
    def states(self, inputs: Any, *, seed: int | None = None, x0: Any = None) -> np.ndarray:
        """Noise-free states of all K networks, float64 ``(T, K, B, N)``.

        Parameters
        ----------
        inputs : (T, B, I) array_like
        seed : int, optional
            Unused: a bioRNN outside training has no state noise.
        x0 : (K, B, N) array_like, optional
            Initial states (zeros by default).
        """
        x = torch.as_tensor(check_inputs(self, inputs), dtype=self.w_rec_raw.dtype)
        h0 = None if x0 is None else torch.as_tensor(np.asarray(x0, dtype=np.float64), dtype=x.dtype)
        _, states = self(x, h0=h0, noise=False)
        return states.double().numpy()

    def output_nodes(self) -> list[np.ndarray]:
        """Per network, the nodes its readout may see (non-zero output-mask columns)."""
        mask = self.output_mask.numpy()
        return [np.flatnonzero(mask[k].any(axis=0)) for k in range(self.n_networks)]

    def leaky_parameters(self) -> LeakyParameters:
        """The effective W, W_in, bias and ``a = dt / tau`` of every network, float64."""
        with torch.no_grad():
            return LeakyParameters(
                self.w_rec.double().numpy().copy(), self.w_in.double().numpy().copy(),
                self.b_rec.double().numpy().copy(), (self.config["dt"] / self.tau.double()).numpy().copy(),
                self.config["activation"],
            )

    # ------------------------------------------------------------------ noise state
    def noise_state(self) -> list[torch.Tensor]:
        """States of the K per-network noise generators (for checkpoints)."""
        return [g.get_state() for g in self._noise_gens]

    def set_noise_state(self, states: Sequence[torch.Tensor]) -> None:
        """Restore the generators from :meth:`noise_state`."""
        if len(states) != self.n_networks:
            raise ValueError(f"need {self.n_networks} generator states; got {len(states)}")
        for g, s in zip(self._noise_gens, states):
            g.set_state(s)

    # ------------------------------------------------------------------ regularisation
    def weight_cost(self) -> torch.Tensor:
        """(K,) regime cost of each network's recurrent weights.

        ``strengths[k] * spatial_cost + l1 * sum |W| + l2 * sum W**2`` for the
        regime of network ``k`` (:func:`conn2rnn.regimes.regime_cost`); zeros
        without regimes.
        """
        from conn2rnn.regimes import regime_cost

        w = self.w_rec
        if self.regimes is None:
            if bool((self.strengths > 0).any()):
                raise ValueError("strengths > 0 need a regime with a spatial cost; use set_regime or from_graph")
            return w.new_zeros(self.n_networks)
        parts, order = [], []
        for base, arrays, idx in self._regime_groups():
            sel = w if len(idx) == self.n_networks else w[idx]
            cost = regime_cost(base, sel, arrays)
            if base.spatial_cost is not None:
                unit = base.replace(strength=1.0, l1=0.0, l2=0.0)
                cost = cost + self.strengths[idx] * regime_cost(unit, sel, arrays)
            parts.append(cost)
            order.extend(idx)
        total = torch.cat(parts)
        return total if order == list(range(self.n_networks)) else total[torch.argsort(torch.tensor(order))]

    def activity_rates(self) -> torch.Tensor:
        """(K,) multiplier of the ``mean |h|`` activity penalty (regime ``activity``)."""
        vals = [0.0] * self.n_networks if self.regimes is None else [r.activity for r in self.regimes]
        return torch.tensor(vals, dtype=self.w_rec_raw.dtype)

    def _regime_groups(self):
        groups: dict = {}
        for k, (r, a) in enumerate(zip(self.regimes, self.regime_arrays)):
            groups.setdefault((r.replace(strength=0.0), id(a)), (r.replace(strength=0.0), a, []))[2].append(k)
        return list(groups.values())

    def set_regime(self, regime, arrays) -> None:
        """Attach a regime (or K of them) and its resolved arrays for :meth:`weight_cost`.

        Strengths stay those of the model (``strengths`` buffer); masks are not
        changed (build with :meth:`from_graph` to derive masks from a regime).
        """
        from conn2rnn.regimes import Regime

        k = self.n_networks
        regs = [regime] * k if isinstance(regime, Regime) else list(regime)
        arrs = [arrays] * k if not isinstance(arrays, (list, tuple)) else list(arrays)
        if len(regs) != k or len(arrs) != k:
            raise ValueError(f"need one regime and one RegimeArrays or {k} of each; got {len(regs)}, {len(arrs)}")
        for r, a in zip(regs, arrs):
            if a.n_nodes != self.n_nodes:
                raise ValueError(f"regime arrays resolved for {a.n_nodes} nodes; the model has {self.n_nodes}")
        self.regimes = tuple(r.replace(strength=float(s)) for r, s in zip(regs, self.strengths.tolist()))
        self.regime_arrays = tuple(arrs)

    # ------------------------------------------------------------------ members
    def network(self, k: int) -> "BioRNN":
        """Network ``k`` as a standalone K=1 model (an independent copy, noise state included)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < self.n_networks:
            raise IndexError(f"k must be an int in [0, {self.n_networks}); got {k!r}")
        config = {**self.config, "n_networks": 1, "seeds": [self.config["seeds"][k]]}
        state = {name: t[k:k + 1].detach().clone() for name, t in self.state_dict().items()}
        member = type(self)._from_state(config, state)
        member._noise_gens[0].set_state(self._noise_gens[k].get_state())
        member.train(self.training)
        member.graph, member.task_spec = self.graph, copy.deepcopy(self.task_spec)
        if self.regimes is not None:
            member.regimes, member.regime_arrays = (self.regimes[k],), (self.regime_arrays[k],)
        return member


def _positive(value, name: str) -> float:
    value = P.check_nonneg_float(value, name)
    if value == 0:
        raise ValueError(f"{name} must be > 0 ms; got 0")
    return value
