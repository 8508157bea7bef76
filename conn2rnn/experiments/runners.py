"""Execute run groups locally, serially or on Dask, recording each into a result store.

:func:`run_groups` takes the groups of a sweep (see
:meth:`conn2rnn.experiments.spec.ExperimentSpec.groups`), skips those the store
already lists as complete, executes the rest and records each one as soon as it
finishes, so a killed sweep loses at most the groups in flight and a rerun
resumes where it stopped.

An executor is a picklable top-level callable::

    executor(group: dict, *, workdir: Path) -> {"rows": [...], "curves": [...] | None,
                                                "artifacts": {name: relative path}}

``workdir`` is the group's own folder in the store (``groups/<group_id>/``): an
executor that checkpoints there resumes an interrupted group. Workers only compute;
the driver process alone writes the store's tables and manifest.

Before running anything, :func:`run_groups` takes the store's lock, marks groups
whose recorded files were altered as incomplete (they run again, with a
:class:`StoreWarning` naming the file), and, for the 'local' runner, waits for
worker processes of an earlier, killed sweep to be gone. Local workers watch
their driver and exit within a fraction of a second when it dies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import os
import sys
import time
import traceback as _traceback
import warnings
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import pandas as pd

from .._registry import Registry
from .store import ResultStore, check_group_id


@dataclasses.dataclass(frozen=True)
class Runner:
    """How :func:`run_groups` executes the pending groups of a sweep.

    Attributes
    ----------
    run : callable
        ``run(pending, executor, store, recorder, n_workers, scheduler)``: execute
        every pending group dict and hand each outcome to ``recorder.outcome(group,
        outcome)`` (the built-in runners below are the examples).
    in_process : bool
        Runs the groups in this process: ``n_workers`` must be None or 1, and the
        executor need not be picklable.
    uses_scheduler : bool
        Accepts ``scheduler``.
    check : callable, optional
        ``check()`` raises when the runner cannot run here (a missing extra); called
        before anything is written.
    prepare : callable, optional
        ``prepare(store)``, under the store's lock before any group runs.
    """

    run: Callable[..., None]
    in_process: bool = False
    uses_scheduler: bool = False
    check: Callable[[], Any] | None = None
    prepare: Callable[[ResultStore], None] | None = None


#: Runners by name (``run_groups(runner=...)``, ``conn2rnn run --runner``): 'local',
#: 'dask' and 'serial' (registered at the end of this module); add your own with
#: ``RUNNERS.register(name, Runner(run=...))``.
RUNNERS: Registry[Runner] = Registry("runner")


class StoreWarning(UserWarning):
    """A store problem that the sweep repaired (an altered group run again, ...)."""


class SweepError(RuntimeError):
    """Some groups of a sweep failed; all the others were executed and recorded.

    Attributes
    ----------
    failed : dict of str to str
        Failed group id -> one-line error (tracebacks are in ``failures.jsonl``).
    results : DataFrame
        The store's results table after the sweep (the completed groups).
    """

    def __init__(self, failed: Mapping[str, str], results: pd.DataFrame, store: ResultStore) -> None:
        self.failed = dict(failed)
        self.results = results
        shown = list(self.failed.items())[:20]
        listing = "\n".join(f"  {gid}: {err}" for gid, err in shown)
        if len(self.failed) > len(shown):
            listing += f"\n  ... and {len(self.failed) - len(shown)} more"
        super().__init__(
            f"{len(self.failed)} group(s) failed; every other group was recorded in {store.root}.\n"
            f"{listing}\nTracebacks: {store.failures_path}. Rerun the same sweep to retry only "
            "the failed groups."
        )


# --------------------------------------------------------------------- workers
from ._workers import (  # noqa: E402,F401  (re-exported: they were defined here before)
    _HELD,
    _THREAD_VARS,
    _WATCH_INTERVAL_S,
    _WORKERS_LOCK,
    _available_cores,
    _check_picklable,
    _clear_folder,
    _init_worker,
    _is_checkpoint_error,
    _pid_alive,
    _set_parent_death_signal,
    _thread_env,
    _wait_for_leftover_workers,
    _watch_driver,
)


def _execute(executor: Callable[..., dict], group: dict, workdir: str,
             n_threads: int | None) -> dict[str, Any]:
    """Run one group in a worker; exceptions come back as data with their traceback.

    A group whose checkpoint cannot be read (truncated, corrupt) is run again
    once from scratch in an emptied work folder; the outcome's ``notes`` say so.
    """
    if n_threads is not None and "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.get_num_threads() != n_threads:
            torch.set_num_threads(n_threads)
    start = time.perf_counter()
    notes: list[str] = []
    try:
        try:
            result = executor(group, workdir=Path(workdir))
        except Exception as exc:
            if not _is_checkpoint_error(exc):
                raise
            notes.append(f"group {group['group_id']}: {exc}; its work folder was emptied and "
                         "the group run again from scratch")
            _clear_folder(Path(workdir))
            result = executor(group, workdir=Path(workdir))
    except (Exception, SystemExit) as exc:  # sys.exit in an executor fails its group only
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "notes": notes,
                "traceback": _traceback.format_exc(), "seconds": time.perf_counter() - start}
    return {"ok": True, "result": result, "notes": notes, "seconds": time.perf_counter() - start}


# ---------------------------------------------------------------------- driver
class _Recorder:
    """Driver-side bookkeeping: record outcomes, count failures, advance the bar."""

    def __init__(self, store: ResultStore, bar: Any) -> None:
        self.store, self.bar = store, bar
        self.failed: dict[str, str] = {}

    def outcome(self, group: dict, outcome: dict[str, Any]) -> None:
        gid = group["group_id"]
        for note in outcome.get("notes", ()):
            warnings.warn(note, StoreWarning, stacklevel=2)
        if not outcome["ok"]:
            self.fail(group, outcome["error"], outcome["traceback"])
            return
        result = outcome["result"]
        try:
            _check_run_ids(result, group)
            self.store.record(gid, result, seconds=outcome["seconds"])
        except (TypeError, ValueError) as exc:
            self.fail(group, f"invalid result: {type(exc).__name__}: {exc}",
                      _traceback.format_exc())
            return
        self.bar.update(1)

    def crash(self, group: dict, exc: BaseException, why: str = "") -> None:
        """A group whose execution broke outside the executor (worker died, pickling)."""
        text = "".join(_traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.fail(group, why or f"{type(exc).__name__}: {exc}", text)

    def fail(self, group: dict, error: str, tb: str) -> None:
        gid = group["group_id"]
        self.store.record_failure(gid, error, traceback=tb, run_ids=group["run_ids"])
        self.failed[gid] = error.splitlines()[0] if error else "failed"
        self.bar.set_postfix(failed=len(self.failed))
        self.bar.update(1)


def _check_run_ids(result: Any, group: dict) -> None:
    if isinstance(result, Mapping) and isinstance(result.get("rows"), list):
        known = set(group["run_ids"])
        strays = sorted({r.get("run_id") for r in result["rows"]
                         if isinstance(r, Mapping) and r.get("run_id") not in known}, key=str)
        if strays:
            raise ValueError(f"rows name run_id(s) {strays[:5]} that are not among the group's "
                             f"{len(known)} run_ids (e.g. {group['run_ids'][:3]})")


def _check_groups(groups: Any) -> list[dict]:
    if isinstance(groups, Mapping) or not isinstance(groups, Sequence):
        raise TypeError(f"groups must be a list of dicts; got {type(groups).__name__}")
    seen: set[str] = set()
    out = []
    for i, group in enumerate(groups):
        if not isinstance(group, Mapping):
            raise TypeError(f"groups[{i}] must be a dict; got {type(group).__name__}")
        if "group_id" not in group or "run_ids" not in group:
            raise ValueError(f"groups[{i}] must have 'group_id' and 'run_ids'; got keys {sorted(group)}")
        gid = check_group_id(group["group_id"])
        run_ids = group["run_ids"]
        if not isinstance(run_ids, list) or not all(isinstance(r, str) for r in run_ids):
            raise TypeError(f"groups[{i}]['run_ids'] must be a list of str; got {run_ids!r:.80}")
        if gid in seen:
            raise ValueError(f"group_id {gid!r} appears twice in groups; ids must be unique")
        try:
            json.dumps(group)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"groups[{i}] ({gid}) must be JSON-serialisable: {exc}") from exc
        seen.add(gid)
        out.append(dict(group))
    return out


def _progress(total: int, initial: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="groups", unit="group",
                disable=not enabled, dynamic_ncols=True)


def check_run_options(runner: Any, n_workers: Any = None, scheduler: Any = None) -> None:
    """Check a runner's options before anything is written (see :func:`run_groups`).

    Raises
    ------
    ValueError
        An unknown runner, ``n_workers`` that is not a positive integer, or options
        that do not go together (``scheduler`` without 'dask', workers with 'serial').
    ImportError
        For runner 'dask' without ``dask.distributed`` installed.
    """
    if not isinstance(runner, str) or runner not in RUNNERS:
        raise ValueError(f"unknown runner {runner!r}; valid runners: {list(RUNNERS)}")
    entry = RUNNERS[runner]
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int)
                                  or n_workers < 1):
        raise ValueError(f"n_workers must be a positive integer or None (--workers; default one per "
                         f"core); got {n_workers!r}")
    if entry.in_process and n_workers not in (None, 1):
        raise ValueError(f"runner={runner!r} runs in this process; n_workers must be None or 1, "
                         f"got {n_workers}; use runner='local' for parallel workers")
    if scheduler is not None and not entry.uses_scheduler:
        users = " or ".join(f"runner={name!r}" for name, r in RUNNERS.items() if r.uses_scheduler)
        raise ValueError(f"scheduler is only used by {users or 'no registered runner'}; got runner={runner!r}")
    if scheduler is not None and n_workers is not None:
        raise ValueError("n_workers only sizes the default LocalCluster; with a scheduler, scale "
                         "the cluster itself (cluster.scale(n))")
    if entry.check is not None:
        entry.check()  # e.g. the missing extra is named before anything is written


def run_groups(groups: Sequence[dict], executor: Callable[..., dict], store: ResultStore, *,
               runner: str = "local", n_workers: int | None = None,
               scheduler: Any = None, progress: bool = True) -> pd.DataFrame:
    """Execute the groups not yet in ``store``, recording each as it completes.

    Parameters
    ----------
    groups : list of dict
        Run groups, each JSON-serialisable with a unique ``group_id`` and its
        ``run_ids`` (see :meth:`ExperimentSpec.groups`).
    executor : callable
        ``executor(group, *, workdir) -> {"rows", "curves", "artifacts"}`` (see the
        module docstring). For 'local' and 'dask' it must be picklable: a
        top-level function of an importable module.
    store : ResultStore
        Where results go; its completed groups are skipped (resume).
    runner : str
        A name registered in :data:`RUNNERS`; the built-in ones:

        - 'local': a :class:`~concurrent.futures.ProcessPoolExecutor` with
          ``min(cores, pending groups)`` workers (``n_workers`` overrides), started
          with 'forkserver' where the platform has it, else 'spawn': never 'fork',
          which can deadlock a process that has started torch's or BLAS's thread
          pools. Each worker's torch/OpenMP/BLAS threads are capped to
          ``max(1, cores // workers)`` so the workers do not oversubscribe the
          cores. Like every spawned pool it re-imports the calling script: guard
          the script's entry point with ``if __name__ == "__main__":``.
        - 'dask': ``dask.distributed`` (``pip install 'conn2rnn[dask]'``). Without
          ``scheduler``, a ``LocalCluster`` of ``n_workers`` (default as 'local')
          single-threaded worker processes, each given the same thread caps, is
          started and closed again; ``scheduler`` may instead be a scheduler address
          (``"tcp://host:8786"``), a ``dask.distributed.Client`` or a dask cluster
          object, which are used as they are (their thread settings are theirs).
          Workers must see the store's folder (a shared filesystem on clusters).
        - 'serial': one group after another in this process (debugging, tiny sweeps).
    n_workers : int, optional
        Worker processes for 'local' and for the default Dask ``LocalCluster``.
    scheduler : str, Client or Cluster, optional
        Only for 'dask'. On SLURM, with ``dask-jobqueue``::

            from dask.distributed import Client
            from dask_jobqueue import SLURMCluster

            cluster = SLURMCluster(cores=8, processes=8, memory="32GB", walltime="04:00:00",
                                   job_script_prologue=["export OMP_NUM_THREADS=1"])
            cluster.scale(jobs=4)          # 4 jobs x 8 single-threaded workers
            with Client(cluster) as client:
                run_groups(groups, executor, store, runner="dask", scheduler=client)

    progress : bool
        Show a tqdm progress bar over all groups (completed ones counted from the start).

    Returns
    -------
    DataFrame
        The store's full results table (:meth:`ResultStore.results`), also written
        to ``results.csv``.

    Raises
    ------
    SweepError
        When some groups raised. Each failure is appended to ``failures.jsonl``
        with its traceback and the group stays incomplete; the other groups keep
        running and are all recorded before the error is raised, so rerunning the
        same call retries exactly the failed (and any unfinished) groups. A worker
        process that dies ('local') fails the groups it had in flight and a fresh
        pool takes the rest; Dask reruns a lost worker's groups elsewhere, up to
        its ``allowed-failures`` setting, then fails them.
    RuntimeError
        When another process is writing to the same store.

    Notes
    -----
    Only this (the driver) process writes to the store: workers return their
    results, which are recorded here one at a time, each atomically. Killing the
    sweep at any moment loses only the groups in flight.
    """
    check_run_options(runner, n_workers, scheduler)
    if not callable(executor):
        raise TypeError(f"executor must be callable(group, *, workdir); got {type(executor).__name__}")
    if not isinstance(store, ResultStore):
        raise TypeError(f"store must be a ResultStore; got {type(store).__name__}")
    groups = _check_groups(groups)
    entry = RUNNERS[runner]
    if not entry.in_process:
        _check_picklable(executor, runner)

    with store.lock():
        invalid = store.invalid_groups()
        for gid, why in invalid.items():
            warnings.warn(f"{why}; group {gid} is incomplete and is run again", StoreWarning,
                          stacklevel=2)
        store.discard(list(invalid))
        if entry.prepare is not None:
            entry.prepare(store)
        done = store.completed()
        pending = [g for g in groups if g["group_id"] not in done]
        with _progress(len(groups), len(groups) - len(pending), progress) as bar:
            recorder = _Recorder(store, bar)
            if pending:
                entry.run(pending, executor, store, recorder, n_workers, scheduler)
        table = store.consolidate()
    if recorder.failed:
        raise SweepError(recorder.failed, table, store)
    return table


def _run_serial(pending: list[dict], executor: Callable, store: ResultStore,
                recorder: _Recorder, n_workers: int | None = None, scheduler: Any = None) -> None:
    for group in pending:
        workdir = str(store.workdir(group["group_id"]))
        recorder.outcome(group, _execute(executor, group, workdir, None))


def _mp_context() -> multiprocessing.context.BaseContext:
    """'forkserver' where available (workers fork from a clean server process that
    imported this module once, so they start fast), else 'spawn'; never 'fork'."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", __name__])  # no effect once the server runs
    return ctx


