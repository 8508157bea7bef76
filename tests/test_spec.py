"""Experiment specs: validation, TOML round trip, expansion into run groups."""

import math

import pytest

from conn2rnn.experiments.groups import ReservoirGroup, TrainableGroup, group_from_dict
from conn2rnn.experiments.spec import ExperimentSpec, GraphSpec, TrainingSpec


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
