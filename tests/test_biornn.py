"""BioRNN: recurrence and gradients against an autograd reference, constraints,
initialisations, ensemble independence, noise, graph construction and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn.graph import BrainGraph
from conn2rnn.models._recurrence import ACTIVATIONS, activation_fn, leaky_recurrence
from conn2rnn.models.biornn import BioRNN
from conn2rnn.regimes import get_regime, regime_cost, resolve_regime
from conn2rnn.tasks import get_task

F64 = torch.float64


def _graph(n_side=(3, 3, 2), seed=0) -> BrainGraph:
    """Synthetic grid graph with a random sparse connectome and a gradient."""
    g = BrainGraph.from_grid(n_side)
    rng = np.random.default_rng(seed)
    n = g.n_nodes
    c = rng.random((n, n)) * (rng.random((n, n)) < 0.4)
    np.fill_diagonal(c, 0.0)
    nets = np.where(np.arange(n) < n // 2, "Vis", "Default")
    return BrainGraph.from_arrays(
        g.names, g.coords, networks=nets, gradient=g.coords[:, 0] + 0.1 * g.coords[:, 1],
        connectome=c, metadata={"synthetic": True},
    )


# ----------------------------------------------------------------------------- recurrence
def _reference(x, w_in, b, w, h0, w_out, b_out, alpha, act, n_t, noise):
    """Plain autograd implementation of the equations."""
    f = activation_fn(act)
    k, batch = w.shape[0], h0.shape[1]
    xk = x.expand(k, *x.shape) if x.ndim == 2 else x
    u = (xk @ w_in.transpose(1, 2) + b[:, None, :]).view(k, n_t, batch, -1) + noise
    h, hs = h0, []
    for t in range(n_t):
        h = h + alpha * (f(u[:, t] + h @ w.transpose(1, 2)) - h)
        hs.append(h)
    states = torch.stack(hs, 1)
    return states, states @ w_out.transpose(1, 2)[:, None] + b_out[:, None, None, :]


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("per_node", [False, True])
@pytest.mark.parametrize("shared", [True, False])
def test_recurrence_matches_autograd_reference(act, per_node, shared):
    gen = torch.Generator().manual_seed(3)
    n_t, k, batch, n, n_in, n_out = 4, 3, 2, 5, 2, 3

    def rnd(*shape):
        return torch.randn(*shape, generator=gen, dtype=F64)

    alpha = 0.05 + 0.9 * torch.rand(k, 1, n, generator=gen, dtype=F64) if per_node else 0.3
    x = rnd(n_t * batch, n_in) if shared else rnd(k, n_t * batch, n_in)
    args = [x, rnd(k, n, n_in), rnd(k, n), rnd(k, n, n), rnd(k, batch, n), rnd(k, n_out, n), rnd(k, n_out)]
    for a in args:
        a.requires_grad_()
    noise, g_states, g_out = rnd(k, n_t, batch, n), rnd(k, n_t, batch, n), rnd(k, n_t, batch, n_out)
    s1, y1 = leaky_recurrence(*args, alpha, act, n_steps=n_t, noise=noise)
    s2, y2 = _reference(*args, alpha, act, n_t, noise)
    torch.testing.assert_close(s1, s2, rtol=0, atol=1e-12)
    torch.testing.assert_close(y1, y2, rtol=0, atol=1e-12)
    loss1 = (s1 * g_states).sum() + (y1 * g_out).sum()
    loss2 = (s2 * g_states).sum() + (y2 * g_out).sum()
    # softplus: torch's reference is exactly linear above 20 where the true derivative
    # is 1 - e^-x, so the two differ by up to e^-20 = 2e-9 relative
    rtol = 1e-8 if act == "softplus" else 0.0
    for a, b in zip(torch.autograd.grad(loss1, args), torch.autograd.grad(loss2, args)):
        torch.testing.assert_close(a, b, rtol=rtol, atol=1e-12)


def test_recurrence_rejects_second_backward():
    model = BioRNN(2, 4, 2, dtype=F64)
    y, _ = model(torch.ones(3, 2, 2, dtype=F64))
    loss = y.sum()
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="one backward pass per forward pass"):
        loss.backward()


# ----------------------------------------------------------------------------- model
def test_forward_matches_numpy_equations():
    """Masks, per-node tau, biases and readout against a direct numpy loop."""
    rng = np.random.default_rng(0)
    n, n_in, n_out, dt = 6, 2, 3, 10.0
    tau = np.linspace(10.0, 60.0, n)
    m_in = rng.random((n, n_in)) < 0.6
    m_out = rng.random((n_out, n)) < 0.6
    m_rec = rng.random((n, n)) < 0.5
    model = BioRNN(n_in, n, n_out, dt=dt, tau=tau, activation="softplus", input_mask=m_in,
                   output_mask=m_out, recurrent_mask=m_rec, dtype=F64, seeds=[4])
    with torch.no_grad():
        model.b_rec.normal_(generator=torch.Generator().manual_seed(1))
        model.b_out.normal_(generator=torch.Generator().manual_seed(2))
    x = rng.standard_normal((7, 3, n_in))
    y, h = model(torch.from_numpy(x))
    w = model.w_rec_raw.detach().numpy()[0] * m_rec
    w_in = model.w_in_raw.detach().numpy()[0] * m_in
    w_out = model.w_out_raw.detach().numpy()[0] * m_out
    b, b_out = model.b_rec.detach().numpy()[0], model.b_out.detach().numpy()[0]
    a = dt / tau
    state = np.zeros((3, n))
    for t in range(7):
        pre = state @ w.T + x[t] @ w_in.T + b
        state = (1 - a) * state + a * np.log1p(np.exp(pre))
        np.testing.assert_allclose(h[t, 0].detach().numpy(), state, rtol=0, atol=1e-12)
        np.testing.assert_allclose(y[t, 0].detach().numpy(), state @ w_out.T + b_out, rtol=0, atol=1e-12)


def test_members_equal_standalone_networks():
    kw = dict(dt=10.0, tau=30.0, recurrent_mask=np.random.default_rng(1).random((8, 8)) < 0.7,
              dale=0.75, dtype=F64)
    ens = BioRNN(3, 8, 2, n_networks=3, seeds=[11, 12, 13], **kw)
    alone = BioRNN(3, 8, 2, seeds=[12], **kw)
    for name in ("w_rec_raw", "w_in_raw", "w_out_raw", "dale_sign"):
        assert torch.equal(getattr(ens, name)[1], getattr(alone, name)[0]), name
    x = torch.randn(6, 4, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    y_ens, h_ens = ens(x)
    for y1, h1 in (alone(x), ens.network(1)(x)):
        torch.testing.assert_close(y1[:, 0], y_ens[:, 1], rtol=0, atol=1e-13)
        torch.testing.assert_close(h1[:, 0], h_ens[:, 1], rtol=0, atol=1e-13)
    # per-network inputs (T, K, B, I) equal running each network on its own input
    xk = torch.randn(6, 3, 4, 3, generator=torch.Generator().manual_seed(1), dtype=F64)
    y_k, _ = ens(xk)
    torch.testing.assert_close(alone(xk[:, 1])[0][:, 0], y_k[:, 1], rtol=0, atol=1e-13)


def test_network_copy_is_independent():
    ens = BioRNN(2, 5, 2, n_networks=2, seeds=[0, 1])
    member = ens.network(0)
    with torch.no_grad():
        member.w_rec_raw.add_(1.0)
    assert not torch.equal(member.w_rec_raw[0], ens.w_rec_raw[0])
    with pytest.raises(IndexError, match=r"k must be an int in \[0, 2\)"):
        ens.network(2)


def test_masked_weights_have_zero_gradient_and_dale_signs_hold():
    rng = np.random.default_rng(2)
    m_in, m_out, m_rec = rng.random((6, 3)) < 0.5, rng.random((2, 6)) < 0.5, rng.random((6, 6)) < 0.5
    model = BioRNN(3, 6, 2, n_networks=2, input_mask=m_in, output_mask=m_out, recurrent_mask=m_rec,
                   dale=np.array([1, 1, 1, -1, 1, -1.0]), dtype=F64)
    assert torch.all(model.w_rec_raw.detach()[:, ~torch.from_numpy(m_rec)] == 0)
    y, h = model(torch.randn(5, 4, 3, dtype=F64))
    (y.square().sum() + h.abs().sum()).backward()
    for raw, mask in ((model.w_rec_raw, m_rec), (model.w_in_raw, m_in), (model.w_out_raw, m_out)):
        assert torch.all(raw.grad[:, ~torch.from_numpy(mask)] == 0)
        assert raw.grad[:, torch.from_numpy(mask)].abs().sum() > 0
    w = model.w_rec.detach()
    signs = torch.tensor([1, 1, 1, -1, 1, -1.0], dtype=F64)
    assert torch.all(w * signs >= 0)  # column j carries the sign of source node j


@pytest.mark.parametrize("init", ["orthogonal", "normal", "uniform"])
def test_random_initialisations(init):
    n, gain = 200, 1.3
    w = BioRNN(1, n, 1, init=init, gain=gain, dtype=F64).w_rec.detach()[0].numpy()
    if init == "orthogonal":
        np.testing.assert_allclose(w @ w.T, gain**2 * np.eye(n), atol=1e-10)
    elif init == "normal":
        assert abs(w.std() * np.sqrt(n) / gain - 1) < 0.02  # 40000 draws
    else:
        assert np.abs(w).max() <= gain / np.sqrt(n)
        assert abs(w.std() * np.sqrt(3 * n) / gain - 1) < 0.02


def test_connectome_and_dale_initialisations_hit_their_spectral_radius():
    g = _graph()
    c = np.array(g.connectome)
    model = BioRNN(1, g.n_nodes, 1, init="connectome", connectome=c, spectral_radius=0.7,
                   recurrent_mask=c != 0, dtype=F64)
    w = model.w_rec.detach()[0].numpy()
    np.testing.assert_allclose(w, c * 0.7 / np.abs(np.linalg.eigvals(c)).max(), rtol=1e-12)
    dale = BioRNN(1, 30, 1, init="normal", gain=1.2, dale=0.8, dtype=F64).w_rec.detach()[0].numpy()
    assert np.abs(np.linalg.eigvals(dale)).max() == pytest.approx(1.2, rel=1e-10)
    assert np.sum(np.all(dale <= 0, axis=0)) == 6  # 20% inhibitory source columns


def test_noise_is_seeded_per_network_and_off_in_eval():
    kw = dict(dt=10.0, tau=20.0, sigma_rec=0.2, sigma_in=0.1, dtype=F64)
    ens = BioRNN(2, 5, 1, n_networks=2, seeds=[7, 8], **kw)
    alone = BioRNN(2, 5, 1, seeds=[8], **kw)
    x = torch.ones(6, 3, 2, dtype=F64)
    torch.testing.assert_close(ens(x)[0][:, 1], alone(x)[0][:, 0], rtol=0, atol=1e-13)
    assert not torch.equal(ens(x)[0], ens(x)[0])  # the stream advances
    ens.eval()
    assert torch.equal(ens(x)[0], ens(x)[0])
    assert torch.equal(ens(x)[0], ens(x, noise=False)[0])
    assert not torch.equal(ens(x, noise=True)[0], ens(x)[0])


def test_recurrent_noise_variance_matches_closed_form():
    """Linear unit, no weights: h' = (1-a) h + a sqrt(2/a) s xi has var 2 s^2 / (2 - a)."""
    sigma, dt, tau = 0.3, 10.0, 40.0
    model = BioRNN(1, 4, 1, dt=dt, tau=tau, activation="linear", sigma_rec=sigma, dtype=F64,
                   input_mask=np.zeros((4, 1), bool), recurrent_mask=np.zeros((4, 4), bool))
    _, h = model(torch.zeros(400, 500, 1, dtype=F64), noise=True)
    a = dt / tau
    var = h[100:].var().item()
    assert var == pytest.approx(2 * sigma**2 / (2 - a), rel=0.03)


