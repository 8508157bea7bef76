"""Fitting models to tasks: BPTT training, readouts, evaluation, parameter search.

- :mod:`~conn2rnn.fitting.training`: :func:`train` (backprop through time for
  bioRNN ensembles, checkpoints, learning curves).
- :mod:`~conn2rnn.fitting.readout`: readouts fitted on a model's output nodes
  (ridge, logistic), scikit-learn compatible.
- :mod:`~conn2rnn.fitting.evaluation`: :func:`evaluate`, one metric table for
  every model family.
"""

from .evaluation import evaluate, evaluate_biornn, evaluate_reservoirs
from .readout import ClassifierReadout, RidgeReadout, evaluate_readout
from .pruning import Pruning
from .schedules import PlasticityWave, Schedule
from .snapshots import Snapshots, load_snapshots, save_snapshots
from .training import TrainResult, train

__all__ = ["ClassifierReadout", "PlasticityWave", "Pruning", "RidgeReadout", "Schedule", "Snapshots",
           "TrainResult", "evaluate", "evaluate_biornn", "evaluate_readout", "evaluate_reservoirs",
           "load_snapshots", "save_snapshots", "train"]
