"""Information processing capacity, kernel rank, NARMA-10 against closed forms."""

import numpy as np
import pytest

from conn2rnn.analysis import memory_capacity
from conn2rnn.analysis.capacity import (
    generalization_rank,
    information_processing_capacity,
    kernel_rank,
    narma10,
    narma_nrmse,
)
from conn2rnn.models import ConnectomeReservoir, ReservoirEnsemble


def _delay_line(n=8):
    w_in = np.zeros((n, 1))
    w_in[0] = 1.0
    return ConnectomeReservoir(np.eye(n, k=-1), w_in, activation="linear")


def _linear(n=8, seed=0, rho=0.8):
    rng = np.random.default_rng(seed)
    return ConnectomeReservoir.from_arrays(rng.normal(size=(n, n)), rng.uniform(-1, 1, (n, 1)),
                                           spectral_radius=rho, activation="linear")


def test_delay_line_holds_exactly_its_last_n_inputs():
    cap = information_processing_capacity(_delay_line(8), n_steps=3000)
    table = cap.table
    lin = table[table["degree"] == 1].set_index("target")["capacity"]
    np.testing.assert_allclose(lin[[f"P1(t-{d})" for d in range(8)]], 1.0, atol=1e-10)
    np.testing.assert_allclose(lin.drop([f"P1(t-{d})" for d in range(8)]), 0.0)
    # finite-data bias: inputs older than the line are independent of the states, T * C ~ chi2(8), mean 8
    old = table.loc[(table["degree"] == 1) & ~table["target"].isin([f"P1(t-{d})" for d in range(8)]), "raw"]
    assert old.mean() * 3000 == pytest.approx(8.0, rel=0.3)
    row = cap.summary.iloc[0]
    assert row["linear"] == pytest.approx(8.0, abs=1e-8)
    assert row["nonlinear"] == 0.0 and row["rank"] == 8


def _linear_capacities(res, n_delays):
    """Closed form for x[t] = W x[t-1] + b u[t]: C_k = (W^k b)' S^-1 (W^k b), S = sum_j W^j b b' W'^j."""
    w, b = res.W, res.W_in[:, 0]
    powers = [np.linalg.matrix_power(w, k) @ b for k in range(400)]
    cov = sum(np.outer(v, v) for v in powers)
    return np.array([v @ np.linalg.solve(cov, v) for v in powers[:n_delays]])


def test_linear_reservoir_capacity_is_all_linear_and_sums_to_n():
    models = ReservoirEnsemble((_linear(8, 0), _linear(8, 1)), (0, 1))
    cap = information_processing_capacity(models, n_steps=4000)
    np.testing.assert_allclose(cap.summary["linear"], 8.0, atol=0.2)  # sampling s.d. ~0.1 at T = 4000
    np.testing.assert_array_equal(cap.summary["nonlinear"], 0.0)
    per_delay = cap.table.loc[(cap.table["network"] == 0) & (cap.table["degree"] == 1), "capacity"].to_numpy()
    np.testing.assert_allclose(per_delay, _linear_capacities(_linear(8, 0), 41), atol=0.05)  # sampling error
    # the memory capacity of expressivity.py (held-out readouts, delays from 0) agrees
    mc = memory_capacity(_linear(8, 0), max_delay=40, min_delay=0, n_steps=4000, seed=0)["total"]
    assert mc == pytest.approx(cap.summary.loc[0, "linear"], abs=0.3)


def test_tanh_reservoir_trades_memory_for_nonlinearity():
    rng = np.random.default_rng(0)
    res = ConnectomeReservoir.from_arrays(rng.normal(size=(8, 8)), rng.uniform(-1, 1, (8, 1)), spectral_radius=0.8,
                                          bias=0.3)
    cap = information_processing_capacity(res, n_steps=4000, seed=1)
    row = cap.summary.iloc[0]
    assert row["degree_2"] > 0.5 and row["degree_3"] > 0.2
    assert row["total"] <= row["rank"] + 0.2 and row["rank"] == 8
    again = information_processing_capacity(res, n_steps=4000, seed=1)
    np.testing.assert_array_equal(cap.table["raw"], again.table["raw"])


def test_legendre_targets_count_and_names():
    cap = information_processing_capacity(_delay_line(4), max_delays=(5, 3, 2), washout=10, n_steps=500)
    counts = cap.table.groupby("degree").size()
    # degree 1: 6 delays; 2: P2 x4 + pairs C(4,2); 3: P3 x3 + P2P1 3*2 + triples C(3,3)
    assert counts.tolist() == [6, 4 + 6, 3 + 6 + 1]
    assert "P2(t-1) P1(t-0)" in set(cap.table["target"])


