"""Model families: trainable bioRNN ensembles (PyTorch) and connectome reservoirs.

:func:`build_model` builds either from one graph, task and regime
(``trainable=True`` / ``False``); :func:`freeze` and :func:`make_trainable`
convert between them.
"""

from .biornn import ACTIVATIONS, INITS, BioRNN
from .engine import simulate
from .io import load_biornn, save_biornn
from .reservoir import ConnectomeReservoir, prepare_connectome, scale_spectral_radius, spectral_radius
from .protocol import LeakyParameters, LeakyRateModel, RecurrentModel
from .reservoir_ensemble import ReservoirEnsemble, as_recurrent_model
from .toggle import build_model, freeze, make_trainable

__all__ = [
    "ACTIVATIONS", "INITS", "BioRNN", "ConnectomeReservoir", "ReservoirEnsemble", "build_model",
    "freeze", "load_biornn", "make_trainable", "save_biornn", "prepare_connectome", "scale_spectral_radius", "simulate",
    "spectral_radius", "LeakyParameters", "LeakyRateModel", "RecurrentModel", "as_recurrent_model",
]
