"""Linear readouts of reservoir states, trained on output nodes only.

Both readouts follow the scikit-learn estimator contract (``__init__`` only stores
its arguments, learned attributes end in ``_``, :func:`sklearn.base.clone` works)
and take reservoir states ``(T, B, N)`` plus a task batch with ``targets``,
``loss_mask`` ``(T, B)``, ``decision_mask`` ``(T, B)`` and ``kind``:

* :class:`RidgeReadout` (regression): every loss-masked step is a sample, weighted
  by the mask; the ridge penalty is chosen by cross-validation over trials.
* :class:`ClassifierReadout` (classification): one sample per trial, the output-node
  states averaged over the trial's decision steps; logistic regression with a
  cross-validated penalty.

:func:`evaluate_readout` splits trials (never time steps) into train and test
sets with a seed; :func:`to_reservoirpy_ridge` hands a fitted ridge readout to
reservoirpy, whose ``Ridge.Wout`` is ``(features, outputs)``: that transpose
happens there and nowhere else.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import r2_score

from .._validation import to_numpy

__all__ = [
    "ClassifierReadout",
    "RidgeReadout",
    "decision_features",
    "evaluate_readout",
    "masked_samples",
    "split_trials",
    "to_reservoirpy_ridge",
]

_DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-6, 3, 10))


# ----------------------------------------------------------------------------- data
def _as_states(states: Any) -> np.ndarray:
    states = to_numpy(states)
    arr = np.asarray(states, dtype=np.float64)
    if arr.ndim != 3:
        raise ValueError(f"states must be (T, B, N); got shape {arr.shape}. Select one network of a "
                         "(T, M, B, N) stack with states[:, m]")
    if not np.all(np.isfinite(arr)):
        raise ValueError("states contain NaN or infinite values; the reservoir diverged or the inputs were bad")
    return arr


def _check_batch(states: np.ndarray, batch: Any, kind: str | None = None) -> None:
    for attr in ("targets", "loss_mask", "decision_mask", "kind"):
        if not hasattr(batch, attr):
            raise TypeError(f"batch must be a TaskBatch (with targets, loss_mask, decision_mask, kind); "
                            f"got {type(batch).__name__} without {attr!r}")
    if kind is not None and batch.kind != kind:
        other = "ClassifierReadout" if kind == "regression" else "RidgeReadout"
        raise ValueError(f"this readout needs a {kind!r} batch; got kind {batch.kind!r}: use {other}")
    shape = np.shape(batch.loss_mask)
    if states.shape[:2] != shape or np.shape(batch.targets)[:2] != shape:
        raise ValueError(f"states (T, B, N) = {states.shape} do not match the batch's (T, B) = {shape}; "
                         "simulate the reservoir on batch.inputs")


def _nodes(output_nodes: Any, n_nodes: int) -> np.ndarray:
    if output_nodes is None:
        return np.arange(n_nodes)
    idx = np.asarray(output_nodes)
    if idx.dtype == bool:
        if idx.shape != (n_nodes,):
            raise ValueError(f"output_nodes as a mask must have shape ({n_nodes},); got {idx.shape}")
        idx = np.flatnonzero(idx)
    elif idx.dtype.kind not in "iu":
        raise TypeError(f"output_nodes must be int indices or a bool mask; got {idx.dtype}")
    idx = np.unique(idx.ravel()).astype(int)
    if idx.size == 0:
        raise ValueError("output_nodes is empty; the readout needs at least one node")
    if idx[0] < 0 or idx[-1] >= n_nodes:
        raise ValueError(f"output_nodes has indices outside 0..{n_nodes - 1}")
    return idx


def _trials(trials: Any, n_trials: int) -> np.ndarray:
    if trials is None:
        return np.arange(n_trials)
    idx = np.asarray(trials).ravel()
    if idx.dtype.kind not in "iu" or idx.size == 0 or idx.min() < 0 or idx.max() >= n_trials:
        raise ValueError(f"trials must be non-empty int indices in 0..{n_trials - 1}; got {trials!r}")
    return idx.astype(int)


def decision_features(states: Any, batch: Any, *, output_nodes: Any = None, trials: Any = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per-trial features and labels for classification.

    Parameters
    ----------
    states : (T, B, N) array_like
    batch : TaskBatch
        Classification batch; every trial has one label at its decision steps.
    output_nodes : int indices or bool mask, optional
        Nodes to read (all by default).
    trials : int indices, optional
        Trials to use (all by default).

    Returns
    -------
    X : (B_sel, n_out) ndarray
        Output-node states averaged over each trial's decision steps.
    y : (B_sel,) int ndarray
    """
    arr = _as_states(states)
    _check_batch(arr, batch, "classification")
    idx, nodes = _trials(trials, arr.shape[1]), _nodes(output_nodes, arr.shape[2])
    dec = np.asarray(batch.decision_mask, dtype=bool)[:, idx]
    counts = dec.sum(axis=0)
    if np.any(counts == 0):
        raise ValueError(f"decision_mask marks no step in trial(s) {idx[counts == 0][:5].tolist()}")
    x = np.einsum("tb,tbn->bn", dec, arr[:, idx][:, :, nodes]) / counts[:, None]
    return x, _trial_labels(batch, idx)


