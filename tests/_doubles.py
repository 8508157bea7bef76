"""Test doubles shared by several test modules."""

from __future__ import annotations

import numpy as np


class NotLeakyModel:
    """A RecurrentModel that is not a LeakyRateModel (no ``leaky_parameters``): 1 network, 3 nodes."""

    family = "custom"
    n_networks, n_nodes, n_inputs, dt_ms, seeds = 1, 3, 1, None, [0]

    def states(self, inputs, *, seed=None, x0=None):
        return np.zeros((len(inputs), 1, np.shape(inputs)[1], 3))

    def output_nodes(self):
        return [np.arange(3)]
