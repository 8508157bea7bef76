"""Go/No-Go: respond after a Go cue, withhold after a No-Go cue.

Trial structure, channels and defaults follow neurogym's ``GoNogo`` (v2.3.1):

* periods ``fixation`` 0, ``stimulus`` 500, ``delay`` 500, ``decision`` 500 ms; dt 100 ms;
* inputs ``("fixation", "nogo", "go")``: the fixation cue is 1 until the decision
  period (its offset is the go signal); the cue of the trial's condition is 1 during
  the stimulus period;
* outputs ``("fixation", "go")``: the target is ``fixation`` (0) everywhere except
  the decision period of Go trials, where it is ``go`` (1); No-Go trials must keep
  ``fixation`` through the decision period.

Go and No-Go trials are balanced within a batch (counts differ by at most one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Task, Timeline, _check_nonneg, balanced_conditions, noise_sd


class GoNogo(Task):
    """Go/No-Go task.

    Parameters
    ----------
    dt : float
        Step in ms.
    timing : dict, optional
        Durations in ms for ``fixation``, ``stimulus``, ``delay``, ``decision``.
    loss_on : {"response", "trial"}
        See :class:`~conn2rnn.tasks.base.Task`.
    sigma : float
        Input noise on the cue channels during the stimulus, sd ``sigma / sqrt(dt)``
        (0: noiseless, as in neurogym).
    """

    name = "gonogo"
    kind = "classification"
    periods = ("fixation", "stimulus", "delay", "decision")
    default_timing = {"fixation": 0, "stimulus": 500, "delay": 500, "decision": 500}
    response_period = "decision"

    def __init__(
        self,
        *,
        dt: float = 100.0,
        timing: Mapping[str, Any] | None = None,
        loss_on: str = "response",
        sigma: float = 0.0,
    ) -> None:
        super().__init__(dt=dt, timing=timing, loss_on=loss_on)
        self.sigma = _check_nonneg("sigma", sigma)
        self.input_names = ("fixation", "nogo", "go")
        self.output_names = ("fixation", "go")

    def _params(self) -> dict[str, Any]:
        return {"sigma": self.sigma}

    def _trials(self, rng: np.random.Generator, tl: Timeline):
        n = tl.steps.shape[0]
        go = balanced_conditions(rng, 2, n)  # 0: No-Go, 1: Go (neurogym's ground truth)
        stim, decision = tl.mask("stimulus"), tl.mask("decision")
        x = np.zeros((tl.n_steps, n, 3))
        x[..., 0] = ~decision
        x[..., 1] = stim & (go == 0)
        x[..., 2] = stim & (go == 1)
        if self.sigma > 0:
            x[..., 1:] += stim[..., None] * rng.normal(0.0, noise_sd(self.sigma, self.dt), (tl.n_steps, n, 2))
        y = (decision & (go == 1)).astype(np.int64)
        info = {
            "condition": np.where(go == 1, "go", "nogo"),
            "ground_truth": go,
            "target": go,
        }
        return x, y, decision, info
