"""Tests for conn2rnn.analysis.matched: snapshot measures of a store and matched comparisons."""

import numpy as np
import pandas as pd
import pytest

from conn2rnn.analysis import bct as c2b
from conn2rnn.analysis.matched import compare_matched, parse_run_id, snapshot_measures
from conn2rnn.fitting.snapshots import Snapshots, save_snapshots


def test_parse_run_id():
    assert parse_run_id("one_choice_inference/sernn_reference/lambda=0.05/seed=3") == {
        "task": "one_choice_inference", "regime": "sernn_reference", "strength": 0.05, "seed": 3}
    with pytest.raises(ValueError, match="run_id must look like"):
        parse_run_id("one_choice_inference/seed=3")


def _frame(shift, seed=0):
    """Synthetic: measure rises with total weight; family 'b' is shifted by ``shift``."""
    rng = np.random.default_rng(seed)
    rows = []
    for fam, dy in (("a", 0.0), ("b", shift)):
        for k in range(30):
            for step in range(3):
                tw = rng.uniform(0, 100)
                rows.append({"run_id": f"{fam}{k}", "regime": fam, "total_abs_w": tw,
                             "q": 0.01 * tw + dy + rng.normal(0, 0.05)})
    return pd.DataFrame(rows)


def test_compare_matched_finds_a_shift_and_not_a_confound():
    table, summary = compare_matched(_frame(0.2), "q", groups=("a", "b"), edges=[0, 25, 50, 75, 100],
                                     n_perm=200)
    assert summary["difference"] == pytest.approx(0.2, abs=0.05) and summary["p_perm"] < 0.01
    assert list(table.columns) == ["bin_low", "bin_high", "n_a", "n_b", "median_a", "median_b", "p_mwu"]
    assert summary["n_a"] == 30 and summary["n_bins"] == 4
    _, summary = compare_matched(_frame(0.0), "q", groups=("a", "b"), edges=[0, 25, 50, 75, 100], n_perm=200)
    assert summary["p_perm"] > 0.05
    with pytest.raises(ValueError, match="edges must be an increasing"):
        compare_matched(_frame(0.0), "q", groups=("a", "b"), edges=[1])
    with pytest.raises(ValueError, match="no column 'sigma'"):
        compare_matched(_frame(0.0), "sigma", groups=("a", "b"), edges=[0, 1])


def test_snapshot_measures_reads_a_store(tmp_path):
    rng = np.random.default_rng(0)
    weights = rng.normal(0, 0.1, (2, 2, 30, 30)).astype(np.float32)  # (steps, networks, N, N)
    table = pd.DataFrame({"step": [0, 0, 10, 10], "trials": [0, 0, 80, 80], "network": [0, 1, 0, 1],
                          "seed": [0, 1, 0, 1], "total_abs_w": 0.0, "sparsity": 0.0, "wiring_cost": 0.0,
                          "modularity": 0.0, "small_worldness": 0.0, "accuracy": [0.2, 0.3, 0.9, 1.0]})
    group = tmp_path / "groups" / "abc"
    save_snapshots(Snapshots(table, weights, np.array([0, 10])), group / "snapshots.npz")
    out = table.copy()
    out.insert(0, "run_id", [f"t/r/lambda=0.1/seed={s}" for s in out["seed"]])
    out.to_csv(group / "snapshots.csv", index=False)
    frame = snapshot_measures(tmp_path, n_null=2, itr=1)
    assert len(frame) == 4 and set(frame["step"]) == {0, 10}
    last = frame[(frame["step"] == 10) & (frame["seed"] == 1)].iloc[0]
    w = weights[1, 1].astype(np.float64)
    assert last["modularity_q"] == pytest.approx(c2b.modularity_und(c2b.undirected(c2b.binarize_top(w)))[1])
    assert last["accuracy"] == 1.0 and last["strength"] == 0.1
    assert np.isfinite(last["sigma_degree_preserving"])
    assert frame.loc[frame["step"] == 0, "sigma_degree_preserving"].isna().all()
