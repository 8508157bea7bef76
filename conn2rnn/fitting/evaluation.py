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

from .._validation import check_float, check_int, check_seed
from ..models.biornn import BioRNN
from ..models.reservoir import ConnectomeReservoir
from ..models.reservoir_ensemble import ReservoirEnsemble, as_recurrent_model
from ..tasks import accuracy, get_task
from ..tasks.base import Task
from .readout import ClassifierReadout, RidgeReadout, _trial_labels, evaluate_readout

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
    task = _check_task(task)
    _check_sizes(model, task, outputs=True)
    n_trials = check_int(n_trials, "n_trials", low=1)
    seed = check_seed(seed)
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
    task = _check_task(task)
    n_trials = check_int(n_trials, "n_trials", low=2)
    seed = check_seed(seed)
    test_size = check_float(test_size, "test_size", low=0.0, high=1.0, low_open=True,
                            high_open=True)
    if isinstance(ensemble, ConnectomeReservoir):
        ensemble = ReservoirEnsemble((ensemble,), (seed,))
    if ensemble is None:
        raise TypeError("ensemble must be a ReservoirEnsemble or a ConnectomeReservoir; got None")
    ensemble = as_recurrent_model(ensemble, "ensemble")
    _check_sizes(ensemble, task, outputs=False)
    batch = task.batch(n_trials, seed=seed)
    if batch.kind == "classification" and readout is None:
        _check_classes(batch, task, n_trials, test_size)
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

    Raises
    ------
    TypeError
        When ``model`` is not a model (e.g. None) or ``task`` not a Task or task name.
    ValueError
        When the model was built for another task (its input or output sizes
        differ: the message names both tasks), ``n_trials`` or ``seed`` is out of
        range, or, for reservoirs, ``n_trials`` leaves too few trials of some class
        for a stratified train/test split.
    """
    if isinstance(model, BioRNN):
        return evaluate_biornn(model, task, **kwargs)
    if not isinstance(model, (ReservoirEnsemble, ConnectomeReservoir)) and not all(
            hasattr(model, a) for a in ("states", "output_nodes", "n_inputs")):
        raise TypeError("model must be a BioRNN, a ReservoirEnsemble or a ConnectomeReservoir "
                        f"(see build_model); got {type(model).__name__}")
    return evaluate_reservoirs(model, task, **kwargs)


def _metric(task: Any) -> str:
    return "accuracy" if task.kind == "classification" else "r2"


def _check_task(task: Any) -> Any:
    """A Task from a task or a registered name; anything else is a TypeError naming ``task``."""
    if isinstance(task, str):
        return get_task(task)
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task or a task name (e.g. 'gonogo'); got "
                        f"{type(task).__name__}")
    return task


def _check_sizes(model: Any, task: Any, *, outputs: bool) -> None:
    """The model's input (and output) sizes must be the task's; name both tasks if they differ."""
    n_out = getattr(model, "n_outputs", None) if outputs else None
    if model.n_inputs == task.n_inputs and (n_out is None or n_out == task.n_outputs):
        return
    spec = getattr(model, "task_spec", None) or {}
    built = f"built for {spec['task']}" if spec.get("task") else "built"
    sizes = f"{model.n_inputs} inputs" + (f", {n_out} outputs" if n_out is not None else "")
    needs = f"{task.n_inputs} inputs" + (f", {task.n_outputs} outputs" if n_out is not None else "")
    raise ValueError(f"this model was {built} ({sizes}); {task.name} needs {needs}. Build a "
                     f"model for {task.name} (build_model(graph, {task.name!r}, ...))")


def _check_classes(batch: Any, task: Any, n_trials: int, test_size: float) -> None:
    """Enough trials of every class for a stratified train/test split."""
    labels = _trial_labels(batch, np.arange(n_trials))
    classes, counts = np.unique(labels, return_counts=True)
    n_test = int(np.ceil(test_size * n_trials))
    n_train = n_trials - n_test
    if classes.size >= 2 and counts.min() >= 2 and min(n_test, n_train) >= classes.size:
        return
    found = ", ".join(f"class {c}: {n}" for c, n in zip(classes.tolist(), counts.tolist()))
    raise ValueError(
        f"n_trials={n_trials} gives too few trials per class for a stratified train/test split "
        f"of {task.name} ({found}; test_size={test_size:g} holds out {n_test}); every class "
        f"needs at least 2 trials and each set one trial per class: increase n_trials "
        f"(e.g. {max(64, 8 * classes.size)})")
