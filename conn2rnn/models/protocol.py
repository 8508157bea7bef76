"""One interface for every model family: :class:`RecurrentModel`.

Analyses (timescales, expressivity, dynamics, fixed points) and fitting code
(evaluation, readouts) talk to a model only through this protocol, never to a
concrete class, so a new family (a biophysical network, a user's own model)
gets every analysis by implementing it.

Every model is an ensemble of ``K >= 1`` networks of ``N`` nodes driven by
``I`` input channels. The required members are:

``family``
    A short name of the model family (``"biornn"``, ``"reservoir"``, ...).
``n_networks``, ``n_nodes``, ``n_inputs``
    K, N and I.
``dt_ms``
    Duration of one model step in ms, or ``None`` when the model has no
    physical time unit (a reservoir defined by its leak rates).
``seeds``
    One seed per network (provenance; what a results table reports).
``states(inputs, *, seed=None, x0=None)``
    Run the K networks on a batch of trials from ``x0`` (zero by default);
    ``inputs`` is ``(T, B, I)`` (shared by all networks) and the return value
    a float64 ``(T, K, B, N)`` ndarray. Training-time noise is off; a model's
    own state noise (a reservoir's ``noise``) is drawn from ``seed``.
``output_nodes()``
    A list of K integer arrays: the nodes a readout of network ``k`` may see.

Leaky rate networks (bioRNNs, connectome reservoirs, frozen bioRNNs) also
implement :class:`LeakyRateModel`: ``leaky_parameters()`` returns their update
``h' = (1 - a) h + a f(W h + W_in x + b)`` as arrays, which is what Jacobian
based analyses (fixed points, Lyapunov exponents) need.

:func:`~conn2rnn.models.reservoir_ensemble.as_recurrent_model` (which wraps a
single connectome reservoir as a one-member ensemble) lives beside the ensemble
it builds, so that this module depends on no model family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["LeakyParameters", "LeakyRateModel", "RecurrentModel", "check_inputs"]


@runtime_checkable
class RecurrentModel(Protocol):
    """What every model family provides (see the module docstring)."""

    family: str

    @property
    def n_networks(self) -> int: ...

    @property
    def n_nodes(self) -> int: ...

    @property
    def n_inputs(self) -> int: ...

    @property
    def dt_ms(self) -> float | None: ...

    @property
    def seeds(self) -> list[int]: ...

    def states(self, inputs: Any, *, seed: int | None = None, x0: Any = None) -> np.ndarray: ...

    def output_nodes(self) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class LeakyParameters:
    """The update ``h' = (1 - leak) h + leak f(W h + W_in x + bias)`` of K networks.

    Attributes
    ----------
    w : (K, N, N) ndarray
        Effective recurrent weights ``w[k, target, source]`` (masks and signs applied).
    w_in : (K, N, I) ndarray
    bias : (K, N) ndarray
    leak : (K, N) ndarray
        ``dt / tau`` of a bioRNN, the leak rate of a reservoir; in (0, 1].
    activation : str
        Name of ``f`` (see :data:`conn2rnn.models.ACTIVATIONS`).
    """

    w: np.ndarray
    w_in: np.ndarray
    bias: np.ndarray
    leak: np.ndarray
    activation: str

    def __post_init__(self) -> None:
        k, n = self.w.shape[:2]
        expected = {"w": (k, n, n), "bias": (k, n), "leak": (k, n)}
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must be {shape}; got {getattr(self, name).shape}")
        if self.w_in.ndim != 3 or self.w_in.shape[:2] != (k, n):
            raise ValueError(f"w_in must be (K, N, I) = ({k}, {n}, I); got {self.w_in.shape}")
        for name in ("w", "w_in", "bias", "leak"):
            getattr(self, name).setflags(write=False)

    @property
    def n_networks(self) -> int:
        return int(self.w.shape[0])

    def network(self, k: int) -> "LeakyParameters":
        """Network ``k`` alone (a K = 1 stack)."""
        sl = slice(k, k + 1)
        return LeakyParameters(self.w[sl].copy(), self.w_in[sl].copy(), self.bias[sl].copy(),
                               self.leak[sl].copy(), self.activation)


@runtime_checkable
class LeakyRateModel(RecurrentModel, Protocol):
    """A :class:`RecurrentModel` whose networks are leaky rate networks."""

    def leaky_parameters(self) -> LeakyParameters: ...


def check_inputs(model: Any, inputs: Any) -> np.ndarray:
    """Validate a ``(T, B, I)`` input batch for ``model``; returns a float64 array.

    Raises
    ------
    ValueError
        Naming the expected shape when ``inputs`` does not match the model.
    """
    arr = np.asarray(inputs, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] != model.n_inputs:
        raise ValueError(f"inputs must be (T, B, I) with I = {model.n_inputs} channels for this "
                         f"{model.family} model; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("inputs contain NaN or infinite values")
    return arr