def _trial_labels(batch: Any, idx: np.ndarray) -> np.ndarray:
    """The class of each trial in ``idx``: the target at its decision steps."""
    dec = np.asarray(batch.decision_mask, dtype=bool)[:, idx]
    targets = np.asarray(batch.targets)[:, idx]
    y = targets[dec.argmax(axis=0), np.arange(idx.size)]
    if np.any(np.where(dec, targets != y[None, :], False)):
        raise ValueError("targets change within a trial's decision steps; one label per trial is needed")
    return y.astype(np.int64)


def masked_samples(states: Any, batch: Any, *, output_nodes: Any = None, trials: Any = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Samples for regression: every step with a positive loss mask.

    Parameters
    ----------
    states : (T, B, N) array_like
    batch : TaskBatch
        Regression batch, ``targets`` (T, B, O).
    output_nodes, trials
        As in :func:`decision_features`.

    Returns
    -------
    X : (n, n_out) ndarray
    Y : (n, O) ndarray
    weight : (n,) ndarray
        The loss mask at those steps.
    trial : (n,) int ndarray
        Trial index of each sample.
    """
    arr = _as_states(states)
    _check_batch(arr, batch, "regression")
    idx, nodes = _trials(trials, arr.shape[1]), _nodes(output_nodes, arr.shape[2])
    mask = np.asarray(batch.loss_mask, dtype=np.float64)[:, idx]
    keep = mask > 0
    if not keep.any():
        raise ValueError("loss_mask is zero on every selected step; nothing to fit or score")
    t_idx, b_idx = np.nonzero(keep)
    targets = np.asarray(batch.targets, dtype=np.float64)[:, idx]
    return (arr[:, idx][t_idx, b_idx][:, nodes], targets[t_idx, b_idx], mask[t_idx, b_idx], idx[b_idx])


def split_trials(n_trials: int, *, test_size: float = 0.25, seed: int | None = None,
                 stratify: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of trial indices into train and test sets.

    Parameters
    ----------
    n_trials : int
    test_size : float
        Fraction of trials held out, in (0, 1).
    seed : int, optional
    stratify : (n_trials,) array_like, optional
        Labels whose proportions both sets keep.

    Returns
    -------
    train, test : int ndarray
        Sorted trial indices.
    """
    from sklearn.model_selection import train_test_split

    if not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1); got {test_size!r}")
    if n_trials < 2:
        raise ValueError(f"a train/test split needs at least 2 trials; got {n_trials}")
    train, test = train_test_split(np.arange(n_trials), test_size=test_size, random_state=seed,
                                   stratify=stratify)
    return np.sort(train), np.sort(test)


# ----------------------------------------------------------------------------- readouts
def _fitted(est: BaseEstimator) -> None:
    if not hasattr(est, "coef_"):
        raise ValueError(f"this {type(est).__name__} is not fitted yet; call fit(states, batch) first")


