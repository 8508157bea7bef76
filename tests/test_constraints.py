"""Tests for conn2rnn.constraints: masks, distance kernels and spatial costs."""

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch

from conn2rnn.constraints import (
    communicability_cost,
    distance_kernel,
    distance_l1_cost,
    distance_l2_cost,
    input_mask,
    kernel_correlation_cost,
    output_mask,
)

# w[target, source]
W3 = np.array([[0.0, 1.0, -2.0], [3.0, 0.0, 0.5], [-1.0, 4.0, 0.0]])
D3 = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])


def _rand_w(n, seed, k=None):
    """Weights with |w| in [0.2, 1] and random signs (away from the kink of |.|)."""
    rng = np.random.default_rng(seed)
    shape = (n, n) if k is None else (k, n, n)
    mag = rng.uniform(0.2, 1.0, shape)
    return torch.tensor(mag * rng.choice([-1.0, 1.0], shape), dtype=torch.float64)


def _rand_d(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, (n, 3))
    return np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))


def _np_communicability(w):
    """Independent numpy/scipy reference: total strength (in + out) / 2."""
    a = np.abs(w)
    s = 0.5 * (a.sum(0) + a.sum(1))
    m = np.diag(s ** -0.5) @ a @ np.diag(s ** -0.5)
    c = scipy.linalg.expm(m)
    np.fill_diagonal(c, 0.0)
    return c


# ----------------------------------------------------------------------------- masks
def test_input_mask_rows_are_input_nodes():
    m = input_mask(5, np.array([3, 1]), 2)
    expected = np.zeros((5, 2), dtype=bool)
    expected[[1, 3], :] = True
    assert m.dtype == bool and m.shape == (5, 2)
    np.testing.assert_array_equal(m, expected)


def test_output_mask_columns_are_output_nodes():
    m = output_mask(4, [0, 2], 3)
    expected = np.zeros((3, 4), dtype=bool)
    expected[:, [0, 2]] = True
    np.testing.assert_array_equal(m, expected)


def test_mask_does_not_mutate_input():
    nodes = np.array([2, 0])
    input_mask(3, nodes, 1)
    np.testing.assert_array_equal(nodes, [2, 0])


@pytest.mark.parametrize(
    "nodes, match",
    [
        ([], "input_nodes is empty"),
        ([0, 5], r"input_nodes has indices out of range \[0, 5\): \[5\]"),
        ([-1, 2], r"input_nodes has indices out of range.*\[-1\]"),
        ([1, 1, 2], r"input_nodes has duplicate indices: \[1\]"),
        ([[0, 1]], "input_nodes must be a 1-D array"),
    ],
)
def test_input_mask_errors(nodes, match):
    with pytest.raises(ValueError, match=match):
        input_mask(5, np.array(nodes, dtype=int), 2)


def test_mask_type_errors():
    with pytest.raises(TypeError, match="output_nodes must be integer node indices; got a boolean"):
        output_mask(3, np.array([True, False, True]), 1)
    with pytest.raises(TypeError, match="output_nodes must hold integer node indices; got dtype float64"):
        output_mask(3, np.array([0.0, 1.0]), 1)
    with pytest.raises(ValueError, match="n_outputs must be a positive int; got 0"):
        output_mask(3, [0], 0)
    with pytest.raises(TypeError, match="n_nodes must be a positive int"):
        input_mask(3.0, [0], 1)


# ----------------------------------------------------------------------------- kernel
def test_distance_kernel_copies_and_normalises():
    d = D3.copy()
    d.setflags(write=False)
    k = distance_kernel(d)
    assert k is not d and k.flags.writeable
    np.testing.assert_array_equal(k, D3)
    # off-diagonal mean = (1 + 2 + 3) * 2 / 6 = 2; max = 3 (diagonal ignored)
    np.testing.assert_allclose(distance_kernel(d, "mean"), D3 / 2.0)
    np.testing.assert_allclose(distance_kernel(d, "max"), D3 / 3.0)
    np.testing.assert_array_equal(d, D3)


def test_distance_kernel_offdiagonal_only():
    d = D3.copy()
    np.fill_diagonal(d, 100.0)  # a large diagonal must not enter the scale
    k = distance_kernel(d, "max")
    assert k[0, 1] == pytest.approx(1.0 / 3.0)


@pytest.mark.parametrize(
    "d, normalize, match",
    [
        (np.ones((2, 3)), "none", r"square \(N, N\).*\(2, 3\)"),
        (np.array([[0.0, np.nan], [1.0, 0.0]]), "none", "finite"),
        (np.array([[0.0, -1.0], [1.0, 0.0]]), "none", "non-negative; its minimum is -1"),
        (np.zeros((3, 3)), "mean", "zero off the diagonal.*normalize='none'"),
        (np.zeros((3, 3)), "max", "zero off the diagonal"),
        (np.zeros((1, 1)), "mean", "at least 2 nodes"),
        (D3, "median", r"normalize must be one of \['none', 'mean', 'max'\]"),
    ],
)
def test_distance_kernel_errors(d, normalize, match):
    with pytest.raises(ValueError, match=match):
        distance_kernel(d, normalize)


