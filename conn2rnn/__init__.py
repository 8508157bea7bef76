"""conn2rnn: recurrent networks built from the brain.

One :class:`BrainGraph` (regions, coordinates, hierarchy gradient, networks,
maps, optional connectome) builds trainable bioRNNs (PyTorch), readout-only
connectome reservoirs (reservoirpy) and biophysical reservoirs; all implement one
:class:`RecurrentModel` protocol and run the same tasks and analyses.

The public names below are imported on first use, so ``import conn2rnn`` stays
light (no torch import until a model is needed).

Floor plan (a module imports from its own floor and the floors below;
tests/test_import_graph.py checks it and lists the few lazy reaches upwards)::

    6  cli.py                   the ``conn2rnn`` command
    5  experiments/ plotting/   specs, analyses registry, runners, result store, reports; figures
    4  analysis/                timescales, maps, topology, dynamics (on the RecurrentModel protocol)
    3  fitting/                 BPTT training, readouts, evaluation, parameter search
    2  models/                  BioRNN ensemble, connectome reservoirs, the RecurrentModel protocol
    1  graph.py constraints.py regimes.py nulls.py datasets/ tasks/
    0  _registry.py _validation.py _io.py _toml.py

``biophys/`` (the biophysical model family) is being rebuilt into these floors.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "BrainGraph": "conn2rnn.graph",
    "load_atlas": "conn2rnn.datasets",
    "Regime": "conn2rnn.regimes",
    "REGIMES": "conn2rnn.regimes",
    "get_regime": "conn2rnn.regimes",
    "resolve_regime": "conn2rnn.regimes",
    "get_task": "conn2rnn.tasks",
    "BioRNN": "conn2rnn.models",
    "ConnectomeReservoir": "conn2rnn.models",
    "build_model": "conn2rnn.models",
    "freeze": "conn2rnn.models",
    "make_trainable": "conn2rnn.models",
    "train": "conn2rnn.fitting",
    "TrainResult": "conn2rnn.fitting",
    "save_biornn": "conn2rnn.models",
    "load_biornn": "conn2rnn.models",
    "evaluate": "conn2rnn.fitting",
    "ExperimentSpec": "conn2rnn.experiments",
    "RecurrentModel": "conn2rnn.models",
    "run_experiment": "conn2rnn.experiments",
    "model_ints": "conn2rnn.analysis",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'conn2rnn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
