# %% [markdown]
# # 6. Dynamics: closed-loop generation, synchronization, Lyapunov exponents, fixed points
#
# Every measure here works on any leaky rate model (connectome reservoirs, trained
# bioRNN ensembles, bioRNNs frozen into reservoirs) through one interface, and runs
# all networks of an ensemble at once. This tutorial runs at a small scale:
#
# 1. a connectome reservoir learns the Lorenz-63 attractor and regenerates it in
#    closed loop, against null networks (invertible generalized synchronization);
# 2. generalized synchronization to the drive, and the auxiliary-system test;
# 3. Lyapunov exponents of the true system and of the networks;
# 4. information processing capacity, and impulse recall against null networks;
# 5. fixed points and basins of a small bioRNN trained on Go/No-Go.

# %%
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import conn2rnn
from conn2rnn import nulls
from conn2rnn.analysis import (
    basin_analysis,
    closed_loop,
    closed_loop_scores,
    fixed_points,
    generalized_synchronization,
    impulse_recall,
    information_processing_capacity,
    lyapunov_spectrum,
    lyapunov_spectrum_flow,
)
from conn2rnn.analysis.chaotic import lorenz_jacobian, lorenz_rhs
from conn2rnn.fitting.training import train
from conn2rnn.models import BioRNN, ConnectomeReservoir, ReservoirEnsemble
from conn2rnn.plotting.dynamics import plot_attractors, plot_impulse_recall, plot_state_space
from conn2rnn.tasks import get_task

torch.set_num_threads(1)
FIGURES = Path("tutorial_figures")
FIGURES.mkdir(exist_ok=True)
graph = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp")

# %% [markdown]
# ## 1. Learning Lorenz-63 and regenerating it in closed loop
# Three reservoirs share input weights, biases and leak and differ only in `W`: the
# HCP connectome, a degree-preserving rewiring and a density-matched random
# graph, all at spectral radius 0.9. `closed_loop` teacher-forces them on the
# Lorenz series (the readout learns the next step), then feeds the readout's output
# back as the input. The valid prediction time counts Lyapunov times until the
# normalised error exceeds 0.4; the closed loop's own largest Lyapunov exponent
# (from its Jacobian) should be near the true 0.906.

# %%
w = np.asarray(graph.connectome)
base = ConnectomeReservoir.from_graph(graph, n_inputs=3, spectral_radius=None, leak=0.3, input_scaling=0.3,
                                      bias_scaling=0.5, seed=0)
variants = {"connectome": w, "rewired": nulls.rewire_degree_preserving(w, directed=False, seed=1),
            "random": nulls.random_density_matched(w, symmetric=True, seed=1)}
members = tuple(ConnectomeReservoir.from_arrays(mat, base.W_in, spectral_radius=0.9, bias=base.bias, leak=0.3)
                for mat in variants.values())
reservoirs = ReservoirEnsemble(members, (0, 1, 2))
run = closed_loop(reservoirs, "lorenz", n_train=1500, n_generate=600, seed=0)
scores = closed_loop_scores(reservoirs, run).assign(variant=list(variants))
print(scores[["variant", "valid_time", "lyapunov_closed_loop", "correlation_dimension", "psd_distance",
              "density_distance"]].round(3).to_string(index=False))
plot_attractors(run.truth, run.generated, labels=list(variants), title="Lorenz-63: true vs closed loop",
                path=FIGURES / "06_lorenz_closed_loop.png")

# %% [markdown]
# ## 2. Generalized synchronization
# Driven by Lorenz, does each network become a function of the drive? The drive
# is reconstructed from the states (r^2 per coordinate), the conditional Lyapunov
# exponent along the driven trajectory is negative, and two copies started from
# different random states converge (`auxiliary_ratio` ~ 0). At a large spectral
# radius the copies can settle on different responses: no synchronization.

# %%
strong = ReservoirEnsemble(tuple(m.with_spectral_radius(2.0) for m in members), (0, 1, 2))
for label, model in (("radius 0.9", reservoirs), ("radius 2.0", strong)):
    gs = generalized_synchronization(model, "lorenz", n_steps=1500, washout=300).assign(variant=list(variants))
    print(label)
    print(gs[["variant", "r2_mean", "conditional_lyapunov", "auxiliary_ratio", "synchronized"]].to_string(index=False))

