"""Where a network's timescales come from: the drive-free and task-trial controls.

A rate network's intrinsic timescales (INTs) depend on how it is driven as well as
on its weights and time constants. Under the usual resting drive, noise enters
through the input weights: with input/output masking only the sensory input nodes
receive it directly, the rest integrate it through the recurrence, and that alone
can order timescales along the sensory-association hierarchy before any training.
Two controls separate that from what the network itself does:

- :func:`node_drive_model`: the same network, driven by independent noise injected
  into every node (identity input weights) instead of through its input weights;
- :func:`task_trial_ints`: INTs from activity during task trials (the ACF of each
  trial, averaged over trials), as in the reference bioRNN analysis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..models.protocol import LeakyParameters, LeakyRateModel
from ..models.reservoir_ensemble import as_recurrent_model
from .plasticity import _ScaledLeaky
from .resting import ModelINTs, ints_from_activity

__all__ = ["node_drive_model", "task_trial_ints"]


def node_drive_model(model: Any) -> Any:
    """The same networks with one input channel per node (identity input weights).

    Driving this model with i.i.d. noise on every channel injects independent
    noise into every node, so no node is privileged by where the inputs enter.

    Parameters
    ----------
    model : BioRNN, ReservoirEnsemble or ConnectomeReservoir
        Any leaky rate model (never modified).

    Returns
    -------
    LeakyRateModel
        Noise-free ``states()`` with ``n_inputs == n_nodes``; weights, biases,
        leaks (``dt / tau``), activation, seeds and output nodes of ``model``.
    """
    rm = as_recurrent_model(model)
    if not isinstance(rm, LeakyRateModel):
        raise TypeError(f"model must be a leaky rate model (BioRNN, ReservoirEnsemble, ConnectomeReservoir); "
                        f"got a {rm.family} model")
    p = rm.leaky_parameters()
    k, n = p.leak.shape
    identity = np.broadcast_to(np.eye(n), (k, n, n)).copy()
    params = LeakyParameters(p.w.copy(), identity, p.bias.copy(), p.leak.copy(), p.activation)
    return _ScaledLeaky(params, tuple(rm.output_nodes()), rm.dt_ms, list(rm.seeds))


def task_trial_ints(model: Any, task: Any, *, n_trials: int = 50, seed: int = 0, estimator: str = "acf_sum",
                    max_lag: int | None = None, no_crossing: str = "nan", min_valid_fraction: float = 0.5,
                    dt_ms: float | None = None) -> ModelINTs:
    """INTs of every node from task-trial activity: per-trial ACFs averaged over trials.

    Parameters
    ----------
    model : RecurrentModel
        K networks (states are noise-free).
    task : Task
        Trials are drawn with ``task.batch(n_trials, seed=seed)``.
    n_trials : int, default 50
        The reference bioRNN analysis tests 50 trials per network.
    seed : int, default 0
    estimator, max_lag, no_crossing, min_valid_fraction
        As in :func:`conn2rnn.analysis.resting.ints_from_activity`; ``max_lag``
        defaults to every lag of a trial.
    dt_ms : float, optional
        Model step in ms; default ``model.dt_ms``.

    Returns
    -------
    ModelINTs
        ``ints_s`` (K, N) in seconds; nodes silent in every trial are counted.
    """
    if no_crossing not in ("nan", "zero"):
        raise ValueError(f"no_crossing must be 'nan' or 'zero'; got {no_crossing!r}")
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer; got {n_trials!r}")
    rm = as_recurrent_model(model)
    dt_ms = rm.dt_ms if dt_ms is None else dt_ms
    if dt_ms is None or not np.isfinite(dt_ms) or dt_ms <= 0:
        raise ValueError(f"dt_ms must be a positive step in ms (this {rm.family} model has none of its own); "
                         f"got {dt_ms!r}")
    batch = task.batch(int(n_trials), seed=seed)
    states = rm.states(np.asarray(batch.inputs, dtype=np.float64), seed=seed)  # (T, K, B, N)
    return ints_from_activity(states, dt_ms, estimator=estimator, max_lag=max_lag, no_crossing=no_crossing,
                              min_valid_fraction=min_valid_fraction, seeds=rm.seeds,
                              settings={"drive": "task trials", "n_trials": int(n_trials), "seed": int(seed)})
