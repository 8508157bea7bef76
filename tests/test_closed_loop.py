"""Chaotic drivers, climate measures, closed-loop generation and generalized synchronization."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp

import conn2rnn
from conn2rnn.analysis.chaotic import (
    SYSTEMS,
    _mackey_glass,
    chaotic_series,
    correlation_dimension,
    invariant_density_distance,
    lorenz_rhs,
    power_spectrum_distance,
    return_map_distance,
    rossler_rhs,
    valid_prediction_time,
)
from conn2rnn.analysis.closed_loop import (
    closed_loop,
    closed_loop_scores,
    dynamics_comparison,
    generalized_synchronization,
    summarize_comparison,
)
from conn2rnn.analysis.lyapunov import lyapunov_spectrum
from conn2rnn.models import ConnectomeReservoir, ReservoirEnsemble
from conn2rnn.plotting.dynamics import plot_attractors, plot_dynamics_comparison, plot_impulse_recall


# ----------------------------------------------------------------------------- drivers
@pytest.mark.parametrize("system, rhs", [("lorenz", lorenz_rhs), ("rossler", rossler_rhs)])
def test_series_follow_an_independent_integrator(system, rhs):
    x = chaotic_series(system, 60, seed=3)
    dt = SYSTEMS[system].dt
    sol = solve_ivp(lambda t, y: rhs(y), (0, 59 * dt), x[0], t_eval=np.arange(60) * dt, method="DOP853",
                    rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(x, sol.y.T, atol=1e-5 * np.abs(x).max())


def test_series_are_seeded():
    a, b = chaotic_series("lorenz", 100, seed=1), chaotic_series("lorenz", 100, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, chaotic_series("lorenz", 100, seed=2))
    assert chaotic_series("mackey_glass", 50).shape == (50, 1)
    with pytest.raises(ValueError, match="unknown system 'henon'"):
        chaotic_series("henon", 10)


def test_mackey_glass_rests_at_its_fixed_point():
    # beta x / (1 + x^10) = gamma x has the solution x = 1 for beta = 2 gamma
    np.testing.assert_allclose(_mackey_glass(200, SYSTEMS["mackey_glass"], 1.0), 1.0, atol=1e-12)


# ----------------------------------------------------------------------------- climate
def test_valid_prediction_time_closed_form():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(200, 2))
    scale = np.sqrt(((truth - truth.mean(0)) ** 2).sum(1).mean())
    ramp = np.arange(200)[:, None] * 0.01 * scale / np.sqrt(2)  # error norm 0.01 * scale * t
    gen = np.stack([truth + ramp, truth, np.full_like(truth, np.nan)], axis=1)
    vpt = valid_prediction_time(gen, truth, dt=0.5, lyapunov_exponent=0.2, threshold=0.4)
    # the error first exceeds 0.4 at step 41; NaN departs at once; a perfect copy lasts the segment
    np.testing.assert_allclose(vpt, [41 * 0.5 * 0.2, 200 * 0.5 * 0.2, 0.0])
    with pytest.raises(ValueError, match="lyapunov_exponent"):
        valid_prediction_time(gen, truth, dt=0.5, lyapunov_exponent=0)


def test_correlation_dimension_of_a_line_a_square_and_lorenz():
    rng = np.random.default_rng(1)
    line = np.outer(rng.uniform(size=4000), [1.0, 2.0, -1.0])
    square = np.c_[rng.uniform(size=(4000, 2)), np.zeros(4000)]
    dims = correlation_dimension(np.stack([line, square], axis=1), n_points=1500, theiler=0)
    np.testing.assert_allclose(dims, [1.0, 2.0], atol=0.08)
    lorenz = chaotic_series("lorenz", 15000, seed=0)
    assert correlation_dimension(lorenz, n_points=1500)[0] == pytest.approx(2.05, abs=0.12)
    with pytest.raises(ValueError, match="needs >= 50"):
        correlation_dimension(lorenz[:20])


def test_spectrum_and_density_distances():
    t = np.arange(2048)[:, None]
    slow, fast = np.sin(0.05 * t), np.sin(1.3 * t)
    np.testing.assert_allclose(power_spectrum_distance(slow, slow), [0.0], atol=1e-7)
    assert power_spectrum_distance(fast, slow)[0] > 0.95
    lorenz, other = chaotic_series("lorenz", 8000, seed=0), chaotic_series("lorenz", 8000, seed=5)
    far = lorenz + 1000.0
    dens = invariant_density_distance(np.stack([lorenz, other, far], axis=1), lorenz)
    assert dens[0] == pytest.approx(0.0, abs=1e-7) and dens[1] < 0.25 and dens[2] == pytest.approx(1.0)
    maps = return_map_distance(np.stack([lorenz, other, lorenz[::-1]], axis=1), lorenz, bins=10)
    assert maps[0] == pytest.approx(0.0, abs=1e-7) and maps[1] < maps[2]


# ----------------------------------------------------------------------------- closed loop
@pytest.fixture(scope="module")
def hcp_reservoirs():
    graph = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp")
    members = tuple(ConnectomeReservoir.from_graph(graph, n_inputs=3, spectral_radius=rho, leak=0.3,
                                                   input_scaling=0.3, bias_scaling=0.5, seed=s)
                    for s, rho in enumerate((0.6, 0.9)))
    return ReservoirEnsemble(members, (0, 1))


def test_hcp_reservoir_regenerates_lorenz(hcp_reservoirs):
    res = closed_loop(hcp_reservoirs, "lorenz", n_train=2000, n_generate=800, seed=0)
    scores = closed_loop_scores(hcp_reservoirs, res)
    assert not res.diverged.any() and np.all(res.train_nrmse < 0.01)
    assert np.all(scores["valid_time"] > 2.0)  # Lyapunov times
    np.testing.assert_allclose(scores["lyapunov_closed_loop"], 0.906, atol=0.3)
    np.testing.assert_allclose(scores["correlation_dimension"], 2.05, atol=0.4)
    assert np.all(scores["density_distance"] < 0.6)
    again = closed_loop_scores(hcp_reservoirs, closed_loop(hcp_reservoirs, "lorenz", n_train=2000,
                                                           n_generate=800, seed=0))
    pd.testing.assert_frame_equal(scores, again)


def test_closed_loop_matches_a_step_by_step_run_through_the_protocol():
    rng = np.random.default_rng(0)
    members = tuple(ConnectomeReservoir.from_arrays(rng.normal(size=(15, 15)), rng.uniform(-0.5, 0.5, (15, 3)),
                                                    spectral_radius=0.8, leak=0.5, bias=0.3 * rng.normal(size=15),
                                                    output_nodes=np.arange(3 * k, 12))
                    for k in range(2))
    model = ReservoirEnsemble(members, (0, 1))
    res = closed_loop(model, "lorenz", n_train=300, n_generate=30, washout=20)
    assert np.all(res.w_out[0, :, 12:] == 0) and np.all(res.w_out[1, :, :3] == 0)
    h = res.handoff[:, None, :]
    for t in range(30):
        y = np.einsum("kdn,kn->kd", res.w_out, h[:, 0]) + res.b_out
        np.testing.assert_allclose(y * res.std + res.mean, res.generated[t], rtol=1e-9, atol=1e-9)
        h = np.stack([model.members[k].run(y[k][None, None], x0=h[k])[0] for k in range(2)])
    series = chaotic_series("lorenz", 351)
    z = (series - res.mean) / res.std
    states = model.states(z[:320, None, :])[:, :, 0]
    np.testing.assert_allclose(states[-1], res.handoff, atol=1e-12)


def test_diverging_closed_loop_is_nan_with_a_warning_naming_the_network():
    rng = np.random.default_rng(0)
    w, w_in = rng.normal(size=(20, 20)), rng.uniform(-0.1, 0.1, (20, 3))
    members = tuple(ConnectomeReservoir.from_arrays(w, w_in, spectral_radius=rho, activation="linear")
                    for rho in (0.9, 1.2))
    model = ReservoirEnsemble(members, (0, 1))
    with pytest.warns(RuntimeWarning, match=r"diverged in networks \[1\]"):
        res = closed_loop(model, n_train=500, n_generate=500, washout=50)
    assert res.diverged.tolist() == [False, True]
    assert np.isnan(res.generated[-1, 1]).all() and np.isfinite(res.generated[:, 0]).all()
    scores = closed_loop_scores(model, res)
    assert np.isnan(scores.loc[1, "lyapunov_closed_loop"]) and scores.loc[1, "valid_time"] < 15


def test_diverging_teacher_forcing_is_nan_with_a_warning_naming_the_network():
    rng = np.random.default_rng(0)
    w, w_in = rng.normal(size=(10, 10)), rng.uniform(-0.1, 0.1, (10, 3))
    model = ReservoirEnsemble(tuple(ConnectomeReservoir.from_arrays(w, w_in, spectral_radius=rho, activation="linear")
                                    for rho in (0.9, 3.0)), (0, 1))
    with pytest.warns(RuntimeWarning, match=r"teacher-forced states of networks \[1\] diverged"):
        res = closed_loop(model, n_train=1000, n_generate=50, washout=50)
    assert res.diverged.tolist() == [False, True] and np.isnan(res.train_nrmse[1])
    assert np.isnan(res.generated[:, 1]).all() and np.isfinite(res.generated[:, 0]).all()
    with pytest.warns(RuntimeWarning, match=r"networks \[1\] diverged under the drive"):
        gs = generalized_synchronization(model, n_steps=1000, washout=100)
    assert gs.loc[1, ["r2_mean", "conditional_lyapunov"]].isna().all() and not gs.loc[1, "synchronized"]


class _Blind:
    """A leaky model whose second network exposes no output nodes."""

    def __init__(self, inner):
        self.inner = inner
        self.family, self.n_networks, self.n_nodes = "reservoir", inner.n_networks, inner.n_nodes
        self.n_inputs, self.dt_ms, self.seeds = inner.n_inputs, None, list(inner.seeds)

    def states(self, inputs, *, seed=None, x0=None):
        return self.inner.states(inputs, seed=seed, x0=x0)

    def output_nodes(self):
        return [np.arange(self.n_nodes), np.array([], dtype=int)]

    def leaky_parameters(self):
        return self.inner.leaky_parameters()


def test_bad_input_is_named(hcp_reservoirs):
    with pytest.raises(ValueError, match="network 1 has no output nodes"):
        closed_loop(_Blind(hcp_reservoirs), n_train=100, n_generate=10)
    with pytest.raises(ValueError, match="too short"):
        closed_loop(hcp_reservoirs, np.zeros((100, 3)), n_train=100, n_generate=10)
    with pytest.raises(ValueError, match="needs n_inputs = 1"):
        closed_loop(hcp_reservoirs, "mackey_glass", n_train=100, n_generate=10)
    with pytest.raises(ValueError, match="ridge"):
        closed_loop(hcp_reservoirs, ridge=0.0)
    with warnings.catch_warnings():  # white noise cannot be regenerated; divergence is not the point here
        warnings.simplefilter("ignore", RuntimeWarning)
        res = closed_loop(hcp_reservoirs, np.random.default_rng(0).normal(size=(400, 3)), n_train=200,
                          n_generate=100, washout=50)
    with pytest.raises(ValueError, match="lyapunov_exponent"):
        closed_loop_scores(hcp_reservoirs, res)
    with pytest.raises(ValueError, match="too short"):
        generalized_synchronization(hcp_reservoirs, n_steps=100, washout=90)


# ----------------------------------------------------------------------------- synchronization
def test_generalized_synchronization_contracting_vs_chaotic():
    rng = np.random.default_rng(3)
    w, w_in = rng.normal(size=(40, 40)), rng.uniform(-0.1, 0.1, (40, 3))
    members = tuple(ConnectomeReservoir.from_arrays(w, w_in, spectral_radius=rho, leak=1.0) for rho in (0.5, 4.0))
    model = ReservoirEnsemble(members, (0, 1))
    table = generalized_synchronization(model, n_steps=1500, washout=300)
    assert table["synchronized"].tolist() == [True, False]
    assert table.loc[0, "auxiliary_ratio"] < 1e-12 and table.loc[1, "auxiliary_ratio"] > 1e-2
    assert table.loc[0, "r2_mean"] > 0.99
    assert table.loc[0, "conditional_lyapunov"] < 0 < table.loc[1, "conditional_lyapunov"]
    drive = chaotic_series("lorenz", 1500, seed=0)
    fit = drive[:1125]
    z = (drive - fit.mean(0)) / fit.std(0)
    cle = lyapunov_spectrum(model, z, washout=300, x0=np.zeros(40), seed=7)[:, 0]
    # the same trajectory; only the random initial tangent vector differs
    np.testing.assert_allclose(table["conditional_lyapunov"], cle, atol=0.01)
    pd.testing.assert_frame_equal(table, generalized_synchronization(model, n_steps=1500, washout=300))


def test_linear_network_conditional_exponent_is_log_spectral_radius():
    v = np.random.default_rng(0).normal(size=(4, 4))
    w = v @ np.diag([0.8, 0.5, -0.3, 0.1]) @ np.linalg.inv(v)
    model = ConnectomeReservoir(w, np.ones((4, 3)) * 0.1, activation="linear")
    table = generalized_synchronization(model, n_steps=600, washout=100)
    assert table.loc[0, "conditional_lyapunov"] == pytest.approx(np.log(0.8), abs=1e-6)
    assert bool(table.loc[0, "synchronized"])


def test_comparison_table_and_figure(tmp_path):
    graph = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp")
    table = dynamics_comparison(graph, radii=(0.9,), n_seeds=1, n_train=600, n_generate=300, n_drives=1)
    assert table["variant"].tolist() == ["connectome", "rewired", "shuffled", "spatial", "random"]
    assert {"synchronized", "valid_time", "lyapunov_closed_loop", "r2_mean"} <= set(table.columns)
    summary = summarize_comparison(table)
    assert set(summary["n"]) == {1}
    fig = plot_dynamics_comparison(table, path=tmp_path / "cmp.png")
    assert (tmp_path / "cmp.png").stat().st_size > 1000 and len(fig.axes) == 3
    truth = chaotic_series("lorenz", 300)
    plot_attractors(truth, truth[:, None] + 0.1, path=tmp_path / "att.png")
    with pytest.raises(ValueError, match="lacks columns"):
        summarize_comparison(table.drop(columns="valid_time"))
    recall = pd.DataFrame({"variant": ["a"] * 3 + ["b"] * 3, "scale": 0.9, "lag": [0, 1, 2] * 2,
                           "recall": [0.1, 0.5, 0.2, 0.0, 0.3, 0.1]})
    plot_impulse_recall(recall, path=tmp_path / "recall.png")
    assert (tmp_path / "recall.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="lacks columns"):
        plot_impulse_recall(recall.drop(columns="variant"))


def test_mackey_glass_needs_its_exponent_and_is_regenerated():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(60, 60)) * (rng.random((60, 60)) < 0.1)
    res = ConnectomeReservoir.from_arrays(w, rng.uniform(-0.5, 0.5, (60, 1)), spectral_radius=0.9, leak=0.3,
                                          bias=0.3 * rng.normal(size=60))
    run = closed_loop(res, "mackey_glass", n_train=1500, n_generate=300)
    with pytest.raises(ValueError, match="'mackey_glass'"):
        closed_loop_scores(res, run)
    scores = closed_loop_scores(res, run, lyapunov_exponent=0.006)
    assert scores.loc[0, "psd_distance"] < 0.1 and scores.loc[0, "valid_time"] > 1.0
    # Mackey-Glass (tau 17) is weakly chaotic: a small positive exponent per time unit
    assert 0 < scores.loc[0, "lyapunov_closed_loop"] < 0.05
    assert bool(generalized_synchronization(res, "mackey_glass", n_steps=1000, washout=200).loc[0, "synchronized"])


def test_comparison_bad_input_is_named():
    from conn2rnn.models import BioRNN

    with pytest.raises(ValueError, match="with a connectome"):
        dynamics_comparison(conn2rnn.load_atlas("schaefer100"), n_seeds=1)
    graph = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp")
    with pytest.raises(ValueError, match="trained must hold >= n_seeds = 2 networks of N = 100"):
        dynamics_comparison(graph, n_seeds=2, trained=BioRNN(3, 8, 1, n_networks=2))
    with pytest.raises(ValueError, match="unknown system"):
        dynamics_comparison(graph, n_seeds=1, system="henon")


def test_biornn_ensembles_and_frozen_networks_share_the_interface():
    import torch

    from conn2rnn.models import BioRNN, freeze

    net = BioRNN(3, 30, 1, n_networks=2, dt=20.0, tau=60.0, gain=0.9, dtype=torch.float64,
                 output_mask=(np.arange(30) < 20)[None])
    res = closed_loop(net, "lorenz", n_train=600, n_generate=100, washout=50)
    assert np.all(res.w_out[:, :, 20:] == 0)  # the readout sees only the output nodes
    frozen = freeze(net)
    again = closed_loop(frozen, "lorenz", n_train=600, n_generate=100, washout=50)
    np.testing.assert_allclose(again.generated, res.generated, rtol=1e-8, atol=1e-8)
    gs = generalized_synchronization(net, n_steps=600, washout=100)
    pd.testing.assert_frame_equal(gs, generalized_synchronization(frozen, n_steps=600, washout=100))
