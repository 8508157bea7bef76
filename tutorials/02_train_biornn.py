# %% [markdown]
# # 2. Training bioRNNs: vanilla vs biologically constrained
#
# A `BioRNN` is an ensemble of K leaky rate networks whose nodes are the regions of a
# `BrainGraph`. A *regime* declares the constraints: `masked` feeds inputs only to the
# visual network and reads outputs only from the Default network; `embedded` adds a
# wiring cost `sum |W| * D` on the recurrent weights; `bio` does both. All K networks
# train together (one batched recurrence), each with its own seed.
#
# This tutorial trains a few networks per regime on Go/No-Go and delayed
# match-to-sample, compares learning curves and learning speed, checks that the masks
# hold exactly, and looks at weight vs distance.

# %%
from pathlib import Path

import numpy as np
import torch

import conn2rnn
from conn2rnn.fitting.evaluation import evaluate
from conn2rnn.models import build_model
from conn2rnn.plotting import plot_learning_curves, plot_weight_vs_distance
from conn2rnn.tasks import get_task
from conn2rnn.fitting.training import train

torch.set_num_threads(1)
FIGURES = Path("tutorial_figures")
FIGURES.mkdir(exist_ok=True)
graph = conn2rnn.load_atlas("schaefer100")

# %% [markdown]
# ## Tasks are declarative
# Go/No-Go follows neurogym's timing (fixation 0, stimulus 500, delay 500, decision
# 500 ms); we simulate at dt = 50 ms. Every batch is seeded.

# %%
gonogo = get_task("gonogo", dt=50.0)
dms = get_task("dms", dt=50.0)
batch = gonogo.batch(4, seed=0)
print(gonogo.name, batch.inputs.shape, "inputs", gonogo.input_names, "-> outputs", gonogo.output_names)
print(batch.info)

# %% [markdown]
# ## Train vanilla and bio ensembles
# `build_model(..., trainable=True)` gives a BioRNN; the same call with
# `trainable=False` would give connectome reservoirs (tutorial 3).

# %%
curves = []
models = {}
for task in (gonogo, dms):
    for regime in ("vanilla", "bio"):
        model = build_model(graph, task, regime, n_networks=3, seeds=[0, 1, 2], activation="relu",
                            init="normal", sigma_rec=0.05)
        result = train(model, task, n_steps=250 if task is dms else 60, lr=3e-3, eval_every=10,
                       seed=0, progress=False)
        frame = result.curves.assign(regime=regime, task=task.name)
        curves.append(frame)
        models[task.name, regime] = model
        print(f"{task.name:7s} {regime:8s} held-out accuracy {np.round(result.final_accuracy, 2)}, "
              f"trials to 90%: {result.trials_to_criterion}")

# %%
import pandas as pd

curves = pd.concat(curves, ignore_index=True)
for name in ("gonogo", "dms"):
    plot_learning_curves(curves[curves.task == name], x="trials", y="accuracy",
                         title=f"{name}: held-out accuracy", path=FIGURES / f"02_{name}_curves.png")

# %% [markdown]
# ## The constraints hold exactly
# Masked weights are zero by construction (the mask multiplies the raw weights in the
# forward pass), so training never moves them.

# %%
bio = models["dms", "bio"]
outside_inputs = ~np.isin(np.arange(graph.n_nodes), graph.select("Vis"))
outside_outputs = ~np.isin(np.arange(graph.n_nodes), graph.select("Default"))
assert not bio.w_in[:, outside_inputs].any()
assert not bio.w_out[:, :, outside_outputs].any()
print("input weights outside Vis: all zero; readout weights outside Default: all zero")

# %% [markdown]
# ## The same metric for any model

# %%
print(evaluate(models["dms", "bio"], dms, n_trials=128, seed=7))

# %% [markdown]
# ## Spatial embedding: weights vs distance
# The wiring cost pushes long connections down: compare the vanilla and bio networks.

# %%
d = graph.distance("euclidean")
for regime in ("vanilla", "bio"):
    w = models["dms", regime].w_rec.detach().numpy()
    plot_weight_vs_distance(w, d, title=f"{regime}: |W| vs distance",
                            path=FIGURES / f"02_weight_distance_{regime}.png")
    long = d > np.median(d)
    print(f"{regime:8s} mean |W| long / short connections: "
          f"{np.abs(w[:, long]).mean() / np.abs(w[:, ~long & (d > 0)]).mean():.2f}")
