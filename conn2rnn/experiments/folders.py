"""Experiment folders: which folder a run may write into, and what a reader of one sees.

Two rules keep a user's files and a store's groups apart:

* :func:`check_output_folder` (every write path: ``conn2rnn run``, ``conn2rnn
  compare``, ``conn2rnn brc run``) accepts a missing or empty folder, or one that
  is already a conn2rnn experiment folder (it holds ``spec.toml`` or
  ``manifest.json``); any other folder is refused before anything is written, since
  a run writes ``results.csv``, ``report.md`` and ``figures/`` there.
* :func:`open_experiment` (every read path: ``conn2rnn report``, ``conn2rnn
  writeup``) opens an existing folder without creating anything, runs the store's
  integrity checks on the groups of the folder's *current* spec, and reads only
  those groups. It counts how many of the spec's groups are complete (a killed or
  failed sweep is partial) and how many stored groups belong to no current spec
  (left from an earlier spec of the folder); :attr:`Experiment.notes` says both.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .. import _toml
from .spec import ExperimentSpec
from .store import ResultStore

__all__ = ["Experiment", "check_output_folder", "open_experiment"]

#: Files whose presence marks a folder as a conn2rnn experiment folder.
MARKERS = ("spec.toml", "manifest.json")
#: What a store leaves in a folder before its spec or manifest is written (a run killed early).
_LEFTOVERS = {"groups", ".lock", ".workers.lock"}


class IncompleteExperimentWarning(UserWarning):
    """A report or write-up covers only part of its spec (the sweep is not finished)."""


def check_output_folder(out: str | Path, argname: str = "--out") -> Path:
    """Refuse an output folder that holds files which are not a conn2rnn experiment's.

    Parameters
    ----------
    out : str or Path
        The folder a run will write into.
    argname : str
        How the folder is called in the error message.

    Returns
    -------
    Path
        ``out`` as a Path.

    Raises
    ------
    NotADirectoryError
        When ``out`` is a file.
    FileExistsError
        When ``out`` is a non-empty folder without ``spec.toml`` or ``manifest.json``
        (the user's own folder): nothing is written there.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{argname} {out} is a file; expected a folder for the experiment's "
                                 "results (a new or empty one, or an earlier experiment's folder to resume)")
    if not out.is_dir() or any((out / m).exists() for m in MARKERS):
        return out
    foreign = sorted(p.name for p in out.iterdir() if p.name not in _LEFTOVERS)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise FileExistsError(
            f"{argname} {out} already holds files that are not a conn2rnn experiment's ({shown}); a run "
            "writes results.csv, report.md, figures/ and more there and would overwrite them. Choose a "
            "new or empty folder with --out, or move those files away")
    return out


@dataclasses.dataclass(frozen=True)
class Experiment:
    """An experiment folder opened for reading.

    Attributes
    ----------
    root : Path
    store : ResultStore
    spec : ExperimentSpec
        The folder's current spec (``spec.toml``).
    group_ids : tuple of str
        Every group of the spec, in the spec's order.
    completed : tuple of str
        Those of them that are complete (their files checked against the manifest).
    foreign : tuple of str
        Completed groups in the store that belong to no group of the current spec.
    results : DataFrame
        Tidy results of the completed groups of the spec only (id columns are str).
    curves : DataFrame
        Their learning curves.
    """

    root: Path
    store: ResultStore
    spec: Any
    group_ids: tuple[str, ...]
    completed: tuple[str, ...]
    foreign: tuple[str, ...]
    results: pd.DataFrame
    curves: pd.DataFrame

    @property
    def is_complete(self) -> bool:
        """Whether every group of the spec is complete."""
        return len(self.completed) == len(self.group_ids)

    def notes(self) -> list[str]:
        """Sentences for a report: whether the sweep is incomplete, and what was left out."""
        out = []
        if not self.is_complete:
            out.append(f"**Incomplete:** {len(self.completed)} of {len(self.group_ids)} run groups of the "
                       "spec are complete (the sweep was stopped, or some groups failed); every number "
                       "below covers those groups only. Resume with "
                       f"`conn2rnn run {self.store.spec_path} --out {self.root}`.")
        if self.foreign:
            out.append(f"{len(self.foreign)} stored group(s) belong to no group of the current spec "
                       "(left from an earlier spec of this folder, or run by a conn2rnn whose spec settings "
                       "differed) and are left out.")
        return out


def open_experiment(root: str | Path, *, command: str = "report") -> Experiment:
    """Open an experiment folder for reading, creating nothing.

    Parameters
    ----------
    root : str or Path
        A folder written by :func:`conn2rnn.experiments.run_experiment`.
    command : str
        What is being made (``"report"``, ``"write-up"``), for the messages.

    Returns
    -------
    Experiment

    Raises
    ------
    FileNotFoundError
        When ``root`` does not exist or has no ``spec.toml``.
    IncompleteGroupError
        When a completed group of the spec has files (rows, curves, artifacts)
        changed since they were recorded (the same checks for every reader).
    ValueError
        When no group of the spec is complete yet.

    Warns
    -----
    IncompleteExperimentWarning
        When only some of the spec's groups are complete, or the store holds
        groups of no current spec.
    """
    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be the path of an experiment folder (str or Path); got {type(root).__name__}")
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist; expected an experiment folder (the --out folder of "
                                "`conn2rnn run`); check the path")
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is a file; expected an experiment folder (the --out folder of "
                                 "`conn2rnn run`)")
    store = ResultStore(root, create=False)
    text = store.read_spec()
    if text is None:
        raise FileNotFoundError(f"{root} has no spec.toml, so it is not an experiment folder (the --out folder "
                                "of `conn2rnn run`); check the path")
    if "run" in _toml.loads(text, what=str(store.spec_path)):
        raise ValueError(f"{root} is a biophysical (brc) result store, not a `conn2rnn run` experiment folder; "
                         f"write it up with: conn2rnn brc report {root} --docs DOCS_FOLDER")
    spec = ExperimentSpec.from_toml(text)
    ids = tuple(g.group_id for g in spec.groups())
    stored = store.completed()
    completed = tuple(g for g in ids if g in stored)
    foreign = tuple(sorted(stored - set(ids)))
    if not completed:
        extra = (f"; its {len(foreign)} stored group(s) match no group of the spec as this conn2rnn expands "
                 "it (an earlier spec of the folder, or a conn2rnn whose spec settings differed: rerunning "
                 "recomputes them)") if foreign else ""
        raise ValueError(f"{root} holds no completed group of its spec yet (0 of {len(ids)}){extra}. There is "
                         f"nothing to {command}; run it first: conn2rnn run {store.spec_path} --out {root}")
    results = store.results(completed)  # checks rows and artifacts against the manifest
    curves = store.curves(completed)  # and the learning curves
    experiment = Experiment(root, store, spec, ids, completed, foreign, results, curves)
    for note in experiment.notes():
        warnings.warn(f"{root}: {note.replace('**', '')}", IncompleteExperimentWarning, stacklevel=2)
    return experiment
