"""The leaky rate recurrence of an ensemble of K networks, with a hand-written backward.

For every network ``k`` and step ``t``::

    u[t] = W h[t-1] + W_in x[t] + b + noise[t]
    r[t] = f(g[t] * u[t])          (g = 1 without a gain)
    h[t] = h[t-1] + a * (r[t] - h[t-1])
    y[t] = W_out h[t] + b_out

The gain ``g`` (per node, optionally per step and trial) and the leak ``a``
(per node) are differentiable like the weights: ``dL/dg = sum a f'(g u) dL/dh * u``
and ``dL/da = sum dL/dh[t] (r[t] - h[t-1])``. Without a gain, and with a fixed
leak, the loop is exactly the plain one (no extra work or memory).

Layout and cost, chosen for CPU throughput:

* network-major ``(K, T, B, N)`` buffers, so each network's ``T * B`` samples are
  one contiguous matrix: the input projection, the recurrent weight gradient and
  the input weight gradient are each a single batched matmul over all steps;
* the forward pass is one batched matmul (into a reused buffer), one
  activation and one lerp per step over all K networks, with no per-step
  allocation; ``tanh`` is evaluated as ``2 sigmoid(2x) - 1``, 2.5x faster on CPU;
* the buffer holding the pre-activations and rates is reused in the backward
  pass for ``dL/dpre``, computed step by step while the slice is in cache; only
  the states ``h`` and this buffer are kept between the passes;
* the readout is part of the same function, so the gradient with respect to
  the states is accumulated step by step instead of being materialised.
"""

from __future__ import annotations

from typing import Callable

import torch

__all__ = ["ACTIVATIONS", "activation_fn", "check_activation", "leaky_recurrence"]


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    # tanh(x) = 2 sigmoid(2x) - 1: about 2.5x faster than torch.tanh on CPU, within
    # 2e-7 of it in float32 (1 ulp near +-1) and 1e-15 in float64.
    return x.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)


def _softplus_(x: torch.Tensor) -> torch.Tensor:
    return x.copy_(torch.nn.functional.softplus(x))


def _retanh_(x: torch.Tensor) -> torch.Tensor:
    return _tanh_(x).clamp_min_(0.0)


# name -> (activation in place, in-place map from r = f(pre) to f'(pre))
_ACT: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "tanh": (_tanh_, lambda r: r.square_().neg_().add_(1.0)),
    "relu": (torch.Tensor.relu_, lambda r: r.gt_(0.0)),
    "sigmoid": (torch.Tensor.sigmoid_, lambda r: r.mul_(1.0 - r)),
    # softplus'(x) = sigmoid(x) = 1 - exp(-softplus(x))
    "softplus": (_softplus_, lambda r: r.neg_().expm1_().neg_()),
    # max(0, tanh(x)): 1 - r**2 where r > 0, else 0
    "retanh": (_retanh_, lambda r: r.copy_(torch.where(r > 0, 1.0 - r * r, 0.0))),
    "linear": (lambda x: x, lambda r: r.fill_(1.0)),
}

ACTIVATIONS: tuple[str, ...] = tuple(_ACT)


def check_activation(name) -> str:
    """Return ``name`` if it is a known activation, else raise listing the choices."""
    if not isinstance(name, str) or name not in _ACT:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}; got {name!r}")
    return name


def activation_fn(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """Out-of-place activation function by name.

    Parameters
    ----------
    name : str
        One of :data:`ACTIVATIONS`.

    Returns
    -------
    f : callable
        ``f(x)``, out of place and differentiable by autograd.
    """
    return _OUT_OF_PLACE[check_activation(name)]


_OUT_OF_PLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "softplus": torch.nn.functional.softplus,
    "retanh": lambda x: torch.tanh(x).clamp_min(0.0),
    "linear": lambda x: x,
}


def _with_ones(x: torch.Tensor, n_net: int) -> torch.Tensor:
    """(K, T*B, I + 1): the inputs with a column of ones (for the bias), one per network."""
    ones = x.new_ones(x.shape[:-1] + (1,))
    aug = torch.cat([x, ones], dim=-1)
    return aug.expand(n_net, *aug.shape) if aug.ndim == 2 else aug


