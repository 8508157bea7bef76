"""The main job's core on a machine with no data folder and no network: every regime,
reservoirs included, gets a defined INT map, compared with the bundled HCP fMRI map."""

from __future__ import annotations

import dataclasses

import numpy as np

from conn2rnn.cli import compare_spec
from conn2rnn.experiments import run_experiment, summarize, write_report


def test_quick_compare_core_is_complete_offline(no_network, data_dir, tmp_path):
    spec = compare_spec(quick=True)
    assert spec.analysis.empirical_maps[0] == "int_hcp_ito2020" and spec.reservoirs
    small = spec.replace(tasks=("gonogo",), n_seeds=2,
                         training=dataclasses.replace(spec.training, n_steps=20, eval_every=10),
                         analysis=dataclasses.replace(spec.analysis, n_steps=400, n_nulls=50))
    results = run_experiment(small, tmp_path / "quick", runner="serial", progress=False)
    summary = summarize(results)
    regimes = set(summary.regime)
    assert set(small.regimes) | {"reservoir-connectome"} <= regimes
    assert summary["int_rho"].notna().all(), summary[["regime", "int_rho"]]
    assert (summary["n_int_diverged"] == 0).all()
    silent = results[results.metric == "int_silent_nodes"].value
    assert silent.max() < 5  # under 5 % of 100 nodes in every network
    report = write_report(tmp_path / "quick").read_text()
    assert "ensemble-mean map" in report and "reservoir-connectome" in report
    assert "Ceiling" in report and "n/a | n/a | n/a" not in report.split("Ceiling")[1].split("##")[0][:200]
    assert not any(data_dir.iterdir())
    assert np.isfinite(summary.loc[summary.regime == "reservoir-connectome", "int_rho"]).all()
