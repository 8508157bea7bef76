"""The working-memory write-up is regenerated from a tiny stored result."""

import json

import numpy as np
import pandas as pd
import pytest

from conn2rnn.biophys.cli import main
from conn2rnn.biophys.experiment import (
    CONDITIONS,
    PAPER_ERRORS,
    load_spec,
    search_space,
    shipped_spec_path,
    start_point,
)
from conn2rnn.biophys.report import SOLVE_THRESHOLD, dt_check, summarise, write_report
from conn2rnn.experiments.store import ResultStore

ERRORS = {("NMDA_soma", 0): 1.0, ("NMDA_soma", 1): 1.4, ("AMPA_soma", 0): 1.6, ("AMPA_soma", 1): 2.6,
          ("AMPA_dend", 0): 4.1, ("AMPA_dend", 1): 3.9}


def _store(root, errors=None):
    store = ResultStore(root)
    rng = np.random.default_rng(0)
    for (cond, seed), err in (errors or ERRORS).items():
        gid = f"{cond}-seed{seed}"
        work = store.workdir(gid)
        spikes = (rng.random((200, 8, 12)) < 0.02).astype(np.uint8)
        np.savez_compressed(work / "final.npz", spikes=spikes, conditions=np.arange(8) % 4,
                            cue_drive=rng.random((4, 8)), record_dt=5.0, n_e=8)
        (work / "search").mkdir()
        (work / "search" / "search.json").write_text(json.dumps(
            {"n_proposals": 3, "sampler": "cmaes", "context": {"dt": 0.1, "dtype": "float32", "n_repeats": 2}}))
        metrics = {"error": err, "search_best_error": err - 0.1, "attractor_separation": 0.5,
                   "dimensionality": 4.0, "rate_e_hz": 5.0, "rate_i_hz": 20.0, "n_failed_proposals": 0.0,
                   "cluster_baseline_hz": 2.0, "cluster_delay_hz": 8.0, "cluster_other_delay_hz": 1.0}
        rows = [{"run_id": gid, "metric": k, "value": v, "condition": cond, "seed": seed} for k, v in metrics.items()]
        curves = [{"run_id": gid, "round": r, "best_so_far": err + 1 - r} for r in range(2)]
        store.record(gid, {"rows": rows, "curves": curves, "artifacts": {"final": "final.npz"}})
    return store


def test_summary_numbers(tmp_path):
    summary = summarise(_store(tmp_path / "store").results()).set_index("condition")
    assert list(summary.index) == ["AMPA_soma", "NMDA_soma", "AMPA_dend"]  # CONDITIONS order
    assert summary.loc["AMPA_soma", "error_mean"] == pytest.approx(2.1)
    assert summary.loc["AMPA_soma", "error_sd"] == pytest.approx(np.std([1.6, 2.6], ddof=1))
    assert summary.loc["NMDA_soma", "paper_error"] == PAPER_ERRORS["NMDA_soma"]
    verdicts = summary["solves"].to_dict()
    assert verdicts == {"AMPA_soma": 2.1 < SOLVE_THRESHOLD, "NMDA_soma": True, "AMPA_dend": False}
    assert summary["verdict_agrees"].to_dict() == {"AMPA_soma": False, "NMDA_soma": True, "AMPA_dend": True}


def test_report_regenerated_from_store(tmp_path):
    _store(tmp_path / "store")
    assert main(["report", str(tmp_path / "store"), "--docs", str(tmp_path / "docs"), "--no-dt-check"]) == 0
    md = (tmp_path / "docs" / "brc_working_memory.md").read_text()
    assert "| NMDA_soma | 0.9 | 1.20 |" in md and "| 2 | 1.10 |" in md
    assert "Verdicts agree with the paper for 2 of 3 conditions" in md
    assert "2 of 6 searched networks score within 0.5 of chance or worse" in md
    assert "lowest of 6 proposals" in md and "score +0.10 to +0.10 against it" in md  # search best = error - 0.1
    assert "inconclusive" not in md  # most networks are away from chance here
    assert "2 x 3" in md  # rounds x proposals read back from the store
    csv = pd.read_csv(tmp_path / "docs" / "brc_working_memory" / "summary.csv")
    assert csv["n_seeds"].tolist() == [2, 2, 2]
    for name in ("errors.png", "raster.png", "persistent_activity.png", "pca_trajectories.png",
                 "search_progress.png"):
        assert (tmp_path / "docs" / "brc_working_memory" / name).stat().st_size > 1000
    with pytest.raises(FileNotFoundError, match="not a result store"):
        write_report(tmp_path / "nothing", tmp_path / "docs")


def test_spec_and_search_space(tmp_path):
    spec = load_spec(shipped_spec_path("brc_working_memory"))
    assert set(spec["conditions"]) == set(CONDITIONS) and spec["dt"] <= 0.1
    space = search_space()
    assert len(space) == 36
    x0 = start_point()
    assert all(space[k][0] <= v <= space[k][1] for k, v in x0.items())
    bad = tmp_path / "bad.toml"
    bad.write_text('[run]\nconditions = ["AMPA_axon"]\n')
    with pytest.raises(ValueError, match="unknown condition"):
        load_spec(bad)
    bad.write_text("[run]\nrounds = 3\n")
    with pytest.raises(ValueError, match="unknown key"):
        load_spec(bad)


