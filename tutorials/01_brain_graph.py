# %% [markdown]
# # 1. The BrainGraph
#
# Every model in conn2rnn is built from one `BrainGraph`: the regions of an atlas with
# their coordinates, networks, a hierarchy gradient, brain maps and, optionally, a
# structural connectome. This tutorial loads Schaefer-100, looks inside, computes
# distances, picks input and output regions, attaches the HCP structural connectome
# and draws the graph on a glass brain.
#
# Run it as a script (`python tutorials/01_brain_graph.py`) or open it as a notebook
# with jupytext. Figures are written to `tutorial_figures/`.

# %%
from pathlib import Path

import numpy as np

import conn2rnn
from conn2rnn.constraints import input_mask, output_mask
from conn2rnn.plotting import plot_glass_brain

FIGURES = Path("tutorial_figures")
FIGURES.mkdir(exist_ok=True)

# %% [markdown]
# ## Load an atlas
# The Schaefer tables ship with the package: this needs no network and no data folder.

# %%
graph = conn2rnn.load_atlas("schaefer100")
print(graph)
summary = graph.summary()
print(summary.head())
print(summary.groupby("network", sort=False).size())

# %% [markdown]
# The hierarchy `gradient` is the principal FC gradient, oriented so that higher values
# are more associative: the Default network sits at the top and SomMot/Vis at the bottom.

# %%
print(summary.groupby("network", sort=False)["gradient"].mean().round(2))

# %% [markdown]
# ## Distances
# Euclidean distances between centroids (mm), distances along the gradient, and
# geodesic distances along the cortical surface (within a hemisphere; pairs in
# different hemispheres get their straight-line distance).

# %%
euclidean = graph.distance("euclidean")
geodesic = graph.distance("geodesic")
along_gradient = graph.distance("gradient")
same = graph.hemispheres[:, None] == graph.hemispheres[None, :]
off = same & ~np.eye(graph.n_nodes, dtype=bool)
print(f"mean euclidean {euclidean[off].mean():.1f} mm, mean geodesic {geodesic[off].mean():.1f} mm "
      f"(within hemispheres)")

# %% [markdown]
# ## Input and output regions
# Sensory input enters the visual network; the readout comes from the Default network.
# Masks follow the `w[target, source]` convention: the input mask is (N, I), the
# output mask (O, N).

# %%
inputs = graph.select("Vis")
outputs = graph.select("Default")
w_in_mask = input_mask(graph.n_nodes, inputs, n_inputs=3)
w_out_mask = output_mask(graph.n_nodes, outputs, n_outputs=2)
print(f"{inputs.size} input nodes, {outputs.size} output nodes; "
      f"W_in mask {w_in_mask.shape}, W_out mask {w_out_mask.shape}")
top = graph.select(gradient_quantile=(0.9, 1.0))
print("top-decile gradient regions:", [graph.names[i] for i in top[:5]], "...")

# %% [markdown]
# ## The structural connectome
# The ENIGMA HCP group connectome ships with the package, like the empirical maps
# (built by `data/build_bundled_data.py` from pinned, checksummed sources: nothing is
# downloaded). Graphs are immutable: attaching data returns a new graph. Three
# empirical timescale maps are registered: HCP young-adult resting fMRI (Ito et al.
# 2020, the default), HCP MEG, and the Healthy Brain Network (a developmental cohort,
# ages 5-21, whose map is nearly flat).

# %%
graph = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp",
                            maps=["sa_axis", "int_hcp_ito2020", "meg_timescale", "int_hbn"])
print(graph)
w = graph.connectome
edges = w > 0
from scipy.stats import spearmanr

rho = spearmanr(w[edges], euclidean[edges])[0]
print(f"density {edges.mean():.2f}; weight vs distance Spearman rho = {rho:.2f}")
for name in ("int_hcp_ito2020", "meg_timescale", "int_hbn"):
    values = graph.maps[name]
    print(f"{name}: vs S-A axis rho = {spearmanr(values, graph.maps['sa_axis'])[0]:.2f}, "
          f"coefficient of variation {values.std() / values.mean():.1%}")

# %% [markdown]
# ## Export and a figure

# %%
nx_graph = graph.to_networkx()
print(f"networkx: {nx_graph.number_of_nodes()} nodes, {nx_graph.number_of_edges()} directed edges")
fig = plot_glass_brain(graph, color="network", edges=True,
                       path=FIGURES / "01_glass_brain.png")
print("saved", FIGURES / "01_glass_brain.png")
