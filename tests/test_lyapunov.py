"""Lyapunov spectra: linear maps (log |eigenvalues|), Lorenz-63, an independent two-trajectory estimate."""

import numpy as np
import pytest
from _doubles import NotLeakyModel

from conn2rnn.analysis.chaotic import lorenz_jacobian, lorenz_rhs
from conn2rnn.analysis.lyapunov import lyapunov_spectrum, lyapunov_spectrum_flow
from conn2rnn.models import BioRNN, ConnectomeReservoir, ReservoirEnsemble


def _diagonalizable(eigenvalues, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(len(eigenvalues), len(eigenvalues)))
    return v @ np.diag(eigenvalues) @ np.linalg.inv(v)


def test_linear_map_exponents_are_log_abs_eigenvalues():
    ev = np.array([0.95, -0.8, 0.6, 0.45, -0.3, 0.2])
    w = _diagonalizable(ev)
    res = ConnectomeReservoir(w, np.ones((6, 1)), activation="linear")
    lam = lyapunov_spectrum(res, n_exponents=6, n_steps=400, washout=50)
    np.testing.assert_allclose(lam[0], np.sort(np.log(np.abs(ev)))[::-1], atol=1e-6)


def test_leak_enters_the_jacobian():
    ev = np.array([0.9, -0.5, 0.3])
    w = _diagonalizable(ev, seed=1)
    res = ConnectomeReservoir(w, np.ones((3, 1)), activation="linear", leak=0.4)
    lam = lyapunov_spectrum(res, n_exponents=3, n_steps=600, washout=100)
    np.testing.assert_allclose(lam[0], np.sort(np.log(np.abs(0.6 + 0.4 * ev)))[::-1], atol=1e-6)


def _chaotic_pair():
    rng = np.random.default_rng(2)
    members = tuple(ConnectomeReservoir.from_arrays(rng.normal(size=(30, 30)), rng.uniform(-1, 1, (30, 1)),
                                                    spectral_radius=rho, leak=1.0)
                    for rho in (0.7, 4.0))
    return ReservoirEnsemble(members, (0, 1))


def _two_trajectory_exponent(model, n_steps, washout, eps=1e-8, seed=0):
    """Benettin's original estimate: follow a nearby trajectory and renormalise every step."""
    rng = np.random.default_rng(seed)
    k, n = model.n_networks, model.n_nodes
    h = 0.5 * rng.standard_normal((k, 1, n))
    zero = np.zeros((1, 1, model.n_inputs))
    for _ in range(washout):
        h = model.states(zero, x0=h)[0]
    d = rng.standard_normal((k, 1, n))
    g = h + eps * d / np.linalg.norm(d, axis=-1, keepdims=True)
    total = np.zeros(k)
    for _ in range(n_steps):
        h, g = model.states(zero, x0=h)[0], model.states(zero, x0=g)[0]
        dist = np.linalg.norm(g - h, axis=-1)[:, 0]
        total += np.log(dist / eps)
        g = h + eps * (g - h) / dist[:, None, None]
    return total / n_steps


def test_largest_exponent_matches_two_trajectory_estimate():
    model = _chaotic_pair()
    lam = lyapunov_spectrum(model, n_steps=1500, washout=300, seed=0)[:, 0]
    ref = _two_trajectory_exponent(model, 1500, 300)
    assert lam[0] < 0 < lam[1]  # contracting and chaotic
    np.testing.assert_allclose(lam, ref, atol=0.03)


def test_batched_equals_one_at_a_time_and_is_deterministic():
    model = _chaotic_pair()
    both = lyapunov_spectrum(model, n_exponents=3, n_steps=300, washout=50, seed=4)
    again = lyapunov_spectrum(model, n_exponents=3, n_steps=300, washout=50, seed=4)
    np.testing.assert_array_equal(both, again)
    x0 = 0.5 * np.random.default_rng(4).standard_normal((2, 30))
    for k, member in enumerate(model.members):
        alone = lyapunov_spectrum(member, n_exponents=3, n_steps=300, washout=50, x0=x0[k], seed=4)
        # the same trajectory; only the random initial tangent vectors differ
        np.testing.assert_allclose(alone[0, 0], both[k, 0], atol=1e-3)
        np.testing.assert_allclose(alone[0], both[k], atol=0.02)


def test_driven_exponent_of_a_linear_network_does_not_depend_on_the_drive():
    w = _diagonalizable(np.array([0.7, 0.5, -0.2]), seed=3)
    res = ConnectomeReservoir(w, np.ones((3, 2)), activation="linear")
    drive = np.random.default_rng(0).normal(size=(300, 2))
    np.testing.assert_allclose(lyapunov_spectrum(res, drive, washout=20)[0, 0], np.log(0.7), atol=1e-6)


def test_biornn_relu_through_the_protocol():
    model = BioRNN(2, 12, 1, n_networks=3, activation="relu", dt=20.0, tau=100.0, gain=1.5)
    lam = lyapunov_spectrum(model, n_exponents=2, n_steps=200, washout=50)
    assert lam.shape == (3, 2)
    assert np.all(lam[:, 0] >= lam[:, 1])
    # an upper bound from the Jacobian: |J| <= (1 - a) + a |W|
    p = model.leaky_parameters()
    bound = np.log((1 - p.leak[:, 0]) + p.leak[:, 0] * np.linalg.norm(p.w, ord=2, axis=(1, 2)))
    assert np.all(lam[:, 0] <= bound + 1e-9)


def test_lorenz_spectrum():
    lam = lyapunov_spectrum_flow(lorenz_rhs, [1.0, 1.0, 20.0], dt=0.01, n_steps=15000,
                                 jacobian=lorenz_jacobian, transient=500)
    assert lam[0] == pytest.approx(0.906, abs=0.05)
    assert lam[1] == pytest.approx(0.0, abs=0.03)
    # the sum is the mean divergence of the flow: -(sigma + 1 + beta)
    assert lam.sum() == pytest.approx(-(10 + 1 + 8 / 3), abs=0.01)


def test_linear_flow_with_finite_difference_jacobian():
    a = np.array([[-0.5, 1.0, 0.3], [0.0, -1.0, 0.5], [0.0, 0.0, -2.0]])  # eigenvalues -0.5, -1, -2
    lam = lyapunov_spectrum_flow(lambda x: x @ a.T, np.ones((2, 3)), dt=0.02, n_steps=1500, transient=500)
    np.testing.assert_allclose(lam, np.tile([-0.5, -1.0, -2.0], (2, 1)), atol=0.01)


def test_bad_input_is_named():
    res = ConnectomeReservoir(np.eye(3) * 0.5, np.ones((3, 1)))
    with pytest.raises(TypeError, match="leaky rate model"):
        lyapunov_spectrum(NotLeakyModel())
    with pytest.raises(ValueError, match="n_exponents must be at most N = 3"):
        lyapunov_spectrum(res, n_exponents=4)
    with pytest.raises(ValueError, match="washout"):
        lyapunov_spectrum(res, n_steps=100, washout=95)
    with pytest.raises(ValueError, match=r"inputs must be \(T, I\)"):
        lyapunov_spectrum(res, np.zeros((50, 2)))
    with pytest.raises(ValueError, match="rhs must map"):
        lyapunov_spectrum_flow(lambda x: x[:, :2], [1.0, 2.0, 3.0], dt=0.01, n_steps=10)
    with pytest.raises(ValueError, match="dt must be"):
        lyapunov_spectrum_flow(lorenz_rhs, [1.0, 2.0, 3.0], dt=0, n_steps=10)
