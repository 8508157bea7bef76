"""Wrap any neurogym environment as a :class:`~conn2rnn.tasks.base.Task`.

Each trial comes from the environment's own ``new_trial()``; its observation
``env.ob`` (T_i, I) and ground truth ``env.gt`` (T_i,) or (T_i, O) are stacked
time-major and right-padded to the longest trial. The environment is reseeded at
every ``batch`` call from ``seed``, so equal seeds give equal batches. neurogym is
imported only when an environment is given by name (``pip install conn2rnn[neurogym]``).

The readout steps (``decision_mask``, and the loss steps with ``loss_on="response"``)
are those of the ``decision_period``. By default that is the period called
``"decision"`` when the trial has one; otherwise the *response periods*, read from the
environment's ground truth: every period in which the ground truth leaves its resting
value in some of 32 probe trials (``test1``, ``test2``, ``test3`` of
``DelayMatchSampleDistractor1D-v0``, whose match may come in any of them;
``production`` of ``ReadySetGo-v0``, a period added per trial); the last period only
when the ground truth never moves. Channel names come from the spaces' ``name`` dicts
(a group such as ``"stimulus": [1, 2]`` becomes ``stimulus1``, ``stimulus2``).

Scoring: neurogym scores a trial by its reward rule (``_step``), not by the ground
truth: a Go/No-Go trial ends at the first response, ReadySetGo rewards a "go" within
a window around the produced interval, DelayMatchSampleDistractor1D fails any
response outside the matching test. So every batch carries a scorer
(:attr:`TaskBatch.scorer`) that replays each trial through the environment's own
``_step`` with the network's actions (the argmax of the outputs at each step for a
discrete action space, the output vector for a continuous one), from the state the
trial had when it was made, and reads neurogym's ``performance`` at the trial's end:
:func:`~conn2rnn.tasks.accuracy` is then neurogym's own measure. The trial's
``performance`` is the one its ``new_trial`` sets (Go/No-Go sets 1 for a No-Go trial,
which a withheld response keeps), as in the first trial after ``reset``. Only
environments with a ``Discrete`` or ``Box`` action space are accepted; wrappers'
step-level changes (extra inputs, rewards) are not part of the replayed rule. An
environment object without neurogym's ``_step`` (a stand-in that only makes trials)
has no reward rule to replay: its trials are scored by the ground truth at the
decision steps (:func:`~conn2rnn.tasks.trial_correct`).
"""

from __future__ import annotations

import copy
import functools
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


_MUTABLE = (dict, list, np.ndarray, np.random.RandomState, np.random.Generator)
_N_PROBE = 32


def _snapshot(core: Any) -> dict[str, Any]:
    """The environment's state after ``new_trial``, its mutable parts copied."""
    return {k: copy.deepcopy(v) if isinstance(v, _MUTABLE) else v for k, v in vars(core).items()}


def _replay(core: Any, state: Mapping[str, Any], actions: Any) -> float:
    """neurogym's ``performance`` of one trial stepped with ``actions`` from ``state``.

    Mirrors ``TrialEnv.step`` (time bookkeeping, the trial ending on ``new_trial`` or
    at ``tmax``) without starting the next trial; the environment is restored after.
    """
    saved = dict(vars(core))
    try:
        vars(core).update(_snapshot_of(state))
        core.t = core.t_ind = 0
        for action in actions:
            info = core._step(action)[4]
            core.t += core.dt
            core.t_ind += 1
            if (info or {}).get("new_trial") or core.t + core.dt > core.tmax:
                break
        return float(core.performance)
    finally:
        vars(core).clear()
        vars(core).update(saved)


