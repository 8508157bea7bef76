"""The one-choice inference task against a transcription of the seRNN authors' generator.

``mazeGeneratorI`` of the public seRNN demonstration notebook (8erberg/spatially-embedded-RNN,
seRNN_demo.ipynb), transcribed without pandas/tensorflow: its maze table, its goal,
choice and answer encodings, and its episode layout (goal, delay, choices).
"""

import numpy as np

from conn2rnn.tasks import get_task

# mazesDic of the notebook (first choices of the two-step mazes)
_GOAL = {0: 9, 1: 9, 2: 19, 3: 17, 4: 17, 5: 7, 6: 19, 7: 7}
_CHOICES = {0: "ul", 1: "rd", 2: "ld", 3: "rd", 4: "ul", 5: "ur", 6: "lr", 7: "lr"}
_NEXT = {0: "u", 1: "r", 2: "d", 3: "d", 4: "l", 5: "u", 6: "r", 7: "l"}
_GOAL_CODE = {7: 0, 9: 1, 17: 2, 19: 3}
_DIR = {"l": 1, "u": 2, "r": 3, "d": 4}


def _reference_problem(i, goal_steps=20, delay_steps=10, choice_steps=20):
    """create_problem_observation and encode_next_step of the notebook, for maze i."""
    goal = np.concatenate((np.eye(4)[_GOAL_CODE[_GOAL[i]]], np.zeros(4)))
    choices = np.zeros(4)
    for c in _CHOICES[i]:
        choices[_DIR[c] - 1] = 1
    choices = np.concatenate((np.zeros(4), choices))
    obs = np.concatenate((np.tile(goal, goal_steps), np.tile(np.zeros(8), delay_steps),
                          np.tile(choices, choice_steps))).reshape(-1, 8)
    answer = np.zeros(4)
    answer[_DIR[_NEXT[i]] - 1] = 1
    return obs, answer


def test_one_choice_inference_is_the_reference_generator():
    task = get_task("one_choice_inference", dt=100.0, noise_sd=0.0)
    batch = task.batch(64, seed=0)
    assert batch.inputs.shape == (50, 64, 8)  # 20 + 10 + 20 steps of 100 ms, 8 channels
    seen = set()
    for b in range(64):
        p = int(batch.info["problem"].iloc[b])
        obs, answer = _reference_problem(p)
        np.testing.assert_array_equal(batch.inputs[:, b], obs)
        assert batch.targets[-1, b] == int(np.argmax(answer))  # one answer, at the last step
        assert batch.decision_mask[:, b].sum() == 1 and batch.decision_mask[-1, b]
        assert batch.loss_mask[:, b].sum() == 1 and batch.loss_mask[-1, b] == 1
        seen.add(p)
    assert seen == set(range(8))


def test_one_choice_inference_input_noise_is_the_reference_gaussian_noise():
    clean = get_task("one_choice_inference", dt=100.0, noise_sd=0.0).batch(256, seed=1)
    noisy = get_task("one_choice_inference", dt=100.0).batch(256, seed=1)  # GaussianNoise(stddev=0.05)
    diff = noisy.inputs - clean.inputs
    assert abs(diff.std() - 0.05) < 0.002 and abs(diff.mean()) < 0.002
