"""Expressivity measures against closed forms, reservoirpy's observable and known orderings."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from conn2rnn.analysis.expressivity import (
    forecast_score,
    impulse_recall,
    memory_capacity,
    per_network_readout,
    sweep_spectral_radius,
)
from conn2rnn.models.engine import simulate
from conn2rnn.models.reservoir import ConnectomeReservoir, scale_spectral_radius



def _delay_line(n):
    w_in = np.zeros((n, 1))
    w_in[0] = 1.0
    return ConnectomeReservoir(np.eye(n, k=-1), w_in, leak=1.0, activation="linear")


def _random_reservoir(n=50, radius=1.0, leak=0.3, input_scaling=1.0, n_inputs=1, seed=0):
    rng = np.random.default_rng(seed)
    return ConnectomeReservoir.from_arrays(rng.normal(size=(n, n)), rng.uniform(-1, 1, (n, n_inputs)) * input_scaling,
                                           spectral_radius=radius, leak=leak)


def test_delay_line_memory_capacity_is_n():
    n = 12
    res = _delay_line(n)
    full = memory_capacity(res, max_delay=n - 1, min_delay=0, n_steps=1000, ridge=1e-10, seed=0)
    assert full["total"] == pytest.approx(n, abs=1e-6)
    assert np.array_equal(full["delays"], np.arange(n))
    jaeger = memory_capacity(res, max_delay=n - 1, n_steps=1000, ridge=1e-10, seed=0)
    assert jaeger["total"] == pytest.approx(n - 1, abs=1e-6)
    longer = memory_capacity(res, max_delay=2 * n, min_delay=0, n_steps=3000, ridge=1e-10, seed=0)
    assert np.allclose(longer["per_delay"][:n], 1.0, atol=1e-8)
    assert np.all(longer["per_delay"][n:] < 0.02)  # beyond the line: only finite-sample chance


def test_memory_capacity_equals_reservoirpy_observable():
    from reservoirpy.nodes import Ridge
    from reservoirpy.observables import memory_capacity as rpy_memory_capacity

    res = _random_reservoir(n=30, radius=0.9, leak=0.5, seed=1)
    k, test_len = 20, 100
    series = np.random.default_rng(2).uniform(-0.8, 0.8, (400, 1))
    ref = rpy_memory_capacity(res.to_reservoirpy() >> Ridge(ridge=1e-6), k_max=k, series=series,
                              test_size=test_len, as_list=True)
    # reservoirpy feeds series[k:] and discards k warm-up steps
    ours = memory_capacity(res, max_delay=k, inputs=series[k:, 0], washout=k, test_size=test_len, ridge=1e-6)
    assert np.abs(ours["per_delay"] - ref).max() < 1e-8
    assert 3 < ours["total"] < k


def test_memory_capacity_accepts_a_state_function():
    res = _random_reservoir(n=20, radius=0.8, seed=3)
    direct = memory_capacity(res, max_delay=10, n_steps=500, seed=0)
    via_fn = memory_capacity(lambda u: res.run(u), max_delay=10, n_steps=500, seed=0)
    assert np.allclose(direct["per_delay"], via_fn["per_delay"])
    with pytest.raises(ValueError, match="washout"):
        memory_capacity(res, max_delay=10, washout=5)
    with pytest.raises(ValueError, match="one input channel"):
        memory_capacity(_random_reservoir(n=10, n_inputs=2), max_delay=3)
    with pytest.raises(TypeError, match="ConnectomeReservoir or a function"):
        memory_capacity("res", max_delay=3)


def test_sweep_runs_all_radii_at_once_and_matches_separate_runs():
    res = _random_reservoir(n=20, seed=4)
    u = np.random.default_rng(0).normal(size=(15, 3, 1))
    radii = [0.0, 0.5, 1.3]
    states = sweep_spectral_radius(res, radii, u)
    assert states.shape == (15, 3, 3, 20)
    for m, r in enumerate(radii):
        w = np.zeros((20, 20)) if r == 0 else scale_spectral_radius(res.W, r)
        assert np.abs(states[:, m] - simulate(w, res.W_in, u, res.leak, res.bias)).max() < 1e-12
    with pytest.raises(ValueError, match="w_in is required"):
        sweep_spectral_radius(res.W, radii, u)


def test_larger_connectivity_scale_gives_longer_impulse_recall():
    # 50 units, recall up to 30 steps back at |A| = 0, 1.2, 1.6 (leak 0.3, weak input)
    res = _random_reservoir(n=50, leak=0.3, input_scaling=0.1, seed=0)
    df = impulse_recall(res, max_lag=30, scales=[0.0, 1.2, 1.6], n_trials=300, seed=0)
    table = df.pivot(index="lag", columns="scale", values="recall")
    assert table.shape == (31, 3)
    at30 = table.loc[30]
    assert at30[0.0] < 0.05 and at30[0.0] < at30[1.2] < at30[1.6]
    assert table[0.0].sum() < table[1.2].sum() < table[1.6].sum()
    assert table.loc[0].min() > 0.8  # the pulse itself is always readable
    again = impulse_recall(res, max_lag=30, scales=[0.0, 1.2, 1.6], n_trials=300, seed=0)
    pd.testing.assert_frame_equal(df, again)


def test_forecasting_mackey_glass_and_lorenz():
    mg = forecast_score(_random_reservoir(n=100, radius=0.9, leak=0.3, seed=5), "mackey_glass",
                        n_steps=1500, seed=0)
    assert mg["r2"] > 0.999 and mg["nrmse"] < 0.03 and mg["series"] == "mackey_glass"
    lz = forecast_score(_random_reservoir(n=100, radius=0.9, leak=0.3, n_inputs=3, seed=5), "lorenz",
                        n_steps=1500)
    assert lz["r2"] > 0.999 and lz["n_test"] == 325
    with pytest.raises(ValueError, match="3 dimension.*n_inputs=3"):
        forecast_score(_random_reservoir(n=10), "lorenz", n_steps=300)
    with pytest.raises(ValueError, match="choose one of"):
        forecast_score(_random_reservoir(n=10), "henon")


def test_per_network_readout_finds_the_informative_network():
    rng = np.random.default_rng(0)
    n_t, n_b = 8, 60
    labels = np.repeat([0, 1], n_b // 2)
    networks = np.array(["Vis"] * 5 + ["Default"] * 5)
    states = 0.3 * rng.normal(size=(n_t, n_b, 10))
    states[-2:, :, 5:] += labels[None, :, None]
    dec = np.zeros((n_t, n_b), bool)
    dec[-2:] = True
    batch = SimpleNamespace(targets=np.broadcast_to(labels, (n_t, n_b)), loss_mask=dec.astype(np.float32),
                            decision_mask=dec, kind="classification")
    table = per_network_readout(states, networks, batch, seed=0).set_index("network")
    assert list(table.index) == ["Vis", "Default", "all"]
    assert table.loc["Default", "test_score"] > 0.9 > 0.75 > table.loc["Vis", "test_score"]
    assert table.loc["Vis", "n_nodes"] == 5 and (table["metric"] == "accuracy").all()
    with pytest.raises(ValueError, match="one label per node"):
        per_network_readout(states, networks[:4], batch)
