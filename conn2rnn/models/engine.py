"""Batched leaky echo-state simulator: many trials and many networks in one loop over time.

Every trial starts from the same initial state ``x0`` (zero by default), so trials
never leak into each other. The update is reservoirpy 0.4's leaky ESN step::

    x[t] = (1 - leak) * x[t-1] + leak * f(W x[t-1] + W_in u[t] + bias) + noise * xi[t]

with ``x[-1] = x0``, ``f`` = tanh (or the identity) and ``xi`` standard normal state
noise (reservoirpy 0.4 has no noise; with ``noise=0`` the states equal reservoirpy's).
Trials (B) and networks (M) are batched into matrix products, so the only Python
loop is over the T time steps.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import to_numpy

__all__ = ["ACTIVATIONS", "BACKENDS", "simulate"]

ACTIVATIONS: tuple[str, ...] = ("tanh", "linear")
BACKENDS: tuple[str, ...] = ("numpy", "torch")
_DTYPES = {"float64": np.float64, "float32": np.float32}


def _dtype_name(dtype: Any) -> str:
    """'float64' or 'float32' from a numpy dtype, a torch dtype or a name."""
    if not isinstance(dtype, (str, type, np.dtype)):  # a torch dtype such as torch.float32
        dtype = {"torch.float64": "float64", "torch.float32": "float32"}.get(str(dtype), str(dtype))
    try:
        name = np.dtype(dtype).name
    except TypeError as exc:
        raise TypeError(f"dtype must be float64 or float32; got {dtype!r}") from exc
    if name not in _DTYPES:
        raise ValueError(f"dtype must be float64 or float32; got {dtype!r}")
    return name


def _finite(arr: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean them before simulating")
    return arr


def _as_array(value: Any, name: str) -> np.ndarray:
    value = to_numpy(value)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array; got {type(value).__name__}") from exc
    return _finite(arr, name)


def _param(value: Any, name: str, n_units: int, n_nets: int | None) -> np.ndarray:
    """A scalar, per-node (N,) or per-network-and-node (M, N) parameter, shaped to broadcast."""
    arr = _as_array(value, name)
    if arr.ndim == 0 or arr.shape == (n_units,):
        return arr
    if n_nets is not None and arr.shape == (n_nets, n_units):
        return arr[:, None, :]
    want = f"a scalar or ({n_units},)" + (f" or ({n_nets}, {n_units})" if n_nets is not None else "")
    raise ValueError(f"{name} must be {want}; got shape {arr.shape}")


def _check_shapes(w: np.ndarray, w_in: np.ndarray, inputs: np.ndarray) -> tuple[int | None, int, int, int, int]:
    if w.ndim not in (2, 3) or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"w must be (N, N) or a stack (M, N, N) with w[target, source]; got shape {w.shape}")
    n_units = w.shape[-1]
    if w_in.ndim not in (2, 3) or w_in.shape[-2] != n_units:
        raise ValueError(f"w_in must be (N, I) or (M, N, I) with N = {n_units} rows; got shape {w_in.shape}")
    if inputs.ndim != 3:
        raise ValueError(f"inputs must be (T, B, I); got shape {inputs.shape}. Add a batch axis with "
                         "inputs[:, None, :] for a single trial")
    if inputs.shape[2] != w_in.shape[-1]:
        raise ValueError(f"inputs have I = {inputs.shape[2]} channels but w_in expects {w_in.shape[-1]}; "
                         "make inputs (T, B, I) match w_in (N, I)")
    if min(inputs.shape[:2]) < 1:
        raise ValueError(f"inputs must hold at least one step and one trial; got shape {inputs.shape}")
    stacks = [a.shape[0] for a in (w, w_in) if a.ndim == 3]
    if len(set(stacks)) > 1:
        raise ValueError(f"w and w_in stack different numbers of networks: {stacks[0]} vs {stacks[1]}")
    n_nets = stacks[0] if stacks else None
    return n_nets, n_units, inputs.shape[0], inputs.shape[1], inputs.shape[2]


def simulate(
    w: Any,
    w_in: Any,
    inputs: Any,
    leak: Any = 1.0,
    bias: Any = 0.0,
    *,
    activation: str = "tanh",
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    x0: Any = None,
    backend: str = "numpy",
    dtype: Any = np.float64,
    device: Any = None,
    return_all: bool = True,
):
    """Run leaky echo-state networks on a batch of trials, resetting the state per trial.

    Parameters
    ----------
    w : (N, N) or (M, N, N) array_like
        Recurrent weights ``w[target, source]``; a stack runs M networks at once.
    w_in : (N, I) or (M, N, I) array_like
        Input weights ``w_in[target, channel]``.
    inputs : (T, B, I) array_like
        Input sequences, time-major; trial ``b`` is ``inputs[:, b]``.
    leak : float or (N,) or (M, N) array_like
        Leak rate in (0, 1] (reservoirpy's ``lr``); 1 means no memory in the unit itself.
    bias : float or (N,) or (M, N) array_like
        Bias added inside the activation.
    activation : {'tanh', 'linear'}
        Unit nonlinearity ``f``.
    noise : float
        Standard deviation of Gaussian state noise added after each update.
    seed : int or numpy.random.Generator, optional
        Seed of the noise stream (a Generator only for the numpy backend).
    x0 : (N,), (B, N) or (M, B, N) array_like, optional
        Initial state of every trial; zeros by default.
    backend : {'numpy', 'torch'}
        ``'torch'`` runs on ``device`` (CPU by default) and returns a tensor.
    dtype : float64 or float32 (numpy or torch dtype)
        Precision of the computation.
    device : str or torch.device, optional
        Torch device, e.g. ``'cuda'``; torch backend only.
    return_all : bool
        Return every state (default) or only the last one.

    Returns
    -------
    states : (T, B, N) or (T, M, B, N) ndarray or tensor
        ``states[t]`` is the state after input ``inputs[t]``; with ``return_all=False``
        the last state only, (B, N) or (M, B, N).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {list(BACKENDS)}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}")
    if device is not None and backend != "torch":
        raise ValueError("device is only used by the torch backend; pass backend='torch'")
    if isinstance(seed, np.random.Generator) and backend == "torch":
        raise TypeError("the torch backend takes an int seed; got a numpy Generator")
    if seed is not None and not isinstance(seed, np.random.Generator) and (
            isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise TypeError(f"seed must be a non-negative int, a numpy Generator or None; got {seed!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite standard deviation >= 0; got {noise!r}")
    dname = _dtype_name(dtype)
    w_a, w_in_a, u_a = _as_array(w, "w"), _as_array(w_in, "w_in"), _as_array(inputs, "inputs")
    n_nets, n_units, n_steps, n_trials, _ = _check_shapes(w_a, w_in_a, u_a)
    leak_a = _param(leak, "leak", n_units, n_nets)
    if np.any(leak_a <= 0) or np.any(leak_a > 1):
        raise ValueError(f"leak must lie in (0, 1]; got values in [{leak_a.min():.4g}, {leak_a.max():.4g}]")
    bias_a = _param(bias, "bias", n_units, n_nets)
    state_shape = (n_trials, n_units) if n_nets is None else (n_nets, n_trials, n_units)
    if x0 is None:
        x0_a = np.zeros(state_shape)
    else:
        x0_a = _as_array(x0, "x0")
        try:
            x0_a = np.broadcast_to(x0_a, state_shape)
        except ValueError as exc:
            raise ValueError(f"x0 must broadcast to the state shape {state_shape}; got {x0_a.shape}") from exc
    args = (w_a, w_in_a, u_a, leak_a, bias_a, x0_a, activation, float(noise), seed, return_all)
    if backend == "numpy":
        return _run_numpy(*args, dtype=_DTYPES[dname])
    return _run_torch(*args, dtype=dname, device=device)


def _transpose(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.swapaxes(a, -1, -2))


def _run_numpy(w, w_in, u, leak, bias, x0, activation, noise, seed, return_all, *, dtype):
    stacked = x0.ndim == 3
    w_t = _transpose(w).astype(dtype, copy=False)
    w_in_t = _transpose(w_in).astype(dtype, copy=False)
    u = u.astype(dtype, copy=False)
    keep = (1.0 - leak).astype(dtype)
    leak = leak.astype(dtype)
    bias = bias.astype(dtype)
    rng = np.random.default_rng(seed) if noise > 0 else None
    n_steps = u.shape[0]
    if return_all:
        out = np.empty((n_steps,) + x0.shape, dtype=dtype)
        # the input drive W_in u[t] + bias of every step, computed at once into the output buffer
        if w_in_t.ndim == 3:
            np.matmul(u[:, None], w_in_t, out=out)
        elif stacked:
            out[...] = np.matmul(u, w_in_t)[:, None]
        else:
            np.matmul(u, w_in_t, out=out)
        out += bias
    x = np.array(x0, dtype=dtype)
    pre = np.empty_like(x)
    for t in range(n_steps):
        if return_all:
            drive = out[t]
        else:
            drive = np.matmul(u[t], w_in_t) + bias
        np.matmul(x, w_t, out=pre)
        pre += drive
        if activation == "tanh":
            np.tanh(pre, out=pre)
        pre *= leak
        nxt = out[t] if return_all else x
        np.multiply(x, keep, out=nxt)
        nxt += pre
        if rng is not None:
            nxt += noise * rng.standard_normal(nxt.shape, dtype=dtype)
        x = nxt
    return out if return_all else x


def _run_torch(w, w_in, u, leak, bias, x0, activation, noise, seed, return_all, *, dtype, device):
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a core dependency
        raise ImportError("backend='torch' needs PyTorch: pip install torch") from exc
    tdtype = getattr(torch, dtype)

    def tens(a: np.ndarray) -> "torch.Tensor":
        # a writable contiguous copy: torch refuses to share read-only numpy memory
        return torch.from_numpy(np.array(a, dtype=_DTYPES[dtype], order="C")).to(device=device)

    w_t, w_in_t, u_t = tens(_transpose(w)), tens(_transpose(w_in)), tens(u)
    leak_t, keep_t, bias_t = tens(leak), tens(1.0 - leak), tens(bias)
    x = tens(x0).clone()
    gen = None
    if noise > 0:
        gen = torch.Generator(device=x.device)
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(seed))
    n_steps = u_t.shape[0]

    def drive_of(u_part: "torch.Tensor") -> "torch.Tensor":
        """W_in u + bias for (..., B, I) inputs, broadcast to the state shape."""
        if w_in_t.ndim == 3:
            d = torch.matmul(u_part.unsqueeze(-3), w_in_t)
        else:
            d = torch.matmul(u_part, w_in_t)
            if x.ndim == 3:
                d = d.unsqueeze(-3)
        return (d + bias_t).expand(u_part.shape[:-2] + x.shape).contiguous()

    with torch.no_grad():
        out = drive_of(u_t) if return_all else None
        for t in range(n_steps):
            drive = out[t] if return_all else drive_of(u_t[t])
            if w_t.ndim == 3:
                pre = torch.baddbmm(drive, x, w_t)
            else:
                flat = x.shape[-1]
                pre = torch.addmm(drive.reshape(-1, flat), x.reshape(-1, flat), w_t).reshape(x.shape)
            if activation == "tanh":
                pre.tanh_()
            pre.mul_(leak_t)
            nxt = out[t] if return_all else x
            torch.mul(x, keep_t, out=nxt)
            nxt.add_(pre)
            if gen is not None:
                nxt.add_(torch.randn(nxt.shape, generator=gen, dtype=tdtype, device=x.device), alpha=noise)
            x = nxt
    return out if return_all else x