def _snapshot_of(state: Mapping[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) if isinstance(v, _MUTABLE) else v for k, v in state.items()}


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
        Period whose steps form ``decision_mask`` (default: ``"decision"``, else the
        response periods read from the ground truth; see the module docstring). A
        period the environment adds per trial (``"production"`` of ReadySetGo) is
        accepted.

    Raises
    ------
    TypeError
        When the environment's action space is neither ``Discrete`` nor ``Box``:
        its trials could not be scored by replaying the network's actions.
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
        obs, act = self._core.observation_space, self._core.action_space
        self.input_names = _channel_names(obs, int(obs.shape[0]), "input")
        if hasattr(act, "n"):  # Discrete
            self.kind = "classification"
            self.output_names = _channel_names(act, int(act.n), "output")
        elif len(getattr(act, "shape", None) or ()) == 1 and not hasattr(act, "nvec"):  # a 1-D Box
            self.kind = "regression"
            self.output_names = _channel_names(act, int(act.shape[0]), "output")
        else:
            raise TypeError(
                f"env must have a Discrete or a 1-D Box action space (its trials are scored by replaying the "
                f"network's actions); {type(self._core).__name__} has {act!r}. Use another environment"
            )
        seen, self.response_periods = self._probe()
        self.periods = tuple(dict.fromkeys([*self._core.timing, *seen]))
        if decision_period is not None and decision_period not in self.periods:
            raise ValueError(
                f"decision_period must be one of the environment's periods {list(self.periods)}; "
                f"got {decision_period!r}"
            )
        self.decision_period = decision_period
        # replay needs neurogym's reward rule; a stand-in that only makes trials is scored by its ground truth
        self.replays = callable(getattr(type(self._core), "_step", None)) and hasattr(self._core, "tmax")

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
    def from_env(cls, env_or_name: Any, *, loss_on: str = "response", decision_period: str | None = None,
                 **env_kwargs: Any) -> "NeurogymTask":
        """Wrap a neurogym environment (object or registered id): :func:`from_neurogym`."""
        return cls(env_or_name, env_kwargs=env_kwargs or None, loss_on=loss_on, decision_period=decision_period)

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

    def _probe(self) -> tuple[list[str], tuple[str, ...]]:
        """Periods seen in probe trials, and those in which the ground truth leaves its resting value."""
        self._core.seed(0)
        seen: dict[str, int] = {}
        moving: set[str] = set()
        for _ in range(_N_PROBE):
            self._layer.new_trial()
            gt = np.asarray(self._core.gt)
            rest = gt[0] if len(gt) else None
            for p in self._core.start_ind:
                s, e = int(self._core.start_ind[p]), int(self._core.end_ind[p])
                seen.setdefault(p, s)
                if rest is not None and e > s and np.any(gt[s:e] != rest):
                    moving.add(p)
        order = sorted(seen, key=lambda p: seen[p])
        return order, tuple(p for p in order if p in moving)

    def _decision_steps(self, start: Mapping[str, int], end: Mapping[str, int], n_steps: int) -> np.ndarray:
        """The steps of the trial's decision period(s), as a bool (n_steps,) mask."""
        if self.decision_period is not None:
            periods = [self.decision_period]
        elif "decision" in start:
            periods = ["decision"]
        else:
            periods = [p for p in self.response_periods if p in start] or [max(end, key=lambda p: end[p])]
        mask = np.zeros(n_steps, dtype=bool)
        for p in periods:
            if p in start:
                mask[int(start[p]):int(end[p])] = True
        if not mask.any():
            raise ValueError(
                f"trial has no steps in decision period(s) {periods} (periods: {dict(start)}); "
                "pass decision_period= naming a non-empty period"
            )
        return mask

    def _score(self, states: list[dict[str, Any]], outputs: np.ndarray) -> np.ndarray:
        """neurogym's ``performance`` of every trial, (K, B), from outputs (K, T, B, O)."""
        k_nets, _, n_b, _ = outputs.shape
        dtype = getattr(self._core.action_space, "dtype", np.float32)
        scores = np.zeros((k_nets, n_b))
        for b, state in enumerate(states):
            n_t = len(state["ob"])
            if self.kind == "classification":
                # networks that take the same actions get the same score: replay each sequence once
                seqs, which = np.unique(outputs[:, :n_t, b].argmax(axis=-1), axis=0, return_inverse=True)
                done = [_replay(self._core, state, [int(a) for a in seq]) for seq in seqs]
                scores[:, b] = np.asarray(done)[np.ravel(which)]
            else:
                for k in range(k_nets):
                    scores[k, b] = _replay(self._core, state, list(outputs[k, :n_t, b].astype(dtype)))
        return scores

    def batch(self, batch_size: int, *, seed: int | np.random.Generator) -> TaskBatch:
        """Sample ``batch_size`` trials from the environment (reseeded from ``seed``)."""
        n = _check_batch_size(batch_size)
        self._core.seed(int(as_generator(seed).integers(2**31 - 1)))
        obs, gts, rows, bounds, states = [], [], [], [], []
        for i in range(n):
            self._core.performance = 0  # a trial's performance is what its new_trial and steps set
            trial = self._layer.new_trial() or {}
            if self.replays:
                states.append(_snapshot(self._core))
            ob, gt = np.array(self._core.ob, dtype=np.float32), np.array(self._core.gt)
            start, end = dict(self._core.start_ind), dict(self._core.end_ind)
            bounds.append(self._decision_steps(start, end, len(ob)))
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
        for b, (ob, gt, steps) in enumerate(zip(obs, gts, bounds, strict=True)):
            x[: len(ob), b] = ob
            y[: len(gt), b] = gt
            valid[: len(ob), b] = True
            decision[: len(steps), b] = steps
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
            scorer=functools.partial(self._score, states) if self.replays else None,
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
    return NeurogymTask.from_env(env_or_name, loss_on=loss_on, decision_period=decision_period, **env_kwargs)
