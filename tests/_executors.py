"""Executors for the store and runner tests: top-level, so worker processes can import them.

Run as a script, it executes a small sweep (used by the kill-and-resume test)::

    python tests/_executors.py ROOT RUNNER N_GROUPS SLEEP
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np


def make_groups(n: int, *, runs: int = 2, **extra) -> list[dict]:
    """``n`` toy groups of ``runs`` runs each, with distinct seeds."""
    return [{"group_id": f"g{i:03d}", "run_ids": [f"toy/g{i}/seed={i * runs + j}" for j in range(runs)],
             "seeds": [i * runs + j for j in range(runs)], "task": "toy", **extra}
            for i in range(n)]


def calls(workdir: Path) -> int:
    """How many times an executor of this module ran in ``workdir``."""
    path = Path(workdir) / "calls.txt"
    return len(path.read_text().splitlines()) if path.exists() else 0


def _count_call(workdir: Path) -> None:
    with open(workdir / "calls.txt", "a") as fh:
        fh.write(f"{os.getpid()}\n")


def deterministic(group: dict, *, workdir: Path) -> dict:
    """Spectral radius and mean of a random matrix per run, seeded from the group."""
    _count_call(workdir)
    rows, curves, weights = [], [], {}
    for run_id, seed in zip(group["run_ids"], group["seeds"]):
        rng = np.random.default_rng(seed)
        w = rng.standard_normal((12, 12)) / np.sqrt(12)
        weights[f"seed{seed}"] = w
        labels = {"run_id": run_id, "task": group["task"], "seed": seed}
        radius = float(np.abs(np.linalg.eigvals(w)).max())
        rows.append({**labels, "metric": "spectral_radius", "value": radius})
        rows.append({**labels, "metric": "mean_weight", "value": float(w.mean())})
        curves += [{"run_id": run_id, "step": step, "loss": float(np.exp(-step) * (1 + w[0, 0] ** 2))}
                   for step in range(3)]
    np.savez(workdir / "weights.npz", **weights)
    return {"rows": rows, "curves": curves, "artifacts": {"weights": "weights.npz"}}


def slow(group: dict, *, workdir: Path) -> dict:
    """:func:`deterministic` after sleeping ``group['sleep']`` seconds."""
    time.sleep(group.get("sleep", 0.3))
    return deterministic(group, workdir=workdir)


def failing(group: dict, *, workdir: Path) -> dict:
    """Raises for groups with ``fail=True`` until a file ``fixed`` exists in their workdir."""
    if group.get("fail") and not (workdir / "fixed").exists():
        _count_call(workdir)
        raise ValueError(f"boom in {group['group_id']}")
    return deterministic(group, workdir=workdir)


def dies(group: dict, *, workdir: Path) -> dict:
    """Kills its worker process for groups with ``die=True`` until ``fixed`` exists."""
    if group.get("die") and not (workdir / "fixed").exists():
        os._exit(3)
    return deterministic(group, workdir=workdir)


def stray_rows(group: dict, *, workdir: Path) -> dict:
    """A buggy executor: its rows name a run that is not in the group."""
    return {"rows": [{"run_id": "not-in-group", "metric": "m", "value": 1.0}], "curves": None,
            "artifacts": {}}


def thread_caps(group: dict, *, workdir: Path) -> dict:
    """Reports the worker's OMP_NUM_THREADS cap and its pid."""
    cap = float(os.environ.get("OMP_NUM_THREADS", "nan"))
    return {"rows": [{"run_id": r, "metric": "omp_threads", "value": cap, "pid": os.getpid()}
                     for r in group["run_ids"]], "curves": None, "artifacts": {}}


def _main(argv: list[str]) -> None:
    from conn2rnn.experiments.runners import run_groups
    from conn2rnn.experiments.store import ResultStore

    root, runner, n, sleep = argv
    run_groups(make_groups(int(n), sleep=float(sleep)), slow, ResultStore(root), runner=runner,
               n_workers=None if runner == "serial" else 2, progress=False)


if __name__ == "__main__":
    import _executors  # the module itself, so workers unpickle _executors.slow, not __main__.slow

    _executors._main(sys.argv[1:])
