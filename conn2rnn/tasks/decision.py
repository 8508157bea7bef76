"""Perceptual decision making: integrate noisy evidence, report the stronger option.

Modelled on neurogym's ``PerceptualDecisionMaking`` (v2.3.1):

* periods ``fixation`` 100, ``stimulus`` 2000, ``delay`` 0, ``decision`` 100 ms; dt 100 ms;
* inputs ``("fixation", "stimulus1", ..., "stimulus{dim_ring}")``: during the stimulus
  ring unit ``j`` (preferred angle ``2 pi j / dim_ring``) receives
  ``0.5 + (coh / 200) cos(pref_j - theta_choice)`` plus noise of sd ``sigma / sqrt(dt)``,
  with the coherence ``coh`` (in %) drawn from ``cohs``;
* outputs ``("fixation", "choice1", ..., "choice{dim_ring}")``: the target is
  ``fixation`` (0) outside the decision period and ``1 + choice`` in it.

One difference from neurogym: the fixation cue stays on until the decision period
(as in the Go/No-Go and match-to-sample tasks), so its offset is the go signal even
with variable stimulus durations; neurogym shows it during the fixation period only.
At zero coherence the choice is drawn at random and cannot be inferred (chance level).
Choices and coherences are each balanced within a batch (counts differ by at most one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import Task, Timeline, _check_nonneg, balanced_conditions, noise_sd


class PerceptualDecisionMaking(Task):
    """Two- (or more-) alternative perceptual decision task with coherence levels.

    Parameters
    ----------
    dt : float
        Step in ms.
    timing : dict, optional
        Durations in ms for ``fixation``, ``stimulus``, ``delay``, ``decision``.
    loss_on : {"response", "trial"}
        See :class:`~conn2rnn.tasks.base.Task`.
    cohs : sequence of float
        Coherence levels in % (>= 0).
    sigma : float
        Evidence noise, sd ``sigma / sqrt(dt)`` per step.
    dim_ring : int >= 2
        Number of choices (stimulus channels).
    """

    name = "perceptual_dm"
    kind = "classification"
    periods = ("fixation", "stimulus", "delay", "decision")
    default_timing = {"fixation": 100, "stimulus": 2000, "delay": 0, "decision": 100}
    response_period = "decision"

    def __init__(
        self,
        *,
        dt: float = 100.0,
        timing: Mapping[str, Any] | None = None,
        loss_on: str = "response",
        cohs: Sequence[float] = (0.0, 6.4, 12.8, 25.6, 51.2),
        sigma: float = 1.0,
        dim_ring: int = 2,
    ) -> None:
        super().__init__(dt=dt, timing=timing, loss_on=loss_on)
        if isinstance(cohs, np.ndarray):
            cohs = cohs.tolist()
        if isinstance(cohs, (str, bytes)) or not isinstance(cohs, Sequence) or len(cohs) == 0:
            raise ValueError(f"cohs must be a non-empty sequence of coherences in %; got {cohs!r}")
        self.cohs = tuple(_check_nonneg(f"cohs[{i}]", c) for i, c in enumerate(cohs))
        self.sigma = _check_nonneg("sigma", sigma)
        if isinstance(dim_ring, bool) or not isinstance(dim_ring, (int, np.integer)) or dim_ring < 2:
            raise ValueError(f"dim_ring must be an integer >= 2; got {dim_ring!r}")
        self.dim_ring = int(dim_ring)
        self.theta = np.linspace(0.0, 2 * np.pi, self.dim_ring, endpoint=False)
        self.input_names = ("fixation", *(f"stimulus{j + 1}" for j in range(self.dim_ring)))
        self.output_names = ("fixation", *(f"choice{j + 1}" for j in range(self.dim_ring)))

    def _params(self) -> dict[str, Any]:
        return {"cohs": list(self.cohs), "sigma": self.sigma, "dim_ring": self.dim_ring}

    def _trials(self, rng: np.random.Generator, tl: Timeline):
        n, n_t = tl.steps.shape[0], tl.n_steps
        choice = balanced_conditions(rng, self.dim_ring, n)
        coh = np.asarray(self.cohs)[balanced_conditions(rng, len(self.cohs), n)]
        stim_m, decision = tl.mask("stimulus"), tl.mask("decision")
        level = 0.5 + (coh[:, None] / 200.0) * np.cos(self.theta[None, :] - self.theta[choice][:, None])
        x = np.zeros((n_t, n, 1 + self.dim_ring))
        x[..., 0] = ~decision
        x[..., 1:] = stim_m[..., None] * level[None]
        if self.sigma > 0:
            x[..., 1:] += stim_m[..., None] * rng.normal(0.0, noise_sd(self.sigma, self.dt), (n_t, n, self.dim_ring))
        y = np.where(decision, 1 + choice, 0).astype(np.int64)
        info = {"coh": coh, "ground_truth": choice, "target": 1 + choice}
        return x, y, decision, info
