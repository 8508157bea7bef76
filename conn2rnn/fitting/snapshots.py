"""Snapshots of an ensemble over training: weights and the topology measured on them.

:func:`~conn2rnn.fitting.train` records, at chosen steps, every network's
effective recurrent weights (float32) and the metrics computed from them:
``total_abs_w`` (``sum |W|``), ``sparsity`` (fraction of exact zeros),
``wiring_cost`` (``sum |w_ij| d_ij`` with the graph's Euclidean distance in mm),
``modularity`` (Louvain Q) and ``small_worldness`` (sigma, on the largest
connected component; NaN when it is too small or degenerate) of ``|W|``
symmetrised by the mean and thresholded to ``density``
(:mod:`conn2rnn.analysis.topology`), and the held-out ``accuracy``. :func:`save_snapshots` / :func:`load_snapshots`
store them compactly in one ``.npz`` (weights as float32 plus the tidy table's
columns) and read them back exactly.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SNAPSHOT_METRICS", "Snapshots", "load_snapshots", "save_snapshots", "snapshot_metrics"]

SNAPSHOT_METRICS: tuple[str, ...] = (
    "total_abs_w", "sparsity", "wiring_cost", "modularity", "small_worldness", "accuracy")
_KEYS = ("step", "trials", "network", "seed")


@dataclass(eq=False)
class Snapshots:
    """Weights and metrics at chosen training steps.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy, one row per (step, network): ``step, trials, network, seed`` and
        the metrics of :data:`SNAPSHOT_METRICS`.
    weights : (S, K, N, N) float32 ndarray
        Effective recurrent weights ``w[target, source]`` at each of the S steps.
    steps : (S,) int64 ndarray
    """

    table: pd.DataFrame
    weights: np.ndarray
    steps: np.ndarray


def snapshot_metrics(w: np.ndarray, d: np.ndarray | None, *, density: float = 0.1, n_rand: int = 5,
                     seed: int = 0) -> dict[str, float]:
    """Topology metrics of one (N, N) weight matrix (see the module docstring)."""
    from scipy.sparse.csgraph import connected_components

    # fitting sits below analysis (conn2rnn.analysis imports fitting): measured only when asked
    from conn2rnn.analysis.topology import modularity, small_worldness, threshold_proportional

    w = np.asarray(w, dtype=np.float64)
    out = {"total_abs_w": float(np.abs(w).sum()), "sparsity": float(np.mean(w == 0))}
    out["modularity"] = out["small_worldness"] = float("nan")
    und = (np.abs(w) + np.abs(w).T) / 2.0
    np.fill_diagonal(und, 0.0)
    if np.count_nonzero(und):
        thr = threshold_proportional(und, density)
        out["modularity"] = float(modularity(thr, seed=seed)[0])
        _, labels = connected_components(thr != 0, directed=False)
        giant = np.flatnonzero(labels == np.bincount(labels).argmax())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                out["small_worldness"] = float(small_worldness(thr[np.ix_(giant, giant)], kind="sigma",
                                                               n_rand=n_rand, seed=seed))
            except (ValueError, ZeroDivisionError):  # too small or degenerate a component: NaN
                pass
    out["wiring_cost"] = float(np.sum(np.abs(w) * d * ~np.eye(w.shape[0], dtype=bool))) if d is not None \
        else float("nan")
    return out


class SnapshotRecorder:
    """Collects snapshots during :func:`train` (internal)."""

    def __init__(self, steps: Any, model, *, density: float = 0.1, n_rand: int = 5) -> None:
        if steps is None:
            self.steps: tuple[int, ...] = ()
        else:
            vals = list(steps)
            if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in vals):
                raise ValueError(f"snapshot_steps must be ints >= 0 (optimiser steps done); got {vals!r}")
            self.steps = tuple(sorted({int(s) for s in vals}))
        self.density, self.n_rand = density, n_rand
        graph = model.graph
        self.distance = None if graph is None else np.asarray(graph.distance("euclidean"), dtype=np.float64)
        self.rows: list[dict[str, Any]] = []
        self.weights: list[np.ndarray] = []

    def wants(self, step: int) -> bool:
        return step in self.steps

    def record(self, model, step: int, trials: int, accuracy: np.ndarray) -> None:
        import torch

        with torch.no_grad():
            w = model.w_rec.detach().to(torch.float32).cpu().numpy().copy()
        self.weights.append(w)
        for k in range(w.shape[0]):
            row = {"step": step, "trials": trials, "network": k, "seed": model.config["seeds"][k]}
            row.update(snapshot_metrics(w[k], self.distance, density=self.density, n_rand=self.n_rand, seed=k))
            row["accuracy"] = float(accuracy[k])
            self.rows.append(row)

    def state(self) -> dict[str, Any]:
        """Plain containers for a checkpoint."""
        import torch

        return {"rows": {c: torch.tensor([r[c] for r in self.rows], dtype=torch.float64) for c in _columns()},
                "weights": [torch.from_numpy(w) for w in self.weights]}

    def load_state(self, state: dict[str, Any]) -> None:
        cols = {c: state["rows"][c].tolist() for c in _columns()}
        n = len(cols["step"])
        self.rows = [{c: (int(cols[c][i]) if c in _KEYS else cols[c][i]) for c in _columns()} for i in range(n)]
        self.weights = [w.numpy().copy() for w in state["weights"]]

    def result(self) -> Snapshots | None:
        if not self.steps:
            return None
        table = pd.DataFrame(self.rows, columns=list(_columns()))
        for c in _KEYS:
            table[c] = table[c].astype(np.int64)
        steps = np.array(sorted(set(table["step"].tolist())), dtype=np.int64)
        weights = np.stack(self.weights) if self.weights else np.zeros((0, 0, 0, 0), np.float32)
        return Snapshots(table, weights, steps)


def _columns() -> tuple[str, ...]:
    return (*_KEYS, *SNAPSHOT_METRICS)


def save_snapshots(snapshots: Snapshots, path: str | os.PathLike) -> Path:
    """Write snapshots to one compressed ``.npz`` (weights float32, table columns).

    Parameters
    ----------
    snapshots : Snapshots
        ``TrainResult.snapshots``.
    path : path-like

    Returns
    -------
    pathlib.Path
    """
    if not isinstance(snapshots, Snapshots):
        raise TypeError(f"snapshots must be a Snapshots (TrainResult.snapshots); got {type(snapshots).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = {f"table_{c}": snapshots.table[c].to_numpy() for c in _columns()}
    with open(path, "wb") as fh:
        np.savez_compressed(fh, weights=snapshots.weights, steps=snapshots.steps, **cols)
    return path


def load_snapshots(path: str | os.PathLike) -> Snapshots:
    """Read snapshots written by :func:`save_snapshots` (identical table and weights)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no snapshot file at {path}")
    with np.load(path, allow_pickle=False) as data:
        missing = [c for c in _columns() if f"table_{c}" not in data]
        if "weights" not in data or missing:
            raise ValueError(f"{path} is not a snapshot file written by save_snapshots (missing {missing})")
        table = pd.DataFrame({c: data[f"table_{c}"] for c in _columns()})
        return Snapshots(table, data["weights"].copy(), data["steps"].copy())
