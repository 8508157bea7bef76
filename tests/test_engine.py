"""The batched engine against reservoirpy, against itself (stacks, torch) and closed forms."""

import numpy as np
import pytest

from conn2rnn.models.engine import simulate



def _net(n=20, n_in=2, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.3)
    w *= 0.9 / np.max(np.abs(np.linalg.eigvals(w)))
    return w, rng.uniform(-1, 1, (n, n_in)), rng.uniform(0.1, 1.0, n), 0.1 * rng.normal(size=n)


def test_float64_states_equal_reservoirpy_run_trial_by_trial_with_reset():
    from reservoirpy.nodes import Reservoir

    w, w_in, leak, bias = _net()
    u = np.random.default_rng(1).normal(size=(40, 6, 2))
    states = simulate(w, w_in, u, leak, bias)
    node = Reservoir(W=w.copy(), Win=w_in.copy(), bias=bias.copy(), lr=leak.copy())
    ref = []
    for b in range(u.shape[1]):
        ref.append(node.run(u[:, b]))
        node.reset()
    assert states.shape == (40, 6, 20)
    assert np.abs(states - np.stack(ref, axis=1)).max() < 1e-10


def test_stack_of_networks_equals_separate_runs():
    w, w_in, leak, bias = _net()
    w2, w_in2, _, _ = _net(seed=5)
    u = np.random.default_rng(2).normal(size=(25, 4, 2))
    stack = np.stack([w, 0.5 * w, w2])
    out = simulate(stack, w_in, u, leak, bias)
    assert out.shape == (25, 3, 4, 20)
    for m in range(3):
        assert np.abs(out[:, m] - simulate(stack[m], w_in, u, leak, bias)).max() < 1e-12
    both = simulate(stack[:2], np.stack([w_in, w_in2]), u, leak, np.stack([bias, -bias]))
    assert np.abs(both[:, 1] - simulate(0.5 * w, w_in2, u, leak, -bias)).max() < 1e-12
    assert np.array_equal(simulate(stack, w_in, u, leak, bias, return_all=False), out[-1])


def test_torch_backend_matches_numpy():
    torch = pytest.importorskip("torch")
    w, w_in, leak, bias = _net()
    u = np.random.default_rng(3).normal(size=(15, 3, 2))
    ref = simulate(np.stack([w, w.T]), w_in, u, leak, bias)
    got = simulate(np.stack([w, w.T]), w_in, u, leak, bias, backend="torch")
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
    assert np.abs(got.numpy() - ref).max() < 1e-12
    last = simulate(w, w_in, u, leak, bias, backend="torch", return_all=False)
    assert np.abs(last.numpy() - ref[-1, 0]).max() < 1e-12


def test_float32_is_close_to_float64():
    w, w_in, leak, bias = _net()
    u = np.random.default_rng(4).normal(size=(15, 3, 2))
    out32 = simulate(w, w_in, u, leak, bias, dtype=np.float32)
    assert out32.dtype == np.float32
    assert np.abs(out32 - simulate(w, w_in, u, leak, bias)).max() < 1e-4


def test_leak_and_initial_state_closed_form():
    # no recurrence, no input, linear units: x[t] = (1 - a)^(t+1) x0
    n, a = 5, 0.25
    x0 = np.arange(1.0, n + 1)
    out = simulate(np.zeros((n, n)), np.zeros((n, 1)), np.zeros((10, 2, 1)), a, activation="linear", x0=x0)
    expected = (1 - a) ** np.arange(1, 11)[:, None, None] * x0
    assert np.allclose(out, np.broadcast_to(expected, out.shape), rtol=0, atol=1e-14)


def test_noise_is_seeded_and_has_the_given_sd():
    n = 50
    args = (np.zeros((n, n)), np.zeros((n, 1)), np.zeros((200, 20, 1)), 1.0)
    a = simulate(*args, activation="linear", noise=0.1, seed=7)
    assert np.array_equal(a, simulate(*args, activation="linear", noise=0.1, seed=7))
    assert not np.array_equal(a, simulate(*args, activation="linear", noise=0.1, seed=8))
    assert a.std() == pytest.approx(0.1, rel=0.02)
    torch_a = simulate(*args, activation="linear", noise=0.1, seed=7, backend="torch")
    assert np.array_equal(torch_a.numpy(), simulate(*args, activation="linear", noise=0.1, seed=7,
                                                     backend="torch").numpy())


def test_caller_arrays_are_not_modified():
    w, w_in, leak, bias = _net()
    u = np.random.default_rng(5).normal(size=(10, 2, 2))
    copies = [a.copy() for a in (w, w_in, leak, bias, u)]
    simulate(w, w_in, u, leak, bias, noise=0.1, seed=0)
    simulate(w, w_in, u, leak, bias, backend="torch")
    for before, after in zip(copies, (w, w_in, leak, bias, u)):
        assert np.array_equal(before, after)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"inputs": np.full((5, 2, 2), np.nan)}, "NaN"),
        ({"inputs": np.zeros((5, 2, 3))}, "channels"),
        ({"inputs": np.zeros((5, 2))}, r"\(T, B, I\)"),
        ({"leak": 1.5}, r"leak must lie in \(0, 1\]"),
        ({"leak": np.ones(7)}, "leak must be"),
        ({"backend": "jax"}, "unknown backend"),
        ({"activation": "relu"}, "unknown activation"),
        ({"w": np.zeros((3, 20, 20)), "w_in": np.zeros((2, 20, 2))}, "different numbers of networks"),
        ({"w": np.zeros((20, 19))}, "w must be"),
        ({"noise": -1.0}, "noise"),
        ({"x0": np.zeros(3)}, "x0 must broadcast"),
    ],
)
def test_bad_input_raises_naming_the_problem(kwargs, match):
    w, w_in, leak, bias = _net()
    args = {"w": w, "w_in": w_in, "inputs": np.zeros((5, 2, 2)), "leak": leak, "bias": bias}
    args.update({k: v for k, v in kwargs.items() if k in args})
    extra = {k: v for k, v in kwargs.items() if k not in args}
    with pytest.raises(ValueError, match=match):
        simulate(args["w"], args["w_in"], args["inputs"], args["leak"], args["bias"], **extra)
