"""Worker processes of the runners: thread caps, dying with the driver, the workers lock,
and the check that an executor can reach them (it must pickle).

Split from :mod:`conn2rnn.experiments.runners`, which re-exports these helpers.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from .store import StoreLockedError

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _available_cores() -> int:
    """Cores this process may use (its CPU affinity where the platform reports it)."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _thread_env(n_threads: int) -> dict[str, str]:
    return {var: str(n_threads) for var in _THREAD_VARS}


_WATCH_INTERVAL_S = 0.25
_WORKERS_LOCK = ".workers.lock"
_HELD: list[Any] = []  # a worker's open, locked workers-lock file (kept for its lifetime)


def _set_parent_death_signal() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (prctl)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes  # Linux only (prctl)
    import signal  # Linux only (prctl)

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a pid reused by another user's process
        return True
    return True


def _watch_driver(driver_pid: int, parent_pid: int) -> None:
    """Exit this worker as soon as the driver or the worker's parent is gone."""
    while True:
        time.sleep(_WATCH_INTERVAL_S)
        if os.getppid() != parent_pid or not _pid_alive(driver_pid):
            os._exit(70)  # no cleanup: a dead driver records nothing from this worker


def _init_worker(n_threads: int, driver_pid: int | None = None,
                 workers_lock: str | None = None) -> None:
    """Worker initializer: cap threads, die with the driver, mark the store as in use.

    The environment variables cover libraries loaded later in the worker;
    ``torch.set_num_threads`` covers a torch that is already loaded. With
    ``driver_pid``, the worker exits within a fraction of a second of the driver
    (or of its own parent, the fork server) dying, so a killed sweep leaves no
    process writing checkpoints (also ``PR_SET_PDEATHSIG`` on Linux). With
    ``workers_lock``, the worker holds a shared lock on that file for its whole
    life, which a later driver waits on before it runs any group.
    """
    os.environ.update(_thread_env(n_threads))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n_threads)
    if driver_pid is not None:
        _set_parent_death_signal()
        parent = os.getppid()
        if parent != driver_pid and not _pid_alive(driver_pid):
            os._exit(70)
        threading.Thread(target=_watch_driver, args=(driver_pid, parent), daemon=True,
                         name="conn2rnn-driver-watch").start()
    if workers_lock is not None:
        try:
            import fcntl  # POSIX only
        except ImportError:  # pragma: no cover - no advisory locks on this platform
            return
        fh = open(workers_lock, "a")  # kept open (and locked) until the worker exits
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
        _HELD.append(fh)


def _wait_for_leftover_workers(store: Any, timeout_s: float = 10.0) -> None:
    """Wait until no worker of an earlier (killed) sweep holds the store's workers lock."""
    try:
        import fcntl  # POSIX only
    except ImportError:  # pragma: no cover
        return
    deadline = time.monotonic() + timeout_s
    with open(store.root / _WORKERS_LOCK, "a") as fh:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreLockedError(
                        f"worker processes of an earlier sweep still use {store.root} (they hold "
                        f"{store.root / _WORKERS_LOCK}); stop them, or wait, then rerun") from None
                time.sleep(0.2)
            else:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
                return


def _is_checkpoint_error(exc: BaseException) -> bool:
    utils = sys.modules.get("conn2rnn.fitting._training_utils")
    return utils is not None and isinstance(exc, utils.CheckpointError)


def _clear_folder(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _check_picklable(executor: Callable, runner: str) -> None:
    main = sys.modules.get("__main__")
    if runner == "local" and getattr(executor, "__module__", None) == "__main__" \
            and not hasattr(main, "__file__"):
        raise TypeError(f"executor {executor!r} is defined interactively (a notebook or a "
                        "shell), where worker processes cannot import it; move it into a .py "
                        "module, or use runner='dask' (which ships it by value) or 'serial'")
    try:
        if runner == "dask":  # dask ships functions with cloudpickle
            import cloudpickle  # comes with the dask extra; only runner='dask' needs it

            cloudpickle.dumps(executor)
        else:
            pickle.dumps(executor)
    except Exception as exc:
        raise TypeError(
            f"executor {executor!r} cannot be pickled ({exc}); worker processes need a "
            "top-level function (or an instance of a top-level class) defined in an importable "
            "module, not a lambda or a nested function, nor one holding open files or locks; "
            "or use runner='serial'"
        ) from exc
