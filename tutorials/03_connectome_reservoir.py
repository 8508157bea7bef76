# %% [markdown]
# # 3. A reservoir from the human connectome
#
# A connectome reservoir keeps the structural connectome as its fixed recurrent
# weights (`w[target, source]`, scaled to a spectral radius computed correctly for the
# whole, possibly directed, matrix) and fits only a readout. Inputs enter the visual
# network; the readout sees only the Default network. Each trial starts from the zero
# state. This tutorial measures what the HCP connectome can compute, against null
# networks, and compares readout-only with end-to-end training on the same graph.

# %%
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import conn2rnn
from conn2rnn import nulls
from conn2rnn.analysis import memory_capacity
from conn2rnn.fitting.evaluation import evaluate
from conn2rnn.models import ConnectomeReservoir, build_model, make_trainable
from conn2rnn.plotting import plot_topology_vs_strength
from conn2rnn.tasks import get_task
from conn2rnn.fitting.training import train

torch.set_num_threads(1)
FIGURES = Path("tutorial_figures")
FIGURES.mkdir(exist_ok=True)
graph = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp")
print(graph)

# %% [markdown]
# ## One reservoir, kept composable
# `to_reservoirpy()` gives a reservoirpy node with identical weights, so a user can keep
# composing with reservoirpy (`reservoir >> Ridge(...)`).

# %%
res = ConnectomeReservoir.from_graph(graph, n_inputs=1, input_nodes=("Vis",), output_nodes=("Default",),
                                     spectral_radius=0.9, leak=0.3, seed=0)
print(res)
node = res.to_reservoirpy()
print("reservoirpy node:", type(node).__name__, node.W.shape if hasattr(node, "W") else "")

# %% [markdown]
# ## Memory capacity vs spectral radius, against null networks
# Linear memory capacity (the sum over delays of the r^2 of reconstructing the input
# k steps back) for the HCP connectome, a degree-preserving rewiring (keeps each
# region's degree, destroys the geometry) and a spatial null (keeps the dependence of
# connections on distance).

# %%
w = np.asarray(graph.connectome)
variants = {
    "connectome": w,
    "rewired": nulls.rewire_degree_preserving(w, directed=False, seed=1),
    "spatial null": nulls.spatial_null(w, graph.distance("euclidean"), symmetric=True, seed=1),
}
rows = []
for name, weights in variants.items():
    g = graph.with_connectome(weights)
    for radius in (0.5, 0.9, 1.1):
        r = ConnectomeReservoir.from_graph(g, n_inputs=1, input_nodes=("Vis",), output_nodes=("Default",),
                                           spectral_radius=radius, leak=0.3, seed=0)
        mc = memory_capacity(r, max_delay=30, n_steps=1500, seed=0)["total"]
        rows.append({"regime": name, "strength": radius, "metric": "memory_capacity", "value": mc})
table = pd.DataFrame(rows)
print(table.pivot(index="strength", columns="regime", values="value").round(2))
plot_topology_vs_strength(table, metric="memory_capacity", logx=False,
                          title="memory capacity vs spectral radius",
                          path=FIGURES / "03_memory_capacity.png")

# %% [markdown]
# ## Go/No-Go: readout-only vs trained, on the same graph
# `build_model(..., trainable=False)` and `trainable=True` differ by one argument.
# `make_trainable` turns a reservoir into a bioRNN that starts from exactly its
# weights, so the trained network and the reservoir share their starting point.

# %%
task = get_task("gonogo", dt=50.0)
reservoirs = build_model(graph, task, "masked", trainable=False, n_networks=3, spectral_radius=0.9, leak=0.3)
readout_only = evaluate(reservoirs, task, n_trials=256, seed=0)
print("readout-only accuracy:", readout_only.score.round(3).tolist())

trainable = make_trainable(reservoirs.members[0], task, seed=0)
result = train(trainable, task, n_steps=60, lr=3e-3, eval_every=10, seed=0, progress=False)
print("trained end to end from the connectome:", evaluate(trainable, task, n_trials=256, seed=0).score.tolist())
print(f"trials to 90% held-out accuracy: {result.trials_to_criterion[0]:.0f}")
