"""Schedules over training steps and developmental plasticity waves.

A schedule maps an optimiser step ``t`` (0-based: the value used for the update
of step ``t``) to a value: a scalar, one value per network ``(K,)``, or an array
such as a per-node multiplier ``(N,)`` / ``(K, N)`` or a mask. :func:`train`
accepts them as ``schedules={"strength": Schedule(...), ...}``.

Kinds (``frac = clip((t - begin) / duration, 0, 1)``):

* ``"constant"``: ``start`` at every step;
* ``"linear"``: ``start + (end - start) * frac``;
* ``"cosine"``: ``start + (end - start) * (1 - cos(pi * frac)) / 2``;
* ``"step"``: ``start`` for ``t < begin``, ``end`` from ``begin`` on;
* ``"custom"``: ``fn(t)``.

A :class:`PlasticityWave` is a schedule of per-node learning-rate multipliers
``m_i(t) = floor + (1 - floor) * exp(-(x_i - c(t))**2 / (2 width**2))``, with the
axis ``x`` min-max scaled to [0, 1] and the centre ``c(t)`` moving linearly from
``-2 width`` to ``1 + 2 width`` over ``n_steps`` ("forward": from the low end,
e.g. sensorimotor, to the high, associative, end of the S-A axis), in reverse
("reverse"), or replaced by its node mean at every step ("uniform": the same
total plasticity per step, without the wave).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SCHEDULE_KINDS", "WAVE_DIRECTIONS", "PlasticityWave", "Schedule", "schedule_from_dict"]

SCHEDULE_KINDS: tuple[str, ...] = ("constant", "linear", "cosine", "step", "custom")
WAVE_DIRECTIONS: tuple[str, ...] = ("forward", "reverse", "uniform")


def _as_value(value: Any, name: str) -> float | np.ndarray:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        out = float(value)
        if not math.isfinite(out):
            raise ValueError(f"{name} must be finite; got {value!r}")
        return out
    arr = np.asarray(value)
    if arr.dtype == bool:
        return arr.copy()
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a number or a numeric / boolean array; got {type(value).__name__}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or inf")
    return arr


def _check_step(step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
        raise ValueError(f"step must be an int >= 0; got {step!r}")
    return int(step)


@dataclass(frozen=True)
class Schedule:
    """A value that changes over training steps.

    Parameters
    ----------
    kind : {"constant", "linear", "cosine", "step", "custom"}
    start : float, bool or array_like
        Value before ``begin`` (and throughout for "constant").
    end : float, bool or array_like, optional
        Value from ``begin + duration`` on ("step": from ``begin`` on). Same
        shape as ``start``; boolean masks interpolate as ``start`` before the
        switch (only "step" and "constant" accept them).
    begin : int
        First step of the change.
    duration : int
        Steps over which "linear" / "cosine" go from ``start`` to ``end``.
    fn : callable, optional
        ``fn(step) -> value`` for "custom" (not JSON-serialisable).

    Examples
    --------
    >>> Schedule("linear", 0.0, 1e-2, begin=100, duration=400)(300)
    0.005
    """

    kind: str
    start: Any = None
    end: Any = None
    begin: int = 0
    duration: int = 1
    fn: Callable[[int], Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULE_KINDS:
            raise ValueError(f"kind must be one of {list(SCHEDULE_KINDS)}; got {self.kind!r}")
        for name in ("begin", "duration"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < (0 if name == "begin" else 1):
                raise ValueError(f"{name} must be an int >= {0 if name == 'begin' else 1}; got {v!r}")
        if self.kind == "custom":
            if not callable(self.fn):
                raise TypeError(f"kind='custom' needs fn, a callable step -> value; got {self.fn!r}")
            return
        if self.fn is not None:
            raise ValueError(f"fn is used by kind='custom' only; got kind={self.kind!r}")
        if self.start is None:
            raise ValueError(f"kind={self.kind!r} needs start")
        start = _as_value(self.start, "start")
        object.__setattr__(self, "start", start)
        if self.kind == "constant":
            if self.end is not None:
                raise ValueError("kind='constant' takes no end; use 'step', 'linear' or 'cosine'")
            return
        if self.end is None:
            raise ValueError(f"kind={self.kind!r} needs end")
        end = _as_value(self.end, "end")
        object.__setattr__(self, "end", end)
        if np.shape(start) != np.shape(end):
            raise ValueError(f"start and end must have the same shape; got {np.shape(start)} and {np.shape(end)}")
        is_bool = [isinstance(v, np.ndarray) and v.dtype == bool for v in (start, end)]
        if any(is_bool) and (self.kind != "step" or not all(is_bool)):
            raise ValueError(f"boolean masks can only switch (kind='step', both start and end boolean); "
                             f"got kind={self.kind!r}")

    def __call__(self, step: int) -> Any:
        """The value at optimiser step ``step`` (a copy; never a stored array)."""
        step = _check_step(step)
        if self.kind == "custom":
            return _as_value(self.fn(step), f"the custom schedule's value at step {step}")
        if self.kind == "constant":
            return _copy(self.start)
        if self.kind == "step":
            return _copy(self.start if step < self.begin else self.end)
        frac = min(max((step - self.begin) / self.duration, 0.0), 1.0)
        if self.kind == "cosine":
            frac = (1.0 - math.cos(math.pi * frac)) / 2.0
        return self.start + (self.end - self.start) * frac

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description (not for "custom" schedules)."""
        if self.kind == "custom":
            raise ValueError("a custom schedule holds a Python function and has no JSON form")
        return {"kind": self.kind, "start": _jsonable(self.start), "end": _jsonable(self.end),
                "begin": int(self.begin), "duration": int(self.duration)}


