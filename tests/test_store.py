"""ResultStore: atomic recording, crash safety, no duplicates, spec guard, failures."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from conn2rnn.experiments import store as store_mod
from conn2rnn.experiments.store import IncompleteGroupError, ResultStore, check_folder_name


def _result(gid: str, n_runs: int = 2, *, curves: bool = True) -> dict:
    rows, curve_rows = [], []
    for j in range(n_runs):
        run = f"{gid}/seed={j}"
        rows.append({"run_id": run, "metric": "accuracy", "value": 0.1 * j + 1 / 3, "seed": j,
                     "regime": "None", "variant": "NA"})
        rows.append({"run_id": run, "metric": "loss", "value": None, "seed": j,
                     "regime": "None", "variant": "NA"})
        curve_rows += [{"run_id": run, "step": s, "loss": 1.0 / (s + 1)} for s in range(3)]
    return {"rows": rows, "curves": curve_rows if curves else None, "artifacts": {}}


@pytest.fixture
def store(tmp_path):
    return ResultStore(tmp_path / "exp")


def test_record_round_trip(store):
    store.record("g1", _result("g1"), seconds=1.5)
    table = store.results()
    assert list(table.columns[:4]) == ["group_id", "run_id", "metric", "value"]
    assert len(table) == 4 and set(table["group_id"]) == {"g1"}
    acc = table[table.metric == "accuracy"]["value"].tolist()
    assert acc == [1 / 3, 0.1 + 1 / 3]  # floats round-trip exactly through CSV
    assert table[table.metric == "loss"]["value"].isna().all()  # None -> missing
    assert (table["regime"] == "None").all() and (table["variant"] == "NA").all()  # labels stay strings
    curves = store.curves()
    assert len(curves) == 6 and curves["loss"].tolist()[:3] == [1.0, 0.5, 1 / 3]
    entry = store.entry("g1")
    assert entry["n_rows"] == 4 and entry["n_curves"] == 6 and entry["seconds"] == 1.5
    # a fresh store object sees the same state from disk
    again = ResultStore(store.root)
    assert again.completed() == {"g1"} and again.is_complete("g1") and not again.is_complete("g2")
    pd.testing.assert_frame_equal(again.results(), table)


def test_infinite_and_numpy_values_round_trip(store):
    rows = [{"run_id": "r", "metric": "a", "value": np.float32(2.5), "k": np.int64(3)},
            {"run_id": "r", "metric": "b", "value": math.inf, "k": np.int64(4)}]
    store.record("g", {"rows": rows})
    table = store.results()
    assert table["value"].tolist() == [2.5, math.inf] and table["k"].tolist() == [3, 4]
    assert store.curves().empty


def test_crash_between_rows_and_manifest(store, monkeypatch):
    store.record("g1", _result("g1"))

    def crash(self, groups):
        raise OSError("simulated crash before the manifest is replaced")

    monkeypatch.setattr(ResultStore, "_write_manifest", crash)
    with pytest.raises(OSError, match="simulated crash"):
        store.record("g2", _result("g2", n_runs=3))
    monkeypatch.undo()
    # the row file of g2 was written, but g2 is not complete and has no rows in the table
    assert (store.workdir("g2") / "rows.csv").exists()
    fresh = ResultStore(store.root)
    assert fresh.completed() == {"g1"} and not fresh.is_complete("g2")
    assert set(fresh.results()["group_id"]) == {"g1"}
    assert set(fresh.consolidate()["group_id"]) == {"g1"}
    # recording g2 again works, without duplicates
    fresh.record("g2", _result("g2", n_runs=3))
    table = fresh.results()
    assert table.groupby("group_id").size().to_dict() == {"g1": 4, "g2": 6}
    assert not table.duplicated(["run_id", "metric"]).any()


def test_crash_while_writing_a_file_leaves_the_old_file(store, monkeypatch):
    store.record("g1", _result("g1"))
    before = store.manifest_path.read_bytes()

    def replace_crash(src, dst):
        raise OSError("simulated crash before os.replace")

    monkeypatch.setattr(store_mod.os, "replace", replace_crash)
    with pytest.raises(OSError, match="before os.replace"):
        store.record("g2", _result("g2"))
    monkeypatch.undo()
    assert store.manifest_path.read_bytes() == before
    assert list(store.root.rglob("*.tmp")) == []  # the temporary file was removed
    assert store.completed() == {"g1"}


def test_stale_temp_files_are_ignored_and_cleaned(store):
    store.record("g1", _result("g1"))
    stale = store.workdir("g1") / ".rows.csv.abc.tmp"
    stale.write_text("garbage,half a row")
    (store.root / ".manifest.json.xyz.tmp").write_text('{"torn')
    mine = store.workdir("g1") / ".checkpoint.tmp"  # an executor's file: not the store's
    mine.write_text("x")
    assert len(store.results()) == 4
    with store.lock():
        pass
    assert not stale.exists() and not (store.root / ".manifest.json.xyz.tmp").exists()
    assert mine.exists()


def test_rerecord_requires_overwrite_and_never_duplicates(store):
    store.record("g1", _result("g1"))
    store.results()  # warm the cache
    with pytest.raises(ValueError, match="already recorded.*overwrite=True"):
        store.record("g1", _result("g1"))
    store.record("g1", _result("g1", n_runs=1, curves=False), overwrite=True)
    assert len(store.results()) == 2 and store.curves().empty
    assert not (store.workdir("g1") / "curves.csv").exists()
    assert len(store.consolidate()) == 2
    assert len(pd.read_csv(store.root / "results.csv")) == 2


def test_consolidate_writes_the_tables(store):
    for gid in ("b", "a", "c"):
        store.record(gid, _result(gid))
    table = store.consolidate()
    assert table["group_id"].drop_duplicates().tolist() == ["a", "b", "c"]  # ordered by id
    on_disk = pd.read_csv(store.root / "results.csv", keep_default_na=False, na_values=[""])
    assert len(on_disk) == 12 and not on_disk.duplicated(["run_id", "metric"]).any()
    assert len(pd.read_csv(store.root / "curves.csv")) == 18


def test_empty_store(store):
    assert store.completed() == set() and store.failures() == []
    assert list(store.results().columns) == ["group_id", "run_id", "metric", "value"]
    store.record("g", {"rows": [], "curves": None, "artifacts": {}})
    assert store.is_complete("g") and store.results().empty


def test_artifacts(store):
    work = store.workdir("g1")
    assert work == store.root / "groups" / "g1" and work.is_dir()
    (work / "ckpt").mkdir()
    (work / "ckpt" / "w.npy").write_bytes(b"0")
    store.record("g1", {**_result("g1"), "artifacts": {"weights": "ckpt/w.npy"}})
    assert store.entry("g1")["artifacts"] == {"weights": "ckpt/w.npy"}
    with pytest.raises(ValueError, match="does not exist under"):
        store.record("g2", {**_result("g2"), "artifacts": {"w": "missing.npy"}})
    with pytest.raises(ValueError, match="relative to the group's workdir"):
        store.record("g2", {**_result("g2"), "artifacts": {"w": "../g1/ckpt/w.npy"}})
    with pytest.raises(ValueError, match="relative to the group's workdir"):
        store.record("g2", {**_result("g2"), "artifacts": {"w": "rows.csv"}})
    assert store.completed() == {"g1"}


@pytest.mark.parametrize("result, error, match", [
    ({"rows": [{"run_id": "r", "value": 1.0}]}, ValueError, r"lacks key\(s\) \['metric'\]"),
    ({"rows": [{"run_id": "r", "metric": "m", "value": "high"}]}, TypeError, "must be a number"),
    ({"rows": [{"run_id": "r", "metric": "m", "value": True}]}, TypeError, "cast booleans"),
    ({"rows": [{"run_id": "r", "metric": "m", "value": 1.0, "w": [1, 2]}]}, TypeError,
     r"\['w'\] must be a scalar.*list"),
    ({"rows": [{"run_id": 3, "metric": "m", "value": 1.0}]}, TypeError, "'run_id'.*must be a str"),
    ({"rows": [{"run_id": "r", "metric": "m", "value": 1.0, "group_id": "other"}]}, ValueError,
     "has group_id 'other'"),
    ({"rows": [], "extra": 1}, ValueError, "must have key 'rows'"),
    ({"rows": {"run_id": "r"}}, TypeError, "must be a list of dicts"),
    ({"rows": [], "curves": [{"step": 1}]}, ValueError, r"\['curves'\]\[0\] lacks"),
    ({"rows": [], "artifacts": ["a"]}, TypeError, "name -> relative path"),
])
def test_record_rejects_bad_results(store, result, error, match):
    with pytest.raises(error, match=match):
        store.record("g", result)
    assert store.completed() == set()


@pytest.mark.parametrize("gid", ["", "a/b", "..", ".hidden", "x" * 200, "ok\n", 12])
def test_bad_group_ids(store, gid):
    with pytest.raises(ValueError, match="group_id must be"):
        store.workdir(gid)


def test_bad_root(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is not a folder"):
        ResultStore(tmp_path / "file")
    with pytest.raises(TypeError, match="root must be a path"):
        ResultStore(3)


def test_write_spec(store):
    store.write_spec('name = "a"\nn_seeds = 3\n')
    store.write_spec('name = "a"\nn_seeds = 3\n')  # same spec: fine
    store.write_spec('n_seeds = 3\nname   = "a"   # reordered\n')  # same TOML content: fine
    with pytest.raises(FileExistsError, match="new output folder.*--overwrite.*overwrite=True"):
        store.write_spec('name = "a"\nn_seeds = 4\n')
    assert "n_seeds = 3" in store.read_spec()
    store.write_spec('name = "a"\nn_seeds = 4\n', overwrite=True)
    assert "n_seeds = 4" in store.read_spec()
    with pytest.raises(TypeError, match="TOML text"):
        store.write_spec({"name": "a"})


def test_failures(store):
    store.record_failure("g1", "ValueError: boom", traceback="Traceback ...\nValueError: boom",
                         run_ids=["r1"])
    store.record_failure("g2", "KeyError: 'x'")
    store.record_failure("g1", "ValueError: boom again")
    fails = store.failures()
    assert [f["group_id"] for f in fails] == ["g2", "g1"]
    assert fails[1]["error"] == "ValueError: boom again"
    assert store.completed() == set()
    # a crash can tear the last line: it is skipped, and the next append starts a new line
    with open(store.failures_path, "a") as fh:
        fh.write('{"group_id": "g3", "err')
    store.record_failure("g4", "RuntimeError")
    assert [f["group_id"] for f in store.failures()] == ["g2", "g1", "g4"]
    # a later success resolves the failure
    store.record("g1", _result("g1"))
    assert [f["group_id"] for f in store.failures()] == ["g2", "g4"]
    assert len(store.failures_path.read_text().splitlines()) == 5


def test_lock_is_exclusive_across_processes(store):
    import subprocess
    import sys

    code = ("import sys; from conn2rnn.experiments.store import ResultStore\n"
            "with ResultStore(sys.argv[1]).lock(): pass\n")
    with store.lock():
        out = subprocess.run([sys.executable, "-c", code, str(store.root)], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode != 0 and "another process is writing" in out.stderr
    out = subprocess.run([sys.executable, "-c", code, str(store.root)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_manifest_errors(store):
    store.manifest_path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        store.completed()
    store.manifest_path.write_text(json.dumps({"groups": {}}))
    with pytest.raises(ValueError, match="not a conn2rnn manifest"):
        store.completed()
    store.manifest_path.write_bytes(b"\xd0\xff" * 40)
    with pytest.raises(ValueError, match=rf"{store.manifest_path} is not valid JSON.*delete it"):
        store.completed()


def test_missing_row_file_is_loud(store):
    store.record("g1", _result("g1"))
    (store.workdir("g1") / "rows.csv").unlink()
    with pytest.raises(IncompleteGroupError, match=r"g1/rows.csv is missing.*conn2rnn run"):
        ResultStore(store.root).results()


# ------------------------------------------------------------- fault injection
def _edit_value(path):
    lines = path.read_text().splitlines(keepends=True)
    head = lines[0].rstrip("\n").split(",")
    cells = lines[1].rstrip("\n").split(",")
    cells[head.index("value" if "value" in head else "loss")] = "0.999"
    lines[1] = ",".join(cells) + "\n"
    path.write_text("".join(lines))


def _edit_label(path):
    text = path.read_text()
    assert "toy/g1/" in text
    path.write_text(text.replace("toy/g1/", "toy/g7/", 1))


def _truncate(path):
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(0).integers(128, 256, 400, dtype=np.uint8).tobytes())


def _delete(path):
    path.unlink()


@pytest.mark.parametrize("fault", [_edit_value, _edit_label, _truncate, _random_bytes, _delete])
@pytest.mark.parametrize("kind", ["rows", "curves"])
def test_altered_group_files_are_refused_then_redone(tmp_path, fault, kind):
    """Edit, truncate, corrupt or delete a completed group's file: reading the table refuses
    (naming the file and the command that fixes it), the next sweep redoes exactly that group,
    and the table is then identical to a clean run's."""
    import _executors as ex
    from conn2rnn.experiments.runners import StoreWarning, run_groups

    groups = ex.make_groups(3)
    ref = run_groups(groups, ex.deterministic, ResultStore(tmp_path / "ref"), runner="serial",
                     progress=False)
    store = ResultStore(tmp_path / "exp")
    store.write_spec('name = "toy"\n')
    run_groups(groups, ex.deterministic, store, runner="serial", progress=False)
    target = store.workdir("g001") / f"{kind}.csv"
    fault(target)

    reader = ResultStore(store.root)
    assert reader.invalid_groups().keys() == {"g001"}
    assert str(target) in reader.invalid_groups()["g001"]
    fix = f"conn2rnn run {store.spec_path} --out {store.root}"
    with pytest.raises(IncompleteGroupError, match="refusing") as err:
        reader.results() if kind == "rows" else reader.curves()
    assert str(target) in str(err.value) and fix in str(err.value)

    with pytest.warns(StoreWarning, match=f"{target}.*g001 is incomplete and is run again"):
        table = run_groups(groups, ex.deterministic, store, runner="serial", progress=False)
    assert [ex.calls(store.workdir(g["group_id"])) for g in groups] == [1, 2, 1]
    pd.testing.assert_frame_equal(table, ref)
    pd.testing.assert_frame_equal(ResultStore(store.root).results(), ref)
    assert ResultStore(store.root).invalid_groups() == {}