def test_kernel_and_generalization_rank():
    w_in = np.zeros((6, 1))
    w_in[0] = 1.0
    memoryless = ConnectomeReservoir(np.zeros((6, 6)), np.ones((6, 1)), activation="linear")
    assert kernel_rank(_delay_line(6), n_steps=10).tolist() == [6]
    assert kernel_rank(_delay_line(6), n_streams=4, n_steps=10).tolist() == [4]
    assert kernel_rank(memoryless, n_steps=10).tolist() == [1]  # states = W_in u[T] only
    assert generalization_rank(memoryless, n_steps=10).tolist() == [1]
    assert generalization_rank(_delay_line(6), n_steps=10).tolist() == [6]  # copies every input difference
    with pytest.raises(ValueError, match="noise must be"):
        generalization_rank(memoryless, noise=0)


def _narma_reference(u):
    y = [0.0] * 10
    for t in range(len(u)):
        recent = y[-10:]
        drive = 1.5 * u[t - 9] * u[t] if t >= 9 else 0.0
        y.append(0.3 * recent[-1] + 0.05 * recent[-1] * sum(recent) + drive + 0.1)
    return np.array(y[10:])


def test_narma10_recurrence():
    u, y = narma10(300, seed=3)
    assert y[0] == pytest.approx(0.1) and y[1] == pytest.approx(0.3 * 0.1 + 0.05 * 0.1 * 0.1 + 0.1)
    np.testing.assert_allclose(y, _narma_reference(u), rtol=1e-12)
    assert np.all((u >= 0) & (u <= 0.5))


class _Oracle:
    """A model whose first node is the NARMA-10 target of its input (the rest noise)."""

    family, n_networks, n_nodes, n_inputs, dt_ms, seeds = "oracle", 2, 3, 1, None, [0, 1]

    def states(self, inputs, *, seed=None, x0=None):
        u = (np.asarray(inputs)[:, 0, 0] + 1.0) / 4.0
        out = np.random.default_rng(0).normal(size=(len(u), 2, 1, 3))
        out[:, 0, 0, 0] = _narma_reference(u)
        return out

    def output_nodes(self):
        return [np.arange(3), np.arange(3)]


def test_narma_nrmse_of_an_oracle_and_a_reservoir():
    nrmse = narma_nrmse(_Oracle(), n_steps=1000)
    assert nrmse[0] < 1e-6 and nrmse[1] > 0.95  # the target itself vs noise
    rng = np.random.default_rng(0)
    res = ConnectomeReservoir.from_arrays(rng.normal(size=(50, 50)), rng.uniform(-0.5, 0.5, (50, 1)),
                                          spectral_radius=0.9, leak=0.5)
    assert narma_nrmse(res, n_steps=2000)[0] < 0.9


def test_bad_input_is_named():
    three = ConnectomeReservoir(np.zeros((4, 4)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="n_inputs = 3"):
        information_processing_capacity(three)
    with pytest.raises(ValueError, match="washout"):
        information_processing_capacity(_delay_line(), washout=5)
    with pytest.raises(ValueError, match="max_degree must be 1, 2 or 3"):
        information_processing_capacity(_delay_line(), max_degree=4)
    with pytest.raises(ValueError, match="too short"):
        narma_nrmse(_delay_line(), n_steps=100, washout=60)
    with pytest.raises(TypeError, match="must be a model"):
        kernel_rank("reservoir")


def test_linear_memory_agrees_with_reservoirpy():
    from reservoirpy.nodes import Ridge
    from reservoirpy.observables import memory_capacity as rpy_memory_capacity

    res = _linear(8, 0)
    table = information_processing_capacity(res, n_steps=4000).table
    ours = table.loc[(table["degree"] == 1) & (table["target"] != "P1(t-0)"), "capacity"].sum()
    series = np.random.default_rng(0).uniform(-0.8, 0.8, (5000, 1))
    theirs = rpy_memory_capacity(res.to_reservoirpy() >> Ridge(ridge=1e-8), k_max=40, series=series, test_size=0.2)
    expect = _linear_capacities(res, 41)[1:].sum()  # delays 1..40 of the closed form
    assert ours == pytest.approx(expect, abs=0.2) and theirs == pytest.approx(expect, abs=0.2)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")  # the simulator's own
def test_diverging_network_is_nan_with_a_warning_naming_it():
    rng = np.random.default_rng(0)
    w, w_in = rng.normal(size=(6, 6)), rng.uniform(-1, 1, (6, 1))
    model = ReservoirEnsemble(tuple(ConnectomeReservoir.from_arrays(w, w_in, spectral_radius=rho, activation="linear")
                                    for rho in (0.8, 4.0)), (0, 1))
    with pytest.warns(RuntimeWarning, match=r"networks \[1\] diverged"):
        cap = information_processing_capacity(model, n_steps=1000)
    assert np.isfinite(cap.summary.loc[0, "total"]) and np.isnan(cap.summary.loc[1, "total"])
    with pytest.warns(RuntimeWarning, match=r"networks \[1\] diverged"):
        nrmse = narma_nrmse(model, n_steps=1000)
    assert np.isfinite(nrmse[0]) and np.isnan(nrmse[1])
    with pytest.warns(RuntimeWarning, match=r"networks \[1\] diverged"):
        ranks = kernel_rank(model, n_steps=600)
    assert np.isfinite(ranks[0]) and np.isnan(ranks[1])
