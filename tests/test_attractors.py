"""Fixed points, slow points and basins against closed forms, for every leaky model family."""

import numpy as np
import pytest
import torch
from _doubles import NotLeakyModel
from scipy import optimize

from conn2rnn.analysis.attractors import basin_analysis, fixed_points
from conn2rnn.models import BioRNN, ConnectomeReservoir, ReservoirEnsemble, freeze
from conn2rnn.plotting.dynamics import plot_state_space


def test_fixed_point_of_a_linear_network():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 6))
    a *= 0.9 / np.abs(np.linalg.eigvals(a)).max()
    b = rng.normal(size=6)
    res = ConnectomeReservoir(a, np.ones((6, 1)), bias=b, activation="linear", leak=0.5)
    fp = fixed_points(res, n_starts=16, seed=0)
    row = fp.table.iloc[0]
    assert len(fp.table) == 1 and row["n_hits"] == 16 and row["kind"] == "fixed"
    np.testing.assert_allclose(fp.points[0][0], np.linalg.solve(np.eye(6) - a, b), atol=1e-8)
    expect = 0.5 + 0.5 * np.linalg.eigvals(a)  # the leak mixes in the identity
    np.testing.assert_allclose(np.sort(np.abs(fp.eigenvalues[0][0])), np.sort(np.abs(expect)), atol=1e-10)
    assert row["stability"] == "stable"
    # a constant input moves the point to (I - W)^-1 (W_in x + b)
    moved = fixed_points(res, inputs=[2.0], n_starts=4)
    np.testing.assert_allclose(moved.points[0][0], np.linalg.solve(np.eye(6) - a, b + 2.0), atol=1e-8)


def test_saddle():
    res = ConnectomeReservoir(np.diag([0.5, 2.0]), np.ones((2, 1)), bias=1.0, activation="linear")
    fp = fixed_points(res, n_starts=4)
    np.testing.assert_allclose(fp.points[0][0], [2.0, -1.0], atol=1e-8)
    assert fp.table["stability"].tolist() == ["saddle"] and fp.table["n_unstable"].tolist() == [1]


def test_bistable_tanh_unit():
    gain, leak = 2.0, 0.5
    h_star = optimize.brentq(lambda x: np.tanh(gain * x) - x, 0.1, 2.0)
    res = ConnectomeReservoir(np.array([[gain]]), np.ones((1, 1)), leak=leak)
    fp = fixed_points(res, n_starts=64, seed=1)
    order = np.argsort(fp.points[0][:, 0])
    np.testing.assert_allclose(fp.points[0][order, 0], [-h_star, 0.0, h_star], atol=1e-6)
    stab = fp.table["stability"].to_numpy()[order]
    assert stab.tolist() == ["stable", "unstable", "stable"]
    eig = np.abs(np.concatenate(fp.eigenvalues[0]))[order]
    slope = gain * (1 - h_star ** 2)
    np.testing.assert_allclose(eig, [1 - leak + leak * slope, 1 - leak + leak * gain, 1 - leak + leak * slope])
    assert fp.table["n_hits"].sum() == 64
    again = fixed_points(res, n_starts=64, seed=1)
    np.testing.assert_array_equal(fp.points[0], again.points[0])
    # given starts find only the points they lead to
    near = fixed_points(res, init=np.array([[0.5], [1.5]]))
    np.testing.assert_allclose(near.points[0][:, 0], [h_star], atol=1e-6)


def test_slow_point_at_the_ghost_of_a_saddle_node():
    # tanh(2 h + b) = h loses its upper pair of fixed points at b = atanh(sqrt(.5)) - 2 sqrt(.5) = -0.533
    bias = -0.56
    res = ConnectomeReservoir(np.array([[2.0]]), np.ones((1, 1)), bias=bias)
    fp = fixed_points(res, n_starts=64, seed=0, slow_tol=1e-3)
    kinds = dict(zip(fp.table["kind"], fp.points[0][:, 0]))
    assert set(kinds) == {"fixed", "slow"} and kinds["fixed"] < 0
    q = lambda h: 0.5 * (np.tanh(2 * h + bias) - h) ** 2
    ghost = optimize.minimize_scalar(q, bounds=(0.3, 1.2), method="bounded", options={"xatol": 1e-10})
    assert kinds["slow"] == pytest.approx(ghost.x, abs=1e-5)
    assert fp.table.loc[fp.table["kind"] == "slow", "q"].item() == pytest.approx(ghost.fun, rel=1e-4)