def test_store_without_hashes_still_checks_row_counts(store):
    """Stores written before hashes were kept: a truncated file is caught by its row count."""
    store.record("g1", _result("g1", n_runs=4))
    manifest = json.loads(store.manifest_path.read_text())
    del manifest["groups"]["g1"]["sha256"]
    store.manifest_path.write_text(json.dumps(manifest))
    path = store.workdir("g1") / "rows.csv"
    assert len(ResultStore(store.root).results()) == 8
    path.write_text("\n".join(path.read_text().splitlines()[:5]) + "\n")
    with pytest.raises(IncompleteGroupError, match=r"rows.csv has 4 rows but 8 were recorded"):
        ResultStore(store.root).results()
    path.write_bytes(b"\xd0\xff\xfe" * 50)
    with pytest.raises(IncompleteGroupError, match=r"rows.csv cannot be read as a CSV table"):
        ResultStore(store.root).results()


def test_spec_is_not_replaced_while_another_process_holds_the_lock(store):
    """--overwrite while another run holds the folder: refused before anything is written."""
    import subprocess
    import sys

    store.write_spec('name = "a"\n')
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; fh = open(sys.argv[1], 'a'); "
         "fcntl.flock(fh, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
         str(store.root / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(store_mod.StoreLockedError, match=f"another process is writing to {store.root}"):
            store.write_spec('name = "b"\n', overwrite=True)
    finally:
        holder.kill()
        holder.wait()
    assert store.read_spec() == 'name = "a"\n'
    store.write_spec('name = "b"\n', overwrite=True)  # lock released: replaced
    assert store.read_spec() == 'name = "b"\n'


@pytest.mark.parametrize("name", ["../escaped", "a/b", "a\\b", "..", ".", "", " x", "x\0y"])
def test_check_folder_name_rejects_paths(name):
    with pytest.raises(ValueError, match=r"name must be a plain folder name.*--out"):
        check_folder_name(name)


def test_check_folder_name_accepts_plain_names():
    assert check_folder_name("compare-quick_v1.2") == "compare-quick_v1.2"
    with pytest.raises(TypeError, match="spec.name must be a str"):
        check_folder_name(3, "spec.name")


@pytest.mark.parametrize("fault", [_truncate, _random_bytes, _delete])
def test_altered_artifacts_make_the_group_incomplete(tmp_path, fault):
    import _executors as ex
    from conn2rnn.experiments.runners import StoreWarning, run_groups

    groups = ex.make_groups(2)
    store = ResultStore(tmp_path / "exp")
    run_groups(groups, ex.deterministic, store, runner="serial", progress=False)
    good = store.artifact_path("g000", "weights")
    assert good == store.root / "groups" / "g000" / "weights.npz"
    assert store.entry("g000")["sha256"]["weights.npz"] == store_mod._sha256(good.read_bytes())
    target = store.workdir("g001") / "weights.npz"
    fault(target)
    with pytest.raises(IncompleteGroupError, match=rf"{target} .*conn2rnn run"):
        store.artifact_path("g001", "weights")
    with pytest.raises(IncompleteGroupError, match=rf"{target} .*refusing"):
        ResultStore(store.root).results()  # a report would read the artifact: refused
    with pytest.raises(KeyError, match="no artifact 'model'"):
        store.artifact_path("g000", "model")
    assert list(store.invalid_groups()) == ["g001"]
    with pytest.warns(StoreWarning, match=f"{target}"):
        run_groups(groups, ex.deterministic, store, runner="serial", progress=False)
    assert store.invalid_groups() == {} and store.artifact_path("g001", "weights") == target
    assert [ex.calls(store.workdir(g["group_id"])) for g in groups] == [1, 2]
