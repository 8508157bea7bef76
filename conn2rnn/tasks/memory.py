"""Impulse recall: reproduce a random input signal delayed by k steps (memory).

A single input channel carries a random signal ``u(t)``; output ``j`` must equal
``u(t - lags[j])`` (0 before the trial starts). The task is a regression; its score
per output is the R^2 of the recall, and summing squared correlations over lags
gives the classic memory capacity. It serves readout-only reservoirs (fit the
readout on ``loss_mask`` steps) and trainable networks alike.

Periods: ``washout`` (input runs, no loss) then ``recall`` (loss and readout), both
in ms. Lags are in steps.

Signals: ``"uniform"`` i.i.d. ``U(-amplitude, amplitude)``; ``"gaussian"`` i.i.d.
``N(0, amplitude^2)``; ``"impulses"`` sparse ``+-amplitude`` spikes, each step
independently with probability ``impulse_prob`` (random sign).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import Task, Timeline, _check_choice, _check_nonneg

SIGNALS = ("uniform", "gaussian", "impulses")


class ImpulseRecall(Task):
    """Delayed recall of a random input at one or several lags.

    Parameters
    ----------
    lags : sequence of int >= 0
        Delays in steps; one output per lag (``O = len(lags)``), outputs named ``lag{k}``.
    dt : float
        Step in ms.
    timing : dict, optional
        Durations in ms for ``washout`` and ``recall``.
    loss_on : {"response", "trial"}
        ``"response"``: the recall period; ``"trial"``: every step.
    signal : {"uniform", "gaussian", "impulses"}
    amplitude : float > 0
    impulse_prob : float in (0, 1]
        Spike probability per step for ``signal="impulses"``.
    """

    name = "impulse_recall"
    kind = "regression"
    periods = ("washout", "recall")
    default_timing = {"washout": 1000, "recall": 5000}
    response_period = "recall"

    def __init__(
        self,
        *,
        lags: Sequence[int] = (1, 2, 4, 8),
        dt: float = 100.0,
        timing: Mapping[str, Any] | None = None,
        loss_on: str = "response",
        signal: str = "uniform",
        amplitude: float = 1.0,
        impulse_prob: float = 0.1,
    ) -> None:
        super().__init__(dt=dt, timing=timing, loss_on=loss_on)
        if isinstance(lags, (int, np.integer)):
            lags = (lags,)
        elif isinstance(lags, np.ndarray):
            lags = lags.tolist()
        if isinstance(lags, (str, bytes)) or not isinstance(lags, Sequence) or len(lags) == 0:
            raise ValueError(f"lags must be a non-empty sequence of integer steps >= 0; got {lags!r}")
        bad = [k for k in lags if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0]
        if bad or len(set(lags)) != len(lags):
            raise ValueError(f"lags must be distinct integers >= 0 (steps); got {list(lags)!r}")
        self.lags = tuple(int(k) for k in lags)
        self.signal = _check_choice("signal", signal, SIGNALS)
        self.amplitude = _check_nonneg("amplitude", amplitude)
        if self.amplitude == 0:
            raise ValueError("amplitude must be > 0; got 0")
        self.impulse_prob = _check_nonneg("impulse_prob", impulse_prob)
        if not 0 < self.impulse_prob <= 1:
            raise ValueError(f"impulse_prob must lie in (0, 1]; got {impulse_prob!r}")
        self.input_names = ("signal",)
        self.output_names = tuple(f"lag{k}" for k in self.lags)

    def _params(self) -> dict[str, Any]:
        return {
            "lags": list(self.lags),
            "signal": self.signal,
            "amplitude": self.amplitude,
            "impulse_prob": self.impulse_prob,
        }

    def _signal(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        a = self.amplitude
        if self.signal == "uniform":
            return rng.uniform(-a, a, shape)
        if self.signal == "gaussian":
            return rng.normal(0.0, a, shape)
        spikes = rng.random(shape) < self.impulse_prob
        return spikes * a * rng.choice((-1.0, 1.0), shape)

    def _trials(self, rng: np.random.Generator, tl: Timeline):
        n, n_t = tl.steps.shape[0], tl.n_steps
        u = self._signal(rng, (n_t, n)) * tl.valid
        y = np.zeros((n_t, n, len(self.lags)))
        for j, k in enumerate(self.lags):
            if k < n_t:
                y[k:, :, j] = u[: n_t - k]
        return u[..., None], y * tl.valid[..., None], tl.mask("recall"), {}
