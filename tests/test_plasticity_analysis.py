"""Learned-tau map correlations, expressivity over gain and timescale (BioRNN and
connectome reservoirs), and the DMS distractor strength."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from conn2rnn.analysis.expressivity import memory_capacity
from conn2rnn.analysis.plasticity import (
    expressivity_sweep,
    scaled_leaky_model,
    tau_map_correlation,
)
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.models.reservoir import ConnectomeReservoir
from conn2rnn.tasks import get_task


def _graph() -> BrainGraph:
    g = BrainGraph.from_grid((3, 2, 2))
    return BrainGraph.from_arrays(g.names, g.coords, gradient=g.coords[:, 0] + 0.1 * g.coords[:, 1],
                                  maps={"int": g.coords[:, 1] - 0.2 * g.coords[:, 2]}, metadata={"synthetic": True})


def test_tau_map_correlation_matches_scipy():
    graph = _graph()
    rng = np.random.default_rng(0)
    tau = rng.uniform(150, 900, (2, graph.n_nodes))
    model = BioRNN.from_graph(graph, get_task("gonogo"), n_networks=2, tau=tau, learn_tau=True, dtype=torch.float64)
    table = tau_map_correlation(model, "int")
    assert table["map"].tolist() == ["gradient", "gradient", "int", "int"]
    for _, row in table.iterrows():
        ref = graph.gradient if row["map"] == "gradient" else graph.maps["int"]
        expected = stats.spearmanr(ref, tau[row["network"]])
        assert row["r"] == pytest.approx(expected.statistic, abs=1e-12)
        assert row["p_parametric"] == pytest.approx(expected.pvalue, rel=1e-6)
    nulls = tau_map_correlation(model, graph.maps["int"], nulls="surrogate", n_perm=20)
    assert nulls["p_null"].between(0, 1).all() and nulls["map"].tolist()[-1] == "empirical"
    with pytest.raises(ValueError, match="empirical must be one value per node"):
        tau_map_correlation(model, np.ones(3))
    with pytest.raises(ValueError, match="empirical must be finite"):
        tau_map_correlation(model, np.full(graph.n_nodes, np.nan))
    with pytest.raises(ValueError, match="empirical='t1t2' is not a map of the graph"):
        tau_map_correlation(model, "t1t2")


def test_scaled_model_reproduces_the_model_and_folds_gain_and_tau():
    model = BioRNN(1, 8, 1, n_networks=2, tau=np.linspace(20, 200, 8), node_gain=np.linspace(0.5, 1.5, 8),
                   dtype=torch.float64)
    x = np.random.default_rng(0).uniform(-1, 1, (30, 3, 1))
    same = scaled_leaky_model(model)
    np.testing.assert_allclose(same.states(x), model.states(x), rtol=1e-10, atol=1e-12)
    doubled = BioRNN(1, 8, 1, n_networks=2, tau=2 * np.linspace(20, 200, 8), node_gain=2 * np.linspace(0.5, 1.5, 8),
                     dtype=torch.float64)
    doubled.load_state_dict({**model.state_dict(), "tau": doubled.tau, "node_gain": doubled.node_gain})
    np.testing.assert_allclose(scaled_leaky_model(model, gain=2.0, tau_scale=2.0).states(x), doubled.states(x),
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="tau_scale must be a finite number > 0"):
        scaled_leaky_model(model, tau_scale=0.0)


def test_expressivity_sweep_on_a_reservoir_matches_memory_capacity():
    rng = np.random.default_rng(1)
    n = 20
    w = rng.normal(0, 1, (n, n))
    w *= 0.9 / np.max(np.abs(np.linalg.eigvals(w)))
    res = ConnectomeReservoir(w, rng.normal(0, 1, (n, 1)), leak=0.5, activation="tanh")
    table = expressivity_sweep(res, gains=[0.2, 1.0, 3.0], max_delay=10, n_steps=600, lyapunov_steps=300)
    assert table["gain"].tolist() == [0.2, 1.0, 3.0]
    direct = memory_capacity(res, max_delay=10, n_steps=600, seed=0)["total"]
    assert table.loc[1, "memory_capacity"] == pytest.approx(direct, rel=1e-6)
    lyap = table["lyapunov"].to_numpy()
    assert lyap[2] > lyap[0]  # a high gain pushes the dynamics towards chaos
    assert table.loc[2, "memory_capacity"] < table.loc[1, "memory_capacity"]
    with pytest.raises(ValueError, match="gains must be a finite number >= 0"):
        expressivity_sweep(res, gains=[-1.0])
    with pytest.raises(ValueError, match="channel must be an input index"):
        expressivity_sweep(res, channel=1)


def test_distractor_strength_scales_the_distractor_input():
    base = get_task("dms", distractor_prob=1.0, sigma=0.0)
    strong = get_task("dms", distractor_prob=1.0, sigma=0.0, distractor_strength=2.5)
    b0, b1 = base.batch(8, seed=3), strong.batch(8, seed=3)
    diff = b1.inputs - b0.inputs
    t = np.arange(b0.inputs.shape[0])[:, None]
    onset, steps = b0.info["distractor_onset"].to_numpy(), b0.info["distractor_steps"].to_numpy()
    in_distractor = (t >= onset) & (t < onset + steps)
    np.testing.assert_allclose(diff[..., 1:], 1.5 * b0.inputs[..., 1:] * in_distractor[..., None])
    assert np.any(diff != 0)
    assert strong.to_dict()["distractor_strength"] == 2.5 and "distractor_strength" not in base.to_dict()
    with pytest.raises(ValueError, match="distractor_strength"):
        get_task("dms", distractor_strength=-1.0)
