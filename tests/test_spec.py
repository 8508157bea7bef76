"""Experiment specs: validation, TOML round trip, expansion into run groups."""

import math

import pytest

from conn2rnn.experiments.groups import ReservoirGroup, TrainableGroup, group_from_dict
from conn2rnn.experiments.spec import AnalysisSpec, ExperimentSpec, GraphSpec, SpecError, TrainingSpec, shipped_specs


def test_toml_round_trip_is_exact():
    spec = ExperimentSpec(
        name="rt", graph=GraphSpec(atlas="grid", connectome="none", maps=()),
        tasks=("one_choice_inference",), regimes=("l1", "sernn", "embedded_gradient"),
        custom_regimes={"embedded_gradient": {"base": "embedded", "distance": "gradient"}},
        reservoirs=(), n_seeds=2, strengths={"sernn": (0.01, 0.1)},
        training=TrainingSpec(n_steps=7),
    )
    again = ExperimentSpec.from_toml(spec.to_toml())
    assert again == spec
    assert again.to_toml() == spec.to_toml()


def test_groups_batch_seeds_and_strengths_into_ensembles():
    spec = ExperimentSpec(tasks=("gonogo", "dms"), regimes=("vanilla", "embedded"),
                          reservoirs=("connectome",), n_seeds=3,
                          strengths={"embedded": (0.001, 0.01)})
    groups = spec.groups()
    trainable = [g for g in groups if isinstance(g, TrainableGroup)]
    reservoirs = [g for g in groups if isinstance(g, ReservoirGroup)]
    assert len(trainable) == 4 and len(reservoirs) == 2
    emb = next(g for g in trainable if g.task == "gonogo" and g.regime.name == "embedded")
    assert len(emb.run_ids) == 6 and emb.strengths == (0.001,) * 3 + (0.01,) * 3
    ids = [g.group_id for g in groups]
    assert len(set(ids)) == len(ids)
    assert [g.group_id for g in spec.groups()] == ids  # stable
    assert all(group_from_dict(g.to_dict()) == g for g in groups)  # the runner boundary round-trips


def test_max_ensemble_splits_groups():
    spec = ExperimentSpec(tasks=("gonogo",), regimes=("vanilla",), reservoirs=(), n_seeds=5,
                          max_ensemble=2)
    sizes = [len(g.run_ids) for g in spec.groups()]
    assert sizes == [2, 2, 1]


@pytest.mark.parametrize("kwargs, match", [
    ({"regimes": ("nope",)}, "regimes: unknown regime 'nope'; valid regimes"),
    ({"tasks": ("chess",)}, "tasks: unknown task 'chess'"),
    ({"n_seeds": -2}, "n_seeds: must be >= 1"),
    ({"strengths": {"embedded": (0.1, math.nan)}}, "strengths.embedded: must be a non-empty list of finite"),
    ({"strengths": {"vanilla": (0.1,)}}, "no spatial cost"),
    ({"reservoirs": ("weird",)}, "reservoirs: unknown name 'weird'; valid: connectome, rewired"),
    ({"tasks": "gonogo"}, "list of names"),
])
def test_bad_spec_lists_valid_choices(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ExperimentSpec(**kwargs)


def test_unknown_key_in_toml_is_named():
    with pytest.raises(ValueError, match=r"training.epochs: unknown key; valid keys: n_steps"):
        ExperimentSpec.from_toml("[training]\nepochs = 3\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        ExperimentSpec.from_toml("[training\n")


def test_every_problem_is_listed_at_once_with_its_toml_path():
    text = """
name = "ok"
regimes = ["vanilla"]
reservoirs = []
custom_regimes = 3
strengths = {bio = 1e-3}
[training]
criterion = "high"
lr = -1
[model]
activation = "gelu"
init = "xavier"
tau = 10.0
tau_range = [100.0]
reservoir_test_trials = -5
"""
    with pytest.raises(SpecError) as info:
        ExperimentSpec.from_toml(text)
    problems = info.value.problems
    expected = ["training.criterion: must be a number; got 'high'", "training.lr: must be > 0",
                "model.activation: unknown value 'gelu'", "model.init: unknown value 'xavier'",
                "model.tau: must be >= model.dt = 50 ms", "model.tau_range: must be two numbers",
                "model.reservoir_test_trials: must be >= 1", "custom_regimes: must be a table of tables",
                "strengths.bio: must be a list of numbers"]
    for item in expected:
        assert any(p.startswith(item) for p in problems), (item, problems)


def test_sections_must_be_sections():
    with pytest.raises(SpecError, match="graph: must be a GraphSpec"):
        ExperimentSpec(graph={"atlas": "grid"})


def test_validate_checks_the_spec_against_data_and_registries():
    spec = ExperimentSpec(graph=GraphSpec(atlas="grid", connectome="none", maps=()), regimes=("masked",),
                          reservoirs=("connectome",), analyses=("timescales",))
    with pytest.raises(SpecError) as info:
        spec.validate()
    text = str(info.value)
    assert "regimes: 'masked' does not apply to the grid5x5x4 graph" in text
    assert "reservoirs: ['connectome'] need a structural connectome" in text
    assert "analysis.empirical_maps: 'int_hbn' is not a map of the graph" in text
    with pytest.raises(SpecError, match="graph: cannot be built: the synthetic 'grid' atlas has no brain maps"):
        ExperimentSpec(graph=GraphSpec(atlas="grid", connectome="none")).validate()


def test_bold_route_too_short_is_refused_before_running():
    spec = ExperimentSpec(regimes=("vanilla",), reservoirs=(), graph=GraphSpec(connectome="none"),
                          analysis=AnalysisSpec(int_route="bold", n_steps=1200))
    with pytest.raises(SpecError, match=r"analysis.n_steps: 1200 steps of 50 ms give \d+ BOLD samples"):
        spec.validate()


def test_shipped_specs_load_and_validate():
    names = shipped_specs()
    assert {"compare", "compare-quick", "sernn_vs_l1", "biornn_reference"} <= set(names)
    for name in names:
        spec = ExperimentSpec.load(name)
        assert ExperimentSpec.from_toml(spec.to_toml()) == spec
        spec.validate()


def test_training_defaults_are_train_defaults():
    import inspect

    from conn2rnn.fitting import train

    defaults = {k: p.default for k, p in inspect.signature(train).parameters.items()}
    spec = TrainingSpec()
    for name in ("batch_size", "lr", "eval_every", "eval_batch_size", "criterion", "checkpoint_every", "seed"):
        assert getattr(spec, name) == defaults[name], name