class _LeakyRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w_in, b, w, h0, w_out, b_out, noise, alpha, gain, act, n_t):
        n_net, batch, n = h0.shape
        # [x, 1] @ [W_in, b]^T: input drive and bias in one product, written once
        w_in_b = torch.cat([w_in, b.unsqueeze(-1)], dim=-1)
        pre = torch.bmm(_with_ones(x, n_net), w_in_b.transpose(1, 2)).view(n_net, n_t, batch, n)
        if noise is not None:
            pre.add_(noise)
        states = torch.empty_like(pre)
        f_inplace = _ACT[act][0]
        w_t = w.transpose(1, 2).contiguous()  # h @ W^T gives W h for row vectors h
        r = torch.empty_like(h0)  # contiguous per-step buffer: one batched gemm per step
        alpha_v = alpha.detach() if isinstance(alpha, torch.Tensor) else alpha
        gain_v = None if gain is None else gain.detach()
        keep_u = gain is not None and ctx.needs_input_grad[9]
        u_store = torch.empty_like(pre) if keep_u else None  # pre-gain drive, only to differentiate g
        static = gain is None or gain_v.shape[1] == 1
        h = h0
        for t in range(n_t):
            torch.baddbmm(pre[:, t], h, w_t, out=r)
            if gain_v is not None:
                if keep_u:
                    u_store[:, t].copy_(r)
                r.mul_(gain_v[:, 0 if static else t])
            f_inplace(r)
            pre[:, t].copy_(r)  # the rates, kept for the backward pass
            torch.lerp(h, r, alpha_v, out=states[:, t])
            h = states[:, t]
        outputs = torch.baddbmm(b_out.unsqueeze(1), states.view(n_net, n_t * batch, n), w_out.transpose(1, 2))
        ctx.save_for_backward(x, w_in, w, h0, w_out, states, pre, gain_v, u_store)
        ctx.alpha, ctx.act, ctx.consumed = alpha_v, act, False
        ctx.set_materialize_grads(False)
        return states, outputs.view(n_net, n_t, batch, -1)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states, grad_outputs):
        if ctx.consumed:
            raise RuntimeError(
                "the BioRNN recurrence supports one backward pass per forward pass (its buffers are "
                "reused); run the forward pass again instead of using retain_graph=True"
            )
        ctx.consumed = True
        x, w_in, w, h0, w_out, states, rates, gain, u_store = ctx.saved_tensors
        alpha = ctx.alpha
        n_net, n_t, batch, n = states.shape
        grads = [None] * 12
        if grad_outputs is not None:
            gy = grad_outputs.reshape(n_net, n_t * batch, -1)
            if ctx.needs_input_grad[5]:
                grads[5] = torch.bmm(gy.transpose(1, 2), states.view(n_net, n_t * batch, n))
            if ctx.needs_input_grad[6]:
                grads[6] = gy.sum(dim=1)
        need_alpha = isinstance(alpha, torch.Tensor) and ctx.needs_input_grad[8]
        need_gain = gain is not None and ctx.needs_input_grad[9]
        if not (any(ctx.needs_input_grad[:5]) or need_alpha or need_gain) or (
                grad_states is None and grad_outputs is None):
            return tuple(grads)
        deriv_inplace = _ACT[ctx.act][1]
        per_node = isinstance(alpha, torch.Tensor)
        keep = 1.0 - alpha
        static = gain is None or gain.shape[1] == 1
        per_trial = gain is not None and gain.shape[2] != 1
        d_alpha = torch.zeros_like(alpha) if need_alpha else None
        d_gain = torch.zeros_like(gain) if need_gain else None
        carry = torch.zeros_like(h0)  # dL/dh[t] from the future and the present
        scaled = torch.empty_like(h0)
        for t in range(n_t - 1, -1, -1):
            if grad_states is not None:
                carry.add_(grad_states[:, t])
            if grad_outputs is not None:
                carry.baddbmm_(grad_outputs[:, t], w_out)
            if need_alpha:  # h[t] = h[t-1] + a (r[t] - h[t-1])
                prev = states[:, t - 1] if t else h0
                d_alpha.add_((carry * (rates[:, t] - prev)).sum(dim=1, keepdim=True))
            torch.mul(carry, alpha, out=scaled)
            # rates[:, t] -> f'(g u) -> dL/d(g u) = a * f' * dL/dh, in place while in cache
            dpre = deriv_inplace(rates[:, t]).mul_(scaled)
            if gain is not None:
                g_t = gain[:, 0 if static else t]
                if need_gain:
                    contrib = dpre * u_store[:, t]
                    d_gain[:, 0 if static else t].add_(contrib if per_trial else contrib.sum(dim=1, keepdim=True))
                dpre.mul_(g_t)  # dL/du
            if per_node:
                carry.mul_(keep).baddbmm_(dpre, w)
            else:
                carry.baddbmm_(dpre, w, beta=keep)
        grads[8], grads[9] = d_alpha, d_gain
        dpre = rates.view(n_net, n_t * batch, n)
        if ctx.needs_input_grad[0]:
            grads[0] = torch.bmm(dpre, w_in)
            grads[0] = grads[0].sum(dim=0) if x.ndim == 2 else grads[0]
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            # [x, 1]^T dpre gives dW_in^T and db in one pass over dpre (read row-major)
            both = torch.bmm(_with_ones(x, n_net).transpose(1, 2), dpre)
            grads[1] = both[:, :-1].transpose(1, 2)
            grads[2] = both[:, -1]
        if ctx.needs_input_grad[3]:
            # dW[k, i, j] = sum_{t, b} dpre[k, t, b, i] * h[k, t-1, b, j]
            prev = states[:, :-1].reshape(n_net, (n_t - 1) * batch, n)
            grads[3] = torch.bmm(dpre[:, batch:].transpose(1, 2), prev)
            grads[3].baddbmm_(rates[:, 0].transpose(1, 2), h0)
        if ctx.needs_input_grad[4]:
            grads[4] = carry
        return tuple(grads)


