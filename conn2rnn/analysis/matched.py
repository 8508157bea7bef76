"""Two families of trained networks compared at matched total weight, over training.

The seRNN paper (Achterberg, Akarca et al. 2023) compares seRNNs with L1
networks where the two have the same total weight ``sum |W|`` (their
regularisers shrink it at different rates), not pooled over regularisation
strengths. :func:`snapshot_measures` measures every weight snapshot a sweep
recorded (``snapshot_steps``) with :func:`conn2rnn.analysis.bct.paper_measures`;
:func:`compare_matched` bins the snapshots by total weight and compares the two
families within each bin, one value per network and bin.

Public API
----------
snapshot_measures(folder, *, density=0.1, degree_null_steps=None, ...) -> DataFrame
compare_matched(frame, measure, *, groups, by="total_abs_w", edges, ...) -> (table, summary)
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import bct

__all__ = ["compare_matched", "parse_run_id", "snapshot_measures"]

_RUN_ID = re.compile(r"^(?P<task>[^/]+)/(?P<regime>[^/]+)/lambda=(?P<strength>[^/]+)/seed=(?P<seed>\d+)$")


def parse_run_id(run_id: str) -> dict[str, Any]:
    """``task``, ``regime``, ``strength`` and ``seed`` of a trainable run id.

    Parameters
    ----------
    run_id : str
        ``"<task>/<regime>/lambda=<strength>/seed=<seed>"``.
    """
    m = _RUN_ID.match(str(run_id))
    if m is None:
        raise ValueError(f"run_id must look like 'task/regime/lambda=STRENGTH/seed=SEED'; got {run_id!r}")
    return {"task": m["task"], "regime": m["regime"], "strength": float(m["strength"]), "seed": int(m["seed"])}


def snapshot_measures(folder: str | Path, *, density: float = 0.1, steps: Sequence[int] | None = None,
                      degree_null_steps: Sequence[int] | None = None, n_null: int = 5, itr: int = 5,
                      distance: np.ndarray | None = None, seed: int = 0,
                      group: str = "*") -> pd.DataFrame:
    """The paper's topology of every recorded weight snapshot of a sweep.

    Reads ``groups/*/snapshots.npz`` and ``snapshots.csv`` under ``folder`` (a
    result store of :func:`conn2rnn.experiments.run_groups` whose spec set
    ``training.snapshot_steps``).

    Parameters
    ----------
    folder : path
        The experiment folder.
    density : float
        Threshold of :func:`conn2rnn.analysis.bct.binarize_top`.
    steps : sequence of int, optional
        Snapshot steps to measure (default all).
    degree_null_steps : sequence of int, optional
        Steps at which the degree-preserving small-worldness is computed too (it
        is the slow one); NaN elsewhere. Default: the last step only.
    n_null, itr : int
        Null graphs per null model and rewiring parameter.
    distance : (N, N) ndarray, optional
        Distances for ``wiring_cost = sum |w_ij| d_ij`` (default: none, NaN).
    seed : int
    group : str
        Group id (a glob pattern) to measure; default every group.

    Returns
    -------
    DataFrame
        One row per (run, step): ``run_id, task, regime, strength, seed, step,
        accuracy`` and the keys of :func:`~conn2rnn.analysis.bct.paper_measures`
        (``sigma_degree_preserving`` NaN off ``degree_null_steps``), ``wiring_cost``.
    """
    folder = Path(folder)
    files = sorted(folder.glob(f"groups/{group}/snapshots.npz"))
    if not files:
        raise FileNotFoundError(f"no groups/*/snapshots.npz under {folder}; run a spec with "
                                "training.snapshot_steps first")
    rows = []
    for path in files:
        table = pd.read_csv(path.with_suffix(".csv"))
        with np.load(path, allow_pickle=False) as data:
            weights, all_steps = data["weights"], data["steps"]
        last = int(all_steps.max())
        deg_steps = {last} if degree_null_steps is None else {int(s) for s in degree_null_steps}
        for _, rec in table.iterrows():
            step = int(rec["step"])
            if steps is not None and step not in steps:
                continue
            w = weights[int(np.flatnonzero(all_steps == step)[0]), int(rec["network"])].astype(np.float64)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out = _measures(w, density, seed + int(rec["network"]), n_null, itr, step in deg_steps)
            out["wiring_cost"] = float(np.sum(np.abs(w) * distance)) if distance is not None else float("nan")
            rows.append({"run_id": rec["run_id"], **parse_run_id(rec["run_id"]), "step": step,
                         "accuracy": float(rec["accuracy"]), **out})
    return pd.DataFrame(rows)


