"""The conn2rnn command line: info, graph, run + report on a tiny sweep, errors."""

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


def test_info_lists_cached_datasets(capsys, data_dir):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert str(data_dir) in out and "[x] enigma_hcp/strucMatrix_ctx_schaefer_100.csv" in out


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


def test_bad_spec_is_a_clear_error(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('regimes = ["vanilla", "bogus"]\n')
    assert main(["run", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "unknown regime 'bogus'" in err and "vanilla" in err


def test_compare_leaves_out_what_is_missing(tmp_path, capsys):
    assert not _available(fetch_enigma_hcp, 100, str(tmp_path / "empty"), "no connectome here")
    assert "no connectome here (no substitute is used)" in capsys.readouterr().err
    spec = compare_spec(quick=True, connectome=False, empirical_int=False)
    assert spec.reservoirs == () and spec.graph.connectome == "none" and spec.graph.maps == ()
    full = compare_spec(quick=False)
    assert full.n_seeds == 100 and set(full.regimes) >= {"vanilla", "masked", "embedded", "bio"}
    with pytest.raises(SystemExit):
        main(["compare", "--runner", "nowhere"])
