"""Fixed points, slow points and basins of attraction of leaky rate networks.

:func:`fixed_points` works on every :class:`~conn2rnn.models.protocol.LeakyRateModel`
(bioRNN ensembles, reservoir ensembles, frozen bioRNNs): the update
``F(h) = (1 - a) h + a f(W h + W_in x + b)`` at a constant input ``x`` is read
from ``leaky_parameters()``, and the speed ``q(h) = 0.5 |F(h) - h|^2`` is
minimised from many starts of all K networks at once (Sussillo & Barak 2013).
Points with ``q < tol`` are fixed points, points with ``tol <= q < slow_tol`` slow
points. Each is classified by the eigenvalues of the Jacobian
``dF/dh = diag(1 - a) + diag(a f'(pre)) W``.

:func:`basin_analysis` perturbs the states along a trial and measures whether
they return to the unperturbed trajectory.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..models._recurrence import activation_fn
from ..models.protocol import check_inputs
from ..models.reservoir_ensemble import as_recurrent_model
from .lyapunov import _activation, _check_int, _leaky_model

__all__ = ["FixedPoints", "basin_analysis", "fixed_points"]


@dataclass(frozen=True)
class FixedPoints:
    """Fixed and slow points of K networks.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per distinct point: ``network``, ``point`` (index within the
        network), ``kind`` ('fixed' or 'slow'), ``q``, ``stability`` ('stable':
        all ``|lambda| < 1``; 'unstable': all ``> 1``; 'saddle': both;
        'marginal': some within ``marginal_tol`` of 1), ``n_hits`` (starts that
        ended there), ``max_abs_eig`` and ``n_unstable`` (eigenvalues with
        ``|lambda| > 1``).
    points : tuple of (P_k, N) ndarray
        The points of each network, in the table's order (increasing q).
    eigenvalues : tuple of (P_k, N) complex ndarray
        Jacobian eigenvalues of each point, by decreasing modulus.
    n_starts : int
        Starts per network.
    """

    table: pd.DataFrame
    points: tuple[np.ndarray, ...]
    eigenvalues: tuple[np.ndarray, ...]
    n_starts: int

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`."""
        return self.table.copy()


def _classify(eig: np.ndarray, marginal_tol: float) -> str:
    mag = np.abs(eig)
    if np.any(np.abs(mag - 1.0) <= marginal_tol):
        return "marginal"
    if np.all(mag < 1.0):
        return "stable"
    return "unstable" if np.all(mag > 1.0) else "saddle"


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


