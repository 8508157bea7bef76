"""Every set of names is one registry; third parties add a task, a map, a regime, a null,
an analysis, a runner or an initialiser from outside the package and it is usable
everywhere, specs and the command line included."""

from __future__ import annotations

import numpy as np
import pytest

from conn2rnn import get_task
from conn2rnn._registry import Registry
from conn2rnn.datasets import ATLASES, MAPS, BrainMap, load_atlas
from conn2rnn.cli import build_parser
from conn2rnn.experiments import (
    ANALYSES,
    RUNNERS,
    ExperimentSpec,
    GraphSpec,
    ModelSpec,
    SpecError,
    check_run_options,
    run_experiment,
)
from conn2rnn.experiments.runners import Runner, _run_serial
from conn2rnn.models import INITS, BioRNN
from conn2rnn.nulls import CONNECTOME_NULLS
from conn2rnn.regimes import REGIMES, SPATIAL_COSTS, Regime, get_regime
from conn2rnn.tasks import TASKS, Task
from conn2rnn.tasks.base import Timeline


@pytest.fixture
def hold_cue():
    """A toy task defined outside the package (a subclass registers itself), unregistered after."""
    class HoldCue(Task):
        """A toy task defined outside the package: report which of two cues was shown."""

        name = "toy_hold_cue"
        kind = "classification"
        periods = ("cue", "decision")
        default_timing = {"cue": 200, "decision": 200}

        def __init__(self, *, dt: float = 50.0, timing=None, loss_on: str = "response") -> None:
            super().__init__(dt=dt, timing=timing, loss_on=loss_on)
            self.input_names = ("a", "b")
            self.output_names = ("a", "b")

        def _params(self) -> dict:
            return {}

        def _trials(self, rng: np.random.Generator, tl: Timeline):
            n = tl.steps.shape[0]
            which = rng.integers(0, 2, n)
            cue, decision = tl.mask("cue"), tl.mask("decision")
            x = np.zeros((tl.n_steps, n, 2))
            x[..., 0] = cue & (which == 0)
            x[..., 1] = cue & (which == 1)
            y = np.where(decision, which, 0).astype(np.int64)
            return x, y, decision, {"condition": which.astype(str), "ground_truth": which, "target": which}

    yield HoldCue
    TASKS.unregister(HoldCue.name)


@pytest.fixture
def toy_map():
    rng = np.random.default_rng(0)
    values = rng.normal(size=100)
    MAPS.register("toy_map", BrainMap(lambda atlas, data_dir: values, "a random map (test)", "none"))
    yield values
    MAPS.unregister("toy_map")


def test_registry_errors_list_the_choices():
    reg: Registry[int] = Registry("widget")
    reg.register("a", 1)
    with pytest.raises(ValueError, match="widget 'a' is already registered"):
        reg.register("a", 2)
    reg.register("a", 3, overwrite=True)
    with pytest.raises(ValueError, match="unknown widget 'b' in size; valid: a"):
        reg.get("b", argument="size")
    with pytest.raises(TypeError, match="must be a string"):
        reg.get(3)
    with pytest.raises(ValueError, match="non-empty string"):
        reg.register(" a", 1)


def test_a_task_subclass_registers_itself_and_runs_in_a_spec(hold_cue):
    assert TASKS["toy_hold_cue"] is hold_cue
    batch = get_task("toy_hold_cue").batch(8, seed=0)
    assert batch.inputs.shape == (8, 8, 2)
    spec = ExperimentSpec(tasks=("toy_hold_cue",), graph=GraphSpec(atlas="grid", connectome="none", maps=()),
                          regimes=("vanilla",), reservoirs=(), analyses=())
    assert spec.validate() is spec


def test_neurogym_ids_and_tasks_pass_through_get_task():
    task = get_task("gonogo")
    assert get_task(task) is task
    with pytest.raises(TypeError, match="cannot be applied to an existing task"):
        get_task(task, dt=10.0)
    with pytest.raises(ValueError, match="unknown task 'chess'; registered tasks: .*gonogo.*neurogym id"):
        get_task("chess")
    assert "neurogym" not in TASKS  # the adapter is not a named task


def test_a_registered_map_is_attached_and_compared_in_a_spec(tmp_path, toy_map):
    graph = load_atlas("schaefer100", maps=["toy_map"])
    np.testing.assert_array_equal(graph.maps["toy_map"], toy_map)
    spec = ExperimentSpec.from_dict({
        "name": "toy", "tasks": ["gonogo"], "regimes": [], "reservoirs": ["connectome"], "n_seeds": 2,
        "analyses": ["timescales"],
        "graph": {"atlas": "schaefer100", "connectome": "enigma_hcp", "maps": ["toy_map"]},
        "model": {"reservoir_train_trials": 32, "reservoir_test_trials": 16},
        "analysis": {"empirical_maps": ["toy_map"], "int_route": "raw", "n_steps": 200, "n_nulls": 20},
    })
    results = run_experiment(spec, tmp_path / "toy", runner="serial", progress=False)
    rho = results[results.metric == "int_rho"]
    assert len(rho) == 2 and rho.value.between(-1, 1).all()
    assert len(results[results.metric == "int_p_null"]) == 2


