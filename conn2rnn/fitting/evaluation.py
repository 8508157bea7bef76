"""The same task metrics for trained bioRNNs and readout-only reservoirs.

:func:`evaluate` scores any model on fresh, seeded trials of a task and returns
one row per network: held-out accuracy for classification tasks (the trial's
answer read at its decision steps) or R^2 for regression tasks. A bioRNN is
scored with its own trained readout; a reservoir gets a cross-validated readout
(logistic or ridge) fitted on training trials from its output nodes only, and
scored on held-out trials. Every trial starts from the zero state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from ..models.biornn import BioRNN
from ..models.protocol import as_recurrent_model
from ..models.reservoir import ConnectomeReservoir
from ..models.reservoir_ensemble import ReservoirEnsemble
from ..tasks import accuracy
from .readout import ClassifierReadout, RidgeReadout, evaluate_readout

__all__ = ["evaluate", "evaluate_biornn", "evaluate_reservoirs"]


def evaluate_biornn(model: Any, task: Any, *, n_trials: int = 256, seed: int = 0) -> pd.DataFrame:
    """Held-out score of each network of a trained :class:`~conn2rnn.models.BioRNN`.

    Parameters
    ----------
    model : BioRNN
    task : Task
    n_trials : int
        Trials in the evaluation batch.
    seed : int
        Seed of the evaluation batch.

    Returns
    -------
    pandas.DataFrame
        Columns ``network``, ``seed``, ``score`` (accuracy or R^2), ``metric``.
    """
    batch = task.batch(n_trials, seed=seed)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs, _ = model(torch.tensor(batch.inputs, dtype=model.w_rec_raw.dtype))
    finally:
        model.train(was_training)
    scores = np.atleast_1d(accuracy(outputs.numpy(), batch))
    return pd.DataFrame({"network": np.arange(model.n_networks), "seed": model.seeds,
                         "score": scores, "metric": _metric(task)})


def evaluate_reservoirs(ensemble: Any, task: Any, *, n_trials: int = 512, test_size: float = 0.25,
                        seed: int = 0, readout: Any = None) -> pd.DataFrame:
    """Fit a readout on each reservoir and score it on held-out trials.

    Parameters
    ----------
    ensemble : ReservoirEnsemble or ConnectomeReservoir
    task : Task
    n_trials : int
        Trials simulated (split into training and test trials by ``test_size``).
    test_size : float
        Fraction of held-out trials (stratified by class for classification).
    seed : int
        Seed of the trials, the split and the state noise.
    readout : estimator, optional
        Default: :class:`~conn2rnn.fitting.readout.ClassifierReadout` (classification) or
        :class:`~conn2rnn.fitting.readout.RidgeReadout` (regression), on each member's
        output nodes.

    Returns
    -------
    pandas.DataFrame
        Columns ``network``, ``seed``, ``score`` (held-out), ``metric``, ``train_score``.
    """
    if isinstance(ensemble, ConnectomeReservoir):
        ensemble = ReservoirEnsemble((ensemble,), (seed,))
    ensemble = as_recurrent_model(ensemble, "ensemble")
    if ensemble.n_inputs != task.n_inputs:
        raise ValueError(f"task {task.name!r} has {task.n_inputs} inputs; the reservoirs take "
                         f"{ensemble.n_inputs} (build them for this task)")
    batch = task.batch(n_trials, seed=seed)
    states = ensemble.states(batch.inputs, seed=seed)
    rows = []
    for k, nodes in enumerate(ensemble.output_nodes()):
        if readout is None:
            cls = ClassifierReadout if batch.kind == "classification" else RidgeReadout
            est = cls(output_nodes=nodes)
        else:
            est = readout
        result = evaluate_readout(est, states[:, k], batch, test_size=test_size, seed=seed)
        rows.append({"network": k, "seed": ensemble.seeds[k], "score": result["test_score"],
                     "metric": _metric(task), "train_score": result["train_score"]})
    return pd.DataFrame(rows)


def evaluate(model: Any, task: Any, **kwargs: Any) -> pd.DataFrame:
    """Score a bioRNN (its own readout) or reservoirs (a fitted readout) on a task.

    See :func:`evaluate_biornn` and :func:`evaluate_reservoirs` for the options.
    """
    if isinstance(model, BioRNN):
        return evaluate_biornn(model, task, **kwargs)
    return evaluate_reservoirs(model, task, **kwargs)


def _metric(task: Any) -> str:
    return "accuracy" if task.kind == "classification" else "r2"