# %% [markdown]
# ## 3. Lyapunov exponents
# The Lorenz spectrum by Jacobian QR iteration (the sum of the exponents is the
# divergence of the flow, -(sigma + 1 + beta) = -13.67), then the autonomous
# largest exponent (per step) across spectral radii. The HCP connectome is
# symmetric, so its tanh network has an energy function (Hopfield 1984) and settles
# to fixed points at any radius: its exponent stays negative. A directed random
# graph of the same density with random signs becomes chaotic on its own (a
# positive exponent) once the radius is large enough.

# %%
lorenz = lyapunov_spectrum_flow(lorenz_rhs, [1.0, 1.0, 20.0], dt=0.01, n_steps=4000, jacobian=lorenz_jacobian)
print("Lorenz exponents:", lorenz.round(3), "sum", lorenz.sum().round(3))
radii = (0.5, 1.0, 2.0, 4.0)
directed = nulls.random_density_matched(w, symmetric=False, seed=1)
directed = directed * np.random.default_rng(0).choice([-1.0, 1.0], size=directed.shape)
sweep = ReservoirEnsemble(tuple(ConnectomeReservoir.from_arrays(mat, base.W_in, spectral_radius=r, bias=base.bias,
                                                                leak=0.3)
                                for mat in (w, directed) for r in radii), tuple(range(2 * len(radii))))
lam = lyapunov_spectrum(sweep, n_steps=600)[:, 0].reshape(2, len(radii))
for label, row in zip(("HCP connectome", "signed directed"), lam):
    print(f"{label:16s} largest exponent per step:", {r: float(v) for r, v in zip(radii, row.round(3))})

# %% [markdown]
# ## 4. Information processing capacity
# Capacities of Legendre products of past inputs (Dambre et al. 2012) for the
# connectome reservoir with one input, split into linear memory and nonlinear
# capacity; the total is bounded by the rank of the states.

# %%
single = ConnectomeReservoir.from_graph(graph, n_inputs=1, spectral_radius=0.9, leak=0.3, input_scaling=0.5,
                                        bias_scaling=0.2, seed=0)
ipc = information_processing_capacity(single, max_delays=(30, 8, 4), n_steps=3000, washout=50)
print(ipc.summary.round(2).to_string(index=False))

# %% [markdown]
# Impulse recall: a pulse enters the visual network and a readout of the default
# network decodes its amplitude some steps later (state noise sets the floor). The
# connectome against the same nulls, at two spectral radii, for one seed; over 10
# seeds the differences are within the spread across seeds
# (`docs/results/dynamics.md`).

# %%
recall = []
for name, mat in variants.items():
    vis_default = ConnectomeReservoir.from_graph(graph.with_connectome(mat), n_inputs=1, input_nodes=("Vis",),
                                                 output_nodes=("Default",), spectral_radius=0.9, leak=0.3, seed=0)
    recall.append(impulse_recall(vis_default, max_lag=25, scales=(0.9, 1.5), n_trials=300, seed=0)
                  .assign(variant=name))
recall = pd.concat(recall, ignore_index=True)
print(recall.pivot_table(index="variant", columns="scale", values="recall", aggfunc="sum").round(2))
plot_impulse_recall(recall, title="impulse recall, Vis -> Default", path=FIGURES / "06_impulse_recall.png")

# %% [markdown]
# ## 5. Fixed points of a trained Go/No-Go network
# A small bioRNN (40 units) is trained on Go/No-Go; `fixed_points` searches its
# update at zero input from states visited during trials, merges duplicates and
# classifies each point by its Jacobian. The state space is projected on its first
# principal components with the fixed points on top. `basin_analysis` perturbs the
# states along trials and checks that they return.

# %%
task = get_task("gonogo", dt=50.0)
net = BioRNN(task.n_inputs, 40, task.n_outputs, n_networks=1, dt=50.0, tau=100.0, seeds=0)
result = train(net, task, n_steps=80, lr=1e-2, eval_every=40, seed=0, progress=False)
print("held-out accuracy:", result.final_accuracy.round(3))
trials = task.batch(16, seed=1)
states = net.states(trials.inputs)[:, 0]  # (T, B, N)
starts = states[:: max(1, states.shape[0] // 8)].reshape(-1, states.shape[-1])
fp = fixed_points(net, inputs=np.zeros(task.n_inputs), init=starts, slow_tol=1e-4)
print(fp.table.to_string(index=False))
plot_state_space(states, fixed_points=fp, title="Go/No-Go bioRNN, PCA",
                 path=FIGURES / "06_gonogo_state_space.png")
basins = basin_analysis(net, trials.inputs, scales=(0.1, 1.0), n_directions=4)
print(basins.groupby("scale")[["ratio", "returned"]].mean().round(3))
