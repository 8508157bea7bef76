"""Cognitive tasks as declarative trial generators with one batch format.

Every task samples a :class:`TaskBatch` (time-major ``(T, B, features)`` arrays,
loss and decision masks, a per-trial table) from an explicit seed, for trainable
networks and readout-only reservoirs alike.

>>> from conn2rnn.tasks import get_task, accuracy
>>> task = get_task("dms", timing={"delay": [500, 1000]})
>>> batch = task.batch(32, seed=0)
>>> batch.inputs.shape[1:]
(32, 3)
"""

from .base import TASKS, Task, TaskBatch, accuracy, get_task, is_task_name, r2_per_output, trial_correct
from .decision import PerceptualDecisionMaking
from .gonogo import GoNogo
from .inference import OneChoiceInference
from .match import DelayMatchSample
from .memory import ImpulseRecall
from .neurogym_adapter import NeurogymTask, from_neurogym

__all__ = [
    "TASKS",
    "DelayMatchSample",
    "GoNogo",
    "ImpulseRecall",
    "NeurogymTask",
    "OneChoiceInference",
    "PerceptualDecisionMaking",
    "Task",
    "TaskBatch",
    "accuracy",
    "from_neurogym",
    "get_task",
    "is_task_name",
    "r2_per_output",
    "trial_correct",
]
