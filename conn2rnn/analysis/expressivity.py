"""What a reservoir can compute: memory capacity, impulse recall, forecasting, sweeps.

All functions take a :class:`~conn2rnn.models.reservoir.ConnectomeReservoir` (read
out from its output nodes) and fit linear readouts with a ridge penalty on a
training segment, scoring on a held-out segment (or held-out trials).
"""

from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import linalg

from conn2rnn.fitting.readout import ClassifierReadout, RidgeReadout, evaluate_readout
from conn2rnn.models.engine import simulate
from conn2rnn.models.reservoir import ConnectomeReservoir, spectral_radius

__all__ = [
    "forecast_score",
    "impulse_recall",
    "memory_capacity",
    "per_network_readout",
    "sweep_spectral_radius",
]

FORECAST_SERIES: tuple[str, ...] = ("mackey_glass", "lorenz")


# ----------------------------------------------------------------------------- helpers
def _ridge_fit(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression with an unpenalised intercept: returns W (F, O), b (O,)."""
    x_mean, y_mean = x.mean(axis=0), y.mean(axis=0)
    xc = x - x_mean
    gram = xc.T @ xc + ridge * np.eye(x.shape[1])
    w = linalg.solve(gram, xc.T @ (y - y_mean), assume_a="sym")
    return w, y_mean - x_mean @ w


def _squared_corr(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Squared Pearson correlation per column; 0 where the prediction is constant."""
    p, t = pred - pred.mean(axis=0), true - true.mean(axis=0)
    denom = np.sqrt((p ** 2).sum(axis=0) * (t ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denom > 0, (p * t).sum(axis=0) / denom, 0.0)
    return r ** 2


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def _check_ridge(ridge: Any) -> float:
    if isinstance(ridge, bool) or not isinstance(ridge, numbers.Real) or not np.isfinite(ridge) or ridge < 0:
        raise ValueError(f"ridge must be a finite penalty >= 0; got {ridge!r}")
    return float(ridge)


def _n_test(test_size: Any, n_rows: int) -> int:
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, numbers.Real) and 0 < test_size < 1:
        n_test = int(round(test_size * n_rows))
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or a number of steps; got {test_size!r}")
    if not 2 <= n_test <= n_rows - 2:
        raise ValueError(f"test_size leaves {n_test} test and {n_rows - n_test} training rows; both need >= 2 "
                         "(use more steps or another test_size)")
    return n_test


def _two_seeds(seed: int | None) -> tuple[np.random.Generator, int]:
    """Independent streams for the task's own draws and for the reservoir's state noise."""
    data_ss, noise_ss = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(data_ss), int(noise_ss.generate_state(1)[0])


def _states_fn(reservoir: Any, seed: int | None) -> tuple[Callable[[np.ndarray], np.ndarray], int | None]:
    """A function (T, B, I) -> readable states (T, B, F) and the expected number of inputs."""
    if isinstance(reservoir, ConnectomeReservoir):
        return (lambda u: reservoir.output_states(reservoir.run(u, seed=seed))), reservoir.n_inputs
    if callable(reservoir):
        return (lambda u: np.asarray(reservoir(u), dtype=np.float64)), None
    raise TypeError(f"reservoir must be a ConnectomeReservoir or a function inputs (T, B, I) -> states "
                    f"(T, B, N); got {type(reservoir).__name__}")


# ----------------------------------------------------------------------------- memory
def memory_capacity(reservoir: Any, *, max_delay: int, n_steps: int = 2000, washout: int | None = None,
                    min_delay: int = 1, test_size: float | int = 0.2, ridge: float = 1e-8,
                    inputs: Any = None, seed: int | None = None) -> dict[str, Any]:
    """Linear memory capacity (Jaeger 2001): how much of the input's past the states hold.

    An i.i.d. signal ``u`` (uniform in [-0.8, 0.8], as in reservoirpy) drives the
    reservoir as one stream. For each delay ``k`` a ridge readout reconstructs
    ``u(t - k)`` from the states at ``t``; ``MC_k`` is the squared correlation between
    reconstruction and truth on the test segment (the last steps), and
    ``MC = sum_k MC_k``. A delay line of N linear units stores ``u(t), ..., u(t-N+1)``:
    its MC is N counted from ``min_delay=0`` and N - 1 from ``min_delay=1`` (Jaeger's and
    reservoirpy's convention).

    Parameters
    ----------
    reservoir : ConnectomeReservoir or callable
        A reservoir with one input channel (read out from its output nodes), or a
        function mapping inputs (T, B, 1) to states (T, B, N).
    max_delay : int
        Largest delay k.
    n_steps : int
        Length of the random input stream (ignored when ``inputs`` is given).
    washout : int, optional
        Initial steps discarded; at least ``max_delay`` (the default).
    min_delay : int
        Smallest delay (1: Jaeger's definition; 0 also counts the current input).
    test_size : float or int
        Fraction (or number) of the post-washout steps used for testing.
    ridge : float
        Ridge penalty of the readouts.
    inputs : (T,) array_like, optional
        Use this input stream instead of a random one.
    seed : int, optional
        Seeds the input stream and the reservoir's state noise.

    Returns
    -------
    dict
        ``total`` (float), ``per_delay`` ((n_delays,) ndarray), ``delays`` (int ndarray).
    """
    max_delay = _check_int(max_delay, "max_delay", 1)
    min_delay = _check_int(min_delay, "min_delay", 0)
    if min_delay > max_delay:
        raise ValueError(f"min_delay ({min_delay}) must not exceed max_delay ({max_delay})")
    washout = max_delay if washout is None else _check_int(washout, "washout", 0)
    if washout < max_delay:
        raise ValueError(f"washout ({washout}) must be >= max_delay ({max_delay}) so every delayed target exists")
    ridge = _check_ridge(ridge)
    rng, noise_seed = _two_seeds(seed)
    run, n_in = _states_fn(reservoir, noise_seed)
    if n_in is not None and n_in != 1:
        raise ValueError(f"memory capacity needs a reservoir with one input channel; this one has {n_in} "
                         "(build it with n_inputs=1)")
    if inputs is None:
        u = rng.uniform(-0.8, 0.8, _check_int(n_steps, "n_steps", 1))
    else:
        u = np.asarray(inputs, dtype=np.float64).ravel()
        if not np.all(np.isfinite(u)):
            raise ValueError("inputs contain NaN or infinite values")
    n_rows = u.size - washout
    n_test = _n_test(test_size, n_rows)
    states = run(u[:, None, None])
    if states.ndim != 3 or states.shape[:2] != (u.size, 1):
        raise ValueError(f"the reservoir function must return states (T, 1, N) = ({u.size}, 1, N); "
                         f"got {states.shape}")
    x = states[washout:, 0, :]
    delays = np.arange(min_delay, max_delay + 1)
    t = np.arange(washout, u.size)
    y = u[t[:, None] - delays[None, :]]
    w, b = _ridge_fit(x[:-n_test], y[:-n_test], ridge)
    per_delay = _squared_corr(x[-n_test:] @ w + b, y[-n_test:])
    return {"total": float(per_delay.sum()), "per_delay": per_delay, "delays": delays}


def sweep_spectral_radius(w: Any, radii: Any, inputs: Any, *, w_in: Any = None, leak: Any = None,
                          bias: Any = None, activation: str | None = None, noise: float | None = None,
                          seed: int | None = None, backend: str = "numpy", dtype: Any = np.float64):
    """Simulate one network at several spectral radii in a single engine call.

    Parameters
    ----------
    w : (N, N) array_like or ConnectomeReservoir
        Weights ``w[target, source]``; a reservoir also supplies the defaults of
        ``w_in``, ``leak``, ``bias``, ``activation`` and ``noise``.
    radii : (M,) array_like
        Spectral radii (>= 0; 0 gives no recurrence).
    inputs : (T, B, I) array_like
    w_in : (N, I) array_like
        Required when ``w`` is an array.
    leak, bias, activation, noise
        As in :func:`conn2rnn.models.engine.simulate` (array defaults: 1, 0, 'tanh', 0).
    seed, backend, dtype
        As in :func:`conn2rnn.models.engine.simulate`.

    Returns
    -------
    states : (T, M, B, N) ndarray (tensor for ``backend='torch'``)
    """
    if isinstance(w, ConnectomeReservoir):
        base = w.W
        defaults = {"w_in": w.W_in, "leak": w.leak, "bias": w.bias, "activation": w.activation, "noise": w.noise}
    else:
        base = w
        defaults = {"w_in": None, "leak": 1.0, "bias": 0.0, "activation": "tanh", "noise": 0.0}
    given = {"w_in": w_in, "leak": leak, "bias": bias, "activation": activation, "noise": noise}
    opts = {k: defaults[k] if v is None else v for k, v in given.items()}
    if opts["w_in"] is None:
        raise ValueError("w_in is required when w is an array; pass w_in=(N, I) input weights")
    r = np.asarray(radii, dtype=np.float64).ravel()
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValueError(f"radii must be a non-empty list of finite numbers >= 0; got {radii!r}")
    rho = spectral_radius(base)
    if rho == 0:
        raise ValueError("w has spectral radius 0 (all zero or nilpotent) and cannot be rescaled")
    stack = r[:, None, None] * (np.asarray(base, dtype=np.float64) / rho)[None]
    return simulate(stack, opts["w_in"], inputs, opts["leak"], opts["bias"], activation=opts["activation"],
                    noise=float(opts["noise"]), seed=seed, backend=backend, dtype=dtype)


def impulse_recall(reservoir: ConnectomeReservoir, *, max_lag: int = 30, scales: Any = None,
                   n_trials: int = 400, noise: float = 0.01, channel: int = 0, test_size: float = 0.25,
                   ridge: float = 1e-6, seed: int | None = None) -> pd.DataFrame:
    """How long an input pulse stays linearly decodable, at one or several connectivity scales.

    Each trial gets one pulse of random amplitude ``a ~ U(-1, 1)`` on ``channel`` at
    step 0 and no input afterwards. For each lag ``L`` a ridge readout of the
    output-node states at step ``L`` is fit on training trials to recover ``a``;
    recall is the squared correlation on held-out trials. State noise (``noise``)
    sets the floor: without it a linear readout recovers even vanishing traces.

    Parameters
    ----------
    reservoir : ConnectomeReservoir
    max_lag : int
        Largest lag (steps after the pulse).
    scales : (M,) array_like, optional
        Spectral radii to rescale ``W`` to (all run in one engine call); ``None`` uses
        ``W`` as it is.
    n_trials : int
    noise : float
        State-noise standard deviation used here (replaces the reservoir's).
    channel : int
        Input channel carrying the pulse.
    test_size : float
        Fraction of trials held out.
    ridge : float
    seed : int, optional
        Seeds amplitudes, noise and the trial split.

    Returns
    -------
    pandas.DataFrame
        Columns ``scale``, ``lag``, ``recall`` (one row per scale and lag 0..max_lag).
    """
    if not isinstance(reservoir, ConnectomeReservoir):
        raise TypeError(f"reservoir must be a ConnectomeReservoir; got {type(reservoir).__name__}")
    max_lag = _check_int(max_lag, "max_lag", 0)
    n_trials = _check_int(n_trials, "n_trials", 8)
    ridge = _check_ridge(ridge)
    if not 0 <= channel < reservoir.n_inputs:
        raise ValueError(f"channel must be in 0..{reservoir.n_inputs - 1}; got {channel!r}")
    rng = np.random.default_rng(seed)
    amp = rng.uniform(-1.0, 1.0, n_trials)
    u = np.zeros((max_lag + 1, n_trials, reservoir.n_inputs))
    u[0, :, channel] = amp
    noise_seed = int(rng.integers(2 ** 31))
    if scales is None:
        scale_list = np.array([spectral_radius(reservoir.W)])
        states = simulate(reservoir.W[None], reservoir.W_in, u, reservoir.leak, reservoir.bias,
                          activation=reservoir.activation, noise=noise, seed=noise_seed)
    else:
        scale_list = np.asarray(scales, dtype=np.float64).ravel()
        states = sweep_spectral_radius(reservoir, scale_list, u, noise=noise, seed=noise_seed)
    feats = states[..., reservoir.output_nodes]  # (T, M, B, F)
    n_test = _n_test(test_size, n_trials)
    order = rng.permutation(n_trials)
    train, test = order[n_test:], order[:n_test]
    rows = []
    for m, scale in enumerate(scale_list):
        for lag in range(max_lag + 1):
            x = feats[lag, m]
            w, b = _ridge_fit(x[train], amp[train, None], ridge)
            recall = float(_squared_corr(x[test] @ w + b, amp[test, None])[0])
            rows.append({"scale": float(scale), "lag": lag, "recall": recall})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- forecasting
def _forecast_series(series: Any, n_points: int, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    if isinstance(series, str):
        from reservoirpy import datasets  # heavy; only for reservoirpy's bundled series

        if series == "mackey_glass":
            return series, datasets.mackey_glass(n_points, seed=rng)
        if series == "lorenz":
            return series, datasets.lorenz(n_points)
        raise ValueError(f"unknown series {series!r}; choose one of {list(FORECAST_SERIES)} or pass an array")
    arr = np.asarray(series, dtype=np.float64)
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or not np.all(np.isfinite(arr)):
        raise ValueError(f"series must be a finite (T,) or (T, D) array; got shape {arr.shape}")
    return "array", arr


def forecast_score(reservoir: ConnectomeReservoir, series: Any = "mackey_glass", *, n_steps: int = 2000,
                   washout: int = 200, horizon: int = 1, test_size: float = 0.25, ridge: float = 1e-6,
                   seed: int | None = None) -> dict[str, Any]:
    """Predict a chaotic series ``horizon`` steps ahead with a ridge readout.

    The series is z-scored with its training-segment statistics and fed as the
    input; the readout (output nodes) is fit to ``s(t + horizon)`` on the first
    steps after ``washout`` and scored on the last ``test_size`` fraction.

    Parameters
    ----------
    reservoir : ConnectomeReservoir
        Its number of inputs must equal the series dimension (Mackey-Glass 1, Lorenz 3).
    series : {'mackey_glass', 'lorenz'} or (T,) / (T, D) array_like
        reservoirpy's ``datasets.mackey_glass`` / ``datasets.lorenz``, or your own.
    n_steps : int
        Input steps generated for a named series.
    washout : int
    horizon : int
    test_size : float
    ridge : float
    seed : int, optional
        Seeds the Mackey-Glass history and the state noise.

    Returns
    -------
    dict
        ``nrmse`` (RMSE / target standard deviation, averaged over dimensions),
        ``r2`` (averaged over dimensions), ``series``, ``n_train``, ``n_test``.
    """
    if not isinstance(reservoir, ConnectomeReservoir):
        raise TypeError(f"reservoir must be a ConnectomeReservoir; got {type(reservoir).__name__}")
    horizon = _check_int(horizon, "horizon", 1)
    washout = _check_int(washout, "washout", 0)
    ridge = _check_ridge(ridge)
    rng, noise_seed = _two_seeds(seed)
    name, data = _forecast_series(series, _check_int(n_steps, "n_steps", 1) + horizon, rng)
    if data.shape[1] != reservoir.n_inputs:
        raise ValueError(f"the {name} series has {data.shape[1]} dimension(s) but the reservoir takes "
                         f"{reservoir.n_inputs} input(s); build it with n_inputs={data.shape[1]}")
    x_in, target = data[:-horizon], data[horizon:]
    n_rows = x_in.shape[0] - washout
    n_test = _n_test(test_size, n_rows)
    n_fit = washout + n_rows - n_test
    mean, std = x_in[:n_fit].mean(axis=0), x_in[:n_fit].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    states = reservoir.output_states(reservoir.run(((x_in - mean) / std)[:, None, :], seed=noise_seed))[:, 0]
    y = (target - mean) / std
    w, b = _ridge_fit(states[washout:n_fit], y[washout:n_fit], ridge)
    pred, true = states[n_fit:] @ w + b, y[n_fit:]
    rmse = np.sqrt(((pred - true) ** 2).mean(axis=0))
    ss_res = ((pred - true) ** 2).sum(axis=0)
    ss_tot = ((true - true.mean(axis=0)) ** 2).sum(axis=0)
    return {"nrmse": float(np.mean(rmse / true.std(axis=0))), "r2": float(np.mean(1 - ss_res / ss_tot)),
            "series": name, "n_train": int(n_rows - n_test), "n_test": int(n_test)}


# ----------------------------------------------------------------------------- per network
def per_network_readout(states: Any, graph_networks: Any, batch: Any, *, readout: Any = None,
                        test_size: float = 0.25, seed: int | None = None) -> pd.DataFrame:
    """Fit one readout per network (e.g. Yeo-7), each seeing only that network's nodes.

    Parameters
    ----------
    states : (T, B, N) array_like
    graph_networks : (N,) sequence of str or BrainGraph
        Network label of each node (a graph's ``networks``).
    batch : TaskBatch
    readout : RidgeReadout or ClassifierReadout, optional
        Template (cloned per network, ``output_nodes`` replaced); by default the
        one matching ``batch.kind``.
    test_size : float
        Fraction of held-out trials (same split for every network).
    seed : int, optional

    Returns
    -------
    pandas.DataFrame
        One row per network in order of appearance plus ``'all'``: ``network``,
        ``n_nodes``, ``train_score``, ``test_score``, ``metric`` (``'accuracy'`` or ``'r2'``).
    """
    from sklearn.base import clone

    labels = np.asarray(getattr(graph_networks, "networks", graph_networks)).astype(str)
    n_nodes = np.shape(states)[-1]
    if labels.shape != (n_nodes,):
        raise ValueError(f"graph_networks must give one label per node ({n_nodes}); got shape {labels.shape}")
    kind = getattr(batch, "kind", None)
    if readout is None:
        readout = ClassifierReadout() if kind == "classification" else RidgeReadout()
    groups = [(str(net), np.flatnonzero(labels == net)) for net in pd.unique(labels)]
    groups.append(("all", np.arange(n_nodes)))
    rows = []
    for net, idx in groups:
        res = evaluate_readout(clone(readout).set_params(output_nodes=idx), states, batch,
                               test_size=test_size, seed=seed)
        rows.append({"network": net, "n_nodes": int(idx.size), "train_score": res["train_score"],
                     "test_score": res["test_score"],
                     "metric": "accuracy" if kind == "classification" else "r2"})
    return pd.DataFrame(rows)
