"""BioRNN: an ensemble of K trainable leaky rate networks constrained by a brain graph.

For each network ``k`` (``a = dt / tau``, a scalar or one value per node)::

    h[t+1] = (1 - a) * h[t] + a * f(g * (W h[t] + W_in x[t] + b + noise_rec))
    y[t]   = W_out h[t] + b_out

The gain ``g`` (neuromodulatory gain, per node, optionally times a gain signal
over the trial) is absent unless asked for; time constants are a buffer, or
parameters kept within ``[dt, tau_max]`` by a sigmoid (``learn_tau=True``).

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

from conn2rnn.regimes import Regime, get_regime, regime_cost, resolve_regime
from conn2rnn.tasks import get_task
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
    init : str
        Recurrent initialisation, a name in :data:`INITS`: "orthogonal" (times
        ``gain``), "uniform" (``U(-a, a)`` with ``a = gain / sqrt(N)``), "normal"
        (std ``gain / sqrt(N)``), "connectome" (scaled to ``spectral_radius``), or
        one registered with ``INITS.register(name, fn)``.
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
        False freezes the recurrent and input weights, so that training fits
        only the readout by BPTT. (Readout-only *models*, a regime's
        ``trainable=False``, are reservoirs: :func:`~conn2rnn.models.build_model`.)
    dtype : torch.dtype
        ``torch.float32`` or ``torch.float64``.
    learn_tau : bool
        Learn the time constants: ``tau = dt + (tau_max - dt) * sigmoid(tau_raw)``
        per network and node, initialised at ``tau`` (which must then lie strictly
        inside ``(dt, tau_max)``). Never leaves ``[dt, tau_max]``, whatever the
        gradient; :func:`~conn2rnn.fitting.train` gives it its own learning rate.
    tau_max : float, optional
        Upper bound of learnable time constants in ms (default ``10 * max(tau)``).
    node_gain : None, float or (N,) / (K, N) array_like
        Neuromodulatory gain ``g_i`` of each node's activation,
        ``r_i = f(g_i x_i)``; ``g_i = 0`` silences the node's drive (its rate is
        ``f(0)``: 0 for tanh / relu). None (default) uses no gain and costs nothing.
    learn_gain : bool
        Learn the node gains (a parameter, initialised at ``node_gain`` or 1).
    gain_channel : int, optional
        Input channel whose value is the gain signal: at every step and trial the
        node gains are multiplied by ``x[t, b, gain_channel]`` (a network-wide
        neuromodulatory signal). The channel drives the gain only (its input
        weights are masked out).

    Attributes
    ----------
    w_rec_raw, w_in_raw, w_out_raw : (K, N, N), (K, N, I), (K, O, N) parameters
        Raw weights; :attr:`w_rec`, :attr:`w_in`, :attr:`w_out` give the
        effective (masked, sign-constrained) ones.
    b_rec, b_out : (K, N), (K, O) parameters
    input_mask, output_mask, recurrent_mask : bool buffers, (K, N, I), (K, O, N), (K, N, N)
    tau : (K, N) tensor, ms
        A buffer, or (``learn_tau``) computed from the parameter ``tau_raw``
        (detached; :meth:`time_constants` is differentiable).
    node_gain : (K, N) buffer or parameter, only with a gain
    strengths : (K,) buffer
        The single source of each network's spatial-cost strength; ``regimes``
        report it (schedules change it during training).
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
        learn_tau: bool = False,
        tau_max: float | None = None,
        node_gain: Any = None,
        learn_gain: bool = False,
        gain_channel: int | None = None,
    ) -> None:
        super().__init__()
        n_in = P.check_positive_int(n_inputs, "n_inputs")
        n = P.check_positive_int(n_nodes, "n_nodes")
        n_out = P.check_positive_int(n_outputs, "n_outputs")
        k = P.check_positive_int(n_networks, "n_networks")
        if not isinstance(init, str) or init not in INITS:
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
        if gain_channel is not None:
            if isinstance(gain_channel, bool) or not isinstance(gain_channel, (int, np.integer)) \
                    or not 0 <= gain_channel < n_in:
                raise ValueError(f"gain_channel must be an input channel index in [0, {n_in}); got {gain_channel!r}")
            gain_channel = int(gain_channel)
            masks["input_mask"][:, :, gain_channel] = False
        config = {
            "n_inputs": n_in, "n_nodes": n, "n_outputs": n_out, "n_networks": k, "seeds": seeds,
            "dt": _positive(dt, "dt"), "activation": check_activation(activation), "init": init,
            "gain": P.check_nonneg_float(gain, "gain"),
            "spectral_radius": P.check_nonneg_float(spectral_radius, "spectral_radius"),
            "sigma_rec": P.check_nonneg_float(sigma_rec, "sigma_rec"),
            "sigma_in": P.check_nonneg_float(sigma_in, "sigma_in"),
            "dale": signs is not None, "trainable": bool(trainable),
            "dtype": str(dtype).removeprefix("torch."),
            "learn_tau": _flag(learn_tau, "learn_tau"), "tau_max": None,
            "node_gain": node_gain is not None or bool(learn_gain),
            "learn_gain": _flag(learn_gain, "learn_gain"), "gain_channel": gain_channel,
        }
        tau_arr = P.per_network(tau, k, (n,), "tau", float) if np.ndim(tau) else np.full((k, n), _positive(tau, "tau"))
        if np.any(tau_arr < config["dt"]):
            raise ValueError(
                f"tau must be >= dt = {config['dt']:g} ms everywhere (a = dt / tau <= 1); "
                f"got min tau {tau_arr.min():g} ms (lower dt or raise tau)"
            )
        buffers = {**masks, "tau": tau_arr, "strengths": strengths}
        if config["learn_tau"]:
            config["tau_max"] = _positive(10.0 * float(tau_arr.max()) if tau_max is None else tau_max, "tau_max")
            buffers["tau_raw"] = P.tau_to_raw(tau_arr, config["dt"], config["tau_max"])
            del buffers["tau"]
        elif tau_max is not None:
            raise ValueError("tau_max bounds learnable time constants only; pass learn_tau=True or drop tau_max")
        if config["node_gain"]:
            g = 1.0 if node_gain is None else node_gain
            buffers["node_gain"] = (P.per_network(g, k, (n,), "node_gain", float) if np.ndim(g)
                                    else np.full((k, n), P.check_nonneg_float(g, "node_gain")))
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
        # learnable time constants and gains are parameters, frozen with the weights (trainable=False)
        learnable = {"tau_raw": config.get("learn_tau", False), "node_gain": config.get("learn_gain", False)}
        for name, value in buffers.items():
            value = value.to(torch.bool) if name.endswith("_mask") else value.to(dtype)
            if learnable.get(name):
                self.register_parameter(name, nn.Parameter(value.clone(), requires_grad=config["trainable"]))
            else:
                self.register_buffer(name, value.clone())
        self._alpha_scalar = None
        if not config.get("learn_tau", False):
            # a = dt / tau from the stored (model-dtype) tau, so a rebuilt model steps identically
            tau0 = float(self.tau.flatten()[0])
            self._alpha_scalar = config["dt"] / tau0 if bool((self.tau == tau0).all()) else None
            self.register_buffer("_alpha", (config["dt"] / self.tau).unsqueeze(1), persistent=False)
        self._noise_gens = [P.noise_generator(s) for s in config["seeds"]]
        self.graph = None
        self._regime_bases = None
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
                                                  "tau_raw", "node_gain", "strengths", "dale_sign")
                   if name in state}
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
        node_gain: Any = None,
        gain_range: tuple[float, float] = (0.5, 1.5),
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
            Regimes of one ensemble must agree on ``dale`` and be trainable.
        n_networks, seeds : see :class:`BioRNN`
        strengths : None, float or (K,) array_like
            Spatial-cost strengths; default each regime's ``strength``.
        tau : float, array_like, "gradient" or a name in ``graph.maps``
            A map name gives time constants rising linearly along it onto ``tau_range``;
            a float gives the same (uniform) value to every node.
        tau_range : (float, float)
            ``(tau_min, tau_max)`` in ms for a map-based ``tau``.
        node_gain : None, float, array_like, "gradient" or a name in ``graph.maps``
            A map name gives gains rising linearly along it onto ``gain_range``.
        gain_range : (float, float)
            ``(g_min, g_max)`` for a map-based ``node_gain``.
        init : str
            ``"connectome"`` uses ``graph.connectome``.
        dt : float, optional
            Step in ms; default ``task.dt``.
        **kwargs
            Other :class:`BioRNN` arguments (activation, gain, sigma_rec, ...).
        """
        task = get_task(task) if isinstance(task, str) else task
        k = P.check_positive_int(n_networks, "n_networks")
        regs = [regime] * k if isinstance(regime, (str, Regime)) else list(regime)
        if len(regs) != k:
            raise ValueError(f"regime must be one regime or {k} (one per network); got {len(regs)}")
        regs = [get_regime(r) if isinstance(r, str) else r for r in regs]
        if len({r.dale for r in regs}) > 1:
            raise ValueError("the regimes of one ensemble must agree on dale; build separate models")
        readout_only = sorted({r.name for r in regs if not r.trainable})
        if readout_only:
            raise ValueError(f"regime(s) {readout_only} are readout-only (trainable=False), which means connectome "
                             "reservoirs: build them with build_model(graph, task, regime); BioRNN.from_graph "
                             "builds trainable networks")
        resolved: dict = {}  # one RegimeArrays per distinct regime (strength aside)
        for r in regs:
            key = r.replace(strength=0.0)
            if key not in resolved:
                resolved[key] = resolve_regime(r, graph)
        arrays = [resolved[r.replace(strength=0.0)] for r in regs]
        if isinstance(tau, str):
            tau = P.tau_from_map(P.node_map(graph, tau, "tau"), tau_range)
        if isinstance(node_gain, str):
            node_gain = P.scale_map(P.node_map(graph, node_gain, "node_gain"), gain_range, "node_gain")
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

        # explicit dale= / connectome= override the regime's Dale's law and the graph's connectome
        dale = kwargs.pop("dale", regs[0].excitatory_fraction if regs[0].dale else None)
        connectome = kwargs.pop("connectome", graph.connectome if init == "connectome" else None)
        model = cls(
            task.n_inputs, graph.n_nodes, task.n_outputs, n_networks=k, seeds=seeds,
            dt=task.dt if dt is None else dt, tau=tau, node_gain=node_gain, init=init,
            connectome=connectome,
            input_mask=stack(lambda a: a.input_mask(task.n_inputs)),
            output_mask=stack(lambda a: a.output_mask(task.n_outputs)),
            recurrent_mask=stack(lambda a: a.recurrent_mask),
            dale=dale,
            strengths=strengths, **kwargs,
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

    def time_constants(self) -> torch.Tensor:
        """(K, N) time constants in ms (differentiable when learnable)."""
        if self.config.get("learn_tau", False):
            return P.raw_to_tau(self.tau_raw, self.config["dt"], self.config["tau_max"])
        return self.tau

    def __getattr__(self, name: str):
        if name == "tau" and "tau_raw" in self.__dict__.get("_parameters", {}):
            return self.time_constants().detach()
        return super().__getattr__(name)

    @property
    def regimes(self):
        """The K regimes, each with its network's current strength (from ``strengths``), or None."""
        if self._regime_bases is None:
            return None
        # the shortest decimal of the buffer's dtype: a float32 1e-3 reads back as 0.001
        values = [float(str(v)) for v in self.strengths.detach().cpu().numpy()]
        return tuple(r.replace(strength=s) for r, s in zip(self._regime_bases, values))

    @regimes.setter
    def regimes(self, value) -> None:
        if value is None:
            self._regime_bases = None
            return
        value = tuple(value)
        if len(value) != self.n_networks:
            raise ValueError(f"regimes must hold one regime per network ({self.n_networks}); got {len(value)}")
        with torch.no_grad():
            self.strengths.copy_(torch.tensor([r.strength for r in value], dtype=self.strengths.dtype))
        self._regime_bases = tuple(r.replace(strength=0.0) for r in value)

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
        self, x: torch.Tensor, *, h0: torch.Tensor | None = None, noise: bool | None = None,
        gain_signal: Any = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run all K networks.

        Parameters
        ----------
        x : (T, B, I) tensor shared by all networks, or (T, K, B, I)
        h0 : (K, B, N) tensor, optional
            Initial state (default zeros).
        noise : bool, optional
            Add the configured noise; default: only in training mode.
        gain_signal : (T,), (T, K) or (T, K, B) array_like, optional
            A gain signal over the trial (global, per network, or per trial) that
            multiplies the node gains at every step (e.g. a schedule of
            neuromodulation); overrides ``gain_channel``.

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
        gain = self._gain(x, gain_signal)
        use_noise = self.training if noise is None else bool(noise)
        # network-major inputs: (T*B, I) shared, or (K, T*B, I)
        x = x.reshape(n_t * n_b, n_in) if x.ndim == 3 else x.transpose(0, 1).reshape(k, n_t * n_b, n_in)
        if use_noise and self.config["sigma_in"] > 0:
            x = x + self.config["sigma_in"] * self._noise((n_t * n_b, n_in), x.dtype)
        if self.config.get("learn_tau", False):
            alpha = (self.config["dt"] / self.time_constants()).unsqueeze(1)
        else:
            alpha = self._alpha_scalar if self._alpha_scalar is not None else self._alpha
        rec_noise = None
        if use_noise and self.config["sigma_rec"] > 0:
            a_now = alpha.detach() if isinstance(alpha, torch.Tensor) else self._alpha
            scale = self.config["sigma_rec"] * torch.sqrt(2.0 / a_now).unsqueeze(1)  # (K, 1, 1, N)
            rec_noise = scale * self._noise((n_t, n_b, n), x.dtype)
        if h0 is None:
            h0 = x.new_zeros((k, n_b, n))
        elif tuple(h0.shape) != (k, n_b, n):
            raise ValueError(f"h0 must have shape (K, B, N) = {(k, n_b, n)}; got {tuple(h0.shape)}")
        states, outputs = leaky_recurrence(
            x, self.w_in, self.b_rec, self.w_rec, h0.to(x.dtype), self.w_out, self.b_out, alpha,
            self.config["activation"], n_steps=n_t, noise=rec_noise, gain=gain,
        )
        return outputs.transpose(0, 1), states.transpose(0, 1)

    def _gain(self, x: torch.Tensor, gain_signal: Any) -> torch.Tensor | None:
        """(K, 1 or T, 1 or B, N) gain for the recurrence, or None without any gain."""
        k, n_t, n_b = self.n_networks, x.shape[0], x.shape[-2]
        channel = self.config.get("gain_channel")
        if gain_signal is None and channel is not None:
            sig = x[..., channel]  # (T, B) or (T, K, B)
            sig = sig.unsqueeze(1).expand(n_t, k, n_b) if sig.ndim == 2 else sig
        elif gain_signal is not None:
            sig = _check_gain_signal(gain_signal, n_t, k, n_b, x.dtype).to(x.device)
        else:
            sig = None
        node = self.node_gain if self.config.get("node_gain", False) else None
        if sig is None:
            return None if node is None else node.view(k, 1, 1, -1)
        sig = sig.permute(1, 0, 2).unsqueeze(-1)  # (K, T, B or 1, 1)
        if node is None:
            return sig.expand(k, n_t, sig.shape[2], self.n_nodes)
        return node.view(k, 1, 1, -1) * sig

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
        return x.to(device=self.w_rec_raw.device, dtype=self.w_rec_raw.dtype)

    def _noise(self, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        """(K, *shape) white noise, network k drawn from its own (CPU) generator.

        The draws are the same on every device, so a run on a GPU sees the noise
        of the same run on the CPU.
        """
        noise = torch.stack([torch.randn(shape, generator=g, dtype=dtype) for g in self._noise_gens])
        return noise.to(self.w_rec_raw.device)

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
        return states.double().cpu().numpy()

    def output_nodes(self) -> list[np.ndarray]:
        """Per network, the nodes its readout may see (non-zero output-mask columns)."""
        mask = self.output_mask.cpu().numpy()
        return [np.flatnonzero(mask[k].any(axis=0)) for k in range(self.n_networks)]

    def leaky_parameters(self) -> LeakyParameters:
        """The effective W, W_in, bias and ``a = dt / tau`` of every network, float64.

        A static node gain is folded in exactly (``f(g (W h + W_in x + b))``
        equals ``f(W' h + W_in' x + b')`` with rows scaled by ``g``); a gain signal
        over the trial (``gain_channel``) is not part of these parameters.
        """
        with torch.no_grad():
            w, w_in, b = self.w_rec.double(), self.w_in.double(), self.b_rec.double()
            if self.config.get("node_gain", False):
                g = self.node_gain.double()
                w, w_in, b = w * g.unsqueeze(-1), w_in * g.unsqueeze(-1), b * g
            return LeakyParameters(
                w.cpu().numpy().copy(), w_in.cpu().numpy().copy(), b.cpu().numpy().copy(),
                (self.config["dt"] / self.time_constants().detach().double()).cpu().numpy().copy(),
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
        w = self.w_rec
        if self._regime_bases is None:
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
        return total if order == list(range(self.n_networks)) else total[torch.argsort(torch.tensor(order, device=total.device))]

    def activity_rates(self) -> torch.Tensor:
        """(K,) multiplier of the ``mean |h|`` activity penalty (regime ``activity``)."""
        vals = [0.0] * self.n_networks if self._regime_bases is None else [r.activity for r in self._regime_bases]
        return torch.tensor(vals, dtype=self.w_rec_raw.dtype, device=self.w_rec_raw.device)

    def _regime_groups(self):
        groups: dict = {}
        for k, (r, a) in enumerate(zip(self._regime_bases, self.regime_arrays)):
            groups.setdefault((r, id(a)), (r, a, []))[2].append(k)
        return list(groups.values())

    def set_regime(self, regime, arrays) -> None:
        """Attach a regime (or K of them) and its resolved arrays for :meth:`weight_cost`.

        Strengths stay those of the model (``strengths`` buffer); masks are not
        changed (build with :meth:`from_graph` to derive masks from a regime).
        """
        k = self.n_networks
        regs = [regime] * k if isinstance(regime, Regime) else list(regime)
        arrs = [arrays] * k if not isinstance(arrays, (list, tuple)) else list(arrays)
        if len(regs) != k or len(arrs) != k:
            raise ValueError(f"need one regime and one RegimeArrays or {k} of each; got {len(regs)}, {len(arrs)}")
        for r, a in zip(regs, arrs):
            if a.n_nodes != self.n_nodes:
                raise ValueError(f"regime arrays resolved for {a.n_nodes} nodes; the model has {self.n_nodes}")
        self._regime_bases = tuple(r.replace(strength=0.0) for r in regs)
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
        if self._regime_bases is not None:
            member._regime_bases, member.regime_arrays = (self._regime_bases[k],), (self.regime_arrays[k],)
        return member


def _flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")
    return bool(value)


def _check_gain_signal(signal: Any, n_t: int, k: int, n_b: int, dtype: torch.dtype) -> torch.Tensor:
    """A gain signal as a (T, K, B or 1) tensor; (T,), (T, K) or (T, K, B) accepted."""
    sig = torch.as_tensor(signal.detach() if isinstance(signal, torch.Tensor) else np.asarray(signal, float),
                          dtype=dtype)
    if sig.ndim == 1 and sig.shape[0] == n_t:
        sig = sig.view(n_t, 1, 1).expand(n_t, k, 1)
    elif sig.ndim == 2 and tuple(sig.shape) == (n_t, k):
        sig = sig.unsqueeze(-1)
    elif not (sig.ndim == 3 and tuple(sig.shape) == (n_t, k, n_b)):
        raise ValueError(f"gain_signal must have shape (T,) = ({n_t},), (T, K) = ({n_t}, {k}) or (T, K, B) = "
                         f"({n_t}, {k}, {n_b}); got {tuple(sig.shape)}")
    if not bool(torch.isfinite(sig).all()):
        raise ValueError("gain_signal contains NaN or inf")
    return sig


def _positive(value, name: str) -> float:
    value = P.check_nonneg_float(value, name)
    if value == 0:
        raise ValueError(f"{name} must be > 0 ms; got 0")
    return value
