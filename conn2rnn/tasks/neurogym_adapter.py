"""Wrap any neurogym environment as a :class:`~conn2rnn.tasks.base.Task`.

Each trial comes from the environment's own ``new_trial()``; its observation
``env.ob`` (T_i, I) and ground truth ``env.gt`` (T_i,) or (T_i, O) are stacked
time-major and right-padded to the longest trial. The environment is reseeded at
every ``batch`` call from ``seed``, so equal seeds give equal batches. neurogym is
imported only when an environment is given by name (``pip install conn2rnn[neurogym]``).

The readout steps (``decision_mask``) are those of the ``decision_period``: by
default the period called ``"decision"`` when the trial has one, else its last period.
Channel names come from the spaces' ``name`` dicts (a group such as
``"stimulus": [1, 2]`` becomes ``stimulus1``, ``stimulus2``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .base import LOSS_ON, Task, TaskBatch, _check_batch_size, _check_choice, _check_dt, as_generator


def _import_neurogym() -> Any:
    msg = (
        "from_neurogym with an environment name needs neurogym; install it with "
        "`pip install 'conn2rnn[neurogym]'` (neurogym 2.3 pins numpy 2.2: use a separate "
        "environment if that conflicts), or pass an environment object"
    )
    try:
        module = importlib.import_module("neurogym")
    except ImportError as err:
        raise ImportError(msg) from err
    if not hasattr(module, "make"):  # e.g. a folder named neurogym on sys.path
        raise ImportError(f"{msg}; the importable 'neurogym' ({module!r}) is not the library")
    return module


def _channel_names(space: Any, size: int, prefix: str) -> tuple[str, ...]:
    """Per-channel names from a neurogym space's ``name`` dict, ``{prefix}{i}`` elsewhere."""
    names = [f"{prefix}{i}" for i in range(size)]
    for label, where in (getattr(space, "name", None) or {}).items():
        idx = [where] if isinstance(where, (int, np.integer)) else list(where)
        for j, i in enumerate(idx):
            if 0 <= int(i) < size:
                names[int(i)] = str(label) if len(idx) == 1 else f"{label}{j + 1}"
    return tuple(names)


def _trial_level(env: Any) -> Any:
    """The outermost layer defining ``new_trial`` (neurogym wrappers do; gymnasium's do not)."""
    layer = env
    while getattr(type(layer), "new_trial", None) is None:
        if not hasattr(layer, "env"):
            raise TypeError(
                f"env must be a neurogym trial environment (with new_trial(), ob and gt); got {type(env).__name__}"
            )
        layer = layer.env
    return layer


def _scalar(value: Any) -> Any:
    value = value.item() if isinstance(value, np.generic) else value
    return value if isinstance(value, (int, float, str, bool)) else None


