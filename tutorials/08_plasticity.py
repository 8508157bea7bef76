# %% [markdown]
# # 8. Plasticity and neuromodulation
#
# Every biological constraint of a bioRNN so far was fixed for the whole of training.
# This tutorial makes them change: learnable time constants, a neuromodulatory gain
# on each node's activation, a developmental wave of plasticity that travels along the
# sensorimotor-association (S-A) axis, pruning during training, and virtual lesions
# afterwards. Everything runs on the Schaefer-100 atlas with the HCP structural
# connectome, the S-A axis and the HCP fMRI timescale map, at a small scale (a few networks,
# a few hundred steps): the numbers show how to run each experiment, not its answer.

# %%
from pathlib import Path

import pandas as pd
import torch

import conn2rnn
from conn2rnn.analysis import compare_maps
from conn2rnn.analysis.lesions import lesion_effects
from conn2rnn.analysis.plasticity import expressivity_sweep, tau_map_correlation
from conn2rnn.analysis.resting import model_ints
from conn2rnn.fitting import PlasticityWave, Pruning, evaluate, train
from conn2rnn.models import BioRNN, ConnectomeReservoir
from conn2rnn.plotting import plot_map_scatter
from conn2rnn.plotting.results import plot_snapshot_curves
from conn2rnn.tasks import get_task

torch.set_num_threads(1)
FIGURES = Path("tutorial_figures")
FIGURES.mkdir(exist_ok=True)
graph = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp", maps=["sa_axis", "int_hcp_ito2020"])
gonogo = get_task("gonogo")
quiet = {"progress": False, "eval_every": 25, "eval_batch_size": 64}

# %% [markdown]
# ## Learnable time constants
# With `learn_tau=True` each node's time constant is a parameter,
# `tau = dt + (tau_max - dt) * sigmoid(tau_raw)`: it can never leave `[dt, tau_max]`,
# however large the gradient, and `train` gives it its own learning rate (`lr_tau`).
# Here all nodes start at 300 ms; after training we ask whether the learned map follows
# the S-A axis or the empirical INT map.

# %%
fixed = BioRNN.from_graph(graph, gonogo, "bio", n_networks=2, seeds=[0, 1], tau=300.0, activation="relu")
learned = BioRNN.from_graph(graph, gonogo, "bio", n_networks=2, seeds=[0, 1], tau=300.0, activation="relu",
                            learn_tau=True, tau_max=2000.0)
r_fixed = train(fixed, gonogo, n_steps=150, lr=3e-3, **quiet)
r_learned = train(learned, gonogo, n_steps=150, lr=3e-3, lr_tau=3e-2, **quiet)
print("final accuracy, fixed tau:  ", r_fixed.final_accuracy.round(3))
print("final accuracy, learned tau:", r_learned.final_accuracy.round(3))
print(tau_map_correlation(learned, "int_hcp_ito2020", graph=graph)[["network", "map", "r", "p_parametric",
                                                                     "tau_min_ms", "tau_max_ms"]].round(3))
plot_map_scatter(learned.tau[0].numpy(), graph.maps["int_hcp_ito2020"], xlabel="learned tau (ms)",
                 ylabel="HCP fMRI timescale (s)", path=FIGURES / "08_learned_tau_vs_int.png")

# %% [markdown]
# ## Neuromodulatory gain and expressivity
# A gain multiplies each node's input inside the activation, `r_i = f(g_i x_i)`. It
# can follow any map (`node_gain="sa_axis"` scales the S-A axis onto `gain_range`), be
# learned (`learn_gain=True`), or change within a trial (`gain_signal=` in the forward
# pass, or an input channel with `gain_channel=`). A zero gain silences a node.
#
# Sweeping a global gain shows how it moves a network between order and chaos:
# memory capacity and the largest Lyapunov exponent (per step), for the HCP connectome
# as a reservoir and for the networks trained above.

# %%
modulated = BioRNN.from_graph(graph, gonogo, "bio", n_networks=1, node_gain="sa_axis", gain_range=(0.5, 1.5))
print("gain range on the S-A axis:", modulated.node_gain.min().item(), "-", modulated.node_gain.max().item())
reservoir = ConnectomeReservoir.from_graph(graph, n_inputs=1, input_nodes=("Vis",), output_nodes=("Default",),
                                           spectral_radius=0.9, leak=0.3, seed=0)
gains = [0.25, 0.5, 1.0, 2.0, 4.0]
sweeps = pd.concat([
    expressivity_sweep(reservoir, gains=gains, max_delay=15, n_steps=600, lyapunov_steps=300).assign(
        model="HCP reservoir"),
    expressivity_sweep(fixed, gains=gains, channel=1, max_delay=15, n_steps=600, lyapunov_steps=300).assign(
        model="trained bioRNN"),
])
print(sweeps.groupby(["model", "gain"])[["memory_capacity", "lyapunov"]].mean().round(3))

# %%
import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

fig = Figure(figsize=(8, 3))
ax1, ax2 = fig.subplots(1, 2)
for name, sub in sweeps.groupby("model"):
    mean = sub.groupby("gain")[["memory_capacity", "lyapunov"]].mean()
    ax1.plot(mean.index, mean["memory_capacity"], marker="o", label=name)
    ax2.plot(mean.index, mean["lyapunov"], marker="o", label=name)