def test_trainable_false_freezes_recurrent_and_input_weights():
    model = BioRNN(2, 4, 2, trainable=False)
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {"w_rec_raw", "w_in_raw", "b_rec"}
    y, _ = model(torch.ones(3, 2, 2))
    y.sum().backward()
    assert model.w_out_raw.grad is not None and model.w_rec_raw.grad is None


# ----------------------------------------------------------------------------- graph
def test_from_graph_builds_masks_tau_and_costs():
    g = _graph()
    task = get_task("gonogo")
    regime = get_regime("bio", sparsity_mask="connectome")
    model = BioRNN.from_graph(g, task, regime, n_networks=3, seeds=[0, 1, 2], strengths=[0.0, 1e-3, 1e-2],
                              tau="gradient", tau_range=(100.0, 400.0), dtype=F64)
    arrays = resolve_regime(regime, g)
    vis, default = g.select(networks=["Vis"]), g.select(networks=["Default"])
    in_mask = model.input_mask[0].numpy()
    assert in_mask[vis].all() and not in_mask[default].any()
    assert model.output_mask[0].numpy()[:, default].all() and not model.output_mask[0].numpy()[:, vis].any()
    assert np.array_equal(model.recurrent_mask[1].numpy(), g.connectome != 0)
    tau = model.tau[0].numpy()
    assert tau[np.argmin(g.gradient)] == pytest.approx(100.0) and tau[np.argmax(g.gradient)] == pytest.approx(400.0)
    assert model.task_spec == task.to_dict() and model.graph is g
    cost = model.weight_cost()
    for k, s in enumerate([0.0, 1e-3, 1e-2]):
        expected = regime_cost(regime.replace(strength=s), model.w_rec[k], arrays)
        torch.testing.assert_close(cost[k], expected, rtol=1e-12, atol=0)


