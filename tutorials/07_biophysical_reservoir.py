# %% [markdown]
# # 7. A biophysical reservoir: NMDA cues work, dendritic AMPA cues fail
#
# The third model family: an untrained E/I network of conductance-based cells
# (E cells with a soma and a distal dendrite, I cells with a soma; Pospischil 2008
# channels; Destexhe 1998 AMPA, NMDA and GABA_A synapses) whose parameters are
# searched, not trained, and read out linearly. This tutorial shows one cell's
# responses, the network's spikes on the cued working-memory task, a (very) short
# parameter search, and the 2 x 2 table of cue receptor x cue compartment from the
# committed results of the shipped spec `brc_working_memory`.

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from conn2rnn.biophys import BiophysicalReservoir, CuedMemory, default_parameters, simulate_cell
from conn2rnn.biophys.experiment import brc_objective, search_space, start_point
from conn2rnn.fitting.search import run_search

torch.set_num_threads(1)
FIGURES = Path("tutorial_figures")
FIGURES.mkdir(exist_ok=True)

# %% [markdown]
# ## One cell: soma vs dendrite, AMPA vs NMDA
#
# A burst of five presynaptic spikes onto the soma or the distal dendrite (AMPA
# 1 nS; NMDA 10 nS, since each spike opens only ~7% of NMDA receptors against ~67%
# of AMPA ones). The thin dendrite depolarises strongly (AMPA even fires dendritic
# sodium spikes) but little of it reaches the soma; the NMDA response is slow and
# outlasts the burst by a hundred milliseconds.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
burst = tuple(20.0 + 5.0 * i for i in range(5))
for ax, receptor, g_ns in zip(axes, ("AMPA", "NMDA"), (1.0, 10.0)):
    for compartment, color in (("soma", "tab:blue"), ("dend", "tab:red")):
        res = simulate_cell(duration_ms=120.0, dt=0.1, synapse=receptor, compartment=compartment, g_ns=g_ns,
                            spike_times_ms=burst, record_dt=0.5)
        t = np.arange(res.v.shape[0]) * 0.5
        ax.plot(t, res.v[:, 0, 0, 0], color=color, label=f"{compartment} input: soma")
        ax.plot(t, res.v[:, 0, 0, 1], color=color, ls=":", label=f"{compartment} input: dendrite")
    ax.set_title(f"{receptor} burst ({g_ns:g} nS)")
    ax.set_xlabel("time (ms)")
axes[0].set_ylabel("membrane potential (mV)")
axes[1].legend(fontsize=7)
fig.tight_layout()
fig.savefig(FIGURES / "07_single_cell.png", dpi=100)

# %% [markdown]
# ## The network on the cued working-memory task
#
# 50 E and 25 I cells on a ring lattice; a 2-D cue is shown at 250-275 ms through 25
# tuned Poisson units onto the even-indexed E cells. Here the trial is shortened to
# 300 ms and simulated at dt = 0.1 ms to keep the tutorial fast.

# %%
timing = {"fixation": 100, "cue": 25, "delay": 175}
task = CuedMemory(timing=timing)
batch = task.batch(4, seed=0)
params = {**default_parameters(), "g_ee_nmda_dend": 2.0, "g_cue_e": 5.0}
model = BiophysicalReservoir(params, cue_synapse="NMDA_dend", dt=0.1, seed=0)
sim = model.simulate(batch.inputs, seed=0)
print("diverged:", sim.diverged.any(), "| mean E rate (Hz):",
      round(float(sim.spikes[:, 0, :, :50].sum(axis=0).mean() / 0.3), 1))

fig, ax = plt.subplots(figsize=(6, 3))
t, cell = np.nonzero(sim.spikes[:, 0, 0])
ax.scatter(t, cell, s=1, color="k")
ax.axvspan(100, 125, color="tab:orange", alpha=0.3, label="cue")
ax.axhline(49.5, color="tab:blue", lw=0.5)
ax.set_xlabel("time (ms)")
ax.set_ylabel("cell (E < 50 <= I)")
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(FIGURES / "07_raster.png", dpi=100)

# %% [markdown]
# ## A short parameter search
#
# The searched parameters (log conductances, connection probabilities, channel
# densities) go to optuna's CMA-ES in rounds; each round is simulated as one batch.
# The folder keeps the study, so running the same call again resumes it. Two
# proposals of one round is only a demonstration; the reproduction uses many more.

# %%
space = search_space()
print(len(space), "searched parameters, e.g.", list(space)[:4])
result = run_search(space, brc_objective, outdir="tutorial_search", n_rounds=1, n_proposals=2,
                    context={"condition": "NMDA_dend", "n_repeats": 2, "dt": 0.1, "dtype": "float32",
                             "network_seed": 0, "timing": timing},
                    seed=0, x0=start_point(), progress=False)
print(result.trials[["round", "trial", "value", "state"]])

# %% [markdown]
# ## The 2 x 2 table from the stored results
#
# `conn2rnn brc run brc_working_memory --out <store>` runs
# every condition and `... report <store> --docs docs/reproductions` writes the summary
# read here (see `docs/reproductions/brc_working_memory.md` for the protocol and
# what reproduces).

# %%
try:
    root = Path(__file__).resolve().parents[1]
except NameError:  # run interactively from tutorials/
    root = Path.cwd().parent
summary = pd.read_csv(root / "docs" / "reproductions" / "brc_working_memory" / "summary.csv")
main = summary[summary["condition"].isin(["AMPA_soma", "NMDA_soma", "AMPA_dend", "NMDA_dend"])].copy()
main[["receptor", "compartment"]] = main["condition"].str.split("_", expand=True)
table = main.pivot(index="receptor", columns="compartment", values="error_mean")
paper = main.pivot(index="receptor", columns="compartment", values="paper_error")
print("our mean validation MSE (chance 4):\n", table.round(2))
print("paper:\n", paper)

fig, axes = plt.subplots(1, 2, figsize=(6, 2.6))
for ax, (title, data) in zip(axes, (("ours", table), ("paper", paper))):
    im = ax.imshow(data.to_numpy(dtype=float), vmin=0, vmax=5, cmap="viridis_r")
    ax.set_xticks(range(data.shape[1]), data.columns)
    ax.set_yticks(range(data.shape[0]), data.index)
    for (i, j), v in np.ndenumerate(data.to_numpy(dtype=float)):
        ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="w")
    ax.set_title(title)
fig.colorbar(im, ax=axes, shrink=0.8, label="MSE")
fig.savefig(FIGURES / "07_table.png", dpi=100)
