"""Where timescales come from: the reference bioRNN analysis's estimators and its zeros,
the drive-free (noise into every node) control and task-trial INTs."""

import numpy as np
import pytest

from conn2rnn.analysis.int_controls import node_drive_model, task_trial_ints
from conn2rnn.analysis.resting import ints_from_activity, model_ints
from conn2rnn.analysis.timescales import acf, timescales_from_acf
from conn2rnn.models.reservoir_ensemble import as_recurrent_model
from conn2rnn.models.reservoir import ConnectomeReservoir
from conn2rnn.tasks import get_task


def _reference(ts: np.ndarray, nlags: int = 50) -> dict[str, float]:
    """The reference bioRNN analysis, written out: acf(ts, nlags)[:-1], then ACW/ACA at 0.5 and 0
    (the count of lags before the first one below the level, and their sum; 0 without a crossing)."""
    x = ts - ts.mean()
    denom = np.sum(x * x)
    with np.errstate(invalid="ignore", divide="ignore"):
        ac = np.array([np.sum(x[: x.size - k] * x[k:]) / denom for k in range(nlags + 1)])[:-1]
    out = {}
    for level, tag in ((0.5, "50"), (0.0, "0")):
        below = np.flatnonzero(ac < level)
        out[f"acw_{tag}"] = float(below[0]) if below.size else 0.0
        out[f"aca_{tag}"] = float(ac[: below[0]].sum()) if below.size else 0.0
    return out


@pytest.fixture(scope="module")
def activity():
    rng = np.random.default_rng(5)
    t, n = 500, 8
    noise = rng.normal(0.5, 0.15, size=(t, n))
    act = np.empty_like(noise)
    act[0] = noise[0]
    phi = np.r_[np.linspace(0.1, 0.9, n - 2), 0.995, 0.0]
    for i in range(1, t):
        act[i] = phi * act[i - 1] + noise[i]
    act[:, -1] = 0.3  # a silent node
    return act


@pytest.mark.parametrize(("estimator", "key"), [("acf_sum", "aca_0"), ("aca50", "aca_50"),
                                                ("acw50", "acw_50"), ("acw0", "acw_0")])
def test_zero_fill_reproduces_the_reference_analysis_node_for_node(activity, estimator, key):
    got = ints_from_activity(activity[:, None, :], 1000.0, estimator=estimator, max_lag=49,
                             no_crossing="zero", min_valid_fraction=0.0)  # one step = 1 s
    expected = np.array([_reference(activity[:, j])[key] for j in range(activity.shape[1])])
    np.testing.assert_allclose(got.ints_s[0], expected, rtol=1e-10, atol=1e-12)
    assert got.n_silent[0] == 1 and got.settings["no_crossing"] == "zero"
    nan = ints_from_activity(activity[:, None, :], 1000.0, estimator=estimator, max_lag=49,
                             min_valid_fraction=0.0)
    assert np.isnan(nan.ints_s[0, -1])  # the default leaves the silent node out


def test_aca50_of_an_ar1_acf_is_its_area_above_one_half():
    phi = np.array([0.5, 0.8, 0.95])  # 0.5^1 equals the level: not below it
    r = phi[None, :] ** np.arange(200)[:, None]
    first = np.array([2, 4, 14])  # first k with phi^k < 0.5: 0.25, 0.41, 0.488
    expected = np.array([np.sum(phi[j] ** np.arange(first[j])) for j in range(3)])
    np.testing.assert_allclose(timescales_from_acf(r, 1.0, method="aca50"), expected)


def test_node_drive_reaches_nodes_the_inputs_do_not():
    leak = np.array([0.1, 0.25, 0.6])
    # one input channel into node 0 only; nodes 1 and 2 get nothing through the inputs
    model = ConnectomeReservoir(np.zeros((3, 3)), np.array([[1.0], [0.0], [0.0]]), leak=leak, activation="linear")
    rest = model_ints(model, dt_ms=100.0, n_steps=20000, washout=200)
    assert rest.n_silent[0] == 2
    driven = node_drive_model(model)
    assert driven.n_inputs == 3
    np.testing.assert_array_equal(driven.leaky_parameters().w_in[0], np.eye(3))
    np.testing.assert_allclose(driven.leaky_parameters().leak[0], leak)
    ints = model_ints(driven, dt_ms=100.0, n_steps=60000, washout=200, seed=1)
    np.testing.assert_allclose(ints.ints_s[0], 0.1 / leak, rtol=0.06)  # AR(1) with phi = 1 - a: sum = 1 / a
    with pytest.raises(TypeError, match="model must be"):
        node_drive_model(object())


def test_task_trial_ints_average_the_acf_over_trials():
    task = get_task("gonogo", dt=100.0)
    model = ConnectomeReservoir(0.3 * np.random.default_rng(0).normal(size=(6, 6)) / np.sqrt(6),
                                np.random.default_rng(1).normal(size=(6, task.n_inputs)), leak=0.3,
                                activation="tanh")
    got = task_trial_ints(model, task, n_trials=12, seed=3, min_valid_fraction=0.0, dt_ms=100.0)
    batch = task.batch(12, seed=3)
    states = as_recurrent_model(model).states(batch.inputs)[:, 0]  # (T, B, N)
    expected = timescales_from_acf(acf(states), 0.1, method="acf_sum")
    np.testing.assert_allclose(got.ints_s[0], expected, rtol=1e-10)
    assert got.settings["drive"] == "task trials" and got.settings["n_trials"] == 12
    with pytest.raises(ValueError, match="n_trials must be a positive integer"):
        task_trial_ints(model, task, n_trials=0, dt_ms=100.0)
    with pytest.raises(ValueError, match="no_crossing must be"):
        task_trial_ints(model, task, no_crossing="nope", dt_ms=100.0)
    with pytest.raises(ValueError, match="dt_ms must be a positive step"):
        task_trial_ints(model, task)