def test_from_graph_per_network_regimes():
    g = _graph()
    regs = [get_regime("vanilla"), get_regime("embedded"), get_regime("masked")]
    model = BioRNN.from_graph(g, "gonogo", regs, n_networks=3)
    assert model.input_mask[0].all() and not model.input_mask[2].all()
    assert [r.name for r in model.regimes] == ["vanilla", "embedded", "masked"]
    c = model.weight_cost()
    w = model.w_rec
    torch.testing.assert_close(c[2], regime_cost(regs[2], w[2], resolve_regime(regs[2], g)))
    with pytest.raises(ValueError, match="must agree on dale"):
        BioRNN.from_graph(g, "gonogo", [get_regime("vanilla"), get_regime("vanilla", dale=True)], n_networks=2)


def test_strengths_buffer_is_the_single_source_of_regime_strength():
    g = _graph()
    regime = get_regime("embedded")
    model = BioRNN.from_graph(g, "gonogo", regime, n_networks=2, strengths=[1e-3, 2e-3], dtype=F64)
    assert [r.strength for r in model.regimes] == [1e-3, 2e-3]
    with torch.no_grad():
        model.strengths.copy_(torch.tensor([5e-3, 0.0], dtype=F64))
    assert [r.strength for r in model.regimes] == [5e-3, 0.0]
    arrays = resolve_regime(regime, g)
    torch.testing.assert_close(model.weight_cost()[0],
                               regime_cost(regime.replace(strength=5e-3), model.w_rec[0], arrays))
    model.set_regime(regime.replace(strength=9.0), arrays)  # the model's strengths are kept
    assert model.strengths.tolist() == [5e-3, 0.0]
    model.regimes = [regime.replace(strength=1e-4), regime.replace(strength=3e-4)]  # assigning sets the buffer
    assert model.strengths.tolist() == [1e-4, 3e-4]
    assert model.network(1).regimes[0].strength == 3e-4
    with pytest.raises(ValueError, match="one regime per network \\(2\\)"):
        model.regimes = [regime]


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"activation": "gelu"}, ValueError, r"activation must be one of \['tanh', 'relu'"),
        ({"init": "xavier"}, ValueError, r"init must be one of \['orthogonal', 'uniform'"),
        ({"tau": 5.0}, ValueError, "tau must be >= dt"),
        ({"strengths": -0.1}, ValueError, "strengths must be >= 0"),
        ({"n_networks": 2, "strengths": [0.1, -1.0]}, ValueError, "strengths must be >= 0"),
        ({"recurrent_mask": np.ones((3, 3), bool)}, ValueError, r"recurrent_mask must have shape \(4, 4\)"),
        ({"input_mask": np.ones((4, 2))}, TypeError, "input_mask must be a boolean mask"),
        ({"init": "connectome"}, ValueError, "init='connectome' needs connectome"),
        ({"init": "connectome", "connectome": np.full((4, 4), np.nan)}, ValueError, "connectome must be finite"),
        ({"n_networks": 2, "seeds": [1, 2, 3]}, ValueError, "seeds must be 2 ints"),
        ({"dale": 1.5}, ValueError, r"excitatory fraction must be in \[0, 1\]"),
        ({"dale": [1.0, -1.0, 0.5, 1.0]}, ValueError, "array of \\+1 \\(excitatory\\)"),
        ({"sigma_rec": -1.0}, ValueError, "sigma_rec must be a finite non-negative number"),
        ({"dtype": torch.float16}, TypeError, "dtype must be torch.float32 or torch.float64"),
    ],
)
def test_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        BioRNN(2, 4, 2, **kwargs)