def leaky_recurrence(
    x: torch.Tensor,
    w_in: torch.Tensor,
    b: torch.Tensor,
    w: torch.Tensor,
    h0: torch.Tensor,
    w_out: torch.Tensor,
    b_out: torch.Tensor,
    alpha: float | torch.Tensor,
    activation: str,
    *,
    n_steps: int,
    noise: torch.Tensor | None = None,
    gain: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the leaky rate recurrence and its linear readout for K networks at once.

    Parameters
    ----------
    x : (T * B, I) tensor shared by all networks, or (K, T * B, I)
        Inputs, time-major within each network (row ``t * B + b``).
    w_in : (K, N, I) tensor
        Effective input weights.
    b : (K, N) tensor
        Recurrent biases.
    w : (K, N, N) tensor
        Effective recurrent weights ``w[k, target, source]``.
    h0 : (K, B, N) tensor
        Initial state.
    w_out : (K, O, N) tensor
        Effective readout weights.
    b_out : (K, O) tensor
        Readout biases.
    alpha : float or (K, 1, N) tensor
        ``dt / tau``, a scalar or one value per network and node, in (0, 1];
        a tensor that requires grad (learnable time constants) is differentiated.
    activation : str
        One of :data:`ACTIVATIONS`.
    n_steps : int
        T.
    noise : (K, T, B, N) tensor, optional
        Added to the pre-activation (not differentiated).
    gain : (K, 1 or T, 1 or B, N) tensor, optional
        Multiplies the pre-activation inside ``f``: per node (``(K, 1, 1, N)``),
        or per step (a gain signal over the trial) and per trial. Differentiated
        when it requires grad.

    Returns
    -------
    states : (K, T, B, N) tensor
        ``h[1] ... h[T]``.
    outputs : (K, T, B, O) tensor
        ``W_out h[t] + b_out``.

    Both are differentiable in every tensor argument except ``noise``; one
    first-order backward pass per forward pass (the buffers are reused).
    """
    check_activation(activation)
    if noise is not None:
        shape = (w.shape[0], n_steps, h0.shape[1], w.shape[1])
        if tuple(noise.shape) != shape:
            raise ValueError(f"noise must have shape (K, T, B, N) = {shape}; got {tuple(noise.shape)}")
    if gain is not None:
        k, n_b, n = h0.shape
        if gain.ndim != 4 or gain.shape[0] != k or gain.shape[3] != n or gain.shape[1] not in (1, n_steps) \
                or gain.shape[2] not in (1, n_b):
            raise ValueError(f"gain must have shape (K, 1 or T, 1 or B, N) = ({k}, 1|{n_steps}, 1|{n_b}, {n}); "
                             f"got {tuple(gain.shape)}")
    return _LeakyRecurrence.apply(x, w_in, b, w, h0, w_out, b_out, noise, alpha, gain, activation, n_steps)
