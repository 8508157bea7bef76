"""Delayed match-to-sample, optionally with a distractor during the delay.

Trial structure, channels and defaults follow neurogym's ``DelayMatchSample`` (v2.3.1):

* periods ``fixation`` 300, ``sample`` 500, ``delay`` 1000, ``test`` 500,
  ``decision`` 900 ms; dt 100 ms;
* inputs ``("fixation", "stimulus1", ..., "stimulus{dim_ring}")``: the fixation cue
  is 1 until the decision period; a stimulus at angle ``theta`` drives ring unit
  ``j`` (preferred angle ``2 pi j / dim_ring``) with ``0.5 + 0.5 cos(pref_j - theta)``
  during the sample and the test, plus noise of sd ``sigma / sqrt(dt)``;
* the sample angle is one of the ring's preferred angles; the test equals the sample
  on match trials and is opposite (``+ pi``) on non-match trials;
* outputs ``("fixation", "match", "non-match")``: the target is ``fixation`` (0)
  outside the decision period and the trial's answer (1 match, 2 non-match) in it.

Distractor (an addition): with probability ``distractor_prob`` a trial shows, centred
in its delay, a stimulus at a random ring angle (independent of sample and answer) on
the same stimulus channels, which the network must ignore.

Answers and sample angles are each balanced within a batch (counts differ by at most one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import (
    Task,
    Timeline,
    _check_nonneg,
    balanced_conditions,
    noise_sd,
    parse_timing_spec,
    sample_steps,
    spec_step_range,
    timing_spec_to_json,
)


class DelayMatchSample(Task):
    """Delayed match-to-sample task.

    Parameters
    ----------
    dt : float
        Step in ms.
    timing : dict, optional
        Durations in ms for ``fixation``, ``sample``, ``delay``, ``test``, ``decision``;
        e.g. ``{"delay": [500, 1000, 2000]}`` for variable delays.
    loss_on : {"response", "trial"}
        See :class:`~conn2rnn.tasks.base.Task`.
    sigma : float
        Stimulus noise, sd ``sigma / sqrt(dt)`` per step (neurogym's default 1.0).
    dim_ring : int >= 2
        Number of stimulus channels (ring units).
    distractor_prob : float in [0, 1]
        Probability that a trial has a distractor in its delay.
    distractor_duration : timing spec (ms)
        Distractor length; must fit in the shortest possible delay.
    distractor_strength : float >= 0
        Amplitude of the distractor relative to the sample (1: the same ring
        input ``0.5 + 0.5 cos``; 0: no input). Its noise is not scaled.
    """

    name = "dms"
    kind = "classification"
    periods = ("fixation", "sample", "delay", "test", "decision")
    default_timing = {"fixation": 300, "sample": 500, "delay": 1000, "test": 500, "decision": 900}
    response_period = "decision"

    def __init__(
        self,
        *,
        dt: float = 100.0,
        timing: Mapping[str, Any] | None = None,
        loss_on: str = "response",
        sigma: float = 1.0,
        dim_ring: int = 2,
        distractor_prob: float = 0.0,
        distractor_duration: Any = 300,
        distractor_strength: float = 1.0,
    ) -> None:
        super().__init__(dt=dt, timing=timing, loss_on=loss_on)
        self.sigma = _check_nonneg("sigma", sigma)
        if isinstance(dim_ring, bool) or not isinstance(dim_ring, (int, np.integer)) or dim_ring < 2:
            raise ValueError(f"dim_ring must be an integer >= 2; got {dim_ring!r}")
        self.dim_ring = int(dim_ring)
        self.distractor_prob = _check_nonneg("distractor_prob", distractor_prob)
        if self.distractor_prob > 1:
            raise ValueError(f"distractor_prob must lie in [0, 1]; got {distractor_prob!r}")
        self._distractor = parse_timing_spec("distractor_duration", distractor_duration)
        self.distractor_strength = _check_nonneg("distractor_strength", distractor_strength)
        if self.distractor_prob > 0:
            lo_d, hi_d = spec_step_range(self._distractor, self.dt)
            lo_delay = spec_step_range(self._timing["delay"], self.dt)[0]
            if lo_d < 1 or hi_d > lo_delay:
                raise ValueError(
                    f"distractor_duration must last >= 1 step and fit in the shortest delay ({lo_delay} steps "
                    f"at dt={self.dt:g} ms); got {distractor_duration!r} ms = {lo_d}..{hi_d} steps"
                )
        self.theta = np.linspace(0.0, 2 * np.pi, self.dim_ring, endpoint=False)
        self.input_names = ("fixation", *(f"stimulus{j + 1}" for j in range(self.dim_ring)))
        self.output_names = ("fixation", "match", "non-match")

    def _params(self) -> dict[str, Any]:
        return {
            "sigma": self.sigma,
            "dim_ring": self.dim_ring,
            "distractor_prob": self.distractor_prob,
            "distractor_duration": timing_spec_to_json(self._distractor),
            # only when set, so specs and checkpoints written before the option stay equal
            **({"distractor_strength": self.distractor_strength} if self.distractor_strength != 1.0 else {}),
        }

    def _ring(self, theta: np.ndarray) -> np.ndarray:
        """(B, dim_ring) ring activity for angles ``theta`` (B,)."""
        return 0.5 + 0.5 * np.cos(self.theta[None, :] - theta[:, None])

    def _trials(self, rng: np.random.Generator, tl: Timeline):
        n, n_t = tl.steps.shape[0], tl.n_steps
        answer = 1 + balanced_conditions(rng, 2, n)  # 1: match, 2: non-match (neurogym's ground truth)
        sample = self.theta[balanced_conditions(rng, self.dim_ring, n)]
        test = np.where(answer == 1, sample, np.mod(sample + np.pi, 2 * np.pi))
        has_dis = rng.random(n) < self.distractor_prob
        dis_theta = self.theta[rng.integers(0, self.dim_ring, n)]
        dis_len = sample_steps(self._distractor, self.dt, rng, n)
        dis_on = tl.onset("delay") + (tl.steps[:, self.periods.index("delay")] - dis_len) // 2
        t = np.arange(n_t)[:, None]
        dis_mask = has_dis & (t >= dis_on) & (t < dis_on + dis_len)

        sample_m, test_m, decision = tl.mask("sample"), tl.mask("test"), tl.mask("decision")
        x = np.zeros((n_t, n, 1 + self.dim_ring))
        x[..., 0] = ~decision
        stim = x[..., 1:]
        stim += sample_m[..., None] * self._ring(sample)[None]
        stim += test_m[..., None] * self._ring(test)[None]
        stim += (self.distractor_strength * dis_mask[..., None]) * self._ring(dis_theta)[None]
        if self.sigma > 0:
            shown = (sample_m | test_m | dis_mask)[..., None]
            stim += shown * rng.normal(0.0, noise_sd(self.sigma, self.dt), stim.shape)
        y = np.where(decision, answer, 0).astype(np.int64)
        info = {
            "condition": np.where(answer == 1, "match", "non-match"),
            "ground_truth": answer,
            "target": answer,
            "sample_theta": sample,
            "test_theta": test,
            "distractor": has_dis,
            "distractor_theta": np.where(has_dis, dis_theta, np.nan),
            "distractor_onset": np.where(has_dis, dis_on, -1),
            "distractor_steps": np.where(has_dis, dis_len, 0),
        }
        return x, y, decision, info
