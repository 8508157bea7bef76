"""A crash-safe, resumable result store: one folder per experiment.

Layout of a store rooted at ``root``::

    root/
      spec.toml          the experiment's spec (written once, see ResultStore.write_spec)
      manifest.json      the completed groups (the single source of truth)
      results.csv        tidy table of every completed group (rebuilt, never appended)
      curves.csv         learning-curve rows of every completed group (rebuilt)
      failures.jsonl     one JSON line per failed attempt, with its traceback
      groups/<group_id>/ per-group work folder: the executor's checkpoints and
                         artifacts, plus the store's rows.csv and curves.csv

Tables are CSV, so reading and writing them needs pandas alone (no pyarrow).
CSV keeps no types: columns are re-inferred on reading (only empty fields are
missing values, so labels such as ``"None"`` or ``"NA"`` stay strings, and floats
round-trip exactly), except the id columns (:data:`ID_COLUMNS`), which are always
read as strings: a group id such as ``"260467483015"`` stays that string.

Every file is written atomically: into a temporary file in the same folder,
flushed and fsynced, then moved over the target with :func:`os.replace` (the
folder is fsynced too). Recording a group is atomic as a whole: its ``rows.csv``
and ``curves.csv`` are written first, then the manifest is replaced with one that
lists the group. A crash before that replace leaves the group incomplete (it is
run again, and its stale row files are overwritten); a crash after it leaves the
group complete with all its rows. The manifest keeps the sha256 of every row file;
a row file whose bytes no longer match (edited, truncated, corrupted) or that is
missing makes its group incomplete: :meth:`ResultStore.invalid_groups` lists such
groups, :func:`~conn2rnn.experiments.runners.run_groups` runs them again, and
:meth:`ResultStore.results` refuses to read them (:class:`IncompleteGroupError`),
so a table is never built from altered files. ``results.csv`` is rebuilt from the row files of
the completed groups (:meth:`ResultStore.consolidate`), so it can never hold a
group twice or part of a group; after a crash it may lag behind the manifest
until the next consolidation (:func:`~conn2rnn.experiments.runners.run_groups`
consolidates at the end of every sweep, resumed ones included).

A store has one writer at a time: the runners execute groups in worker processes
but record every result from the driver process, which holds the store's lock
(:meth:`ResultStore.lock`). Any number of readers may watch a store while it is
written.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import pandas as pd

from .. import _toml
from .._io import write_atomic
from ._tables import (  # noqa: F401  (re-exported: the store's public names live here too)
    _GROUP_ID,
    _MANIFEST_FORMAT,
    _RESERVED,
    _RESULT_KEYS,
    _ROW_KEYS,
    ID_COLUMNS,
    _read_csv,
    _sha256,
    _table,
    check_folder_name,
    check_group_id,
    read_table,
)


class StoreLockedError(RuntimeError):
    """Another process is writing to the store (it holds the store's lock)."""


class IncompleteGroupError(ValueError):
    """A group listed as complete whose files are missing or were altered since recording."""


class ResultStore:
    """Results of one experiment, in one folder, safe to kill and resume.

    Parameters
    ----------
    root : str or Path
        The experiment's output folder (created if missing, unless ``create`` is False).
    create : bool
        False opens an existing store for reading only: a missing folder is a
        :class:`FileNotFoundError` and nothing is created.

    Notes
    -----
    See the module docstring for the layout and the atomicity guarantees. One
    process writes a store at a time (hold :meth:`lock`); readers may open it
    concurrently.
    """

    def __init__(self, root: str | Path, *, create: bool = True) -> None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a path (str or Path); got {type(root).__name__}")
        self.root = Path(root).resolve()
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"root {self.root} exists and is not a folder; choose a folder path")
        if create:
            (self.root / "groups").mkdir(parents=True, exist_ok=True)
        elif not self.root.is_dir():
            raise FileNotFoundError(f"{self.root} does not exist; expected the folder of a result "
                                    "store (the --out folder of a run); check the path")
        self._cache: dict[tuple[str, str, str], pd.DataFrame] = {}
        self._lock_depth = 0
        self._digests: dict[Path, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, sha256)

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r}, completed={len(self.completed())})"

    # ------------------------------------------------------------------ paths
    @property
    def spec_path(self) -> Path:
        """``root/spec.toml``."""
        return self.root / "spec.toml"

    @property
    def manifest_path(self) -> Path:
        """``root/manifest.json``: the completed groups."""
        return self.root / "manifest.json"

    @property
    def failures_path(self) -> Path:
        """``root/failures.jsonl``: one line per failed attempt."""
        return self.root / "failures.jsonl"

    def workdir(self, group_id: str) -> Path:
        """The group's work folder ``groups/<group_id>/`` (created if missing).

        Executors write checkpoints and artifacts here; ``rows.csv`` and
        ``curves.csv`` are reserved for the store.
        """
        path = self.root / "groups" / check_group_id(group_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------------------------- spec
    def write_spec(self, text: str, *, overwrite: bool = False) -> None:
        """Write ``spec.toml`` atomically, refusing to mix two experiments in one folder.

        Parameters
        ----------
        text : str
            TOML text of the experiment spec.
        overwrite : bool
            Replace an existing spec that differs. Completed groups stay in the
            store: group ids are content hashes, so groups whose content did not
            change are reused and the others are run anew (filter the results on
            ``group_id`` to drop groups of the old spec).

        Raises
        ------
        FileExistsError
            When a different spec is already stored and ``overwrite`` is False.
        StoreLockedError
            When another process is writing this store: the spec is checked and
            written under the store's lock, so a running sweep's spec is never
            replaced.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be the spec's TOML text (str); got {type(text).__name__}")
        with self.lock():
            if self.spec_path.exists() and not overwrite:
                old = self.spec_path.read_text(errors="replace")
                if not self._same_spec(old, text):
                    raise FileExistsError(
                        f"{self.spec_path} holds a different experiment spec; use a new output "
                        "folder, or pass --overwrite (overwrite=True) to replace it and keep the "
                        "groups already completed"
                    )
                return
            write_atomic(self.spec_path, text)

    def read_spec(self) -> str | None:
        """The stored spec text, or None when none was written."""
        return self.spec_path.read_text() if self.spec_path.exists() else None

    @staticmethod
    def _same_spec(old: str, new: str) -> bool:
        try:
            return _toml.loads(old) == _toml.loads(new)
        except ValueError:  # not TOML: compare the text
            return old.strip() == new.strip()

    # --------------------------------------------------------------- manifest
    def _manifest(self) -> dict[str, dict[str, Any]]:
        if not self.manifest_path.exists():
            return {}
        try:
            data = json.loads(self.manifest_path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{self.manifest_path} is not valid JSON ({exc}); it is only ever "
                             "replaced atomically, so it was edited or damaged by hand: restore "
                             "it, or delete it to run every group again") from None
        if not isinstance(data, dict) or data.get("format") != _MANIFEST_FORMAT \
                or not isinstance(data.get("groups"), dict):
            raise ValueError(f"{self.manifest_path} is not a conn2rnn manifest; is {self.root} "
                             "the output folder of another program?")
        return data["groups"]

    def _write_manifest(self, groups: Mapping[str, Any]) -> None:
        data = {"format": _MANIFEST_FORMAT, "version": 2, "groups": dict(groups)}
        write_atomic(self.manifest_path, json.dumps(data, indent=1, sort_keys=True) + "\n")

    def completed(self) -> set[str]:
        """Ids of the groups the manifest lists as completed (see :meth:`invalid_groups`
        for those among them whose files were altered since)."""
        return set(self._manifest())

    def is_complete(self, group_id: str) -> bool:
        """Whether ``group_id`` is recorded as completed."""
        return check_group_id(group_id) in self._manifest()

    def entry(self, group_id: str) -> dict[str, Any]:
        """The manifest entry of a completed group: ``n_rows``, ``n_curves``,
        ``sha256`` (file name -> hex digest of ``rows.csv`` and ``curves.csv``),
        ``artifacts``, ``seconds`` (execution time), ``finished`` (UTC time) and
        ``token`` (unique per recording)."""
        manifest = self._manifest()
        if check_group_id(group_id) not in manifest:
            raise KeyError(f"group {group_id!r} is not completed in {self.root}")
        return dict(manifest[group_id])

    # ----------------------------------------------------------------- record
    def record(self, group_id: str, result: Mapping[str, Any], *,
               seconds: float | None = None, overwrite: bool = False) -> None:
        """Record a completed group atomically: its rows, curves and manifest entry.

        Parameters
        ----------
        group_id : str
        result : dict
            ``{"rows": list of dict, "curves": list of dict or None,
            "artifacts": dict of str to str}``. Each row has ``run_id`` (str),
            ``metric`` (str), ``value`` (number or None) and any scalar labels;
            each curve row has ``run_id``. Artifacts are paths relative to the
            group's :meth:`workdir`, and must exist.
        seconds : float, optional
            Execution wall time, kept in the manifest.
        overwrite : bool
            Replace a group that is already complete (otherwise an error).
        """
        check_group_id(group_id)
        if not isinstance(result, Mapping):
            raise TypeError(f"result must be a dict with keys {list(_RESULT_KEYS)}; "
                            f"got {type(result).__name__}")
        unknown = sorted(set(result) - set(_RESULT_KEYS))
        if unknown or "rows" not in result:
            raise ValueError(f"result must have key 'rows' and optionally 'curves', 'artifacts'; "
                             f"got keys {sorted(result)}")
        rows = _table(result["rows"], "rows", _ROW_KEYS[1:], group_id)
        curves = result.get("curves")
        if curves is not None and not (isinstance(curves, (list, tuple)) and not curves):
            curves = _table(curves, "curves", ("run_id",), group_id)
        else:
            curves = None
        workdir = self.workdir(group_id)
        artifacts = self._check_artifacts(result.get("artifacts") or {}, workdir)
        if seconds is not None and (not isinstance(seconds, (int, float)) or not math.isfinite(seconds)):
            raise TypeError(f"seconds must be a finite number or None; got {seconds!r}")

        manifest = self._manifest()
        if group_id in manifest:
            if not overwrite:
                raise ValueError(f"group {group_id!r} is already recorded in {self.root}; pass "
                                 "overwrite=True to replace it")
            del manifest[group_id]
            self._write_manifest(manifest)  # incomplete first, so no mix of old and new
        # 1) the row files, each atomically; 2) the manifest: the commit point.
        hashes = {}
        raw = rows.to_csv(index=False).encode("utf-8")
        write_atomic(workdir / "rows.csv", raw)
        hashes["rows.csv"] = _sha256(raw)
        if curves is not None:
            raw = curves.to_csv(index=False).encode("utf-8")
            write_atomic(workdir / "curves.csv", raw)
            hashes["curves.csv"] = _sha256(raw)
        else:
            with contextlib.suppress(FileNotFoundError):
                (workdir / "curves.csv").unlink()
        for rel in artifacts.values():
            if (workdir / rel).is_file():
                hashes[rel] = _sha256((workdir / rel).read_bytes())
        manifest[group_id] = {
            "n_rows": len(rows), "n_curves": 0 if curves is None else len(curves),
            "sha256": hashes,
            "artifacts": artifacts, "seconds": None if seconds is None else float(seconds),
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "token": uuid.uuid4().hex,
        }
        self._write_manifest(manifest)

    @staticmethod
    def _check_artifacts(artifacts: Any, workdir: Path) -> dict[str, str]:
        if not isinstance(artifacts, Mapping):
            raise TypeError(f"result['artifacts'] must be a dict of name -> relative path; "
                            f"got {type(artifacts).__name__}")
        out = {}
        for name, rel in artifacts.items():
            if not isinstance(name, str) or not isinstance(rel, str):
                raise TypeError(f"result['artifacts'] must map str to str; got {name!r}: {rel!r}")
            path = Path(rel)
            if path.is_absolute() or ".." in path.parts or path.as_posix() in _RESERVED:
                raise ValueError(f"artifact {name!r} -> {rel!r} must be a path relative to the "
                                 f"group's workdir, without '..', and not one of {list(_RESERVED)}")
            if not (workdir / path).exists():
                raise ValueError(f"artifact {name!r} -> {rel!r} does not exist under {workdir}; "
                                 "write it before returning the result")
            out[name] = path.as_posix()
        return out

    # --------------------------------------------------------------- failures
    def record_failure(self, group_id: str, error: str, *, traceback: str = "",
                       run_ids: list[str] | None = None) -> None:
        """Append a failed attempt of ``group_id`` to ``failures.jsonl`` (fsynced).

        The group is not marked complete; a later successful :meth:`record`
        resolves it.
        """
        check_group_id(group_id)
        entry = {"group_id": group_id, "error": str(error), "traceback": str(traceback),
                 "run_ids": list(run_ids or []),
                 "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        line = json.dumps(entry) + "\n"
        with open(self.failures_path, "a+b") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell():  # after a torn last line, start a fresh one
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    line = "\n" + line
            fh.write(line.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())

    def failures(self) -> list[dict[str, Any]]:
        """The latest failed attempt of every group that is still incomplete.

        Returns
        -------
        list of dict
            Each with ``group_id``, ``error``, ``traceback``, ``run_ids`` and ``time``,
            in the order the failures happened.
        """
        if not self.failures_path.exists():
            return []
        latest: dict[str, dict[str, Any]] = {}
        for line in self.failures_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a crash
            if isinstance(entry, dict) and "group_id" in entry:
                latest.pop(entry["group_id"], None)
                latest[entry["group_id"]] = entry
        done = self.completed()
        return [e for gid, e in latest.items() if gid not in done]

    # ----------------------------------------------------------------- tables
    # ----------------------------------------------------------- verification
    def _load_group_file(self, gid: str, entry: Mapping[str, Any], kind: str) -> pd.DataFrame:
        """Read ``groups/<gid>/<kind>.csv``, checking it against its manifest entry.

        Raises :class:`IncompleteGroupError` naming the file when it is missing,
        its sha256 differs from the recorded one, it cannot be decoded or parsed,
        or (stores written before hashes were kept) its row count differs.
        """
        name = f"{kind}.csv"
        path = self.root / "groups" / gid / name
        expected = (entry.get("sha256") or {}).get(name)
        n_expected = entry.get("n_rows" if kind == "rows" else "n_curves")
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise IncompleteGroupError(f"{path} is missing although group {gid!r} is listed as "
                                       "complete") from None
        digest = _sha256(raw)
        if expected is not None and digest != expected:
            raise IncompleteGroupError(
                f"{path} was changed after it was recorded (sha256 {digest[:12]}... differs "
                f"from the recorded {expected[:12]}...; {len(raw)} bytes): edited, truncated or "
                "corrupted")
        key = (gid, kind, digest)
        if key not in self._cache:
            try:
                frame = _read_csv(raw)
            except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
                raise IncompleteGroupError(f"{path} cannot be read as a CSV table "
                                           f"({type(exc).__name__}: {exc})") from None
            if n_expected is not None and len(frame) != n_expected:
                raise IncompleteGroupError(f"{path} has {len(frame)} rows but {n_expected} were "
                                           "recorded: truncated or edited")
            self._cache[key] = frame
        return self._cache[key]

    def _fix_hint(self) -> str:
        spec = self.spec_path if self.spec_path.exists() else "SPEC.toml"
        return (f"run `conn2rnn run {spec} --out {self.root}` to redo the group(s) "
                "(or run_groups() with this store)")

    def _check_artifact(self, gid: str, entry: Mapping[str, Any], rel: str) -> Path:
        path = self.root / "groups" / gid / rel
        expected = (entry.get("sha256") or {}).get(rel)
        if not path.exists():
            raise IncompleteGroupError(f"{path} is missing although group {gid!r} is listed as "
                                       "complete")
        if expected is not None and (not path.is_file() or self._digest(path) != expected):
            raise IncompleteGroupError(f"{path} was changed after it was recorded (its sha256 "
                                       "differs from the recorded one): edited, truncated or "
                                       "corrupted")
        return path

    def _digest(self, path: Path) -> str:
        """sha256 of a file, re-read only when its size or modification time changed."""
        stat = path.stat()
        cached = self._digests.get(path)
        if cached is None or cached[:2] != (stat.st_mtime_ns, stat.st_size):
            cached = (stat.st_mtime_ns, stat.st_size, _sha256(path.read_bytes()))
            self._digests[path] = cached
        return cached[2]

    def artifact_path(self, group_id: str, name: str) -> Path:
        """The path of a completed group's artifact, checked against its recorded sha256.

        Parameters
        ----------
        group_id : str
        name : str
            The artifact's name in the executor's result (``result["artifacts"]``).

        Raises
        ------
        KeyError
            When the group is not complete or has no such artifact.
        IncompleteGroupError
            When the file is missing or was changed since it was recorded (the
            message names it and the command that redoes the group).
        """
        entry = self.entry(group_id)
        if name not in entry["artifacts"]:
            raise KeyError(f"group {group_id!r} has no artifact {name!r}; it has "
                           f"{sorted(entry['artifacts'])}")
        try:
            return self._check_artifact(group_id, entry, entry["artifacts"][name])
        except IncompleteGroupError as exc:
            raise IncompleteGroupError(f"{exc}; {self._fix_hint()}") from None

    def invalid_groups(self) -> dict[str, str]:
        """Groups listed as complete whose files (rows, curves, artifacts) are missing or altered.

        Returns
        -------
        dict of str to str
            Group id -> why it is not complete (naming the file). Empty when every
            completed group's files match the sha256 recorded in the manifest.
        """
        problems = {}
        for gid, entry in sorted(self._manifest().items()):
            try:
                for kind in ("rows", "curves"):
                    if kind == "rows" or entry.get("n_curves"):
                        self._load_group_file(gid, entry, kind)
                for rel in entry.get("artifacts", {}).values():
                    self._check_artifact(gid, entry, rel)
            except IncompleteGroupError as exc:
                problems[gid] = str(exc)
        return problems

    def discard(self, group_ids: Sequence[str]) -> None:
        """Mark groups incomplete again (drop them from the manifest), so they are rerun.

        Their work folders stay (an executor may resume from a checkpoint there).
        Hold :meth:`lock` while calling this.
        """
        ids = [check_group_id(g) for g in group_ids]
        manifest = self._manifest()
        if any(g in manifest for g in ids):
            for gid in ids:
                manifest.pop(gid, None)
            self._write_manifest(manifest)

    def _frames(self, kind: str, groups: Any = None) -> list[pd.DataFrame]:
        manifest = self._manifest()
        frames, problems = [], []
        wanted = set(manifest) if groups is None else set(manifest) & self._group_set(groups)
        for gid in sorted(wanted):
            entry = manifest[gid]
            if kind == "curves" and not entry.get("n_curves"):
                continue
            try:
                frames.append(self._load_group_file(gid, entry, kind))
                if kind == "rows":  # a table is only as good as the artifacts beside it
                    for rel in entry.get("artifacts", {}).values():
                        self._check_artifact(gid, entry, rel)
            except IncompleteGroupError as exc:
                problems.append(str(exc))
        if problems:
            more = f" (and {len(problems) - 1} more group file(s))" if len(problems) > 1 else ""
            raise IncompleteGroupError(f"{problems[0]}{more}; refusing to build a table from it: "
                                       f"{self._fix_hint()}")
        return frames

    @staticmethod
    def _group_set(groups: Any) -> set[str]:
        if isinstance(groups, str) or not hasattr(groups, "__iter__"):
            raise TypeError(f"groups must be a collection of group ids (e.g. a list of str); got {groups!r}")
        return {check_group_id(g) for g in groups}

    def results(self, groups: Any = None) -> pd.DataFrame:
        """The tidy results table of every completed group (of ``groups`` when given).

        Parameters
        ----------
        groups : collection of str, optional
            Read only these groups (those not complete are left out); e.g. the
            groups of the folder's current spec.

        Returns
        -------
        DataFrame
            Columns ``group_id``, ``run_id``, ``metric``, ``value`` then the labels;
            groups ordered by id, rows in the executor's order. Each completed group
            appears exactly once; incomplete groups never.

        Raises
        ------
        IncompleteGroupError
            When a completed group's rows or artifacts were changed, truncated or
            deleted since they were recorded (checked against their sha256); the
            message names the file and the command that redoes the group.
        """
        frames = [f for f in self._frames("rows", groups) if len(f)]
        if not frames:
            return pd.DataFrame(columns=list(_ROW_KEYS))
        return pd.concat(frames, ignore_index=True, sort=False)

    def curves(self, groups: Any = None) -> pd.DataFrame:
        """Learning-curve rows of every completed group, or of ``groups`` (see :meth:`results`)."""
        frames = self._frames("curves", groups)
        if not frames:
            return pd.DataFrame(columns=["group_id", "run_id"])
        return pd.concat(frames, ignore_index=True, sort=False)

    def consolidate(self) -> pd.DataFrame:
        """Rebuild ``results.csv`` and ``curves.csv`` (atomically) from the completed groups.

        Returns
        -------
        DataFrame
            The results table (see :meth:`results`).
        """
        table = self.results()
        write_atomic(self.root / "results.csv", table.to_csv(index=False))
        write_atomic(self.root / "curves.csv", self.curves().to_csv(index=False))
        return table

    # ------------------------------------------------------------------- lock
    @contextlib.contextmanager
    def lock(self) -> Iterator["ResultStore"]:
        """Hold the store's writer lock (an advisory lock on ``root/.lock``).

        Re-entrant within this object: a nested ``with store.lock()`` (e.g.
        :meth:`write_spec` inside a sweep) keeps the lock already held.

        Raises
        ------
        StoreLockedError
            (a RuntimeError) When another process is writing this store. The
            lock dies with its process, so a killed sweep never leaves the folder
            locked.
        """
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield self
            finally:
                self._lock_depth -= 1
            return
        try:
            import fcntl  # POSIX only
        except ImportError:  # pragma: no cover - no advisory locks on this platform
            yield self
            return
        with open(self.root / ".lock", "a") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreLockedError(f"another process is writing to {self.root}; wait for it "
                                       "to finish or use another output folder") from None
            self._lock_depth = 1
            try:
                self._remove_stale_temps()
                yield self
            finally:
                self._lock_depth = 0
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _remove_stale_temps(self) -> None:
        """Delete the store's temporary files left by a writer killed mid-write."""
        stale = [*self.root.glob(".*.tmp"), *(self.root / "groups").glob("*/.rows.csv.*.tmp"),
                 *(self.root / "groups").glob("*/.curves.csv.*.tmp")]
        for tmp in stale:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