for ax, label in ((ax1, "memory capacity"), (ax2, "largest Lyapunov exponent (per step)")):
    ax.set_xscale("log")
    ax.set_xlabel("global gain")
    ax.set_ylabel(label)
ax2.axhline(0.0, color="grey", lw=0.8)
ax1.legend(frameon=False, fontsize=8)
fig.savefig(FIGURES / "08_gain_sweep.png", dpi=100, bbox_inches="tight")

# %% [markdown]
# ## A developmental wave along the S-A axis
# `PlasticityWave` gives each node a learning-rate multiplier on its incoming weights
# that travels from the sensorimotor to the association end of the S-A axis over
# training. The controls: the same total plasticity at every step without the wave
# ("uniform"), and the wave in reverse. The multiplier scales Adam's *update*, not the
# gradient (Adam would normalise a scaled gradient away). Snapshots record the topology
# of the recurrent weights as training goes. The units are tanh here: bounded, so every
# network keeps a defined timescale on every node under the resting drive (ReLU
# networks trained this briefly can run away under it).

# %%
n_steps = 150
tables, speed, hierarchy = [], {}, {}
for direction in ("forward", "uniform", "reverse"):
    model = BioRNN.from_graph(graph, gonogo, "embedded", n_networks=2, seeds=[0, 1], tau=200.0,
                              activation="tanh", strengths=1e-4)
    wave = PlasticityWave(graph.maps["sa_axis"], n_steps=n_steps, width=0.2, floor=0.05, direction=direction)
    result = train(model, gonogo, n_steps=n_steps, lr=3e-3, batch_size=8, schedules={"plasticity": wave},
                   snapshot_steps=[0, 50, 100, 150], progress=False, eval_every=5, eval_batch_size=64)
    tables.append(result.snapshots.table.assign(regime=direction))
    speed[direction] = result.trials_to_criterion
    ints = model_ints(model, n_steps=400, washout=50)  # audited: silent or diverged nodes are counted
    hierarchy[direction] = [round(compare_maps(graph.maps["sa_axis"], ints.ints_s[k]).r, 3) if ints.included[k]
                            else f"excluded: {ints.excluded[k]}" for k in range(2)]
print("trials to 90% accuracy:", speed)
print("INT vs S-A axis (Spearman rho per network):", hierarchy)
snapshots = pd.concat(tables)
print(snapshots.groupby(["regime", "step"])[["accuracy", "modularity", "total_abs_w"]].mean().round(3))
plot_snapshot_curves(snapshots, metrics=("accuracy", "modularity", "wiring_cost", "total_abs_w"),
                     path=FIGURES / "08_wave_snapshots.png")

# %% [markdown]
# ## Pruning and distractor resistance
# `Pruning` removes the weakest recurrent weights on a cubic schedule by updating the
# recurrent mask: a pruned weight and its gradient are exactly zero. We train on
# delayed match-to-sample, unpruned, pruned to half its weights, or with a spatial
# (distance-weighted L1) regulariser, then test with a distractor in the delay at
# growing strength.

# %%
dms = get_task("dms", sigma=0.5)
curves = []
for label, regime, pruning in (("unpruned", "vanilla", None),
                               ("pruned 50%", "vanilla", Pruning(0.5, begin=20, end=120, every=20)),
                               ("spatially regularised", "embedded", None)):
    model = BioRNN.from_graph(graph, dms, regime, n_networks=2, seeds=[0, 1], tau=200.0, activation="relu")
    result = train(model, dms, n_steps=150, lr=3e-3, pruning=pruning, **quiet)
    w = model.w_rec.detach()
    print(f"{label}: |w| > 1e-3 in {float((w.abs() > 1e-3).float().mean()):.0%} of the recurrent weights")
    for strength in (0.0, 0.5, 1.0, 2.0):
        probe = get_task("dms", sigma=0.5, distractor_prob=1.0, distractor_strength=strength)
        scores = evaluate(model, probe, n_trials=128, seed=1)
        curves.append(scores.assign(model=label, distractor_strength=strength))
curves = pd.concat(curves)
print(curves.groupby(["model", "distractor_strength"])["score"].mean().round(3))
fig = Figure(figsize=(4, 3))
ax = fig.subplots()
for name, sub in curves.groupby("model"):
    mean = sub.groupby("distractor_strength")["score"].mean()
    ax.plot(mean.index, mean.to_numpy(), marker="o", label=name)
ax.set_xlabel("distractor strength")
ax.set_ylabel("accuracy")
ax.legend(frameon=False, fontsize=8)
fig.savefig(FIGURES / "08_distractors.png", dpi=100, bbox_inches="tight")

# %% [markdown]
# ## Virtual lesions
# Silence the visual network, the Default network, or the top fifth of the hierarchy
# gradient in the Go/No-Go networks with fixed tau, and measure the change in accuracy
# and in the median intrinsic timescale of the spared nodes.

# %%
import warnings

warnings.simplefilter("ignore", RuntimeWarning)  # silent ReLU nodes have no defined INT (NaN, skipped)
effects = lesion_effects(fixed, gonogo, {
    "Vis": {"nodes": {"networks": "Vis"}},
    "Default": {"nodes": {"networks": "Default"}},
    "top gradient": {"nodes": {"gradient_quantile": (0.8, 1.0)}},
}, n_trials=128, n_steps=400, washout=50)
print(effects[["lesion", "network", "score_intact", "score", "int_intact_s", "int_lesioned_s"]].round(3))
