"""The cued working-memory task and its cross-validated readout error.

:class:`CuedMemory` (registered as ``"cued_memory"``) is a regression task: a 2-D
cue ``(x1, x2)`` in ``{-2, 2}^2`` is shown from 250 to 275 ms; the two targets are
0 before the cue and ``(x1, x2)`` from cue onset to the end of the trial (1000 ms).
Trials cycle through the four conditions, so trial ``i`` is condition ``i % 4`` and
repeat ``i // 4``.

:func:`memory_error` fits a ridge readout (``alpha`` = 2) on the filtered spike
trains of the output cells over whole trials, leaving one repeat out at a time,
and returns the held-out MSE over the cue and delay periods (250-1000 ms) averaged
over folds and outputs. Predicting 0 throughout scores 4 (chance).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..fitting.readout import masked_samples
from ..tasks.base import Task, Timeline

__all__ = ["CONDITIONS", "CuedMemory", "memory_error"]

CONDITIONS = ((-2.0, -2.0), (-2.0, 2.0), (2.0, -2.0), (2.0, 2.0))


class CuedMemory(Task):
    """Hold a 2-D cue in memory until the end of the trial.

    Parameters
    ----------
    dt : float
        Step in ms (the model's ``dt_ms``).
    timing : dict, optional
        ``fixation`` (250), ``cue`` (25) and ``delay`` (725) in ms.
    loss_on : {'trial', 'response'}
        ``'trial'`` (default): readouts are fit on every step (targets 0 before the cue).
    amplitude : float
        Cue coordinates are ``+-amplitude``.
    """

    name = "cued_memory"
    kind = "regression"
    periods = ("fixation", "cue", "delay")
    default_timing = {"fixation": 250, "cue": 25, "delay": 725}
    response_period = "delay"

    def __init__(self, *, dt: float = 1.0, timing: Mapping[str, Any] | None = None,
                 loss_on: str = "trial", amplitude: float = 2.0) -> None:
        super().__init__(dt=dt, timing=timing, loss_on=loss_on)
        if isinstance(amplitude, bool) or not isinstance(amplitude, (int, float)) or not amplitude > 0:
            raise ValueError(f"amplitude must be > 0; got {amplitude!r}")
        self.amplitude = float(amplitude)
        self.input_names = ("cue_x1", "cue_x2", "cue_on")
        self.output_names = ("x1", "x2")

    def _params(self) -> dict[str, Any]:
        return {"amplitude": self.amplitude}

    def _trials(self, rng: np.random.Generator, tl: Timeline):
        n, n_t = tl.steps.shape[0], tl.n_steps
        cond = np.arange(n) % len(CONDITIONS)
        xy = np.asarray(CONDITIONS)[cond] * (self.amplitude / 2.0)
        cue = tl.mask("cue")
        held = cue | tl.mask("delay")
        inputs = np.zeros((n_t, n, 3))
        inputs[..., :2] = cue[..., None] * xy[None]
        inputs[..., 2] = cue
        targets = held[..., None] * xy[None]
        info = {"condition": cond, "repeat": np.arange(n) // len(CONDITIONS), "x1": xy[:, 0], "x2": xy[:, 1]}
        return inputs, targets, held, info


def memory_error(states: Any, batch: Any, *, output_nodes: Any = None, alpha: float = 2.0) -> float:
    """Held-out MSE of a ridge readout, leaving one repeat out at a time.

    Parameters
    ----------
    states : (T, B, N) array_like
        One network's filtered spike trains on ``batch``.
    batch : TaskBatch
        From :class:`CuedMemory` (``info`` has a ``repeat`` column, at least 2 repeats).
    output_nodes : int indices, optional
        Cells the readout sees.
    alpha : float
        Ridge penalty.

    Returns
    -------
    float
        MSE over the decision (cue + delay) steps of held-out trials, averaged over
        outputs and folds.
    """
    if "repeat" not in batch.info:
        raise ValueError("batch must come from CuedMemory (its info needs a 'repeat' column)")
    repeats = batch.info["repeat"].to_numpy()
    if np.unique(repeats).size < 2:
        raise ValueError(f"memory_error needs at least 2 repeats of each condition (8 trials); got "
                         f"{len(repeats)} trial(s)")
    from sklearn.linear_model import Ridge

    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha >= 0:
        raise ValueError(f"alpha must be a ridge penalty >= 0; got {alpha!r}")
    arr = np.asarray(states, dtype=np.float64)
    nodes = np.arange(arr.shape[2]) if output_nodes is None else np.asarray(output_nodes, dtype=int)
    errors = []
    for r in np.unique(repeats):
        train, test = np.flatnonzero(repeats != r), np.flatnonzero(repeats == r)
        x, y, w, _ = masked_samples(arr, batch, output_nodes=nodes, trials=train)
        ridge = Ridge(alpha=float(alpha)).fit(x, y, sample_weight=w)
        xt = arr[:, test][..., nodes]
        dec = np.asarray(batch.decision_mask, dtype=bool)[:, test]
        pred = xt[dec] @ ridge.coef_.T + ridge.intercept_
        truth = np.asarray(batch.targets, dtype=np.float64)[:, test][dec]
        errors.append(float(np.mean((pred - truth) ** 2)))
    return float(np.mean(errors))
