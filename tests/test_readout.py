"""Readouts: output nodes only, trial-wise splits, scikit-learn contract, reservoirpy hand-over."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from conn2rnn.models.reservoir import ConnectomeReservoir, scale_spectral_radius
from conn2rnn.fitting.readout import (
    ClassifierReadout,
    RidgeReadout,
    decision_features,
    evaluate_readout,
    split_trials,
    to_reservoirpy_ridge,
)



def _batch(kind, targets, loss_mask, decision_mask):
    """A duck-typed task batch with the TaskBatch fields the readouts use."""
    n_t, n_b = loss_mask.shape
    return SimpleNamespace(inputs=np.zeros((n_t, n_b, 1), np.float32), targets=targets,
                           loss_mask=loss_mask.astype(np.float32), decision_mask=decision_mask.astype(bool),
                           info=pd.DataFrame(index=range(n_b)), dt=10.0, kind=kind)


@pytest.fixture
def classification():
    """Class information only in nodes 0-5 at the decision steps; nodes 6-11 are noise."""
    rng = np.random.default_rng(0)
    n_t, n_b, n = 10, 80, 12
    labels = np.repeat([0, 1], n_b // 2)
    states = 0.3 * rng.normal(size=(n_t, n_b, n))
    states[7:, :, :6] += (labels[None, :, None] - 0.5)
    dec = np.zeros((n_t, n_b), bool)
    dec[7:] = True
    return states, _batch("classification", np.broadcast_to(labels, (n_t, n_b)).astype(np.int64),
                          dec.astype(np.float32), dec)


@pytest.fixture
def regression():
    rng = np.random.default_rng(1)
    n_t, n_b, n = 20, 30, 10
    states = rng.normal(size=(n_t, n_b, n))
    coef = rng.normal(size=(4, 2))
    targets = states[..., :4] @ coef + np.array([0.5, -1.0])
    mask = np.zeros((n_t, n_b))
    mask[5:] = 1.0
    return states, _batch("regression", targets.astype(np.float32), mask, mask > 0), coef


def test_classifier_reads_only_output_nodes(classification):
    states, batch = classification
    informed = evaluate_readout(ClassifierReadout(output_nodes=np.arange(6)), states, batch, seed=0)
    blind = evaluate_readout(ClassifierReadout(output_nodes=np.arange(6, 12)), states, batch, seed=0)
    assert informed["test_score"] > 0.9
    assert blind["test_score"] < 0.8
    fitted = informed["readout"]
    scrambled = states.copy()
    scrambled[..., 6:] = 100.0
    assert np.array_equal(fitted.predict(states, batch), fitted.predict(scrambled, batch))
    assert fitted.predict_proba(states, batch).shape == (80, 2)


def test_decision_features_average_decision_steps(classification):
    states, batch = classification
    x, y = decision_features(states, batch, output_nodes=[0, 3])
    assert np.allclose(x, states[7:][..., [0, 3]].mean(axis=0))
    assert np.array_equal(y, np.repeat([0, 1], 40))
    bad = _batch("classification", np.asarray(batch.targets).copy(), batch.loss_mask, batch.decision_mask)
    bad.targets[9, 0] = 1
    with pytest.raises(ValueError, match="one label per trial"):
        decision_features(states, bad)


def test_ridge_recovers_linear_map_from_output_nodes(regression):
    states, batch, coef = regression
    res = evaluate_readout(RidgeReadout(output_nodes=[0, 1, 2, 3]), states, batch, seed=0)
    assert res["test_score"] > 0.999
    assert np.allclose(res["readout"].coef_, coef.T, atol=1e-3)
    assert np.allclose(res["readout"].intercept_, [0.5, -1.0], atol=1e-3)
    assert res["readout"].predict(states).shape == (20, 30, 2)
    assert evaluate_readout(RidgeReadout(output_nodes=[5, 6]), states, batch, seed=0)["test_score"] < 0.2


def test_ridge_with_a_single_fixed_penalty(regression):
    states, batch, coef = regression
    res = evaluate_readout(RidgeReadout(output_nodes=[0, 1, 2, 3], alphas=(1e-6,)), states, batch, seed=0)
    assert res["test_score"] > 0.999 and res["readout"].alpha_ == 1e-6


def test_split_is_by_trial_seeded_and_stratified(classification):
    train, test = split_trials(40, test_size=0.25, seed=3)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(40)) and test.size == 10
    assert np.array_equal(test, split_trials(40, test_size=0.25, seed=3)[1])
    assert not np.array_equal(test, split_trials(40, test_size=0.25, seed=4)[1])
    states, batch = classification
    res = evaluate_readout(ClassifierReadout(), states, batch, test_size=0.25, seed=1)
    labels = np.asarray(batch.targets)[0]
    assert np.sum(labels[res["test_trials"]] == 1) == 10  # stratified: half of the 20 held-out trials
    assert np.array_equal(res["test_trials"], evaluate_readout(ClassifierReadout(), states, batch,
                                                               test_size=0.25, seed=1)["test_trials"])


def test_estimator_contract(regression):
    states, batch, _ = regression
    est = RidgeReadout(output_nodes=[0, 1], cv=3)
    assert est.get_params()["cv"] == 3 and not hasattr(est, "coef_")
    with pytest.raises(ValueError, match="not fitted"):
        est.predict(states)
    est.fit(states, batch)
    copy = clone(est)
    assert not hasattr(copy, "coef_") and copy.get_params() == est.get_params()
    learned = {k for k in vars(est) if k not in est.get_params()}
    assert learned and all(k.endswith("_") for k in learned)


def test_readout_matches_reservoirpy_ridge_on_full_state():
    rng = np.random.default_rng(2)
    n = 15
    w = scale_spectral_radius(rng.normal(size=(n, n)), 0.8)
    res = ConnectomeReservoir(w, rng.uniform(-1, 1, (n, 1)), leak=0.5, output_nodes=[1, 4, 7, 9])
    u = rng.normal(size=(40, 12, 1))
    states = res.run(u)
    target = np.roll(u, 2, axis=0).astype(np.float32)
    batch = _batch("regression", target, np.ones((40, 12)), np.ones((40, 12), bool))
    readout = RidgeReadout(output_nodes=res.output_nodes).fit(states, batch)
    node = to_reservoirpy_ridge(readout)
    assert node.Wout.shape == (n, 1) and np.all(node.Wout[[0, 2, 3]] == 0)
    model = res.to_reservoirpy() >> node
    ours = readout.predict(states)
    for b in (0, 5):
        pred = model.run(u[:, b])
        model.reset()
        assert np.abs(pred - ours[:, b]).max() < 1e-10
    with pytest.raises(TypeError, match="RidgeReadout"):
        to_reservoirpy_ridge(ClassifierReadout())


def test_errors_name_the_problem(classification, regression):
    states, batch = classification
    with pytest.raises(ValueError, match="needs a 'regression' batch.*ClassifierReadout"):
        RidgeReadout().fit(states, batch)
    with pytest.raises(ValueError, match="do not match"):
        ClassifierReadout().fit(states[:, :10], batch)
    with pytest.raises(ValueError, match="NaN"):
        ClassifierReadout().fit(np.full_like(states, np.nan), batch)
    with pytest.raises(ValueError, match=r"\(T, B, N\)"):
        ClassifierReadout().fit(states[0], batch)
    with pytest.raises(TypeError, match="TaskBatch"):
        ClassifierReadout().fit(states, {"targets": 1})
    with pytest.raises(ValueError, match="outside"):
        ClassifierReadout(output_nodes=[50]).fit(states, batch)
    r_states, r_batch, _ = regression
    fitted = RidgeReadout().fit(r_states, r_batch)
    with pytest.raises(ValueError, match="fit on 10"):
        fitted.predict(r_states[..., :5])


def test_works_with_the_real_task_batch():
    base = pytest.importorskip("conn2rnn.tasks.base")
    rng = np.random.default_rng(0)
    n_t, n_b = 6, 40
    labels = np.tile([0, 1], n_b // 2)
    dec = np.zeros((n_t, n_b), bool)
    dec[-2:] = True
    batch = base.TaskBatch(inputs=np.zeros((n_t, n_b, 1)), targets=np.broadcast_to(labels, (n_t, n_b)),
                           loss_mask=dec.astype(np.float32), decision_mask=dec,
                           info=pd.DataFrame({"label": labels}), dt=100.0, input_names=("x",),
                           output_names=("a", "b"), kind="classification")
    states = 0.2 * rng.normal(size=(n_t, n_b, 4)) + labels[None, :, None]
    assert evaluate_readout(ClassifierReadout(), states, batch, seed=0)["test_score"] == 1.0
