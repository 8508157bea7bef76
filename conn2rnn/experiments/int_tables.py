"""Stored per-node INT maps compared with any brain map, after the fact.

Every group of an experiment stores each network's per-node INT map (and its
untrained twin's, and those under the spec's drive controls) in
``int_maps.csv`` (regions x runs, seconds). This module compares those stored
maps with a brain map chosen now, registered (:data:`conn2rnn.datasets.MAPS`)
or the user's own, without training anything again:
:func:`resolve_maps` turns names and files into values on the experiment's
graph, :func:`int_tables` builds the comparison per task, regime, drive and
condition (:func:`conn2rnn.analysis.int_validation.int_comparison_table`:
per-network rho with spin p, the rho of the ensemble-mean map with its spin p,
the paired trained-minus-untrained difference, the ceiling rho(gradient, map)).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..analysis.int_validation import empirical_null_maps, int_comparison_table
from ..datasets import MAPS
from .spec import ExperimentSpec

__all__ = ["DRIVES", "int_tables", "resolve_maps", "wide_results"]

#: Column suffix of each drive in ``int_maps.csv`` and its label in the tables.
DRIVES = {"": "resting drive through the inputs", "_node_drive": "noise into every node",
          "_task": "task trials"}


def wide_results(results: pd.DataFrame) -> pd.DataFrame:
    """One row per run (its labels and strength), one column per metric."""
    wide = results.pivot_table(index=["task", "regime", "family", "run_id", "seed"], columns="metric",
                               values="value", aggfunc="first").reset_index()
    return wide.merge(results[["run_id", "strength"]].drop_duplicates("run_id"), on="run_id")


def _user_map(path: Path, graph: Any) -> np.ndarray:
    """Values of a user map file: ``region,value`` rows naming the graph's regions, or N plain numbers."""
    if path.suffix == ".npy":
        values = np.load(path).astype(np.float64).ravel()
    else:
        table = pd.read_csv(path)
        if {"region", "value"} <= set(table.columns):
            missing = sorted(set(graph.names) - set(table.region.astype(str)))
            if missing:
                raise ValueError(f"map file {path} lacks regions of the experiment's graph, e.g. {missing[:3]}; "
                                 "it needs one row per region (columns region, value)")
            values = table.set_index(table.region.astype(str))["value"].reindex(list(graph.names)).to_numpy(float)
        else:
            values = pd.read_csv(path, header=None).to_numpy(dtype=np.float64).ravel()
    if values.shape != (graph.n_nodes,):
        raise ValueError(f"map file {path} must hold one value per region of the experiment's graph "
                         f"({graph.n_nodes}); got {values.size} values. Use columns region,value to name them")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"map file {path} holds NaN or infinite values")
    return values


def resolve_maps(spec: ExperimentSpec, maps: Iterable[str] | None = None) -> tuple[Any, dict[str, np.ndarray]]:
    """The experiment's graph and the values of each map to compare with.

    Parameters
    ----------
    spec : ExperimentSpec
    maps : iterable of str, optional
        Registered map names (``conn2rnn.datasets.MAPS``) or paths to ``.csv`` /
        ``.npy`` files (one value per region, or ``region,value`` rows); default
        the spec's ``analysis.empirical_maps``.

    Returns
    -------
    graph : BrainGraph
        The spec's graph with the registered maps attached.
    values : dict of str to (N,) ndarray
        By map name (a file's stem for user files), in the order given.
    """
    names = list(spec.analysis.empirical_maps if maps is None else maps)
    if not names:
        raise ValueError("maps must name at least one map (a registered name or a .csv/.npy file)")
    registered = [m for m in names if m in MAPS]
    files = [m for m in names if m not in MAPS]
    for m in files:
        if not Path(m).is_file():
            raise ValueError(f"map {m!r} is neither a registered map ({', '.join(MAPS.names())}) nor a file")
    graph_spec = dataclasses.replace(spec.graph, maps=tuple(dict.fromkeys(tuple(spec.graph.maps) + tuple(registered))))
    graph = graph_spec.build()
    values = {}
    for m in names:
        values[Path(m).stem if m in files else m] = (
            _user_map(Path(m), graph) if m in files else np.asarray(graph.maps[m], dtype=np.float64))
    return graph, values


