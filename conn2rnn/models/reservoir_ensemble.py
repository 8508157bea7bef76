"""An ensemble of readout-only reservoirs simulated together.

:class:`ReservoirEnsemble` implements :class:`~conn2rnn.models.protocol.LeakyRateModel`:
M reservoirs of the same size (connectome reservoirs, or bioRNNs frozen with
:func:`~conn2rnn.models.freeze`) run in one batched engine call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import simulate
from .protocol import LeakyParameters, RecurrentModel, check_inputs
from .reservoir import ConnectomeReservoir

__all__ = ["ReservoirEnsemble", "as_recurrent_model"]


@dataclass(frozen=True)
class ReservoirEnsemble:
    """M readout-only reservoirs of the same size, simulated together.

    Attributes
    ----------
    members : tuple of ConnectomeReservoir
        Same N and I; each keeps its own W, W_in, bias, leak and output nodes.
    seeds : tuple of int
        Seed of each member (input weights, bias, state noise).
    """

    members: tuple[ConnectomeReservoir, ...]
    seeds: tuple[int, ...]
    family = "reservoir"

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("members is empty; an ensemble needs at least one reservoir")
        shapes = {(m.n_nodes, m.n_inputs, m.activation) for m in self.members}
        if len(shapes) != 1:
            raise ValueError(f"members must share N, I and activation; got {sorted(shapes)}")
        if len(self.seeds) != len(self.members):
            raise ValueError(f"need one seed per member ({len(self.members)}); got {len(self.seeds)}")

    @property
    def n_networks(self) -> int:
        """M, the number of reservoirs."""
        return len(self.members)

    @property
    def n_nodes(self) -> int:
        return self.members[0].n_nodes

    @property
    def n_inputs(self) -> int:
        return self.members[0].n_inputs

    @property
    def dt_ms(self) -> None:
        """Reservoirs step in leak-rate units; they have no duration in ms."""
        return None

    def output_nodes(self) -> list[np.ndarray]:
        """The output nodes of each member."""
        return [m.output_nodes for m in self.members]

    def leaky_parameters(self) -> LeakyParameters:
        """Every member's W, W_in, bias and leak, stacked ``(M, ...)``."""
        return LeakyParameters(
            np.stack([m.W for m in self.members]), np.stack([m.W_in for m in self.members]),
            np.stack([m.bias for m in self.members]),
            np.stack([np.broadcast_to(m.leak, (m.n_nodes,)) for m in self.members]).astype(np.float64),
            self.members[0].activation,
        )

    def states(self, inputs: Any, *, seed: int | None = None, x0: Any = None) -> np.ndarray:
        """Simulate every member on the same trials in one batched engine call.

        Parameters
        ----------
        inputs : (T, B, I) array_like
        seed : int, optional
            State-noise seed (members with ``noise = 0`` ignore it).
        x0 : (N,), (B, N) or (M, B, N) array_like, optional
            Initial state of every trial (zeros by default).

        Returns
        -------
        (T, M, B, N) ndarray
        """
        inputs = check_inputs(self, inputs)
        noises = {m.noise for m in self.members}
        if len(noises) != 1:
            raise ValueError("members have different noise levels; run them one by one")
        p = self.leaky_parameters()
        return simulate(p.w, p.w_in, inputs, p.leak, p.bias, activation=p.activation,
                        noise=noises.pop(), seed=seed, x0=x0)


def as_recurrent_model(model: Any, name: str = "model") -> RecurrentModel:
    """Return ``model`` as a :class:`RecurrentModel`, or raise a clear error.

    A single :class:`~conn2rnn.models.ConnectomeReservoir` becomes a one-member
    ensemble, so every analysis sees a leading network axis.
    """
    if isinstance(model, ConnectomeReservoir):
        return ReservoirEnsemble((model,), (0,))
    if not isinstance(model, RecurrentModel):
        raise TypeError(f"{name} must be a model (a BioRNN, a ReservoirEnsemble, a ConnectomeReservoir or "
                        f"any object implementing conn2rnn.models.RecurrentModel); got {type(model).__name__}")
    return model
