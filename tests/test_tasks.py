"""Tests of conn2rnn.tasks: trial structure against hand-computed expectations,
masks, balance, scoring, seeding, validation and serialisation."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

from conn2rnn.tasks import (
    TASKS,
    DelayMatchSample,
    GoNogo,
    ImpulseRecall,
    OneChoiceInference,
    PerceptualDecisionMaking,
    Task,
    TaskBatch,
    accuracy,
    from_neurogym,
    get_task,
    r2_per_output,
    trial_correct,
)
from conn2rnn.tasks.inference import DIRECTIONS, GOAL_CELLS, PROBLEMS

# The package's own tasks (other test modules and plug-ins may register more).
BUILT_IN = ("gonogo", "dms", "perceptual_dm", "one_choice_inference", "impulse_recall")
CLASSIFICATION = [t for t in BUILT_IN if t != "impulse_recall"]


def _oracle(batch: TaskBatch, shift: int = 0) -> np.ndarray:
    """One-hot logits of the targets (class + shift, modulo O)."""
    return np.eye(batch.n_outputs)[(batch.targets + shift) % batch.n_outputs]


# ----------------------------------------------------------------------------- format
@pytest.mark.parametrize("name", BUILT_IN)
def test_batch_format(name):
    task = get_task(name)
    b = task.batch(6, seed=0)
    assert b.inputs.dtype == np.float32 and b.inputs.shape == (b.n_steps, 6, task.n_inputs)
    assert b.batch_size == 6 and b.n_inputs == len(b.input_names) == task.n_inputs
    assert b.n_outputs == task.n_outputs and b.kind == task.kind and b.dt == task.dt == 100.0
    if b.kind == "classification":
        assert b.targets.dtype == np.int64 and b.targets.shape == (b.n_steps, 6)
    else:
        assert b.targets.dtype == np.float32 and b.targets.shape == (b.n_steps, 6, task.n_outputs)
    assert b.loss_mask.dtype == np.float32 and b.decision_mask.dtype == bool
    np.testing.assert_array_equal(b.loss_mask, b.decision_mask)  # loss_on="response"
    assert b.decision_mask.any(axis=0).all()
    assert list(b.info["trial"]) == list(range(6))
    for arr in (b.inputs, b.targets, b.loss_mask, b.decision_mask):
        with pytest.raises(ValueError):
            arr[0] = 0


def test_built_in_tasks_are_registered():
    assert set(BUILT_IN) <= set(TASKS)


def test_to_torch():
    torch = pytest.importorskip("torch")
    b = get_task("gonogo").batch(3, seed=1)
    t = b.to_torch()
    assert t["inputs"].dtype == torch.float32 and t["targets"].dtype == torch.int64
    assert t["loss_mask"].dtype == torch.float32 and t["decision_mask"].dtype == torch.bool
    np.testing.assert_array_equal(t["inputs"].numpy(), b.inputs)
    t["inputs"][0] = 5.0  # tensors own their memory
    assert b.inputs[0].max() <= 1.0
    r = get_task("impulse_recall").batch(2, seed=0).to_torch(device="cpu")
    assert r["targets"].dtype == torch.float32 and r["targets"].shape[-1] == 4


# ----------------------------------------------------------------------------- seeding
@pytest.mark.parametrize("name", BUILT_IN)
def test_determinism(name):
    task = get_task(name)
    a, b, c = task.batch(8, seed=3), task.batch(8, seed=3), task.batch(8, seed=4)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    pd.testing.assert_frame_equal(a.info, b.info)
    assert not np.array_equal(a.inputs, c.inputs)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(task.batch(4, seed=g1).inputs, task.batch(4, seed=g2).inputs)
    assert not np.array_equal(task.batch(4, seed=g1).inputs, task.batch(4, seed=np.random.default_rng(9)).inputs)


# ----------------------------------------------------------------------------- Go/No-Go
def test_gonogo_structure():
    b = GoNogo().batch(10, seed=0)
    assert b.input_names == ("fixation", "nogo", "go") and b.output_names == ("fixation", "go")
    assert b.n_steps == 15  # 0 + 5 + 5 + 5 steps at dt = 100 ms
    go = b.info["ground_truth"].to_numpy()
    t = np.arange(15)[:, None]
    np.testing.assert_array_equal(b.inputs[..., 0], np.broadcast_to(t < 10, (15, 10)))
    np.testing.assert_array_equal(b.inputs[..., 1], (t < 5) & (go == 0))
    np.testing.assert_array_equal(b.inputs[..., 2], (t < 5) & (go == 1))
    np.testing.assert_array_equal(b.targets, (t >= 10) & (go == 1))
    np.testing.assert_array_equal(b.decision_mask, np.broadcast_to(t >= 10, (15, 10)))
    assert (b.info["condition"] == np.where(go == 1, "go", "nogo")).all()


def test_gonogo_noise_and_trial_loss():
    b = GoNogo(sigma=1.0, loss_on="trial").batch(400, seed=0)
    stim = b.inputs[:5, :, 1:]
    cue = np.stack([b.info["ground_truth"] == 0, b.info["ground_truth"] == 1], axis=-1)
    assert np.std(stim - cue[None]) == pytest.approx(0.1, rel=0.05)  # sigma / sqrt(dt)
    np.testing.assert_array_equal(b.inputs[5:, :, 1:], 0.0)
    np.testing.assert_array_equal(b.loss_mask, 1.0)


# ----------------------------------------------------------------------------- balance
@pytest.mark.parametrize(
    ("name", "column", "values"),
    [("gonogo", "ground_truth", [0, 1]), ("dms", "ground_truth", [1, 2]), ("one_choice_inference", "problem", range(8)),
     ("perceptual_dm", "ground_truth", [0, 1])],
)
def test_class_balance(name, column, values):
    for size in (1, 7, 64):
        counts = get_task(name).batch(size, seed=size).info[column].value_counts()
        assert set(counts.index) <= set(values)
        full = counts.reindex(list(values)).fillna(0)
        assert full.max() - full.min() <= 1
    # small batches still vary across seeds
    assert len({get_task(name).batch(1, seed=s).info[column].iloc[0] for s in range(20)}) > 1


# ----------------------------------------------------------------------------- scoring
@pytest.mark.parametrize("name", CLASSIFICATION)
def test_oracle_accuracy(name):
    b = get_task(name).batch(16, seed=2)
    right, wrong = _oracle(b), _oracle(b, shift=1)
    assert accuracy(right, b) == 1.0 and accuracy(wrong, b) == 0.0
    ens = np.stack([right, wrong], axis=1)  # (T, K, B, O)
    np.testing.assert_array_equal(accuracy(ens, b), [1.0, 0.0])
    assert trial_correct(ens, b).shape == (2, 16)


def test_accuracy_averages_logits_over_decision_steps():
    b = GoNogo().batch(4, seed=0)
    out, trials = _oracle(b), np.arange(4)
    out[10] = 0.0
    out[10, trials, 1 - b.targets[10]] = 3.0  # one wrong step outweighed by four right ones (4 > 3)
    assert accuracy(out, b) == 1.0
    out[11, trials, 1 - b.targets[11]] = 3.0  # now right scores 4 in total, wrong 6
    assert accuracy(out, b) == 0.0
    outside = _oracle(b)
    outside[:10] = np.array([0.0, 9.0])  # outside the decision steps nothing counts
    assert accuracy(outside, b) == 1.0


def test_accuracy_accepts_torch():
    torch = pytest.importorskip("torch")
    b = get_task("dms").batch(8, seed=0)
    assert accuracy(torch.tensor(_oracle(b), requires_grad=True), b) == 1.0


def test_scoring_errors():
    b = GoNogo().batch(4, seed=0)
    with pytest.raises(ValueError, match=r"outputs must match the batch"):
        accuracy(np.zeros((15, 4, 3)), b)
    with pytest.raises(ValueError, match=r"\(T, B, O\) or \(T, K, B, O\)"):
        accuracy(np.zeros((15, 4)), b)
    r = ImpulseRecall().batch(2, seed=0)
    with pytest.raises(ValueError, match="classification batch"):
        trial_correct(np.zeros((r.n_steps, 2, 4)), r)
    with pytest.raises(ValueError, match="regression batch"):
        r2_per_output(_oracle(b), b)


# ----------------------------------------------------------------------------- DMS
def test_dms_structure():
    task = DelayMatchSample(sigma=0.0)
    b = task.batch(32, seed=1)
    assert b.n_steps == 32 and b.output_names == ("fixation", "match", "non-match")
    info = b.info
    for i in range(32):
        ring = lambda th: 0.5 + 0.5 * np.cos(np.array([0.0, np.pi]) - th)  # noqa: E731
        x = b.inputs[:, i]
        np.testing.assert_allclose(x[3:8, 1:], np.tile(ring(info.sample_theta[i]), (5, 1)), atol=1e-6)
        np.testing.assert_array_equal(x[8:18, 1:], 0.0)
        np.testing.assert_allclose(x[18:23, 1:], np.tile(ring(info.test_theta[i]), (5, 1)), atol=1e-6)
        same = np.isclose(info.sample_theta[i], info.test_theta[i])
        assert same == (info.ground_truth[i] == 1)
        np.testing.assert_array_equal(b.targets[:, i], np.r_[np.zeros(23), np.full(9, info.ground_truth[i])])
    np.testing.assert_array_equal(b.inputs[:23, :, 0], 1.0)
    np.testing.assert_array_equal(b.inputs[23:], 0.0)
    assert set(info.condition) == {"match", "non-match"}


def test_dms_noise_level():
    b = DelayMatchSample().batch(200, seed=0)  # sigma=1, dt=100 -> sd 0.1 during sample/test
    clean = DelayMatchSample(sigma=0.0)
    ref = clean.batch(200, seed=0)  # same conditions (drawn before the noise)
    np.testing.assert_array_equal(b.targets, ref.targets)
    resid = (b.inputs - ref.inputs)[..., 1:]
    assert resid[3:8].std() == pytest.approx(0.1, rel=0.05)
    np.testing.assert_array_equal(resid[8:18], 0.0)


def test_variable_delays_and_padding():
    task = DelayMatchSample(timing={"delay": [500, 1000, 2000]}, sigma=0.0)
    b = task.batch(60, seed=5)
    info = b.info
    assert set(info.delay_steps) == {5, 10, 20}
    assert b.n_steps == info.n_steps.max() == 3 + 5 + 20 + 5 + 9
    np.testing.assert_array_equal(info.n_steps, 3 + 5 + info.delay_steps + 5 + 9)
    t = np.arange(b.n_steps)[:, None]
    onset = (3 + 5 + info.delay_steps + 5).to_numpy()
    np.testing.assert_array_equal(b.decision_mask, (t >= onset) & (t < onset + 9))
    pad = t >= info.n_steps.to_numpy()
    assert pad.any()
    assert not b.loss_mask[pad].any() and not b.decision_mask[pad].any()
    np.testing.assert_array_equal(b.inputs[pad], 0.0)
    assert accuracy(_oracle(b), b) == 1.0
    # all-step loss still excludes padding
    bt = DelayMatchSample(timing={"delay": [500, 2000]}, loss_on="trial").batch(20, seed=1)
    np.testing.assert_array_equal(bt.loss_mask, np.arange(bt.n_steps)[:, None] < bt.info.n_steps.to_numpy())


@pytest.mark.parametrize(
    "spec", [(400, 900), {"uniform": [400, 900]}, ("uniform", (400, 900))]
)
def test_uniform_timing_spellings(spec):
    b = DelayMatchSample(timing={"delay": spec}).batch(200, seed=0)
    steps = b.info.delay_steps
    assert steps.min() >= 4 and steps.max() <= 9 and steps.nunique() >= 4


def test_choice_timing_spellings():
    for spec in ([300, 700], {"choice": [300, 700]}, ("choice", [300, 700])):
        assert set(GoNogo(timing={"delay": spec}).batch(50, seed=0).info.delay_steps) == {3, 7}
    assert GoNogo(timing={"delay": ("constant", 200)}).batch(2, seed=0).info.delay_steps.tolist() == [2, 2]
    assert GoNogo(dt=20, timing={"delay": 70}).batch(1, seed=0).info.delay_steps[0] == 3  # floor(70 / 20)


def test_distractors():
    task = DelayMatchSample(sigma=0.0, distractor_prob=1.0, distractor_duration=400, timing={"delay": [800, 1200]})
    b = task.batch(40, seed=2)
    info = b.info
    assert info.distractor.all()
    ref = DelayMatchSample(sigma=0.0, timing={"delay": [800, 1200]}).batch(40, seed=2)
    np.testing.assert_array_equal(b.targets, ref.targets)  # the answer ignores the distractor
    for i in range(40):
        d, on = info.delay_steps[i], info.distractor_onset[i]
        assert info.distractor_steps[i] == 4 and on == 8 + (d - 4) // 2
        ring = 0.5 + 0.5 * np.cos(np.array([0.0, np.pi]) - info.distractor_theta[i])
        delay = b.inputs[8 : 8 + d, i, 1:]
        np.testing.assert_allclose(delay[on - 8 : on - 4], np.tile(ring, (4, 1)), atol=1e-6)
        np.testing.assert_array_equal(np.delete(delay, np.s_[on - 8 : on - 4], axis=0), 0.0)
    half = DelayMatchSample(distractor_prob=0.5).batch(400, seed=0).info
    assert 0.4 < half.distractor.mean() < 0.6
    assert (half.distractor_onset[~half.distractor] == -1).all()
    assert not DelayMatchSample().batch(50, seed=0).info.distractor.any()


# ----------------------------------------------------------------------------- decision making
def test_perceptual_dm_evidence():
    task = PerceptualDecisionMaking(sigma=0.0, cohs=[0.0, 25.6, 51.2])
    b = task.batch(30, seed=0)
    info = b.info
    stim = b.inputs[1:21, :, 1:]
    for i in range(30):
        c, coh = info.ground_truth[i], info.coh[i]
        expect = 0.5 + coh / 200 * np.cos(np.array([0.0, np.pi]) - [0.0, np.pi][c])
        np.testing.assert_allclose(stim[:, i], np.tile(expect, (20, 1)), atol=1e-6)
    np.testing.assert_array_equal(b.targets[-1], 1 + info.ground_truth)
    np.testing.assert_array_equal(b.inputs[:21, :, 0], 1.0)
    np.testing.assert_array_equal(b.inputs[21], 0.0)
    assert set(info.coh) == {0.0, 25.6, 51.2}


# ----------------------------------------------------------------------------- one-choice inference
def _towards_goal(goal_cell: int, available: tuple[str, str]) -> str:
    """Independent solution: the offered move that shortens the Manhattan path from cell 13."""
    start, goal = np.array(divmod(13, 5)), np.array(divmod(goal_cell, 5))
    step = {"left": (0, -1), "up": (-1, 0), "right": (0, 1), "down": (1, 0)}
    closer = [d for d in available if np.abs(start + step[d] - goal).sum() < np.abs(start - goal).sum()]
    assert len(closer) == 1
    return closer[0]


def test_one_choice_problem_table():
    assert len(PROBLEMS) == 8 and len({(g, p) for g, p, _ in PROBLEMS}) == 8
    answers = [a for _, _, a in PROBLEMS]
    assert all(answers.count(d) == 2 for d in DIRECTIONS)
    for g, pair, answer in PROBLEMS:
        assert answer == _towards_goal(GOAL_CELLS[g], pair)


def test_one_choice_structure():
    task = OneChoiceInference(noise_sd=0.0)
    b = task.batch(16, seed=0)
    assert b.inputs.shape == (50, 16, 8) and b.n_outputs == 4 and b.output_names == DIRECTIONS
    info = b.info
    assert sorted(info.problem) == sorted(list(range(8)) * 2)
    for i in range(16):
        g, pair, answer = PROBLEMS[info.problem[i]]
        x = b.inputs[:, i]
        np.testing.assert_array_equal(x[:20, :4], np.tile(np.eye(4)[g], (20, 1)))
        np.testing.assert_array_equal(x[:20, 4:], 0.0)
        np.testing.assert_array_equal(x[20:30], 0.0)
        onehot = np.isin(DIRECTIONS, pair).astype(float)
        np.testing.assert_array_equal(x[30:], np.tile(np.r_[np.zeros(4), onehot], (20, 1)))
        assert info.answer[i] == answer and b.targets[-1, i] == DIRECTIONS.index(answer)
    expect = np.zeros((50, 16), bool)
    expect[-1] = True
    np.testing.assert_array_equal(b.decision_mask, expect)
    np.testing.assert_array_equal(b.loss_mask, expect)
    assert accuracy(_oracle(b), b) == 1.0


def test_one_choice_noise():
    noisy = OneChoiceInference().batch(256, seed=3)
    clean = OneChoiceInference(noise_sd=0.0).batch(256, seed=3)
    resid = noisy.inputs - clean.inputs
    assert resid.std() == pytest.approx(0.05, rel=0.02) and abs(resid.mean()) < 1e-3


# ----------------------------------------------------------------------------- impulse recall
def test_impulse_recall_targets_are_shifted_inputs():
    task = ImpulseRecall(lags=(0, 1, 3, 12))
    b = task.batch(5, seed=0)
    u = b.inputs[..., 0]
    assert b.output_names == ("lag0", "lag1", "lag3", "lag12") and b.kind == "regression"
    for j, k in enumerate(task.lags):
        np.testing.assert_array_equal(b.targets[k:, :, j], u[: b.n_steps - k])
        np.testing.assert_array_equal(b.targets[:k, :, j], 0.0)
    t = np.arange(b.n_steps)[:, None]
    np.testing.assert_array_equal(b.loss_mask, np.broadcast_to(t >= 10, b.loss_mask.shape))
    assert np.abs(u).max() <= 1.0 and u.std() == pytest.approx(1 / np.sqrt(3), rel=0.1)
    assert accuracy(b.targets, b) == 1.0
    np.testing.assert_allclose(r2_per_output(b.targets, b), 1.0)
    zero_r2 = r2_per_output(np.zeros_like(b.targets), b)
    y = b.targets[10:].astype(np.float64)
    expect = 1 - (y**2).sum(axis=(0, 1)) / ((y - y.mean(axis=(0, 1))) ** 2).sum(axis=(0, 1))
    np.testing.assert_allclose(zero_r2, expect, rtol=1e-6)
    ens = np.stack([b.targets, np.zeros_like(b.targets)], axis=1)
    np.testing.assert_allclose(accuracy(ens, b), [1.0, expect.mean()], rtol=1e-6)


def test_impulse_recall_signals():
    imp = ImpulseRecall(signal="impulses", impulse_prob=0.2, amplitude=2.0).batch(50, seed=0).inputs
    assert set(np.unique(imp)) <= {-2.0, 0.0, 2.0} and (imp != 0).mean() == pytest.approx(0.2, abs=0.02)
    gauss = ImpulseRecall(signal="gaussian", amplitude=0.5).batch(50, seed=0).inputs
    assert gauss.std() == pytest.approx(0.5, rel=0.05)
    var = ImpulseRecall(lags=[2], timing={"recall": [1000, 3000]}).batch(20, seed=0)
    pad = np.arange(var.n_steps)[:, None] >= var.info.n_steps.to_numpy()
    assert pad.any() and not var.inputs[pad].any() and not var.targets[pad].any() and not var.loss_mask[pad].any()


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dt": 0}, r"dt must be a positive number"),
        ({"dt": -10}, r"dt must be a positive number"),
        ({"timing": {"delay": -100}}, r"timing\['delay'\] must be >= 0"),
        ({"timing": {"delays": 100}}, r"unknown period\(s\) \['delays'\].*valid periods"),
        ({"timing": {"delay": (900, 100)}}, r"low <= high"),
        ({"timing": {"delay": (1, 2, 3)}}, r"\(low, high\)"),
        ({"timing": {"delay": []}}, r"non-empty list"),
        ({"timing": {"delay": {"normal": [1, 2]}}}, r"one key out of"),
        ({"timing": {"delay": ("gamma", (1, 2))}}, r"distribution must be one of"),
        ({"timing": {"decision": 50}}, r"at least one step"),
        ({"loss_on": "all"}, r"loss_on must be one of"),
        ({"sigma": -1}, r"sigma must be >= 0"),
    ],
)
def test_task_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GoNogo(**kwargs)


def test_other_validation():
    with pytest.raises(TypeError, match=r"timing\['delay'\] must be a finite number"):
        GoNogo(timing={"delay": "long"})
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1"):
            GoNogo().batch(bad, seed=0)
    with pytest.raises(TypeError, match=r"seed must be a non-negative int or a numpy.random.Generator"):
        GoNogo().batch(2, seed=None)
    with pytest.raises(ValueError, match=r"unknown task 'gonog'; registered tasks: .*gonogo.*dms"):
        get_task("gonog")
    with pytest.raises(ValueError, match=r"distractor_duration must .* fit in the shortest delay \(5 steps"):
        DelayMatchSample(distractor_prob=0.5, distractor_duration=600, timing={"delay": [500, 900]})
    with pytest.raises(ValueError, match=r"distractor_prob must lie in \[0, 1\]"):
        DelayMatchSample(distractor_prob=1.5)
    with pytest.raises(ValueError, match=r"dim_ring must be an integer >= 2"):
        DelayMatchSample(dim_ring=1)
    with pytest.raises(ValueError, match=r"lags must be distinct integers >= 0"):
        ImpulseRecall(lags=[1, 1])
    with pytest.raises(ValueError, match=r"lags must be distinct integers >= 0"):
        ImpulseRecall(lags=[-1])
    with pytest.raises(ValueError, match=r"signal must be one of"):
        ImpulseRecall(signal="pink")
    with pytest.raises(ValueError, match=r"cohs must be a non-empty sequence"):
        PerceptualDecisionMaking(cohs=[])
    with pytest.raises(ValueError, match=r"spec must be a dict with a 'task' key"):
        Task.from_dict({"dt": 100})
    with pytest.raises(ValueError, match=r"GoNogo.from_dict needs a 'gonogo' spec; got task 'dms'"):
        GoNogo.from_dict(DelayMatchSample().to_dict())


def test_taskbatch_validation():
    good = GoNogo().batch(2, seed=0)
    fields = {k: getattr(good, k) for k in ("inputs", "targets", "loss_mask", "decision_mask", "info", "dt",
                                            "input_names", "output_names", "kind")}
    with pytest.raises(ValueError, match=r"inputs must be \(T, B, I\)"):
        TaskBatch(**{**fields, "inputs": good.inputs[..., :2]})
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\)"):
        TaskBatch(**{**fields, "targets": good.targets + 2})
    with pytest.raises(ValueError, match=r"at least one step per trial"):
        TaskBatch(**{**fields, "decision_mask": np.zeros_like(good.decision_mask)})
    with pytest.raises(ValueError, match=r"kind must be one of"):
        TaskBatch(**{**fields, "kind": "ranking"})
    with pytest.raises(ValueError, match=r"dt must be a positive number"):
        TaskBatch(**{**fields, "dt": 0.0})
    inputs = np.array(good.inputs)
    TaskBatch(**{**fields, "inputs": inputs}).inputs  # copies: the caller's array stays writable
    inputs[0] = 7.0
    assert good.inputs.max() <= 1.0


# ----------------------------------------------------------------------------- serialisation
@pytest.mark.parametrize(
    "task",
    [
        GoNogo(sigma=0.3, timing={"delay": [200, 400]}),
        DelayMatchSample(timing={"delay": (500, 1500)}, distractor_prob=0.5, distractor_duration=[200, 300]),
        PerceptualDecisionMaking(cohs=[10, 20], dt=50, loss_on="trial"),
        OneChoiceInference(noise_sd=0.1),
        ImpulseRecall(lags=[3, 5], signal="impulses", impulse_prob=0.3),
    ],
    ids=lambda t: t.name,
)
def test_round_trip(task):
    spec = json.loads(json.dumps(task.to_dict()))
    again = Task.from_dict(spec)
    assert type(again) is type(task) and again == task and again.to_dict() == task.to_dict()
    a, b = task.batch(6, seed=11), again.batch(6, seed=11)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert type(task).from_dict(spec) == task
    assert again != get_task(task.name)  # the non-default arguments survived


# ----------------------------------------------------------------------------- neurogym adapter
class _Space:
    def __init__(self, shape=None, n=None, name=None):
        self.shape, self.name = shape, name
        if n is not None:
            self.n = n


class _FakeTrialEnv:
    """Minimal stand-in following neurogym's TrialEnv interface (new_trial, ob, gt, periods)."""

    def __init__(self):
        self.dt = 100
        self.timing = {"stimulus": [200, 400], "answer": 100}
        self.observation_space = _Space(shape=(3,), name={"fixation": 0, "stimulus": [1, 2]})
        self.action_space = _Space(n=3, name={"fixation": 0, "choice": [1, 2]})
        self.rng = np.random.RandomState()

    def seed(self, seed=None):
        self.rng = np.random.RandomState(seed)

    def new_trial(self):
        gt, n_stim = int(self.rng.choice([1, 2])), int(self.rng.choice([2, 4]))
        n = n_stim + 1
        self.ob = np.zeros((n, 3), np.float32)
        self.ob[:n_stim, 0] = 1
        self.ob[:n_stim, gt] = self.rng.uniform(0.5, 1.0)
        self.gt = np.zeros(n, int)
        self.gt[-1] = gt
        self.start_ind, self.end_ind = {"stimulus": 0, "answer": n_stim}, {"stimulus": n_stim, "answer": n}
        return {"ground_truth": gt, "label": np.array([gt])}


