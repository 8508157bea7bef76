"""Scoring a model's outputs on a :class:`~conn2rnn.tasks.base.TaskBatch`.

:func:`accuracy` is the task score (fraction of correct trials, or R^2 for
regression); :func:`trial_correct` says which trials are correct. A batch that
carries a ``scorer`` (the neurogym adapter's replay of the environment's reward
rule) is scored by it instead of by the decision-mask rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .base import TaskBatch

__all__ = ["accuracy", "r2_per_output", "trial_correct"]


def _outputs_kbto(outputs: Any, batch: TaskBatch) -> tuple[np.ndarray, bool]:
    """Outputs as a float64 (K, T, B, O) array, and whether the input had no K axis."""
    if hasattr(outputs, "detach"):
        outputs = outputs.detach().float().cpu().numpy()
    out = np.asarray(outputs, dtype=np.float64)
    if out.ndim == 3:
        out, single = out[None], True
    elif out.ndim == 4:
        out, single = np.moveaxis(out, 1, 0), False
    else:
        raise ValueError(f"outputs must be (T, B, O) or (T, K, B, O); got shape {out.shape}")
    t, b, o = out.shape[1:]
    if (t, b, o) != (batch.n_steps, batch.batch_size, batch.n_outputs):
        raise ValueError(
            f"outputs must match the batch: (T, B, O) = {(batch.n_steps, batch.batch_size, batch.n_outputs)}; "
            f"got {(t, b, o)} (leading K excluded)"
        )
    return out, single


def _scores(batch: TaskBatch, out: np.ndarray) -> np.ndarray:
    """The batch's own per-trial scores, checked: (K, B) floats in [0, 1]."""
    scores = np.asarray(batch.scorer(out), dtype=np.float64)
    if scores.shape != out.shape[:1] + out.shape[2:3]:
        raise ValueError(f"the batch's scorer must return (K, B) = {out.shape[:1] + out.shape[2:3]} scores; "
                         f"got shape {scores.shape}")
    return scores


def trial_correct(outputs: Any, batch: TaskBatch) -> np.ndarray:
    """Whether each trial is answered correctly (classification).

    The answer of a trial is the argmax over outputs of the logits averaged over its
    ``decision_mask`` steps; it is correct when it equals the target class at every
    one of those steps. A batch with a ``scorer`` (e.g. from the neurogym adapter)
    is scored by it instead: a trial is correct when its score is 1.

    Parameters
    ----------
    outputs : (T, B, O) or (T, K, B, O) ndarray or torch tensor
        Logits (any monotone transform of class scores works).
    batch : TaskBatch
        ``kind == "classification"``.

    Returns
    -------
    (B,) or (K, B) bool ndarray
    """
    if batch.scorer is not None:
        out, single = _outputs_kbto(outputs, batch)
        ok = _scores(batch, out) >= 1.0
        return ok[0] if single else ok
    if batch.kind != "classification":
        raise ValueError(f"trial_correct needs a classification batch; got kind={batch.kind!r} (use accuracy for R^2)")
    out, single = _outputs_kbto(outputs, batch)
    dec = batch.decision_mask
    mean = (out * dec[None, :, :, None]).sum(axis=1) / dec.sum(axis=0)[None, :, None]
    pred = mean.argmax(axis=-1)  # (K, B)
    ok = ((batch.targets[None] == pred[:, None, :]) | ~dec[None]).all(axis=1)
    return ok[0] if single else ok


def r2_per_output(outputs: Any, batch: TaskBatch) -> np.ndarray:
    """Coefficient of determination of each output over the ``loss_mask`` steps (regression).

    ``R^2 = 1 - sum m (y - yhat)^2 / sum m (y - mean_m(y))^2`` with ``m`` the loss mask;
    an output whose target is constant scores 1 if matched exactly, else 0.

    Returns
    -------
    (O,) or (K, O) float ndarray
    """
    if batch.kind != "regression":
        raise ValueError(f"r2_per_output needs a regression batch; got kind={batch.kind!r}")
    out, single = _outputs_kbto(outputs, batch)
    m = batch.loss_mask.astype(np.float64)[..., None]
    if m.sum() == 0:
        raise ValueError("loss_mask is all zero: R^2 is undefined")
    y = batch.targets.astype(np.float64)
    mean = (m * y).sum(axis=(0, 1)) / m.sum()
    ss_tot = (m * (y - mean) ** 2).sum(axis=(0, 1))
    ss_res = (m[None] * (y[None] - out) ** 2).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
    return r2[0] if single else r2


def accuracy(outputs: Any, batch: TaskBatch) -> float | np.ndarray:
    """Task score: fraction of correct trials (classification) or R^2 over ``loss_mask``
    steps averaged over outputs (regression); for a batch with a ``scorer``, the
    mean of its per-trial scores (for neurogym environments: neurogym's own
    ``performance``).

    Parameters
    ----------
    outputs : (T, B, O) or (T, K, B, O) ndarray or torch tensor
    batch : TaskBatch

    Returns
    -------
    float for (T, B, O) outputs, (K,) ndarray for an ensemble.
    """
    if batch.scorer is not None:
        out, single = _outputs_kbto(outputs, batch)
        score = _scores(batch, out).mean(axis=-1)
        score = score[0] if single else score
    elif batch.kind == "classification":
        score = trial_correct(outputs, batch).mean(axis=-1)
    else:
        score = r2_per_output(outputs, batch).mean(axis=-1)
    return float(score) if np.ndim(score) == 0 else score
