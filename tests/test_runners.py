"""run_groups: resume, serial = local = dask, failures, thread caps, kill-and-resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import _executors as ex
from conn2rnn.experiments.runners import SweepError, _available_cores, run_groups
from conn2rnn.experiments.store import ResultStore

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["run_id", "metric"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def serial_table(tmp_path_factory):
    store = ResultStore(tmp_path_factory.mktemp("serial"))
    return run_groups(ex.make_groups(6), ex.deterministic, store, runner="serial", progress=False)


def test_serial_runs_every_group_and_resumes(tmp_path, serial_table):
    groups = ex.make_groups(6)
    store = ResultStore(tmp_path)
    run_groups(groups[:2], ex.deterministic, store, runner="serial", progress=False)
    table = run_groups(groups, ex.deterministic, store, runner="serial", progress=True)
    assert store.completed() == {g["group_id"] for g in groups}
    assert [ex.calls(store.workdir(g["group_id"])) for g in groups] == [1] * 6  # none ran twice
    assert len(table) == 6 * 2 * 2 and not table.duplicated(["run_id", "metric"]).any()
    pd.testing.assert_frame_equal(table, serial_table)
    assert len(store.curves()) == 6 * 2 * 3
    again = run_groups(groups, ex.deterministic, store, runner="serial", progress=False)
    assert [ex.calls(store.workdir(g["group_id"])) for g in groups] == [1] * 6
    pd.testing.assert_frame_equal(again, table)
    on_disk = pd.read_csv(store.root / "results.csv")
    assert len(on_disk) == len(table)
    # the numbers are the executor's: recompute one independently
    w = np.random.default_rng(5).standard_normal((12, 12)) / np.sqrt(12)
    row = table[(table.run_id == "toy/g2/seed=5") & (table.metric == "spectral_radius")]
    assert row["value"].item() == float(np.abs(np.linalg.eigvals(w)).max())


def test_local_equals_serial(tmp_path, serial_table):
    store = ResultStore(tmp_path)
    groups = ex.make_groups(6)
    table = run_groups(groups, ex.deterministic, store, runner="local", n_workers=2, progress=False)
    pd.testing.assert_frame_equal(_sorted(table), _sorted(serial_table))
    assert [ex.calls(store.workdir(g["group_id"])) for g in groups] == [1] * 6
    pids = {int(pid) for g in groups
            for pid in (store.workdir(g["group_id"]) / "calls.txt").read_text().split()}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # ran in the worker processes


def test_dask_equals_local(tmp_path, client, serial_table):
    groups = ex.make_groups(6)
    table = run_groups(groups, ex.deterministic, ResultStore(tmp_path / "a"), runner="dask",
                       scheduler=client, progress=False)
    pd.testing.assert_frame_equal(_sorted(table), _sorted(serial_table))
    # the same through a scheduler address, resuming a half-done store
    store = ResultStore(tmp_path / "b")
    run_groups(groups[3:], ex.deterministic, store, runner="serial", progress=False)
    table = run_groups(groups, ex.deterministic, store, runner="dask",
                       scheduler=client.scheduler.address, progress=False)
    pd.testing.assert_frame_equal(_sorted(table), _sorted(serial_table))
    assert [ex.calls(store.workdir(g["group_id"])) for g in groups] == [1] * 6


def test_thread_caps(tmp_path):
    groups = ex.make_groups(2)
    local = run_groups(groups, ex.thread_caps, ResultStore(tmp_path / "local"), runner="local",
                       n_workers=2, progress=False)
    assert set(local["value"]) == {float(max(1, _available_cores() // 2))}
    pytest.importorskip("distributed")
    dask = run_groups(groups, ex.thread_caps, ResultStore(tmp_path / "dask"), runner="dask",
                      n_workers=1, progress=False)  # the default LocalCluster
    assert set(dask["value"]) == {float(_available_cores())} and dask["pid"].nunique() == 1


@pytest.mark.parametrize("runner", ["serial", "local", "dask"])
def test_failing_group(tmp_path, runner, request, serial_table):
    groups = ex.make_groups(6)
    groups[2] = {**groups[2], "fail": True}
    store = ResultStore(tmp_path)
    kwargs = {"scheduler": request.getfixturevalue("client")} if runner == "dask" else {}
    with pytest.raises(SweepError, match=r"1 group\(s\) failed(.|\n)*g002: ValueError: boom in g002") as info:
        run_groups(groups, ex.failing, store, runner=runner, progress=False, **kwargs)
    assert info.value.failed == {"g002": "ValueError: boom in g002"}
    assert store.completed() == {g["group_id"] for g in groups} - {"g002"}
    assert "g002" not in set(info.value.results["group_id"]) and len(info.value.results) == 20
    (failure,) = store.failures()
    assert failure["group_id"] == "g002" and failure["run_ids"] == groups[2]["run_ids"]
    assert "Traceback" in failure["traceback"] and "boom in g002" in failure["traceback"]
    # fix the cause and rerun: only the failed group runs again
    (store.workdir("g002") / "fixed").write_text("")
    table = run_groups(groups, ex.failing, store, runner="serial", progress=False)
    pd.testing.assert_frame_equal(_sorted(table), _sorted(serial_table))
    assert [ex.calls(store.workdir(g["group_id"])) for g in groups] == [1, 1, 2, 1, 1, 1]
    assert store.failures() == []


def test_local_survives_a_dying_worker(tmp_path, serial_table):
    groups = ex.make_groups(6)
    groups[1] = {**groups[1], "die": True}
    store = ResultStore(tmp_path)
    with pytest.raises(SweepError, match="g001: a worker process died abruptly") as info:
        run_groups(groups, ex.dies, store, runner="local", n_workers=1, progress=False)
    # the groups in flight with it fail too; a fresh pool runs the rest
    assert "g001" in info.value.failed and set(info.value.failed) <= {"g001", "g002"}
    assert store.completed() == {g["group_id"] for g in groups} - set(info.value.failed)
    (store.workdir("g001") / "fixed").write_text("")
    table = run_groups(groups, ex.dies, store, runner="local", n_workers=1, progress=False)
    pd.testing.assert_frame_equal(_sorted(table), _sorted(serial_table))


def test_invalid_result_is_a_failure(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(SweepError, match="invalid result.*not-in-group.*not among the group's 2 run_ids"):
        run_groups(ex.make_groups(1), ex.stray_rows, store, runner="serial", progress=False)
    assert store.completed() == set() and len(store.failures()) == 1


def test_bad_arguments(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    groups = ex.make_groups(2)
    with pytest.raises(ValueError, match=r"unknown runner 'mpi'; valid runners: \['local', 'dask', 'serial'\]"):
        run_groups(groups, ex.deterministic, store, runner="mpi")
    with pytest.raises(ValueError, match="scheduler is only used by runner='dask'"):
        run_groups(groups, ex.deterministic, store, runner="local", scheduler="tcp://x:1")
    with pytest.raises(ValueError, match="n_workers must be a positive integer"):
        run_groups(groups, ex.deterministic, store, n_workers=0)
    with pytest.raises(ValueError, match="n_workers must be None or 1"):
        run_groups(groups, ex.deterministic, store, runner="serial", n_workers=4)
    with pytest.raises(ValueError, match="appears twice"):
        run_groups(groups + groups[:1], ex.deterministic, store, runner="serial")
    with pytest.raises(ValueError, match="must have 'group_id' and 'run_ids'"):
        run_groups([{"group_id": "g"}], ex.deterministic, store, runner="serial")
    with pytest.raises(TypeError, match="JSON-serialisable"):
        run_groups([{**groups[0], "x": object()}], ex.deterministic, store, runner="serial")
    with pytest.raises(TypeError, match="cannot be pickled.*top-level function"):
        run_groups(groups, lambda g, *, workdir: {}, store, runner="local")
    interactive = types.FunctionType(ex.deterministic.__code__, {}, "interactive")
    interactive.__module__ = "__main__"
    monkeypatch.delattr(sys.modules["__main__"], "__file__", raising=False)
    with pytest.raises(TypeError, match="defined interactively.*runner='dask'"):
        run_groups(groups, interactive, store, runner="local")
    with pytest.raises(TypeError, match="store must be a ResultStore"):
        run_groups(groups, ex.deterministic, str(tmp_path), runner="serial")
    assert store.completed() == set()


def test_bad_dask_scheduler(tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    store = ResultStore(tmp_path)
    with pytest.raises(TypeError, match="scheduler must be a scheduler address"):
        run_groups(ex.make_groups(2), ex.deterministic, store, runner="dask", scheduler=42,
                   progress=False)
    assert store.completed() == set()


def test_dask_runner_without_dask_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'conn2rnn\[dask\]'"):
        run_groups(ex.make_groups(2), ex.deterministic, ResultStore(tmp_path), runner="dask",
                   progress=False)


def test_kill_and_resume(tmp_path):
    """SIGKILL a sweep mid-way; the rerun loses and duplicates nothing."""
    root, n = tmp_path / "exp", 10
    cmd = [sys.executable, str(TESTS / "_executors.py"), str(root), "local", str(n), "0.3"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS)])}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.PIPE)
    reader = ResultStore(root)
    deadline = time.monotonic() + 60
    while len(reader.completed()) < 2:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep did not complete 2 groups within 60 s"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers
    proc.wait(timeout=30)
    before = reader.completed()
    assert 2 <= len(before) < n, "the sweep finished before it could be killed"
    manifest = json.loads(reader.manifest_path.read_text())["groups"]
    assert set(manifest) == before

    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    after = ResultStore(root)
    groups = ex.make_groups(n)
    assert after.completed() == {g["group_id"] for g in groups}
    for gid in before:  # nothing completed was lost or run again
        assert ex.calls(after.workdir(gid)) == 1
        assert after.entry(gid)["token"] == manifest[gid]["token"]
    table = pd.read_csv(root / "results.csv")
    assert len(table) == n * 2 * 2 and not table.duplicated(["run_id", "metric"]).any()
    assert table.groupby("group_id").size().to_dict() == {g["group_id"]: 4 for g in groups}
    expected = ResultStore(tmp_path / "ref")
    run_groups(groups, ex.deterministic, expected, runner="serial", progress=False)
    pd.testing.assert_frame_equal(_sorted(table), _sorted(pd.read_csv(expected.root / "results.csv")))


def _session_members(sid: int) -> list[int]:
    """Live (non-zombie) processes of session ``sid``: a driver and everything it started."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state ppid pgrp session ...
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_die_with_their_driver(tmp_path):
    """kill -9 of the driver alone: no worker, fork server or resource tracker survives, and
    no worker runs anything after (a rerun is covered by test_kill_and_resume)."""
    root, n = tmp_path / "exp", 4
    cmd = [sys.executable, str(TESTS / "_executors.py"), str(root), "local", str(n), "0.5"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS)])}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.PIPE)
    reader = ResultStore(root)
    deadline = time.monotonic() + 60
    while len(reader.completed()) < 1:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep did not complete a group within 60 s"
        time.sleep(0.02)
    assert len(_session_members(proc.pid)) >= 3  # driver, fork server, workers
    os.kill(proc.pid, signal.SIGKILL)  # the driver only
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while (left := _session_members(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes {left} outlived their killed driver"
    calls = {g["group_id"]: ex.calls(reader.workdir(g["group_id"])) for g in ex.make_groups(n)}
    time.sleep(1.0)  # a surviving worker would finish its 0.5 s group by now
    assert calls == {g["group_id"]: ex.calls(reader.workdir(g["group_id"]))
                     for g in ex.make_groups(n)}


def test_leftover_workers_block_a_rerun(tmp_path, monkeypatch):
    """A process holding the workers' lock (a leftover worker) makes a rerun wait, then refuse."""
    import fcntl

    from conn2rnn.experiments import runners
    from conn2rnn.experiments.store import StoreLockedError

    store = ResultStore(tmp_path / "exp")
    with open(store.root / runners._WORKERS_LOCK, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
        with pytest.raises(StoreLockedError, match=r"worker processes of an earlier sweep.*\.workers\.lock"):
            runners._wait_for_leftover_workers(store, timeout_s=0.3)
    runners._wait_for_leftover_workers(store, timeout_s=0.3)  # released: no wait


def _checkpointing(group: dict, *, workdir: Path) -> dict:
    """:func:`_executors.deterministic` that resumes from (and writes) a training checkpoint."""
    import torch

    from conn2rnn.fitting._training_utils import load_checkpoint, save_checkpoint

    loaded = load_checkpoint(workdir / "checkpoint")
    if loaded is None:
        save_checkpoint(workdir / "checkpoint", {"w": torch.zeros(2)}, {"step": 1})
    return ex.deterministic(group, workdir=workdir)


@pytest.mark.parametrize("damage", ["truncate", "text"])
def test_unreadable_checkpoint_redoes_the_group_from_scratch(tmp_path, damage):
    from conn2rnn.experiments.runners import StoreWarning
    from conn2rnn.fitting._training_utils import save_checkpoint

    import torch

    groups = ex.make_groups(2)
    store = ResultStore(tmp_path / "exp")
    path = save_checkpoint(store.workdir("g001") / "checkpoint", {"w": torch.ones(50)}, {"step": 9})
    (store.workdir("g001") / "stale_artifact.npy").write_bytes(b"old")
    if damage == "truncate":
        with open(path, "r+b") as fh:
            fh.truncate(path.stat().st_size // 2)
    else:
        path.write_text("not a checkpoint\n")
    with pytest.warns(StoreWarning, match=f"{path} is not a .*checkpoint.*emptied and the group run again from scratch"):
        table = run_groups(groups, _checkpointing, store, runner="serial", progress=False)
    assert store.completed() == {"g000", "g001"}
    assert not (store.workdir("g001") / "stale_artifact.npy").exists()
    ref = run_groups(groups, ex.deterministic, ResultStore(tmp_path / "ref"), runner="serial",
                     progress=False)
    pd.testing.assert_frame_equal(table, ref)
