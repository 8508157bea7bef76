"""Sweeps over constraint regimes x seeds x strengths: spec, runners, store, report.

Declare an :class:`ExperimentSpec` (or a TOML file), then
:func:`run_experiment` expands it into run groups (ensembles of trainable
networks, batched reservoirs), runs them locally or on Dask, records each group
atomically in a :class:`ResultStore` (re-running resumes), and
:func:`write_report` turns the store into a summary and figures.
"""

from __future__ import annotations

import functools

from pathlib import Path
from typing import Any

import pandas as pd

from ..fitting.training import resolve_device
from .execute import ANALYSES, AnalysisContext, execute_group
from .groups import ReservoirGroup, RunGroup, TrainableGroup, group_from_dict
from .report import summarize, write_report
from .folders import check_output_folder, open_experiment
from .runners import RUNNERS, SweepError, check_run_options, run_groups
from .spec import (
    AnalysisSpec,
    ExperimentSpec,
    GraphSpec,
    ModelSpec,
    SpecError,
    TrainingSpec,
    shipped_specs,
)
from .store import ResultStore

__all__ = [
    "ANALYSES", "RUNNERS", "AnalysisContext", "AnalysisSpec", "ExperimentSpec", "GraphSpec", "ModelSpec",
    "ReservoirGroup", "ResultStore", "RunGroup", "SpecError", "SweepError", "TrainableGroup", "TrainingSpec",
    "check_output_folder", "execute_group", "group_from_dict", "open_experiment", "run_experiment", "run_groups",
    "shipped_specs", "summarize", "write_report",
]


def run_experiment(spec: ExperimentSpec, out: str | Path, *, runner: str = "local",
                   n_workers: int | None = None, scheduler: Any = None, progress: bool = True,
                   overwrite: bool = False, device: str | None = None) -> pd.DataFrame:
    """Run (or resume) every group of ``spec`` into the folder ``out``.

    Parameters
    ----------
    spec : ExperimentSpec
    out : str or Path
        Experiment folder. If it already holds a different spec, an error asks
        for another folder or ``overwrite=True``.
    runner : {'local', 'dask', 'serial'}
        See :func:`run_groups`.
    n_workers, scheduler, progress
        See :func:`run_groups`.
    overwrite : bool
        Replace a different spec in ``out`` (completed groups of the old spec stay
        in the store; they are only reused where their content is identical).
    device : str, optional
        Torch device the trainable groups train on (``"cuda"``, ``"cuda:1"``; default
        the CPU). It is not part of a group's identity: a store filled on a GPU
        resumes on the CPU and vice versa.

    Returns
    -------
    pandas.DataFrame
        The tidy results table (one row per run x metric).

    Raises
    ------
    SpecError
        If :meth:`ExperimentSpec.validate` finds problems (nothing is written then).
    ValueError
        For bad runner options or a device this machine lacks (nothing is written).
    FileExistsError
        When ``out`` holds files that are not a conn2rnn experiment's, or a
        different spec without ``overwrite`` (nothing is written).
    """
    if not isinstance(spec, ExperimentSpec):
        raise TypeError(f"spec must be an ExperimentSpec (ExperimentSpec.load(path)); got {type(spec).__name__}")
    # every check before anything is written: the spec, the runner's options, the device, the folder
    spec.validate()
    check_run_options(runner, n_workers, scheduler)
    if device is not None:
        resolve_device(device, "cpu")
    check_output_folder(out, "out")
    store = ResultStore(Path(out))
    with store.lock():  # one lock from checking the spec to the last group recorded
        store.write_spec(spec.to_toml(), overwrite=overwrite)
        executor = execute_group if device is None else functools.partial(execute_group, device=device)
        return run_groups([g.to_dict() for g in spec.groups()], executor, store,
                          runner=runner, n_workers=n_workers, scheduler=scheduler,
                          progress=progress)
