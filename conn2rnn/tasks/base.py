"""Declarative trial-based tasks and the batch format every model consumes.

A task is described by its name, an ordered tuple of periods with a timing dict in
ms, the step ``dt`` in ms and named input/output channels. ``Task.batch`` samples
``B`` trials with an explicit seed and returns a :class:`TaskBatch` laid out
``(T, B, features)``. Trials of different length are right-padded to the longest
trial in the batch; padded steps have zero input and lie outside both masks.

Timing values (ms) may be

* a number: fixed duration;
* a ``(low, high)`` tuple or ``{"uniform": [low, high]}``: uniform per trial;
* a list of numbers or ``{"choice": [...]}``: one of the values per trial;
* neurogym's spelling ``("uniform", (low, high))``, ``("choice", [...])`` or
  ``("constant", x)``.

A duration of ``d`` ms lasts ``floor(d / dt)`` steps, as in neurogym.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._registry import Registry

KINDS = ("classification", "regression")
LOSS_ON = ("response", "trial")
_DISTRIBUTIONS = ("constant", "uniform", "choice")
#: Registered task classes by name; a subclass of :class:`Task` with a ``name`` registers itself.
TASKS: Registry[type["Task"]] = Registry("task")
_NEUROGYM_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-v\d+$")

#: Named task classes built from something other than their name (``register=False``),
#: by name: the neurogym adapter ("neurogym",
#: :class:`~conn2rnn.tasks.neurogym_adapter.NeurogymTask`) adds itself when the
#: package is imported, so that :func:`get_task` and :meth:`Task.from_dict` reach it
#: without this module importing the adapter (which builds on :class:`Task`).
_ADAPTERS: dict[str, type[Task]] = {}

Spec = tuple[str, tuple[float, ...]]


# ----------------------------------------------------------------------------- batch
@dataclass(frozen=True, eq=False)
class TaskBatch:
    """A batch of trials, time-major.

    Attributes
    ----------
    inputs : (T, B, I) float32 ndarray
    targets : (T, B) int64 ndarray (classification: class index per step) or
        (T, B, O) float32 ndarray (regression)
    loss_mask : (T, B) float32 ndarray
        1 where the loss counts, 0 elsewhere (always 0 on padding).
    decision_mask : (T, B) bool ndarray
        Steps at which the trial's answer is read out (at least one per trial).
    info : pandas.DataFrame
        One row per trial: condition, ground truth, period lengths in steps, ...
    dt : float
        Step in ms.
    input_names, output_names : tuple of str
    kind : {"classification", "regression"}
    scorer : callable, optional
        ``scorer(outputs) -> (K, B)`` per-trial scores in [0, 1] from outputs laid out
        ``(K, T, B, O)``, when the task scores trials by a rule of its own (the
        neurogym adapter replays the environment's reward rule); :func:`accuracy`
        and :func:`trial_correct` then use it instead of the decision-mask rule.

    All arrays are copied on construction and stored read-only.
    """

    inputs: np.ndarray
    targets: np.ndarray
    loss_mask: np.ndarray
    decision_mask: np.ndarray
    info: pd.DataFrame
    dt: float
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    kind: str
    scorer: Any = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {self.kind!r}")
        if self.scorer is not None and not callable(self.scorer):
            raise TypeError(f"scorer must be None or callable(outputs (K, T, B, O)) -> (K, B) scores; "
                            f"got {type(self.scorer).__name__}")
        set_(self, "dt", _check_dt(self.dt))
        set_(self, "input_names", tuple(str(n) for n in self.input_names))
        set_(self, "output_names", tuple(str(n) for n in self.output_names))
        x = np.array(self.inputs, dtype=np.float32)
        if x.ndim != 3 or x.shape[2] != len(self.input_names):
            raise ValueError(
                f"inputs must be (T, B, I) with I = len(input_names) = {len(self.input_names)}; "
                f"got shape {x.shape}"
            )
        n_t, n_b = x.shape[:2]
        if self.kind == "classification":
            y = np.array(self.targets)
            if y.shape != (n_t, n_b) or not np.issubdtype(y.dtype, np.integer):
                raise ValueError(
                    f"classification targets must be integer class indices of shape (T, B) = "
                    f"{(n_t, n_b)}; got {y.dtype} {y.shape}"
                )
            y = y.astype(np.int64)
            if y.size and (y.min() < 0 or y.max() >= len(self.output_names)):
                raise ValueError(
                    f"classification targets must lie in [0, {len(self.output_names)}); "
                    f"got range [{y.min()}, {y.max()}]"
                )
        else:
            y = np.array(self.targets, dtype=np.float32)
            if y.shape != (n_t, n_b, len(self.output_names)):
                raise ValueError(
                    f"regression targets must be (T, B, O) = {(n_t, n_b, len(self.output_names))}; "
                    f"got {y.shape}"
                )
        loss = np.array(self.loss_mask, dtype=np.float32)
        dec = np.array(self.decision_mask, dtype=bool)
        for label, m in (("loss_mask", loss), ("decision_mask", dec)):
            if m.shape != (n_t, n_b):
                raise ValueError(f"{label} must be (T, B) = {(n_t, n_b)}; got {m.shape}")
        if n_b and not dec.any(axis=0).all():
            missing = np.flatnonzero(~dec.any(axis=0))[:5].tolist()
            raise ValueError(f"decision_mask must mark at least one step per trial; trials {missing} have none")
        if not isinstance(self.info, pd.DataFrame) or len(self.info) != n_b:
            raise ValueError(f"info must be a DataFrame with one row per trial ({n_b}); got {type(self.info)}")
        for name, arr in (("inputs", x), ("targets", y), ("loss_mask", loss), ("decision_mask", dec)):
            arr.setflags(write=False)
            set_(self, name, arr)
        set_(self, "info", self.info.reset_index(drop=True).copy())

    @property
    def n_steps(self) -> int:
        """Number of time steps T (padded length)."""
        return int(self.inputs.shape[0])

    @property
    def batch_size(self) -> int:
        """Number of trials B."""
        return int(self.inputs.shape[1])

    @property
    def n_inputs(self) -> int:
        """Number of input channels I."""
        return len(self.input_names)

    @property
    def n_outputs(self) -> int:
        """Number of output channels O (classes for classification)."""
        return len(self.output_names)

    def to_torch(self, device: Any = None) -> dict[str, Any]:
        """Tensors for training: ``inputs`` (T, B, I) float32, ``targets`` (T, B) int64 or
        (T, B, O) float32, ``loss_mask`` (T, B) float32, ``decision_mask`` (T, B) bool."""
        import torch

        out = {
            name: torch.from_numpy(np.array(getattr(self, name)))
            for name in ("inputs", "targets", "loss_mask", "decision_mask")
        }
        if device is not None:
            out = {k: v.to(device) for k, v in out.items()}
        return out


# ----------------------------------------------------------------------------- checks
def _check_dt(dt: Any) -> float:
    if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive number of ms (e.g. dt=100); got {dt!r}")
    return float(dt)


def _check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")
    return int(batch_size)


def _check_choice(label: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{label} must be one of {tuple(choices)}; got {value!r}")
    return value


def _check_nonneg(label: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{label} must be a finite number; got {value!r}")
    if value < 0:
        raise ValueError(f"{label} must be >= 0; got {value!r}")
    return float(value)


def as_generator(seed: int | np.random.Generator) -> np.random.Generator:
    """``seed`` as a numpy Generator: an int seeds a new one, a Generator is used as is."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"seed must be a non-negative int or a numpy.random.Generator; got {seed!r}")
    return np.random.default_rng(int(seed))


# ----------------------------------------------------------------------------- timing
def parse_timing_spec(label: str, value: Any) -> Spec:
    """Normalise one timing value (ms) to ``(distribution, values)``; see the module doc."""
    if isinstance(value, Mapping):
        if len(value) != 1 or next(iter(value)) not in _DISTRIBUTIONS:
            raise ValueError(f"{label} as a dict must have one key out of {_DISTRIBUTIONS}; got {dict(value)!r}")
        dist, args = next(iter(value.items()))
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        dist, args = value
        if dist not in _DISTRIBUTIONS:
            raise ValueError(f"{label}: distribution must be one of {_DISTRIBUTIONS}; got {dist!r}")
    elif isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"{label} as a tuple must be a (low, high) range in ms; got {value!r}")
        dist, args = "uniform", value
    elif isinstance(value, list):
        dist, args = "choice", value
    else:
        dist, args = "constant", value
    if dist == "constant":
        return "constant", (_check_nonneg(label, args),)
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence) or len(args) == 0:
        raise ValueError(f"{label}: {dist} needs a non-empty list of ms values; got {args!r}")
    vals = tuple(_check_nonneg(f"{label}[{i}]", v) for i, v in enumerate(args))
    if dist == "uniform" and (len(vals) != 2 or vals[0] > vals[1]):
        raise ValueError(f"{label}: a uniform range must be (low, high) with low <= high; got {args!r}")
    return dist, vals