def test_a_registered_regime_null_and_analysis_are_usable(tmp_path):
    REGIMES.register("toy_l2", Regime("toy_l2", l2=5e-3))
    CONNECTOME_NULLS.register("toy_identity", lambda graph, seed: np.eye(graph.n_nodes) * 0.5)
    ANALYSES.register("toy_count", lambda ctx: ([{"run_id": r, "metric": "n_nodes", "value": float(
        ctx.weights.shape[-1])} for r in ctx.group.run_ids], {}))
    try:
        assert get_regime("toy_l2").l2 == 5e-3
        spec = ExperimentSpec.from_dict({
            "name": "toy2", "tasks": ["gonogo"], "regimes": ["toy_l2"], "reservoirs": ["toy_identity"],
            "n_seeds": 1, "analyses": ["toy_count"], "reservoir_regime": "vanilla",
            "graph": {"atlas": "schaefer100", "connectome": "enigma_hcp", "maps": []},
            "training": {"n_steps": 2, "eval_every": 1},
            "model": {"reservoir_train_trials": 16, "reservoir_test_trials": 8},
        })
        results = run_experiment(spec, tmp_path / "toy2", runner="serial", progress=False, device="cpu")
        counts = results[results.metric == "n_nodes"]
        assert sorted(counts.regime) == ["reservoir-toy_identity", "toy_l2"] and (counts.value == 100).all()
    finally:
        REGIMES.unregister("toy_l2")
        CONNECTOME_NULLS.unregister("toy_identity")
        ANALYSES.unregister("toy_count")


def test_names_come_from_the_registries():
    assert set(SPATIAL_COSTS) == {"l1", "l2", "communicability", "communicability_out", "kernel_correlation"}
    assert {"schaefer100", "grid"} <= set(ATLASES)
    with pytest.raises(ValueError, match="unknown spatial cost 'l3'"):
        SPATIAL_COSTS.get("l3")
    with pytest.raises(SpecError, match="graph.atlas: unknown value 'aal'; valid: schaefer100"):
        ExperimentSpec.from_dict({"graph": {"atlas": "aal"}})


def test_runner_and_initialiser_names_come_from_their_registries():
    assert RUNNERS.names() == ("local", "dask", "serial")
    assert INITS.names() == ("orthogonal", "uniform", "normal", "connectome")
    assert isinstance(RUNNERS, Registry) and isinstance(INITS, Registry)
    with pytest.raises(ValueError, match=r"unknown runner 'mpi'; valid runners: \['local', 'dask', 'serial'\]"):
        check_run_options("mpi")
    with pytest.raises(ValueError, match=r"init must be one of \['orthogonal', 'uniform', 'normal', 'connectome'\]"):
        BioRNN(n_inputs=1, n_nodes=3, n_outputs=1, init="xavier")
    with pytest.raises(SpecError, match="model.init: unknown value 'xavier'; valid: orthogonal, uniform"):
        ModelSpec(init="xavier")


def test_a_registered_runner_is_usable_everywhere(tmp_path):
    order = []

    def backwards(pending, executor, store, recorder, n_workers, scheduler):
        order.extend(g["group_id"] for g in pending[::-1])
        _run_serial(pending[::-1], executor, store, recorder)

    RUNNERS.register("toy_backwards", Runner(run=backwards, in_process=True))
    try:
        check_run_options("toy_backwards")
        with pytest.raises(ValueError, match="runner='toy_backwards' runs in this process"):
            check_run_options("toy_backwards", n_workers=2)
        with pytest.raises(ValueError, match="scheduler is only used by runner='dask'; got runner='toy_backwards'"):
            check_run_options("toy_backwards", scheduler="tcp://nowhere:8786")
        args = build_parser().parse_args(["run", "spec.toml", "--runner", "toy_backwards"])
        assert args.runner == "toy_backwards"  # the command line's choices are the registry's
        spec = ExperimentSpec.from_dict({
            "name": "toy_runner", "tasks": ["gonogo"], "regimes": ["vanilla", "l1"], "reservoirs": [], "n_seeds": 1,
            "analyses": [], "graph": {"atlas": "grid", "connectome": "none", "maps": []},
            "training": {"n_steps": 1, "eval_every": 1},
        })
        results = run_experiment(spec, tmp_path / "toy_runner", runner="toy_backwards", progress=False)
        assert order == [g.group_id for g in spec.groups()][::-1]
        assert set(results.group_id) == set(order)
    finally:
        RUNNERS.unregister("toy_backwards")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "spec.toml", "--runner", "toy_backwards"])


def test_a_registered_initialiser_is_usable_in_models_and_specs():
    def identity(n, gen, gain):
        return gain * np.eye(n)

    INITS.register("toy_identity", identity)
    try:
        model = BioRNN(n_inputs=1, n_nodes=4, n_outputs=1, n_networks=2, init="toy_identity", gain=0.5)
        w = model.w_rec.detach().double().numpy()
        assert np.allclose(w, 0.5 * np.eye(4)[None]) and model.config["init"] == "toy_identity"
        assert ModelSpec(init="toy_identity").init == "toy_identity"
    finally:
        INITS.unregister("toy_identity")
