"""Training with plasticity options: tau and gain parameter groups, snapshots (table,
npz round trip, resume), determinism of every option together, gain signals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn.fitting import (
    PlasticityWave,
    Pruning,
    Schedule,
    load_snapshots,
    save_snapshots,
    train,
)
from conn2rnn.fitting.snapshots import SNAPSHOT_METRICS
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.tasks import get_task


def _graph() -> BrainGraph:
    g = BrainGraph.from_grid((3, 2, 2))
    return BrainGraph.from_arrays(g.names, g.coords, gradient=g.coords[:, 0] + 0.1 * g.coords[:, 1],
                                  metadata={"synthetic": True})


def _model(k=2, regime="embedded", **kw):
    task = get_task("gonogo")
    return BioRNN.from_graph(_graph(), task, regime, n_networks=k, seeds=range(k), **kw), task


KW = {"batch_size": 4, "eval_every": 5, "eval_batch_size": 8, "progress": False}


def test_tau_and_gain_have_their_own_learning_rates():
    model, task = _model(tau=150.0, learn_tau=True, node_gain=1.0, learn_gain=True)
    tau0, g0 = model.tau_raw.detach().clone(), model.node_gain.detach().clone()
    w0 = model.w_rec_raw.detach().clone()
    train(model, task, n_steps=2, lr=1e-3, lr_tau=1e-9, lr_gain=0.5, **KW)
    # Adam's first steps move every parameter by about its learning rate
    assert float((model.tau_raw.detach() - tau0).abs().max()) < 1e-8
    assert 0.1 < float((model.node_gain.detach() - g0).abs().max()) <= 1.0 + 1e-6
    assert 1e-4 < float((model.w_rec_raw.detach() - w0).abs().max()) < 3e-3
    with pytest.raises(ValueError, match="lr_tau must be a finite number > 0"):
        train(model, task, n_steps=1, lr_tau=0.0, progress=False)


def test_snapshots_table_and_npz_round_trip(tmp_path):
    model, task = _model()
    result = train(model, task, n_steps=6, snapshot_steps=[0, 3, 6], **KW)
    snaps = result.snapshots
    assert snaps.steps.tolist() == [0, 3, 6] and snaps.weights.shape == (3, 2, 12, 12)
    assert snaps.weights.dtype == np.float32
    assert list(snaps.table.columns) == ["step", "trials", "network", "seed", *SNAPSHOT_METRICS]
    assert snaps.table["step"].tolist() == [0, 0, 3, 3, 6, 6]
    np.testing.assert_array_equal(snaps.weights[-1], model.w_rec.detach().numpy())
    w = snaps.weights[1, 1].astype(np.float64)
    row = snaps.table.iloc[3]
    assert row["total_abs_w"] == pytest.approx(np.abs(w).sum())
    d = _graph().distance("euclidean")
    assert row["wiring_cost"] == pytest.approx((np.abs(w) * d).sum())
    # the snapshot accuracy at an evaluation step is the curve's
    curve = result.curves.query("step == 0")["accuracy"].to_numpy()
    np.testing.assert_array_equal(snaps.table.query("step == 0")["accuracy"].to_numpy(), curve)
    back = load_snapshots(save_snapshots(snaps, tmp_path / "snaps.npz"))
    assert back.table.equals(snaps.table)
    np.testing.assert_array_equal(back.weights, snaps.weights)
    np.testing.assert_array_equal(back.steps, snaps.steps)
    with pytest.raises(ValueError, match="snapshot_steps must be ints >= 0"):
        train(model, task, n_steps=1, snapshot_steps=[-1], progress=False)


def test_snapshots_survive_resume(tmp_path):
    full, task = _model()
    r_full = train(full, task, n_steps=6, snapshot_steps=[0, 2, 6], **KW)
    part, _ = _model()
    train(part, task, n_steps=4, snapshot_steps=[0, 2, 6], checkpoint_dir=tmp_path, checkpoint_every=2, **KW)
    again, _ = _model()
    r_res = train(again, task, n_steps=6, snapshot_steps=[0, 2, 6], checkpoint_dir=tmp_path, **KW)
    assert r_res.snapshots.table.equals(r_full.snapshots.table)
    np.testing.assert_array_equal(r_res.snapshots.weights, r_full.snapshots.weights)


def _everything(seed_offset=0):
    model, task = _model(tau=np.linspace(120, 900, 12), learn_tau=True, node_gain="gradient", learn_gain=True,
                         sigma_rec=0.05)
    wave = PlasticityWave(_graph().gradient, n_steps=6, width=0.2, floor=0.1)
    result = train(model, task, n_steps=6, seed=seed_offset, lr_tau=1e-2,
                   schedules={"strength": Schedule("cosine", 1e-3, 1e-2, duration=6), "plasticity": wave},
                   pruning=Pruning(0.3, begin=1, end=5, every=2, regrow=0.1), snapshot_steps=[0, 6], **KW)
    return model, result


def test_same_seed_identical_with_every_option():
    a, ra = _everything()
    b, rb = _everything()
    for name, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[name]), name
    assert ra.curves.equals(rb.curves) and ra.snapshots.table.equals(rb.snapshots.table)
    c, _ = _everything(seed_offset=1)
    assert not torch.equal(a.w_rec_raw, c.w_rec_raw)


def test_gain_signal_in_training_and_its_errors():
    model, task = _model(regime="vanilla", node_gain=1.0)
    n_t = task.batch(2, seed=0).inputs.shape[0]
    ref, _ = _model(regime="vanilla", node_gain=1.0)
    train(model, task, n_steps=2, gain_signal=np.ones(n_t), **KW)
    train(ref, task, n_steps=2, **KW)
    assert torch.equal(model.w_rec_raw, ref.w_rec_raw)
    with pytest.raises(ValueError, match="gain_signal must have shape"):
        train(model, task, n_steps=1, gain_signal=np.ones(n_t + 1), progress=False)


def test_snapshot_curves_figure(tmp_path):
    import pandas as pd

    from conn2rnn.plotting.results import plot_snapshot_curves

    tables = []
    for regime in ("vanilla", "embedded"):
        model, task = _model(regime=regime)
        snaps = train(model, task, n_steps=4, snapshot_steps=[0, 2, 4], **KW).snapshots
        tables.append(snaps.table.assign(regime=regime))
    fig = plot_snapshot_curves(pd.concat(tables), path=tmp_path / "curves.png")
    assert len(fig.axes) == 5 and (tmp_path / "curves.png").stat().st_size > 1000
    assert {line.get_label() for line in fig.axes[0].lines} == {"vanilla", "embedded"}
    with pytest.raises(ValueError, match="missing column\\(s\\) \\['modularity'\\]"):
        plot_snapshot_curves(tables[0].drop(columns="modularity"))