class RidgeReadout(BaseEstimator):
    """Ridge regression from output-node states to continuous targets.

    Parameters
    ----------
    output_nodes : int indices or bool mask, optional
        Nodes the readout sees (all by default).
    alphas : sequence of float
        Ridge penalties tried.
    cv : int
        Cross-validation folds, split by trial.
    fit_intercept : bool

    Attributes
    ----------
    coef_ : (O, n_out) ndarray
    intercept_ : (O,) ndarray
    alpha_ : float
        Chosen penalty.
    output_nodes_ : (n_out,) int ndarray
    n_nodes_ : int
        N of the states seen in ``fit``.
    """

    def __init__(self, output_nodes: Any = None, alphas: Any = _DEFAULT_ALPHAS, cv: int = 5,
                 fit_intercept: bool = True):
        self.output_nodes = output_nodes
        self.alphas = alphas
        self.cv = cv
        self.fit_intercept = fit_intercept

    def fit(self, states: Any, batch: Any, trials: Any = None) -> "RidgeReadout":
        """Fit on the loss-masked steps of ``trials`` (all by default)."""
        from sklearn.linear_model import RidgeCV
        from sklearn.model_selection import GroupKFold

        arr = _as_states(states)
        self.output_nodes_ = _nodes(self.output_nodes, arr.shape[2])
        x, y, weight, trial = masked_samples(arr, batch, output_nodes=self.output_nodes_, trials=trials)
        n_groups = np.unique(trial).size
        if n_groups < 2:
            raise ValueError("RidgeReadout needs at least 2 trials to cross-validate the penalty")
        folds = list(GroupKFold(n_splits=min(int(self.cv), n_groups)).split(x, y, groups=trial))
        model = RidgeCV(alphas=np.asarray(self.alphas, dtype=float), fit_intercept=self.fit_intercept, cv=folds)
        model.fit(x, y, sample_weight=weight)
        self.coef_ = np.atleast_2d(model.coef_)
        self.intercept_ = np.atleast_1d(model.intercept_).astype(np.float64)
        self.alpha_ = float(model.alpha_)
        self.n_nodes_ = int(arr.shape[2])
        return self

    def predict(self, states: Any) -> np.ndarray:
        """Readout at every step: (T, B, N) -> (T, B, O)."""
        _fitted(self)
        arr = _as_states(states)
        if arr.shape[2] != self.n_nodes_:
            raise ValueError(f"states have N = {arr.shape[2]} units; the readout was fit on {self.n_nodes_}")
        return arr[..., self.output_nodes_] @ self.coef_.T + self.intercept_

    def score(self, states: Any, batch: Any, trials: Any = None) -> float:
        """R^2 on the loss-masked steps (weighted by the mask, averaged over outputs)."""
        _fitted(self)
        x, y, weight, _ = masked_samples(states, batch, output_nodes=self.output_nodes_, trials=trials)
        return float(r2_score(y, x @ self.coef_.T + self.intercept_, sample_weight=weight))


def _logistic_cv(cs: Any, folds: Any, max_iter: int, seed: int | None):
    from sklearn.linear_model import LogisticRegressionCV

    extra = {}
    if "use_legacy_attributes" in inspect.signature(LogisticRegressionCV).parameters:  # scikit-learn >= 1.8
        extra = {"scoring": "accuracy", "l1_ratios": (0.0,), "use_legacy_attributes": False}
    return LogisticRegressionCV(Cs=cs, cv=folds, max_iter=max_iter, random_state=seed, **extra)