# ----------------------------------------------------------------------------- costs
def test_distance_costs_hand_values():
    w = torch.tensor(W3)
    # |W| * D off-diagonal: 1*1 + 2*2 + 3*1 + 0.5*3 + 1*2 + 4*3
    assert distance_l1_cost(w, D3).item() == pytest.approx(23.5)
    # W^2 * D: 1*1 + 4*2 + 9*1 + 0.25*3 + 1*2 + 16*3
    assert distance_l2_cost(w, D3).item() == pytest.approx(68.75)
    assert distance_l1_cost(w, D3).shape == ()


def test_communicability_two_node_closed_form():
    # |W| = [[0, a], [b, 0]]; total strength (a + b) / 2 on both nodes, so the
    # normalised matrix is [[0, p], [q, 0]] with p = 2a/(a+b), q = 2b/(a+b) and
    # expm gives off-diagonals p*sinh(r)/r, q*sinh(r)/r with r = sqrt(p q).
    d = np.array([[0.0, 3.0], [3.0, 0.0]])
    w = torch.tensor([[0.0, 0.5], [-0.5, 0.0]], dtype=torch.float64)
    assert communicability_cost(w, d).item() == pytest.approx(2 * 0.5 * 3 * np.sinh(1.0))
    w = torch.tensor([[0.0, 1.0], [3.0, 0.0]], dtype=torch.float64)
    r = np.sqrt(0.75)
    expected = 3.0 * np.sinh(r) / r * (1.0 * 0.5 + 3.0 * 1.5)
    assert communicability_cost(w, d).item() == pytest.approx(expected, rel=1e-12)


def test_communicability_out_strength_two_node_closed_form():
    # |W| = [[0, b], [a, 0]] (w[target, source]): unit 0 sends a, unit 1 sends b.
    # Out-strengths a and b; S^-1/2 |W| S^-1/2 = [[0, sqrt(b/a)], [sqrt(a/b), 0]] squares
    # to the identity, so expm = cosh(1) I + sinh(1) M and the cost is
    # d sinh(1) (b sqrt(b/a) + a sqrt(a/b)).
    a, b, dist = 3.0, 1.0, 2.0
    d = np.array([[0.0, dist], [dist, 0.0]])
    w = torch.tensor([[0.0, -b], [a, 0.0]], dtype=torch.float64)
    expected = dist * np.sinh(1.0) * (b * np.sqrt(b / a) + a * np.sqrt(a / b))
    for detach in (False, True):
        got = communicability_cost(w, d, detach=detach, node_strength="out")
        assert got.item() == pytest.approx(expected, rel=1e-12)
    # not orientation-free: the transpose swaps a and b in the square roots only
    assert communicability_cost(w, d, node_strength="out").item() != pytest.approx(
        communicability_cost(w, d).item())


def test_communicability_out_strength_matches_keras_transcription():
    """Term for term the authors' SE1_sWc on the Keras kernel U[source, target] = W.T."""
    w = _rand_w(5, 7, k=3)
    d = _rand_d(5, 8)
    got = communicability_cost(w, d, node_strength="out")
    for k in range(3):
        u = np.abs(w[k].numpy().T)
        s = np.diag(u.sum(axis=1) ** -0.5)  # tf.math.reduce_sum(abs_weight_matrix, axis=1) ** -0.5
        comms = scipy.linalg.expm(s @ u @ s)
        np.fill_diagonal(comms, 0.0)
        assert got[k].item() == pytest.approx(np.sum(u * comms * d), rel=1e-12)
    with pytest.raises(ValueError, match=r"node_strength must be one of \['total', 'out'\]; got 'in'"):
        communicability_cost(w, d, node_strength="in")


def test_communicability_matches_scipy_expm():
    w = _rand_w(4, 0)
    d = _rand_d(4, 1)
    expected = (np.abs(w.numpy()) * d * _np_communicability(w.numpy())).sum()
    for detach in (False, True):
        got = communicability_cost(w, d, detach=detach)
        assert got.item() == pytest.approx(expected, rel=1e-12)


def test_communicability_orientation_free_and_isolated_node():
    w = _rand_w(4, 2)
    d = _rand_d(4, 3)
    assert communicability_cost(w.T, d).item() == pytest.approx(communicability_cost(w, d).item(), rel=1e-12)
    # An isolated node (zero row and column) contributes nothing and stays finite.
    w5 = torch.zeros(5, 5, dtype=torch.float64)
    w5[:4, :4] = w
    d5 = _rand_d(5, 4)
    d5[:4, :4] = d
    got = communicability_cost(w5, d5)
    assert torch.isfinite(got)
    assert got.item() == pytest.approx(communicability_cost(w, d).item(), rel=1e-12)


