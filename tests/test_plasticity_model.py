"""Learnable time constants and neuromodulatory gain of BioRNN: the hand-written
backward against torch.autograd.gradcheck, bounds, zero gain, gain signals,
folding into leaky parameters, saving and loading, and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn.graph import BrainGraph
from conn2rnn.models._parametrize import scale_map
from conn2rnn.models._recurrence import ACTIVATIONS, activation_fn, leaky_recurrence
from conn2rnn.models.biornn import BioRNN
from conn2rnn.models.io import load_biornn, save_biornn
from conn2rnn.tasks import get_task

F64 = torch.float64


class _Fresh(torch.autograd.Function):
    """Runs the recurrence afresh for every backward pass, so gradcheck (which calls
    backward more than once) checks the hand-written backward itself."""

    @staticmethod
    def forward(ctx, act, n_t, *args):
        ctx.act, ctx.n_t = act, n_t
        ctx.save_for_backward(*args)
        with torch.no_grad():
            s, o = leaky_recurrence(*args[:7], args[7], act, n_steps=n_t, gain=args[8])
        return s.clone(), o.clone()

    @staticmethod
    def backward(ctx, gs, go):
        args = [a.detach().requires_grad_() for a in ctx.saved_tensors]
        with torch.enable_grad():
            s, o = leaky_recurrence(*args[:7], args[7], ctx.act, n_steps=ctx.n_t, gain=args[8])
            grads = torch.autograd.grad((s, o), args, (gs, go))
        return (None, None, *grads)


@pytest.mark.parametrize("act", ["tanh", "relu", "softplus"])
@pytest.mark.parametrize("gain_shape", ["node", "step", "trial"])
def test_gain_and_leak_gradients_pass_gradcheck(act, gain_shape):
    k, t, b, n, i, o = 2, 4, 3, 3, 2, 2
    gen = torch.Generator().manual_seed(0)

    def rnd(*shape, scale=1.0):
        return (scale * torch.randn(*shape, generator=gen, dtype=F64)).requires_grad_()

    shape = {"node": (k, 1, 1, n), "step": (k, t, 1, n), "trial": (k, t, b, n)}[gain_shape]
    args = (rnd(k, t * b, i), rnd(k, n, i), rnd(k, n), rnd(k, n, n, scale=0.5), rnd(k, b, n), rnd(k, o, n),
            rnd(k, o), (0.2 + 0.6 * torch.rand(k, 1, n, generator=gen, dtype=F64)).requires_grad_(),
            (0.5 + torch.rand(*shape, generator=gen, dtype=F64)).requires_grad_())
    assert torch.autograd.gradcheck(lambda *z: _Fresh.apply(act, t, *z), args)


def test_gain_matches_plain_autograd_equations():
    gen = torch.Generator().manual_seed(1)
    k, t, b, n, i = 2, 5, 3, 4, 2
    x = torch.randn(t * b, i, generator=gen, dtype=F64)
    w_in, bias, w = (torch.randn(*s, generator=gen, dtype=F64) for s in ((k, n, i), (k, n), (k, n, n)))
    w_out, b_out = torch.randn(k, 1, n, generator=gen, dtype=F64), torch.zeros(k, 1, dtype=F64)
    g = torch.rand(k, t, 1, n, generator=gen, dtype=F64) * 2
    states, _ = leaky_recurrence(x, w_in, bias, w, torch.zeros(k, b, n, dtype=F64), w_out, b_out, 0.3, "tanh",
                                 n_steps=t, gain=g)
    h = torch.zeros(k, b, n, dtype=F64)
    xs = x.view(t, b, i)
    for step in range(t):
        u = torch.einsum("kni,bi->kbn", w_in, xs[step]) + bias[:, None] + torch.einsum("knm,kbm->kbn", w, h)
        h = h + 0.3 * (torch.tanh(g[:, step] * u) - h)
        torch.testing.assert_close(states[:, step], h, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("act", ["tanh", "relu", "retanh"])
def test_zero_gain_node_outputs_zero(act):
    gains = np.array([0.0, 1.0, 2.0, 0.0, 1.5])
    model = BioRNN(3, 5, 2, n_networks=2, activation=act, node_gain=gains, seeds=[0, 1])
    x = torch.randn(20, 4, 3, generator=torch.Generator().manual_seed(0))
    model.b_rec.data.fill_(0.7)  # even a bias cannot drive a zero-gain node
    _, states = model(x)
    assert torch.count_nonzero(states[..., [0, 3]]) == 0
    assert torch.count_nonzero(states[..., [1, 2, 4]]) > 0


def test_unit_gain_equals_no_gain_and_gain_folds_into_leaky_parameters():
    x = torch.randn(12, 4, 3, generator=torch.Generator().manual_seed(0))
    plain = BioRNN(3, 6, 2, n_networks=2, tau=np.linspace(20, 200, 6))
    unit = BioRNN(3, 6, 2, n_networks=2, tau=np.linspace(20, 200, 6), node_gain=1.0)
    assert torch.equal(plain(x)[1], unit(x)[1])
    g = np.linspace(0.2, 1.8, 6)
    gained = BioRNN(3, 6, 2, n_networks=2, tau=np.linspace(20, 200, 6), node_gain=g, dtype=F64)
    p = gained.leaky_parameters()
    h = np.zeros((2, 4, 6))
    xs = x.double().numpy()
    for step in range(12):
        drive = np.einsum("kni,bi->kbn", p.w_in, xs[step]) + p.bias[:, None] + np.einsum("knm,kbm->kbn", p.w, h)
        h = h + p.leak[:, None] * (np.tanh(drive) - h)
    np.testing.assert_allclose(gained.states(xs)[-1], h, rtol=1e-10, atol=1e-12)


def test_gain_signal_schedule_and_channel():
    model = BioRNN(3, 5, 2, n_networks=2, node_gain=np.linspace(0.5, 1.5, 5), dtype=F64)
    x = torch.randn(10, 4, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    signal = np.r_[np.ones(5), np.zeros(5)]
    _, states = model(x, gain_signal=signal)
    _, base = model(x)
    torch.testing.assert_close(states[:5], base[:5])
    # zero gain from step 5 on: the rate is 0, so the state decays by (1 - a) per step
    torch.testing.assert_close(states[6], states[5] * (1 - 0.1))
    per_network = np.stack([np.ones(10), 2 * np.ones(10)], axis=1)
    _, st2 = model(x, gain_signal=per_network)
    torch.testing.assert_close(st2[:, 0], base[:, 0])
    chan = BioRNN(3, 5, 2, n_networks=2, node_gain=np.linspace(0.5, 1.5, 5), gain_channel=2, dtype=F64)
    chan.load_state_dict(model.state_dict() | {"input_mask": chan.input_mask})
    xc = x.clone()
    xc[..., 2] = torch.from_numpy(signal)[:, None]
    expected, _ = chan(x, gain_signal=signal)
    assert torch.equal(chan(xc)[0], expected)
    assert not chan.input_mask[..., 2].any()


def test_learnable_tau_stays_in_bounds_under_huge_gradients():
    model = BioRNN(3, 6, 2, n_networks=2, dt=10.0, tau=np.linspace(20, 400, 6), learn_tau=True, tau_max=500.0)
    torch.testing.assert_close(model.tau[0], torch.linspace(20, 400, 6), rtol=1e-5, atol=1e-3)
    opt = torch.optim.SGD([model.tau_raw], lr=1e6)
    x = torch.randn(15, 4, 3, generator=torch.Generator().manual_seed(0))
    for j, sign in enumerate((1.0, -1.0, 1.0)):
        out, _ = model(x)
        opt.zero_grad()
        (sign * 1e6 * out.square().sum()).backward()
        assert torch.isfinite(model.tau_raw.grad).all() and (j or model.tau_raw.grad.abs().max() > 1e3)
        opt.step()
        tau = model.time_constants()
        assert bool((tau >= 10.0).all()) and bool((tau <= 500.0).all())
    assert not model.tau.requires_grad


def test_learnable_tau_gradient_matches_finite_difference():
    model = BioRNN(2, 4, 1, n_networks=1, tau=np.array([30.0, 60.0, 90.0, 120.0]), learn_tau=True, dtype=F64)
    x = torch.randn(10, 3, 2, generator=torch.Generator().manual_seed(0), dtype=F64)

    def loss():
        return model(x)[0].square().sum()

    loss().backward()
    grad = model.tau_raw.grad.clone()
    eps = 1e-6
    for j in range(4):
        with torch.no_grad():
            model.tau_raw[0, j] += eps
            up = float(loss())
            model.tau_raw[0, j] -= 2 * eps
            down = float(loss())
            model.tau_raw[0, j] += eps
        assert abs((up - down) / (2 * eps) - float(grad[0, j])) < 1e-6 * max(1.0, abs(float(grad[0, j])))


def test_new_parameters_round_trip_bitwise(tmp_path):
    model = BioRNN(3, 5, 2, n_networks=3, tau=np.linspace(20, 200, 5), learn_tau=True, tau_max=300.0,
                   node_gain=np.linspace(0.5, 1.5, 5), learn_gain=True, gain_channel=1, sigma_rec=0.05)
    with torch.no_grad():
        model.tau_raw.add_(0.1)
        model.node_gain.mul_(1.1)
    loaded = load_biornn(save_biornn(model, tmp_path / "m.pt"))
    assert loaded.config == model.config
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name]), name
    assert isinstance(loaded.tau_raw, torch.nn.Parameter) and isinstance(loaded.node_gain, torch.nn.Parameter)
    x = torch.randn(8, 2, 3, generator=torch.Generator().manual_seed(0))
    model.eval()
    assert torch.equal(model(x)[0], loaded(x)[0])
    member = model.network(2)
    assert torch.equal(member.node_gain[0], model.node_gain[2])


def test_from_graph_gain_from_map_and_same_seed_identical():
    g = BrainGraph.from_grid((3, 2, 2))
    graph = BrainGraph.from_arrays(g.names, g.coords, gradient=g.coords[:, 0], maps={"t1t2": g.coords[:, 1]},
                                   metadata={"synthetic": True})
    task = get_task("gonogo")
    a = BioRNN.from_graph(graph, task, n_networks=2, node_gain="gradient", gain_range=(0.0, 2.0),
                          tau="t1t2", tau_range=(150.0, 1000.0), learn_tau=True)
    order = np.argsort(graph.gradient, kind="stable")
    assert float(a.node_gain[0, order[0]]) == 0.0 and float(a.node_gain[0, order[-1]]) == 2.0
    b = BioRNN.from_graph(graph, task, n_networks=2, node_gain="gradient", gain_range=(0.0, 2.0),
                          tau="t1t2", tau_range=(150.0, 1000.0), learn_tau=True)
    for name, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[name])
    with pytest.raises(ValueError, match="node_gain='missing'.*maps=\\['t1t2'\\]"):
        BioRNN.from_graph(graph, task, node_gain="missing")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"node_gain": np.ones(4)}, ValueError, "node_gain must have shape \\(5,\\)"),
        ({"node_gain": np.array([1, np.nan, 1, 1, 1])}, ValueError, "node_gain must be finite"),
        ({"node_gain": -1.0}, ValueError, "node_gain must be a finite non-negative"),
        ({"learn_tau": True, "tau": 10.0}, ValueError, "learnable tau must lie strictly inside"),
        ({"learn_tau": True, "tau": 100.0, "tau_max": 50.0}, ValueError, "strictly inside"),
        ({"tau_max": 500.0}, ValueError, "tau_max bounds learnable time constants only"),
        ({"learn_tau": 1}, TypeError, "learn_tau must be True or False"),
        ({"gain_channel": 3}, ValueError, "gain_channel must be an input channel index"),
    ],
)
def test_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        BioRNN(3, 5, 2, **kwargs)


def test_gain_signal_errors():
    model = BioRNN(3, 5, 2, n_networks=2)
    x = torch.zeros(6, 2, 3)
    with pytest.raises(ValueError, match="gain_signal must have shape"):
        model(x, gain_signal=np.ones(5))
    with pytest.raises(ValueError, match="gain_signal contains NaN"):
        model(x, gain_signal=np.full(6, np.nan))


def test_activation_reference_is_consistent():
    assert set(ACTIVATIONS) >= {"tanh", "relu"} and float(activation_fn("relu")(torch.tensor(0.0))) == 0.0


def test_map_based_gain_and_tau_errors_name_the_argument():
    g = BrainGraph.from_grid((3, 2, 2))
    bad = np.arange(g.n_nodes, dtype=float)
    bad[3] = np.nan
    graph = BrainGraph.from_arrays(g.names, g.coords, gradient=g.coords[:, 0], maps={"flat": np.ones(g.n_nodes)},
                                   metadata={"synthetic": True})
    with pytest.raises(ValueError, match="node map for node_gain is constant"):
        BioRNN.from_graph(graph, "gonogo", node_gain="flat")
    with pytest.raises(ValueError, match="node map for node_gain must be a finite 1-D array"):
        scale_map(bad, (0.5, 1.5), "node_gain")
    with pytest.raises(ValueError, match="gain_range must be a pair"):
        BioRNN.from_graph(graph, "gonogo", node_gain="gradient", gain_range=1.0)


def test_readout_only_models_freeze_learnable_tau_and_gain():
    model = BioRNN(3, 5, 2, tau=50.0, learn_tau=True, node_gain=1.0, learn_gain=True, trainable=False)
    assert not model.tau_raw.requires_grad and not model.node_gain.requires_grad
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {"w_out_raw", "b_out"}


def test_freezing_a_gain_model_keeps_its_dynamics():
    from conn2rnn.models.toggle import freeze

    model = BioRNN(1, 6, 1, n_networks=2, tau=np.linspace(20, 100, 6), node_gain=np.linspace(0.2, 2.0, 6),
                   dtype=F64)
    x = np.random.default_rng(0).uniform(-1, 1, (30, 2, 1))
    np.testing.assert_allclose(freeze(model).states(x), model.states(x), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="gain_channel"):
        freeze(BioRNN(2, 4, 1, gain_channel=1))