def timing_spec_to_json(spec: Spec) -> float | dict[str, list[float]]:
    """Inverse of :func:`parse_timing_spec` in a JSON-safe spelling."""
    dist, vals = spec
    return vals[0] if dist == "constant" else {dist: list(vals)}


def sample_steps(spec: Spec, dt: float, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` durations from ``spec`` and convert ms to steps: ``floor(ms / dt)``."""
    dist, vals = spec
    if dist == "constant":
        ms = np.full(n, vals[0])
    elif dist == "uniform":
        ms = rng.uniform(vals[0], vals[1], size=n)
    else:
        ms = rng.choice(np.asarray(vals), size=n)
    return np.floor(ms / dt + 1e-9).astype(np.int64)


def spec_step_range(spec: Spec, dt: float) -> tuple[int, int]:
    """Smallest and largest number of steps ``spec`` can produce."""
    vals = spec[1]
    return int(math.floor(min(vals) / dt + 1e-9)), int(math.floor(max(vals) / dt + 1e-9))


class Timeline:
    """Per-trial period boundaries in steps.

    Parameters
    ----------
    periods : tuple of str, ordered
    steps : (B, P) int ndarray
        Duration of each period of each trial, in steps.
    """

    def __init__(self, periods: Sequence[str], steps: np.ndarray) -> None:
        self.periods = tuple(periods)
        self.steps = steps
        self.ends = np.cumsum(steps, axis=1)
        self.onsets = self.ends - steps
        self.lengths = self.ends[:, -1]
        self.n_steps = int(max(1, self.lengths.max()))
        self._t = np.arange(self.n_steps)[:, None]

    def _index(self, period: str) -> int:
        return self.periods.index(period)

    def onset(self, period: str) -> np.ndarray:
        """(B,) first step of ``period``."""
        return self.onsets[:, self._index(period)]

    def mask(self, period: str) -> np.ndarray:
        """(T, B) bool, True during ``period``."""
        i = self._index(period)
        return (self._t >= self.onsets[:, i]) & (self._t < self.ends[:, i])

    @property
    def valid(self) -> np.ndarray:
        """(T, B) bool, True on the trial's own (unpadded) steps."""
        return self._t < self.lengths

    @property
    def last(self) -> np.ndarray:
        """(T, B) bool, True on the last step of each trial."""
        return self._t == (self.lengths - 1)


def balanced_conditions(rng: np.random.Generator, n_conditions: int, batch_size: int) -> np.ndarray:
    """(B,) condition indices, each condition used ``B // n`` or ``B // n + 1`` times, shuffled."""
    full, rest = divmod(batch_size, n_conditions)
    idx = np.concatenate([np.tile(np.arange(n_conditions), full), rng.choice(n_conditions, rest, replace=False)])
    return rng.permutation(idx).astype(np.int64)


# ----------------------------------------------------------------------------- tasks
class Task:
    """Base class of declarative trial-based tasks.

    Subclasses set the class attributes ``name``, ``kind``, ``periods`` (ordered),
    ``default_timing`` (ms) and ``response_period``, set ``input_names`` and
    ``output_names`` in ``__init__``, and implement ``_trials(rng, timeline)``.

    Parameters
    ----------
    dt : float
        Step in ms.
    timing : dict, optional
        Period name -> duration spec in ms (see the module doc); overrides the defaults.
    loss_on : {"response", "trial"}
        ``"response"``: the loss counts on the decision/readout steps only (``loss_mask``
        equals ``decision_mask``); ``"trial"``: on every unpadded step (targets outside
        the response hold the fixation class, as in neurogym's supervised datasets).
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "classification"
    periods: ClassVar[tuple[str, ...]] = ()
    default_timing: ClassVar[Mapping[str, Any]] = {}
    response_period: ClassVar[str] = "decision"
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name and register:
            TASKS.register(cls.name, cls, overwrite=True)
        elif cls.name and "name" in vars(cls):  # an adapter's own class, not a subclass of it
            _ADAPTERS[cls.name] = cls

    def __init__(self, *, dt: float, timing: Mapping[str, Any] | None = None, loss_on: str = "response") -> None:
        self.dt = _check_dt(dt)
        self.loss_on = _check_choice("loss_on", loss_on, LOSS_ON)
        if timing is not None and not isinstance(timing, Mapping):
            raise TypeError(f"timing must be a dict of period -> ms; got {type(timing).__name__}")
        unknown = sorted(set(timing or {}) - set(self.periods))
        if unknown:
            raise ValueError(
                f"timing has unknown period(s) {unknown} for task {self.name!r}; valid periods: {list(self.periods)}"
            )
        merged = {**self.default_timing, **(timing or {})}
        self._timing = {p: parse_timing_spec(f"timing[{p!r}]", merged[p]) for p in self.periods}
        low, _ = spec_step_range(self._timing[self.response_period], self.dt)
        if low < 1:
            raise ValueError(
                f"timing[{self.response_period!r}] must last at least one step (dt={self.dt:g} ms); "
                f"got {timing_spec_to_json(self._timing[self.response_period])!r} ms"
            )

    # -- description ------------------------------------------------------------------
    @property
    def timing(self) -> dict[str, Any]:
        """Period -> duration spec in ms (a fresh, JSON-safe dict)."""
        return {p: timing_spec_to_json(s) for p, s in self._timing.items()}

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def n_outputs(self) -> int:
        return len(self.output_names)

    def _params(self) -> dict[str, Any]:
        """Task-specific constructor arguments (JSON-safe)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description; ``Task.from_dict(task.to_dict())`` rebuilds an equal task."""
        return {"task": self.name, "dt": self.dt, "timing": self.timing, "loss_on": self.loss_on, **self._params()}

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Task:
        """Rebuild a task from :meth:`to_dict` output."""
        if not isinstance(spec, Mapping) or "task" not in spec:
            raise ValueError(f"spec must be a dict with a 'task' key (from Task.to_dict()); got {spec!r}")
        if cls.name and spec["task"] != cls.name:
            raise ValueError(f"{cls.__name__}.from_dict needs a {cls.name!r} spec; got task {spec['task']!r}")
        if spec["task"] == "neurogym" and cls is Task:  # the adapter is not a named task: it rebuilds its env
            return _ADAPTERS["neurogym"].from_dict(spec)
        kwargs = {k: v for k, v in spec.items() if k != "task"}
        return get_task(spec["task"], **kwargs)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "task")
        return f"{type(self).__name__}({args})"

    # -- sampling ---------------------------------------------------------------------
    def batch(self, batch_size: int, *, seed: int | np.random.Generator) -> TaskBatch:
        """Sample ``batch_size`` trials.

        Parameters
        ----------
        batch_size : int >= 1
        seed : int or numpy.random.Generator
            The same int gives identical batches; a Generator is advanced.

        Returns
        -------
        TaskBatch
        """
        n = _check_batch_size(batch_size)
        rng = as_generator(seed)
        steps = np.stack([sample_steps(self._timing[p], self.dt, rng, n) for p in self.periods], axis=1)
        tl = Timeline(self.periods, steps)
        inputs, targets, decision, info = self._trials(rng, tl)
        valid = tl.valid
        inputs = np.where(valid[..., None], inputs, 0.0)
        decision = decision & valid
        loss = decision if self.loss_on == "response" else valid
        columns = {"trial": np.arange(n), **info, "n_steps": tl.lengths}
        columns.update({f"{p}_steps": steps[:, i] for i, p in enumerate(self.periods)})
        return TaskBatch(
            inputs=inputs,
            targets=targets,
            loss_mask=loss.astype(np.float32),
            decision_mask=decision,
            info=pd.DataFrame(columns),
            dt=self.dt,
            input_names=self.input_names,
            output_names=self.output_names,
            kind=self.kind,
        )

    def _trials(
        self, rng: np.random.Generator, tl: Timeline
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Fill one batch: inputs (T, B, I), targets, decision mask (T, B), info columns."""
        raise NotImplementedError(f"{type(self).__name__} must implement _trials")


def is_task_name(name: Any) -> bool:
    """Whether ``name`` is a registered task or has the form of a neurogym id (``Name-v0``)."""
    return isinstance(name, str) and (name in TASKS or bool(_NEUROGYM_ID.match(name)))


def get_task(task: Any, **kwargs: Any) -> Task:
    """A task from a registered name, a neurogym id or environment, or a task itself.

    Parameters
    ----------
    task : str, Task or neurogym environment
        A name registered in :data:`TASKS` (``"gonogo"``, ``"dms"``, ...), a
        neurogym id (``"DelayMatchSampleDistractor1D-v0"``, needs the neurogym
        extra), a neurogym environment object, or a :class:`Task` (returned as is).
    **kwargs
        Constructor options (``dt``, ``timing``, ...); not allowed with a Task.

    Examples
    --------
    >>> get_task("dms", timing={"delay": [500, 1000]}).name
    'dms'
    """
    if isinstance(task, Task):
        if kwargs:
            raise TypeError(f"options {sorted(kwargs)} cannot be applied to an existing task; "
                            "pass the task's name instead")
        return task
    if isinstance(task, str):
        if task in TASKS:
            return TASKS[task](**kwargs)
        if _NEUROGYM_ID.match(task):
            return _ADAPTERS["neurogym"].from_env(task, **kwargs)
        raise ValueError(f"unknown task {task!r}; registered tasks: {', '.join(TASKS)}, or a neurogym id "
                         "such as 'GoNogo-v0' (register your own with conn2rnn.tasks.TASKS.register)")
    if hasattr(task, "step") and hasattr(task, "timing"):  # a neurogym TrialEnv
        return _ADAPTERS["neurogym"].from_env(task, **kwargs)
    raise TypeError(f"task must be a task name, a Task or a neurogym environment; got {type(task).__name__}")


def noise_sd(sigma: float, dt: float) -> float:
    """Per-step input noise sd ``sigma / sqrt(dt)`` (neurogym's convention, dt in ms)."""
    return sigma / math.sqrt(dt)


# ----------------------------------------------------------------------------- scoring
# The scores of a batch live in .scoring; they are re-exported here, where they always were.
from .scoring import _outputs_kbto, accuracy, r2_per_output, trial_correct  # noqa: E402,F401
