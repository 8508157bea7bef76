"""One-choice inference: the first step of a maze problem (spatially-embedded RNN task).

Our reading of the task of Achterberg, Akarca et al. (2023), "Spatially embedded
recurrent neural networks reveal widespread links between structural and functional
neuroscience findings", Nature Machine Intelligence 5, 1369-1381, as defined by the
dataset generator of their public seRNN demonstration code:

* An agent stands in the centre of a small grid. The goal is one of four cells
  diagonal to it (up-left, up-right, down-left, down-right). Each goal is reached by
  two first moves (e.g. up-right: ``up`` or ``right``).
* A trial shows the goal for 20 steps, then nothing for 10 steps, then two available
  directions for 20 steps: exactly one of them leads towards the goal. The network
  answers once, at the last step, with that direction.
* Inputs are 8 one-hot channels: 4 goal locations, then 4 directions (left, up,
  right, down); 2 direction channels are on during the choice period. Outputs are 4
  directions (left, up, right, down).
* There are 8 distinct problems (goal x offered pair), each direction being the
  answer of exactly two; the table below is the original's (goal cells 7, 9, 17, 19
  of a row-major 5 x 5 grid with the agent at cell 13).
* Gaussian input noise of sd 0.05 on every channel and step (a noise layer on the
  inputs in the original, active during training only; here every batch carries it,
  ``noise_sd=0`` gives clean inputs).

Timing is in ms with dt = 100 ms (1 step = 100 ms): goal 2000, delay 1000, choices
2000. Problems are balanced within a batch (the original drew them i.i.d.).
Targets hold the answer at every step; the loss and the readout use the last step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Task, Timeline, _check_nonneg, balanced_conditions

GOALS = ("up_left", "up_right", "down_left", "down_right")
GOAL_CELLS = (7, 9, 17, 19)
DIRECTIONS = ("left", "up", "right", "down")

# (goal index, offered directions, answer) for the 8 problems, in the original's order.
PROBLEMS: tuple[tuple[int, tuple[str, str], str], ...] = (
    (1, ("up", "left"), "up"),
    (1, ("right", "down"), "right"),
    (3, ("left", "down"), "down"),
    (2, ("right", "down"), "down"),
    (2, ("up", "left"), "left"),
    (0, ("up", "right"), "up"),
    (3, ("left", "right"), "right"),
    (0, ("left", "right"), "left"),
)


def _problem_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(8,) goal index, (8, 4) available-direction one-hot, (8,) answer index."""
    goal = np.array([g for g, _, _ in PROBLEMS])
    avail = np.zeros((len(PROBLEMS), 4))
    for i, (_, pair, _) in enumerate(PROBLEMS):
        avail[i, [DIRECTIONS.index(d) for d in pair]] = 1.0
    answer = np.array([DIRECTIONS.index(a) for _, _, a in PROBLEMS])
    return goal, avail, answer


class OneChoiceInference(Task):
    """The seRNN one-choice inference task (8 problems, one decision at the end).

    Parameters
    ----------
    dt : float
        Step in ms.
    timing : dict, optional
        Durations in ms for ``goal``, ``delay``, ``choices``.
    loss_on : {"response", "trial"}
        ``"response"``: the loss counts at the last step only (as in the original).
    noise_sd : float
        Sd of Gaussian noise added to every input channel at every step.
    """

    name = "one_choice_inference"
    kind = "classification"
    periods = ("goal", "delay", "choices")
    default_timing = {"goal": 2000, "delay": 1000, "choices": 2000}
    response_period = "choices"

    def __init__(
        self,
        *,
        dt: float = 100.0,
        timing: Mapping[str, Any] | None = None,
        loss_on: str = "response",
        noise_sd: float = 0.05,
    ) -> None:
        super().__init__(dt=dt, timing=timing, loss_on=loss_on)
        self.noise_sd = _check_nonneg("noise_sd", noise_sd)
        self.input_names = (*(f"goal_{g}" for g in GOALS), *(f"available_{d}" for d in DIRECTIONS))
        self.output_names = DIRECTIONS

    def _params(self) -> dict[str, Any]:
        return {"noise_sd": self.noise_sd}

    def _trials(self, rng: np.random.Generator, tl: Timeline):
        n, n_t = tl.steps.shape[0], tl.n_steps
        goal, avail, answer = _problem_arrays()
        prob = balanced_conditions(rng, len(PROBLEMS), n)
        x = np.zeros((n_t, n, 8))
        x[..., :4] = tl.mask("goal")[..., None] * np.eye(4)[goal[prob]][None]
        x[..., 4:] = tl.mask("choices")[..., None] * avail[prob][None]
        if self.noise_sd > 0:
            x += rng.normal(0.0, self.noise_sd, x.shape)
        y = np.broadcast_to(answer[prob], (n_t, n)).astype(np.int64)
        info = {
            "problem": prob,
            "goal": np.array(GOALS)[goal[prob]],
            "goal_cell": np.array(GOAL_CELLS)[goal[prob]],
            "available": np.array(["+".join(PROBLEMS[p][1]) for p in prob]),
            "answer": np.array(DIRECTIONS)[answer[prob]],
            "target": answer[prob],
        }
        return x, y, tl.last, info