def _spun_partner(spec: ExperimentSpec, name: str) -> str | None:
    """The regime identical to ``name`` but without its nulls (``tau_null``, ``distance_null``): its original."""
    nulls = ("tau_null", "distance_null")

    def key(regime: Any) -> dict[str, Any]:
        return {k: v for k, v in regime.to_dict().items() if k != "name" and k not in nulls}

    regime = spec.regime(name)
    if all(getattr(regime, n) == "none" for n in nulls):
        return None
    for other in spec.regimes:
        cand = spec.regime(other)
        if all(getattr(cand, n) == "none" for n in nulls) and key(cand) == key(regime):
            return other
    return None


def _table(spec: ExperimentSpec, wide: pd.DataFrame, stored: pd.DataFrame, graph: Any, values: np.ndarray,
           null_maps: np.ndarray | None, drive: str) -> list[pd.DataFrame]:
    def stack(run_ids: list[str], suffix: str = "") -> np.ndarray:
        return np.stack([stored[r + drive + suffix].reindex(list(graph.names)).to_numpy(dtype=float)
                         for r in run_ids])

    frames = []
    reservoirs = [f"reservoir-{variant}" for variant in spec.reservoirs]
    for task in spec.tasks:
        for regime in list(spec.regimes) + reservoirs:
            if regime not in reservoirs and _spun_partner(spec, regime) is not None:
                continue  # a control: compared next to its original
            part = wide[(wide.task == task) & (wide.regime == regime)].sort_values("seed")
            runs = [r for r in part.run_id if r + drive in stored.columns]
            if not runs:
                continue
            conditions = {"readout-only" if regime in reservoirs else "trained": stack(runs)}
            if all(r + drive + "_untrained" in stored.columns for r in runs):
                conditions["untrained"] = stack(runs, "_untrained")
            for other in spec.regimes:
                if regime not in reservoirs and _spun_partner(spec, other) == regime:
                    control = wide[(wide.task == task) & (wide.regime == other)].sort_values("seed")
                    if list(control.seed) == list(part.seed) and all(
                            r + drive in stored.columns for r in control.run_id):
                        conditions[f"trained, {other}"] = stack(list(control.run_id))
            table = int_comparison_table(conditions, values, graph,
                                         baseline="untrained" if "untrained" in conditions else None,
                                         ceiling="gradient" if graph.gradient is not None else None,
                                         null_maps=null_maps, seed=0, n_boot=10_000)
            table.insert(0, "regime", regime)
            table.insert(0, "task", task)
            frames.append(table)
    return frames


def int_tables(spec: ExperimentSpec, wide: pd.DataFrame, stored: pd.DataFrame, graph: Any,
               maps: dict[str, np.ndarray]) -> pd.DataFrame:
    """Every stored INT map against every map: one row per map, drive, task, regime and condition.

    Parameters
    ----------
    spec : ExperimentSpec
    wide : pandas.DataFrame
        One row per run with columns task, regime, run_id, seed.
    stored : pandas.DataFrame
        The groups' ``int_maps.csv`` side by side (regions x run columns).
    graph : BrainGraph
        From :func:`resolve_maps`.
    maps : dict of str to (N,) ndarray
        From :func:`resolve_maps`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`~conn2rnn.analysis.int_validation.int_comparison_table`
        with ``map``, ``drive``, ``task``, ``regime`` in front and ``null`` at the
        end; empty when nothing is stored.
    """
    kind = spec.analysis.nulls if spec.analysis.nulls != "none" else "shuffle"
    frames = []
    for name, values in maps.items():
        null_maps = empirical_null_maps(values, graph, nulls=kind, n_perm=spec.analysis.n_nulls, seed=0)
        for suffix, label in DRIVES.items():
            for table in _table(spec, wide, stored, graph, values, null_maps, suffix):
                table.insert(0, "drive", label)
                table.insert(0, "map", name)
                frames.append(table)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    out["null"] = kind
    return out