def _starts(init: Any, k: int, n: int, n_starts: int, init_scale: float, seed: Any) -> np.ndarray:
    """(K, S, N) starting states."""
    if init is None:
        return init_scale * np.random.default_rng(seed).standard_normal((k, n_starts, n))
    arr = np.array(init, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == n:
        arr = np.broadcast_to(arr, (k,) + arr.shape).copy()
    if arr.ndim != 3 or arr.shape[0] != k or arr.shape[2] != n or arr.shape[1] < 1:
        raise ValueError(f"init must be (S, N) = (S, {n}) shared by the networks or (K, S, N) = ({k}, S, {n}); "
                         f"got shape {np.shape(init)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("init contains NaN or infinite values")
    return arr


def _newton_polish(p: Any, drive: np.ndarray, h: np.ndarray, q: np.ndarray, n_iter: int = 8,
                   max_step: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps on f(W h + c) - h for all starts at once; a step is kept only if it is short
    (near a fixed point, not across a slow region) and lowers the speed q."""
    f, df = _activation(p.activation)
    eye = np.eye(h.shape[-1])
    for _ in range(n_iter):
        pre = np.einsum("kij,ksj->ksi", p.w, h) + drive[:, None, :]
        resid = f(pre) - h
        jac = df(pre)[..., None] * p.w[:, None] - eye
        try:
            step = np.linalg.solve(jac, resid[..., None])[..., 0]
        except np.linalg.LinAlgError:
            break
        new = h - step
        q_new = 0.5 * ((p.leak[:, None, :] * (f(np.einsum("kij,ksj->ksi", p.w, new) + drive[:, None, :]) - new))
                       ** 2).sum(axis=-1)
        keep = (np.linalg.norm(step, axis=-1) < max_step) & (q_new < q)
        if not keep.any():
            break
        h = np.where(keep[..., None], new, h)
        q = np.where(keep, q_new, q)
    return h, q


def fixed_points(model: Any, inputs: Any = None, *, init: Any = None, n_starts: int = 64, init_scale: float = 1.0,
                 seed: int | None = 0, tol: float = 1e-12, slow_tol: float = 1e-4, max_iter: int = 2000,
                 dedup_tol: float = 1e-4, marginal_tol: float = 1e-6) -> FixedPoints:
    """Fixed and slow points of every network, found by minimising the speed ``q``.

    All starts of all networks are optimised together (L-BFGS on the sum of their
    independent ``q``; float64), then polished by a few batched Newton steps on
    ``f(W h + W_in x + b) = h`` (kept only where short and lowering ``q``). Starts ending with ``q < slow_tol`` are merged
    per network when closer than ``dedup_tol`` (Euclidean), keeping the lowest
    ``q``. A point with ``q < tol`` is 'fixed', otherwise 'slow'.

    Parameters
    ----------
    model : LeakyRateModel
        A BioRNN, a ReservoirEnsemble, a ConnectomeReservoir or a frozen bioRNN.
    inputs : (I,) or (K, I) array_like, optional
        The constant input at which to look (zeros by default).
    init : (S, N) or (K, S, N) array_like, optional
        Starting states, e.g. states visited during a task
        (``model.states(x)[t_idx, k]``); otherwise ``n_starts`` normal starts.
    n_starts : int
        Random starts per network (without ``init``).
    init_scale : float
        Standard deviation of the random starts.
    seed : int, optional
    tol, slow_tol : float
        Speed thresholds of fixed and slow points.
    max_iter : int
        Most L-BFGS iterations; the search stops earlier once every start has
        ``q < tol`` or 50 iterations lower the summed speed by less than 0.1 %.
    dedup_tol : float
    marginal_tol : float

    Returns
    -------
    FixedPoints
    """
    import torch

    model = as_recurrent_model(model)
    p = _leaky_model(model)
    k, n, n_in = p.w_in.shape
    tol, slow_tol = _positive(tol, "tol"), _positive(slow_tol, "slow_tol")
    if slow_tol < tol:
        raise ValueError(f"slow_tol ({slow_tol:g}) must be >= tol ({tol:g})")
    dedup_tol, marginal_tol = _positive(dedup_tol, "dedup_tol"), _positive(marginal_tol, "marginal_tol")
    x = np.zeros((k, n_in)) if inputs is None else np.array(inputs, dtype=np.float64)
    if x.shape == (n_in,):
        x = np.broadcast_to(x, (k, n_in))
    if x.shape != (k, n_in) or not np.all(np.isfinite(x)):
        raise ValueError(f"inputs must be a finite constant input (I,) = ({n_in},) or (K, I) = ({k}, {n_in}); "
                         f"got shape {np.shape(inputs)}")
    h0 = _starts(init, k, n, _check_int(n_starts, "n_starts", 1), _positive(init_scale, "init_scale"), seed)
    drive = np.einsum("kni,ki->kn", p.w_in, x) + p.bias  # (K, N)

    f = activation_fn(p.activation)
    w_t = torch.from_numpy(np.array(np.swapaxes(p.w, 1, 2), order="C"))
    c = torch.from_numpy(drive.copy())[:, None, :]
    a = torch.from_numpy(p.leak.copy())[:, None, :]

    def speed(h: torch.Tensor) -> torch.Tensor:
        return 0.5 * (a * (f(torch.bmm(h, w_t) + c) - h)).square().sum(dim=-1)  # (K, S)

    h = torch.from_numpy(h0.copy()).requires_grad_(True)
    max_iter = _check_int(max_iter, "max_iter", 1)
    chunk = min(max_iter, 50)

    def closure() -> torch.Tensor:
        loss = speed(h).sum()
        (h.grad,) = torch.autograd.grad(loss, h)
        return loss

    # in chunks of L-BFGS, each polished by Newton steps; stop once every start is a fixed
    # point or the summed speed stalls (the rest are slow points)
    previous = np.inf
    for _ in range(-(-max_iter // chunk)):
        opt = torch.optim.LBFGS([h], lr=1.0, max_iter=chunk, tolerance_grad=1e-15, tolerance_change=1e-20,
                                history_size=50, line_search_fn="strong_wolfe")
        opt.step(closure)
        with torch.no_grad():
            q_all = speed(h).numpy()
            polished, q_all = _newton_polish(p, drive, h.detach().numpy().copy(), q_all)
            h.copy_(torch.from_numpy(polished))
        total = float(q_all.sum())
        if not np.isfinite(total) or np.all(q_all < tol) or total > (1.0 - 1e-3) * previous:
            break
        previous = total
    final = h.detach().numpy().copy()

    df_np = _activation(p.activation)[1]
    rows, points, eigs = [], [], []
    for j in range(k):  # deduplication is irregular (a different number of points per network)
        cand = np.flatnonzero(np.isfinite(q_all[j]) & (q_all[j] < slow_tol))
        cand = cand[np.argsort(q_all[j, cand], kind="stable")]
        pts = final[j, cand]
        dist = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=-1)
        reps: list[int] = []
        hits: list[int] = []
        for i in range(cand.size):
            near = [r for r in range(len(reps)) if dist[i, reps[r]] < dedup_tol]
            if near:
                hits[near[0]] += 1
            else:
                reps.append(i)
                hits.append(1)
        kept = pts[reps] if reps else np.zeros((0, n))
        pre = kept @ p.w[j].T + drive[j]
        jac = np.diag(1.0 - p.leak[j])[None] + (p.leak[j] * df_np(pre))[:, :, None] * p.w[j][None]
        ev = np.linalg.eigvals(jac) if len(reps) else np.zeros((0, n), dtype=complex)
        ev = np.take_along_axis(ev, np.argsort(-np.abs(ev), axis=1, kind="stable"), axis=1)
        points.append(kept)
        eigs.append(ev.astype(complex))
        for r, i in enumerate(reps):
            q = float(q_all[j, cand[i]])
            rows.append({"network": j, "point": r, "kind": "fixed" if q < tol else "slow", "q": q,
                         "stability": _classify(ev[r], marginal_tol), "n_hits": hits[r],
                         "max_abs_eig": float(np.abs(ev[r, 0])), "n_unstable": int((np.abs(ev[r]) > 1).sum())})
    columns = ["network", "point", "kind", "q", "stability", "n_hits", "max_abs_eig", "n_unstable"]
    return FixedPoints(pd.DataFrame(rows, columns=columns), tuple(points), tuple(eigs), int(h0.shape[1]))


def basin_analysis(model: Any, inputs: Any, *, times: Any = None, scales: Any = (0.1, 0.5, 1.0),
                   n_directions: int = 8, horizon: int | None = None, return_tol: float = 0.1,
                   seed: int | None = 0) -> pd.DataFrame:
    """Do states perturbed along a trial return to the unperturbed trajectory?

    At each time ``t`` of ``times`` the state of every trial is displaced by
    ``scale`` (Euclidean norm, state units) along ``n_directions`` random
    directions, and the network continues with the same inputs from ``t + 1``.
    The ratio of the distance to the unperturbed trajectory after ``horizon``
    steps to the initial displacement measures the return: below ``return_tol``
    the perturbation counts as returned (the state lies in the basin of the
    trajectory's attractor). Works through ``model.states`` only, so on every
    :class:`~conn2rnn.models.protocol.RecurrentModel`.

    Parameters
    ----------
    model : RecurrentModel
    inputs : (T, B, I) array_like
    times : sequence of int, optional
        Steps at which to perturb; 5 evenly spaced steps before ``T - horizon`` by default.
    scales : sequence of float
    n_directions : int
    horizon : int, optional
        Steps after the perturbation at which the distance is measured; by
        default ``T // 4``.
    return_tol : float
    seed : int, optional
        Seeds the directions.

    Returns
    -------
    pandas.DataFrame
        One row per network, time and scale: ``network``, ``time``, ``scale``,
        ``ratio`` (median over trials and directions), ``returned`` (fraction with
        ratio < ``return_tol``).
    """
    model = as_recurrent_model(model)
    u = check_inputs(model, inputs)
    n_t, n_b, _ = u.shape
    horizon = max(n_t // 4, 1) if horizon is None else _check_int(horizon, "horizon", 1)
    if horizon >= n_t:
        raise ValueError(f"horizon ({horizon}) must be shorter than the trial ({n_t} steps)")
    if times is None:
        times = np.unique(np.linspace(0, n_t - horizon - 1, 5).astype(int))
    times = np.asarray(times, dtype=int).ravel()
    if times.size == 0 or times.min() < 0 or times.max() + horizon >= n_t:
        raise ValueError(f"times must lie in 0..{n_t - horizon - 1} (T - horizon - 1); got {times.tolist()}")
    scale_arr = np.asarray(scales, dtype=np.float64).ravel()
    if scale_arr.size == 0 or not np.all(np.isfinite(scale_arr) & (scale_arr > 0)):
        raise ValueError(f"scales must be finite numbers > 0; got {scales!r}")
    n_dir = _check_int(n_directions, "n_directions", 1)
    return_tol = _positive(return_tol, "return_tol")
    ref = model.states(u)  # (T, K, B, N)
    k, n = ref.shape[1], ref.shape[3]
    rng = np.random.default_rng(seed)
    reps = scale_arr.size * n_dir
    rows = []
    for t in times:
        dirs = rng.standard_normal((k, reps, n_b, n))
        dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
        disp = dirs * np.repeat(scale_arr, n_dir)[None, :, None, None]
        x0 = (ref[t][:, None] + disp).reshape(k, reps * n_b, n)
        seg = np.tile(u[t + 1:t + 1 + horizon], (1, reps, 1))  # copy c of trial b at column c * B + b
        end = model.states(seg, x0=x0)[-1].reshape(k, reps, n_b, n)
        ratio = np.linalg.norm(end - ref[t + horizon][:, None], axis=-1) / np.linalg.norm(disp, axis=-1)
        ratio = ratio.reshape(k, scale_arr.size, n_dir * n_b)
        for j in range(k):
            for s, scale in enumerate(scale_arr):
                rows.append({"network": j, "time": int(t), "scale": float(scale),
                             "ratio": float(np.median(ratio[j, s])),
                             "returned": float((ratio[j, s] < return_tol).mean())})
    return pd.DataFrame(rows)