def test_forward_errors():
    model = BioRNN(3, 4, 2, n_networks=2)
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, I=3\)"):
        model(torch.zeros(5, 2, 4))
    with pytest.raises(ValueError, match=r"\(T, K=2, B, I=3\)"):
        model(torch.zeros(5, 3, 2, 3))
    with pytest.raises(ValueError, match="x contains NaN"):
        model(torch.full((5, 2, 3), float("nan")))
    with pytest.raises(TypeError, match="floating-point"):
        model(torch.zeros(5, 2, 3, dtype=torch.int64))


def test_from_graph_errors():
    g = _graph()
    with pytest.raises(ValueError, match="unknown regime 'nope'"):
        BioRNN.from_graph(g, "gonogo", "nope")
    with pytest.raises(ValueError, match="tau='sa_axis' needs graph.gradient or a map"):
        BioRNN.from_graph(g, "gonogo", tau="sa_axis")
    with pytest.raises(ValueError, match="strength=0.1 has no effect without a spatial_cost"):
        BioRNN.from_graph(g, "gonogo", "vanilla", strengths=0.1)
    no_conn = BrainGraph.from_grid((2, 2, 2))
    with pytest.raises(ValueError, match="sparsity_mask='connectome' needs a graph with a connectome"):
        BioRNN.from_graph(no_conn, "gonogo", get_regime("vanilla", sparsity_mask="connectome"))
    with pytest.raises(ValueError, match="connectome must be finite|NaN"):
        BrainGraph.from_arrays(g.names, g.coords, connectome=np.full((g.n_nodes,) * 2, np.nan))
