"""What a new user runs into: ids read back as ids, partial or mixed folders reported as such,
the user's own files never overwritten, and every bad input refused before anything is written."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from conn2rnn.cli import main
from conn2rnn.experiments import ExperimentSpec, ResultStore, SpecError, check_output_folder, open_experiment
from conn2rnn.experiments.folders import IncompleteExperimentWarning
from conn2rnn.experiments.report import write_report
from conn2rnn.experiments.store import IncompleteGroupError, read_table
from conn2rnn.experiments.writeup import write_reproduction

BASE = {"name": "small", "tasks": ["gonogo"], "reservoirs": [], "n_seeds": 2, "analyses": [],
        "regimes": ["vanilla", "masked", "embedded", "bio"],
        "graph": {"atlas": "schaefer100", "connectome": "none", "maps": [], "hemisphere": "left"},
        "training": {"n_steps": 2, "eval_every": 1}}

SMALL_TOML = """
name = "small"
tasks = ["gonogo"]
regimes = ["vanilla"]
reservoirs = []
n_seeds = 1
analyses = []

[graph]
atlas = "schaefer100"
connectome = "none"
maps = []
hemisphere = "left"

[training]
n_steps = 2
eval_every = 1
"""


def _spec(**changes) -> ExperimentSpec:
    return ExperimentSpec.from_dict({**BASE, **changes})


def _record(store: ResultStore, group, accuracy: float = 0.75) -> None:
    """Record a group as an executor would, without training (rows, curves)."""
    labels = group.labels()
    rows = [{**labels[r], "run_id": r, "metric": "accuracy", "value": accuracy} for r in group.run_ids]
    curves = [{**labels[r], "run_id": r, "trials": n, "accuracy": accuracy} for r in group.run_ids for n in (16, 32)]
    store.record(group.group_id, {"rows": rows, "curves": curves})


def _folder(root, spec: ExperimentSpec, groups=None) -> ResultStore:
    store = ResultStore(root)
    store.write_spec(spec.to_toml(), overwrite=True)
    for group in spec.groups() if groups is None else groups:
        _record(store, group)
    return store


def _digit_spec() -> tuple[ExperimentSpec, str]:
    """A spec one of whose groups has an all-digit id (about 1 group in 280 has one)."""
    for offset in range(5000):
        spec = _spec(seed_offset=offset)
        for group in spec.groups():
            if group.group_id.isdigit():
                return spec, group.group_id
    raise AssertionError("no all-digit group id found")  # pragma: no cover


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteExperimentWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------ ids stay strings
def test_all_digit_ids_are_read_back_as_strings(tmp_path):
    store = ResultStore(tmp_path / "s")
    store.record("260467483015", {"rows": [{"run_id": "0012", "metric": "1", "value": 1.0}],
                                  "curves": [{"run_id": "0012", "step": 1}]})
    table = store.consolidate()
    for frame in (table, store.curves(), read_table(tmp_path / "s" / "results.csv")):
        assert frame.group_id.tolist() == ["260467483015"] and frame.run_id.tolist() == ["0012"]
    assert store.results().metric.tolist() == ["1"]


def test_writeup_and_report_count_a_group_with_an_all_digit_id(tmp_path):
    spec, digit = _digit_spec()
    root = tmp_path / "run"
    _folder(root, spec)
    experiment = open_experiment(root)
    assert digit in experiment.completed and experiment.is_complete
    md = write_reproduction(root, tmp_path / "w").read_text()
    assert "4 of 4 run groups complete" in md and "incomplete" not in md
    acc = pd.read_csv(tmp_path / "w" / "accuracy.csv")
    assert acc.n_networks.tolist() == [2, 2, 2, 2]
    assert "Incomplete" not in write_report(root).read_text()


# ------------------------------------------------------------------ partial and mixed folders
def test_a_partial_sweep_is_written_up_as_incomplete(tmp_path):
    spec = _spec()
    root = tmp_path / "run"
    _folder(root, spec, spec.groups()[:2])
    with pytest.warns(IncompleteExperimentWarning, match="2 of 4 run groups"):
        report = write_report(root).read_text()
    assert "**Incomplete:** 2 of 4 run groups of the spec are complete" in report
    with pytest.warns(IncompleteExperimentWarning, match="2 of 4 run groups"):
        md = write_reproduction(root, tmp_path / "w").read_text()
    assert md.startswith("# small: results (incomplete)") and "2 of 4 run groups complete" in md
    assert sorted(pd.read_csv(tmp_path / "w" / "accuracy.csv").regime) == ["masked", "vanilla"]


def test_a_folder_without_completed_groups_says_so(tmp_path, capsys):
    spec = _spec()
    ResultStore(tmp_path / "run").write_spec(spec.to_toml())
    assert main(["report", str(tmp_path / "run")]) == 2
    assert "no completed group of its spec yet (0 of 4)" in capsys.readouterr().err


def test_edited_curves_are_refused_by_report_and_writeup_alike(tmp_path, capsys):
    spec = _spec()
    root = tmp_path / "run"
    store = _folder(root, spec)
    curves = root / "groups" / spec.groups()[0].group_id / "curves.csv"
    curves.write_text(curves.read_text().replace("0.75", "0.99", 1))
    for argv in (["report", str(root)], ["writeup", str(root), str(tmp_path / "w")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"{curves} was changed after it was recorded" in err and "conn2rnn run" in err
    with pytest.raises(IncompleteGroupError):
        write_reproduction(root, tmp_path / "w")
    assert store.invalid_groups()  # and a rerun redoes it


def test_groups_of_a_replaced_spec_are_left_out_and_counted(tmp_path):
    root = tmp_path / "run"
    old = _spec()
    _folder(root, old)
    new = _spec(name="other", regimes=["vanilla"], n_seeds=3)
    store = _folder(root, new)  # as `run --overwrite` with a different spec, or a replaced spec.toml
    experiment = _quiet(open_experiment, root)
    assert experiment.completed == tuple(g.group_id for g in new.groups())
    assert len(experiment.foreign) == 4 and set(experiment.results.regime) == {"vanilla"}
    with pytest.warns(IncompleteExperimentWarning, match="4 stored group"):
        report = write_report(root).read_text()
    assert report.startswith("# other") and "4 stored group(s) belong to no group of the current spec" in report
    summary = pd.read_csv(root / "summary.csv")
    assert summary.regime.tolist() == ["vanilla"] and summary.n_networks.tolist() == [3]
    _quiet(write_reproduction, root, tmp_path / "w")
    assert pd.read_csv(tmp_path / "w" / "accuracy.csv").n_networks.tolist() == [3]
    assert len(store.completed()) == 5  # nothing was deleted


@pytest.mark.parametrize("argv", [["report", "{root}"], ["writeup", "{root}", "{out}"]])
def test_report_and_writeup_of_a_missing_folder_create_nothing(tmp_path, capsys, argv):
    root, out = tmp_path / "nope", tmp_path / "W"
    assert main([a.format(root=root, out=out) for a in argv]) == 2
    err = capsys.readouterr().err
    assert f"{root} does not exist" in err and len(err.strip().splitlines()) == 1
    assert sorted(tmp_path.iterdir()) == []


def test_report_of_a_folder_without_spec_creates_nothing(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    assert main(["report", str(tmp_path / "mine")]) == 2
    assert "has no spec.toml" in capsys.readouterr().err
    assert list((tmp_path / "mine").iterdir()) == []


# ------------------------------------------------------------------ the user's files
def test_run_refuses_a_folder_of_the_users_own_files(tmp_path, capsys):
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_TOML)
    mine = tmp_path / "my_analysis"
    mine.mkdir()
    (mine / "results.csv").write_text("mine\n")
    (mine / "report.md").write_text("# my notes\n")
    assert main(["run", str(spec), "--out", str(mine), "--runner", "serial"]) == 2
    err = capsys.readouterr().err
    assert "not a conn2rnn experiment's (report.md, results.csv)" in err and "new or empty folder" in err
    assert sorted(p.name for p in mine.iterdir()) == ["report.md", "results.csv"]
    assert (mine / "results.csv").read_text() == "mine\n"


def test_output_folder_rules(tmp_path):
    assert check_output_folder(tmp_path / "new") == tmp_path / "new"  # missing: fine
    (tmp_path / "empty").mkdir()
    check_output_folder(tmp_path / "empty")
    ResultStore(tmp_path / "started")  # a store created before its spec was written
    check_output_folder(tmp_path / "started")
    ResultStore(tmp_path / "ours").write_spec(SMALL_TOML)
    (tmp_path / "ours" / "notes.txt").write_text("x")
    check_output_folder(tmp_path / "ours")  # an experiment folder: resumed, never refused
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        check_output_folder(tmp_path / "file")


# ------------------------------------------------------------------ refused before anything is written
@pytest.mark.parametrize(("option", "match"), [
    (["--workers", "0"], "n_workers must be a positive integer"),
    (["--device", "tpu"], "device must be"),
])
def test_bad_run_options_write_nothing(tmp_path, capsys, option, match):
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_TOML)
    assert main(["run", str(spec), "--out", str(tmp_path / "out"), *option]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cuda_without_a_gpu_is_refused_once_up_front(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_TOML)
    assert main(["run", str(spec), "--out", str(tmp_path / "out"), "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "no usable CUDA device" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("extra", "match"), [
    ("[training.schedules.foo]\nkind = 'linear'\nstart = 0\nend = 1\n", "training.schedules.foo: unknown schedule"),
    ("[model]\nnode_gain = 'no_such_map'\n", "model.node_gain: 'no_such_map' is not a map of the graph"),
    ("[model]\nlearn_tau = true\ntau_max = 10.0\n", "model.tau_max: must be > model.dt = 50 ms"),
    ("seed_offset = 9223372036854775806\n", "seed_offset: the last seed"),
    ("n_seeds = 1000000000\n", "n_seeds: must be <= 100,000"),
])
def test_spec_fields_are_refused_before_the_store_exists(tmp_path, capsys, extra, match):
    text = SMALL_TOML.replace("n_seeds = 1\n", "") if extra.startswith(("n_seeds", "seed_offset")) else SMALL_TOML
    if extra.startswith("seed_offset"):
        text += "n_seeds = 3\n"
    if extra.startswith("["):
        section = extra.split("]")[0] + "]"
        text = text.replace(section + "\n", extra) if section in text else text + extra
    else:
        text = extra + text
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    assert main(["run", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_spec_may_not_expand_past_its_bound():
    with pytest.raises(SpecError, match="expands to 1,200,000 networks"):
        _spec(n_seeds=100_000, tasks=["gonogo", "dms", "perceptual_dm"], regimes=["vanilla", "masked", "embedded", "bio"])


def test_every_problem_of_a_section_is_listed(tmp_path):
    with pytest.raises(SpecError) as exc:
        ExperimentSpec.from_dict({"bogus": 1, "n_seeds": 0})
    assert {p.split(":")[0] for p in exc.value.problems} == {"bogus", "n_seeds"}
    with pytest.raises(SpecError) as exc:
        ExperimentSpec.from_dict({"training": {"foo": 1, "lr": -1}, "n_seeds": 0})
    assert {p.split(":")[0] for p in exc.value.problems} == {"training.foo", "training.lr", "n_seeds"}


def test_run_of_a_folder_says_what_is_expected(tmp_path, capsys):
    ResultStore(tmp_path / "done").write_spec(SMALL_TOML)
    assert main(["run", str(tmp_path / "done")]) == 2
    err = capsys.readouterr().err
    assert "is a folder; expected a spec .toml file" in err and f"{tmp_path / 'done' / 'spec.toml'}" in err


def test_subset_of_nothing_says_so():
    from conn2rnn.datasets import load_atlas

    graph = load_atlas("schaefer100")
    with pytest.raises(ValueError, match="nodes is empty"):
        graph.subset([])
    assert graph.subset([graph.names[0], graph.names[0]]).n_nodes == 1


# ------------------------------------------------------------------ brc
BRC = "[run]\nconditions = [\"NMDA_soma\"]\nseeds = [0]\nn_rounds = 1\nn_proposals = 2\ndt = 0.1\n"


@pytest.mark.parametrize(("text", "match"), [
    ("# no run table\n", "has no [run] table"),
    (BRC.replace('["NMDA_soma"]', "[]"), "conditions is empty"),
    (BRC.replace('["NMDA_soma"]', '"AMPA"'), "conditions must be a list of condition names"),
    (BRC.replace('["NMDA_soma"]', '["NMDA_axon"]'), "unknown condition(s) ['NMDA_axon']"),
    (BRC.replace("seeds = [0]", "seeds = [-1]"), "seeds must be integers in [0, 2**31 - 1]"),
    (BRC.replace("seeds = [0]", "seeds = []"), "seeds is empty"),
    (BRC.replace("n_rounds = 1", "n_rounds = -1"), "n_rounds must be an integer >= 1"),
    (BRC + 'sampler = "nope"\n', "sampler must be one of"),
    (BRC + "n_repeats = 1\n", "n_repeats must be an integer >= 2"),
    (BRC + "eval_repeats = 1\n", "eval_repeats must be an integer >= 2"),
    (BRC.replace("dt = 0.1", "dt = 0.5"), "dt must be a step in ms"),
])
def test_brc_run_refuses_bad_specs_before_simulating(tmp_path, capsys, text, match):
    spec = tmp_path / "brc.toml"
    spec.write_text(text)
    assert main(["brc", "run", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_brc_lists_every_problem_at_once(tmp_path):
    from conn2rnn.biophys.experiment import check_run

    with pytest.raises(ValueError) as exc:
        check_run({"seeds": [-1], "n_rounds": -1, "sampler": "nope", "n_repeats": 1})
    for part in ("seeds", "n_rounds", "sampler", "n_repeats"):
        assert part in str(exc.value)


def test_brc_store_refuses_another_protocol(tmp_path, capsys):
    out = tmp_path / "out"
    ResultStore(out).write_spec(BRC.replace("n_proposals = 2", "n_proposals = 5")
                                .replace("[run]\n", "[run]\neval_repeats = 4\nn_repeats = 2\n"
                                         "dtype = \"float64\"\nsampler = \"cmaes\"\n"))
    spec = tmp_path / "brc.toml"
    spec.write_text(BRC)
    assert main(["brc", "run", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds groups of a different protocol" in err and "n_proposals" in err
    assert not (out / "groups" / "NMDA_soma-seed0").exists()


def test_brc_store_without_spec_is_checked_against_its_searches(tmp_path, capsys):
    out = tmp_path / "out"
    store = ResultStore(out)
    search = store.workdir("NMDA_soma-seed0") / "search"
    search.mkdir()
    (search / "search.json").write_text(json.dumps(
        {"n_proposals": 100, "sampler": "cmaes", "context": {"dt": 0.025, "dtype": "float64", "n_repeats": 2}}))
    spec = tmp_path / "brc.toml"
    spec.write_text(BRC)
    assert main(["brc", "run", str(spec), "--out", str(out)]) == 2
    assert "differs in ['dt', 'n_proposals']" in capsys.readouterr().err


def test_brc_refuses_a_users_folder(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.md").write_text("x")
    spec = tmp_path / "brc.toml"
    spec.write_text(BRC)
    assert main(["brc", "run", str(spec), "--out", str(mine)]) == 2
    assert "not a conn2rnn experiment's (notes.md)" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.md"]


def test_writeup_spec_equals_run_spec_ids():
    spec = _spec()
    assert [g.group_id for g in ExperimentSpec.from_toml(spec.to_toml()).groups()] == \
        [g.group_id for g in spec.groups()]
    assert np.all([len(g.run_ids) == 2 for g in spec.groups()])


def _brc_spec(conditions, seeds) -> str:
    from conn2rnn import _toml
    from conn2rnn.biophys.experiment import check_run

    return _toml.dumps({"run": check_run({"conditions": conditions, "seeds": seeds, "n_rounds": 2,
                                          "n_proposals": 3, "dt": 0.1, "dtype": "float32"})})


def test_brc_report_reads_only_its_specs_groups_and_says_when_incomplete(tmp_path):
    from test_biophys_report import _store

    from conn2rnn.biophys.report import write_report as brc_report

    store = _store(tmp_path / "store")  # NMDA_soma, AMPA_soma, AMPA_dend x seeds 0, 1
    store.write_spec(_brc_spec(["NMDA_soma", "AMPA_soma", "AMPA_dend", "NMDA_dend"], [0, 1]), overwrite=True)
    with pytest.warns(UserWarning, match="6 of 8"):
        md = brc_report(tmp_path / "store", tmp_path / "docs", check_dt=False).read_text()
    assert "**Incomplete:** 6 of 8 (condition, seed) groups of the spec are complete" in md
    store.write_spec(_brc_spec(["NMDA_soma"], [0, 1]), overwrite=True)
    with pytest.warns(UserWarning, match="4 stored group"):
        brc_report(tmp_path / "store", tmp_path / "docs", check_dt=False)
    summary = pd.read_csv(tmp_path / "docs" / "brc_working_memory" / "summary.csv")
    assert summary.condition.tolist() == ["NMDA_soma"] and summary.n_seeds.tolist() == [2]


def test_experiment_and_brc_folders_are_told_apart(tmp_path, capsys):
    from test_biophys_report import _store

    _store(tmp_path / "brc").write_spec(_brc_spec(["NMDA_soma"], [0, 1]))
    assert main(["report", str(tmp_path / "brc")]) == 2
    assert "is a biophysical (brc) result store" in capsys.readouterr().err
    ResultStore(tmp_path / "exp").write_spec(SMALL_TOML)
    assert main(["brc", "report", str(tmp_path / "exp"), "--docs", str(tmp_path / "d"), "--no-dt-check"]) == 2
    assert "is an experiment folder of `conn2rnn run`" in capsys.readouterr().err
    spec = tmp_path / "brc.toml"
    spec.write_text(BRC)
    assert main(["brc", "run", str(spec), "--out", str(tmp_path / "exp")]) == 2
    assert "is an experiment folder of `conn2rnn run`" in capsys.readouterr().err


def test_dask_runner_without_dask_writes_nothing(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("distributed", "dask"):
            raise ImportError("no dask here (test)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_TOML)
    assert main(["run", str(spec), "--out", str(tmp_path / "out"), "--runner", "dask"]) == 2
    assert "pip install 'conn2rnn[dask]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_spec_that_is_not_toml_names_its_file(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntasks = [gonogo\n')
    assert main(["run", str(bad)]) == 2
    assert f"{bad}: the spec is not valid TOML" in capsys.readouterr().err
    bad.write_bytes(b"\xff\xfe\x00binary")
    assert main(["run", str(bad)]) == 2
    assert "is not a text file" in capsys.readouterr().err