class ClassifierReadout(BaseEstimator):
    """Logistic regression on output-node states averaged over each trial's decision steps.

    Parameters
    ----------
    output_nodes : int indices or bool mask, optional
        Nodes the readout sees (all by default).
    Cs : int or sequence of float
        Inverse penalties tried (as in ``LogisticRegressionCV``).
    cv : int
        Stratified cross-validation folds over trials.
    standardize : bool
        Z-score the features (fit on training trials) before the logistic regression.
    max_iter : int
    random_state : int, optional
        Seed of the fold shuffling.

    Attributes
    ----------
    classes_ : ndarray
    coef_ : (n_classes or 1, n_out) ndarray
        Weights on the (standardised) features.
    C_ : float
        Chosen inverse penalty.
    model_ : sklearn Pipeline
    output_nodes_ : (n_out,) int ndarray
    n_nodes_ : int
    """

    def __init__(self, output_nodes: Any = None, Cs: Any = 10, cv: int = 5, standardize: bool = True,
                 max_iter: int = 1000, random_state: int | None = 0):
        self.output_nodes = output_nodes
        self.Cs = Cs
        self.cv = cv
        self.standardize = standardize
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, states: Any, batch: Any, trials: Any = None) -> "ClassifierReadout":
        """Fit on one feature vector per trial of ``trials`` (all by default)."""
        from sklearn.model_selection import StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        arr = _as_states(states)
        self.output_nodes_ = _nodes(self.output_nodes, arr.shape[2])
        x, y = decision_features(arr, batch, output_nodes=self.output_nodes_, trials=trials)
        classes, counts = np.unique(y, return_counts=True)
        if classes.size < 2:
            raise ValueError(f"ClassifierReadout needs trials of at least 2 classes; got only class {classes}")
        if counts.min() < 2:
            raise ValueError(f"every class needs at least 2 trials for cross-validation; counts {counts.tolist()}")
        folds = StratifiedKFold(n_splits=min(int(self.cv), int(counts.min())), shuffle=True,
                                random_state=self.random_state)
        clf = _logistic_cv(self.Cs, folds, self.max_iter, self.random_state)
        self.model_ = make_pipeline(StandardScaler(), clf) if self.standardize else make_pipeline(clf)
        self.model_.fit(x, y)
        self.classes_ = clf.classes_
        self.coef_ = clf.coef_
        self.C_ = float(np.ravel(clf.C_)[0])
        self.n_nodes_ = int(arr.shape[2])
        return self

    def _features(self, states: Any, batch: Any, trials: Any) -> tuple[np.ndarray, np.ndarray]:
        _fitted(self)
        arr = _as_states(states)
        if arr.shape[2] != self.n_nodes_:
            raise ValueError(f"states have N = {arr.shape[2]} units; the readout was fit on {self.n_nodes_}")
        return decision_features(arr, batch, output_nodes=self.output_nodes_, trials=trials)

    def predict(self, states: Any, batch: Any, trials: Any = None) -> np.ndarray:
        """Predicted class per trial, (B_sel,)."""
        return self.model_.predict(self._features(states, batch, trials)[0])

    def predict_proba(self, states: Any, batch: Any, trials: Any = None) -> np.ndarray:
        """Class probabilities per trial, (B_sel, n_classes)."""
        return self.model_.predict_proba(self._features(states, batch, trials)[0])

    def score(self, states: Any, batch: Any, trials: Any = None) -> float:
        """Accuracy over trials."""
        x, y = self._features(states, batch, trials)
        return float(np.mean(self.model_.predict(x) == y))


def evaluate_readout(readout: BaseEstimator, states: Any, batch: Any, *, test_size: float = 0.25,
                     seed: int | None = None) -> dict[str, Any]:
    """Fit a fresh copy of ``readout`` on training trials and score it on held-out trials.

    Parameters
    ----------
    readout : RidgeReadout or ClassifierReadout
        Left unfitted; a clone is fitted.
    states : (T, B, N) array_like
    batch : TaskBatch
    test_size : float
        Fraction of trials held out (stratified by label for classification).
    seed : int, optional

    Returns
    -------
    dict
        ``readout`` (the fitted clone), ``train_score``, ``test_score`` (R^2 or
        accuracy), ``n_train``, ``n_test``, ``train_trials``, ``test_trials``.
    """
    arr = _as_states(states)
    _check_batch(arr, batch)
    stratify = _trial_labels(batch, np.arange(arr.shape[1])) if batch.kind == "classification" else None
    train, test = split_trials(arr.shape[1], test_size=test_size, seed=seed, stratify=stratify)
    fitted = clone(readout).fit(arr, batch, trials=train)
    return {"readout": fitted, "train_score": fitted.score(arr, batch, trials=train),
            "test_score": fitted.score(arr, batch, trials=test), "n_train": int(train.size),
            "n_test": int(test.size), "train_trials": train, "test_trials": test}


def to_reservoirpy_ridge(readout: RidgeReadout):
    """A reservoirpy ``Ridge`` node computing the same outputs from the full reservoir state.

    ``Ridge.Wout`` is ``(features, outputs)`` = ``(N, O)``: rows of non-output nodes are
    zero, so ``reservoir.to_reservoirpy() >> to_reservoirpy_ridge(readout)`` reproduces
    ``readout.predict(states)``.

    Parameters
    ----------
    readout : RidgeReadout
        Fitted.

    Returns
    -------
    reservoirpy.nodes.Ridge
    """
    from reservoirpy.nodes import Ridge  # heavy; only for reservoirpy's own nodes

    if not isinstance(readout, RidgeReadout):
        raise TypeError(f"to_reservoirpy_ridge needs a RidgeReadout; got {type(readout).__name__}")
    _fitted(readout)
    wout = np.zeros((readout.n_nodes_, readout.coef_.shape[0]))
    wout[readout.output_nodes_] = readout.coef_.T  # (O, n_out) -> reservoirpy's (features, outputs)
    return Ridge(ridge=readout.alpha_, fit_bias=readout.fit_intercept, Wout=wout, bias=readout.intercept_.copy())