@dataclass(frozen=True)
class PlasticityWave:
    """Per-node learning-rate multipliers that travel along a node axis over training.

    Parameters
    ----------
    axis : (N,) array_like
        Node positions along the axis (e.g. the S-A gradient, low = sensorimotor).
    n_steps : int
        Steps for the centre to cross the axis (after that it stays past the end).
    width : float
        Width of the wave in axis units after scaling to [0, 1].
    floor : float in [0, 1]
        Multiplier far from the wave (0: only the wave's nodes learn).
    direction : {"forward", "reverse", "uniform"}
        "uniform" is the control with the same per-step total plasticity and no wave.

    Calling it at step ``t`` gives an ``(N,)`` float64 array of multipliers in [0, 1].
    """

    axis: Any
    n_steps: int
    width: float = 0.15
    floor: float = 0.0
    direction: str = "forward"

    def __post_init__(self) -> None:
        x = np.asarray(self.axis, dtype=np.float64) if not isinstance(self.axis, str) else None
        if x is None or x.ndim != 1 or x.size < 2:
            raise ValueError(f"axis must be a 1-D array of node values (N >= 2); got {self.axis!r:.80}")
        if not np.all(np.isfinite(x)):
            raise ValueError("axis must be finite; it contains NaN or inf")
        span = x.max() - x.min()
        if span == 0:
            raise ValueError("axis is constant, so a wave cannot travel along it")
        object.__setattr__(self, "axis", (x - x.min()) / span)
        if isinstance(self.n_steps, bool) or not isinstance(self.n_steps, numbers.Integral) or self.n_steps < 1:
            raise ValueError(f"n_steps must be an int >= 1; got {self.n_steps!r}")
        if not (isinstance(self.width, numbers.Real) and 0 < self.width < math.inf):
            raise ValueError(f"width must be a finite number > 0; got {self.width!r}")
        if not (isinstance(self.floor, numbers.Real) and 0 <= self.floor <= 1):
            raise ValueError(f"floor must lie in [0, 1]; got {self.floor!r}")
        if self.direction not in WAVE_DIRECTIONS:
            raise ValueError(f"direction must be one of {list(WAVE_DIRECTIONS)}; got {self.direction!r}")

    def centre(self, step: int) -> float:
        """Position of the wave's centre (axis scaled to [0, 1]) at ``step``."""
        frac = min(_check_step(step) / self.n_steps, 1.0)
        c = -2 * self.width + (1 + 4 * self.width) * frac
        return 1.0 - c if self.direction == "reverse" else c

    def __call__(self, step: int) -> np.ndarray:
        bump = np.exp(-((self.axis - self.centre(step)) ** 2) / (2 * self.width ** 2))
        m = self.floor + (1.0 - self.floor) * bump
        return np.full_like(m, m.mean()) if self.direction == "uniform" else m

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "wave", "axis": self.axis.tolist(), "n_steps": int(self.n_steps),
                "width": float(self.width), "floor": float(self.floor), "direction": self.direction}


def schedule_from_dict(d: dict[str, Any]) -> Schedule | PlasticityWave:
    """Rebuild a schedule from :meth:`Schedule.to_dict` / :meth:`PlasticityWave.to_dict` (e.g. a spec)."""
    if not isinstance(d, dict) or "kind" not in d:
        raise ValueError(f"a schedule dict needs a 'kind' among {list(SCHEDULE_KINDS[:-1]) + ['wave']}; got {d!r}")
    d = dict(d)
    kind = d.pop("kind")
    if kind == "wave":
        return PlasticityWave(**d)
    return Schedule(kind, **d)


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _jsonable(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value
