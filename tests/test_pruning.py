"""Pruning during training: exact zeros (weights, gradients, Adam moments), the cubic
sparsity ramp, distance-aware scores, regrowth, determinism, resume and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn.fitting import Pruning, train
from conn2rnn.fitting import _training_utils as U
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.regimes import get_regime
from conn2rnn.tasks import get_task


def _graph() -> BrainGraph:
    g = BrainGraph.from_grid((3, 2, 2))
    return BrainGraph.from_arrays(g.names, g.coords, gradient=g.coords[:, 0], metadata={"synthetic": True})


def _model(k=2, **kw):
    task = get_task("gonogo")
    return BioRNN.from_graph(_graph(), task, "vanilla", n_networks=k, seeds=range(k), **kw), task


KW = {"batch_size": 4, "eval_every": 10, "eval_batch_size": 8, "progress": False}


def test_sparsity_ramp_is_cubic():
    p = Pruning(0.8, begin=10, end=30, every=5)
    assert p.sparsity_at(0) == 0.0 and p.sparsity_at(10) == 0.0 and p.sparsity_at(30) == pytest.approx(0.8)
    assert p.sparsity_at(20) == pytest.approx(0.8 * (1 - 0.5 ** 3))
    assert [s for s in range(40) if p.is_event(s)] == [10, 15, 20, 25, 30]


def test_pruned_weights_gradients_and_moments_are_exactly_zero():
    model, task = _model()
    n_allowed = int(model.recurrent_mask[0].sum())
    result = train(model, task, n_steps=12, pruning=Pruning(0.6, begin=2, end=8, every=2), **KW)
    pruned = ~model.recurrent_mask
    assert result.active_weights.tolist() == [round(n_allowed * 0.4)] * 2
    assert torch.count_nonzero(model.w_rec[pruned]) == 0
    assert torch.count_nonzero(model.w_rec_raw[pruned]) == 0  # Adam did not move them after pruning
    # a further optimiser step: gradients of pruned weights are exactly 0 and they stay 0
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = task.batch(4, seed=0).to_torch()
    out, _ = model(batch["inputs"])
    U.task_loss(out, batch, task.kind).sum().backward()
    assert torch.count_nonzero(model.w_rec_raw.grad[pruned]) == 0
    opt.step()
    assert torch.count_nonzero(model.w_rec_raw[pruned]) == 0


def test_magnitude_keeps_the_strongest_and_distance_prunes_long_connections_first():
    model, _ = _model(k=1)
    model.eval()
    w = model.w_rec.detach().abs()[0].flatten()
    allowed = model.recurrent_mask.clone()
    opt = torch.optim.Adam(model.parameters())
    Pruning(0.5, begin=0, end=0).apply(model, opt, 0, allowed, [None])
    kept = model.recurrent_mask[0].flatten()
    assert float(w[kept].min()) >= float(w[~kept].max())

    equal, _ = _model(k=1)
    with torch.no_grad():
        equal.w_rec_raw.fill_(1.0)
    d = _graph().distance("euclidean")
    p = Pruning(0.5, begin=0, end=0, method="distance")
    p.apply(equal, torch.optim.Adam(equal.parameters()), 0, equal.recurrent_mask.clone(), p.distances(equal))
    kept = equal.recurrent_mask[0].numpy()
    assert d[kept].max() <= d[~kept].min()


def test_regrowth_keeps_the_count_and_is_seeded():
    def run(seed):
        model, task = _model()
        train(model, task, n_steps=10, pruning=Pruning(0.5, begin=0, end=8, every=2, regrow=0.2, seed=seed), **KW)
        return model

    a, b, c = run(0), run(0), run(1)
    assert torch.equal(a.recurrent_mask, b.recurrent_mask) and torch.equal(a.w_rec_raw, b.w_rec_raw)
    assert not torch.equal(a.recurrent_mask, c.recurrent_mask)
    n_allowed = a.n_nodes ** 2
    assert a.recurrent_mask.sum(dim=(1, 2)).tolist() == [round(n_allowed * 0.5)] * 2


def test_pruned_training_resumes_identically(tmp_path):
    pruning = Pruning(0.5, begin=0, end=6, every=3)
    full, task = _model()
    r_full = train(full, task, n_steps=8, pruning=pruning, **KW)
    part, _ = _model()
    train(part, task, n_steps=4, pruning=pruning, checkpoint_dir=tmp_path, checkpoint_every=4, **KW)
    resumed, _ = _model()
    r_res = train(resumed, task, n_steps=8, pruning=pruning, checkpoint_dir=tmp_path, checkpoint_every=4, **KW)
    assert torch.equal(full.w_rec_raw, resumed.w_rec_raw) and torch.equal(full.recurrent_mask, resumed.recurrent_mask)
    np.testing.assert_array_equal(r_full.final_accuracy, r_res.final_accuracy)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target_sparsity": 1.0}, "target_sparsity must be a number in \\[0, 1\\)"),
        ({"target_sparsity": 0.5, "begin": 5, "end": 2}, "end \\(2\\) must be >= begin \\(5\\)"),
        ({"target_sparsity": 0.5, "method": "random"}, "method must be one of"),
        ({"target_sparsity": 0.5, "regrow": -0.1}, "regrow must be a number"),
        ({"target_sparsity": 0.5, "distance": np.full((3, 3), np.nan)}, "distance must be a finite"),
    ],
)
def test_pruning_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Pruning(**kwargs)


def test_train_rejects_a_non_pruning_and_distance_without_source():
    model, task = _model()
    with pytest.raises(TypeError, match="pruning must be a conn2rnn.fitting.Pruning or a dict"):
        train(model, task, n_steps=1, pruning=0.5, progress=False)
    bare = BioRNN(task.n_inputs, 5, task.n_outputs)
    with pytest.raises(ValueError, match="method='distance' needs distances"):
        train(bare, task, n_steps=1, pruning=Pruning(0.5, method="distance"), progress=False)


def test_pruning_from_its_json_form_equals_the_object():
    a, task = _model()
    b, _ = _model()
    p = Pruning(0.4, begin=0, end=4, every=2, method="distance", regrow=0.1)
    train(a, task, n_steps=5, pruning=p, **KW)
    train(b, task, n_steps=5, pruning={k: v for k, v in p.to_dict().items() if k != "distance"}, **KW)
    assert torch.equal(a.recurrent_mask, b.recurrent_mask) and torch.equal(a.w_rec_raw, b.w_rec_raw)


def test_dale_regrowth_can_grow():
    task = get_task("gonogo")
    model = BioRNN.from_graph(_graph(), task, get_regime("vanilla", dale=True), n_networks=1, seeds=[0])
    train(model, task, n_steps=6, pruning=Pruning(0.5, begin=0, end=4, every=2, regrow=0.3), **KW)
    active = model.recurrent_mask
    assert torch.count_nonzero(model.w_rec[~active]) == 0
    assert bool((model.w_rec_raw[active] != 0).all())  # regrown weights are not stuck at |0|
