"""Population analyses of the working-memory networks.

- :func:`attractor_separation`: within-condition spread over the distance between
  condition medians in the first 3 PCs during the last 500 ms (lower = better
  separated attractors);
- :func:`dimensionality`: principal components needed for 90% of the variance;
- :func:`cued_cluster_activity`: firing rate of the E cells each cue drives most,
  before the cue and during the late delay (persistent activity).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["attractor_separation", "cued_cluster_activity", "dimensionality", "pca_trajectories"]


def _pcs(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, components ``(n, N)`` and explained-variance ratios of rows of ``x``."""
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    var = s ** 2
    ratio = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    return mean, vt[:n], ratio


def pca_trajectories(states: Any, n_components: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Project ``(T, B, N)`` states onto their first principal components.

    Returns
    -------
    traj : (T, B, n_components) ndarray
    explained : (n_components,) ndarray
        Explained-variance ratios.
    """
    arr = np.asarray(states, dtype=np.float64)
    if arr.ndim != 3:
        raise ValueError(f"states must be (T, B, N); got shape {arr.shape}")
    flat = arr.reshape(-1, arr.shape[2])
    mean, comps, ratio = _pcs(flat, n_components)
    return ((flat - mean) @ comps.T).reshape(arr.shape[0], arr.shape[1], -1), ratio[:n_components]


def attractor_separation(states: Any, conditions: Any, *, record_dt: float = 1.0,
                         window_ms: float = 500.0, n_components: int = 3) -> float:
    """Within-condition spread / between-median distance in the last ``window_ms``.

    Parameters
    ----------
    states : (T, B, N) array_like
    conditions : (B,) array_like
        Condition label of each trial (at least two conditions).
    record_dt : float
        Step of ``states``, ms.

    Returns
    -------
    float
        Mean over conditions of the median distance of a condition's points
        (every step of every trial) to their median, divided by the mean pairwise
        distance between condition medians; ``inf`` when all medians coincide.
    """
    arr = np.asarray(states, dtype=np.float64)
    cond = np.asarray(conditions)
    if arr.ndim != 3 or cond.shape != (arr.shape[1],):
        raise ValueError(f"states must be (T, B, N) with one condition per trial; got {arr.shape} and "
                         f"{cond.shape}")
    labels = np.unique(cond)
    if labels.size < 2:
        raise ValueError("attractor_separation needs trials of at least 2 conditions")
    n_win = max(1, int(round(window_ms / record_dt)))
    traj, _ = pca_trajectories(arr[-n_win:], n_components)
    medians, spreads = [], []
    for c in labels:
        pts = traj[:, cond == c].reshape(-1, traj.shape[2])
        med = np.median(pts, axis=0)
        medians.append(med)
        spreads.append(np.median(np.linalg.norm(pts - med, axis=1)))
    medians = np.asarray(medians)
    dists = [np.linalg.norm(medians[i] - medians[j]) for i in range(len(labels)) for j in range(i)]
    between = float(np.mean(dists))
    return float(np.mean(spreads) / between) if between > 0 else float("inf")


def dimensionality(states: Any, *, threshold: float = 0.9) -> int:
    """Number of principal components explaining ``threshold`` of the variance of ``(T, B, N)`` states."""
    arr = np.asarray(states, dtype=np.float64)
    if arr.ndim != 3:
        raise ValueError(f"states must be (T, B, N); got shape {arr.shape}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1]; got {threshold}")
    _, _, ratio = _pcs(arr.reshape(-1, arr.shape[2]), arr.shape[2])
    if ratio.sum() == 0:
        return 0
    return int(np.searchsorted(np.cumsum(ratio), threshold - 1e-12) + 1)


def cued_cluster_activity(spikes: Any, cue_drive: Any, conditions: Any, *, record_dt: float = 1.0,
                          cue_onset_ms: float = 250.0, late_ms: tuple[float, float] = (500.0, 1000.0),
                          top: int = 5) -> dict[str, float]:
    """Rate (Hz) of each condition's most-driven E cells before the cue and late in the delay.

    Parameters
    ----------
    spikes : (T, B, n_e) array_like
        Spike counts per bin of the E cells.
    cue_drive : (n_conditions, n_e) array_like
        Total cue input each E cell gets in each condition (any positive scale).
    conditions : (B,) int array_like
        Condition index of each trial.
    top : int
        Cells per cluster.

    Returns
    -------
    dict
        ``baseline_hz`` (before the cue), ``delay_hz`` (in ``late_ms``) of the cued
        clusters, and ``other_delay_hz`` (the other conditions' clusters in the same trials).
    """
    counts = np.asarray(spikes, dtype=np.float64)
    drive = np.asarray(cue_drive, dtype=np.float64)
    cond = np.asarray(conditions, dtype=int)
    t0 = int(round(cue_onset_ms / record_dt))
    a, b = (int(round(x / record_dt)) for x in late_ms)
    base, late, other = [], [], []
    for trial, c in enumerate(cond):
        cells = np.argsort(drive[c])[::-1][:top]
        rest = np.setdiff1d(np.argsort(drive, axis=1)[:, ::-1][:, :top].ravel(), cells)
        base.append(counts[:t0, trial, cells].sum(axis=0).mean() / (t0 * record_dt) * 1e3)
        late.append(counts[a:b, trial, cells].sum(axis=0).mean() / ((b - a) * record_dt) * 1e3)
        if rest.size:
            other.append(counts[a:b, trial, rest].sum(axis=0).mean() / ((b - a) * record_dt) * 1e3)
    return {"baseline_hz": float(np.mean(base)), "delay_hz": float(np.mean(late)),
            "other_delay_hz": float(np.mean(other)) if other else float("nan")}
