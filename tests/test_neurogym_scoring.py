"""The neurogym adapter scores trials by replaying the environment's reward rule (no neurogym needed:
a stand-in environment with neurogym's TrialEnv interface, ``_step`` included)."""

from __future__ import annotations

import numpy as np
import pytest

from conn2rnn.tasks import accuracy, from_neurogym, trial_correct


class _Space:
    def __init__(self, shape=None, n=None, name=None):
        self.shape, self.name = shape, name
        if n is not None:
            self.n = n


class _TimingEnv:
    """A ReadySetGo-like stand-in: answer "go" within one step of a one-step target pulse.

    Periods: fixation (2 steps), measure (2-4 steps), production (2 x measure steps, added
    per trial and absent from ``timing``). The ground truth is fixation everywhere but a
    one-step "go" at ``measure`` steps into production; ``_step`` ends the trial at the
    first "go" and sets ``performance = 1`` when it falls within one step of that target.
    """

    def __init__(self):
        self.dt = 100
        self.timing = {"fixation": 200, "measure": [200, 300, 400]}
        self.observation_space = _Space(shape=(2,), name={"fixation": 0, "ready": 1})
        self.action_space = _Space(n=2, name={"fixation": 0, "go": 1})
        self.rng = np.random.RandomState()
        self.t = self.t_ind = 0
        self.tmax = 0
        self.performance = 0

    def seed(self, seed=None):
        self.rng = np.random.RandomState(seed)

    def new_trial(self):
        m = int(self.rng.choice([2, 3, 4]))
        n = 2 + m + 2 * m
        self.start_ind = {"fixation": 0, "measure": 2, "production": 2 + m}
        self.end_ind = {"fixation": 2, "measure": 2 + m, "production": n}
        self.start_t = {k: v * self.dt for k, v in self.start_ind.items()}
        self.end_t = {k: v * self.dt for k, v in self.end_ind.items()}
        self.ob = np.zeros((n, 2), np.float32)
        self.ob[:2 + m, 0] = 1
        self.ob[2, 1] = 1
        self.gt = np.zeros(n, int)
        self.gt[2 + 2 * m] = 1
        self.tmax = n * self.dt
        self.trial = {"measure": m, "target": 2 + 2 * m}
        return dict(self.trial)

    def in_period(self, period):
        return self.start_t[period] <= self.t < self.end_t[period]

    def _step(self, action):
        new_trial = False
        if self.in_period("production") and action == 1:
            new_trial = True
            if abs(self.t_ind - self.trial["target"]) <= 1:
                self.performance = 1
        return None, 0.0, False, False, {"new_trial": new_trial}


def test_trials_are_scored_by_the_environments_rule():
    task = from_neurogym(_TimingEnv())
    assert task.response_periods == ("production",) and "production" in task.periods
    batch = task.batch(24, seed=0)
    n = batch.info.n_steps.to_numpy()
    m = batch.info.measure.to_numpy()
    for b in range(24):  # the readout is the production period, where the pulse is
        np.testing.assert_array_equal(np.flatnonzero(batch.decision_mask[:, b]), np.arange(2 + m[b], n[b]))
    eye = np.eye(2)
    assert accuracy(eye[batch.targets], batch) == 1.0  # the one-step pulse, fed as logits, is correct
    assert accuracy(eye[np.zeros_like(batch.targets)], batch) == 0.0  # never answering never is
    # "go" one step late is still within the window; two steps late is not
    late = [np.roll(batch.targets, shift, axis=0) for shift in (1, 2)]
    assert accuracy(eye[late[0]], batch) == 1.0 and accuracy(eye[late[1]], batch) == 0.0
    # a "go" at the start of production ends the trial there, m >= 2 steps before the target: wrong,
    # although the pulse follows it (the decision-mask rule would have scored the mean answer)
    early = batch.targets.copy()
    early[2 + m, np.arange(24)] = 1
    assert not trial_correct(eye[early], batch).any()
    # an ensemble is scored per network
    both = np.stack([eye[batch.targets], eye[late[1]]], axis=1)
    np.testing.assert_array_equal(accuracy(both, batch), [1.0, 0.0])
    # replays leave the environment as it was: the same batch scores the same again
    assert accuracy(eye[batch.targets], batch) == 1.0
    np.testing.assert_array_equal(task.batch(24, seed=0).inputs, batch.inputs)


def test_a_period_added_per_trial_can_be_the_decision_period():
    task = from_neurogym(_TimingEnv(), decision_period="production")
    assert task.batch(4, seed=1).decision_mask.sum() > 0
    with pytest.raises(ValueError, match="decision_period must be one of"):
        from_neurogym(_TimingEnv(), decision_period="decision")


def test_action_spaces_that_cannot_be_replayed_are_refused():
    env = _TimingEnv()
    env.action_space = _Space(shape=(2, 2))
    with pytest.raises(TypeError, match="Discrete or a 1-D Box action space"):
        from_neurogym(env)
