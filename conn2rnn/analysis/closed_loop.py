"""Closed-loop generation and generalized synchronization, batched over networks.

Works on any :class:`~conn2rnn.models.protocol.LeakyRateModel` (bioRNN ensembles,
reservoir ensembles, single connectome reservoirs, frozen bioRNNs): the K networks
are simulated together from their ``leaky_parameters()`` (state noise off), each
read out from its own ``output_nodes()``.

- :func:`closed_loop`: teacher forcing (the true series is the input, a ridge
  readout learns the next value) then autonomous generation (the readout's
  output is fed back as the input).
- :func:`closed_loop_scores`: invertible generalized synchronization (IGS) scores
  of a closed-loop run: valid prediction time and attractor climate.
- :func:`generalized_synchronization`: how well the drive is reconstructed from the
  states (r^2 per coordinate) and the auxiliary-system test (two copies from
  different initial states converge; conditional Lyapunov exponent < 0).

The input series is z-scored with its training statistics before it enters a
network; generated series are returned in the original units. reservoirpy's
feedback machinery runs one network at a time; here K networks share one loop.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import nulls
from ..models.protocol import LeakyParameters
from ..models.reservoir import ConnectomeReservoir
from ..models.reservoir_ensemble import ReservoirEnsemble, as_recurrent_model
from .chaotic import (
    SYSTEMS,
    chaotic_series,
    correlation_dimension,
    invariant_density_distance,
    power_spectrum_distance,
    return_map_distance,
    valid_prediction_time,
)
from .lyapunov import _activation, _check_int, _drive, _leaky_model, _qr_exponents

__all__ = ["COMPARISON_VARIANTS", "ClosedLoopResult", "closed_loop", "closed_loop_scores", "dynamics_comparison",
           "generalized_synchronization", "summarize_comparison"]

#: |z-scored output| beyond which a closed-loop run counts as diverged
DIVERGENCE_BOUND = 1e3


def _run(p: LeakyParameters, drive: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """(T, K, B, N) states of K networks from h0 (K, B, N) under drive W_in x + b (T, K, N)."""
    f = _activation(p.activation)[0]
    keep, a = (1.0 - p.leak)[:, None, :], p.leak[:, None, :]
    w_t = np.swapaxes(p.w, 1, 2)
    out = np.empty((drive.shape[0],) + h0.shape)
    h = h0
    for t in range(drive.shape[0]):
        h = keep * h + a * f(h @ w_t + drive[t][:, None, :])
        out[t] = h
    return out


def _series(series: Any, n_steps: int, seed: int | None) -> tuple[np.ndarray, str | None]:
    if isinstance(series, str):
        if series not in SYSTEMS:
            raise ValueError(f"unknown series {series!r}; choose one of {list(SYSTEMS)} or pass a (T, D) array")
        return chaotic_series(series, n_steps, seed=seed), series
    arr = np.array(series, dtype=np.float64)
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or not np.all(np.isfinite(arr)):
        raise ValueError(f"series must be a finite (T,) or (T, D) array or a system name; got shape {arr.shape}")
    if arr.shape[0] < n_steps:
        raise ValueError(f"series is too short: {arr.shape[0]} steps given, {n_steps} needed "
                         "(washout + n_train + n_generate + 1); pass a longer series or shorter segments")
    return arr[:n_steps], None


def _visible(model: Any, n_nodes: int) -> np.ndarray:
    """(K, N) float mask of the nodes each network's readout may see; errors name a blind network."""
    nodes = model.output_nodes()
    mask = np.zeros((len(nodes), n_nodes))
    for k, idx in enumerate(nodes):
        idx = np.asarray(idx, dtype=int)
        if idx.size == 0:
            raise ValueError(f"network {k} has no output nodes, so no readout can be fitted; give it output_nodes")
        mask[k, idx] = 1.0
    return mask