def test_every_family_one_interface():
    model = BioRNN(2, 8, 1, n_networks=2, dt=20.0, tau=100.0, gain=0.8, dtype=torch.float64)
    fp = fixed_points(model, inputs=[0.5, -0.5], n_starts=32)
    assert set(fp.table["network"]) == {0, 1}
    for k in range(2):
        x = np.tile([0.5, -0.5], (1, len(fp.points[k]), 1))
        after = model.states(x, x0=np.broadcast_to(fp.points[k], (2,) + fp.points[k].shape).copy())[0, k]
        np.testing.assert_allclose(after, fp.points[k], atol=1e-6)  # F(h*) = h* through the model itself
    frozen = fixed_points(freeze(model), inputs=[0.5, -0.5], n_starts=32)
    for k in range(2):
        np.testing.assert_allclose(np.sort(frozen.points[k], axis=0), np.sort(fp.points[k], axis=0), atol=1e-6)


def _linear_pair():
    members = tuple(ConnectomeReservoir(g * np.eye(3), np.ones((3, 1)), activation="linear") for g in (0.5, 1.5))
    return ReservoirEnsemble(members, (0, 1))


def test_basin_return_ratio_closed_form():
    model = _linear_pair()
    u = np.random.default_rng(0).normal(size=(40, 2, 1))
    table = basin_analysis(model, u, times=[3, 10], scales=(0.1, 1.0), horizon=6, n_directions=4)
    assert len(table) == 2 * 2 * 2
    np.testing.assert_allclose(table.loc[table["network"] == 0, "ratio"], 0.5 ** 6)
    np.testing.assert_allclose(table.loc[table["network"] == 1, "ratio"], 1.5 ** 6)
    assert table.loc[table["network"] == 0, "returned"].eq(1.0).all()
    assert table.loc[table["network"] == 1, "returned"].eq(0.0).all()


def test_state_space_figure(tmp_path):
    res = ConnectomeReservoir(np.array([[2.0, 0.3], [-0.3, 1.5]]), np.ones((2, 1)), leak=0.5)
    fp = fixed_points(res, n_starts=32)
    states = res.run(np.random.default_rng(0).normal(size=(30, 3, 1)))
    fig = plot_state_space(states, fixed_points=fp, path=tmp_path / "ss.png")
    assert (tmp_path / "ss.png").stat().st_size > 1000 and fig.axes
    plot_state_space(np.random.default_rng(0).normal(size=(30, 2, 5)), dims=3, path=tmp_path / "ss3.png")
    with pytest.raises(ValueError, match="dims must be 2 or 3"):
        plot_state_space(states, dims=4)


def test_bad_input_is_named():
    model = _linear_pair()
    with pytest.raises(TypeError, match="leaky rate model"):
        fixed_points(NotLeakyModel())
    with pytest.raises(TypeError, match="must be a model"):
        fixed_points(np.eye(3))
    with pytest.raises(ValueError, match=r"inputs must be a finite constant input \(I,\)"):
        fixed_points(model, inputs=[1.0, 2.0])
    with pytest.raises(ValueError, match="init must be"):
        fixed_points(model, init=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="slow_tol"):
        fixed_points(model, tol=1e-3, slow_tol=1e-6)
    with pytest.raises(ValueError, match="horizon"):
        basin_analysis(model, np.zeros((10, 1, 1)), horizon=10)
    with pytest.raises(ValueError, match="times must lie"):
        basin_analysis(model, np.zeros((10, 1, 1)), times=[8], horizon=4)
    with pytest.raises(ValueError, match="inputs must be"):
        basin_analysis(model, np.zeros((10, 1, 2)))


def test_two_bistable_units_have_nine_fixed_points():
    res = ConnectomeReservoir(2.0 * np.eye(2), np.ones((2, 1)))
    fp = fixed_points(res, n_starts=200, seed=0)
    assert sorted(fp.table["stability"]) == ["saddle"] * 4 + ["stable"] * 4 + ["unstable"]
    assert fp.table["n_hits"].sum() == 200