def test_adapter_with_trial_env_object():
    task = from_neurogym(_FakeTrialEnv())
    assert task.input_names == ("fixation", "stimulus1", "stimulus2")
    assert task.output_names == ("fixation", "choice1", "choice2") and task.kind == "classification"
    b = task.batch(12, seed=0)
    info = b.info
    assert set(info.stimulus_steps) == {2, 4} and b.n_steps == 5
    assert "label" not in info  # non-scalar trial entries are left out
    t = np.arange(5)[:, None]
    n = info.n_steps.to_numpy()
    np.testing.assert_array_equal(b.decision_mask, t == n - 1)  # no "decision" period: the last one
    np.testing.assert_array_equal(b.targets[n - 1, np.arange(12)], info.ground_truth)
    assert not b.inputs[t >= n].any()
    assert accuracy(_oracle(b), b) == 1.0
    np.testing.assert_array_equal(task.batch(12, seed=0).inputs, b.inputs)
    assert not np.array_equal(task.batch(12, seed=1).inputs, b.inputs)
    trial = from_neurogym(_FakeTrialEnv(), loss_on="trial", decision_period="stimulus").batch(4, seed=0)
    np.testing.assert_array_equal(trial.loss_mask, t[:, :] < trial.info.n_steps.to_numpy())
    with pytest.raises(ValueError, match=r"without a registered id"):
        task.to_dict()
    with pytest.raises(ValueError, match=r"decision_period must be one of .*'stimulus', 'answer'"):
        from_neurogym(_FakeTrialEnv(), decision_period="decision")
    with pytest.raises(TypeError, match=r"env_kwargs only apply"):
        from_neurogym(_FakeTrialEnv(), dt=50)
    with pytest.raises(TypeError, match=r"neurogym trial environment"):
        from_neurogym(object())


def _has_neurogym() -> bool:
    return importlib.util.find_spec("neurogym") is not None


@pytest.mark.skipif(_has_neurogym(), reason="neurogym is installed")
def test_adapter_without_neurogym_names_the_extra():
    with pytest.raises(ImportError, match=r"pip install 'conn2rnn\[neurogym\]'"):
        from_neurogym("GoNogo-v0")
