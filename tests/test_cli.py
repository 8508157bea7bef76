"""The conn2rnn command line: info, graph, run + report on a tiny sweep, errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from conn2rnn.cli import _available, compare_spec, main
from conn2rnn.datasets import fetch_enigma_hcp

TINY_SPEC = """
name = "tiny"
tasks = ["gonogo"]
regimes = ["vanilla", "bio"]
reservoirs = ["connectome", "rewired"]
n_seeds = 2
analyses = ["timescales", "topology"]

[graph]
atlas = "schaefer100"
connectome = "enigma_hcp"
maps = ["int_hbn"]

[training]
n_steps = 6
eval_every = 3
eval_batch_size = 32
checkpoint_every = 3

[model]
reservoir_train_trials = 96
reservoir_test_trials = 64
"""


def test_info_lists_cached_datasets(capsys, seeded_data_dir, reference_data):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert str(seeded_data_dir) in out and "[x] enigma_hcp/strucMatrix_ctx_schaefer_100.csv" in out


def test_graph_plot_offline(tmp_path, capsys):
    path = tmp_path / "g.png"
    assert main(["graph", "schaefer100", "--plot", str(path)]) == 0
    assert "Default" in capsys.readouterr().out
    assert imread(path).shape[0] > 100


def test_run_and_report_write_tables_and_figures(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY_SPEC)
    out = tmp_path / "out"
    assert main(["run", str(spec), "--out", str(out), "--runner", "serial"]) == 0
    printed = capsys.readouterr().out
    assert "reservoir-connectome" in printed and "| task | regime |" in printed
    report = (out / "report.md").read_text()
    assert "## Summary" in report and "Human Connectome Project" in report
    figures = sorted((out / "figures").glob("*.png"))
    assert len(figures) >= 6
    for fig in figures:
        image = imread(fig)
        assert image.shape[0] > 100 and np.unique(image.reshape(-1, image.shape[-1]), axis=0).shape[0] > 10
    # the report can be rebuilt from the stored results alone
    (out / "report.md").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.md").is_file()
    # re-running resumes: nothing left to do, same table
    assert main(["run", str(spec), "--out", str(out), "--runner", "serial"]) == 0
    capsys.readouterr()

    # a hand-edited group file: report refuses (naming the file and the fix), run redoes
    # that group only, and the report is then built from the recomputed rows
    table = (out / "results.csv").read_bytes()
    groups = sorted((out / "groups").iterdir())
    rows = groups[0] / "rows.csv"
    text = rows.read_text()
    rows.write_text(text.replace("accuracy,", "accuracy,0.123456", 1).replace("gonogo", "dms", 1))
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"{rows} was changed after it was recorded" in err
    assert f"conn2rnn run {out / 'spec.toml'} --out {out}" in err
    tokens = {g.name: json.loads((out / "manifest.json").read_text())["groups"][g.name]["token"]
              for g in groups}
    assert main(["run", str(out / "spec.toml"), "--out", str(out), "--runner", "serial"]) == 0
    err = capsys.readouterr().err
    assert f"conn2rnn: warning: {rows} was changed" in err and "is run again" in err
    after = json.loads((out / "manifest.json").read_text())["groups"]
    assert [g.name for g in groups if after[g.name]["token"] != tokens[g.name]] == [groups[0].name]
    assert rows.read_text() == text and (out / "results.csv").read_bytes() == table
    assert main(["report", str(out)]) == 0


def test_bad_spec_is_a_clear_error(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('regimes = ["vanilla", "bogus"]\n')
    assert main(["run", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "unknown regime 'bogus'" in err and "vanilla" in err


def test_compare_leaves_out_what_is_missing(tmp_path, capsys):
    assert not _available(lambda: fetch_enigma_hcp(100, data_dir=str(tmp_path / "empty")), "no connectome here")
    assert "no connectome here (no substitute is used)" in capsys.readouterr().err
    spec = compare_spec(quick=True, connectome=False, empirical_int=False)
    assert spec.reservoirs == () and spec.graph.connectome == "none" and spec.graph.maps == ()
    full = compare_spec(quick=False)
    assert full.n_seeds == 100 and set(full.regimes) >= {"vanilla", "masked", "embedded", "bio"}
    with pytest.raises(SystemExit):
        main(["compare", "--runner", "nowhere"])


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_lock_conflict_is_one_line_and_leaves_the_spec(tmp_path, capsys):
    from conn2rnn.experiments import ResultStore

    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY_SPEC)
    out = tmp_path / "out"
    store = ResultStore(out)
    store.write_spec('name = "other"\n')
    with store.lock():  # another run holds the folder
        assert main(["run", str(spec), "--out", str(out), "--overwrite"]) == 2
    assert f"another process is writing to {out}" in _one_line(capsys)
    assert store.read_spec() == 'name = "other"\n'  # not replaced


def test_different_spec_in_folder_names_the_real_flag(tmp_path, capsys):
    from conn2rnn.experiments import ResultStore

    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY_SPEC)
    ResultStore(tmp_path / "out").write_spec('name = "other"\n')
    assert main(["run", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = _one_line(capsys)
    assert "holds a different experiment spec" in err and "--overwrite" in err and "--force" not in err


def test_spec_name_cannot_escape_the_working_folder(tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    spec = work / "escape.toml"
    spec.write_text(TINY_SPEC.replace('name = "tiny"', 'name = "../escaped_by_name"'))
    assert main(["run", str(spec), "--runner", "serial"]) == 2
    err = capsys.readouterr().err  # spec problems are listed one per line
    assert "Traceback" not in err and err.startswith("conn2rnn run: error:")
    assert "'../escaped_by_name'" in err and "plain folder name" in err and "--out" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in work.iterdir()) == ["escape.toml"]


def test_missing_files_and_data_are_one_line(tmp_path, capsys, monkeypatch):
    import urllib.error
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network (test)")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in _one_line(capsys)
    assert main(["report", str(tmp_path / "not_a_run")]) == 2
    assert "not_a_run" in _one_line(capsys)
    # every bundled dataset ships with the package, so a dataset that cannot be had is simulated
    import conn2rnn.datasets as datasets
    from conn2rnn.datasets import DataNotFoundError

    def unavailable(*args, **kwargs):
        fetch_enigma_hcp(100, data_dir=str(tmp_path / "empty"))  # offline: the fetcher's own error
        raise AssertionError("the fetch should have failed offline")  # pragma: no cover

    monkeypatch.setattr(datasets, "load_atlas", unavailable)
    assert main(["graph", "schaefer100", "--connectome", "enigma_hcp"]) == 2
    assert "enigma" in _one_line(capsys).lower()
    assert issubclass(DataNotFoundError, FileNotFoundError)


def test_command_line_errors_have_no_traceback(tmp_path):
    """The installed entry point, as a user runs it: one line on stderr, exit status 2."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-m", "conn2rnn.cli", "run", str(tmp_path / "missing.toml")],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "missing.toml" in out.stderr
