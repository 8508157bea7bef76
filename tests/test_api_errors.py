"""The Python API as a user hits it with bad input: every error names the argument (or the file),
what was expected and what was got; documented options pass through; no error comes from deep
inside numpy, torch or scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn import _validation as V
from conn2rnn.analysis.maps import spin_nulls
from conn2rnn.analysis.timescales import timescales_from_acf
from conn2rnn.datasets import atlas_table, load_atlas
from conn2rnn.fitting.evaluation import evaluate
from conn2rnn.fitting.training import train
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.models.io import load_biornn, save_biornn
from conn2rnn.models.reservoir import ConnectomeReservoir
from conn2rnn.models.toggle import build_model
from conn2rnn.nulls import random_density_matched, rewire_degree_preserving, shuffle_weights
from conn2rnn.tasks import get_task


@pytest.fixture(scope="module")
def graph() -> BrainGraph:
    """Schaefer-100 (bundled) with a synthetic sparse connectome: no download needed."""
    g = load_atlas("schaefer100")
    rng = np.random.default_rng(0)
    w = rng.random((g.n_nodes, g.n_nodes)) * (rng.random((g.n_nodes, g.n_nodes)) < 0.2)
    np.fill_diagonal(w, 0.0)
    return g.with_connectome(w, name="synthetic random (test)")


# ------------------------------------------------------------------ build_model
def test_build_model_passes_dale_through(graph):
    model = build_model(graph, "gonogo", dale=0.8, seeds=[3])
    signs = model.dale_sign.numpy().ravel()
    assert model.config["dale"] and np.mean(signs > 0) == pytest.approx(0.8)
    plain = build_model(graph, "gonogo", seeds=[3])
    assert not plain.config["dale"]


def test_build_model_passes_a_connectome_through(graph):
    rng = np.random.default_rng(1)
    n = graph.n_nodes
    w = rng.random((n, n)) * (rng.random((n, n)) < 0.1)
    model = build_model(graph, "gonogo", init="connectome", connectome=w, seeds=[0])
    got = model.w_rec.detach().double().numpy()[0]
    assert np.array_equal(got != 0, w != 0)  # the given pattern, not the graph's
    ratio = got[w != 0] / w[w != 0]
    assert np.allclose(ratio, ratio[0], rtol=1e-5)  # one scale factor (spectral radius)


@pytest.mark.parametrize("bad", [None, "schaefer100", np.eye(3)])
def test_build_model_needs_a_graph(bad):
    with pytest.raises(TypeError, match=rf"graph must be a BrainGraph.*got {type(bad).__name__}"):
        build_model(bad, "gonogo")


def test_build_model_needs_a_task(graph):
    with pytest.raises(TypeError, match="task must be a Task or a task name.*got NoneType"):
        build_model(graph, None)


# --------------------------------------------------------------------- evaluate
@pytest.fixture(scope="module")
def gonogo_model(graph):
    return build_model(graph, "gonogo", seeds=[0])


@pytest.fixture(scope="module")
def reservoirs(graph):
    if graph.connectome is None:
        pytest.skip("the graph has no connectome")
    return build_model(graph, "gonogo", trainable=False, n_networks=1)


def test_evaluate_needs_a_model_and_a_task(gonogo_model):
    with pytest.raises(TypeError, match="model must be a BioRNN, a ReservoirEnsemble.*got NoneType"):
        evaluate(None, get_task("gonogo"))
    with pytest.raises(TypeError, match="task must be a Task or a task name.*got NoneType"):
        evaluate(gonogo_model, None)


def test_evaluate_names_the_task_a_model_was_built_for(gonogo_model):
    gonogo, dms = get_task("gonogo"), get_task("dms")
    assert (gonogo.n_inputs, gonogo.n_outputs) != (dms.n_inputs, dms.n_outputs)
    expected = (rf"this model was built for gonogo \({gonogo.n_inputs} inputs, {gonogo.n_outputs} "
                rf"outputs\); dms needs {dms.n_inputs} inputs, {dms.n_outputs} outputs")
    with pytest.raises(ValueError, match=expected):
        evaluate(gonogo_model, dms)


def test_evaluate_n_trials_is_named(gonogo_model, reservoirs):
    with pytest.raises(ValueError, match="n_trials must be an integer >= 1; got 0"):
        evaluate(gonogo_model, "gonogo", n_trials=0)
    with pytest.raises(ValueError, match="n_trials must be an integer >= 2; got 0"):
        evaluate(reservoirs, "gonogo", n_trials=0)
    with pytest.raises(TypeError, match="n_trials must be an integer; got 8.0"):
        evaluate(gonogo_model, "gonogo", n_trials=8.0)


def test_evaluate_reservoirs_with_too_few_trials_per_class(reservoirs):
    with pytest.raises(ValueError, match=r"n_trials=3 gives too few trials per class.*gonogo.*"
                                         r"increase n_trials"):
        evaluate(reservoirs, "gonogo", n_trials=3)
    table = evaluate(reservoirs, "gonogo", n_trials=48)  # enough: scored
    assert len(table) == 1 and 0.0 <= table["score"].iloc[0] <= 1.0


# ------------------------------------------------------------------------ seeds
def test_negative_seeds_are_named_everywhere(graph, gonogo_model, reservoirs):
    task = get_task("gonogo")
    with pytest.raises(ValueError, match="seeds must be non-negative"):
        build_model(graph, task, seeds=[-1])
    with pytest.raises(ValueError, match=r"seeds\[0\] must be a non-negative integer seed"):
        build_model(graph, task, trainable=False, seeds=[-1])
    with pytest.raises(ValueError, match="seeds must be a non-negative integer seed"):
        build_model(graph, task, trainable=False, seeds=-5)
    with pytest.raises(TypeError, match="seed must be a non-negative int"):
        task.batch(4, seed=-1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer seed.*got -1"):
        evaluate(gonogo_model, task, seed=-1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer seed.*got -2"):
        reservoirs.members[0].run(np.zeros((3, 1, task.n_inputs)), seed=-2)
    w = np.random.default_rng(2).random((10, 10)) * (np.random.default_rng(3).random((10, 10)) < 0.4)
    for null in (rewire_degree_preserving, shuffle_weights, random_density_matched):
        with pytest.raises(ValueError, match="seed must be a non-negative integer seed.*got -3"):
            null(w, seed=-3)
    if graph.connectome is not None:
        with pytest.raises(ValueError, match="seed must be a non-negative integer seed"):
            ConnectomeReservoir.from_graph(graph, n_inputs=2, seed=-1)


# -------------------------------------------------------------------- reservoir
def test_reservoir_bias_of_the_wrong_length():
    w, w_in = np.eye(4) * 0.5, np.ones((4, 1))
    with pytest.raises(ValueError, match=r"bias must be a number or an \(4,\) array .*got shape \(3,\)"):
        ConnectomeReservoir(w, w_in, bias=np.zeros(3))
    with pytest.raises(TypeError, match="bias must be a number or an"):
        ConnectomeReservoir(w, w_in, bias="zero")
    res = ConnectomeReservoir(w, w_in, bias=[0.1, 0.2, 0.3, 0.4])
    assert res.bias.tolist() == [0.1, 0.2, 0.3, 0.4]
    with pytest.raises(ValueError, match=r"noise \(a standard deviation\) must be a number >= 0"):
        ConnectomeReservoir(w, w_in, noise=-0.1)
    with pytest.raises(TypeError, match="noise .* must be a number; got True"):
        ConnectomeReservoir(w, w_in, noise=True)


# --------------------------------------------------------------------- datasets
def test_load_atlas_takes_one_map_name_as_a_string():
    one = load_atlas("schaefer100", maps="int_hbn")
    listed = load_atlas("schaefer100", maps=["int_hbn"])
    assert "int_hbn" in one.maps
    np.testing.assert_array_equal(one.maps["int_hbn"], listed.maps["int_hbn"])


def test_atlas_table_is_a_copy():
    table = atlas_table("schaefer100")
    x0 = float(table.loc[0, "x"])
    table.loc[0, "x"] = 1e6
    del table["network"]
    again = atlas_table("schaefer100")
    assert float(again.loc[0, "x"]) == x0 and "network" in again.columns
    assert load_atlas("schaefer100").coords[0, 0] == pytest.approx(x0)


# ---------------------------------------------------------------------- train
@pytest.mark.parametrize("criterion", [1.5, 0.0, -0.1, float("nan")])
def test_train_criterion_rule(gonogo_model, criterion):
    with pytest.raises(ValueError, match=r"criterion must be a .*number"):
        train(gonogo_model, "gonogo", n_steps=1, criterion=criterion, progress=False)
    with pytest.raises(ValueError, match=r"criterion must be a .*number"):
        V.check_criterion(criterion)


def test_train_criterion_type():
    with pytest.raises(TypeError, match="criterion must be a number; got 'high'"):
        V.check_criterion("high")
    assert V.check_criterion(1) == 1.0 and V.check_criterion(0.9) == 0.9


# ------------------------------------------------------------------- model io
def test_load_biornn_refuses_files_that_are_not_models(tmp_path, gonogo_model):
    path = save_biornn(gonogo_model, tmp_path / "model.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    text = tmp_path / "notes.pt"
    text.write_text("these are my notes\n")
    for bad in (truncated, text):
        with pytest.raises(ValueError, match=rf"{bad} is not a conn2rnn model file \(.+\)"):
            load_biornn(bad)
    other = tmp_path / "tensor.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match=rf"{other} is not a conn2rnn"):
        load_biornn(other)
    assert isinstance(load_biornn(path), BioRNN)


# ---------------------------------------------------------------- timescales
def test_acf_with_nan_warns_and_gives_nan():
    with pytest.warns(RuntimeWarning, match=r"ACF of nodes \[0\] contains NaN"):
        tau = timescales_from_acf([1.0, np.nan, 0.2, -0.1])
    assert np.isnan(tau[0])
    r = np.column_stack([[1.0, 0.5, 0.25, -0.1], [1.0, np.nan, 0.2, -0.1]])
    with pytest.warns(RuntimeWarning, match=r"nodes \[1\]"):
        tau = timescales_from_acf(r, dt=2.0)
    assert tau[0] == pytest.approx(2.0 * 1.75) and np.isnan(tau[1])


@pytest.mark.parametrize("lag0", [2.0, 0.5, -1.0])
def test_acf_lag0_must_be_one(lag0):
    with pytest.raises(ValueError, match=rf"r\[0\] must be 1 .*got {lag0:g} for nodes \[0\]"):
        timescales_from_acf([lag0, 0.5, -0.1])
    with pytest.raises(ValueError, match="infinite"):
        timescales_from_acf([1.0, np.inf, -0.1])


# ----------------------------------------------------------------- spin nulls
def test_spin_nulls_reject_duplicated_coordinates():
    coords = np.array(atlas_table("schaefer100")[["sphere_x", "sphere_y", "sphere_z"]], float)
    hemi = atlas_table("schaefer100")["hemisphere"].to_numpy()
    with pytest.raises(ValueError, match="seed must be a non-negative integer seed"):
        spin_nulls(np.arange(100.0), coords, hemi, n_perm=2, seed=-1)
    coords[7] = coords[3]
    with pytest.raises(ValueError, match=r"sphere_coords has 1 duplicated row.*regions \[3, 7\]"):
        spin_nulls(np.arange(100.0), coords, hemi, n_perm=2, seed=0)


# ------------------------------------------------------------- the checkers
def test_checkers_name_the_argument():
    assert V.check_int(np.int64(3), "n", low=1) == 3
    with pytest.raises(TypeError, match="n must be an integer; got True"):
        V.check_int(True, "n")
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 5\]; got 7"):
        V.check_int(7, "n", low=1, high=5)
    assert V.check_float(np.float32(0.5), "x", low=0, high=1) == 0.5
    with pytest.raises(ValueError, match=r"x must be a number in \(0, 1\]; got 0"):
        V.check_float(0, "x", low=0, high=1, low_open=True)
    with pytest.raises(ValueError, match="x must be a finite number; got inf"):
        V.check_float(float("inf"), "x")
    with pytest.raises(TypeError, match="x must be a number; got '1'"):
        V.check_float("1", "x")
    assert V.check_seed(0) == 0 and V.check_seed(np.uint32(7)) == 7
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer seed \(0 to 2\*\*63 - 1\)"):
        V.check_seed(2**63)
    with pytest.raises(TypeError, match="seed must be a non-negative integer seed; got 1.0"):
        V.check_seed(1.0)
    assert V.check_seeds(range(3), n=3) == [0, 1, 2]
    with pytest.raises(ValueError, match="seeds must have 2 entries"):
        V.check_seeds([0, 1, 2], n=2)
    assert V.check_names("int_hbn", "maps") == ("int_hbn",)
    assert V.check_names(["a", "b"], "maps") == ("a", "b") and V.check_names(None, "maps") == ()
    with pytest.raises(TypeError, match="maps must contain names"):
        V.check_names(["a", 3], "maps")
    same = np.random.default_rng(5).random(3)
    assert np.array_equal(V.as_rng(5).random(3), same)
    gen = np.random.default_rng(1)
    assert V.as_rng(gen) is gen