def _run_local(pending: list[dict], executor: Callable, store: ResultStore,
               recorder: _Recorder, n_workers: int | None, scheduler: Any = None) -> None:
    cores = _available_cores()
    n = n_workers or min(cores, len(pending))
    threads = max(1, cores // n)
    queue = deque(pending)
    while queue:  # a fresh pool after a worker died abruptly
        pool = ProcessPoolExecutor(n, mp_context=_mp_context(), initializer=_init_worker,
                                   initargs=(threads, os.getpid(),
                                             str(store.root / _WORKERS_LOCK)))
        running: dict[Any, dict] = {}
        broken = False
        try:
            while running or (queue and not broken):
                while queue and not broken and len(running) < 2 * n:
                    group = queue[0]
                    workdir = str(store.workdir(group["group_id"]))
                    try:
                        running[pool.submit(_execute, executor, group, workdir, threads)] = group
                    except BrokenProcessPool:  # it broke before we saw a failed future
                        broken = True
                    else:
                        queue.popleft()
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    group = running.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool as exc:
                        broken = True
                        recorder.crash(group, exc, "a worker process died abruptly (killed, "
                                       "out of memory or crashed) while this group was in flight")
                    except Exception as exc:  # e.g. a result that cannot be pickled
                        recorder.crash(group, exc)
                    else:
                        recorder.outcome(group, outcome)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def _import_dask() -> Any:
    try:
        import distributed  # optional extra: conn2rnn[dask]
    except ImportError as exc:
        raise ImportError("runner='dask' needs dask.distributed: pip install 'conn2rnn[dask]'") from exc
    return distributed


@contextlib.contextmanager
def _dask_client(scheduler: Any, n_workers: int | None, n_pending: int) -> Iterator[tuple[Any, int | None]]:
    distributed = _import_dask()
    Client, LocalCluster, Cluster = distributed.Client, distributed.LocalCluster, distributed.deploy.Cluster
    if scheduler is None:
        import logging

        cores = _available_cores()
        n = n_workers or min(cores, n_pending)
        threads = max(1, cores // n)
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=logging.WARNING,
                          env=_thread_env(threads)) as cluster, Client(cluster) as client:
            yield client, threads
    elif isinstance(scheduler, Client):
        yield scheduler, None
    elif isinstance(scheduler, (str, Cluster)):
        with Client(scheduler) as client:
            yield client, None
    else:
        raise TypeError("scheduler must be a scheduler address (str), a dask.distributed.Client "
                        f"or a dask cluster; got {type(scheduler).__name__}")


def _run_dask(pending: list[dict], executor: Callable, store: ResultStore, recorder: _Recorder,
              n_workers: int | None, scheduler: Any) -> None:
    as_completed = _import_dask().as_completed
    with _dask_client(scheduler, n_workers, len(pending)) as (client, threads):
        by_key: dict[str, dict] = {}
        futures = []
        token = os.urandom(4).hex()
        for group in pending:
            workdir = str(store.workdir(group["group_id"]))
            future = client.submit(_execute, executor, group, workdir, threads,
                                   key=f"conn2rnn-{group['group_id']}-{token}", pure=False)
            by_key[future.key] = group
            futures.append(future)
        try:
            for future in as_completed(futures):
                group = by_key[future.key]
                try:
                    outcome = future.result()
                except Exception as exc:  # KilledWorker, a result that cannot be pickled, ...
                    recorder.crash(group, exc)
                else:
                    recorder.outcome(group, outcome)
                future.release()
        except BaseException:
            client.cancel(futures)
            raise


RUNNERS.register("local", Runner(run=_run_local, prepare=_wait_for_leftover_workers))
RUNNERS.register("dask", Runner(run=_run_dask, uses_scheduler=True, check=_import_dask))
RUNNERS.register("serial", Runner(run=_run_serial, in_process=True))
