"""Stored per-node INT maps compared with any map after the fact (writeup --map), and the
drive controls in a stored run."""

from __future__ import annotations

import pandas as pd
import pytest

from conn2rnn.cli import main
from conn2rnn.datasets import load_atlas
from conn2rnn.experiments import ExperimentSpec, run_experiment
from conn2rnn.experiments.store import IncompleteGroupError
from conn2rnn.experiments.writeup import write_reproduction


def _spec(maps: list[str]) -> ExperimentSpec:
    return ExperimentSpec.from_dict({
        "name": "tiny_maps", "tasks": ["gonogo"], "reservoirs": [], "n_seeds": 3,
        "regimes": ["vanilla", "masked"],
        "graph": {"atlas": "schaefer100", "connectome": "none", "maps": maps, "hemisphere": "left"},
        "training": {"n_steps": 4, "eval_every": 2},
        "model": {"dt": 100.0, "tau": 500.0, "activation": "tanh", "init": "uniform", "gain": 0.1},
        "analysis": {"empirical_maps": maps, "n_steps": 300, "n_nulls": 30, "max_lag": 49,
                     "controls": ["untrained", "node_drive", "task_trials"]},
        "analyses": ["timescales"],
    })


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("int_tables")
    out = {}
    for name, maps in (("hbn", ["int_hbn"]), ("ito", ["int_hcp_ito2020"])):
        run_experiment(_spec(maps), root / name, runner="serial", progress=False)
        out[name] = root / name
    return out


def test_a_map_chosen_after_training_gives_the_numbers_of_a_run_that_used_it(stores, tmp_path):
    assert main(["writeup", str(stores["hbn"]), str(tmp_path / "later"), "--map", "int_hcp_ito2020"]) == 0
    assert main(["writeup", str(stores["ito"]), str(tmp_path / "from_start")]) == 0
    later = pd.read_csv(tmp_path / "later" / "int.csv")
    from_start = pd.read_csv(tmp_path / "from_start" / "int.csv")
    pd.testing.assert_frame_equal(later, from_start)
    assert set(later["map"]) == {"int_hcp_ito2020"}
    assert set(later["drive"]) == {"resting drive through the inputs", "noise into every node", "task trials"}
    assert {"trained", "untrained"} <= set(later["condition"])
    assert later["rho_mean_map"].notna().all() and later["ceiling_rho"].notna().all()


def test_several_maps_and_a_user_file_side_by_side(stores, tmp_path):
    graph = load_atlas("schaefer100", maps=["int_hcp_ito2020"]).subset(list(range(50)))  # the left hemisphere
    user = tmp_path / "my_map.csv"
    pd.DataFrame({"region": graph.names, "value": graph.maps["int_hcp_ito2020"]}).to_csv(user, index=False)
    assert main(["writeup", str(stores["hbn"]), str(tmp_path / "w"), "--map", "int_hcp_ito2020",
                 "--map", str(user), "--map", "int_hbn"]) == 0
    table = pd.read_csv(tmp_path / "w" / "int.csv")
    assert list(dict.fromkeys(table["map"])) == ["int_hcp_ito2020", "my_map", "int_hbn"]
    numbers = ["rho_mean", "rho_mean_map", "p_mean_map", "diff_mean"]
    a = table[table["map"] == "int_hcp_ito2020"][numbers].reset_index(drop=True)
    b = table[table["map"] == "my_map"][numbers].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    text = (tmp_path / "w" / "results.md").read_text()
    assert "### `my_map`" in text and "### `int_hbn`" in text


def test_bad_maps_are_named(stores, tmp_path, capsys):
    with pytest.raises(ValueError, match="neither a registered map"):
        write_reproduction(stores["hbn"], tmp_path / "x", maps=["no_such_map"])
    short = tmp_path / "short.csv"
    short.write_text("1\n2\n3\n")
    with pytest.raises(ValueError, match="one value per region"):
        write_reproduction(stores["hbn"], tmp_path / "x", maps=[str(short)])
    assert main(["writeup", str(stores["hbn"]), str(tmp_path / "x"), "--map", "no_such_map"]) != 0
    assert "neither a registered map" in capsys.readouterr().err


def test_an_edited_per_node_map_is_refused(stores, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(stores["hbn"], copy)
    target = next(copy.glob("groups/*/int_maps.csv"))
    frame = pd.read_csv(target, index_col=0)
    frame.iloc[0, 0] += 1.0
    frame.to_csv(target)
    with pytest.raises(IncompleteGroupError):
        write_reproduction(copy, tmp_path / "x", maps=["int_hcp_ito2020"])


def test_a_partial_sweep_missing_a_whole_task_is_written_up(stores, tmp_path):
    import shutil

    copy = tmp_path / "partial"
    shutil.copytree(stores["hbn"], copy)
    spec = _spec(["int_hbn"])
    (copy / "spec.toml").write_text(spec.replace(tasks=("gonogo", "dms")).to_toml())  # dms never ran
    with pytest.warns(UserWarning, match="2 of 4 run groups"):
        report = write_reproduction(copy, tmp_path / "w")
    text = report.read_text()
    assert "(incomplete)" in text.splitlines()[0] and "gonogo_accuracy.png" in text
    assert "dms_accuracy.png" not in text
