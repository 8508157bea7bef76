"""Diagnostics of the working-memory reproduction: what the readout can see, what the cue delivers.

- :func:`synthetic_memory`: filtered Poisson spike trains of cells that hold the cue
  perfectly (a rate step of ``delta_hz`` from cue onset in the trials of their
  preferred cue), on a :class:`~conn2rnn.biophys.task.CuedMemory` batch;
- :func:`readout_ceiling`: :func:`~conn2rnn.biophys.task.memory_error` of such
  memories over a grid of rate steps and filter time constants (the error a network
  with a memory of that strength can at best reach);
- :func:`cue_encoding`: the expected cue spikes of a
  :class:`~conn2rnn.biophys.model.BiophysicalReservoir` (cue units, spikes delivered
  to E and I cells, E cells reached) and how similar the four cues' drive patterns are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_float, check_int, check_seed
from .model import filter_spikes
from .task import CuedMemory, memory_error

__all__ = ["CueEncoding", "cue_encoding", "readout_ceiling", "synthetic_memory"]


def synthetic_memory(delta_hz: float, *, n_repeats: int = 2, n_cells: int = 25, base_hz: float = 10.0,
                     tau_filter_ms: float = 10.0, poisson: bool = True,
                     seed: int = 0) -> tuple[np.ndarray, Any]:
    """Filtered spike trains of cells that hold the cue perfectly, at a given rate change.

    Cell ``j`` prefers cue ``j % 4``. Every cell fires at ``base_hz``; from cue onset
    (the first step of the cue-on input) to the end of the trial, cells fire at
    ``base_hz + delta_hz`` in the trials of their preferred cue. Spike counts per
    1 ms bin are Poisson (or, with ``poisson=False``, the expected counts) and are
    filtered as the model filters its spikes (:func:`~conn2rnn.biophys.model.filter_spikes`).

    Parameters
    ----------
    delta_hz : float
        Rate increase of a cell in the trials of its preferred cue, Hz (>= 0).
    n_repeats : int
        Repeats of each of the 4 cues (>= 2, as :func:`memory_error` needs).
    n_cells : int
        Cells (>= 1); the model's readout sees 25 (the odd E cells).
    base_hz : float
        Rate of every cell outside its preferred cue's memory, Hz (>= 0).
    tau_filter_ms : float
        Filter time constant, ms (> 0).
    poisson : bool
        Draw Poisson counts (default) or use the expected counts (noise-free).
    seed : int
        Seeds the batch and the Poisson draws.

    Returns
    -------
    states : (T, 4 * n_repeats, n_cells) ndarray
        Filtered spike trains, ``T`` = 1000 steps of 1 ms.
    batch : TaskBatch
        The :class:`CuedMemory` batch (``dt`` = 1 ms) the states belong to.
    """
    delta = check_float(delta_hz, "delta_hz", low=0)
    base = check_float(base_hz, "base_hz", low=0)
    tau = check_float(tau_filter_ms, "tau_filter_ms", low=0, low_open=True)
    n_repeats = check_int(n_repeats, "n_repeats", low=2)
    n_cells = check_int(n_cells, "n_cells", low=1)
    seed = check_seed(seed)
    batch = CuedMemory(dt=1.0).batch(4 * n_repeats, seed=seed)
    cond = batch.info["condition"].to_numpy()
    cue_on = np.asarray(batch.inputs)[:, :, 2] > 0  # (T, B)
    after_onset = np.cumsum(cue_on, axis=0) > 0  # (T, B): from cue onset to the end
    pref = np.arange(n_cells) % 4
    rate = base + delta * (after_onset[:, :, None] & (pref[None, None, :] == cond[None, :, None]))
    expected = rate * (batch.dt * 1e-3)  # (T, B, n_cells) spikes per bin
    counts = np.random.default_rng(seed).poisson(expected) if poisson else expected
    return filter_spikes(counts, batch.dt, tau), batch


def readout_ceiling(deltas_hz: Sequence[float] = (0.0, 5.0, 20.0, 50.0),
                    taus_ms: Sequence[float] = (10.0, 50.0), *, seeds: Sequence[int] = (0, 1, 2),
                    n_repeats: int = 2, n_cells: int = 25, base_hz: float = 10.0) -> pd.DataFrame:
    """:func:`memory_error` of perfect synthetic memories (:func:`synthetic_memory`) over a grid.

    Parameters
    ----------
    deltas_hz : sequence of float
        Rate increases of the cells in their preferred cue's trials, Hz.
    taus_ms : sequence of float
        Spike-train filters, ms (the model filters with 10 ms).
    seeds : sequence of int
        One batch and Poisson draw per seed (at least one).
    n_repeats, n_cells, base_hz
        As in :func:`synthetic_memory` (defaults: the reduced protocol's 2 repeats per
        cue in a search evaluation, the model's 25 readout cells).

    Returns
    -------
    pandas.DataFrame
        One row per ``(delta_hz, tau_filter_ms)``: ``error_mean``, ``error_sd`` (over
        seeds; NaN for one seed), ``n_seeds`` and ``error_noise_free`` (expected counts
        instead of Poisson spikes, seed ``seeds[0]``). Chance is 4.
    """
    deltas = [check_float(d, "deltas_hz", low=0) for d in deltas_hz]
    taus = [check_float(t, "taus_ms", low=0, low_open=True) for t in taus_ms]
    seeds = [check_seed(s, "seeds") for s in seeds]
    if not deltas or not taus or not seeds:
        raise ValueError(f"deltas_hz, taus_ms and seeds must be non-empty; got {len(deltas)}, {len(taus)} "
                         f"and {len(seeds)} value(s)")
    rows = []
    for tau in taus:
        for delta in deltas:
            kw = {"n_repeats": n_repeats, "n_cells": n_cells, "base_hz": base_hz, "tau_filter_ms": tau}
            errs = np.array([memory_error(*synthetic_memory(delta, seed=s, **kw)) for s in seeds])
            clean = memory_error(*synthetic_memory(delta, seed=seeds[0], poisson=False, **kw))
            rows.append({"delta_hz": delta, "tau_filter_ms": tau, "error_mean": float(errs.mean()),
                         "error_sd": float(errs.std(ddof=1)) if errs.size > 1 else float("nan"),
                         "n_seeds": int(errs.size), "error_noise_free": float(clean)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class CueEncoding:
    """Expected cue spikes of one network (see :func:`cue_encoding`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per cue: ``cue``, ``x1``, ``x2``, ``cue_unit_spikes`` (expected spikes of
        all cue units together), ``spikes_to_e`` and ``spikes_to_i`` (expected spikes
        arriving at E and I synapses, summed over connections), ``e_cells_reached``
        (E cells expecting at least ``min_spikes``) and ``e_cells_connected`` (E cells
        with any cue connection, the same for every cue).
    unit_spikes : (4, n_cue) ndarray
        Expected spikes of each cue unit per cue presentation.
    drive_e : (4, n_e) ndarray
        Expected cue spikes arriving at each E cell.
    drive_i : (4, n_i) ndarray
        Expected cue spikes arriving at each I cell.
    correlation : (4, 4) ndarray
        Pearson correlation of the cues' ``drive_e`` patterns (NaN where a pattern is constant).
    """

    table: pd.DataFrame
    unit_spikes: np.ndarray
    drive_e: np.ndarray
    drive_i: np.ndarray
    correlation: np.ndarray


def cue_encoding(model: Any, *, min_spikes: float = 1.0) -> CueEncoding:
    """Expected cue spikes a network's cue encoder delivers, per cue (no simulation).

    The cue units' rates are deterministic (``model.cue_rates``), so the expected
    spikes of unit ``j`` for one cue are its rate summed over the cue period times
    the bin width (``cue_rate_hz`` x cue duration x tuning), and the expected spikes
    arriving at a cell are the sum over the units connected to it. They depend only
    on the cue encoder and its wiring (the model's ``seed``), not on the searched
    parameters (which set how strongly each arriving spike acts).

    Parameters
    ----------
    model : BiophysicalReservoir
        Needs ``cue_rates``, ``cue_e_mask`` ``(n_e, n_cue)``, ``cue_i_mask`` ``(n_i, n_cue)``
        and ``dt_ms``.
    min_spikes : float
        An E cell is *reached* by a cue when it expects at least this many cue spikes (> 0).

    Returns
    -------
    CueEncoding
    """
    for attr in ("cue_rates", "cue_e_mask", "cue_i_mask", "dt_ms"):
        if not hasattr(model, attr):
            raise TypeError(f"model must be a BiophysicalReservoir (with {attr!r}); got {type(model).__name__}")
    threshold = check_float(min_spikes, "min_spikes", low=0, low_open=True)
    batch = CuedMemory(dt=model.dt_ms).batch(4, seed=0)  # trial c shows cue c
    rates = np.asarray(model.cue_rates(batch.inputs), dtype=np.float64)  # (T, 4, n_cue) Hz
    unit = rates.sum(axis=0) * model.dt_ms * 1e-3  # (4, n_cue)
    e_mask = np.asarray(model.cue_e_mask, dtype=np.float64)
    i_mask = np.asarray(model.cue_i_mask, dtype=np.float64)
    if e_mask.ndim != 2 or e_mask.shape[1] != unit.shape[1] or i_mask.ndim != 2 or i_mask.shape[1] != unit.shape[1]:
        raise ValueError(f"model.cue_e_mask and cue_i_mask must be (n_cells, n_cue={unit.shape[1]}); got "
                         f"{e_mask.shape} and {i_mask.shape}")
    drive_e, drive_i = unit @ e_mask.T, unit @ i_mask.T
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(drive_e) if drive_e.shape[1] > 1 else np.full((4, 4), np.nan)
    info = batch.info
    table = pd.DataFrame({
        "cue": np.arange(4), "x1": info["x1"].to_numpy(), "x2": info["x2"].to_numpy(),
        "cue_unit_spikes": unit.sum(axis=1), "spikes_to_e": drive_e.sum(axis=1),
        "spikes_to_i": drive_i.sum(axis=1), "e_cells_reached": (drive_e >= threshold).sum(axis=1),
        "e_cells_connected": np.full(4, int((e_mask.sum(axis=1) > 0).sum())),
    })
    return CueEncoding(table=table, unit_spikes=unit, drive_e=drive_e, drive_i=drive_i, correlation=corr)