def test_kernel_correlation_matches_scipy():
    w = _rand_w(4, 5)
    sim = -_rand_d(4, 6)
    off = ~np.eye(4, dtype=bool)
    r = scipy.stats.pearsonr(np.abs(w.numpy())[off], sim[off])[0]
    assert kernel_correlation_cost(w, sim).item() == pytest.approx(1.0 - r, rel=1e-12)
    # |W| an increasing affine map of the similarity -> cost 0; decreasing -> 2
    s = _rand_d(4, 7)
    assert kernel_correlation_cost(torch.tensor(2 * s + 1), s).item() == pytest.approx(0.0, abs=1e-12)
    assert kernel_correlation_cost(torch.tensor(2 * s + 1), -s).item() == pytest.approx(2.0, abs=1e-12)
    # constant |W| off the diagonal: correlation undefined, taken as 0
    assert kernel_correlation_cost(torch.ones(4, 4, dtype=torch.float64), s).item() == pytest.approx(1.0)


COSTS = {
    "l1": distance_l1_cost,
    "l2": distance_l2_cost,
    "comm": communicability_cost,
    "comm_detach": lambda w, d: communicability_cost(w, d, detach=True),
    "kernel": kernel_correlation_cost,
}


@pytest.mark.parametrize("name", list(COSTS))
def test_ensemble_equals_stacked(name):
    fn = COSTS[name]
    w = _rand_w(4, 8, k=3)
    d = _rand_d(4, 9)
    got = fn(w, d)
    assert got.shape == (3,)
    expected = torch.stack([fn(w[k], d) for k in range(3)])
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    # one distance per network
    dk = np.stack([_rand_d(4, s) for s in (10, 11, 12)])
    expected = torch.stack([fn(w[k], dk[k]) for k in range(3)])
    torch.testing.assert_close(fn(w, dk), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["l1", "l2", "comm", "kernel"])
def test_gradcheck(name):
    fn = COSTS[name]
    d = torch.tensor(_rand_d(4, 13))
    w = _rand_w(4, 14).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: fn(x, d), (w,))
    wk = _rand_w(3, 15, k=2).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: fn(x, d[:3, :3]), (wk,))


def test_communicability_detach_gradient_is_sign_d_c():
    # With detach=True the gradient is that of sum |X| * D * C(W) with C frozen at W:
    # closed form sign(W) * D * C, and central differences of the frozen function.
    w = _rand_w(4, 16)
    d = _rand_d(4, 17)
    c = _np_communicability(w.numpy())
    x = w.clone().requires_grad_(True)
    communicability_cost(x, d, detach=True).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.sign(w.numpy()) * d * c, rtol=1e-12)
    h = 1e-6
    numeric = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            e = np.zeros((4, 4))
            e[i, j] = h
            plus = (np.abs(w.numpy() + e) * d * c).sum()
            minus = (np.abs(w.numpy() - e) * d * c).sum()
            numeric[i, j] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)
    # the full gradient differs: it also flows through expm
    y = w.clone().requires_grad_(True)
    communicability_cost(y, d).backward()
    assert not np.allclose(y.grad.numpy(), x.grad.numpy())


def test_cost_input_conversion():
    w = torch.tensor(W3, dtype=torch.float32)
    d = D3.copy()
    d.setflags(write=False)
    out = distance_l1_cost(w, d)
    assert out.dtype == torch.float32
    assert out.item() == pytest.approx(23.5)
    out = distance_l1_cost(torch.tensor(W3), torch.tensor(D3, dtype=torch.float32))
    assert out.dtype == torch.float64


def test_cost_errors():
    w = torch.tensor(W3)
    with pytest.raises(ValueError, match=r"d must have shape \(3, 3\) to match w; got \(2, 2\)"):
        distance_l1_cost(w, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"similarity must have shape \(3, 3\) or \(2, 3, 3\)"):
        kernel_correlation_cost(torch.stack([w, w]), np.ones((4, 3, 3)))
    with pytest.raises(TypeError, match="w must be a torch.Tensor"):
        distance_l2_cost(W3, D3)
    with pytest.raises(TypeError, match="floating-point"):
        communicability_cost(torch.ones(3, 3, dtype=torch.int64), D3)
    with pytest.raises(ValueError, match=r"w must have shape \(N, N\) or \(K, N, N\); got \(3, 2\)"):
        distance_l1_cost(torch.ones(3, 2), D3)
    with pytest.raises(ValueError, match="similarity is constant off the diagonal"):
        kernel_correlation_cost(w, np.ones((3, 3)))
    with pytest.raises(TypeError, match="detach must be a bool"):
        communicability_cost(w, D3, detach="yes")
