"""Information processing capacity, kernel and generalization rank, NARMA-10, for any model.

Every function runs the K networks of a :class:`~conn2rnn.models.protocol.RecurrentModel`
together through ``model.states`` and reads each network from all its nodes
(capacity and ranks are properties of the state space) or, for NARMA-10, from its
``output_nodes()``.

Information processing capacity (Dambre et al. 2012, Sci. Rep. 2:514): an
i.i.d. input ``u ~ U(-1, 1)`` drives the networks; for a target ``y`` (a product
of normalised Legendre polynomials of past inputs, orthogonal under this input)
the capacity is the fraction of its variance a linear readout of the states
explains, ``C[y] = |P_X y|^2 / |y|^2`` with ``P_X`` the projection on the centred
states. Capacities of orthogonal targets add up to at most the rank of the
states (<= N). Finite data bias every estimate upwards, by about ``rank / T``
for a target unrelated to the states. Two corrections follow from this:

- significance: the coordinates ``c_i = u_i . y`` of a target on the orthonormal
  state directions ``u_i`` are tested against zero with heteroscedasticity-robust
  variances ``sum_t u_it^2 y_t^2`` (White 1980), so ``S = sum_i c_i^2 / var_i`` is
  chi-squared with ``rank`` degrees of freedom for an unrelated target; capacities
  with ``S < chi2.ppf(1 - p_value, rank)`` are set to zero (Dambre et al. threshold
  ``T * C`` itself, which assumes homoscedastic targets: products of inputs the
  states also carry, e.g. ``u[t-1] u[t-2]``, have a heavier null tail);
- bias: the surviving capacities are adjusted like an adjusted r^2,
  ``1 - (1 - C) (T - 1) / (T - rank - 1)``.
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from ..models.reservoir_ensemble import as_recurrent_model
from .closed_loop import _ridge, _visible
from .lyapunov import _check_int

__all__ = ["Capacity", "generalization_rank", "information_processing_capacity", "kernel_rank", "narma10",
           "narma_nrmse"]


@dataclass(frozen=True)
class Capacity:
    """Information processing capacity of K networks.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per network and target: ``network``, ``degree``, ``target`` (e.g.
        ``'P2(t-3) P1(t-5)'``), ``raw`` (the in-sample estimate) and ``capacity``
        (bias-corrected and thresholded).
    summary : pandas.DataFrame
        One row per network: ``linear`` (degree 1, the memory capacity counted
        from delay 0), ``degree_2``, ``degree_3``, ``nonlinear`` and ``total``,
        ``rank`` (numerical rank of the states, the bound) and ``critical_value``
        (the chi-squared quantile of the significance test).
    """

    table: pd.DataFrame
    summary: pd.DataFrame


def _targets(u: np.ndarray, max_degree: int, max_delays: tuple[int, ...], start: int
             ) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """(T', M) products of normalised Legendre polynomials of delayed inputs, and (degree, name)."""
    t_idx = np.arange(start, u.size)
    cols, names = [], []
    cache: dict[tuple[int, int], np.ndarray] = {}

    def leg(order: int, delay: int) -> np.ndarray:
        if (order, delay) not in cache:  # sqrt(2 n + 1) P_n has unit variance under U(-1, 1)
            cache[(order, delay)] = np.sqrt(2 * order + 1) * special.eval_legendre(order, u[t_idx - delay])
        return cache[(order, delay)]

    for degree in range(1, max_degree + 1):
        delays = range(max_delays[degree - 1] + 1)
        for parts in _partitions(degree):
            # up to degree 3 the orders of a partition are all equal (unordered delays) or all distinct
            pick = itertools.combinations if len(set(parts)) == 1 else itertools.permutations
            for combo in pick(delays, len(parts)):
                y = np.ones(t_idx.size)
                for order, delay in zip(parts, combo):
                    y = y * leg(order, delay)
                cols.append(y)
                names.append((degree, " ".join(f"P{o}(t-{d})" for o, d in zip(parts, combo))))
    return np.stack(cols, axis=1), names


def _partitions(degree: int) -> list[tuple[int, ...]]:
    """Integer partitions of ``degree`` in decreasing order: 3 -> (3,), (2, 1), (1, 1, 1)."""
    out: list[tuple[int, ...]] = []

    def rec(left: int, top: int, acc: tuple[int, ...]) -> None:
        if left == 0:
            out.append(acc)
        for part in range(min(left, top), 0, -1):
            rec(left - part, part, acc + (part,))

    rec(degree, degree, ())
    return out


def _finite(states: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """States with diverged networks (axis 1) zeroed, and their mask; warns naming them."""
    bad = ~np.all(np.isfinite(states), axis=axes)
    if bad.any():
        warnings.warn(f"networks {np.flatnonzero(bad).tolist()[:20]} diverged (non-finite states); their results "
                      "are NaN", RuntimeWarning, stacklevel=3)
        states = np.where(np.expand_dims(bad, axes), 0.0, states)
    return states, bad


def _single_input(model: Any) -> Any:
    model = as_recurrent_model(model)
    if model.n_inputs != 1:
        raise ValueError(f"this measure drives one input channel; the model has n_inputs = {model.n_inputs} "
                         "(build it with n_inputs=1)")
    return model


def information_processing_capacity(model: Any, *, max_degree: int = 3, max_delays: Any = (40, 12, 6),
                                    n_steps: int = 10000, washout: int = 100, p_value: float = 1e-4,
                                    seed: int | None = 0) -> Capacity:
    """Linear and nonlinear capacities of every network (Dambre et al. 2012).

    Targets are all products of normalised Legendre polynomials
    ``sqrt(2n + 1) P_n(u[t - d])`` of total degree 1 .. ``max_degree`` over distinct
    delays ``d <= max_delays[degree - 1]`` (delay 0 is the current input).

    Parameters
    ----------
    model : RecurrentModel
        One input channel.
    max_degree : {1, 2, 3}
    max_delays : sequence of int
        Largest delay per degree.
    n_steps : int
        Steps after ``washout`` (T); the bias threshold scales as rank / T.
    washout : int
        Initial steps dropped (must cover the largest delay).
    p_value : float
        False-positive rate of the chi-squared test per target.
    seed : int, optional
        Seeds the input (and, through it, the model's state noise).

    Returns
    -------
    Capacity
    """
    model = _single_input(model)
    max_degree = _check_int(max_degree, "max_degree", 1)
    if max_degree > 3:
        raise ValueError(f"max_degree must be 1, 2 or 3; got {max_degree}")
    delays = tuple(int(d) for d in np.atleast_1d(max_delays))
    if len(delays) < max_degree or min(delays[:max_degree]) < 0:
        raise ValueError(f"max_delays must give a delay >= 0 for each degree 1..{max_degree}; got {max_delays!r}")
    n_steps, washout = _check_int(n_steps, "n_steps", 10), _check_int(washout, "washout", 0)
    if washout < max(delays[:max_degree]):
        raise ValueError(f"washout ({washout}) must be >= the largest delay ({max(delays[:max_degree])})")
    if not isinstance(p_value, numbers.Real) or not 0 < p_value < 1:
        raise ValueError(f"p_value must be in (0, 1); got {p_value!r}")
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1.0, 1.0, washout + n_steps)
    states = model.states(u[:, None, None], seed=int(rng.integers(2 ** 31)))[washout:, :, 0]  # (T, K, N)
    states, bad = _finite(states, (0, 2))
    x = np.moveaxis(states, 1, 0)
    x = x - x.mean(axis=1, keepdims=True)
    basis, sv, _ = np.linalg.svd(x, full_matrices=False)  # (K, T, N)
    rank = (sv > sv[:, :1] * 1e-10).sum(axis=1)
    basis = basis * (np.arange(sv.shape[1])[None, :] < rank[:, None])[:, None, :]
    y, names = _targets(u, max_degree, delays, washout)
    y = y - y.mean(axis=0)
    proj = np.einsum("ktn,tm->knm", basis, y)  # (K, N, M) coordinates of each target on the states
    raw = (proj ** 2).sum(axis=1) / (y ** 2).sum(axis=0)  # (K, M)
    # robust (White) null variance of each coordinate; T * C ~ chi2(rank) only for homoscedastic targets
    var = np.einsum("ktn,tm->knm", basis ** 2, y ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = np.where(var > 0, proj ** 2 / var, 0.0).sum(axis=1)
    critical = stats.chi2.ppf(1.0 - p_value, np.maximum(rank, 1))
    adjusted = 1.0 - (1.0 - raw) * (n_steps - 1) / (n_steps - rank - 1)[:, None]
    cap = np.where(stat >= critical[:, None], np.clip(adjusted, 0.0, None), 0.0)
    degree = np.array([d for d, _ in names])
    k, m = raw.shape
    table = pd.DataFrame({"network": np.repeat(np.arange(k), m), "degree": np.tile(degree, k),
                          "target": [name for _, name in names] * k, "raw": raw.ravel(), "capacity": cap.ravel()})
    summary = pd.DataFrame({"network": np.arange(k)})
    for d in range(1, 4):
        summary["linear" if d == 1 else f"degree_{d}"] = cap[:, degree == d].sum(axis=1)
    summary["nonlinear"] = cap[:, degree > 1].sum(axis=1)
    summary["total"] = cap.sum(axis=1)
    summary["rank"] = rank
    summary["critical_value"] = critical
    table.loc[np.repeat(bad, m), ["raw", "capacity"]] = np.nan
    summary.loc[bad, [c for c in summary.columns if c != "network"]] = np.nan
    return Capacity(table, summary)


def _final_rank(model: Any, inputs: np.ndarray, rel_tol: float, seed: int) -> np.ndarray:
    final, bad = _finite(model.states(inputs, seed=seed)[-1], (1, 2))  # (K, m, N)
    sv = np.linalg.svd(final, compute_uv=False)
    rank = (sv > rel_tol * sv[:, :1]).sum(axis=1).astype(float)
    rank[bad] = np.nan
    return rank


def _rank_args(n_streams: Any, n_steps: Any, rel_tol: Any) -> tuple[int, int, float]:
    if not isinstance(rel_tol, numbers.Real) or not 0 < rel_tol < 1:
        raise ValueError(f"rel_tol must be in (0, 1); got {rel_tol!r}")
    return _check_int(n_streams, "n_streams", 2), _check_int(n_steps, "n_steps", 1), float(rel_tol)


def kernel_rank(model: Any, *, n_streams: int | None = None, n_steps: int = 20, rel_tol: float = 1e-3,
                seed: int | None = 0) -> np.ndarray:
    """Kernel rank (Legenstein & Maass 2007): how many distinct inputs the states separate.

    ``n_streams`` i.i.d. ``U(-1, 1)`` input streams of ``n_steps`` steps drive each
    network from the zero state; the kernel rank is the numerical rank of the
    ``(n_streams, N)`` final states (singular values above ``rel_tol`` times the
    largest). Higher is better; at most ``min(n_streams, N)``.

    Parameters
    ----------
    model : RecurrentModel
    n_streams : int, optional
        m; N by default.
    n_steps : int
    rel_tol : float
    seed : int, optional

    Returns
    -------
    (K,) float ndarray
        Whole numbers; NaN for a network whose states diverged.
    """
    model = as_recurrent_model(model)
    m, n_steps, rel_tol = _rank_args(model.n_nodes if n_streams is None else n_streams, n_steps, rel_tol)
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1.0, 1.0, (n_steps, m, model.n_inputs))
    return _final_rank(model, u, rel_tol, int(rng.integers(2 ** 31)))


def generalization_rank(model: Any, *, n_streams: int | None = None, n_steps: int = 20, noise: float = 0.1,
                        rel_tol: float = 1e-3, seed: int | None = 0) -> np.ndarray:
    """Generalization rank: how many directions noisy copies of one input spread into.

    Like :func:`kernel_rank`, but the m streams are one ``U(-1, 1)`` stream plus
    independent Gaussian noise of s.d. ``noise``; lower means the states
    generalise over small input differences.

    Returns
    -------
    (K,) float ndarray
        Whole numbers; NaN for a network whose states diverged.
    """
    model = as_recurrent_model(model)
    m, n_steps, rel_tol = _rank_args(model.n_nodes if n_streams is None else n_streams, n_steps, rel_tol)
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise > 0:
        raise ValueError(f"noise must be a standard deviation > 0; got {noise!r}")
    rng = np.random.default_rng(seed)
    base = rng.uniform(-1.0, 1.0, (n_steps, 1, model.n_inputs))
    u = base + noise * rng.standard_normal((n_steps, m, model.n_inputs))
    return _final_rank(model, u, rel_tol, int(rng.integers(2 ** 31)))


def narma10(n_steps: int, *, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """The NARMA-10 input and target (Atiya & Parlos 2000).

    ``y[t+1] = 0.3 y[t] + 0.05 y[t] sum_{i=0}^{9} y[t-i] + 1.5 u[t-9] u[t] + 0.1``
    with ``u ~ U(0, 0.5)`` i.i.d. and ``y = 0`` before the first step.

    Returns
    -------
    u, y : (T,) ndarray
        ``y[t]`` is the target the state after ``u[t]`` should produce (``y[t+1]``
        of the recurrence is aligned with ``u[t]``).
    """
    n_steps = _check_int(n_steps, "n_steps", 11)
    u = np.random.default_rng(seed).uniform(0.0, 0.5, n_steps)
    y = np.zeros(n_steps + 1)
    for t in range(n_steps):
        past = y[max(t - 9, 0):t + 1]
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * past.sum() + 1.5 * (u[t - 9] if t >= 9 else 0.0) * u[t] + 0.1
    return u, y[1:]


def narma_nrmse(model: Any, *, n_steps: int = 4000, washout: int = 200, test_size: float = 0.25,
                ridge: float = 1e-8, seed: int | None = 0) -> np.ndarray:
    """NARMA-10 test NRMSE of every network (ridge readout of its output nodes).

    The input enters as ``4 u - 1`` (in [-1, 1]); the readout is fit on the steps
    after ``washout`` and before the last ``test_size`` fraction, and scored on
    those: ``NRMSE = RMSE / sd(target)`` (1 = no better than the mean).

    Returns
    -------
    (K,) ndarray
    """
    model = _single_input(model)
    n_steps, washout = _check_int(n_steps, "n_steps", 50), _check_int(washout, "washout", 10)
    if not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1); got {test_size!r}")
    n_test = round(test_size * (n_steps - washout))
    if n_test < 20 or n_steps - washout - n_test < 20:
        raise ValueError(f"n_steps = {n_steps} with washout = {washout} is too short: training and test segments "
                         "need >= 20 steps each")
    if isinstance(ridge, bool) or not isinstance(ridge, numbers.Real) or not ridge > 0:
        raise ValueError(f"ridge must be a penalty > 0; got {ridge!r}")
    rng = np.random.default_rng(seed)
    u, y = narma10(n_steps, seed=int(rng.integers(2 ** 31)))
    states, bad = _finite(model.states((4.0 * u - 1.0)[:, None, None], seed=int(rng.integers(2 ** 31)))[:, :, 0],
                          (0, 2))
    mask = _visible(model, states.shape[2])
    n_fit = n_steps - n_test
    w, b = _ridge(states[washout:n_fit], y[washout:n_fit, None], mask, float(ridge))
    pred = np.einsum("tkn,kdn->tkd", states[n_fit:], w)[..., 0] + b[:, 0]
    true = y[n_fit:]
    return np.where(bad, np.nan, np.sqrt(((pred - true[:, None]) ** 2).mean(axis=0)) / true.std())