class NeurogymTask(Task, register=False):
    """A neurogym environment seen as a :class:`Task` (see :func:`from_neurogym`).

    Parameters
    ----------
    env : str or neurogym TrialEnv
        Registered id (e.g. ``"GoNogo-v0"``) or an environment object.
    env_kwargs : dict, optional
        Constructor arguments when ``env`` is an id (e.g. ``{"dt": 50}``).
    loss_on : {"response", "trial"}
        ``"response"``: loss on the decision period; ``"trial"``: on every unpadded step.
    decision_period : str, optional
        Period whose steps form ``decision_mask``.
    """

    name = "neurogym"

    def __init__(
        self,
        env: Any,
        *,
        env_kwargs: Mapping[str, Any] | None = None,
        loss_on: str = "response",
        decision_period: str | None = None,
    ) -> None:
        if isinstance(env, str):
            self.env_id: str | None = env
            self.env_kwargs = dict(env_kwargs or {})
            self.env = _import_neurogym().make(env, **self.env_kwargs)
        else:
            if env_kwargs:
                raise TypeError("env_kwargs only apply when env is an environment id such as 'GoNogo-v0'")
            spec = getattr(env, "spec", None)
            self.env_id = getattr(spec, "id", None)
            self.env_kwargs = dict(getattr(spec, "kwargs", None) or {})
            self.env = env
        self._layer = _trial_level(self.env)
        self._core = getattr(self.env, "unwrapped", self.env)
        self.dt = _check_dt(self._core.dt)
        self.loss_on = _check_choice("loss_on", loss_on, LOSS_ON)
        if decision_period is not None and decision_period not in self._core.timing:
            raise ValueError(
                f"decision_period must be one of the environment's periods {list(self._core.timing)}; "
                f"got {decision_period!r}"
            )
        self.decision_period = decision_period
        self.periods = tuple(self._core.timing)
        obs, act = self._core.observation_space, self._core.action_space
        self.input_names = _channel_names(obs, int(obs.shape[0]), "input")
        if hasattr(act, "n"):
            self.kind = "classification"
            self.output_names = _channel_names(act, int(act.n), "output")
        else:
            self.kind = "regression"
            self.output_names = _channel_names(act, int(act.shape[0]), "output")

    @property
    def timing(self) -> dict[str, Any]:
        """The environment's timing dict (ms), as neurogym stores it."""
        return dict(self._core.timing)

    def to_dict(self) -> dict[str, Any]:
        if self.env_id is None:
            raise ValueError(
                "this NeurogymTask wraps an environment without a registered id; build it with "
                "from_neurogym('EnvName-v0', ...) to serialise it"
            )
        return {
            "task": self.name,
            "env": self.env_id,
            "env_kwargs": dict(self.env_kwargs),
            "loss_on": self.loss_on,
            "decision_period": self.decision_period,
        }

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> "NeurogymTask":
        """Rebuild from :meth:`to_dict` output (the environment is made again from its id)."""
        if not isinstance(spec, Mapping) or spec.get("task") != cls.name or "env" not in spec:
            raise ValueError(f"NeurogymTask.from_dict needs a spec from NeurogymTask.to_dict(); got {spec!r}")
        return cls(spec["env"], env_kwargs=spec.get("env_kwargs"), loss_on=spec.get("loss_on", "response"),
                   decision_period=spec.get("decision_period"))

    def __repr__(self) -> str:
        return f"NeurogymTask(env={self.env_id or type(self._core).__name__!r}, loss_on={self.loss_on!r})"

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        return type(other) is type(self) and None not in (self.env_id, other.env_id) and other.to_dict() == self.to_dict()

    def __hash__(self) -> int:
        return id(self)

    def _decision_bounds(self, start: Mapping[str, int], end: Mapping[str, int]) -> tuple[str, int, int]:
        period = self.decision_period
        if period is None:
            period = "decision" if "decision" in start else max(end, key=lambda p: end[p])
        if period not in start or end[period] <= start[period]:
            raise ValueError(
                f"trial has no steps in decision period {period!r} (periods: {dict(start)}); "
                "pass decision_period= naming a non-empty period"
            )
        return period, int(start[period]), int(end[period])

    def batch(self, batch_size: int, *, seed: int | np.random.Generator) -> TaskBatch:
        """Sample ``batch_size`` trials from the environment (reseeded from ``seed``)."""
        n = _check_batch_size(batch_size)
        self._core.seed(int(as_generator(seed).integers(2**31 - 1)))
        obs, gts, rows, bounds = [], [], [], []
        for i in range(n):
            trial = self._layer.new_trial() or {}
            ob, gt = np.array(self._core.ob, dtype=np.float32), np.array(self._core.gt)
            start, end = dict(self._core.start_ind), dict(self._core.end_ind)
            bounds.append(self._decision_bounds(start, end)[1:])
            row = {"trial": i, **{k: _scalar(v) for k, v in trial.items() if _scalar(v) is not None}}
            row.update({"n_steps": len(ob), **{f"{p}_steps": end[p] - start[p] for p in start}})
            obs.append(ob)
            gts.append(gt)
            rows.append(row)
        n_t = max(len(ob) for ob in obs)
        x = np.zeros((n_t, n, len(self.input_names)), dtype=np.float32)
        if self.kind == "classification":
            y = np.zeros((n_t, n), dtype=np.int64)
        else:
            y = np.zeros((n_t, n, len(self.output_names)), dtype=np.float32)
        valid = np.zeros((n_t, n), dtype=bool)
        decision = np.zeros((n_t, n), dtype=bool)
        for b, (ob, gt, (s, e)) in enumerate(zip(obs, gts, bounds, strict=True)):
            x[: len(ob), b] = ob
            y[: len(gt), b] = gt
            valid[: len(ob), b] = True
            decision[s:e, b] = True
        decision &= valid
        loss = decision if self.loss_on == "response" else valid
        return TaskBatch(
            inputs=x,
            targets=y,
            loss_mask=loss.astype(np.float32),
            decision_mask=decision,
            info=pd.DataFrame(rows),
            dt=self.dt,
            input_names=self.input_names,
            output_names=self.output_names,
            kind=self.kind,
        )


def from_neurogym(
    env_or_name: Any, *, loss_on: str = "response", decision_period: str | None = None, **env_kwargs: Any
) -> NeurogymTask:
    """Wrap a neurogym environment (object or registered id) as a task.

    Parameters
    ----------
    env_or_name : str or neurogym TrialEnv
        e.g. ``"DelayMatchSample-v0"`` or ``neurogym.make("GoNogo-v0")``.
    loss_on : {"response", "trial"}
    decision_period : str, optional
        Period read out as the answer (default ``"decision"`` if present, else the last).
    **env_kwargs
        Constructor arguments for a named environment (``dt``, ``timing``, ...).

    Returns
    -------
    NeurogymTask

    Examples
    --------
    >>> task = from_neurogym("GoNogo-v0", dt=100)  # doctest: +SKIP
    >>> batch = task.batch(16, seed=0)  # doctest: +SKIP
    """
    return NeurogymTask(env_or_name, env_kwargs=env_kwargs or None, loss_on=loss_on, decision_period=decision_period)
