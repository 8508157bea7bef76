"""One call for both model families, and conversions between them.

:func:`build_model` builds, from the same graph, task and regime, either a
trainable :class:`~conn2rnn.models.biornn.BioRNN` ensemble (``trainable=True``)
or readout-only connectome reservoirs (``trainable=False``). :func:`freeze`
turns trained bioRNNs into reservoirs with their trained weights (for a fresh
readout), and :func:`make_trainable` turns a reservoir into a bioRNN whose
initial weights are the reservoir's, state for state.

Both families share the leaky update ``h[t] = (1 - a) h[t-1] + a f(W h[t-1] +
W_in x[t] + b)`` with ``a = dt / tau`` (bioRNN) = leak rate (reservoir), which is
what makes the conversions exact.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._validation import check_int, check_seed, check_seeds
from ..graph import BrainGraph
from ..regimes import Regime, get_regime
from ..tasks import get_task
from ..tasks.base import Task
from .biornn import BioRNN
from .engine import ACTIVATIONS as ENGINE_ACTIVATIONS
from .engine import simulate
from .reservoir import ConnectomeReservoir
from .reservoir_ensemble import ReservoirEnsemble

__all__ = ["build_model", "freeze", "make_trainable"]


def _resolve_trainable(regime: Any, trainable: bool | None) -> bool:
    if trainable is not None:
        if not isinstance(trainable, bool):
            raise TypeError(f"trainable must be True, False or None; got {trainable!r}")
        return trainable
    regimes = [regime] if isinstance(regime, (str, Regime)) else list(regime)
    flags = {(get_regime(r) if isinstance(r, str) else r).trainable for r in regimes}
    if len(flags) != 1:
        raise ValueError("the regimes disagree on trainable; pass trainable= explicitly")
    return flags.pop()


def build_model(graph: Any, task: Any, regime: Any = "vanilla", *, trainable: bool | None = None,
                n_networks: int = 1, seeds: int | Sequence[int] | None = None, **kwargs: Any):
    """Build a trainable bioRNN ensemble or readout-only reservoirs from one graph.

    Parameters
    ----------
    graph : BrainGraph
        Its regions are the network's nodes; reservoirs need its connectome.
    task : Task or str
        Gives the input and output sizes (and ``dt`` for bioRNNs).
    regime : Regime or str
        Constraints (:mod:`conn2rnn.regimes`). For reservoirs, ``io_masking``
        selects the input and output networks; spatial costs do not apply.
    trainable : bool, optional
        ``True``: :class:`~conn2rnn.models.biornn.BioRNN` trained by BPTT;
        ``False``: :class:`ReservoirEnsemble` with fixed connectome weights,
        only a readout is fitted. Default: the regime's ``trainable`` flag.
    n_networks : int
        K networks (ensemble members, each with its own seed).
    seeds : int or sequence of int, optional
        Seeds of the members (default ``0 .. K-1``), non-negative.
    **kwargs
        Passed on: :meth:`BioRNN.from_graph` options (tau, init, activation, ...)
        or :meth:`ConnectomeReservoir.from_graph` options (spectral_radius, leak,
        input_scaling, noise, ...). For bioRNNs, ``dale`` (the excitatory
        fraction, or None) overrides the regime's Dale's law, and ``connectome``
        (an (N, N) array, with ``init="connectome"``) replaces the graph's
        connectome as the initial weights.

    Returns
    -------
    BioRNN or ReservoirEnsemble

    Raises
    ------
    TypeError
        When ``graph`` is not a BrainGraph or ``task`` not a Task or task name.
    """
    if not isinstance(graph, BrainGraph):
        raise TypeError(f"graph must be a BrainGraph (e.g. load_atlas('schaefer100')); got "
                        f"{type(graph).__name__}")
    if not isinstance(task, (str, Task)):
        raise TypeError(f"task must be a Task or a task name (e.g. 'gonogo'); got "
                        f"{type(task).__name__}")
    task = get_task(task) if isinstance(task, str) else task
    if _resolve_trainable(regime, trainable):
        return BioRNN.from_graph(graph, task, regime, n_networks=n_networks, seeds=seeds, **kwargs)
    regime = get_regime(regime) if isinstance(regime, str) else regime
    if not hasattr(regime, "io_masking"):
        raise TypeError("readout-only models take one regime (a Regime or a registered name)")
    n_networks = check_int(n_networks, "n_networks", low=1)
    if seeds is None:
        seed_list = list(range(n_networks))
    elif isinstance(seeds, (int, np.integer)) and not isinstance(seeds, (bool, np.bool_)):
        seed_list = [check_seed(seeds, "seeds") + k for k in range(n_networks)]
    else:
        seed_list = check_seeds(seeds, "seeds", n_networks)
    inputs = regime.input_networks if regime.io_masking else None
    outputs = regime.output_networks if regime.io_masking else None
    members = tuple(
        ConnectomeReservoir.from_graph(graph, n_inputs=task.n_inputs, input_nodes=inputs,
                                       output_nodes=outputs, seed=s, **kwargs)
        for s in seed_list
    )
    return ReservoirEnsemble(members, tuple(seed_list))


def freeze(model: Any, *, noise: float = 0.0) -> ReservoirEnsemble:
    """Turn trained bioRNNs into reservoirs with their trained weights.

    Network ``k`` becomes a reservoir with ``W = model.w_rec[k]``, ``W_in =
    model.w_in[k]``, bias ``model.b_rec[k]``, leak ``dt / tau[k]`` and output
    nodes where ``model.w_out[k]`` may be non-zero; fit a fresh readout on it.
    Node gains are folded in (rows of ``W``, ``W_in`` and the bias times ``g``).

    Parameters
    ----------
    model : BioRNN
        With activation ``'tanh'`` or ``'linear'`` (the reservoir engine's).
    noise : float
        State noise of the reservoirs (the bioRNN's own noise model is not carried over).

    Returns
    -------
    ReservoirEnsemble
        One member per network; ``seeds`` are the bioRNN seeds.
    """
    activation = model.config["activation"]
    if activation not in ENGINE_ACTIVATIONS:
        raise ValueError(f"freeze supports activations {list(ENGINE_ACTIVATIONS)}; this model uses "
                         f"{activation!r} (train with activation='tanh' to freeze it)")
    if model.config.get("gain_channel") is not None:
        raise ValueError("freeze cannot carry a gain signal from an input channel (gain_channel) into a "
                         "reservoir; build the model without gain_channel")
    p = model.leaky_parameters()  # node gains folded into W, W_in and the bias
    w, w_in, bias, leak = p.w, p.w_in, p.bias, p.leak
    out_mask = model.output_mask.numpy()
    members = []
    for k in range(model.n_networks):
        members.append(ConnectomeReservoir(
            w[k], w_in[k], bias=bias[k], leak=leak[k], activation=activation, noise=noise,
            input_nodes=np.flatnonzero(model.input_mask[k].numpy().any(axis=1)),
            output_nodes=np.flatnonzero(out_mask[k].any(axis=0)),
            node_names=None if model.graph is None else model.graph.names,
            metadata={"frozen_from": "BioRNN", "seed": model.seeds[k]},
        ))
    return ReservoirEnsemble(tuple(members), tuple(model.seeds))


def make_trainable(reservoir: ConnectomeReservoir, task: Any, *, dt: float | None = None,
                   seed: int = 0, **kwargs: Any):
    """A one-network bioRNN initialised with a reservoir's weights.

    The recurrent weights, input weights, bias and time constants (``tau =
    dt / leak``) equal the reservoir's, input and output masks follow its input
    and output nodes, and the readout is initialised from ``seed``. With the
    noise off, the bioRNN's states equal the reservoir's.

    Parameters
    ----------
    reservoir : ConnectomeReservoir
    task : Task or str
        Gives the output size and ``dt``.
    dt : float, optional
        Step in ms (default ``task.dt``).
    seed : int
        Seed of the readout initialisation and noise.
    **kwargs
        Other :class:`BioRNN` options (sigma_rec, sigma_in, dtype, ...).

    Returns
    -------
    BioRNN
    """
    import torch

    task = get_task(task) if isinstance(task, str) else task
    if task.n_inputs != reservoir.n_inputs:
        raise ValueError(f"task has {task.n_inputs} inputs but the reservoir takes {reservoir.n_inputs}")
    dt = task.dt if dt is None else dt
    n = reservoir.n_nodes
    tau = dt / np.broadcast_to(reservoir.leak, (n,))
    in_mask = np.zeros((n, reservoir.n_inputs), bool)
    in_mask[reservoir.input_nodes] = True
    out_mask = np.zeros((task.n_outputs, n), bool)
    out_mask[:, reservoir.output_nodes] = True
    model = BioRNN(reservoir.n_inputs, n, task.n_outputs, seeds=[seed], dt=dt, tau=tau,
                   activation=reservoir.activation, input_mask=in_mask, output_mask=out_mask,
                   **kwargs)
    dtype = model.w_rec_raw.dtype
    with torch.no_grad():
        model.w_rec_raw[0] = torch.tensor(reservoir.W, dtype=dtype)
        model.w_in_raw[0] = torch.tensor(reservoir.W_in, dtype=dtype)
        model.b_rec[0] = torch.tensor(reservoir.bias, dtype=dtype)
    model.task_spec = task.to_dict()
    return model