def _ridge(x: np.ndarray, y: np.ndarray, mask: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-network ridge readouts with intercepts from x (T, K, N) to y (T, D): w (K, D, N), b (K, D)."""
    xm = x * mask[None]
    x_mean, y_mean = xm.mean(axis=0), y.mean(axis=0)
    xc = xm - x_mean
    gram = np.einsum("tki,tkj->kij", xc, xc) + ridge * np.eye(x.shape[2])
    rhs = np.einsum("tki,td->kid", xc, y - y_mean)
    w = np.linalg.solve(gram, rhs)  # (K, N, D)
    return np.swapaxes(w, 1, 2), y_mean - np.einsum("ki,kid->kd", x_mean, w)


def _check_ridge(ridge: Any) -> float:
    if isinstance(ridge, bool) or not isinstance(ridge, numbers.Real) or not np.isfinite(ridge) or ridge <= 0:
        raise ValueError(f"ridge must be a finite penalty > 0; got {ridge!r}")
    return float(ridge)


@dataclass(frozen=True)
class ClosedLoopResult:
    """A teacher-forced then autonomous run of K networks.

    Attributes
    ----------
    generated : (T_gen, K, D) ndarray
        Autonomous output, original units; NaN after a network diverged.
    truth : (T_gen, D) ndarray
        The true continuation.
    train_nrmse : (K,) ndarray
        One-step teacher-forced NRMSE on the training segment (mean over D).
    w_out : (K, D, N) ndarray
        Readouts (zero outside each network's output nodes), z-scored units.
    b_out : (K, D) ndarray
    handoff : (K, N) ndarray
        State at the switch from teacher forcing to closed loop.
    diverged : (K,) bool ndarray
    mean, std : (D,) ndarray
        Z-scoring statistics of the training segment.
    system : str or None
        Name of the chaotic system, if the series was generated by name.
    """

    generated: np.ndarray
    truth: np.ndarray
    train_nrmse: np.ndarray
    w_out: np.ndarray
    b_out: np.ndarray
    handoff: np.ndarray
    diverged: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    system: str | None


def closed_loop(model: Any, series: Any = "lorenz", *, n_train: int = 2000, n_generate: int = 1000,
                washout: int = 200, ridge: float = 1e-6, seed: int | None = 0) -> ClosedLoopResult:
    """Teacher-force every network on a series, then let it generate the series autonomously.

    During teacher forcing the input at step ``t`` is the true ``s[t]`` and a ridge
    readout of the output nodes learns ``s[t + 1]`` (on ``n_train`` steps after
    ``washout``). From the last teacher-forced state, the readout's prediction is
    fed back as the next input for ``n_generate`` steps. A network whose output
    leaves ``DIVERGENCE_BOUND`` (z-scored) or becomes non-finite is marked
    diverged (NaN from then on) with a warning naming it.

    Parameters
    ----------
    model : LeakyRateModel
        ``n_inputs`` must equal the series dimension D.
    series : {'lorenz', 'rossler', 'mackey_glass'} or (T, D) array_like
    n_train, n_generate, washout : int
    ridge : float
        Ridge penalty (> 0) of the readout, on z-scored targets.
    seed : int, optional
        Seeds the named system's starting point.

    Returns
    -------
    ClosedLoopResult
    """
    model = as_recurrent_model(model)
    p = _leaky_model(model)
    k, n, n_in = p.w_in.shape
    n_train, n_generate = _check_int(n_train, "n_train", 10), _check_int(n_generate, "n_generate", 1)
    washout, ridge = _check_int(washout, "washout", 0), _check_ridge(ridge)
    data, system = _series(series, washout + n_train + n_generate + 1, seed)
    if data.shape[1] != n_in:
        raise ValueError(f"closed-loop generation feeds the readout's D = {data.shape[1]} outputs back as the "
                         f"input, so the model needs n_inputs = {data.shape[1]}; this one has {n_in}")
    mask = _visible(model, n)
    n_fit = washout + n_train
    mean, std = data[:n_fit].mean(axis=0), data[:n_fit].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    z = (data - mean) / std
    with np.errstate(over="ignore", invalid="ignore"):
        states = _run(p, _drive(p, z[:n_fit], n_fit), np.zeros((k, 1, n)))[:, :, 0]  # (T, K, N)
    blown = ~np.all(np.isfinite(states), axis=(0, 2))
    if blown.any():
        warnings.warn(f"teacher-forced states of networks {np.flatnonzero(blown).tolist()[:20]} diverged; "
                      "their readout and generated series are NaN", RuntimeWarning, stacklevel=2)
        states[:, blown] = 0.0
    w_out, b_out = _ridge(states[washout:], z[washout + 1:n_fit + 1], mask, ridge)
    fit = np.einsum("tkn,kdn->tkd", states[washout:], w_out) + b_out
    target = z[washout + 1:n_fit + 1]
    train_nrmse = (np.sqrt(((fit - target[:, None]) ** 2).mean(axis=0)) / target.std(axis=0)).mean(axis=1)
    train_nrmse[blown] = np.nan

    f = _activation(p.activation)[0]
    keep, a = 1.0 - p.leak, p.leak
    h = states[-1].copy()
    out = np.empty((n_generate, k, n_in))
    alive = ~blown
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_generate):
            y = np.einsum("kdn,kn->kd", w_out, h) + b_out
            ok = np.all(np.isfinite(y) & (np.abs(y) < DIVERGENCE_BOUND), axis=1)
            alive &= ok
            y[~alive] = 0.0  # diverged networks keep running on zeros; their output is NaN
            out[t] = np.where(alive[:, None], y, np.nan)
            pre = np.einsum("kij,kj->ki", p.w, h) + np.einsum("kni,ki->kn", p.w_in, y) + p.bias
            h = np.where(alive[:, None], keep * h + a * f(pre), 0.0)
    diverged = ~alive
    if (diverged & ~blown).any():
        warnings.warn(f"closed loop diverged in networks {np.flatnonzero(diverged & ~blown).tolist()[:20]} (output beyond "
                      f"{DIVERGENCE_BOUND:g} s.d. or non-finite); their generated series is NaN from then on",
                      RuntimeWarning, stacklevel=2)
    return ClosedLoopResult(out * std + mean, data[n_fit:n_fit + n_generate].copy(), train_nrmse, w_out, b_out,
                            states[-1].copy(), diverged, mean, std, system)


def _closed_loop_exponent(p: LeakyParameters, result: ClosedLoopResult, n_steps: int) -> np.ndarray:
    """(K,) largest exponent per step of the closed-loop map h -> F(h, W_out h + b_out)."""
    w_eff = p.w + p.w_in @ result.w_out
    b_eff = p.bias + np.einsum("kni,ki->kn", p.w_in, result.b_out)
    closed = LeakyParameters(w_eff, np.zeros(p.w_in.shape[:2] + (1,)), b_eff, p.leak.copy(), p.activation)
    drive = np.broadcast_to(b_eff, (n_steps,) + b_eff.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lam = _qr_exponents(closed, drive, result.handoff, 1, n_steps // 5, np.random.default_rng(0))[:, 0]
    return np.where(result.diverged, np.nan, lam)


def closed_loop_scores(model: Any, result: ClosedLoopResult, *, dt: float | None = None,
                       lyapunov_exponent: float | None = None, threshold: float = 0.4) -> pd.DataFrame:
    """Invertible-GS scores of a closed-loop run, one row per network.

    Parameters
    ----------
    model : LeakyRateModel
        The model ``result`` came from (for the closed-loop Lyapunov exponent).
    result : ClosedLoopResult
    dt, lyapunov_exponent : float, optional
        Sampling interval and true largest exponent; taken from the system when
        the series was generated by name (Lorenz: 0.02 and 0.906).
    threshold : float
        Normalised error threshold of the valid prediction time (0.4).

    Returns
    -------
    pandas.DataFrame
        ``network``, ``train_nrmse``, ``diverged``, ``valid_time`` (Lyapunov
        times), ``lyapunov_closed_loop`` (largest exponent of the autonomous
        network per time unit of the series, from its Jacobian; compare with the
        true exponent), ``correlation_dimension``, ``true_correlation_dimension``,
        ``psd_distance``, ``density_distance``, ``return_map_distance`` (Hellinger,
        0 = identical).
    """
    p = _leaky_model(model)
    if not isinstance(result, ClosedLoopResult):
        raise TypeError(f"result must be a ClosedLoopResult from closed_loop(); got {type(result).__name__}")
    if result.w_out.shape[0] != p.leak.shape[0]:
        raise ValueError(f"result has {result.w_out.shape[0]} networks but the model has {p.leak.shape[0]}")
    if result.system is not None:
        sys = SYSTEMS[result.system]
        dt = sys.dt if dt is None else dt
        lyapunov_exponent = sys.lyapunov if lyapunov_exponent is None else lyapunov_exponent
    if dt is None or lyapunov_exponent is None:
        raise ValueError("dt and lyapunov_exponent are needed for a series given as an array (or for "
                         f"{result.system!r}); pass the sampling interval and the true largest exponent")
    gen, tru = result.generated, result.truth
    n_gen = gen.shape[0]
    table = pd.DataFrame({
        "network": np.arange(gen.shape[1]),
        "train_nrmse": result.train_nrmse,
        "diverged": result.diverged,
        "valid_time": valid_prediction_time(gen, tru, dt=dt, lyapunov_exponent=lyapunov_exponent,
                                            threshold=threshold),
        "lyapunov_closed_loop": _closed_loop_exponent(p, result, n_gen) / dt,
    })
    if n_gen >= 50:
        table["correlation_dimension"] = correlation_dimension(gen)
        table["true_correlation_dimension"] = float(correlation_dimension(tru)[0])
    table["psd_distance"] = power_spectrum_distance(gen, tru)
    table["density_distance"] = invariant_density_distance(gen, tru)
    table["return_map_distance"] = return_map_distance(gen, tru)
    return table


def generalized_synchronization(model: Any, drive: Any = "lorenz", *, n_steps: int = 3000, washout: int = 500,
                                test_size: float = 0.25, ridge: float = 1e-6, seed: int | None = 0
                                ) -> pd.DataFrame:
    """Generalized synchronization of every network to a chaotic drive.

    - ``r2_<i>``: the drive's coordinate ``i`` at step ``t`` reconstructed from the
      states at ``t`` by a ridge readout of the output nodes, fit on the first
      steps after ``washout`` and scored (r^2) on the last ``test_size`` fraction.
    - ``conditional_lyapunov``: the largest Lyapunov exponent of the network
      along the driven trajectory, per step (Jacobian QR).
    - ``auxiliary_ratio``: two copies of each network, started from different
      random states (s.d. 1) and given the same drive, end up this far apart
      (mean distance over the last 10 % of steps / initial distance).
    - ``synchronized``: ``conditional_lyapunov < 0`` and ``auxiliary_ratio < 1e-6``.

    Parameters
    ----------
    model : LeakyRateModel
        ``n_inputs`` must equal the drive dimension.
    drive : {'lorenz', 'rossler', 'mackey_glass'} or (T, D) array_like
    n_steps, washout : int
    test_size : float
    ridge : float
    seed : int, optional
        Seeds the drive's start, the copies' initial states and the tangent vectors.

    Returns
    -------
    pandas.DataFrame
        One row per network.
    """
    model = as_recurrent_model(model)
    p = _leaky_model(model)
    k, n, n_in = p.w_in.shape
    n_steps, washout, ridge = _check_int(n_steps, "n_steps", 2), _check_int(washout, "washout", 0), _check_ridge(ridge)
    if not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1); got {test_size!r}")
    n_test = round(test_size * (n_steps - washout))
    if n_test < 10 or n_steps - washout - n_test < 10:
        raise ValueError(f"n_steps = {n_steps} with washout = {washout} is too short: training and test segments "
                         "need >= 10 steps each")
    data, _ = _series(drive, n_steps, seed)
    if data.shape[1] != n_in:
        raise ValueError(f"the drive has D = {data.shape[1]} coordinates but the model takes n_inputs = {n_in}")
    mask = _visible(model, n)
    n_fit = n_steps - n_test
    z = (data - data[:n_fit].mean(axis=0)) / np.where(data[:n_fit].std(axis=0) > 0, data[:n_fit].std(axis=0), 1)
    rng = np.random.default_rng(seed)
    h0 = np.concatenate([np.zeros((k, 1, n)), rng.standard_normal((k, 2, n))], axis=1)
    drv = _drive(p, z, n_steps)
    with np.errstate(over="ignore", invalid="ignore"):
        states = _run(p, drv, h0)  # (T, K, 3, N): the reference copy from zero and two auxiliary copies
    x = states[:, :, 0]
    bad = ~np.all(np.isfinite(x), axis=(0, 2))
    x = np.where(bad[None, :, None], 0.0, x)  # diverged networks get NaN scores below
    w_out, b_out = _ridge(x[washout:n_fit], z[washout:n_fit], mask, ridge)
    pred = np.einsum("tkn,kdn->tkd", x[n_fit:], w_out) + b_out
    true = z[n_fit:, None, :]
    r2 = 1.0 - ((pred - true) ** 2).sum(axis=0) / ((true - true.mean(axis=0)) ** 2).sum(axis=0)  # (K, D)
    d0 = np.linalg.norm(h0[:, 1] - h0[:, 2], axis=-1)
    with np.errstate(over="ignore", invalid="ignore"):
        dist = np.linalg.norm(states[:, :, 1] - states[:, :, 2], axis=-1)  # (T, K)
        ratio = dist[-max(n_steps // 10, 1):].mean(axis=0) / d0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cle = _qr_exponents(p, drv, h0[:, 0], 1, washout, rng)[:, 0]
    if bad.any():
        warnings.warn(f"networks {np.flatnonzero(bad).tolist()[:20]} diverged under the drive; their scores are NaN",
                      RuntimeWarning, stacklevel=2)
    table = pd.DataFrame({"network": np.arange(k)})
    for i in range(n_in):
        table[f"r2_{i}"] = r2[:, i]
    table["r2_mean"] = r2.mean(axis=1)
    table["conditional_lyapunov"] = cle
    table["auxiliary_ratio"] = ratio
    table.loc[bad, [c for c in table.columns if c != "network"]] = np.nan
    table["synchronized"] = (table["conditional_lyapunov"] < 0) & (table["auxiliary_ratio"] < 1e-6)
    return table


# ----------------------------------------------------------------------------- comparison
COMPARISON_VARIANTS: tuple[str, ...] = ("connectome", "rewired", "shuffled", "spatial", "random", "trained")


def dynamics_comparison(graph: Any, *, radii: Any = (0.6, 0.9, 1.2, 1.5), n_seeds: int = 5, trained: Any = None,
                        system: str = "lorenz", leak: float = 0.3, input_scaling: float = 0.3,
                        bias_scaling: float = 0.5, input_nodes: Any = None, output_nodes: Any = None,
                        n_train: int = 3000, n_generate: int = 1000, n_drives: int = 3, seed: int = 0
                        ) -> pd.DataFrame:
    """Which recurrent weights synchronize to a chaotic drive and which regenerate it.

    For every seed ``s`` one set of input weights, biases, leak, input and output
    nodes (a connectome reservoir of ``graph`` built with seed ``s``) is combined
    with each recurrent matrix, rescaled to each spectral radius, so the variants
    differ only in ``W``:

    ``connectome`` (the graph's), ``rewired`` (degree-preserving,
    :func:`~conn2rnn.nulls.rewire_degree_preserving`), ``shuffled`` (weights
    permuted on the same edges), ``spatial`` (exponential distance rule),
    ``random`` (density-matched random), ``trained`` (network ``s`` of
    ``trained``, e.g. bioRNNs trained on a task; omitted when ``trained`` is None).

    All networks of one radius run as one ensemble through
    :func:`generalized_synchronization`, :func:`closed_loop` and
    :func:`closed_loop_scores`. The closed-loop scores are averaged over
    ``n_drives`` trajectories of the system (seeds ``seed .. seed + n_drives - 1``):
    the valid time of one trajectory depends strongly on where it starts.

    Parameters
    ----------
    graph : BrainGraph
        With a connectome and Euclidean distances.
    radii : sequence of float
    n_seeds : int
    trained : LeakyRateModel, optional
        At least ``n_seeds`` networks on the graph's N nodes; their effective W is used.
    system : str
        Chaotic drive (see :data:`~conn2rnn.analysis.chaotic.SYSTEMS`).
    leak, input_scaling, bias_scaling : float
        Reservoir settings shared by every variant.
    input_nodes, output_nodes : optional
        As in :meth:`~conn2rnn.models.ConnectomeReservoir.from_graph` (e.g.
        ``("Vis",)`` and ``("Default",)``); all nodes by default.
    n_train, n_generate : int
        Teacher-forced and autonomous steps.
    n_drives : int
        Trajectories the closed-loop scores are averaged over.
    seed : int
        Seeds the drive and (offset by ``s``) the nulls.

    Returns
    -------
    pandas.DataFrame
        One row per variant, seed and radius: ``variant``, ``seed``,
        ``spectral_radius`` and the columns of :func:`generalized_synchronization`
        and :func:`closed_loop_scores`.
    """
    n_seeds, n_drives = _check_int(n_seeds, "n_seeds", 1), _check_int(n_drives, "n_drives", 1)
    w = np.asarray(getattr(graph, "connectome", None) if graph is not None else None)
    if w.ndim != 2:
        raise ValueError("graph must be a BrainGraph with a connectome (load_atlas(..., connectome='enigma_hcp'))")
    symmetric = bool(np.allclose(w, w.T))
    trained_w = None
    if trained is not None:
        trained_w = _leaky_model(trained, "trained").w
        if trained_w.shape[0] < n_seeds or trained_w.shape[1] != w.shape[0]:
            raise ValueError(f"trained must hold >= n_seeds = {n_seeds} networks of N = {w.shape[0]} nodes; "
                             f"got {trained_w.shape[0]} networks of {trained_w.shape[1]}")
    dim = SYSTEMS[system].dim if system in SYSTEMS else None
    if dim is None:
        raise ValueError(f"unknown system {system!r}; choose one of {list(SYSTEMS)}")
    bases, labels = [], []
    for s in range(n_seeds):
        base = ConnectomeReservoir.from_graph(graph, n_inputs=dim, spectral_radius=None, leak=leak,
                                              input_scaling=input_scaling, bias_scaling=bias_scaling,
                                              input_nodes=input_nodes, output_nodes=output_nodes, seed=s)
        mats = {
            "connectome": w,
            "rewired": nulls.rewire_degree_preserving(w, directed=not symmetric, seed=seed + s),
            "shuffled": nulls.shuffle_weights(w, symmetric=symmetric, seed=seed + s),
            "spatial": nulls.spatial_null(w, graph.distance("euclidean"), symmetric=symmetric, seed=seed + s),
            "random": nulls.random_density_matched(w, symmetric=symmetric, seed=seed + s),
        }
        if trained_w is not None:
            mats["trained"] = trained_w[s]
        for name, mat in mats.items():
            bases.append((base, mat))
            labels.append((name, s))
    tables = []
    for rho in np.asarray(radii, dtype=np.float64).ravel():
        members = tuple(ConnectomeReservoir.from_arrays(mat, base.W_in, spectral_radius=float(rho), bias=base.bias,
                                                        leak=base.leak, activation=base.activation,
                                                        output_nodes=base.output_nodes)
                        for base, mat in bases)
        ens = ReservoirEnsemble(members, tuple(range(len(members))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gs = generalized_synchronization(ens, system, seed=seed)
            runs = [closed_loop_scores(ens, closed_loop(ens, system, n_train=n_train, n_generate=n_generate,
                                                        seed=seed + j)) for j in range(n_drives)]
            igs = pd.concat(runs).groupby("network", as_index=False).mean()
        table = gs.merge(igs, on="network")
        table.insert(0, "spectral_radius", float(rho))
        table.insert(0, "seed", [s for _, s in labels])
        table.insert(0, "variant", [v for v, _ in labels])
        tables.append(table.drop(columns="network"))
    return pd.DataFrame(pd.concat(tables, ignore_index=True))


def summarize_comparison(table: pd.DataFrame, metrics: Any = ("synchronized", "valid_time",
                                                               "lyapunov_closed_loop", "correlation_dimension",
                                                               "conditional_lyapunov")) -> pd.DataFrame:
    """Mean, standard deviation and n of each metric per variant and spectral radius.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`dynamics_comparison`.
    metrics : sequence of str

    Returns
    -------
    pandas.DataFrame
        ``variant``, ``spectral_radius``, ``metric``, ``n``, ``mean``, ``sd``.
    """
    missing = [m for m in ("variant", "spectral_radius", *metrics) if m not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; pass the output of dynamics_comparison")
    long = table.melt(id_vars=["variant", "spectral_radius"], value_vars=list(metrics), var_name="metric")
    long["value"] = long["value"].astype(float)
    out = long.groupby(["variant", "spectral_radius", "metric"], sort=False)["value"].agg(
        n="count", mean="mean", sd="std").reset_index()
    return out