def _measures(w: np.ndarray, density: float, seed: int, n_null: int, itr: int, degree_null: bool) -> dict:
    """paper_measures, with the degree-preserving null only where asked (NaN otherwise)."""
    if degree_null:
        return bct.paper_measures(w, density=density, seed=seed, n_null=n_null, itr=itr)
    g = bct.undirected(bct.binarize_top(w, density))
    ci, q = bct.modularity_und(g)
    out = {"total_abs_w": float(np.abs(w).sum()), "n_edges": int(g.sum() // 2),
           "max_degree": int(g.sum(axis=0).max()), "modularity_q": q, "n_modules": int(ci.max())}
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(g, directed=False)
    giant = np.flatnonzero(labels == np.bincount(labels).argmax())
    core = g[np.ix_(giant, giant)]
    gnm = bct.small_world_sigma(core, null="gnm", n_null=n_null, seed=seed)
    out.update(connected_nodes=int(giant.size), clustering=gnm["clustering"], efficiency=gnm["efficiency"],
               sigma_degree_preserving=float("nan"), sigma_gnm=gnm["sigma"],
               sigma_demo=bct.reference_sigma(w, density))
    return out


def compare_matched(frame: pd.DataFrame, measure: str, *, groups: tuple[str, str], edges: Sequence[float],
                    by: str = "total_abs_w", column: str = "regime", min_per_group: int = 3,
                    n_perm: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, dict[str, float]]:
    """Compare two families within bins of matched ``by`` (e.g. total weight).

    Each network contributes its mean ``measure`` over its snapshots in a bin
    (one value per network and bin, so bins hold independent networks). Per
    bin: counts, medians and a two-sided Mann-Whitney U test. Overall: the mean
    over usable bins (both groups with ``min_per_group`` networks) of the
    difference of group means, weighted by the bin's networks, with a
    permutation p-value that shuffles the family labels of the networks within
    each bin (independently per bin; a network in several bins is shuffled in
    each, so the overall p is approximate).

    Parameters
    ----------
    frame : DataFrame
        Rows with ``run_id``, ``column``, ``by`` and ``measure``.
    measure : str
    groups : (str, str)
        The two values of ``column`` compared; differences are second minus first.
    edges : sequence of float
        Bin edges of ``by`` (increasing).
    by, column : str
    min_per_group : int
    n_perm : int
    seed : int

    Returns
    -------
    table : DataFrame
        One row per bin: ``bin_low, bin_high, n_<g>, median_<g>, p_mwu``.
    summary : dict
        ``difference`` (second - first, weighted mean over usable bins),
        ``p_perm``, ``n_bins``, ``n_<g>`` (networks, counted once).
    """
    for name in ("run_id", column, by, measure):
        if name not in frame.columns:
            raise ValueError(f"frame has no column {name!r}; columns: {list(frame.columns)}")
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be an increasing sequence of at least 2 numbers; got {edges.tolist()}")
    a, b = groups
    data = frame[frame[column].isin(groups) & np.isfinite(frame[measure]) & np.isfinite(frame[by])].copy()
    data["bin"] = np.digitize(data[by], edges) - 1
    data = data[(data["bin"] >= 0) & (data["bin"] < edges.size - 1)]
    per = data.groupby(["bin", column, "run_id"], as_index=False)[measure].mean()
    rows, usable = [], []
    for k in range(edges.size - 1):
        cell = per[per["bin"] == k]
        xa = cell.loc[cell[column] == a, measure].to_numpy()
        xb = cell.loc[cell[column] == b, measure].to_numpy()
        ok = min(xa.size, xb.size) >= min_per_group
        p = float(stats.mannwhitneyu(xa, xb).pvalue) if ok else float("nan")
        rows.append({"bin_low": edges[k], "bin_high": edges[k + 1], f"n_{a}": xa.size, f"n_{b}": xb.size,
                     f"median_{a}": float(np.median(xa)) if xa.size else float("nan"),
                     f"median_{b}": float(np.median(xb)) if xb.size else float("nan"), "p_mwu": p})
        if ok:
            usable.append((xa, xb))
    summary: dict[str, float] = {"n_bins": len(usable), f"n_{a}": int(per.loc[per[column] == a, "run_id"].nunique()),
                                 f"n_{b}": int(per.loc[per[column] == b, "run_id"].nunique())}
    if not usable:
        summary.update(difference=float("nan"), p_perm=float("nan"))
        return pd.DataFrame(rows), summary

    def stat(pairs) -> float:
        w = np.array([x.size + y.size for x, y in pairs], dtype=float)
        return float(np.sum(w * np.array([y.mean() - x.mean() for x, y in pairs])) / w.sum())

    observed = stat(usable)
    rng = np.random.default_rng(seed)
    count = 0
    for _ in range(n_perm):
        shuffled = []
        for xa, xb in usable:
            pooled = rng.permutation(np.concatenate([xa, xb]))
            shuffled.append((pooled[:xa.size], pooled[xa.size:]))
        count += abs(stat(shuffled)) >= abs(observed) - 1e-15
    summary.update(difference=observed, p_perm=(count + 1) / (n_perm + 1))
    return pd.DataFrame(rows), summary
