"""Schedules over training steps and plasticity waves: documented values, JSON round
trip, errors, and their effect in train() (strength single source, exact update
scaling under Adam, I/O mask switches)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from conn2rnn.fitting import PlasticityWave, Schedule, train
from conn2rnn.fitting.schedules import schedule_from_dict
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.tasks import get_task


def _graph() -> BrainGraph:
    g = BrainGraph.from_grid((3, 2, 2))
    return BrainGraph.from_arrays(g.names, g.coords, gradient=g.coords[:, 0] + 0.1 * g.coords[:, 1],
                                  metadata={"synthetic": True})


def test_schedule_values_are_the_documented_ones():
    lin = Schedule("linear", 1.0, 3.0, begin=10, duration=20)
    assert [lin(t) for t in (0, 10, 15, 20, 30, 100)] == [1.0, 1.0, 1.5, 2.0, 3.0, 3.0]
    cos = Schedule("cosine", 0.0, 2.0, begin=0, duration=4)
    assert [cos(t) for t in (0, 2, 4)] == pytest.approx([0.0, 1.0, 2.0])
    assert cos(1) == pytest.approx(1.0 - math.cos(math.pi / 4))
    step = Schedule("step", 5.0, 7.0, begin=3)
    assert [step(t) for t in (0, 2, 3, 9)] == [5.0, 5.0, 7.0, 7.0]
    assert Schedule("constant", 0.25)(1000) == 0.25
    per_net = Schedule("linear", [0.0, 1.0], [1.0, 3.0], duration=2)
    np.testing.assert_array_equal(per_net(1), [0.5, 2.0])
    custom = Schedule("custom", fn=lambda t: 0.5 ** t)
    assert custom(3) == 0.125
    masks = Schedule("step", np.array([True, False]), np.array([True, True]), begin=2)
    assert masks(1).tolist() == [True, False] and masks(2).tolist() == [True, True]


def test_schedule_json_round_trip():
    for sched in (Schedule("linear", [0.0, 1.0], [1.0, 3.0], begin=2, duration=5),
                  PlasticityWave(np.arange(5.0), n_steps=10, width=0.2, floor=0.1, direction="reverse")):
        again = schedule_from_dict(json.loads(json.dumps(sched.to_dict())))
        for t in (0, 3, 7, 12):
            np.testing.assert_array_equal(again(t), sched(t))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kind": "ramp", "start": 0.0}, ValueError, "kind must be one of"),
        ({"kind": "linear", "start": 0.0}, ValueError, "needs end"),
        ({"kind": "linear", "start": [0.0, 1.0], "end": [1.0]}, ValueError, "same shape"),
        ({"kind": "linear", "start": float("nan"), "end": 1.0}, ValueError, "start must be finite"),
        ({"kind": "linear", "start": 0.0, "end": 1.0, "duration": 0}, ValueError, "duration must be an int >= 1"),
        ({"kind": "custom"}, TypeError, "needs fn"),
        ({"kind": "linear", "start": np.array([True]), "end": np.array([False])}, ValueError, "boolean masks"),
    ],
)
def test_schedule_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        Schedule(**kwargs)


def test_wave_travels_and_controls_have_the_same_total_plasticity():
    axis = np.linspace(-1.0, 3.0, 9)
    fwd = PlasticityWave(axis, n_steps=40, width=0.1)
    rev = PlasticityWave(axis, n_steps=40, width=0.1, direction="reverse")
    uni = PlasticityWave(axis, n_steps=40, width=0.1, direction="uniform")
    peaks = [int(np.argmax(fwd(t))) for t in range(8, 33, 4)]
    assert peaks == sorted(peaks) and peaks[0] < peaks[-1]
    np.testing.assert_allclose(rev(20), fwd(20)[::-1], atol=1e-12)
    for t in range(0, 41, 5):
        assert uni(t).sum() == pytest.approx(fwd(t).sum())
        assert np.ptp(uni(t)) == 0
    with pytest.raises(ValueError, match="axis must be finite"):
        PlasticityWave(np.array([0.0, np.nan, 1.0]), n_steps=5)
    with pytest.raises(ValueError, match="direction must be one of"):
        PlasticityWave(axis, n_steps=5, direction="backward")


def _model(k=2, regime="embedded", **kw):
    task = get_task("gonogo")
    return BioRNN.from_graph(_graph(), task, regime, n_networks=k, seeds=range(k), **kw), task


def test_strength_schedule_drives_the_single_strength_source():
    model, task = _model(strengths=[1e-3, 2e-3])
    sched = Schedule("linear", [0.0, 0.0], [1e-2, 2e-2], duration=4)
    train(model, task, n_steps=3, batch_size=4, eval_every=5, eval_batch_size=8, progress=False,
          schedules={"strength": sched})
    np.testing.assert_allclose(model.strengths.numpy(), sched(2), rtol=1e-6)  # the value used at step 2
    assert [r.strength for r in model.regimes] == pytest.approx(sched(2).tolist())
    vanilla, task = _model(regime="vanilla")
    with pytest.raises(ValueError, match="needs a regime with a spatial cost"):
        train(vanilla, task, n_steps=1, batch_size=4, progress=False,
              schedules={"strength": Schedule("constant", 1e-3)})


def test_plasticity_scales_adams_update_exactly():
    model, task = _model(regime="vanilla")
    ref, _ = _model(regime="vanilla")
    n = model.n_nodes
    mult = np.where(np.arange(n) % 2 == 0, 1.0, 0.0)
    w0 = model.w_rec_raw.detach().clone()
    kw = {"n_steps": 3, "batch_size": 4, "eval_every": 5, "eval_batch_size": 8, "progress": False}
    train(model, task, schedules={"plasticity": Schedule("constant", mult)}, **kw)
    train(ref, task, **kw)
    frozen = mult == 0
    assert torch.equal(model.w_rec_raw[:, frozen], w0[:, frozen])
    assert not torch.equal(model.w_rec_raw[:, ~frozen], w0[:, ~frozen])
    # one step: the update is exactly m times Adam's update (not Adam on m times the gradient)
    half, _ = _model(regime="vanilla")
    one, _ = _model(regime="vanilla")
    one_kw = {**kw, "n_steps": 1}
    train(half, task, schedules={"plasticity": Schedule("constant", np.full(n, 0.25))}, **one_kw)
    train(one, task, **one_kw)
    torch.testing.assert_close(half.w_rec_raw - w0, 0.25 * (one.w_rec_raw - w0), rtol=0, atol=6e-8)  # float32 rounding of w - w0
    assert float((one.w_rec_raw.detach() - w0).abs().max()) > 1e-4
    # a full multiplier equals plain training bit for bit
    full, _ = _model(regime="vanilla")
    train(full, task, schedules={"plasticity": Schedule("constant", np.ones(n))}, **kw)
    assert torch.equal(full.w_rec_raw, ref.w_rec_raw)


def test_io_mask_schedule_switches_masks():
    model, task = _model(regime="vanilla")
    n = model.n_nodes
    start = np.zeros((n, task.n_inputs), bool)
    start[:3] = True
    sched = Schedule("step", start, np.ones((n, task.n_inputs), bool), begin=2)
    train(model, task, n_steps=2, batch_size=4, eval_every=5, eval_batch_size=8, progress=False,
          schedules={"input_mask": sched})
    assert model.input_mask[0].numpy().tolist() == start.tolist()
    with pytest.raises(TypeError, match="must give a boolean mask"):
        train(model, task, n_steps=1, batch_size=4, progress=False,
              schedules={"input_mask": Schedule("constant", np.ones((n, task.n_inputs)))})


@pytest.mark.parametrize(
    "schedules, error, match",
    [
        ({"tau": Schedule("constant", 1.0)}, ValueError, "unknown name\\(s\\) \\['tau'\\]"),
        ({"plasticity": 1.0}, TypeError, "must be callable"),
        ({"plasticity": Schedule("constant", np.ones(5))}, ValueError, "schedules\\['plasticity'\\] must give shape"),
        ({"plasticity": Schedule("custom", fn=lambda t: np.full(12, np.nan))}, ValueError, "must be finite"),
        ({"lr": Schedule("constant", -1.0)}, ValueError, "schedules\\['lr'\\] must give one number > 0"),
    ],
)
def test_train_schedule_errors(schedules, error, match):
    model, task = _model(regime="vanilla")
    with pytest.raises(error, match=match):
        train(model, task, n_steps=1, batch_size=4, progress=False, schedules=schedules)


def test_json_schedules_in_train_equal_the_objects():
    a, task = _model()
    b, _ = _model()
    graph = _graph()
    kw = {"n_steps": 4, "batch_size": 4, "eval_every": 5, "eval_batch_size": 8, "progress": False}
    train(a, task, schedules={"strength": Schedule("linear", 0.0, 1e-2, duration=4),
                              "plasticity": PlasticityWave(graph.gradient, n_steps=4, width=0.3)}, **kw)
    train(b, task, schedules={"strength": {"kind": "linear", "start": 0.0, "end": 1e-2, "duration": 4},
                              "plasticity": {"kind": "wave", "axis": "gradient", "n_steps": 4, "width": 0.3}}, **kw)
    for name, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[name]), name
    with pytest.raises(ValueError, match="schedules\\['plasticity'\\]\\['axis'\\]='sa_axis' needs graph.gradient"):
        train(b, task, schedules={"plasticity": {"kind": "wave", "axis": "sa_axis", "n_steps": 4}}, **kw)
