"""The real executor gives the same results table on every runner (serial, local pool, Dask)."""

import pandas as pd
import pytest

from conn2rnn.experiments import ExperimentSpec, GraphSpec, ModelSpec, TrainingSpec, run_experiment

pytest.importorskip("dask.distributed")

SPEC = ExperimentSpec(
    name="runners-agree",
    graph=GraphSpec(atlas="schaefer100", connectome="enigma_hcp", maps=("int_hbn",)),
    tasks=("gonogo",), regimes=("vanilla", "bio"), reservoirs=("connectome",), n_seeds=2,
    training=TrainingSpec(n_steps=4, eval_every=2, eval_batch_size=32, checkpoint_every=2),
    model=ModelSpec(reservoir_train_trials=64, reservoir_test_trials=64),
    analyses=("topology",),
)


def _table(results: pd.DataFrame) -> pd.DataFrame:
    cols = ["run_id", "metric", "value", "task", "regime", "family", "seed"]
    return results[cols].sort_values(["run_id", "metric"]).reset_index(drop=True)


def test_dask_and_serial_runners_give_identical_results(tmp_path):
    serial = run_experiment(SPEC, tmp_path / "serial", runner="serial", progress=False)
    dask = run_experiment(SPEC, tmp_path / "dask", runner="dask", n_workers=2, progress=False)
    assert len(serial) == len(dask) > 0
    pd.testing.assert_frame_equal(_table(serial), _table(dask))
    assert set(serial.regime) == {"vanilla", "bio", "reservoir-connectome"}