def test_dt_check_counts_spikes_at_both_steps():
    table = dt_check(0.1, currents=(0.0, 1.0), duration_ms=40.0)
    assert list(table.columns) == ["current_na", "spikes_dt_0.025", "spikes_dt_0.1"]
    assert table.iloc[0, 1:].tolist() == [0, 0] and table["spikes_dt_0.1"].dtype == np.int64
    assert table.iloc[1, 1] > 0 and abs(int(table.iloc[1, 2]) - int(table.iloc[1, 1])) <= 1


def test_report_says_inconclusive_when_most_networks_are_at_chance(tmp_path):
    _store(tmp_path / "store", {key: 4.0 for key in ERRORS})
    md = write_report(tmp_path / "store", tmp_path / "docs", check_dt=False).read_text()
    assert "Most searched networks (6 of 6) score near chance or worse" in md and "inconclusive" in md


def test_report_name_and_diagnostic_sections(tmp_path):
    _store(tmp_path / "store")
    docs = tmp_path / "docs"
    write_report(tmp_path / "store", docs, check_dt=False)  # the default name, as before
    assert (docs / "brc_working_memory.md").is_file() and (docs / "brc_working_memory" / "summary.csv").is_file()
    # a started but unfinished group is named, not silently dropped
    (tmp_path / "store" / "groups" / "NMDA_dend-seed0" / "search").mkdir(parents=True)
    assert main(["report", str(tmp_path / "store"), "--docs", str(docs), "--name", "brc_big",
                 "--no-dt-check"]) == 0
    md = (docs / "brc_big.md").read_text()
    assert "--name brc_big" in md and "](brc_big/summary.csv)" in md and "](brc_working_memory/" not in md
    assert "[brc_working_memory.md](brc_working_memory.md)" in md  # the other write-up in the folder
    assert "group(s) NMDA_dend-seed0 had started but were not complete" in md
    assert "## Can the readout see a memory?" in md and "## How strongly does the cue drive the network?" in md
    ceiling = pd.read_csv(docs / "brc_big" / "readout_ceiling.csv")
    assert ceiling["delta_hz"].tolist() == [0, 5, 20, 50] * 2 and set(ceiling["tau_filter_ms"]) == {10, 50}
    row = ceiling[(ceiling["delta_hz"] == 50) & (ceiling["tau_filter_ms"] == 10)].iloc[0]
    assert f"| 50 | 10 | {row['error_mean']:.2f} +- {row['error_sd']:.2f} |" in md
    encoding = pd.read_csv(docs / "brc_big" / "cue_encoding.csv")
    assert sorted(set(encoding["seed"])) == [0, 1] and len(encoding) == 8  # one network per stored seed
    assert "the four cues' per-cell E drive patterns correlate" in md
    assert "+7.0" in md  # cued cluster minus other clusters, from the store (8 - 1 Hz)
    assert "A smaller run" not in (docs / "brc_working_memory.md").read_text()  # no link to itself
    with pytest.raises(ValueError, match="name must be a plain file stem"):
        write_report(tmp_path / "store", docs, check_dt=False, name="../x")


def test_report_tables_every_proposal_of_the_searches(tmp_path):
    store = _store(tmp_path / "store")
    for gid in ("NMDA_soma-seed0", "AMPA_soma-seed0"):
        search = ResultStore(store.workdir(gid) / "search" / "store")
        for rnd, values in enumerate(([4.0, 1.5, np.nan], [3.0, 4.2, 4.1])):
            gr = f"round{rnd:04d}-chunk000"
            search.record(gr, {"rows": [{"run_id": f"trial{3 * rnd + i}", "metric": "objective", "value": v}
                                        for i, v in enumerate(values)]})
        (store.workdir(gid) / "best_params.json").write_text(json.dumps({"g_cue_e": 2.0, "g_cue_i": 0.5}))
    md = write_report(tmp_path / "store", tmp_path / "docs", check_dt=False).read_text()
    assert "| AMPA_soma | 0 | 6 | 1 | 4.00 | 2 | 1 | trial1 (0) |" in md  # CONDITIONS order
    assert "| NMDA_soma | 0 | 6 | 1 | 4.00 | 2 | 1 | trial1 (0) |" in md
    assert "Seed 0: the best network is the same parameter set in every condition (AMPA_soma, NMDA_soma)" in md
    assert "| AMPA_soma | 0 | 2.00 | 0.50 |" in md  # cue conductances of the best networks
    assert (tmp_path / "docs" / "brc_working_memory" / "search_errors.csv").is_file()


def test_budget_sentence_follows_the_searched_errors():
    from conn2rnn.biophys.report import _budget_sentence

    assert "unlikely to change this" in _budget_sentence((4, 2240))
    assert "of all 2240 proposals, 4 (0.2%)" in _budget_sentence((4, 2240))
    assert "needs the paper's budget" in _budget_sentence((40, 400))
    assert "needs the paper's budget" in _budget_sentence(None)
